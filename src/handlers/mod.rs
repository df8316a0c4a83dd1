//! Thin HTTP handlers: extract input and the current user, parse into domain types, call a
//! manager, render or respond. The route table is [`configure`].

mod api_playlists;
mod api_videos;
mod form;
mod health;
mod library;
pub mod metrics;
mod pages;
mod party_socket;
mod playlists;
mod static_files;
mod videos;
mod watch;

use actix_web::{error, web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;
use crate::managers::User;
use crate::state::AppState;

/// The route table.
pub fn configure(cfg: &mut web::ServiceConfig) {
    static_files::configure(cfg);
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::guarded_metrics))
        .route("/", web::get().to(pages::home))
        .route("/name", web::post().to(pages::change_name))
        .route("/videos", web::post().to(videos::add_video))
        .route("/videos/sample", web::post().to(videos::add_sample))
        .route("/videos/{id}", web::get().to(videos::show_video))
        .route("/videos/{id}/rename", web::post().to(videos::rename_video))
        .route("/videos/{id}/invite", web::post().to(videos::rotate_invite))
        .route("/videos/{id}/delete", web::post().to(videos::delete_video))
        .route("/playlists", web::post().to(playlists::create_playlist))
        .route("/playlists/{id}", web::get().to(playlists::show_playlist))
        .route(
            "/playlists/{id}/rename",
            web::post().to(playlists::rename_playlist),
        )
        .route("/playlists/{id}/items", web::post().to(playlists::add_item))
        .route(
            "/playlists/{id}/items/{item}/remove",
            web::post().to(playlists::remove_item),
        )
        .route(
            "/playlists/{id}/items/{item}/move",
            web::post().to(playlists::move_item),
        )
        .route(
            "/playlists/{id}/invite",
            web::post().to(playlists::rotate_invite),
        )
        .route(
            "/playlists/{id}/delete",
            web::post().to(playlists::delete_playlist),
        )
        .route("/watch/{invite_key}", web::get().to(watch::watch_page))
        .route(
            "/ws/watch/{invite_key}",
            web::get().to(party_socket::watch_socket),
        )
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(api_videos::guard))
                .route("/videos", web::post().to(api_videos::create_video))
                .route("/videos", web::get().to(api_videos::list_videos))
                .route("/videos/{id}", web::get().to(api_videos::get_video))
                .route("/videos/{id}", web::patch().to(api_videos::rename_video))
                .route("/videos/{id}", web::delete().to(api_videos::delete_video))
                .route(
                    "/videos/{id}/invite",
                    web::post().to(api_videos::rotate_invite),
                )
                .route("/playlists", web::post().to(api_playlists::create_playlist))
                .route("/playlists", web::get().to(api_playlists::list_playlists))
                .route(
                    "/playlists/{id}",
                    web::get().to(api_playlists::get_playlist),
                )
                .route(
                    "/playlists/{id}",
                    web::patch().to(api_playlists::rename_playlist),
                )
                .route(
                    "/playlists/{id}",
                    web::delete().to(api_playlists::delete_playlist),
                )
                .route(
                    "/playlists/{id}/invite",
                    web::post().to(api_playlists::rotate_invite),
                )
                .route(
                    "/playlists/{id}/items",
                    web::post().to(api_playlists::add_item),
                )
                .route(
                    "/playlists/{id}/items/{item}",
                    web::delete().to(api_playlists::remove_item),
                )
                .route(
                    "/playlists/{id}/items/{item}/move",
                    web::post().to(api_playlists::move_item),
                ),
        )
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    if req.path().starts_with("/api/") {
        ApiError::NotFound.error_response()
    } else {
        crate::error::PageError::NotFound.error_response()
    }
}

/// What every page template receives about the viewer.
#[derive(Serialize)]
pub struct PageUser {
    pub id: u64,
    pub name: String,
}

/// A template context with the user and their CSRF token filled in.
pub fn page_context(state: &AppState, user: &User) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "user",
        &PageUser {
            id: user.id,
            name: user.name.clone(),
        },
    );
    ctx.insert("csrf_token", &state.signer.csrf_token(user.id));
    ctx
}

/// Renders a template as an HTML response with the given status.
pub fn render(
    state: &AppState,
    template: &str,
    ctx: &tera::Context,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, crate::error::PageError> {
    let body = state.tera.render(template, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// Checks a form's CSRF token and the request's Origin.
pub fn check_form(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    token: &str,
) -> Result<(), crate::error::PageError> {
    let origin_ok = crate::security::origin_allowed(req, &state.settings.server.allowed_origins);
    if !origin_ok || !state.signer.check_csrf(user.id, token) {
        return Err(crate::error::PageError::Forbidden(
            "This form has expired or came from another site. Go back, reload the page and try again.".into(),
        ));
    }
    Ok(())
}

/// A form that carries nothing but its CSRF token (rotate, delete, remove).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf_token: String,
}

/// A 303 redirect, the answer to a successful form.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish()
}

/// The absolute invite link of a key, on the host the request came to.
pub fn watch_url(req: &HttpRequest, key: &crate::domain::InviteKey) -> String {
    let info = req.connection_info();
    format!("{}://{}/watch/{}", info.scheme(), info.host(), key.as_str())
}

pub fn form_error(err: error::UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let _ = req;
    let message = match err {
        error::UrlencodedError::Overflow { .. } => "The form is too large.",
        _ => "The form was incomplete. Go back, reload the page and try again.",
    };
    error::InternalError::from_response(
        err,
        crate::error::page(
            actix_web::http::StatusCode::BAD_REQUEST,
            "Bad form",
            message,
        ),
    )
    .into()
}

pub fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        error::JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        error::JsonPayloadError::Overflow { .. }
        | error::JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::invalid("too_large", "the request body is too large")
        }
        other => ApiError::invalid(
            "bad_json",
            format!("the request body is not the expected JSON: {other}"),
        ),
    };
    error::InternalError::from_response(err, actix_web::ResponseError::error_response(&api)).into()
}

pub fn path_error(err: error::PathError, req: &HttpRequest) -> actix_web::Error {
    let response = if req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&ApiError::NotFound)
    } else {
        actix_web::ResponseError::error_response(&crate::error::PageError::NotFound)
    };
    error::InternalError::from_response(err, response).into()
}
