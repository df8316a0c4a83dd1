//! What a party's viewers are told when its stored state changes, as values.
//!
//! A manager that changes a party publishes one [`PartyNotice`] on the party's channel in
//! the same step as the change (often inside its Lua script), encoded once; every node hands
//! those bytes to its viewers as they are. The protocol (`realtime::protocol`) embeds these
//! notices among its server messages and documents them; this module knows nothing of
//! sockets. (`state` and `chat` events are built by the scripts themselves.)

use serde::{Deserialize, Serialize};

use super::{Permissions, PlaylistView, VideoInfo, ViewerSummary};

/// A change every viewer of a party hears about.
// Notices are built, serialized once and dropped; the size of the largest variant costs
// nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PartyNotice {
    Viewers {
        /// The first people, in order of arrival (at most `[realtime] viewer_list_max`).
        viewers: Vec<ViewerSummary>,
        /// How many people watch in all.
        people: usize,
    },
    Video {
        video: VideoInfo,
    },
    Playlist {
        playlist: PlaylistView,
    },
    Permissions {
        permissions: Permissions,
    },
    Closed {
        reason: CloseReason,
        message: String,
    },
}

impl PartyNotice {
    pub fn closed(reason: CloseReason) -> Self {
        Self::Closed {
            reason,
            message: reason.message().to_owned(),
        }
    }

    pub fn to_json(&self) -> String {
        // unwrap: these types always serialize (string keys, finite numbers from the store).
        serde_json::to_string(self).expect("party notices serialize")
    }
}

/// Why the server closes a connection on purpose. (Each reason's WebSocket close code is
/// the protocol's business: `realtime::protocol`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    InviteRotated,
    InviteInvalid,
    VideoDeleted,
    PlaylistDeleted,
    ServerShutdown,
    ProtocolUnsupported,
    HelloTimeout,
    HeartbeatTimeout,
    FrameTooLarge,
    /// The client broke RFC 6455 framing (reserved bits or opcodes, an unmasked frame, a
    /// fragmented control frame, a stray or interleaved continuation, a bad close frame).
    ProtocolViolation,
    /// A text message that is not UTF-8.
    InvalidData,
    /// The client sent more than it read: its replies outgrew the bounded queue.
    Backlog,
    /// The client sent WebSocket pings beyond `[realtime] messages_per_second`.
    TooManyPings,
    /// The store could not be reached while the connection was joining; try again later.
    StoreUnavailable,
}

impl CloseReason {
    /// What the viewer reads.
    pub fn message(self) -> &'static str {
        match self {
            Self::InviteRotated => "The host replaced this invite link. Ask them for the new one.",
            Self::InviteInvalid => {
                "This invite link does not work: it was replaced or the video was removed."
            }
            Self::VideoDeleted => "The host removed this video. The party is over.",
            Self::PlaylistDeleted => "The host removed this playlist. The party is over.",
            Self::ServerShutdown => "The server is restarting; reconnecting.",
            Self::ProtocolUnsupported => "This page is out of date. Reload it.",
            Self::HelloTimeout => "The connection did not introduce itself in time.",
            Self::HeartbeatTimeout => "The connection was silent for too long.",
            Self::FrameTooLarge => "A message was far too large.",
            Self::ProtocolViolation => "The connection broke the WebSocket protocol.",
            Self::InvalidData => "A text message was not valid UTF-8.",
            Self::Backlog => "The connection sent far more than it read.",
            Self::TooManyPings => "The connection sent pings far faster than allowed.",
            Self::StoreUnavailable => "The server cannot reach its store; reconnecting.",
        }
    }
}
