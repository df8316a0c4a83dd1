//! `/metrics`: off unless configured, behind a bearer token on the main port, open on a
//! listener of its own; what a party command leaves in it; and how few series any number
//! of unknown addresses adds.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use serde_json::json;
use wewatch::config::MetricsToken;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const TOKEN: &str = "a-metrics-token-for-the-tests";

/// An application whose metrics are served on a listener of their own, on a free port.
async fn app_with_metrics_port() -> TestApp {
    spawn_app_with(|s| s.metrics.port = Some(0)).await
}

/// The metrics text from the application's metrics listener.
pub async fn scrape(app: &TestApp) -> String {
    let address = app.metrics_address.as_ref().expect("a metrics listener");
    let res = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// Each series of a rendering: its name and labels, without the value.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.rsplit_once(' ').expect("a value").0.to_owned())
        .collect()
}

/// The value of one series, e.g. `wewatch_parties`.
pub fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_are_off_unless_configured() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none(), "no metrics listener");

    let res = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no token opens what is not there");
}

#[tokio::test]
async fn the_main_port_serves_metrics_only_to_the_bearer_of_the_token() {
    let app = spawn_app_with(|s| s.metrics.token = Some(MetricsToken::new(TOKEN))).await;
    let metrics = app.url("/metrics");

    let without = app.client.get(&metrics).send().await.unwrap();
    assert_eq!(without.status(), 401);
    assert_eq!(
        without.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    let basic = app
        .client
        .get(&metrics)
        .basic_auth("prometheus", Some(TOKEN));
    assert_eq!(basic.send().await.unwrap().status(), 401);
    let wrong = app.client.get(&metrics).bearer_auth(format!("{TOKEN}x"));
    assert_eq!(wrong.send().await.unwrap().status(), 403);
    let prefix = app.client.get(&metrics).bearer_auth(&TOKEN[..20]);
    assert_eq!(prefix.send().await.unwrap().status(), 403);

    let res = app
        .client
        .get(&metrics)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE wewatch_http_request_duration_seconds histogram"));
    assert!(
        text.contains(r#"{method="GET",route="/metrics",status="4xx",le="#),
        "the refused requests were timed: {text}"
    );
    assert!(!text.contains(TOKEN), "the token is never shown");
}

#[tokio::test]
async fn a_listener_of_its_own_serves_metrics_without_a_token() {
    let app = app_with_metrics_port().await;

    let text = scrape(&app).await;

    for name in [
        "wewatch_party_connections",
        "wewatch_viewers",
        "wewatch_parties",
        "wewatch_pubsub_subscriptions",
        "wewatch_pubsub_resubscribes_total",
        "wewatch_viewer_resyncs_total",
        "wewatch_node_heartbeats_total",
    ] {
        assert!(value(&text, name).is_some(), "{name} in {text}");
    }
    // One sharded channel per party with viewers here: none yet.
    assert_eq!(value(&text, "wewatch_pubsub_subscriptions"), Some(0.0));
    let main = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "without a token, not on the main port");
}

#[tokio::test]
async fn a_party_command_is_timed_from_its_session_to_its_publication() {
    let app = app_with_metrics_port().await;
    let video = app.video().await;
    let (mut viewer, _) = app.join(video["invite_key"].as_str().unwrap()).await;

    viewer.send(json!({"type": "play"})).await;
    viewer.expect("state").await;
    // The session handles one message at a time: once the pong is back, the command it
    // handled before has been recorded.
    viewer.send(json!({"type": "ping", "id": 1})).await;
    viewer.expect("pong").await;
    let text = scrape(&app).await;

    let count = value(
        &text,
        r#"wewatch_command_publish_duration_seconds_count{command="play"}"#,
    );
    assert!(count.is_some_and(|c| c > 0.0), "{text}");
    let buckets = text
        .lines()
        .filter(|l| {
            l.starts_with(r#"wewatch_command_publish_duration_seconds_bucket{command="play",le="#)
        })
        .count();
    assert!(buckets > 1, "a histogram, with buckets: {text}");
    let scripts = value(
        &text,
        r#"wewatch_redis_script_duration_seconds_count{script="party_command"}"#,
    );
    assert!(scripts.is_some_and(|c| c > 0.0), "{text}");
    assert_eq!(value(&text, "wewatch_party_connections"), Some(1.0));
    assert_eq!(value(&text, "wewatch_viewers"), Some(1.0));
    assert_eq!(value(&text, "wewatch_parties"), Some(1.0));
    assert_eq!(value(&text, "wewatch_pubsub_subscriptions"), Some(1.0));
}

#[tokio::test]
async fn ten_thousand_unknown_addresses_add_no_series() {
    let app = app_with_metrics_port().await;
    let methods = ["GET", "POST", "DELETE", "PROPFIND"];
    let shapes = [
        "/{}",
        "/x-{}/{}/{}",
        "/api/v1/{}",
        "/static/{}.js",
        "/{}?q={}",
    ];
    let request = |i: usize| {
        let method = reqwest::Method::from_bytes(methods[i % methods.len()].as_bytes()).unwrap();
        let shape = shapes[(i / methods.len()) % shapes.len()];
        let path = shape.replace("{}", &format!("{:016x}", rand::random::<u64>()));
        app.client.request(method, app.url(&path)).send()
    };
    let send_all = |range: std::ops::Range<usize>| {
        futures_util::stream::iter(range.map(request))
            .buffer_unordered(32)
            .for_each(|res| async move {
                let status = res.unwrap().status();
                assert!(status.is_client_error(), "{status}");
            })
    };
    // Every method and shape once, then ten thousand more with new addresses.
    let combinations = methods.len() * shapes.len();
    send_all(0..combinations).await;
    let before = series(&scrape(&app).await);

    send_all(combinations..combinations + 10_000).await;
    let after = scrape(&app).await;

    assert_eq!(series(&after), before, "the same series");
    let counted: f64 = after
        .lines()
        .filter(|l| l.starts_with("wewatch_http_request_duration_seconds_count{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert!(counted >= 10_000.0, "every request was counted");
}
