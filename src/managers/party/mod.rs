//! Parties: the playback state (changed only by the command script), who may control,
//! presence, and departures.
//!
//! Presence is kept per connection (`party:{party}:conns`, connection id → entry) and
//! summarised per person, so a reload — a new connection before the old one closes — never
//! counts or removes a person twice. Names in the summary are read fresh from the users.
//!
//! One [`PartyManager`], its methods by concern:
//! - `playback`: the state and the commands that change it (the command script).
//! - `permissions`: who may control, and whether the party waits for everyone.
//! - `presence`: connections joining and leaving, the viewer list, departures.
//! - `overview`: what a list of parties shows of each (people watching, duration).
//! - `unplayable`: items nobody watching can play, which the playlist then passes.
//!
//! Managers return domain values and publish [`PartyNotice`]s; they never import `realtime`.

mod overview;
mod permissions;
mod playback;
mod presence;
mod unplayable;

pub use overview::PartyOverview;
pub use presence::{Arrival, Departure};

use std::sync::Arc;

use super::{Keys, StoreConnection, StoreError};
use crate::config::SyncSettings;
use crate::domain::{ErrorCode, PartyId};
use crate::sync::PlaybackState;

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
    unplayable_report: Arc<redis::Script>,
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
            unplayable_report: super::scripts::load(super::scripts::UNPLAYABLE_REPORT),
        }
    }

    /// Publishes a frame to every viewer of a party, on every node.
    pub async fn publish(&self, party: PartyId, frame: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("SPUBLISH")
            .arg(self.keys.events(&party.to_string()))
            .arg(frame)
            .exec_async(&mut conn)
            .await?;
        Ok(())
    }
}
