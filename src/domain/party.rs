//! Which party a viewer joins: its id, and the subject it plays (a video or a playlist).

use super::{CloseReason, Playlist, PlaylistId, UserId, Video, VideoId};

/// Which group of viewers watches together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyId {
    Video(VideoId),
    Playlist(PlaylistId),
}

impl PartyId {
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(id) = text.strip_prefix("video:") {
            return VideoId::parse(id).map(Self::Video);
        }
        PlaylistId::parse(text.strip_prefix("playlist:")?).map(Self::Playlist)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Video(_) => "video",
            Self::Playlist(_) => "playlist",
        }
    }
}

impl std::fmt::Display for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Video(id) => write!(f, "video:{id}"),
            Self::Playlist(id) => write!(f, "playlist:{id}"),
        }
    }
}

/// What a party plays: one video, or a playlist.
#[derive(Debug, Clone)]
pub enum Subject {
    Video(Video),
    Playlist(Playlist),
}

impl Subject {
    pub fn party(&self) -> PartyId {
        match self {
            Self::Video(v) => v.party(),
            Self::Playlist(p) => p.party(),
        }
    }

    pub fn owner(&self) -> UserId {
        match self {
            Self::Video(v) => v.owner,
            Self::Playlist(p) => p.owner,
        }
    }

    /// Why its viewers are sent away once it is gone.
    pub fn deleted(&self) -> CloseReason {
        match self {
            Self::Video(_) => CloseReason::VideoDeleted,
            Self::Playlist(_) => CloseReason::PlaylistDeleted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_ids_round_trip() {
        for id in [
            PartyId::Video(VideoId(12)),
            PartyId::Playlist(PlaylistId(3)),
        ] {
            assert_eq!(PartyId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(PartyId::parse("video:x"), None);
        assert_eq!(PartyId::parse("room:1"), None);
    }
}
