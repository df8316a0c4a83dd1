//! What the generator reads from the operating system: the file-descriptor limit, a
//! process's memory and CPU time from `/proc`, the load average, and the machine.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Descriptors kept free for everything that is not a viewer's socket (Redis, logs,
/// listeners, the HTTP clients).
const FD_RESERVE: u64 = 200;
/// Loopback addresses client sockets are bound to, so the ephemeral port range of one
/// source address (about 28,000 ports) never runs out.
const CLIENT_ADDRESSES: usize = 8;

/// The descriptor limit after [`raise_fd_limit`].
#[derive(Debug, Clone, Copy)]
pub struct FdLimit {
    pub soft: u64,
    pub hard: u64,
}

impl FdLimit {
    /// How many viewers fit when the generator and the server (which inherits this limit)
    /// each hold one socket per viewer, rounded down to a thousand.
    pub fn viewer_capacity(&self) -> usize {
        let usable = self.soft.saturating_sub(FD_RESERVE);
        (usable / 1000 * 1000) as usize
    }
}

/// Raises this process's descriptor limit as far as it may: the hard limit to the kernel's
/// `nr_open` when privileged, then the soft limit to the hard one. The server started
/// by the generator inherits it.
pub fn raise_fd_limit() -> FdLimit {
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(hard);
    if ceiling > hard {
        // Fails without CAP_SYS_RESOURCE; the hard limit then stays as it is.
        let _ = rlimit::Resource::NOFILE.set(ceiling, ceiling);
    }
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    let _ = rlimit::Resource::NOFILE.set(hard, hard);
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    FdLimit { soft, hard }
}

/// The soft descriptor limit of another process, from `/proc/<pid>/limits`.
pub fn fd_limit_of(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The loopback address the `index`th client socket is bound to.
pub fn client_address(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        0,
        2 + (index % CLIENT_ADDRESSES) as u8,
    ))
}

/// Resident memory of a process, in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time a process has used so far, in clock ticks (user + system).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Waits until the given processes together use less than a tenth of a core for three
/// half-second windows in a row (the join or leave storm is over), or `limit` passes.
/// Returns the time waited.
pub async fn settle(pids: &[u32], limit: Duration) -> Duration {
    const WINDOW: Duration = Duration::from_millis(500);
    const QUIET_WINDOWS: u32 = 3;
    // Clock ticks per second are 100 on Linux; a tenth of a core over the window is 5.
    const QUIET_TICKS: u64 = 5;
    let start = Instant::now();
    let total = || pids.iter().filter_map(|p| cpu_ticks(*p)).sum::<u64>();
    let mut before = total();
    let mut quiet = 0;
    while start.elapsed() < limit && quiet < QUIET_WINDOWS {
        tokio::time::sleep(WINDOW).await;
        let now = total();
        if now.saturating_sub(before) < QUIET_TICKS {
            quiet += 1;
        } else {
            quiet = 0;
        }
        before = now;
    }
    start.elapsed()
}

/// CPU time used by a few processes since a starting point.
pub struct CpuMeter {
    start: Instant,
    /// (name, pid, clock ticks at the start).
    processes: Vec<(&'static str, u32, u64)>,
}

impl CpuMeter {
    pub fn start(pids: Vec<(&'static str, u32)>) -> Self {
        let processes = pids
            .into_iter()
            .map(|(name, pid)| (name, pid, cpu_ticks(pid).unwrap_or(0)))
            .collect();
        Self {
            start: Instant::now(),
            processes,
        }
    }

    /// The same processes, measured from now.
    pub fn restart(&self) -> Self {
        Self::start(self.processes.iter().map(|(n, p, _)| (*n, *p)).collect())
    }

    /// Each process's use since the start, in percent of one core.
    pub fn percent(&self) -> Value {
        // Linux counts CPU time in ticks of 1/100 s.
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let mut out = serde_json::Map::new();
        for (name, pid, before) in &self.processes {
            let used = cpu_ticks(*pid).unwrap_or(*before).saturating_sub(*before);
            out.insert((*name).to_owned(), json!((used as f64 / secs).round()));
        }
        Value::Object(out)
    }
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The machine the figures come from.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default();
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": cpu,
        "memory_gib": memory_kib as f64 / 1024.0 / 1024.0,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        "ephemeral_ports": std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join("-"))
            .unwrap_or_default(),
    })
}
