//! Videos: a user's library, invite keys, renames, rotation and deletion.

use redis::AsyncCommands;
use std::collections::HashMap;

use super::{now_ms, InvitesManager, Keys, StoreConnection, StoreError};
use crate::domain::{
    CloseReason, InviteKey, MediaKind, MediaSource, PartyId, PartyNotice, UserId, Video, VideoId,
    VideoTitle,
};

/// One page of a library, newest first.
#[derive(Debug)]
pub struct LibraryPage {
    pub videos: Vec<Video>,
    pub total: usize,
}

/// The ZREVRANGE bounds of a 0-based page, or `None` when they would not fit.
pub(super) fn page_range(page: usize, page_size: usize) -> Option<(isize, isize)> {
    let start = isize::try_from(page.checked_mul(page_size)?).ok()?;
    let stop = start.checked_add(isize::try_from(page_size).ok()?)? - 1;
    Some((start, stop))
}

/// Stores videos and their invite keys.
#[derive(Clone)]
pub struct VideosManager {
    conn: StoreConnection,
    keys: Keys,
    invites: InvitesManager,
    adopt_title: std::sync::Arc<redis::Script>,
}

impl VideosManager {
    pub fn new(conn: StoreConnection, keys: Keys) -> Self {
        Self {
            invites: InvitesManager::new(conn.clone(), keys.clone()),
            adopt_title: super::scripts::load(super::scripts::ADOPT_TITLE),
            conn,
            keys,
        }
    }

    /// How many videos a user has.
    pub async fn count(&self, owner: UserId) -> Result<usize, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.zcard(self.keys.user_videos(owner)).await?)
    }

    /// Adds a video to a user's library with a fresh invite key.
    pub async fn create(
        &self,
        owner: UserId,
        media: &MediaSource,
        title: Option<&VideoTitle>,
    ) -> Result<Video, StoreError> {
        let mut conn = self.conn.clone();
        // The owner is kept for good first: a failure leaves no video behind an owner who
        // could still be forgotten.
        super::users::keep(&mut conn, &self.keys, owner).await?;
        let id = VideoId(conn.incr(self.keys.video_next_id(), 1).await?);
        let root = self.keys.party_root(PartyId::Video(id));
        let video = Video {
            id,
            owner,
            kind: media.kind,
            source: media.source.clone(),
            start_ms: u64::from(media.start_secs) * 1000,
            title: title
                .map(|t| t.as_str().to_owned())
                .unwrap_or_else(|| media.default_title()),
            invite_key: InviteKey::generate(),
            created_ms: now_ms(),
        };
        let mut pipe = redis::pipe();
        pipe.atomic().hset_multiple(
            &root,
            &[
                ("owner", owner.to_string()),
                ("kind", video.kind.as_str().to_owned()),
                ("source", video.source.clone()),
                ("start_ms", video.start_ms.to_string()),
                ("title", video.title.clone()),
                ("invite_key", video.invite_key.as_str().to_owned()),
                ("created_ms", video.created_ms.to_string()),
            ],
        );
        if title.is_some() {
            // A title the owner typed is never replaced by one a player reports.
            pipe.hset(&root, "title_by", "owner");
        }
        pipe.query_async::<()>(&mut conn).await?;
        self.invites
            .publish_new(
                video.party(),
                &video.invite_key,
                &self.keys.user_videos(owner),
                video.created_ms,
            )
            .await?;
        Ok(video)
    }

    pub async fn get(&self, id: VideoId) -> Result<Option<Video>, StoreError> {
        let mut conn = self.conn.clone();
        let h: HashMap<String, String> = conn
            .hgetall(self.keys.party_root(PartyId::Video(id)))
            .await?;
        if h.is_empty() {
            return Ok(None);
        }
        from_hash(id, &h).map(Some)
    }

    /// The video if `user` owns it; `None` otherwise, so others cannot learn it exists.
    pub async fn get_owned(&self, user: UserId, id: VideoId) -> Result<Option<Video>, StoreError> {
        Ok(self.get(id).await?.filter(|v| v.owner == user))
    }

    /// A page (0-based) of a user's library, newest first.
    pub async fn list(
        &self,
        owner: UserId,
        page: usize,
        page_size: usize,
    ) -> Result<LibraryPage, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.user_videos(owner);
        // A page past any count (the handlers already refuse those) is simply empty.
        let Some((start, stop)) = page_range(page, page_size) else {
            let total = conn.zcard(&key).await?;
            return Ok(LibraryPage {
                videos: Vec::new(),
                total,
            });
        };
        let (ids, total): (Vec<u64>, usize) = redis::pipe()
            .zrevrange(&key, start, stop)
            .zcard(&key)
            .query_async(&mut conn)
            .await?;
        // One read per video: their records lie in different slots.
        let reads = ids.iter().map(|id| {
            let mut read = redis::cmd("HGETALL");
            read.arg(self.keys.party_root(PartyId::Video(VideoId(*id))));
            read
        });
        let hashes: Vec<HashMap<String, String>> = self.conn.each(reads).await?;
        let videos = ids
            .iter()
            .zip(hashes)
            .filter(|(_, h)| !h.is_empty())
            .map(|(id, h)| from_hash(VideoId(*id), &h))
            .collect::<Result<_, _>>()?;
        Ok(LibraryPage { videos, total })
    }

    /// Renames a video and tells its viewers.
    pub async fn rename(&self, video: &Video, title: &VideoTitle) -> Result<Video, StoreError> {
        let mut conn = self.conn.clone();
        let mut renamed = video.clone();
        renamed.title = title.as_str().to_owned();
        let frame = PartyNotice::Video {
            video: renamed.info(),
        }
        .to_json();
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.keys.party_root(video.party()),
                &[("title", renamed.title.as_str()), ("title_by", "owner")],
            )
            .cmd("SPUBLISH")
            .arg(self.keys.events(&video.party().to_string()))
            .arg(frame)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(renamed)
    }

    /// Sets the title a player reported, if the video still has the title chosen for it
    /// automatically and no one chose or reported one before (the owner's title always
    /// stays; the first report wins). Returns the updated video when it changed.
    pub async fn adopt_player_title(
        &self,
        video: &Video,
        title: &VideoTitle,
    ) -> Result<Option<Video>, StoreError> {
        let automatic = MediaSource {
            kind: video.kind,
            source: video.source.clone(),
            start_secs: 0,
        }
        .default_title();
        if title.as_str() == automatic {
            return Ok(None);
        }
        let mut adopted = video.clone();
        adopted.title = title.as_str().to_owned();
        let frame = PartyNotice::Video {
            video: adopted.info(),
        }
        .to_json();
        let mut conn = self.conn.clone();
        let taken: i64 = self
            .adopt_title
            .key(self.keys.party_root(video.party()))
            .key(self.keys.events(&video.party().to_string()))
            .arg(&automatic)
            .arg(title.as_str())
            .arg(frame)
            .invoke_async(&mut conn)
            .await?;
        Ok((taken == 1).then_some(adopted))
    }

    /// Replaces the invite key; viewers on the old key are disconnected.
    pub async fn rotate_invite(&self, video: &Video) -> Result<Option<InviteKey>, StoreError> {
        self.invites.rotate(video.party()).await
    }

    /// Deletes a video and everything of it; viewers are told. `false` if it was gone.
    pub async fn delete(&self, video: &Video) -> Result<bool, StoreError> {
        self.invites
            .delete(
                video.party(),
                self.keys.user_videos(video.owner),
                CloseReason::VideoDeleted,
            )
            .await
    }
}

/// A video from its stored hash.
fn from_hash(id: VideoId, h: &HashMap<String, String>) -> Result<Video, StoreError> {
    let field = |name: &str| {
        h.get(name)
            .ok_or_else(|| StoreError::Corrupt(format!("video {id} has no {name}")))
    };
    let number = |name: &str| -> Result<u64, StoreError> {
        field(name)?
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("video {id}: bad {name}")))
    };
    Ok(Video {
        id,
        owner: number("owner")?,
        kind: MediaKind::parse(field("kind")?)
            .ok_or_else(|| StoreError::Corrupt(format!("video {id}: bad kind")))?,
        source: field("source")?.clone(),
        start_ms: number("start_ms")?,
        title: field("title")?.clone(),
        invite_key: InviteKey::parse(field("invite_key")?)
            .ok_or_else(|| StoreError::Corrupt(format!("video {id}: bad invite key")))?,
        created_ms: number("created_ms")?,
    })
}
