//! A connection gone silent: after `[realtime] away_after_ms` without a frame (the hub marks
//! its socket quiet) the viewer list shows it away and the party stops waiting for it; its
//! next frame brings it back. The heartbeat timeout removes it for good.

use super::{Connection, Exit};

impl Connection {
    /// Records whether this connection is away, and lets a party that waited for it go on.
    pub(super) async fn set_away(&mut self, away: bool) -> Result<(), Exit> {
        let held = self.entry.holds_party();
        self.entry.away = away;
        self.publish_entry().await?;
        if held && !self.entry.holds_party() {
            self.resume_if_all_ready().await;
        }
        Ok(())
    }
}
