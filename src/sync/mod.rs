//! The playback timeline as pure code: the state record, the position it implies at any
//! server instant, the validation of commands before they reach Redis, and how long one
//! viewer's stalls may hold the party (`stalls`).
//!
//! No I/O and no clock reads here: callers pass the time in. The Lua script in
//! `managers/scripts/party_command.lua` applies commands with the same arithmetic, atomically.

mod command;
mod stalls;
mod timeline;

pub use command::{Command, CommandError, MAX_POSITION_MS, MAX_RATE, MIN_RATE};
pub use stalls::StallBudget;
pub use timeline::PlaybackState;
