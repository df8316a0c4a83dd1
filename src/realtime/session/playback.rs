//! Playback: commands (play, pause, seek, rate, skip, jump, ended) applied by the store,
//! their system lines, refusals in words, and the duration and title a player reports.

use std::time::Instant;

use super::{internal, send, Connection, Exit};
use crate::domain::{ErrorCode, Subject, VideoTitle};
use crate::managers::{Announcement, CommandResult};
use crate::realtime::protocol::ServerMessage;
use crate::realtime::socket::Socket;
use crate::sync::{Command, PlaybackState};

/// What the viewer hears when the store refuses a command: the refusals a person can cause
/// keep their code, with words they understand; any other (a malformed command that slipped
/// through) is `refused`.
fn refusal(code: ErrorCode) -> (ErrorCode, &'static str) {
    let words = match code {
        ErrorCode::Forbidden => "Only the host and the viewers they promote can control playback.",
        ErrorCode::EmptyPlaylist => "This playlist is empty. Add something to it first.",
        ErrorCode::LastItem => "This is the last item of the playlist.",
        ErrorCode::NoSuchItem => "That item is not in the playlist.",
        ErrorCode::NotAPlaylist => "This party plays a single video.",
        ErrorCode::InvalidPosition => "That position lies beyond the end of the media.",
        _ => return (ErrorCode::Refused, "The command was refused."),
    };
    (code, words)
}

impl Connection {
    /// Applies a command; `id`, the client's `cmd_id`, makes a retry of it a no-op.
    pub(super) async fn command(
        &mut self,
        socket: &Socket,
        command: Command,
        id: Option<&str>,
    ) -> Result<(), Exit> {
        let arrived = Instant::now();
        let line = self.line_for(command);
        let result = self
            .ctx
            .managers
            .party
            .apply(
                self.party,
                command,
                self.user.id,
                &self.user.name,
                line.as_ref(),
                id,
            )
            .await;
        match result {
            Ok(CommandResult::Applied {
                changed: did_change,
                state,
                frame,
            }) => {
                if did_change {
                    let name = command.script_args().0;
                    self.ctx.metrics.command_published(name, arrived.elapsed());
                    self.announce(command, &state).await;
                    Ok(())
                } else if command.is_control() {
                    // Nothing changed and nothing was published; the sender still learns the
                    // state, in case its player had wandered off.
                    if socket.send(frame) {
                        Ok(())
                    } else {
                        Err(Exit::Gone)
                    }
                } else {
                    Ok(())
                }
            }
            Ok(CommandResult::Refused(code)) => {
                let (code, words) = refusal(code);
                send(socket, &ServerMessage::error(code, words))
            }
            Ok(CommandResult::Gone) => Err(Exit::Close {
                reason: self.subject.deleted(),
                send_frame: true,
            }),
            Err(err) => Err(internal(err, "command")),
        }
    }

    /// The system line posted with a control action ("Ana paused at 12:03"), in the same
    /// step as the action; the position is the one the action leaves.
    pub(super) fn line_for(&self, command: Command) -> Option<Announcement> {
        let name = &self.user.name;
        let (text, with_position) = match command {
            Command::Play => (format!("{name} played from "), true),
            Command::Pause { .. } => (format!("{name} paused at "), true),
            Command::Seek { .. } => (format!("{name} jumped to "), true),
            Command::Rate { rate } => (format!("{name} set the speed to {rate}×"), false),
            _ => return None,
        };
        Some(Announcement {
            text,
            with_position,
        })
    }

    /// The system line for a change of item, which names the item it switched to.
    pub(super) async fn announce(&self, command: Command, state: &PlaybackState) {
        let line = match command {
            Command::Skip | Command::Jump { .. } => format!(
                "{} switched to {}",
                self.user.name,
                self.item_title(&state.media).await
            ),
            Command::Ended { .. } if state.paused => "The playlist has ended".to_owned(),
            Command::Ended { .. } => format!("Now playing {}", self.item_title(&state.media).await),
            _ => return,
        };
        self.system_line(&line).await;
    }

    pub(super) async fn item_title(&self, media: &str) -> String {
        let Subject::Playlist(playlist) = &self.subject else {
            return String::from("the video");
        };
        let id = media
            .strip_prefix("item:")
            .and_then(|i| i.parse::<u64>().ok());
        match self.ctx.managers.playlists.items(playlist.id).await {
            Ok(items) => items
                .into_iter()
                .find(|i| Some(i.id) == id)
                .map(|i| format!("“{}”", i.title)),
            Err(_) => None,
        }
        .unwrap_or_else(|| "the next item".into())
    }

    /// A command the server issues on the party's behalf; failures are logged.
    pub(super) async fn server_command(&self, command: Command) {
        let result = self
            .ctx
            .managers
            .party
            .apply(self.party, command, 0, &self.user.name, None, None)
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, party = %self.party, ?command, "server command failed");
        }
    }

    /// A player learned the media's duration (and maybe its title). Who may send it and what
    /// it may change (docs/protocol.md, "Reports"): a duration outside the plausible range
    /// is refused; otherwise only the first report about the media playing now, from a
    /// viewer who may control, sets the duration, and its title replaces only an automatic
    /// one. Anything else is ignored without an error, since pages send these by themselves.
    pub(super) async fn media_info(
        &mut self,
        socket: &Socket,
        duration_ms: f64,
        title: Option<&str>,
        media: Option<&str>,
    ) -> Result<(), Exit> {
        let party = self.ctx.managers.party.clone();
        let duration = match Command::duration(duration_ms, party.min_duration_ms()) {
            Ok(duration) => duration,
            Err(err) => return send(socket, &ServerMessage::error(err.code(), err.to_string())),
        };
        let result = party
            .report_duration(self.party, duration, media, self.user.id, &self.user.name)
            .await;
        match result {
            Ok(CommandResult::Applied { .. }) => {}
            Ok(CommandResult::Refused(code)) => {
                let message = format!("the duration report was refused ({code})");
                return send(
                    socket,
                    &ServerMessage::error(ErrorCode::InvalidDuration, message),
                );
            }
            Ok(CommandResult::Gone) => {
                return Err(Exit::Close {
                    reason: self.subject.deleted(),
                    send_frame: true,
                })
            }
            Err(err) => {
                tracing::error!(error = ?err, party = %self.party, "duration report failed");
                return Ok(());
            }
        }
        match party.permissions(self.party).await {
            Ok(Some(permissions)) if permissions.can_control(self.user.id) => {
                self.adopt_title(title).await
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = ?err, "cannot read permissions"),
        }
        Ok(())
    }

    pub(super) async fn adopt_title(&mut self, title: Option<&str>) {
        let Subject::Video(video) = &self.subject else {
            return;
        };
        let Some(title) = title.and_then(|t| VideoTitle::parse(t, self.ctx.max_title_chars).ok())
        else {
            return;
        };
        match self
            .ctx
            .managers
            .videos
            .adopt_player_title(video, &title)
            .await
        {
            Ok(Some(video)) => self.subject = Subject::Video(video),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = ?err, "could not store the player's title"),
        }
    }
}
