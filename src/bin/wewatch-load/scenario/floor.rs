//! The machine's floor: fan-out with no server. One thread per core (as many as the
//! server has workers) writes a frame the size of a `state` to its share of N loopback TCP
//! sockets, and the generator's reader threads read them as they read viewers. Command →
//! each socket's frame is what loopback TCP and the generator alone cost on this machine;
//! the fan-out figures are read against it.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::fanout::{self, latency_cells, Latencies, LATENCY_COLUMNS};
use super::Bench;
use crate::args::Options;
use crate::crowd::Crowd;
use crate::stats::Table;
use crate::viewer::{Probe, Tally};

/// A play or pause `state` with its chat line, as the server sends it.
const FRAME_BYTES: usize = 327;

pub async fn run(bench: &mut Bench, opts: &Options) -> Result<(), String> {
    let requested = opts
        .sizes
        .clone()
        .unwrap_or_else(|| fanout::DEFAULT_SIZES.to_vec());
    let (sizes, notes) = super::idle::fit_as(
        &requested,
        bench.capacity / 2,
        "the generator holds both ends of every socket",
    );
    let writers = opts.threads.max(1);
    let mut table = Table::new(
        &format!(
            "Loopback floor, no server: {writers} threads write a {FRAME_BYTES}-byte frame to \
             every socket, {} commands per size (ms)",
            opts.commands
        ),
        &["sockets", "sent"]
            .into_iter()
            .chain(LATENCY_COLUMNS)
            .chain(["lost"])
            .collect::<Vec<_>>(),
    );
    let mut rows = Vec::new();
    for n in sizes {
        let row = one_size(bench, opts, n, writers).await?;
        let mut cells = vec![n.to_string(), row["commands_sent"].to_string()];
        cells.extend(latency_cells(&row));
        cells.push(row["lost"].to_string());
        table.row(cells);
        println!("{}", table.render());
        rows.push(row);
    }
    for note in &notes {
        println!("note: {note}");
    }
    bench.write_report(
        &opts.out,
        "floor",
        json!({
            "commands": opts.commands,
            "writer_threads": writers,
            "frame_bytes": FRAME_BYTES,
            "rows": rows,
            "notes": notes,
            "table": table.render(),
        }),
    )
}

async fn one_size(
    bench: &Bench,
    opts: &Options,
    n: usize,
    writers: usize,
) -> Result<serde_json::Value, String> {
    let commands = opts.commands;
    let pairs = tokio::task::spawn_blocking(move || connect_pairs(n))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("floor: cannot open {n} loopback sockets: {e}"))?;
    let tally = Arc::new(Tally::new(commands));
    tally.base.store(0, std::sync::atomic::Ordering::Relaxed);
    let mut crowd = Crowd::default();
    let mut shares: Vec<Vec<TcpStream>> = (0..writers).map(|_| Vec::new()).collect();
    for (i, (client, server)) in pairs.into_iter().enumerate() {
        crowd.adopt(
            client,
            Arc::new(Probe::default()),
            Some(tally.clone()),
            bench.clock,
        );
        shares[i % writers].push(server);
    }
    let mut orders = Vec::with_capacity(writers);
    let mut threads = Vec::with_capacity(writers);
    for (i, share) in shares.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel::<u64>();
        orders.push(tx);
        threads.push(
            std::thread::Builder::new()
                .name(format!("floor-writer-{i}"))
                .spawn(move || write_frames(share, rx))
                .map_err(|e| format!("floor: {e}"))?,
        );
    }
    let clock = bench.clock;
    let mut sent_at = vec![None; commands];
    let meter = bench.cpu_meter();
    let run = fanout::drive(
        commands,
        &tally,
        || crowd.open() as u32,
        |k| {
            sent_at[k as usize] = Some(clock.now());
            orders.iter().all(|tx| tx.send(k).is_ok())
        },
    )
    .await;
    let cpu = meter.percent();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let latency = Latencies::of(&crowd.probes, &sent_at, 0, n);
    crowd.close();
    drop(orders);
    for thread in threads {
        let _ = thread.join();
    }
    Ok(latency.report(&run, json!({ "sockets": n, "cpu_percent": cpu })))
}

/// `n` connected loopback pairs: (the reading end, non-blocking; the writing end).
fn connect_pairs(n: usize) -> std::io::Result<Vec<(TcpStream, TcpStream)>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let client = TcpStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        client.set_nonblocking(true)?;
        pairs.push((client, server));
    }
    Ok(pairs)
}

/// For each command `k`, writes the `state` frame with seq `k + 1` to every socket.
fn write_frames(sockets: Vec<TcpStream>, orders: mpsc::Receiver<u64>) {
    while let Ok(k) = orders.recv() {
        let frame = state_frame(k + 1);
        for mut socket in &sockets {
            let _ = socket.write_all(&frame);
        }
    }
}

/// A server text frame carrying a `state` with `seq`, `FRAME_BYTES` long in all.
fn state_frame(seq: u64) -> Vec<u8> {
    let head = format!(r#"{{"type":"state","state":{{"seq":{seq}}},"pad":""#);
    let text_len = FRAME_BYTES - 4;
    let mut text = head.into_bytes();
    text.resize(text_len - 2, b'x');
    text.extend_from_slice(b"\"}");
    let mut frame = vec![0x81, 126];
    frame.extend_from_slice(&(text_len as u16).to_be_bytes());
    frame.extend_from_slice(&text);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Event, Inbox};

    #[test]
    fn the_frame_is_a_state_of_the_stated_size() {
        let frame = state_frame(42);
        assert_eq!(frame.len(), FRAME_BYTES);
        let mut texts = Vec::new();
        Inbox::default()
            .feed(&frame, &mut |event| {
                if let Event::Text(text) = event {
                    texts.push(text.to_owned());
                }
            })
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(&texts[0]).unwrap();
        assert_eq!(value["type"], "state");
        assert_eq!(value["state"]["seq"], 42);
    }
}
