//! The party protocol over a real WebSocket.

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app, spawn_app_with, Received};
use crate::raw_socket::{raw_request, upgrade_request};

fn key(video: &Value) -> String {
    video["invite_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_viewer_receives_each_new_state_with_the_same_seq() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, welcome_a) = app.join(&key(&video)).await;
    let (mut b, welcome_b) = app.join(&key(&video)).await;
    assert_eq!(
        welcome_a["state"]["paused"], true,
        "a new party starts paused"
    );
    assert_eq!(welcome_a["state"]["seq"], welcome_b["state"]["seq"]);

    a.send(json!({"type": "play"})).await;
    let (sa, sb) = (a.expect("state").await, b.expect("state").await);
    assert_eq!(sa, sb, "everyone receives the same state");
    assert_eq!(sa["state"]["paused"], false);

    a.send(json!({"type": "pause", "position_ms": 0})).await;
    let (sa, sb) = (a.expect("state").await, b.expect("state").await);
    assert_eq!(sa["state"]["seq"], sb["state"]["seq"]);
    assert_eq!(sb["state"]["paused"], true);

    a.send(json!({"type": "seek", "position_ms": 42000})).await;
    let (sa, sb) = (a.expect("state").await, b.expect("state").await);
    assert_eq!(sa["state"]["seq"], sb["state"]["seq"]);
    assert_eq!(sb["state"]["position_ms"], 42000);
    assert_eq!(sb["state"]["paused"], true);
    assert!(sb["state"]["seq"].as_u64() > welcome_b["state"]["seq"].as_u64());

    b.send(json!({"type": "rate", "rate": 1.5})).await;
    let sa = a.expect("state").await;
    assert_eq!(sa["state"]["rate"], 1.5);
}

#[tokio::test]
async fn a_play_starts_a_moment_ahead_and_a_seek_while_playing_a_little_later() {
    let app = spawn_app().await;
    let sync = &app.settings.sync;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    // How far ahead the state's start lies, on the clock of the script that made it (its
    // chat line carries that instant).
    let lead = |s: &Value| {
        s["state"]["anchor_ms"].as_u64().unwrap() - s["chat"]["at_ms"].as_u64().unwrap()
    };

    a.send(json!({"type": "play"})).await;
    assert_eq!(lead(&a.expect("state").await), sync.play_lead_ms);
    // Every player moves, paused, before they all start again.
    a.send(json!({"type": "seek", "position_ms": 30000})).await;
    assert_eq!(lead(&a.expect("state").await), sync.seek_lead_ms);
    assert!(sync.seek_lead_ms > sync.play_lead_ms, "{sync:?}");
}

#[tokio::test]
async fn a_late_joiner_receives_the_current_state() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "seek", "position_ms": 30000})).await;
    a.send(json!({"type": "play"})).await;
    let playing = loop {
        let s = a.expect("state").await;
        if s["state"]["paused"] == false {
            break s;
        }
    };
    let (_late, welcome) = app.join(&key(&video)).await;
    for field in ["seq", "position_ms", "anchor_ms", "rate"] {
        assert_eq!(
            welcome["state"][field].as_f64(),
            playing["state"][field].as_f64(),
            "{field}"
        );
    }
    assert_eq!(welcome["state"]["paused"], false);
    assert!(
        welcome["server_ms"].as_f64().unwrap() > 1.7e12,
        "server time in ms"
    );
}

#[tokio::test]
async fn pings_are_answered_with_server_time() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    a.send(json!({"type": "ping", "id": 7})).await;
    let pong = a.expect("pong").await;
    assert_eq!(pong["id"], 7);
    assert!(pong["server_ms"].as_f64().unwrap() > 1.7e12);
}

#[tokio::test]
async fn a_rotated_key_disconnects_its_viewers_and_stops_working() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut viewer, _) = app.join(&key(&video)).await;
    let id = video["id"].as_u64().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/videos/{id}/invite")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (closed, code) = viewer.expect_close().await;
    assert_eq!(closed.unwrap()["reason"], "invite_rotated");
    assert_eq!(code, Some(4001));
    let mut again = app.connect(&key(&video)).await;
    let (closed, code) = again.expect_close().await;
    assert_eq!(closed.unwrap()["reason"], "invite_invalid");
    assert_eq!(code, Some(4004));
}

#[tokio::test]
async fn deleting_a_video_tells_its_viewers() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut viewer, _) = app.join(&key(&video)).await;
    let id = video["id"].as_u64().unwrap();
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (closed, code) = viewer.expect_close().await;
    assert_eq!(closed.unwrap()["reason"], "video_deleted");
    assert_eq!(code, Some(4004));
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_the_connection_lives_on() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let table = [
        ("not json", "bad_message"),
        (r#"{"type":"dance"}"#, "unknown_type"),
        (r#"{"type":"seek"}"#, "bad_message"),
        (r#"{"type":"seek","position_ms":-5}"#, "invalid_position"),
        (r#"{"type":"rate","rate":9}"#, "invalid_rate"),
    ];
    for (frame, code) in table {
        a.send_raw(Message::Text(frame.into())).await;
        let err = a.expect("error").await;
        assert_eq!(err["code"], code, "{frame}");
    }
    a.send_raw(Message::Binary(vec![1, 2, 3])).await;
    assert_eq!(a.expect("error").await["code"], "binary_not_supported");
    let oversized = json!({"type": "ping", "id": 1, "pad": "x".repeat(5000)}).to_string();
    a.send_raw(Message::Text(oversized)).await;
    assert_eq!(a.expect("error").await["code"], "frame_too_large");
    a.send(json!({"type": "ping", "id": 2})).await;
    assert_eq!(a.expect("pong").await["id"], 2, "still connected");
}

#[tokio::test]
async fn a_frame_far_beyond_the_limit_closes_the_connection() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let huge = "x".repeat(app.settings.realtime.max_frame_bytes * 17);
    a.send_raw(Message::Text(huge)).await;
    let (_, code) = a.expect_close().await;
    assert_eq!(code, Some(1009));
}

#[tokio::test]
async fn refused_commands_change_nothing() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, welcome) = app.join(&key(&video)).await;
    a.send(json!({"type": "seek", "position_ms": f64::MAX}))
        .await;
    assert_eq!(a.expect("error").await["code"], "invalid_position");
    let (_, again) = app.join(&key(&video)).await;
    assert_eq!(again["state"]["seq"], welcome["state"]["seq"]);
}

#[tokio::test]
async fn messages_before_hello_are_refused() {
    let app = spawn_app().await;
    let video = app.video().await;
    let mut a = app.connect(&key(&video)).await;
    a.send(json!({"type": "play"})).await;
    assert_eq!(a.expect("error").await["code"], "hello_required");
    a.send(json!({"type": "hello", "protocol": 99})).await;
    assert_eq!(a.expect("error").await["code"], "protocol_unsupported");
    let (_, code) = a.expect_close().await;
    assert_eq!(code, Some(4002));
}

#[tokio::test]
async fn commands_beyond_the_rate_limit_get_a_polite_error() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut a, _) = app.join(&key(&video)).await;
    let burst = app.settings.realtime.command_burst as usize;
    for n in 0..burst + 5 {
        a.send(json!({"type": "seek", "position_ms": 1000 * n}))
            .await;
    }
    loop {
        match a.next().await {
            Received::Json(v) if v["type"] == "error" => {
                assert_eq!(v["code"], "rate_limited");
                break;
            }
            Received::Json(_) => continue,
            Received::Closed(code) => panic!("closed ({code:?}) instead of a polite error"),
        }
    }
    a.send(json!({"type": "ping", "id": 3})).await;
    assert_eq!(a.expect("pong").await["id"], 3, "still connected");
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    let video = app.video().await;
    let refused = app
        .connect_with_origin(&key(&video), Some("http://evil.example"))
        .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| "a connection")),
    }
    assert!(
        app.connect_with_origin(&key(&video), None).await.is_ok(),
        "non-browser clients send no Origin"
    );
}

#[tokio::test]
async fn a_person_with_two_connections_is_listed_once() {
    let app = spawn_app().await;
    let video = app.video().await;
    let ana = app.guest_cookie().await;
    let (mut first, _) = app.join_as(&key(&video), Some(&ana)).await;
    let (second, welcome) = app.join_as(&key(&video), Some(&ana)).await;
    let people = welcome["viewers"].as_array().unwrap();
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0]["connections"], 2);

    let (friend, _) = app
        .join_as(&key(&video), Some(&app.guest_cookie().await))
        .await;
    first.expect_viewers(2).await;
    drop(friend);
    first.expect_viewers(1).await;
    // A reload: the old connection goes, the person stays.
    drop(second);
    let list = first.expect("viewers").await;
    assert_eq!(list["viewers"].as_array().unwrap().len(), 1);
    assert_eq!(list["viewers"][0]["connections"], 1);
}

#[tokio::test]
async fn a_newcomer_to_a_large_party_gets_the_list_as_last_published() {
    // Large: more people than a list names.
    let app = spawn_app_with(|s| s.realtime.viewer_list_max = 2).await;
    let video = app.video().await;
    let mut viewers = Vec::new();
    for _ in 0..3 {
        let cookie = app.guest_cookie().await;
        viewers.push(app.join_as(&key(&video), Some(&cookie)).await);
    }
    let first_two: Vec<Value> = viewers[..2]
        .iter()
        .map(|(_, welcome)| welcome["you"]["user_id"].clone())
        .collect();
    let first = &mut viewers[0].0;
    while first.expect("viewers").await["people"] != 3 {}

    let (mut newcomer, welcome) = app
        .join_as(&key(&video), Some(&app.guest_cookie().await))
        .await;
    let named: Vec<Value> = welcome["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["user_id"].clone())
        .collect();
    assert_eq!(named, first_two, "the first to arrive, at most two");
    assert_eq!(
        welcome["people"], 3,
        "the list as published before this arrival, not reread from every connection"
    );
    while newcomer.expect("viewers").await["people"] != 4 {}
}

#[tokio::test]
async fn the_handshake_is_checked_like_any_request() {
    let app = spawn_app().await;
    let video = app.video().await;
    let path = format!("/ws/watch/{}", key(&video));

    // A first visit without a cookie: upgraded, as a new guest whose cookie comes with it.
    let head = raw_request(&app, &upgrade_request(&app, &path, "")).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "the accept key of RFC 6455's example: {head}"
    );
    assert!(head.contains("set-cookie: "), "{head}");
    assert!(head.contains("httponly"), "{head}");

    // Upgrades are only served where the party protocol lives.
    let head = raw_request(&app, &upgrade_request(&app, "/watch/x", "")).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    // Not a valid handshake (no version).
    let broken = upgrade_request(&app, &path, "").replace("Sec-WebSocket-Version: 13\r\n", "");
    let head = raw_request(&app, &broken).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    // The party address without a handshake says what it expects.
    let plain = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", app.host);
    let head = raw_request(&app, &plain).await;
    assert!(head.starts_with("http/1.1 426"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    // Origins are checked on the raw request too, including behind a proxy.
    let foreign = upgrade_request(&app, &path, "Origin: http://evil.example\r\n");
    assert!(raw_request(&app, &foreign)
        .await
        .starts_with("http/1.1 403"));
    let proxied = upgrade_request(
        &app,
        &path,
        "Origin: https://watch.example\r\nX-Forwarded-Host: watch.example\r\n",
    );
    assert!(raw_request(&app, &proxied)
        .await
        .starts_with("http/1.1 101"));
}
