//! Who may control: the owner's mode changes, promotions and demotions.

use super::{internal, send, Connection, Exit};
use crate::domain::{ControlMode, ErrorCode};
use crate::realtime::protocol::ServerMessage;
use crate::realtime::socket::Socket;

impl Connection {
    pub(super) fn owner_only(&self, socket: &Socket) -> Result<bool, Exit> {
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

    pub(super) async fn control_mode(
        &mut self,
        socket: &Socket,
        mode: ControlMode,
    ) -> Result<(), Exit> {
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

    pub(super) async fn promote(
        &mut self,
        socket: &Socket,
        user: u64,
        promoted: bool,
    ) -> Result<(), Exit> {
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
}
