//! wewatch-delay-proxy: a TCP proxy that holds back everything it forwards, in both
//! directions, by a random delay (latency ± jitter), so one machine can show how a watch
//! party behaves over a slow, uneven network. The sync benchmark (e2e/sync/) puts one in
//! front of each simulated viewer; see docs/sync.md.
//!
//! Every chunk read from one side is due `latency ± jitter` after it was read and is written
//! to the other side at max(its due time, the release of the chunk before it), so the order
//! of the bytes is kept per connection and direction, as on a real TCP path. A WebSocket
//! frame of the party protocol is small and sent on its own, so it arrives in one chunk: the
//! delay of a chunk is the delay of a message. Large HTTP bodies (the video) arrive in many
//! chunks, each delayed by about the same amount, so their throughput is barely reduced.
//!
//! Timers have a resolution of one millisecond; a delay may be up to that much longer than
//! drawn.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

const USAGE: &str = "\
wewatch-delay-proxy: forwards TCP connections to an upstream server, delaying every chunk
in each direction by latency ± jitter (order-preserving per connection).
Prints `listening on ADDR:PORT` once it accepts connections.

USAGE: wewatch-delay-proxy --upstream HOST:PORT [FLAGS]

  --listen ADDR:PORT     where to accept connections (default 127.0.0.1:0, a free port)
  --upstream HOST:PORT   where to forward them (required)
  --latency-ms MS        mean one-way delay added in each direction (default 80)
  --jitter-ms MS         spread of the delay (default 30): uniform draws from
                         [latency − jitter, latency + jitter]; normal uses it as the
                         standard deviation (never below 0 ms)
  --distribution D       uniform or normal (default uniform)
  --seed N               seed of the random delays (default: from the system); connection i
                         and direction d draw from their own generator seeded by (N, i, d)
";

const CHUNK_BYTES: usize = 16 * 1024;
/// Chunks held per direction before the proxy stops reading (and TCP pushes back).
const QUEUE_CHUNKS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Distribution {
    Uniform,
    Normal,
}

#[derive(Debug, Clone)]
struct Options {
    listen: String,
    upstream: String,
    latency_ms: f64,
    jitter_ms: f64,
    distribution: Distribution,
    seed: u64,
}

impl Options {
    /// Parses the flags; `Err("")` asks for the usage text.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut opts = Options {
            listen: "127.0.0.1:0".into(),
            upstream: String::new(),
            latency_ms: 80.0,
            jitter_ms: 30.0,
            distribution: Distribution::Uniform,
            seed: rand::rng().random(),
        };
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Err(String::new());
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = |v: &str| -> Result<f64, String> {
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                    _ => Err(format!(
                        "{flag}: expected a number of milliseconds ≥ 0, got {v:?}"
                    )),
                }
            };
            match flag.as_str() {
                "--listen" => opts.listen = value,
                "--upstream" => opts.upstream = value,
                "--latency-ms" => opts.latency_ms = number(&value)?,
                "--jitter-ms" => opts.jitter_ms = number(&value)?,
                "--distribution" => {
                    opts.distribution = match value.as_str() {
                        "uniform" => Distribution::Uniform,
                        "normal" => Distribution::Normal,
                        _ => {
                            return Err(format!("--distribution: uniform or normal, got {value:?}"))
                        }
                    }
                }
                "--seed" => {
                    opts.seed = value.parse().map_err(|_| {
                        format!("--seed: expected an unsigned integer, got {value:?}")
                    })?
                }
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        if opts.upstream.is_empty() {
            return Err("--upstream is required".into());
        }
        Ok(opts)
    }
}

/// Draws the delays of one direction of one connection.
struct Delays {
    latency_ms: f64,
    jitter_ms: f64,
    distribution: Distribution,
    rng: StdRng,
}

impl Delays {
    fn new(opts: &Options, connection: u64, direction: u64) -> Self {
        // Distinct, reproducible streams per connection and direction.
        let seed = opts
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(connection.wrapping_mul(2).wrapping_add(direction));
        Delays {
            latency_ms: opts.latency_ms,
            jitter_ms: opts.jitter_ms,
            distribution: opts.distribution,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The delay of the next chunk, in milliseconds (never negative).
    fn next_ms(&mut self) -> f64 {
        let ms = match self.distribution {
            Distribution::Uniform if self.jitter_ms > 0.0 => {
                self.latency_ms + self.rng.random_range(-self.jitter_ms..=self.jitter_ms)
            }
            Distribution::Uniform => self.latency_ms,
            Distribution::Normal => {
                // Box–Muller: two uniforms in (0, 1] give one standard normal draw.
                let u1: f64 = 1.0 - self.rng.random::<f64>();
                let u2: f64 = self.rng.random::<f64>();
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                self.latency_ms + self.jitter_ms * z
            }
        };
        ms.max(0.0)
    }

    fn next(&mut self) -> Duration {
        Duration::from_secs_f64(self.next_ms() / 1000.0)
    }
}

/// When a chunk due at `due` goes out, given when the chunk before it went out: never
/// before its predecessor, so the byte order is kept.
fn release_at(due: Instant, previous: Option<Instant>) -> Instant {
    match previous {
        Some(prev) if prev > due => prev,
        _ => due,
    }
}

/// Copies one direction, each chunk held back by its own delay. Ends when `from` reaches
/// its end (which is passed on once everything before it was written) or on an error.
async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut delays: Delays,
) -> io::Result<()> {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE_CHUNKS);
    let reader = async move {
        let mut buf = vec![0u8; CHUNK_BYTES];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), io::Error>(());
            }
            let due = Instant::now() + delays.next();
            if tx.send((due, buf[..n].to_vec())).await.is_err() {
                return Ok(()); // the writer is gone: the other side closed
            }
        }
    };
    let writer = async move {
        let mut previous = None;
        while let Some((due, bytes)) = rx.recv().await {
            let release = release_at(due, previous);
            tokio::time::sleep_until(release).await;
            to.write_all(&bytes).await?;
            previous = Some(release);
        }
        to.shutdown().await
    };
    tokio::try_join!(reader, writer).map(|_| ())
}

async fn serve(client: TcpStream, upstream: String, opts: Options, connection: u64) {
    let server = match TcpStream::connect(&upstream).await {
        Ok(s) => s,
        Err(err) => {
            eprintln!(
                "wewatch-delay-proxy: connection {connection}: cannot reach {upstream}: {err}"
            );
            return;
        }
    };
    // Small writes (WebSocket frames) must leave at once, not wait to be coalesced.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pipe(client_read, server_write, Delays::new(&opts, connection, 0));
    let down = pipe(server_read, client_write, Delays::new(&opts, connection, 1));
    // A direction that ends (or fails) drops its write half, which shuts that side down; the
    // peer then closes too and the other direction ends.
    let _ = tokio::join!(up, down);
}

async fn run(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(&opts.listen).await?;
    let local: SocketAddr = listener.local_addr()?;
    println!("listening on {local}");
    eprintln!(
        "wewatch-delay-proxy: {local} → {} with {} ms ± {} ms ({:?}, seed {})",
        opts.upstream, opts.latency_ms, opts.jitter_ms, opts.distribution, opts.seed
    );
    let mut connection: u64 = 0;
    loop {
        let (client, _) = listener.accept().await?;
        tokio::spawn(serve(
            client,
            opts.upstream.clone(),
            opts.clone(),
            connection,
        ));
        connection += 1;
    }
}

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(err) if err.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("wewatch-delay-proxy: {err}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("wewatch-delay-proxy: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wewatch-delay-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(latency_ms: f64, jitter_ms: f64, distribution: Distribution) -> Options {
        Options {
            listen: "127.0.0.1:0".into(),
            upstream: "127.0.0.1:1".into(),
            latency_ms,
            jitter_ms,
            distribution,
            seed: 7,
        }
    }

    #[test]
    fn uniform_delays_stay_within_latency_plus_or_minus_jitter() {
        let mut d = Delays::new(&options(80.0, 30.0, Distribution::Uniform), 0, 0);
        let draws: Vec<f64> = (0..10_000).map(|_| d.next_ms()).collect();
        assert!(draws.iter().all(|&x| (50.0..=110.0).contains(&x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 80.0).abs() < 1.5, "mean {mean}");
        assert!(draws.iter().any(|&x| x < 55.0) && draws.iter().any(|&x| x > 105.0));
    }

    #[test]
    fn normal_delays_have_the_latency_as_mean_and_the_jitter_as_deviation() {
        let mut d = Delays::new(&options(80.0, 10.0, Distribution::Normal), 3, 1);
        let draws: Vec<f64> = (0..20_000).map(|_| d.next_ms()).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let sd =
            (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64).sqrt();
        assert!((mean - 80.0).abs() < 0.5, "mean {mean}");
        assert!((sd - 10.0).abs() < 0.5, "sd {sd}");
        let mut wide = Delays::new(&options(5.0, 50.0, Distribution::Normal), 0, 0);
        assert!((0..1000).all(|_| wide.next_ms() >= 0.0));
    }

    #[test]
    fn same_seed_same_delays_other_connection_other_delays() {
        let o = options(80.0, 30.0, Distribution::Uniform);
        let a: Vec<f64> = {
            let mut d = Delays::new(&o, 1, 0);
            (0..5).map(|_| d.next_ms()).collect()
        };
        let b: Vec<f64> = {
            let mut d = Delays::new(&o, 1, 0);
            (0..5).map(|_| d.next_ms()).collect()
        };
        let c: Vec<f64> = {
            let mut d = Delays::new(&o, 2, 0);
            (0..5).map(|_| d.next_ms()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_chunk_never_overtakes_the_one_before() {
        let t0 = Instant::now();
        let early = t0 + Duration::from_millis(50);
        let late = t0 + Duration::from_millis(110);
        assert_eq!(release_at(early, None), early);
        assert_eq!(release_at(early, Some(late)), late);
        assert_eq!(release_at(late, Some(early)), late);
    }

    #[tokio::test]
    async fn forwards_both_ways_in_order_and_late() {
        // An echo server upstream.
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut opts = options(20.0, 15.0, Distribution::Uniform);
        opts.upstream = echo_addr.to_string();
        let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_addr = proxy.local_addr().unwrap();
        tokio::spawn(async move {
            let (c, _) = proxy.accept().await.unwrap();
            serve(c, opts.upstream.clone(), opts.clone(), 0).await;
        });

        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        let started = std::time::Instant::now();
        let mut sent = Vec::new();
        for i in 0..20u8 {
            client.write_all(&[i]).await.unwrap();
            sent.push(i);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut got = Vec::new();
        let mut first_after = None;
        while got.len() < sent.len() {
            let mut buf = [0u8; 64];
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0);
            first_after.get_or_insert_with(|| started.elapsed());
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, sent, "bytes arrive complete and in order");
        // Two legs of at least 5 ms each.
        assert!(
            first_after.unwrap() >= Duration::from_millis(10),
            "{first_after:?}"
        );
    }
}
