//! The node registry: which server processes are alive, which parties each has served, and
//! the sweeping of what a dead one left behind.
//!
//! A node registers under an id of its own (new at every start) and an epoch handed out by
//! Redis, and keeps a heartbeat key alive (`[nodes] dead_after_ms`). A node whose key expired
//! is buried by the sweeper: it leaves the index, so its heartbeats are refused from then on
//! (a node that stalled and wakes up cannot write over what was decided without it), and the
//! presence it recorded is removed from every party it served. Before a node records a
//! viewer in a party it notes the party in its set, so the sweeper knows where to look.

use std::sync::Arc;

use redis::AsyncCommands;

use super::{Keys, StoreConnection, StoreError};
use crate::domain::{PartyId, UserId};

/// Registers nodes, keeps them alive, sweeps the dead.
#[derive(Clone)]
pub struct NodesManager {
    conn: StoreConnection,
    keys: Keys,
    register: Arc<redis::Script>,
    heartbeat: Arc<redis::Script>,
    bury: Arc<redis::Script>,
    sweep: Arc<redis::Script>,
}

/// A person a sweep removed from a party with their last connection.
#[derive(Debug, Clone)]
pub struct Swept {
    pub user: UserId,
    pub name: String,
    /// When their departure was recorded (ms), if the party still exists.
    pub recorded_at: Option<u64>,
}

/// What sweeping one party found.
#[derive(Debug, Clone, Default)]
pub struct PartySweep {
    /// Connections removed.
    pub removed: usize,
    /// Whether a remaining connection still holds the party.
    pub held: bool,
    pub gone: Vec<Swept>,
}

impl NodesManager {
    pub fn new(conn: StoreConnection, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            register: super::scripts::load(super::scripts::NODE_REGISTER),
            heartbeat: super::scripts::load(super::scripts::NODE_HEARTBEAT),
            bury: super::scripts::load(super::scripts::NODE_BURY),
            sweep: super::scripts::load(super::scripts::PRESENCE_SWEEP),
        }
    }

    /// Registers node `id`, alive for `ttl_ms`; its epoch.
    pub async fn register(&self, id: &str, ttl_ms: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Ok(self
            .register
            .key(self.keys.node(id))
            .key(self.keys.node_index())
            .key(self.keys.node_epoch())
            .arg(id)
            .arg(ttl_ms)
            .invoke_async(&mut conn)
            .await?)
    }

    /// Keeps the node alive for another `ttl_ms`; false when it has been fenced off.
    pub async fn heartbeat(&self, id: &str, epoch: u64, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let alive: i64 = self
            .heartbeat
            .key(self.keys.node(id))
            .key(self.keys.node_index())
            .arg(id)
            .arg(epoch)
            .arg(ttl_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(alive == 1)
    }

    /// Notes that node `id` is about to record viewers of `party`.
    pub async fn serve(&self, id: &str, party: PartyId) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.sadd::<_, _, ()>(self.keys.node_parties(id), party.to_string())
            .await?;
        Ok(())
    }

    /// Node `id` holds no viewers of `party` any more.
    pub async fn unserve(&self, id: &str, party: PartyId) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.srem::<_, _, ()>(self.keys.node_parties(id), party.to_string())
            .await?;
        Ok(())
    }

    /// A node leaving on purpose, its viewers gone: it leaves no trace.
    pub async fn deregister(&self, id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .del(self.keys.node(id))
            .hdel(self.keys.node_index(), id)
            .del(self.keys.node_parties(id))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Takes (or keeps) the sweeper's turn for `ttl_ms`; true when it is `id`'s.
    pub async fn claim_sweeper(&self, id: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.sweeper();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(id)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut conn)
            .await?;
        if taken.is_some() {
            return Ok(true);
        }
        let holder: Option<String> = conn.get(&key).await?;
        if holder.as_deref() == Some(id) {
            conn.pexpire::<_, ()>(&key, ttl_ms as i64).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Buries every registered node whose heartbeat expired; the ids buried now.
    pub async fn bury_dead(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let index: Vec<String> = conn.hkeys(self.keys.node_index()).await?;
        let mut buried = Vec::new();
        for id in index {
            let now_dead: i64 = self
                .bury
                .key(self.keys.node(&id))
                .key(self.keys.node_index())
                .key(self.keys.buried())
                .arg(&id)
                .invoke_async(&mut conn)
                .await?;
            if now_dead == 1 {
                buried.push(id);
            }
        }
        Ok(buried)
    }

    /// Nodes buried within the last `keep_ms` (older ones are forgotten now).
    pub async fn buried(&self, keep_ms: u64) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let now = super::now_ms();
        let key = self.keys.buried();
        let old: Vec<String> = conn
            .zrangebyscore(&key, 0, now.saturating_sub(keep_ms))
            .await?;
        for id in &old {
            redis::pipe()
                .atomic()
                .zrem(&key, id)
                .del(self.keys.node_parties(id))
                .query_async::<()>(&mut conn)
                .await?;
        }
        Ok(conn.zrange(&key, 0, -1).await?)
    }

    /// The parties a node noted.
    pub async fn parties(&self, id: &str) -> Result<Vec<PartyId>, StoreError> {
        let mut conn = self.conn.clone();
        let noted: Vec<String> = conn.smembers(self.keys.node_parties(id)).await?;
        Ok(noted.iter().filter_map(|p| PartyId::parse(p)).collect())
    }

    /// Removes the connections dead node `id` recorded in `party`.
    pub async fn sweep_party(&self, id: &str, party: PartyId) -> Result<PartySweep, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let reply: Vec<redis::Value> = self
            .sweep
            .key(self.keys.party_conns(&p))
            .key(self.keys.party_people(&p))
            .key(self.keys.party_departed(&p))
            .key(self.keys.party_root(party))
            .arg(id)
            .invoke_async(&mut conn)
            .await?;
        let number = |v: &redis::Value| -> u64 { redis::from_redis_value(v).unwrap_or(0) };
        let text = |v: &redis::Value| -> String { redis::from_redis_value(v).unwrap_or_default() };
        let mut sweep = PartySweep {
            removed: reply.first().map(number).unwrap_or(0) as usize,
            held: reply.get(1).map(number).unwrap_or(0) == 1,
            gone: Vec::new(),
        };
        for person in reply.get(2..).unwrap_or_default().chunks_exact(3) {
            let at = number(&person[1]);
            sweep.gone.push(Swept {
                user: number(&person[0]),
                recorded_at: (at > 0).then_some(at),
                name: text(&person[2]),
            });
        }
        Ok(sweep)
    }
}
