//! Many viewers at once: joined with a bounded number of handshakes in flight, each then
//! handed to a reader thread (`reader`) from the moment its `welcome` arrives.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

use crate::reader::{self, Watch};
use crate::stats::Summary;
use crate::viewer::{self, lock, Clock, Plan, Probe, Tally};
use crate::wire::Inbox;

/// Handshakes in flight at once: enough to keep the server busy, few enough to stay
/// far below its accept backlog.
pub const JOIN_CONCURRENCY: usize = 128;

/// Viewers that are connected (or were, until their connection ended).
pub struct Crowd {
    id: u64,
    pub probes: Vec<Arc<Probe>>,
    /// Joins in progress (or done).
    tasks: Vec<JoinHandle<()>>,
}

impl Default for Crowd {
    fn default() -> Self {
        Self {
            id: reader::next_crowd(),
            probes: Vec::new(),
            tasks: Vec::new(),
        }
    }
}

impl Crowd {
    /// Viewers whose connection is still open.
    pub fn open(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| !p.closed.load(Ordering::Acquire))
            .count()
    }

    /// Why connections that have ended ended → how many.
    pub fn endings(&self) -> BTreeMap<String, u64> {
        let mut endings = BTreeMap::new();
        for probe in &self.probes {
            if let Some(why) = lock(&probe.ending).clone() {
                *endings.entry(why).or_insert(0) += 1;
            }
        }
        endings
    }

    /// Adds a viewer whose socket is open already (no server behind it), read like any
    /// other.
    pub fn adopt(
        &mut self,
        stream: std::net::TcpStream,
        probe: Arc<Probe>,
        tally: Option<Arc<Tally>>,
        clock: Clock,
    ) {
        self.probes.push(probe.clone());
        let joined = viewer::Joined {
            stream,
            inbox: Inbox::default(),
        };
        let watch = Watch {
            crowd: self.id,
            probe,
            tally,
            clock,
        };
        reader::pool().adopt(joined, watch, None);
    }

    /// Closes every connection.
    pub fn close(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        if !self.probes.is_empty() {
            reader::pool().close(self.id);
        }
        self.probes.clear();
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        self.close();
    }
}

/// How a batch of joins went.
pub struct JoinReport {
    pub joined: usize,
    /// Failure reason → how many.
    pub errors: BTreeMap<String, u64>,
    /// Connect → `welcome`, per joined viewer.
    pub connect: Summary,
    pub wall_secs: f64,
}

impl JoinReport {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Joins every plan's viewer to `crowd` and waits until each has its `welcome` or failed.
/// Viewers still waiting when `budget` has passed are given up (and counted as errors).
pub async fn join_all(
    server: SocketAddr,
    plans: Vec<Plan>,
    crowd: &mut Crowd,
    clock: Clock,
    budget: Duration,
) -> JoinReport {
    let gate = Arc::new(Semaphore::new(JOIN_CONCURRENCY));
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + budget;
    let first = crowd.tasks.len();
    let mut outcomes = Vec::with_capacity(plans.len());
    for plan in plans {
        let (tx, rx) = oneshot::channel();
        let gate = gate.clone();
        let crowd_id = crowd.id;
        crowd.probes.push(plan.probe.clone());
        crowd.tasks.push(tokio::spawn(async move {
            // unwrap: the semaphore is never closed.
            let permit = gate.acquire_owned().await.expect("open semaphore");
            let began = Instant::now();
            let watch = Watch {
                crowd: crowd_id,
                probe: plan.probe.clone(),
                tally: plan.tally.clone(),
                clock,
            };
            let joined =
                tokio::time::timeout(viewer::JOIN_TIMEOUT, viewer::join(server, &plan, &watch))
                    .await;
            drop(permit);
            match joined {
                Ok(Ok(joined)) => {
                    reader::pool().adopt(joined, watch, plan.remote.as_ref());
                    let _ = tx.send(Ok(began.elapsed().as_nanos() as u64));
                }
                Ok(Err(reason)) => {
                    plan.probe.closed.store(true, Ordering::Release);
                    let _ = tx.send(Err(reason));
                }
                Err(_) => {
                    plan.probe.closed.store(true, Ordering::Release);
                    let _ = tx.send(Err("timed out before welcome".into()));
                }
            }
        }));
        outcomes.push(rx);
    }
    let mut times = Vec::new();
    let mut errors = BTreeMap::new();
    for (i, rx) in outcomes.into_iter().enumerate() {
        let reason = match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(ns))) => {
                times.push(ns);
                continue;
            }
            Ok(Ok(Err(reason))) => reason,
            Ok(Err(_)) => "task ended".to_owned(),
            Err(_) => {
                crowd.tasks[first + i].abort();
                crowd.probes[first + i]
                    .closed
                    .store(true, Ordering::Release);
                format!(
                    "not joined within the join budget of {} s",
                    budget.as_secs()
                )
            }
        };
        *errors.entry(reason).or_insert(0) += 1;
    }
    JoinReport {
        joined: times.len(),
        errors,
        connect: Summary::of(&mut times),
        wall_secs: start.elapsed().as_secs_f64(),
    }
}
