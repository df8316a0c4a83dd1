//! Server-to-client WebSocket frames (RFC 6455), encoded once and shared as `Bytes`.
//!
//! Client frames are read with actix-http's `ws::Parser` (masking, lengths, opcodes); this
//! module only writes: server frames are never masked.

use actix_http::ws::{CloseCode, CloseReason, OpCode, Parser};
use bytes::{Bytes, BytesMut};

/// Longest frame header: two bytes plus a 64-bit length.
const MAX_HEADER: usize = 10;

fn encode(opcode: OpCode, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(payload.len() + MAX_HEADER);
    Parser::write_message(&mut out, payload, opcode, true, false);
    out.freeze()
}

/// A complete text frame carrying `payload`.
pub fn text(payload: &[u8]) -> Bytes {
    encode(OpCode::Text, payload)
}

/// An empty ping, the heartbeat.
pub fn ping() -> Bytes {
    Bytes::from_static(&[0x89, 0x00])
}

/// The answer to a client's ping, echoing its payload.
pub fn pong(payload: &[u8]) -> Bytes {
    encode(OpCode::Pong, payload)
}

/// A close frame with a status code and a short reason (at most 123 bytes are kept, the
/// limit of a control frame).
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = BytesMut::with_capacity(MAX_HEADER + 2 + end);
    Parser::write_close(
        &mut out,
        Some(CloseReason {
            code: CloseCode::from(code),
            description: Some(reason[..end].to_owned()),
        }),
        false,
    );
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_length_in_the_shortest_form() {
        let short = text(b"hi");
        assert_eq!(&short[..], &[0x81, 2, b'h', b'i']);
        let medium = text(&[b'a'; 300]);
        assert_eq!(&medium[..4], &[0x81, 126, 1, 44]);
        assert_eq!(medium.len(), 304);
        let long = text(&vec![b'a'; 70_000]);
        assert_eq!(long[1], 127);
        assert_eq!(long.len(), 70_010);
    }

    #[test]
    fn control_frames_are_complete_and_bounded() {
        assert_eq!(&ping()[..], &[0x89, 0]);
        assert_eq!(&pong(b"x")[..], &[0x8A, 1, b'x']);
        let closing = close(4004, &"é".repeat(100));
        assert_eq!(closing[0], 0x88);
        let len = closing[1] as usize;
        assert!(len <= 125, "a control frame holds at most 125 bytes");
        assert_eq!(&closing[2..4], &4004u16.to_be_bytes());
        assert!(std::str::from_utf8(&closing[4..]).is_ok());
    }
}
