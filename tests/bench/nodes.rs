//! `cargo bench --bench nodes` (part of `make bench`): many nodes, one party, measured with
//! real processes on loopback — three release `wewatch` nodes with the node timings of
//! `server.toml`, HAProxy in front of them, on a standalone Redis and then on a three-master
//! Redis Cluster. It prints, for each store:
//! - fan-out across nodes: a seek sent by a viewer of one node, until each of 100 viewers
//!   spread over the three nodes holds the new state (every viewer, and the last of them);
//! - a node killed with SIGKILL: until each of its viewers, reconnecting through the proxy
//!   with the page's back-off, holds the state of a seek sent after the kill; and until its
//!   presence is swept from the party;
//! - a rolling restart (SIGTERM, start again, each node in turn) under 20 commands a second:
//!   commands lost and repeated.
//!
//! It writes the figures as JSON to `target/bench/nodes.json`. It measures; it fails only
//! when something does not work at all.

#[path = "../support/redis.rs"]
mod redis_server;

#[allow(dead_code)]
#[path = "../nodes/deployment.rs"]
mod deployment;
#[allow(dead_code)]
#[path = "../nodes/party.rs"]
mod party;
#[allow(dead_code)]
#[path = "../nodes/watcher.rs"]
mod watcher;

mod figures;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use deployment::{Deployment, Store, Timings};
use figures::{millis, Distribution};
use party::{party_of, video};
use watcher::{guest, Watcher};

/// Viewers of the fan-out party, spread evenly over the nodes.
const FANOUT_VIEWERS: usize = 100;
/// Seeks measured in the fan-out, one after another (after a few to warm up).
const FANOUT_COMMANDS: usize = 200;
const WARM_UP: usize = 10;
/// Viewers of the party whose node is killed, joined through the proxy; and kills per store.
const KILL_VIEWERS: usize = 60;
const KILLS: usize = 3;
/// Commands a second through the rolling restart.
const ROLLING_INTERVAL: Duration = Duration::from_millis(50);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this without it, and
    // then there is nothing to measure. A filter naming a store runs only that one.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("the nodes benchmark runs under `cargo bench --bench nodes` (make bench)");
        return;
    }
    let only = args.iter().find(|a| !a.starts_with('-')).cloned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut report = serde_json::Map::new();
    for (name, cluster) in [("standalone", false), ("cluster", true)] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        println!("\n== three nodes on a {name} Redis ==");
        let figures = runtime.block_on(async {
            let store = if cluster {
                Store::cluster(0)
            } else {
                Store::standalone()
            };
            json!({
                "fanout": fanout(&store).await,
                "kill": kills(&store).await,
                "rolling_restart": rolling_restart(&store).await,
            })
        });
        report.insert(name.to_owned(), figures);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("nodes.json");
    match std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()) {
        Ok(()) => println!("\nwritten to {}", path.display()),
        Err(err) => eprintln!("cannot write {}: {err}", path.display()),
    }
}

/// One seek after another from a viewer of node 0; how long each took to reach every viewer.
async fn fanout(store: &Store) -> Value {
    let deployment = Deployment::start_with(store, Timings::Defaults).await;
    let bases: Vec<String> = (0..3).map(|i| deployment.node_url(i)).collect();
    let video = video(&bases[0]).await;
    let invite = video["invite_key"].as_str().unwrap();
    let watchers = party::watchers(&bases, invite, FANOUT_VIEWERS).await;
    let mut each = Distribution::default();
    let mut last = Distribution::default();
    for i in 0..WARM_UP + FANOUT_COMMANDS {
        let position = 1000 + i as u64 * 10;
        let sent = Instant::now();
        let seq = seek(&watchers[0], position, &format!("f{i}")).await;
        let mut slowest = Duration::ZERO;
        for w in &watchers {
            w.wait("the seek", 30, |s| s.seq >= seq).await;
            let took = arrival(&w.seen(), seq).saturating_duration_since(sent);
            slowest = slowest.max(took);
            if i >= WARM_UP {
                each.add(took);
            }
        }
        if i >= WARM_UP {
            last.add(slowest);
        }
    }
    println!(
        "fan-out across nodes, seek → viewer ({FANOUT_VIEWERS} viewers on 3 nodes, {FANOUT_COMMANDS} seeks):"
    );
    println!("  every viewer   {}", each.line());
    println!("  last viewer    {}", last.line());
    json!({ "viewers": FANOUT_VIEWERS, "commands": FANOUT_COMMANDS,
            "every_viewer_ms": each.json(), "last_viewer_ms": last.json() })
}

/// Sends a seek and waits until the sender holds the state it made; that state's seq.
async fn seek(sender: &Watcher, position_ms: u64, id: &str) -> u64 {
    sender.command(json!({"type": "seek", "position_ms": position_ms, "cmd_id": id}));
    sender
        .wait("the seek to be done", 30, |s| s.done.contains(id))
        .await;
    let found = |s: &watcher::Seen| {
        s.states
            .iter()
            .rev()
            .find(|(_, st)| st["position_ms"].as_f64() == Some(position_ms as f64))
            .map(|(seq, _)| *seq)
    };
    sender
        .wait("the seek's state", 30, |s| found(s).is_some())
        .await;
    found(&sender.seen()).unwrap()
}

/// When the watcher first held the state `seq` or a later one.
fn arrival(seen: &watcher::Seen, seq: u64) -> Instant {
    seen.arrived
        .range(seq..)
        .map(|(_, at)| *at)
        .min()
        .expect("a state at or after seq")
}

/// Kills a node (not the sender's) `KILLS` times; how long its viewers took to be back.
async fn kills(store: &Store) -> Value {
    let mut deployment = Deployment::start_with(store, Timings::Defaults).await;
    let proxy = deployment.proxy_url();
    let video = video(&proxy).await;
    let invite = video["invite_key"].as_str().unwrap();
    let mut conn = store.connection().await;
    let keys = wewatch::managers::Keys::new(deployment.prefix.clone());
    let conns = keys.party_conns(&party_of(&video));
    // The sender stays on node 0.
    let sender_cookie = guest(&deployment.node_url(0)).await;
    let sender = Watcher::start(&deployment.node_url(0), invite, &sender_cookie);
    sender.wait("joined", 30, |s| s.connected).await;
    let mut back = Distribution::default();
    let mut swept = Distribution::default();
    for round in 0..KILLS {
        let victim = 1 + round % 2;
        // A new crowd each round, so the restarted node has its share (the proxy sends each
        // new connection to the node with the fewest).
        let proxies = vec![proxy.clone()];
        let viewers = party::watchers(&proxies, invite, KILL_VIEWERS).await;
        let before: Vec<usize> = viewers.iter().map(|w| w.seen().welcomes).collect();
        deployment.kill(victim);
        let killed = Instant::now();
        let seq = seek(&sender, 5_000 + round as u64, &format!("k{round}")).await;
        let mut moved = 0;
        for (w, welcomes) in viewers.iter().zip(before) {
            w.wait("back after the kill", 60, |s| s.seq >= seq).await;
            let seen = w.seen();
            if seen.welcomes > welcomes {
                moved += 1;
                back.add(arrival(&seen, seq).saturating_duration_since(killed));
            }
        }
        let live = 1 + viewers.len();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if swept_to(&mut conn, &conns, &keys, live).await {
                break;
            }
            assert!(Instant::now() < deadline, "the dead node was never swept");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        swept.add(killed.elapsed());
        println!(
            "  kill {}: {moved} of {KILL_VIEWERS} viewers were on the killed node",
            round + 1
        );
        drop(viewers);
        deployment.restart(victim).await;
        // The proxy takes the node back after two good checks.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    println!("node killed (SIGKILL), {KILLS} times; node timings of server.toml:");
    println!(
        "  its viewers hold the party's state again   {}",
        back.line()
    );
    println!(
        "  its presence swept from the party          {}",
        swept.line()
    );
    json!({ "kills": KILLS, "viewers": KILL_VIEWERS,
            "back_in_sync_ms": back.json(), "presence_swept_ms": swept.json() })
}

/// Whether the party's presence holds exactly `live` records, each of a live node.
async fn swept_to(
    conn: &mut wewatch::managers::StoreConnection,
    conns: &str,
    keys: &wewatch::managers::Keys,
    live: usize,
) -> bool {
    use redis::AsyncCommands;
    let entries: std::collections::HashMap<String, String> =
        conn.hgetall(conns).await.unwrap_or_default();
    let nodes: std::collections::HashMap<String, u64> =
        conn.hgetall(keys.node_index()).await.unwrap_or_default();
    entries.len() == live
        && entries.values().all(|e| {
            serde_json::from_str::<Value>(e)
                .ok()
                .and_then(|entry| entry["node"].as_str().map(|n| nodes.contains_key(n)))
                .unwrap_or(false)
        })
}

/// Steady commands while every node is stopped and started again in turn.
async fn rolling_restart(store: &Store) -> Value {
    let mut deployment = Deployment::start_with(store, Timings::Defaults).await;
    let proxy = deployment.proxy_url();
    let video = video(&proxy).await;
    let invite = video["invite_key"].as_str().unwrap();
    let viewers = party::watchers(std::slice::from_ref(&proxy), invite, 6).await;
    let start = viewers[0].seen().seq;
    let send = viewers[0].command_sender();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let commands = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sent += 1;
                let _ = send.send(json!({
                    "type": "seek", "position_ms": 1000 + sent * 10, "cmd_id": format!("r{sent}"),
                }));
                tokio::time::sleep(ROLLING_INTERVAL).await;
            }
            sent
        })
    };
    let began = Instant::now();
    for i in 0..3 {
        deployment.stop(i).await;
        deployment.restart(i).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = commands.await.unwrap();
    let took = began.elapsed();
    viewers[0]
        .wait("every command done", 120, |s| s.done.len() as u64 >= sent)
        .await;
    let last = viewers[0].seen().seq;
    for w in &viewers {
        w.wait("the last state", 60, |s| s.seq >= last).await;
    }
    // Each seek goes to a position of its own: a position never seen is a command lost, one
    // seen in two states a command applied twice.
    let seen = viewers[0].seen();
    let mut applied = std::collections::HashMap::<u64, u32>::new();
    for (_, state) in seen.states.range(start + 1..=last) {
        if let Some(p) = state["position_ms"].as_f64() {
            *applied.entry(p as u64).or_default() += 1;
        }
    }
    let lost = (1..=sent)
        .filter(|i| !applied.contains_key(&(1000 + i * 10)))
        .count();
    let repeated: u32 = applied.values().map(|n| n - 1).sum();
    let reconnects: usize = viewers.iter().map(|w| w.seen().welcomes - 1).sum();
    println!(
        "rolling restart of the three nodes in {}: {sent} commands, {lost} lost, {repeated} repeated ({reconnects} reconnections of 6 viewers)",
        millis(took)
    );
    json!({ "commands": sent, "lost": lost, "repeated": repeated,
            "reconnections": reconnects, "took_ms": took.as_millis() as u64 })
}
