//! The watch page and its WebSocket, both reached by invite key, for a video's party or a
//! playlist's.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{page_context, render};
use crate::domain::InviteKey;
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::managers::{PartyId, StoreError};
use crate::realtime::session::{self, SessionContext, Subject};
use crate::startup::AppState;

/// What an invite key opens, if anything (a stale key that still resolves is refused).
pub async fn subject_of(state: &AppState, key: &InviteKey) -> Result<Option<Subject>, StoreError> {
    let managers = &state.managers;
    Ok(match managers.invites.resolve(key).await? {
        Some(PartyId::Video(id)) => managers
            .videos
            .get(id)
            .await?
            .filter(|v| &v.invite_key == key)
            .map(Subject::Video),
        Some(PartyId::Playlist(id)) => managers
            .playlists
            .get(id)
            .await?
            .filter(|p| &p.invite_key == key)
            .map(Subject::Playlist),
        None => None,
    })
}

pub async fn watch_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let key = InviteKey::parse(&path).ok_or(PageError::NotFound)?;
    let subject = subject_of(&state, &key).await?.ok_or(PageError::NotFound)?;
    let mut ctx = page_context(&state, &user.0);
    match &subject {
        Subject::Video(video) => {
            ctx.insert("party_kind", "video");
            ctx.insert("title", &video.title);
            ctx.insert("video", &video.info());
            ctx.insert("owner_url", &format!("/videos/{}", video.id));
        }
        Subject::Playlist(playlist) => {
            ctx.insert("party_kind", "playlist");
            ctx.insert("title", &playlist.title);
            ctx.insert("owner_url", &format!("/playlists/{}", playlist.id));
        }
    }
    ctx.insert("ws_path", &format!("/ws/watch/{}", key.as_str()));
    ctx.insert("watch_url", &super::watch_url(&req, &key));
    ctx.insert("is_owner", &(subject.owner() == user.0.id));
    ctx.insert("max_chat_chars", &state.settings.chat.max_chars);
    render(&state, "watch.html", &ctx, StatusCode::OK)
}

/// Upgrades to the party protocol. A foreign `Origin` is refused before the upgrade; an
/// unknown key is told so over the socket (close 4004), so the page can explain.
pub async fn watch_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    if !crate::security::origin_allowed(&req, &state.settings.server.allowed_origins) {
        tracing::warn!("refused a party connection from a foreign origin");
        return Ok(HttpResponse::Forbidden().json(serde_json::json!({
            "error": "origin_not_allowed",
            "message": "this origin may not open party connections"
        })));
    }
    let subject = match InviteKey::parse(&path) {
        Some(key) => subject_of(&state, &key)
            .await
            .map_err(crate::error::StoreFailure)?,
        None => None,
    };
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let hard_limit = state.settings.realtime.max_frame_bytes * 16;
    let stream = stream
        .max_frame_size(hard_limit)
        .aggregate_continuations()
        .max_continuation_size(hard_limit);
    let ctx = SessionContext {
        managers: state.managers.clone(),
        hub: state.hub.clone(),
        settings: state.settings.realtime.clone(),
        chat: state.settings.chat.clone(),
        node_id: state.node_id.clone(),
        max_title_chars: state.settings.library.max_title_chars,
        wait_limit: std::time::Duration::from_secs(state.settings.sync.wait_limit_secs),
        roster: state.roster.clone(),
    };
    actix_web::rt::spawn(session::run(ctx, session, stream, user.0, subject));
    Ok(response)
}
