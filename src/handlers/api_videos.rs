//! `/api/v1/videos`: the library as JSON, on the same identity cookie as the pages.
//!
//! State-changing requests must carry `Content-Type: application/json` (POST, PATCH) and,
//! when a browser sends one, a same-origin `Origin`: a cross-site form can do neither.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use super::library::{self, AddError};
use super::watch_url;
use crate::domain::Video;
use crate::domain::{MediaKind, PageNumber, VideoId, VideoTitle};
use crate::error::ApiError;
use crate::identity::CurrentUser;
use crate::state::AppState;

/// Refuses cross-site writes before any handler runs.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let allowed = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.allowed_origins.clone())
            .unwrap_or_default();
        let refusal = if !crate::security::origin_allowed(req.request(), &allowed) {
            Some(ApiError::Forbidden {
                code: "origin_not_allowed",
                message: "cross-site requests are not allowed".into(),
            })
        } else if (method == Method::POST || method == Method::PATCH) && !is_json(&req) {
            Some(ApiError::UnsupportedMediaType)
        } else {
            None
        };
        if let Some(err) = refusal {
            return Ok(req.into_response(err.error_response()));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// A video as the API shows it.
#[derive(Serialize)]
pub struct VideoBody {
    id: u64,
    invite_key: String,
    watch_url: String,
    title: String,
    kind: MediaKind,
    source: String,
    created_ms: u64,
}

fn body(req: &HttpRequest, video: &Video) -> VideoBody {
    VideoBody {
        id: video.id.0,
        invite_key: video.invite_key.as_str().to_owned(),
        watch_url: watch_url(req, &video.invite_key),
        title: video.title.clone(),
        kind: video.kind,
        source: video.source.clone(),
        created_ms: video.created_ms,
    }
}

#[derive(Deserialize)]
pub struct CreateVideo {
    url: String,
    title: Option<String>,
}

pub async fn create_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    input: web::Json<CreateVideo>,
) -> Result<HttpResponse, ApiError> {
    let result = library::add_url(
        &state.managers.videos,
        &state.settings.library,
        user.0.id,
        &input.url,
        input.title.as_deref(),
    )
    .await;
    let video = result.map_err(|err| match err {
        AddError::Url(e) => ApiError::invalid("invalid_url", e.to_string()),
        AddError::Title(e) => ApiError::invalid("invalid_title", e.to_string()),
        AddError::LibraryFull(_) => ApiError::Conflict {
            code: "library_full",
            message: err.to_string(),
        },
        AddError::Store(e) => ApiError::Store(e),
    })?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/videos/{}", video.id)))
        .json(body(&req, &video)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
}

#[derive(Serialize)]
struct ListBody {
    videos: Vec<VideoBody>,
    page: usize,
    page_size: usize,
    total: usize,
}

pub async fn list_videos(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = &state.settings.library;
    let page_size = limits.page_size;
    let last = PageNumber::last_of(limits.max_videos_per_user, page_size);
    let page = PageNumber::parse(query.page.as_deref(), last)
        .map_err(|e| ApiError::invalid("invalid_page", e.to_string()))?;
    let library = state
        .managers
        .videos
        .list(user.0.id, page.index(), page_size)
        .await?;
    let videos = library.videos.iter().map(|v| body(&req, v)).collect();
    Ok(HttpResponse::Ok().json(ListBody {
        videos,
        page: page.get(),
        page_size,
        total: library.total,
    }))
}

async fn owned(state: &AppState, user: &CurrentUser, id: &str) -> Result<Video, ApiError> {
    let id = VideoId::parse(id).ok_or(ApiError::NotFound)?;
    state
        .managers
        .videos
        .get_owned(user.0.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = owned(&state, &user, &path).await?;
    Ok(HttpResponse::Ok().json(body(&req, &video)))
}

#[derive(Deserialize)]
pub struct RenameVideo {
    title: String,
}

pub async fn rename_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<RenameVideo>,
) -> Result<HttpResponse, ApiError> {
    let video = owned(&state, &user, &path).await?;
    let title = VideoTitle::parse(&input.title, state.settings.library.max_title_chars)
        .map_err(|e| ApiError::invalid("invalid_title", e.to_string()))?;
    let video = state.managers.videos.rename(&video, &title).await?;
    Ok(HttpResponse::Ok().json(body(&req, &video)))
}

pub async fn rotate_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = owned(&state, &user, &path).await?;
    let key = state
        .managers
        .videos
        .rotate_invite(&video)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"invite_key": key.as_str(), "watch_url": watch_url(&req, &key)})))
}

pub async fn delete_video(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = owned(&state, &user, &path).await?;
    state.managers.videos.delete(&video).await?;
    Ok(HttpResponse::NoContent().finish())
}
