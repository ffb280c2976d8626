//! Helpers the end-to-end test files share (each includes this with `mod common;`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long one guest run may take before it is killed.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The result of one run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd` (its directory, environment and stdin already set) with stdout and stderr going
/// to the files `out` and `err`; kills it after [`RUN_LIMIT`]. `what` names it in errors.
pub fn run_limited(cmd: &mut Command, out: &Path, err: &Path, what: &str) -> Result<Run, String> {
    let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = cmd
        .stdout(file(out)?)
        .stderr(file(err)?)
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > RUN_LIMIT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: std::fs::read(out).unwrap_or_default(),
        stderr: std::fs::read(err).unwrap_or_default(),
    };
    if status.is_none() {
        return Err(format!(
            "{what} did not finish in {RUN_LIMIT:?}; stderr:\n{}",
            text(&run.stderr)
        ));
    }
    Ok(run)
}
