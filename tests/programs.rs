//! Builds every C and assembly program in `tests/programs` with the cross compilers and runs it
//! under armature (with each engine: the reference interpreter, the pre-decoded one and the JIT)
//! and under qemu-aarch64 (the reference), with the same arguments, standard
//! input, environment and a fresh temporary working directory each; stdout and the exit code
//! must be identical. A program's header comment may hold ` * args: ...` (words, double quotes
//! group), ` * stdin: ...` (with `\n` escapes) and ` * exit: N` (the exit code both must give;
//! 0 when absent).
//!
//! The tools are Debian packages (qemu-user, gcc-aarch64-linux-gnu, clang-19, lld-19); a missing
//! tool fails the test with the package to install. Builds and runs go in parallel threads.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
mod common;

use common::{run_limited, text, words, Run};

/// A build configuration: a name for messages, the compiler and its flags.
struct Build {
    name: &'static str,
    cc: &'static str,
    flags: &'static [&'static str],
}

const BUILDS: &[Build] = &[
    Build {
        name: "gcc-O0",
        cc: "aarch64-linux-gnu-gcc",
        flags: &["-static", "-O0"],
    },
    Build {
        name: "gcc-O3-armv8.2",
        cc: "aarch64-linux-gnu-gcc",
        flags: &["-static", "-O3", "-march=armv8.2-a"],
    },
    // clang finds the gcc cross toolchain's sysroot and crt files by itself.
    Build {
        name: "clang-O2",
        cc: "clang-19",
        flags: &[
            "--target=aarch64-linux-gnu",
            "-fuse-ld=lld",
            "-static",
            "-O2",
        ],
    },
];

/// The tools the test needs and the Debian package of each.
const TOOLS: &[(&str, &str)] = &[
    ("qemu-aarch64", "qemu-user"),
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    ("clang-19", "clang-19"),
    ("ld.lld-19", "lld-19"),
];

/// What a program's header comment asks for.
#[derive(Default)]
struct Header {
    args: Vec<String>,
    stdin: Vec<u8>,
    exit: i32,
}

fn header(source: &str) -> Header {
    let mut h = Header::default();
    let comment = source.split("*/").next().unwrap_or_default();
    for line in comment.lines() {
        let line = line.trim_start().trim_start_matches(['/', '*']).trim();
        if let Some(rest) = line.strip_prefix("args:") {
            h.args = words(rest.trim());
        } else if let Some(rest) = line.strip_prefix("stdin:") {
            h.stdin = rest.trim().replace("\\n", "\n").into_bytes();
        } else if let Some(rest) = line.strip_prefix("exit:") {
            h.exit = rest.trim().parse().expect("exit: takes a number");
        }
    }
    h
}

/// Runs `cmd` in `dir` with `stdin`; stdout and stderr go to files there. Kills it after
/// `RUN_LIMIT`.
fn run_in(mut cmd: Command, dir: &Path, stdin: &[u8], tag: &str) -> Result<Run, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let input = dir.with_extension("stdin");
    std::fs::write(&input, stdin).map_err(|e| format!("write stdin: {e}"))?;
    cmd.current_dir(dir)
        .env_clear()
        .env("ARMATURE_TEST_VALUE", "forty two")
        .env("ARMATURE_TEST_OTHER", "x=y")
        .env("LANG", "C")
        .stdin(std::fs::File::open(&input).map_err(|e| format!("stdin: {e}"))?);
    run_limited(
        &mut cmd,
        &dir.with_extension(format!("{tag}.out")),
        &dir.with_extension(format!("{tag}.err")),
        tag,
    )
}

/// The first line where `a` and `b` differ, for messages.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (text(a), text(b));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  qemu:     {x}\n  armature: {y}", i + 1);
        }
    }
    format!(
        "qemu printed {} lines, armature {}",
        a.lines().count(),
        b.lines().count()
    )
}

/// Builds `source` with `build` into a scratch directory and checks that armature and
/// qemu-aarch64 give the same stdout and exit code. Returns a description of any difference.
fn check(source: &Path, build: &Build, scratch: &Path) -> Result<(), String> {
    let name = source.file_stem().and_then(|s| s.to_str()).expect("name");
    let code = std::fs::read_to_string(source).map_err(|e| e.to_string())?;
    let h = header(&code);
    let exe = scratch.join(format!("{name}.{}", build.name));
    let out = Command::new(build.cc)
        .args(build.flags)
        .arg("-o")
        .arg(&exe)
        .arg(source)
        .arg("-lm")
        .output()
        .map_err(|e| format!("cannot start {}: {e}", build.cc))?;
    if !out.status.success() {
        return Err(format!("{} failed:\n{}", build.cc, text(&out.stderr)));
    }
    let work = scratch.join(format!("{name}.{}.dir", build.name));
    let mut qemu = Command::new("qemu-aarch64");
    qemu.arg(&exe).args(&h.args);
    let reference = run_in(qemu, &work.join("qemu"), &h.stdin, "qemu")?;
    let mut problems = Vec::new();
    if reference.code != Some(h.exit) {
        problems.push(format!(
            "qemu exit code {:?}, the header expects {}",
            reference.code, h.exit
        ));
    }
    let mut stderr = String::new();
    // Every engine: the reference interpreter, the pre-decoded one, and the JIT with the
    // instructions it leaves to the reference.
    for engine in ["ref", "interp", "jit"] {
        let mut arm = Command::new(env!("CARGO_BIN_EXE_armature"));
        arm.args(["run", "--engine", engine, "--"])
            .arg(&exe)
            .args(&h.args);
        let got = run_in(arm, &work.join(engine), &h.stdin, engine)?;
        if got.code != reference.code {
            problems.push(format!(
                "exit code: qemu {:?}, armature --engine {engine} {:?}",
                reference.code, got.code
            ));
        }
        if got.stdout != reference.stdout {
            problems.push(format!(
                "stdout of --engine {engine} differs at {}",
                first_difference(&reference.stdout, &got.stdout)
            ));
        }
        stderr.push_str(&format!("--engine {engine}:\n{}", text(&got.stderr)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nqemu stderr:\n{}\narmature stderr:\n{stderr}",
            problems.join("\n"),
            text(&reference.stderr),
        ))
    }
}

fn sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/programs exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "S"))
        .collect();
    v.sort();
    v
}

#[test]
fn programs_run_like_qemu() {
    common::require_tools(TOOLS, "tests/programs");
    let sources = sources();
    assert!(sources.len() >= 10, "tests/programs holds the programs");
    let cases: Vec<(&PathBuf, &Build)> = sources
        .iter()
        .flat_map(|s| BUILDS.iter().map(move |b| (s, b)))
        .collect();
    let scratch = std::env::temp_dir().join(format!("armature-programs-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create the scratch directory");
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(source, build)) = cases.get(i) else {
                    break;
                };
                if let Err(e) = check(source, build, &scratch) {
                    let name = source.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                    failures
                        .lock()
                        .expect("lock")
                        .push(format!("{name} [{}]: {e}", build.name));
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    if failures.is_empty() {
        std::fs::remove_dir_all(&scratch).ok();
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from qemu-aarch64 (files in {}):\n\n{}",
        failures.len(),
        cases.len(),
        scratch.display(),
        failures.join("\n\n")
    );
}

#[test]
fn headers_are_parsed() {
    let h = header("/* Text.\n * args: one \"two words\" \"\" x\n * stdin: a\\nb\n * exit: 3 */");
    assert_eq!(h.args, ["one", "two words", "", "x"]);
    assert_eq!(h.stdin, b"a\nb");
    assert_eq!(h.exit, 3);
    let exit = header(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/exit_code.c"),
        )
        .expect("exit_code.c"),
    );
    assert_eq!(exit.exit, 3, "one program must exit with a non-zero code");
}
