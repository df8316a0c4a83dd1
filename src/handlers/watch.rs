//! The watch page and its WebSocket, both reached by invite key, for a video's party or a
//! playlist's.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{page_context, render};
use crate::domain::InviteKey;
use crate::domain::{PartyId, Subject};
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::managers::StoreError;
use crate::state::AppState;

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
