//! Presence: one record per connection (`party:{party}:conns`), summarised per person for
//! the viewer list, and departures recorded so a reload is not taken for a leave.

use std::collections::HashMap;

use redis::AsyncCommands;

use super::PartyManager;
use crate::domain::{summarise, PartyId, PartyNotice, PresenceEntry, UserId, ViewerSummary};
use crate::managers::StoreError;

/// What joining told about the person.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Their only connection to the party now.
    pub first_connection: bool,
    /// They had left moments ago (a reload or a short drop).
    pub returning: bool,
    /// People watching now.
    pub people: usize,
}

/// What leaving told about the person.
#[derive(Debug, Clone, Copy)]
pub struct Departure {
    /// That was their last connection.
    pub last_connection: bool,
    /// People still watching.
    pub people: usize,
    /// When their departure was recorded (their last connection, while the party exists).
    pub recorded_at: Option<u64>,
}

impl PartyManager {
    /// Records a connection. `None` when the party no longer exists.
    pub async fn join(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<Option<Arrival>, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (connections, returning, people): (i64, i64, usize) = self
            .presence_join
            .key(self.keys.party_conns(&p))
            .key(self.keys.party_root(party))
            .key(self.keys.party_people(&p))
            .key(self.keys.party_departed(&p))
            .arg(conn_id)
            .arg(json)
            .arg(entry.user_id)
            .invoke_async(&mut conn)
            .await?;
        if connections == 0 {
            return Ok(None);
        }
        Ok(Some(Arrival {
            first_connection: connections == 1,
            returning: returning == 1,
            people,
        }))
    }

    /// Updates a connection's presence record (only while the party exists).
    pub async fn update_presence(
        &self,
        party: PartyId,
        conn_id: &str,
        entry: &PresenceEntry,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.hset_live(
            party,
            self.keys.party_conns(&party.to_string()),
            conn_id,
            &json,
        )
        .await
    }

    /// Removes a connection; when it was the person's last, their departure is recorded.
    pub async fn leave(
        &self,
        party: PartyId,
        conn_id: &str,
        user: UserId,
    ) -> Result<Departure, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (left, people, at): (i64, usize, u64) = self
            .presence_leave
            .key(self.keys.party_conns(&p))
            .key(self.keys.party_people(&p))
            .key(self.keys.party_departed(&p))
            .key(self.keys.party_root(party))
            .arg(conn_id)
            .arg(user)
            .invoke_async(&mut conn)
            .await?;
        Ok(Departure {
            last_connection: left == 0,
            people,
            recorded_at: (at > 0).then_some(at),
        })
    }

    /// Every connection's presence record.
    pub async fn connections(&self, party: PartyId) -> Result<Vec<PresenceEntry>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: HashMap<String, String> = conn
            .hgetall(self.keys.party_conns(&party.to_string()))
            .await?;
        Ok(raw
            .values()
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect())
    }

    /// The first `limit` people watching, one entry per person, in order of arrival, with
    /// current names; and how many people watch in all.
    pub async fn viewers(
        &self,
        party: PartyId,
        limit: usize,
    ) -> Result<(Vec<ViewerSummary>, usize), StoreError> {
        let entries = self.connections(party).await?;
        self.list_of(entries, limit).await
    }

    /// The first `limit` people of a party's connections, with current names; and how many
    /// people in all.
    pub(super) async fn list_of(
        &self,
        mut entries: Vec<PresenceEntry>,
        limit: usize,
    ) -> Result<(Vec<ViewerSummary>, usize), StoreError> {
        entries.sort_by_key(|e| e.since);
        let mut people = summarise(&entries);
        let total = people.len();
        people.truncate(limit);
        if !people.is_empty() {
            // One read per person: their records lie in different slots.
            let reads = people.iter().map(|person| {
                let mut read = redis::cmd("HGET");
                read.arg(self.keys.user(person.user_id)).arg("name");
                read
            });
            let names: Vec<Option<String>> = self.conn.each(reads).await?;
            for (person, name) in people.iter_mut().zip(names) {
                if let Some(name) = name {
                    person.name = name;
                }
            }
        }
        Ok((people, total))
    }

    /// Publishes the viewer list (its first `limit` people) to every node; returns how many
    /// connections the party has (each gets the list).
    pub async fn publish_viewers(&self, party: PartyId, limit: usize) -> Result<usize, StoreError> {
        let entries = self.connections(party).await?;
        let connections = entries.len();
        let (viewers, people) = self.list_of(entries, limit).await?;
        self.publish(party, &PartyNotice::Viewers { viewers, people }.to_json())
            .await?;
        Ok(connections)
    }

    /// Forgets a recorded departure if it is still the one made at `at_ms` (the person did not
    /// come back since); `true` when it was.
    pub async fn settle_departure(
        &self,
        party: PartyId,
        user: UserId,
        at_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let settled: i64 = self
            .settle_departure
            .key(self.keys.party_departed(&party.to_string()))
            .arg(user)
            .arg(at_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(settled == 1)
    }
}
