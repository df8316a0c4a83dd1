//! Chat messages and display names.

use super::{internal, send, Connection, Exit};
use crate::domain::{clean_chat_text, DisplayName, ErrorCode};
use crate::managers::Posted;
use crate::realtime::protocol::ServerMessage;
use crate::realtime::socket::Socket;

impl Connection {
    pub(super) async fn chat(&mut self, socket: &Socket, text: &str) -> Result<(), Exit> {
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

    pub(super) async fn set_name(&mut self, socket: &Socket, name: &str) -> Result<(), Exit> {
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
}
