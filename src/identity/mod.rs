//! Who is asking: the anonymous identity carried by a signed cookie.
//!
//! [`CurrentUser`] resolves the cookie once per request. On page visits (GET of anything
//! but the API) the token is consumed and replaced; elsewhere (and on the party WebSocket,
//! which [`identify`] serves directly) it is only checked. A missing, tampered, expired or unknown cookie silently yields a fresh user.
//! The new cookie is attached to the response by [`attach_cookie`].
//!
//! This module takes what it needs — the [`Signer`], the [`UsersManager`] and an
//! [`IdentityPolicy`] of the few settings it reads — never the application's whole state;
//! the extractor finds them in the [`Identities`] app data that `startup` registers. It must
//! not import `startup`, `handlers` or `realtime`.

pub mod signing;

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::config::Settings;
use crate::error::IdentityFailure;
use crate::managers::{AuthToken, StoreError, User, UsersManager};
pub use signing::Signer;

/// Purpose label of the identity cookie's signature.
const COOKIE_PURPOSE: &str = "identity";
/// How long the browser keeps the cookie (400 days, the most browsers honour).
pub const COOKIE_MAX_AGE_DAYS: i64 = 400;

/// The few settings identifying a request reads (from `[identity]` and `[server]`).
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    /// `[identity] cookie_name`: the cookie that carries the identity.
    pub cookie_name: String,
    /// `[server] secure_cookies`: mark the cookie `Secure` even when the request came over
    /// plain http (behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// `[identity] guests_per_address_per_minute`: most new guests one address may cause.
    pub guests_per_address_per_minute: u32,
    /// `[server] trusted_proxies`: whose `X-Forwarded-For` names the client address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl IdentityPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            cookie_name: settings.identity.cookie_name.clone(),
            secure_cookies: settings.server.secure_cookies,
            guests_per_address_per_minute: settings.identity.guests_per_address_per_minute,
            trusted_proxies: settings.server.trusted_proxies.clone(),
        }
    }
}

/// What the [`CurrentUser`] extractor needs, registered once as app data by `startup` and
/// shared by every worker.
pub struct Identities {
    /// Signs and verifies the identity cookie.
    pub signer: Signer,
    /// Where users and their tokens are kept.
    pub users: UsersManager,
    /// The settings identification reads.
    pub policy: IdentityPolicy,
}

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
    signer: &Signer,
    users: &UsersManager,
    policy: &IdentityPolicy,
    presented: Option<&str>,
    rotate: bool,
    address: std::net::IpAddr,
) -> Result<(User, Option<AuthToken>), IdentityError> {
    let presented = presented.and_then(|value| parse_cookie(signer, value));
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
    let per_minute = policy.guests_per_address_per_minute;
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
    signer: &Signer,
    policy: &IdentityPolicy,
    user: u64,
    token: &AuthToken,
    https: bool,
) -> Cookie<'static> {
    let mut cookie = Cookie::new(
        policy.cookie_name.clone(),
        cookie_value(signer, user, token),
    );
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(policy.secure_cookies || https);
    cookie.set_max_age(actix_web::cookie::time::Duration::days(COOKIE_MAX_AGE_DAYS));
    cookie
}

async fn resolve(req: HttpRequest) -> Result<CurrentUser, IdentityFailure> {
    if let Some(user) = req.extensions().get::<CurrentUser>() {
        return Ok(user.clone());
    }
    // expect: `startup` registers the identities before any route.
    let ids = req
        .app_data::<web::Data<Identities>>()
        .expect("Identities are registered")
        .clone();
    let presented = req.cookie(&ids.policy.cookie_name);
    let address = crate::security::client_address(&req, &ids.policy.trusted_proxies);
    let (user, new_token) = identify(
        &ids.signer,
        &ids.users,
        &ids.policy,
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
        let cookie = identity_cookie(&ids.signer, &ids.policy, user.id, &token, https);
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
