//! Viewer lists, gathered: sessions mark a party's list as changed, and a node task sends
//! each changed list once per short window. A crowd arriving together costs one list per
//! party and window instead of one per arrival (which, for N viewers, is N² messages).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::managers::{PartyId, PartyManager};

/// Parties whose viewer list changed since it was last sent.
pub struct Roster {
    /// A std mutex: held only to insert or take the set, never across an `.await`.
    dirty: Mutex<HashSet<PartyId>>,
    wake: Notify,
}

impl Roster {
    /// Starts the node task that publishes changed lists; `limit` people per list.
    pub fn start(party: PartyManager, delay: Duration, limit: usize) -> Arc<Self> {
        let roster = Arc::new(Self {
            dirty: Mutex::new(HashSet::new()),
            wake: Notify::new(),
        });
        let task = roster.clone();
        tokio::spawn(async move {
            loop {
                task.wake.notified().await;
                tokio::time::sleep(delay).await;
                let parties: Vec<PartyId> = task
                    .dirty
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .drain()
                    .collect();
                for id in parties {
                    if let Err(err) = party.publish_viewers(id, limit).await {
                        tracing::warn!(error = %err, party = %id, "could not publish the viewer list");
                    }
                }
            }
        });
        roster
    }

    /// Marks a party's viewer list as changed.
    pub fn touch(&self, party: PartyId) {
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(party);
        self.wake.notify_one();
    }
}
