//! RFC 6455 conformance of the party socket: every protocol violation gets the close code
//! §7.4 names, sent as raw frames after a proper `hello`.

use crate::helpers::spawn_app;
use crate::raw_socket::{
    close_payload, frame, text, RawSocket, BINARY, CLOSE, CONTINUATION, FIN, PING, PONG, TEXT,
};

const PROTOCOL_ERROR: u16 = 1002;
const INVALID_DATA: u16 = 1007;

/// What a client sends, and the close code it must get.
fn violations() -> Vec<(&'static str, Vec<u8>, u16)> {
    let mut rows = vec![
        (
            "reserved bit 1",
            frame(FIN | 0x40 | TEXT, b"{}", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved bit 2",
            frame(FIN | 0x20 | TEXT, b"{}", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved bit 3",
            frame(FIN | 0x10 | PING, b"", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved data opcode 3",
            frame(FIN | 0x3, b"", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved data opcode 7",
            frame(FIN | 0x7, b"x", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved control opcode B",
            frame(FIN | 0xB, b"", true),
            PROTOCOL_ERROR,
        ),
        (
            "reserved control opcode F",
            frame(FIN | 0xF, b"x", true),
            PROTOCOL_ERROR,
        ),
        (
            "an unmasked client frame",
            frame(FIN | TEXT, b"{}", false),
            PROTOCOL_ERROR,
        ),
        (
            "a fragmented ping",
            frame(PING, b"part", true),
            PROTOCOL_ERROR,
        ),
        (
            "a fragmented close",
            frame(CLOSE, &close_payload(1000, b""), true),
            PROTOCOL_ERROR,
        ),
        (
            "a ping over 125 bytes",
            frame(FIN | PING, &[b'p'; 126], true),
            PROTOCOL_ERROR,
        ),
        (
            "a continuation with nothing to continue",
            frame(FIN | CONTINUATION, b"{}", true),
            PROTOCOL_ERROR,
        ),
        (
            "a message interleaved into another",
            [
                frame(TEXT, b"{\"type\"", true),
                frame(FIN | TEXT, b"{}", true),
            ]
            .concat(),
            PROTOCOL_ERROR,
        ),
        (
            "a binary message interleaved into text",
            [frame(TEXT, b"{", true), frame(FIN | BINARY, b"x", true)].concat(),
            PROTOCOL_ERROR,
        ),
        (
            "text that is not UTF-8",
            frame(FIN | TEXT, &[0xce, 0xba, 0xff], true),
            INVALID_DATA,
        ),
        (
            "fragmented text that is not UTF-8",
            [
                frame(TEXT, &[0xce], true),
                frame(FIN | CONTINUATION, &[0xff, 0xfe], true),
            ]
            .concat(),
            INVALID_DATA,
        ),
        (
            "a close reason that is not UTF-8",
            frame(FIN | CLOSE, &close_payload(1000, &[0xce, 0xba, 0xff]), true),
            INVALID_DATA,
        ),
        (
            "a close payload of one byte",
            frame(FIN | CLOSE, &[0x03], true),
            PROTOCOL_ERROR,
        ),
    ];
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999] {
        let name: &'static str = Box::leak(format!("close code {code}").into_boxed_str());
        rows.push((
            name,
            frame(FIN | CLOSE, &close_payload(code, b""), true),
            PROTOCOL_ERROR,
        ));
    }
    rows
}

#[tokio::test]
async fn each_protocol_violation_gets_the_close_code_rfc_6455_names() {
    let app = spawn_app().await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();
    let mut failures = Vec::new();
    for (name, bytes, expected) in violations() {
        let mut socket = RawSocket::joined(&app, key, "").await;
        socket.send(&bytes).await;
        let got = socket.close_code().await;
        if got != Some(expected) {
            failures.push(format!("{name}: expected {expected}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_proper_close_is_answered_in_kind_and_a_fragmented_message_is_read_whole() {
    let app = spawn_app().await;
    let video = app.video().await;
    let key = video["invite_key"].as_str().unwrap();

    let mut socket = RawSocket::joined(&app, key, "").await;
    // A ping between the fragments of a message is allowed (RFC 6455 §5.4).
    socket
        .send(
            &[
                frame(TEXT, br#"{"type":"pi"#, true),
                frame(FIN | PING, b"hi", true),
                frame(FIN | CONTINUATION, br#"ng","id":7}"#, true),
            ]
            .concat(),
        )
        .await;
    let (mut ponged, mut answered) = (false, false);
    while !(ponged && answered) {
        let frame = socket
            .next_frame()
            .await
            .expect("the connection stays open");
        ponged |= frame.opcode == PONG && frame.payload == b"hi";
        answered |= frame.opcode == TEXT && frame.payload.starts_with(br#"{"type":"pong","id":7"#);
    }
    for code in [1000u16, 1001, 3000, 4999] {
        let mut socket = RawSocket::joined(&app, key, "").await;
        socket
            .send(&frame(
                FIN | CLOSE,
                &close_payload(code, "bye ✓".as_bytes()),
                true,
            ))
            .await;
        assert_eq!(
            socket.close_code().await,
            Some(1000),
            "after a close with {code}"
        );
    }
    let mut socket = RawSocket::joined(&app, key, "").await;
    socket.send(&text(r#"{"type":"ping","id":1}"#)).await;
    assert!(socket.next_frame().await.is_some());
}
