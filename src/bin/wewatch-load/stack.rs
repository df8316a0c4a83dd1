//! The system under test: a private redis-server and the release server, each in a
//! temporary directory, with the settings the scenarios need.
//! Both run under watchdogs (`watchdog`), so neither outlives the generator.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::watchdog::Watched;

/// How long the server may take to say where it listens.
const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(60);
const REDIS_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the server's output is kept in `{out}/server.log`.
const SAVED_LOG_BYTES: usize = 4 << 20;
/// Settings changed from `server.toml` for the benchmark, as (table, key, value).
fn overrides(dir: &Path) -> Vec<(&'static str, &'static str, toml::Value)> {
    use toml::Value::{Float, Integer, String as Text};
    vec![
        ("server", "port", Integer(0)),
        // One viewer sends every command of its party in the scenarios.
        ("realtime", "commands_per_second", Float(1_000_000.0)),
        ("realtime", "command_burst", Integer(1_000_000)),
        ("realtime", "messages_per_second", Float(1_000_000.0)),
        ("realtime", "message_burst", Integer(1_000_000)),
        // Every viewer connects from this machine's address.
        (
            "realtime",
            "max_connections_per_address",
            Integer(1_000_000),
        ),
        ("realtime", "max_connections_per_user", Integer(1_000_000)),
        (
            "identity",
            "guests_per_address_per_minute",
            Integer(1_000_000),
        ),
        // One owner holds every party's video.
        ("library", "max_videos_per_user", Integer(1_000_000)),
        ("log", "dir", Text(dir.join("logs").display().to_string())),
        (
            "identity",
            "secret_key_file",
            Text(dir.join("secret.key").display().to_string()),
        ),
    ]
}

/// Redis and the server, running.
pub struct Stack {
    // Dropped in this order: the server, then Redis, then the directory.
    pub server: Watched,
    pub redis: Watched,
    pub addr: SocketAddr,
    /// Settings changed from `server.toml`, for the report.
    pub settings: Vec<String>,
    /// `[chat] departure_grace_secs`: the server still acts on a departure this long after.
    pub departure_grace: Duration,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Starts Redis and `server_bin` (run from `root`, where its templates are).
    pub fn start(root: &Path, server_bin: &Path) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("wewatch-bench-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let (redis, redis_port) = start_redis(dir.path())?;
        let mut config: toml::Table = std::fs::read_to_string(root.join("server.toml"))
            .map_err(|e| format!("cannot read {}/server.toml: {e}", root.display()))?
            .parse()
            .map_err(|e| format!("server.toml: {e}"))?;
        let mut settings = Vec::new();
        for (table, key, value) in overrides(dir.path()) {
            settings.push(format!("[{table}] {key} = {value}"));
            if let Some(toml::Value::Table(t)) = config.get_mut(table) {
                t.insert(key.to_owned(), value);
            }
        }
        let departure_grace = Duration::from_secs(
            config
                .get("chat")
                .and_then(|c| c.get("departure_grace_secs"))
                .and_then(|v| v.as_integer())
                .map_or(5, |secs| secs.max(0) as u64),
        );
        let config_path = dir.path().join("server.toml");
        std::fs::write(&config_path, config.to_string()).map_err(|e| e.to_string())?;
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let env = [
            ("PORT", "0".to_owned()),
            ("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/")),
            ("WEWATCH_SECRET_KEY", secret),
            ("WEWATCH_KEY_PREFIX", "bench:".to_owned()),
            (
                "WEWATCH_LOG_DIR",
                dir.path().join("logs").display().to_string(),
            ),
            ("WEWATCH_CONFIG", config_path.display().to_string()),
        ];
        let server = Watched::spawn(server_bin, &[], &env, root, dir.path().join("server.out"))?;
        let addr = wait_for_listening(&server)?;
        Ok(Self {
            server,
            redis,
            addr,
            settings,
            departure_grace,
            _dir: dir,
        })
    }
}

fn wait_for_listening(server: &Watched) -> Result<SocketAddr, String> {
    const MARK: &str = "listening on http://";
    let start = Instant::now();
    while start.elapsed() < SERVER_READY_TIMEOUT {
        let out = std::fs::read_to_string(&server.log).unwrap_or_default();
        if let Some(at) = out.find(MARK) {
            let rest = &out[at + MARK.len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '/')
                .unwrap_or(rest.len());
            let hostport = rest[..end].replace("0.0.0.0:", "127.0.0.1:");
            return hostport
                .parse()
                .map_err(|_| format!("cannot read the server's address from {hostport:?}"));
        }
        if !server.running() {
            return Err(format!("the server exited:\n{}", server.tail()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "the server did not say where it listens:\n{}",
        server.tail()
    ))
}

fn start_redis(dir: &Path) -> Result<(Watched, u16), String> {
    let bin = PathBuf::from("redis-server");
    for attempt in 1.. {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir.display().to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let redis = Watched::spawn(&bin, &args, &[], dir, dir.join("redis.log"))
            .map_err(|e| format!("{e} (install redis-server: make deps)"))?;
        let start = Instant::now();
        while start.elapsed() < REDIS_READY_TIMEOUT && redis.running() {
            if redis_answers(port) {
                return Ok((redis, port));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if attempt == 3 {
            return Err(format!("redis-server did not start:\n{}", redis.tail()));
        }
    }
    unreachable!("the loop returns by its third attempt")
}

fn redis_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

impl Stack {
    /// Keeps the end of the server's output (at most `SAVED_LOG_BYTES`) beside the reports.
    pub fn save_log(&self, out: &Path) {
        let Ok(text) = std::fs::read(&self.server.log) else {
            return;
        };
        let start = text.len().saturating_sub(SAVED_LOG_BYTES);
        let _ = std::fs::create_dir_all(out);
        let _ = std::fs::write(out.join("server.log"), &text[start..]);
    }
}
