//! The connections to Redis, each bounded in time, so an outage costs a prompt 503 rather
//! than a hanging request.
//!
//! [`StoreConnection`] is the one multiplexed connection every manager clones: on one Redis,
//! a `ConnectionManager` that reconnects by itself; on a Redis Cluster (`address.rs`), a
//! cluster connection that follows the slots from node to node. Either way every call has a
//! timeout, and calls that cannot reach Redis are reported to [`StoreHealth`]. [`connect`]
//! builds it at start, waiting a configured time for Redis to appear; [`PubSubConnector`]
//! opens the node's subscription connection (`pubsub.rs`) with the same limits.

mod address;
mod pubsub;

use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisFuture, Value};

pub use address::Address;
pub use pubsub::{PubSubConnector, PubSubLink};

use super::health::{self, StoreHealth};
use crate::config::RedisSettings;

/// Pause between connection attempts at start.
const STARTUP_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Longest pause between reconnection attempts of the connection manager, in ms.
const RECONNECT_MAX_DELAY_MS: u64 = 1000;
/// How often a cluster call is retried on a redirection or a lost node (within its timeout).
const CLUSTER_RETRIES: u32 = 3;

/// The shared Redis connection: every call fails after `[redis] command_timeout_ms`, waiting
/// for a reconnection included. Cheap to clone.
#[derive(Clone)]
pub struct StoreConnection {
    inner: Backend,
    /// Longest a call may take.
    timeout: Duration,
    /// Told about every call that could not reach Redis.
    health: StoreHealth,
    /// Records the scripts' round trips, when metrics are kept.
    scripts: Option<std::sync::Arc<crate::metrics::ScriptTimer>>,
}

/// One Redis or a Redis Cluster.
#[derive(Clone)]
pub(crate) enum Backend {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Backend {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// What [`connect`] gives: the shared connection and the way to open a subscription.
pub struct Store {
    pub conn: StoreConnection,
    pub pubsub: PubSubConnector,
}

/// Redis could not be reached at start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the Redis URL is not valid")]
    Url(#[source] RedisError),
    #[error("cannot reach Redis at {address} after trying for {secs} s (is it running? `make redis` starts one)")]
    Unreachable {
        address: String,
        secs: u64,
        #[source]
        source: RedisError,
    },
}

/// Connects to Redis, trying again for `[redis] startup_retry_secs`, and starts the health
/// probe. Logs at once when the first attempt fails.
pub async fn connect(settings: &RedisSettings) -> Result<Store, ConnectError> {
    let address = Address::parse(&settings.url).map_err(ConnectError::Url)?;
    let limits = Limits::from(settings);
    let deadline = Instant::now() + Duration::from_secs(settings.startup_retry_secs);
    let mut attempts = 0u32;
    let inner = loop {
        let attempt = open(&address, &limits);
        let failure = match tokio::time::timeout(limits.connect + limits.command, attempt).await {
            Ok(Ok(conn)) => break conn,
            Ok(Err(err)) => err,
            Err(_) => timed_out("connecting to Redis"),
        };
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnectError::Unreachable {
                address: address.describe(),
                secs: settings.startup_retry_secs,
                source: failure,
            });
        }
        if attempts == 1 {
            tracing::warn!(
                error = %failure,
                "cannot reach Redis at {}; retrying for {} s",
                address.describe(),
                settings.startup_retry_secs
            );
        }
        tokio::time::sleep(STARTUP_RETRY_DELAY.min(left)).await;
    };
    if attempts > 0 {
        tracing::info!("reached Redis at {}", address.describe());
    }
    let health = StoreHealth::start(inner.clone(), limits.probe_interval, limits.ping);
    Ok(Store {
        conn: StoreConnection {
            inner,
            timeout: limits.command,
            health,
            scripts: None,
        },
        pubsub: PubSubConnector::new(address, limits),
    })
}

/// One attempt at the shared connection.
async fn open(address: &Address, limits: &Limits) -> Result<Backend, RedisError> {
    match address {
        Address::Single(info) => {
            let client = redis::Client::open(info.clone())?;
            let conn = ConnectionManager::new_with_config(client, limits.manager_config()).await?;
            Ok(Backend::Single(conn))
        }
        Address::Cluster(seeds) => {
            let client = redis::cluster::ClusterClientBuilder::new(seeds.clone())
                .connection_timeout(limits.connect)
                .response_timeout(limits.command)
                .retries(CLUSTER_RETRIES)
                .build()?;
            Ok(Backend::Cluster(client.get_async_connection().await?))
        }
    }
}

/// The time limits of `[redis]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) connect: Duration,
    pub(crate) command: Duration,
    pub(crate) ping: Duration,
    pub(crate) probe_interval: Duration,
}

impl From<&RedisSettings> for Limits {
    fn from(s: &RedisSettings) -> Self {
        Self {
            connect: Duration::from_millis(s.connect_timeout_ms),
            command: Duration::from_millis(s.command_timeout_ms),
            ping: Duration::from_millis(s.ping_timeout_ms),
            probe_interval: Duration::from_millis(s.probe_interval_ms),
        }
    }
}

impl Limits {
    /// The connection manager's own limits. A command issued while it reconnects waits for
    /// the whole reconnection, retries and pauses included, and its first pause is a fixed
    /// 1–2 s; so it makes one attempt per reconnection, and the next call (or the health
    /// probe, every `probe_interval_ms`) starts the next. The capped backoff only matters
    /// if retries are ever raised.
    fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(self.connect)
            .set_response_timeout(self.command)
            .set_number_of_retries(0)
            .set_factor(2)
            .set_max_delay(RECONNECT_MAX_DELAY_MS)
    }
}

pub(crate) fn timed_out(what: &str) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} timed out"),
    ))
}

impl StoreConnection {
    /// Has every script call through this connection (and its clones made afterwards)
    /// recorded by `timer`.
    pub fn time_scripts(&mut self, timer: std::sync::Arc<crate::metrics::ScriptTimer>) {
        self.scripts = Some(timer);
    }

    /// The store's health, which this connection keeps informed.
    pub fn health(&self) -> &StoreHealth {
        &self.health
    }

    /// Whether this is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner, Backend::Cluster(_))
    }

    /// Runs commands that may lie in different slots, each on its own but all at once (on a
    /// Redis Cluster a pipeline must stay within one slot); their answers in order.
    pub async fn each<T: FromRedisValue>(
        &self,
        cmds: impl IntoIterator<Item = Cmd>,
    ) -> Result<Vec<T>, RedisError> {
        let calls = cmds.into_iter().map(|cmd| {
            let mut conn = self.clone();
            async move { cmd.query_async::<T>(&mut conn).await }
        });
        futures_util::future::try_join_all(calls).await
    }

    /// Whether Redis answers a PING within `timeout`. A failure is reported to the health.
    pub async fn ping(&self, timeout: Duration) -> bool {
        let up = health::ping(&mut self.inner.clone(), timeout).await;
        if !up {
            self.health.report_unreachable();
        }
        up
    }

    /// Bounds a call and tells the health about calls that did not reach Redis.
    fn settle<T>(
        &self,
        outcome: Result<Result<T, RedisError>, tokio::time::error::Elapsed>,
    ) -> Result<T, RedisError> {
        let result = outcome.unwrap_or_else(|_| Err(timed_out("a Redis call")));
        if let Err(err) = &result {
            if err.is_io_error() || err.is_timeout() || err.is_connection_dropped() {
                self.health.report_unreachable();
            }
        }
        result
    }
}

impl ConnectionLike for StoreConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let started = Instant::now();
            let call = self.inner.req_packed_command(cmd);
            let outcome = tokio::time::timeout(self.timeout, call).await;
            if let Some(scripts) = &self.scripts {
                scripts.observe(cmd, started.elapsed());
            }
            self.settle(outcome)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let call = self.inner.req_packed_commands(cmd, offset, count);
            let outcome = tokio::time::timeout(self.timeout, call).await;
            self.settle(outcome)
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
