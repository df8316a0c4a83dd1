//! The node's Redis pub/sub subscription to every party's event channel.
//!
//! Pub/sub is at-most-once: after the subscription is re-established, every local session
//! is told to resync from the stored state.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Event, Hub};
use crate::managers::{Keys, PartyId};

/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Subscribes once (so no event is missed after start), then keeps the subscription alive
/// in a background task.
pub async fn start(
    client: redis::Client,
    keys: Keys,
    hub: Arc<Hub>,
) -> Result<tokio::task::JoinHandle<()>, redis::RedisError> {
    let pubsub = subscribe(&client, &keys).await?;
    Ok(tokio::spawn(async move {
        let mut pubsub = Some(pubsub);
        let mut backoff = Duration::from_millis(100);
        loop {
            let current = match pubsub.take() {
                Some(p) => p,
                None => match subscribe(&client, &keys).await {
                    Ok(p) => {
                        tracing::info!("party event subscription restored");
                        hub.viewer_lists.clear();
                        hub.broadcast_all(Event::Resync);
                        backoff = Duration::from_millis(100);
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
            let mut messages = current.into_on_message();
            while let Some(msg) = messages.next().await {
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
            tracing::warn!("party event subscription lost; reconnecting");
        }
    }))
}

async fn subscribe(
    client: &redis::Client,
    keys: &Keys,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(keys.events_pattern()).await?;
    Ok(pubsub)
}
