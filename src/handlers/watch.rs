//! The watch page, reached by invite key, for a video's party or a playlist's. It and the
//! party WebSocket (`party_socket`) open the key the same way, through
//! `Managers::open_invite`. The owner's page also learns where the JSON API describes the
//! party, so it can follow the party to a new invite link. A video party's media file comes
//! with the page, starting where the party is now (a `#t=` media fragment), so a newcomer's
//! player fetches that place while the page's scripts load.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{page_context, render};
use crate::domain::{InviteKey, MediaKind, PartyId, Subject};
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::state::AppState;

pub async fn watch_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let key = InviteKey::parse(&path).ok_or(PageError::NotFound)?;
    let subject = state
        .managers
        .open_invite(&key)
        .await?
        .ok_or(PageError::NotFound)?;
    let mut ctx = page_context(&state, &user.0);
    match &subject {
        Subject::Video(video) => {
            ctx.insert("party_kind", "video");
            ctx.insert("title", &video.title);
            ctx.insert("video", &video.info());
            // The page's own fragment would be lost: such a file loads from its start.
            if video.kind == MediaKind::File && !video.source.contains('#') {
                ctx.insert("media_start_s", &media_start_s(&state, video.party()).await);
            }
            ctx.insert("owner_url", &format!("/videos/{}", video.id));
            ctx.insert("owner_api", &format!("/api/v1/videos/{}", video.id));
        }
        Subject::Playlist(playlist) => {
            ctx.insert("party_kind", "playlist");
            ctx.insert("title", &playlist.title);
            ctx.insert("owner_url", &format!("/playlists/{}", playlist.id));
            ctx.insert("owner_api", &format!("/api/v1/playlists/{}", playlist.id));
        }
    }
    ctx.insert("ws_path", &format!("/ws/watch/{}", key.as_str()));
    ctx.insert("watch_url", &super::watch_url(&req, &key));
    ctx.insert("is_owner", &(subject.owner() == user.0.id));
    ctx.insert("max_chat_chars", &state.settings.chat.max_chars);
    render(&state, "watch.html", &ctx, StatusCode::OK)
}

/// Where the party's media is now, in whole tenths of a second: the start of the page's media
/// fragment. The page moves its player to the exact place once it has the state and the
/// clock; this only decides what it fetches first, so a state that cannot be read (the party
/// gone, the store failing) starts it at 0 rather than failing the page.
async fn media_start_s(state: &AppState, party: PartyId) -> f64 {
    let now_ms = state.managers.clock.now_ms();
    match state.managers.party.state(party).await {
        Ok(playback) => playback.map_or(0.0, |p| (p.expected_at(now_ms) / 100.0).floor() / 10.0),
        Err(e) => {
            tracing::warn!(error = ?e, %party, "the watch page could not read the party's state");
            0.0
        }
    }
}
