//! `/ws/watch/{invite_key}`: the party WebSocket's upgrade, served by actix-ws.
//!
//! The handshake is checked like any request: a valid WebSocket handshake, an allowed
//! `Origin`, the identity cookie (checked, never rotated: a guest is made, and its cookie
//! set on the `101`, when there is none), and room under the node's connection limits for
//! the client's address and person; none while the node is stopping (503). An unknown invite key is still upgraded and told so
//! over the socket (close 4004), so the page can explain.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::domain::InviteKey;
use crate::identity::{Identities, IdentityError};
use crate::realtime::session::{self, SessionContext};
use crate::realtime::socket::Socket;
use crate::state::AppState;

fn refusal(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": code, "message": message }))
}

pub async fn watch_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    identities: web::Data<Identities>,
    sessions: web::Data<SessionContext>,
    path: web::Path<String>,
) -> HttpResponse {
    let asks_to_upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !asks_to_upgrade {
        return HttpResponse::build(StatusCode::UPGRADE_REQUIRED)
            .insert_header((header::UPGRADE, "websocket"))
            .json(json!({
                "error": "upgrade_required",
                "message": "this address speaks the party protocol over a WebSocket"
            }));
    }
    if let Err(err) = actix_http::ws::verify_handshake(req.head()) {
        tracing::debug!(error = %err, "refused a malformed WebSocket handshake");
        return refusal(
            StatusCode::BAD_REQUEST,
            "bad_handshake",
            "this is not a valid WebSocket handshake",
        );
    }
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        // Stopping: the page's reconnect lands on another node behind the load balancer.
        return HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
            .insert_header((header::RETRY_AFTER, "1"))
            .json(json!({
                "error": "stopping",
                "message": "this server is stopping; reconnect to reach another"
            }));
    }
    if !crate::security::origin_allowed(&req, &state.settings.server.allowed_origins) {
        tracing::warn!("refused a party connection from a foreign origin");
        return refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not open party connections",
        );
    }
    let unavailable = |err| {
        tracing::error!(error = ?err, "party handshake failed in the store");
        refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server cannot reach its store; try again shortly",
        )
    };
    let policy = &identities.policy;
    let presented = req.cookie(&policy.cookie_name);
    let address = crate::security::client_address(&req, &policy.trusted_proxies);
    let identified = crate::identity::identify(
        &identities.signer,
        &identities.users,
        policy,
        presented.as_ref().map(|c| c.value()),
        false,
        address,
    )
    .await;
    let (user, token) = match identified {
        Ok(found) => found,
        Err(IdentityError::Store(err)) => return unavailable(err),
        Err(IdentityError::TooManyGuests) => {
            return refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_guests",
                crate::error::TOO_MANY_GUESTS,
            )
        }
    };
    let slot = match sessions.connections.admit(address, user.id) {
        Ok(slot) => slot,
        Err(too_many) => {
            tracing::warn!(?too_many, "refused a party connection over the limit");
            return refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                too_many.message(),
            );
        }
    };
    let subject = match InviteKey::parse(&path) {
        Some(key) => match state.managers.open_invite(&key).await {
            Ok(subject) => subject,
            Err(err) => return unavailable(err),
        },
        None => None,
    };
    let resyncs = sessions.metrics.viewer_resyncs.clone();
    let (mut response, socket) = match Socket::upgrade(&req, body, &sessions.settings, resyncs) {
        Ok(upgraded) => upgraded,
        Err(err) => return HttpResponse::from_error(err),
    };
    if let Some(token) = token {
        let https = req.connection_info().scheme() == "https";
        let cookie =
            crate::identity::identity_cookie(&identities.signer, policy, user.id, &token, https);
        if let Err(err) = response.add_cookie(&cookie) {
            tracing::error!(error = %err, "cannot set the identity cookie on the upgrade");
        }
    }
    session::spawn(sessions.into_inner(), socket, user, subject, slot);
    response
}
