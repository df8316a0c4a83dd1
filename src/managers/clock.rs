//! This node's view of server time: the Redis clock (`TIME`), which every node shares, so
//! nodes with skewed clocks still agree. The offset to the local clock is measured at start
//! and refreshed in the background; reading the time costs no round trip.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::{StoreConnection, StoreError};

/// Samples taken per calibration; the one with the shortest round trip wins.
const CALIBRATION_SAMPLES: usize = 5;

/// Local wall clock plus the measured offset to Redis's clock.
#[derive(Debug, Default)]
pub struct ServerClock {
    /// Redis time minus local time, in microseconds.
    offset_us: AtomicI64,
}

fn local_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

impl ServerClock {
    /// Server time in ms since the epoch, with sub-millisecond precision.
    pub fn now_ms(&self) -> f64 {
        (local_us() + self.offset_us.load(Ordering::Relaxed)) as f64 / 1000.0
    }

    /// Measures the offset to Redis's clock, NTP-style.
    pub async fn calibrate(&self, conn: &StoreConnection) -> Result<(), StoreError> {
        let mut conn = conn.clone();
        let mut best: Option<(u128, i64)> = None;
        for _ in 0..CALIBRATION_SAMPLES {
            let sent = Instant::now();
            let before = local_us();
            let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut conn).await?;
            let rtt = sent.elapsed().as_micros();
            let server = secs * 1_000_000 + micros;
            let offset = server - (before + rtt as i64 / 2);
            if best.is_none_or(|(r, _)| rtt < r) {
                best = Some((rtt, offset));
            }
        }
        if let Some((_, offset)) = best {
            self.offset_us.store(offset, Ordering::Relaxed);
        }
        Ok(())
    }
}
