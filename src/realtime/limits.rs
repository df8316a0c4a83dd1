//! Token buckets that bound how fast one connection may send.

use std::time::Instant;

/// Allows `burst` events at once and `per_second` on average.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self::starting_at(per_second, burst, Instant::now())
    }

    fn starting_at(per_second: f64, burst: u32, now: Instant) -> Self {
        let capacity = f64::from(burst);
        Self {
            capacity,
            per_second,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token if one is available at `now`.
    pub fn try_take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn try_take(&mut self) -> bool {
        self.try_take_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_the_rate_applies() {
        let start = Instant::now();
        let mut bucket = TokenBucket::starting_at(2.0, 3, start);
        assert!((0..3).all(|_| bucket.try_take_at(start)));
        assert!(!bucket.try_take_at(start), "burst used up");
        assert!(
            bucket.try_take_at(start + Duration::from_millis(500)),
            "one token per 500 ms"
        );
        assert!(!bucket.try_take_at(start + Duration::from_millis(600)));
        assert!(
            (0..3).all(|_| bucket.try_take_at(start + Duration::from_secs(60))),
            "refills to the burst"
        );
        assert!(!bucket.try_take_at(start + Duration::from_secs(60)));
    }
}
