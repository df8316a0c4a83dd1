//! This node's party groups.
//!
//! Every worker thread keeps its own groups (party → the sockets of its local viewers). An
//! event from the Redis subscriber is serialized once (a shared `ByteString`) and handed, as
//! the same bytes, to each worker's mailbox: one cross-thread wake per worker, not per viewer.
//! The worker's hub task then hands the event to each local viewer's connection directly;
//! the viewers' sessions are not woken unless a connection's channel is full.
//!
//! The same task sends the heartbeat: it pings each local viewer every
//! `heartbeat_interval_secs` (the viewers' turns spread over the interval), and interrupts the
//! session of one that has been silent, or has taken none of its queued bytes, for
//! `client_timeout_secs`. A viewer silent for half of `away_after_ms` is pinged at once, and
//! one silent for all of it is marked quiet: the viewer list shows it away.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::protocol::CloseReason;
use super::socket::{Signal, Socket};
use crate::domain::PartyId;

/// How every `closed` frame begins (`ServerMessage` puts the tag first).
const CLOSED_PREFIX: &str = r#"{"type":"closed""#;

/// What a party's local viewers receive.
#[derive(Debug, Clone)]
pub enum Event {
    /// A text message to send as it is.
    Frame(ByteString),
    /// Send the `closed` message, then close the connection.
    Close {
        frame: ByteString,
        reason: CloseReason,
    },
    /// Events may have been missed: reread state and viewers from Redis.
    Resync,
    /// The store stopped answering (false) or answers again (true).
    Store(bool),
    /// The node is stopping: send the `closed` message, then close the connection, at a
    /// random moment within `within`.
    Drain {
        frame: ByteString,
        reason: CloseReason,
        within: Duration,
    },
}

/// An event on its way to a worker.
enum Delivery {
    Party(PartyId, Event),
    All(Event),
}

/// The node's hub: the mailboxes of the worker threads that hold viewers.
pub struct Hub {
    /// Tells this hub's worker-local groups from another server's in the same process.
    id: u64,
    mailboxes: Mutex<Vec<mpsc::UnboundedSender<Delivery>>>,
    connections: AtomicUsize,
    heartbeat: Duration,
    timeout: Duration,
    /// `[realtime] away_after_ms`.
    away_after: Duration,
    /// The latest published viewer list of each large party, for welcomes.
    pub viewer_lists: super::viewer_lists::ViewerLists,
    /// The node's metrics: the viewers and parties here, and the subscriber's figures.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The heartbeat's sweeps per interval: each pings the viewers whose turn has come.
const SWEEPS_PER_HEARTBEAT: u32 = 20;

static NEXT_HUB_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This worker thread's groups, per hub.
    static LOCAL: RefCell<Vec<(u64, Rc<LocalHub>)>> = const { RefCell::new(Vec::new()) };
}

impl Hub {
    /// `heartbeat`: how often viewers are pinged; `timeout`: how long one may stay silent
    /// (or leave its queue untaken) before its session is interrupted; `away_after`: how
    /// long one may stay silent before it shows as away.
    pub fn new(
        heartbeat: Duration,
        timeout: Duration,
        away_after: Duration,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        Self {
            id: NEXT_HUB_ID.fetch_add(1, Ordering::Relaxed),
            mailboxes: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            heartbeat,
            timeout,
            away_after,
            viewer_lists: Default::default(),
            metrics,
        }
    }

    /// Adds a socket to its party's group on this worker thread. Party events reach it from
    /// now on (held back until [`Socket::release`]). Call [`Hub::leave`] when it ends.
    ///
    /// Must run on a worker thread (inside a `LocalSet`): the first call on a thread starts
    /// that thread's hub task.
    pub fn join(&self, party: PartyId, socket: &Rc<Socket>) {
        self.local().join(party, socket, self.heartbeat);
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.metrics.viewer_joined(party);
    }

    pub fn leave(&self, party: PartyId, socket: &Rc<Socket>) {
        if self.local().leave(party, socket) {
            self.connections.fetch_sub(1, Ordering::Relaxed);
            self.metrics.viewer_left(party);
        }
    }

    fn local(&self) -> Rc<LocalHub> {
        LOCAL.with(|cell| {
            let mut locals = cell.borrow_mut();
            if let Some((_, local)) = locals.iter().find(|(id, _)| *id == self.id) {
                return local.clone();
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let local = Rc::new(LocalHub::default());
            // Unconstrained by tokio's cooperative budget: handing an event to a viewer's
            // channel takes a unit of the current task's budget, and a spent budget would
            // refuse every handover after the first 128 viewers (waking each of the rest's
            // sessions to do it instead). The loop yields after each delivery itself.
            let timing = Timing {
                heartbeat: self.heartbeat,
                timeout: self.timeout,
                away_after: self.away_after,
            };
            tokio::task::spawn_local(tokio::task::unconstrained(local.clone().run(rx, timing)));
            self.lock_mailboxes().push(tx);
            locals.push((self.id, local.clone()));
            local
        })
    }

    fn lock_mailboxes(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<Delivery>>> {
        self.mailboxes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn post(&self, make: impl Fn() -> Delivery) {
        self.lock_mailboxes().retain(|tx| tx.send(make()).is_ok());
    }

    /// Hands a published event (JSON) to the party's local viewers, encoded once.
    pub fn dispatch(&self, party: PartyId, payload: String) {
        #[derive(Deserialize)]
        struct Closed {
            #[serde(rename = "type")]
            kind: String,
            reason: Option<CloseReason>,
        }
        self.viewer_lists.observe(party, &payload);
        // `closed` frames are serialized by this crate with their type first; every other
        // event is forwarded without being parsed.
        let closing = payload.starts_with(CLOSED_PREFIX);
        let reason = match closing.then(|| serde_json::from_str::<Closed>(&payload)) {
            Some(Ok(Closed {
                kind,
                reason: Some(reason),
            })) if kind == "closed" => Some(reason),
            _ => None,
        };
        let frame = ByteString::from(payload);
        let event = match reason {
            Some(reason) => Event::Close { frame, reason },
            None => Event::Frame(frame),
        };
        self.post(|| Delivery::Party(party, event.clone()));
    }

    /// Sends an event to every local viewer of one party.
    pub fn post_party(&self, party: PartyId, event: Event) {
        self.post(|| Delivery::Party(party, event.clone()));
    }

    /// Sends an event to every local viewer of every party.
    pub fn broadcast_all(&self, event: Event) {
        self.post(|| Delivery::All(event.clone()));
    }

    /// Local viewers' connections across all parties.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Tells every local viewer when the store stops answering and when it answers again,
/// for as long as the hub lives.
pub fn relay_store_status(health: &crate::managers::StoreHealth, hub: &Arc<Hub>) {
    let mut status = health.subscribe();
    let hub = Arc::downgrade(hub);
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let up = *status.borrow_and_update() == crate::managers::StoreStatus::Up;
            let Some(hub) = hub.upgrade() else { return };
            tracing::info!(up, "telling party viewers about the store");
            hub.broadcast_all(Event::Store(up));
        }
    });
}

/// The heartbeat's settings, as a worker's hub task uses them.
#[derive(Clone, Copy)]
struct Timing {
    heartbeat: Duration,
    timeout: Duration,
    away_after: Duration,
}

/// One worker thread's groups.
#[derive(Default)]
struct LocalHub {
    groups: RefCell<HashMap<PartyId, Vec<Rc<Socket>>>>,
}

impl LocalHub {
    /// Removes a socket; false if it was not in the group.
    fn leave(&self, party: PartyId, socket: &Rc<Socket>) -> bool {
        let mut groups = self.groups.borrow_mut();
        let Some(group) = groups.get_mut(&party) else {
            return false;
        };
        let slot = socket.slot.get();
        if group.get(slot).is_none_or(|s| !Rc::ptr_eq(s, socket)) {
            return false;
        }
        group.swap_remove(slot);
        if let Some(moved) = group.get(slot) {
            moved.slot.set(slot);
        }
        socket.slot.set(usize::MAX);
        if group.is_empty() {
            groups.remove(&party);
        }
        true
    }

    async fn run(self: Rc<Self>, mut mailbox: mpsc::UnboundedReceiver<Delivery>, timing: Timing) {
        // Often enough that a silent viewer shows away within a fraction of `away_after`.
        let every = (timing.heartbeat / SWEEPS_PER_HEARTBEAT).min(timing.away_after / 8);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                delivery = mailbox.recv() => match delivery {
                    Some(delivery) => self.deliver(delivery),
                    None => return,
                },
                _ = tick.tick() => self.sweep(timing),
            }
            // Let the worker's connections write what was just handed to them.
            tokio::task::yield_now().await;
        }
    }

    fn join(&self, party: PartyId, socket: &Rc<Socket>, heartbeat: Duration) {
        // The first ping falls anywhere in the coming interval, so a crowd that joined
        // together is not pinged all at once (one write per viewer, in one go, would hold
        // up the party events behind it).
        let spread = heartbeat.mul_f64(rand::random::<f64>());
        socket.next_ping.set(Instant::now() + spread);
        let mut groups = self.groups.borrow_mut();
        let group = groups.entry(party).or_default();
        socket.slot.set(group.len());
        group.push(socket.clone());
    }

    fn deliver(&self, delivery: Delivery) {
        let groups = self.groups.borrow();
        match delivery {
            Delivery::Party(party, event) => {
                if let Some(group) = groups.get(&party) {
                    for socket in group {
                        hand(socket, &event);
                    }
                }
            }
            Delivery::All(event) => {
                for socket in groups.values().flatten() {
                    hand(socket, &event);
                }
            }
        }
    }

    /// Pings the viewers whose turn it is, and those quiet for half of `away_after`; marks
    /// those silent for `away_after` quiet; interrupts those silent or stalled for `timeout`.
    fn sweep(&self, timing: Timing) {
        let now = Instant::now();
        for socket in self.groups.borrow().values().flatten() {
            let silent = socket.silent_for(now);
            if silent > timing.timeout {
                socket.raise(Signal::Silent);
            } else if socket.stalled_for(now) > timing.timeout {
                socket.raise(Signal::Stalled);
            } else if silent > timing.away_after {
                socket.mark_quiet();
            } else if silent > timing.away_after / 2 {
                socket.probe();
            } else if socket.next_ping.get() <= now {
                socket.next_ping.set(now + timing.heartbeat);
                socket.ping();
            }
        }
    }
}

fn hand(socket: &Rc<Socket>, event: &Event) {
    match event {
        Event::Frame(frame) => socket.deliver(frame),
        Event::Close { frame, reason } => {
            // Not held back: the party is over even for a viewer still joining.
            socket.send(frame.clone());
            socket.raise(Signal::Close(*reason));
        }
        Event::Resync => socket.raise(Signal::Resync),
        Event::Store(false) => socket.raise(Signal::StoreDown),
        Event::Store(true) => socket.raise(Signal::StoreUp),
        Event::Drain {
            frame,
            reason,
            within,
        } => {
            let (socket, frame, reason) = (socket.clone(), frame.clone(), *reason);
            let at = within.mul_f64(rand::random::<f64>());
            tokio::task::spawn_local(async move {
                tokio::time::sleep(at).await;
                socket.send(frame);
                socket.raise(Signal::Close(reason));
            });
        }
    }
}
