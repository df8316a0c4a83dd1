//! Realtime: one WebSocket group per party.
//!
//! - `protocol`: every message on the wire (documented in docs/protocol.md).
//! - `hub`: this node's groups, one set per worker thread; an event is encoded once and the
//!   same bytes are written into every local viewer's socket.
//! - `subscriber`: the node's one Redis pub/sub connection, feeding the hub with the events
//!   every node publishes, so parties span nodes.
//! - `session`: one per connection, from `hello` to close.
//! - `transport`: the WebSocket upgrade, frames and sockets.
//! - `limits`: per-connection token buckets.

pub mod hub;
pub mod limits;
pub mod protocol;
pub mod roster;
pub mod session;
pub mod subscriber;
pub mod transport;
pub mod viewer_lists;

pub use hub::{Event, Hub};
