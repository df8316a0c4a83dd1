//! Why a viewer's player cannot play a media here, as a page reports it (`unplayable`): the
//! player's service cannot be reached, the owner refuses embedding, the media is gone, its link
//! is not valid, the player failed, or this browser cannot play its kind. Parsed at the edge;
//! each reason has the words the chat line uses.

use crate::domain::ErrorCode;

/// Why a media cannot be played here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnplayableReason {
    /// The player's service (YouTube, the stream's host) cannot be reached.
    Unreachable,
    /// The owner does not allow the media to be played on other sites.
    EmbedRefused,
    /// Removed, private, or never there.
    NotFound,
    /// The link does not name a playable media.
    Invalid,
    /// The player failed.
    PlayerError,
    /// This browser cannot play media of this kind.
    Unsupported,
}

impl UnplayableReason {
    /// Every reason, with its wire spelling.
    pub const ALL: [(UnplayableReason, &'static str); 6] = [
        (Self::Unreachable, "unreachable"),
        (Self::EmbedRefused, "embed_refused"),
        (Self::NotFound, "not_found"),
        (Self::Invalid, "invalid"),
        (Self::PlayerError, "player_error"),
        (Self::Unsupported, "unsupported"),
    ];

    /// A reason as a page sends it; anything else is refused with `invalid_reason`.
    pub fn parse(text: &str) -> Result<Self, ErrorCode> {
        Self::ALL
            .into_iter()
            .find(|(_, name)| *name == text)
            .map(|(reason, _)| reason)
            .ok_or(ErrorCode::InvalidReason)
    }

    /// What the chat line says about it ("Nobody here can play “X”: …").
    pub fn words(self) -> &'static str {
        match self {
            Self::Unreachable => "its player cannot be reached",
            Self::EmbedRefused => "its owner does not allow it to be played on other sites",
            Self::NotFound => "it was removed, made private, or never existed",
            Self::Invalid => "its link is not valid",
            Self::PlayerError => "the player failed",
            Self::Unsupported => "no browser here can play it",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_parses_from_its_wire_spelling_and_nothing_else_does() {
        for (reason, name) in UnplayableReason::ALL {
            assert_eq!(UnplayableReason::parse(name), Ok(reason), "{name}");
            assert!(!reason.words().is_empty());
        }
        for bad in ["", "Unreachable", "blocked", "150", "embed refused"] {
            assert_eq!(
                UnplayableReason::parse(bad),
                Err(ErrorCode::InvalidReason),
                "{bad:?}"
            );
        }
    }
}
