//! The queue in front of actix-ws, and the pace at which it is handed over.
//!
//! actix-ws's response body takes every message waiting in its channel at once and gives
//! them to actix-http's HTTP/1 dispatcher as one chunk, which the dispatcher copies into its
//! write buffer; that buffer keeps the largest size it ever reached (up to 128 KiB) for as
//! long as the connection lives. Handing over a welcome with its chat history, or a viewer
//! list of a hundred people, in one go would leave every idle viewer holding tens of KiB.
//!
//! So the handover is paced: at most [`CREDIT`] bytes are in the channel at any time (each
//! handed-over payload gives its bytes back when the response body has taken it), and a text
//! message longer than [`FRAGMENT`] goes as continuation frames. With the dispatcher's
//! `h1_write_buffer_size` at [`WRITE_BUFFER`], its write buffer stays within the 8 KiB it
//! starts with.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_ws::{Item, Message};
use bytes::Bytes;
use bytestring::ByteString;
use futures_util::task::AtomicWaker;
use futures_util::Sink;

/// The dispatcher's `h1_write_buffer_size`: it takes more from the response body only while
/// its write buffer holds less than this.
pub const WRITE_BUFFER: usize = 4096;
/// Most bytes (payloads and frame headers) in actix-ws's channel at once. With
/// [`WRITE_BUFFER`] it keeps the dispatcher's write buffer under its first 8 KiB.
const CREDIT: usize = 3584;
/// Longest payload handed over as one frame; longer text goes in continuation frames.
const FRAGMENT: usize = 3072;
/// A frame header's bytes at most (2 + 8 length bytes), rounded up, counted against the
/// credit and the queue bound.
const FRAME_OVERHEAD: usize = 16;

/// One message waiting to be handed over.
pub enum Out {
    Text(ByteString),
    Ping,
    Pong(Bytes),
    Close(actix_ws::CloseReason),
}

impl Out {
    /// What it counts against the queue's bound: its payload and a frame's overhead, so a
    /// flood of empty pongs fills the queue too.
    pub fn cost(&self) -> usize {
        FRAME_OVERHEAD
            + match self {
                Self::Text(text) => text.len(),
                Self::Pong(payload) => payload.len(),
                Self::Ping | Self::Close(_) => 0,
            }
    }
}

/// Bytes handed to actix-ws that its response body has not taken yet.
#[derive(Default)]
struct Credit {
    in_flight: AtomicUsize,
    /// The session, when it waits for credit to hand over more.
    waiting: AtomicWaker,
}

/// A handed-over payload: gives its bytes back to the credit when actix-ws drops it (once
/// the response body has copied it out).
struct Tracked {
    bytes: Bytes,
    counted: usize,
    credit: Arc<Credit>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Credit {
    /// Gives `counted` bytes back and wakes the session if it waits for them.
    fn give_back(&self, counted: usize) {
        self.in_flight.fetch_sub(counted, Ordering::AcqRel);
        self.waiting.wake();
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.credit.give_back(self.counted);
    }
}

/// The queue, the channel it feeds, and the credit between them.
pub struct Outbox {
    sink: actix_ws::Session,
    queue: VecDeque<Out>,
    /// The sum of the queued messages' [`Out::cost`].
    queued: usize,
    /// Bytes of the front text already handed over as fragments (the rest must follow
    /// before anything else may, so it is never dropped).
    front_sent: usize,
    credit: Arc<Credit>,
}

impl Outbox {
    pub fn new(sink: actix_ws::Session) -> Self {
        Self {
            sink,
            queue: VecDeque::new(),
            queued: 0,
            front_sent: 0,
            credit: Arc::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The queued messages' cost.
    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn push(&mut self, out: Out) {
        self.queued += out.cost();
        self.queue.push_back(out);
    }

    /// Drops what waits, but finishes a message already partly handed over (the stream of
    /// frames must stay well-formed).
    pub fn clear(&mut self) {
        let keep = usize::from(self.front_sent > 0);
        self.queue.truncate(keep);
        self.queued = self.queue.iter().map(Out::cost).sum();
        if self.queue.capacity() > 4 {
            self.queue.shrink_to(4);
        }
    }

    /// Hands queued messages over while the channel has room and the credit allows; `cx`
    /// is woken when either frees up. Ok(true) when something was handed over; Err when the
    /// connection is gone.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Result<bool, ()> {
        let mut progressed = false;
        while let Some(front) = self.queue.front() {
            let (piece, len) = self.next_piece(front);
            let need = len + FRAME_OVERHEAD;
            if !self.take_credit(need, cx) {
                return Ok(progressed);
            }
            let tracked = self.tracked(need);
            match Pin::new(&mut self.sink).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                // Dropping `tracked` gives its credit back.
                Poll::Ready(Err(_)) => return Err(()),
                Poll::Pending => return Ok(progressed),
            }
            if Pin::new(&mut self.sink)
                .start_send(piece.into_message(tracked))
                .is_err()
            {
                return Err(());
            }
            progressed = true;
            self.advance(len);
        }
        if self.queue.capacity() > 4 {
            self.queue.shrink_to(4);
        }
        Ok(progressed)
    }

    /// Reserves `need` bytes of credit, or registers `cx` to be woken when some returns.
    fn take_credit(&self, need: usize, cx: &mut Context<'_>) -> bool {
        let credit = &self.credit;
        let try_take = || {
            credit
                .in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                    (now == 0 || now + need <= CREDIT).then_some(now + need)
                })
                .is_ok()
        };
        if try_take() {
            return true;
        }
        credit.waiting.register(cx.waker());
        // Credit may have come back between the first look and the registration.
        try_take()
    }

    /// The front message's next frame (a whole message, or its next fragment) and the
    /// length of its payload.
    fn next_piece(&self, front: &Out) -> (Piece, usize) {
        match front {
            Out::Text(text) => {
                let bytes = text.as_bytes();
                let (from, total) = (self.front_sent, bytes.len());
                let to = (from + FRAGMENT).min(total);
                let slice = bytes.slice(from..to);
                let len = slice.len();
                let piece = match (from == 0, to == total) {
                    (true, true) => Piece::Whole(slice),
                    (true, false) => Piece::First(slice),
                    (false, true) => Piece::Last(slice),
                    (false, false) => Piece::Middle(slice),
                };
                (piece, len)
            }
            Out::Ping => (Piece::Ping, 0),
            Out::Pong(payload) => (Piece::Pong(payload.clone()), payload.len()),
            Out::Close(reason) => (Piece::Close(reason.clone()), 0),
        }
    }

    fn tracked(&self, counted: usize) -> TrackedBytes {
        TrackedBytes {
            counted,
            credit: Some(self.credit.clone()),
        }
    }

    /// Moves past a handed-over piece of `len` payload bytes.
    fn advance(&mut self, len: usize) {
        let Some(front) = self.queue.front() else {
            return;
        };
        let done = match front {
            Out::Text(text) => {
                self.front_sent += len;
                self.front_sent >= text.len()
            }
            _ => true,
        };
        if done {
            let front = self.queue.pop_front().expect("checked above");
            self.queued -= front.cost();
            self.front_sent = 0;
        }
    }
}

/// One frame to hand over.
enum Piece {
    Whole(Bytes),
    First(Bytes),
    Middle(Bytes),
    Last(Bytes),
    Ping,
    Pong(Bytes),
    Close(actix_ws::CloseReason),
}

impl Piece {
    fn into_message(self, tracked: TrackedBytes) -> Message {
        match self {
            // unwrap: a whole message is the bytes of a `ByteString`, so valid UTF-8.
            Self::Whole(bytes) => Message::Text(
                ByteString::try_from(tracked.wrap(bytes)).expect("a whole text is UTF-8"),
            ),
            Self::First(bytes) => Message::Continuation(Item::FirstText(tracked.wrap(bytes))),
            Self::Middle(bytes) => Message::Continuation(Item::Continue(tracked.wrap(bytes))),
            Self::Last(bytes) => Message::Continuation(Item::Last(tracked.wrap(bytes))),
            Self::Ping => Message::Ping(tracked.wrap(Bytes::new())),
            Self::Pong(payload) => Message::Pong(tracked.wrap(payload)),
            // The close frame ends the stream; its credit is given back at once.
            Self::Close(reason) => {
                drop(tracked);
                Message::Close(Some(reason))
            }
        }
    }
}

/// Credit reserved for one frame, to be attached to its payload (given back when the
/// payload is dropped, or at once if it is dropped unused).
struct TrackedBytes {
    counted: usize,
    credit: Option<Arc<Credit>>,
}

impl TrackedBytes {
    fn wrap(mut self, bytes: Bytes) -> Bytes {
        // unwrap: only `wrap` (once, consuming) and `drop` take it.
        let credit = self.credit.take().expect("credit not yet attached");
        Bytes::from_owner(Tracked {
            bytes,
            counted: self.counted,
            credit,
        })
    }
}

impl Drop for TrackedBytes {
    fn drop(&mut self) {
        if let Some(credit) = self.credit.take() {
            credit.give_back(self.counted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::{OpCode, Parser};
    use actix_web::body::MessageBody;
    use actix_web::http::header;
    use actix_web::{test::TestRequest, web, FromRequest};
    use bytes::BytesMut;
    use std::task::Waker;

    /// An outbox on a real actix-ws session, and the response body it feeds.
    async fn outbox() -> (Outbox, actix_web::body::BoxBody) {
        let (req, mut payload) = TestRequest::default()
            .insert_header((header::UPGRADE, "websocket"))
            .insert_header((header::CONNECTION, "upgrade"))
            .insert_header((header::SEC_WEBSOCKET_VERSION, "13"))
            .insert_header((header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ=="))
            .to_http_parts();
        let body = web::Payload::from_request(&req, &mut payload)
            .await
            .unwrap();
        let (response, sink, _stream) = actix_ws::handle(&req, body).unwrap();
        (Outbox::new(sink), response.into_body())
    }

    #[actix_web::test]
    async fn a_long_message_is_handed_over_in_pieces_that_keep_the_write_buffer_small() {
        let (mut outbox, body) = outbox().await;
        let mut body = std::pin::pin!(body);
        let text: String = (0..20_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        outbox.push(Out::Text(ByteString::from(text.clone())));
        outbox.push(Out::Pong(Bytes::from_static(b"hi")));
        outbox.push(Out::Text(ByteString::from_static("{\"type\":\"pong\"}")));

        let mut cx = Context::from_waker(Waker::noop());
        let mut wire = BytesMut::new();
        for _ in 0..100 {
            outbox.poll_flush(&mut cx).unwrap();
            match body.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    assert!(chunk.len() <= CREDIT, "a chunk of {} bytes", chunk.len());
                    wire.extend_from_slice(&chunk);
                }
                Poll::Ready(other) => panic!("the body ended: {other:?}"),
                Poll::Pending => {}
            }
            if outbox.is_empty() && outbox.credit.in_flight.load(Ordering::Acquire) == 0 {
                break;
            }
        }
        assert!(outbox.is_empty(), "everything was handed over");
        assert_eq!(outbox.queued(), 0);

        // The client sees the long text whole (first piece, continuations, last piece),
        // then the pong and the short text.
        let mut frames = Vec::new();
        while let Some((fin, opcode, payload)) = Parser::parse(&mut wire, false, 1 << 20).unwrap() {
            frames.push((fin, opcode, payload.map(|p| p.to_vec()).unwrap_or_default()));
        }
        let pieces: Vec<_> = frames.iter().take_while(|f| f.1 != OpCode::Pong).collect();
        assert!(pieces.len() > 1, "the long text went in pieces");
        assert_eq!(pieces[0].1, OpCode::Text);
        assert!(pieces[1..].iter().all(|f| f.1 == OpCode::Continue));
        assert!(pieces.last().unwrap().0, "the last piece is final");
        let joined: Vec<u8> = pieces.iter().flat_map(|f| f.2.clone()).collect();
        assert_eq!(joined, text.as_bytes());
        let rest: Vec<_> = frames[pieces.len()..]
            .iter()
            .map(|f| (f.1, f.2.clone()))
            .collect();
        assert_eq!(
            rest,
            vec![
                (OpCode::Pong, b"hi".to_vec()),
                (OpCode::Text, b"{\"type\":\"pong\"}".to_vec())
            ]
        );
    }

    #[actix_web::test]
    async fn clearing_the_queue_finishes_a_message_already_begun() {
        let (mut outbox, body) = outbox().await;
        let mut body = std::pin::pin!(body);
        let long = "x".repeat(10_000);
        outbox.push(Out::Text(ByteString::from(long.clone())));
        outbox.push(Out::Text(ByteString::from_static("dropped")));
        let mut cx = Context::from_waker(Waker::noop());
        outbox.poll_flush(&mut cx).unwrap();
        outbox.clear();
        assert_eq!(outbox.queue.len(), 1, "the begun message stays");
        let mut wire = BytesMut::new();
        for _ in 0..100 {
            if let Poll::Ready(Some(Ok(chunk))) = body.as_mut().poll_next(&mut cx) {
                wire.extend_from_slice(&chunk);
            }
            outbox.poll_flush(&mut cx).unwrap();
            if outbox.is_empty() && outbox.credit.in_flight.load(Ordering::Acquire) == 0 {
                break;
            }
        }
        let mut text = Vec::new();
        while let Some((_, _, payload)) = Parser::parse(&mut wire, false, 1 << 20).unwrap() {
            text.extend(payload.map(|p| p.to_vec()).unwrap_or_default());
        }
        assert_eq!(text, long.as_bytes(), "only the begun message, whole");
    }
}
