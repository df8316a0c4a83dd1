//! Command-line flags. The defaults run every scenario in about a quarter of an hour on a
//! two-core machine.

use std::path::PathBuf;

pub const USAGE: &str = "\
wewatch-load: drives a WeWatch server with simulated viewers over real WebSockets on
loopback, prints a table per scenario and writes JSON to target/bench/.

USAGE: wewatch-load [FLAGS]

  --scenario LIST      idle,floor,fanout,parties,http,flood or all (default all)
  --sizes LIST         viewer counts for idle (default 10000,20000,50000) and party
                       sizes for floor and fanout (default 10,100,1000,10000)
  --commands N         floor, fanout: commands per party size (default 200)
  --people N           fanout: distinct people per party at most; larger parties give
                       each person several connections (default 1000)
  --party-size N       idle: viewers per party (default 100)
  --hold-secs N        idle: how long each size is held, spanning a heartbeat (default 12)
  --parties N          parties: how many (default 1000)
  --party-viewers N    parties: viewers in each (default 10)
  --rates LIST         parties: command rates per second to try, rising
                       (default 500,1000,2000,3000,4000,5000,6000,8000,10000)
  --step-secs N        parties: seconds at each rate (default 5)
  --join-budget-secs N how long one batch of viewers may take to join; the rest are
                       given up and counted as errors (default 180)
  --flooders N         flood: clients that send without reading (default 50)
  --flood-secs N       flood: how long they send (default 10)
  --connections N      http: concurrent connections (default 64)
  --duration-secs N    http: seconds per endpoint (default 10)
  --url URL            use a running server (http://127.0.0.1:PORT) instead of starting one
  --server-pid PID     with --url: the server's pid, for its memory and CPU
  --server-bin PATH    the server to start (default target/release/wewatch)
  --out DIR            where the JSON goes (default target/bench)
  --threads N          the generator's worker threads and reader threads, each
                       (default: one per core)
";

/// Which scenarios to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Idle,
    Floor,
    Fanout,
    Parties,
    Http,
    Flood,
}

/// Every setting of a run.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenarios: Vec<Scenario>,
    pub sizes: Option<Vec<usize>>,
    pub commands: usize,
    pub people: usize,
    pub party_size: usize,
    pub hold_secs: u64,
    pub parties: usize,
    pub party_viewers: usize,
    pub rates: Vec<u64>,
    pub step_secs: u64,
    pub join_budget_secs: u64,
    pub connections: usize,
    pub duration_secs: u64,
    pub flooders: usize,
    pub flood_secs: u64,
    pub url: Option<String>,
    pub server_pid: Option<u32>,
    pub server_bin: PathBuf,
    pub root: PathBuf,
    pub out: PathBuf,
    pub threads: usize,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut o = Self {
            scenarios: vec![
                Scenario::Idle,
                Scenario::Floor,
                Scenario::Fanout,
                Scenario::Parties,
                Scenario::Http,
                Scenario::Flood,
            ],
            sizes: None,
            commands: 200,
            people: 1000,
            party_size: 100,
            hold_secs: 12,
            parties: 1000,
            party_viewers: 10,
            rates: vec![500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000],
            step_secs: 5,
            join_budget_secs: 180,
            connections: 64,
            duration_secs: 10,
            flooders: 50,
            flood_secs: 10,
            url: None,
            server_pid: None,
            server_bin: root.join("target/release/wewatch"),
            out: root.join("target/bench"),
            root,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Err(String::new());
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--scenario" => o.scenarios = scenarios(&value)?,
                "--sizes" => o.sizes = Some(list(&flag, &value)?),
                "--commands" => o.commands = number(&flag, &value)?,
                "--people" => o.people = number(&flag, &value)?,
                "--party-size" => o.party_size = number(&flag, &value)?,
                "--hold-secs" => o.hold_secs = number(&flag, &value)?,
                "--parties" => o.parties = number(&flag, &value)?,
                "--party-viewers" => o.party_viewers = number(&flag, &value)?,
                "--rates" => o.rates = list(&flag, &value)?,
                "--step-secs" => o.step_secs = number(&flag, &value)?,
                "--join-budget-secs" => o.join_budget_secs = number(&flag, &value)?,
                "--connections" => o.connections = number(&flag, &value)?,
                "--duration-secs" => o.duration_secs = number(&flag, &value)?,
                "--flooders" => o.flooders = number(&flag, &value)?,
                "--flood-secs" => o.flood_secs = number(&flag, &value)?,
                "--url" => o.url = Some(value),
                "--server-pid" => o.server_pid = Some(number(&flag, &value)?),
                "--server-bin" => o.server_bin = PathBuf::from(value),
                "--out" => o.out = PathBuf::from(value),
                "--threads" => o.threads = number(&flag, &value)?,
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        Ok(o)
    }

    /// How long one batch of viewers may take to join.
    pub fn join_budget(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.join_budget_secs)
    }
}

fn scenarios(value: &str) -> Result<Vec<Scenario>, String> {
    let mut out = Vec::new();
    for name in value.split(',') {
        match name.trim() {
            "all" => out.extend([
                Scenario::Idle,
                Scenario::Floor,
                Scenario::Fanout,
                Scenario::Parties,
                Scenario::Http,
                Scenario::Flood,
            ]),
            "idle" => out.push(Scenario::Idle),
            "floor" => out.push(Scenario::Floor),
            "fanout" => out.push(Scenario::Fanout),
            "parties" => out.push(Scenario::Parties),
            "http" => out.push(Scenario::Http),
            "flood" => out.push(Scenario::Flood),
            other => {
                return Err(format!(
                    "unknown scenario {other:?} (idle, floor, fanout, parties, http, flood, all)"
                ))
            }
        }
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag} wants a number, not {value:?}"))
}

fn list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String> {
    value.split(',').map(|v| number(flag, v.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_defaults() {
        let args = [
            "--scenario",
            "fanout,http",
            "--sizes",
            "10,1_000",
            "--commands",
            "20",
        ];
        let o = Options::parse(args.iter().map(|s| s.to_string())).unwrap();
        assert_eq!(o.scenarios, vec![Scenario::Fanout, Scenario::Http]);
        assert_eq!(o.sizes, Some(vec![10, 1000]));
        assert_eq!(o.commands, 20);
        assert!(Options::parse(["--sizes"].iter().map(|s| s.to_string())).is_err());
        assert!(Options::parse(["--scenario", "x"].iter().map(|s| s.to_string())).is_err());
    }
}
