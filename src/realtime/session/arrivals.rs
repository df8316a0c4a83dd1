//! Joining and leaving a party. A person's arrival and departure are announced in the chat
//! once, however many tabs they open; a departure is announced only after a grace period,
//! so a reload (close, then reconnect) announces nothing. Large audiences are not announced.

use std::time::Duration;

use crate::realtime::socket::Socket;

use super::{internal, send, Connection, Exit};
use crate::domain::Subject;
use crate::realtime::protocol::{ServerMessage, You, PROTOCOL_VERSION};

impl Connection {
    /// Records presence, sends `welcome`, tells the party.
    pub(super) async fn arrive(&mut self, socket: &Socket) -> Result<(), Exit> {
        let managers = self.ctx.managers.clone();
        let gone = || Exit::Close {
            reason: self.subject.deleted(),
            send_frame: true,
        };
        // Noted in this node's set first, so the presence is swept should the node die.
        self.ctx
            .node
            .serve(self.party)
            .await
            .map_err(|e| internal(e, "serve"))?;
        let joined = managers
            .party
            .join(self.party, &self.conn_id, &self.entry)
            .await;
        let Some(arrival) = joined.map_err(|e| internal(e, "join"))? else {
            return Err(gone());
        };
        let Some(state) = managers
            .party
            .state(self.party)
            .await
            .map_err(|e| internal(e, "state"))?
        else {
            return Err(gone());
        };
        let Some(permissions) = managers
            .party
            .permissions(self.party)
            .await
            .map_err(|e| internal(e, "permissions"))?
        else {
            return Err(gone());
        };
        let (viewers, people) = self.viewer_list().await?;
        let chat = managers
            .chat
            .history(self.party)
            .await
            .map_err(|e| internal(e, "chat"))?;
        let (video, playlist) = match &self.subject {
            Subject::Video(v) => (Some(v.info()), None),
            Subject::Playlist(p) => (
                None,
                Some(
                    managers
                        .playlists
                        .view(p)
                        .await
                        .map_err(|e| internal(e, "playlist"))?,
                ),
            ),
        };
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            conn_id: self.conn_id.clone(),
            you: You {
                user_id: self.user.id,
                name: self.user.name.clone(),
            },
            can_control: permissions.can_control(self.user.id),
            server_ms: managers.clock.now_ms(),
            state,
            viewers,
            people,
            video,
            playlist,
            permissions,
            chat,
        };
        send(socket, &welcome)?;
        self.ctx.roster.touch(self.party);
        if arrival.first_connection
            && !arrival.returning
            && arrival.people <= self.ctx.chat.announce_max_people
        {
            self.system_line(&format!("{} joined", self.user.name))
                .await;
        }
        Ok(())
    }

    /// Removes presence and tells the party; announces the departure after the grace period
    /// if the person has not come back by then.
    pub(super) async fn depart(&mut self) {
        let managers = self.ctx.managers.clone();
        let party = self.party;
        let departure = match managers
            .party
            .leave(party, &self.conn_id, self.user.id)
            .await
        {
            Ok(departure) => departure,
            Err(err) => {
                tracing::warn!(error = %err, %party, "could not remove presence");
                return;
            }
        };
        self.ctx.roster.touch(party);
        if self.entry.holds_party() {
            // The party may have been waiting for this connection alone.
            self.resume_if_all_ready().await;
        }
        let Some(at) = departure.recorded_at else {
            return;
        };
        if departure.people >= self.ctx.chat.announce_max_people {
            return;
        }
        let (user, name) = (self.user.id, self.user.name.clone());
        let grace = Duration::from_secs(self.ctx.chat.departure_grace_secs);
        actix_web::rt::spawn(async move {
            tokio::time::sleep(grace).await;
            // Still the same departure on record: the person did not come back.
            if matches!(
                managers.party.settle_departure(party, user, at).await,
                Ok(true)
            ) {
                let _ = managers.chat.system(party, &format!("{name} left")).await;
            }
        });
    }

    /// Posts a system line; a failure is logged, never fatal.
    pub(super) async fn system_line(&self, text: &str) {
        if let Err(err) = self.ctx.managers.chat.system(self.party, text).await {
            tracing::warn!(error = %err, party = %self.party, "could not post a system line");
        }
    }
}
