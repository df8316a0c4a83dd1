//! "Wait for everyone" against a viewer who stalls again and again: their stalls together may
//! hold the party only so long (`[sync] stall_budget_secs` per `stall_window_secs`); then the
//! party goes on without them, however short each stall.

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::waiting::{key, state_where, status_of};

/// The party's chat line containing `words`, as the history a fresh join receives shows it
/// (so it does not matter whether it came before or after the state a test waited for).
async fn line_with(app: &TestApp, key: &str, words: &str) -> String {
    for _ in 0..200 {
        let (_, welcome) = app.join(key).await;
        let found = welcome["chat"].as_array().unwrap().iter().find_map(|m| {
            let text = m["text"].as_str().unwrap_or_default();
            text.contains(words).then(|| text.to_owned())
        });
        if let Some(text) = found {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no chat line says {words:?}");
}

fn user_id(welcome: &Value) -> u64 {
    welcome["you"]["user_id"].as_u64().unwrap()
}

#[tokio::test]
async fn a_viewer_who_holds_the_party_too_often_is_left_behind_though_each_stall_is_short() {
    // Arrange: a wait limit no stall reaches, and a budget of one second of holds a minute.
    let app = spawn_app_with(|s| {
        s.identity.guests_per_address_per_minute = 10_000;
        s.sync.wait_limit_secs = 60;
        s.sync.stall_budget_secs = 1;
        s.sync.stall_window_secs = 120;
    })
    .await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;

    // Act: a short stall, over as soon as the party held for it…
    b.send(json!({"type": "buffering"})).await;
    state_where(&mut a, |s| s["waiting"] == true).await;
    b.send(json!({"type": "ready"})).await;
    state_where(&mut a, |s| s["waiting"] == false).await;
    // …and another that outlasts what is left of the budget (not the wait limit).
    b.send(json!({"type": "buffering"})).await;
    state_where(&mut a, |s| s["waiting"] == true).await;

    // Assert: the party goes on while B still loads, and says why.
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false, "the party plays on");
    let line = line_with(&app, &key(&video), "keeps stopping").await;
    assert!(
        line.contains(welcome_b["you"]["name"].as_str().unwrap()),
        "{line}"
    );
    status_of(&app, &key(&video), user_id(&welcome_b), "left_behind").await;

    // A further stall holds nothing: B is left behind at once.
    b.send(json!({"type": "ready"})).await;
    status_of(&app, &key(&video), user_id(&welcome_b), "watching").await;
    b.send(json!({"type": "buffering"})).await;
    status_of(&app, &key(&video), user_id(&welcome_b), "left_behind").await;
    let (_, later) = app.join(&key(&video)).await;
    assert_eq!(later["state"]["seq"], resumed["seq"], "not held again");
    assert_eq!(later["state"]["waiting"], false);
}

#[tokio::test]
async fn a_viewer_still_loading_when_a_paused_party_plays_holds_it_once_they_say_so_again() {
    let app = spawn_app_with(|s| s.sync.wait_limit_secs = 60).await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    // B's first load, while the party is paused: shown loading, holding nothing.
    b.send(json!({"type": "buffering"})).await;
    status_of(&app, &key(&video), user_id(&welcome_b), "buffering").await;

    a.send(json!({"type": "play"})).await;
    state_where(&mut a, |s| s["paused"] == false).await;
    // The page, still loading as the party starts, says so again.
    b.send(json!({"type": "buffering"})).await;
    let held = state_where(&mut a, |s| s["waiting"] == true).await;
    assert_eq!(held["paused"], true);

    b.send(json!({"type": "ready"})).await;
    let resumed = state_where(&mut a, |s| s["waiting"] == false).await;
    assert_eq!(resumed["paused"], false);
}
