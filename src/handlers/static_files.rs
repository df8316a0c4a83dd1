//! `/static/…`: the files under `static/`, with the caching their URL allows. A URL that
//! carries the file's current fingerprint (`?v=…`, see `crate::assets`) never changes its
//! content, so browsers keep it for a year without asking again; any other URL (media, or a
//! fingerprint from before a change) must be revalidated (ETag, Last-Modified) before reuse.
//!
//! Text is compressed by the app's `Compress` middleware; media never is, so its byte ranges
//! (seeking) stay the file's own.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::web;

use crate::assets::{Assets, URL_PREFIX};

/// For a URL whose content never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: kept, but checked with the server before each reuse.
const REVALIDATE: &str = "no-cache";

/// Adds the `/static` scope: the files, wrapped in their cache policy.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(URL_PREFIX.trim_end_matches('/'))
            .wrap(from_fn(cache_policy))
            .service(actix_files::Files::new("", "static").prefer_utf8(true)),
    );
}

/// Middleware body: `Cache-Control` by fingerprint, and media kept out of compression.
async fn cache_policy<B>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    B: actix_web::body::MessageBody,
{
    let immutable = req
        .app_data::<web::Data<Assets>>()
        .is_some_and(|assets| fingerprinted(assets, req.path(), req.query_string()));
    let mut res = next.call(req).await?;
    let status = res.status();
    if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
        return Ok(res);
    }
    let headers = res.headers_mut();
    let policy = if immutable { IMMUTABLE } else { REVALIDATE };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("video/") || t.starts_with("audio/"));
    if media && !headers.contains_key(header::CONTENT_ENCODING) {
        // `Compress` leaves a response alone that names its encoding.
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    Ok(res)
}

/// Whether `path?query` names a file by its current fingerprint.
fn fingerprinted(assets: &Assets, path: &str, query: &str) -> bool {
    let Some(file) = path.strip_prefix(URL_PREFIX) else {
        return false;
    };
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "v")
        .is_some_and(|(_, version)| assets.is_current(file, &version))
}
