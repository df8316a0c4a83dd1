//! One viewer's connection, from `hello` to close.
//!
//! The session waits on its [`Socket`] for the client's messages and for the hub's signals
//! (resync, close, silence); party events themselves are written by the hub without
//! waking it. Handling a message may take several Redis round trips: that work is boxed,
//! so an idle session holds only what it must remember. On every exit it removes its
//! presence, tells the party, and leaves the group.
//!
//! - `actions`: the rate limits, then each client message to its concern:
//! - `playback`: commands, their system lines and refusals, a player's reports;
//! - `waiting`: buffering, readiness and sync status, and waiting for everyone;
//! - `chat`: chat messages and display names;
//! - `control`: who may control (the owner's changes).
//! - `unplayable`: a player that cannot play the playlist's item; passing it when nobody can.
//! - `arrivals`: joining and leaving, with the chat's "joined"/"left" lines.
//! - `away`: a connection gone silent (shown away) and back.

mod actions;
mod arrivals;
mod away;
mod chat;
mod control;
mod playback;
mod unplayable;
mod waiting;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use super::limits::TokenBucket;
use super::protocol::{ClientMessage, CloseReason, ParseError, ServerMessage, PROTOCOL_VERSION};
use super::socket::{Next, Signal, Socket};
use super::Hub;
use crate::config::{ChatSettings, RealtimeSettings};
use crate::domain::{ErrorCode, PartyId, PresenceEntry, Subject, ViewerStatus, ViewerSummary};
use crate::managers::{Managers, StoreError, User};

/// How long a closing connection may take to send what is queued and its close frame.
const LINGER: Duration = Duration::from_secs(2);

/// Everything a session needs from the application, shared by all of them.
pub struct SessionContext {
    /// This node's party connections per address and person.
    pub connections: Arc<super::connections::Connections>,
    pub managers: Managers,
    pub hub: Arc<Hub>,
    /// This node's party channels.
    pub subscriptions: super::subscriber::Subscriptions,
    pub settings: RealtimeSettings,
    pub chat: ChatSettings,
    /// This node: its id, recorded in presence entries, and its set of parties.
    pub node: Arc<super::node::Node>,
    /// Longest title a player may report.
    pub max_title_chars: usize,
    /// How long the party waits for a buffering viewer (`[sync] wait_limit_secs`).
    pub wait_limit: Duration,
    /// How long one viewer's stalls may hold the party in all (`stall_budget`) within any
    /// `stall_window` (`[sync] stall_budget_secs`, `stall_window_secs`).
    pub stall_window: Duration,
    pub stall_budget: Duration,
    /// Gathers viewer-list changes of this node.
    pub roster: Arc<super::roster::Roster>,
    /// The node's metrics: command latency, slow viewers resynced.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// How a session ended.
enum Exit {
    /// The client closed or vanished; nothing more to send.
    Gone,
    /// The store failed: the request is refused, the connection lives on (before `welcome`
    /// it closes with 1013 and the page reconnects).
    Store,
    /// Close the connection with this reason (after sending its `closed` frame if asked).
    Close {
        reason: CloseReason,
        send_frame: bool,
    },
}

/// Starts the session of a connection that actix-ws has upgraded, on this worker thread.
/// It runs to the connection's end and then gives back its place (`slot`).
pub fn spawn(
    ctx: Arc<SessionContext>,
    socket: Socket,
    user: User,
    subject: Option<Subject>,
    slot: super::connections::ConnectionSlot,
) {
    let socket = Rc::new(socket);
    actix_web::rt::spawn(async move {
        let close = run(ctx, socket.clone(), user, subject).await;
        if let Ok(socket) = Rc::try_unwrap(socket) {
            let close = close
                .as_ref()
                .map(|(code, reason)| (*code, reason.as_str()));
            // Boxed, like the wait for `hello`: an idle session's task holds neither.
            Box::pin(socket.finish(close, LINGER)).await;
        }
        drop(slot);
    });
}

/// Runs a connection to its end. Returns the close frame's code and reason to send, if
/// the connection is still open.
pub async fn run(
    ctx: Arc<SessionContext>,
    socket: Rc<Socket>,
    user: User,
    subject: Option<Subject>,
) -> Option<(u16, String)> {
    let exit = match subject {
        None => Exit::Close {
            reason: CloseReason::InviteInvalid,
            send_frame: true,
        },
        Some(subject) => match Box::pin(await_hello(&ctx, &socket)).await {
            Ok(()) => Connection::new(ctx, user, subject).serve(&socket).await,
            Err(exit) => exit,
        },
    };
    let exit = match exit {
        Exit::Store => Exit::Close {
            reason: CloseReason::StoreUnavailable,
            send_frame: true,
        },
        other => other,
    };
    match exit {
        Exit::Gone | Exit::Store => Some((1000, String::new())),
        Exit::Close { reason, send_frame } => {
            if send_frame {
                socket.send(ServerMessage::closed(reason).to_json());
            }
            Some((reason.code(), format!("{reason:?}")))
        }
    }
}

/// Sends one message; Err when the connection is broken.
fn send(socket: &Socket, message: &ServerMessage) -> Result<(), Exit> {
    if socket.send(message.to_json()) {
        Ok(())
    } else {
        Err(Exit::Gone)
    }
}

/// Waits for `hello`, answering anything else with `hello_required` (within the message
/// rate; beyond it, unanswered).
async fn await_hello(ctx: &SessionContext, socket: &Socket) -> Result<(), Exit> {
    let deadline = tokio::time::sleep(Duration::from_secs(ctx.settings.hello_timeout_secs));
    tokio::pin!(deadline);
    let refuse = ServerMessage::error(ErrorCode::HelloRequired, "send hello first");
    loop {
        let next = tokio::select! {
            _ = &mut deadline => return Err(Exit::Close { reason: CloseReason::HelloTimeout, send_frame: true }),
            next = poll_fn(|cx| socket.poll_next(cx)) => next,
        };
        match next {
            Next::Text(text) => match ClientMessage::parse(&text) {
                Ok(ClientMessage::Hello { protocol }) if protocol == PROTOCOL_VERSION => {
                    return Ok(())
                }
                Ok(ClientMessage::Hello { .. }) => {
                    let speaks = format!("this server speaks protocol {PROTOCOL_VERSION}");
                    send(
                        socket,
                        &ServerMessage::error(ErrorCode::ProtocolUnsupported, speaks),
                    )?;
                    return Err(Exit::Close {
                        reason: CloseReason::ProtocolUnsupported,
                        send_frame: true,
                    });
                }
                _ if socket.allow_message() => send(socket, &refuse)?,
                _ => {}
            },
            Next::Binary if socket.allow_message() => send(socket, &refuse)?,
            Next::Binary | Next::Heard | Next::Signal(Signal::Quiet) => {}
            other => return Err(ended(other)),
        }
    }
}

/// The exit for whatever ends a connection outright.
fn ended(next: Next) -> Exit {
    match next {
        Next::Violation(reason) => Exit::Close {
            reason,
            send_frame: false,
        },
        Next::Signal(Signal::Backlog) => Exit::Close {
            reason: CloseReason::Backlog,
            send_frame: false,
        },
        Next::Signal(Signal::Close(reason)) => Exit::Close {
            reason,
            send_frame: false,
        },
        Next::Signal(Signal::Silent) => Exit::Close {
            reason: CloseReason::HeartbeatTimeout,
            send_frame: true,
        },
        _ => Exit::Gone,
    }
}

fn internal(err: StoreError, what: &str) -> Exit {
    tracing::warn!(error = ?err, what, "party store failed");
    Exit::Store
}

/// A connection that has said hello.
struct Connection {
    ctx: Arc<SessionContext>,
    user: User,
    subject: Subject,
    party: PartyId,
    conn_id: String,
    entry: PresenceEntry,
    commands: TokenBucket,
    /// While the party holds for this viewer: when it stops waiting for them.
    stall_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// How long this viewer's stalls held the party lately.
    stalls: crate::sync::StallBudget,
    /// Left behind for holding the party too often, and told so; cleared when the party
    /// holds for this viewer again.
    excused: bool,
}

/// What woke the session.
enum Wake {
    Next(Next),
    StallLimit,
}

impl Connection {
    fn new(ctx: Arc<SessionContext>, user: User, subject: Subject) -> Self {
        let mut id = [0u8; 12];
        rand::rng().fill_bytes(&mut id);
        let rt = &ctx.settings;
        let entry = PresenceEntry {
            user_id: user.id,
            name: user.name.clone(),
            node: ctx.node.id().to_string(),
            status: ViewerStatus::Watching,
            in_sync: true,
            left_behind: false,
            away: false,
            since: ctx.managers.clock.now_ms() as u64,
        };
        let stalls = crate::sync::StallBudget::new(ctx.stall_window, ctx.stall_budget);
        Self {
            commands: TokenBucket::new(rt.commands_per_second, rt.command_burst),
            party: subject.party(),
            ctx,
            user,
            subject,
            conn_id: URL_SAFE_NO_PAD.encode(id),
            entry,
            stall_deadline: None,
            stalls,
            excused: false,
        }
    }

    async fn serve(mut self, socket: &Rc<Socket>) -> Exit {
        // Subscribe to the party's channel and join the group before reading the state, so
        // no event falls between the two; the socket holds events back until `welcome` is out.
        let subscriptions = self.ctx.subscriptions.clone();
        if !subscriptions.acquire(self.party).await {
            return Exit::Store;
        }
        let hub = self.ctx.hub.clone();
        hub.join(self.party, socket);
        let exit = self.run_joined(socket).await;
        hub.leave(self.party, socket);
        subscriptions.release(self.party);
        Box::pin(self.depart()).await;
        exit
    }

    async fn run_joined(&mut self, socket: &Socket) -> Exit {
        if let Err(exit) = Box::pin(self.arrive(socket)).await {
            return exit;
        }
        socket.release();
        loop {
            let wake = poll_fn(|cx| {
                if let Some(stall) = self.stall_deadline.as_mut() {
                    if stall.as_mut().poll(cx).is_ready() {
                        return std::task::Poll::Ready(Wake::StallLimit);
                    }
                }
                socket.poll_next(cx).map(Wake::Next)
            })
            .await;
            let step = match wake {
                Wake::StallLimit => Box::pin(self.left_behind()).await,
                Wake::Next(Next::Text(text)) => Box::pin(self.on_text(socket, &text)).await,
                Wake::Next(Next::Binary) if socket.allow_message() => send(
                    socket,
                    &ServerMessage::error(ErrorCode::BinaryNotSupported, "send JSON text frames"),
                ),
                Wake::Next(Next::Binary) => Ok(()),
                // Whatever woke the session, the quiet flag is looked at below.
                Wake::Next(Next::Heard | Next::Signal(Signal::Quiet)) => Ok(()),
                Wake::Next(Next::Signal(Signal::Resync)) => Box::pin(self.resync(socket)).await,
                Wake::Next(Next::Signal(Signal::StoreDown)) => {
                    send(socket, &ServerMessage::Store { available: false })
                }
                Wake::Next(Next::Signal(Signal::StoreUp)) => Box::pin(self.rejoin(socket)).await,
                Wake::Next(other) => Err(ended(other)),
            };
            let step = match step {
                Ok(()) if socket.quiet() != self.entry.away => {
                    Box::pin(self.set_away(socket.quiet())).await
                }
                other => other,
            };
            match step {
                Ok(()) => {}
                // The request was not carried out; the viewer hears why and stays.
                Err(Exit::Store) => {
                    let refusal = ServerMessage::error(
                        ErrorCode::StoreUnavailable,
                        "The server cannot reach its store right now, so nothing changed. \
                         Try again in a moment.",
                    );
                    if let Err(exit) = send(socket, &refusal) {
                        return exit;
                    }
                }
                Err(exit) => return exit,
            }
        }
    }

    /// The party's viewer list and how many watch: the latest published one this node saw
    /// (large parties, see `viewer_lists`), else read from Redis.
    async fn viewer_list(&self) -> Result<(Vec<ViewerSummary>, usize), Exit> {
        if let Some(list) = self.ctx.hub.viewer_lists.latest(self.party) {
            return Ok(list);
        }
        let limit = self.ctx.settings.viewer_list_max;
        self.ctx
            .managers
            .party
            .viewers(self.party, limit)
            .await
            .map_err(|e| internal(e, "viewers"))
    }

    /// The store answers again: records this connection's presence anew (it may have been
    /// lost with the store) and rereads state and viewers.
    async fn rejoin(&mut self, socket: &Socket) -> Result<(), Exit> {
        self.entry.node = self.ctx.node.id().to_string();
        self.ctx
            .node
            .serve(self.party)
            .await
            .map_err(|e| internal(e, "serve"))?;
        let joined = self
            .ctx
            .managers
            .party
            .join(self.party, &self.conn_id, &self.entry)
            .await
            .map_err(|e| internal(e, "rejoin"))?;
        if joined.is_none() {
            return Err(Exit::Close {
                reason: self.subject.deleted(),
                send_frame: true,
            });
        }
        self.ctx.roster.touch(self.party);
        self.resync(socket).await?;
        send(socket, &ServerMessage::Store { available: true })
    }

    /// Rereads state and viewers after events may have been missed.
    async fn resync(&mut self, socket: &Socket) -> Result<(), Exit> {
        let party = &self.ctx.managers.party;
        let Some(state) = party
            .state(self.party)
            .await
            .map_err(|e| internal(e, "state"))?
        else {
            return Err(Exit::Close {
                reason: self.subject.deleted(),
                send_frame: true,
            });
        };
        let (viewers, people) = self.viewer_list().await?;
        send(socket, &ServerMessage::State { state })?;
        send(socket, &ServerMessage::viewers(viewers, people))
    }

    async fn on_text(&mut self, socket: &Socket, text: &str) -> Result<(), Exit> {
        let limit = self.ctx.settings.max_frame_bytes;
        if text.len() > limit {
            let message = format!("frames may be at most {limit} bytes");
            return send(
                socket,
                &ServerMessage::error(ErrorCode::FrameTooLarge, message),
            );
        }
        let command_id = match ClientMessage::command_id(text) {
            Ok(id) => id,
            Err(ParseError::BadMessage(why)) => {
                return send(socket, &ServerMessage::error(ErrorCode::BadMessage, why))
            }
            Err(ParseError::UnknownType) => None,
        };
        match ClientMessage::parse(text) {
            Ok(message) => self.on_message(socket, message, command_id).await,
            Err(ParseError::UnknownType) => send(
                socket,
                &ServerMessage::error(ErrorCode::UnknownType, "unknown message type"),
            ),
            Err(ParseError::BadMessage(why)) => {
                send(socket, &ServerMessage::error(ErrorCode::BadMessage, why))
            }
        }
    }
}
