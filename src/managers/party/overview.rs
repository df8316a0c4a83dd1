//! What a list of parties shows of each without joining it (the library): how many people
//! watch now, and the media's duration once a player has reported it. Read-only: it never
//! creates a party's state, and it reads what presence and the command script keep.

use super::PartyManager;
use crate::domain::PartyId;
use crate::managers::StoreError;

/// One party, seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyOverview {
    /// People watching now (a person with several tabs counts once).
    pub watching: usize,
    /// The duration of what the party plays, once a player has reported it.
    pub duration_ms: Option<u64>,
}

impl PartyManager {
    /// The overview of each party, in the order given: one pipeline per party (each party
    /// lies in a slot of its own on a Redis Cluster), all sent at once.
    pub async fn overviews(&self, parties: &[PartyId]) -> Result<Vec<PartyOverview>, StoreError> {
        let reads = parties.iter().map(|party| {
            let p = party.to_string();
            let mut conn = self.conn.clone();
            let mut pipe = redis::pipe();
            pipe.hlen(self.keys.party_people(&p))
                .hget(self.keys.party_state(&p), "duration_ms");
            async move { pipe.query_async::<(usize, Option<String>)>(&mut conn).await }
        });
        let replies = futures_util::future::try_join_all(reads).await?;
        Ok(replies
            .into_iter()
            .map(|(watching, duration)| PartyOverview {
                watching,
                // The state keeps -1 while nobody has reported a duration.
                duration_ms: duration
                    .and_then(|d| d.parse::<f64>().ok())
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| d.round() as u64),
            })
            .collect())
    }
}
