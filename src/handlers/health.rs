//! `/healthz`: the process is up (it never touches Redis). `/readyz`: Redis answers a PING
//! within `[redis] ping_timeout_ms`, so requests can be served; otherwise 503 at once, as
//! from the moment the node starts stopping (SIGTERM).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "reason": "stopping"}));
    }
    match state.managers.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(err) => {
            tracing::warn!(error = %err, "not ready: Redis does not answer");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "reason": "redis"}))
        }
    }
}
