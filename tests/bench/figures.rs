//! Durations gathered and told as percentiles.

use std::time::Duration;

use serde_json::{json, Value};

/// Samples of one measurement.
#[derive(Debug, Default)]
pub struct Distribution {
    samples: Vec<Duration>,
}

impl Distribution {
    pub fn add(&mut self, sample: Duration) {
        self.samples.push(sample);
    }

    /// The sample below which `p` percent lie (nearest rank).
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// "p50 … · p90 … · p99 … · max … (n samples)".
    pub fn line(&self) -> String {
        if self.samples.is_empty() {
            return "no samples".to_owned();
        }
        format!(
            "p50 {} · p90 {} · p99 {} · max {}  ({} samples)",
            millis(self.percentile(50.0)),
            millis(self.percentile(90.0)),
            millis(self.percentile(99.0)),
            millis(self.percentile(100.0)),
            self.samples.len()
        )
    }

    /// The same in milliseconds, for the JSON report.
    pub fn json(&self) -> Value {
        if self.samples.is_empty() {
            return json!({ "samples": 0 });
        }
        let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
        json!({
            "samples": self.samples.len(),
            "p50": ms(self.percentile(50.0)),
            "p90": ms(self.percentile(90.0)),
            "p99": ms(self.percentile(99.0)),
            "max": ms(self.percentile(100.0)),
        })
    }
}

/// A duration in ms, with two decimals below 10 ms.
pub fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}
