//! What each client message does once `hello` is done: the rate limits, then one call
//! into the file of its concern (`playback`, `waiting`, `chat`, `control`, `unplayable`).

use super::{send, Connection, Exit};
use crate::domain::ErrorCode;
use crate::realtime::protocol::{ClientMessage, ServerMessage};
use crate::realtime::socket::Socket;
use crate::sync::Command;

impl Connection {
    pub(super) async fn on_message(
        &mut self,
        socket: &Socket,
        message: ClientMessage,
        command_id: Option<String>,
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
            ClientMessage::Unplayable { item_id, reason } => {
                return self.unplayable(socket, item_id, &reason).await
            }
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
        let handled = match command {
            Ok(command) => self.command(socket, command, command_id.as_deref()).await,
            Err(err) => send(socket, &ServerMessage::error(err.code(), err.to_string())),
        };
        match (handled, command_id) {
            (Ok(()), Some(cmd_id)) => send(socket, &ServerMessage::Done { cmd_id }),
            (handled, _) => handled,
        }
    }
}
