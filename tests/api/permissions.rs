//! Who may control: everyone by default, or the owner and the viewers they promote.

use serde_json::json;

use crate::helpers::spawn_app;

fn key(video: &serde_json::Value) -> String {
    video["invite_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn in_promoted_mode_a_refused_command_changes_nothing() {
    let app = spawn_app().await;
    let video = app.video().await;
    let owner = app.owner_cookie();
    let (mut host, welcome) = app.join_as(&key(&video), Some(&owner)).await;
    assert_eq!(welcome["can_control"], true);
    assert_eq!(welcome["permissions"]["mode"], "everyone");
    let guest = app.guest_cookie().await;
    let (mut viewer, _) = app.join_as(&key(&video), Some(&guest)).await;

    host.send(json!({"type": "control_mode", "mode": "promoted"}))
        .await;
    let permissions = viewer.expect("permissions").await;
    assert_eq!(permissions["permissions"]["mode"], "promoted");

    let (_, before) = app.join(&key(&video)).await;
    viewer
        .send(json!({"type": "seek", "position_ms": 30000}))
        .await;
    let refused = viewer.expect("error").await;
    assert_eq!(refused["code"], "forbidden");
    let (_, after) = app.join(&key(&video)).await;
    assert_eq!(
        after["state"]["seq"], before["state"]["seq"],
        "seq unchanged"
    );
    assert_eq!(
        after["state"]["position_ms"], before["state"]["position_ms"],
        "state unchanged"
    );
    assert_eq!(after["can_control"], false);

    // Promote the viewer live: now their command goes through.
    let viewer_id = crate::helpers::cookie_user(&guest);
    host.send(json!({"type": "promote", "user_id": viewer_id}))
        .await;
    let promoted = viewer.expect("permissions").await;
    assert!(promoted["permissions"]["controllers"]
        .as_array()
        .unwrap()
        .contains(&json!(viewer_id)));
    viewer
        .send(json!({"type": "seek", "position_ms": 30000}))
        .await;
    assert_eq!(viewer.expect("state").await["state"]["position_ms"], 30000);

    // Demote again: refused again.
    host.send(json!({"type": "demote", "user_id": viewer_id}))
        .await;
    viewer.expect("permissions").await;
    viewer.send(json!({"type": "play"})).await;
    assert_eq!(viewer.expect("error").await["code"], "forbidden");
}

#[tokio::test]
async fn only_the_owner_may_change_who_controls() {
    let app = spawn_app().await;
    let video = app.video().await;
    let (mut stranger, _) = app.join(&key(&video)).await;
    stranger
        .send(json!({"type": "control_mode", "mode": "promoted"}))
        .await;
    assert_eq!(stranger.expect("error").await["code"], "not_owner");
    stranger
        .send(json!({"type": "promote", "user_id": 1}))
        .await;
    assert_eq!(stranger.expect("error").await["code"], "not_owner");
    let (_, welcome) = app.join(&key(&video)).await;
    assert_eq!(welcome["permissions"]["mode"], "everyone");
}
