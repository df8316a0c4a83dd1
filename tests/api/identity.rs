//! Anonymous identity: creation, rotation with a grace window, tampering, and how long a
//! guest is kept.

use sha2::{Digest, Sha256};

use crate::helpers::{cookie_user, new_client, set_cookie, spawn_app, spawn_app_with, TestApp};

async fn visit(app: &crate::helpers::TestApp, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut req = client.get(app.url("/"));
    if let Some(cookie) = cookie {
        req = req.header("Cookie", format!("wewatch={cookie}"));
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res
}

#[tokio::test]
async fn a_first_visit_creates_a_guest_with_a_signed_http_only_cookie() {
    let app = spawn_app().await;
    let res = visit(&app, None).await;
    let header = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    let html = res.text().await.unwrap();
    assert!(html.contains("Guest-"), "the page names the guest");
}

#[tokio::test]
async fn every_page_visit_replaces_the_token_for_the_same_user() {
    let app = spawn_app().await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let second = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    assert_ne!(first, second);
    assert_eq!(cookie_user(&first), cookie_user(&second));
}

#[tokio::test]
async fn two_parallel_requests_with_the_same_old_token_both_succeed() {
    let app = spawn_app().await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let (a, b) = tokio::join!(visit(&app, Some(&first)), visit(&app, Some(&first)));
    let (a, b) = (set_cookie(&a).unwrap(), set_cookie(&b).unwrap());
    assert_eq!(cookie_user(&a), cookie_user(&first));
    assert_eq!(cookie_user(&b), cookie_user(&first));
    // Both successors work afterwards (one is current, the other in its grace window).
    assert_eq!(
        cookie_user(&set_cookie(&visit(&app, Some(&a)).await).unwrap()),
        cookie_user(&first)
    );
}

#[tokio::test]
async fn a_token_two_rotations_old_is_refused() {
    let app = spawn_app().await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let second = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    let _third = set_cookie(&visit(&app, Some(&second)).await).unwrap();
    let stale = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    assert_ne!(
        cookie_user(&stale),
        cookie_user(&first),
        "a fresh guest, not the old user"
    );
}

#[tokio::test]
async fn a_rotated_out_token_stops_working_after_the_grace_window() {
    let app = crate::helpers::spawn_app_with(|s| s.identity.token_grace_secs = 1).await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let _second = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let after = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    assert_ne!(cookie_user(&after), cookie_user(&first));
}

#[tokio::test]
async fn a_tampered_cookie_silently_yields_a_fresh_user() {
    let app = spawn_app().await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let user = cookie_user(&first);
    // Claim another user id with the same token and signature.
    let forged = format!("{}{}", user + 1, &first[user.to_string().len()..]);
    let res = visit(&app, Some(&forged)).await;
    let fresh = set_cookie(&res).unwrap();
    assert_ne!(cookie_user(&fresh), user);
    for junk in ["garbage", "", "1.2.3", "%%%"] {
        let res = visit(&app, Some(junk)).await;
        assert!(set_cookie(&res).is_some(), "{junk:?} yields a fresh user");
    }
}

#[tokio::test]
async fn api_requests_check_the_token_without_rotating_it() {
    let app = spawn_app().await;
    let client = new_client();
    app.home_with(&client).await;
    let res = client.get(app.url("/api/v1/videos")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res).is_none(), "no new cookie on API calls");
}

/// Seconds until `key` (without the test's prefix) expires: -1 never, -2 gone.
async fn ttl(app: &mut TestApp, key: &str) -> i64 {
    redis::cmd("TTL")
        .arg(format!("{}{key}", app.prefix))
        .query_async(&mut app.redis)
        .await
        .unwrap()
}

async fn expire(app: &mut TestApp, key: &str, secs: i64) {
    redis::cmd("EXPIRE")
        .arg(format!("{}{key}", app.prefix))
        .arg(secs)
        .query_async::<()>(&mut app.redis)
        .await
        .unwrap();
}

/// The user record and the token record behind a cookie value.
fn records(cookie: &str) -> (String, String) {
    let token = cookie.split('.').nth(1).unwrap();
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Without the prefix, which the callers add.
    let keys = wewatch::managers::Keys::new("");
    let user = cookie_user(cookie);
    (keys.user(user), keys.auth(user, &hash))
}

#[tokio::test]
async fn a_guest_who_owns_nothing_is_kept_for_the_idle_time_after_each_visit() {
    let mut app = spawn_app().await;
    let idle = app.settings.identity.guest_idle_days as i64 * 24 * 3600;
    assert!(idle > 0, "server.toml forgets idle guests");
    let kept = |secs: i64| secs > idle - 60 && secs <= idle;

    let first = set_cookie(&visit(&app, None).await).unwrap();
    let (user, first_auth) = records(&first);
    let (a, b) = (ttl(&mut app, &user).await, ttl(&mut app, &first_auth).await);
    assert!(kept(a) && kept(b), "a new guest is kept {idle} s: {a}, {b}");

    // Time passes; the next visit keeps them for the whole idle time again.
    expire(&mut app, &user, 100).await;
    expire(&mut app, &first_auth, 100).await;
    let second = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    let (_, second_auth) = records(&second);
    let (a, b) = (
        ttl(&mut app, &user).await,
        ttl(&mut app, &second_auth).await,
    );
    assert!(kept(a) && kept(b), "renewed by a visit: {a}, {b}");
    let grace = app.settings.identity.token_grace_secs as i64;
    let old = ttl(&mut app, &first_auth).await;
    assert!(
        old > 0 && old <= grace,
        "the old token keeps only its grace: {old}"
    );

    // So does a request that checks the token without replacing it (the API, the party socket).
    expire(&mut app, &user, 100).await;
    expire(&mut app, &second_auth, 100).await;
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/videos"))
        .header("Cookie", format!("wewatch={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (a, b) = (
        ttl(&mut app, &user).await,
        ttl(&mut app, &second_auth).await,
    );
    assert!(kept(a) && kept(b), "renewed by an API request: {a}, {b}");
}

#[tokio::test]
async fn a_forgotten_guest_comes_back_as_a_new_guest() {
    let mut app = spawn_app().await;
    let first = set_cookie(&visit(&app, None).await).unwrap();
    let (user, _) = records(&first);
    redis::cmd("DEL")
        .arg(format!("{}{user}", app.prefix))
        .query_async::<()>(&mut app.redis)
        .await
        .unwrap();
    let next = set_cookie(&visit(&app, Some(&first)).await).unwrap();
    assert_ne!(cookie_user(&next), cookie_user(&first));
    assert_eq!(
        ttl(&mut app, &user).await,
        -2,
        "nothing of the old guest comes back"
    );
}

#[tokio::test]
async fn a_guest_with_a_video_or_a_playlist_is_kept_for_good() {
    let mut app = spawn_app().await;
    app.video().await;
    let (user, auth) = records(&app.owner_cookie());
    assert_eq!(
        ttl(&mut app, &user).await,
        -1,
        "the owner of a video is kept"
    );
    assert_eq!(ttl(&mut app, &auth).await, -1, "and so is their token");
    app.home_with(&app.client).await;
    let (_, next_auth) = records(&app.owner_cookie());
    assert_ne!(next_auth, auth);
    assert_eq!(
        ttl(&mut app, &user).await,
        -1,
        "a later visit keeps them so"
    );
    assert_eq!(ttl(&mut app, &next_auth).await, -1);

    let cookie = set_cookie(&visit(&app, None).await).unwrap();
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/playlists"))
        .header("Cookie", format!("wewatch={cookie}"))
        .json(&serde_json::json!({"title": "Friday"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (user, auth) = records(&cookie);
    assert_eq!(
        ttl(&mut app, &user).await,
        -1,
        "the owner of a playlist is kept"
    );
    assert_eq!(ttl(&mut app, &auth).await, -1);
}

#[tokio::test]
async fn with_no_idle_time_every_guest_is_kept() {
    let mut app = spawn_app_with(|s| s.identity.guest_idle_days = 0).await;
    let cookie = set_cookie(&visit(&app, None).await).unwrap();
    let (user, auth) = records(&cookie);
    assert_eq!(ttl(&mut app, &user).await, -1);
    assert_eq!(ttl(&mut app, &auth).await, -1);
}
