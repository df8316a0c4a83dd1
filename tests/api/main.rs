//! Integration tests: the real server on port 0 against a real `redis-server` started by the
//! harness (one per test binary, on a unix socket in a temp dir; every test uses its own key
//! prefix, so tests never see each other's data).

mod assets;
mod away;
mod bounds;
mod chat;
mod commands;
mod conformance;
mod helpers;
mod identity;
mod input;
mod layout;
mod metrics;
mod nodes;
mod outage;
mod pages;
mod permissions;
mod playlists;
mod raw_socket;
mod reports;
mod scripts;
mod stalls;
mod videos;
mod waiting;
mod websocket;
