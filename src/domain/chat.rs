//! Chat messages as values: who wrote one, what it says, and the cleaning every message
//! goes through before it is stored.

use serde::{Deserialize, Serialize};

use super::{ErrorCode, UserId};

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

/// Why a chat message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatTextError {
    #[error("Type a message first.")]
    Empty,
    #[error("Messages can be at most {0} characters long.")]
    TooLong(usize),
}

impl ChatTextError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Empty => ErrorCode::ChatEmpty,
            Self::TooLong(_) => ErrorCode::ChatTooLong,
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
