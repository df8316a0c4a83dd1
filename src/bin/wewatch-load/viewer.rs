//! One simulated viewer: connects, upgrades, says `hello` and waits for `welcome` (on the
//! generator's runtime, a bounded number at a time); then a reader thread (`reader`)
//! records when each `state` arrives and, when the viewer controls its party, sends its
//! commands.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub use crate::probe::{lock, Clock, Order, Probe, Tally};
pub use crate::reader::Remote;
use crate::reader::Watch;
use crate::wire::{self, Event, Inbox};

/// How long connecting, the upgrade and the `welcome` may take together.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
const HELLO: &str = r#"{"type":"hello","protocol":1}"#;

/// Everything one viewer needs to join and run.
pub struct Plan {
    pub invite: Arc<str>,
    pub cookie: Option<Arc<str>>,
    pub local: IpAddr,
    pub probe: Arc<Probe>,
    /// Set for the viewer that sends its party's commands.
    pub remote: Option<Remote>,
    pub tally: Option<Arc<Tally>>,
}

/// A viewer that has its `welcome`: its socket, and what arrived after the `welcome`
/// but does not make a whole frame yet.
pub struct Joined {
    pub stream: std::net::TcpStream,
    pub inbox: Inbox,
}

/// Connects from `plan.local`, upgrades, says hello and waits for `welcome`. Messages
/// that arrive after the `welcome` are recorded like any later one.
pub async fn join(server: SocketAddr, plan: &Plan, watch: &Watch) -> Result<Joined, String> {
    let socket = TcpSocket::new_v4().map_err(|e| kind("socket", &e))?;
    socket.set_reuseaddr(true).map_err(|e| kind("socket", &e))?;
    socket
        .bind(SocketAddr::new(plan.local, 0))
        .map_err(|e| kind("bind", &e))?;
    let mut stream = socket
        .connect(server)
        .await
        .map_err(|e| kind("connect", &e))?;
    stream.set_nodelay(true).map_err(|e| kind("socket", &e))?;
    let path = format!("/ws/watch/{}", plan.invite);
    let (request, key) = wire::upgrade_request(server, &path, plan.cookie.as_deref());
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| kind("upgrade", &e))?;
    let mut buf = Vec::with_capacity(1024);
    let head = loop {
        read_more(&mut stream, &mut buf, "upgrade").await?;
        if let Some(len) = wire::upgrade_answer(&buf, &key)? {
            break len;
        }
    };
    buf.drain(..head);
    stream
        .write_all(&wire::client_frame(wire::OP_TEXT, HELLO.as_bytes()))
        .await
        .map_err(|e| kind("hello", &e))?;
    let mut inbox = Inbox::default();
    let mut welcomed = false;
    loop {
        let mut pongs = Vec::new();
        let mut ending: Option<String> = None;
        inbox
            .feed(&buf, &mut |event| match event {
                Event::Text(text) if welcomed => on_text(text, watch),
                Event::Text(text) => {
                    if text.starts_with(r#"{"type":"welcome""#) {
                        welcomed = true;
                        ending = welcome(text, &plan.probe).err();
                    } else if text.contains(r#""type":"closed""#)
                        || text.contains(r#""type":"error""#)
                    {
                        ending = Some(format!("refused: {}", &text[..text.len().min(120)]));
                    }
                }
                Event::Ping(payload) => pongs.push(wire::client_frame(wire::OP_PONG, payload)),
                Event::Close(why) => ending = Some(why),
            })
            .map_err(|e| format!("before welcome: {e}"))?;
        for pong in pongs {
            stream
                .write_all(&pong)
                .await
                .map_err(|e| kind("pong", &e))?;
        }
        if let Some(why) = ending {
            return Err(why);
        }
        if welcomed {
            let stream = stream.into_std().map_err(|e| kind("socket", &e))?;
            return Ok(Joined { stream, inbox });
        }
        buf.clear();
        read_more(&mut stream, &mut buf, "before welcome").await?;
    }
}

/// Appends what arrives next to `buf`.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, when: &str) -> Result<(), String> {
    buf.reserve(4096);
    match stream.read_buf(buf).await {
        Ok(0) => Err(format!("{when}: connection ended")),
        Ok(_) => Ok(()),
        Err(e) => Err(kind(when, &e)),
    }
}

fn welcome(text: &str, probe: &Probe) -> Result<(), String> {
    let welcome: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("welcome: {e}"))?;
    let seq = welcome["state"]["seq"].as_u64().unwrap_or(0);
    probe.welcome_seq.store(seq, Ordering::Relaxed);
    Ok(())
}

fn kind(what: &str, err: &std::io::Error) -> String {
    format!("{what}: {}", err.kind())
}

/// Records a message from the server.
pub fn on_text(text: &str, watch: &Watch) {
    // Viewer lists are the bulk of the traffic and carry nothing measured.
    if text.starts_with(r#"{"type":"viewers""#) {
        return;
    }
    if text.contains(r#""type":"state""#) {
        if let Some(seq) = state_seq(text) {
            lock(&watch.probe.states).push((seq, watch.clock.now()));
            if let Some(tally) = &watch.tally {
                tally.saw(seq);
            }
        }
    } else if text.contains(r#""type":"error""#) {
        watch.probe.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// The `seq` of a `state` frame, without parsing the whole frame (its keys come in any
/// order: the command script in Redis encodes it).
fn state_seq(text: &str) -> Option<u64> {
    let at = text.find(r#""seq":"#)? + 6;
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seq_is_read_wherever_it_stands() {
        assert_eq!(
            state_seq(r#"{"state":{"paused":true,"seq":42},"type":"state"}"#),
            Some(42)
        );
        assert_eq!(
            state_seq(r#"{"type":"state","state":{"seq":7,"rate":1}}"#),
            Some(7)
        );
        assert_eq!(state_seq(r#"{"type":"state"}"#), None);
    }
}
