//! Times every HTTP request into `wewatch_http_request_duration_seconds`, labelled by the
//! route pattern that matched (`/watch/{invite_key}`, never the concrete path), the method
//! and the status class. A request no route matches is labelled `unmatched`, an unusual
//! method `other`: however many addresses or methods clients try, the series stay as few as
//! the routes.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Method, StatusCode};

use super::Metrics;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The middleware; wraps the whole application.
pub struct RecordRequests {
    metrics: Arc<Metrics>,
}

impl RecordRequests {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RecordRequests
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RecordRequestsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RecordRequestsService {
            service,
            metrics: self.metrics.clone(),
        }))
    }
}

pub struct RecordRequestsService<S> {
    service: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<ServiceRequest> for RecordRequestsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        // Taken before the call: an error response carries no request to ask afterwards.
        let route = req.match_pattern();
        let method = method_label(req.method());
        let metrics = self.metrics.clone();
        let fut = self.service.call(req);
        Box::pin(async move {
            let result = fut.await;
            let status = match &result {
                Ok(res) => res.status(),
                Err(err) => err.as_response_error().status_code(),
            };
            metrics
                .http_requests
                .with_label_values(&[
                    route.as_deref().unwrap_or(UNMATCHED),
                    method,
                    status_class(status),
                ])
                .observe(started.elapsed().as_secs_f64());
            result
        })
    }
}

/// The standard methods by name; any other is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `2xx`, `4xx`…
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_statuses_fall_into_fixed_sets() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(status_class(StatusCode::NOT_FOUND), "4xx");
        assert_eq!(status_class(StatusCode::SWITCHING_PROTOCOLS), "1xx");
    }
}
