//! The owner's playlist pages: create, show, rename, add / remove / move items, rotate the
//! invite key, delete. Like videos, a playlist is reachable by id only for its owner.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::library::{self, ItemError, ItemSource};
use super::pages::{render_home, HomeForms};
use super::{check_form, page_context, render, see_other, watch_url, CsrfForm};
use crate::domain::Playlist;
use crate::domain::{PlaylistId, VideoId, VideoTitle};
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::managers::User;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateForm {
    csrf_token: String,
    title: String,
}

pub async fn create_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: Form<CreateForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let limits = &state.settings.library;
    let refused = |message: String| HomeForms {
        playlist_title: form.title.clone(),
        playlist_error: Some(message),
        ..Default::default()
    };
    let title = match VideoTitle::parse(&form.title, limits.max_title_chars) {
        Ok(title) => title,
        Err(err) => {
            return render_home(
                &req,
                &state,
                &user.0,
                1,
                refused(err.to_string()),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    if state.managers.playlists.count(user.0.id).await? >= limits.max_playlists_per_user {
        let message = format!(
            "You have {} playlists, the most allowed. Delete some first.",
            limits.max_playlists_per_user
        );
        return render_home(
            &req,
            &state,
            &user.0,
            1,
            refused(message),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let playlist = state.managers.playlists.create(user.0.id, &title).await?;
    Ok(see_other(&format!("/playlists/{}", playlist.id)))
}

async fn owned(state: &AppState, user: &User, id: &str) -> Result<Playlist, PageError> {
    let id = PlaylistId::parse(id).ok_or(PageError::NotFound)?;
    state
        .managers
        .playlists
        .get_owned(user.id, id)
        .await?
        .ok_or(PageError::NotFound)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
}

#[derive(Serialize)]
struct LibraryChoice {
    id: u64,
    title: String,
}

pub async fn show_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, PageError> {
    let playlist = owned(&state, &user.0, &path).await?;
    let notice = match query.notice.as_deref() {
        Some("rotated") => Some(
            "A new invite link was made. The old one no longer works, and its viewers were told.",
        ),
        Some("changed") => Some("The playlist was changed; everyone watching sees it at once."),
        _ => None,
    };
    render_playlist(
        &req,
        &state,
        &user.0,
        &playlist,
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

async fn render_playlist(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    playlist: &Playlist,
    error: Option<String>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let items = state.managers.playlists.items(playlist.id).await?;
    let library = state
        .managers
        .videos
        .list(user.id, 0, state.settings.library.max_videos_per_user)
        .await?;
    let choices: Vec<LibraryChoice> = library
        .videos
        .into_iter()
        .map(|v| LibraryChoice {
            id: v.id.0,
            title: v.title,
        })
        .collect();
    let mut ctx = page_context(state, user);
    ctx.insert("playlist_id", &playlist.id.0);
    ctx.insert("title", &playlist.title);
    ctx.insert("items", &items);
    ctx.insert("library", &choices);
    ctx.insert("watch_url", &watch_url(req, &playlist.invite_key));
    ctx.insert("error", &error);
    ctx.insert("notice", &notice);
    ctx.insert("max_title_chars", &state.settings.library.max_title_chars);
    render(state, "playlist.html", &ctx, status)
}

#[derive(Deserialize)]
pub struct RenameForm {
    csrf_token: String,
    title: String,
}

pub async fn rename_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<RenameForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path).await?;
    match VideoTitle::parse(&form.title, state.settings.library.max_title_chars) {
        Ok(title) => {
            state.managers.playlists.rename(&playlist, &title).await?;
            Ok(see_other(&format!(
                "/playlists/{}?notice=changed",
                playlist.id
            )))
        }
        Err(err) => {
            render_playlist(
                &req,
                &state,
                &user.0,
                &playlist,
                Some(err.to_string()),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct AddItemForm {
    csrf_token: String,
    video_id: Option<String>,
    url: Option<String>,
    title: Option<String>,
}

pub async fn add_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<AddItemForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path).await?;
    let video = form.video_id.as_deref().filter(|v| !v.is_empty());
    let source = match video {
        Some(id) => match VideoId::parse(id) {
            Some(id) => ItemSource::Video(id),
            None => {
                return item_refused(&req, &state, &user.0, &playlist, ItemError::UnknownVideo)
                    .await
            }
        },
        None => ItemSource::Url {
            url: form.url.as_deref().unwrap_or(""),
            title: form.title.as_deref(),
        },
    };
    match library::add_item(
        &state.managers,
        &state.settings.library,
        user.0.id,
        &playlist,
        source,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/playlists/{}?notice=changed",
            playlist.id
        ))),
        Err(err) => item_refused(&req, &state, &user.0, &playlist, err).await,
    }
}

async fn item_refused(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    playlist: &Playlist,
    err: ItemError,
) -> Result<HttpResponse, PageError> {
    if err.store() {
        tracing::error!(error = ?err, "playlist edit failed");
        return Err(PageError::Forbidden(
            "The playlist could not be changed right now. Try again in a moment.".into(),
        ));
    }
    render_playlist(
        req,
        state,
        user,
        playlist,
        Some(err.to_string()),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn remove_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, u64)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path.0).await?;
    match library::remove_item(&state.managers, &playlist, path.1).await {
        Ok(()) => Ok(see_other(&format!(
            "/playlists/{}?notice=changed",
            playlist.id
        ))),
        Err(err) => item_refused(&req, &state, &user.0, &playlist, err).await,
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf_token: String,
    index: usize,
}

pub async fn move_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, u64)>,
    form: Form<MoveForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path.0).await?;
    match state
        .managers
        .playlists
        .move_item(
            &playlist,
            path.1,
            form.index,
            state.settings.library.max_playlist_items,
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/playlists/{}?notice=changed",
            playlist.id
        ))),
        Err(err) => item_refused(&req, &state, &user.0, &playlist, err.into()).await,
    }
}

pub async fn rotate_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path).await?;
    state
        .managers
        .playlists
        .rotate_invite(&playlist)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(see_other(&format!(
        "/playlists/{}?notice=rotated",
        playlist.id
    )))
}

pub async fn delete_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let playlist = owned(&state, &user.0, &path).await?;
    state.managers.playlists.delete(&playlist).await?;
    Ok(see_other("/?notice=playlist_deleted"))
}
