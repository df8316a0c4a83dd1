//! Chat: each party keeps its last messages; every message carries the video position at
//! which it was written (on the Redis clock) and is published to every viewer.

use std::sync::Arc;

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{Keys, PartyId, StoreConnection, StoreError};
use crate::config::ChatSettings;
use crate::domain::UserId;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// A viewer.
    User,
    /// The party itself: joins, leaves, control actions.
    System,
}

/// A stored chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: u64,
    pub kind: ChatKind,
    /// The writer (0 for system lines).
    pub user_id: UserId,
    pub name: String,
    /// Plain text; clients render it as text, never as markup.
    pub text: String,
    /// Where the video was when the message was written.
    pub position_ms: f64,
    /// The media playing then (`video:{id}` or `item:{id}`).
    pub media: String,
    pub at_ms: f64,
}

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
        let kind = match kind {
            ChatKind::User => "user",
            ChatKind::System => "system",
        };
        let result: Result<(i64, String), redis::RedisError> = self
            .post
            .key(self.keys.party_chat(&p))
            .key(self.keys.party_chat_seq(&p))
            .key(self.keys.chat_rate(user))
            .key(self.keys.party_state(&p))
            .key(party.root_key(&self.keys))
            .key(self.keys.user(user))
            .arg(kind)
            .arg(user)
            .arg(name)
            .arg(text)
            .arg(self.settings.history)
            .arg(self.settings.per_window)
            .arg(self.settings.window_secs)
            .arg(self.keys.events(&p))
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

/// Why a chat message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatTextError {
    #[error("Type a message first.")]
    Empty,
    #[error("Messages can be at most {0} characters long.")]
    TooLong(usize),
}

impl ChatTextError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "chat_empty",
            Self::TooLong(_) => "chat_too_long",
        }
    }
}

/// Trims a message, turns control characters (newlines included) into spaces, and checks its
/// length in characters.
pub fn clean_chat_text(text: &str, max_chars: usize) -> Result<String, ChatTextError> {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return Err(ChatTextError::Empty);
    }
    if cleaned.chars().count() > max_chars {
        return Err(ChatTextError::TooLong(max_chars));
    }
    Ok(cleaned.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_text_is_trimmed_flattened_and_limited() {
        assert_eq!(clean_chat_text("  hi\\nthere ", 500).unwrap(), "hi\\nthere");
        assert_eq!(clean_chat_text("a\nb\u{7}c", 500).unwrap(), "a b c");
        assert_eq!(clean_chat_text(" \n ", 500), Err(ChatTextError::Empty));
        assert!(clean_chat_text(&"é".repeat(500), 500).is_ok());
        assert_eq!(
            clean_chat_text(&"é".repeat(501), 500),
            Err(ChatTextError::TooLong(500))
        );
        assert_eq!(
            clean_chat_text("<img src=x onerror=alert(1)>", 500).unwrap(),
            "<img src=x onerror=alert(1)>",
            "text stays text"
        );
    }
}
