//! Many parties: small parties whose controllers send commands, together, at a rising
//! open-loop rate. Each step reports command → last viewer of the party; the run stops at
//! the first rate the server does not hold (p99 over the limit, a lost state, or the rate
//! not reached).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Bench;
use crate::args::Options;
use crate::crowd::Crowd;
use crate::stats::{ms, Summary, Table};
use crate::system::{self, CpuMeter};
use crate::viewer::{lock, Order, Plan, Probe, Remote};

/// A rate is held when command → last viewer stays within this at p99.
const P99_LIMIT_MS: f64 = 50.0;
/// Time after a step for its last states to arrive.
const DRAIN: Duration = Duration::from_secs(2);

/// One party and its controller.
struct Party {
    orders: Remote,
    /// Commands sent so far; the next one's number.
    next: u64,
    /// `seq` before the first command.
    base: u64,
    probes: Vec<Arc<Probe>>,
}

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let per = opts.party_viewers.max(1);
    let mut notes = Vec::new();
    let mut count = opts.parties.max(1);
    if count * per > bench.capacity {
        count = bench.capacity / per;
        notes.push(format!(
            "{} parties do not fit the descriptor limit; ran {count}",
            opts.parties
        ));
    }
    let invites = bench.parties(count).await?;
    let people = bench.identities(per).await?;
    let mut parties = Vec::with_capacity(count);
    let mut plans = Vec::with_capacity(count * per);
    for (p, invite) in invites.iter().enumerate() {
        let orders = Remote::default();
        let mut remote = Some(orders.clone());
        let probes: Vec<Arc<Probe>> = (0..per).map(|_| Arc::new(Probe::default())).collect();
        for (j, probe) in probes.iter().enumerate() {
            plans.push(Plan {
                invite: invite.clone(),
                cookie: Some(people[j].clone()),
                local: system::client_address(p * per + j),
                probe: probe.clone(),
                remote: remote.take(),
                tally: None,
            });
        }
        parties.push(Party {
            orders,
            next: 0,
            base: 0,
            probes,
        });
    }
    let mut crowd = Crowd::default();
    let (joins, settle_secs) = bench.join(plans, &mut crowd, opts).await;
    for party in &mut parties {
        party.base = party.probes[0].welcome_seq.load(Ordering::Relaxed);
    }

    let mut table = Table::new(
        &format!("Many parties: {count} × {per} viewers, command → last viewer of the party (ms)"),
        &[
            "target/s", "sent/s", "p50", "p99", "max", "lost", "errors", "held",
        ],
    );
    let mut rows = Vec::new();
    let mut highest_held = 0;
    for &rate in &opts.rates {
        let row = step(
            &mut parties,
            rate,
            Duration::from_secs(opts.step_secs),
            &bench.cpu_meter(),
        )
        .await;
        let held = row["held"].as_bool().unwrap_or(false);
        let l = &row["last_viewer_ms"];
        table.row(vec![
            rate.to_string(),
            format!("{:.0}", row["sent_per_sec"].as_f64().unwrap_or(0.0)),
            ms(l["p50_ms"].as_f64().unwrap_or(f64::NAN)),
            ms(l["p99_ms"].as_f64().unwrap_or(f64::NAN)),
            ms(l["max_ms"].as_f64().unwrap_or(f64::NAN)),
            row["lost"].to_string(),
            row["error_frames"].to_string(),
            if held { "yes" } else { "no" }.to_owned(),
        ]);
        println!("{}", table.render());
        rows.push(row);
        if !held {
            break;
        }
        highest_held = rate;
    }
    println!("highest rate held with p99 ≤ {P99_LIMIT_MS} ms: {highest_held} commands/s");
    let endings = crowd.endings();
    let left = crowd.probes.len();
    crowd.close();
    let leave_settle_secs = bench.settle_after_leave(left).await;
    bench.write_report(
        &opts.out,
        "parties",
        json!({
            "parties": count,
            "viewers_per_party": per,
            "step_secs": opts.step_secs,
            "p99_limit_ms": P99_LIMIT_MS,
            "joined": joins.joined,
            "join_errors": joins.errors,
            "connect_ms": joins.connect,
            "join_wall_secs": joins.wall_secs,
            "join_settle_secs": settle_secs,
            "rows": rows,
            "highest_rate_held": highest_held,
            "leave_settle_secs": leave_settle_secs,
            "ended": endings,
            "notes": notes,
            "table": table.render(),
        }),
    )
}

/// Sends `rate` commands a second, round-robin over the parties, for `length`; then
/// measures them.
async fn step(
    parties: &mut [Party],
    rate: u64,
    length: Duration,
    meter: &CpuMeter,
) -> serde_json::Value {
    for party in parties.iter() {
        for probe in &party.probes {
            lock(&probe.states).clear();
            lock(&probe.sent).clear();
            probe.errors.store(0, Ordering::Relaxed);
        }
    }
    let start = Instant::now();
    let meter = meter.restart();
    let mut issued: u64 = 0;
    let mut turn = 0;
    while start.elapsed() < length {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while issued < due {
            let count = parties.len();
            let party = &mut parties[turn];
            turn = (turn + 1) % count;
            party.orders.send(party.next, Order::nth(party.next));
            party.next += 1;
            issued += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let cpu = meter.percent();
    tokio::time::sleep(DRAIN).await;

    let (mut last, mut lost, mut sent, mut errors) = (Vec::new(), 0usize, 0usize, 0u64);
    let (mut first_sent, mut last_sent) = (u64::MAX, 0);
    for party in parties.iter() {
        let sent_at: HashMap<u64, u64> = lock(&party.probes[0].sent).iter().copied().collect();
        sent += sent_at.len();
        for &at in sent_at.values() {
            first_sent = first_sent.min(at);
            last_sent = last_sent.max(at);
        }
        let mut newest: HashMap<u64, (u64, usize)> = HashMap::new();
        for probe in &party.probes {
            errors += probe.errors.load(Ordering::Relaxed);
            for &(seq, at) in lock(&probe.states).iter() {
                let Some(k) = seq.checked_sub(party.base + 1) else {
                    continue;
                };
                if let Some(&sent) = sent_at.get(&k) {
                    let entry = newest.entry(k).or_insert((0, 0));
                    entry.0 = entry.0.max(at.saturating_sub(sent));
                    entry.1 += 1;
                }
            }
        }
        for k in sent_at.keys() {
            match newest.get(k) {
                Some(&(worst, got)) => {
                    last.push(worst);
                    lost += party.probes.len().saturating_sub(got);
                }
                None => lost += party.probes.len(),
            }
        }
    }
    let span = (last_sent.saturating_sub(first_sent)) as f64 / 1e9;
    let sent_per_sec = if span > 0.0 { sent as f64 / span } else { 0.0 };
    let summary = Summary::of(&mut last);
    let held = summary.p99_ms <= P99_LIMIT_MS
        && lost == 0
        && errors == 0
        && sent_per_sec >= 0.95 * rate as f64;
    json!({
        "target_per_sec": rate,
        "sent": sent,
        "sent_per_sec": sent_per_sec,
        "last_viewer_ms": summary,
        "lost": lost,
        "error_frames": errors,
        "held": held,
        "cpu_percent": cpu,
        "load_average": system::load_average(),
    })
}
