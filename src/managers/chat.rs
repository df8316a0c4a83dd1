//! Chat: each party keeps its last messages; every message carries the video position at
//! which it was written (on the Redis clock) and is published to every viewer.

use std::sync::Arc;

use super::{Keys, StoreConnection, StoreError};
use crate::config::ChatSettings;
use crate::domain::{ChatKind, ChatMessage, PartyId, UserId};
use redis::AsyncCommands;

/// The outcome of posting.
#[derive(Debug)]
pub enum Posted {
    Sent(ChatMessage),
    /// Over the per-person rate; try again after this many seconds.
    RateLimited(u64),
    /// The party no longer exists.
    Gone,
}

/// Stores and publishes chat messages.
#[derive(Clone)]
pub struct ChatManager {
    conn: StoreConnection,
    keys: Keys,
    settings: ChatSettings,
    post: Arc<redis::Script>,
}

impl ChatManager {
    pub fn new(conn: StoreConnection, keys: Keys, settings: ChatSettings) -> Self {
        Self {
            conn,
            keys,
            settings,
            post: super::scripts::load(super::scripts::CHAT_POST),
        }
    }

    /// The stored history, oldest first.
    pub async fn history(&self, party: PartyId) -> Result<Vec<ChatMessage>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: Vec<String> = conn
            .lrange(self.keys.party_chat(&party.to_string()), 0, -1)
            .await?;
        Ok(raw
            .iter()
            .filter_map(|m| serde_json::from_str(m).ok())
            .collect())
    }

    /// Posts a viewer's message (already validated), within the per-person rate.
    pub async fn post(
        &self,
        party: PartyId,
        user: UserId,
        name: &str,
        text: &str,
    ) -> Result<Posted, StoreError> {
        self.run(party, ChatKind::User, user, name, text).await
    }

    /// Posts a system line.
    pub async fn system(&self, party: PartyId, text: &str) -> Result<Posted, StoreError> {
        self.run(party, ChatKind::System, 0, "", text).await
    }

    async fn run(
        &self,
        party: PartyId,
        kind: ChatKind,
        user: UserId,
        name: &str,
        text: &str,
    ) -> Result<Posted, StoreError> {
        let mut conn = self.conn.clone();
        let p = party.to_string();
        let (kind, name) = match kind {
            // The sender's name as it is now (they may have renamed themselves in another
            // tab); their record lies in another slot than the party's chat.
            ChatKind::User => {
                let current: Option<String> = conn.hget(self.keys.user(user), "name").await?;
                ("user", current.unwrap_or_else(|| name.to_owned()))
            }
            ChatKind::System => ("system", String::new()),
        };
        let result: Result<(i64, String), redis::RedisError> = self
            .post
            .key(self.keys.party_chat(&p))
            .key(self.keys.party_chat_seq(&p))
            .key(self.keys.chat_rate(&p, user))
            .key(self.keys.party_state(&p))
            .key(self.keys.party_root(party))
            .key(self.keys.events(&p))
            .arg(kind)
            .arg(user)
            .arg(name)
            .arg(text)
            .arg(self.settings.history)
            .arg(self.settings.per_window)
            .arg(self.settings.window_secs)
            .invoke_async(&mut conn)
            .await;
        match result {
            Ok((-1, wait)) => Ok(Posted::RateLimited(wait.parse().unwrap_or(1).max(1))),
            Ok((_, json)) => serde_json::from_str(&json)
                .map(Posted::Sent)
                .map_err(|e| StoreError::Corrupt(format!("chat message: {e}"))),
            Err(err) if err.code() == Some("WW_NOT_FOUND") => Ok(Posted::Gone),
            Err(err) => Err(err.into()),
        }
    }
}
