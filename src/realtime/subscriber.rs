//! The node's Redis pub/sub subscription to every party's event channel.
//!
//! Pub/sub is at-most-once: after the subscription is re-established, every local session
//! is told to resync from the stored state. A quiet subscription is checked with a PING
//! every `[redis] probe_interval_ms`, so a connection that died without closing is noticed
//! too, and resubscribing is retried with a backoff of at most [`MAX_BACKOFF`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Event, Hub};
use crate::domain::PartyId;
use crate::managers::store::PubSubConnector;
use crate::managers::{Keys, StoreHealth, StoreStatus};

/// First pause before subscribing again.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between attempts to subscribe again.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Subscribes once (so no event is missed after start), then keeps the subscription alive
/// in a background task.
pub async fn start(
    connector: PubSubConnector,
    health: StoreHealth,
    keys: Keys,
    hub: Arc<Hub>,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let pattern = keys.events_pattern();
    let pubsub = connector.psubscribe(&pattern).await?;
    hub.metrics.subscriptions.inc();
    Ok(tokio::spawn(async move {
        let mut pubsub = Some(pubsub);
        let mut backoff = MIN_BACKOFF;
        loop {
            let current = match pubsub.take() {
                Some(p) => p,
                None => match connector.psubscribe(&pattern).await {
                    Ok(p) => {
                        tracing::info!("party event subscription restored");
                        hub.metrics.subscriptions.inc();
                        hub.metrics.resubscribes.inc();
                        // Sessions reread the state through the shared connection: wait until
                        // it answers again, or their resync would fail in turn.
                        while health.check().await == StoreStatus::Down {
                            tokio::time::sleep(MIN_BACKOFF).await;
                        }
                        hub.viewer_lists.clear();
                        hub.broadcast_all(Event::Resync);
                        backoff = MIN_BACKOFF;
                        p
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot subscribe to party events; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                },
            };
            pump(current, &connector, &keys, &hub).await;
            hub.metrics.subscriptions.dec();
            tracing::warn!("party event subscription lost; reconnecting");
        }
    }))
}

/// Hands every event to the hub until the subscription ends or stops answering PINGs.
async fn pump(pubsub: redis::aio::PubSub, connector: &PubSubConnector, keys: &Keys, hub: &Hub) {
    let (mut sink, mut messages) = pubsub.split();
    let mut check = tokio::time::interval(connector.probe_interval());
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = messages.next() => {
                let Some(msg) = msg else { return };
                let Some(party) = keys
                    .party_of_channel(msg.get_channel_name())
                    .and_then(PartyId::parse)
                else {
                    continue;
                };
                match msg.get_payload::<String>() {
                    Ok(payload) => hub.dispatch(party, payload),
                    Err(err) => tracing::warn!(error = %err, "unreadable party event"),
                }
            }
            _ = check.tick() => {
                let ping = sink.ping::<redis::Value>();
                match tokio::time::timeout(connector.ping_timeout(), ping).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "party event subscription failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("party event subscription does not answer");
                        return;
                    }
                }
            }
        }
    }
}
