//! Invite keys and the lifecycle shared by every kind of party root (videos, playlists):
//! resolving a key, rotating it, deleting the root with everything of it.

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

impl InvitesManager {
    pub fn new(conn: StoreConnection, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            rotate: super::scripts::load(super::scripts::ROTATE_INVITE),
            delete: super::scripts::load(super::scripts::DELETE_PARTY),
        }
    }

    /// The party an invite key opens.
    pub async fn resolve(&self, key: &InviteKey) -> Result<Option<PartyId>, StoreError> {
        let mut conn = self.conn.clone();
        let party: Option<String> = conn.get(self.keys.invite(key.as_str())).await?;
        Ok(party.as_deref().and_then(PartyId::parse))
    }

    /// Replaces a party's invite key; viewers on the old key are disconnected.
    pub async fn rotate(&self, party: PartyId) -> Result<Option<InviteKey>, StoreError> {
        let mut conn = self.conn.clone();
        let key = InviteKey::generate();
        let p = party.to_string();
        let done: Option<i64> = self
            .rotate
            .key(self.keys.party_root(party))
            .key(self.keys.invite(key.as_str()))
            .arg(key.as_str())
            .arg(self.keys.invite(""))
            .arg(self.keys.events(&p))
            .arg(PartyNotice::closed(CloseReason::InviteRotated).to_json())
            .arg(&p)
            .invoke_async(&mut conn)
            .await?;
        Ok(done.map(|_| key))
    }

    /// Deletes a party's root, its invite key, its entry in `index` and `extra` keys, then
    /// tells its viewers with `reason`. `false` when it was already gone.
    pub async fn delete(
        &self,
        party: PartyId,
        index: String,
        extra: Vec<String>,
        reason: CloseReason,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let id = match party {
            PartyId::Video(id) => id.0,
            PartyId::Playlist(id) => id.0,
        };
        let mut invocation = self.delete.key(self.keys.party_root(party));
        invocation.key(index);
        for key in self.keys.party_keys(&p).into_iter().chain(extra) {
            invocation.key(key);
        }
        let done: Option<i64> = invocation
            .arg(self.keys.invite(""))
            .arg(id)
            .arg(self.keys.events(&p))
            .arg(PartyNotice::closed(reason).to_json())
            .invoke_async(&mut conn)
            .await?;
        Ok(done.is_some())
    }
}
