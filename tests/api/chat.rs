//! Chat over the party connection: stored, replayed, limited, announced.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Received};

fn key(video: &serde_json::Value) -> String {
    video["invite_key"].as_str().unwrap().to_owned()
}

/// Waits for the next user chat message (skipping system lines).
async fn next_user_chat(viewer: &mut crate::helpers::Viewer) -> serde_json::Value {
    loop {
        let m = viewer.expect("chat").await;
        if m["message"]["kind"] == "user" {
            return m;
        }
    }
}

#[tokio::test]
async fn chat_is_stored_and_replayed_to_whoever_joins() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "seek", "position_ms": 12000})).await;
    a.send(json!({"type": "chat", "text": "  <img src=x onerror=alert(1)>  "}))
        .await;
    let received = next_user_chat(&mut b).await;
    let message = &received["message"];
    assert_eq!(
        message["text"], "<img src=x onerror=alert(1)>",
        "text stays text, trimmed"
    );
    assert_eq!(
        message["position_ms"], 12000,
        "carries the video position it was written at"
    );
    assert_eq!(message["media"], format!("video:{}", video["id"]));

    let (_late, welcome) = app.join(&key(&video)).await;
    let history = welcome["chat"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|m| m["text"] == "<img src=x onerror=alert(1)>"),
        "{history:?}"
    );
    assert!(
        history.iter().any(
            |m| m["kind"] == "system" && m["text"].as_str().unwrap().contains("jumped to 0:12")
        ),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_control_action_and_its_chat_line_arrive_as_one_event() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "seek", "position_ms": 3_723_000}))
        .await;
    let state = b.expect("state").await;
    assert_eq!(state["state"]["position_ms"], 3_723_000);
    let line = &state["chat"];
    assert_eq!(line["kind"], "system");
    assert!(
        line["text"]
            .as_str()
            .unwrap()
            .ends_with(" jumped to 1:02:03"),
        "{line}"
    );
    assert_eq!(line["media"], format!("video:{}", video["id"]));
    // Stored like any message: whoever joins later reads it in the history.
    let (_late, welcome) = app.join(&key(&video)).await;
    let history = welcome["chat"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|m| m["id"] == line["id"] && m["text"] == line["text"]),
        "{history:?}"
    );
}

#[tokio::test]
async fn the_history_keeps_only_the_last_messages() {
    let app = spawn_app_with(|s| {
        s.chat.history = 3;
        s.chat.per_window = 100;
    })
    .await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    for n in 0..5 {
        a.send(json!({"type": "chat", "text": format!("message {n}")}))
            .await;
        next_user_chat(&mut a).await;
    }
    let (_b, welcome) = app.join(&key(&video)).await;
    let texts: Vec<&str> = welcome["chat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3);
    assert_eq!(texts.last(), Some(&"message 4"));
}

#[tokio::test]
async fn too_long_empty_and_too_fast_messages_get_polite_errors() {
    let app = spawn_app_with(|s| {
        s.chat.per_window = 3;
        s.chat.window_secs = 60;
    })
    .await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "chat", "text": "x".repeat(501)}))
        .await;
    assert_eq!(a.expect("error").await["code"], "chat_too_long");
    a.send(json!({"type": "chat", "text": " \n "})).await;
    assert_eq!(a.expect("error").await["code"], "chat_empty");
    a.send(json!({"type": "chat", "text": "é".repeat(500)}))
        .await;
    next_user_chat(&mut a).await;
    for _ in 0..2 {
        a.send(json!({"type": "chat", "text": "hi"})).await;
        next_user_chat(&mut a).await;
    }
    a.send(json!({"type": "chat", "text": "one too many"}))
        .await;
    loop {
        match a.next().await {
            Received::Json(v) if v["type"] == "error" => {
                assert_eq!(v["code"], "chat_rate_limited");
                assert!(v["message"].as_str().unwrap().contains("Wait"));
                break;
            }
            Received::Json(v) => assert_ne!(
                v["message"]["text"], "one too many",
                "the excess message is not sent"
            ),
            Received::Closed(code) => panic!("disconnected ({code:?}) instead of a polite error"),
        }
    }
    a.send(json!({"type": "ping", "id": 1})).await;
    assert_eq!(a.expect("pong").await["id"], 1, "still connected");
}

#[tokio::test]
async fn joins_and_control_actions_are_announced_but_a_reload_is_not() {
    let app = spawn_app_with(|s| s.chat.departure_grace_secs = 1).await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let bob = app.guest_cookie().await;
    let (b, welcome) = app.join_as(&key(&video), Some(&bob)).await;
    let bob_joined = format!("{} joined", welcome["you"]["name"].as_str().unwrap());
    let joined = loop {
        let line = a.expect("chat").await;
        if line["message"]["text"] == bob_joined {
            break line;
        }
    };
    assert_eq!(joined["message"]["kind"], "system");

    // Bob reloads: the old connection closes, a new one opens within the grace period.
    drop(b);
    let (mut b, _) = app.join_as(&key(&video), Some(&bob)).await;
    b.send(json!({"type": "pause", "position_ms": 0})).await;
    b.send(json!({"type": "play"})).await;
    // The first line after the reload is the play's, carried by its state.
    let line = loop {
        match a.next().await {
            Received::Json(v) if v["type"] == "chat" => break v["message"].clone(),
            Received::Json(v) if v["type"] == "state" && v["chat"].is_object() => {
                break v["chat"].clone()
            }
            Received::Json(_) => continue,
            Received::Closed(code) => panic!("closed ({code:?})"),
        }
    };
    assert!(
        line["text"].as_str().unwrap().contains(" played from 0:00"),
        "no join line for a reload: {line}"
    );

    drop(b);
    let left = a.expect("chat").await;
    assert!(
        left["message"]["text"].as_str().unwrap().ends_with(" left"),
        "{left}"
    );
}

#[tokio::test]
async fn a_new_display_name_shows_at_once_in_the_viewer_list_and_new_messages() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let (mut b, _) = app.join(&key(&video)).await;
    b.send(json!({"type": "set_name", "name": "Ana"})).await;
    loop {
        let list = a.expect("viewers").await;
        if list["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "Ana")
        {
            break;
        }
    }
    b.send(json!({"type": "chat", "text": "hello"})).await;
    assert_eq!(next_user_chat(&mut a).await["message"]["name"], "Ana");
    b.send(json!({"type": "set_name", "name": ""})).await;
    assert_eq!(b.expect("error").await["code"], "invalid_name");
}
