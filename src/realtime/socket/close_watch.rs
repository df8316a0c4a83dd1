//! Watches the client's raw bytes for a close frame whose reason is not UTF-8.
//!
//! actix-http refuses a close frame with a bad code and one with a reason that is not UTF-8
//! with the same error, but RFC 6455 names different close codes for them (1002 and 1007).
//! This stream passes the request body through untouched and follows the frame headers
//! just far enough to look at close frames' payloads (at most 125 bytes each), so the
//! session can tell the two apart. Everything else is skipped by length, never buffered.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

/// Longest client frame header: 2 bytes, a 64-bit length, a mask.
const MAX_HEADER: usize = 14;

enum State {
    /// Collecting a frame header.
    Header { bytes: [u8; MAX_HEADER], len: usize },
    /// Skipping this many payload bytes.
    Skip(u64),
    /// Collecting a close frame's payload.
    Close {
        mask: Option<[u8; 4]>,
        want: usize,
        payload: Vec<u8>,
    },
}

/// Whether the client sent a close frame with a reason that is not UTF-8.
#[derive(Clone, Default)]
pub struct BadCloseReason(Rc<Cell<bool>>);

impl BadCloseReason {
    pub fn seen(&self) -> bool {
        self.0.get()
    }
}

/// The request body, watched.
pub struct CloseWatch<S> {
    inner: S,
    state: State,
    seen: BadCloseReason,
}

impl<S> CloseWatch<S> {
    pub fn new(inner: S, seen: BadCloseReason) -> Self {
        Self {
            inner,
            state: State::Header {
                bytes: [0; MAX_HEADER],
                len: 0,
            },
            seen,
        }
    }

    fn observe(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            match &mut self.state {
                State::Header { bytes, len } => {
                    bytes[*len] = chunk[0];
                    *len += 1;
                    chunk = &chunk[1..];
                    if let Some(next) = after_header(&bytes[..*len]) {
                        self.state = next;
                        self.finish_close();
                    }
                }
                State::Skip(left) => {
                    let n = (*left).min(chunk.len() as u64);
                    *left -= n;
                    chunk = &chunk[n as usize..];
                    if *left == 0 {
                        self.state = header();
                    }
                }
                State::Close { want, payload, .. } => {
                    let n = (*want - payload.len()).min(chunk.len());
                    payload.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                    self.finish_close();
                }
            }
        }
    }

    /// Judges a close frame once its payload is in.
    fn finish_close(&mut self) {
        let State::Close {
            mask,
            want,
            payload,
        } = &mut self.state
        else {
            return;
        };
        if payload.len() < *want {
            return;
        }
        if let Some(mask) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
        }
        if payload.len() > 2 && std::str::from_utf8(&payload[2..]).is_err() {
            self.seen.0.set(true);
        }
        self.state = header();
    }
}

fn header() -> State {
    State::Header {
        bytes: [0; MAX_HEADER],
        len: 0,
    }
}

/// What follows a header, once `bytes` holds all of it.
fn after_header(bytes: &[u8]) -> Option<State> {
    let second = *bytes.get(1)?;
    let masked = second & 0x80 != 0;
    let (length, mut at) = match second & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        let mask: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(mask)
    } else {
        None
    };
    debug_assert_eq!(at, bytes.len());
    let is_close = bytes[0] & 0x0f == 0x8;
    Some(if is_close && length <= 125 {
        State::Close {
            mask,
            want: length as usize,
            payload: Vec::new(),
        }
    } else if length == 0 {
        header()
    } else {
        State::Skip(length)
    })
}

impl<S> Stream for CloseWatch<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &item {
            let chunk = chunk.clone();
            self.observe(&chunk);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [1u8, 2, 3, 4];
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    fn watch(bytes: &[u8], piece: usize) -> bool {
        let seen = BadCloseReason::default();
        let mut watch = CloseWatch::new(
            futures_util::stream::empty::<Result<Bytes, PayloadError>>(),
            seen.clone(),
        );
        for part in bytes.chunks(piece) {
            watch.observe(part);
        }
        seen.seen()
    }

    #[test]
    fn a_close_reason_that_is_not_utf8_is_seen_in_any_pieces() {
        let mut long_text = vec![0x81, 0x80 | 126, 0x01, 0x00, 0, 0, 0, 0];
        long_text.extend(vec![b'x'; 256]);
        let bad = [
            long_text.clone(),
            masked(0x81, b"{\"type\":\"ping\"}"),
            masked(0x88, &[0x03, 0xe8, 0xce, 0xba, 0xff]),
        ]
        .concat();
        let good = [long_text, masked(0x88, &[0x03, 0xe8, 0xce, 0xba])].concat();
        for piece in [1, 2, 3, 7, 1000] {
            assert!(watch(&bad, piece), "pieces of {piece}");
            assert!(!watch(&good, piece), "pieces of {piece}");
        }
    }
}
