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

    /// A still of the video that can be shown without loading it: YouTube's own thumbnail
    /// (an image the pages' Content-Security-Policy allows); files have none.
    pub fn thumbnail_url(&self) -> Option<String> {
        (self.kind == MediaKind::Youtube && super::is_youtube_id(&self.source))
            .then(|| format!("https://i.ytimg.com/vi/{}/hqdefault.jpg", self.source))
    }

    pub fn info(&self) -> VideoInfo {
        VideoInfo {
            title: self.title.clone(),
            kind: self.kind,
            source: self.source.clone(),
        }
    }
}

/// A duration as people read it: `m:ss`, or `h:mm:ss` from an hour on (as the chat shows
/// positions).
pub fn clock_time(ms: u64) -> String {
    let total = ms / 1000;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_m_ss_and_from_an_hour_on_as_h_mm_ss() {
        let table = [
            (0, "0:00"),
            (999, "0:00"),
            (30_000, "0:30"),
            (90_023, "1:30"),
            (3_599_000, "59:59"),
            (3_600_000, "1:00:00"),
            (3_723_000, "1:02:03"),
        ];
        for (ms, text) in table {
            assert_eq!(clock_time(ms), text, "{ms} ms");
        }
    }

    #[test]
    fn only_youtube_videos_have_a_thumbnail() {
        let video = |kind, source: &str| Video {
            id: VideoId(1),
            owner: 1,
            kind,
            source: source.to_owned(),
            start_ms: 0,
            title: String::new(),
            invite_key: InviteKey::generate(),
            created_ms: 0,
        };
        assert_eq!(
            video(MediaKind::Youtube, "dQw4w9WgXcQ")
                .thumbnail_url()
                .as_deref(),
            Some("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg")
        );
        assert_eq!(
            video(MediaKind::File, "https://example.com/a.webm").thumbnail_url(),
            None
        );
        assert_eq!(video(MediaKind::Youtube, "x/../y").thumbnail_url(), None);
    }
}
