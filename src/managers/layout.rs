//! The key layout's version, and the move of data stored under the first layout (keys
//! without hash tags) to the current one, done once when a server starts on such a Redis.
//!
//! The first layout never ran on a Redis Cluster (it could not), so the move is done on one
//! Redis, key by key with `RENAME`; a server stopped half-way finishes it at its next start.
//! What lives only while people watch (presence, rates) is dropped, not moved.

use redis::AsyncCommands;

use super::{Keys, StoreConnection, StoreError};

/// The layout this code reads and writes.
pub const CURRENT: u32 = 2;

/// How many keys one `SCAN` step asks for.
const SCAN_COUNT: usize = 500;

/// The key holding the layout version, under the prefix.
fn version_key(keys: &Keys) -> String {
    format!("{}layout", keys.prefix())
}

/// Brings the store to the current layout; returns how many keys were moved.
pub async fn upgrade(conn: &StoreConnection, keys: &Keys) -> Result<usize, StoreError> {
    let mut conn = conn.clone();
    let version: Option<u32> = conn.get(version_key(keys)).await?;
    if version.is_some_and(|v| v >= CURRENT) {
        return Ok(0);
    }
    if conn.is_cluster() {
        // Nothing of the first layout can be on a cluster.
        conn.set::<_, _, ()>(version_key(keys), CURRENT).await?;
        return Ok(0);
    }
    let mut moved = 0;
    let mut cursor: u64 = 0;
    let pattern = format!("{}*", keys.prefix());
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(&mut conn)
            .await?;
        for key in batch {
            let Some(rest) = key.strip_prefix(keys.prefix()) else {
                continue;
            };
            match destination(&mut conn, keys, rest).await? {
                Some(Move::To(new)) => {
                    // RENAMENX: a key already under its new name (a move interrupted after
                    // new writes) is never overwritten.
                    let _: i64 = redis::cmd("RENAMENX")
                        .arg(&key)
                        .arg(&new)
                        .query_async(&mut conn)
                        .await?;
                    moved += 1;
                }
                Some(Move::Drop) => conn.del::<_, ()>(&key).await?,
                None => {}
            }
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    conn.set::<_, _, ()>(version_key(keys), CURRENT).await?;
    if moved > 0 {
        tracing::info!(moved, "moved the stored data to key layout {CURRENT}");
    }
    Ok(moved)
}

enum Move {
    To(String),
    Drop,
}

/// Where a key of the first layout (`rest`, without the prefix) goes; `None` for a key of
/// the current layout or one that keeps its name.
async fn destination(
    conn: &mut StoreConnection,
    keys: &Keys,
    rest: &str,
) -> Result<Option<Move>, StoreError> {
    if rest.contains('{') || rest.ends_with(":next_id") || rest == "layout" {
        return Ok(None);
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let id = |s: &str| s.parse::<u64>().ok();
    Ok(match parts.as_slice() {
        ["user", n] => id(n).map(|n| Move::To(keys.user(n))),
        ["user", n, "videos"] => id(n).map(|n| Move::To(keys.user_videos(n))),
        ["user", n, "playlists"] => id(n).map(|n| Move::To(keys.user_playlists(n))),
        ["auth", hash] => {
            let owner: Option<u64> = conn.get(format!("{}{rest}", keys.prefix())).await?;
            Some(match owner {
                Some(owner) => Move::To(keys.auth(owner, hash)),
                None => Move::Drop,
            })
        }
        ["invite", key] => Some(Move::To(keys.invite(key))),
        [kind @ ("video" | "playlist"), n] => {
            id(n).map(|_| Move::To(format!("{}party:{{{kind}:{n}}}", keys.prefix())))
        }
        ["playlist", n, what @ ("items" | "order")] => {
            id(n).map(|_| Move::To(format!("{}party:{{playlist:{n}}}:{what}", keys.prefix())))
        }
        ["party", kind @ ("video" | "playlist"), n, what] => {
            let party = format!("{kind}:{n}");
            id(n).map(|_| match *what {
                // Only while people watch: gone with the old server.
                "conns" | "people" => Move::Drop,
                _ => Move::To(format!("{}party:{{{party}}}:{what}", keys.prefix())),
            })
        }
        ["chatrate", _] | ["guests_from", ..] => Some(Move::Drop),
        _ => None,
    })
}
