//! Whatever a client does, the server stays bounded: a client that floods and never reads
//! is disconnected, a half-sent frame does not dodge the heartbeat, and connections per
//! address and per person are capped.

use std::time::Duration;

use crate::helpers::{spawn_app, spawn_app_with};
use crate::raw_socket::{
    frame, raw_request, text, upgrade_request, RawSocket, CLOSE, FIN, PING, PONG, TEXT,
};

#[tokio::test]
async fn a_client_that_sends_and_never_reads_is_disconnected() {
    let app = spawn_app_with(|s| {
        s.realtime.max_queued_bytes = 16 * 1024;
        s.realtime.heartbeat_interval_secs = 1;
        s.realtime.client_timeout_secs = 3;
    })
    .await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let mut flooder = RawSocket::joined(&app, key, "").await;

    // Every message beyond the rate limit earns an error reply the client never reads.
    let batch: Vec<u8> = (0..1000)
        .flat_map(|id| text(&format!(r#"{{"type":"ping","id":{id}}}"#)))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let write = tokio::time::timeout(Duration::from_secs(5), async {
            use tokio::io::AsyncWriteExt;
            flooder.stream.write_all(&batch).await
        })
        .await;
        match write {
            Ok(Ok(())) => {}
            // The server stopped reading, or closed: either way it holds nothing for us.
            _ => break,
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never gave up on a client that does not read"
        );
    }
    assert!(flooder.ends().await, "the connection is closed");

    // The server is unharmed.
    let mut other = RawSocket::joined(&app, key, "").await;
    other.send(&text(r#"{"type":"ping","id":1}"#)).await;
    assert!(other.next_frame().await.is_some());
}

#[tokio::test]
async fn a_half_sent_frame_does_not_dodge_the_heartbeat() {
    let app = spawn_app_with(|s| {
        s.realtime.heartbeat_interval_secs = 1;
        s.realtime.client_timeout_secs = 2;
    })
    .await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let mut socket = RawSocket::joined(&app, key, "").await;

    // A frame that declares 1000 bytes, then arrives a byte at a time, never whole.
    let whole = frame(FIN | TEXT, &[b' '; 1000], true);
    socket.send(&whole[..8]).await;
    let mut rest = whole[8..].iter();
    let code = loop {
        tokio::select! {
            frame = socket.next_frame() => match frame {
                None => break None,
                Some(f) if f.opcode == CLOSE && f.payload.len() >= 2 => {
                    break Some(u16::from_be_bytes([f.payload[0], f.payload[1]]))
                }
                Some(_) => {}
            },
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                let byte = rest.next().expect("closed before the frame could complete");
                socket.send(&[*byte]).await;
            }
        }
    };
    assert_eq!(code, Some(4000), "closed for silence (heartbeat_timeout)");
}

#[tokio::test]
async fn connections_are_capped_per_person_and_per_address() {
    let app = spawn_app_with(|s| {
        s.realtime.max_connections_per_user = 2;
        s.realtime.max_connections_per_address = 3;
    })
    .await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let ana = format!("Cookie: wewatch={}\r\n", app.guest_cookie().await);
    let ben = format!("Cookie: wewatch={}\r\n", app.guest_cookie().await);
    let path = format!("/ws/watch/{key}");

    let ana1 = RawSocket::joined(&app, key, &ana).await;
    let _ana2 = RawSocket::joined(&app, key, &ana).await;
    let head = raw_request(&app, &upgrade_request(&app, &path, &ana)).await;
    assert!(
        head.starts_with("http/1.1 429"),
        "a third tab of one person: {head}"
    );
    let _ben1 = RawSocket::joined(&app, key, &ben).await;
    let head = raw_request(&app, &upgrade_request(&app, &path, &ben)).await;
    assert!(
        head.starts_with("http/1.1 429"),
        "a fourth connection from one address: {head}"
    );

    // A closed connection gives its place back (once its session has ended).
    drop(ana1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let head = raw_request(&app, &upgrade_request(&app, &path, &ana)).await;
        if head.starts_with("http/1.1 101") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back: {head}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn new_guests_per_address_are_capped_per_minute() {
    let app = spawn_app_with(|s| s.identity.guests_per_address_per_minute = 3).await;
    let video = app.video().await; // the main client is the first guest
    let key = video["invite_key"].as_str().unwrap();
    let fresh = || reqwest::Client::new();
    assert_eq!(
        fresh().get(app.url("/")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        fresh()
            .get(app.url("/api/v1/videos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The fourth new guest of the minute is refused, on pages, the API and the socket.
    let page = fresh().get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.text().await.unwrap().contains("Wait a minute"));
    let api = fresh().get(app.url("/api/v1/videos")).send().await.unwrap();
    assert_eq!(api.status(), 429);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "too_many_guests");
    let path = format!("/ws/watch/{key}");
    let head = raw_request(&app, &upgrade_request(&app, &path, "")).await;
    assert!(head.starts_with("http/1.1 429"), "{head}");

    // Someone who already has an identity is not affected.
    assert_eq!(
        app.client.get(app.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn every_ping_is_answered_until_pings_exceed_the_message_rate() {
    let app = spawn_app_with(|s| {
        s.realtime.messages_per_second = 1.0;
        s.realtime.message_burst = 5;
    })
    .await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let mut socket = RawSocket::joined(&app, key, "").await;
    let pings: Vec<u8> = (0..20u8)
        .flat_map(|i| frame(FIN | PING, &[i], true))
        .collect();
    socket.send(&pings).await;
    let mut pongs = Vec::new();
    let code = loop {
        let Some(frame) = socket.next_frame().await else {
            break None;
        };
        match frame.opcode {
            PONG => pongs.extend(frame.payload),
            CLOSE => break Some(u16::from_be_bytes([frame.payload[0], frame.payload[1]])),
            _ => {}
        }
    };
    assert_eq!(
        code,
        Some(1008),
        "pings beyond the rate close the connection"
    );
    assert!(!pongs.is_empty() && pongs.len() < 20, "{pongs:?}");
    assert_eq!(
        pongs,
        (0..pongs.len() as u8).collect::<Vec<_>>(),
        "each answered, in order"
    );
}

#[tokio::test]
async fn after_the_close_handshake_the_server_closes_the_connection_itself() {
    let app = spawn_app().await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let mut socket = RawSocket::joined(&app, key, "").await;
    socket
        .send(&frame(FIN | CLOSE, &1000u16.to_be_bytes(), true))
        .await;
    // The client keeps its side open; the server must not wait for it.
    assert_eq!(socket.close_code().await, Some(1000));
    assert!(socket.ends().await, "the server closed the TCP connection");
}
