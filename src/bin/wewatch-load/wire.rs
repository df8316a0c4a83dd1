//! The WebSocket wire as a viewer speaks it (RFC 6455): the upgrade request and its
//! answer, the viewer's frames (masked), and the server's frames read from whatever bytes
//! have arrived, in any pieces.

use std::net::SocketAddr;

use actix_http::ws::hash_key;
use base64::Engine;
use rand::RngCore;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Largest message taken from the server (a huge party's viewer list is the biggest).
pub const MAX_MESSAGE: usize = 16 << 20;
/// Largest head of the upgrade answer.
const MAX_HEAD: usize = 16 << 10;
/// A viewer's leftover buffer is given back once empty and larger than this.
const KEEP_CAPACITY: usize = 4 << 10;

/// The upgrade request for `path` and the `Sec-WebSocket-Key` it carries.
pub fn upgrade_request(host: SocketAddr, path: &str, cookie: Option<&str>) -> (String, String) {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(cookie) = cookie {
        request.push_str("Cookie: ");
        request.push_str(cookie);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    (request, key)
}

/// Reads the upgrade answer at the start of `buf`: `Ok(None)` while its head is
/// incomplete, the head's length once it is a `101` that accepts `key`.
pub fn upgrade_answer(buf: &[u8], key: &str) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err("upgrade: the answer's head is too long".into());
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if status.split(' ').nth(1) != Some("101") {
        let body = String::from_utf8_lossy(&buf[end + 4..]);
        let body: String = body.chars().take(120).collect();
        return Err(format!("upgrade: {status} {body}").trim_end().to_owned());
    }
    let accept = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-accept"))
        .map(|(_, value)| value.trim().as_bytes().to_vec());
    if accept.as_deref() != Some(&hash_key(key.as_bytes())[..]) {
        return Err("upgrade: the answer does not accept the key".into());
    }
    Ok(Some(end + 4))
}

/// One whole frame from the viewer: masked, as a client's must be.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mut mask = [0u8; 4];
    rand::rng().fill_bytes(&mut mask);
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// A frame from the server.
#[derive(Debug, PartialEq)]
pub struct Frame<'a> {
    pub fin: bool,
    pub opcode: u8,
    pub payload: &'a [u8],
}

/// The frame at the start of `buf` and how many bytes it spans; `Ok(None)` while it has
/// not all arrived.
pub fn server_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, String> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err("a frame with reserved bits set".into());
    }
    if b1 & 0x80 != 0 {
        return Err("a masked frame from the server".into());
    }
    let (len, at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            // unwrap: the slice is eight bytes long.
            Some(b) => (u64::from_be_bytes(b.try_into().expect("8 bytes")), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > MAX_MESSAGE as u64 {
        return Err(format!("a frame of {len} bytes"));
    }
    let end = at + len as usize;
    Ok(buf.get(at..end).map(|payload| {
        let frame = Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0F,
            payload,
        };
        (frame, end)
    }))
}

/// A whole message from the server, as the viewer acts on it.
#[derive(Debug, PartialEq)]
pub enum Event<'a> {
    Text(&'a str),
    Ping(&'a [u8]),
    /// The server closed the connection, and why.
    Close(String),
}

/// What has arrived from the server but does not make a whole frame yet, and the
/// fragments of a message still arriving.
#[derive(Default)]
pub struct Inbox {
    partial: Vec<u8>,
    fragments: Option<(u8, Vec<u8>)>,
}

impl Inbox {
    /// Hands every whole message in what was kept plus `fresh` to `on`, and keeps the rest.
    pub fn feed(&mut self, fresh: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<(), String> {
        if self.partial.is_empty() {
            let used = self.take_frames(fresh, on)?;
            self.partial.extend_from_slice(&fresh[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.partial);
            buf.extend_from_slice(fresh);
            let used = self.take_frames(&buf, on)?;
            buf.drain(..used);
            self.partial = buf;
        }
        if self.partial.is_empty() && self.partial.capacity() > KEEP_CAPACITY {
            self.partial = Vec::new();
        }
        Ok(())
    }

    fn take_frames(&mut self, buf: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<usize, String> {
        let mut used = 0;
        while let Some((frame, len)) = server_frame(&buf[used..])? {
            used += len;
            self.deliver(frame, on)?;
        }
        Ok(used)
    }

    fn deliver(&mut self, frame: Frame<'_>, on: &mut impl FnMut(Event<'_>)) -> Result<(), String> {
        match (frame.opcode, &mut self.fragments) {
            (OP_TEXT | OP_BINARY, None) if frame.fin => {
                deliver_data(frame.opcode, frame.payload, on)
            }
            (OP_TEXT | OP_BINARY, None) => {
                self.fragments = Some((frame.opcode, frame.payload.to_vec()));
                Ok(())
            }
            (OP_CONTINUATION, Some((_, data))) => {
                if data.len() + frame.payload.len() > MAX_MESSAGE {
                    return Err("a fragmented message over the size limit".into());
                }
                data.extend_from_slice(frame.payload);
                if frame.fin {
                    // unwrap-free: the match arm saw `Some`.
                    if let Some((opcode, data)) = self.fragments.take() {
                        deliver_data(opcode, &data, on)?;
                    }
                }
                Ok(())
            }
            (OP_PING, _) => {
                on(Event::Ping(frame.payload));
                Ok(())
            }
            (OP_PONG, _) => Ok(()),
            (OP_CLOSE, _) => {
                on(Event::Close(close_reason(frame.payload)));
                Ok(())
            }
            (opcode, _) => Err(format!("an unexpected frame (opcode {opcode})")),
        }
    }
}

fn deliver_data(opcode: u8, payload: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<(), String> {
    if opcode == OP_TEXT {
        let text = std::str::from_utf8(payload).map_err(|_| "a text frame that is not UTF-8")?;
        on(Event::Text(text));
    }
    Ok(())
}

fn close_reason(payload: &[u8]) -> String {
    match payload {
        [hi, lo, reason @ ..] => format!(
            "closed by the server: {} {}",
            u16::from_be_bytes([*hi, *lo]),
            String::from_utf8_lossy(reason)
        ),
        _ => "closed by the server".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n if n <= 0xFFFF => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    #[derive(Debug, PartialEq)]
    enum Got {
        Text(String),
        Ping(Vec<u8>),
        Close(String),
    }

    fn collect(inbox: &mut Inbox, bytes: &[u8], got: &mut Vec<Got>) -> Result<(), String> {
        inbox.feed(bytes, &mut |event| {
            got.push(match event {
                Event::Text(t) => Got::Text(t.to_owned()),
                Event::Ping(p) => Got::Ping(p.to_vec()),
                Event::Close(c) => Got::Close(c),
            })
        })
    }

    #[test]
    fn messages_are_read_whatever_pieces_they_arrive_in() {
        let long = "x".repeat(70_000);
        let mut stream = server(OP_TEXT, true, b"{\"type\":\"state\"}");
        stream.extend(server(OP_PING, true, b"hb"));
        stream.extend(server(OP_TEXT, true, long.as_bytes()));
        stream.extend(server(OP_TEXT, false, b"frag"));
        stream.extend(server(OP_PING, true, b""));
        stream.extend(server(OP_CONTINUATION, true, b"ment"));
        stream.extend(server(OP_CLOSE, true, b"\x03\xe8bye"));
        let expected = vec![
            Got::Text("{\"type\":\"state\"}".into()),
            Got::Ping(b"hb".to_vec()),
            Got::Text(long.clone()),
            Got::Ping(Vec::new()),
            Got::Text("fragment".into()),
            Got::Close("closed by the server: 1000 bye".into()),
        ];
        for piece in [1, 2, 3, 7, 1000, stream.len()] {
            let mut inbox = Inbox::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                collect(&mut inbox, chunk, &mut got).unwrap();
            }
            assert_eq!(got, expected, "in pieces of {piece}");
            assert!(inbox.partial.is_empty());
        }
    }

    #[test]
    fn broken_frames_are_errors() {
        let mut got = Vec::new();
        let mut masked = server(OP_TEXT, true, b"hi");
        masked[1] |= 0x80;
        assert!(collect(&mut Inbox::default(), &masked, &mut got).is_err());
        let reserved = [0xC1, 0x00];
        assert!(collect(&mut Inbox::default(), &reserved, &mut got).is_err());
        let stray = server(OP_CONTINUATION, true, b"x");
        assert!(collect(&mut Inbox::default(), &stray, &mut got).is_err());
        let not_utf8 = server(OP_TEXT, true, &[0xFF, 0xFE]);
        assert!(collect(&mut Inbox::default(), &not_utf8, &mut got).is_err());
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&(u64::MAX / 2).to_be_bytes());
        assert!(collect(&mut Inbox::default(), &huge, &mut got).is_err());
        assert!(got.is_empty());
    }

    #[test]
    fn client_frames_are_masked_and_unmask_to_the_payload() {
        for len in [0, 5, 125, 126, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let frame = client_frame(OP_TEXT, &payload);
            assert_eq!(frame[0], 0x81);
            assert_ne!(frame[1] & 0x80, 0, "masked");
            let at = match frame[1] & 0x7F {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            let mask = &frame[at..at + 4];
            let unmasked: Vec<u8> = frame[at + 4..]
                .iter()
                .zip(mask.iter().cycle())
                .map(|(b, m)| b ^ m)
                .collect();
            assert_eq!(unmasked, payload);
        }
    }

    #[test]
    fn the_upgrade_answer_must_accept_the_key() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let (request, key) = upgrade_request(addr, "/ws/watch/k", Some("wewatch_id=abc"));
        assert!(request.starts_with("GET /ws/watch/k HTTP/1.1\r\n"));
        assert!(request.contains("Cookie: wewatch_id=abc\r\n"));
        assert!(request.ends_with("\r\n\r\n"));
        let accept = String::from_utf8(hash_key(key.as_bytes()).to_vec()).unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
             sec-websocket-accept: {accept}\r\n\r\n\x01\x02hi"
        );
        assert_eq!(upgrade_answer(&answer.as_bytes()[..20], &key), Ok(None));
        assert_eq!(
            upgrade_answer(answer.as_bytes(), &key),
            Ok(Some(answer.len() - 4))
        );
        let wrong = answer.replace(&accept, "c29tZXRoaW5nIGVsc2U=");
        assert!(upgrade_answer(wrong.as_bytes(), &key).is_err());
        let refused = "HTTP/1.1 404 Not Found\r\n\r\n{\"error\":\"not_found\"}";
        let err = upgrade_answer(refused.as_bytes(), &key).unwrap_err();
        assert!(err.contains("404") && err.contains("not_found"), "{err}");
    }
}
