//! Items nobody can play: a connection's report that its player cannot play the playlist item
//! the party plays (`unplayable_report.lua`), and moving the playlist on past an item once
//! every connection watching has reported it.

use super::{CommandResult, PartyManager};
use crate::domain::PartyId;
use crate::managers::StoreError;

impl PartyManager {
    /// Records that connection `conn_id` cannot play `media` (`item:{id}`). True when every
    /// connection watching the party has now reported the media it plays (the reports are then
    /// cleared); false otherwise, also when the party plays something else.
    pub async fn report_unplayable(
        &self,
        party: PartyId,
        conn_id: &str,
        media: &str,
    ) -> Result<bool, StoreError> {
        let p = party.to_string();
        let mut conn = self.conn.clone();
        let everyone: i64 = self
            .unplayable_report
            .key(self.keys.party_state(&p))
            .key(self.keys.party_conns(&p))
            .key(self.keys.party_unplayable(&p))
            .arg(conn_id)
            .arg(media)
            .invoke_async(&mut conn)
            .await?;
        Ok(everyone == 1)
    }

    /// Moves a playlist on past `item`, which nobody watching can play, if it still plays:
    /// to the next item, or to a pause after the last.
    pub async fn pass_unplayable(
        &self,
        party: PartyId,
        item: u64,
    ) -> Result<CommandResult, StoreError> {
        let (name, value) = crate::sync::Command::Unplayable { item }.script_args();
        self.run(party, name, &value, 0, "", None, "", "").await
    }
}
