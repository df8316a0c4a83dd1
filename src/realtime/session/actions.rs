//! What each client message does once `hello` is done.

use crate::realtime::socket::Socket;

use super::{internal, send, Connection, Exit};
use crate::domain::{
    clean_chat_text, ControlMode, DisplayName, ErrorCode, Subject, VideoTitle, ViewerStatus,
};
use crate::managers::{Announcement, CommandResult, Posted};
use crate::realtime::protocol::{ClientMessage, ServerMessage};
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
    pub(super) async fn on_message(
        &mut self,
        socket: &Socket,
        message: ClientMessage,
    ) -> Result<(), Exit> {
        let allowed = if message.is_command() {
            self.commands.try_take()
        } else {
            socket.allow_message()
        };
        if !allowed {
            return send(
                socket,
                &ServerMessage::error(ErrorCode::RateLimited, "too many messages; wait a moment"),
            );
        }
        let command = match message {
            ClientMessage::Hello { .. } => {
                return send(
                    socket,
                    &ServerMessage::error(ErrorCode::BadMessage, "hello was already received"),
                )
            }
            ClientMessage::Ping { id } => {
                let pong = ServerMessage::Pong {
                    id,
                    server_ms: self.ctx.managers.clock.now_ms(),
                };
                return send(socket, &pong);
            }
            ClientMessage::Buffering => return self.buffering().await,
            ClientMessage::Ready => return self.ready().await,
            ClientMessage::SyncStatus { in_sync } => return self.sync_status(in_sync).await,
            ClientMessage::SetWait { enabled } => return self.set_wait(socket, enabled).await,
            ClientMessage::Chat { text } => return self.chat(socket, &text).await,
            ClientMessage::SetName { name } => return self.set_name(socket, &name).await,
            ClientMessage::ControlMode { mode } => return self.control_mode(socket, mode).await,
            ClientMessage::Promote { user_id } => return self.promote(socket, user_id, true).await,
            ClientMessage::Demote { user_id } => return self.promote(socket, user_id, false).await,
            ClientMessage::Play => Ok(Command::Play),
            ClientMessage::Pause { position_ms } => Command::pause(position_ms, None),
            ClientMessage::Seek { position_ms } => Command::seek(position_ms, None),
            ClientMessage::Rate { rate } => Command::rate(rate),
            ClientMessage::Skip => Ok(Command::Skip),
            ClientMessage::Jump { item_id } => Ok(Command::Jump { item: item_id }),
            ClientMessage::Ended { item_id } => Ok(Command::Ended { item: item_id }),
            ClientMessage::MediaInfo {
                duration_ms,
                title,
                media,
            } => {
                return self
                    .media_info(socket, duration_ms, title.as_deref(), media.as_deref())
                    .await
            }
        };
        match command {
            Ok(command) => self.command(socket, command).await,
            Err(err) => send(socket, &ServerMessage::error(err.code(), err.to_string())),
        }
    }

    async fn command(&mut self, socket: &Socket, command: Command) -> Result<(), Exit> {
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
            )
            .await;
        match result {
            Ok(CommandResult::Applied {
                changed: did_change,
                state,
                frame,
            }) => {
                if did_change {
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
    fn line_for(&self, command: Command) -> Option<Announcement> {
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
    async fn announce(&self, command: Command, state: &PlaybackState) {
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

    async fn item_title(&self, media: &str) -> String {
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

    /// Stores this connection's presence record and republishes the viewer list.
    pub(super) async fn publish_entry(&mut self) -> Result<(), Exit> {
        let party = &self.ctx.managers.party;
        party
            .update_presence(self.party, &self.conn_id, &self.entry)
            .await
            .map_err(|e| internal(e, "status"))?;
        self.ctx.roster.touch(self.party);
        Ok(())
    }

    /// The player waits for data: hold the party for it (if it waits for everyone), and
    /// start the clock after which the party goes on without this viewer.
    async fn buffering(&mut self) -> Result<(), Exit> {
        if self.entry.status == ViewerStatus::Buffering {
            return Ok(());
        }
        self.entry.status = ViewerStatus::Buffering;
        self.entry.left_behind = false;
        self.publish_entry().await?;
        self.stall_deadline = Some(Box::pin(tokio::time::sleep(self.ctx.wait_limit)));
        self.server_command(Command::Hold).await;
        Ok(())
    }

    async fn ready(&mut self) -> Result<(), Exit> {
        if self.entry.status != ViewerStatus::Buffering {
            return Ok(());
        }
        self.entry.status = ViewerStatus::Watching;
        self.entry.left_behind = false;
        self.stall_deadline = None;
        self.publish_entry().await?;
        self.resume_if_all_ready().await;
        Ok(())
    }

    /// The wait limit passed while still buffering: the party goes on without this viewer.
    pub(super) async fn left_behind(&mut self) -> Result<(), Exit> {
        self.stall_deadline = None;
        if self.entry.status != ViewerStatus::Buffering {
            return Ok(());
        }
        self.entry.left_behind = true;
        self.publish_entry().await?;
        self.system_line(&format!(
            "{} is still loading; the party goes on without them",
            self.user.name
        ))
        .await;
        self.resume_if_all_ready().await;
        Ok(())
    }

    async fn sync_status(&mut self, in_sync: bool) -> Result<(), Exit> {
        if self.entry.in_sync == in_sync {
            return Ok(());
        }
        self.entry.in_sync = in_sync;
        self.publish_entry().await
    }

    /// A command the server issues on the party's behalf; failures are logged.
    pub(super) async fn server_command(&self, command: Command) {
        let result = self
            .ctx
            .managers
            .party
            .apply(self.party, command, 0, &self.user.name, None)
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, party = %self.party, ?command, "server command failed");
        }
    }

    /// Resumes a waiting party once no connection holds it any more.
    pub(super) async fn resume_if_all_ready(&self) {
        match self.ctx.managers.party.connections(self.party).await {
            Ok(connections) if !connections.iter().any(|c| c.holds_party()) => {
                self.server_command(Command::Resume).await
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, party = %self.party, "cannot read presence"),
        }
    }

    async fn set_wait(&mut self, socket: &Socket, enabled: bool) -> Result<(), Exit> {
        if !self.owner_only(socket)? {
            return Ok(());
        }
        self.ctx
            .managers
            .party
            .set_wait(self.party, enabled)
            .await
            .map_err(|e| internal(e, "wait"))?;
        if !enabled {
            self.server_command(Command::Resume).await;
        }
        Ok(())
    }

    async fn chat(&mut self, socket: &Socket, text: &str) -> Result<(), Exit> {
        let text = match clean_chat_text(text, self.ctx.chat.max_chars) {
            Ok(text) => text,
            Err(err) => return send(socket, &ServerMessage::error(err.code(), err.to_string())),
        };
        match self
            .ctx
            .managers
            .chat
            .post(self.party, self.user.id, &self.user.name, &text)
            .await
        {
            Ok(Posted::Sent(_)) => Ok(()),
            Ok(Posted::RateLimited(wait)) => {
                let message =
                    format!("You are sending messages quickly. Wait {wait} s, then try again.");
                send(
                    socket,
                    &ServerMessage::error(ErrorCode::ChatRateLimited, message),
                )
            }
            Ok(Posted::Gone) => Err(Exit::Close {
                reason: self.subject.deleted(),
                send_frame: true,
            }),
            Err(err) => {
                tracing::error!(error = ?err, "chat failed");
                send(
                    socket,
                    &ServerMessage::error(
                        ErrorCode::Internal,
                        "the message could not be sent; try again",
                    ),
                )
            }
        }
    }

    async fn set_name(&mut self, socket: &Socket, name: &str) -> Result<(), Exit> {
        let name = match DisplayName::parse(name) {
            Ok(name) => name,
            Err(err) => {
                return send(
                    socket,
                    &ServerMessage::error(ErrorCode::InvalidName, err.to_string()),
                )
            }
        };
        let managers = self.ctx.managers.clone();
        managers
            .users
            .set_name(self.user.id, &name)
            .await
            .map_err(|e| internal(e, "name"))?;
        self.user.name = name.into_string();
        self.entry.name = self.user.name.clone();
        managers
            .party
            .update_presence(self.party, &self.conn_id, &self.entry)
            .await
            .map_err(|e| internal(e, "name"))?;
        self.ctx.roster.touch(self.party);
        Ok(())
    }

    fn owner_only(&self, socket: &Socket) -> Result<bool, Exit> {
        if self.user.id == self.subject.owner() {
            return Ok(true);
        }
        send(
            socket,
            &ServerMessage::error(
                ErrorCode::NotOwner,
                "Only the host can change who may control playback.",
            ),
        )?;
        Ok(false)
    }

    async fn control_mode(&mut self, socket: &Socket, mode: ControlMode) -> Result<(), Exit> {
        if !self.owner_only(socket)? {
            return Ok(());
        }
        self.ctx
            .managers
            .party
            .set_mode(self.party, mode)
            .await
            .map_err(|e| internal(e, "mode"))?;
        let line = match mode {
            ControlMode::Everyone => format!("{} let everyone control playback", self.user.name),
            ControlMode::Promoted => format!(
                "{} now controls playback with the viewers they promote",
                self.user.name
            ),
        };
        self.system_line(&line).await;
        Ok(())
    }

    async fn promote(&mut self, socket: &Socket, user: u64, promoted: bool) -> Result<(), Exit> {
        if !self.owner_only(socket)? {
            return Ok(());
        }
        self.ctx
            .managers
            .party
            .set_controller(self.party, user, promoted)
            .await
            .map_err(|e| internal(e, "promote"))
    }

    /// A player learned the media's duration (and maybe its title). Who may send it and what
    /// it may change (docs/protocol.md, "Reports"): a duration outside the plausible range
    /// is refused; otherwise only the first report about the media playing now, from a
    /// viewer who may control, sets the duration, and its title replaces only an automatic
    /// one. Anything else is ignored without an error, since pages send these by themselves.
    async fn media_info(
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

    async fn adopt_title(&mut self, title: Option<&str>) {
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
