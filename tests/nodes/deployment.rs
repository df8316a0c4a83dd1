//! A deployment of real processes on loopback: a Redis (standalone or a Redis Cluster), three
//! `wewatch` nodes (the binary under test) and HAProxy in front of them with the
//! configuration `make cluster` uses (`deploy/haproxy.cfg`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::redis_server::{self, Server};

/// The Redis a deployment runs on.
pub struct Store {
    pub url: String,
    pub servers: Vec<Server>,
    pub cluster: bool,
    _dir: tempfile::TempDir,
}

impl Store {
    pub fn standalone() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (server, url) = redis_server::standalone(dir.path());
        Self {
            url,
            servers: vec![server],
            cluster: false,
            _dir: dir,
        }
    }

    /// Three masters, each with `replicas` replicas.
    pub fn cluster(replicas: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (servers, url) = redis_server::cluster(dir.path(), replicas);
        Self {
            url,
            servers,
            cluster: true,
            _dir: dir,
        }
    }

    pub fn both() -> [Self; 2] {
        [Self::standalone(), Self::cluster(0)]
    }

    /// A connection of the server's own kind, for looking inside.
    pub async fn connection(&self) -> wewatch::managers::StoreConnection {
        let mut settings = settings_template();
        settings.redis.url = self.url.clone();
        wewatch::managers::store::connect(&settings.redis)
            .await
            .unwrap()
            .conn
    }
}

fn settings_template() -> wewatch::config::Settings {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("server.toml");
    wewatch::config::Settings::from_file(&path).unwrap()
}

/// One `wewatch` process.
pub struct Node {
    child: Child,
}

/// Nodes, their proxy and where they keep things.
pub struct Deployment {
    dir: tempfile::TempDir,
    pub prefix: String,
    pub ports: Vec<u16>,
    pub nodes: Vec<Option<Node>>,
    proxy: Child,
    pub proxy_port: u16,
}

/// A free loopback port (bound once and let go).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Deployment {
    /// Three nodes on `store` and HAProxy in front of them, ready; the nodes notice a dead
    /// one within about two seconds.
    pub async fn start(store: &Store) -> Self {
        Self::start_with(store, Timings::Quick).await
    }

    /// The same, with the node timings of `server.toml` or quick ones.
    pub async fn start_with(store: &Store, timings: Timings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("n{}:", std::process::id());
        let config = dir.path().join("server.toml");
        write_settings(&config, &store.url, &prefix, timings);
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let proxy_port = free_port();
        let proxy = start_proxy(dir.path(), proxy_port, &ports);
        let mut deployment = Self {
            prefix,
            ports: ports.clone(),
            nodes: Vec::new(),
            proxy,
            proxy_port,
            dir,
        };
        for i in 0..ports.len() {
            let node = deployment.spawn(i);
            deployment.nodes.push(Some(node));
        }
        for i in 0..ports.len() {
            deployment.wait_ready(i).await;
        }
        deployment.wait_proxy_ready().await;
        deployment
    }

    fn spawn(&self, i: usize) -> Node {
        let port = self.ports[i];
        let log = std::fs::File::create(self.dir.path().join(format!("node{i}.out"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_wewatch"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("WEWATCH_CONFIG", self.dir.path().join("server.toml"))
            .env("PORT", port.to_string())
            .env(
                "WEWATCH_SECRET_KEY",
                "nodes-test-secret-key-shared-by-every-node-0123456789",
            )
            .env("WEWATCH_LOG_DIR", "")
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the wewatch binary");
        Node { child }
    }

    /// Waits until node `i` answers `/readyz`.
    pub async fn wait_ready(&self, i: usize) {
        let url = format!("http://127.0.0.1:{}/readyz", self.ports[i]);
        for _ in 0..600 {
            if let Ok(res) = reqwest::get(&url).await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("node {i} never became ready: {}", self.output(i));
    }

    async fn wait_proxy_ready(&self) {
        for _ in 0..600 {
            if let Ok(res) = reqwest::get(format!("{}/readyz", self.proxy_url())).await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("HAProxy never answered");
    }

    /// What node `i` printed.
    pub fn output(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node{i}.out"))).unwrap_or_default()
    }

    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }

    pub fn node_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    /// Kills node `i` at once (SIGKILL): no goodbye, no cleanup.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }

    /// Stops node `i` as an operator would (SIGTERM) and waits for it to exit.
    pub async fn stop(&mut self, i: usize) {
        let Some(mut node) = self.nodes[i].take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(node.child.id().to_string())
            .status();
        for _ in 0..600 {
            if node.child.try_wait().unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = node.child.kill();
        panic!("node {i} did not stop within 30 s: {}", self.output(i));
    }

    /// Starts node `i` again (a new process: a new node) and waits until it is ready.
    pub async fn restart(&mut self, i: usize) {
        let node = self.spawn(i);
        self.nodes[i] = Some(node);
        self.wait_ready(i).await;
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for i in 0..self.ports.len() {
                let output = self.output(i);
                // The client library's lines about each failed reconnection, and the proxy's
                // health checks, left out.
                let tail: Vec<&str> = output
                    .lines()
                    .filter(|l| {
                        !l.contains("Failed to connect to node") && !l.contains("route=\"/readyz\"")
                    })
                    .rev()
                    .take(80)
                    .collect();
                eprintln!("--- node {i}, last lines:");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
        for node in self.nodes.iter_mut().flatten() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        let _ = self.proxy.kill();
        let _ = self.proxy.wait();
    }
}

/// The nodes' heartbeat, sweep and drain timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timings {
    /// As `server.toml` has them (the benchmark's, `tests/bench/nodes.rs`).
    #[allow(dead_code)]
    Defaults,
    /// A dead node noticed within about two seconds, a drain of half a second.
    Quick,
}

/// The nodes' settings: `server.toml` with this store, lifted command limits (the tests send
/// steady commands), the proxy trusted, and the node `timings`.
fn write_settings(path: &Path, redis_url: &str, prefix: &str, timings: Timings) {
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("server.toml"))
            .unwrap();
    let mut settings: toml::Table = source.parse().unwrap();
    let mut set = |section: &str, key: &str, value: toml::Value| {
        settings
            .get_mut(section)
            .and_then(|s| s.as_table_mut())
            .unwrap_or_else(|| panic!("no [{section}] in server.toml"))
            .insert(key.into(), value);
    };
    set("redis", "url", redis_url.into());
    set("redis", "key_prefix", prefix.into());
    set("server", "workers", 2.into());
    set(
        "server",
        "trusted_proxies",
        toml::Value::Array(vec!["127.0.0.1".into()]),
    );
    if timings == Timings::Quick {
        set("nodes", "heartbeat_interval_ms", 200.into());
        set("nodes", "dead_after_ms", 2000.into());
        set("nodes", "sweep_interval_ms", 200.into());
        set("nodes", "drain_ms", 500.into());
    }
    set("realtime", "commands_per_second", 100.0.into());
    set("realtime", "command_burst", 100.into());
    set("realtime", "max_connections_per_address", 10_000.into());
    set("realtime", "max_connections_per_user", 10_000.into());
    set("identity", "guests_per_address_per_minute", 10_000.into());
    std::fs::write(path, toml::to_string(&settings).unwrap()).unwrap();
}

/// HAProxy with `deploy/haproxy.cfg`, in front of `ports`.
fn start_proxy(dir: &Path, port: u16, ports: &[u16]) -> Child {
    let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("haproxy must be installed (make deps-test installs it)");
    let template = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg"),
    )
    .unwrap();
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server node{i} 127.0.0.1:{p} check\n"))
        .collect();
    let config = template
        .replace("@PROXY_ADDRESS@", &format!("127.0.0.1:{port}"))
        .replace("@STATS_ADDRESS@", &format!("127.0.0.1:{}", free_port()))
        .replace("    # @SERVERS@\n", &servers);
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(dir.join("haproxy.out")).unwrap();
    Command::new(haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("haproxy starts")
}
