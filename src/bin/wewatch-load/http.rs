//! A small HTTP/1.1 client over one keep-alive connection, with one identity cookie that
//! follows `Set-Cookie` as a browser would. Small on purpose: on a two-core machine the
//! client's own CPU time is taken from the server's.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: its status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One connection to the server and the identity it carries.
pub struct HttpClient {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// `name=value` of the identity cookie, once the server has set one.
    pub cookie: Option<String>,
}

impl HttpClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            cookie: None,
        }
    }

    pub async fn get(&mut self, path: &str) -> io::Result<Response> {
        self.request("GET", path, None).await
    }

    pub async fn post_json(&mut self, path: &str, body: &str) -> io::Result<Response> {
        self.request("POST", path, Some(body)).await
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> io::Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if let Some(body) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body.unwrap_or(""));
        // A kept-alive connection the server has closed fails once; then reconnect.
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            match self.exchange(head.as_bytes()).await {
                Ok(response) => return Ok(response),
                Err(_) if reused && attempt == 0 => self.stream = None,
                Err(err) => {
                    self.stream = None;
                    return Err(err);
                }
            }
        }
        unreachable!("the second attempt returns")
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        // unwrap: set just above.
        let stream = self.stream.as_mut().expect("connected");
        stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                "set-cookie" => {
                    if let Some(pair) = value.split(';').next() {
                        self.cookie = Some(pair.trim().to_owned());
                    }
                }
                _ => {}
            }
        }
        self.buf.drain(..head_end);
        let body = if chunked {
            read_chunked(stream, &mut self.buf).await?
        } else {
            let length = length.unwrap_or(0);
            while self.buf.len() < length {
                read_more(stream, &mut self.buf).await?;
            }
            self.buf.drain(..length).collect()
        };
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = find(buf, b"\r\n") {
                break at;
            }
            read_more(stream, buf).await?;
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("bad chunk size"))?;
        while buf.len() < line_end + 2 + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
        buf.drain(..line_end + 2 + size + 2);
        if size == 0 {
            return Ok(body);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.capacity() - buf.len() < 16 * 1024 {
        buf.reserve(64 * 1024);
    }
    if stream.read_buf(buf).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// A new guest: the identity cookie the home page hands out.
pub async fn new_identity(client: &mut HttpClient) -> io::Result<String> {
    client.cookie = None;
    let response = client.get("/").await?;
    match (&client.cookie, response.status) {
        (Some(cookie), 200) => Ok(cookie.clone()),
        (_, status) => Err(bad(&format!("GET / answered {status} without a cookie"))),
    }
}

/// Adds a video to the library of `client`'s identity; returns its invite key.
pub async fn create_video(client: &mut HttpClient, n: usize) -> io::Result<String> {
    let body = serde_json::json!({
        "url": format!("https://media.example.org/bench/party-{n}.mp4"),
        "title": format!("Bench party {n}"),
    })
    .to_string();
    let response = client.post_json("/api/v1/videos", &body).await?;
    if response.status != 201 {
        return Err(bad(&format!(
            "POST /api/v1/videos answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )));
    }
    let video: serde_json::Value =
        serde_json::from_slice(&response.body).map_err(|e| bad(&e.to_string()))?;
    video["invite_key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad("the created video has no invite_key"))
}
