//! The party WebSocket's handshake, served by actix-http's upgrade hook: a request that
//! asks for `Upgrade: websocket` comes here with its connection instead of going through
//! the application's routes. The HTTP/1 machinery (and its buffers) is released; the
//! connection continues as a [`Socket`] run by its session, on the same task.
//!
//! The checks are those of any request: the path (`/ws/watch/{invite_key}`), a valid
//! handshake, an allowed `Origin`, the identity cookie (a guest is made, and its cookie set
//! on the `101`, when there is none). An unknown invite key is still upgraded and told so
//! over the socket (close 4004), so the page can explain.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::{h1, ws, Request};
use actix_web::http::header;
use actix_web::web;
use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::Socket;
use crate::domain::InviteKey;
use crate::handlers::watch::subject_of;
use crate::managers::User;
use crate::realtime::session::{self, SessionContext, Subject};
use crate::startup::AppState;

/// The only path that upgrades.
const PATH_PREFIX: &str = "/ws/watch/";
/// How long a refused handshake's answer, or a closing connection, may take to send.
const LINGER: Duration = Duration::from_secs(2);

type Upgraded = actix_codec::Framed<TcpStream, h1::Codec>;

/// A handshake that is not upgraded, answered in plain HTTP.
struct Refusal {
    status: u16,
    reason: &'static str,
    code: &'static str,
    message: &'static str,
}

const NOT_FOUND: Refusal = Refusal {
    status: 404,
    reason: "Not Found",
    code: "not_found",
    message: "there is nothing to connect to here",
};

/// What an accepted handshake carries into the session.
struct Accepted {
    user: User,
    subject: Option<Subject>,
    set_cookie: Option<String>,
    accept_key: String,
}

/// Serves one upgrade request to its end.
pub async fn serve(
    state: web::Data<AppState>,
    session: Arc<SessionContext>,
    req: Request,
    framed: Upgraded,
) {
    let started = Instant::now();
    let parts = framed.into_parts();
    let mut io = parts.io;
    // Bytes the client sent right after its request; the HTTP buffers themselves go.
    let early = BytesMut::from(&parts.read_buf[..]);
    drop((parts.read_buf, parts.write_buf));
    let accepted = Box::pin(accept(&state, &req)).await;
    let status = match &accepted {
        Ok(_) => 101,
        Err(refusal) => refusal.status,
    };
    tracing::info!(
        method = %req.method(),
        route = "/ws/watch/{invite_key}",
        status,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    drop(req);
    let accepted = match accepted {
        Ok(accepted) => accepted,
        Err(refusal) => return refuse(io, refusal).await,
    };
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n",
        accepted.accept_key
    );
    if let Some(cookie) = &accepted.set_cookie {
        response.push_str(&format!("set-cookie: {cookie}\r\n"));
    }
    response.push_str("\r\n");
    if io.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    let rt = &session.settings;
    let socket = Rc::new(Socket::new(
        io,
        early,
        rt.max_frame_bytes * 16,
        rt.max_queued_bytes,
    ));
    let close = session::run(session, socket.clone(), accepted.user, accepted.subject).await;
    if let Ok(socket) = Rc::try_unwrap(socket) {
        let close = close
            .as_ref()
            .map(|(code, reason)| (*code, reason.as_str()));
        socket.finish(close, LINGER).await;
    }
}

/// Checks the handshake and finds who connects to what.
async fn accept(state: &AppState, req: &Request) -> Result<Accepted, Refusal> {
    let key = req
        .path()
        .strip_prefix(PATH_PREFIX)
        .filter(|rest| !rest.contains('/'))
        .ok_or(NOT_FOUND)?;
    let head = req.head();
    if let Err(err) = ws::verify_handshake(head) {
        tracing::debug!(error = %err, "refused a malformed WebSocket handshake");
        return Err(Refusal {
            status: 400,
            reason: "Bad Request",
            code: "bad_handshake",
            message: "this is not a valid WebSocket handshake",
        });
    }
    let client_key = head
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes())
        .unwrap_or_default();
    let accept_key = String::from_utf8_lossy(&ws::hash_key(client_key)).into_owned();
    if !crate::security::origin_allowed_in(head.headers(), &state.settings.server.allowed_origins) {
        tracing::warn!("refused a party connection from a foreign origin");
        return Err(Refusal {
            status: 403,
            reason: "Forbidden",
            code: "origin_not_allowed",
            message: "this origin may not open party connections",
        });
    }
    let unavailable = |err| {
        tracing::error!(error = ?err, "party handshake failed in the store");
        Refusal {
            status: 503,
            reason: "Service Unavailable",
            code: "unavailable",
            message: "the server cannot reach its store; try again shortly",
        }
    };
    let cookie_name = &state.settings.identity.cookie_name;
    let presented = head
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == cookie_name)
        .map(|c| c.value().to_owned());
    let (user, token) = crate::identity::identify(state, presented.as_deref(), false)
        .await
        .map_err(unavailable)?;
    let set_cookie = token.map(|token| {
        let https = crate::security::forwarded_https(head.headers());
        crate::identity::identity_cookie(state, user.id, &token, https).to_string()
    });
    let subject = match InviteKey::parse(key) {
        Some(key) => subject_of(state, &key).await.map_err(unavailable)?,
        None => None,
    };
    Ok(Accepted {
        user,
        subject,
        set_cookie,
        accept_key,
    })
}

async fn refuse(mut io: TcpStream, refusal: Refusal) {
    let body = serde_json::json!({ "error": refusal.code, "message": refusal.message }).to_string();
    let response = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        refusal.status,
        refusal.reason,
        body.len()
    );
    let send = async {
        io.write_all(response.as_bytes()).await?;
        io.shutdown().await
    };
    let _ = tokio::time::timeout(LINGER, send).await;
}
