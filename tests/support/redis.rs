//! Redis servers owned by a test process: a standalone `redis-server` on a unix socket, or a
//! three-master Redis Cluster on loopback ports (`WEWATCH_TEST_REDIS=cluster`). Each server is
//! started through a shell that kills it when this process's end of the pipe closes, so no
//! server outlives the tests.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which store the tests run against (`WEWATCH_TEST_REDIS`: `standalone`, the default, or
/// `cluster`).
pub fn cluster_wanted() -> bool {
    match std::env::var("WEWATCH_TEST_REDIS").as_deref() {
        Ok("cluster") => true,
        Ok("standalone") | Ok("") | Err(_) => false,
        Ok(other) => panic!("WEWATCH_TEST_REDIS must be standalone or cluster, not {other}"),
    }
}

/// One `redis-server` process.
pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
    watchdog: Child,
}

impl Server {
    /// Stops it at once, as a crash would (SIGKILL).
    pub fn kill(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "kill -9 $(cat '{}/pid') 2>/dev/null",
                self.dir.display()
            ))
            .status();
        let _ = self.watchdog.kill();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The server first: killing its watchdog alone would leave it running.
        self.kill();
        let _ = self.watchdog.wait();
    }
}

/// Starts `redis-server` with `args`, in `dir`, watched by a shell.
fn spawn(dir: &Path, args: &str) -> Child {
    std::fs::create_dir_all(dir).expect("redis dir");
    let script = format!(
        "redis-server {args} --dir '{dir}' --save '' --appendonly no --loglevel warning \
         --logfile '{dir}/redis.log' & pid=$!; echo $pid > '{dir}/pid'; read _; kill $pid",
        dir = dir.display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        // Not the test's own output: a server outliving its watchdog would hold it open.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (make deps-test installs it)")
}

/// A standalone Redis on a unix socket in `dir`; its URL.
pub fn standalone(dir: &Path) -> (Server, String) {
    let socket = dir.join("redis.sock");
    let watchdog = spawn(
        dir,
        &format!(
            "--port 0 --unixsocket '{}' --unixsocketperm 700",
            socket.display()
        ),
    );
    wait_until("redis-server to start", || socket.exists());
    let url = format!("redis+unix://{}", socket.display());
    (
        Server {
            dir: dir.to_owned(),
            port: 0,
            watchdog,
        },
        url,
    )
}

/// A loopback port that is free, and whose cluster bus port (+10000) is free too.
pub fn free_cluster_port() -> u16 {
    for _ in 0..200 {
        let port = 20_000 + rand_below(20_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port pair for a cluster node");
}

fn rand_below(n: u32) -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    (h.finish() % u64::from(n)) as u32
}

/// One cluster-enabled `redis-server` on `port`.
pub fn cluster_node(dir: &Path, port: u16) -> Server {
    let watchdog = spawn(
        dir,
        &format!(
            "--port {port} --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
             --cluster-node-timeout 2000 --appendonly no --repl-diskless-sync-delay 0"
        ),
    );
    wait_until("a cluster node to start", || {
        cli(port, &["PING"]).is_some_and(|o| o.contains("PONG"))
    });
    Server {
        dir: dir.to_owned(),
        port,
        watchdog,
    }
}

/// A Redis Cluster of three masters (and `replicas` replicas per master) under `dir`; its
/// servers and the URL that names it.
pub fn cluster(dir: &Path, replicas: usize) -> (Vec<Server>, String) {
    let count = 3 * (1 + replicas);
    let servers: Vec<Server> = (0..count)
        .map(|i| cluster_node(&dir.join(format!("node{i}")), free_cluster_port()))
        .collect();
    let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
    args.extend(servers.iter().map(|s| format!("127.0.0.1:{}", s.port)));
    args.extend([
        "--cluster-replicas".into(),
        replicas.to_string(),
        "--cluster-yes".into(),
    ]);
    let out = Command::new("redis-cli")
        .args(&args)
        .output()
        .expect("redis-cli");
    assert!(
        out.status.success(),
        "redis-cli --cluster create failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for server in &servers {
        wait_until("the cluster to be ready", || {
            cli(server.port, &["CLUSTER", "INFO"]).is_some_and(|o| o.contains("cluster_state:ok"))
        });
    }
    // A replica that never completed its first sync cannot take over from its master.
    for server in &servers {
        wait_until("every replica to be in sync with its master", || {
            cli(server.port, &["INFO", "replication"])
                .is_some_and(|o| o.contains("role:master") || o.contains("master_link_status:up"))
        });
    }
    let seeds: Vec<String> = servers
        .iter()
        .take(3)
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    (servers, format!("redis+cluster://{}", seeds.join(",")))
}

/// `redis-cli -p port args…`: its output, or `None` when it failed.
pub fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}
