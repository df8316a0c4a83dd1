//! A WebSocket client that writes whatever bytes a test asks for — broken frames, half
//! frames, floods — and reads the server's frames one by one.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// Most time any single read may take before the test fails.
const READ_DEADLINE: Duration = Duration::from_secs(30);

pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;
pub const CONTINUATION: u8 = 0x0;
pub const FIN: u8 = 0x80;

/// Encodes one client frame: `first` is the first byte (FIN, RSV bits, opcode).
pub fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=65535 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A masked, final text frame.
pub fn text(payload: &str) -> Vec<u8> {
    frame(FIN | TEXT, payload.as_bytes(), true)
}

/// A close frame's payload: a code and a reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// Sends a raw HTTP/1.1 request and returns the response head, lower-cased.
pub async fn raw_request(app: &TestApp, request: &str) -> String {
    let mut stream = TcpStream::connect(&app.host).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_head(&mut stream).await
}

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(READ_DEADLINE, stream.read(&mut byte))
            .await
            .expect("an answer in time")
            .unwrap();
        assert_eq!(read, 1, "the server answered before closing: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().to_ascii_lowercase()
}

/// A WebSocket upgrade request for `path` with extra header lines.
pub fn upgrade_request(app: &TestApp, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n",
        app.host
    )
}

/// An upgraded connection driven byte by byte.
pub struct RawSocket {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// A server frame.
#[derive(Debug)]
pub struct Frame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawSocket {
    /// Upgrades a connection to the party of `invite_key` (the head must say 101).
    pub async fn open(app: &TestApp, invite_key: &str, extra: &str) -> Self {
        let mut stream = TcpStream::connect(&app.host).await.unwrap();
        let path = format!("/ws/watch/{invite_key}");
        stream
            .write_all(upgrade_request(app, &path, extra).as_bytes())
            .await
            .unwrap();
        let head = read_head(&mut stream).await;
        assert!(head.starts_with("http/1.1 101"), "{head}");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Opens a connection and says hello; returns once `welcome` has arrived.
    pub async fn joined(app: &TestApp, invite_key: &str, extra: &str) -> Self {
        let mut socket = Self::open(app, invite_key, extra).await;
        socket.send(&text(r#"{"type":"hello","protocol":1}"#)).await;
        loop {
            let frame = socket.next_frame().await.expect("a welcome");
            if frame.opcode == TEXT && frame.payload.starts_with(br#"{"type":"welcome""#) {
                return socket;
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next complete frame, or None when the connection ends.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout(READ_DEADLINE, self.stream.read(&mut chunk))
                .await
                .expect("the server said something in time");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the server's close frame and returns its code (None when the connection
    /// ended without one, or with an empty one).
    pub async fn close_code(&mut self) -> Option<u16> {
        while let Some(frame) = self.next_frame().await {
            if frame.opcode == CLOSE {
                return (frame.payload.len() >= 2)
                    .then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
            }
        }
        None
    }

    /// Whether the connection ends (EOF or reset) within the read deadline, whatever frames
    /// come first.
    pub async fn ends(&mut self) -> bool {
        loop {
            let mut chunk = [0u8; 65536];
            let read = tokio::time::timeout(READ_DEADLINE, self.stream.read(&mut chunk)).await;
            match read {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// One unmasked server frame from the front of `buf`, and the bytes it took.
fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
    let (&first, &second) = (buf.first()?, buf.get(1)?);
    assert_eq!(second & 0x80, 0, "server frames are never masked");
    let (len, start) = match second & 0x7f {
        126 => (u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize, 4),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        len => (len as usize, 2),
    };
    let payload = buf.get(start..start + len)?.to_vec();
    Some((
        Frame {
            opcode: first & 0x0f,
            payload,
        },
        start + len,
    ))
}
