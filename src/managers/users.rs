//! Users: anonymous identities with a rotating auth token, and their display names.
//!
//! Tokens are stored only as SHA-256 hashes; the token itself lives in the signed cookie.
//! A guest who owns nothing is forgotten `[identity] guest_idle_days` after their last
//! visit (their record and current token expire together, each visit renews both); the
//! first video or playlist they make keeps them for good ([`keep`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use super::{now_ms, Keys, StoreConnection, StoreError};
use crate::domain::{DisplayName, UserId};

/// A known user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
}

/// A secret auth token (256 random bits); `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(String);

impl AuthToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as found in a cookie; anything else is no token.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl std::fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

/// Stores users and their tokens.
#[derive(Clone)]
pub struct UsersManager {
    conn: StoreConnection,
    keys: Keys,
    /// Seconds a rotated-out token keeps working.
    grace_secs: u64,
    /// Seconds a guest who owns nothing is kept after their last visit (0: forever).
    idle_secs: u64,
    rotate: std::sync::Arc<redis::Script>,
    authenticate: std::sync::Arc<redis::Script>,
    hset_if_exists: std::sync::Arc<redis::Script>,
}

/// Makes a user's record and current token permanent.
static KEEP: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(super::scripts::KEEP_USER));

/// Keeps user `id` for good, whatever the guest expiry: they own something now.
pub(super) async fn keep(
    conn: &mut StoreConnection,
    keys: &Keys,
    id: UserId,
) -> Result<(), StoreError> {
    KEEP.key(keys.user(id))
        .arg(keys.auth_prefix(id))
        .invoke_async::<()>(conn)
        .await?;
    Ok(())
}

impl UsersManager {
    pub fn new(conn: StoreConnection, keys: Keys, grace_secs: u64, idle_secs: u64) -> Self {
        Self {
            conn,
            keys,
            grace_secs,
            idle_secs,
            rotate: super::scripts::load(super::scripts::ROTATE_TOKEN),
            authenticate: super::scripts::load(super::scripts::AUTHENTICATE),
            hset_if_exists: super::scripts::load(super::scripts::HSET_IF_EXISTS),
        }
    }

    /// Counts a guest about to be made for a client at `address`; false once the address
    /// has had `per_minute` in the current minute (the count starts with the first).
    pub async fn admit_guest(
        &self,
        address: std::net::IpAddr,
        per_minute: u32,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.guests_from(&address);
        let (made,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(60)
            .arg("NX")
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(made <= u64::from(per_minute))
    }

    /// Creates a guest with a fresh token.
    pub async fn create(&self) -> Result<(User, AuthToken), StoreError> {
        let mut conn = self.conn.clone();
        let id: u64 = conn.incr(self.keys.user_next_id(), 1).await?;
        let token = AuthToken::generate();
        let mut suffix = [0u8; 2];
        rand::rng().fill_bytes(&mut suffix);
        let name = DisplayName::guest(&format!("{:02X}{:02X}", suffix[0], suffix[1])).into_string();
        let (user, auth) = (self.keys.user(id), self.keys.auth(id, &token.hash()));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &user,
                &[
                    ("name", name.as_str()),
                    ("created_ms", &now_ms().to_string()),
                    ("token", &token.hash()),
                ],
            )
            .set(&auth, id);
        if self.idle_secs > 0 {
            let secs = self.idle_secs as i64;
            pipe.expire(&user, secs).expire(&auth, secs);
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok((User { id, name }, token))
    }

    /// The user a token belongs to, without rotating it.
    pub async fn authenticate(
        &self,
        id: UserId,
        token: &AuthToken,
    ) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn.clone();
        let hash = token.hash();
        let name: Option<String> = self
            .authenticate
            .key(self.keys.auth(id, &hash))
            .key(self.keys.user(id))
            .arg(id)
            .arg(&hash)
            .arg(self.idle_secs)
            .invoke_async(&mut conn)
            .await?;
        Ok(name.map(|name| User { id, name }))
    }

    /// Consumes a valid token and issues its successor; `None` when the token is not valid.
    pub async fn rotate(
        &self,
        id: UserId,
        token: &AuthToken,
    ) -> Result<Option<(User, AuthToken)>, StoreError> {
        let mut conn = self.conn.clone();
        let next = AuthToken::generate();
        let name: Option<String> = self
            .rotate
            .key(self.keys.auth(id, &token.hash()))
            .key(self.keys.user(id))
            .key(self.keys.auth(id, &next.hash()))
            .arg(id)
            .arg(token.hash())
            .arg(next.hash())
            .arg(self.grace_secs)
            .arg(self.keys.auth_prefix(id))
            .arg(self.idle_secs)
            .invoke_async(&mut conn)
            .await?;
        Ok(name.map(|name| (User { id, name }, next)))
    }

    pub async fn set_name(&self, id: UserId, name: &DisplayName) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let user = self.keys.user(id);
        // A guest forgotten a moment ago is not brought back as a name alone.
        self.hset_if_exists
            .key(&user)
            .key(&user)
            .arg("name")
            .arg(name.as_str())
            .invoke_async::<()>(&mut conn)
            .await?;
        Ok(())
    }
}
