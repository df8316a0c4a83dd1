//! Anonymous identity: creation, rotation with a grace window, tampering.

use crate::helpers::{cookie_user, new_client, set_cookie, spawn_app};

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
