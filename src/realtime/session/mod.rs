//! One viewer's connection, from `hello` to close.
//!
//! The task `select!`s over the client's frames, its party group's events and a heartbeat
//! tick. It ends on close, heartbeat timeout, a failed send, a `closed` event or shutdown;
//! on every exit it removes its presence, tells the party, and leaves the group.
//!
//! - `actions`: what each client message does.
//! - `arrivals`: joining and leaving, with the chat's "joined"/"left" lines.

mod actions;
mod arrivals;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, Session};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::StreamExt;
use rand::RngCore;
use tokio::sync::broadcast::error::RecvError;

use super::limits::TokenBucket;
use super::protocol::{ClientMessage, CloseReason, ParseError, ServerMessage, PROTOCOL_VERSION};
use super::{Event, Hub};
use crate::config::{ChatSettings, RealtimeSettings};
use crate::domain::UserId;
use crate::managers::{
    Managers, PartyId, Playlist, PresenceEntry, StoreError, User, Video, ViewerStatus,
};

/// Everything a session needs from the application.
#[derive(Clone)]
pub struct SessionContext {
    pub managers: Managers,
    pub hub: Arc<Hub>,
    pub settings: RealtimeSettings,
    pub chat: ChatSettings,
    /// This node's id, recorded in presence entries.
    pub node_id: Arc<str>,
    /// Longest title a player may report.
    pub max_title_chars: usize,
    /// How long the party waits for a buffering viewer (`[sync] wait_limit_secs`).
    pub wait_limit: Duration,
    /// Gathers viewer-list changes of this node.
    pub roster: Arc<super::roster::Roster>,
}

/// What a party plays: one video, or a playlist.
#[derive(Debug, Clone)]
pub enum Subject {
    Video(Video),
    Playlist(Playlist),
}

impl Subject {
    pub fn party(&self) -> PartyId {
        match self {
            Self::Video(v) => v.party(),
            Self::Playlist(p) => p.party(),
        }
    }

    pub fn owner(&self) -> UserId {
        match self {
            Self::Video(v) => v.owner,
            Self::Playlist(p) => p.owner,
        }
    }

    fn deleted(&self) -> CloseReason {
        match self {
            Self::Video(_) => CloseReason::VideoDeleted,
            Self::Playlist(_) => CloseReason::PlaylistDeleted,
        }
    }
}

/// How a session ended.
enum Exit {
    /// The client closed or vanished; nothing more to send.
    Gone,
    /// Close the connection with this reason (after sending its `closed` frame if asked).
    Close {
        reason: CloseReason,
        send_frame: bool,
    },
}

/// Runs a connection to its end.
pub async fn run(
    ctx: SessionContext,
    mut session: Session,
    stream: AggregatedMessageStream,
    user: User,
    subject: Option<Subject>,
) {
    let mut stream = stream;
    let Some(subject) = subject else {
        close(session, CloseReason::InviteInvalid, true).await;
        return;
    };
    let exit = match await_hello(&ctx, &mut session, &mut stream).await {
        Ok(()) => {
            Connection::new(ctx.clone(), user, subject)
                .serve(&mut session, &mut stream)
                .await
        }
        Err(exit) => exit,
    };
    if let Exit::Close { reason, send_frame } = exit {
        close(session, reason, send_frame).await;
    }
}

async fn close(mut session: Session, reason: CloseReason, send_frame: bool) {
    if send_frame {
        let _ = session.text(ServerMessage::closed(reason).to_json()).await;
    }
    let code = match reason {
        CloseReason::ServerShutdown => CloseCode::Away,
        CloseReason::FrameTooLarge => CloseCode::Size,
        other => CloseCode::Other(other.code()),
    };
    let _ = session
        .close(Some(actix_ws::CloseReason {
            code,
            description: Some(format!("{reason:?}")),
        }))
        .await;
}

async fn send(session: &mut Session, message: &ServerMessage) -> Result<(), Exit> {
    session
        .text(message.to_json())
        .await
        .map_err(|_| Exit::Gone)
}

/// Waits for `hello`, answering anything else with `hello_required`.
async fn await_hello(
    ctx: &SessionContext,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
) -> Result<(), Exit> {
    let deadline = tokio::time::sleep(Duration::from_secs(ctx.settings.hello_timeout_secs));
    tokio::pin!(deadline);
    let refuse = ServerMessage::error("hello_required", "send hello first");
    loop {
        tokio::select! {
            _ = &mut deadline => return Err(Exit::Close { reason: CloseReason::HelloTimeout, send_frame: true }),
            frame = stream.next() => match frame {
                Some(Ok(AggregatedMessage::Text(text))) => match ClientMessage::parse(&text) {
                    Ok(ClientMessage::Hello { protocol }) if protocol == PROTOCOL_VERSION => return Ok(()),
                    Ok(ClientMessage::Hello { .. }) => {
                        let speaks = format!("this server speaks protocol {PROTOCOL_VERSION}");
                        send(session, &ServerMessage::error("protocol_unsupported", speaks)).await?;
                        return Err(Exit::Close { reason: CloseReason::ProtocolUnsupported, send_frame: true });
                    }
                    _ => send(session, &refuse).await?,
                },
                Some(Ok(AggregatedMessage::Ping(bytes))) => session.pong(&bytes).await.map_err(|_| Exit::Gone)?,
                Some(Ok(AggregatedMessage::Close(_))) | None => return Err(Exit::Gone),
                Some(Ok(_)) => send(session, &refuse).await?,
                Some(Err(err)) => return Err(protocol_error(err)),
            }
        }
    }
}

fn protocol_error(err: actix_ws::ProtocolError) -> Exit {
    match err {
        actix_ws::ProtocolError::Overflow => Exit::Close {
            reason: CloseReason::FrameTooLarge,
            send_frame: false,
        },
        _ => Exit::Gone,
    }
}

fn internal(err: StoreError, what: &str) -> Exit {
    tracing::error!(error = ?err, what, "party store failed; closing the connection");
    Exit::Gone
}

/// A connection that has said hello.
struct Connection {
    ctx: SessionContext,
    user: User,
    subject: Subject,
    party: PartyId,
    conn_id: String,
    entry: PresenceEntry,
    commands: TokenBucket,
    messages: TokenBucket,
    last_seen: Instant,
    /// While buffering: when the party stops waiting for this viewer.
    stall_deadline: Option<tokio::time::Instant>,
}

impl Connection {
    fn new(ctx: SessionContext, user: User, subject: Subject) -> Self {
        let mut id = [0u8; 12];
        rand::rng().fill_bytes(&mut id);
        let rt = &ctx.settings;
        let entry = PresenceEntry {
            user_id: user.id,
            name: user.name.clone(),
            node: ctx.node_id.to_string(),
            status: ViewerStatus::Watching,
            in_sync: true,
            left_behind: false,
            since: ctx.managers.clock.now_ms() as u64,
        };
        Self {
            commands: TokenBucket::new(rt.commands_per_second, rt.command_burst),
            messages: TokenBucket::new(rt.messages_per_second, rt.message_burst),
            party: subject.party(),
            ctx,
            user,
            subject,
            conn_id: URL_SAFE_NO_PAD.encode(id),
            entry,
            last_seen: Instant::now(),
            stall_deadline: None,
        }
    }

    async fn serve(mut self, session: &mut Session, stream: &mut AggregatedMessageStream) -> Exit {
        // Join the group before reading the state, so no event falls between the two.
        let mut events = self.ctx.hub.join(self.party);
        let exit = self.run_joined(session, stream, &mut events).await;
        drop(events);
        self.ctx.hub.leave(self.party);
        self.depart().await;
        exit
    }

    async fn run_joined(
        &mut self,
        session: &mut Session,
        stream: &mut AggregatedMessageStream,
        events: &mut tokio::sync::broadcast::Receiver<Event>,
    ) -> Exit {
        if let Err(exit) = self.arrive(session).await {
            return exit;
        }
        let rt = &self.ctx.settings;
        let timeout = Duration::from_secs(rt.client_timeout_secs);
        let mut heartbeat = tokio::time::interval(Duration::from_secs(rt.heartbeat_interval_secs));
        heartbeat.tick().await;
        loop {
            let stall = self.stall_deadline;
            let step = tokio::select! {
                _ = async { tokio::time::sleep_until(stall.unwrap_or_else(tokio::time::Instant::now)).await }, if stall.is_some() => {
                    self.left_behind().await
                }
                frame = stream.next() => match frame {
                    Some(Ok(frame)) => self.on_frame(session, frame).await,
                    Some(Err(err)) => Err(protocol_error(err)),
                    None => Err(Exit::Gone),
                },
                event = events.recv() => self.on_event(session, event).await,
                _ = heartbeat.tick() => {
                    if self.last_seen.elapsed() > timeout {
                        Err(Exit::Close { reason: CloseReason::HeartbeatTimeout, send_frame: true })
                    } else {
                        session.ping(b"").await.map_err(|_| Exit::Gone)
                    }
                }
            };
            if let Err(exit) = step {
                return exit;
            }
        }
    }

    /// Rereads state and viewers after events may have been missed.
    async fn resync(&mut self, session: &mut Session) -> Result<(), Exit> {
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
        let limit = self.ctx.settings.viewer_list_max;
        let (viewers, people) = party
            .viewers(self.party, limit)
            .await
            .map_err(|e| internal(e, "viewers"))?;
        send(session, &ServerMessage::State { state }).await?;
        send(session, &ServerMessage::Viewers { viewers, people }).await
    }

    async fn on_event(
        &mut self,
        session: &mut Session,
        event: Result<Event, RecvError>,
    ) -> Result<(), Exit> {
        match event {
            Ok(Event::Frame(frame)) => session.text(frame).await.map_err(|_| Exit::Gone),
            Ok(Event::Close { frame, reason }) => {
                let _ = session.text(frame).await;
                Err(Exit::Close {
                    reason,
                    send_frame: false,
                })
            }
            Ok(Event::Resync) | Err(RecvError::Lagged(_)) => self.resync(session).await,
            Err(RecvError::Closed) => Err(Exit::Gone),
        }
    }

    async fn on_frame(
        &mut self,
        session: &mut Session,
        frame: AggregatedMessage,
    ) -> Result<(), Exit> {
        self.last_seen = Instant::now();
        match frame {
            AggregatedMessage::Text(text) => {
                let limit = self.ctx.settings.max_frame_bytes;
                if text.len() > limit {
                    let message = format!("frames may be at most {limit} bytes");
                    return send(session, &ServerMessage::error("frame_too_large", message)).await;
                }
                match ClientMessage::parse(&text) {
                    Ok(message) => self.on_message(session, message).await,
                    Err(ParseError::UnknownType) => {
                        send(
                            session,
                            &ServerMessage::error("unknown_type", "unknown message type"),
                        )
                        .await
                    }
                    Err(ParseError::BadMessage(why)) => {
                        send(session, &ServerMessage::error("bad_message", why)).await
                    }
                }
            }
            AggregatedMessage::Binary(_) => {
                send(
                    session,
                    &ServerMessage::error("binary_not_supported", "send JSON text frames"),
                )
                .await
            }
            AggregatedMessage::Ping(bytes) => session.pong(&bytes).await.map_err(|_| Exit::Gone),
            AggregatedMessage::Pong(_) => Ok(()),
            AggregatedMessage::Close(_) => Err(Exit::Gone),
        }
    }
}
