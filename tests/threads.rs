//! Builds every C program in `tests/programs/threads` (guest threads, atomics, signals between
//! threads, fork/exec, /proc/self) with `aarch64-linux-gnu-gcc -static -O2 -pthread`, runs it
//! once under qemu-aarch64 (the reference) and then [`REPEATS`] times under armature, the runs
//! alternating between the interpreter and the JIT, each run
//! in a fresh temporary working directory with the same arguments and environment; every run
//! must give the reference's stdout and exit code. Thread scheduling differs from run to run,
//! so the programs print only final results, and repeating the runs catches races.
//!
//! A program's header comment may hold:
//! - ` * args: ...` (words, double quotes group) for the command line;
//! - ` * build NAME: FLAGS` for each build (extra compiler flags); one build "O2" when absent;
//! - ` * insns NAME: WORD !WORD ...`: instructions the object file of build NAME must contain
//!   (some mnemonic starts with WORD) or must not contain (`!WORD`), checked with
//!   aarch64-linux-gnu-objdump, so that a build exercises what it is meant to;
//! - ` * execs: yes` when the program executes AArch64 programs (itself): the reference then runs
//!   with a private binfmt_misc registration of qemu-aarch64 (see `common::qemu_with_binfmt`).
//!
//! Each run may take [`RUN_TIMEOUT`]; a hang is a failure. The tools are Debian packages
//! (qemu-user, gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu, util-linux); a missing tool
//! fails the test with the package to install. At most [`PARALLEL`] cases run at a time, as the
//! programs start threads themselves.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
mod common;

use common::{binfmt_problem, qemu_with_binfmt, run_limited_for, text, tool_path, words, Run};

/// How many times each build runs under armature.
const REPEATS: usize = 20;

/// The engines the runs alternate between.
const ENGINES: [&str; 2] = ["interp", "jit"];
/// How long one run may take before it counts as hung. Each program takes well under 0.3 s
/// under qemu-aarch64; the debug build of armature that tests run computes about 25 times more
/// slowly, and two cases share the machine.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// How many cases run at the same time.
const PARALLEL: usize = 2;
/// The compiler and the flags of every build.
const CC: &str = "aarch64-linux-gnu-gcc";
const BASE_FLAGS: &[&str] = &["-static", "-O2", "-pthread"];

/// The tools the test needs and the Debian package of each.
const TOOLS: &[(&str, &str)] = &[
    ("qemu-aarch64", "qemu-user"),
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    ("aarch64-linux-gnu-objdump", "binutils-aarch64-linux-gnu"),
    ("unshare", "util-linux"),
];

/// One build of a program: a name for messages and file names, the extra compiler flags and
/// the instruction checks of its object file.
#[derive(Debug, PartialEq)]
struct Build {
    name: String,
    flags: Vec<String>,
    insns: Vec<String>,
}

/// What a program's header comment asks for.
#[derive(Debug, Default)]
struct Header {
    args: Vec<String>,
    builds: Vec<Build>,
    execs: bool,
}

fn header(source: &str) -> Result<Header, String> {
    let mut h = Header::default();
    let mut insns = Vec::new();
    let comment = source.split("*/").next().unwrap_or_default();
    for line in comment.lines() {
        let line = line.trim_start().trim_start_matches(['/', '*']).trim();
        if let Some(rest) = line.strip_prefix("args:") {
            h.args = words(rest.trim());
        } else if let Some(rest) = line.strip_prefix("execs:") {
            h.execs = rest.trim() == "yes";
        } else if let Some((key, value)) = line.split_once(':') {
            let value = value.split_whitespace().map(str::to_string).collect();
            if let Some(name) = key.strip_prefix("build ") {
                h.builds.push(Build {
                    name: name.trim().to_string(),
                    flags: value,
                    insns: Vec::new(),
                });
            } else if let Some(name) = key.strip_prefix("insns ") {
                insns.push((name.trim().to_string(), value));
            }
        }
    }
    if h.builds.is_empty() {
        h.builds.push(Build {
            name: "O2".to_string(),
            flags: Vec::new(),
            insns: Vec::new(),
        });
    }
    for (name, list) in insns {
        let build = h
            .builds
            .iter_mut()
            .find(|b| b.name == name)
            .ok_or_else(|| format!("`insns {name}:` names no build"))?;
        build.insns = list;
    }
    Ok(h)
}

/// Runs `cmd`, failing with its stderr when it does not succeed; gives its stdout.
fn tool_output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed:\n{}", text(&out.stderr)));
    }
    Ok(text(&out.stdout))
}

/// The mnemonics in `objdump -d --no-show-raw-insn` output.
fn mnemonics(disassembly: &str) -> Vec<&str> {
    disassembly
        .lines()
        .filter_map(|l| {
            let (address, rest) = l.split_once(':')?;
            let address = address.trim();
            let is_insn = !address.is_empty() && address.chars().all(|c| c.is_ascii_hexdigit());
            is_insn.then(|| rest.split_whitespace().next()).flatten()
        })
        .collect()
}

/// Checks the mnemonics against `wanted`: each WORD must start some mnemonic, each `!WORD`
/// none. Returns the failed checks.
fn check_insns(found: &[&str], wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter_map(|w| match w.strip_prefix('!') {
            Some(w) => found
                .iter()
                .find(|m| m.starts_with(w))
                .map(|m| format!("has `{m}`, which `!{w}` forbids")),
            None => (!found.iter().any(|m| m.starts_with(w.as_str())))
                .then(|| format!("has no instruction starting with `{w}`")),
        })
        .collect()
}

/// Compiles `source` with `build` to an object file, checks its instructions and links it.
fn compile(source: &Path, build: &Build, exe: &Path) -> Result<(), String> {
    let object = exe.with_extension(format!("{}.o", build.name));
    tool_output(
        Command::new(CC)
            .args(BASE_FLAGS)
            .args(&build.flags)
            .arg("-c")
            .arg("-o")
            .arg(&object)
            .arg(source),
        CC,
    )?;
    if !build.insns.is_empty() {
        let listing = tool_output(
            Command::new("aarch64-linux-gnu-objdump")
                .args(["-d", "--no-show-raw-insn"])
                .arg(&object),
            "aarch64-linux-gnu-objdump",
        )?;
        let problems = check_insns(&mnemonics(&listing), &build.insns);
        if !problems.is_empty() {
            return Err(format!(
                "the object file built with {:?} {}",
                build.flags,
                problems.join(", ")
            ));
        }
    }
    tool_output(
        Command::new(CC)
            .args(BASE_FLAGS)
            .args(&build.flags)
            .arg("-o")
            .arg(exe)
            .arg(&object),
        CC,
    )?;
    Ok(())
}

/// Runs `cmd` in the fresh directory `dir` with an empty stdin and a fixed environment.
fn run_in(mut cmd: Command, dir: &Path, what: &str) -> Result<Run, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    cmd.current_dir(dir)
        .env_clear()
        .env("LANG", "C")
        .stdin(Stdio::null());
    run_limited_for(
        &mut cmd,
        &dir.with_extension("out"),
        &dir.with_extension("err"),
        what,
        RUN_TIMEOUT,
    )
}

/// The first line where `a` (qemu's) and `b` (armature's) differ, for messages.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (text(a), text(b));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  qemu:     {x}\n  armature: {y}", i + 1);
        }
    }
    let (na, nb) = (a.lines().count(), b.lines().count());
    let first_extra = if na > nb {
        format!(
            "qemu's line {}: {}",
            nb + 1,
            a.lines().nth(nb).unwrap_or_default()
        )
    } else {
        format!(
            "armature's line {}: {}",
            na + 1,
            b.lines().nth(na).unwrap_or_default()
        )
    };
    format!("qemu printed {na} lines, armature {nb}; the first extra is {first_extra}")
}

/// Builds `source` with `build`, runs it under qemu-aarch64 once and under armature
/// [`REPEATS`] times; stops at the first run that differs and describes it.
fn check(source: &Path, h: &Header, build: &Build, scratch: &Path) -> Result<(), String> {
    let name = source.file_stem().and_then(|s| s.to_str()).expect("name");
    let exe = scratch.join(format!("{name}.{}", build.name));
    compile(source, build, &exe)?;
    let work = scratch.join(format!("{name}.{}.runs", build.name));
    let mut qemu = if h.execs {
        qemu_with_binfmt()
    } else {
        Command::new(tool_path("qemu-aarch64"))
    };
    qemu.arg(&exe).args(&h.args);
    let reference = run_in(qemu, &work.join("qemu"), "qemu-aarch64")?;
    if let Some(problem) = h.execs.then(|| binfmt_problem(reference.code)).flatten() {
        return Err(format!("the reference cannot run: {problem}"));
    }
    if reference.code != Some(0) || !reference.stdout.ends_with(b"ok\n") {
        return Err(format!(
            "under qemu-aarch64 the program fails its own checks (exit code {:?}); stdout:\n{}\
             stderr:\n{}",
            reference.code,
            text(&reference.stdout),
            text(&reference.stderr)
        ));
    }
    for run in 1..=REPEATS {
        // The runs alternate between the engines: the JIT's chained and looping blocks must
        // meet the other threads' signals, exits and futex wake-ups as the interpreter does.
        let engine = ENGINES[run % ENGINES.len()];
        let mut arm = Command::new(env!("CARGO_BIN_EXE_armature"));
        arm.args(["run", "--engine", engine, "--"])
            .arg(&exe)
            .args(&h.args);
        let what = format!("armature --engine {engine} run {run} of {REPEATS}");
        let got = run_in(arm, &work.join(format!("armature-{run}")), &what)?;
        let mut problems = Vec::new();
        if got.code != reference.code {
            problems.push(format!(
                "exit code: qemu {:?}, armature {:?}",
                reference.code, got.code
            ));
        }
        if got.stdout != reference.stdout {
            problems.push(format!(
                "stdout differs at {}",
                first_difference(&reference.stdout, &got.stdout)
            ));
        }
        if !problems.is_empty() {
            return Err(format!(
                "--engine {engine} run {run} of {REPEATS}: {}\narmature stderr:\n{}",
                problems.join("\n"),
                text(&got.stderr)
            ));
        }
    }
    Ok(())
}

fn sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/threads");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/programs/threads exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    v.sort();
    v
}

#[test]
fn thread_programs_run_like_qemu_every_time() {
    common::require_tools(TOOLS, "tests/programs/threads");
    let programs: Vec<(PathBuf, Header)> = sources()
        .into_iter()
        .map(|s| {
            let code = std::fs::read_to_string(&s).expect("read a program");
            let h = header(&code).unwrap_or_else(|e| panic!("{}: {e}", s.display()));
            (s, h)
        })
        .collect();
    assert!(
        programs.len() >= 7,
        "tests/programs/threads holds the programs"
    );
    let cases: Vec<(&Path, &Header, &Build)> = programs
        .iter()
        .flat_map(|(s, h)| h.builds.iter().map(move |b| (s.as_path(), h, b)))
        .collect();
    let scratch = std::env::temp_dir().join(format!("armature-threads-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create the scratch directory");
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(source, h, build)) = cases.get(i) else {
                    break;
                };
                if let Err(e) = check(source, h, build, &scratch) {
                    let name = source.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                    failures
                        .lock()
                        .expect("lock")
                        .push(format!("{name} [build {}]: {e}", build.name));
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort();
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
    let h = header(
        "/* Text.\n * args: one \"two words\" \"\"\n * build a: -march=armv8-a -mfoo\n \
         * insns a: ldxr !cas\n * build b: -march=armv8.1-a\n * execs: yes */",
    )
    .expect("a valid header");
    assert_eq!(h.args, ["one", "two words", ""]);
    assert!(h.execs);
    assert_eq!(
        h.builds,
        [
            Build {
                name: "a".into(),
                flags: vec!["-march=armv8-a".into(), "-mfoo".into()],
                insns: vec!["ldxr".into(), "!cas".into()],
            },
            Build {
                name: "b".into(),
                flags: vec!["-march=armv8.1-a".into()],
                insns: Vec::new(),
            },
        ]
    );
    let plain = header("/* Nothing special. */").expect("a valid header");
    assert_eq!(plain.builds.len(), 1, "one default build");
    assert!(!plain.execs && plain.args.is_empty());
    assert!(
        header("/* insns x: cas */").is_err(),
        "insns of an unknown build"
    );
}

#[test]
fn instruction_checks_match_prefixes() {
    let listing = "\n0000000000000000 <f>:\n   0:\tldaxr\tw1, [x0]\n   4:\tcasal\tw1, w2, [x0]\n";
    let found = mnemonics(listing);
    assert_eq!(found, ["ldaxr", "casal"]);
    let want = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(check_insns(&found, &want(&["ldaxr", "cas", "!ldadd"])).is_empty());
    assert_eq!(check_insns(&found, &want(&["ldadd", "!cas"])).len(), 2);
}

#[test]
fn a_hung_run_is_killed_with_its_children() {
    let dir = std::env::temp_dir().join(format!("armature-threads-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the directory");
    // The shell starts a child that would outlive it and then waits for it.
    let mut cmd = Command::new(tool_path("sh"));
    cmd.args(["-c", "sleep 60 & echo $! > child.pid; wait"])
        .current_dir(&dir);
    let start = std::time::Instant::now();
    let result = run_limited_for(
        &mut cmd,
        &dir.join("out"),
        &dir.join("err"),
        "sh",
        Duration::from_millis(500),
    );
    assert!(
        result.as_ref().is_err_and(|e| e.contains("did not finish")),
        "the run must count as hung"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "killed at the limit"
    );
    let pid = std::fs::read_to_string(dir.join("child.pid")).expect("the child's pid");
    // The killed child is gone or a zombie until its new parent reaps it.
    let mut gone = false;
    for _ in 0..200 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        gone = stat.map_or(true, |s| {
            s.rsplit(')')
                .next()
                .unwrap_or_default()
                .trim()
                .starts_with('Z')
        });
        if gone {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(gone, "the grandchild {} was not killed", pid.trim());
}
