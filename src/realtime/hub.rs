//! This node's party groups. Each party with local viewers has one bounded broadcast
//! channel; events arrive from the Redis subscriber and are shared, as the same bytes, with
//! every local session of the party.
//!
//! A viewer that falls more than the channel's capacity behind misses events; its session
//! sees `Lagged` and resyncs from the stored state, so memory never grows without bound.

use std::collections::HashMap;
use std::sync::Mutex;

use bytestring::ByteString;
use serde::Deserialize;
use tokio::sync::broadcast;

use super::protocol::CloseReason;
use crate::managers::PartyId;

/// How every `closed` frame begins (`ServerMessage` puts the tag first).
const CLOSED_PREFIX: &str = r#"{"type":"closed""#;

/// What a session receives from its group.
#[derive(Debug, Clone)]
pub enum Event {
    /// A frame to forward as it is.
    Frame(ByteString),
    /// Forward the `closed` frame, then close the connection.
    Close {
        frame: ByteString,
        reason: CloseReason,
    },
    /// Events may have been missed: reread state and viewers from Redis.
    Resync,
}

/// The groups of this node.
pub struct Hub {
    /// Party → its channel. A std mutex: held only to look up or insert, never across an
    /// `.await`.
    groups: Mutex<HashMap<PartyId, broadcast::Sender<Event>>>,
    /// Events buffered per group (`[realtime] channel_capacity`).
    capacity: usize,
}

impl Hub {
    pub fn new(capacity: usize) -> Self {
        Self {
            groups: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Subscribes to a party's events. Call [`Hub::leave`] after dropping the receiver.
    pub fn join(&self, party: PartyId) -> broadcast::Receiver<Event> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups
            .entry(party)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }

    /// Forgets a party's group once its last local viewer has gone.
    pub fn leave(&self, party: PartyId) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if groups
            .get(&party)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            groups.remove(&party);
        }
    }

    fn sender(&self, party: PartyId) -> Option<broadcast::Sender<Event>> {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&party)
            .cloned()
    }

    /// Hands a published frame to the party's local viewers, if it has any.
    pub fn dispatch(&self, party: PartyId, payload: String) {
        let Some(tx) = self.sender(party) else { return };
        #[derive(Deserialize)]
        struct Closed {
            #[serde(rename = "type")]
            kind: String,
            reason: Option<CloseReason>,
        }
        let frame = ByteString::from(payload);
        // `closed` frames are serialized by this crate with their type first; every other
        // event is forwarded without being parsed.
        let closing = frame.starts_with(CLOSED_PREFIX);
        let event = match closing.then(|| serde_json::from_str::<Closed>(&frame)) {
            Some(Ok(Closed {
                kind,
                reason: Some(reason),
            })) if kind == "closed" => Event::Close { frame, reason },
            _ => Event::Frame(frame),
        };
        // An error means no receiver is left; the group is removed on its last leave.
        let _ = tx.send(event);
    }

    /// Sends an event to every local group.
    pub fn broadcast_all(&self, event: Event) {
        let senders: Vec<_> = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for tx in senders {
            let _ = tx.send(event.clone());
        }
    }

    /// Local viewers' connections across all parties.
    pub fn connections(&self) -> usize {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|tx| tx.receiver_count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VideoId;

    #[tokio::test]
    async fn events_reach_every_local_viewer_and_groups_are_dropped_when_empty() {
        let hub = Hub::new(8);
        let party = PartyId::Video(VideoId(1));
        let mut a = hub.join(party);
        let mut b = hub.join(party);
        hub.dispatch(party, r#"{"type":"viewers","viewers":[]}"#.into());
        assert!(matches!(a.recv().await, Ok(Event::Frame(_))));
        assert!(matches!(b.recv().await, Ok(Event::Frame(_))));
        hub.dispatch(
            party,
            r#"{"type":"closed","reason":"video_deleted","message":"x"}"#.into(),
        );
        assert!(matches!(
            a.recv().await,
            Ok(Event::Close {
                reason: CloseReason::VideoDeleted,
                ..
            })
        ));
        drop(a);
        hub.leave(party);
        assert_eq!(hub.connections(), 1);
        drop(b);
        hub.leave(party);
        assert_eq!(hub.connections(), 0);
        assert!(hub.sender(party).is_none());
    }
}
