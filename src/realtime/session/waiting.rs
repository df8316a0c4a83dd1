//! Waiting for everyone: a viewer's buffering, readiness and sync status in its presence
//! record, the party held while anyone buffers, and the wait limit after which it goes on.

use super::{internal, Connection, Exit};
use crate::domain::ViewerStatus;
use crate::realtime::socket::Socket;
use crate::sync::Command;

impl Connection {
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
    pub(super) async fn buffering(&mut self) -> Result<(), Exit> {
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

    pub(super) async fn ready(&mut self) -> Result<(), Exit> {
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

    pub(super) async fn sync_status(&mut self, in_sync: bool) -> Result<(), Exit> {
        if self.entry.in_sync == in_sync {
            return Ok(());
        }
        self.entry.in_sync = in_sync;
        self.publish_entry().await
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

    pub(super) async fn set_wait(&mut self, socket: &Socket, enabled: bool) -> Result<(), Exit> {
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
}
