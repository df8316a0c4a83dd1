//! The Lua scripts behind every multi-key change, each with the shared argument checks
//! (`checks.lua`) in front.
//!
//! Every script runs on one slot: all its keys (and the channel it publishes to, with
//! `SPUBLISH`) share one hash tag (`keys.rs`).
//!
//! Every script checks its keys and arguments — how many, numbers and their ranges, the types
//! of the keys it writes, the things that must exist — before its first write, and refuses
//! bad ones with the error reply `WW_INVALID <what is wrong>`, having changed nothing (Redis
//! does not undo a script that fails half-way). Managers turn the refusals a person's input
//! can reach into their own errors with [`refusal`].

/// A script's source with the checks in front. The `#!lua` line makes Redis refuse a key of
/// another slot (on Redis Cluster) instead of letting a write or a publish land on the wrong
/// shard; so every key a script touches is passed in `KEYS`, channels included, and shares
/// one hash tag.
macro_rules! script {
    ($file:literal) => {
        concat!(
            "#!lua\n",
            include_str!("checks.lua"),
            "\n",
            include_str!($file)
        )
    };
}

/// Checks a token without replacing it.
pub const AUTHENTICATE: &str = script!("authenticate.lua");
/// Gives a video the title a player reported, when it has none chosen.
pub const ADOPT_TITLE: &str = script!("adopt_title.lua");
/// Appends a chat message or system line and publishes it.
pub const CHAT_POST: &str = script!("chat_post.lua");
/// Deletes a video or playlist with everything of it.
pub const DELETE_PARTY: &str = script!("delete_party.lua");
/// Sets a hash field while its owner exists.
pub const HSET_IF_EXISTS: &str = script!("hset_if_exists.lua");
/// Keeps a user for good.
pub const KEEP_USER: &str = script!("keep_user.lua");
/// Moves a playlist item.
pub const MOVE_ITEM: &str = script!("move_item.lua");
/// Buries a node whose heartbeat expired.
pub const NODE_BURY: &str = script!("node_bury.lua");
/// Keeps a node alive while it holds its epoch.
pub const NODE_HEARTBEAT: &str = script!("node_heartbeat.lua");
/// Registers a node under a new epoch.
pub const NODE_REGISTER: &str = script!("node_register.lua");
/// Applies a playback command.
pub const PARTY_COMMAND: &str = script!("party_command.lua");
/// Records a viewer's connection.
pub const PRESENCE_JOIN: &str = script!("presence_join.lua");
/// Removes every connection of a dead node from a party.
pub const PRESENCE_SWEEP: &str = script!("presence_sweep.lua");
/// Removes a viewer's connection.
pub const PRESENCE_LEAVE: &str = script!("presence_leave.lua");
/// Gives a video or playlist a new invite key.
pub const ROTATE_INVITE: &str = script!("rotate_invite.lua");
/// Replaces a user's token.
pub const ROTATE_TOKEN: &str = script!("rotate_token.lua");
/// Forgets a departure that is still the one recorded.
pub const SETTLE_DEPARTURE: &str = script!("settle_departure.lua");
/// Records a connection that cannot play the party's item; says whether nobody can.
pub const UNPLAYABLE_REPORT: &str = script!("unplayable_report.lua");

/// Every script, by the name its latency carries in the metrics
/// (`wewatch_redis_script_duration_seconds{script}`).
pub const ALL: &[(&str, &str)] = &[
    ("adopt_title", ADOPT_TITLE),
    ("authenticate", AUTHENTICATE),
    ("chat_post", CHAT_POST),
    ("delete_party", DELETE_PARTY),
    ("hset_if_exists", HSET_IF_EXISTS),
    ("keep_user", KEEP_USER),
    ("move_item", MOVE_ITEM),
    ("node_bury", NODE_BURY),
    ("node_heartbeat", NODE_HEARTBEAT),
    ("node_register", NODE_REGISTER),
    ("party_command", PARTY_COMMAND),
    ("presence_join", PRESENCE_JOIN),
    ("presence_leave", PRESENCE_LEAVE),
    ("presence_sweep", PRESENCE_SWEEP),
    ("rotate_invite", ROTATE_INVITE),
    ("rotate_token", ROTATE_TOKEN),
    ("settle_departure", SETTLE_DEPARTURE),
    ("unplayable_report", UNPLAYABLE_REPORT),
];

/// The error code of a script's refusal of its arguments.
pub const INVALID: &str = "WW_INVALID";

/// What a script found wrong with its arguments, when `err` is such a refusal.
pub fn refusal(err: &redis::RedisError) -> Option<String> {
    (err.code() == Some(INVALID))
        .then(|| err.detail().unwrap_or("the request was refused").to_owned())
}

/// Builds a script (one per manager, loaded into Redis on first use).
pub fn load(source: &'static str) -> std::sync::Arc<redis::Script> {
    std::sync::Arc::new(redis::Script::new(source))
}
