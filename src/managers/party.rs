//! Parties: the playback state (changed only by the command script), who may control,
//! presence, and departures.
//!
//! Presence is kept per connection (`party:{party}:conns`, connection id → entry) and
//! summarised per person, so a reload — a new connection before the old one closes — never
//! counts or removes a person twice. Names in the summary are read fresh from the users.

use std::collections::HashMap;
use std::sync::Arc;

use redis::AsyncCommands;
use serde::Deserialize;

use super::{Keys, StoreConnection, StoreError};
use crate::config::SyncSettings;
use crate::domain::{
    summarise, ControlMode, ErrorCode, PartyId, PartyNotice, Permissions, PresenceEntry, UserId,
    ViewerSummary,
};
use crate::sync::{Command, PlaybackState};

/// The result of a command.
#[derive(Debug, Clone)]
pub enum CommandResult {
    /// Applied (or a no-op): the state after it, and the frame as published.
    Applied {
        changed: bool,
        state: PlaybackState,
        frame: String,
    },
    /// Refused, for this reason; nothing changed.
    Refused(ErrorCode),
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
            PartyId::Video(_) => (self.keys.party_root(party), self.keys.party_root(party)),
        };
        let result: Result<(i64, String), redis::RedisError> = self
            .command
            .key(self.keys.party_state(&p))
            .key(self.keys.party_root(party))
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
                return Ok(CommandResult::Refused(ErrorCode::BadMessage));
            }
            Err(err) => return Err(err.into()),
        };
        if changed < 0 {
            return Ok(CommandResult::Refused(ErrorCode::of_refusal(&frame)));
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
            .hget(self.keys.party_root(party), "owner")
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
            self.publish(party, &PartyNotice::Permissions { permissions }.to_json())
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
            .key(self.keys.party_root(party))
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
            .key(self.keys.party_root(party))
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
            .key(self.keys.party_root(party))
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
        self.publish(party, &PartyNotice::Viewers { viewers, people }.to_json())
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

fn parse_state_frame(frame: &str) -> Result<PlaybackState, StoreError> {
    #[derive(Deserialize)]
    struct Frame {
        state: PlaybackState,
    }
    serde_json::from_str::<Frame>(frame)
        .map(|f| f.state)
        .map_err(|e| StoreError::Corrupt(format!("state frame: {e}")))
}
