//! Users: anonymous identities with a rotating auth token, and their display names.
//!
//! Tokens are stored only as SHA-256 hashes; the token itself lives in the signed cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use super::{now_ms, Keys, StoreError};
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
    conn: ConnectionManager,
    keys: Keys,
    /// Seconds a rotated-out token keeps working.
    grace_secs: u64,
    rotate: std::sync::Arc<redis::Script>,
}

impl UsersManager {
    pub fn new(conn: ConnectionManager, keys: Keys, grace_secs: u64) -> Self {
        Self {
            conn,
            keys,
            grace_secs,
            rotate: std::sync::Arc::new(redis::Script::new(include_str!(
                "scripts/rotate_token.lua"
            ))),
        }
    }

    /// Creates a guest with a fresh token.
    pub async fn create(&self) -> Result<(User, AuthToken), StoreError> {
        let mut conn = self.conn.clone();
        let id: u64 = conn.incr(self.keys.user_next_id(), 1).await?;
        let token = AuthToken::generate();
        let mut suffix = [0u8; 2];
        rand::rng().fill_bytes(&mut suffix);
        let name = DisplayName::guest(&format!("{:02X}{:02X}", suffix[0], suffix[1])).into_string();
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.keys.user(id),
                &[
                    ("name", name.as_str()),
                    ("created_ms", &now_ms().to_string()),
                    ("token", &token.hash()),
                ],
            )
            .set(self.keys.auth(&token.hash()), id)
            .query_async::<()>(&mut conn)
            .await?;
        Ok((User { id, name }, token))
    }

    /// The user a token belongs to, without rotating it.
    pub async fn authenticate(
        &self,
        id: UserId,
        token: &AuthToken,
    ) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn.clone();
        let owner: Option<u64> = conn.get(self.keys.auth(&token.hash())).await?;
        if owner != Some(id) {
            return Ok(None);
        }
        let name: Option<String> = conn.hget(self.keys.user(id), "name").await?;
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
            .key(self.keys.auth(&token.hash()))
            .key(self.keys.user(id))
            .key(self.keys.auth(&next.hash()))
            .arg(id)
            .arg(token.hash())
            .arg(next.hash())
            .arg(self.grace_secs)
            .arg(self.keys.auth_prefix())
            .invoke_async(&mut conn)
            .await?;
        Ok(name.map(|name| (User { id, name }, next)))
    }

    pub async fn set_name(&self, id: UserId, name: &DisplayName) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.hset::<_, _, _, ()>(self.keys.user(id), "name", name.as_str())
            .await?;
        Ok(())
    }
}
