//! Adding a video, shared by the form and the JSON API: parse, check the user's limit, store.

use crate::config::LibrarySettings;
use crate::domain::{MediaSource, MediaUrlError, TextError, UserId, VideoTitle};
use crate::managers::{StoreError, Video, VideosManager};

/// Why a video could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error(transparent)]
    Url(#[from] MediaUrlError),
    #[error(transparent)]
    Title(#[from] TextError),
    #[error("Your library is full ({0} videos). Delete some before adding more.")]
    LibraryFull(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds `media` (already parsed) with an optional typed title.
pub async fn add(
    videos: &VideosManager,
    limits: &LibrarySettings,
    owner: UserId,
    media: MediaSource,
    title: Option<&str>,
) -> Result<Video, AddError> {
    let title = VideoTitle::parse_optional(title, limits.max_title_chars)?;
    if videos.count(owner).await? >= limits.max_videos_per_user {
        return Err(AddError::LibraryFull(limits.max_videos_per_user));
    }
    Ok(videos.create(owner, &media, title.as_ref()).await?)
}

/// Parses a pasted URL and adds it.
pub async fn add_url(
    videos: &VideosManager,
    limits: &LibrarySettings,
    owner: UserId,
    url: &str,
    title: Option<&str>,
) -> Result<Video, AddError> {
    let media = MediaSource::parse(url, limits.max_url_bytes)?;
    add(videos, limits, owner, media, title).await
}
