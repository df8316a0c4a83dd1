//! Input at the edge: page numbers, invisible titles and form bodies that are not text each
//! get a 4xx that says what was wrong, and store nothing.

use serde_json::{json, Value};

use crate::helpers::{assert_unchanged, spawn_app, TestApp};

const HUGE_PAGES: [(&str, &str); 7] = [
    ("0", "pages start at 1"),
    ("-1", "negative"),
    ("100000000000000000", "10^17"),
    ("18446744073709551615", "u64::MAX"),
    ("18446744073709551616", "past u64::MAX"),
    ("1e17", "an exponent"),
    ("NaN", "not a number"),
];

#[tokio::test]
async fn huge_or_malformed_page_numbers_are_refused_in_words() {
    let app = spawn_app().await;
    app.video().await;
    for list in ["videos", "playlists"] {
        for (page, why) in HUGE_PAGES {
            let res = app
                .client
                .get(app.url(&format!("/api/v1/{list}?page={page}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 422, "{list} {why}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "invalid_page", "{list} {why}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("pages are numbered from 1 to"),
                "{list} {why}: {body}"
            );
        }
        let first: Value = app
            .client
            .get(app.url(&format!("/api/v1/{list}?page=1")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first["page"], 1, "{list}");
    }
    for (page, why) in HUGE_PAGES {
        let res = app
            .client
            .get(app.url(&format!("/?page={page}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "home {why}");
        let html = res.text().await.unwrap();
        assert!(html.contains("pages are numbered from 1 to"), "home {why}");
    }
    let videos: Value = app
        .client
        .get(app.url("/api/v1/videos?page=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(videos["videos"], json!([]), "a page past the last is empty");
}

/// Titles of nothing visible, each with what it is made of.
const INVISIBLE_TITLES: [(&str, &str); 8] = [
    ("\u{200B}\u{200B}", "zero-width spaces"),
    ("\u{200E}\u{200F}", "direction marks"),
    ("\u{2060}\u{2064}", "word joiner and invisible plus"),
    ("\u{FEFF}", "a byte order mark"),
    ("\u{3164}\u{3164}", "Hangul fillers"),
    ("\u{115F}\u{1160}\u{FFA0}", "more Hangul fillers"),
    ("\u{0301}\u{0302}", "combining marks alone"),
    (" \u{00A0}\u{200B} ", "whitespace and a zero-width space"),
];

#[tokio::test]
async fn titles_of_nothing_visible_are_refused_by_the_api() {
    let mut app = spawn_app().await;
    let video = app.video().await;
    let (playlist, _) = app.playlist_with_items("Real", &[]).await;
    let before = app.snapshot().await;
    for (title, why) in INVISIBLE_TITLES {
        let requests = [
            app.client
                .post(app.url("/api/v1/videos"))
                .json(&json!({"url": "https://youtu.be/dQw4w9WgXcQ", "title": title})),
            app.client
                .patch(app.url(&format!("/api/v1/videos/{}", video["id"])))
                .json(&json!({ "title": title })),
            app.client
                .post(app.url("/api/v1/playlists"))
                .json(&json!({ "title": title })),
            app.client
                .patch(app.url(&format!("/api/v1/playlists/{}", playlist["id"])))
                .json(&json!({ "title": title })),
            app.client
                .post(app.url(&format!("/api/v1/playlists/{}/items", playlist["id"])))
                .json(&json!({"url": "https://youtu.be/dQw4w9WgXcQ", "title": title})),
        ];
        for request in requests {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), 422, "{why}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "invalid_title", "{why}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("at least one visible character"),
                "{why}: {body}"
            );
        }
    }
    assert_unchanged(&before, &app.snapshot().await, "nothing was stored");
}

/// Posts a raw form body with the page's CSRF token in front.
async fn post_form(app: &TestApp, path: &str, csrf: &str, rest: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &app.address)
        .body(format!("csrf_token={csrf}&{rest}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forms_refuse_text_that_is_not_utf8_and_titles_of_nothing_visible() {
    let mut app = spawn_app().await;
    let video = app.video().await;
    let home = app.home_with(&app.client).await;
    let csrf = TestApp::csrf(&home);
    let created = post_form(&app, "/playlists", &csrf, "title=Mine").await;
    assert_eq!(created.status(), 303);
    let playlist = created.headers()["location"].to_str().unwrap().to_owned();
    let vid = format!("/videos/{}", video["id"]);
    let before = app.snapshot().await;

    let not_text = [
        (
            "/videos",
            "url=https%3A%2F%2Fyoutu.be%2FdQw4w9WgXcQ&title=%FF",
            "title",
        ),
        (
            "/videos",
            "url=https%3A%2F%2Fyoutu.be%2FdQw4w9WgXcQ%C3",
            "url",
        ),
        (&format!("{vid}/rename"), "title=caf%C3", "title"),
        ("/playlists", "title=%ED%A0%80", "title"),
        (&format!("{playlist}/rename"), "title=%C0%AF", "title"),
        (&format!("{playlist}/items"), "url=x&title=%FE%FF", "title"),
        ("/name", "name=%FF%FE", "name"),
    ];
    for (path, rest, field) in not_text {
        let res = post_form(&app, path, &csrf, rest).await;
        assert_eq!(res.status(), 400, "{path} {rest}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "The “{field}” field holds bytes that are not valid text"
            )),
            "{path} {rest}: {html}"
        );
    }

    for (title, why) in INVISIBLE_TITLES {
        let encoded: String = title.bytes().map(|b| format!("%{b:02X}")).collect();
        for (path, rest) in [
            (
                "/videos".to_owned(),
                format!("url=https%3A%2F%2Fyoutu.be%2FdQw4w9WgXcQ&title={encoded}"),
            ),
            (format!("{vid}/rename"), format!("title={encoded}")),
            ("/playlists".to_owned(), format!("title={encoded}")),
            (format!("{playlist}/rename"), format!("title={encoded}")),
            ("/name".to_owned(), format!("name={encoded}")),
        ] {
            let res = post_form(&app, &path, &csrf, &rest).await;
            assert_eq!(res.status(), 422, "{path} {why}");
            let html = res.text().await.unwrap();
            assert!(
                html.contains("at least one visible character"),
                "{path} {why}"
            );
        }
    }

    // A move to a position no playlist has, through the form.
    for index in ["100000000000000000", "18446744073709551615"] {
        let res = post_form(
            &app,
            &format!("{playlist}/items/1/move"),
            &csrf,
            &format!("index={index}"),
        )
        .await;
        assert_eq!(res.status(), 422, "{index}");
        assert!(res.text().await.unwrap().contains("There is no position"));
    }
    for index in ["-1", "1e17", "NaN", ""] {
        let res = post_form(
            &app,
            &format!("{playlist}/items/1/move"),
            &csrf,
            &format!("index={index}"),
        )
        .await;
        assert_eq!(res.status(), 400, "{index:?}");
        assert!(
            res.text().await.unwrap().contains("not allowed"),
            "{index:?}"
        );
    }
    assert_unchanged(&before, &app.snapshot().await, "nothing was stored");
}
