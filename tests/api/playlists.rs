//! Playlists: CRUD and order through the API, and their parties.

use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, JsonBody, TestApp};

async fn create(app: &TestApp, title: &str) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/playlists"))
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn add(app: &TestApp, playlist: u64, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/playlists/{playlist}/items")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn ids(playlist: &Value) -> Vec<u64> {
    playlist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn playlists_can_be_created_filled_reordered_renamed_and_deleted() {
    let mut app = spawn_app().await;
    let video = app.video().await;
    let playlist = create(&app, "Movie night").await;
    let id = playlist["id"].as_u64().unwrap();
    assert_eq!(playlist["items"], json!([]));

    let from_library: Value = add(&app, id, json!({"video_id": video["id"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(from_library["title"], video["title"]);
    let by_url = add(
        &app,
        id,
        json!({"url": "https://youtu.be/dQw4w9WgXcQ", "title": "Song"}),
    )
    .await;
    assert_eq!(by_url.status(), 201);
    let third = add(
        &app,
        id,
        json!({"url": app.url("/static/media/sample-30s.webm")}),
    )
    .await;
    assert_eq!(third.status(), 201);
    let refused = add(&app, id, json!({"url": "https://vimeo.com/1"})).await;
    assert_eq!(refused.status(), 422);
    let not_mine = add(&app, id, json!({"video_id": 999_999})).await;
    assert_eq!(not_mine.status(), 422);

    let current: Value = app
        .client
        .get(app.url(&format!("/api/v1/playlists/{id}")))
        .json_body()
        .await;
    let order = ids(&current);
    assert_eq!(order.len(), 3);

    let moved: Value = app
        .client
        .post(app.url(&format!("/api/v1/playlists/{id}/items/{}/move", order[2])))
        .json(&json!({"index": 0}))
        .json_body()
        .await;
    assert_eq!(ids(&moved), vec![order[2], order[0], order[1]]);
    let to_end: Value = app
        .client
        .post(app.url(&format!("/api/v1/playlists/{id}/items/{}/move", order[2])))
        .json(&json!({"index": 99}))
        .json_body()
        .await;
    assert_eq!(ids(&to_end), vec![order[0], order[1], order[2]]);

    let removed = app
        .client
        .delete(app.url(&format!("/api/v1/playlists/{id}/items/{}", order[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let renamed: Value = app
        .client
        .patch(app.url(&format!("/api/v1/playlists/{id}")))
        .json(&json!({"title": "Film club"}))
        .json_body()
        .await;
    assert_eq!(renamed["title"], "Film club");
    assert_eq!(ids(&renamed), vec![order[0], order[2]]);

    let stranger = new_client();
    app.home_with(&stranger).await;
    assert_eq!(
        stranger
            .get(app.url(&format!("/api/v1/playlists/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        stranger
            .get(app.url(&format!("/playlists/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client
            .get(app.url(&format!("/playlists/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (viewer, _) = app.join(playlist["invite_key"].as_str().unwrap()).await;
    drop(viewer);
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/playlists/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let left: Vec<String> = app
        .keys()
        .await
        .into_iter()
        .filter(|k| k.contains("playlist"))
        .collect();
    assert!(
        left.iter().all(|k| k.ends_with("playlist:next_id")),
        "nothing of the playlist remains: {left:?}"
    );
}

#[tokio::test]
async fn a_playlist_party_plays_in_order_and_advances_when_an_item_ends() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let playlist = create(&app, "Two clips").await;
    let id = playlist["id"].as_u64().unwrap();
    let first: Value = add(
        &app,
        id,
        json!({"url": app.url("/static/media/sample-30s.webm")}),
    )
    .await
    .json()
    .await
    .unwrap();
    let second: Value = add(
        &app,
        id,
        json!({"url": app.url("/static/media/sample-90s.webm")}),
    )
    .await
    .json()
    .await
    .unwrap();
    let key = playlist["invite_key"].as_str().unwrap();

    let (mut a, welcome) = app.join(key).await;
    assert_eq!(welcome["state"]["media"], format!("item:{}", first["id"]));
    assert_eq!(welcome["playlist"]["items"].as_array().unwrap().len(), 2);
    let (mut b, _) = app.join(key).await;

    // The player reports a short duration, plays, and reports the end.
    a.send(json!({"type": "media_info", "duration_ms": 1000}))
        .await;
    a.expect("state").await;
    a.send(json!({"type": "play"})).await;
    a.expect("state").await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    a.send(json!({"type": "ended", "item_id": first["id"]}))
        .await;
    a.send(json!({"type": "ended", "item_id": first["id"]}))
        .await;
    let advanced = loop {
        let s = b.expect("state").await;
        if s["state"]["media"] != format!("item:{}", first["id"]) {
            break s;
        }
    };
    assert_eq!(advanced["state"]["media"], format!("item:{}", second["id"]));
    assert_eq!(advanced["state"]["paused"], false, "keeps playing");
    assert_eq!(advanced["state"]["position_ms"], 0);
    let (_, later) = app.join(key).await;
    assert_eq!(
        later["state"]["seq"], advanced["state"]["seq"],
        "a second `ended` advanced nothing"
    );

    // Jump back to the first item; skip moves forward; past the last is refused.
    a.send(json!({"type": "jump", "item_id": first["id"]}))
        .await;
    let jumped = b.expect("state").await;
    assert_eq!(jumped["state"]["media"], format!("item:{}", first["id"]));
    a.send(json!({"type": "skip"})).await;
    assert_eq!(
        b.expect("state").await["state"]["media"],
        format!("item:{}", second["id"])
    );
    a.send(json!({"type": "skip"})).await;
    assert_eq!(a.expect("error").await["code"], "last_item");
}

#[tokio::test]
async fn an_ended_report_before_the_end_is_ignored() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let playlist = create(&app, "Early").await;
    let id = playlist["id"].as_u64().unwrap();
    let first: Value = add(&app, id, json!({"url": "https://example.com/a.mp4"}))
        .await
        .json()
        .await
        .unwrap();
    add(&app, id, json!({"url": "https://example.com/b.mp4"})).await;
    let key = playlist["invite_key"].as_str().unwrap();
    let (mut a, _) = app.join(key).await;
    a.send(json!({"type": "media_info", "duration_ms": 60000}))
        .await;
    a.expect("state").await;
    a.send(json!({"type": "play"})).await;
    let playing = a.expect("state").await;
    a.send(json!({"type": "ended", "item_id": first["id"]}))
        .await;
    let (_, after) = app.join(key).await;
    assert_eq!(after["state"]["seq"], playing["state"]["seq"]);
    assert_eq!(after["state"]["media"], format!("item:{}", first["id"]));
}

#[tokio::test]
async fn removing_the_playing_item_moves_the_party_on_and_survives_in_redis() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let playlist = create(&app, "Edit live").await;
    let id = playlist["id"].as_u64().unwrap();
    let first: Value = add(&app, id, json!({"url": "https://example.com/a.mp4"}))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = add(&app, id, json!({"url": "https://example.com/b.mp4"}))
        .await
        .json()
        .await
        .unwrap();
    let key = playlist["invite_key"].as_str().unwrap();
    let (mut a, _) = app.join(key).await;
    app.client
        .delete(app.url(&format!("/api/v1/playlists/{id}/items/{}", first["id"])))
        .send()
        .await
        .unwrap();
    let list = a.expect("playlist").await;
    assert_eq!(ids(&list["playlist"]), vec![second["id"].as_u64().unwrap()]);
    let moved = a.expect("state").await;
    assert_eq!(moved["state"]["media"], format!("item:{}", second["id"]));

    // The current item and position live in Redis: a fresh application sees them.
    let again = crate::helpers::spawn_app_with(|s| s.redis.key_prefix = app.prefix.clone()).await;
    let (_, welcome) = again.join(key).await;
    assert_eq!(welcome["state"]["media"], format!("item:{}", second["id"]));
}

#[tokio::test]
async fn playlist_pages_work_with_forms() {
    let app = spawn_app().await;
    let html = app.home_with(&app.client).await;
    let csrf = TestApp::csrf(&html);
    let res = app
        .client
        .post(app.url("/playlists"))
        .form(&[("csrf_token", csrf.as_str()), ("title", "Series")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let add = app
        .client
        .post(app.url(&format!("{location}/items")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("url", "https://example.com/ep1.mp4"),
            ("title", "Episode 1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(add.status(), 303);
    let page = app
        .client
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Episode 1"));
    assert!(page.contains("id=\"invite-link\""));
    let bad = app
        .client
        .post(app.url(&format!("{location}/items")))
        .form(&[("csrf_token", csrf.as_str()), ("url", "nonsense")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains(".m3u8"));
    let home = app.home_with(&app.client).await;
    assert!(home.contains("Series"));
}

#[tokio::test]
async fn positions_are_checked_against_the_item_playing_now() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let playlist = create(&app, "Lengths").await;
    let id = playlist["id"].as_u64().unwrap();
    add(&app, id, json!({"url": "https://example.com/short.mp4"})).await;
    let long: Value = add(&app, id, json!({"url": "https://example.com/long.mp4"}))
        .await
        .json()
        .await
        .unwrap();
    let key = playlist["invite_key"].as_str().unwrap();
    let (mut x, _) = app.join(key).await;
    let (mut y, _) = app.join(key).await;
    x.send(json!({"type": "media_info", "duration_ms": 30000}))
        .await;
    x.expect("state").await;
    x.send(json!({"type": "seek", "position_ms": 60000})).await;
    assert_eq!(
        x.expect("error").await["code"],
        "invalid_position",
        "beyond the short item"
    );

    y.send(json!({"type": "jump", "item_id": long["id"]})).await;
    y.expect("state").await;
    y.send(json!({"type": "media_info", "duration_ms": 90000}))
        .await;
    loop {
        let s = x.expect("state").await;
        if s["state"]["duration_ms"] == 90000 {
            break;
        }
    }
    x.send(json!({"type": "seek", "position_ms": 60000})).await;
    let state = x.expect("state").await;
    assert_eq!(
        state["state"]["position_ms"], 60000,
        "another viewer's item switch is honoured"
    );
}
