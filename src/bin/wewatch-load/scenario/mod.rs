//! The scenarios, and what they share: the server's address and process, identities,
//! parties, and the report each one writes.
//!
//! - `idle`: many connected viewers doing nothing; memory per connection.
//! - `floor`: the same fan-out with no server, what loopback TCP alone costs here.
//! - `fanout`: one party of N; command → every viewer's `state`.
//! - `parties`: many small parties under a rising command rate.
//! - `http`: requests per second for the watch page and the library API.
//! - `flood`: clients that send without reading; the server's memory meanwhile.

pub mod fanout;
pub mod flood;
pub mod floor;
pub mod http;
pub mod idle;
pub mod parties;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::{create_video, new_identity, HttpClient};
use crate::system;
use crate::viewer::Clock;

/// HTTP connections used to make identities and videos before a scenario starts.
const SETUP_CONNECTIONS: usize = 16;
/// Longest wait for the server to go quiet after viewers join or leave.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(180);

/// The server under test and what has been set up on it.
pub struct Bench {
    pub server: SocketAddr,
    pub server_pid: Option<u32>,
    pub redis_pid: Option<u32>,
    pub clock: Clock,
    /// Viewers that fit within the descriptor limit.
    pub capacity: usize,
    /// How the server was started, for the reports.
    pub about: Value,
    /// How long after a viewer leaves the server may still act on it (the departure
    /// announcement's grace period, plus a margin).
    pub after_leave: Duration,
    owner: HttpClient,
    identities: Vec<Arc<str>>,
    videos: usize,
}

impl Bench {
    pub async fn new(
        server: SocketAddr,
        server_pid: Option<u32>,
        redis_pid: Option<u32>,
        capacity: usize,
        about: Value,
    ) -> Result<Self, String> {
        let mut owner = HttpClient::new(server);
        new_identity(&mut owner)
            .await
            .map_err(|e| format!("cannot get an identity: {e}"))?;
        Ok(Self {
            server,
            server_pid,
            redis_pid,
            clock: Clock::start(),
            capacity,
            about,
            after_leave: Duration::from_secs(6),
            owner,
            identities: Vec::new(),
            videos: 0,
        })
    }

    /// The first `n` identities (cookies) of a pool made on demand, one per person.
    pub async fn identities(&mut self, n: usize) -> Result<Vec<Arc<str>>, String> {
        let missing = n.saturating_sub(self.identities.len());
        let made = in_parallel(self.server, None, missing, |mut client, _| async move {
            new_identity(&mut client).await.map(|c| (client, c))
        })
        .await?;
        self.identities.extend(made.into_iter().map(Arc::from));
        Ok(self.identities[..n].to_vec())
    }

    /// `n` new parties (videos of one owner); returns their invite keys.
    pub async fn parties(&mut self, n: usize) -> Result<Vec<Arc<str>>, String> {
        let first = self.videos;
        self.videos += n;
        let keys = in_parallel(
            self.server,
            self.owner.cookie.clone(),
            n,
            move |mut client, i| async move {
                create_video(&mut client, first + i)
                    .await
                    .map(|k| (client, k))
            },
        )
        .await?;
        Ok(keys.into_iter().map(Arc::from).collect())
    }

    /// The identity that owns every party, for requests that list its library.
    pub fn owner_cookie(&self) -> Option<String> {
        self.owner.cookie.clone()
    }

    /// Joins every plan's viewer to `crowd` (within the join budget), then waits until the
    /// server and Redis are quiet; returns how the joins went and the seconds waited.
    pub async fn join(
        &self,
        plans: Vec<crate::viewer::Plan>,
        crowd: &mut crate::crowd::Crowd,
        opts: &crate::args::Options,
    ) -> (crate::crowd::JoinReport, f64) {
        let joins =
            crate::crowd::join_all(self.server, plans, crowd, self.clock, opts.join_budget()).await;
        (joins, self.settle().await)
    }

    /// Waits until the server and Redis are quiet; returns the seconds waited.
    pub async fn settle(&self) -> f64 {
        let pids: Vec<u32> = self
            .server_pid
            .iter()
            .chain(&self.redis_pid)
            .copied()
            .collect();
        system::settle(&pids, SETTLE_LIMIT).await.as_secs_f64()
    }

    /// Starts measuring the CPU time of the server, Redis and the generator.
    pub fn cpu_meter(&self) -> system::CpuMeter {
        let mut pids = vec![("generator", std::process::id())];
        pids.extend(self.server_pid.map(|p| ("server", p)));
        pids.extend(self.redis_pid.map(|p| ("redis", p)));
        system::CpuMeter::start(pids)
    }

    /// After `left` viewers left: waits out the server's delayed work for them (unless they
    /// were too few to matter), then until it is quiet; returns the seconds waited.
    pub async fn settle_after_leave(&self, left: usize) -> f64 {
        const FEW: usize = 100;
        let wait = if left < FEW {
            Duration::ZERO
        } else {
            self.after_leave
        };
        tokio::time::sleep(wait).await;
        wait.as_secs_f64() + self.settle().await
    }

    pub fn server_rss_kib(&self) -> Option<u64> {
        self.server_pid.and_then(system::rss_kib)
    }

    pub fn redis_rss_kib(&self) -> Option<u64> {
        self.redis_pid.and_then(system::rss_kib)
    }

    /// Writes a scenario's report to `{out}/{name}.json`.
    pub fn write_report(&self, out: &Path, name: &str, mut report: Value) -> Result<(), String> {
        report["scenario"] = json!(name);
        report["server"] = self.about.clone();
        report["machine"] = system::machine();
        report["load_average_after"] = json!(system::load_average());
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let path = out.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("(written to {})", path.display());
        Ok(())
    }
}

/// Runs `job(client, i)` for `i` in `0..n` over a few connections; results in order of `i`.
async fn in_parallel<T, F, Fut>(
    server: SocketAddr,
    cookie: Option<String>,
    n: usize,
    job: F,
) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    F: Fn(HttpClient, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::io::Result<(HttpClient, T)>> + Send,
{
    let job = Arc::new(job);
    let workers = SETUP_CONNECTIONS.min(n.max(1));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let job = job.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = HttpClient::new(server);
            client.cookie = cookie;
            let mut out = Vec::new();
            for i in (w..n).step_by(workers) {
                let (c, value) = job(client, i).await.map_err(|e| e.to_string())?;
                client = c;
                out.push((i, value));
            }
            Ok::<_, String>(out)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await.map_err(|e| e.to_string())??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}
