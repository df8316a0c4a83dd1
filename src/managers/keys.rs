//! Every Redis key and channel the service uses, in one place. All start with the configured
//! prefix (`[redis] key_prefix`, default `ww:`), so deployments can share a Redis.
//!
//! | key | type | lifetime | holds |
//! |---|---|---|---|
//! | `user:next_id` | string | forever | last user id handed out |
//! | `user:{id}` | hash | a guest who owns nothing: `guest_idle_days` after their last visit; else forever | `name`, `created_ms`, `token` (hash of the current token), `prev_token` |
//! | `auth:{sha256(token)}` | string | current: as its user; previous: `token_grace_secs` | user id |
//! | `video:next_id` | string | forever | last video id handed out |
//! | `video:{id}` | hash | until deleted | `owner`, `kind`, `source`, `start_ms`, `title`, `title_by` (`owner` when the owner chose the title, `player` when a player reported it; absent while automatic), `invite_key`, `created_ms` |
//! | `user:{id}:videos` | sorted set | forever | video ids scored by creation time (ms) |
//! | `playlist:next_id` | string | forever | last playlist id handed out |
//! | `playlist:{id}` | hash | until deleted | `owner`, `title`, `invite_key`, `created_ms`, `next_item` |
//! | `playlist:{id}:items` | hash | until deleted | item id → item JSON (`kind`, `source`, `title`, `start_ms`) |
//! | `playlist:{id}:order` | list | until deleted | item ids in play order |
//! | `user:{id}:playlists` | sorted set | forever | playlist ids scored by creation time (ms) |
//! | `invite:{key}` | string | until rotated or deleted | party id (`video:{id}` or `playlist:{id}`) |
//! | `party:{party}:state` | hash | until the party is deleted | the playback state (see `sync`) |
//! | `party:{party}:conns` | hash | while anyone watches | connection id → presence entry (JSON) |
//! | `party:{party}:settings` | hash | until the party is deleted | `control` (`everyone` or `promoted`) |
//! | `party:{party}:controllers` | set | until the party is deleted | user ids the owner promoted |
//! | `party:{party}:chat` | list | until the party is deleted | the last `chat_history` messages (JSON), oldest first |
//! | `party:{party}:chat_seq` | string | until the party is deleted | last chat message id |
//! | `party:{party}:people` | hash | while anyone watches | user id → their open connections |
//! | `party:{party}:departed` | hash | until the party is deleted | user id → when their last connection closed (ms) |
//! | `party:{party}:unplayable` | hash | until every connection watching reports the item, or the party is deleted | connection id → the playlist item (`item:{id}`) its player cannot play |
//! | `chatrate:{user}` | string | `chat_window_secs` | messages the user sent in the current window |
//! | `guests_from:{address}` | string | 60 s from the first | guests made for a client address in the current minute |
//! | channel `events:{party}` | pub/sub | — | frames for every viewer of the party, on every node |
//!
//! `{party}` is `video:{id}` or `playlist:{id}`.

use crate::domain::PartyId;

/// Builds keys under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn user_next_id(&self) -> String {
        format!("{}user:next_id", self.prefix)
    }

    pub fn user(&self, id: u64) -> String {
        format!("{}user:{id}", self.prefix)
    }

    pub fn guests_from(&self, address: &std::net::IpAddr) -> String {
        format!("{}guests_from:{address}", self.prefix)
    }

    /// Prefix of the `auth:` keys; the Lua rotation script appends token hashes to it.
    pub fn auth_prefix(&self) -> String {
        format!("{}auth:", self.prefix)
    }

    pub fn auth(&self, token_hash: &str) -> String {
        format!("{}auth:{token_hash}", self.prefix)
    }

    pub fn video_next_id(&self) -> String {
        format!("{}video:next_id", self.prefix)
    }

    pub fn video(&self, id: u64) -> String {
        format!("{}video:{id}", self.prefix)
    }

    pub fn user_videos(&self, user: u64) -> String {
        format!("{}user:{user}:videos", self.prefix)
    }

    pub fn playlist_next_id(&self) -> String {
        format!("{}playlist:next_id", self.prefix)
    }

    pub fn playlist(&self, id: u64) -> String {
        format!("{}playlist:{id}", self.prefix)
    }

    pub fn playlist_items(&self, id: u64) -> String {
        format!("{}playlist:{id}:items", self.prefix)
    }

    pub fn playlist_order(&self, id: u64) -> String {
        format!("{}playlist:{id}:order", self.prefix)
    }

    pub fn user_playlists(&self, user: u64) -> String {
        format!("{}user:{user}:playlists", self.prefix)
    }

    /// The hash that owns a party: its video or its playlist.
    pub fn party_root(&self, party: PartyId) -> String {
        match party {
            PartyId::Video(id) => self.video(id.0),
            PartyId::Playlist(id) => self.playlist(id.0),
        }
    }

    pub fn party_settings(&self, party: &str) -> String {
        format!("{}party:{party}:settings", self.prefix)
    }

    pub fn party_controllers(&self, party: &str) -> String {
        format!("{}party:{party}:controllers", self.prefix)
    }

    pub fn party_chat(&self, party: &str) -> String {
        format!("{}party:{party}:chat", self.prefix)
    }

    pub fn party_chat_seq(&self, party: &str) -> String {
        format!("{}party:{party}:chat_seq", self.prefix)
    }

    pub fn party_people(&self, party: &str) -> String {
        format!("{}party:{party}:people", self.prefix)
    }

    pub fn party_departed(&self, party: &str) -> String {
        format!("{}party:{party}:departed", self.prefix)
    }

    pub fn party_unplayable(&self, party: &str) -> String {
        format!("{}party:{party}:unplayable", self.prefix)
    }

    pub fn chat_rate(&self, user: u64) -> String {
        format!("{}chatrate:{user}", self.prefix)
    }

    /// Every key that belongs to a party (deleted with it).
    pub fn party_keys(&self, party: &str) -> Vec<String> {
        vec![
            self.party_state(party),
            self.party_conns(party),
            self.party_settings(party),
            self.party_controllers(party),
            self.party_chat(party),
            self.party_chat_seq(party),
            self.party_departed(party),
            self.party_people(party),
            self.party_unplayable(party),
        ]
    }

    pub fn invite(&self, key: &str) -> String {
        format!("{}invite:{key}", self.prefix)
    }

    pub fn party_state(&self, party: &str) -> String {
        format!("{}party:{party}:state", self.prefix)
    }

    pub fn party_conns(&self, party: &str) -> String {
        format!("{}party:{party}:conns", self.prefix)
    }

    pub fn events(&self, party: &str) -> String {
        format!("{}events:{party}", self.prefix)
    }

    /// Pattern matching every party's event channel.
    pub fn events_pattern(&self) -> String {
        format!("{}events:*", self.prefix)
    }

    /// The party id inside an event channel name.
    pub fn party_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(&self.prefix)?.strip_prefix("events:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_map_back_to_their_party() {
        let keys = Keys::new("t1:");
        assert_eq!(
            keys.party_of_channel(&keys.events("video:9")),
            Some("video:9")
        );
        assert_eq!(keys.party_of_channel("other:events:video:9"), None);
    }
}
