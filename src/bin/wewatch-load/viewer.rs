//! One simulated viewer: a WebSocket that says `hello`, waits for `welcome`, then records
//! when each `state` arrives and, when it controls its party, sends play and pause.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub use crate::probe::{lock, Clock, Order, Probe, Tally};

/// How long connecting, the upgrade and the `welcome` may take together.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything one viewer needs to join and run.
pub struct Plan {
    pub invite: Arc<str>,
    pub cookie: Option<Arc<str>>,
    pub local: IpAddr,
    pub probe: Arc<Probe>,
    pub orders: Option<mpsc::UnboundedReceiver<(u64, Order)>>,
    pub tally: Option<Arc<Tally>>,
}

type Ws = WebSocketStream<TcpStream>;

/// Connects from `plan.local`, upgrades, says hello and waits for `welcome`.
pub async fn join(server: SocketAddr, plan: &Plan) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| kind("socket", &e))?;
    socket.set_reuseaddr(true).map_err(|e| kind("socket", &e))?;
    socket
        .bind(SocketAddr::new(plan.local, 0))
        .map_err(|e| kind("bind", &e))?;
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| kind("connect", &e))?;
    stream.set_nodelay(true).map_err(|e| kind("socket", &e))?;
    let mut request = format!("ws://{server}/ws/watch/{}", plan.invite)
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    if let Some(cookie) = &plan.cookie {
        let value = HeaderValue::from_str(cookie).map_err(|e| format!("cookie: {e}"))?;
        request.headers_mut().insert("Cookie", value);
    }
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    ws.send(Message::text(r#"{"type":"hello","protocol":1}"#))
        .await
        .map_err(|e| format!("hello: {e}"))?;
    while let Some(frame) = ws.next().await {
        let text = match frame {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(close)) => return Err(format!("closed before welcome: {close:?}")),
            Ok(_) => continue,
            Err(e) => return Err(format!("before welcome: {e}")),
        };
        if text.starts_with(r#"{"type":"welcome""#) {
            let welcome: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("welcome: {e}"))?;
            let seq = welcome["state"]["seq"].as_u64().unwrap_or(0);
            plan.probe.welcome_seq.store(seq, Ordering::Relaxed);
            return Ok(ws);
        }
        if text.contains(r#""type":"closed""#) || text.contains(r#""type":"error""#) {
            return Err(format!("refused: {}", &text[..text.len().min(120)]));
        }
    }
    Err("closed before welcome".into())
}

fn kind(what: &str, err: &std::io::Error) -> String {
    format!("{what}: {}", err.kind())
}

/// Reads frames until the connection ends, recording states and sending orders.
pub async fn run(mut ws: Ws, mut plan: Plan, clock: Clock) {
    let ending = loop {
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => on_text(&text, &plan, &clock),
                // tungstenite queued the pong; flushing sends it.
                Some(Ok(Message::Ping(_))) => { let _ = ws.flush().await; }
                Some(Ok(Message::Close(Some(close)))) => break format!("closed by the server: {} {}", u16::from(close.code), close.reason),
                Some(Ok(Message::Close(None))) => break "closed by the server".to_owned(),
                Some(Err(err)) => break format!("error: {err}"),
                None => break "connection ended".to_owned(),
                Some(Ok(_)) => {}
            },
            order = next_order(&mut plan.orders) => match order {
                Some((n, order)) => {
                    let at = clock.now();
                    if let Err(err) = ws.send(Message::text(order.frame())).await {
                        break format!("error sending: {err}");
                    }
                    lock(&plan.probe.sent).push((n, at));
                }
                None => plan.orders = None,
            },
        }
    };
    *lock(&plan.probe.ending) = Some(ending);
    plan.probe.closed.store(true, Ordering::Release);
}

async fn next_order(
    orders: &mut Option<mpsc::UnboundedReceiver<(u64, Order)>>,
) -> Option<(u64, Order)> {
    match orders {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn on_text(text: &str, plan: &Plan, clock: &Clock) {
    // Viewer lists are the bulk of the traffic and carry nothing measured.
    if text.starts_with(r#"{"type":"viewers""#) {
        return;
    }
    if text.contains(r#""type":"state""#) {
        if let Some(seq) = state_seq(text) {
            lock(&plan.probe.states).push((seq, clock.now()));
            if let Some(tally) = &plan.tally {
                tally.saw(seq);
            }
        }
    } else if text.contains(r#""type":"error""#) {
        plan.probe.errors.fetch_add(1, Ordering::Relaxed);
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
