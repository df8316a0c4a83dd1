//! A party as the tests and the benchmark drive it: a video added through a node, watchers
//! spread over nodes, seeks sent and seen by all.

use std::time::Duration;

use serde_json::{json, Value};

use crate::watcher::{guest, Watcher};

/// Adds the bundled sample through `base` as a new guest; the video.
pub async fn video(base: &str) -> Value {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    client.get(format!("{base}/")).send().await.unwrap();
    let res = client
        .post(format!("{base}/api/v1/videos"))
        .json(&json!({"url": format!("{base}/static/media/sample-90s.webm")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// `count` watchers of `invite`, the i-th joining through `bases[i % bases.len()]`.
pub async fn watchers(bases: &[String], invite: &str, count: usize) -> Vec<Watcher> {
    let mut all = Vec::new();
    for i in 0..count {
        let base = &bases[i % bases.len()];
        let cookie = guest(base).await;
        all.push(Watcher::start(base, invite, &cookie));
    }
    for w in &all {
        w.wait("joined", 30, |s| s.connected).await;
    }
    all
}

/// Waits until every watcher has seen the state with `seq`, and returns it.
pub async fn all_see(watchers: &[Watcher], seq: u64) -> Value {
    for w in watchers {
        w.wait(&format!("seq {seq}"), 60, |s| s.states.contains_key(&seq))
            .await;
    }
    watchers[0].seen().states[&seq].clone()
}

/// Sends a seek from `by` and waits until everyone has seen the state it made. Like a person
/// whose command was refused while the store was unavailable, the watcher sends it again
/// (with the same id: it is applied once) every few seconds until it is done.
pub async fn seek_seen_by_all(watchers: &[Watcher], by: usize, position_ms: u64, id: &str) -> u64 {
    let before = watchers[by].seen().seq;
    let command = json!({"type": "seek", "position_ms": position_ms, "cmd_id": id});
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        watchers[by].command(command.clone());
        if watchers[by]
            .within(3, |s| s.done.contains(id) && s.seq > before)
            .await
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the seek {id} was never applied"
        );
    }
    let seq = watchers[by].seen().seq;
    let state = all_see(watchers, seq).await;
    assert_eq!(state["position_ms"].as_f64().unwrap() as u64, position_ms);
    seq
}

pub fn party_of(video: &Value) -> String {
    format!("video:{}", video["id"])
}
