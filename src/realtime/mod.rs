//! Realtime: one WebSocket group per party.
//!
//! - `protocol`: every message on the wire (documented in docs/protocol.md).
//! - `hub`: this node's groups; an event is encoded once and the same bytes reach every
//!   local viewer of the party through one bounded broadcast channel.
//! - `subscriber`: the node's one Redis pub/sub connection, feeding the hub with the events
//!   every node publishes, so parties span nodes.
//! - `session`: one task per connection, from `hello` to close.
//! - `limits`: per-connection token buckets.

pub mod hub;
pub mod limits;
pub mod protocol;
pub mod roster;
pub mod session;
pub mod subscriber;

pub use hub::{Event, Hub};
