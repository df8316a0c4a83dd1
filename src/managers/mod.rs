//! All Redis access. Handlers and realtime sessions call these managers; no other module
//! builds a key or sends a Redis command.
//!
//! Each manager holds a clone of the one `ConnectionManager` built at start (it multiplexes
//! and reconnects by itself). Multi-key changes are Lua scripts in `scripts/`, so they are
//! atomic, and they publish party events in the same step as the change they announce.

mod chat;
mod clock;
mod invites;
mod keys;
mod party;
mod playlists;
pub mod scripts;
mod users;
mod videos;

pub use chat::{clean_chat_text, ChatKind, ChatManager, ChatMessage, ChatTextError, Posted};
pub use clock::ServerClock;
pub use invites::InvitesManager;
pub use keys::Keys;
pub use party::{
    Announcement, Arrival, CommandResult, ControlMode, Departure, PartyId, PartyManager,
    Permissions, PresenceEntry, ViewerStatus, ViewerSummary,
};
pub use playlists::{Playlist, PlaylistError, PlaylistItem, PlaylistView, PlaylistsManager};
pub use users::{AuthToken, User, UsersManager};
pub use videos::{LibraryPage, Video, VideosManager};

/// A failure of the store, as opposed to a refusal of the request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis request failed")]
    Redis(#[from] redis::RedisError),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

/// The local wall clock in ms since the epoch, for creation stamps only (never for sync).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Every manager, built once around one connection.
#[derive(Clone)]
pub struct Managers {
    pub users: UsersManager,
    pub videos: VideosManager,
    pub playlists: PlaylistsManager,
    pub party: PartyManager,
    pub chat: ChatManager,
    pub invites: InvitesManager,
    pub clock: std::sync::Arc<ServerClock>,
    pub keys: Keys,
    /// Kept for readiness checks.
    pub conn: redis::aio::ConnectionManager,
}

impl Managers {
    pub fn new(conn: redis::aio::ConnectionManager, settings: &crate::config::Settings) -> Self {
        let keys = Keys::new(settings.redis.key_prefix.clone());
        Self {
            users: UsersManager::new(
                conn.clone(),
                keys.clone(),
                settings.identity.token_grace_secs,
                settings.identity.guest_idle_days * 24 * 3600,
            ),
            videos: VideosManager::new(conn.clone(), keys.clone()),
            playlists: PlaylistsManager::new(conn.clone(), keys.clone()),
            party: PartyManager::new(
                conn.clone(),
                keys.clone(),
                settings.sync.clone(),
                settings.chat.history,
            ),
            chat: ChatManager::new(conn.clone(), keys.clone(), settings.chat.clone()),
            invites: InvitesManager::new(conn.clone(), keys.clone()),
            clock: std::sync::Arc::new(ServerClock::default()),
            keys,
            conn,
        }
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }
}
