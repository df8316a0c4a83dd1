//! HTTP: requests per second for the watch page and the library API over a fixed number
//! of keep-alive connections, each sending its next request as soon as the last one is
//! answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Bench;
use crate::args::Options;
use crate::http::HttpClient;
use crate::stats::{ms, Summary, Table};
use crate::system;

/// Requests before the measurement starts, so connections and caches are warm.
const WARM_UP: Duration = Duration::from_secs(1);
/// Videos in the owner's library: one full page of the API.
const LIBRARY_VIDEOS: usize = 20;

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let invite = bench.parties(LIBRARY_VIDEOS).await?.remove(0);
    let people = bench.identities(opts.connections).await?;
    let owner: Arc<str> = bench
        .owner_cookie()
        .ok_or("the owner has no cookie")?
        .into();
    bench.settle().await;
    let endpoints = [
        ("GET /watch/{invite_key}", format!("/watch/{invite}"), None),
        (
            "GET /api/v1/videos",
            "/api/v1/videos".to_owned(),
            Some(owner),
        ),
    ];
    let mut table = Table::new(
        &format!(
            "HTTP: {} connections, {} s per endpoint",
            opts.connections, opts.duration_secs
        ),
        &[
            "endpoint",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "bytes",
        ],
    );
    let mut rows = Vec::new();
    for (name, path, shared_cookie) in endpoints {
        let path: Arc<str> = path.into();
        let length = Duration::from_secs(opts.duration_secs);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for person in people.iter().take(opts.connections) {
            let path = path.clone();
            // A page visit replaces the identity's token, so each connection keeps its own
            // identity and follows Set-Cookie; the API only checks the owner's.
            let cookie = shared_cookie.clone().unwrap_or_else(|| person.clone());
            let mut client = HttpClient::new(bench.server);
            tasks.push(tokio::spawn(async move {
                client.cookie = Some(cookie.to_string());
                let (mut times, mut errors, mut bytes) = (Vec::new(), 0u64, 0usize);
                while start.elapsed() < WARM_UP + length {
                    let began = Instant::now();
                    let result = client.get(&path).await;
                    let counted = began >= start + WARM_UP;
                    match result {
                        Ok(r) if r.status == 200 => {
                            if counted {
                                times.push(began.elapsed().as_nanos() as u64);
                                bytes = r.body.len();
                            }
                        }
                        _ => errors += u64::from(counted),
                    }
                }
                (times, errors, bytes)
            }));
        }
        let (mut times, mut errors, mut bytes) = (Vec::new(), 0, 0);
        for task in tasks {
            let (t, e, b) = task.await.map_err(|e| e.to_string())?;
            times.extend(t);
            errors += e;
            bytes = bytes.max(b);
        }
        let per_sec = times.len() as f64 / length.as_secs_f64();
        let summary = Summary::of(&mut times);
        table.row(vec![
            name.to_owned(),
            format!("{per_sec:.0}"),
            ms(summary.p50_ms),
            ms(summary.p99_ms),
            ms(summary.max_ms),
            errors.to_string(),
            bytes.to_string(),
        ]);
        rows.push(json!({
            "endpoint": name,
            "requests_per_sec": per_sec,
            "latency_ms": summary,
            "errors": errors,
            "response_bytes": bytes,
            "load_average": system::load_average(),
        }));
        bench.settle().await;
    }
    println!("{}", table.render());
    bench.write_report(
        &opts.out,
        "http",
        json!({
            "connections": opts.connections,
            "duration_secs": opts.duration_secs,
            "warm_up_secs": WARM_UP.as_secs(),
            "rows": rows,
            "table": table.render(),
        }),
    )
}
