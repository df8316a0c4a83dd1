//! Domain types: validated values (parse at the edge, trust afterwards) and the plain values
//! a party is made of — its id and subject, presence, permissions, chat messages, videos and
//! playlists, and the notices its viewers receive.
//!
//! Nothing here touches Redis, HTTP, sockets or the clock, and nothing here imports another
//! module of the crate: the managers store these values, the protocol sends them.
//!
//! - `ids`, `media`, `page`, `text`: values parsed from what people type.
//! - `party`: [`PartyId`] and the [`Subject`] a party plays.
//! - `library`: [`Video`], [`Playlist`] and what viewers see of them.
//! - `presence`: per-connection records and the per-person viewer list.
//! - `permissions`: who may control playback.
//! - `chat`: chat messages and the cleaning of their text.
//! - `notice`: the changes published to every viewer, and why a connection is closed.
//! - `error_code`: [`ErrorCode`], every code an `error` frame can carry.
//! - `unplayable`: why a viewer's player cannot play a media here.

mod chat;
mod error_code;
mod ids;
mod library;
mod media;
mod notice;
mod page;
mod party;
mod permissions;
mod presence;
mod text;
mod unplayable;

pub use chat::{clean_chat_text, ChatKind, ChatMessage, ChatTextError};
pub use error_code::ErrorCode;
pub use ids::{InviteKey, PlaylistId, UserId, VideoId};
pub use library::{clock_time, Playlist, PlaylistItem, PlaylistView, Video, VideoInfo};
pub use media::{
    is_youtube_id, parse_offset, MediaKind, MediaSource, MediaUrlError, ACCEPTED, SAMPLES,
};
pub use notice::{CloseReason, PartyNotice};
pub use page::{PageNumber, PageNumberError};
pub use party::{PartyId, Subject};
pub use permissions::{ControlMode, Permissions};
pub use presence::{summarise, PresenceEntry, ViewerStatus, ViewerSummary};
pub use text::{DisplayName, TextError, VideoTitle};
pub use unplayable::UnplayableReason;
