//! The owner's pages: add (by URL or sample), show, rename, rotate the invite key, delete.
//! A video is reachable by id only for its owner; everyone else gets 404.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::Form;
use super::library::{self, AddError};
use super::pages::{render_home, HomeForms};
use super::{check_form, page_context, render, see_other, watch_url, CsrfForm};
use crate::domain::Video;
use crate::domain::{MediaSource, VideoId, VideoTitle};
use crate::error::PageError;
use crate::identity::CurrentUser;
use crate::managers::User;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AddForm {
    csrf_token: String,
    url: String,
    title: Option<String>,
}

fn added(result: Result<Video, AddError>) -> Result<Result<HttpResponse, String>, PageError> {
    match result {
        Ok(video) => Ok(Ok(see_other(&format!("/videos/{}", video.id)))),
        Err(AddError::Store(err)) => Err(err.into()),
        Err(refused) => Ok(Err(refused.to_string())),
    }
}

pub async fn add_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let result = library::add_url(
        &state.managers.videos,
        &state.settings.library,
        user.0.id,
        &form.url,
        form.title.as_deref(),
    )
    .await;
    match added(result)? {
        Ok(redirect) => Ok(redirect),
        Err(message) => {
            let forms = HomeForms {
                url: form.url.clone(),
                title: form.title.clone().unwrap_or_default(),
                add_error: Some(message),
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

#[derive(Deserialize)]
pub struct SampleForm {
    csrf_token: String,
    sample: String,
}

pub async fn add_sample(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: Form<SampleForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let result = match MediaSource::sample(&form.sample) {
        Ok((media, title)) => {
            library::add(
                &state.managers.videos,
                &state.settings.library,
                user.0.id,
                media,
                Some(title),
            )
            .await
        }
        Err(err) => Err(err.into()),
    };
    match added(result)? {
        Ok(redirect) => Ok(redirect),
        Err(message) => {
            let forms = HomeForms {
                add_error: Some(message),
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

/// The video if the user owns it, else 404 (never a hint that it exists).
async fn owned(state: &AppState, user: &User, id: &str) -> Result<Video, PageError> {
    let id = VideoId::parse(id).ok_or(PageError::NotFound)?;
    state
        .managers
        .videos
        .get_owned(user.id, id)
        .await?
        .ok_or(PageError::NotFound)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
}

pub async fn show_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, PageError> {
    let video = owned(&state, &user.0, &path).await?;
    let notice = match query.notice.as_deref() {
        Some("rotated") => Some(
            "A new invite link was made. The old one no longer works, and its viewers were told.",
        ),
        Some("renamed") => Some("The title was changed."),
        _ => None,
    };
    render_video(&req, &state, &user.0, &video, None, notice, StatusCode::OK)
}

fn render_video(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    video: &Video,
    error: Option<(&str, String)>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut ctx = page_context(state, user);
    ctx.insert("video_id", &video.id.0);
    ctx.insert("video", &video.info());
    ctx.insert("watch_url", &watch_url(req, &video.invite_key));
    ctx.insert("notice", &notice);
    ctx.insert(
        "title_value",
        &error
            .as_ref()
            .map(|(v, _)| v.to_string())
            .unwrap_or_else(|| video.title.clone()),
    );
    ctx.insert("title_error", &error.map(|(_, e)| e));
    ctx.insert("max_title_chars", &state.settings.library.max_title_chars);
    render(state, "video.html", &ctx, status)
}

#[derive(Deserialize)]
pub struct RenameForm {
    csrf_token: String,
    title: String,
}

pub async fn rename_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<RenameForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let video = owned(&state, &user.0, &path).await?;
    match VideoTitle::parse(&form.title, state.settings.library.max_title_chars) {
        Ok(title) => {
            state.managers.videos.rename(&video, &title).await?;
            Ok(see_other(&format!("/videos/{}?notice=renamed", video.id)))
        }
        Err(err) => render_video(
            &req,
            &state,
            &user.0,
            &video,
            Some((&form.title, err.to_string())),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
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
    let video = owned(&state, &user.0, &path).await?;
    state
        .managers
        .videos
        .rotate_invite(&video)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(see_other(&format!("/videos/{}?notice=rotated", video.id)))
}

pub async fn delete_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    check_form(&req, &state, &user.0, &form.csrf_token)?;
    let video = owned(&state, &user.0, &path).await?;
    state.managers.videos.delete(&video).await?;
    Ok(see_other("/?notice=deleted"))
}
