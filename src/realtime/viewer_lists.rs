//! The latest viewer list of each large party, as this node last saw it published.
//!
//! A newcomer's `welcome` carries the party's viewer list. Read from Redis it costs a read of
//! every connection of the party, so a crowd joining a party of thousands did quadratic work
//! (10,000 viewers took 85 s to join one party). But every change to who watches is followed,
//! within the gathering window, by a published list (`roster`), and every node sees every
//! published list: the latest one seen is the list as of the last change published, and any
//! later change is on its way to the newcomer too, whose socket is in the party's group
//! before its `welcome` is sent. So a welcome (or a resync) takes the list from here when it
//! can. Lists that name everyone (small parties) are cheap to read and are not kept; nor are
//! lists older than [`USABLE_FOR`], in case a publication failed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::domain::{PartyId, ViewerSummary};

/// How every `viewers` frame begins (`ServerMessage` puts the tag first).
const VIEWERS_PREFIX: &str = r#"{"type":"viewers""#;
/// A list older than this is read from Redis again.
const USABLE_FOR: Duration = Duration::from_secs(60);
/// Kept lists beyond this many are pruned of the unusable ones.
const PRUNE_ABOVE: usize = 64;

#[derive(Default)]
pub struct ViewerLists {
    lists: Mutex<HashMap<PartyId, Kept>>,
}

/// A list as published, parsed once: a crowd's welcomes each take a copy.
struct Kept {
    list: Arc<List>,
    at: Instant,
}

#[derive(Deserialize)]
struct List {
    viewers: Vec<ViewerSummary>,
    people: usize,
}

impl ViewerLists {
    /// Notes a published party event: keeps it when it is a viewer list that does not name
    /// everyone, forgets the party's list when it names everyone.
    pub fn observe(&self, party: PartyId, payload: &str) {
        self.observe_at(party, payload, Instant::now());
    }

    fn observe_at(&self, party: PartyId, payload: &str, now: Instant) {
        if !payload.starts_with(VIEWERS_PREFIX) {
            return;
        }
        let Ok(list) = serde_json::from_str::<List>(payload) else {
            return;
        };
        let mut lists = self.lock();
        if list.people <= list.viewers.len() {
            lists.remove(&party);
            return;
        }
        let kept = Kept {
            list: Arc::new(list),
            at: now,
        };
        lists.insert(party, kept);
        if lists.len() > PRUNE_ABOVE {
            lists.retain(|_, kept| now.duration_since(kept.at) < USABLE_FOR);
        }
    }

    /// The party's latest list and how many watch in all, when a recent one was seen.
    pub fn latest(&self, party: PartyId) -> Option<(Vec<ViewerSummary>, usize)> {
        self.latest_at(party, Instant::now())
    }

    fn latest_at(&self, party: PartyId, now: Instant) -> Option<(Vec<ViewerSummary>, usize)> {
        let list = {
            let lists = self.lock();
            let kept = lists.get(&party)?;
            if now.duration_since(kept.at) >= USABLE_FOR {
                return None;
            }
            kept.list.clone()
        };
        Some((list.viewers.clone(), list.people))
    }

    /// Forgets every list: publications may have been missed.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Forgets one party's list: its publications may have been missed.
    pub fn forget(&self, party: PartyId) {
        self.lock().remove(&party);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PartyId, Kept>> {
        self.lists.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VideoId;
    use crate::domain::ViewerStatus;
    use crate::realtime::protocol::ServerMessage;

    fn list(names: usize, people: usize) -> String {
        let viewers = (0..names as u64)
            .map(|i| ViewerSummary {
                user_id: i + 1,
                name: format!("Guest-{i}"),
                connections: 1,
                status: ViewerStatus::Watching,
            })
            .collect();
        ServerMessage::viewers(viewers, people).to_json()
    }

    #[test]
    fn a_list_that_leaves_people_out_is_kept_until_one_names_everyone() {
        let lists = ViewerLists::default();
        let party = PartyId::Video(VideoId(1));
        lists.observe(party, &list(2, 5));
        let (viewers, people) = lists.latest(party).expect("kept");
        assert_eq!((viewers.len(), people), (2, 5));
        assert_eq!(viewers[1].name, "Guest-1");
        lists.observe(party, r#"{"type":"state","state":{}}"#);
        assert!(lists.latest(party).is_some(), "other events change nothing");
        lists.observe(party, &list(2, 2));
        assert!(
            lists.latest(party).is_none(),
            "a list naming everyone is read from Redis"
        );
    }

    #[test]
    fn old_lists_are_not_used_and_clearing_forgets_all() {
        let lists = ViewerLists::default();
        let (a, b) = (PartyId::Video(VideoId(1)), PartyId::Video(VideoId(2)));
        let then = Instant::now();
        lists.observe_at(a, &list(1, 3), then);
        lists.observe_at(b, &list(1, 3), then);
        assert!(lists.latest_at(a, then + USABLE_FOR).is_none());
        assert!(lists.latest_at(a, then + USABLE_FOR / 2).is_some());
        lists.clear();
        assert!(lists.latest_at(b, then).is_none());
    }

    #[test]
    fn many_parties_prune_the_unusable_lists() {
        let lists = ViewerLists::default();
        let then = Instant::now();
        for id in 0..=PRUNE_ABOVE as u64 {
            lists.observe_at(PartyId::Video(VideoId(id)), &list(1, 3), then);
        }
        lists.observe_at(PartyId::Video(VideoId(999)), &list(1, 3), then + USABLE_FOR);
        assert_eq!(lists.lock().len(), 1);
    }
}
