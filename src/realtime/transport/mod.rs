//! The party WebSocket's transport: the upgrade from HTTP, the frames, and the shared
//! socket the session reads and the hub writes.
//!
//! - `upgrade`: the handshake, served by actix-http's upgrade hook.
//! - `socket`: one connection's reads, writes and queue; no buffers while idle.
//! - `frames`: server frames, encoded once.

pub mod frames;
mod socket;
pub mod upgrade;

pub use socket::{Next, Signal, Socket};
