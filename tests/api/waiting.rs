//! "Wait for everyone": a buffering viewer holds the party, up to the wait limit.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, Viewer};

pub(crate) fn key(video: &Value) -> String {
    video["invite_key"].as_str().unwrap().to_owned()
}

/// The next state matching `pred`.
pub(crate) async fn state_where(viewer: &mut Viewer, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let s = viewer.expect("state").await;
        if pred(&s["state"]) {
            return s["state"].clone();
        }
    }
}

/// Waits until the viewer list shows `user` with `status`, looking through fresh joins so
/// the order of list and state messages does not matter.
pub(crate) async fn status_of(app: &TestApp, key: &str, user: u64, status: &str) {
    for _ in 0..200 {
        let (_, welcome) = app.join(key).await;
        if welcome["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["user_id"] == user && v["status"] == status)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("user {user} never showed as {status}");
}

#[tokio::test]
async fn a_buffering_viewer_holds_the_party_until_ready() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut b, |s| s["paused"] == false).await;

    b.send(json!({"type": "buffering"})).await;
    // The viewer list shows who is buffering, then the party holds.
    let held = state_where(&mut a, |s| s["waiting"] == true).await;
    status_of(
        &app,
        &key(&video),
        welcome_b["you"]["user_id"].as_u64().unwrap(),
        "buffering",
    )
    .await;
    assert_eq!(held["paused"], true);

    b.send(json!({"type": "ready"})).await;
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false);
    assert_eq!(
        resumed["position_ms"], held["position_ms"],
        "resumes where it held"
    );
}

#[tokio::test]
async fn a_viewer_stalled_past_the_limit_is_left_behind() {
    let app = spawn_app_with(|s| s.sync.wait_limit_secs = 1).await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;
    b.send(json!({"type": "buffering"})).await;
    state_where(&mut a, |s| s["waiting"] == true).await;
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false, "the party went on");
    status_of(
        &app,
        &key(&video),
        welcome_b["you"]["user_id"].as_u64().unwrap(),
        "left_behind",
    )
    .await;
}

#[tokio::test]
async fn a_buffering_viewer_who_leaves_releases_the_party() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;
    b.send(json!({"type": "buffering"})).await;
    state_where(&mut a, |s| s["waiting"] == true).await;
    drop(b);
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false);
}

#[tokio::test]
async fn without_waiting_a_buffering_viewer_holds_nothing() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut host, _) = app.join_as(&key(&video), Some(&app.owner_cookie())).await;
    host.send(json!({"type": "set_wait", "enabled": false}))
        .await;
    let settings = host.expect("permissions").await;
    assert_eq!(settings["permissions"]["wait_for_everyone"], false);
    let (mut b, _) = app.join(&key(&video)).await;
    host.send(json!({"type": "play"})).await;
    let playing = state_where(&mut b, |s| s["paused"] == false).await;
    b.send(json!({"type": "buffering"})).await;
    b.send(json!({"type": "ping", "id": 1})).await;
    b.expect("pong").await;
    let (_, later) = app.join(&key(&video)).await;
    assert_eq!(later["state"]["seq"], playing["seq"], "nothing held");
}

#[tokio::test]
async fn out_of_sync_viewers_are_marked_in_the_list() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    b.send(json!({"type": "sync_status", "in_sync": false}))
        .await;
    let user = welcome_b["you"]["user_id"].as_u64().unwrap();
    status_of(&app, &key(&video), user, "out_of_sync").await;
    b.send(json!({"type": "sync_status", "in_sync": true}))
        .await;
    status_of(&app, &key(&video), user, "watching").await;
    // The list reaches viewers already there too.
    loop {
        let list = a.expect("viewers").await;
        if list["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["user_id"] == user && v["status"] == "watching")
        {
            break;
        }
    }
}
