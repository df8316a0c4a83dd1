//! Parties: the playback state (changed only by the command script) and presence.
//!
//! Presence is kept per connection (`party:{party}:conns`, connection id → entry) and
//! summarised per person, so a reload — a new connection before the old one closes — never
//! counts or removes a person twice.

use std::collections::HashMap;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{Keys, StoreError};
use crate::config::SyncSettings;
use crate::domain::{UserId, VideoId};
use crate::realtime::protocol::ServerMessage;
use crate::sync::{Command, PlaybackState};

/// Which group of viewers watches together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyId {
    Video(VideoId),
}

impl PartyId {
    pub fn parse(text: &str) -> Option<Self> {
        let id = text.strip_prefix("video:")?;
        VideoId::parse(id).map(Self::Video)
    }
}

impl std::fmt::Display for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Video(id) => write!(f, "video:{id}"),
        }
    }
}

/// What a viewer's player is doing, as the viewer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerStatus {
    Watching,
    Buffering,
}

/// One connection's presence record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user_id: UserId,
    pub name: String,
    /// The node serving the connection.
    pub node: String,
    pub status: ViewerStatus,
    /// When the connection joined (server ms).
    pub since: u64,
}

/// One person in the viewer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerSummary {
    pub user_id: UserId,
    pub name: String,
    pub connections: usize,
    pub status: ViewerStatus,
}

/// The result of a command: the state after it, and whether it changed anything.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub changed: bool,
    pub state: PlaybackState,
    /// The `state` frame as published, for a caller that must send it itself.
    pub frame: String,
}

/// Playback state and presence of parties.
#[derive(Clone)]
pub struct PartyManager {
    conn: ConnectionManager,
    keys: Keys,
    sync: SyncSettings,
    command: Arc<redis::Script>,
    join: Arc<redis::Script>,
}

impl PartyManager {
    pub fn new(conn: ConnectionManager, keys: Keys, sync: SyncSettings) -> Self {
        Self {
            conn,
            keys,
            sync,
            command: Arc::new(redis::Script::new(include_str!(
                "scripts/party_command.lua"
            ))),
            join: Arc::new(redis::Script::new(include_str!("scripts/join_party.lua"))),
        }
    }

    fn media_key(&self, party: PartyId) -> String {
        match party {
            PartyId::Video(id) => self.keys.video(id.0),
        }
    }

    async fn run(
        &self,
        party: PartyId,
        name: &str,
        value: f64,
        by: &str,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        let mut conn = self.conn.clone();
        let party_name = party.to_string();
        let result: Result<(i64, String), redis::RedisError> = self
            .command
            .key(self.keys.party_state(&party_name))
            .key(self.media_key(party))
            .arg(name)
            .arg(value)
            .arg(by)
            .arg(self.sync.play_lead_ms)
            .arg(self.sync.pause_tolerance_ms)
            .arg(self.keys.events(&party_name))
            .arg(&party_name)
            .invoke_async(&mut conn)
            .await;
        let (changed, frame) = match result {
            Ok(reply) => reply,
            Err(err) if err.code() == Some("WW_NOT_FOUND") => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let state = parse_state_frame(&frame)?;
        Ok(Some(CommandOutcome {
            changed: changed == 1,
            state,
            frame,
        }))
    }

    /// The current state (created on first use); `None` when the party is gone.
    pub async fn state(&self, party: PartyId) -> Result<Option<PlaybackState>, StoreError> {
        Ok(self.run(party, "state", 0.0, "").await?.map(|o| o.state))
    }

    /// Applies a validated command on the Redis clock, stores and publishes the new state.
    pub async fn apply(
        &self,
        party: PartyId,
        command: Command,
        by: &str,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        let (name, value) = command.script_args();
        self.run(party, name, value, by).await
    }

    /// Records a connection; `false` when the party no longer exists.
    pub async fn join(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let joined: i64 = self
            .join
            .key(self.keys.party_conns(&party.to_string()))
            .key(self.media_key(party))
            .arg(conn_id)
            .arg(json)
            .invoke_async(&mut conn)
            .await?;
        Ok(joined == 1)
    }

    /// Updates a connection's status (only if it is still recorded).
    pub async fn set_status(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<bool, StoreError> {
        self.join(party, conn_id, entry).await
    }

    pub async fn leave(&self, party: PartyId, conn_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.hdel::<_, _, ()>(self.keys.party_conns(&party.to_string()), conn_id)
            .await?;
        Ok(())
    }

    /// The people watching, one entry per person, in order of arrival.
    pub async fn viewers(&self, party: PartyId) -> Result<Vec<ViewerSummary>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: HashMap<String, String> = conn
            .hgetall(self.keys.party_conns(&party.to_string()))
            .await?;
        let mut entries: Vec<PresenceEntry> = raw
            .values()
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect();
        entries.sort_by_key(|e| e.since);
        Ok(summarise(&entries))
    }

    /// Publishes the viewer list to every node.
    pub async fn publish_viewers(&self, party: PartyId) -> Result<(), StoreError> {
        let viewers = self.viewers(party).await?;
        self.publish(party, &ServerMessage::Viewers { viewers }.to_json())
            .await
    }

    /// Publishes a frame to every viewer of a party, on every node.
    pub async fn publish(&self, party: PartyId, frame: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.publish::<_, _, ()>(self.keys.events(&party.to_string()), frame)
            .await?;
        Ok(())
    }
}

/// Groups connection entries (sorted by arrival) into one summary per person.
pub fn summarise(entries: &[PresenceEntry]) -> Vec<ViewerSummary> {
    let mut people: Vec<ViewerSummary> = Vec::new();
    for entry in entries {
        match people.iter_mut().find(|p| p.user_id == entry.user_id) {
            Some(person) => {
                person.connections += 1;
                // The newest connection carries the current name.
                person.name = entry.name.clone();
                if entry.status == ViewerStatus::Buffering {
                    person.status = ViewerStatus::Buffering;
                }
            }
            None => people.push(ViewerSummary {
                user_id: entry.user_id,
                name: entry.name.clone(),
                connections: 1,
                status: entry.status,
            }),
        }
    }
    people
}

fn parse_state_frame(frame: &str) -> Result<PlaybackState, StoreError> {
    #[derive(Deserialize)]
    struct Frame {
        state: PlaybackState,
    }
    serde_json::from_str::<Frame>(frame)
        .map(|f| f.state)
        .map_err(|e| StoreError::Corrupt(format!("state frame: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user_id: u64, since: u64, status: ViewerStatus) -> PresenceEntry {
        PresenceEntry {
            user_id,
            name: format!("U{user_id}"),
            node: "n".into(),
            status,
            since,
        }
    }

    #[test]
    fn a_person_with_several_connections_counts_once() {
        let people = summarise(&[
            entry(1, 1, ViewerStatus::Watching),
            entry(2, 2, ViewerStatus::Watching),
            entry(1, 3, ViewerStatus::Buffering),
        ]);
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].user_id, 1);
        assert_eq!(people[0].connections, 2);
        assert_eq!(people[0].status, ViewerStatus::Buffering);
        assert_eq!(people[1].connections, 1);
    }

    #[test]
    fn party_ids_round_trip() {
        let id = PartyId::Video(VideoId(12));
        assert_eq!(PartyId::parse(&id.to_string()), Some(id));
        assert_eq!(PartyId::parse("video:x"), None);
        assert_eq!(PartyId::parse("playlist:1"), None);
    }
}
