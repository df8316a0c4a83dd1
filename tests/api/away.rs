//! Viewers whose connection went silent: shown `away` after `[realtime] away_after_ms`, no
//! longer waited for, back with their next frame, and removed at the heartbeat timeout.

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::waiting::{key, state_where, status_of};

/// Short limits: away after 1 s of silence, removed after 4 s.
async fn app() -> TestApp {
    spawn_app_with(|s| {
        // The lists are read through fresh joins, each a new guest.
        s.identity.guests_per_address_per_minute = 10_000;
        s.realtime.heartbeat_interval_secs = 1;
        s.realtime.client_timeout_secs = 4;
        s.realtime.away_after_ms = 1000;
    })
    .await
}

fn user_id(welcome: &Value) -> u64 {
    welcome["you"]["user_id"].as_u64().unwrap()
}

/// Waits until the viewer list a fresh join receives no longer names `user`.
async fn gone(app: &TestApp, key: &str, user: u64) {
    for _ in 0..400 {
        let (_, welcome) = app.join(key).await;
        let listed = welcome["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["user_id"] == user);
        if !listed {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("user {user} was never removed");
}

#[tokio::test]
async fn a_silent_viewer_shows_away_comes_back_when_heard_and_is_removed_at_the_timeout() {
    let app = app().await;
    let video = app.video().await;
    // B's socket is not read, so B answers neither the server's pings nor anything else.
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    let user = user_id(&welcome_b);

    status_of(&app, &key(&video), user, "away").await;

    b.send(json!({"type": "ping", "id": 1})).await;
    b.expect("pong").await;
    status_of(&app, &key(&video), user, "watching").await;

    gone(&app, &key(&video), user).await;
}

#[tokio::test]
async fn a_party_waiting_for_a_viewer_goes_on_once_that_viewer_is_away() {
    let app = spawn_app_with(|s| {
        s.realtime.heartbeat_interval_secs = 1;
        s.realtime.client_timeout_secs = 30;
        s.realtime.away_after_ms = 1000;
        s.sync.wait_limit_secs = 60;
    })
    .await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;
    b.send(json!({"type": "buffering"})).await;
    state_where(&mut a, |s| s["waiting"] == true).await;

    // B falls silent while the party waits for it (A keeps reading, so A stays present).
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false, "the party went on without B");
    status_of(&app, &key(&video), user_id(&welcome_b), "away").await;
}
