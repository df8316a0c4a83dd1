//! Invite keys and the lifecycle shared by every kind of party (videos, playlists): making a
//! new one known, resolving a key, rotating it, deleting the party with everything of it.
//!
//! A party's record, its invite key and its owner's index lie under three hash tags (three
//! slots on Redis Cluster), so each of these changes is a few single-slot steps, ordered so
//! that a failure half-way leaves nothing anyone can open by mistake: an invite key opens a
//! party only while the party's record names that very key (`Managers::open_invite`), and a
//! library lists only the records that exist.

use std::sync::Arc;

use redis::AsyncCommands;

use super::{Keys, StoreConnection, StoreError};
use crate::domain::{CloseReason, InviteKey, PartyId, PartyNotice};

#[derive(Clone)]
pub struct InvitesManager {
    conn: StoreConnection,
    keys: Keys,
    rotate: Arc<redis::Script>,
    delete: Arc<redis::Script>,
}

/// How many fresh keys rotation tries before giving up on a (vanishingly unlikely) clash.
const ROTATE_ATTEMPTS: usize = 3;

impl InvitesManager {
    pub fn new(conn: StoreConnection, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            rotate: super::scripts::load(super::scripts::ROTATE_INVITE),
            delete: super::scripts::load(super::scripts::DELETE_PARTY),
        }
    }

    /// Makes a party just stored reachable: its invite key, then its entry in its owner's
    /// `index` (scored by `created_ms`).
    pub async fn publish_new(
        &self,
        party: PartyId,
        key: &InviteKey,
        index: &str,
        created_ms: u64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.set::<_, _, ()>(self.keys.invite(key.as_str()), party.to_string())
            .await?;
        let id = match party {
            PartyId::Video(id) => id.0,
            PartyId::Playlist(id) => id.0,
        };
        conn.zadd::<_, _, _, ()>(index, id, created_ms).await?;
        Ok(())
    }

    /// The party an invite key opens.
    pub async fn resolve(&self, key: &InviteKey) -> Result<Option<PartyId>, StoreError> {
        let mut conn = self.conn.clone();
        let party: Option<String> = conn.get(self.keys.invite(key.as_str())).await?;
        Ok(party.as_deref().and_then(PartyId::parse))
    }

    /// Replaces a party's invite key; viewers on the old key are disconnected. `None` when
    /// the party no longer exists.
    pub async fn rotate(&self, party: PartyId) -> Result<Option<InviteKey>, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        for _ in 0..ROTATE_ATTEMPTS {
            let key = InviteKey::generate();
            let invite = self.keys.invite(key.as_str());
            // Claimed first: until the record names it, the new key opens nothing.
            let claimed: bool = redis::cmd("SET")
                .arg(&invite)
                .arg(&p)
                .arg("NX")
                .query_async::<Option<String>>(&mut conn)
                .await?
                .is_some();
            if !claimed {
                continue;
            }
            let old: Option<String> = self
                .rotate
                .key(self.keys.party_root(party))
                .key(self.keys.events(&p))
                .arg(key.as_str())
                .arg(PartyNotice::closed(CloseReason::InviteRotated).to_json())
                .invoke_async(&mut conn)
                .await?;
            let Some(old) = old else {
                conn.del::<_, ()>(&invite).await?;
                return Ok(None);
            };
            conn.del::<_, ()>(self.keys.invite(&old)).await?;
            return Ok(Some(key));
        }
        Err(StoreError::Corrupt(
            "no free invite key after several tries".into(),
        ))
    }

    /// Deletes a party with every key of it, tells its viewers with `reason`, then removes
    /// its invite key and its entry in the owner's `index`. `false` when it was already gone.
    pub async fn delete(
        &self,
        party: PartyId,
        index: String,
        reason: CloseReason,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let mut keys = self.keys.party_keys(&p).into_iter();
        let mut invocation = self.delete.key(keys.next().unwrap_or_default());
        invocation.key(self.keys.events(&p));
        for key in keys {
            invocation.key(key);
        }
        let invite: Option<String> = invocation
            .arg(PartyNotice::closed(reason).to_json())
            .invoke_async(&mut conn)
            .await?;
        let id = match party {
            PartyId::Video(id) => id.0,
            PartyId::Playlist(id) => id.0,
        };
        // Whatever the party's state, the owner's index forgets it.
        conn.zrem::<_, _, ()>(&index, id).await?;
        let Some(invite) = invite else {
            return Ok(false);
        };
        conn.del::<_, ()>(self.keys.invite(&invite)).await?;
        Ok(true)
    }
}
