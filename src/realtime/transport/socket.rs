//! One upgraded connection, shared on its worker thread by the session that reads it and
//! the hub that writes party events to it.
//!
//! Writes go straight to the kernel: the hub writes a party event into every local viewer's
//! socket without waking the viewers' sessions. What the kernel does not take waits in the
//! connection's queue, and the session is woken to send it when the socket can take more.
//! A viewer whose queue of party events grows past `[realtime] max_queued_bytes` loses the
//! queue and is resynced from the stored state, so memory never grows without bound.
//!
//! An idle connection holds no buffers: the read buffer is released whenever it has been
//! consumed, and the queue whenever it has been sent.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actix_http::ws::{OpCode, Parser, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};
use tokio::net::TcpStream;

use super::frames;
use crate::realtime::protocol::CloseReason;

/// Bytes reserved for each read; client messages are small.
const READ_CHUNK: usize = 2048;
/// Most queued frames handed to one vectored write.
const MAX_WRITE_SLICES: usize = 32;
/// A drained queue keeps its storage up to this many entries.
const KEPT_QUEUE_CAPACITY: usize = 4;

/// Why the hub interrupts a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Party events were dropped: reread the state.
    Resync,
    /// The client has sent nothing for longer than `[realtime] client_timeout_secs`.
    Silent,
    /// The client has taken none of the queued bytes for that long.
    Stalled,
    /// The party closed (its `closed` frame is already on the way).
    Close(CloseReason),
}

impl Signal {
    /// A stronger signal replaces a weaker one not yet seen.
    fn rank(self) -> u8 {
        match self {
            Self::Resync => 0,
            Self::Stalled => 1,
            Self::Silent => 2,
            Self::Close(_) => 3,
        }
    }
}

/// What the session reads next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Text(String),
    Binary,
    Signal(Signal),
    /// The client sent a close frame.
    Closed,
    /// The connection ended or failed.
    Gone,
    /// A frame or message beyond the hard limit.
    TooLarge,
    /// Not valid WebSocket (bad framing, text that is not UTF-8).
    Invalid,
}

/// A text or binary message arriving in fragments.
struct Fragments {
    text: bool,
    data: Vec<u8>,
}

pub struct Socket {
    io: TcpStream,
    /// Received bytes not yet parsed: empty (no storage) between messages.
    inbox: RefCell<BytesMut>,
    fragments: RefCell<Option<Fragments>>,
    /// Frames the kernel has not taken yet, in order; the first may be partly sent.
    outbox: RefCell<VecDeque<Bytes>>,
    queued: Cell<usize>,
    /// Whether the first queued frame is partly sent (it must then be finished).
    front_started: Cell<bool>,
    /// Party events held back until the session has sent `welcome`.
    held: RefCell<Option<Vec<Bytes>>>,
    held_bytes: Cell<usize>,
    signal: Cell<Option<Signal>>,
    waker: RefCell<Option<Waker>>,
    last_heard: Cell<Instant>,
    /// When the hub pings this connection next.
    pub(crate) next_ping: Cell<Instant>,
    /// When the queue last shrank (or became non-empty).
    last_progress: Cell<Instant>,
    broken: Cell<bool>,
    /// Index in the hub's group, kept by the hub.
    pub(crate) slot: Cell<usize>,
    max_message: usize,
    max_queued: usize,
}

impl Socket {
    /// Wraps an upgraded stream; `early` holds bytes the client sent with the handshake.
    pub fn new(io: TcpStream, early: BytesMut, max_message: usize, max_queued: usize) -> Self {
        let now = Instant::now();
        Self {
            io,
            inbox: RefCell::new(early),
            fragments: RefCell::new(None),
            outbox: RefCell::new(VecDeque::new()),
            queued: Cell::new(0),
            front_started: Cell::new(false),
            held: RefCell::new(Some(Vec::new())),
            held_bytes: Cell::new(0),
            signal: Cell::new(None),
            waker: RefCell::new(None),
            last_heard: Cell::new(now),
            next_ping: Cell::new(now),
            last_progress: Cell::new(now),
            broken: Cell::new(false),
            slot: Cell::new(usize::MAX),
            max_message,
            max_queued,
        }
    }

    /// Sends one of the session's own frames: written now as far as the kernel takes it,
    /// the rest queued. Never dropped. False when the connection is broken.
    pub fn send(&self, frame: Bytes) -> bool {
        if self.broken.get() {
            return false;
        }
        if self.outbox.borrow().is_empty() {
            match self.io.try_write(&frame) {
                Ok(n) if n == frame.len() => return true,
                Ok(n) => self.enqueue(frame.slice(n..), true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.enqueue(frame, false),
                Err(_) => {
                    self.break_off();
                    return false;
                }
            }
        } else {
            self.enqueue(frame, false);
        }
        true
    }

    /// Delivers a party event: held back before `welcome`; when the queue would grow past
    /// its limit, the queued events are dropped and the session resyncs.
    pub fn deliver(&self, frame: &Bytes) {
        if let Some(held) = self.held.borrow_mut().as_mut() {
            if self.held_bytes.get() + frame.len() > self.max_queued {
                held.clear();
                self.held_bytes.set(0);
                self.raise(Signal::Resync);
            } else {
                self.held_bytes.set(self.held_bytes.get() + frame.len());
                held.push(frame.clone());
            }
            return;
        }
        if self.queued.get() + frame.len() > self.max_queued {
            self.drop_queue();
            self.raise(Signal::Resync);
            return;
        }
        self.send(frame.clone());
    }

    /// Sends the events held back since the connection joined its party.
    pub fn release(&self) {
        let held = self.held.borrow_mut().take();
        self.held_bytes.set(0);
        for frame in held.into_iter().flatten() {
            self.deliver(&frame);
        }
    }

    /// Interrupts the session (a stronger signal replaces a weaker unseen one).
    pub fn raise(&self, signal: Signal) {
        if self.signal.get().is_none_or(|s| signal.rank() >= s.rank()) {
            self.signal.set(Some(signal));
        }
        self.wake();
    }

    /// How long the client has been silent.
    pub fn silent_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_heard.get())
    }

    /// How long queued bytes have waited without the client taking any.
    pub fn stalled_for(&self, now: Instant) -> Duration {
        if self.queued.get() == 0 {
            Duration::ZERO
        } else {
            now.saturating_duration_since(self.last_progress.get())
        }
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued.get()
    }

    /// The next message or signal. Sends queued frames as the socket takes them, answers
    /// pings, assembles fragments.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        if let Some(signal) = self.signal.take() {
            return Poll::Ready(Next::Signal(signal));
        }
        if self.poll_flush(cx).is_err() {
            return Poll::Ready(Next::Gone);
        }
        loop {
            if let Some(next) = self.parse() {
                return Poll::Ready(next);
            }
            match self.io.poll_read_ready(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(_)) => return Poll::Ready(Next::Gone),
                Poll::Ready(Ok(())) => {}
            }
            let mut inbox = self.inbox.borrow_mut();
            inbox.reserve(READ_CHUNK);
            match self.io.try_read_buf(&mut *inbox) {
                Ok(0) => return Poll::Ready(Next::Gone),
                Ok(_) => self.last_heard.set(Instant::now()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Poll::Ready(Next::Gone),
            }
        }
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() && inbox.capacity() > 0 {
            *inbox = BytesMut::new();
        }
        let mut waker = self.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Sends what is queued, within `limit`; true when everything went.
    pub async fn flush(&self, limit: Duration) -> bool {
        let flushed = std::future::poll_fn(|cx| match self.poll_flush(cx) {
            Err(()) => Poll::Ready(false),
            Ok(()) if self.outbox.borrow().is_empty() => Poll::Ready(true),
            Ok(()) => Poll::Pending,
        });
        tokio::time::timeout(limit, flushed).await.unwrap_or(false)
    }

    /// Ends the connection: sends a close frame (if given) and what is queued, shuts the
    /// write side, and waits briefly for the client to close its side so that nothing it
    /// still had in flight turns the end into a reset.
    pub async fn finish(self, close: Option<(u16, &str)>, linger: Duration) {
        if let Some((code, reason)) = close {
            self.send(frames::close(code, reason));
        }
        if self.broken.get() || !self.flush(linger).await {
            return;
        }
        let mut io = self.io;
        if tokio::io::AsyncWriteExt::shutdown(&mut io).await.is_err() {
            return;
        }
        let drain = async {
            let mut scratch = [0u8; 512];
            while matches!(tokio::io::AsyncReadExt::read(&mut io, &mut scratch).await, Ok(n) if n > 0)
            {
            }
        };
        let _ = tokio::time::timeout(linger, drain).await;
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn break_off(&self) {
        self.broken.set(true);
        self.wake();
    }

    fn enqueue(&self, frame: Bytes, started: bool) {
        let mut outbox = self.outbox.borrow_mut();
        if outbox.is_empty() {
            self.front_started.set(started);
            self.last_progress.set(Instant::now());
        }
        self.queued.set(self.queued.get() + frame.len());
        outbox.push_back(frame);
        drop(outbox);
        // The session waits for the socket to take more only while something is queued.
        self.wake();
    }

    /// Drops queued frames, but finishes one already partly sent (the stream must stay
    /// well-formed).
    fn drop_queue(&self) {
        let mut outbox = self.outbox.borrow_mut();
        let keep = usize::from(self.front_started.get() && !outbox.is_empty());
        outbox.truncate(keep);
        self.queued.set(outbox.iter().map(Bytes::len).sum());
    }

    /// Writes queued frames until the queue is empty or the socket is full (then the
    /// task is woken when it can take more). Err when the connection broke.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Result<(), ()> {
        if self.broken.get() {
            return Err(());
        }
        let mut outbox = self.outbox.borrow_mut();
        while !outbox.is_empty() {
            let slices: Vec<IoSlice<'_>> = outbox
                .iter()
                .take(MAX_WRITE_SLICES)
                .map(|f| IoSlice::new(f))
                .collect();
            match self.io.try_write_vectored(&slices) {
                Ok(mut n) => {
                    self.queued.set(self.queued.get() - n);
                    self.last_progress.set(Instant::now());
                    while n > 0 {
                        let front = outbox.front_mut().expect("written bytes were queued");
                        if n >= front.len() {
                            n -= front.len();
                            outbox.pop_front();
                            self.front_started.set(false);
                        } else {
                            front.advance(n);
                            self.front_started.set(true);
                            n = 0;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self.io.poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(_)) => {
                            self.broken.set(true);
                            return Err(());
                        }
                        Poll::Pending => return Ok(()),
                    }
                }
                Err(_) => {
                    self.broken.set(true);
                    return Err(());
                }
            }
        }
        if outbox.capacity() > KEPT_QUEUE_CAPACITY {
            *outbox = VecDeque::new();
        }
        Ok(())
    }

    /// The next complete message in the read buffer, if any; control frames are handled
    /// here.
    fn parse(&self) -> Option<Next> {
        loop {
            let frame = {
                let mut inbox = self.inbox.borrow_mut();
                if inbox.is_empty() {
                    return None;
                }
                // Refused from its header: the payload is never buffered.
                if declared_length(&inbox).is_some_and(|len| len > self.max_message as u64) {
                    return Some(Next::TooLarge);
                }
                Parser::parse(&mut inbox, true, self.max_message)
            };
            let (fin, opcode, payload) = match frame {
                Ok(Some(frame)) => frame,
                Ok(None) => return None,
                Err(ProtocolError::Overflow) => return Some(Next::TooLarge),
                Err(_) => return Some(Next::Invalid),
            };
            let payload = payload.map(BytesMut::freeze).unwrap_or_default();
            match opcode {
                OpCode::Ping => {
                    self.send(frames::pong(&payload));
                }
                OpCode::Pong => {}
                OpCode::Close => return Some(Next::Closed),
                OpCode::Text | OpCode::Binary => {
                    let mut fragments = self.fragments.borrow_mut();
                    if fragments.is_some() {
                        return Some(Next::Invalid);
                    }
                    let text = opcode == OpCode::Text;
                    if fin {
                        return Some(message(text, payload.to_vec()));
                    }
                    *fragments = Some(Fragments {
                        text,
                        data: payload.to_vec(),
                    });
                }
                OpCode::Continue => {
                    let mut slot = self.fragments.borrow_mut();
                    let Some(fragments) = slot.as_mut() else {
                        return Some(Next::Invalid);
                    };
                    if fragments.data.len() + payload.len() > self.max_message {
                        return Some(Next::TooLarge);
                    }
                    fragments.data.extend_from_slice(&payload);
                    if fin {
                        let done = slot.take().expect("checked above");
                        return Some(message(done.text, done.data));
                    }
                }
                OpCode::Bad => return Some(Next::Invalid),
            }
        }
    }
}

/// The payload length a frame header declares, once enough of the header is in.
fn declared_length(header: &[u8]) -> Option<u64> {
    let short = u64::from(*header.get(1)? & 0x7f);
    match short {
        126 => Some(u64::from(u16::from_be_bytes([
            *header.get(2)?,
            *header.get(3)?,
        ]))),
        127 => Some(u64::from_be_bytes(header.get(2..10)?.try_into().ok()?)),
        len => Some(len),
    }
}

fn message(text: bool, data: Vec<u8>) -> Next {
    if !text {
        return Next::Binary;
    }
    match String::from_utf8(data) {
        Ok(text) => Next::Text(text),
        Err(_) => Next::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket};

    /// A socket on our side with small kernel buffers, and the client's end.
    async fn pair(max_queued: usize) -> (Socket, TcpStream) {
        let listener = TcpSocket::new_v4().unwrap();
        listener.set_recv_buffer_size(4096).unwrap();
        listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener: TcpListener = listener.listen(8).unwrap();
        let ours = TcpSocket::new_v4().unwrap();
        ours.set_send_buffer_size(4096).unwrap();
        let (ours, theirs) = tokio::join!(
            ours.connect(listener.local_addr().unwrap()),
            listener.accept()
        );
        let socket = Socket::new(ours.unwrap(), BytesMut::new(), 1 << 16, max_queued);
        (socket, theirs.unwrap().0)
    }

    /// Every complete frame the client can read until the connection ends.
    async fn read_frames(mut client: TcpStream) -> Vec<(OpCode, Vec<u8>)> {
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).await.unwrap();
        let mut buf = BytesMut::from(&raw[..]);
        let mut frames = Vec::new();
        while let Some((fin, opcode, payload)) = Parser::parse(&mut buf, false, 1 << 20).unwrap() {
            assert!(fin);
            frames.push((opcode, payload.map(|p| p.to_vec()).unwrap_or_default()));
        }
        assert!(buf.is_empty(), "the stream ends on a frame boundary");
        frames
    }

    fn numbered(n: usize) -> Bytes {
        frames::text(&vec![b'a' + (n % 26) as u8; 1000])
    }

    #[tokio::test]
    async fn a_viewer_that_does_not_read_loses_queued_events_and_is_resynced() {
        let (socket, client) = pair(16 * 1024).await;
        socket.release();
        for n in 0..2000 {
            socket.deliver(&numbered(n));
            assert!(
                socket.queued_bytes() <= 16 * 1024,
                "the queue stays bounded"
            );
        }
        let next = poll_fn(|cx| socket.poll_next(cx)).await;
        assert_eq!(next, Next::Signal(Signal::Resync));
        // The client catches up: whatever it receives is whole frames, each intact.
        let reader = tokio::spawn(read_frames(client));
        assert!(socket.flush(Duration::from_secs(10)).await);
        drop(socket);
        let frames = reader.await.unwrap();
        assert!(
            !frames.is_empty() && frames.len() < 2000,
            "{} frames",
            frames.len()
        );
        for (opcode, payload) in frames {
            assert_eq!(opcode, OpCode::Text);
            assert_eq!(payload.len(), 1000);
            assert!(payload.iter().all(|b| *b == payload[0]));
        }
    }

    #[tokio::test]
    async fn events_wait_for_the_welcome_and_keep_their_order() {
        let (socket, client) = pair(1 << 20).await;
        socket.deliver(&frames::text(b"event 1"));
        socket.deliver(&frames::text(b"event 2"));
        assert!(socket.send(frames::text(b"welcome")));
        socket.release();
        socket.deliver(&frames::text(b"event 3"));
        assert!(socket.flush(Duration::from_secs(5)).await);
        drop(socket);
        let texts: Vec<Vec<u8>> = read_frames(client).await.into_iter().map(|f| f.1).collect();
        let expected: Vec<&[u8]> = vec![b"welcome", b"event 1", b"event 2", b"event 3"];
        assert_eq!(texts, expected);
    }

    #[tokio::test]
    async fn fragments_are_joined_pings_answered_and_limits_enforced() {
        let (socket, mut client) = pair(1 << 20).await;
        let mut out = BytesMut::new();
        Parser::write_message(&mut out, b"are you there", OpCode::Ping, true, true);
        Parser::write_message(&mut out, b"{\"type\":", OpCode::Text, false, true);
        Parser::write_message(&mut out, b"\"ping\"}", OpCode::Continue, true, true);
        Parser::write_message(&mut out, [0xffu8, 0xfe], OpCode::Text, true, true);
        client.write_all(&out).await.unwrap();
        let next = poll_fn(|cx| socket.poll_next(cx)).await;
        assert_eq!(next, Next::Text("{\"type\":\"ping\"}".into()));
        let next = poll_fn(|cx| socket.poll_next(cx)).await;
        assert_eq!(next, Next::Invalid, "text must be UTF-8");

        let mut pong = [0u8; 15];
        client.read_exact(&mut pong).await.unwrap();
        assert_eq!(&pong[..2], &[0x8A, 13]);
        assert_eq!(&pong[2..], b"are you there");

        let mut huge = BytesMut::new();
        Parser::write_message(
            &mut huge,
            vec![b'x'; (1 << 16) + 1],
            OpCode::Text,
            true,
            true,
        );
        client.write_all(&huge[..16]).await.unwrap();
        let next = poll_fn(|cx| socket.poll_next(cx)).await;
        assert_eq!(
            next,
            Next::TooLarge,
            "refused from its header, before its payload"
        );
    }
}
