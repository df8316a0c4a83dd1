//! Fan-out: one party of N viewers; one of them alternates play and pause, each
//! command sent once every viewer has the previous one's `state`. Measures command → each
//! viewer's `state` (matched by `seq`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Bench;
use crate::args::Options;
use crate::crowd::Crowd;
use crate::stats::{ms, percentile, Summary, Table};
use crate::system;
use crate::viewer::{lock, Order, Plan, Probe, Remote, Tally};

pub const DEFAULT_SIZES: &[usize] = &[10, 100, 1_000, 10_000];
/// Longest wait for every viewer to have a command's `state` before the next command.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between one command's last receipt and the next command.
const GAP: Duration = Duration::from_millis(10);

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let requested = opts.sizes.clone().unwrap_or_else(|| DEFAULT_SIZES.to_vec());
    let (sizes, notes) = super::idle::fit(&requested, bench.capacity);
    let mut table = Table::new(
        &format!(
            "Fan-out: command → state, {} commands per party (ms)",
            opts.commands
        ),
        &["viewers", "people", "joined", "sent"]
            .into_iter()
            .chain(LATENCY_COLUMNS)
            .chain(["lost", "errors"])
            .collect::<Vec<_>>(),
    );
    let mut rows = Vec::new();
    for n in sizes {
        let row = one_party(bench, opts, n).await?;
        let mut cells = vec![
            n.to_string(),
            row["people"].to_string(),
            row["joined"].to_string(),
            row["commands_sent"].to_string(),
        ];
        cells.extend(latency_cells(&row));
        cells.push(row["lost"].to_string());
        cells.push(row["error_frames"].to_string());
        table.row(cells);
        println!("{}", table.render());
        rows.push(row);
    }
    for note in &notes {
        println!("note: {note}");
    }
    bench.write_report(
        &opts.out,
        "fanout",
        json!({
            "commands": opts.commands,
            "receipt_timeout_secs": RECEIPT_TIMEOUT.as_secs(),
            "gap_ms": GAP.as_millis() as u64,
            "rows": rows,
            "notes": notes,
            "table": table.render(),
        }),
    )
}

async fn one_party(
    bench: &mut Bench,
    opts: &Options,
    n: usize,
) -> Result<serde_json::Value, String> {
    let commands = opts.commands;
    let invite = bench.parties(1).await?.remove(0);
    let people = bench.identities(n.min(opts.people).max(1)).await?;
    let tally = Arc::new(Tally::new(commands));
    // Any viewer may end up the controller: the last one still connected once all joined.
    let mut senders = Vec::with_capacity(n);
    let plans: Vec<Plan> = (0..n)
        .map(|i| {
            let remote = Remote::default();
            senders.push(remote.clone());
            Plan {
                invite: invite.clone(),
                cookie: Some(people[i % people.len()].clone()),
                local: system::client_address(i),
                probe: Arc::new(Probe::default()),
                remote: Some(remote),
                tally: Some(tally.clone()),
            }
        })
        .collect();
    let mut crowd = Crowd::default();
    let (joins, settle_secs) = bench.join(plans, &mut crowd, opts).await;
    let base = crowd
        .probes
        .iter()
        .map(|p| p.welcome_seq.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    tally.base.store(base, Ordering::Relaxed);
    let controller = (0..n)
        .rev()
        .find(|&i| !crowd.probes[i].closed.load(Ordering::Acquire))
        .unwrap_or(n - 1);
    let orders = senders.swap_remove(controller);
    drop(senders);
    let meter = bench.cpu_meter();
    let run = drive(
        commands,
        &tally,
        || crowd.open() as u32,
        |k| orders.send(k, Order::nth(k)),
    )
    .await;
    let cpu = meter.percent();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut sent_at = vec![None; commands];
    for &(k, at) in lock(&crowd.probes[controller].sent).iter() {
        sent_at[k as usize] = Some(at);
    }
    let latency = Latencies::of(&crowd.probes, &sent_at, base, joins.joined);
    let error_frames: u64 = crowd
        .probes
        .iter()
        .map(|p| p.errors.load(Ordering::Relaxed))
        .sum();
    let open_at_end = crowd.open();
    let endings = crowd.endings();
    let left = crowd.probes.len();
    crowd.close();
    let leave_settle_secs = bench.settle_after_leave(left).await;
    Ok(latency.report(
        &run,
        json!({
            "viewers": n,
            "people": people.len(),
            "joined": joins.joined,
            "join_errors": joins.errors,
            "connect_ms": joins.connect,
            "join_wall_secs": joins.wall_secs,
            "join_settle_secs": settle_secs,
            "error_frames": error_frames,
            "open_at_end": open_at_end,
            "ended": endings,
            "cpu_percent": cpu,
            "leave_settle_secs": leave_settle_secs,
            "load_average": system::load_average(),
        }),
    ))
}

/// How a run of commands went.
pub struct Run {
    pub secs: f64,
    /// Commands whose `state` had not reached every open viewer within `RECEIPT_TIMEOUT`.
    pub timeouts: usize,
}

/// Sends `commands` commands through `send` (false: it could not be sent), each once
/// every viewer still open (`open`) has the previous one's `state`, or after
/// `RECEIPT_TIMEOUT`; a short gap between.
pub async fn drive(
    commands: usize,
    tally: &Tally,
    open: impl Fn() -> u32,
    mut send: impl FnMut(u64) -> bool,
) -> Run {
    let mut timeouts = 0;
    let started = Instant::now();
    for k in 0..commands {
        let target = open();
        tally.viewers.store(target, Ordering::Relaxed);
        if !send(k as u64) {
            break;
        }
        let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
        while tally.count(k) < target {
            if tokio::time::timeout_at(deadline, tally.done.notified())
                .await
                .is_err()
            {
                timeouts += 1;
                break;
            }
        }
        tokio::time::sleep(GAP).await;
    }
    Run {
        secs: started.elapsed().as_secs_f64(),
        timeouts,
    }
}

/// Command → `state` latencies, per command, in nanoseconds.
pub struct Latencies {
    /// Commands sent.
    pub sent: usize,
    /// The last viewer's, per command.
    pub last: Vec<u64>,
    /// The median viewer's, per command.
    pub median: Vec<u64>,
    /// `state`s that never reached a viewer, over all commands.
    pub lost: usize,
}

impl Latencies {
    /// From what each viewer recorded; command `k` (sent at `sent_at[k]`) makes the
    /// `state` with seq `base + k + 1`; `viewers` should each have it.
    pub fn of(probes: &[Arc<Probe>], sent_at: &[Option<u64>], base: u64, viewers: usize) -> Self {
        let commands = sent_at.len();
        let mut per_command: Vec<Vec<u64>> = vec![Vec::new(); commands];
        for probe in probes {
            let mut newest = base;
            for &(seq, at) in lock(&probe.states).iter() {
                // A resync may repeat a state already seen; count each seq once.
                if seq <= newest || seq > base + commands as u64 {
                    continue;
                }
                newest = seq;
                let k = (seq - base - 1) as usize;
                if let Some(sent) = sent_at[k] {
                    per_command[k].push(at.saturating_sub(sent));
                }
            }
        }
        let mut out = Self {
            sent: sent_at.iter().flatten().count(),
            last: Vec::new(),
            median: Vec::new(),
            lost: 0,
        };
        for (k, lat) in per_command.iter_mut().enumerate() {
            if sent_at[k].is_none() {
                continue;
            }
            out.lost += viewers.saturating_sub(lat.len());
            if lat.is_empty() {
                continue;
            }
            lat.sort_unstable();
            out.last.push(*lat.last().unwrap_or(&0));
            out.median.push(percentile(lat, 0.5));
        }
        out
    }

    /// A report row: `fields`, then the commands sent, the latencies and what was lost.
    pub fn report(mut self, run: &Run, fields: serde_json::Value) -> serde_json::Value {
        let last_each: Vec<f64> = self
            .last
            .iter()
            .map(|ns| (*ns as f64 / 1e4).round() / 100.0)
            .collect();
        let mut row = fields;
        row["commands_sent"] = json!(self.sent);
        row["run_secs"] = json!(run.secs);
        row["last_viewer_ms_each"] = json!(last_each);
        row["last_viewer_ms"] = json!(Summary::of(&mut self.last));
        row["median_viewer_ms"] = json!(Summary::of(&mut self.median));
        row["lost"] = json!(self.lost);
        row["receipt_timeouts"] = json!(run.timeouts);
        row
    }
}

/// The columns of [`latency_cells`].
pub const LATENCY_COLUMNS: [&str; 6] = [
    "last p50",
    "last p99",
    "last max",
    "median p50",
    "median p99",
    "median max",
];

/// The latency cells of a report row: last p50, p99, max, then median p50, p99, max.
pub fn latency_cells(row: &serde_json::Value) -> Vec<String> {
    let (last, median) = (&row["last_viewer_ms"], &row["median_viewer_ms"]);
    let f = |v: &serde_json::Value, k: &str| ms(v[k].as_f64().unwrap_or(f64::NAN));
    ["p50_ms", "p99_ms", "max_ms"]
        .iter()
        .map(|k| f(last, k))
        .chain(["p50_ms", "p99_ms", "max_ms"].iter().map(|k| f(median, k)))
        .collect()
}
