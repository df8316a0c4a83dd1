//! All Redis access. Handlers and realtime sessions call these managers; no other module
//! builds a key or sends a Redis command. Managers take and return domain values
//! (`crate::domain`) and publish [`PartyNotice`](crate::domain::PartyNotice)s; they never
//! import `realtime`, `handlers` or `startup`.
//!
//! Each manager holds a clone of the one [`StoreConnection`] built at start (it multiplexes,
//! reconnects by itself and bounds every call in time; see `store.rs`), and [`StoreHealth`]
//! tells anyone who asks whether Redis answers. Multi-key changes are Lua scripts in `scripts/`, so they are
//! atomic, and they publish party events in the same step as the change they announce.

mod chat;
mod clock;
mod health;
mod invites;
mod keys;
pub mod layout;
mod nodes;
mod party;
mod playlists;
pub mod scripts;
pub mod store;
mod users;
mod videos;

use crate::domain::{InviteKey, PartyId, Subject};

pub use chat::{ChatManager, Posted};
pub use clock::ServerClock;
pub use health::{StoreHealth, StoreStatus};
pub use invites::InvitesManager;
pub use keys::Keys;
pub use nodes::{NodesManager, PartySweep, Swept};
pub use party::{Announcement, Arrival, CommandResult, Departure, PartyManager, PartyOverview};
pub use playlists::{PlaylistError, PlaylistsManager};
pub use store::StoreConnection;
pub use users::{AuthToken, User, UsersManager};
pub use videos::{LibraryPage, VideosManager};

/// A failure of the store, as opposed to a refusal of the request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis request failed")]
    Redis(#[from] redis::RedisError),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("Redis did not answer a PING (waited at most {0} ms)")]
    Unreachable(u64),
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
    pub nodes: NodesManager,
    pub clock: std::sync::Arc<ServerClock>,
    pub keys: Keys,
    /// Whether Redis answers, as a signal: `managers.health.subscribe()`.
    pub health: StoreHealth,
    /// Kept for readiness checks.
    conn: StoreConnection,
    /// Longest wait for the readiness PING.
    ping_timeout: std::time::Duration,
}

impl Managers {
    pub fn new(conn: StoreConnection, settings: &crate::config::Settings) -> Self {
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
            nodes: NodesManager::new(conn.clone(), keys.clone()),
            clock: std::sync::Arc::new(ServerClock::default()),
            keys,
            health: conn.health().clone(),
            conn,
            ping_timeout: std::time::Duration::from_millis(settings.redis.ping_timeout_ms),
        }
    }

    /// What an invite key opens: the video or playlist whose current key it is. A stale key
    /// that still resolves (mid-rotation) opens nothing.
    pub async fn open_invite(&self, key: &InviteKey) -> Result<Option<Subject>, StoreError> {
        Ok(match self.invites.resolve(key).await? {
            Some(PartyId::Video(id)) => self
                .videos
                .get(id)
                .await?
                .filter(|v| &v.invite_key == key)
                .map(Subject::Video),
            Some(PartyId::Playlist(id)) => self
                .playlists
                .get(id)
                .await?
                .filter(|p| &p.invite_key == key)
                .map(Subject::Playlist),
            None => None,
        })
    }

    /// Whether Redis answers a PING within `[redis] ping_timeout_ms`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if self.conn.ping(self.ping_timeout).await {
            Ok(())
        } else {
            Err(StoreError::Unreachable(self.ping_timeout.as_millis() as u64))
        }
    }
}
