//! Lua script latency, into `wewatch_redis_script_duration_seconds{script}`.
//!
//! redis-rs invokes a script as `EVALSHA <sha1> …` (and, when Redis does not know it yet,
//! `SCRIPT LOAD` and `EVALSHA` again). The store connection hands every command it sent, with
//! its round trip, to [`ScriptTimer::observe`], which keeps the `EVALSHA`s and names them by
//! their hash. A script missing from the table given at start is recorded as `other`.

use std::collections::HashMap;
use std::time::Duration;

use prometheus::Histogram;
use redis::{Arg, Cmd};

use super::Metrics;

/// The script label of a script not in the table.
const OTHER: &str = "other";

/// Each known script's histogram, by the SHA-1 Redis knows it by.
pub struct ScriptTimer {
    by_hash: HashMap<Box<[u8]>, Histogram>,
    other: Histogram,
}

impl ScriptTimer {
    /// A timer for the scripts in `scripts`: (name, source) pairs.
    pub fn new<'a>(
        metrics: &Metrics,
        scripts: impl IntoIterator<Item = (&'static str, &'a str)>,
    ) -> Self {
        let histogram = |name: &str| metrics.redis_scripts.with_label_values(&[name]);
        let by_hash = scripts
            .into_iter()
            .map(|(name, source)| {
                let hash = redis::Script::new(source).get_hash().as_bytes().into();
                (hash, histogram(name))
            })
            .collect();
        Self {
            by_hash,
            other: histogram(OTHER),
        }
    }

    /// Records `cmd`'s round trip if it ran a script; any other command is ignored.
    pub fn observe(&self, cmd: &Cmd, elapsed: Duration) {
        let mut args = cmd.args_iter();
        let Some(Arg::Simple(name)) = args.next() else {
            return;
        };
        if !name.eq_ignore_ascii_case(b"EVALSHA") {
            return;
        }
        let histogram = match args.next() {
            Some(Arg::Simple(hash)) => self.by_hash.get(hash).unwrap_or(&self.other),
            _ => &self.other,
        };
        histogram.observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_call_is_recorded_under_its_name_and_other_commands_not_at_all() {
        let metrics = Metrics::new();
        let timer = ScriptTimer::new(&metrics, [("greet", "return 'hi'")]);
        let script = redis::Script::new("return 'hi'");
        let evalsha = redis::cmd("EVALSHA").arg(script.get_hash()).arg(0).clone();
        timer.observe(&evalsha, Duration::from_millis(2));
        timer.observe(
            &redis::cmd("GET").arg("k").clone(),
            Duration::from_millis(2),
        );
        let unknown = redis::cmd("EVALSHA").arg("f".repeat(40)).arg(0).clone();
        timer.observe(&unknown, Duration::from_millis(2));

        let count = |name: &str| {
            metrics
                .redis_scripts
                .with_label_values(&[name])
                .get_sample_count()
        };
        assert_eq!(count("greet"), 1);
        assert_eq!(count(OTHER), 1);
    }
}
