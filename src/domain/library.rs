//! Videos and playlists as values: what a library holds and what a party's viewers are
//! shown of it. Reading and writing them is the managers' business.

use serde::{Deserialize, Serialize};

use super::{InviteKey, MediaKind, PartyId, PlaylistId, UserId, VideoId};

/// A video in someone's library.
#[derive(Debug, Clone)]
pub struct Video {
    pub id: VideoId,
    pub owner: UserId,
    pub kind: MediaKind,
    /// YouTube id or media URL.
    pub source: String,
    pub start_ms: u64,
    pub title: String,
    pub invite_key: InviteKey,
    pub created_ms: u64,
}

impl Video {
    pub fn party(&self) -> PartyId {
        PartyId::Video(self.id)
    }

    pub fn info(&self) -> VideoInfo {
        VideoInfo {
            title: self.title.clone(),
            kind: self.kind,
            source: self.source.clone(),
        }
    }
}

/// The video a party plays, as viewers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub title: String,
    pub kind: MediaKind,
    pub source: String,
}

/// A playlist.
#[derive(Debug, Clone)]
pub struct Playlist {
    pub id: PlaylistId,
    pub owner: UserId,
    pub title: String,
    pub invite_key: InviteKey,
    pub created_ms: u64,
}

impl Playlist {
    pub fn party(&self) -> PartyId {
        PartyId::Playlist(self.id)
    }
}

/// One entry of a playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaylistItem {
    pub id: u64,
    pub kind: MediaKind,
    pub source: String,
    pub title: String,
    pub start_ms: u64,
}

/// A playlist with its items in order, as viewers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaylistView {
    pub id: u64,
    pub title: String,
    pub items: Vec<PlaylistItem>,
}
