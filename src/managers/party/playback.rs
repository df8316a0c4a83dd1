//! The playback state: every command goes through one Lua script (`party_command.lua`)
//! that applies it on the Redis clock, stores it and publishes it in one step.

use serde::Deserialize;

use super::{Announcement, CommandResult, PartyManager};
use crate::domain::{ErrorCode, PartyId, UserId};
use crate::managers::StoreError;
use crate::sync::{Command, PlaybackState};

impl PartyManager {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run(
        &self,
        party: PartyId,
        name: &str,
        value: &str,
        user: UserId,
        by: &str,
        line: Option<&Announcement>,
        about: &str,
        command_id: &str,
    ) -> Result<CommandResult, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (items, order) = match party {
            PartyId::Playlist(_) => (self.keys.playlist_items(&p), self.keys.playlist_order(&p)),
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
            .key(self.keys.events(&p))
            .key(self.keys.party_commands(&p))
            .arg(name)
            .arg(value)
            .arg(by)
            .arg(self.sync.play_lead_ms)
            .arg(self.sync.pause_tolerance_ms)
            .arg(command_id)
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
            Err(err) if crate::managers::scripts::refusal(&err).is_some() => {
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
        match self.run(party, "state", "0", 0, "", None, "", "").await? {
            CommandResult::Applied { state, .. } => Ok(Some(state)),
            _ => Ok(None),
        }
    }

    /// Applies a validated command from `user` on the Redis clock; a change is stored and
    /// published in the same step. `line`, if any, is posted to the chat as a system line in
    /// the same step when the command changes something (and carried by the published state).
    /// A command with the `id` (chosen by the sender's page) of one already applied is not
    /// applied again: it is answered with the state as it is.
    pub async fn apply(
        &self,
        party: PartyId,
        command: Command,
        user: UserId,
        by: &str,
        line: Option<&Announcement>,
        id: Option<&str>,
    ) -> Result<CommandResult, StoreError> {
        let (name, value) = command.script_args();
        let id = id.map(|id| format!("{user}:{id}")).unwrap_or_default();
        self.run(party, name, &value, user, by, line, "", &id).await
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
        self.run(party, name, &value, user, by, None, media.unwrap_or(""), "")
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
            "",
        )
        .await
    }
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
