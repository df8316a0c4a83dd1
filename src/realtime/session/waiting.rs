//! Waiting for everyone: a viewer's buffering, readiness and sync status in its presence
//! record, the party held while anyone buffers, and the wait limit after which it goes on.
//! A viewer whose stalls held the party for `[sync] stall_budget_secs` within the last
//! `stall_window_secs` is left behind at their next stall: they catch up on their own.

use std::time::Instant;

use super::{internal, Connection, Exit};
use crate::domain::ViewerStatus;
use crate::managers::CommandResult;
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

    /// The player waits for data (or has not loaded yet): hold the party for it, unless
    /// its stalls have held the party too long lately; then it is left behind at once.
    pub(super) async fn buffering(&mut self) -> Result<(), Exit> {
        if self.entry.status == ViewerStatus::Buffering {
            // Reported again: the page still loads as the party starts to play.
            if self.entry.holds_party() && self.stall_deadline.is_none() {
                self.hold().await;
            }
            return Ok(());
        }
        self.entry.status = ViewerStatus::Buffering;
        self.entry.left_behind = self.stalls.remaining(Instant::now()).is_zero();
        self.publish_entry().await?;
        if self.entry.left_behind {
            self.announce_excused().await;
        } else {
            self.hold().await;
        }
        Ok(())
    }

    /// Holds a playing party for this viewer; while it waits, the viewer's stall counts and
    /// the wait limit runs (at most what is left of the viewer's stall budget). A paused
    /// party waits for nobody: a page still loading says so again once the party plays.
    async fn hold(&mut self) {
        let command = self
            .ctx
            .managers
            .party
            .apply(self.party, Command::Hold, 0, &self.user.name, None, None)
            .await;
        match command {
            Ok(CommandResult::Applied { state, .. }) if state.waiting => {}
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(error = %err, party = %self.party, "cannot hold the party");
                return;
            }
        }
        let now = Instant::now();
        let limit = self.ctx.wait_limit.min(self.stalls.remaining(now));
        self.stalls.hold_started(now);
        self.excused = false;
        self.stall_deadline = Some(Box::pin(tokio::time::sleep(limit)));
    }

    pub(super) async fn ready(&mut self) -> Result<(), Exit> {
        if self.entry.status != ViewerStatus::Buffering {
            return Ok(());
        }
        self.entry.status = ViewerStatus::Watching;
        self.entry.left_behind = false;
        self.stall_deadline = None;
        self.stalls.hold_ended(Instant::now());
        self.publish_entry().await?;
        self.resume_if_all_ready().await;
        Ok(())
    }

    /// The wait limit (or the viewer's stall budget) ran out while the party held for
    /// this viewer: the party goes on without them.
    pub(super) async fn left_behind(&mut self) -> Result<(), Exit> {
        self.stall_deadline = None;
        if self.entry.status != ViewerStatus::Buffering {
            return Ok(());
        }
        let now = Instant::now();
        // Earlier stalls spent the budget with this one: a habit, not one long load.
        let habit = self.stalls.held_before(now);
        self.stalls.hold_ended(now);
        self.entry.left_behind = true;
        self.publish_entry().await?;
        if habit {
            self.announce_excused().await;
        } else {
            self.system_line(&format!(
                "{} is still loading; the party goes on without them",
                self.user.name
            ))
            .await;
        }
        self.resume_if_all_ready().await;
        Ok(())
    }

    /// Says once, until the party holds for this viewer again, that it no longer waits for
    /// their stalls.
    async fn announce_excused(&mut self) {
        if std::mem::replace(&mut self.excused, true) {
            return;
        }
        self.system_line(&format!(
            "{}'s video keeps stopping to load, so the party no longer waits for them; \
             they catch up on their own",
            self.user.name
        ))
        .await;
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
