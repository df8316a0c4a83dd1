//! Flooders: clients that join a party, then send pings as fast as the server takes them
//! and never read a byte. The server's resident memory is sampled throughout: it must stay
//! flat, and each flooder must be cut off (1008 once its replies outgrow the queue, then
//! the kernel drops the connection it does not read from).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Bench;
use crate::args::Options;
use crate::reader::Watch;
use crate::stats::Table;
use crate::system;
use crate::viewer::{self, Plan, Probe};
use crate::wire;

/// Frames written per write call.
const BATCH: usize = 200;
/// How often the server's memory is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// How long after the flood a flooder's connection may take to end before it counts as
/// still open (the server's `client_timeout_secs` plus a margin).
const END_WITHIN: Duration = Duration::from_secs(45);

/// What became of one flooder.
struct Outcome {
    sent_bytes: u64,
    /// The server refused further bytes (reset, or the connection ended) during the flood.
    cut_off_during: bool,
    /// The connection ended by `END_WITHIN` after the flood.
    ended: bool,
}

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let flooders = opts.flooders.max(1);
    let party = bench.parties(1).await?.remove(0);
    let people = bench.identities(flooders).await?;
    bench.settle().await;
    let Some(pid) = bench.server_pid else {
        return Err("flood: needs the server's pid (--server-pid with --url)".into());
    };
    let baseline = system::rss_kib(pid).unwrap_or(0);

    let mut streams = Vec::new();
    for (i, cookie) in people.iter().enumerate() {
        let plan = Plan {
            invite: party.clone(),
            cookie: Some(cookie.clone()),
            local: system::client_address(i),
            probe: Arc::new(Probe::default()),
            remote: None,
            tally: None,
        };
        let watch = Watch {
            crowd: u64::MAX,
            probe: plan.probe.clone(),
            tally: None,
            clock: bench.clock,
        };
        let joined = viewer::join(bench.server, &plan, &watch).await?;
        // A small receive window: what the server sends stays on the server's side.
        let _ = socket2::SockRef::from(&joined.stream).set_recv_buffer_size(4096);
        joined
            .stream
            .set_nonblocking(true)
            .map_err(|e| format!("flood: {e}"))?;
        streams.push(TcpStream::from_std(joined.stream).map_err(|e| format!("flood: {e}"))?);
    }

    let batch: Arc<[u8]> = (0..BATCH)
        .flat_map(|id| {
            wire::client_frame(
                wire::OP_TEXT,
                format!(r#"{{"type":"ping","id":{id}}}"#).as_bytes(),
            )
        })
        .collect();
    let flood_for = Duration::from_secs(opts.flood_secs);
    let started = Instant::now();
    let end = tokio::time::Instant::now() + flood_for;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(flood(stream, batch.clone(), end)))
        .collect();
    let mut peak = baseline;
    while tokio::time::Instant::now() < end {
        peak = peak.max(system::rss_kib(pid).unwrap_or(0));
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.map_err(|e| format!("flood: {e}"))?);
    }
    let flood_secs = started.elapsed().as_secs_f64();
    let after = system::rss_kib(pid).unwrap_or(0);

    let sent: u64 = outcomes.iter().map(|o| o.sent_bytes).sum();
    let cut_off = outcomes.iter().filter(|o| o.cut_off_during).count();
    let ended = outcomes.iter().filter(|o| o.ended).count();
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    let mut table = Table::new(
        &format!(
            "Flooders: {flooders} clients send pings for {} s and never read",
            opts.flood_secs
        ),
        &[
            "flooders",
            "MiB sent",
            "server RSS before MiB",
            "peak MiB",
            "peak growth MiB",
            "after MiB",
            "cut off during",
            "ended after",
        ],
    );
    table.row(vec![
        flooders.to_string(),
        format!("{:.1}", sent as f64 / (1 << 20) as f64),
        mib(baseline),
        mib(peak),
        mib(peak.saturating_sub(baseline)),
        mib(after),
        cut_off.to_string(),
        format!("{ended} of {flooders}"),
    ]);
    println!("{}", table.render());
    bench.write_report(
        &opts.out,
        "flood",
        json!({
            "flooders": flooders,
            "flood_secs": flood_secs,
            "sent_bytes": sent,
            "server_rss_baseline_kib": baseline,
            "server_rss_peak_kib": peak,
            "server_rss_after_kib": after,
            "cut_off_during_flood": cut_off,
            "ended_within_secs": END_WITHIN.as_secs(),
            "ended": ended,
            "load_average": system::load_average(),
            "table": table.render(),
        }),
    )
}

/// Writes `batch` over and over until `end`, then waits (reading nothing it keeps) for the
/// connection to end.
async fn flood(mut stream: TcpStream, batch: Arc<[u8]>, end: tokio::time::Instant) -> Outcome {
    let mut outcome = Outcome {
        sent_bytes: 0,
        cut_off_during: false,
        ended: false,
    };
    loop {
        match tokio::time::timeout_at(end, stream.write_all(&batch)).await {
            Ok(Ok(())) => outcome.sent_bytes += batch.len() as u64,
            Ok(Err(_)) => {
                outcome.cut_off_during = true;
                outcome.ended = true;
                return outcome;
            }
            Err(_) => break,
        }
    }
    // The flood is over: now read (and drop) until the server ends the connection.
    let mut scratch = vec![0u8; 64 << 10];
    let deadline = tokio::time::Instant::now() + END_WITHIN;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut scratch)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                outcome.ended = true;
                return outcome;
            }
            Ok(Ok(_)) => {}
            Err(_) => return outcome,
        }
    }
}
