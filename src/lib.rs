//! # WeWatch
//!
//! Watch videos together, in lock-step. A host adds a video to their library and shares its
//! invite link; everyone who opens it watches the same moment.
//!
//! # Layout
//! - [`config`]: settings from `server.toml` plus environment overrides.
//! - [`startup`]: [`startup::Application`] binds, wires shared state, owns the route table.
//! - [`state`]: [`state::AppState`], what every HTTP handler shares (each field says why).
//! - [`telemetry`]: logging (text or JSON lines, to stdout and daily files), and a request
//!   log that never records secrets.
//! - [`metrics`]: the node's Prometheus metrics, one registry per application; everyone may
//!   update them, and they import nothing of the crate but domain values.
//! - [`error`]: errors that become HTTP responses (JSON for the API, HTML for pages).
//! - [`security`]: the Origin check and the security headers.
//! - [`identity`]: anonymous users by signed cookie, token rotation, CSRF tokens.
//! - [`domain`]: values with no I/O — media URLs, names, titles, ids, invite keys; and the
//!   party's values the managers store and the protocol sends (party ids and subjects,
//!   presence, permissions, chat messages, videos, playlists, the notices every viewer of a
//!   party receives). It imports nothing else of the crate.
//! - [`managers`]: all Redis access, returning domain values (they never import `realtime`,
//!   `handlers` or `startup`), through one bounded connection (`managers/store.rs`) whose
//!   health anyone can watch (`managers/health.rs`); every key is documented in
//!   `managers/keys.rs`; a party's playback, permissions and presence in `managers/party/`.
//! - [`assets`]: the files under `static/`, fingerprinted at start for long-lived caching,
//!   and the browser modules' import map and import graphs the pages link.
//! - [`handlers`]: thin HTTP handlers — pages, the JSON API, health, metrics, static files.
//! - [`realtime`]: the party WebSocket (its upgrade, frames and sockets), per-worker party
//!   groups, the Redis event subscriber, one session per connection (`realtime/session/`,
//!   one file per concern: playback, waiting, chat, control, arrivals).
//! - [`sync`]: the playback timeline as pure code.

pub mod assets;
pub mod config;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod identity;
pub mod managers;
pub mod metrics;
pub mod realtime;
pub mod secret;
pub mod security;
pub mod startup;
pub mod state;
pub mod sync;
pub mod telemetry;
