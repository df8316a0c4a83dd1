//! One viewer's connection, from `hello` to close.
//!
//! The task `select!`s over the client's frames, its party group's events and a heartbeat
//! tick. It ends on close, heartbeat timeout, a failed send, a `closed` event or shutdown;
//! on every exit it removes its presence, tells the party, and leaves the group.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, Session};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::StreamExt;
use rand::RngCore;
use tokio::sync::broadcast::error::RecvError;

use super::limits::TokenBucket;
use super::protocol::{
    ClientMessage, CloseReason, ParseError, ServerMessage, You, PROTOCOL_VERSION,
};
use super::{Event, Hub};
use crate::config::RealtimeSettings;
use crate::domain::VideoTitle;
use crate::managers::{Managers, PartyId, PresenceEntry, User, Video, ViewerStatus};
use crate::sync::Command;

/// Everything a session needs from the application.
#[derive(Clone)]
pub struct SessionContext {
    pub managers: Managers,
    pub hub: Arc<Hub>,
    pub settings: RealtimeSettings,
    /// This node's id, recorded in presence entries.
    pub node_id: Arc<str>,
    /// Longest title a player may report.
    pub max_title_chars: usize,
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
    video: Option<Video>,
) {
    let mut stream = stream;
    let Some(video) = video else {
        close(session, CloseReason::InviteInvalid, true).await;
        return;
    };
    let exit = match await_hello(&ctx, &mut session, &mut stream).await {
        Ok(()) => {
            Connection::new(ctx.clone(), user, video)
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
    let close = actix_ws::CloseReason {
        code: CloseCode::Other(reason.code()),
        description: Some(format!("{reason:?}")),
    };
    let close = match reason {
        CloseReason::ServerShutdown => actix_ws::CloseReason {
            code: CloseCode::Away,
            ..close
        },
        CloseReason::FrameTooLarge => actix_ws::CloseReason {
            code: CloseCode::Size,
            ..close
        },
        _ => close,
    };
    let _ = session.close(Some(close)).await;
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
    loop {
        tokio::select! {
            _ = &mut deadline => return Err(Exit::Close { reason: CloseReason::HelloTimeout, send_frame: true }),
            frame = stream.next() => match frame {
                Some(Ok(AggregatedMessage::Text(text))) => match ClientMessage::parse(&text) {
                    Ok(ClientMessage::Hello { protocol }) if protocol == PROTOCOL_VERSION => return Ok(()),
                    Ok(ClientMessage::Hello { .. }) => {
                        send(session, &ServerMessage::error("protocol_unsupported", format!("this server speaks protocol {PROTOCOL_VERSION}"))).await?;
                        return Err(Exit::Close { reason: CloseReason::ProtocolUnsupported, send_frame: true });
                    }
                    _ => send(session, &ServerMessage::error("hello_required", "send hello first")).await?,
                },
                Some(Ok(AggregatedMessage::Ping(bytes))) => session.pong(&bytes).await.map_err(|_| Exit::Gone)?,
                Some(Ok(AggregatedMessage::Close(_))) | None => return Err(Exit::Gone),
                Some(Ok(_)) => send(session, &ServerMessage::error("hello_required", "send hello first")).await?,
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

/// A connection that has said hello.
struct Connection {
    ctx: SessionContext,
    user: User,
    video: Video,
    party: PartyId,
    conn_id: String,
    entry: PresenceEntry,
    commands: TokenBucket,
    messages: TokenBucket,
    /// The media's duration as last known, for validating positions.
    duration_ms: Option<f64>,
    last_seen: Instant,
}

impl Connection {
    fn new(ctx: SessionContext, user: User, video: Video) -> Self {
        let mut id = [0u8; 12];
        rand::rng().fill_bytes(&mut id);
        let rt = &ctx.settings;
        let entry = PresenceEntry {
            user_id: user.id,
            name: user.name.clone(),
            node: ctx.node_id.to_string(),
            status: ViewerStatus::Watching,
            since: ctx.managers.clock.now_ms() as u64,
        };
        Self {
            commands: TokenBucket::new(rt.commands_per_second, rt.command_burst),
            messages: TokenBucket::new(rt.messages_per_second, rt.message_burst),
            party: video.party(),
            ctx,
            user,
            video,
            conn_id: URL_SAFE_NO_PAD.encode(id),
            entry,
            duration_ms: None,
            last_seen: Instant::now(),
        }
    }

    async fn serve(mut self, session: &mut Session, stream: &mut AggregatedMessageStream) -> Exit {
        // Join the group before reading the state, so no event falls between the two.
        let mut events = self.ctx.hub.join(self.party);
        let exit = self.run_joined(session, stream, &mut events).await;
        drop(events);
        self.ctx.hub.leave(self.party);
        if let Err(err) = self
            .ctx
            .managers
            .party
            .leave(self.party, &self.conn_id)
            .await
        {
            tracing::warn!(error = %err, party = %self.party, "could not remove presence");
        }
        if let Err(err) = self.ctx.managers.party.publish_viewers(self.party).await {
            tracing::warn!(error = %err, party = %self.party, "could not publish viewers");
        }
        exit
    }

    async fn run_joined(
        &mut self,
        session: &mut Session,
        stream: &mut AggregatedMessageStream,
        events: &mut tokio::sync::broadcast::Receiver<Event>,
    ) -> Exit {
        if let Err(exit) = self.welcome(session).await {
            return exit;
        }
        let rt = &self.ctx.settings;
        let timeout = Duration::from_secs(rt.client_timeout_secs);
        let mut heartbeat = tokio::time::interval(Duration::from_secs(rt.heartbeat_interval_secs));
        heartbeat.tick().await;
        loop {
            let step = tokio::select! {
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

    async fn welcome(&mut self, session: &mut Session) -> Result<(), Exit> {
        let managers = &self.ctx.managers;
        let deleted = Exit::Close {
            reason: CloseReason::VideoDeleted,
            send_frame: true,
        };
        if !managers
            .party
            .join(self.party, &self.conn_id, &self.entry)
            .await
            .map_err(|e| internal(e, "join"))?
        {
            return Err(deleted);
        }
        let Some(state) = managers
            .party
            .state(self.party)
            .await
            .map_err(|e| internal(e, "state"))?
        else {
            return Err(deleted);
        };
        self.duration_ms = state.duration_ms;
        let viewers = managers
            .party
            .viewers(self.party)
            .await
            .map_err(|e| internal(e, "viewers"))?;
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            conn_id: self.conn_id.clone(),
            you: You {
                user_id: self.user.id,
                name: self.user.name.clone(),
            },
            can_control: true,
            server_ms: managers.clock.now_ms(),
            state,
            viewers,
            video: self.video.info(),
        };
        send(session, &welcome).await?;
        managers
            .party
            .publish_viewers(self.party)
            .await
            .map_err(|e| internal(e, "publish viewers"))
    }

    /// Rereads state and viewers after events may have been missed.
    async fn resync(&mut self, session: &mut Session) -> Result<(), Exit> {
        let managers = &self.ctx.managers;
        let Some(state) = managers
            .party
            .state(self.party)
            .await
            .map_err(|e| internal(e, "state"))?
        else {
            return Err(Exit::Close {
                reason: CloseReason::VideoDeleted,
                send_frame: true,
            });
        };
        self.duration_ms = state.duration_ms;
        let viewers = managers
            .party
            .viewers(self.party)
            .await
            .map_err(|e| internal(e, "viewers"))?;
        send(session, &ServerMessage::State { state }).await?;
        send(session, &ServerMessage::Viewers { viewers }).await
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
                if text.len() > self.ctx.settings.max_frame_bytes {
                    let limit = self.ctx.settings.max_frame_bytes;
                    return send(
                        session,
                        &ServerMessage::error(
                            "frame_too_large",
                            format!("frames may be at most {limit} bytes"),
                        ),
                    )
                    .await;
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

    async fn on_message(
        &mut self,
        session: &mut Session,
        message: ClientMessage,
    ) -> Result<(), Exit> {
        let allowed = if message.is_command() {
            self.commands.try_take()
        } else {
            self.messages.try_take()
        };
        if !allowed {
            return send(
                session,
                &ServerMessage::error("rate_limited", "too many messages; wait a moment"),
            )
            .await;
        }
        let command = match message {
            ClientMessage::Hello { .. } => {
                return send(
                    session,
                    &ServerMessage::error("bad_message", "hello was already received"),
                )
                .await
            }
            ClientMessage::Ping { id } => {
                let pong = ServerMessage::Pong {
                    id,
                    server_ms: self.ctx.managers.clock.now_ms(),
                };
                return send(session, &pong).await;
            }
            ClientMessage::Buffering => return self.set_status(ViewerStatus::Buffering).await,
            ClientMessage::Ready => return self.set_status(ViewerStatus::Watching).await,
            ClientMessage::Play => Ok(Command::Play),
            ClientMessage::Pause { position_ms } => Command::pause(position_ms, self.duration_ms),
            ClientMessage::Seek { position_ms } => Command::seek(position_ms, self.duration_ms),
            ClientMessage::Rate { rate } => Command::rate(rate),
            ClientMessage::MediaInfo { duration_ms, title } => {
                self.adopt_title(title.as_deref()).await;
                Command::duration(duration_ms)
            }
        };
        let command = match command {
            Ok(command) => command,
            Err(err) => {
                return send(session, &ServerMessage::error(err.code(), err.to_string())).await
            }
        };
        match self
            .ctx
            .managers
            .party
            .apply(self.party, command, &self.user.name)
            .await
        {
            Ok(Some(outcome)) => {
                self.duration_ms = outcome.state.duration_ms;
                // A command that changed nothing is not published; the sender still learns
                // the state, in case its player had wandered off.
                if outcome.changed || !command.is_control() {
                    Ok(())
                } else {
                    session.text(outcome.frame).await.map_err(|_| Exit::Gone)
                }
            }
            Ok(None) => Err(Exit::Close {
                reason: CloseReason::VideoDeleted,
                send_frame: true,
            }),
            Err(err) => {
                tracing::error!(error = ?err, party = %self.party, "command failed");
                send(
                    session,
                    &ServerMessage::error(
                        "internal",
                        "the command could not be applied; try again",
                    ),
                )
                .await
            }
        }
    }

    async fn set_status(&mut self, status: ViewerStatus) -> Result<(), Exit> {
        if self.entry.status == status {
            return Ok(());
        }
        self.entry.status = status;
        let party = &self.ctx.managers.party;
        let result = async {
            party
                .set_status(self.party, &self.conn_id, &self.entry)
                .await?;
            party.publish_viewers(self.party).await
        };
        result.await.map_err(|e| internal(e, "status"))
    }

    async fn adopt_title(&mut self, title: Option<&str>) {
        let Some(title) = title.and_then(|t| VideoTitle::parse(t, self.ctx.max_title_chars).ok())
        else {
            return;
        };
        match self
            .ctx
            .managers
            .videos
            .adopt_player_title(&self.video, &title)
            .await
        {
            Ok(Some(video)) => self.video = video,
            Ok(None) => {}
            Err(err) => tracing::warn!(error = ?err, "could not store the player's title"),
        }
    }
}

fn internal(err: crate::managers::StoreError, what: &str) -> Exit {
    tracing::error!(error = ?err, what, "party store failed; closing the connection");
    Exit::Gone
}
