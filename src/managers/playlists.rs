//! Playlists: a user's ordered lists of media, each with its own invite key and party.
//!
//! Items are copies of the media (kind, source, title, start), so deleting a library video
//! never breaks a playlist. Every edit is published to the playlist's viewers.

use std::collections::HashMap;
use std::sync::Arc;

use redis::AsyncCommands;

use super::{now_ms, InvitesManager, Keys, StoreConnection, StoreError};
use crate::domain::{
    CloseReason, InviteKey, MediaSource, PartyId, PartyNotice, Playlist, PlaylistId, PlaylistItem,
    PlaylistView, UserId, VideoTitle,
};

/// The largest item id the store hands out (ids are counted by Lua, exact up to 2^53 − 1):
/// a larger one names no item.
const MAX_ITEM_ID: u64 = (1 << 53) - 1;

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    #[error("This playlist is full ({0} items). Remove some before adding more.")]
    Full(usize),
    #[error("That item is not in this playlist.")]
    NoSuchItem,
    #[error("There is no position {index} in a playlist: it holds at most {max} items.")]
    NoSuchPosition { index: usize, max: usize },
    /// The store refused the change as malformed (nothing changed); the text says why.
    #[error("The playlist was not changed: {0}.")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct PlaylistsManager {
    conn: StoreConnection,
    keys: Keys,
    invites: InvitesManager,
    move_item: Arc<redis::Script>,
}

impl PlaylistsManager {
    pub fn new(conn: StoreConnection, keys: Keys) -> Self {
        Self {
            invites: InvitesManager::new(conn.clone(), keys.clone()),
            move_item: super::scripts::load(super::scripts::MOVE_ITEM),
            conn,
            keys,
        }
    }

    pub async fn count(&self, owner: UserId) -> Result<usize, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.zcard(self.keys.user_playlists(owner)).await?)
    }

    pub async fn create(&self, owner: UserId, title: &VideoTitle) -> Result<Playlist, StoreError> {
        let mut conn = self.conn.clone();
        // The owner is kept for good first (see `VideosManager::create`).
        super::users::keep(&mut conn, &self.keys, owner).await?;
        let id = PlaylistId(conn.incr(self.keys.playlist_next_id(), 1).await?);
        let playlist = Playlist {
            id,
            owner,
            title: title.as_str().to_owned(),
            invite_key: InviteKey::generate(),
            created_ms: now_ms(),
        };
        conn.hset_multiple::<_, _, _, ()>(
            self.keys.party_root(playlist.party()),
            &[
                ("owner", owner.to_string()),
                ("title", playlist.title.clone()),
                ("invite_key", playlist.invite_key.as_str().to_owned()),
                ("created_ms", playlist.created_ms.to_string()),
            ],
        )
        .await?;
        self.invites
            .publish_new(
                playlist.party(),
                &playlist.invite_key,
                &self.keys.user_playlists(owner),
                playlist.created_ms,
            )
            .await?;
        Ok(playlist)
    }

    pub async fn get(&self, id: PlaylistId) -> Result<Option<Playlist>, StoreError> {
        let mut conn = self.conn.clone();
        let h: HashMap<String, String> = conn
            .hgetall(self.keys.party_root(PartyId::Playlist(id)))
            .await?;
        if h.is_empty() {
            return Ok(None);
        }
        from_hash(id, &h).map(Some)
    }

    /// The playlist if `user` owns it; `None` otherwise (others get 404).
    pub async fn get_owned(
        &self,
        user: UserId,
        id: PlaylistId,
    ) -> Result<Option<Playlist>, StoreError> {
        Ok(self.get(id).await?.filter(|p| p.owner == user))
    }

    /// A page (0-based) of a user's playlists, newest first, with the total.
    pub async fn list(
        &self,
        owner: UserId,
        page: usize,
        page_size: usize,
    ) -> Result<(Vec<Playlist>, usize), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.keys.user_playlists(owner);
        let Some((start, stop)) = super::videos::page_range(page, page_size) else {
            return Ok((Vec::new(), conn.zcard(&key).await?));
        };
        let (ids, total): (Vec<u64>, usize) = redis::pipe()
            .zrevrange(&key, start, stop)
            .zcard(&key)
            .query_async(&mut conn)
            .await?;
        // One read per playlist: their records lie in different slots.
        let reads = ids.iter().map(|id| {
            let mut read = redis::cmd("HGETALL");
            read.arg(self.keys.party_root(PartyId::Playlist(PlaylistId(*id))));
            read
        });
        let hashes: Vec<HashMap<String, String>> = self.conn.each(reads).await?;
        let playlists = ids
            .iter()
            .zip(hashes)
            .filter(|(_, h)| !h.is_empty())
            .map(|(id, h)| from_hash(PlaylistId(*id), &h))
            .collect::<Result<_, _>>()?;
        Ok((playlists, total))
    }

    /// The items in play order.
    pub async fn items(&self, id: PlaylistId) -> Result<Vec<PlaylistItem>, StoreError> {
        let mut conn = self.conn.clone();
        let p = PartyId::Playlist(id).to_string();
        let (order, items): (Vec<String>, HashMap<String, String>) = redis::pipe()
            .lrange(self.keys.playlist_order(&p), 0, -1)
            .hgetall(self.keys.playlist_items(&p))
            .query_async(&mut conn)
            .await?;
        Ok(order
            .iter()
            .filter_map(|item| items.get(item))
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect())
    }

    pub async fn view(&self, playlist: &Playlist) -> Result<PlaylistView, StoreError> {
        Ok(PlaylistView {
            id: playlist.id.0,
            title: playlist.title.clone(),
            items: self.items(playlist.id).await?,
        })
    }

    /// Tells the playlist's viewers what it holds now.
    async fn publish(&self, playlist: &Playlist) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let frame = PartyNotice::Playlist {
            playlist: self.view(playlist).await?,
        }
        .to_json();
        redis::cmd("SPUBLISH")
            .arg(self.keys.events(&playlist.party().to_string()))
            .arg(frame)
            .exec_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn rename(
        &self,
        playlist: &Playlist,
        title: &VideoTitle,
    ) -> Result<Playlist, StoreError> {
        let mut conn = self.conn.clone();
        conn.hset::<_, _, _, ()>(
            self.keys.party_root(playlist.party()),
            "title",
            title.as_str(),
        )
        .await?;
        let renamed = Playlist {
            title: title.as_str().to_owned(),
            ..playlist.clone()
        };
        self.publish(&renamed).await?;
        Ok(renamed)
    }

    /// Appends an item. The party starts on it when the playlist was empty.
    pub async fn add_item(
        &self,
        playlist: &Playlist,
        media: &MediaSource,
        title: &str,
        max_items: usize,
    ) -> Result<PlaylistItem, PlaylistError> {
        let mut conn = self.conn.clone();
        let p = playlist.party().to_string();
        let order = self.keys.playlist_order(&p);
        let len: usize = conn.llen(&order).await.map_err(StoreError::from)?;
        if len >= max_items {
            return Err(PlaylistError::Full(max_items));
        }
        let id: u64 = conn
            .hincr(self.keys.party_root(playlist.party()), "next_item", 1)
            .await
            .map_err(StoreError::from)?;
        let item = PlaylistItem {
            id,
            kind: media.kind,
            source: media.source.clone(),
            title: title.to_owned(),
            start_ms: u64::from(media.start_secs) * 1000,
        };
        let json = serde_json::to_string(&item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        redis::pipe()
            .atomic()
            .hset(self.keys.playlist_items(&p), id, json)
            .rpush(&order, id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(StoreError::from)?;
        self.publish(playlist).await?;
        Ok(item)
    }

    /// Removes an item, and returns the item that followed it (where the party goes if it was
    /// playing the removed one).
    pub async fn remove_item(
        &self,
        playlist: &Playlist,
        item: u64,
    ) -> Result<Option<u64>, PlaylistError> {
        let items = self.items(playlist.id).await?;
        let index = items
            .iter()
            .position(|i| i.id == item)
            .ok_or(PlaylistError::NoSuchItem)?;
        let following = items.get(index + 1).map(|i| i.id);
        let mut conn = self.conn.clone();
        let p = playlist.party().to_string();
        redis::pipe()
            .atomic()
            .lrem(self.keys.playlist_order(&p), 0, item)
            .hdel(self.keys.playlist_items(&p), item)
            .query_async::<()>(&mut conn)
            .await
            .map_err(StoreError::from)?;
        self.publish(playlist).await?;
        Ok(following)
    }

    /// Moves an item to `index` (0-based; past the end means last). An index beyond the
    /// most items a playlist may hold (`max_items`) is refused, as is an item not in it;
    /// either way nothing changes.
    pub async fn move_item(
        &self,
        playlist: &Playlist,
        item: u64,
        index: usize,
        max_items: usize,
    ) -> Result<(), PlaylistError> {
        if item > MAX_ITEM_ID {
            return Err(PlaylistError::NoSuchItem);
        }
        if index > max_items {
            return Err(PlaylistError::NoSuchPosition {
                index,
                max: max_items,
            });
        }
        let mut conn = self.conn.clone();
        let moved: i64 = self
            .move_item
            .key(self.keys.playlist_order(&playlist.party().to_string()))
            .arg(item)
            .arg(index)
            .arg(max_items)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| match super::scripts::refusal(&err) {
                Some(why) => PlaylistError::Refused(why),
                None => StoreError::from(err).into(),
            })?;
        if moved == 0 {
            return Err(PlaylistError::NoSuchItem);
        }
        self.publish(playlist).await?;
        Ok(())
    }

    pub async fn rotate_invite(
        &self,
        playlist: &Playlist,
    ) -> Result<Option<InviteKey>, StoreError> {
        self.invites.rotate(playlist.party()).await
    }

    pub async fn delete(&self, playlist: &Playlist) -> Result<bool, StoreError> {
        self.invites
            .delete(
                playlist.party(),
                self.keys.user_playlists(playlist.owner),
                CloseReason::PlaylistDeleted,
            )
            .await
    }
}

fn from_hash(id: PlaylistId, h: &HashMap<String, String>) -> Result<Playlist, StoreError> {
    let field = |name: &str| {
        h.get(name)
            .ok_or_else(|| StoreError::Corrupt(format!("playlist {id} has no {name}")))
    };
    let number = |name: &str| -> Result<u64, StoreError> {
        field(name)?
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("playlist {id}: bad {name}")))
    };
    Ok(Playlist {
        id,
        owner: number("owner")?,
        title: field("title")?.clone(),
        invite_key: InviteKey::parse(field("invite_key")?)
            .ok_or_else(|| StoreError::Corrupt(format!("playlist {id}: bad invite key")))?,
        created_ms: number("created_ms")?,
    })
}
