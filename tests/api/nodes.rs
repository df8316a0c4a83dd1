//! Nodes: a dead node's viewers are swept from its parties (nobody waits for them), and a
//! node that stalled past its lifetime is fenced off. The dead node here is registered by
//! hand and then never heard again, as after a `kill -9`; `tests/nodes.rs` kills real ones.

use redis::AsyncCommands;
use serde_json::{json, Value};
use wewatch::domain::{PartyId, PresenceEntry, VideoId, ViewerStatus};
use wewatch::managers::{store::connect, Managers};
use wewatch::sync::Command;

use crate::helpers::{spawn_app_with, TestApp, Viewer};

/// A node that sweeps every 100 ms. The nodes the tests register by hand live as long as
/// they say; the server's own node gets 3 s, so a machine busy with other tests never makes
/// it miss its own heartbeats and bury itself.
async fn quick_nodes() -> (TestApp, Managers) {
    let app = spawn_app_with(|s| {
        s.nodes.heartbeat_interval_ms = 100;
        s.nodes.dead_after_ms = 3000;
        s.nodes.sweep_interval_ms = 100;
    })
    .await;
    let store = connect(&app.settings.redis).await.unwrap();
    let managers = Managers::new(store.conn, &app.settings);
    (app, managers)
}

async fn state_where(viewer: &mut Viewer, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let s = viewer.expect("state").await;
        if pred(&s["state"]) {
            return s["state"].clone();
        }
    }
}

#[tokio::test]
async fn a_dead_nodes_viewers_are_swept_and_nobody_waits_for_them() {
    let (app, managers) = quick_nodes().await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let party = PartyId::Video(VideoId(video["id"].as_u64().unwrap()));
    let (mut a, _) = app.join(key).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;

    // Another node (alive for 2 s from now) serves a viewer who is still loading, so the
    // party waits for them…
    managers.nodes.register("ghost-node", 2000).await.unwrap();
    managers.nodes.serve("ghost-node", party).await.unwrap();
    let ghost = PresenceEntry {
        user_id: 999_999,
        name: "Ghost".into(),
        node: "ghost-node".into(),
        status: ViewerStatus::Buffering,
        in_sync: true,
        left_behind: false,
        away: false,
        since: 1,
    };
    managers
        .party
        .join(party, "ghost-conn", &ghost)
        .await
        .unwrap();
    managers.party.publish_viewers(party, 50).await.unwrap();
    let list = a.expect_viewers(2).await;
    assert!(list.to_string().contains("Ghost"));
    managers
        .party
        .apply(party, Command::Hold, 0, "", None, None)
        .await
        .unwrap();
    state_where(&mut a, |s| s["waiting"] == true).await;

    // …and then dies: no heartbeat ever again. The sweeper removes its viewer and the party
    // plays on.
    // (Whichever comes first: the list or the state.)
    let (mut resumed, mut listed) = (None, false);
    while resumed.is_none() || !listed {
        let message = a.expect_any().await;
        match message["type"].as_str() {
            Some("state") if message["state"]["waiting"] == false => {
                resumed = Some(message["state"].clone())
            }
            Some("viewers") => listed = !message.to_string().contains("Ghost"),
            _ => {}
        }
    }
    assert_eq!(resumed.unwrap()["paused"], false);
    let entries = managers.party.connections(party).await.unwrap();
    assert!(entries.iter().all(|e| e.node != "ghost-node"));
    assert!(managers
        .nodes
        .parties("ghost-node")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_node_that_stalled_past_its_lifetime_is_fenced_off() {
    let (app, managers) = quick_nodes().await;
    let index = wewatch::managers::Keys::new(app.prefix.clone()).node_index();
    let mut redis = app.redis.clone();
    let epoch = managers.nodes.register("stalled-node", 300).await.unwrap();
    assert!(managers
        .nodes
        .heartbeat("stalled-node", epoch, 300)
        .await
        .unwrap());
    // It stalls; the live node's sweeper buries it.
    let mut fenced = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let listed: Option<u64> = redis.hget(&index, "stalled-node").await.unwrap();
        if listed.is_none() {
            fenced = true;
            break;
        }
    }
    assert!(fenced, "a node silent past its lifetime is buried");
    // Waking up, it cannot carry on under its old epoch, nor take its id again.
    assert!(!managers
        .nodes
        .heartbeat("stalled-node", epoch, 300)
        .await
        .unwrap());
    let other = managers.nodes.register("other-node", 300).await.unwrap();
    assert!(other > epoch, "epochs only grow");
}
