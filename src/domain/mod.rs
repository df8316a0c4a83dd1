//! Domain types that can only hold valid values: parse at the edge, trust afterwards.
//!
//! Nothing here touches Redis, HTTP or the clock.

mod ids;
mod media;
mod page;
mod text;

pub use ids::{InviteKey, PlaylistId, UserId, VideoId};
pub use media::{
    is_youtube_id, parse_offset, MediaKind, MediaSource, MediaUrlError, ACCEPTED, SAMPLES,
};
pub use page::{PageNumber, PageNumberError};
pub use text::{DisplayName, TextError, VideoTitle};
