//! Test harness: a private Redis, the application on port 0, an HTTP client with a cookie
//! jar, and a WebSocket client that speaks the party protocol.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use wewatch::config::{SecretKey, Settings};
use wewatch::managers::store::{PubSubConnector, StoreConnection};
use wewatch::startup::Application;

#[path = "../support/redis.rs"]
pub mod redis_server;

/// The Redis of this test process: standalone, or a three-master cluster when
/// `WEWATCH_TEST_REDIS=cluster`.
struct TestRedis {
    url: String,
    _dir: tempfile::TempDir,
    _servers: Vec<redis_server::Server>,
}

fn redis() -> &'static TestRedis {
    static REDIS: OnceLock<TestRedis> = OnceLock::new();
    REDIS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (servers, url) = if redis_server::cluster_wanted() {
            redis_server::cluster(dir.path(), 0)
        } else {
            let (server, url) = redis_server::standalone(dir.path());
            (vec![server], url)
        };
        TestRedis {
            url,
            _dir: dir,
            _servers: servers,
        }
    })
}

/// A running application and a client with its own cookie jar.
pub struct TestApp {
    pub address: String,
    pub host: String,
    /// The main test user's client; its cookies live in `jar`.
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub prefix: String,
    /// A connection of the server's own kind (standalone or cluster), for looking inside.
    pub redis: StoreConnection,
    /// Opens subscriptions like the server's.
    pub pubsub: PubSubConnector,
    pub settings: Settings,
    /// `http://127.0.0.1:{port}` of the listener that serves only `/metrics`, when
    /// `[metrics] port` is set.
    pub metrics_address: Option<String>,
}

/// Settings for tests: port 0, the private Redis, a unique key prefix, a fixed secret.
pub fn test_settings() -> Settings {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("server.toml");
    let mut settings = Settings::from_file(&path).expect("server.toml");
    settings.server.port = 0;
    settings.server.workers = 2;
    // A test's viewer answers the server's pings only while the test reads from it: most
    // tests leave theirs unread for seconds, and must not see them turn `away` meanwhile.
    settings.realtime.away_after_ms = 20_000;
    settings.redis.url = redis().url.clone();
    settings.redis.key_prefix = format!("t{}:", rand_suffix());
    settings.secret_key =
        Some(SecretKey::new(b"integration-tests-secret-key-0123456789".to_vec()).unwrap());
    settings
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    adjust(&mut settings);
    spawn_app_on(settings).await
}

/// Starts the application with exactly these settings.
pub async fn spawn_app_on(settings: Settings) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("the application builds");
    let port = app.port();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    let store = wewatch::managers::store::connect(&settings.redis)
        .await
        .expect("the tests reach their Redis");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        host: format!("127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jar,
        prefix: settings.redis.key_prefix.clone(),
        redis: store.conn,
        pubsub: store.pubsub,
        settings,
        metrics_address: metrics_port.map(|port| format!("http://127.0.0.1:{port}")),
    }
}

/// A client with its own cookie jar that does not follow redirects.
pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Visits the home page with `client`, returning its HTML.
    pub async fn home_with(&self, client: &reqwest::Client) -> String {
        let res = client.get(self.url("/")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }

    /// The CSRF token in a page.
    pub fn csrf(html: &str) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    }

    /// Adds a video through the API with `client` (which must have visited a page).
    pub async fn add_video_with(&self, client: &reqwest::Client, url: &str) -> Value {
        let res = client
            .post(self.url("/api/v1/videos"))
            .json(&serde_json::json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "adding {url}");
        res.json().await.unwrap()
    }

    /// A guest with the bundled 90 s sample in their library.
    pub async fn video(&self) -> Value {
        self.home_with(&self.client).await;
        self.add_video_with(&self.client, &self.url("/static/media/sample-90s.webm"))
            .await
    }

    /// A playlist of the main test user titled `title`, with an item per name (a link to
    /// `https://example.com/{name}.mp4`); returns it and the items' ids in order.
    pub async fn playlist_with_items(&self, title: &str, names: &[&str]) -> (Value, Vec<u64>) {
        self.home_with(&self.client).await;
        let res = self
            .client
            .post(self.url("/api/v1/playlists"))
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "creating the playlist {title}");
        let playlist: Value = res.json().await.unwrap();
        let mut items = Vec::new();
        for name in names {
            let res = self
                .client
                .post(self.url(&format!("/api/v1/playlists/{}/items", playlist["id"])))
                .json(&serde_json::json!({"url": format!("https://example.com/{name}.mp4")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201, "adding {name}");
            let item: Value = res.json().await.unwrap();
            items.push(item["id"].as_u64().unwrap());
        }
        (playlist, items)
    }

    /// Every key of this test's prefix.
    pub async fn keys(&mut self) -> Vec<String> {
        redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut self.redis)
            .await
            .unwrap()
    }

    /// Every key of this test's prefix with its serialized value (`DUMP`, which carries its
    /// type and contents) and its remaining time to live, to tell whether anything changed.
    /// The node registry, which the running server's heartbeat keeps changing, is left out.
    pub async fn snapshot(&mut self) -> Snapshot {
        let mut keys: Vec<String> = self
            .keys()
            .await
            .into_iter()
            .filter(|k| !k.contains("{nodes}"))
            .collect();
        keys.sort();
        let mut snapshot = Snapshot::default();
        for key in keys {
            let (dump, pttl): (Option<Vec<u8>>, i64) = redis::pipe()
                .cmd("DUMP")
                .arg(&key)
                .cmd("PTTL")
                .arg(&key)
                .query_async(&mut self.redis)
                .await
                .unwrap();
            if let Some(dump) = dump {
                snapshot.0.insert(key, (dump, pttl));
            }
        }
        snapshot
    }

    /// Subscribes to sharded channels, as a node does; their messages in order of arrival.
    pub async fn watch_channels(&self, channels: &[String]) -> Channels {
        let (mut link, pushes) = self.pubsub.open().await.expect("a subscription connection");
        for channel in channels {
            link.ssubscribe(channel).await.expect("subscribed");
        }
        Channels {
            _link: link,
            pushes,
        }
    }

    pub async fn connect(&self, invite_key: &str) -> Viewer {
        self.connect_with_origin(invite_key, Some(&self.address))
            .await
            .expect("the upgrade succeeds")
    }

    /// The identity cookie of the main test user (`client`), who owns `video()`.
    pub fn owner_cookie(&self) -> String {
        use reqwest::cookie::CookieStore;
        let header = self
            .jar
            .cookies(&self.address.parse().unwrap())
            .expect("the client has visited a page");
        let header = header.to_str().unwrap();
        header
            .split("; ")
            .find_map(|c| c.strip_prefix("wewatch="))
            .expect("an identity cookie")
            .to_owned()
    }

    /// A new guest's identity cookie value.
    pub async fn guest_cookie(&self) -> String {
        let res = reqwest::Client::new()
            .get(self.url("/"))
            .send()
            .await
            .unwrap();
        set_cookie(&res).expect("a first visit sets a cookie")
    }

    pub async fn connect_with_origin(
        &self,
        invite_key: &str,
        origin: Option<&str>,
    ) -> Result<Viewer, tokio_tungstenite::tungstenite::Error> {
        self.connect_as(invite_key, origin, None).await
    }

    /// Connects with an optional Origin and identity cookie.
    pub async fn connect_as(
        &self,
        invite_key: &str,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Viewer, tokio_tungstenite::tungstenite::Error> {
        let url = format!("ws://{}/ws/watch/{invite_key}", self.host);
        let mut request = url.into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("Cookie", format!("wewatch={cookie}").parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Viewer { socket })
    }

    /// Connects and completes `hello` → `welcome`.
    pub async fn join(&self, invite_key: &str) -> (Viewer, Value) {
        self.join_as(invite_key, None).await
    }

    /// Connects as the guest holding `cookie` (a new guest when `None`) and says hello.
    pub async fn join_as(&self, invite_key: &str, cookie: Option<&str>) -> (Viewer, Value) {
        let mut viewer = self
            .connect_as(invite_key, Some(&self.address), cookie)
            .await
            .expect("the upgrade succeeds");
        viewer
            .send(serde_json::json!({"type": "hello", "protocol": 1}))
            .await;
        let welcome = viewer.expect("welcome").await;
        (viewer, welcome)
    }
}

/// Messages on subscribed channels.
pub struct Channels {
    _link: wewatch::managers::store::PubSubLink,
    pushes: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
}

impl Channels {
    /// The channel of the next message (waiting at most 10 s).
    pub async fn next_message(&mut self) -> String {
        loop {
            let push = tokio::time::timeout(Duration::from_secs(10), self.pushes.recv())
                .await
                .expect("a message within 10 s")
                .expect("the subscription is open");
            if matches!(
                push.kind,
                redis::PushKind::SMessage | redis::PushKind::Message
            ) {
                return match push.data.into_iter().next() {
                    Some(redis::Value::BulkString(bytes)) => String::from_utf8(bytes).unwrap(),
                    other => panic!("a message without a channel: {other:?}"),
                };
            }
        }
    }
}

/// Every key of a test's prefix: its `DUMP` and its time to live in ms (-1: none).
#[derive(Debug, Default, Clone)]
pub struct Snapshot(pub std::collections::BTreeMap<String, (Vec<u8>, i64)>);

/// Fails unless `after` holds the same keys with the same contents as `before`, none given a
/// longer life (an EXPIRE is a write too).
pub fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    let names = |s: &Snapshot| s.0.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(after), names(before), "{what}: the same keys");
    for (key, (dump, ttl)) in &before.0 {
        let (dump_after, ttl_after) = &after.0[key];
        assert!(dump_after == dump, "{what}: {key} changed");
        assert_eq!(*ttl_after < 0, *ttl < 0, "{what}: {key} expiry changed");
        assert!(ttl_after <= ttl, "{what}: {key} lives longer");
    }
}

/// Sends a request and reads its JSON answer (whatever the status).
pub trait JsonBody {
    async fn json_body(self) -> Value;
}

impl JsonBody for reqwest::RequestBuilder {
    async fn json_body(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// The cookie value a response set, if any.
pub fn set_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wewatch="))
        .map(|v| v["wewatch=".len()..].split(';').next().unwrap().to_owned())
}

/// The user id inside a cookie value (`{id}.{token}.{signature}`).
pub fn cookie_user(value: &str) -> u64 {
    value.split('.').next().unwrap().parse().unwrap()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A party connection.
pub struct Viewer {
    pub socket: Socket,
}

/// How long a test waits for an expected message before failing.
const WAIT: Duration = Duration::from_secs(30);

/// What the connection delivered next.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    Closed(Option<u16>),
}

impl Viewer {
    pub async fn send(&mut self, value: Value) {
        self.socket
            .send(Message::Text(value.to_string()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.unwrap();
    }

    /// The next text frame or close, skipping pings.
    pub async fn next(&mut self) -> Received {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Received::Json(serde_json::from_str(&text).unwrap())
                }
                Some(Ok(Message::Close(frame))) => {
                    return Received::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    /// Waits for a message of `kind`, skipping others (viewer lists, for example).
    pub async fn expect(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {kind} message in time"
            );
            match self.next().await {
                Received::Json(v) if v["type"] == kind => return v,
                Received::Json(_) => continue,
                Received::Closed(code) => panic!("closed ({code:?}) while waiting for {kind}"),
            }
        }
    }

    /// The next JSON message, whatever its type (waiting at most as long as `expect`).
    pub async fn expect_any(&mut self) -> Value {
        match tokio::time::timeout(WAIT, self.next()).await {
            Ok(Received::Json(v)) => v,
            Ok(Received::Closed(code)) => panic!("closed ({code:?}) while waiting for a message"),
            Err(_) => panic!("no message in time"),
        }
    }

    /// Waits for the connection to close, returning the close code.
    pub async fn expect_close(&mut self) -> (Option<Value>, Option<u16>) {
        let mut closed_frame = None;
        loop {
            match self.next().await {
                Received::Json(v) if v["type"] == "closed" => closed_frame = Some(v),
                Received::Json(_) => continue,
                Received::Closed(code) => return (closed_frame, code),
            }
        }
    }

    /// Waits for a `viewers` message listing `people` people.
    pub async fn expect_viewers(&mut self, people: usize) -> Value {
        loop {
            let v = self.expect("viewers").await;
            if v["viewers"].as_array().unwrap().len() == people {
                return v;
            }
        }
    }
}
