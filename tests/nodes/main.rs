//! Many nodes, one party, with real processes on loopback: three `wewatch` nodes behind
//! HAProxy, on a standalone Redis and on a three-master Redis Cluster. A party spread over
//! the nodes stays in one order; a node killed with SIGKILL loses its viewers to the others,
//! in sync, its presence swept and nobody waiting for it; a rolling restart under steady
//! commands loses and repeats none; a live party's slot moving to another master leaves the
//! party working. A master failing over to its replica leaves it working only some of the
//! time: that test is ignored.

#[path = "../support/redis.rs"]
mod redis_server;

mod deployment;
mod party;
mod watcher;

use std::time::Duration;

use redis::AsyncCommands;
use serde_json::{json, Value};

use deployment::{Deployment, Store};
use party::{all_see, party_of, seek_seen_by_all, video, watchers};
use watcher::{guest, Watcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_spread_over_three_nodes_sees_every_command_in_one_order() {
    for store in Store::both() {
        let deployment = Deployment::start(&store).await;
        let bases: Vec<String> = (0..3).map(|i| deployment.node_url(i)).collect();
        let video = video(&bases[0]).await;
        let invite = video["invite_key"].as_str().unwrap();
        let watchers = watchers(&bases, invite, 6).await;
        for i in 0..12u64 {
            // From each node in turn.
            seek_seen_by_all(
                &watchers,
                (i % 6) as usize,
                1000 + i * 500,
                &format!("s{i}"),
            )
            .await;
        }
        // The same states, in the same order, everywhere.
        let reference: Vec<(u64, Value)> = watchers[0]
            .seen()
            .states
            .into_iter()
            .map(|(seq, s)| (seq, s["position_ms"].clone()))
            .collect();
        for w in &watchers[1..] {
            let seen: Vec<(u64, Value)> = w
                .seen()
                .states
                .into_iter()
                .filter(|(seq, _)| *seq >= reference[0].0)
                .map(|(seq, s)| (seq, s["position_ms"].clone()))
                .collect();
            let from = seen[0].0;
            let expected: Vec<_> = reference
                .iter()
                .filter(|(q, _)| *q >= from)
                .cloned()
                .collect();
            assert_eq!(seen, expected, "one order (cluster: {})", store.cluster);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_viewers_come_back_in_sync_and_its_presence_is_swept() {
    for store in Store::both() {
        let mut deployment = Deployment::start(&store).await;
        let proxy = deployment.proxy_url();
        let video = video(&proxy).await;
        let invite = video["invite_key"].as_str().unwrap();
        let bases: Vec<String> = (0..3).map(|i| deployment.node_url(i)).collect();
        // Six viewers, two on each node (directly), and one through the proxy to send.
        let mut watchers = watchers(&bases, invite, 6).await;
        let cookie = guest(&proxy).await;
        watchers.push(Watcher::start(&proxy, invite, &cookie));
        watchers[6].wait("joined", 30, |s| s.connected).await;
        let mut conn = store.connection().await;
        let keys = wewatch::managers::Keys::new(deployment.prefix.clone());
        let conns = keys.party_conns(&party_of(&video));
        let count: usize = conn.hlen(&conns).await.unwrap();
        assert_eq!(count, 7);

        // Node 2 dies. Its two viewers were connected to it directly: they come back through
        // the proxy, as a page behind a load balancer would.
        deployment.kill(2);
        let killed = std::time::Instant::now();
        // (Watchers 2 and 5 were on node 2.)
        drop(watchers.remove(5));
        drop(watchers.remove(2));
        for _ in 0..2 {
            let cookie = guest(&proxy).await;
            watchers.push(Watcher::start(&proxy, invite, &cookie));
        }
        for w in &watchers {
            w.wait("connected after the kill", 60, |s| s.connected)
                .await;
        }
        let seq = seek_seen_by_all(&watchers, 4, 42_000, "after-kill").await;
        all_see(&watchers, seq).await;
        eprintln!(
            "cluster {}: viewers back in sync {} ms after the kill",
            store.cluster,
            killed.elapsed().as_millis()
        );

        // The dead node's two connections are swept: one record per live connection, each
        // of a live node.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let entries: std::collections::HashMap<String, String> =
                conn.hgetall(&conns).await.unwrap();
            let live: std::collections::HashMap<String, u64> =
                conn.hgetall(keys.node_index()).await.unwrap();
            let all_live = entries.values().all(|e| {
                let entry: Value = serde_json::from_str(e).unwrap();
                live.contains_key(entry["node"].as_str().unwrap())
            });
            if entries.len() == watchers.len() && all_live {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the dead node's presence is swept: {} records for {} viewers",
                entries.len(),
                watchers.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!(
            "cluster {}: presence swept {} ms after the kill",
            store.cluster,
            killed.elapsed().as_millis()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_steady_commands_loses_and_repeats_none() {
    for store in Store::both() {
        let mut deployment = Deployment::start(&store).await;
        let proxy = deployment.proxy_url();
        let video = video(&proxy).await;
        let invite = video["invite_key"].as_str().unwrap();
        let proxies = vec![proxy.clone()];
        let watchers = watchers(&proxies, invite, 6).await;
        let start = watchers[0].seen().seq;

        // 20 commands a second from one viewer, each a seek to a position of its own, while
        // every node is stopped (SIGTERM) and started again in turn.
        let sender = &watchers[0];
        let total = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let commands = {
            let (total, stop) = (total.clone(), stop.clone());
            let send = sender.command_sender();
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let _ = send.send(json!({
                        "type": "seek",
                        "position_ms": 1000 + i * 10,
                        "cmd_id": format!("r{i}"),
                    }));
                    total.store(i, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        for i in 0..3 {
            deployment.stop(i).await;
            deployment.restart(i).await;
            // HAProxy takes a restarted node back after two good checks.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        commands.await.unwrap();
        let sent = total.load(std::sync::atomic::Ordering::Relaxed);
        sender
            .wait("every command done", 60, |s| s.done.len() as u64 == sent)
            .await;
        let last = sender.seen().seq;
        all_see(&watchers, last).await;
        // Each seek changes the state once: as many new states as commands sent.
        assert_eq!(
            last - start,
            sent,
            "commands lost or repeated in the rolling restart (cluster: {})",
            store.cluster
        );
        let final_state = &watchers[0].seen().states[&last];
        assert_eq!(
            final_state["position_ms"].as_f64().unwrap() as u64,
            1000 + sent * 10
        );
        eprintln!(
            "cluster {}: {sent} commands through a rolling restart, none lost or repeated",
            store.cluster
        );
    }
}

/// The master serving `slot`, and another master.
fn masters_for(store: &Store, slot: u16) -> (u16, u16) {
    let nodes = redis_server::cli(store.servers[0].port, &["CLUSTER", "NODES"]).unwrap();
    let mut owner = None;
    let mut other = None;
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 8 || !fields[2].contains("master") || fields[2].contains("fail") {
            continue;
        }
        let port: u16 = fields[1]
            .split('@')
            .next()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap();
        let serves = fields[8..].iter().any(|range| {
            let mut bounds = range.split('-').filter_map(|b| b.parse::<u16>().ok());
            match (bounds.next(), bounds.next()) {
                (Some(a), Some(b)) => (a..=b).contains(&slot),
                (Some(a), None) => a == slot,
                _ => false,
            }
        });
        if serves {
            owner = Some(port);
        } else {
            other = Some(port);
        }
    }
    (owner.expect("an owner"), other.expect("another master"))
}

fn node_id(port: u16) -> String {
    redis_server::cli(port, &["CLUSTER", "MYID"])
        .unwrap()
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_partys_slot_moving_to_another_master_keeps_it_working() {
    let store = Store::cluster(0);
    let deployment = Deployment::start(&store).await;
    let bases: Vec<String> = (0..3).map(|i| deployment.node_url(i)).collect();
    let video = video(&bases[0]).await;
    let invite = video["invite_key"].as_str().unwrap();
    let watchers = watchers(&bases, invite, 3).await;
    seek_seen_by_all(&watchers, 0, 5_000, "before").await;

    // Move the party's slot, keys and all, to another master.
    let tag = party_of(&video);
    let slot: u16 = redis_server::cli(store.servers[0].port, &["CLUSTER", "KEYSLOT", &tag])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (from, to) = masters_for(&store, slot);
    let (from_id, to_id) = (node_id(from), node_id(to));
    let s = slot.to_string();
    redis_server::cli(to, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &from_id]).unwrap();
    redis_server::cli(from, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &to_id]).unwrap();
    loop {
        let keys = redis_server::cli(from, &["CLUSTER", "GETKEYSINSLOT", &s, "100"]).unwrap();
        let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
        if keys.is_empty() {
            break;
        }
        let mut args = vec!["MIGRATE", "127.0.0.1"];
        let to_port = to.to_string();
        args.extend([to_port.as_str(), "", "0", "5000", "KEYS"]);
        args.extend(keys);
        redis_server::cli(from, &args).expect("MIGRATE");
    }
    for server in &store.servers {
        redis_server::cli(server.port, &["CLUSTER", "SETSLOT", &s, "NODE", &to_id]).unwrap();
    }

    // Every node's subscription for the party was dropped by Redis; they subscribe again on
    // the new master, and the party goes on for everyone.
    for (i, w) in watchers.iter().enumerate() {
        seek_seen_by_all(&watchers, i, 10_000 + i as u64 * 1000, &format!("after{i}")).await;
        w.wait("still connected", 5, |s| s.connected).await;
    }
    assert_eq!(masters_for(&store, slot).0, to, "the slot moved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "not yet reliable: in about one run of three the viewers of a party whose master failed over reconnect but their commands are never applied (run with --ignored)"]
async fn a_master_failing_over_to_its_replica_leaves_the_party_working() {
    let mut store = Store::cluster(1);
    let deployment = Deployment::start(&store).await;
    let bases: Vec<String> = (0..3).map(|i| deployment.node_url(i)).collect();
    let video = video(&bases[0]).await;
    let invite = video["invite_key"].as_str().unwrap();
    let watchers = watchers(&bases, invite, 3).await;
    seek_seen_by_all(&watchers, 0, 5_000, "before").await;

    let tag = party_of(&video);
    let slot: u16 = redis_server::cli(store.servers[0].port, &["CLUSTER", "KEYSLOT", &tag])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (master, _) = masters_for(&store, slot);
    let failed = store.servers.iter().position(|s| s.port == master).unwrap();
    store.servers[failed].kill();

    // Its replica is promoted; commands reach every viewer again.
    let alive = store
        .servers
        .iter()
        .find(|s| s.port != master)
        .unwrap()
        .port;
    redis_server::wait_until("the replica to be promoted", || {
        redis_server::cli(alive, &["CLUSTER", "INFO"])
            .is_some_and(|i| i.contains("cluster_state:ok"))
            && redis_server::cli(alive, &["CLUSTER", "NODES"]).is_some_and(|n| {
                n.lines()
                    .filter(|l| l.contains("master") && !l.contains("fail"))
                    .count()
                    == 3
            })
    });
    for (i, w) in watchers.iter().enumerate() {
        seek_seen_by_all(
            &watchers,
            i,
            20_000 + i as u64 * 1000,
            &format!("failover{i}"),
        )
        .await;
        w.wait("connected", 30, |s| s.connected).await;
    }
}
