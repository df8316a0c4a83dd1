//! The party protocol's messages. Text frames of JSON, `{"type": …}`; see docs/protocol.md.
//!
//! The values inside the frames are domain types (`crate::domain`); so are the notices the
//! managers publish to a whole party ([`PartyNotice`]), which go out as they are. This
//! module adds what only the wire knows: the client's messages, the replies to one
//! connection, and the WebSocket close code of each [`CloseReason`].

use serde::{Deserialize, Serialize};

use crate::domain::{ChatMessage, ControlMode, Permissions, PlaylistView, UserId, ViewerSummary};
pub use crate::domain::{CloseReason, ErrorCode, PartyNotice, VideoInfo};
use crate::sync::PlaybackState;

/// The longest command id a client may give.
pub const MAX_COMMAND_ID: usize = 64;

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello {
        protocol: u32,
    },
    Ping {
        id: u64,
    },
    Play,
    Pause {
        position_ms: Option<f64>,
    },
    Seek {
        position_ms: f64,
    },
    Rate {
        rate: f64,
    },
    Buffering,
    Ready,
    MediaInfo {
        duration_ms: f64,
        title: Option<String>,
        /// The media the player learned this about (the state's `media`), so a report that
        /// arrives after the party moved on is not taken for the new media.
        #[serde(default)]
        media: Option<String>,
    },
    Chat {
        text: String,
    },
    SetName {
        name: String,
    },
    ControlMode {
        mode: ControlMode,
    },
    Promote {
        user_id: UserId,
    },
    Demote {
        user_id: UserId,
    },
    Skip,
    Jump {
        item_id: u64,
    },
    Ended {
        item_id: u64,
    },
    /// Playlists: this viewer's player cannot play the item (`reason`: see
    /// [`crate::domain::UnplayableReason`]), parsed by the session.
    Unplayable {
        item_id: u64,
        reason: String,
    },
    SyncStatus {
        in_sync: bool,
    },
    SetWait {
        enabled: bool,
    },
}

const CLIENT_TYPES: &[&str] = &[
    "hello",
    "ping",
    "play",
    "pause",
    "seek",
    "rate",
    "buffering",
    "ready",
    "media_info",
    "chat",
    "set_name",
    "control_mode",
    "promote",
    "demote",
    "skip",
    "jump",
    "ended",
    "unplayable",
    "sync_status",
    "set_wait",
];

/// Why a frame could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or a known type with missing or mistyped fields.
    BadMessage(String),
    UnknownType,
}

impl ClientMessage {
    /// Parses a text frame, telling an unknown type from a malformed message.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Tag<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<std::borrow::Cow<'a, str>>,
        }
        let tag: Tag = serde_json::from_str(text)
            .map_err(|_| ParseError::BadMessage("the frame is not a JSON object".into()))?;
        match tag.kind {
            None => Err(ParseError::BadMessage("the message has no \"type\"".into())),
            Some(kind) if !CLIENT_TYPES.contains(&kind.as_ref()) => Err(ParseError::UnknownType),
            Some(kind) => serde_json::from_str(text).map_err(|e| {
                ParseError::BadMessage(format!(
                    "malformed {kind:?} message: {}",
                    short(&e.to_string())
                ))
            }),
        }
    }

    /// The id a client gave a command (`cmd_id`), so that the command, retried after a
    /// reconnect, is applied once: 1 to 64 letters, digits, `-` or `_`. `None` when the
    /// message has none.
    pub fn command_id(text: &str) -> Result<Option<String>, ParseError> {
        #[derive(Deserialize)]
        struct Id {
            cmd_id: Option<serde_json::Value>,
        }
        let Ok(Id { cmd_id }) = serde_json::from_str::<Id>(text) else {
            return Ok(None);
        };
        match cmd_id {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(id))
                if (1..=MAX_COMMAND_ID).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Ok(Some(id))
            }
            Some(_) => Err(ParseError::BadMessage(format!(
                "cmd_id must be 1 to {MAX_COMMAND_ID} letters, digits, - or _"
            ))),
        }
    }

    /// Whether this message changes playback (and so counts against the command limit).
    pub fn is_command(&self) -> bool {
        matches!(
            self,
            Self::Play
                | Self::Pause { .. }
                | Self::Seek { .. }
                | Self::Rate { .. }
                | Self::Skip
                | Self::Jump { .. }
        )
    }
}

fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

/// The viewer a connection belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct You {
    pub user_id: UserId,
    pub name: String,
}

/// What the server sends. `state` frames are built by the command script in Redis.
// Messages are built, serialized once and dropped; the size of the largest variant costs
// nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        protocol: u32,
        conn_id: String,
        you: You,
        can_control: bool,
        server_ms: f64,
        state: PlaybackState,
        viewers: Vec<ViewerSummary>,
        people: usize,
        /// The video, for a video's party.
        video: Option<VideoInfo>,
        /// The playlist, for a playlist's party.
        playlist: Option<PlaylistView>,
        permissions: Permissions,
        chat: Vec<ChatMessage>,
    },
    Pong {
        id: u64,
        server_ms: f64,
    },
    State {
        state: PlaybackState,
    },
    Chat {
        message: ChatMessage,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    /// The command the client gave this `cmd_id` has been handled (applied, found already
    /// applied, or refused with an `error` before this): it need not be sent again.
    Done {
        cmd_id: String,
    },
    /// Whether the server reaches its store. While it does not, the connection stays open,
    /// actions are refused with `store_unavailable`, and nothing changes; when it returns,
    /// the viewer is registered again and resynced (`state`, `viewers`).
    Store {
        available: bool,
    },
    /// A change every viewer of the party hears about (`viewers`, `video`, `playlist`,
    /// `permissions`, `closed`): the notice's own frame, tag and all.
    #[serde(untagged)]
    Notice(PartyNotice),
}

impl ServerMessage {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
        }
    }

    pub fn closed(reason: CloseReason) -> Self {
        Self::Notice(PartyNotice::closed(reason))
    }

    /// The viewer list: its first people, and how many watch in all.
    pub fn viewers(viewers: Vec<ViewerSummary>, people: usize) -> Self {
        Self::Notice(PartyNotice::Viewers { viewers, people })
    }

    pub fn to_json(&self) -> String {
        // unwrap: these types always serialize (string keys, finite numbers from the store).
        serde_json::to_string(self).expect("server messages serialize")
    }
}

/// The wire's side of a close: its WebSocket close code.
impl CloseReason {
    /// The WebSocket close code (docs/protocol.md, "Close codes").
    pub fn code(self) -> u16 {
        match self {
            Self::ServerShutdown => 1001,
            Self::FrameTooLarge => 1009,
            Self::ProtocolViolation => 1002,
            Self::InvalidData => 1007,
            Self::Backlog | Self::TooManyPings => 1008,
            Self::StoreUnavailable => 1013,
            Self::HeartbeatTimeout => 4000,
            Self::InviteRotated => 4001,
            Self::ProtocolUnsupported => 4002,
            Self::InviteInvalid | Self::VideoDeleted | Self::PlaylistDeleted => 4004,
            Self::HelloTimeout => 4008,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"play"}"#),
            Ok(ClientMessage::Play)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"seek","position_ms":42000}"#),
            Ok(ClientMessage::Seek {
                position_ms: 42000.0
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"pause"}"#),
            Ok(ClientMessage::Pause { position_ms: None })
        );
    }

    #[test]
    fn malformed_frames_are_told_apart_from_unknown_types() {
        let table = [
            ("not json", false),
            ("[]", false),
            (r#"{"no":"type"}"#, false),
            (r#"{"type":"seek"}"#, false),
            (r#"{"type":"seek","position_ms":"soon"}"#, false),
            (r#"{"type":"dance"}"#, true),
        ];
        for (frame, unknown) in table {
            let err = ClientMessage::parse(frame).unwrap_err();
            assert_eq!(err == ParseError::UnknownType, unknown, "{frame}");
        }
    }

    #[test]
    fn close_reasons_carry_their_codes() {
        assert_eq!(CloseReason::InviteRotated.code(), 4001);
        assert_eq!(CloseReason::VideoDeleted.code(), 4004);
        let json = ServerMessage::closed(CloseReason::InviteRotated).to_json();
        assert!(
            json.starts_with(r#"{"type":"closed","reason":"invite_rotated""#),
            "{json}"
        );
    }

    #[test]
    fn party_notices_go_out_as_their_own_frames() {
        assert_eq!(
            ServerMessage::viewers(Vec::new(), 3).to_json(),
            r#"{"type":"viewers","viewers":[],"people":3}"#
        );
        let notice = PartyNotice::Video {
            video: VideoInfo {
                title: "T".into(),
                kind: crate::domain::MediaKind::File,
                source: "s".into(),
            },
        };
        assert_eq!(
            ServerMessage::Notice(notice.clone()).to_json(),
            notice.to_json()
        );
        assert!(notice
            .to_json()
            .starts_with(r#"{"type":"video","video":{"title":"T""#));
    }
}
