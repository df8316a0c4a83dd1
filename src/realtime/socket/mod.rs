//! One party connection as its session and the hub see it, over actix-ws.
//!
//! actix-ws gives the connection two halves: a stream of the client's messages (frames
//! parsed and checked by actix-http, fragments joined within `[realtime]` limits) and a
//! [`actix_ws::Session`] whose bounded channel feeds the HTTP/1 dispatcher that writes to
//! the client. Everything the server sends — party events, the session's replies, pongs,
//! heartbeat pings — goes through one queue here (`outbox`), in order, and moves into that
//! channel as fast as the client takes it, paced so the dispatcher's buffers stay small. The
//! hub hands a party event over itself when the queue is empty, so a viewer that keeps up
//! never wakes its session for an event.
//!
//! The queue is bounded by `[realtime] max_queued_bytes`. Party events that would grow it
//! past the bound are dropped and the session resyncs from the stored state; anything else
//! past the bound (the replies to a client that sends and never reads) ends the connection
//! with 1008. A connection that takes nothing for `client_timeout_secs` is dropped by the
//! heartbeat; one that says nothing for `away_after_ms` is marked quiet (shown `away`) until
//! it speaks again.
//!
//! - `outbox`: the queue and the paced handover to actix-ws.
//! - `next`: what the session reads next — messages, the hub's signals, violations.
//! - `close_watch`: tells a close frame's bad reason (1007) from its bad code (1002).

use std::cell::{Cell, RefCell, RefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream};
use bytestring::ByteString;
use futures_util::Stream;

mod close_watch;
mod next;
mod outbox;

pub use next::{Next, Signal};
pub use outbox::WRITE_BUFFER;

use self::close_watch::{BadCloseReason, CloseWatch};
use self::next::violation;
use self::outbox::{Out, Outbox};
use super::limits::TokenBucket;
use crate::config::RealtimeSettings;
use crate::realtime::protocol::CloseReason;

type BoxedPayloadStream = actix_http::BoxedPayloadStream;

/// The connection's end of actix-ws and the queue in front of it.
pub struct Socket {
    /// Set when the client's close frame had a reason that is not UTF-8.
    bad_close_reason: BadCloseReason,
    /// The client's messages other than playback commands (pings among them), against
    /// `[realtime] messages_per_second` and `message_burst`.
    messages: RefCell<TokenBucket>,
    stream: RefCell<AggregatedMessageStream>,
    /// What waits to be handed to actix-ws, in order.
    outbox: RefCell<Outbox>,
    /// Party events held back until the session has sent `welcome`.
    held: RefCell<Option<Vec<ByteString>>>,
    held_bytes: Cell<usize>,
    signal: Cell<Option<Signal>>,
    /// The session task's waker, kept so the hub can wake it and register it with the
    /// channel when handing over an event.
    waker: RefCell<Option<Waker>>,
    /// When the client last completed a frame.
    last_heard: Cell<Instant>,
    /// The client has been silent for `[realtime] away_after_ms` (set by the hub's sweep,
    /// cleared by the next frame).
    quiet: Cell<bool>,
    /// The hub pinged the client since it was last heard, to learn whether it is still there.
    probed: Cell<bool>,
    /// When the hub pings this connection next.
    pub(crate) next_ping: Cell<Instant>,
    /// When the queue last shrank (or became non-empty).
    last_progress: Cell<Instant>,
    broken: Cell<bool>,
    /// The session's own messages outgrew the queue.
    backlogged: Cell<bool>,
    /// `[realtime] client_timeout_secs`.
    client_timeout: Duration,
    /// Index in the hub's group, kept by the hub.
    pub(crate) slot: Cell<usize>,
    max_queued: usize,
    /// The node's count of slow viewers resynced, for the metrics.
    resyncs: prometheus::IntCounter,
}

impl Socket {
    /// Accepts a WebSocket handshake with actix-ws: the `101` response to return, and the
    /// connection. A client frame or fragmented message beyond `max_message` bytes ends the
    /// connection (1009); the queue holds at most `max_queued` bytes. Each time the party
    /// events queued for it are dropped, `resyncs` counts one.
    pub fn upgrade(
        req: &HttpRequest,
        body: web::Payload,
        settings: &RealtimeSettings,
        resyncs: prometheus::IntCounter,
    ) -> Result<(HttpResponse, Self), actix_web::Error> {
        // Frames past 16 times the accepted size end the connection (1009); between the
        // two they are answered with `frame_too_large`.
        let max_message = settings.max_frame_bytes * 16;
        let bad_close_reason = BadCloseReason::default();
        let watched: BoxedPayloadStream =
            Box::pin(CloseWatch::new(body.into_inner(), bad_close_reason.clone()));
        let body = web::Payload::from_request(req, &mut Payload::from(watched)).into_inner()?;
        let (response, sink, stream) = actix_ws::handle(req, body)?;
        let stream = stream
            .max_frame_size(max_message)
            .aggregate_continuations()
            .max_continuation_size(max_message);
        let now = Instant::now();
        let socket = Self {
            bad_close_reason,
            messages: RefCell::new(TokenBucket::new(
                settings.messages_per_second,
                settings.message_burst,
            )),
            stream: RefCell::new(stream),
            outbox: RefCell::new(Outbox::new(sink)),
            held: RefCell::new(Some(Vec::new())),
            held_bytes: Cell::new(0),
            signal: Cell::new(None),
            waker: RefCell::new(None),
            last_heard: Cell::new(now),
            quiet: Cell::new(false),
            probed: Cell::new(false),
            next_ping: Cell::new(now),
            last_progress: Cell::new(now),
            broken: Cell::new(false),
            backlogged: Cell::new(false),
            client_timeout: Duration::from_secs(settings.client_timeout_secs),
            slot: Cell::new(usize::MAX),
            max_queued: settings.max_queued_bytes,
            resyncs,
        };
        Ok((response, socket))
    }

    /// Queues one of the session's own messages. Past the queue's bound the connection is
    /// ended (1008) instead. False when the connection is broken or being ended.
    pub fn send(&self, text: impl Into<ByteString>) -> bool {
        self.push_own(Out::Text(text.into()))
    }

    /// Delivers a party event: held back before `welcome`; when the queue would grow past
    /// its bound, the queued events are dropped and the session resyncs.
    pub fn deliver(&self, text: &ByteString) {
        if let Some(held) = self.held.borrow_mut().as_mut() {
            if self.held_bytes.get() + text.len() > self.max_queued {
                held.clear();
                self.held_bytes.set(0);
                self.resyncs.inc();
                self.raise(Signal::Resync);
            } else {
                self.held_bytes.set(self.held_bytes.get() + text.len());
                held.push(text.clone());
            }
            return;
        }
        if self.broken.get() {
            return;
        }
        let out = Out::Text(text.clone());
        let mut outbox = self.outbox.borrow_mut();
        if outbox.queued() + out.cost() > self.max_queued {
            outbox.clear();
            drop(outbox);
            self.resyncs.inc();
            self.raise(Signal::Resync);
            return;
        }
        self.push(outbox, out);
    }

    /// Sends the events held back since the connection joined its party.
    pub fn release(&self) {
        let held = self.held.borrow_mut().take();
        self.held_bytes.set(0);
        for text in held.into_iter().flatten() {
            self.deliver(&text);
        }
    }

    /// The heartbeat's ping, unless messages are still waiting (then the client is already
    /// being written to, and its silence is judged by what it takes).
    pub fn ping(&self) {
        let outbox = self.outbox.borrow_mut();
        if outbox.is_empty() && !self.broken.get() {
            self.push(outbox, Out::Ping);
        }
    }

    /// The hub's probe of a client quiet for a while: the ping a live browser answers by
    /// itself, whatever its page's timers do. Once per silence.
    pub fn probe(&self) {
        if !self.probed.replace(true) {
            self.ping();
        }
    }

    /// Marks the connection quiet and wakes the session to say so; once per silence.
    pub fn mark_quiet(&self) {
        if !self.quiet.replace(true) {
            self.raise(Signal::Quiet);
        }
    }

    /// Whether the client has been silent past `away_after_ms` and not heard from since.
    pub fn quiet(&self) -> bool {
        self.quiet.get()
    }

    /// Interrupts the session (a stronger signal replaces a weaker unseen one).
    pub fn raise(&self, signal: Signal) {
        if self.signal.get().is_none_or(|s| signal.rank() >= s.rank()) {
            self.signal.set(Some(signal));
        }
        self.wake();
    }

    /// How long the client has completed no frame.
    pub fn silent_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_heard.get())
    }

    /// How long queued messages have waited without the client taking any.
    pub fn stalled_for(&self, now: Instant) -> Duration {
        if self.outbox.borrow().is_empty() {
            Duration::ZERO
        } else {
            now.saturating_duration_since(self.last_progress.get())
        }
    }

    /// Takes a token for one of the client's messages; false beyond its rate.
    pub fn allow_message(&self) -> bool {
        self.messages.borrow_mut().try_take()
    }

    /// The next message or signal. Moves queued messages into the channel as it takes
    /// them and answers the client's pings.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        self.remember(cx.waker());
        if let Some(signal) = self.signal.take() {
            return Poll::Ready(Next::Signal(signal));
        }
        if self.poll_flush(cx).is_err() {
            return Poll::Ready(Next::Gone);
        }
        loop {
            let item = match Pin::new(&mut *self.stream.borrow_mut()).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            let message = match item {
                None => return Poll::Ready(Next::Gone),
                Some(Err(err)) => {
                    return Poll::Ready(violation(&err, self.bad_close_reason.seen()))
                }
                Some(Ok(message)) => message,
            };
            self.last_heard.set(Instant::now());
            self.probed.set(false);
            let back = self.quiet.replace(false);
            match message {
                AggregatedMessage::Text(text) => return Poll::Ready(Next::Text(text)),
                AggregatedMessage::Binary(_) => return Poll::Ready(Next::Binary),
                AggregatedMessage::Close(_) => return Poll::Ready(Next::Closed),
                AggregatedMessage::Ping(payload) => {
                    // Every ping is answered (RFC 6455 §5.5.2), but it counts against the
                    // message rate: beyond it the connection is closed (1008). The pong is
                    // bounded like any reply.
                    if !self.allow_message() {
                        return Poll::Ready(Next::Violation(CloseReason::TooManyPings));
                    }
                    if !self.push_own(Out::Pong(payload)) {
                        return Poll::Ready(Next::Gone);
                    }
                    if let Some(signal) = self.signal.take() {
                        return Poll::Ready(Next::Signal(signal));
                    }
                    if back {
                        return Poll::Ready(Next::Heard);
                    }
                }
                AggregatedMessage::Pong(_) if back => return Poll::Ready(Next::Heard),
                AggregatedMessage::Pong(_) => {}
            }
        }
    }

    /// Sends what is queued, within `limit`; true when everything went.
    pub async fn flush(&self, limit: Duration) -> bool {
        let flushed = std::future::poll_fn(|cx| {
            self.remember(cx.waker());
            match self.poll_flush(cx) {
                Err(()) => Poll::Ready(false),
                Ok(()) if self.outbox.borrow().is_empty() => Poll::Ready(true),
                Ok(()) => Poll::Pending,
            }
        });
        tokio::time::timeout(limit, flushed).await.unwrap_or(false)
    }

    /// Ends the connection: sends what is queued and a close frame (if given), within
    /// `linger`. Dropping the socket then ends the response, and the dispatcher closes
    /// the connection once the bytes are out.
    ///
    /// A client that sent more than it read is not read any further: the socket is held,
    /// unread, for `client_timeout_secs`, so its sending stalls instead of being drained,
    /// while the kernel cuts the connection it does not read from (TCP_USER_TIMEOUT, set
    /// on every accepted connection).
    pub async fn finish(self, close: Option<(u16, &str)>, linger: Duration) {
        if self.backlogged.get() {
            tokio::time::sleep(self.client_timeout).await;
            return;
        }
        if let Some((code, reason)) = close {
            if !self.broken.get() {
                let reason = actix_ws::CloseReason {
                    code: code.into(),
                    description: (!reason.is_empty()).then(|| reason.to_owned()),
                };
                self.outbox.borrow_mut().push(Out::Close(reason));
            }
        }
        if !self.broken.get() {
            self.flush(linger).await;
        }
    }

    fn remember(&self, waker: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.borrow().as_ref() {
            waker.wake_by_ref();
        }
    }

    /// Queues a message of the session's own; past the bound the connection is ended.
    fn push_own(&self, out: Out) -> bool {
        if self.broken.get() {
            return false;
        }
        let mut outbox = self.outbox.borrow_mut();
        if outbox.queued() + out.cost() > self.max_queued {
            outbox.clear();
            drop(outbox);
            self.broken.set(true);
            self.backlogged.set(true);
            self.raise(Signal::Backlog);
            return false;
        }
        self.push(outbox, out);
        !self.broken.get()
    }

    /// Queues a message and hands over what it can at once, on behalf of the session (whose
    /// waker is told when the channel or the credit frees up).
    fn push(&self, mut outbox: RefMut<'_, Outbox>, out: Out) {
        if outbox.is_empty() {
            self.last_progress.set(Instant::now());
        }
        outbox.push(out);
        let flushed = {
            let waker = self.waker.borrow();
            let Some(waker) = waker.as_ref() else {
                // The session has not run yet; it hands the queue over when it does.
                return;
            };
            outbox.poll_flush(&mut Context::from_waker(waker))
        };
        match flushed {
            Ok(true) => self.last_progress.set(Instant::now()),
            Ok(false) => {}
            Err(()) => {
                drop(outbox);
                self.break_off();
            }
        }
    }

    fn break_off(&self) {
        self.broken.set(true);
        self.wake();
    }

    /// Hands queued messages over as the channel and the credit allow (the task is woken
    /// when they allow more). Err when the connection is gone.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Result<(), ()> {
        if self.broken.get() {
            return Err(());
        }
        match self.outbox.borrow_mut().poll_flush(cx) {
            Ok(true) => {
                self.last_progress.set(Instant::now());
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(()) => {
                self.broken.set(true);
                Err(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header;
    use actix_web::test::TestRequest;

    /// A socket on a real actix-ws handshake whose queue holds at most 4096 bytes, and the
    /// counter its dropped events go to.
    async fn socket() -> (Socket, prometheus::IntCounter) {
        let (req, mut payload) = TestRequest::default()
            .insert_header((header::UPGRADE, "websocket"))
            .insert_header((header::CONNECTION, "upgrade"))
            .insert_header((header::SEC_WEBSOCKET_VERSION, "13"))
            .insert_header((header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ=="))
            .to_http_parts();
        let body = web::Payload::from_request(&req, &mut payload)
            .await
            .unwrap();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/server.toml");
        let mut settings = crate::config::Settings::from_file(std::path::Path::new(path))
            .unwrap()
            .realtime;
        settings.max_queued_bytes = 4096;
        let resyncs = prometheus::IntCounter::new("resyncs", "resyncs").unwrap();
        let (_response, socket) = Socket::upgrade(&req, body, &settings, resyncs.clone()).unwrap();
        (socket, resyncs)
    }

    #[actix_web::test]
    async fn a_viewer_that_falls_behind_loses_its_queued_events_once_per_overflow_and_is_counted() {
        let (socket, resyncs) = socket().await;
        let event = ByteString::from("x".repeat(1000));
        // Held back before `welcome`: the fifth event no longer fits.
        for _ in 0..5 {
            socket.deliver(&event);
        }
        assert_eq!(resyncs.get(), 1);
        assert!(matches!(socket.signal.take(), Some(Signal::Resync)));

        // Queued after it: the session never ran, so nothing is handed over.
        socket.release();
        for _ in 0..4 {
            socket.deliver(&event);
        }
        assert_eq!(resyncs.get(), 1, "four events fit");
        socket.deliver(&event);
        assert_eq!(resyncs.get(), 2);
        assert!(matches!(socket.signal.take(), Some(Signal::Resync)));
    }
}
