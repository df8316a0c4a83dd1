//! Every Redis key and channel the service uses, in one place. All start with the configured
//! prefix (`[redis] key_prefix`, default `ww:`), so deployments can share a Redis.
//!
//! | key | type | lifetime | holds |
//! |---|---|---|---|
//! | `user:next_id` | string | forever | last user id handed out |
//! | `user:{id}` | hash | forever | `name`, `created_ms`, `token` (hash of the current token), `prev_token` |
//! | `auth:{sha256(token)}` | string | current: forever; previous: `token_grace_secs` | user id |
//! | `video:next_id` | string | forever | last video id handed out |
//! | `video:{id}` | hash | until deleted | `owner`, `kind`, `source`, `start_ms`, `title`, `invite_key`, `created_ms` |
//! | `user:{id}:videos` | sorted set | forever | video ids scored by creation time (ms) |
//! | `invite:{key}` | string | until rotated or deleted | party id (`video:{id}`) |
//! | `party:{party}:state` | hash | until the video is deleted | the playback state (see `sync`) |
//! | `party:{party}:conns` | hash | while anyone watches | connection id → presence entry (JSON) |
//! | channel `events:{party}` | pub/sub | — | frames for every viewer of the party, on every node |
//!
//! `{party}` is `video:{id}`.

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
