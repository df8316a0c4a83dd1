//! Settings: `server.toml` read once at start, overlaid by environment variables, validated.
//!
//! Nothing else in the crate reads files or the environment for configuration; everything
//! that can be tuned is a field here, with its meaning documented in `server.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Every setting of the service.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub nodes: NodeSettings,
    pub identity: IdentitySettings,
    pub library: LibrarySettings,
    pub chat: ChatSettings,
    pub realtime: RealtimeSettings,
    pub sync: SyncSettings,
    pub log: LogSettings,
    /// Prometheus metrics; off unless a port or a token is set.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// The cookie and CSRF signing key, from `WEWATCH_SECRET_KEY` or the key file.
    /// Filled in by [`Settings::load`]; never part of `server.toml`.
    #[serde(skip)]
    pub secret_key: Option<SecretKey>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub max_connections_per_worker: usize,
    pub allowed_origins: Vec<String>,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub shutdown_timeout_secs: u64,
    /// How long a connection the server ends keeps being read (and discarded) before it is
    /// closed, so the client receives the last answer.
    pub linger_ms: u64,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: String,
    pub key_prefix: String,
    /// Longest wait for a new connection to Redis, in ms.
    pub connect_timeout_ms: u64,
    /// Longest a Redis call may take, waiting for a reconnection included, in ms.
    pub command_timeout_ms: u64,
    /// Longest wait for the PING of `/readyz` and of the health probe, in ms.
    pub ping_timeout_ms: u64,
    /// How often the health probe pings Redis, in ms.
    pub probe_interval_ms: u64,
    /// Seconds the server keeps trying to reach Redis at start before it gives up.
    pub startup_retry_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NodeSettings {
    /// How often a node refreshes its heartbeat (ms).
    pub heartbeat_interval_ms: u64,
    /// A node whose heartbeat is older than this is dead (ms).
    pub dead_after_ms: u64,
    /// How often the sweeper looks for dead nodes (ms).
    pub sweep_interval_ms: u64,
    /// Viewers are told to reconnect over this long when the node stops (ms).
    pub drain_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdentitySettings {
    pub cookie_name: String,
    pub token_grace_secs: u64,
    /// Days after their last visit a guest who owns nothing is forgotten (0: never).
    pub guest_idle_days: u64,
    /// New guests one client address may cause per minute.
    pub guests_per_address_per_minute: u32,
    pub secret_key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LibrarySettings {
    pub page_size: usize,
    pub max_title_chars: usize,
    pub max_url_bytes: usize,
    pub max_videos_per_user: usize,
    pub max_playlists_per_user: usize,
    pub max_playlist_items: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatSettings {
    pub max_chars: usize,
    pub history: usize,
    pub per_window: u32,
    pub window_secs: u64,
    pub departure_grace_secs: u64,
    pub announce_max_people: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RealtimeSettings {
    pub max_frame_bytes: usize,
    pub commands_per_second: f64,
    pub command_burst: u32,
    pub messages_per_second: f64,
    pub message_burst: u32,
    pub heartbeat_interval_secs: u64,
    pub client_timeout_secs: u64,
    /// A connection that completes no frame for this long (ms) shows as `away`; the server
    /// pings a quiet connection at half of it, so a live browser always answers in time.
    pub away_after_ms: u64,
    pub hello_timeout_secs: u64,
    pub max_queued_bytes: usize,
    pub viewer_list_max: usize,
    pub viewer_list_delay_ms: u64,
    pub viewer_list_frames_per_sec: u64,
    /// Party connections one client address may hold on a node.
    pub max_connections_per_address: usize,
    /// Party connections one person may hold on a node.
    pub max_connections_per_user: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SyncSettings {
    pub play_lead_ms: u64,
    pub seek_lead_ms: u64,
    pub pause_tolerance_ms: u64,
    pub wait_limit_secs: u64,
    /// A viewer whose stalls held the party for `stall_budget_secs` in all within the last
    /// `stall_window_secs` is left behind at their next stall, however short.
    pub stall_window_secs: u64,
    pub stall_budget_secs: u64,
    /// Shortest media duration a player may report (ms); shorter reports are refused.
    pub min_duration_ms: u64,
    /// An `ended` report advances a playlist only when the party's expected position lies
    /// within this many ms of the item's end.
    pub ended_window_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// Directory of the daily log files; empty: no files, stdout only.
    pub dir: PathBuf,
    pub level: String,
    /// How each line is written, on stdout and in the files.
    #[serde(default)]
    pub format: LogFormat,
}

impl LogSettings {
    /// The directory of the log files, unless logs go to stdout only.
    pub fn file_dir(&self) -> Option<&Path> {
        (!self.dir.as_os_str().is_empty()).then_some(self.dir.as_path())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Plain text for people.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(ConfigError::Invalid(format!(
                "the log format must be \"text\" or \"json\", got {other:?}"
            ))),
        }
    }
}

/// Where `GET /metrics` is served. Neither a port nor a token: metrics are off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Address of the metrics listener.
    pub address: String,
    /// Port of a listener that serves only `/metrics`, to anyone who reaches it (0: a free
    /// port); none when absent.
    pub port: Option<u16>,
    /// The bearer token that opens `/metrics` on the main port; no such route when absent.
    pub token: Option<MetricsToken>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            address: "127.0.0.1".into(),
            port: None,
            token: None,
        }
    }
}

impl MetricsSettings {
    /// Whether metrics are collected and served anywhere.
    pub fn enabled(&self) -> bool {
        self.port.is_some() || self.token.is_some()
    }
}

/// The bearer token of `/metrics` on the main port. `Debug` never prints it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// Fewest characters accepted, so the token cannot be guessed.
    pub const MIN_CHARS: usize = 16;

    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// Secret bytes that sign cookies and CSRF tokens. `Debug` never prints them.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// Fewest bytes accepted from `WEWATCH_SECRET_KEY` or the key file.
    pub const MIN_BYTES: usize = 32;

    pub fn new(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(ConfigError::Invalid(format!(
                "the secret key must be at least {} bytes long",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads the settings file (`WEWATCH_CONFIG`, default `server.toml`), applies the
    /// environment overlay and resolves the secret key.
    pub fn load() -> Result<Self, ConfigError> {
        let path = std::env::var("WEWATCH_CONFIG").unwrap_or_else(|_| "server.toml".into());
        let mut settings = Self::from_file(Path::new(&path))?;
        settings.apply_env(|name| std::env::var(name).ok())?;
        settings.secret_key = Some(crate::secret::resolve(&settings.identity)?);
        settings.validate()?;
        Ok(settings)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Overlays the environment variables named in `server.toml`'s header.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(port) = var("PORT") {
            self.server.port = port.trim().parse().map_err(|_| {
                ConfigError::Invalid(format!("PORT must be a port number, got {port:?}"))
            })?;
        }
        if let Some(host) = var("WEWATCH_HOST") {
            self.server.host = host;
        }
        if let Some(url) = var("REDIS_URL") {
            self.redis.url = url;
        }
        if let Some(dir) = var("WEWATCH_LOG_DIR") {
            self.log.dir = dir.into();
        }
        if let Some(prefix) = var("WEWATCH_KEY_PREFIX") {
            self.redis.key_prefix = prefix;
        }
        if let Some(level) = var("RUST_LOG") {
            self.log.level = level;
        }
        if let Some(format) = var("WEWATCH_LOG_FORMAT") {
            self.log.format = format.parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "WEWATCH_LOG_FORMAT must be \"text\" or \"json\", got {format:?}"
                ))
            })?;
        }
        // An empty value turns the metrics listener or the token off.
        if let Some(address) = var("WEWATCH_METRICS_ADDRESS") {
            self.metrics.address = address;
        }
        if let Some(port) = var("WEWATCH_METRICS_PORT") {
            self.metrics.port = match port.trim() {
                "" => None,
                number => Some(number.parse().map_err(|_| {
                    ConfigError::Invalid(format!(
                        "WEWATCH_METRICS_PORT must be a port number, got {port:?}"
                    ))
                })?),
            };
        }
        if let Some(token) = var("WEWATCH_METRICS_TOKEN") {
            self.metrics.token = (!token.is_empty()).then(|| MetricsToken::new(token));
        }
        Ok(())
    }

    /// Rejects settings the service cannot run with, naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError::Invalid(what.to_owned()));
        if self.server.linger_ms != 0 && !(1000..=5000).contains(&self.server.linger_ms) {
            return bad("server.linger_ms must be 0 or between 1000 and 5000");
        }
        if self.server.max_connections_per_worker == 0 {
            return bad("server.max_connections_per_worker must be at least 1");
        }
        let rt = &self.realtime;
        if rt.max_frame_bytes < 256 {
            return bad("realtime.max_frame_bytes must be at least 256");
        }
        if !(rt.commands_per_second > 0.0 && rt.messages_per_second > 0.0) {
            return bad("realtime.commands_per_second and messages_per_second must be positive");
        }
        if rt.command_burst == 0 || rt.message_burst == 0 {
            return bad("realtime.command_burst and message_burst must be at least 1");
        }
        if rt.heartbeat_interval_secs == 0 || rt.client_timeout_secs <= rt.heartbeat_interval_secs {
            return bad("realtime.client_timeout_secs must exceed heartbeat_interval_secs (> 0)");
        }
        if rt.away_after_ms < 1000 || rt.away_after_ms >= rt.client_timeout_secs * 1000 {
            return bad(
                "realtime.away_after_ms must be at least 1000 and shorter than client_timeout_secs",
            );
        }
        if rt.max_connections_per_address == 0 || rt.max_connections_per_user == 0 {
            return bad(
                "realtime.max_connections_per_address and max_connections_per_user must be at least 1",
            );
        }
        if rt.viewer_list_frames_per_sec == 0 {
            return bad("realtime.viewer_list_frames_per_sec must be at least 1");
        }
        if rt.max_queued_bytes < 4096 || rt.viewer_list_max == 0 {
            return bad(
                "realtime.max_queued_bytes must be at least 4096 and viewer_list_max at least 1",
            );
        }
        if self.library.page_size == 0 || self.library.max_title_chars == 0 {
            return bad("library.page_size and max_title_chars must be at least 1");
        }
        if self.chat.max_chars == 0
            || self.chat.history == 0
            || self.chat.per_window == 0
            || self.chat.window_secs == 0
        {
            return bad("chat.max_chars, history, per_window and window_secs must be at least 1");
        }
        if self.library.max_playlist_items == 0 {
            return bad("library.max_playlist_items must be at least 1");
        }
        if self.sync.play_lead_ms > 5000 || self.sync.seek_lead_ms > 5000 {
            return bad("sync.play_lead_ms and seek_lead_ms must be at most 5000");
        }
        if self.sync.min_duration_ms == 0 || self.sync.min_duration_ms > 60_000 {
            return bad("sync.min_duration_ms must lie between 1 and 60000");
        }
        if self.sync.ended_window_ms > 60_000 {
            return bad("sync.ended_window_ms must be at most 60000");
        }
        let sync = &self.sync;
        if sync.stall_budget_secs == 0
            || sync.stall_window_secs <= sync.stall_budget_secs
            || sync.stall_window_secs > 3600
        {
            return bad(
                "sync.stall_budget_secs must be at least 1 and shorter than stall_window_secs \
                 (at most 3600)",
            );
        }
        if self.identity.guest_idle_days > crate::identity::COOKIE_MAX_AGE_DAYS as u64 {
            return Err(ConfigError::Invalid(format!(
                "identity.guest_idle_days must be at most {} (how long the identity cookie lives)",
                crate::identity::COOKIE_MAX_AGE_DAYS
            )));
        }
        if self.identity.guests_per_address_per_minute == 0 {
            return bad("identity.guests_per_address_per_minute must be at least 1");
        }
        let nodes = &self.nodes;
        if nodes.heartbeat_interval_ms < 100 || nodes.sweep_interval_ms < 100 {
            return bad(
                "nodes.heartbeat_interval_ms and nodes.sweep_interval_ms must be at least 100",
            );
        }
        if nodes.dead_after_ms < 2 * nodes.heartbeat_interval_ms || nodes.dead_after_ms > 3_600_000
        {
            return bad(
                "nodes.dead_after_ms must be at least twice nodes.heartbeat_interval_ms (and at most 3600000)",
            );
        }
        if nodes.drain_ms > 60_000 {
            return bad("nodes.drain_ms must be at most 60000");
        }
        if self.redis.key_prefix.is_empty() {
            return bad("redis.key_prefix must not be empty");
        }
        if self.redis.key_prefix.contains(['{', '}']) {
            return bad(
                "redis.key_prefix must not contain braces (they mark Redis Cluster hash tags)",
            );
        }
        let redis = &self.redis;
        if [
            redis.connect_timeout_ms,
            redis.command_timeout_ms,
            redis.ping_timeout_ms,
            redis.probe_interval_ms,
        ]
        .contains(&0)
        {
            return bad(
                "redis.connect_timeout_ms, command_timeout_ms, ping_timeout_ms and probe_interval_ms must be at least 1",
            );
        }
        if redis.ping_timeout_ms > 1000 {
            return bad(
                "redis.ping_timeout_ms must be at most 1000, so /readyz answers within a second",
            );
        }
        if let Some(token) = &self.metrics.token {
            if token.expose().chars().count() < MetricsToken::MIN_CHARS {
                return Err(ConfigError::Invalid(format!(
                    "metrics.token (or WEWATCH_METRICS_TOKEN) must be at least {} characters",
                    MetricsToken::MIN_CHARS
                )));
            }
        }
        for origin in &self.server.allowed_origins {
            if url::Url::parse(origin).is_err() {
                return Err(ConfigError::Invalid(format!(
                    "server.allowed_origins: {origin:?} is not an origin like https://example.com"
                )));
            }
        }
        Ok(())
    }

    /// The secret key; [`Settings::load`] always sets it.
    pub fn secret(&self) -> &SecretKey {
        // unwrap: load() and the test helpers set the key before the settings are used.
        self.secret_key
            .as_ref()
            .expect("secret key resolved at load")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Settings {
        Settings::from_file(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/server.toml"
        )))
        .expect("server.toml parses")
    }

    #[test]
    fn the_shipped_settings_are_valid() {
        shipped().validate().unwrap();
    }

    #[test]
    fn environment_overrides_host_port_and_redis_url() {
        let mut s = shipped();
        s.apply_env(|name| match name {
            "WEWATCH_HOST" => Some("0.0.0.0".into()),
            "PORT" => Some("9001".into()),
            "REDIS_URL" => Some("redis://example:1/".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.redis.url, "redis://example:1/");
    }

    #[test]
    fn a_port_that_is_not_a_number_is_refused() {
        let mut s = shipped();
        let err = s
            .apply_env(|n| (n == "PORT").then(|| "eighty".into()))
            .unwrap_err();
        assert!(err.to_string().contains("PORT"));
    }

    #[test]
    fn guests_cannot_be_kept_longer_than_their_cookie_lives() {
        let mut s = shipped();
        s.identity.guest_idle_days = 400;
        s.validate().unwrap();
        s.identity.guest_idle_days = 401;
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("identity.guest_idle_days"), "{err}");
    }

    #[test]
    fn redis_timeouts_must_be_positive_and_the_readiness_ping_short() {
        type Spoil = fn(&mut RedisSettings);
        let cases: [(&str, Spoil); 5] = [
            ("connect_timeout_ms", |r| r.connect_timeout_ms = 0),
            ("command_timeout_ms", |r| r.command_timeout_ms = 0),
            ("ping_timeout_ms", |r| r.ping_timeout_ms = 0),
            ("probe_interval_ms", |r| r.probe_interval_ms = 0),
            ("ping_timeout_ms must be at most", |r| {
                r.ping_timeout_ms = 1001
            }),
        ];
        for (expected, spoil) in cases {
            let mut s = shipped();
            spoil(&mut s.redis);
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn presence_and_stall_limits_are_checked() {
        type Spoil = fn(&mut Settings);
        let cases: [(&str, Spoil); 5] = [
            ("realtime.away_after_ms", |s| s.realtime.away_after_ms = 999),
            ("realtime.away_after_ms", |s| {
                s.realtime.away_after_ms = s.realtime.client_timeout_secs * 1000
            }),
            ("sync.stall_budget_secs", |s| s.sync.stall_budget_secs = 0),
            ("sync.stall_budget_secs", |s| {
                s.sync.stall_window_secs = s.sync.stall_budget_secs
            }),
            ("sync.stall_budget_secs", |s| {
                s.sync.stall_window_secs = 3601
            }),
        ];
        for (expected, spoil) in cases {
            let mut s = shipped();
            spoil(&mut s);
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn the_log_format_is_text_or_json_and_the_environment_may_choose_it() {
        let mut s = shipped();
        assert_eq!(s.log.format, LogFormat::Text);
        s.apply_env(|n| (n == "WEWATCH_LOG_FORMAT").then(|| "json".into()))
            .unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        let err = s
            .apply_env(|n| (n == "WEWATCH_LOG_FORMAT").then(|| "xml".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WEWATCH_LOG_FORMAT") && err.contains("\"xml\""),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_log_format_in_the_file_names_the_choices() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/server.toml"))
            .unwrap()
            .replace("format = \"text\"", "format = \"xml\"");
        let err = toml::from_str::<Settings>(&text).unwrap_err().to_string();
        assert!(
            err.contains("xml") && err.contains("text") && err.contains("json"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_log_directory_means_stdout_only() {
        let mut s = shipped();
        assert!(s.log.file_dir().is_some());
        s.apply_env(|n| (n == "WEWATCH_LOG_DIR").then(String::new))
            .unwrap();
        assert_eq!(s.log.file_dir(), None);
    }

    #[test]
    fn metrics_are_off_unless_the_environment_or_the_file_turns_them_on() {
        let mut s = shipped();
        assert!(!s.metrics.enabled());
        s.apply_env(|name| match name {
            "WEWATCH_METRICS_PORT" => Some("9100".into()),
            "WEWATCH_METRICS_ADDRESS" => Some("0.0.0.0".into()),
            "WEWATCH_METRICS_TOKEN" => Some("a-long-enough-metrics-token".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.metrics.port, Some(9100));
        assert_eq!(s.metrics.address, "0.0.0.0");
        s.validate().unwrap();
        assert!(
            !format!("{s:?}").contains("a-long-enough-metrics-token"),
            "the token is never printed"
        );
        s.apply_env(|name| match name {
            "WEWATCH_METRICS_PORT" | "WEWATCH_METRICS_TOKEN" => Some(String::new()),
            _ => None,
        })
        .unwrap();
        assert!(!s.metrics.enabled(), "empty values turn both off");
    }

    #[test]
    fn a_short_metrics_token_and_a_bad_metrics_port_are_refused() {
        let mut s = shipped();
        s.metrics.token = Some(MetricsToken::new("short"));
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("metrics.token"), "{err}");
        let err = s
            .apply_env(|n| (n == "WEWATCH_METRICS_PORT").then(|| "ninety".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("WEWATCH_METRICS_PORT"), "{err}");
    }

    #[test]
    fn a_short_secret_key_is_refused() {
        assert!(SecretKey::new(vec![1; 8]).is_err());
        assert!(format!("{:?}", SecretKey::new(vec![1; 32]).unwrap()).contains("redacted"));
    }
}
