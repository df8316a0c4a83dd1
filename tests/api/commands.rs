//! Commands carry a client-chosen `cmd_id`: a command retried (after a reconnect, on any
//! node) is applied once, and every command with an id is answered with `done`.

use serde_json::json;

use serde_json::Value;

use crate::helpers::{spawn_app, Viewer};

/// The `state` and the `done` a command brings, in whichever order they come.
async fn state_and_done(viewer: &mut Viewer) -> (Value, Value) {
    let (mut state, mut done) = (None, None);
    while state.is_none() || done.is_none() {
        let message = viewer.expect_any().await;
        match message["type"].as_str() {
            Some("state") => state = Some(message),
            Some("done") => done = Some(message),
            _ => {}
        }
    }
    (state.unwrap(), done.unwrap())
}

#[tokio::test]
async fn a_retried_command_is_applied_once() {
    let app = spawn_app().await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let (mut a, _) = app.join_as(key, Some(&app.owner_cookie())).await;

    a.send(json!({"type": "play", "cmd_id": "page1-1"})).await;
    let (played, done) = state_and_done(&mut a).await;
    assert_eq!(played["state"]["paused"], false);
    assert_eq!(done["cmd_id"], "page1-1");
    a.send(json!({"type": "pause", "cmd_id": "page1-2"})).await;
    let (paused, _) = state_and_done(&mut a).await;
    assert_eq!(paused["state"]["paused"], true);

    // The first play again, from a new connection of the same person (a reconnect): it was
    // applied already, so the party stays paused, and the page learns it is done.
    drop(a);
    let (mut again, _) = app.join_as(key, Some(&app.owner_cookie())).await;
    again
        .send(json!({"type": "play", "cmd_id": "page1-1"}))
        .await;
    let (answer, done) = state_and_done(&mut again).await;
    assert_eq!(answer["state"]["paused"], true, "the state as it is");
    assert_eq!(answer["state"]["seq"], paused["state"]["seq"]);
    assert_eq!(done["cmd_id"], "page1-1");

    // Another person's command with the same id is their own.
    let (mut b, _) = app.join(key).await;
    b.send(json!({"type": "play", "cmd_id": "page1-1"})).await;
    let played = b.expect("state").await;
    assert_eq!(played["state"]["paused"], false);
}

#[tokio::test]
async fn a_malformed_command_id_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, welcome) = app.join(video["invite_key"].as_str().unwrap()).await;
    for bad in [
        json!(""),
        json!("x".repeat(65)),
        json!("a b"),
        json!(7),
        json!(["x"]),
    ] {
        a.send(json!({"type": "play", "cmd_id": bad})).await;
        let error = a.expect("error").await;
        assert_eq!(error["code"], "bad_message", "{bad}");
        assert!(error["message"].as_str().unwrap().contains("cmd_id"));
    }
    a.send(json!({"type": "ping", "id": 1})).await;
    a.expect("pong").await;
    let (_, now) = app.join(video["invite_key"].as_str().unwrap()).await;
    assert_eq!(now["state"]["seq"], welcome["state"]["seq"]);
}
