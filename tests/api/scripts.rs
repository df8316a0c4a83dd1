//! Every Lua script refuses hostile arguments before its first write: each row feeds one
//! script one bad argument (through the API or the party socket where that is the route, the
//! managers where a person cannot reach it, and the bare script for the rest) and checks the
//! caller got a clear refusal while nothing in Redis changed and nothing was published.

use serde_json::{json, Value};
use wewatch::domain::{PartyId, PlaylistId, PresenceEntry, VideoId, ViewerStatus};
use wewatch::managers::{scripts, CommandResult, Managers, PlaylistError};
use wewatch::sync::Command;

use crate::helpers::{assert_unchanged, cookie_user, spawn_app, TestApp};

/// A video and a two-item playlist with party state, chat and presence, all in Redis.
struct Fixture {
    app: TestApp,
    managers: Managers,
    owner: u64,
    video: Value,
    playlist: Value,
    items: Vec<u64>,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let video = app.video().await;
    let owner = cookie_user(&app.owner_cookie());
    let (playlist, items) = app.playlist_with_items("Hostile", &["a", "b"]).await;
    let store = wewatch::managers::store::connect(&app.settings.redis)
        .await
        .unwrap();
    let managers = Managers::new(store.conn, &app.settings);
    let parties = [
        PartyId::Video(VideoId(video["id"].as_u64().unwrap())),
        PartyId::Playlist(PlaylistId(playlist["id"].as_u64().unwrap())),
    ];
    for party in parties {
        managers.party.state(party).await.unwrap().unwrap();
        managers.chat.system(party, "A line").await.unwrap();
        let entry = PresenceEntry {
            user_id: owner,
            name: "Owner".into(),
            node: "n".into(),
            status: ViewerStatus::Watching,
            in_sync: true,
            left_behind: false,
            away: false,
            since: 1,
        };
        managers.party.join(party, "c1", &entry).await.unwrap();
        managers.party.leave(party, "gone", owner).await.unwrap();
    }
    Fixture {
        app,
        managers,
        owner,
        video,
        playlist,
        items,
    }
}

/// One bad call: which script, its keys and arguments, and words its refusal must contain.
struct Row {
    script: &'static str,
    source: &'static str,
    keys: Vec<String>,
    args: Vec<String>,
    refusal: &'static str,
}

fn row(script: &'static str, keys: &[&str], args: &[&str], refusal: &'static str) -> Row {
    let source = match script {
        "adopt_title" => scripts::ADOPT_TITLE,
        "authenticate" => scripts::AUTHENTICATE,
        "chat_post" => scripts::CHAT_POST,
        "delete_party" => scripts::DELETE_PARTY,
        "hset_if_exists" => scripts::HSET_IF_EXISTS,
        "keep_user" => scripts::KEEP_USER,
        "move_item" => scripts::MOVE_ITEM,
        "party_command" => scripts::PARTY_COMMAND,
        "presence_join" => scripts::PRESENCE_JOIN,
        "presence_leave" => scripts::PRESENCE_LEAVE,
        "rotate_invite" => scripts::ROTATE_INVITE,
        "rotate_token" => scripts::ROTATE_TOKEN,
        "settle_departure" => scripts::SETTLE_DEPARTURE,
        "unplayable_report" => scripts::UNPLAYABLE_REPORT,
        "node_register" => scripts::NODE_REGISTER,
        "node_heartbeat" => scripts::NODE_HEARTBEAT,
        "node_bury" => scripts::NODE_BURY,
        "presence_sweep" => scripts::PRESENCE_SWEEP,
        other => panic!("no script {other}"),
    };
    Row {
        script,
        source,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        args: args.iter().map(|a| a.to_string()).collect(),
        refusal,
    }
}

fn ks(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect()
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `base` with argument `at` (1-based, as ARGV counts) replaced by `value`.
fn with<S: AsRef<str>>(base: &[S], at: usize, value: &str) -> Vec<String> {
    let mut args: Vec<String> = base.iter().map(|a| a.as_ref().to_owned()).collect();
    args[at - 1] = value.to_owned();
    args
}

const U64_MAX: &str = "18446744073709551615";
/// Numbers no script may take for a count, an id, a position or a time.
const HOSTILE_NUMBERS: [&str; 10] = [
    "-1", "1e17", U64_MAX, "nan", "NaN", "inf", "-inf", "", "abc", "0x10",
];

#[tokio::test]
async fn every_script_refuses_hostile_arguments_and_changes_nothing() {
    let mut f = fixture().await;
    let keys = wewatch::managers::Keys::new(f.app.prefix.clone());
    let (video, playlist) = (f.video["id"].clone(), f.playlist["id"].clone());
    let (v, pl) = (format!("video:{video}"), format!("playlist:{playlist}"));
    let owner_id = f.owner;
    let owner = f.owner.to_string();
    let item = f.items[0].to_string();
    let hash = "a".repeat(64);
    let frame = r#"{"type":"closed"}"#;
    let video_root = keys.party_root(PartyId::Video(VideoId(video.as_u64().unwrap())));
    let playlist_root = keys.party_root(PartyId::Playlist(PlaylistId(playlist.as_u64().unwrap())));

    // The keys each script is given, as its manager builds them.
    let move_keys = [keys.playlist_order(&pl)];
    let command_keys = [
        keys.party_state(&v),
        video_root.clone(),
        keys.party_settings(&v),
        keys.party_controllers(&v),
        video_root.clone(),
        video_root.clone(),
        keys.party_chat(&v),
        keys.party_chat_seq(&v),
        keys.events(&v),
        keys.party_commands(&v),
    ];
    let command_args = [
        "seek",
        "1000",
        "Mallory",
        "150",
        "2000",
        "",
        &v,
        &owner,
        "video",
        "",
        "0",
        "500",
        "400",
        "360000000",
        "1000",
        "1500",
        "",
    ];
    let chat_keys = [
        keys.party_chat(&v),
        keys.party_chat_seq(&v),
        keys.chat_rate(&v, owner_id),
        keys.party_state(&v),
        video_root.clone(),
        keys.events(&v),
    ];
    let chat_args = ["user", &owner, "Owner", "hello", "500", "10", "10"];
    let presence_keys = [
        keys.party_conns(&pl),
        playlist_root.clone(),
        keys.party_people(&pl),
        keys.party_departed(&pl),
    ];
    let entry = r#"{"user_id":1,"name":"x","node":"n","status":"watching","since":1}"#;
    let unplayable_keys = [
        keys.party_state(&pl),
        keys.party_conns(&pl),
        keys.party_unplayable(&pl),
    ];
    let leave_keys = [
        keys.party_conns(&pl),
        keys.party_people(&pl),
        keys.party_departed(&pl),
        playlist_root.clone(),
    ];
    let auth = keys.auth(owner_id, &hash);
    let user = keys.user(owner_id);
    let new_auth = keys.auth(owner_id, "new");
    let auth_prefix = keys.auth_prefix(owner_id);
    let delete_keys = [video_root.clone(), keys.events(&v), keys.party_state(&v)];
    // The node registry's keys under a tag of their own here: the snapshots leave the live
    // registry out, but these must not change either.
    let registry = |what: &str| format!("{}{{rows}}:{what}", f.app.prefix);
    let register_keys = [registry("node:n1"), registry("index"), registry("epoch")];
    let bury_keys = [registry("node:n1"), registry("index"), registry("buried")];
    redis::pipe()
        .hset(&register_keys[1], "n1", 1)
        .zadd(&bury_keys[2], "old", 1)
        .rpush(registry("list"), "x")
        .query_async::<()>(&mut f.app.redis.clone())
        .await
        .unwrap();
    let sweep_keys = [
        keys.party_conns(&pl),
        keys.party_people(&pl),
        keys.party_departed(&pl),
        playlist_root.clone(),
    ];

    let mut rows = Vec::new();
    for bad in HOSTILE_NUMBERS {
        rows.push(row(
            "move_item",
            &ks(&move_keys),
            &[&item, bad, "200"],
            "the index",
        ));
        rows.push(row(
            "move_item",
            &ks(&move_keys),
            &[bad, "0", "200"],
            "the item id",
        ));
        for (command, at, what) in [
            ("seek", 2, "the position"),
            ("pause", 2, "the position"),
            ("rate", 2, "the rate"),
            ("duration", 2, "the duration"),
            ("jump", 2, "the item id"),
            ("ended", 2, "the item id"),
            ("unplayable", 2, "the item id"),
            ("seek", 8, "the user id"),
            ("seek", 4, "the play lead"),
            ("seek", 12, "the messages kept"),
        ] {
            if command == "pause" && bad == "-1" {
                continue; // -1 is how a pause says "no position"
            }
            let args = with(&with(&command_args, 1, command), at, bad);
            rows.push(row("party_command", &ks(&command_keys), &refs(&args), what));
        }
        for (at, what) in [
            (2, "the user id"),
            (5, "the messages kept"),
            (7, "the window"),
        ] {
            let args = with(&chat_args, at, bad);
            rows.push(row("chat_post", &ks(&chat_keys), &refs(&args), what));
        }
        rows.push(row(
            "settle_departure",
            &[&keys.party_departed(&pl)],
            &[&owner, bad],
            "the departure time",
        ));
        rows.push(row(
            "presence_join",
            &ks(&presence_keys),
            &["c2", entry, bad],
            "the user id",
        ));
        rows.push(row(
            "presence_leave",
            &ks(&leave_keys),
            &["c1", bad],
            "the user id",
        ));
        rows.push(row(
            "authenticate",
            &[&auth, &user],
            &[&owner, &hash, bad],
            "the idle time",
        ));
        rows.push(row(
            "rotate_token",
            &[&auth, &user, &new_auth],
            &[&owner, &hash, &"b".repeat(64), bad, &auth_prefix, "0"],
            "the grace time",
        ));
    }
    // Ranges, words, counts, types and existence.
    let too_far = with(&command_args, 2, "360000001");
    let slow = with(&with(&command_args, 1, "rate"), 2, "0.1");
    let short = with(&with(&command_args, 1, "duration"), 2, "999");
    let odd = with(&command_args, 1, "dance");
    let room = with(&command_args, 9, "room");
    let spare = with(&with(&command_args, 1, "play"), 2, "5");
    let mut fewer = command_args.to_vec();
    fewer.pop();
    let mut wrong_type = command_keys.to_vec();
    wrong_type[3] = keys.party_chat(&v);
    let bot = with(&chat_args, 1, "bot");
    let silent = with(&chat_args, 4, "");
    let nobody = with(&chat_args, 2, "0");
    rows.extend([
        row(
            "move_item",
            &ks(&move_keys),
            &[&item, "201", "200"],
            "between 0 and 200",
        ),
        row(
            "move_item",
            &ks(&move_keys),
            &[&item, "0"],
            "expected 3 arguments",
        ),
        row(
            "move_item",
            &[&keys.playlist_items(&pl)],
            &[&item, "0", "200"],
            "holds a hash, not a list",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&too_far),
            "the position",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&slow),
            "the rate",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&short),
            "the duration",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&odd),
            "the command",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&room),
            "the party kind",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &refs(&spare),
            "the number of play",
        ),
        row(
            "party_command",
            &ks(&command_keys),
            &fewer,
            "expected 17 arguments",
        ),
        row(
            "party_command",
            &ks(&command_keys[..9]),
            &command_args,
            "expected 10 keys",
        ),
        row(
            "party_command",
            &ks(&wrong_type),
            &command_args,
            "holds a list, not a set",
        ),
        row("chat_post", &ks(&chat_keys), &refs(&bot), "the kind"),
        row("chat_post", &ks(&chat_keys), &refs(&silent), "the text"),
        row(
            "chat_post",
            &ks(&chat_keys),
            &refs(&nobody),
            "a user message needs a user id",
        ),
        row(
            "hset_if_exists",
            &[&keys.party_settings(&v), &video_root],
            &["", "1"],
            "the field",
        ),
        row(
            "hset_if_exists",
            &[&keys.party_settings(&v), &video_root],
            &["control", ""],
            "the value",
        ),
        row(
            "hset_if_exists",
            &[&keys.party_chat(&v), &video_root],
            &["control", "x"],
            "holds a list, not a hash",
        ),
        row("keep_user", &[&user], &[""], "the auth key prefix"),
        row("keep_user", &[&user], &[], "expected 1 arguments"),
        row(
            "presence_join",
            &ks(&presence_keys),
            &["", entry, &owner],
            "the connection id",
        ),
        row(
            "presence_join",
            &ks(&presence_keys),
            &["c2", "not json", &owner],
            "the presence entry",
        ),
        row(
            "presence_leave",
            &ks(&leave_keys),
            &["", &owner],
            "the connection id",
        ),
        row(
            "authenticate",
            &[&auth, &user],
            &[&owner, "zz", "0"],
            "the token hash",
        ),
        row(
            "rotate_token",
            &[&auth, &user, &new_auth],
            &[&owner, &hash, &hash, "60", &auth_prefix, "0"],
            "must differ",
        ),
        row("delete_party", &[&video_root], &[frame], "expected 2 keys"),
        row(
            "delete_party",
            &ks(&delete_keys),
            &["not json"],
            "the closed frame",
        ),
        row(
            "delete_party",
            &ks(&delete_keys),
            &[frame, "extra"],
            "expected 1 arguments",
        ),
        row(
            "rotate_invite",
            &[&video_root, &keys.events(&v)],
            &["", frame],
            "the new key",
        ),
        row(
            "rotate_invite",
            &[&video_root, &keys.events(&v)],
            &[f.video["invite_key"].as_str().unwrap(), frame],
            "must differ",
        ),
        row(
            "adopt_title",
            &[&video_root, &keys.events(&v)],
            &["auto", "", frame],
            "the reported title",
        ),
        row(
            "adopt_title",
            &[&video_root, &keys.events(&v)],
            &["auto", "New", "{"],
            "the video frame",
        ),
        row(
            "settle_departure",
            &[&keys.party_departed(&pl)],
            &["0", "5"],
            "the user id",
        ),
        row(
            "unplayable_report",
            &ks(&unplayable_keys),
            &["", &format!("item:{item}")],
            "the connection id",
        ),
        row(
            "unplayable_report",
            &ks(&unplayable_keys),
            &["c1", ""],
            "the media",
        ),
        row(
            "unplayable_report",
            &ks(&unplayable_keys[..2]),
            &["c1", &format!("item:{item}")],
            "keys",
        ),
        row(
            "node_register",
            &ks(&register_keys),
            &["", "1000"],
            "the node id",
        ),
        row(
            "node_register",
            &ks(&register_keys),
            &["n1", "5"],
            "the heartbeat lifetime",
        ),
        row(
            "node_register",
            &ks(&register_keys),
            &["n1", "1000", "x"],
            "expected 2 arguments",
        ),
        row(
            "node_heartbeat",
            &ks(&register_keys[..2]),
            &["n1", "abc", "1000"],
            "the epoch",
        ),
        row(
            "node_heartbeat",
            &ks(&register_keys[..2]),
            &["n1", "1", "99"],
            "the heartbeat lifetime",
        ),
        row("node_bury", &ks(&bury_keys), &[""], "the node id"),
        row(
            "node_bury",
            &[&register_keys[0], &registry("list"), &bury_keys[2]],
            &["n1"],
            "holds a list, not a hash",
        ),
        row("presence_sweep", &ks(&sweep_keys), &[""], "the node id"),
        row(
            "presence_sweep",
            &ks(&sweep_keys[..3]),
            &["n1"],
            "expected 4 keys",
        ),
    ]);

    let scripts_seen: std::collections::BTreeSet<_> = rows.iter().map(|r| r.script).collect();
    assert_eq!(
        scripts_seen.len(),
        scripts::ALL.len(),
        "every script has rows: {scripts_seen:?}"
    );

    // Every channel a script could publish to, and a marker in each of their slots: after
    // each row, both markers must be the next messages.
    let markers = [
        format!(
            "{}:marker",
            keys.party_root(PartyId::Video(VideoId(video.as_u64().unwrap())))
        ),
        format!("{}:marker", playlist_root),
    ];
    let mut published = f
        .app
        .watch_channels(&[
            keys.events(&v),
            keys.events(&pl),
            markers[0].clone(),
            markers[1].clone(),
        ])
        .await;

    let mut conn = f.app.redis.clone();
    for (n, r) in rows.iter().enumerate() {
        let what = format!("row {n}: {} {:?} {:?}", r.script, r.args, r.refusal);
        let before = f.app.snapshot().await;
        let script = redis::Script::new(r.source);
        let mut invocation = script.prepare_invoke();
        for key in &r.keys {
            invocation.key(key);
        }
        for arg in &r.args {
            invocation.arg(arg);
        }
        let err = invocation
            .invoke_async::<redis::Value>(&mut conn)
            .await
            .expect_err(&what);
        assert_eq!(err.code(), Some(scripts::INVALID), "{what}: {err}");
        let refusal = scripts::refusal(&err).unwrap();
        assert!(refusal.contains(r.refusal), "{what}: {refusal}");
        assert_unchanged(&before, &f.app.snapshot().await, &what);
        for marker in &markers {
            redis::cmd("SPUBLISH")
                .arg(marker)
                .arg(n)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        while seen.len() < markers.len() {
            let channel = published.next_message().await;
            assert!(markers.contains(&channel), "{what}: published to {channel}");
            seen.push(channel);
        }
    }
}

#[tokio::test]
async fn hostile_commands_through_the_managers_are_refused_and_change_nothing() {
    let mut f = fixture().await;
    let video = PartyId::Video(VideoId(f.video["id"].as_u64().unwrap()));
    let playlist = PartyId::Playlist(PlaylistId(f.playlist["id"].as_u64().unwrap()));
    let table = [
        (
            video,
            Command::Seek { position_ms: 1e17 },
            "a position of 10^17",
        ),
        (
            video,
            Command::Seek { position_ms: -1.0 },
            "a negative position",
        ),
        (
            video,
            Command::Seek {
                position_ms: f64::NAN,
            },
            "NaN",
        ),
        (
            video,
            Command::Seek {
                position_ms: f64::INFINITY,
            },
            "infinity",
        ),
        (
            video,
            Command::Pause {
                position_ms: Some(-5.0),
            },
            "a negative pause",
        ),
        (video, Command::Rate { rate: f64::NAN }, "a NaN rate"),
        (video, Command::Rate { rate: 1e17 }, "a huge rate"),
        (
            video,
            Command::Duration { duration_ms: 1.0 },
            "a 1 ms duration",
        ),
        (
            video,
            Command::Duration {
                duration_ms: f64::INFINITY,
            },
            "an infinite duration",
        ),
        (playlist, Command::Jump { item: u64::MAX }, "item u64::MAX"),
        (playlist, Command::Jump { item: 0 }, "item 0"),
        (
            playlist,
            Command::Ended { item: u64::MAX },
            "ended u64::MAX",
        ),
    ];
    for (party, command, why) in table {
        let before = f.app.snapshot().await;
        let result = f
            .managers
            .party
            .apply(party, command, f.owner, "Owner", None, None)
            .await
            .unwrap();
        assert!(
            matches!(&result, CommandResult::Refused(code) if code == "bad_message"),
            "{why}: {result:?}"
        );
        assert_unchanged(&before, &f.app.snapshot().await, why);
    }
    let unknown = f
        .managers
        .party
        .apply(
            playlist,
            Command::Jump { item: 999_999 },
            f.owner,
            "Owner",
            None,
            None,
        )
        .await
        .unwrap();
    assert!(matches!(unknown, CommandResult::Refused(code) if code == "no_such_item"));

    let list = f
        .managers
        .playlists
        .get(PlaylistId(f.playlist["id"].as_u64().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let before = f.app.snapshot().await;
    for (item, index, why) in [
        (f.items[0], usize::MAX, "index usize::MAX"),
        (f.items[0], 100_000_000_000_000_000, "index 10^17"),
        (f.items[0], 201, "just past the most items"),
        (999_999, 0, "an unknown item"),
        (u64::MAX, 0, "item u64::MAX"),
    ] {
        let err = f
            .managers
            .playlists
            .move_item(&list, item, index, 200)
            .await
            .expect_err(why);
        assert!(
            matches!(
                err,
                PlaylistError::NoSuchPosition { .. }
                    | PlaylistError::NoSuchItem
                    | PlaylistError::Refused(_)
            ),
            "{why}: {err:?}"
        );
    }
    assert!(f
        .managers
        .party
        .settle_departure(playlist, u64::MAX, u64::MAX)
        .await
        .is_err());
    assert!(f.managers.party.leave(playlist, "", f.owner).await.is_err());
    assert_unchanged(&before, &f.app.snapshot().await, "moves");
}

#[tokio::test]
async fn hostile_requests_and_messages_are_refused_and_change_nothing() {
    let mut f = fixture().await;
    let id = f.playlist["id"].clone();
    let item = f.items[0];
    let (mut viewer, _) = f.app.join(f.video["invite_key"].as_str().unwrap()).await;
    let (mut lister, _) = f.app.join(f.playlist["invite_key"].as_str().unwrap()).await;
    // Arrivals settle (presence, the viewer list) before the first snapshot.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let moves = [
        (
            r#"{"index": 100000000000000000}"#.to_owned(),
            422,
            "invalid_index",
        ),
        (format!(r#"{{"index": {U64_MAX}}}"#), 422, "invalid_index"),
        (r#"{"index": -1}"#.to_owned(), 422, "bad_json"),
        (r#"{"index": 1e17}"#.to_owned(), 422, "bad_json"),
        (r#"{"index": "NaN"}"#.to_owned(), 422, "bad_json"),
        (r#"{"index": null}"#.to_owned(), 422, "bad_json"),
        (r#"{}"#.to_owned(), 422, "bad_json"),
    ];
    for (body, status, code) in moves {
        let before = f.app.snapshot().await;
        let res = f
            .app
            .client
            .post(
                f.app
                    .url(&format!("/api/v1/playlists/{id}/items/{item}/move")),
            )
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["error"], code, "{body}");
        assert!(!answer["message"].as_str().unwrap().is_empty(), "{body}");
        assert_unchanged(&before, &f.app.snapshot().await, &body);
    }
    for path_item in ["999999", U64_MAX, "-1", "abc"] {
        let res = f
            .app
            .client
            .post(
                f.app
                    .url(&format!("/api/v1/playlists/{id}/items/{path_item}/move")),
            )
            .json(&json!({"index": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path_item}");
    }

    let messages = [
        (
            json!({"type": "seek", "position_ms": 1e17}),
            "invalid_position",
        ),
        (
            json!({"type": "seek", "position_ms": -1}),
            "invalid_position",
        ),
        (json!({"type": "seek", "position_ms": "NaN"}), "bad_message"),
        (
            json!({"type": "pause", "position_ms": -5}),
            "invalid_position",
        ),
        (json!({"type": "rate", "rate": 1e308}), "invalid_rate"),
        (json!({"type": "rate", "rate": "inf"}), "bad_message"),
        (
            json!({"type": "media_info", "duration_ms": 1}),
            "invalid_duration",
        ),
        (
            json!({"type": "media_info", "duration_ms": 1e17}),
            "invalid_duration",
        ),
        (
            json!({"type": "media_info", "duration_ms": -90000}),
            "invalid_duration",
        ),
        (
            json!({"type": "media_info", "duration_ms": "long"}),
            "bad_message",
        ),
    ];
    for (message, code) in messages {
        let before = f.app.snapshot().await;
        viewer.send(message.clone()).await;
        assert_eq!(viewer.expect("error").await["code"], code, "{message}");
        assert_unchanged(&before, &f.app.snapshot().await, &message.to_string());
    }
    let playlist_messages = [
        (json!({"type": "jump", "item_id": -1}), "bad_message"),
        (json!({"type": "jump", "item_id": 999999}), "no_such_item"),
        (json!({"type": "jump", "item_id": u64::MAX}), "refused"),
        (json!({"type": "ended", "item_id": u64::MAX}), "refused"),
        (json!({"type": "ended", "item_id": "1"}), "bad_message"),
    ];
    for (message, code) in playlist_messages {
        let before = f.app.snapshot().await;
        lister.send(message.clone()).await;
        assert_eq!(lister.expect("error").await["code"], code, "{message}");
        assert_unchanged(&before, &f.app.snapshot().await, &message.to_string());
    }
}
