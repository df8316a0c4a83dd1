//! The home page (library, add form, display name) and the display-name form. The library
//! shows each video with its thumbnail, its duration once known, and how many watch it now.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::{check_form, page_context, render, watch_url};
use crate::domain::{clock_time, DisplayName, PageNumber, SAMPLES};
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::managers::User;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct HomeQuery {
    page: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize)]
struct LibraryItem {
    id: u64,
    title: String,
    kind: &'static str,
    watch_url: String,
    /// YouTube's still of the video; files show a placeholder.
    thumbnail_url: Option<String>,
    /// `m:ss`, once a player has reported the duration.
    duration: Option<String>,
    /// People in its party now.
    watching: usize,
}

#[derive(Serialize)]
struct Sample {
    name: &'static str,
    title: &'static str,
}

/// Values to show again in the forms after a refusal.
#[derive(Default, Serialize)]
pub struct HomeForms {
    pub url: String,
    pub title: String,
    pub add_error: Option<String>,
    pub name: Option<String>,
    pub name_error: Option<String>,
    pub playlist_title: String,
    pub playlist_error: Option<String>,
}

/// Notices the home page can show after a redirect; anything else in `?notice=` is ignored.
fn notice_text(code: &str) -> Option<&'static str> {
    match code {
        "deleted" => Some("The video was deleted. Its invite link no longer works."),
        "renamed" => Some("Your display name was changed."),
        "playlist_deleted" => Some("The playlist was deleted. Its invite link no longer works."),
        _ => None,
    }
}

pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, PageError> {
    let notice = query.notice.as_deref().and_then(notice_text);
    let limits = &state.settings.library;
    let last = PageNumber::last_of(limits.max_videos_per_user, limits.page_size);
    let page = match PageNumber::parse(query.page.as_deref(), last) {
        Ok(page) => page,
        Err(err) => {
            return Ok(crate::error::page(
                StatusCode::BAD_REQUEST,
                "No such page",
                &err.to_string(),
            ))
        }
    };
    render_home(
        &req,
        &state,
        &user.0,
        page.get(),
        HomeForms::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// Renders the home page, with forms refilled and errors shown when a submission failed.
pub async fn render_home(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    page: usize,
    forms: HomeForms,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let size = state.settings.library.page_size;
    let page = page.max(1);
    let library = state.managers.videos.list(user.id, page - 1, size).await?;
    let pages = library.total.div_ceil(size).max(1);
    let parties: Vec<_> = library.videos.iter().map(|v| v.party()).collect();
    let overviews = state.managers.party.overviews(&parties).await?;
    let items: Vec<LibraryItem> = library
        .videos
        .iter()
        .zip(overviews)
        .map(|(v, overview)| LibraryItem {
            id: v.id.0,
            title: v.title.clone(),
            kind: v.kind.as_str(),
            watch_url: watch_url(req, &v.invite_key),
            thumbnail_url: v.thumbnail_url(),
            duration: overview.duration_ms.map(clock_time),
            watching: overview.watching,
        })
        .collect();
    let mut ctx = page_context(state, user);
    ctx.insert("videos", &items);
    let (playlists, playlist_total) = state
        .managers
        .playlists
        .list(user.id, 0, state.settings.library.max_playlists_per_user)
        .await?;
    let parties: Vec<_> = playlists.iter().map(|p| p.party()).collect();
    let overviews = state.managers.party.overviews(&parties).await?;
    let playlists: Vec<LibraryItem> = playlists
        .iter()
        .zip(overviews)
        .map(|(p, overview)| LibraryItem {
            id: p.id.0,
            title: p.title.clone(),
            kind: "playlist",
            watch_url: watch_url(req, &p.invite_key),
            thumbnail_url: None,
            // A playlist's party knows only the duration of the item it plays.
            duration: None,
            watching: overview.watching,
        })
        .collect();
    ctx.insert("playlists", &playlists);
    ctx.insert("playlist_total", &playlist_total);
    ctx.insert("total", &library.total);
    ctx.insert("page", &page);
    ctx.insert("pages", &pages);
    ctx.insert(
        "samples",
        &SAMPLES
            .iter()
            .map(|(name, title, _)| Sample { name, title })
            .collect::<Vec<_>>(),
    );
    ctx.insert("forms", &forms);
    ctx.insert("notice", &notice);
    ctx.insert("max_name_chars", &DisplayName::MAX_CHARS);
    render(state, "home.html", &ctx, status)
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf_token: String,
    name: String,
}

pub async fn change_name(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    match DisplayName::parse(&form.name) {
        Ok(name) => {
            state.managers.users.set_name(user.0.id, &name).await?;
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", "/?notice=renamed"))
                .finish())
        }
        Err(err) => {
            let forms = HomeForms {
                name: Some(form.name.clone()),
                name_error: Some(err.to_string()),
                ..Default::default()
            };
            render_home(
                &req,
                &state,
                &user.0,
                1,
                forms,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
