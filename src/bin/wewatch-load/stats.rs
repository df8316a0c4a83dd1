//! Percentiles and the plain-text tables every scenario prints.

use serde::Serialize;

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Summary {
    /// Summarises durations given in nanoseconds (sorts them in place).
    pub fn of(values_ns: &mut [u64]) -> Self {
        if values_ns.is_empty() {
            return Self::default();
        }
        values_ns.sort_unstable();
        let ms = |ns: u64| ns as f64 / 1e6;
        let sum: u128 = values_ns.iter().map(|&v| u128::from(v)).sum();
        Self {
            count: values_ns.len(),
            p50_ms: ms(percentile(values_ns, 0.50)),
            p99_ms: ms(percentile(values_ns, 0.99)),
            max_ms: ms(values_ns[values_ns.len() - 1]),
            mean_ms: sum as f64 / values_ns.len() as f64 / 1e6,
        }
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with a precision that suits their size.
pub fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A table printed with aligned columns.
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as Markdown, columns padded so it also reads as plain text.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = format!("\n{}\n\n", self.title);
        out.push_str(&line(&self.header));
        let rule: Vec<String> = widths
            .iter()
            .map(|w| format!("{}:", "-".repeat(w + 1)))
            .collect();
        out.push_str(&format!("|{}|\n", rule.join("|")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).map(|n| n * 1_000_000).collect();
        let s = Summary::of(&mut v);
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (50.0, 99.0, 100.0));
        assert_eq!(Summary::of(&mut [7_000_000]).p99_ms, 7.0);
        assert_eq!(Summary::of(&mut []).count, 0);
    }
}
