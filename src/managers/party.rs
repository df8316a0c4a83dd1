//! Parties: the playback state (changed only by the command script), who may control,
//! presence, and departures.
//!
//! Presence is kept per connection (`party:{party}:conns`, connection id → entry) and
//! summarised per person, so a reload — a new connection before the old one closes — never
//! counts or removes a person twice. Names in the summary are read fresh from the users.

use std::collections::HashMap;
use std::sync::Arc;

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{Keys, StoreConnection, StoreError};
use crate::config::SyncSettings;
use crate::domain::{PlaylistId, UserId, VideoId};
use crate::realtime::protocol::ServerMessage;
use crate::sync::{Command, PlaybackState};

/// Which group of viewers watches together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyId {
    Video(VideoId),
    Playlist(PlaylistId),
}

impl PartyId {
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(id) = text.strip_prefix("video:") {
            return VideoId::parse(id).map(Self::Video);
        }
        PlaylistId::parse(text.strip_prefix("playlist:")?).map(Self::Playlist)
    }

    /// The hash that owns the party (the video or the playlist).
    pub fn root_key(&self, keys: &Keys) -> String {
        match self {
            Self::Video(id) => keys.video(id.0),
            Self::Playlist(id) => keys.playlist(id.0),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Video(_) => "video",
            Self::Playlist(_) => "playlist",
        }
    }
}

impl std::fmt::Display for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Video(id) => write!(f, "video:{id}"),
            Self::Playlist(id) => write!(f, "playlist:{id}"),
        }
    }
}

/// What a viewer's player is doing, as the viewer list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerStatus {
    Watching,
    /// Playing, but further from the timeline than the page's sync band.
    OutOfSync,
    /// Waiting for data; the party holds for them (when it waits for everyone).
    Buffering,
    /// Buffered longer than the wait limit; the party went on without them.
    LeftBehind,
}

/// One connection's presence record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user_id: UserId,
    pub name: String,
    /// The node serving the connection.
    pub node: String,
    /// `Watching` or `Buffering`, as the player reports.
    pub status: ViewerStatus,
    /// Whether the page reports being within its sync band.
    #[serde(default = "yes")]
    pub in_sync: bool,
    /// Buffered past the wait limit: the party no longer waits for this connection.
    #[serde(default)]
    pub left_behind: bool,
    /// When the connection joined (server ms).
    pub since: u64,
}

fn yes() -> bool {
    true
}

impl PresenceEntry {
    /// What the viewer list shows for this connection.
    pub fn shown_status(&self) -> ViewerStatus {
        match (self.status, self.left_behind, self.in_sync) {
            (ViewerStatus::Buffering, true, _) => ViewerStatus::LeftBehind,
            (ViewerStatus::Buffering, false, _) => ViewerStatus::Buffering,
            (_, _, false) => ViewerStatus::OutOfSync,
            _ => ViewerStatus::Watching,
        }
    }

    /// Whether the party should wait for this connection.
    pub fn holds_party(&self) -> bool {
        self.status == ViewerStatus::Buffering && !self.left_behind
    }
}

/// One person in the viewer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerSummary {
    pub user_id: UserId,
    pub name: String,
    pub connections: usize,
    pub status: ViewerStatus,
}

/// Who may control playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlMode {
    /// Every viewer (the default).
    Everyone,
    /// The owner and the viewers they promoted.
    Promoted,
}

impl ControlMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Promoted => "promoted",
        }
    }
}

/// A party's control settings, as every viewer sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permissions {
    pub mode: ControlMode,
    pub owner_id: UserId,
    /// Viewers the owner promoted (they keep it when the mode changes back and forth).
    pub controllers: Vec<UserId>,
    /// Whether the party holds while a viewer buffers.
    pub wait_for_everyone: bool,
}

impl Permissions {
    pub fn can_control(&self, user: UserId) -> bool {
        self.mode == ControlMode::Everyone
            || user == self.owner_id
            || self.controllers.contains(&user)
    }
}

/// The result of a command.
#[derive(Debug, Clone)]
pub enum CommandResult {
    /// Applied (or a no-op): the state after it, and the frame as published.
    Applied {
        changed: bool,
        state: PlaybackState,
        frame: String,
    },
    /// Refused with a protocol error code; nothing changed.
    Refused(String),
    /// The party no longer exists.
    Gone,
}

/// The chat's system line for a control action ("Ana paused at 12:03").
#[derive(Debug, Clone)]
pub struct Announcement {
    pub text: String,
    /// Ends the line with the position the action left the video at.
    pub with_position: bool,
}

/// Playback state, permissions and presence of parties.
#[derive(Clone)]
pub struct PartyManager {
    conn: StoreConnection,
    keys: Keys,
    sync: SyncSettings,
    /// Chat messages a party keeps (`[chat] history`), for the lines commands post.
    chat_kept: usize,
    command: Arc<redis::Script>,
    /// Writes a hash field only while the party exists.
    hset_live: Arc<redis::Script>,
    presence_join: Arc<redis::Script>,
    presence_leave: Arc<redis::Script>,
    settle_departure: Arc<redis::Script>,
}

impl PartyManager {
    pub fn new(conn: StoreConnection, keys: Keys, sync: SyncSettings, chat_kept: usize) -> Self {
        Self {
            conn,
            keys,
            sync,
            chat_kept,
            command: super::scripts::load(super::scripts::PARTY_COMMAND),
            hset_live: super::scripts::load(super::scripts::HSET_IF_EXISTS),
            presence_join: super::scripts::load(super::scripts::PRESENCE_JOIN),
            presence_leave: super::scripts::load(super::scripts::PRESENCE_LEAVE),
            settle_departure: super::scripts::load(super::scripts::SETTLE_DEPARTURE),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        party: PartyId,
        name: &str,
        value: &str,
        user: UserId,
        by: &str,
        line: Option<&Announcement>,
        about: &str,
    ) -> Result<CommandResult, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (items, order) = match party {
            PartyId::Playlist(id) => (
                self.keys.playlist_items(id.0),
                self.keys.playlist_order(id.0),
            ),
            PartyId::Video(_) => (party.root_key(&self.keys), party.root_key(&self.keys)),
        };
        let result: Result<(i64, String), redis::RedisError> = self
            .command
            .key(self.keys.party_state(&p))
            .key(party.root_key(&self.keys))
            .key(self.keys.party_settings(&p))
            .key(self.keys.party_controllers(&p))
            .key(items)
            .key(order)
            .key(self.keys.party_chat(&p))
            .key(self.keys.party_chat_seq(&p))
            .arg(name)
            .arg(value)
            .arg(by)
            .arg(self.sync.play_lead_ms)
            .arg(self.sync.pause_tolerance_ms)
            .arg(self.keys.events(&p))
            .arg(&p)
            .arg(user)
            .arg(party.kind())
            .arg(line.map_or("", |l| l.text.as_str()))
            .arg(if line.is_some_and(|l| l.with_position) {
                "1"
            } else {
                "0"
            })
            .arg(self.chat_kept)
            .arg(self.sync.seek_lead_ms)
            .arg(crate::sync::MAX_POSITION_MS as u64)
            .arg(self.sync.min_duration_ms)
            .arg(self.sync.ended_window_ms)
            .arg(about)
            .invoke_async(&mut conn)
            .await;
        let (changed, frame) = match result {
            Ok(reply) => reply,
            Err(err) if err.code() == Some("WW_NOT_FOUND") => return Ok(CommandResult::Gone),
            Err(err) if super::scripts::refusal(&err).is_some() => {
                // The commands are parsed before they get here: a refusal means one slipped
                // through, so it is logged, and the viewer is told, as for any bad message.
                tracing::warn!(error = %err, party = %party, command = name, "command refused by the script");
                return Ok(CommandResult::Refused("bad_message".into()));
            }
            Err(err) => return Err(err.into()),
        };
        if changed < 0 {
            return Ok(CommandResult::Refused(frame));
        }
        let state = parse_state_frame(&frame)?;
        Ok(CommandResult::Applied {
            changed: changed == 1,
            state,
            frame,
        })
    }

    /// The current state (created on first use); `None` when the party is gone.
    pub async fn state(&self, party: PartyId) -> Result<Option<PlaybackState>, StoreError> {
        match self.run(party, "state", "0", 0, "", None, "").await? {
            CommandResult::Applied { state, .. } => Ok(Some(state)),
            _ => Ok(None),
        }
    }

    /// Applies a validated command from `user` on the Redis clock; a change is stored and
    /// published in the same step.
    /// Applies a command. `line`, if any, is posted to the chat as a system line in the same
    /// step when the command changes something (and carried by the published state).
    pub async fn apply(
        &self,
        party: PartyId,
        command: Command,
        user: UserId,
        by: &str,
        line: Option<&Announcement>,
    ) -> Result<CommandResult, StoreError> {
        let (name, value) = command.script_args();
        self.run(party, name, &value, user, by, line, "").await
    }

    /// Shortest duration a player may report (`[sync] min_duration_ms`).
    pub fn min_duration_ms(&self) -> u64 {
        self.sync.min_duration_ms
    }

    /// A player's report of the duration of `media` (what the party played when it learned
    /// it; `None` when the viewer did not say). Only the first report about the media
    /// playing now, from a viewer who may control, sets it; any other is ignored.
    pub async fn report_duration(
        &self,
        party: PartyId,
        duration: Command,
        media: Option<&str>,
        user: UserId,
        by: &str,
    ) -> Result<CommandResult, StoreError> {
        let (name, value) = duration.script_args();
        self.run(party, name, &value, user, by, None, media.unwrap_or(""))
            .await
    }

    /// After a playlist edit: if the current item is gone, move to `fallback` (or the first).
    pub async fn refresh(
        &self,
        party: PartyId,
        fallback: Option<u64>,
    ) -> Result<CommandResult, StoreError> {
        self.run(
            party,
            "refresh",
            &fallback.unwrap_or(0).to_string(),
            0,
            "",
            None,
            "",
        )
        .await
    }

    pub async fn permissions(&self, party: PartyId) -> Result<Option<Permissions>, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (owner, mode, wait, controllers): (
            Option<UserId>,
            Option<String>,
            Option<String>,
            Vec<UserId>,
        ) = redis::pipe()
            .hget(party.root_key(&self.keys), "owner")
            .hget(self.keys.party_settings(&p), "control")
            .hget(self.keys.party_settings(&p), "wait")
            .smembers(self.keys.party_controllers(&p))
            .query_async(&mut conn)
            .await?;
        let Some(owner_id) = owner else {
            return Ok(None);
        };
        let mode = if mode.as_deref() == Some("promoted") {
            ControlMode::Promoted
        } else {
            ControlMode::Everyone
        };
        let mut controllers = controllers;
        controllers.sort_unstable();
        let wait_for_everyone = wait.as_deref() != Some("0");
        Ok(Some(Permissions {
            mode,
            owner_id,
            controllers,
            wait_for_everyone,
        }))
    }

    /// Changes who may control, then tells every viewer.
    pub async fn set_mode(&self, party: PartyId, mode: ControlMode) -> Result<(), StoreError> {
        let key = self.keys.party_settings(&party.to_string());
        if self.hset_live(party, key, "control", mode.as_str()).await? {
            self.publish_permissions(party).await?;
        }
        Ok(())
    }

    /// Turns "wait for everyone" on or off, then tells every viewer.
    pub async fn set_wait(&self, party: PartyId, enabled: bool) -> Result<(), StoreError> {
        let key = self.keys.party_settings(&party.to_string());
        if self
            .hset_live(party, key, "wait", if enabled { "1" } else { "0" })
            .await?
        {
            self.publish_permissions(party).await?;
        }
        Ok(())
    }

    /// Promotes (`true`) or demotes a viewer, then tells every viewer.
    pub async fn set_controller(
        &self,
        party: PartyId,
        user: UserId,
        promoted: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.party_controllers(&party.to_string());
        if promoted {
            conn.sadd::<_, _, ()>(key, user).await?;
        } else {
            conn.srem::<_, _, ()>(key, user).await?;
        }
        self.publish_permissions(party).await
    }

    async fn publish_permissions(&self, party: PartyId) -> Result<(), StoreError> {
        if let Some(permissions) = self.permissions(party).await? {
            self.publish(party, &ServerMessage::Permissions { permissions }.to_json())
                .await?;
        }
        Ok(())
    }

    /// Sets `field` of `key` only while the party exists; `false` when it is gone.
    async fn hset_live(
        &self,
        party: PartyId,
        key: String,
        field: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let written: i64 = self
            .hset_live
            .key(key)
            .key(party.root_key(&self.keys))
            .arg(field)
            .arg(value)
            .invoke_async(&mut conn)
            .await?;
        Ok(written == 1)
    }

    /// Records a connection. `None` when the party no longer exists.
    pub async fn join(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<Option<Arrival>, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (connections, returning, people): (i64, i64, usize) = self
            .presence_join
            .key(self.keys.party_conns(&p))
            .key(party.root_key(&self.keys))
            .key(self.keys.party_people(&p))
            .key(self.keys.party_departed(&p))
            .arg(conn_id)
            .arg(json)
            .arg(entry.user_id)
            .invoke_async(&mut conn)
            .await?;
        if connections == 0 {
            return Ok(None);
        }
        Ok(Some(Arrival {
            first_connection: connections == 1,
            returning: returning == 1,
            people,
        }))
    }

    /// Updates a connection's presence record (only while the party exists).
    pub async fn update_presence(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.hset_live(
            party,
            self.keys.party_conns(&party.to_string()),
            conn_id,
            &json,
        )
        .await
    }

    /// Removes a connection; when it was the person's last, their departure is recorded.
    pub async fn leave(
        &self,
        party: PartyId,
        conn_id: &str,
        user: UserId,
    ) -> Result<Departure, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (left, people, at): (i64, usize, u64) = self
            .presence_leave
            .key(self.keys.party_conns(&p))
            .key(self.keys.party_people(&p))
            .key(self.keys.party_departed(&p))
            .key(party.root_key(&self.keys))
            .arg(conn_id)
            .arg(user)
            .invoke_async(&mut conn)
            .await?;
        Ok(Departure {
            last_connection: left == 0,
            people,
            recorded_at: (at > 0).then_some(at),
        })
    }

    /// Every connection's presence record.
    pub async fn connections(&self, party: PartyId) -> Result<Vec<PresenceEntry>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: HashMap<String, String> = conn
            .hgetall(self.keys.party_conns(&party.to_string()))
            .await?;
        Ok(raw
            .values()
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect())
    }

    /// The first `limit` people watching, one entry per person, in order of arrival, with
    /// current names; and how many people watch in all.
    pub async fn viewers(
        &self,
        party: PartyId,
        limit: usize,
    ) -> Result<(Vec<ViewerSummary>, usize), StoreError> {
        let entries = self.connections(party).await?;
        self.list_of(entries, limit).await
    }

    /// The first `limit` people of a party's connections, with current names; and how many
    /// people in all.
    async fn list_of(
        &self,
        mut entries: Vec<PresenceEntry>,
        limit: usize,
    ) -> Result<(Vec<ViewerSummary>, usize), StoreError> {
        let mut conn = self.conn.clone();
        entries.sort_by_key(|e| e.since);
        let mut people = summarise(&entries);
        let total = people.len();
        people.truncate(limit);
        if !people.is_empty() {
            let mut pipe = redis::pipe();
            for person in &people {
                pipe.hget(self.keys.user(person.user_id), "name");
            }
            let names: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
            for (person, name) in people.iter_mut().zip(names) {
                if let Some(name) = name {
                    person.name = name;
                }
            }
        }
        Ok((people, total))
    }

    /// Publishes the viewer list (its first `limit` people) to every node; returns how many
    /// connections the party has (each gets the list).
    pub async fn publish_viewers(&self, party: PartyId, limit: usize) -> Result<usize, StoreError> {
        let entries = self.connections(party).await?;
        let connections = entries.len();
        let (viewers, people) = self.list_of(entries, limit).await?;
        self.publish(party, &ServerMessage::Viewers { viewers, people }.to_json())
            .await?;
        Ok(connections)
    }

    /// Publishes a frame to every viewer of a party, on every node.
    pub async fn publish(&self, party: PartyId, frame: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.publish::<_, _, ()>(self.keys.events(&party.to_string()), frame)
            .await?;
        Ok(())
    }

    /// Forgets a recorded departure if it is still the one made at `at_ms` (the person did not
    /// come back since); `true` when it was.
    pub async fn settle_departure(
        &self,
        party: PartyId,
        user: UserId,
        at_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let settled: i64 = self
            .settle_departure
            .key(self.keys.party_departed(&party.to_string()))
            .arg(user)
            .arg(at_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(settled == 1)
    }
}

/// What joining told about the person.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Their only connection to the party now.
    pub first_connection: bool,
    /// They had left moments ago (a reload or a short drop).
    pub returning: bool,
    /// People watching now.
    pub people: usize,
}

/// What leaving told about the person.
#[derive(Debug, Clone, Copy)]
pub struct Departure {
    /// That was their last connection.
    pub last_connection: bool,
    /// People still watching.
    pub people: usize,
    /// When their departure was recorded (their last connection, while the party exists).
    pub recorded_at: Option<u64>,
}

/// Groups connection entries (sorted by arrival) into one summary per person.
pub fn summarise(entries: &[PresenceEntry]) -> Vec<ViewerSummary> {
    let mut people: Vec<ViewerSummary> = Vec::new();
    let mut index: HashMap<UserId, usize> = HashMap::with_capacity(entries.len());
    for entry in entries {
        match index.get(&entry.user_id) {
            Some(&at) => {
                let person = &mut people[at];
                person.connections += 1;
                // The newest connection carries the current name.
                person.name = entry.name.clone();
                // The most worrying status of any of the person's connections shows.
                person.status = person.status.max(entry.shown_status());
            }
            None => {
                index.insert(entry.user_id, people.len());
                people.push(ViewerSummary {
                    user_id: entry.user_id,
                    name: entry.name.clone(),
                    connections: 1,
                    status: entry.shown_status(),
                });
            }
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
            in_sync: true,
            left_behind: false,
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
    fn the_list_shows_left_behind_buffering_and_out_of_sync_viewers() {
        let mut e = entry(1, 1, ViewerStatus::Watching);
        assert_eq!(e.shown_status(), ViewerStatus::Watching);
        e.in_sync = false;
        assert_eq!(e.shown_status(), ViewerStatus::OutOfSync);
        e.status = ViewerStatus::Buffering;
        assert_eq!(e.shown_status(), ViewerStatus::Buffering);
        assert!(e.holds_party());
        e.left_behind = true;
        assert_eq!(e.shown_status(), ViewerStatus::LeftBehind);
        assert!(!e.holds_party());
    }

    #[test]
    fn party_ids_round_trip() {
        for id in [
            PartyId::Video(VideoId(12)),
            PartyId::Playlist(PlaylistId(3)),
        ] {
            assert_eq!(PartyId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(PartyId::parse("video:x"), None);
        assert_eq!(PartyId::parse("room:1"), None);
    }

    #[test]
    fn the_owner_and_promoted_viewers_may_control_in_promoted_mode() {
        let mut p = Permissions {
            mode: ControlMode::Everyone,
            owner_id: 1,
            controllers: vec![3],
            wait_for_everyone: true,
        };
        assert!(p.can_control(2));
        p.mode = ControlMode::Promoted;
        assert!(p.can_control(1));
        assert!(p.can_control(3));
        assert!(!p.can_control(2));
    }
}
