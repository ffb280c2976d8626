//! Helpers the end-to-end test files share (each includes this with `mod common;`).

// Each test file uses only some of the helpers.
#![allow(dead_code)]

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long one guest run may take before it is killed.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Splits `s` into words at spaces; double quotes group words and may give an empty word.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
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
    run_limited_for(cmd, out, err, what, RUN_LIMIT)
}

/// Like [`run_limited`] with the time limit `limit`. The command runs in a process group of
/// its own, and the whole group is killed at the limit, so that children it forked do not
/// outlive a hung run.
pub fn run_limited_for(
    cmd: &mut Command,
    out: &Path,
    err: &Path,
    what: &str,
    limit: Duration,
) -> Result<Run, String> {
    let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = cmd
        .stdout(file(out)?)
        .stderr(file(err)?)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > limit {
            // SAFETY: kill only takes integers; the group is the one our child leads.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
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
            "{what} did not finish in {limit:?} (killed); stdout so far:\n{}\nstderr:\n{}",
            text(&run.stdout),
            text(&run.stderr)
        ));
    }
    Ok(run)
}

/// The full path of `tool` found in `PATH`.
pub fn in_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    })
}

/// The exit codes of [`BINFMT_SCRIPT`] when it cannot mount or register.
const BINFMT_MOUNT_FAILED: i32 = 97;
const BINFMT_REGISTER_FAILED: i32 = 98;

/// With `mount` as `$1` and qemu-aarch64 as `$2`: mounts a private binfmt_misc, registers
/// qemu-aarch64 as the interpreter of AArch64 ELF executables ('F': opened now, 'P': argv[0]
/// kept) and runs qemu-aarch64 with the remaining arguments. The paths are absolute because
/// the caller's environment may hold any PATH.
const BINFMT_SCRIPT: &str = r#"m=$1; q=$2; shift 2
"$m" -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 97
printf ':qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:%s:FP' "$q" >/proc/sys/fs/binfmt_misc/register || exit 98
exec "$q" "$@""#;

/// The full path of `tool` in the test's `PATH`, or `tool` itself when it is not there (the
/// start then fails with a message naming it).
pub fn tool_path(tool: &str) -> PathBuf {
    in_path(tool).unwrap_or_else(|| PathBuf::from(tool))
}

/// A command that runs qemu-aarch64 (the arguments added to it follow qemu's) in a new user
/// and mount namespace whose own binfmt_misc runs AArch64 executables with qemu-aarch64, so
/// that a guest's execve of an AArch64 program works under the reference as it does under
/// armature. The host's binfmt_misc is not touched. Needs util-linux's unshare and Linux 6.7
/// or later (binfmt_misc in user namespaces); [`binfmt_problem`] explains a failed run.
pub fn qemu_with_binfmt() -> Command {
    let mut c = Command::new(tool_path("unshare"));
    c.args(["--user", "--map-root-user", "--mount"])
        .arg(tool_path("sh"))
        .args(["-c", BINFMT_SCRIPT, "sh"])
        .arg(tool_path("mount"))
        .arg(tool_path("qemu-aarch64"));
    c
}

/// Why a run of [`qemu_with_binfmt`] that exited with `code` could not start the guest, if
/// that is what the code says.
pub fn binfmt_problem(code: Option<i32>) -> Option<&'static str> {
    match code {
        Some(BINFMT_MOUNT_FAILED) => Some(
            "cannot mount binfmt_misc in a new user namespace (needs Linux 6.7 or later and \
             unprivileged user namespaces; unshare is in the Debian package util-linux)",
        ),
        Some(BINFMT_REGISTER_FAILED) => {
            Some("cannot register qemu-aarch64 in the namespace's binfmt_misc")
        }
        _ => None,
    }
}

/// Fails the test unless every tool of `tools` (tool, Debian package) answers `--version`;
/// `what` says what needs them.
pub fn require_tools(tools: &[(&str, &str)], what: &str) {
    for (tool, package) in tools {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{tool} is needed to build or check {what}: install the Debian package {package} \
             (apt-get install {package})"
        );
    }
}
