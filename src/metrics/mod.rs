//! The node's Prometheus metrics: one [`Registry`] per [`crate::startup::Application`] (so
//! several applications in one process, as in the tests, never mix their figures), the
//! collectors the rest of the crate updates, and the text the `/metrics` route renders.
//!
//! Every series name is listed, with its meaning, in `docs/metrics.md`. Labels take only
//! values from fixed sets (route patterns, script names, command names, status classes), so
//! no request can add a series. Latencies are histograms, not summaries: their buckets add
//! up across nodes.
//!
//! - `http`: the middleware that times every request by route pattern.
//! - `scripts`: Lua script latency, from the commands the store connection sends.
//!
//! It imports nothing of the crate but domain values; everyone else may import it.

mod http;
mod scripts;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntGauge, Opts, Registry, TextEncoder,
};

pub use http::RecordRequests;
pub use scripts::ScriptTimer;

use crate::domain::PartyId;

/// Every series name begins with this.
const NAMESPACE: &str = "wewatch";

/// Buckets of the realtime latencies (commands, scripts), in seconds: 0.5 ms to 2 s, the
/// longest a Redis call may take by default (`[redis] command_timeout_ms`).
const REALTIME_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];
/// Buckets of HTTP request durations, in seconds.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The node's collectors. Cloning a collector shares it; updating one is an atomic add.
pub struct Metrics {
    /// Everything below, for rendering.
    registry: Registry,
    /// HTTP request durations by route pattern, method and status class.
    pub http_requests: HistogramVec,
    /// From a playback command's arrival at its session to the script having stored and
    /// published it, by command.
    pub command_publish: HistogramVec,
    /// Lua script round trips by script name (`scripts`).
    pub redis_scripts: HistogramVec,
    /// Open party WebSocket connections, from the upgrade to the close.
    pub connections: IntGauge,
    /// Connections that said hello and belong to a party's group on this node.
    pub viewers: IntGauge,
    /// Parties with at least one viewer on this node.
    pub parties: IntGauge,
    /// Redis pub/sub subscriptions this node holds for party events.
    pub subscriptions: IntGauge,
    /// Party event subscriptions restored after they were lost (each resyncs every viewer).
    pub resubscribes: IntCounter,
    /// Times a slow viewer's queued party events were dropped and the viewer resynced from
    /// the stored state.
    pub viewer_resyncs: IntCounter,
    /// Heartbeats this node wrote to the node registry.
    node_heartbeats: IntCounter,
    /// Local viewers per party, behind `parties`. A std Mutex: held for one map update,
    /// never across an await.
    local_parties: Mutex<HashMap<PartyId, usize>>,
    /// Length of the last rendering, to size the next one at once.
    last_render: AtomicUsize,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        // unwrap: the namespace is a valid metric name prefix.
        let registry = Registry::new_custom(Some(NAMESPACE.into()), None).expect("valid prefix");
        let metrics = Self {
            http_requests: histogram(
                "http_request_duration_seconds",
                "HTTP request durations by route pattern, method and status class.",
                &HTTP_BUCKETS,
                &["route", "method", "status"],
            ),
            command_publish: histogram(
                "command_publish_duration_seconds",
                "From a playback command's arrival at its session to its publication.",
                &REALTIME_BUCKETS,
                &["command"],
            ),
            redis_scripts: histogram(
                "redis_script_duration_seconds",
                "Round trips of the Lua scripts, by script.",
                &REALTIME_BUCKETS,
                &["script"],
            ),
            connections: gauge("party_connections", "Open party WebSocket connections."),
            viewers: gauge("viewers", "Party viewers connected to this node."),
            parties: gauge("parties", "Parties with a viewer on this node."),
            subscriptions: gauge(
                "pubsub_subscriptions",
                "Redis pub/sub subscriptions held for party events.",
            ),
            resubscribes: counter(
                "pubsub_resubscribes_total",
                "Party event subscriptions restored after they were lost.",
            ),
            viewer_resyncs: counter(
                "viewer_resyncs_total",
                "Slow viewers whose queued events were dropped and who were resynced.",
            ),
            node_heartbeats: counter(
                "node_heartbeats_total",
                "Heartbeats this node wrote to the node registry.",
            ),
            local_parties: Mutex::default(),
            last_render: AtomicUsize::new(0),
            registry,
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 10] = [
            Box::new(self.http_requests.clone()),
            Box::new(self.command_publish.clone()),
            Box::new(self.redis_scripts.clone()),
            Box::new(self.connections.clone()),
            Box::new(self.viewers.clone()),
            Box::new(self.parties.clone()),
            Box::new(self.subscriptions.clone()),
            Box::new(self.resubscribes.clone()),
            Box::new(self.viewer_resyncs.clone()),
            Box::new(self.node_heartbeats.clone()),
        ];
        for collector in collectors {
            // unwrap: each name above is registered once, in a registry of its own.
            self.registry
                .register(collector)
                .expect("a new metric name");
        }
    }

    /// Every series in the Prometheus text format.
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        let mut text = String::with_capacity(self.last_render.load(Ordering::Relaxed) + 1024);
        // unwrap: encoding to a String fails only on a metric without a name or type,
        // which the collectors above never produce.
        TextEncoder::new()
            .encode_utf8(&families, &mut text)
            .expect("metric families encode");
        self.last_render.store(text.len(), Ordering::Relaxed);
        text
    }

    /// The content type of [`Metrics::render`]'s text.
    pub fn content_type() -> String {
        TextEncoder::new().format_type().to_owned()
    }

    /// Records a playback command's way from its session to its publication.
    pub fn command_published(&self, command: &'static str, elapsed: Duration) {
        self.command_publish
            .with_label_values(&[command])
            .observe(elapsed.as_secs_f64());
    }

    /// A viewer joined `party`'s group on this node.
    pub fn viewer_joined(&self, party: PartyId) {
        self.viewers.inc();
        let mut parties = self.lock_parties();
        let count = parties.entry(party).or_insert(0);
        *count += 1;
        if *count == 1 {
            self.parties.inc();
        }
    }

    /// A viewer left `party`'s group on this node.
    pub fn viewer_left(&self, party: PartyId) {
        self.viewers.dec();
        let mut parties = self.lock_parties();
        if let Some(count) = parties.get_mut(&party) {
            *count -= 1;
            if *count == 0 {
                parties.remove(&party);
                self.parties.dec();
            }
        }
    }

    /// The node registry wrote this node's heartbeat.
    pub fn node_heartbeat(&self) {
        self.node_heartbeats.inc();
    }

    fn lock_parties(&self) -> std::sync::MutexGuard<'_, HashMap<PartyId, usize>> {
        self.local_parties.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn histogram(name: &str, help: &str, buckets: &[f64], labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    // unwrap: the names, labels and buckets above are constants that Prometheus accepts.
    HistogramVec::new(opts, labels).expect("a valid histogram")
}

fn gauge(name: &str, help: &str) -> IntGauge {
    // unwrap: as for `histogram`.
    IntGauge::with_opts(Opts::new(name, help)).expect("a valid gauge")
}

fn counter(name: &str, help: &str) -> IntCounter {
    // unwrap: as for `histogram`.
    IntCounter::with_opts(Opts::new(name, help)).expect("a valid counter")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VideoId;

    fn party(id: u64) -> PartyId {
        PartyId::Video(VideoId(id))
    }

    #[test]
    fn parties_count_once_however_many_of_their_viewers_are_here() {
        let metrics = Metrics::new();
        metrics.viewer_joined(party(1));
        metrics.viewer_joined(party(1));
        metrics.viewer_joined(party(2));
        assert_eq!((metrics.viewers.get(), metrics.parties.get()), (3, 2));
        metrics.viewer_left(party(1));
        assert_eq!((metrics.viewers.get(), metrics.parties.get()), (2, 2));
        metrics.viewer_left(party(1));
        metrics.viewer_left(party(2));
        assert_eq!((metrics.viewers.get(), metrics.parties.get()), (0, 0));
    }

    #[test]
    fn the_rendering_names_every_series_with_the_prefix_and_histograms_have_buckets() {
        let metrics = Metrics::new();
        metrics.command_published("play", Duration::from_millis(3));
        metrics.node_heartbeat();
        let text = metrics.render();
        assert!(text.contains("# TYPE wewatch_command_publish_duration_seconds histogram"));
        assert!(text.contains(
            "wewatch_command_publish_duration_seconds_bucket{command=\"play\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("wewatch_node_heartbeats_total 1"));
        assert!(text.contains("wewatch_parties 0"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("wewatch_"), "{line}");
        }
    }

    #[test]
    fn two_applications_keep_their_own_figures() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.resubscribes.inc();
        assert!(a.render().contains("wewatch_pubsub_resubscribes_total 1"));
        assert!(b.render().contains("wewatch_pubsub_resubscribes_total 0"));
    }
}
