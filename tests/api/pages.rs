//! Pages and forms: display names, adding videos, CSRF, health.

use crate::helpers::{new_client, spawn_app, TestApp};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn a_display_name_can_be_changed_and_bad_names_are_explained() {
    let app = spawn_app().await;
    let html = app.home_with(&app.client).await;
    let csrf = TestApp::csrf(&html);
    let res = app
        .client
        .post(app.url("/name"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "  Ana  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = app.home_with(&app.client).await;
    assert!(html.contains("<strong>Ana</strong>"));
    let csrf = TestApp::csrf(&html);
    let long = "x".repeat(33);
    let res = app
        .client
        .post(app.url("/name"))
        .form(&[("csrf_token", csrf.as_str()), ("name", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("at most 32 characters"), "the page says why");
    assert!(
        app.home_with(&app.client)
            .await
            .contains("<strong>Ana</strong>"),
        "nothing was lost"
    );
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_or_from_another_site_are_refused() {
    let app = spawn_app().await;
    let html = app.home_with(&app.client).await;
    let csrf = TestApp::csrf(&html);
    let url = app.url("/static/media/sample-30s.webm");
    let missing = app
        .client
        .post(app.url("/videos"))
        .form(&[("url", url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let wrong = app
        .client
        .post(app.url("/videos"))
        .form(&[("csrf_token", "forged"), ("url", url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let cross_site = app
        .client
        .post(app.url("/videos"))
        .header("Origin", "https://evil.example")
        .form(&[("csrf_token", csrf.as_str()), ("url", url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    // Another user's token is no good either.
    let other = new_client();
    let other_csrf = TestApp::csrf(&app.home_with(&other).await);
    let foreign = app
        .client
        .post(app.url("/videos"))
        .form(&[("csrf_token", other_csrf.as_str()), ("url", url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let api = app
        .client
        .get(app.url("/api/v1/videos"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(api["total"], 0, "nothing was added");
}

#[tokio::test]
async fn a_rejected_link_is_explained_and_the_form_keeps_what_was_typed() {
    let app = spawn_app().await;
    let csrf = TestApp::csrf(&app.home_with(&app.client).await);
    let res = app
        .client
        .post(app.url("/videos"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("url", "https://vimeo.com/1234"),
            ("title", "My <b>film</b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(".mp4, .webm, .ogg or .m3u8"),
        "says what is accepted"
    );
    assert!(html.contains("vimeo.com&#x2F;1234"), "keeps the link");
    assert!(
        html.contains("My &lt;b&gt;film&lt;&#x2F;b&gt;")
            || html.contains("My &lt;b&gt;film&lt;/b&gt;"),
        "escaped"
    );
}

#[tokio::test]
async fn a_sample_is_added_with_one_click_and_served_with_ranges() {
    let app = spawn_app().await;
    let csrf = TestApp::csrf(&app.home_with(&app.client).await);
    let res = app
        .client
        .post(app.url("/videos/sample"))
        .form(&[("csrf_token", csrf.as_str()), ("sample", "sample-90s")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/videos/"), "{location}");
    let page = app
        .client
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"invite-link\""));
    assert!(page.contains("Sample clip (90 s)"));
    let media = app
        .client
        .get(app.url("/static/media/sample-90s.webm"))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 206, "seeking needs range requests");
    let unknown = app
        .client
        .post(app.url("/videos/sample"))
        .form(&[("csrf_token", csrf.as_str()), ("sample", "../secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
}

#[tokio::test]
async fn the_library_lists_newest_first_in_pages() {
    let app = spawn_app_with_page_size(2).await;
    app.home_with(&app.client).await;
    for n in 1..=3 {
        app.add_video_with(&app.client, &format!("https://example.com/clip-{n}.mp4"))
            .await;
    }
    let first = app.home_with(&app.client).await;
    let (newest, middle) = (
        first.find("clip-3.mp4").unwrap(),
        first.find("clip-2.mp4").unwrap(),
    );
    assert!(newest < middle, "newest first");
    assert!(!first.contains("clip-1.mp4"));
    assert!(first.contains("Page 1 of 2"));
    let second = app
        .client
        .get(app.url("/?page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(second.contains("clip-1.mp4"));
}

async fn spawn_app_with_page_size(size: usize) -> TestApp {
    crate::helpers::spawn_app_with(|s| s.library.page_size = size).await
}

#[tokio::test]
async fn unknown_pages_and_invite_keys_are_404() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/watch/AAAAAAAAAAAAAAAAAAAAAA",
        "/watch/short",
        "/videos/abc",
        "/videos/999",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_watch_page_opens_by_invite_key_for_anyone() {
    let app = spawn_app().await;
    let video = app.video().await;
    let stranger = new_client();
    let res = stranger
        .get(video["watch_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sample clip") || html.contains("sample-90s"));
    assert!(
        html.contains(video["invite_key"].as_str().unwrap()),
        "the page connects by its key"
    );
}

#[tokio::test]
async fn a_video_partys_page_serves_its_media_file_from_where_the_party_is() {
    let app = spawn_app().await;
    let video = app.video().await;
    let watch_url = video["watch_url"].as_str().unwrap();
    let page = |client: reqwest::Client| async move {
        let res = client.get(watch_url).send().await.unwrap();
        res.text().await.unwrap()
    };

    let fresh = page(new_client()).await;
    assert!(
        fresh.contains(r#"<video data-served"#)
            && fresh.contains(r#"sample-90s.webm" aria-labelledby"#),
        "a party at its start serves the file from its start:\n{fresh}"
    );

    let key = video["invite_key"].as_str().unwrap();
    let (mut viewer, _) = app.join(key).await;
    viewer
        .send(serde_json::json!({"type": "seek", "position_ms": 42_000}))
        .await;
    viewer.expect("state").await;
    let moved = page(new_client()).await;
    assert!(
        moved.contains(r#"sample-90s.webm#t=42"#),
        "a paused party at 42 s serves the file from there:\n{moved}"
    );
}
