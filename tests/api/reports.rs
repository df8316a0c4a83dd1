//! The rules of `media_info`, `ended` and `unplayable` (docs/protocol.md, "Reports"): what a
//! player's report may change, and whose reports count.

use serde_json::{json, Value};

use crate::helpers::{cookie_user, spawn_app, TestApp, Viewer};

fn key(party: &Value) -> String {
    party["invite_key"].as_str().unwrap().to_owned()
}

/// Waits until `viewer`'s earlier messages have been handled: the session answers in order.
async fn handled(viewer: &mut Viewer) {
    viewer.send(json!({"type": "ping", "id": 7})).await;
    viewer.expect("pong").await;
}

/// The party's state as a newcomer receives it.
async fn state_of(app: &TestApp, invite_key: &str) -> Value {
    let (_, welcome) = app.join(invite_key).await;
    welcome["state"].clone()
}

/// The owner's host connection and a guest's, with the guest restricted (promoted mode).
async fn host_and_restricted_guest(app: &TestApp, invite_key: &str) -> (Viewer, Viewer, u64) {
    let (mut host, _) = app.join_as(invite_key, Some(&app.owner_cookie())).await;
    let guest = app.guest_cookie().await;
    let (mut viewer, _) = app.join_as(invite_key, Some(&guest)).await;
    host.send(json!({"type": "control_mode", "mode": "promoted"}))
        .await;
    assert_eq!(
        viewer.expect("permissions").await["permissions"]["mode"],
        "promoted"
    );
    (host, viewer, cookie_user(&guest))
}

/// A playlist of two items, owned by the main test user.
async fn playlist(app: &TestApp) -> (Value, u64, u64) {
    let (playlist, items) = app.playlist_with_items("Two", &["a", "b"]).await;
    (playlist, items[0], items[1])
}

async fn video_title(app: &TestApp, id: &Value) -> Value {
    let video: Value = app
        .client
        .get(app.url(&format!("/api/v1/videos/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    video["title"].clone()
}

#[tokio::test]
async fn implausible_durations_are_refused_and_the_owners_seeks_keep_working() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut host, _) = app.join_as(&key(&video), Some(&app.owner_cookie())).await;
    let (mut viewer, _) = app.join(&key(&video)).await;
    let table = [
        (json!(1), "one millisecond"),
        (json!(999), "just under a second"),
        (json!(0), "zero"),
        (json!(-90000), "negative"),
        (json!(1e17), "longer than any media"),
    ];
    for (duration, why) in table {
        viewer
            .send(json!({"type": "media_info", "duration_ms": duration}))
            .await;
        let refused = viewer.expect("error").await;
        assert_eq!(refused["code"], "invalid_duration", "{why}");
        assert!(
            refused["message"].as_str().unwrap().contains("1000 ms"),
            "{why}: the message names the shortest duration"
        );
    }
    assert_eq!(
        state_of(&app, &key(&video)).await["duration_ms"],
        Value::Null
    );

    host.send(json!({"type": "seek", "position_ms": 30000}))
        .await;
    let state = host.expect("state").await;
    assert_eq!(
        state["state"]["position_ms"], 30000,
        "the seek is not refused"
    );
}

#[tokio::test]
async fn the_first_duration_wins_and_a_later_report_never_shrinks_it() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut first, _) = app.join(&key(&video)).await;
    let (mut second, _) = app.join(&key(&video)).await;

    first
        .send(json!({"type": "media_info", "duration_ms": 90000}))
        .await;
    let known = first.expect("state").await["state"].clone();
    assert_eq!(known["duration_ms"], 90000);

    for shorter in [5000, 1000, 89999] {
        second
            .send(json!({"type": "media_info", "duration_ms": shorter}))
            .await;
    }
    second
        .send(json!({"type": "media_info", "duration_ms": 120000}))
        .await;
    handled(&mut second).await;
    let after = state_of(&app, &key(&video)).await;
    assert_eq!(
        after["duration_ms"].as_f64(),
        Some(90000.0),
        "the first report stays"
    );
    assert_eq!(after["seq"], known["seq"], "later reports change nothing");

    second
        .send(json!({"type": "seek", "position_ms": 60000}))
        .await;
    assert_eq!(second.expect("state").await["state"]["position_ms"], 60000);
}

#[tokio::test]
async fn a_restricted_viewer_cannot_set_the_duration_or_move_a_playlist_on() {
    let app = spawn_app().await;
    let (playlist, first, _) = playlist(&app).await;
    let invite = key(&playlist);
    let (_host, mut viewer, _) = host_and_restricted_guest(&app, &invite).await;
    let before = state_of(&app, &invite).await;

    // The attack that once skipped an item: a tiny duration, then `ended`.
    viewer
        .send(json!({"type": "media_info", "duration_ms": 1}))
        .await;
    assert_eq!(viewer.expect("error").await["code"], "invalid_duration");
    viewer
        .send(json!({"type": "media_info", "duration_ms": 1000}))
        .await;
    viewer
        .send(json!({"type": "ended", "item_id": first}))
        .await;
    handled(&mut viewer).await;

    let after = state_of(&app, &invite).await;
    assert_eq!(after["seq"], before["seq"], "nothing changed");
    assert_eq!(
        after["duration_ms"],
        Value::Null,
        "the duration stays unknown"
    );
    assert_eq!(after["media"], format!("item:{first}"), "the item stays");
}

#[tokio::test]
async fn ended_moves_a_playlist_on_only_near_the_end_and_only_for_a_controller() {
    let app = spawn_app().await;
    let (playlist, first, second) = playlist(&app).await;
    let invite = key(&playlist);
    let (mut host, mut viewer, _) = host_and_restricted_guest(&app, &invite).await;
    host.send(json!({"type": "media_info", "duration_ms": 3000, "media": format!("item:{first}")}))
        .await;
    host.expect("state").await;
    host.send(json!({"type": "play"})).await;
    let playing = host.expect("state").await["state"].clone();

    // Early: the timeline is still far from the end, even for the owner.
    host.send(json!({"type": "ended", "item_id": first})).await;
    handled(&mut host).await;
    assert_eq!(state_of(&app, &invite).await["seq"], playing["seq"]);

    tokio::time::sleep(std::time::Duration::from_millis(3300)).await;
    // At the end: a restricted viewer's report is still ignored…
    viewer
        .send(json!({"type": "ended", "item_id": first}))
        .await;
    handled(&mut viewer).await;
    let waiting = state_of(&app, &invite).await;
    assert_eq!(
        waiting["seq"], playing["seq"],
        "a restricted viewer skips nothing"
    );
    assert_eq!(waiting["media"], format!("item:{first}"));

    // …and a report about another item than the one playing counts for nothing either.
    host.send(json!({"type": "ended", "item_id": second})).await;
    handled(&mut host).await;
    assert_eq!(state_of(&app, &invite).await["seq"], playing["seq"]);

    // The owner's report at the end moves the party on, once.
    host.send(json!({"type": "ended", "item_id": first})).await;
    host.send(json!({"type": "ended", "item_id": first})).await;
    let moved = loop {
        let s = host.expect("state").await["state"].clone();
        if s["media"] != format!("item:{first}") {
            break s;
        }
    };
    assert_eq!(moved["media"], format!("item:{second}"));
    handled(&mut host).await;
    assert_eq!(
        state_of(&app, &invite).await["seq"],
        moved["seq"],
        "the second report moved nothing"
    );
}

#[tokio::test]
async fn a_duration_reported_for_another_item_is_not_taken_for_the_one_playing() {
    let app = spawn_app().await;
    let (playlist, first, second) = playlist(&app).await;
    let invite = key(&playlist);
    let (mut a, _) = app.join(&invite).await;

    a.send(json!({"type": "media_info", "duration_ms": 60000, "media": format!("item:{second}")}))
        .await;
    handled(&mut a).await;
    assert_eq!(state_of(&app, &invite).await["duration_ms"], Value::Null);

    a.send(json!({"type": "media_info", "duration_ms": 30000, "media": format!("item:{first}")}))
        .await;
    assert_eq!(a.expect("state").await["state"]["duration_ms"], 30000);
}

#[tokio::test]
async fn a_reported_title_never_replaces_the_owners_and_the_first_report_wins() {
    let app = spawn_app().await;
    let video = app.video().await;
    let invite = key(&video);
    let automatic = video["title"].clone();

    // The owner renames while a viewer watches: the viewer's player title does not undo it.
    let (mut viewer, _) = app.join(&invite).await;
    let renamed = app
        .client
        .patch(app.url(&format!("/api/v1/videos/{}", video["id"])))
        .json(&json!({"title": "Owner's cut"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    viewer
        .send(json!({"type": "media_info", "duration_ms": 90000, "title": "Spam title"}))
        .await;
    handled(&mut viewer).await;
    assert_eq!(video_title(&app, &video["id"]).await, "Owner's cut");

    // Even a rename back to the automatic title is the owner's choice, and stays.
    app.client
        .patch(app.url(&format!("/api/v1/videos/{}", video["id"])))
        .json(&json!({"title": automatic}))
        .send()
        .await
        .unwrap();
    viewer
        .send(json!({"type": "media_info", "duration_ms": 90000, "title": "Spam title"}))
        .await;
    handled(&mut viewer).await;
    assert_eq!(video_title(&app, &video["id"]).await, automatic);

    // A video with its automatic title takes the first reported title, and only that one.
    let other = app
        .add_video_with(&app.client, &app.url("/static/media/sample-30s.webm"))
        .await;
    let (mut a, _) = app.join(&key(&other)).await;
    let (mut b, _) = app.join(&key(&other)).await;
    a.send(json!({"type": "media_info", "duration_ms": 30000, "title": "Real title"}))
        .await;
    assert_eq!(b.expect("video").await["video"]["title"], "Real title");
    b.send(json!({"type": "media_info", "duration_ms": 30000, "title": "Later title"}))
        .await;
    handled(&mut b).await;
    assert_eq!(video_title(&app, &other["id"]).await, "Real title");
}

#[tokio::test]
async fn a_restricted_viewers_title_is_ignored_and_an_invisible_one_too() {
    let app = spawn_app().await;
    let video = app.video().await;
    let invite = key(&video);
    let automatic = video["title"].clone();
    let (mut host, mut viewer, guest) = host_and_restricted_guest(&app, &invite).await;
    viewer
        .send(json!({"type": "media_info", "duration_ms": 90000, "title": "From a guest"}))
        .await;
    handled(&mut viewer).await;
    assert_eq!(video_title(&app, &video["id"]).await, automatic);

    host.send(json!({"type": "media_info", "duration_ms": 90000, "title": "\u{200B}\u{3164}"}))
        .await;
    handled(&mut host).await;
    assert_eq!(video_title(&app, &video["id"]).await, automatic);

    assert_eq!(
        state_of(&app, &invite).await["duration_ms"].as_f64(),
        Some(90000.0),
        "the owner's duration counts"
    );

    // Promoted, the same viewer's report counts.
    host.send(json!({"type": "promote", "user_id": guest}))
        .await;
    viewer.expect("permissions").await;
    viewer
        .send(json!({"type": "media_info", "duration_ms": 90000, "title": "From a guest"}))
        .await;
    assert_eq!(
        viewer.expect("video").await["video"]["title"],
        "From a guest"
    );
}

#[tokio::test]
async fn an_item_nobody_can_play_is_passed_only_once_every_connection_watching_reports_it() {
    let app = spawn_app().await;
    let (playlist, first, second) = playlist(&app).await;
    let invite = key(&playlist);
    let (mut host, _) = app.join_as(&invite, Some(&app.owner_cookie())).await;
    let guest = app.guest_cookie().await;
    let (mut viewer, _) = app.join_as(&invite, Some(&guest)).await;
    // Read from the store, so no third connection joins the party to look.
    let mut store = app.redis.clone();
    let state_key = wewatch::managers::Keys::new(app.prefix.clone())
        .party_state(&format!("playlist:{}", playlist["id"]));
    let stored_media = |store: &mut wewatch::managers::StoreConnection| {
        let mut store = store.clone();
        let state_key = state_key.clone();
        async move {
            redis::cmd("HGET")
                .arg(&state_key)
                .arg("media")
                .query_async::<String>(&mut store)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored_media(&mut store).await, format!("item:{first}"));
    let unplayable =
        |item: u64, reason: &str| json!({"type": "unplayable", "item_id": item, "reason": reason});

    // One connection that cannot play the item is not everyone.
    host.send(unplayable(first, "embed_refused")).await;
    handled(&mut host).await;
    // A report about another item, or with a reason the protocol does not list, counts for nothing.
    viewer.send(unplayable(second, "unreachable")).await;
    viewer.send(unplayable(first, "blocked")).await;
    assert_eq!(viewer.expect("error").await["code"], "invalid_reason");
    handled(&mut viewer).await;
    assert_eq!(stored_media(&mut store).await, format!("item:{first}"));

    // The last connection watching that had not reported does so: the playlist moves on, and
    // everyone is told why.
    viewer.send(unplayable(first, "embed_refused")).await;
    let moved = loop {
        let s = host.expect("state").await["state"].clone();
        if s["media"] != format!("item:{first}") {
            break s;
        }
    };
    assert_eq!(moved["media"], format!("item:{second}"));
    let line = host.expect("chat").await["message"]["text"].clone();
    let line = line.as_str().unwrap();
    assert!(line.starts_with("Nobody here can play"), "{line}");
    assert!(line.contains("does not allow it"), "{line}");

    // The last item nobody can play leaves the playlist where it is (paused), and says so.
    host.send(unplayable(second, "not_found")).await;
    viewer.send(unplayable(second, "not_found")).await;
    let line = host.expect("chat").await["message"]["text"].clone();
    assert!(line.as_str().unwrap().contains("last item"), "{line}");
    assert_eq!(stored_media(&mut store).await, format!("item:{second}"));
}

#[tokio::test]
async fn a_video_party_has_no_items_to_pass() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut viewer, _) = app.join(&key(&video)).await;
    viewer
        .send(json!({"type": "unplayable", "item_id": 1, "reason": "unreachable"}))
        .await;
    assert_eq!(viewer.expect("error").await["code"], "not_a_playlist");
}
