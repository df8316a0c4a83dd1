//! The one list of error codes a party connection can receive (`error {code, message}`),
//! stable snake_case strings a client can switch on. The protocol sends them, the managers
//! map the command script's refusals into them, `sync` and the chat's text checks name
//! theirs here; docs/protocol.md ("Error codes") lists them with their meaning.

use serde::{Deserialize, Serialize};

/// Why a party connection's message was refused. The wire spelling is the variant's name in
/// snake_case ([`ErrorCode::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or a field is missing or has the wrong type.
    BadMessage,
    /// `type` is not one the protocol lists.
    UnknownType,
    /// A frame exceeded `[realtime] max_frame_bytes`; it was ignored.
    FrameTooLarge,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// A message arrived before `hello`.
    HelloRequired,
    /// `hello.protocol` is not the server's (the connection then closes with 4002).
    ProtocolUnsupported,
    /// Too many messages or commands; wait a moment.
    RateLimited,
    /// The server cannot reach its store; nothing changed, try again in a moment.
    StoreUnavailable,
    /// This viewer may not control playback (the owner chose `promoted` mode).
    Forbidden,
    /// Only the owner may change who controls, or whether the party waits.
    NotOwner,
    /// The chat message is empty.
    ChatEmpty,
    /// The chat message is longer than `[chat] max_chars`.
    ChatTooLong,
    /// More than `[chat] per_window` messages in `[chat] window_secs`, across the person's
    /// tabs; the message says how long to wait.
    ChatRateLimited,
    /// The display name is empty, too long or has control characters.
    InvalidName,
    /// A playlist command on an empty playlist.
    EmptyPlaylist,
    /// `skip` on the last item.
    LastItem,
    /// The item is not in the playlist.
    NoSuchItem,
    /// A playlist command in a video's party.
    NotAPlaylist,
    /// A position is negative, not finite or beyond the media's duration.
    InvalidPosition,
    /// A rate outside 0.25–2.0.
    InvalidRate,
    /// A reported duration shorter than `[sync] min_duration_ms` or longer than 100 hours,
    /// or a report the store refused.
    InvalidDuration,
    /// An `unplayable` report whose reason is not one the protocol lists.
    InvalidReason,
    /// The store refused the command for another reason; nothing changed.
    Refused,
    /// The server could not carry out the request (the state is unchanged).
    Internal,
}

impl ErrorCode {
    /// Every code, in the order docs/protocol.md lists them.
    pub const ALL: [ErrorCode; 24] = [
        Self::BadMessage,
        Self::UnknownType,
        Self::FrameTooLarge,
        Self::BinaryNotSupported,
        Self::HelloRequired,
        Self::ProtocolUnsupported,
        Self::RateLimited,
        Self::StoreUnavailable,
        Self::Forbidden,
        Self::NotOwner,
        Self::ChatEmpty,
        Self::ChatTooLong,
        Self::ChatRateLimited,
        Self::InvalidName,
        Self::EmptyPlaylist,
        Self::LastItem,
        Self::NoSuchItem,
        Self::NotAPlaylist,
        Self::InvalidPosition,
        Self::InvalidRate,
        Self::InvalidDuration,
        Self::InvalidReason,
        Self::Refused,
        Self::Internal,
    ];

    /// The code as sent (the same string serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadMessage => "bad_message",
            Self::UnknownType => "unknown_type",
            Self::FrameTooLarge => "frame_too_large",
            Self::BinaryNotSupported => "binary_not_supported",
            Self::HelloRequired => "hello_required",
            Self::ProtocolUnsupported => "protocol_unsupported",
            Self::RateLimited => "rate_limited",
            Self::StoreUnavailable => "store_unavailable",
            Self::Forbidden => "forbidden",
            Self::NotOwner => "not_owner",
            Self::ChatEmpty => "chat_empty",
            Self::ChatTooLong => "chat_too_long",
            Self::ChatRateLimited => "chat_rate_limited",
            Self::InvalidName => "invalid_name",
            Self::EmptyPlaylist => "empty_playlist",
            Self::LastItem => "last_item",
            Self::NoSuchItem => "no_such_item",
            Self::NotAPlaylist => "not_a_playlist",
            Self::InvalidPosition => "invalid_position",
            Self::InvalidRate => "invalid_rate",
            Self::InvalidDuration => "invalid_duration",
            Self::InvalidReason => "invalid_reason",
            Self::Refused => "refused",
            Self::Internal => "internal",
        }
    }

    /// The code a refusal of the command script names (`{-1, code}`); a code this list
    /// does not know becomes [`ErrorCode::Refused`].
    pub fn of_refusal(code: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or(Self::Refused)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_as_its_wire_string() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()), "{code:?}");
            assert_eq!(ErrorCode::of_refusal(code.as_str()), code);
        }
    }

    #[test]
    fn the_protocol_documents_every_code_and_no_other() {
        let doc = include_str!("../../docs/protocol.md");
        let section = doc
            .split("## Error codes")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/protocol.md has an \"Error codes\" section");
        let documented: Vec<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|line| line.split('`').next())
            .collect();
        let codes: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|code| {
                serde_json::to_value(code)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(documented, codes);
    }

    #[test]
    fn an_unknown_refusal_is_refused() {
        assert_eq!(ErrorCode::of_refusal("dance"), ErrorCode::Refused);
        assert_eq!(ErrorCode::of_refusal("forbidden"), ErrorCode::Forbidden);
    }
}
