//! A viewer as the page is one: it joins a party, follows its state, and when the connection
//! drops it reconnects with the page's back-off (through the proxy, so it lands on whichever
//! node is up) and sends again the commands not yet `done`, with their ids.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// What a watcher has seen.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Every state by seq (welcomes and events).
    pub states: BTreeMap<u64, Value>,
    /// The highest seq.
    pub seq: u64,
    /// Connections that reached `welcome`.
    pub welcomes: usize,
    /// Ids the server said are done.
    pub done: HashSet<String>,
    /// Whether the current connection is welcomed.
    pub connected: bool,
    /// The last viewer list.
    pub viewers: Option<Value>,
    /// When each state first arrived.
    pub arrived: BTreeMap<u64, Instant>,
    /// When each connection reached `welcome`.
    pub welcomed_at: Vec<Instant>,
}

/// A viewer running in the background.
pub struct Watcher {
    pub seen: Arc<Mutex<Seen>>,
    commands: mpsc::UnboundedSender<Value>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A guest's identity cookie, made by visiting `base`.
pub async fn guest(base: &str) -> String {
    let res = reqwest::get(format!("{base}/")).await.unwrap();
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("wewatch="))
        .and_then(|v| v.split(';').next())
        .expect("a first visit sets a cookie")
        .to_owned()
}

impl Watcher {
    /// Joins the party of `invite` at `base` (a node or the proxy) as the guest `cookie`.
    pub fn start(base: &str, invite: &str, cookie: &str) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(
            base.to_owned(),
            invite.to_owned(),
            cookie.to_owned(),
            seen.clone(),
            rx,
        ));
        Self {
            seen,
            commands,
            task,
        }
    }

    /// Sends a command (with `cmd_id`), now or after the next reconnect.
    pub fn command(&self, command: Value) {
        let _ = self.commands.send(command);
    }

    /// Where commands go, for a task that sends them.
    pub fn command_sender(&self) -> mpsc::UnboundedSender<Value> {
        self.commands.clone()
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Waits up to `secs` until `check` holds for what the watcher has seen.
    pub async fn wait(&self, what: &str, secs: u64, check: impl Fn(&Seen) -> bool) {
        if !self.within(secs, check).await {
            panic!(
                "{what}: not within {secs} s; seen {:?}",
                summary(&self.seen())
            );
        }
    }

    /// Whether `check` holds within `secs`.
    pub async fn within(&self, secs: u64, check: impl Fn(&Seen) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while tokio::time::Instant::now() < deadline {
            if check(&self.seen()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

fn summary(seen: &Seen) -> String {
    format!(
        "seq {}, welcomes {}, connected {}, done {}",
        seen.seq,
        seen.welcomes,
        seen.connected,
        seen.done.len()
    )
}

async fn run(
    base: String,
    invite: String,
    cookie: String,
    seen: Arc<Mutex<Seen>>,
    mut commands: mpsc::UnboundedReceiver<Value>,
) {
    // Commands sent (or to send) and not yet done, in order.
    let mut pending: Vec<Value> = Vec::new();
    // Reconnection attempts since the last welcome.
    let mut attempt = 0u32;
    loop {
        let url = format!("{}/ws/watch/{invite}", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", base.parse().unwrap());
        request
            .headers_mut()
            .insert("Cookie", format!("wewatch={cookie}").parse().unwrap());
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
            tokio::time::sleep(backoff_delay(attempt)).await;
            attempt += 1;
            continue;
        };
        let hello = json!({"type": "hello", "protocol": 1}).to_string();
        if socket.send(Message::text(hello)).await.is_err() {
            continue;
        }
        loop {
            tokio::select! {
                message = socket.next() => {
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(_)) => continue,
                        _ => break,
                    };
                    let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
                    let welcomed = {
                        let mut s = seen.lock().unwrap();
                        match message["type"].as_str() {
                            Some("welcome") => {
                                attempt = 0;
                                s.welcomes += 1;
                                s.welcomed_at.push(Instant::now());
                                s.connected = true;
                                record(&mut s, &message["state"]);
                                s.viewers = Some(message["viewers"].clone());
                                true
                            }
                            Some("state") => {
                                record(&mut s, &message["state"]);
                                false
                            }
                            Some("viewers") => {
                                s.viewers = Some(message["viewers"].clone());
                                false
                            }
                            Some("done") => {
                                let id = message["cmd_id"].as_str().unwrap_or_default().to_owned();
                                pending.retain(|c| c["cmd_id"] != id.as_str());
                                s.done.insert(id);
                                false
                            }
                            _ => false,
                        }
                    };
                    if welcomed {
                        // Sent again: applied once, whichever node takes them.
                        for command in &pending {
                            let _ = socket.send(Message::text(command.to_string())).await;
                        }
                    }
                }
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    pending.push(command.clone());
                    let connected = seen.lock().unwrap().connected;
                    if connected {
                        let _ = socket.send(Message::text(command.to_string())).await;
                    }
                }
            }
        }
        seen.lock().unwrap().connected = false;
        tokio::time::sleep(backoff_delay(attempt)).await;
        attempt += 1;
    }
}

/// The page's pause before reconnection attempt `attempt` (static/js/party.js): 0.5 s
/// doubling up to 10 s, drawn from the upper half of that.
fn backoff_delay(attempt: u32) -> Duration {
    let ceiling = (500u64 << attempt.min(5)).min(10_000);
    Duration::from_millis(ceiling / 2 + rand::random_range(0..=ceiling / 2))
}

fn record(seen: &mut Seen, state: &Value) {
    if let Some(seq) = state["seq"].as_u64() {
        seen.states.insert(seq, state.clone());
        seen.arrived.entry(seq).or_insert_with(Instant::now);
        seen.seq = seen.seq.max(seq);
    }
}
