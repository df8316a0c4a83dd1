//! `GET /metrics`: the node's Prometheus metrics (`docs/metrics.md`).
//!
//! On the main port it answers only a request bearing `[metrics] token` as a bearer token
//! (401 without one, 403 with another); without a token set there is nothing here, and it
//! answers 404 like any unknown address. The metrics listener of its own (`[metrics] port`)
//! serves [`open_metrics`] to whoever reaches it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::MetricsToken;
use crate::metrics::Metrics;
use crate::state::AppState;

/// The main port's `/metrics`, behind the bearer token.
pub async fn guarded_metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = &state.settings.metrics.token else {
        return super::not_found(req).await;
    };
    match bearer(&req) {
        None => HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .json(json!({
                "error": "unauthorized",
                "message": "send the metrics token as `Authorization: Bearer <token>`"
            })),
        Some(presented) if !matches(presented, token) => {
            tracing::warn!("refused a metrics request with a wrong token");
            HttpResponse::Forbidden().json(json!({
                "error": "forbidden",
                "message": "this is not the metrics token"
            }))
        }
        Some(_) => rendered(&state.metrics),
    }
}

/// The metrics listener's `/metrics`, open to whoever reaches it.
pub async fn open_metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    rendered(&metrics)
}

fn rendered(metrics: &Metrics) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(Metrics::content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics.render())
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares in constant time. Both sides are hashed first, so neither the time taken nor
/// an early length mismatch tells how much of the token was right.
fn matches(presented: &str, token: &MetricsToken) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(token.expose().as_bytes());
    presented.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn only_a_bearer_authorization_carries_a_token() {
        let cases = [
            (Some("Bearer abc"), Some("abc")),
            (Some("bearer   abc "), Some("abc")),
            (Some("Basic abc"), None),
            (Some("Bearer "), None),
            (Some("abc"), None),
            (None, None),
        ];
        for (header_value, expected) in cases {
            let mut req = TestRequest::default();
            if let Some(value) = header_value {
                req = req.insert_header((header::AUTHORIZATION, value));
            }
            let req = req.to_http_request();
            assert_eq!(bearer(&req), expected, "{header_value:?}");
        }
    }

    #[test]
    fn the_token_must_match_whole() {
        let token = MetricsToken::new("0123456789abcdef");
        assert!(matches("0123456789abcdef", &token));
        assert!(!matches("0123456789abcde", &token));
        assert!(!matches("0123456789abcdeF", &token));
    }
}
