//! The connections to Redis, each bounded in time, so an outage costs a prompt 503 rather
//! than a hanging request.
//!
//! [`StoreConnection`] is the one multiplexed connection every manager clones: a
//! `ConnectionManager` that reconnects by itself, behind a timeout per call that reports
//! calls which cannot reach Redis to [`StoreHealth`]. [`connect`] builds it at start, waiting
//! a configured time for Redis to appear; [`PubSubConnector`] opens the node's event
//! subscription with the same limits.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use super::health::{self, StoreHealth};
use crate::config::RedisSettings;

/// Pause between connection attempts at start.
const STARTUP_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Longest pause between reconnection attempts of the connection manager, in ms.
const RECONNECT_MAX_DELAY_MS: u64 = 1000;

/// The shared Redis connection: every call fails after `[redis] command_timeout_ms`, waiting
/// for a reconnection included. Cheap to clone.
#[derive(Clone)]
pub struct StoreConnection {
    inner: ConnectionManager,
    /// Longest a call may take.
    timeout: Duration,
    /// Told about every call that could not reach Redis.
    health: StoreHealth,
    /// Records the scripts' round trips, when metrics are kept.
    scripts: Option<std::sync::Arc<crate::metrics::ScriptTimer>>,
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
    let client = redis::Client::open(settings.url.as_str()).map_err(ConnectError::Url)?;
    // The address only: the URL may carry a password.
    let address = client.get_connection_info().addr.to_string();
    let limits = Limits::from(settings);
    let deadline = Instant::now() + Duration::from_secs(settings.startup_retry_secs);
    let mut attempts = 0u32;
    let inner = loop {
        let attempt = ConnectionManager::new_with_config(client.clone(), limits.manager_config());
        let failure = match tokio::time::timeout(limits.connect + limits.command, attempt).await {
            Ok(Ok(conn)) => break conn,
            Ok(Err(err)) => err,
            Err(_) => timed_out("connecting to Redis"),
        };
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnectError::Unreachable {
                address,
                secs: settings.startup_retry_secs,
                source: failure,
            });
        }
        if attempts == 1 {
            tracing::warn!(
                error = %failure,
                "cannot reach Redis at {address}; retrying for {} s",
                settings.startup_retry_secs
            );
        }
        tokio::time::sleep(STARTUP_RETRY_DELAY.min(left)).await;
    };
    if attempts > 0 {
        tracing::info!("reached Redis at {address}");
    }
    let health = StoreHealth::start(inner.clone(), limits.probe_interval, limits.ping);
    Ok(Store {
        conn: StoreConnection {
            inner,
            timeout: limits.command,
            health,
            scripts: None,
        },
        pubsub: PubSubConnector { client, limits },
    })
}

/// The time limits of `[redis]`.
#[derive(Debug, Clone, Copy)]
struct Limits {
    connect: Duration,
    command: Duration,
    ping: Duration,
    probe_interval: Duration,
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

fn timed_out(what: &str) -> RedisError {
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
            let call = self.inner.send_packed_command(cmd);
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
            let call = self.inner.send_packed_commands(cmd, offset, count);
            let outcome = tokio::time::timeout(self.timeout, call).await;
            self.settle(outcome)
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

/// Opens pub/sub connections, which the connection manager cannot carry, within the same
/// limits.
#[derive(Clone)]
pub struct PubSubConnector {
    client: redis::Client,
    limits: Limits,
}

impl PubSubConnector {
    /// A pub/sub connection subscribed to `pattern`, or an error within the connect and
    /// command timeouts.
    pub async fn psubscribe(&self, pattern: &str) -> Result<redis::aio::PubSub, RedisError> {
        let open = self.client.get_async_pubsub();
        let mut pubsub = tokio::time::timeout(self.limits.connect, open)
            .await
            .unwrap_or_else(|_| Err(timed_out("connecting to Redis")))?;
        tokio::time::timeout(self.limits.command, pubsub.psubscribe(pattern))
            .await
            .unwrap_or_else(|_| Err(timed_out("subscribing")))?;
        Ok(pubsub)
    }

    /// Longest wait for an answer on a subscription (its PING).
    pub fn ping_timeout(&self) -> Duration {
        self.limits.ping
    }

    /// How often a quiet subscription is checked with a PING.
    pub fn probe_interval(&self) -> Duration {
        self.limits.probe_interval
    }
}
