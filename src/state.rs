//! The state every handler shares: one value per process, built by `startup` and handed to
//! actix as app data. It holds only what handlers read; the realtime sessions have their
//! own context (`realtime::session::SessionContext`), and identity resolution its own
//! ([`crate::identity::Identities`]).
//!
//! Nothing here may import `startup`, `handlers` or `realtime`.

use std::sync::Arc;

use tera::Tera;

use crate::config::Settings;
use crate::identity::Signer;
use crate::managers::Managers;

/// State shared by every HTTP handler of this process.
pub struct AppState {
    /// All Redis access, around one multiplexed connection: every handler reads or writes
    /// through it, and cloning it per request would open nothing new.
    pub managers: Managers,
    /// Page templates, compiled once at start; every page handler renders through them.
    pub tera: Tera,
    /// Signs and checks CSRF tokens, for the forms of every page.
    pub signer: Signer,
    /// The validated settings; handlers read the limits (page size, title length, body
    /// size…) and the origins they allow.
    pub settings: Arc<Settings>,
    /// Set once the node is stopping: `/readyz` answers 503 so load balancers send no one
    /// new, while its viewers are told to reconnect elsewhere.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// The node's metrics, which `/metrics` renders.
    pub metrics: Arc<crate::metrics::Metrics>,
}
