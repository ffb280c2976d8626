//! Runs applets of Debian's busybox-static for arm64 under armature and under qemu-aarch64 (the
//! reference) on generated inputs; stdout and the exit code must be identical. The binary is
//! fetched by `scripts/fetch-arm64.sh` into `target/busybox/bin/busybox`; the test fails with
//! that command when it is missing, and fails when qemu-aarch64 (Debian package qemu-user) is
//! missing. The cases run in parallel threads. The `sh -c` cases fork and execute busybox
//! again (by its path in `$BB`, or through /proc/self/exe for a bare applet name), so their
//! reference runs with a private binfmt_misc registration of qemu-aarch64
//! (`common::qemu_with_binfmt`); PATH names no directory there, so a failed exec cannot fall
//! back to the host's tools.
//!
//! The inputs are small (hundreds of kilobytes) because the tests run armature's debug build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
mod common;

use common::{binfmt_problem, qemu_with_binfmt, run_limited, text, tool_path, Run};

fn busybox_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/busybox/bin/busybox")
}

fn busybox() -> PathBuf {
    let path = busybox_path();
    assert!(
        path.is_file(),
        "{} is missing: fetch Debian's arm64 busybox-static with scripts/fetch-arm64.sh",
        path.display()
    );
    let ok = Command::new("qemu-aarch64")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "qemu-aarch64 is the reference for this test: install the Debian package qemu-user \
         (apt-get install qemu-user)"
    );
    let ok = Command::new("unshare")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "unshare runs the reference of the shell cases: install the Debian package util-linux \
         (apt-get install util-linux)"
    );
    path
}

/// A deterministic pseudo-random sequence (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes the inputs into `dir`: data.bin (random bytes), text.txt (numbers and words),
/// mixed.bin (text and random runs, for gzip), dups.txt (sorted lines with repeats) and lsdir
/// (files of fixed sizes and modification times).
fn make_inputs(dir: &Path) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    std::fs::create_dir_all(dir).expect("create the input directory");
    let data: Vec<u8> = (0..512 * 1024).map(|_| rng.next() as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).expect("data.bin");
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let mut t = String::new();
    for i in 0..1500u64 {
        let n = rng.next() % 10007;
        let w = words[(rng.next() % words.len() as u64) as usize];
        t.push_str(&format!(
            "{n} {w}{} {}.{:02}\n",
            i % 13,
            i * 7 % 101,
            n % 100
        ));
    }
    std::fs::write(dir.join("text.txt"), &t).expect("text.txt");
    let mut mixed = Vec::new();
    for i in 0..200 {
        mixed.extend_from_slice(t.as_bytes()[i * 100..i * 100 + 150].as_ref());
        mixed.extend((0..(rng.next() % 64)).map(|_| rng.next() as u8));
    }
    std::fs::write(dir.join("mixed.bin"), &mixed).expect("mixed.bin");
    let mut dups = String::new();
    for i in 0..600u64 {
        let n = i / (1 + rng.next() % 4);
        dups.push_str(&format!("line {n:04}\n"));
    }
    let mut lines: Vec<&str> = dups.lines().collect();
    lines.sort();
    std::fs::write(dir.join("dups.txt"), lines.join("\n") + "\n").expect("dups.txt");
    let ls = dir.join("lsdir");
    std::fs::create_dir_all(ls.join("subdir")).expect("lsdir");
    for (i, name) in ["b.txt", "a.txt", "C-upper", "z.bin", ".hidden"]
        .iter()
        .enumerate()
    {
        std::fs::write(ls.join(name), vec![b'x'; i * 1000 + 7]).expect("lsdir file");
    }
    for name in ["b.txt", "a.txt", "C-upper", "z.bin", ".hidden", "subdir"] {
        let status = Command::new("touch")
            .args(["-d", "@1577934245"])
            .arg(ls.join(name))
            .status()
            .expect("touch runs");
        assert!(status.success(), "touch -d");
    }
}

/// An applet run: its arguments and the input file given as stdin (or none).
struct Case {
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    /// The exit code both must give.
    exit: i32,
    /// The applet executes AArch64 programs (busybox itself), so the reference needs
    /// `common::qemu_with_binfmt`.
    execs: bool,
}

const fn case(args: &'static [&'static str]) -> Case {
    Case {
        args,
        stdin: None,
        exit: 0,
        execs: false,
    }
}

const fn piped(stdin: &'static str, args: &'static [&'static str]) -> Case {
    Case {
        args,
        stdin: Some(stdin),
        exit: 0,
        execs: false,
    }
}

const fn failing(exit: i32, args: &'static [&'static str]) -> Case {
    Case {
        args,
        stdin: None,
        exit,
        execs: false,
    }
}

/// `busybox sh -c script`: the shell forks and executes busybox (named by `$BB`, or through
/// /proc/self/exe for a bare applet name).
const fn shell(script: &'static [&'static str]) -> Case {
    Case {
        args: script,
        stdin: None,
        exit: 0,
        execs: true,
    }
}

const AWK: &str = r#"{ s += $1; n++; if ($1 > m) m = $1; c[$2]++ }
END {
    printf "mean %.4f n %d sum*1.5 %e max/3 %g\n", s / n, n, s * 1.5, m / 3
    for (k in c) if (c[k] > 20) t += c[k]
    printf "%5.2f|%-8s|%x|%o|%c\n", 3.14159, substr("armature", 2, 4), 255, 8, 65
    print int(-7.9), 65536 * 65536 * 256, 1e300 * 1e10, -1e-300 / 1e10, 7 % 3, t
}"#;

const CASES: &[Case] = &[
    case(&["sha256sum", "data.bin", "text.txt"]),
    case(&["md5sum", "data.bin", "text.txt"]),
    case(&["sha1sum", "mixed.bin"]),
    case(&["sort", "-n", "text.txt"]),
    case(&["sort", "-r", "text.txt"]),
    case(&["sort", "-u", "-k2,2", "text.txt"]),
    case(&["sort", "-t", " ", "-k3,3g", "-k1,1n", "text.txt"]),
    case(&["gzip", "-9", "-c", "mixed.bin"]),
    case(&["gzip", "-1", "-c", "text.txt"]),
    case(&["awk", AWK, "text.txt"]),
    case(&[
        "sed",
        "-e",
        r"s/\([a-z]*\)\([0-9]\)/<\2:\1>/g",
        "-e",
        "100,1200d",
        "-e",
        "/^1/,/^2/s/ /_/",
        "-e",
        "$a\\\nlast",
        "text.txt",
    ]),
    case(&["sed", "-n", "5,10p;/gamma1 /p;$=", "text.txt"]),
    case(&["wc", "text.txt", "data.bin"]),
    piped("text.txt", &["wc", "-l"]),
    case(&["ls", "-ln", "lsdir"]),
    case(&["ls", "-ln", "--full-time", "lsdir"]),
    case(&["ls", "-1apS", "lsdir"]),
    case(&["ls", "-lnR", "lsdir"]),
    case(&["echo", "hello", "world", "-n"]),
    case(&[
        "printf",
        "%d %s %5.2f %x %e %-4s|\\n",
        "42",
        "hi",
        "3.14159",
        "255",
        "1e-5",
        "ab",
    ]),
    piped("text.txt", &["tr", "a-z", "A-Z"]),
    piped("text.txt", &["tr", "-d", "0-9"]),
    piped("dups.txt", &["tr", "-s", "0"]),
    case(&["cut", "-d", " ", "-f2", "text.txt"]),
    case(&["cut", "-c", "1-3,6-", "text.txt"]),
    case(&["head", "-n", "5", "text.txt"]),
    case(&["tail", "-n", "7", "text.txt"]),
    case(&["tail", "-c", "100", "text.txt"]),
    piped("dups.txt", &["uniq", "-c"]),
    case(&["uniq", "-d", "dups.txt"]),
    case(&["seq", "1", "3", "100"]),
    case(&["seq", "-w", "8", "12"]),
    case(&["seq", "0.5", "0.25", "2"]),
    case(&["expr", "7", "*", "6", "+", "100", "/", "7"]),
    case(&["expr", "length", "armature"]),
    failing(1, &["expr", "3", "-", "3"]),
    failing(2, &["expr", "5", "/", "0"]),
    failing(1, &["false"]),
    shell(&[
        "sh",
        "-c",
        r#"echo hello world | "$BB" tr a-z A-Z | "$BB" wc -c"#,
    ]),
    shell(&[
        "sh",
        "-c",
        r#""$BB" seq 1 100 | "$BB" sort -rn | "$BB" head -3"#,
    ]),
    shell(&["sh", "-c", "seq 1 100 | sort -rn | head -3 | tr 0-9 a-j"]),
    shell(&[
        "sh",
        "-c",
        r#"x=$("$BB" expr 6 '*' 7); "$BB" false; echo "got $x, status $?"; "$BB" sh -c 'exit 3'; echo "inner $?""#,
    ]),
];

/// Runs `cmd` in `dir` with stdin from `stdin` (or /dev/null); kills it after `RUN_LIMIT`.
fn run(mut cmd: Command, dir: &Path, stdin: Option<&Path>, out: &Path) -> Result<Run, String> {
    let input = match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).map_err(|e| e.to_string())?),
        None => Stdio::null(),
    };
    // PATH names no directory, so that a shell whose exec of busybox failed cannot run the
    // host's tools instead.
    cmd.current_dir(dir)
        .env_clear()
        .env("TZ", "UTC")
        .env("LANG", "C")
        .env("PATH", "/nonexistent")
        .env("BB", busybox_path())
        .stdin(input);
    let what = format!("{cmd:?}");
    run_limited(&mut cmd, out, &out.with_extension("err"), &what)
}

fn qemu(bb: &Path, execs: bool) -> Command {
    let mut c = if execs {
        qemu_with_binfmt()
    } else {
        Command::new(tool_path("qemu-aarch64"))
    };
    c.arg(bb);
    c
}

fn armature(bb: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_armature"));
    c.args(["run", "--"]).arg(bb);
    c
}

/// Runs one applet under qemu-aarch64 and armature and compares stdout and exit codes; `tag`
/// names the output files in `scratch`.
fn check(bb: &Path, inputs: &Path, scratch: &Path, tag: usize, c: &Case) -> Result<(), String> {
    let stdin = c.stdin.map(|f| inputs.join(f));
    let reference = run(
        {
            let mut q = qemu(bb, c.execs);
            q.args(c.args);
            q
        },
        inputs,
        stdin.as_deref(),
        &scratch.join(format!("{tag}.qemu.out")),
    )?;
    let got = run(
        {
            let mut a = armature(bb);
            a.args(c.args);
            a
        },
        inputs,
        stdin.as_deref(),
        &scratch.join(format!("{tag}.armature.out")),
    )?;
    if let Some(problem) = c.execs.then(|| binfmt_problem(reference.code)).flatten() {
        return Err(format!("the reference cannot run: {problem}"));
    }
    let mut problems = Vec::new();
    if reference.code != Some(c.exit) {
        problems.push(format!(
            "qemu exit code {:?}, expected {}",
            reference.code, c.exit
        ));
    }
    if got.code != reference.code {
        problems.push(format!(
            "exit code: qemu {:?}, armature {:?}",
            reference.code, got.code
        ));
    }
    if got.stdout != reference.stdout {
        problems.push(format!(
            "stdout differs ({} bytes from qemu, {} from armature)",
            reference.stdout.len(),
            got.stdout.len()
        ));
    }
    if reference.stdout.is_empty() && c.exit == 0 {
        problems.push("qemu printed nothing".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nqemu stderr:\n{}\narmature stderr:\n{}",
            problems.join("\n"),
            text(&reference.stderr),
            text(&got.stderr)
        ))
    }
}

/// gzip -c under armature, then gunzip -c under armature of that output, gives back the input.
fn round_trip(bb: &Path, inputs: &Path, scratch: &Path) -> Result<(), String> {
    let gz = scratch.join("roundtrip.gz");
    let mut zip = armature(bb);
    zip.args(["gzip", "-c", "mixed.bin"]);
    let r = run(zip, inputs, None, &gz)?;
    if r.code != Some(0) {
        return Err(format!("gzip exit {:?}: {}", r.code, text(&r.stderr)));
    }
    let mut unzip = armature(bb);
    unzip.args(["gunzip", "-c"]);
    let back = run(unzip, inputs, Some(&gz), &scratch.join("roundtrip.out"))?;
    let original = std::fs::read(inputs.join("mixed.bin")).map_err(|e| e.to_string())?;
    if back.code != Some(0) || back.stdout != original {
        return Err(format!(
            "gunzip exit {:?}, {} bytes back of {}: {}",
            back.code,
            back.stdout.len(),
            original.len(),
            text(&back.stderr)
        ));
    }
    Ok(())
}

#[test]
fn busybox_applets_run_like_qemu() {
    let bb = busybox();
    let scratch = std::env::temp_dir().join(format!("armature-busybox-{}", std::process::id()));
    let inputs = scratch.join("inputs");
    make_inputs(&inputs);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let result = match i.cmp(&CASES.len()) {
                    std::cmp::Ordering::Less => check(&bb, &inputs, &scratch, i, &CASES[i])
                        .map_err(|e| format!("busybox {:?}: {e}", CASES[i].args)),
                    std::cmp::Ordering::Equal => round_trip(&bb, &inputs, &scratch)
                        .map_err(|e| format!("gzip -c | gunzip -c round trip: {e}")),
                    std::cmp::Ordering::Greater => break,
                };
                if let Err(e) = result {
                    failures.lock().expect("lock").push(e);
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
        "{} of {} busybox cases differ from qemu-aarch64 (files in {}):\n\n{}",
        failures.len(),
        CASES.len() + 1,
        scratch.display(),
        failures.join("\n\n")
    );
}
