//! A child process under a small shell watchdog that stops it when the generator's end of
//! a pipe closes, so no child outlives the generator, however the generator ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// Runs "$@" in the background, in a process group of its own (so a wrapper and whatever
/// it starts stop together), with its output in $LOG; prints its pid; and when standard
/// input closes, stops the group (TERM, then KILL after ten seconds). The watchdog ignores
/// Ctrl-C: the generator's exit closes the pipe, and that is the signal.
const WATCHDOG: &str = r#"trap '' INT
setsid "$@" >"$LOG" 2>&1 </dev/null & pid=$!
echo $pid
read _
kill -TERM -$pid 2>/dev/null
i=0
while kill -0 -$pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL -$pid 2>/dev/null
wait $pid"#;

/// A child process under its watchdog.
pub struct Watched {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    pub pid: u32,
    pub log: PathBuf,
}

impl Watched {
    pub fn spawn(
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        cwd: &Path,
        log: PathBuf,
    ) -> Result<Self, String> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(program)
            .args(args);
        cmd.current_dir(cwd).env("LOG", &log).env_remove("RUST_LOG");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut watchdog = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stdin = watchdog.stdin.take();
        let mut line = String::new();
        // unwrap: stdout was piped just above.
        let stdout = watchdog.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let pid = line
            .trim()
            .parse()
            .map_err(|_| format!("{} did not start", program.display()))?;
        Ok(Self {
            watchdog,
            stdin,
            pid,
            log,
        })
    }

    pub fn running(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    /// The last few thousand characters the child printed.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or(&text).to_owned()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}
