//! Whether the store answers: one shared [`StoreStatus`] signal for the whole process.
//!
//! The signal turns `Down` the moment a Redis call fails to reach Redis (a refused or dropped
//! connection, a timeout), and `Up` again only when a PING succeeds. A background probe pings
//! every `[redis] probe_interval_ms`, so an outage is noticed even while nobody makes requests
//! and the return is noticed within one interval. It only reports: requests still try Redis
//! and answer 503 on their own while it is down.
//!
//! ```ignore
//! let mut status = managers.health.subscribe();
//! while status.changed().await.is_ok() {
//!     match *status.borrow_and_update() {
//!         StoreStatus::Down => { /* tell the viewer, hold writes */ }
//!         StoreStatus::Up => { /* re-register, resync */ }
//!     }
//! }
//! ```

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::ConnectionLike;
use tokio::sync::watch;

use super::store::Backend;

/// Whether Redis answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// The last call or PING reached Redis.
    Up,
    /// A call could not reach Redis, and no PING has succeeded since.
    Down,
}

/// The store's health, shared by every manager and by anyone who subscribes. Cheap to clone.
#[derive(Clone)]
pub struct StoreHealth {
    shared: Arc<Shared>,
}

struct Shared {
    /// The current status; every change wakes the receivers.
    status: watch::Sender<StoreStatus>,
    /// The connection the managers share, pinged by the probe and by [`StoreHealth::check`].
    conn: Backend,
    /// Longest wait for a PING's answer.
    ping_timeout: Duration,
}

impl StoreHealth {
    /// Starts `Up` (the server starts only once Redis answered) and spawns the probe, which
    /// pings through `conn` every `interval`, waiting at most `ping_timeout` for each answer,
    /// and ends once every handle of this health is gone.
    pub(super) fn start(conn: Backend, interval: Duration, ping_timeout: Duration) -> Self {
        let health = Self {
            shared: Arc::new(Shared {
                status: watch::Sender::new(StoreStatus::Up),
                conn,
                ping_timeout,
            }),
        };
        tokio::spawn(probe(Arc::downgrade(&health.shared), interval));
        health
    }

    /// A receiver of every change of status; `*rx.borrow()` is the status now.
    pub fn subscribe(&self) -> watch::Receiver<StoreStatus> {
        self.shared.status.subscribe()
    }

    /// The status as last observed (by a call, or by the probe within one interval).
    pub fn status(&self) -> StoreStatus {
        *self.shared.status.borrow()
    }

    /// PINGs Redis now, records and returns the outcome. After a short outage nobody noticed,
    /// the status may still say `Up` while the shared connection is dead; this finds out, and
    /// leaves the connection re-established when Redis answers.
    pub async fn check(&self) -> StoreStatus {
        let status = self.shared.ping().await;
        set(&self.shared.status, status);
        status
    }

    /// Records that a call could not reach Redis.
    pub(super) fn report_unreachable(&self) {
        set(&self.shared.status, StoreStatus::Down);
    }
}

impl Shared {
    async fn ping(&self) -> StoreStatus {
        let mut conn = self.conn.clone();
        // The connection manager answers the first PING after a lost connection or a failed
        // reconnection with that failure and only then starts a new attempt: a second PING at
        // once waits for that attempt, so a returning Redis is seen at the first try.
        let up =
            ping(&mut conn, self.ping_timeout).await || ping(&mut conn, self.ping_timeout).await;
        if up {
            StoreStatus::Up
        } else {
            StoreStatus::Down
        }
    }
}

fn set(status: &watch::Sender<StoreStatus>, new: StoreStatus) {
    let changed = status.send_if_modified(|current| {
        let changed = *current != new;
        *current = new;
        changed
    });
    if changed {
        match new {
            StoreStatus::Down => {
                tracing::warn!("Redis is unreachable; answering 503 until it is back")
            }
            StoreStatus::Up => tracing::info!("Redis answers again"),
        }
    }
}

/// PINGs Redis every `interval` and records the outcome, until the health is dropped.
async fn probe(shared: Weak<Shared>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let status = shared.ping().await;
        set(&shared.status, status);
    }
}

/// Whether Redis answers a PING through `conn` within `timeout`.
pub(super) async fn ping(conn: &mut impl ConnectionLike, timeout: Duration) -> bool {
    let ping = redis::cmd("PING");
    let answer = tokio::time::timeout(timeout, ping.query_async::<String>(conn)).await;
    matches!(answer, Ok(Ok(_)))
}
