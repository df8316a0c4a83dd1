//! Viewer lists, gathered and paced: sessions mark a party's list as changed, and a node task
//! sends each changed list once per short window. A crowd arriving together costs one list per
//! party and window instead of one per arrival (which, for N viewers, is N² messages). A large
//! party's window grows with it, so that the lists a party sends stay within
//! `[realtime] viewer_list_frames_per_sec` however many watch: each list goes to every one of
//! its connections.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::domain::PartyId;
use crate::managers::PartyManager;

/// How often lists may go.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Changes are gathered this long before a list goes.
    pub delay: Duration,
    /// People named in a list.
    pub limit: usize,
    /// List frames one party may cause per second, over all its connections.
    pub frames_per_sec: u64,
}

impl Pacing {
    /// The least time between two lists of a party with `connections` connections.
    pub fn gap(&self, connections: usize) -> Duration {
        let spread = Duration::from_secs_f64(connections as f64 / self.frames_per_sec as f64);
        self.delay.max(spread)
    }
}

/// Parties whose viewer list changed since it was last sent.
pub struct Roster {
    /// A std mutex: held only to read or change the schedule, never across an `.await`.
    schedule: Mutex<Schedule>,
    wake: Notify,
}

/// Which lists are due, and when the lately sent ones may go again.
#[derive(Default)]
struct Schedule {
    changed: HashSet<PartyId>,
    not_before: HashMap<PartyId, Instant>,
}

impl Schedule {
    /// Takes the changed parties whose list may go at `now`.
    fn take_due(&mut self, now: Instant) -> Vec<PartyId> {
        self.not_before.retain(|_, at| *at > now);
        let due: Vec<PartyId> = self
            .changed
            .iter()
            .filter(|party| !self.not_before.contains_key(party))
            .copied()
            .collect();
        for party in &due {
            self.changed.remove(party);
        }
        due
    }

    /// When the next held-back list may go, if any is held back.
    fn next_due(&self) -> Option<Instant> {
        self.changed
            .iter()
            .filter_map(|party| self.not_before.get(party))
            .min()
            .copied()
    }

    fn sent(&mut self, party: PartyId, next: Instant) {
        self.not_before.insert(party, next);
    }
}

impl Roster {
    /// Starts the node task that publishes changed lists.
    pub fn start(party: PartyManager, pacing: Pacing) -> Arc<Self> {
        let roster = Arc::new(Self {
            schedule: Mutex::new(Schedule::default()),
            wake: Notify::new(),
        });
        let task = roster.clone();
        tokio::spawn(async move {
            loop {
                let held_back = task.lock().next_due();
                match held_back {
                    Some(at) => {
                        tokio::select! {
                            _ = task.wake.notified() => {}
                            _ = tokio::time::sleep_until(at.into()) => {}
                        }
                    }
                    None => task.wake.notified().await,
                }
                tokio::time::sleep(pacing.delay).await;
                let now = Instant::now();
                let due = task.lock().take_due(now);
                for id in due {
                    match party.publish_viewers(id, pacing.limit).await {
                        Ok(connections) => task.lock().sent(id, now + pacing.gap(connections)),
                        Err(err) => {
                            tracing::warn!(error = %err, party = %id, "could not publish the viewer list");
                        }
                    }
                }
            }
        });
        roster
    }

    /// Marks a party's viewer list as changed.
    pub fn touch(&self, party: PartyId) {
        self.lock().changed.insert(party);
        self.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VideoId;

    const PACING: Pacing = Pacing {
        delay: Duration::from_millis(100),
        limit: 100,
        frames_per_sec: 5000,
    };

    #[test]
    fn a_large_party_waits_longer_between_lists() {
        assert_eq!(PACING.gap(10), Duration::from_millis(100));
        assert_eq!(PACING.gap(500), Duration::from_millis(100));
        assert_eq!(PACING.gap(1000), Duration::from_millis(200));
        assert_eq!(PACING.gap(10_000), Duration::from_secs(2));
    }

    #[test]
    fn a_list_sent_lately_is_held_back_until_its_gap_has_passed() {
        let (small, large) = (PartyId::Video(VideoId(1)), PartyId::Video(VideoId(2)));
        let mut schedule = Schedule::default();
        let t0 = Instant::now();
        schedule.changed.extend([small, large]);
        let mut due = schedule.take_due(t0);
        due.sort_by_key(|p| p.to_string());
        assert_eq!(due, vec![small, large], "nothing was sent lately");
        schedule.sent(small, t0 + PACING.gap(10));
        schedule.sent(large, t0 + PACING.gap(10_000));

        schedule.changed.extend([small, large]);
        assert_eq!(schedule.take_due(t0 + Duration::from_millis(50)), vec![]);
        assert_eq!(schedule.next_due(), Some(t0 + Duration::from_millis(100)));
        assert_eq!(
            schedule.take_due(t0 + Duration::from_millis(100)),
            vec![small]
        );
        assert_eq!(schedule.next_due(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(schedule.take_due(t0 + Duration::from_secs(1)), vec![]);
        assert_eq!(schedule.take_due(t0 + Duration::from_secs(2)), vec![large]);
        assert_eq!(schedule.next_due(), None, "nothing changed since");
        assert!(schedule.not_before.is_empty(), "past gaps are forgotten");
    }
}
