//! Idle viewers: connect rising numbers of viewers, spread over parties, hold them across
//! a heartbeat, and read the server's resident memory per connection.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::Bench;
use crate::args::Options;
use crate::crowd::Crowd;
use crate::stats::{ms, Table};
use crate::system;
use crate::viewer::{Plan, Probe};

pub const DEFAULT_SIZES: &[usize] = &[10_000, 20_000, 50_000];

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let requested = opts.sizes.clone().unwrap_or_else(|| DEFAULT_SIZES.to_vec());
    let (sizes, notes) = fit(&requested, bench.capacity);
    let Some(&largest) = sizes.last() else {
        return Err("idle: no size fits".into());
    };
    let per_party = opts.party_size.max(1);
    let parties = bench.parties(largest.div_ceil(per_party)).await?;
    let people = bench.identities(per_party.min(largest)).await?;
    bench.settle().await;
    let base_server = bench.server_rss_kib().unwrap_or(0);
    let base_redis = bench.redis_rss_kib().unwrap_or(0);
    let base_self = system::rss_kib(std::process::id()).unwrap_or(0);

    let mut table = Table::new(
        &format!(
            "Idle viewers ({per_party} per party; memory after holding {} s)",
            opts.hold_secs
        ),
        &[
            "viewers",
            "open",
            "errors",
            "connect p50 ms",
            "p99 ms",
            "max ms",
            "joins/s",
            "server RSS MiB",
            "KiB/conn",
            "Redis KiB/conn",
        ],
    );
    let mut rows = Vec::new();
    let mut crowd = Crowd::default();
    for size in sizes {
        let from = crowd.probes.len();
        let plans: Vec<Plan> = (from..size)
            .map(|i| Plan {
                invite: parties[i / per_party].clone(),
                cookie: Some(people[i % per_party].clone()),
                local: system::client_address(i),
                probe: Arc::new(Probe::default()),
                remote: None,
                tally: None,
            })
            .collect();
        let (joins, settle_secs) = bench.join(plans, &mut crowd, opts).await;
        tokio::time::sleep(Duration::from_secs(opts.hold_secs)).await;
        let open = crowd.open();
        let server = bench.server_rss_kib().unwrap_or(0);
        let redis = bench.redis_rss_kib().unwrap_or(0);
        let client = system::rss_kib(std::process::id()).unwrap_or(0);
        let per = |now: u64, base: u64| now.saturating_sub(base) as f64 / open.max(1) as f64;
        table.row(vec![
            size.to_string(),
            open.to_string(),
            joins.error_count().to_string(),
            ms(joins.connect.p50_ms),
            ms(joins.connect.p99_ms),
            ms(joins.connect.max_ms),
            format!("{:.0}", (size - from) as f64 / joins.wall_secs),
            format!("{:.0}", server as f64 / 1024.0),
            format!("{:.1}", per(server, base_server)),
            format!("{:.1}", per(redis, base_redis)),
        ]);
        rows.push(json!({
            "viewers": size,
            "open_after_hold": open,
            "join_errors": joins.errors,
            "connect_ms": joins.connect,
            "join_wall_secs": joins.wall_secs,
            "settle_secs": settle_secs,
            "server_rss_kib": server,
            "server_rss_baseline_kib": base_server,
            "server_kib_per_connection": per(server, base_server),
            "redis_rss_kib": redis,
            "redis_kib_per_connection": per(redis, base_redis),
            "generator_kib_per_connection": per(client, base_self),
            "ended": crowd.endings(),
            "load_average": system::load_average(),
        }));
    }
    println!("{}", table.render());
    for note in &notes {
        println!("note: {note}");
    }
    let left = crowd.probes.len();
    crowd.close();
    let leave_secs = bench.settle_after_leave(left).await;
    bench.write_report(
        &opts.out,
        "idle",
        json!({
            "viewers_per_party": per_party,
            "hold_secs": opts.hold_secs,
            "requested_sizes": requested,
            "rows": rows,
            "leave_settle_secs": leave_secs,
            "notes": notes,
            "table": table.render(),
        }),
    )
}

/// The sizes that fit within `capacity` viewers, in rising order; a size that does not
/// fit is replaced by the capacity, with a note saying so.
pub fn fit(requested: &[usize], capacity: usize) -> (Vec<usize>, Vec<String>) {
    fit_as(
        requested,
        capacity,
        "each of the generator and the server holds one socket per viewer",
    )
}

/// [`fit`], saying `why` a size does not fit.
pub fn fit_as(requested: &[usize], capacity: usize, why: &str) -> (Vec<usize>, Vec<String>) {
    let mut sizes: Vec<usize> = Vec::new();
    let mut notes = Vec::new();
    for &size in requested {
        let size = if size > capacity {
            notes.push(format!(
                "{size} viewers do not fit the descriptor limit ({why}); ran {capacity} instead"
            ));
            capacity
        } else {
            size
        };
        if size > 0 && !sizes.contains(&size) {
            sizes.push(size);
        }
    }
    sizes.sort_unstable();
    (sizes, notes)
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn sizes_beyond_the_limit_are_capped_once_and_noted() {
        let (sizes, notes) = fit(&[50_000, 10_000, 20_000], 19_000);
        assert_eq!(sizes, vec![10_000, 19_000]);
        assert_eq!(notes.len(), 2);
        assert_eq!(fit(&[10, 100], 19_000), (vec![10, 100], vec![]));
    }
}
