//! The node's subscription connection: sharded pub/sub (`SSUBSCRIBE`), over RESP3, whose
//! messages arrive as pushes on a channel.
//!
//! The same commands serve one Redis (7.0 or later) and a Redis Cluster, where each party's
//! channel lives on the shard of its slot. What neither connection does by itself is
//! noticed by the subscriber (`realtime/subscriber.rs`): a lost connection (a
//! `Disconnection` push, or a PING without answer) and a channel the server dropped when its
//! slot moved (an unsolicited `sunsubscribe`).

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, RedisError};
use tokio::sync::mpsc;

use super::{timed_out, Address, Limits, CLUSTER_RETRIES};

/// Opens subscription connections within the `[redis]` limits. Cheap to clone.
#[derive(Clone)]
pub struct PubSubConnector {
    address: Address,
    limits: Limits,
}

/// One subscription connection. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub enum PubSubLink {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl PubSubConnector {
    pub(super) fn new(address: Address, limits: Limits) -> Self {
        Self { address, limits }
    }

    /// A new connection, and the channel on which its pushes (messages, confirmations,
    /// dropped channels, its loss) arrive.
    pub async fn open(
        &self,
    ) -> Result<(PubSubLink, mpsc::UnboundedReceiver<PushInfo>), RedisError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let open = async {
            match &self.address {
                Address::Single(info) => {
                    let mut info = info.clone();
                    info.redis.protocol = ProtocolVersion::RESP3;
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(self.limits.connect)
                        .set_response_timeout(self.limits.command)
                        .set_push_sender(tx);
                    let client = redis::Client::open(info)?;
                    let conn = client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?;
                    Ok(PubSubLink::Single(conn))
                }
                Address::Cluster(seeds) => {
                    let client = redis::cluster::ClusterClientBuilder::new(seeds.clone())
                        .use_protocol(ProtocolVersion::RESP3)
                        .connection_timeout(self.limits.connect)
                        .response_timeout(self.limits.command)
                        .retries(CLUSTER_RETRIES)
                        .push_sender(tx)
                        .build()?;
                    Ok(PubSubLink::Cluster(client.get_async_connection().await?))
                }
            }
        };
        let link = tokio::time::timeout(self.limits.connect + self.limits.command, open)
            .await
            .unwrap_or_else(|_| Err(timed_out("connecting to Redis")))?;
        Ok((link, rx))
    }

    /// Longest wait for an answer on a subscription connection.
    pub fn command_timeout(&self) -> std::time::Duration {
        self.limits.command
    }

    /// Longest wait for a subscription connection's PING.
    pub fn ping_timeout(&self) -> std::time::Duration {
        self.limits.ping
    }

    /// How often a subscription connection is checked with a PING.
    pub fn probe_interval(&self) -> std::time::Duration {
        self.limits.probe_interval
    }
}

impl PubSubLink {
    /// Subscribes to a sharded channel (on a cluster, on the shard of its slot).
    pub async fn ssubscribe(&mut self, channel: &str) -> Result<(), RedisError> {
        match self {
            Self::Single(c) => redis::cmd("SSUBSCRIBE").arg(channel).exec_async(c).await,
            Self::Cluster(c) => c.ssubscribe(channel).await,
        }
    }

    pub async fn sunsubscribe(&mut self, channel: &str) -> Result<(), RedisError> {
        match self {
            Self::Single(c) => redis::cmd("SUNSUBSCRIBE").arg(channel).exec_async(c).await,
            Self::Cluster(c) => c.sunsubscribe(channel).await,
        }
    }

    /// Whether the connection (on a cluster: every primary) answers a PING.
    pub async fn ping(&mut self) -> Result<(), RedisError> {
        let ping = redis::cmd("PING");
        match self {
            Self::Single(c) => ping.exec_async(c).await,
            Self::Cluster(c) => ping.exec_async(c).await,
        }
    }
}
