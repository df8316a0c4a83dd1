//! Errors that reach HTTP: JSON for the API, an HTML page for the pages.
//!
//! A person sees a plain message; the log sees the whole cause chain, once, at the point
//! where the error becomes a response.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::identity::IdentityError;
use crate::managers::StoreError;

/// Writes an error and its causes, one per line.
pub fn error_chain_fmt(
    e: &impl std::error::Error,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    writeln!(f, "{e}")?;
    let mut current = e.source();
    while let Some(cause) = current {
        writeln!(f, "Caused by:\n\t{cause}")?;
        current = cause.source();
    }
    Ok(())
}

/// An error and its causes on one line, `error: cause: cause`, for the terminal.
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut current = e.source();
    while let Some(cause) = current {
        line = format!("{line}: {cause}");
        current = cause.source();
    }
    line
}

/// What a person is told while the store cannot be reached.
pub const STORE_UNAVAILABLE: &str =
    "WeWatch cannot reach its store right now. Try again in a moment.";
/// Seconds after which a client may retry a 503 (`Retry-After`).
const RETRY_AFTER_SECS: &str = "2";

/// What a person is told when their network made too many new guests this minute.
pub const TOO_MANY_GUESTS: &str =
    "Too many new visitors came from your network in the last minute. Wait a minute and try again.";

/// The user could not be identified: the store failed, or too many guests were made for
/// the client's address.
#[derive(thiserror::Error)]
#[error("the request could not be given an identity")]
pub struct IdentityFailure {
    #[source]
    pub source: IdentityError,
    /// The request was for the JSON API, so the answer is JSON too.
    pub api: bool,
}

impl std::fmt::Debug for IdentityFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        error_chain_fmt(self, f)
    }
}

impl ResponseError for IdentityFailure {
    fn status_code(&self) -> StatusCode {
        match self.source {
            IdentityError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            IdentityError::TooManyGuests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match (&self.source, self.api) {
            (IdentityError::Store(_), true) => {
                tracing::error!(error = ?self, "request failed");
                unavailable_json()
            }
            (IdentityError::Store(_), false) => {
                tracing::error!(error = ?self, "request failed");
                unavailable_page()
            }
            (IdentityError::TooManyGuests, true) => ApiError::TooManyGuests.error_response(),
            (IdentityError::TooManyGuests, false) => PageError::TooManyGuests.error_response(),
        }
    }
}

/// An API error: `{"error": code, "message": text}` with a 4xx or 5xx status.
#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("no such video")]
    NotFound,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("send the request with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("{}", TOO_MANY_GUESTS)]
    TooManyGuests,
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::NotFound => "not_found",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Store(_) => "unavailable",
            Self::TooManyGuests => "too_many_guests",
        }
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        error_chain_fmt(self, f)
    }
}

impl From<IdentityFailure> for ApiError {
    fn from(e: IdentityFailure) -> Self {
        match e.source {
            IdentityError::Store(e) => Self::Store(e),
            IdentityError::TooManyGuests => Self::TooManyGuests,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyGuests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Store(_) = self {
            tracing::error!(error = ?self, "API request failed");
            return unavailable_json();
        }
        HttpResponse::build(self.status_code())
            .json(json!({"error": self.code(), "message": self.to_string()}))
    }
}

/// An error while serving a page.
#[derive(thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("a page could not be rendered")]
    Render(#[from] tera::Error),
    #[error("{}", TOO_MANY_GUESTS)]
    TooManyGuests,
}

impl From<IdentityFailure> for PageError {
    fn from(e: IdentityFailure) -> Self {
        match e.source {
            IdentityError::Store(e) => Self::Store(e),
            IdentityError::TooManyGuests => Self::TooManyGuests,
        }
    }
}

impl std::fmt::Debug for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        error_chain_fmt(self, f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TooManyGuests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::TooManyGuests => page(self.status_code(), "Slow down", TOO_MANY_GUESTS),
            Self::NotFound => page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here. If someone sent you this link, ask them for a fresh one.",
            ),
            Self::Forbidden(message) => page(StatusCode::FORBIDDEN, "Not allowed", message),
            Self::Store(_) => {
                tracing::error!(error = ?self, "page failed");
                unavailable_page()
            }
            Self::Render(_) => {
                tracing::error!(error = ?self, "page failed");
                page(
                    self.status_code(),
                    "Something went wrong",
                    "WeWatch could not show this page right now. Try again in a moment.",
                )
            }
        }
    }
}

/// `503` with the unavailable page, asking the browser to retry shortly.
fn unavailable_page() -> HttpResponse {
    let mut res = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        STORE_UNAVAILABLE,
    );
    res.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    res
}

/// `503 {"error": "unavailable", "message": …}` with `Retry-After`.
fn unavailable_json() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((actix_web::http::header::RETRY_AFTER, RETRY_AFTER_SECS))
        .json(json!({"error": "unavailable", "message": STORE_UNAVAILABLE}))
}

/// A minimal page for errors, independent of the templates so it renders even when they fail.
pub fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · WeWatch</title><link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/vendor/bootstrap/bootstrap.min.css\"></head>\
<body><main class=\"container my-5\"><h1 class=\"h3\">{t}</h1><p id=\"error-message\">{m}</p><p><a href=\"/\">Go to your library</a></p></main></body></html>",
        t = escape_html(title),
        m = escape_html(message)
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape_their_text() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a">&'"#),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
    }
}
