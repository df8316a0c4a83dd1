//! A Redis holding data of the first key layout (no hash tags) is moved to the current one
//! when a server starts on it: videos, playlists, people and their tokens stay reachable.

use redis::AsyncCommands;
use wewatch::domain::InviteKey;
use wewatch::managers::store::connect;

use crate::helpers::{spawn_app_on, test_settings};

#[tokio::test]
async fn data_of_the_first_layout_is_moved_at_start() {
    let settings = test_settings();
    let p = settings.redis.key_prefix.clone();
    let store = connect(&settings.redis).await.unwrap();
    let mut conn = store.conn.clone();
    if conn.is_cluster() {
        // The first layout could never run on a cluster: nothing to move.
        let app = spawn_app_on(settings).await;
        let version: u32 = app.redis.clone().get(format!("{p}layout")).await.unwrap();
        assert_eq!(version, wewatch::managers::layout::CURRENT);
        return;
    }
    let invite = InviteKey::generate();
    let hash = "c".repeat(64);
    let k = |rest: &str| format!("{p}{rest}");
    redis::pipe()
        .hset_multiple(
            k("video:1"),
            &[
                ("owner", "1"),
                ("kind", "file"),
                ("source", "https://example.com/a.webm"),
                ("start_ms", "0"),
                ("title", "Old video"),
                ("invite_key", invite.as_str()),
                ("created_ms", "1"),
            ],
        )
        .set(k(&format!("invite:{}", invite.as_str())), "video:1")
        .hset_multiple(k("user:1"), &[("name", "Ana"), ("token", hash.as_str())])
        .set(k(&format!("auth:{hash}")), 1)
        .zadd(k("user:1:videos"), 1, 1)
        .hset(k("party:video:1:state"), "seq", 4)
        .hset(k("party:video:1:conns"), "c1", "{}")
        .set(k("chatrate:1"), 3)
        .set(k("video:next_id"), 1)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();

    let mut app = spawn_app_on(settings).await;

    // The node registry aside.
    let mut keys: Vec<String> = app
        .keys()
        .await
        .into_iter()
        .filter(|k| !k.contains("{nodes}"))
        .collect();
    keys.sort();
    let mut expected = vec![
        k("layout"),
        k("party:{video:1}"),
        k("party:{video:1}:state"),
        k(&format!("invite:{{{}}}", invite.as_str())),
        k("user:{1}"),
        k(&format!("user:{{1}}:auth:{hash}")),
        k("user:{1}:videos"),
        k("video:next_id"),
    ];
    expected.sort();
    assert_eq!(
        keys, expected,
        "moved, and what lives only while people watch dropped"
    );
    let title: String = app.redis.hget(k("party:{video:1}"), "title").await.unwrap();
    assert_eq!(title, "Old video");
    let seq: u64 = app
        .redis
        .hget(k("party:{video:1}:state"), "seq")
        .await
        .unwrap();
    assert_eq!(seq, 4);
    // The old invite link opens the moved party.
    let res = reqwest::get(app.url(&format!("/watch/{}", invite.as_str())))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Old video"));
}
