//! `wewatch-load`: the load generator behind `make bench`.
//!
//! It starts a private Redis and the release server (or uses a running server given with
//! `--url`), then drives it with simulated viewers that speak the party protocol over
//! real WebSockets on loopback. Each scenario prints a table and writes JSON to
//! `target/bench/`. Every loop is bounded in count and time; traffic goes only to
//! loopback addresses.
//!
//! # Layout
//! - `args`: the flags and their defaults.
//! - `system`: the descriptor limit, `/proc` readings, the machine.
//! - `stack`: the private Redis and server; `watchdog`: children that never outlive the
//!   generator.
//! - `http`: a minimal keep-alive HTTP/1.1 client with an identity cookie.
//! - `wire`: the WebSocket upgrade and frames; `viewer`: one viewer's join and what it
//!   records; `reader`: the threads that read joined viewers and send their commands;
//!   `probe`: what viewers record; `crowd`: many viewers, joined with bounded concurrency.
//! - `stats`: percentiles and tables.
//! - `scenario`: idle, floor, fanout, parties, http, flood.

mod args;
mod crowd;
mod http;
mod probe;
mod reader;
mod scenario;
mod stack;
mod stats;
mod system;
mod viewer;
mod watchdog;
mod wire;

use std::net::SocketAddr;
use std::process::ExitCode;

use serde_json::json;

use args::{Options, Scenario, USAGE};
use scenario::Bench;

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(err) if err.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("wewatch-load: {err}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let limit = system::raise_fd_limit();
    if let Err(err) = reader::start(opts.threads.max(1)) {
        eprintln!("wewatch-load: cannot start the readers: {err}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("wewatch-load: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // On Ctrl-C the run is dropped, which stops the server and Redis and removes their
    // directory.
    let interruptible = async {
        tokio::select! {
            result = run(opts, limit) => result,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_owned()),
        }
    };
    match runtime.block_on(interruptible) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wewatch-load: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(opts: Options, limit: system::FdLimit) -> Result<(), String> {
    println!(
        "machine: {}\nload average at start: {}\ndescriptor limit: {} (hard {})",
        system::machine(),
        system::load_average(),
        limit.soft,
        limit.hard
    );
    // The stack must outlive the bench: dropping it stops the server and Redis.
    let (stack, server, server_pid, redis_pid) = match &opts.url {
        Some(url) => {
            let addr = loopback_address(url)?;
            (None, addr, opts.server_pid, None)
        }
        None => {
            let stack = stack::Stack::start(&opts.root, &opts.server_bin)?;
            let (addr, server, redis) = (stack.addr, stack.server.pid, stack.redis.pid);
            (Some(stack), addr, Some(server), Some(redis))
        }
    };
    let server_limit = server_pid
        .and_then(system::fd_limit_of)
        .unwrap_or(limit.soft);
    let capacity = system::FdLimit {
        soft: limit.soft.min(server_limit),
        hard: limit.hard,
    }
    .viewer_capacity();
    println!("server: http://{server} (pid {server_pid:?}); viewers that fit the descriptor limits: {capacity}");
    let about = json!({
        "address": server.to_string(),
        "started_here": stack.is_some(),
        "binary": stack.as_ref().map(|_| opts.server_bin.display().to_string()),
        "settings_changed": stack.as_ref().map(|s| s.settings.clone()),
        "source": source_version(&opts.root),
        "descriptor_limit": { "generator": limit.soft, "server": server_limit },
        "generator_threads": opts.threads,
        "load_average_at_start": system::load_average(),
    });
    let mut bench = Bench::new(server, server_pid, redis_pid, capacity, about).await?;
    if let Some(stack) = &stack {
        bench.after_leave = stack.departure_grace + std::time::Duration::from_secs(1);
    }
    for scenario in &opts.scenarios {
        let result = match scenario {
            Scenario::Idle => scenario::idle::run(&mut bench, &opts).await,
            Scenario::Floor => scenario::floor::run(&mut bench, &opts).await,
            Scenario::Fanout => scenario::fanout::run(&mut bench, &opts).await,
            Scenario::Parties => scenario::parties::run(&mut bench, &opts).await,
            Scenario::Http => scenario::http::run(&mut bench, &opts).await,
            Scenario::Flood => scenario::flood::run(&mut bench, &opts).await,
        };
        if let Err(err) = result {
            if let Some(stack) = &stack {
                stack.save_log(&opts.out);
            }
            let tail = stack.as_ref().map(|s| s.server.tail()).unwrap_or_default();
            return Err(format!(
                "{scenario:?}: {err}\n--- server output ---\n{tail}"
            ));
        }
    }
    drop(bench);
    if let Some(stack) = &stack {
        stack.save_log(&opts.out);
    }
    Ok(())
}

/// The address of a `--url`, which must be on loopback.
fn loopback_address(url: &str) -> Result<SocketAddr, String> {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let addr: SocketAddr = hostport
        .parse()
        .map_err(|_| format!("--url wants http://127.0.0.1:PORT, not {url:?}"))?;
    if !addr.ip().is_loopback() {
        return Err("the load generator only sends traffic to loopback addresses".into());
    }
    Ok(addr)
}

/// `git describe --always --dirty` of the source tree, when git can tell.
fn source_version(root: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
