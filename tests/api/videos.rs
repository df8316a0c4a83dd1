//! The library through the JSON API: add, list, rename, rotate, delete, ownership.

use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, JsonBody};

#[tokio::test]
async fn a_video_can_be_added_listed_renamed_rotated_and_deleted() {
    let mut app = spawn_app().await;
    app.home_with(&app.client).await;
    let res = app
        .client
        .post(app.url("/api/v1/videos"))
        .json(&json!({"url": "https://youtu.be/dQw4w9WgXcQ?t=42", "title": "Movie night"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let video: Value = res.json().await.unwrap();
    assert_eq!(video["title"], "Movie night");
    assert_eq!(video["kind"], "youtube");
    let key = video["invite_key"].as_str().unwrap().to_owned();
    assert!(key.len() >= 22, "128 bits or more");
    assert_eq!(video["watch_url"], app.url(&format!("/watch/{key}")));
    let id = video["id"].as_u64().unwrap();

    let list: Value = app.client.get(app.url("/api/v1/videos")).json_body().await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["videos"][0]["id"], id);

    let renamed: Value = app
        .client
        .patch(app.url(&format!("/api/v1/videos/{id}")))
        .json(&json!({"title": "Film club"}))
        .json_body()
        .await;
    assert_eq!(renamed["title"], "Film club");

    let rotated: Value = app
        .client
        .post(app.url(&format!("/api/v1/videos/{id}/invite")))
        .header("Content-Type", "application/json")
        .json_body()
        .await;
    let new_key = rotated["invite_key"].as_str().unwrap();
    assert_ne!(new_key, key);
    assert_eq!(
        app.client
            .get(app.url(&format!("/watch/{key}")))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "old link dead"
    );
    assert_eq!(
        app.client
            .get(app.url(&format!("/watch/{new_key}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Open the party once so state and presence exist, then delete.
    let (viewer, _) = app.join(new_key).await;
    drop(viewer);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/videos/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let left: Vec<String> = app
        .keys()
        .await
        .into_iter()
        .filter(|k| {
            !k.ends_with(":next_id")
                && !k.contains(":user:")
                && !k.contains(":auth:")
                && !k.contains(":guests_from:")
                && !k.contains("{nodes}")
                && !k.ends_with(":layout")
        })
        .collect();
    assert!(left.is_empty(), "nothing of the video remains: {left:?}");
    let user_videos: Vec<String> = app
        .keys()
        .await
        .into_iter()
        .filter(|k| k.ends_with(":videos"))
        .collect();
    assert!(
        user_videos.is_empty(),
        "the library index is empty: {user_videos:?}"
    );
    assert_eq!(
        app.client
            .get(app.url(&format!("/api/v1/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_rejected_url_gets_an_error_that_says_what_is_accepted() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    for (body, code) in [
        (json!({"url": "https://vimeo.com/1"}), "invalid_url"),
        (json!({"url": ""}), "invalid_url"),
        (
            json!({"url": "https://example.com/a.mp4", "title": "a\u{7}b"}),
            "invalid_title",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/videos"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"], code);
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    let res = app
        .client
        .post(app.url("/api/v1/videos"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_json");
}

#[tokio::test]
async fn another_users_video_is_404_by_id() {
    let app = spawn_app().await;
    let video = app.video().await;
    let id = video["id"].as_u64().unwrap();
    assert_eq!(
        app.client
            .get(app.url(&format!("/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let stranger = new_client();
    app.home_with(&stranger).await;
    for path in [format!("/videos/{id}"), format!("/api/v1/videos/{id}")] {
        assert_eq!(
            stranger.get(app.url(&path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    let res = stranger
        .delete(app.url(&format!("/api/v1/videos/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = stranger
        .patch(app.url(&format!("/api/v1/videos/{id}")))
        .json(&json!({"title": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.client
            .get(app.url(&format!("/api/v1/videos/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "still there"
    );
}

#[tokio::test]
async fn json_writes_need_json_and_a_same_origin() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let plain = app
        .client
        .post(app.url("/api/v1/videos"))
        .header("Content-Type", "text/plain")
        .body(r#"{"url":"https://e.com/a.mp4"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    let form = app
        .client
        .post(app.url("/api/v1/videos"))
        .form(&[("url", "https://e.com/a.mp4")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let cross = app
        .client
        .post(app.url("/api/v1/videos"))
        .header("Origin", "https://evil.example")
        .json(&json!({"url": "https://e.com/a.mp4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(
        cross.json::<Value>().await.unwrap()["error"],
        "origin_not_allowed"
    );
    let same = app
        .client
        .post(app.url("/api/v1/videos"))
        .header("Origin", app.address.clone())
        .json(&json!({"url": "https://e.com/a.mp4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 201);
}

#[tokio::test]
async fn the_same_link_added_twice_makes_two_independent_parties() {
    let app = spawn_app().await;
    app.home_with(&app.client).await;
    let a = app
        .add_video_with(&app.client, "https://example.com/x.webm")
        .await;
    let b = app
        .add_video_with(&app.client, "https://example.com/x.webm")
        .await;
    assert_ne!(a["id"], b["id"]);
    assert_ne!(a["invite_key"], b["invite_key"]);
}
