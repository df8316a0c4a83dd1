//! The load generator (`make bench`) runs every scenario end to end, at a tiny size,
//! against a private Redis and the real server. This checks that the figures are produced
//! and that nothing is lost, never how fast anything is.

use std::process::Command;

use serde_json::Value;

fn report(dir: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("{name}.json was not written: {e}"));
    serde_json::from_str(&text).expect("reports are JSON")
}

#[test]
fn the_load_generator_runs_every_scenario_at_a_tiny_size() {
    // Arrange
    let out = tempfile::tempdir().expect("temp dir");
    let flags = [
        ("--scenario", "idle,floor,fanout,parties,http"),
        ("--sizes", "3"),
        ("--party-size", "2"),
        ("--hold-secs", "0"),
        ("--commands", "4"),
        ("--parties", "2"),
        ("--party-viewers", "2"),
        ("--rates", "20"),
        ("--step-secs", "1"),
        ("--connections", "2"),
        ("--duration-secs", "1"),
        ("--threads", "1"),
    ];

    // Act
    let run = Command::new(env!("CARGO_BIN_EXE_wewatch-load"))
        .args(flags.iter().flat_map(|(flag, value)| [flag, value]))
        .arg("--server-bin")
        .arg(env!("CARGO_BIN_EXE_wewatch"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("the load generator starts");

    // Assert
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the load generator failed:\n{printed}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let idle = report(out.path(), "idle");
    assert_eq!(idle["rows"][0]["open_after_hold"], 3, "{idle}");
    let fanout = report(out.path(), "fanout");
    let party = &fanout["rows"][0];
    assert_eq!(party["joined"], 3, "{fanout}");
    assert_eq!(party["commands_sent"], 4, "{fanout}");
    assert_eq!(party["lost"], 0, "every viewer gets every state: {fanout}");
    assert_eq!(party["last_viewer_ms"]["count"], 4, "{fanout}");
    let floor = report(out.path(), "floor");
    assert_eq!(floor["rows"][0]["lost"], 0, "{floor}");
    assert_eq!(floor["rows"][0]["last_viewer_ms"]["count"], 4, "{floor}");
    let parties = report(out.path(), "parties");
    assert!(parties["rows"][0]["sent"].as_u64() > Some(0), "{parties}");
    let http = report(out.path(), "http");
    for row in http["rows"].as_array().expect("rows") {
        assert_eq!(row["errors"], 0, "{http}");
        assert!(row["requests_per_sec"].as_f64() > Some(0.0), "{http}");
    }
    assert!(
        printed.contains("Fan-out"),
        "a table is printed:\n{printed}"
    );
}
