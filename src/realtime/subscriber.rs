//! The node's subscriptions: one sharded channel per party this node has viewers of.
//!
//! A session [`acquire`](Subscriptions::acquire)s its party's channel before it reads the
//! party's state (so no event falls between the two) and releases it when it ends; the
//! channel is subscribed while any local viewer holds it, and unsubscribed once it has been
//! unheld for [`LINGER`] (a reload does not cost a round of unsubscribing and subscribing).
//! Nothing is received for parties this node does not serve.
//!
//! Pub/sub is at-most-once, so whenever a subscription may have missed something its viewers
//! resync from the stored state:
//! - the connection is lost (a `Disconnection` push, or a PING unanswered for
//!   `[redis] ping_timeout_ms`, checked every `[redis] probe_interval_ms`): a new one is
//!   opened, every held channel subscribed again, every local viewer resynced;
//! - Redis drops one channel by itself (on a Redis Cluster, when the channel's slot moves to
//!   another shard it sends an unsolicited `sunsubscribe`, and the client library does not
//!   subscribe again): the channel is subscribed again, on the shard that now owns it, and
//!   its party's viewers resynced.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use redis::{PushInfo, PushKind, RedisError, Value};
use tokio::sync::{mpsc, oneshot};

use super::{Event, Hub};
use crate::domain::PartyId;
use crate::managers::store::{PubSubConnector, PubSubLink};
use crate::managers::{Keys, StoreHealth, StoreStatus};

/// First pause before opening the connection again.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between attempts to open it again.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long a channel no local viewer holds stays subscribed.
pub const LINGER: Duration = Duration::from_secs(5);

/// The handle sessions use. Cheap to clone.
#[derive(Clone)]
pub struct Subscriptions {
    requests: mpsc::UnboundedSender<Request>,
    /// Longest wait for a subscription to be confirmed.
    timeout: Duration,
}

enum Request {
    Acquire(PartyId, oneshot::Sender<bool>),
    Release(PartyId),
    Held(oneshot::Sender<HashSet<PartyId>>),
}

impl Subscriptions {
    /// Holds the party's channel: true once it is subscribed (events published from now on
    /// reach this node), false when Redis could not be reached in time.
    pub async fn acquire(&self, party: PartyId) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(Request::Acquire(party, tx)).is_err() {
            return false;
        }
        let held = matches!(tokio::time::timeout(self.timeout, rx).await, Ok(Ok(true)));
        if !held {
            // Counted by the subscriber even so: give it back.
            self.release(party);
        }
        held
    }

    /// The parties whose channel is held or lingers; `None` if the subscriber is gone.
    pub async fn held(&self) -> Option<HashSet<PartyId>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Request::Held(tx)).ok()?;
        rx.await.ok()
    }

    /// Gives back what [`acquire`](Self::acquire) took (whatever it answered).
    pub fn release(&self, party: PartyId) {
        let _ = self.requests.send(Request::Release(party));
    }
}

/// Opens the subscription connection (so a node that cannot subscribe does not start), then
/// keeps the subscriptions in a background task.
pub async fn start(
    connector: PubSubConnector,
    health: StoreHealth,
    keys: Keys,
    hub: Arc<Hub>,
) -> Result<Subscriptions, RedisError> {
    let (link, pushes) = connector.open().await?;
    let (tx, requests) = mpsc::unbounded_channel();
    let timeout = connector.command_timeout() * 2 + connector.ping_timeout();
    let subscriber = Subscriber {
        connector,
        health,
        keys,
        hub,
        link,
        pushes,
        channels: HashMap::new(),
        pending: FuturesUnordered::new(),
    };
    tokio::spawn(subscriber.run(requests));
    Ok(Subscriptions {
        requests: tx,
        timeout,
    })
}

/// One party's channel.
#[derive(Default)]
struct Channel {
    /// Local viewers holding it.
    held: usize,
    /// Confirmed by Redis, and not dropped since.
    subscribed: bool,
    /// A subscribe command is on its way.
    subscribing: bool,
    /// Its viewers resync once it is subscribed again.
    resync: bool,
    /// Sessions waiting for the confirmation.
    waiters: Vec<oneshot::Sender<bool>>,
    /// When the last holder let go.
    unheld_since: Option<Instant>,
}

type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = (PartyId, bool)> + Send>>;

struct Subscriber {
    connector: PubSubConnector,
    health: StoreHealth,
    keys: Keys,
    hub: Arc<Hub>,
    link: PubSubLink,
    pushes: mpsc::UnboundedReceiver<PushInfo>,
    channels: HashMap<PartyId, Channel>,
    /// Subscribe commands on their way.
    pending: FuturesUnordered<Pending>,
}

impl Subscriber {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        let mut check = tokio::time::interval(self.connector.probe_interval());
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(Request::Acquire(party, done)) => self.acquire(party, done),
                    Some(Request::Release(party)) => self.release(party),
                    Some(Request::Held(answer)) => {
                        let _ = answer.send(self.channels.keys().copied().collect());
                    }
                    None => return,
                },
                push = self.pushes.recv() => match push {
                    Some(push) => {
                        if !self.on_push(push) {
                            self.reconnect().await;
                        }
                    }
                    None => self.reconnect().await,
                },
                Some((party, ok)) = self.pending.next() => self.confirmed(party, ok),
                _ = check.tick() => {
                    if !self.ping().await {
                        self.reconnect().await;
                    }
                    self.drop_unheld();
                }
            }
        }
    }

    fn acquire(&mut self, party: PartyId, done: oneshot::Sender<bool>) {
        let channel = self.channels.entry(party).or_default();
        channel.held += 1;
        channel.unheld_since = None;
        if channel.subscribed {
            let _ = done.send(true);
            return;
        }
        channel.waiters.push(done);
        if !channel.subscribing {
            self.subscribe(party);
        }
    }

    fn release(&mut self, party: PartyId) {
        if let Some(channel) = self.channels.get_mut(&party) {
            channel.held = channel.held.saturating_sub(1);
            if channel.held == 0 {
                channel.unheld_since = Some(Instant::now());
            }
        }
    }

    /// Sends a subscribe command for the party's channel; its outcome comes back through
    /// `pending`.
    fn subscribe(&mut self, party: PartyId) {
        if let Some(channel) = self.channels.get_mut(&party) {
            channel.subscribing = true;
        }
        let mut link = self.link.clone();
        let name = self.keys.events(&party.to_string());
        let timeout = self.connector.command_timeout();
        self.pending.push(Box::pin(async move {
            let done = tokio::time::timeout(timeout, link.ssubscribe(&name)).await;
            if let Ok(Err(err)) = &done {
                tracing::warn!(error = %err, %party, "cannot subscribe to the party's events");
            }
            (party, matches!(done, Ok(Ok(()))))
        }));
    }

    fn confirmed(&mut self, party: PartyId, ok: bool) {
        let Some(channel) = self.channels.get_mut(&party) else {
            return;
        };
        channel.subscribing = false;
        channel.subscribed = ok;
        for waiter in channel.waiters.drain(..) {
            let _ = waiter.send(ok);
        }
        if ok && std::mem::take(&mut channel.resync) {
            self.hub.viewer_lists.forget(party);
            self.hub.post_party(party, Event::Resync);
        }
        if !ok && channel.held == 0 {
            self.channels.remove(&party);
        }
        self.count();
    }

    /// Tells the metrics how many channels are subscribed.
    fn count(&self) {
        let subscribed = self.channels.values().filter(|c| c.subscribed).count();
        self.hub.metrics.subscriptions.set(subscribed as i64);
    }

    /// Handles a push; false when the connection is lost.
    fn on_push(&mut self, push: PushInfo) -> bool {
        match push.kind {
            PushKind::SMessage | PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(channel), Some(payload)) = (data.next(), data.next()) else {
                    return true;
                };
                let (Some(channel), Some(payload)) = (text(channel), text(payload)) else {
                    tracing::warn!("unreadable party event");
                    return true;
                };
                if let Some(party) = self
                    .keys
                    .party_of_channel(&channel)
                    .and_then(PartyId::parse)
                {
                    self.hub.dispatch(party, payload);
                }
                true
            }
            PushKind::SUnsubscribe => {
                let channel = push.data.into_iter().next().and_then(text);
                if let Some(party) = channel
                    .as_deref()
                    .and_then(|c| self.keys.party_of_channel(c))
                    .and_then(PartyId::parse)
                {
                    self.dropped(party);
                }
                true
            }
            PushKind::Disconnection => false,
            _ => true,
        }
    }

    /// Redis dropped a channel: when it is still wanted, it was not this node's doing (its
    /// slot moved), so it is subscribed again and its viewers resynced.
    fn dropped(&mut self, party: PartyId) {
        let Some(channel) = self.channels.get_mut(&party) else {
            return;
        };
        if channel.held == 0 && channel.unheld_since.is_none() {
            return;
        }
        tracing::info!(%party, "the party's channel was dropped by Redis; subscribing again");
        self.hub.metrics.resubscribes.inc();
        channel.subscribed = false;
        channel.resync = true;
        if !channel.subscribing {
            self.subscribe(party);
        }
    }

    /// Whether the connection answers a PING in time.
    async fn ping(&mut self) -> bool {
        let ping = tokio::time::timeout(self.connector.ping_timeout(), self.link.ping()).await;
        match ping {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "the party event subscription failed");
                false
            }
            Err(_) => {
                tracing::warn!("the party event subscription does not answer");
                false
            }
        }
    }

    /// Unsubscribes the channels nobody here has held for [`LINGER`].
    fn drop_unheld(&mut self) {
        let now = Instant::now();
        let idle: Vec<PartyId> = self
            .channels
            .iter()
            .filter(|(_, c)| {
                c.held == 0 && !c.subscribing && c.unheld_since.is_some_and(|t| now - t >= LINGER)
            })
            .map(|(party, _)| *party)
            .collect();
        for party in &idle {
            self.channels.remove(party);
            let mut link = self.link.clone();
            let name = self.keys.events(&party.to_string());
            let timeout = self.connector.command_timeout();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(timeout, link.sunsubscribe(&name)).await;
            });
        }
        if !idle.is_empty() {
            self.count();
        }
    }

    /// Opens a new connection (retrying with a backoff), subscribes every held channel again
    /// and resyncs every local viewer.
    async fn reconnect(&mut self) {
        tracing::warn!("party event subscription lost; reconnecting");
        let mut backoff = MIN_BACKOFF;
        loop {
            match self.connector.open().await {
                Ok((link, pushes)) => {
                    self.link = link;
                    self.pushes = pushes;
                    if self.resubscribe_all().await {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot reach Redis for party events; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        // Sessions reread the state through the shared connection: wait until it answers
        // again, or their resync would fail in turn.
        while self.health.check().await == StoreStatus::Down {
            tokio::time::sleep(MIN_BACKOFF).await;
        }
        tracing::info!("party event subscription restored");
        self.hub.metrics.resubscribes.inc();
        self.count();
        self.hub.viewer_lists.clear();
        self.hub.broadcast_all(Event::Resync);
    }

    /// Subscribes every channel still wanted on the new connection; false if one failed.
    async fn resubscribe_all(&mut self) -> bool {
        // Commands of the old connection are moot.
        self.pending = FuturesUnordered::new();
        self.channels
            .retain(|_, c| c.held > 0 || c.unheld_since.is_some());
        let timeout = self.connector.command_timeout();
        let parties: Vec<PartyId> = self.channels.keys().copied().collect();
        for party in parties {
            let name = self.keys.events(&party.to_string());
            let done = tokio::time::timeout(timeout, self.link.ssubscribe(&name)).await;
            if !matches!(done, Ok(Ok(()))) {
                return false;
            }
            if let Some(channel) = self.channels.get_mut(&party) {
                channel.subscribed = true;
                channel.subscribing = false;
                channel.resync = false;
                for waiter in channel.waiters.drain(..) {
                    let _ = waiter.send(true);
                }
            }
        }
        true
    }
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}
