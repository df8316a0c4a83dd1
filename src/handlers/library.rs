//! Adding a video, shared by the form and the JSON API: parse, check the user's limit, store.

use crate::config::LibrarySettings;
use crate::domain::Video;
use crate::domain::{MediaSource, MediaUrlError, TextError, UserId, VideoTitle};
use crate::managers::{StoreError, VideosManager};

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

/// Where a new playlist item comes from.
pub enum ItemSource<'a> {
    /// One of the user's library videos (copied, so deleting it later breaks nothing).
    Video(crate::domain::VideoId),
    /// A pasted link with an optional title.
    Url {
        url: &'a str,
        title: Option<&'a str>,
    },
}

/// Why an item could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error(transparent)]
    Add(#[from] AddError),
    #[error("That video is not in your library.")]
    UnknownVideo,
    #[error(transparent)]
    Playlist(#[from] crate::managers::PlaylistError),
}

impl From<StoreError> for ItemError {
    fn from(e: StoreError) -> Self {
        Self::Add(AddError::Store(e))
    }
}

impl ItemError {
    /// The store failure inside, if this is one (and not a refusal).
    pub fn store(&self) -> bool {
        matches!(
            self,
            Self::Add(AddError::Store(_))
                | Self::Playlist(crate::managers::PlaylistError::Store(_))
        )
    }
}

/// Adds an item to a playlist; the party starts on it when the playlist was empty.
pub async fn add_item(
    managers: &crate::managers::Managers,
    limits: &LibrarySettings,
    owner: UserId,
    playlist: &crate::domain::Playlist,
    source: ItemSource<'_>,
) -> Result<crate::domain::PlaylistItem, ItemError> {
    let (media, title) = match source {
        ItemSource::Video(id) => {
            let video = managers
                .videos
                .get_owned(owner, id)
                .await?
                .ok_or(ItemError::UnknownVideo)?;
            let media = MediaSource {
                kind: video.kind,
                source: video.source.clone(),
                start_secs: (video.start_ms / 1000) as u32,
            };
            (media, video.title)
        }
        ItemSource::Url { url, title } => {
            let media = MediaSource::parse(url, limits.max_url_bytes).map_err(AddError::from)?;
            let title = VideoTitle::parse_optional(title, limits.max_title_chars)
                .map_err(AddError::from)?;
            let title = title
                .map(|t| t.as_str().to_owned())
                .unwrap_or_else(|| media.default_title());
            (media, title)
        }
    };
    let item = managers
        .playlists
        .add_item(playlist, &media, &title, limits.max_playlist_items)
        .await?;
    managers.party.refresh(playlist.party(), None).await?;
    Ok(item)
}

/// Removes an item; a party playing it moves on to the item that followed.
pub async fn remove_item(
    managers: &crate::managers::Managers,
    playlist: &crate::domain::Playlist,
    item: u64,
) -> Result<(), ItemError> {
    let following = managers.playlists.remove_item(playlist, item).await?;
    managers.party.refresh(playlist.party(), following).await?;
    Ok(())
}
