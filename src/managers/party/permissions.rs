//! Who may control a party and whether it waits for everyone; every change is published
//! to its viewers.

use redis::AsyncCommands;

use super::PartyManager;
use crate::domain::{ControlMode, PartyId, PartyNotice, Permissions, UserId};
use crate::managers::StoreError;

impl PartyManager {
    pub async fn permissions(&self, party: PartyId) -> Result<Option<Permissions>, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (owner, mode, wait, controllers): (
            Option<UserId>,
            Option<String>,
            Option<String>,
            Vec<UserId>,
        ) = redis::pipe()
            .hget(self.keys.party_root(party), "owner")
            .hget(self.keys.party_settings(&p), "control")
            .hget(self.keys.party_settings(&p), "wait")
            .smembers(self.keys.party_controllers(&p))
            .query_async(&mut conn)
            .await?;
        let Some(owner_id) = owner else {
            return Ok(None);
        };
        let mode = if mode.as_deref() == Some("promoted") {
            ControlMode::Promoted
        } else {
            ControlMode::Everyone
        };
        let mut controllers = controllers;
        controllers.sort_unstable();
        let wait_for_everyone = wait.as_deref() != Some("0");
        Ok(Some(Permissions {
            mode,
            owner_id,
            controllers,
            wait_for_everyone,
        }))
    }

    /// Changes who may control, then tells every viewer.
    pub async fn set_mode(&self, party: PartyId, mode: ControlMode) -> Result<(), StoreError> {
        let key = self.keys.party_settings(&party.to_string());
        if self.hset_live(party, key, "control", mode.as_str()).await? {
            self.publish_permissions(party).await?;
        }
        Ok(())
    }

    /// Turns "wait for everyone" on or off, then tells every viewer.
    pub async fn set_wait(&self, party: PartyId, enabled: bool) -> Result<(), StoreError> {
        let key = self.keys.party_settings(&party.to_string());
        if self
            .hset_live(party, key, "wait", if enabled { "1" } else { "0" })
            .await?
        {
            self.publish_permissions(party).await?;
        }
        Ok(())
    }

    /// Promotes (`true`) or demotes a viewer, then tells every viewer.
    pub async fn set_controller(
        &self,
        party: PartyId,
        user: UserId,
        promoted: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.party_controllers(&party.to_string());
        if promoted {
            conn.sadd::<_, _, ()>(key, user).await?;
        } else {
            conn.srem::<_, _, ()>(key, user).await?;
        }
        self.publish_permissions(party).await
    }

    pub(super) async fn publish_permissions(&self, party: PartyId) -> Result<(), StoreError> {
        if let Some(permissions) = self.permissions(party).await? {
            self.publish(party, &PartyNotice::Permissions { permissions }.to_json())
                .await?;
        }
        Ok(())
    }

    /// Sets `field` of `key` only while the party exists; `false` when it is gone.
    pub(super) async fn hset_live(
        &self,
        party: PartyId,
        key: String,
        field: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let written: i64 = self
            .hset_live
            .key(key)
            .key(self.keys.party_root(party))
            .arg(field)
            .arg(value)
            .invoke_async(&mut conn)
            .await?;
        Ok(written == 1)
    }
}
