//! A viewer's player cannot play the playlist's current item (`unplayable`). The report is
//! recorded; once every connection watching has made it, nobody here can play the item, and
//! the playlist moves on past it with a chat line that says why.

use super::{internal, send, Connection, Exit};
use crate::domain::{ErrorCode, Subject, UnplayableReason};
use crate::managers::CommandResult;
use crate::realtime::protocol::ServerMessage;
use crate::realtime::socket::Socket;

impl Connection {
    pub(super) async fn unplayable(
        &mut self,
        socket: &Socket,
        item_id: u64,
        reason: &str,
    ) -> Result<(), Exit> {
        let reason = match UnplayableReason::parse(reason) {
            Ok(reason) => reason,
            Err(code) => {
                let words = "an unplayable report names one of the reasons the protocol lists";
                return send(socket, &ServerMessage::error(code, words));
            }
        };
        if !matches!(self.subject, Subject::Playlist(_)) {
            let words = "This party plays a single video.";
            return send(
                socket,
                &ServerMessage::error(ErrorCode::NotAPlaylist, words),
            );
        }
        let party = self.ctx.managers.party.clone();
        let media = format!("item:{item_id}");
        let nobody_can = party
            .report_unplayable(self.party, &self.conn_id, &media)
            .await
            .map_err(|e| internal(e, "unplayable report"))?;
        if !nobody_can {
            return Ok(());
        }
        let title = self.item_title(&media).await;
        let state = match party.pass_unplayable(self.party, item_id).await {
            Ok(CommandResult::Applied { state, .. }) => state,
            Ok(CommandResult::Refused(code)) => {
                tracing::warn!(%code, party = %self.party, "passing an unplayable item was refused");
                return Ok(());
            }
            Ok(CommandResult::Gone) => {
                return Err(Exit::Close {
                    reason: self.subject.deleted(),
                    send_frame: true,
                })
            }
            Err(err) => return Err(internal(err, "passing an unplayable item")),
        };
        let why = format!("Nobody here can play {title}: {}.", reason.words());
        let line = if state.media == media {
            format!("{why} It is the playlist’s last item.")
        } else {
            format!("{why} Now playing {}.", self.item_title(&state.media).await)
        };
        self.system_line(&line).await;
        Ok(())
    }
}
