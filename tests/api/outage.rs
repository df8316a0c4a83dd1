//! Redis outages: each test runs the application against a redis-server of its own, which it
//! stops and starts again under the running application.

use std::future::Future;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, test_settings, TestApp};
use crate::metrics::{scrape, value};

/// How long a request may take before the test counts it as unanswered.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long a test waits for the application to recover after Redis returns.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);

/// A redis-server of one test, on a unix socket in its own temp dir, with the append-only
/// file of `redis.conf`. Each run is started through a shell that stops it (SIGTERM, which
/// lets it write its file, then waits for it) as soon as this side closes the shell's stdin,
/// so no server outlives the test.
struct OwnRedis {
    dir: tempfile::TempDir,
    server: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let mut redis = Self {
            dir: tempfile::tempdir().expect("temp dir"),
            server: None,
        };
        redis.restart();
        redis
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// Starts the server and waits until it accepts connections.
    fn restart(&mut self) {
        assert!(self.server.is_none(), "already running");
        let script = format!(
            "redis-server --port 0 --unixsocket '{sock}' --unixsocketperm 700 --dir '{dir}' \
             --appendonly yes --appendfsync everysec --save '' \
             --loglevel warning --logfile '{dir}/redis.log' & pid=$!; read _; kill $pid; wait $pid",
            sock = self.socket().display(),
            dir = self.dir.path().display()
        );
        let server = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .spawn()
            .expect("redis-server must be installed (make deps-test installs it)");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(self.socket()).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server and waits until it has exited.
    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            drop(server.stdin.take());
            server.wait().expect("the server stops");
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An application on `redis`, with its metrics on a listener of their own.
async fn app_on(redis: &OwnRedis) -> TestApp {
    let url = redis.url();
    spawn_app_with(move |s| {
        s.redis.url = url;
        s.metrics.port = Some(0);
    })
    .await
}

/// Waits until `check` passes, failing after [`RECOVERY_DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET path` with the main test user's client; panics when there is no answer in time.
async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .timeout(ANSWER_WITHIN)
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {path} was not answered: {err}"))
}

async fn status(app: &TestApp, path: &str) -> u16 {
    get(app, path).await.status().as_u16()
}

#[tokio::test]
async fn while_redis_is_down_everything_answers_503_and_recovers_when_it_returns() {
    // Arrange
    let mut redis = OwnRedis::start();
    let app = app_on(&redis).await;
    let video = app.video().await;
    let watch = format!("/watch/{}", video["invite_key"].as_str().unwrap());

    // Act
    redis.stop();

    // Assert: every kind of request is answered, and says why.
    let page = get(&app, "/").await;
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    let html = page.text().await.unwrap();
    assert!(html.contains("cannot reach its store"), "{html}");
    assert_eq!(status(&app, &watch).await, 503);
    let api = get(&app, "/api/v1/videos").await;
    assert_eq!(api.status(), 503);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    let created = app
        .client
        .post(app.url("/api/v1/videos"))
        .json(&json!({"url": app.url("/static/media/sample-90s.webm")}))
        .timeout(ANSWER_WITHIN)
        .send()
        .await
        .expect("a write is answered");
    assert_eq!(created.status(), 503);
    assert_eq!(status(&app, "/readyz").await, 503);
    assert_eq!(status(&app, "/healthz").await, 200);

    // Act
    redis.restart();
    let returned = Instant::now();

    // Assert: back to normal, with the data written before the outage.
    eventually("/readyz", || async { status(&app, "/readyz").await == 200 }).await;
    eventually("the home page", || async { status(&app, "/").await == 200 }).await;
    eventually("the API", || async {
        let res = get(&app, "/api/v1/videos").await;
        res.status() == 200 && res.json::<Value>().await.unwrap()["total"] == 1
    })
    .await;
    assert_eq!(status(&app, &watch).await, 200);
    eprintln!("recovered {:?} after Redis returned", returned.elapsed());
}

#[tokio::test]
async fn a_party_connection_stays_open_across_an_outage_and_follows_the_party_afterwards() {
    // Arrange
    let mut redis = OwnRedis::start();
    let app = app_on(&redis).await;
    let video = app.video().await;
    let invite_key = video["invite_key"].as_str().unwrap();
    let (mut viewer, welcome) = app.join(invite_key).await;
    assert_eq!(welcome["state"]["paused"], true);

    // Act: an outage long enough for the subscription to be retried several times.
    redis.stop();
    assert_eq!(status(&app, "/readyz").await, 503);
    // The viewer is told, and an action during the outage is refused without closing.
    let down = viewer.expect("store").await;
    assert_eq!(down["available"], false);
    viewer.send(json!({"type": "play"})).await;
    let refused = viewer.expect("error").await;
    assert_eq!(refused["code"], "store_unavailable", "{refused}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart();
    eventually("/readyz", || async { status(&app, "/readyz").await == 200 }).await;

    // Assert: the viewer hears the store is back, is registered again (its presence may
    // have been lost) and resynced; party events reach it again through the restored
    // subscription.
    while viewer.expect("store").await["available"] != true {}
    let (mut other, _) = app.join(invite_key).await;
    other.send(json!({"type": "play"})).await;
    loop {
        let state = viewer.expect("state").await;
        if state["state"]["paused"] == false {
            break;
        }
    }
    let metrics = scrape(&app).await;
    assert_eq!(value(&metrics, "wewatch_pubsub_subscriptions"), Some(1.0));
    let resubscribes = value(&metrics, "wewatch_pubsub_resubscribes_total");
    assert!(resubscribes.is_some_and(|n| n >= 1.0), "{metrics}");
}

#[tokio::test]
async fn the_server_waits_for_a_redis_that_starts_within_the_retry_time() {
    // Arrange: no Redis yet.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings();
    let mut redis = OwnRedis { dir, server: None };
    settings.redis.url = redis.url();
    settings.redis.startup_retry_secs = 30;

    // Act
    let building = tokio::spawn(wewatch::startup::Application::build(settings));
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();

    // Assert
    let app = building.await.unwrap();
    assert!(app.is_ok(), "{:?}", app.err());
}

#[tokio::test]
async fn the_server_started_without_redis_exits_with_the_reason_after_retrying() {
    // Arrange: the shipped settings, retrying for one second, and no Redis at the address.
    let dir = tempfile::tempdir().unwrap();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(manifest.join("server.toml")).unwrap();
    let retry_line = shipped
        .lines()
        .find(|l| l.starts_with("startup_retry_secs"))
        .expect("server.toml sets startup_retry_secs");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        shipped.replace(retry_line, "startup_retry_secs = 1"),
    )
    .unwrap();
    let missing = dir.path().join("no-redis.sock");

    // Act
    let started = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_wewatch"))
        .current_dir(&manifest)
        .env("WEWATCH_CONFIG", &config)
        .env("REDIS_URL", format!("redis+unix://{}", missing.display()))
        .env(
            "WEWATCH_SECRET_KEY",
            "outage-tests-secret-key-0123456789abcdef",
        )
        .env("WEWATCH_LOG_DIR", dir.path().join("logs"))
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            server.kill().unwrap();
            panic!("the server did not give up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = server.wait_with_output().unwrap();

    // Assert
    assert!(!output.status.success());
    assert!(started.elapsed() >= Duration::from_secs(1), "it retried");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let address = missing.display().to_string();
    assert!(
        stdout.contains(&format!(
            "cannot reach Redis at {address}; retrying for 1 s"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "cannot reach Redis at {address} after trying for 1 s"
        )),
        "{stderr}"
    );
}
