//! Every Redis key and channel the service uses, in one place. All start with the configured
//! prefix (`[redis] key_prefix`, default `ww:`), so deployments can share a Redis.
//!
//! Keys that a script or a transaction changes together share one hash tag (the part in
//! braces), so on Redis Cluster they live in one slot: every key of a party carries the
//! party's tag (`party:{video:12}:state`), every key of a user the user's (`user:{7}:videos`),
//! the node registry `{nodes}`. No script and no transaction touches two tags; the few steps
//! that span a party and its owner (creating, deleting, rotating the invite) run one tag at a
//! time, in an order that leaves nothing visible half-made (see `invites.rs`).
//!
//! | key | type | lifetime | holds |
//! |---|---|---|---|
//! | `layout` | string | forever | the key layout the data is stored in (`layout.rs`) |
//! | `user:next_id` | string | forever | last user id handed out |
//! | `user:{id}` | hash | a guest who owns nothing: `guest_idle_days` after their last visit; else forever | `name`, `created_ms`, `token` (hash of the current token), `prev_token` |
//! | `user:{id}:auth:{sha256(token)}` | string | current: as its user; previous: `token_grace_secs` | user id |
//! | `user:{id}:videos` | sorted set | forever | video ids scored by creation time (ms) |
//! | `user:{id}:playlists` | sorted set | forever | playlist ids scored by creation time (ms) |
//! | `video:next_id` | string | forever | last video id handed out |
//! | `playlist:next_id` | string | forever | last playlist id handed out |
//! | `invite:{key}` | string | until rotated or deleted | party id (`video:{id}` or `playlist:{id}`) |
//! | `party:{party}` | hash | until deleted | a video: `owner`, `kind`, `source`, `start_ms`, `title`, `title_by` (`owner` when the owner chose the title, `player` when a player reported it; absent while automatic), `invite_key`, `created_ms`; a playlist: `owner`, `title`, `invite_key`, `created_ms`, `next_item` |
//! | `party:{party}:items` | hash | until deleted | a playlist's items: item id → item JSON (`kind`, `source`, `title`, `start_ms`) |
//! | `party:{party}:order` | list | until deleted | a playlist's item ids in play order |
//! | `party:{party}:state` | hash | until the party is deleted | the playback state (see `sync`) |
//! | `party:{party}:conns` | hash | while anyone watches | connection id → presence entry (JSON, with the node serving it) |
//! | `party:{party}:settings` | hash | until the party is deleted | `control` (`everyone` or `promoted`), `wait` |
//! | `party:{party}:controllers` | set | until the party is deleted | user ids the owner promoted |
//! | `party:{party}:chat` | list | until the party is deleted | the last `chat_history` messages (JSON), oldest first |
//! | `party:{party}:chat_seq` | string | until the party is deleted | last chat message id |
//! | `party:{party}:chatrate:{user}` | string | `chat_window_secs` | messages the user sent to the party in the current window |
//! | `party:{party}:people` | hash | while anyone watches | user id → their open connections |
//! | `party:{party}:departed` | hash | until the party is deleted | user id → when their last connection closed (ms) |
//! | `party:{party}:cmds` | sorted set | until the party is deleted | the last command ids applied (`user:id`), scored by when, so a retried command is applied once |
//! | `party:{party}:unplayable` | hash | until every connection watching reports the item, or the party is deleted | connection id → the playlist item (`item:{id}`) its player cannot play |
//! | `guests_from:{address}` | string | 60 s from the first | guests made for a client address in the current minute |
//! | `{nodes}:node:{id}` | string | `[nodes] dead_after_ms` after its last heartbeat | a live node's epoch |
//! | `{nodes}:index` | hash | until the node is swept | node id → epoch, of every node not yet swept |
//! | `{nodes}:parties:{id}` | set | until the node is swept | the parties the node has served viewers of |
//! | `{nodes}:epoch` | string | forever | last node epoch handed out |
//! | `{nodes}:buried` | sorted set | 10 minutes (`realtime::node::BURIED_KEEP`) | nodes declared dead, scored by when; their parties are swept again while here |
//! | `{nodes}:sweeper` | string | three `[nodes] sweep_interval_ms` | the node sweeping dead nodes now |
//! | channel `party:{party}:ev` | sharded pub/sub | — | frames for every viewer of the party, on every node |
//!
//! `{party}` is `video:{id}` or `playlist:{id}`.

use crate::domain::PartyId;

/// Builds keys under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// `prefix` must hold no brace: it comes before every hash tag.
    pub fn new(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        debug_assert!(!prefix.contains(['{', '}']), "key prefix with a brace");
        Self { prefix }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn user_next_id(&self) -> String {
        format!("{}user:next_id", self.prefix)
    }

    pub fn user(&self, id: u64) -> String {
        format!("{}user:{{{id}}}", self.prefix)
    }

    pub fn guests_from(&self, address: &std::net::IpAddr) -> String {
        format!("{}guests_from:{{{address}}}", self.prefix)
    }

    /// Prefix of a user's token keys; the Lua scripts append token hashes to it.
    pub fn auth_prefix(&self, user: u64) -> String {
        format!("{}:auth:", self.user(user))
    }

    pub fn auth(&self, user: u64, token_hash: &str) -> String {
        format!("{}{token_hash}", self.auth_prefix(user))
    }

    pub fn user_videos(&self, user: u64) -> String {
        format!("{}:videos", self.user(user))
    }

    pub fn user_playlists(&self, user: u64) -> String {
        format!("{}:playlists", self.user(user))
    }

    pub fn video_next_id(&self) -> String {
        format!("{}video:next_id", self.prefix)
    }

    pub fn playlist_next_id(&self) -> String {
        format!("{}playlist:next_id", self.prefix)
    }

    pub fn invite(&self, key: &str) -> String {
        format!("{}invite:{{{key}}}", self.prefix)
    }

    /// The hash that owns a party: its video's or its playlist's record.
    pub fn party_root(&self, party: PartyId) -> String {
        self.party(&party.to_string())
    }

    /// `party:{party}`, which every key of the party extends.
    fn party(&self, party: &str) -> String {
        format!("{}party:{{{party}}}", self.prefix)
    }

    fn party_key(&self, party: &str, what: &str) -> String {
        format!("{}:{what}", self.party(party))
    }

    pub fn playlist_items(&self, party: &str) -> String {
        self.party_key(party, "items")
    }

    pub fn playlist_order(&self, party: &str) -> String {
        self.party_key(party, "order")
    }

    pub fn party_state(&self, party: &str) -> String {
        self.party_key(party, "state")
    }

    pub fn party_conns(&self, party: &str) -> String {
        self.party_key(party, "conns")
    }

    pub fn party_settings(&self, party: &str) -> String {
        self.party_key(party, "settings")
    }

    pub fn party_controllers(&self, party: &str) -> String {
        self.party_key(party, "controllers")
    }

    pub fn party_chat(&self, party: &str) -> String {
        self.party_key(party, "chat")
    }

    pub fn party_chat_seq(&self, party: &str) -> String {
        self.party_key(party, "chat_seq")
    }

    pub fn chat_rate(&self, party: &str, user: u64) -> String {
        self.party_key(party, &format!("chatrate:{user}"))
    }

    pub fn party_people(&self, party: &str) -> String {
        self.party_key(party, "people")
    }

    pub fn party_departed(&self, party: &str) -> String {
        self.party_key(party, "departed")
    }

    pub fn party_commands(&self, party: &str) -> String {
        self.party_key(party, "cmds")
    }

    pub fn party_unplayable(&self, party: &str) -> String {
        self.party_key(party, "unplayable")
    }

    /// Every key that belongs to a party (deleted with it), its record first.
    pub fn party_keys(&self, party: &str) -> Vec<String> {
        vec![
            self.party(party),
            self.playlist_items(party),
            self.playlist_order(party),
            self.party_state(party),
            self.party_conns(party),
            self.party_settings(party),
            self.party_controllers(party),
            self.party_chat(party),
            self.party_chat_seq(party),
            self.party_departed(party),
            self.party_people(party),
            self.party_commands(party),
            self.party_unplayable(party),
        ]
    }

    /// The party's sharded event channel.
    pub fn events(&self, party: &str) -> String {
        self.party_key(party, "ev")
    }

    /// The party id inside an event channel name.
    pub fn party_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel
            .strip_prefix(&self.prefix)?
            .strip_prefix("party:{")?
            .strip_suffix("}:ev")
    }

    /// The node registry's keys (one tag).
    pub fn node(&self, id: &str) -> String {
        format!("{}{{nodes}}:node:{id}", self.prefix)
    }

    pub fn node_index(&self) -> String {
        format!("{}{{nodes}}:index", self.prefix)
    }

    pub fn node_parties(&self, id: &str) -> String {
        format!("{}{{nodes}}:parties:{id}", self.prefix)
    }

    pub fn node_epoch(&self) -> String {
        format!("{}{{nodes}}:epoch", self.prefix)
    }

    pub fn buried(&self) -> String {
        format!("{}{{nodes}}:buried", self.prefix)
    }

    pub fn sweeper(&self) -> String {
        format!("{}{{nodes}}:sweeper", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VideoId;

    /// The hash tag of a key: what Redis Cluster hashes to pick its slot.
    fn hash_tag(key: &str) -> &str {
        if let Some(open) = key.find('{') {
            if let Some(len) = key[open + 1..].find('}') {
                if len > 0 {
                    return &key[open + 1..open + 1 + len];
                }
            }
        }
        key
    }

    #[test]
    fn channels_map_back_to_their_party() {
        let keys = Keys::new("t1:");
        assert_eq!(
            keys.party_of_channel(&keys.events("video:9")),
            Some("video:9")
        );
        assert_eq!(keys.party_of_channel("other:party:{video:9}:ev"), None);
    }

    #[test]
    fn every_key_of_a_party_shares_its_tag() {
        let keys = Keys::new("ww:");
        let party = PartyId::Video(VideoId(12));
        let p = party.to_string();
        let mut all = keys.party_keys(&p);
        all.push(keys.party_root(party));
        all.push(keys.events(&p));
        all.push(keys.chat_rate(&p, 7));
        for key in &all {
            assert_eq!(hash_tag(key), "video:12", "{key}");
        }
        assert_eq!(keys.party_state(&p), "ww:party:{video:12}:state");
    }

    #[test]
    fn every_key_of_a_user_shares_theirs() {
        let keys = Keys::new("ww:");
        for key in [
            keys.user(7),
            keys.auth(7, "ab"),
            keys.auth_prefix(7),
            keys.user_videos(7),
            keys.user_playlists(7),
        ] {
            assert_eq!(hash_tag(&key), "7", "{key}");
        }
        for key in [
            keys.node("n1"),
            keys.node_index(),
            keys.node_parties("n1"),
            keys.node_epoch(),
            keys.buried(),
            keys.sweeper(),
        ] {
            assert_eq!(hash_tag(&key), "nodes", "{key}");
        }
    }
}
