//! Who is asking: the anonymous identity carried by a signed cookie.
//!
//! [`CurrentUser`] resolves the cookie once per request. On page visits (GET of anything
//! but the API) the token is consumed and replaced; elsewhere (and on the party WebSocket,
//! which [`identify`] serves directly) it is only checked. A missing, tampered, expired or unknown cookie silently yields a fresh user.
//! The new cookie is attached to the response by [`attach_cookie`].

pub mod signing;

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::error::IdentityFailure;
use crate::managers::{AuthToken, StoreError, User};
use crate::startup::AppState;
pub use signing::Signer;

/// Purpose label of the identity cookie's signature.
const COOKIE_PURPOSE: &str = "identity";
/// How long the browser keeps the cookie (400 days, the most browsers honour).
pub const COOKIE_MAX_AGE_DAYS: i64 = 400;

/// The user behind the request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

/// A cookie to set on the response.
#[derive(Clone)]
struct PendingCookie(Cookie<'static>);

/// Reads `{id}.{token}` from a verified cookie value.
pub fn parse_cookie(signer: &Signer, value: &str) -> Option<(u64, AuthToken)> {
    let inner = signer.verify(COOKIE_PURPOSE, value)?;
    let (id, token) = inner.split_once('.')?;
    Some((id.parse().ok()?, AuthToken::parse(token)?))
}

/// The signed cookie value for a user's token.
pub fn cookie_value(signer: &Signer, id: u64, token: &AuthToken) -> String {
    signer.sign(COOKIE_PURPOSE, &format!("{id}.{}", token.expose()))
}

fn rotates(req: &HttpRequest) -> bool {
    req.method() == actix_web::http::Method::GET && !req.path().starts_with("/api/")
}

/// Why a request could not be given an identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the user store failed")]
    Store(#[from] StoreError),
    /// `[identity] guests_per_address_per_minute` were made for this address already.
    #[error("too many new guests from one address")]
    TooManyGuests,
}

/// The user a presented cookie value names, or a fresh guest when it names nobody (at most
/// `[identity] guests_per_address_per_minute` for one client address). With `rotate` the
/// token is consumed and replaced. The second value is a token to set in a new cookie, when
/// there is one.
pub async fn identify(
    state: &AppState,
    presented: Option<&str>,
    rotate: bool,
    address: std::net::IpAddr,
) -> Result<(User, Option<AuthToken>), IdentityError> {
    let users = &state.managers.users;
    let presented = presented.and_then(|value| parse_cookie(&state.signer, value));
    if let Some((id, token)) = presented {
        let found = if rotate {
            users
                .rotate(id, &token)
                .await?
                .map(|(user, next)| (user, Some(next)))
        } else {
            users
                .authenticate(id, &token)
                .await?
                .map(|user| (user, None))
        };
        if let Some(found) = found {
            return Ok(found);
        }
    }
    let per_minute = state.settings.identity.guests_per_address_per_minute;
    if !users.admit_guest(address, per_minute).await? {
        tracing::warn!("refused a new guest: too many from one address this minute");
        return Err(IdentityError::TooManyGuests);
    }
    let (user, token) = users.create().await?;
    tracing::info!(user_id = user.id, "created a guest");
    Ok((user, Some(token)))
}

/// The identity cookie carrying a user's token.
pub fn identity_cookie(
    state: &AppState,
    user: u64,
    token: &AuthToken,
    https: bool,
) -> Cookie<'static> {
    let mut cookie = Cookie::new(
        state.settings.identity.cookie_name.clone(),
        cookie_value(&state.signer, user, token),
    );
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(state.settings.server.secure_cookies || https);
    cookie.set_max_age(actix_web::cookie::time::Duration::days(COOKIE_MAX_AGE_DAYS));
    cookie
}

async fn resolve(req: HttpRequest) -> Result<CurrentUser, IdentityFailure> {
    if let Some(user) = req.extensions().get::<CurrentUser>() {
        return Ok(user.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered")
        .clone();
    let presented = req.cookie(&state.settings.identity.cookie_name);
    let address = crate::security::client_address(&req, &state.settings.server.trusted_proxies);
    let (user, new_token) = identify(
        &state,
        presented.as_ref().map(|c| c.value()),
        rotates(&req),
        address,
    )
    .await
    .map_err(|source| IdentityFailure {
        source,
        api: req.path().starts_with("/api/"),
    })?;
    if let Some(token) = new_token {
        let https = req.connection_info().scheme() == "https";
        let cookie = identity_cookie(&state, user.id, &token, https);
        req.extensions_mut().insert(PendingCookie(cookie));
    }
    let current = CurrentUser(user);
    req.extensions_mut().insert(current.clone());
    Ok(current)
}

impl FromRequest for CurrentUser {
    type Error = IdentityFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(resolve(req.clone()))
    }
}

/// Middleware body: adds the cookie chosen while handling the request to its response.
pub async fn attach_cookie<B>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    B: actix_web::body::MessageBody,
{
    let mut res = next.call(req).await?;
    let pending = res.request().extensions().get::<PendingCookie>().cloned();
    if let Some(PendingCookie(cookie)) = pending {
        res.response_mut().add_cookie(&cookie)?;
    }
    crate::security::add_security_headers(res.headers_mut());
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretKey;

    #[test]
    fn a_cookie_round_trips_and_tampering_is_refused() {
        let signer = Signer::new(SecretKey::new(vec![3; 32]).unwrap());
        let token = AuthToken::parse(&"A".repeat(43)).unwrap();
        let value = cookie_value(&signer, 7, &token);
        let (id, parsed) = parse_cookie(&signer, &value).unwrap();
        assert_eq!((id, parsed.expose()), (7, token.expose()));
        assert!(parse_cookie(&signer, &value.replacen('7', "8", 1)).is_none());
        assert!(parse_cookie(&signer, "7.AAAA").is_none());
    }
}
