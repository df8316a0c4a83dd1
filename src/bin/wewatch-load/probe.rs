//! What viewers record, read by the scenarios: one clock, the commands a controller
//! sends, each viewer's log of states, and a per-command count of receipts.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::Notify;

/// One clock for every timestamp of a run, in nanoseconds since it started.
#[derive(Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Self {
        Self(Instant::now())
    }
    pub fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// A playback command a controlling viewer sends.
#[derive(Debug, Clone, Copy)]
pub enum Order {
    Play,
    Pause,
}

impl Order {
    /// The `n`th command of a party that starts paused: play, pause, play, …
    pub fn nth(n: u64) -> Self {
        if n.is_multiple_of(2) {
            Self::Play
        } else {
            Self::Pause
        }
    }
    pub fn frame(self) -> &'static str {
        match self {
            Self::Play => r#"{"type":"play"}"#,
            Self::Pause => r#"{"type":"pause"}"#,
        }
    }
}

/// What one viewer saw, read by the scenario after (or between) its steps.
#[derive(Default)]
pub struct Probe {
    /// `(seq, received at)` of every `state`, in arrival order.
    pub states: Mutex<Vec<(u64, u64)>>,
    /// `(command number, sent at)` of every command this viewer sent.
    pub sent: Mutex<Vec<(u64, u64)>>,
    /// `seq` in the `welcome`.
    pub welcome_seq: AtomicU64,
    /// `error` frames received (e.g. `rate_limited`).
    pub errors: AtomicU64,
    /// Set when the connection ended.
    pub closed: AtomicBool,
    /// Why the connection ended, once it has.
    pub ending: Mutex<Option<String>>,
}

/// Counts, per command, the viewers of a party that have its `state`, and wakes the
/// sender once all have.
pub struct Tally {
    /// `seq` before the first command; command `n` makes `base + n + 1`.
    pub base: AtomicU64,
    counts: Vec<AtomicU32>,
    /// Viewers that must have a command's `state` before the sender is woken.
    pub viewers: AtomicU32,
    pub done: Notify,
}

impl Tally {
    pub fn new(commands: usize) -> Self {
        Self {
            base: AtomicU64::new(u64::MAX),
            counts: (0..commands).map(|_| AtomicU32::new(0)).collect(),
            viewers: AtomicU32::new(u32::MAX),
            done: Notify::new(),
        }
    }
    pub fn saw(&self, seq: u64) {
        let base = self.base.load(Ordering::Relaxed);
        let Some(n) = seq.checked_sub(base + 1).filter(|_| base != u64::MAX) else {
            return;
        };
        if let Some(count) = self.counts.get(n as usize) {
            if count.fetch_add(1, Ordering::AcqRel) + 1 >= self.viewers.load(Ordering::Relaxed) {
                self.done.notify_one();
            }
        }
    }
    /// How many viewers have the `state` of command `n`.
    pub fn count(&self, n: usize) -> u32 {
        self.counts[n].load(Ordering::Acquire)
    }
}

/// Locks a probe's log; a poisoned lock still holds valid entries.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
