//! `/api/v1/playlists`: playlists and their items as JSON, in the style of the videos API.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::library::{self, AddError, ItemError, ItemSource};
use super::watch_url;
use crate::domain::{PageNumber, PlaylistId, VideoId, VideoTitle};
use crate::domain::{Playlist, PlaylistItem};
use crate::error::ApiError;
use crate::identity::CurrentUser;
use crate::managers::PlaylistError;
use crate::state::AppState;

#[derive(Serialize)]
pub struct PlaylistBody {
    id: u64,
    title: String,
    invite_key: String,
    watch_url: String,
    created_ms: u64,
    items: Vec<PlaylistItem>,
}

async fn body(
    req: &HttpRequest,
    state: &AppState,
    playlist: &Playlist,
) -> Result<PlaylistBody, ApiError> {
    Ok(PlaylistBody {
        id: playlist.id.0,
        title: playlist.title.clone(),
        invite_key: playlist.invite_key.as_str().to_owned(),
        watch_url: watch_url(req, &playlist.invite_key),
        created_ms: playlist.created_ms,
        items: state.managers.playlists.items(playlist.id).await?,
    })
}

fn title(state: &AppState, text: &str) -> Result<VideoTitle, ApiError> {
    VideoTitle::parse(text, state.settings.library.max_title_chars)
        .map_err(|e| ApiError::invalid("invalid_title", e.to_string()))
}

#[derive(Deserialize)]
pub struct TitleBody {
    title: String,
}

pub async fn create_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    input: web::Json<TitleBody>,
) -> Result<HttpResponse, ApiError> {
    let title = title(&state, &input.title)?;
    let limit = state.settings.library.max_playlists_per_user;
    if state.managers.playlists.count(user.0.id).await? >= limit {
        let message = format!("You have {limit} playlists, the most allowed. Delete some first.");
        return Err(ApiError::Conflict {
            code: "too_many_playlists",
            message,
        });
    }
    let playlist = state.managers.playlists.create(user.0.id, &title).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/playlists/{}", playlist.id),
        ))
        .json(body(&req, &state, &playlist).await?))
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
}

pub async fn list_playlists(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = &state.settings.library;
    let page_size = limits.page_size;
    let last = PageNumber::last_of(limits.max_playlists_per_user, page_size);
    let page = PageNumber::parse(query.page.as_deref(), last)
        .map_err(|e| ApiError::invalid("invalid_page", e.to_string()))?;
    let (playlists, total) = state
        .managers
        .playlists
        .list(user.0.id, page.index(), page_size)
        .await?;
    let mut bodies = Vec::with_capacity(playlists.len());
    for playlist in &playlists {
        bodies.push(body(&req, &state, playlist).await?);
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"playlists": bodies, "page": page.get(), "page_size": page_size, "total": total})))
}

async fn owned(state: &AppState, user: &CurrentUser, id: &str) -> Result<Playlist, ApiError> {
    let id = PlaylistId::parse(id).ok_or(ApiError::NotFound)?;
    state
        .managers
        .playlists
        .get_owned(user.0.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path).await?;
    Ok(HttpResponse::Ok().json(body(&req, &state, &playlist).await?))
}

pub async fn rename_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<TitleBody>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path).await?;
    let playlist = state
        .managers
        .playlists
        .rename(&playlist, &title(&state, &input.title)?)
        .await?;
    Ok(HttpResponse::Ok().json(body(&req, &state, &playlist).await?))
}

pub async fn delete_playlist(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path).await?;
    state.managers.playlists.delete(&playlist).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn rotate_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path).await?;
    let key = state
        .managers
        .playlists
        .rotate_invite(&playlist)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"invite_key": key.as_str(), "watch_url": watch_url(&req, &key)})))
}

/// `{"video_id": 12}` copies a library video; `{"url": "…", "title": "…"}` adds a link.
#[derive(Deserialize)]
pub struct AddItemBody {
    video_id: Option<u64>,
    url: Option<String>,
    title: Option<String>,
}

fn item_error(err: ItemError) -> ApiError {
    match err {
        ItemError::Add(AddError::Url(e)) => ApiError::invalid("invalid_url", e.to_string()),
        ItemError::Add(AddError::Title(e)) => ApiError::invalid("invalid_title", e.to_string()),
        ItemError::Add(AddError::Store(e)) | ItemError::Playlist(PlaylistError::Store(e)) => {
            ApiError::Store(e)
        }
        ItemError::Add(AddError::LibraryFull(_)) => {
            ApiError::invalid("library_full", err.to_string())
        }
        ItemError::UnknownVideo => ApiError::invalid("unknown_video", err.to_string()),
        ItemError::Playlist(PlaylistError::Full(_)) => ApiError::Conflict {
            code: "playlist_full",
            message: err.to_string(),
        },
        ItemError::Playlist(PlaylistError::NoSuchItem) => ApiError::NotFound,
        ItemError::Playlist(PlaylistError::NoSuchPosition { .. }) => {
            ApiError::invalid("invalid_index", err.to_string())
        }
        ItemError::Playlist(PlaylistError::Refused(_)) => {
            ApiError::invalid("invalid_request", err.to_string())
        }
    }
}

pub async fn add_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<AddItemBody>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path).await?;
    let source = match (&input.video_id, &input.url) {
        (Some(id), None) => ItemSource::Video(VideoId(*id)),
        (None, Some(url)) => ItemSource::Url {
            url,
            title: input.title.as_deref(),
        },
        _ => {
            return Err(ApiError::invalid(
                "bad_item",
                "send either \"video_id\" or \"url\" (with an optional \"title\")",
            ))
        }
    };
    let item = library::add_item(
        &state.managers,
        &state.settings.library,
        user.0.id,
        &playlist,
        source,
    )
    .await
    .map_err(item_error)?;
    Ok(HttpResponse::Created().json(item))
}

pub async fn remove_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, u64)>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path.0).await?;
    library::remove_item(&state.managers, &playlist, path.1)
        .await
        .map_err(item_error)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct MoveBody {
    index: usize,
}

pub async fn move_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, u64)>,
    input: web::Json<MoveBody>,
) -> Result<HttpResponse, ApiError> {
    let playlist = owned(&state, &user, &path.0).await?;
    state
        .managers
        .playlists
        .move_item(
            &playlist,
            path.1,
            input.index,
            state.settings.library.max_playlist_items,
        )
        .await
        .map_err(|e| item_error(e.into()))?;
    Ok(HttpResponse::Ok().json(body(&req, &state, &playlist).await?))
}
