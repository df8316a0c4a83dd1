//! Form bodies (`application/x-www-form-urlencoded`), decoded strictly.
//!
//! actix's `web::Form` decodes percent-escapes leniently: bytes that are not UTF-8 become
//! U+FFFD, so `title=%FF` would be stored as "�" without a word. [`Form`] reads the body
//! itself (within `[server] max_body_bytes`), refuses one whose decoded text is not UTF-8,
//! and answers every refusal with the "Bad form" page, saying what was wrong.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{error, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::state::AppState;

/// Largest form body when the settings are not at hand (they always are in the app).
const FALLBACK_LIMIT_BYTES: usize = 16 * 1024;

/// A form body decoded into `T`, every field valid UTF-8.
pub struct Form<T>(pub T);

impl<T> Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why a form body was refused, in words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("The form was not sent as a form. Go back, reload the page and try again.")]
    NotAForm,
    #[error("The form is too large.")]
    TooLarge,
    #[error("The form could not be read completely. Try again.")]
    Unreadable,
    #[error("The {field} field holds bytes that are not valid text (UTF-8). Check what you typed or pasted, and send it again.")]
    NotText { field: String },
    #[error("The form was incomplete or held a value that is not allowed ({0}). Go back, reload the page and try again.")]
    Fields(String),
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(FALLBACK_LIMIT_BYTES, |s| s.settings.server.max_body_bytes);
        let is_form = req.content_type() == "application/x-www-form-urlencoded";
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form {
                return Err(refuse(FormError::NotAForm));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| refuse(FormError::Unreadable))?;
                if body.len() + chunk.len() > limit {
                    return Err(refuse(FormError::TooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            decode(&body).map(Form).map_err(refuse)
        })
    }
}

/// Decodes a form body, refusing any name or value that is not UTF-8 once unescaped.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FormError> {
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let name = unescape(parts.next().unwrap_or_default());
        let value = unescape(parts.next().unwrap_or_default());
        let field = String::from_utf8(name.clone())
            .map(|n| format!("“{}”", n.chars().take(40).collect::<String>()))
            .unwrap_or_else(|_| "name of a".to_owned());
        if std::str::from_utf8(&name).is_err() || std::str::from_utf8(&value).is_err() {
            return Err(FormError::NotText { field });
        }
    }
    serde_urlencoded::from_bytes(body).map_err(|e| FormError::Fields(e.to_string()))
}

/// `+` is a space and `%XY` a byte; anything else, including a `%` without two hex digits
/// after it, stands for itself (as browsers and `web::Form` read it).
fn unescape(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escaped = match text.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match (escaped, text[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn refuse(err: FormError) -> actix_web::Error {
    let status = match err {
        FormError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = crate::error::page(status, "Bad form", &err.to_string());
    error::InternalError::from_response(err, page).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct TitleForm {
        title: String,
    }

    #[test]
    fn form_text_is_decoded_or_refused_with_the_field_named() {
        let ok: TitleForm = decode(b"title=Caf%C3%A9+night%21").unwrap();
        assert_eq!(ok.title, "Café night!");
        let kept: TitleForm = decode(b"title=100%+sure").unwrap();
        assert_eq!(kept.title, "100% sure", "a lone % stands for itself");
        let table: [(&[u8], &str); 5] = [
            (b"title=%FF", "a byte that never starts a character"),
            (b"title=caf%C3", "a character cut short"),
            (b"title=%C0%AF", "an overlong encoding"),
            (b"title=%ED%A0%80", "a surrogate"),
            (b"title=\xff", "a raw byte, unescaped"),
        ];
        for (body, why) in table {
            let err = decode::<TitleForm>(body).unwrap_err();
            assert_eq!(
                err,
                FormError::NotText {
                    field: "“title”".into()
                },
                "{why}"
            );
            assert!(err.to_string().contains("not valid text"), "{why}");
        }
        let bad_name = decode::<TitleForm>(b"%FF=x&title=y").unwrap_err();
        assert!(
            bad_name.to_string().contains("name of a field"),
            "{bad_name}"
        );
        let missing = decode::<TitleForm>(b"other=1").unwrap_err();
        assert!(matches!(missing, FormError::Fields(_)), "{missing}");
    }
}
