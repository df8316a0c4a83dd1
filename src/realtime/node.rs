//! This process as a node of the deployment (`managers/nodes.rs`): its registration and
//! heartbeat, the sweeper's turn, and leaving.
//!
//! - Sessions ask [`Node::serve`] before recording a viewer in a party, so the party is in
//!   this node's set should the node die; parties it no longer holds leave the set.
//! - A heartbeat refused (the node stalled past `[nodes] dead_after_ms` and was buried, or
//!   Redis lost its data) fences the node off: it registers again under a new id and tells
//!   its viewers to reconnect, so their presence is recorded anew instead of written over
//!   what the sweeper decided.
//! - One node at a time sweeps (its turn taken with `SET NX PX`): it buries the nodes whose
//!   heartbeat expired, removes their viewers from each party they served, republishes the
//!   viewer lists, lets a party waiting for one of them go on, and after the departure grace
//!   announces who left. It buries only after its own heartbeats have succeeded for a whole
//!   `dead_after_ms`: after an outage of Redis every node gets that long to be heard again.

use std::collections::HashSet;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use rand::RngCore;

use super::protocol::{CloseReason, ServerMessage};
use super::roster::Roster;
use super::{Event, Hub};
use crate::config::{ChatSettings, NodeSettings};
use crate::domain::PartyId;
use crate::managers::{Managers, NodesManager, StoreError};
use crate::sync::Command;

/// How long a buried node's party set is still swept (writes a stalled node made after it
/// was buried land there).
const BURIED_KEEP: Duration = Duration::from_secs(600);

/// This node.
pub struct Node {
    nodes: NodesManager,
    settings: NodeSettings,
    /// The id and epoch it is registered under now.
    identity: RwLock<Identity>,
    /// Parties in this node's set in Redis. Held across the Redis call that changes it, so a
    /// party is never taken out while a session puts it in.
    served: tokio::sync::Mutex<HashSet<PartyId>>,
    /// Since when all of its heartbeats have succeeded.
    healthy: std::sync::Mutex<Option<Instant>>,
}

#[derive(Clone)]
struct Identity {
    id: Arc<str>,
    epoch: u64,
}

/// A fresh node id: 9 random bytes, URL-safe.
fn new_id() -> Arc<str> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut bytes = [0u8; 9];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes).into()
}

impl Node {
    /// Registers this process as a new node.
    pub async fn register(
        nodes: NodesManager,
        settings: NodeSettings,
    ) -> Result<Arc<Self>, StoreError> {
        let id = new_id();
        let epoch = nodes.register(&id, settings.dead_after_ms).await?;
        tracing::info!(node = %id, epoch, "registered as a node");
        Ok(Arc::new(Self {
            nodes,
            settings,
            identity: RwLock::new(Identity { id, epoch }),
            served: tokio::sync::Mutex::new(HashSet::new()),
            healthy: std::sync::Mutex::new(None),
        }))
    }

    /// The id presence entries carry.
    pub fn id(&self) -> Arc<str> {
        self.identity().id
    }

    fn identity(&self) -> Identity {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Notes `party` in this node's set, once, before a viewer of it is recorded.
    pub async fn serve(&self, party: PartyId) -> Result<(), StoreError> {
        let mut served = self.served.lock().await;
        if !served.contains(&party) {
            self.nodes.serve(&self.id(), party).await?;
            served.insert(party);
        }
        Ok(())
    }

    /// Starts the heartbeat and the sweeper, for as long as the node lives.
    pub fn start(self: &Arc<Self>, work: Work) {
        tokio::spawn(heartbeat(Arc::downgrade(self), work.clone()));
        tokio::spawn(sweeper(Arc::downgrade(self), work));
    }

    /// Leaves the registry (its viewers have gone).
    pub async fn deregister(&self) {
        let id = self.id();
        match self.nodes.deregister(&id).await {
            Ok(()) => tracing::info!(node = %id, "left the node registry"),
            Err(err) => tracing::warn!(error = ?err, "cannot leave the node registry"),
        }
    }

    /// Takes parties no local viewer holds any more out of this node's set. The parties held
    /// are read under the lock: a session that holds a party from then on notes it again.
    async fn forget_unheld(&self, subscriptions: &super::subscriber::Subscriptions) {
        let mut served = self.served.lock().await;
        let Some(held) = subscriptions.held().await else {
            return;
        };
        let unheld: Vec<PartyId> = served.difference(&held).copied().collect();
        let id = self.id();
        for party in unheld {
            if self.nodes.unserve(&id, party).await.is_ok() {
                served.remove(&party);
            }
        }
    }

    /// Registers again under a new id after being fenced off; this node's viewers must
    /// reconnect.
    async fn reregister(&self) -> Result<(), StoreError> {
        let id = new_id();
        let epoch = self
            .nodes
            .register(&id, self.settings.dead_after_ms)
            .await?;
        tracing::warn!(node = %id, epoch, "fenced off; registered again as a new node");
        *self.identity.write().unwrap_or_else(|e| e.into_inner()) = Identity { id, epoch };
        self.served.lock().await.clear();
        Ok(())
    }
}

/// What the node's tasks work with.
#[derive(Clone)]
pub struct Work {
    pub managers: Managers,
    pub hub: Arc<Hub>,
    pub roster: Arc<Roster>,
    pub subscriptions: super::subscriber::Subscriptions,
    pub chat: ChatSettings,
}

/// Keeps the node alive; re-registers it when fenced off; trims its party set.
async fn heartbeat(node: Weak<Node>, work: Work) {
    let Some(interval) = node.upgrade().map(|n| n.settings.heartbeat_interval_ms) else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(interval));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(node) = node.upgrade() else { return };
        let me = node.identity();
        match node
            .nodes
            .heartbeat(&me.id, me.epoch, node.settings.dead_after_ms)
            .await
        {
            Ok(true) => {
                node.healthy_since();
                work.hub.metrics.node_heartbeat();
            }
            Ok(false) => {
                node.unhealthy();
                if node.reregister().await.is_ok() {
                    let reason = CloseReason::ServerShutdown;
                    work.hub.broadcast_all(Event::Close {
                        frame: ServerMessage::closed(reason).to_json().into(),
                        reason,
                    });
                }
            }
            Err(err) => {
                node.unhealthy();
                tracing::warn!(error = ?err, "cannot refresh the node's heartbeat");
            }
        }
        node.forget_unheld(&work.subscriptions).await;
    }
}

impl Node {
    fn healthy_since(&self) {
        let mut since = self.healthy.lock().unwrap_or_else(|e| e.into_inner());
        since.get_or_insert_with(Instant::now);
    }

    fn unhealthy(&self) {
        *self.healthy.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether this node has been heard for a whole `dead_after_ms`.
    fn heard_long_enough(&self) -> bool {
        let since = *self.healthy.lock().unwrap_or_else(|e| e.into_inner());
        since.is_some_and(|t| t.elapsed() >= Duration::from_millis(self.settings.dead_after_ms))
    }
}

/// Takes the sweeper's turn when it is free, and sweeps.
async fn sweeper(node: Weak<Node>, work: Work) {
    let Some(interval) = node.upgrade().map(|n| n.settings.sweep_interval_ms) else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(interval));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(node) = node.upgrade() else { return };
        if let Err(err) = sweep(&node, &work, interval).await {
            tracing::warn!(error = ?err, "the sweep failed");
        }
    }
}

async fn sweep(node: &Node, work: &Work, interval: u64) -> Result<(), StoreError> {
    if !node.heard_long_enough() {
        return Ok(());
    }
    let nodes = &node.nodes;
    if !nodes.claim_sweeper(&node.id(), interval * 3).await? {
        return Ok(());
    }
    for id in nodes.bury_dead().await? {
        tracing::warn!(node = %id, "a node stopped answering; removing its viewers");
    }
    for id in nodes.buried(BURIED_KEEP.as_millis() as u64).await? {
        for party in nodes.parties(&id).await? {
            sweep_party(nodes, work, &id, party).await?;
            nodes.unserve(&id, party).await?;
        }
    }
    Ok(())
}

/// Removes a dead node's viewers from one party and tells the party.
async fn sweep_party(
    nodes: &NodesManager,
    work: &Work,
    dead: &str,
    party: PartyId,
) -> Result<(), StoreError> {
    let swept = nodes.sweep_party(dead, party).await?;
    if swept.removed == 0 {
        return Ok(());
    }
    tracing::info!(%party, node = dead, connections = swept.removed, "swept a dead node's viewers");
    work.roster.touch(party);
    let managers = &work.managers;
    if !swept.held {
        // The party may have been waiting for one of them.
        managers
            .party
            .apply(party, Command::Resume, 0, "", None, None)
            .await?;
    }
    let grace = Duration::from_secs(work.chat.departure_grace_secs);
    for person in swept.gone {
        let Some(at) = person.recorded_at else {
            continue;
        };
        let managers = managers.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            if matches!(
                managers
                    .party
                    .settle_departure(party, person.user, at)
                    .await,
                Ok(true)
            ) {
                let _ = managers
                    .chat
                    .system(party, &format!("{} left", person.name))
                    .await;
            }
        });
    }
    Ok(())
}
