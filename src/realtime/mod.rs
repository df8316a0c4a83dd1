//! Realtime: one WebSocket group per party.
//!
//! - `protocol`: every message on the wire (documented in docs/protocol.md).
//! - `hub`: this node's groups, one set per worker thread; an event is serialized once and
//!   the same bytes are handed to every local viewer's connection.
//! - `subscriber`: the node's one Redis pub/sub connection, feeding the hub with the events
//!   every node publishes, so parties span nodes.
//! - `session`: one per connection, from `hello` to close.
//! - `socket`: one connection over actix-ws, with its bounded outbound queue.
//! - `connections`: how many party connections each address and person holds here.
//! - `limits`: per-connection token buckets.

pub mod connections;
pub mod hub;
pub mod limits;
pub mod node;
pub mod protocol;
pub mod roster;
pub mod session;
pub mod socket;
pub mod subscriber;
pub mod viewer_lists;

pub use hub::{Event, Hub};
