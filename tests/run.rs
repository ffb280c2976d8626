//! End-to-end tests of `armature run`, compared with qemu-aarch64 (Debian package qemu-user).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn armature(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armature"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("armature runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `qemu-aarch64 args`; fails the test when qemu-user is not installed.
fn qemu(args: &[&str]) -> Output {
    match Command::new("qemu-aarch64")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "qemu-aarch64 is needed as the reference for this test ({e}): install qemu-user \
             (apt-get install qemu-user)"
        ),
    }
}

#[test]
fn hello_runs_like_qemu() {
    let reference = qemu(&["examples/hello.elf"]);
    let out = armature(&["run", "--", "examples/hello.elf"]);
    assert_eq!(
        text(&out.stdout),
        "Hello from aarch64!\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(55), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&reference.stdout));
    assert_eq!(out.status.code(), reference.status.code());
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn strace_prints_the_calls() {
    let out = armature(&["run", "--strace", "--", "examples/hello.elf"]);
    let err = text(&out.stderr);
    assert!(err.contains(" write(1,0x"), "{err}");
    assert!(err.contains(",20) = 20"), "{err}");
    assert!(err.contains(" exit(55)"), "{err}");
    assert_eq!(out.status.code(), Some(55), "{err}");
}

#[test]
fn load_errors_and_bad_options_exit_2() {
    // A host that refuses the guest's address space (a `ulimit -v` of 4 GB) is a clear error.
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -v 4000000 && exec \"$0\" run -- examples/hello.elf",
        ])
        .arg(env!("CARGO_BIN_EXE_armature"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot reserve host address space for the 1 TiB guest address space"),
        "{err}"
    );
    let out = armature(&["run", "--", "Cargo.toml"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("armature: error: cannot run Cargo.toml: not an ELF file"),
        "{err}"
    );
    let out = armature(&["run", "--", "/nonexistent/prog"]);
    assert_eq!(out.status.code(), Some(2));
    let out = armature(&["run", "--cpu", "cortex-a53", "--", "examples/hello.elf"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("only \"max\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A one-segment ELF whose code is not executable: the first fetch faults.
fn non_executable_program() -> PathBuf {
    let mut f = vec![0u8; 0x1004];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes());
    f[18..20].copy_from_slice(&183u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&6u32.to_le_bytes()); // RW, no X
    f[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
    f[ph + 16..ph + 24].copy_from_slice(&0x40_1000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&4u64.to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&4u64.to_le_bytes());
    f[0x1000..].copy_from_slice(&0xd280_0020u32.to_le_bytes());
    let path = std::env::temp_dir().join(format!("armature-run-nx-{}.elf", std::process::id()));
    std::fs::write(&path, f).expect("write test program");
    path
}

#[test]
fn a_fault_kills_the_guest_like_qemu() {
    let path = non_executable_program();
    let out = armature(&["run", "--", path.to_str().expect("utf-8 path")]);
    std::fs::remove_file(&path).ok();
    let err = text(&out.stderr);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(11),
        "{err}"
    );
    assert!(
        err.contains("armature: uncaught target signal 11 (Segmentation fault) - core dumped"),
        "{err}"
    );
}

/// Compiles `source` with `aarch64-linux-gnu-gcc -O2 -static` into a temporary directory;
/// fails the test when the cross compiler is not installed.
fn compile_c(name: &str, source: &str) -> PathBuf {
    compile_c_with(name, source, &["-static"])
}

/// Compiles `source` with `aarch64-linux-gnu-gcc -O2 FLAGS` into a temporary directory.
fn compile_c_with(name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("armature-run-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the build directory");
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).expect("write the C source");
    let exe = dir.join(name);
    let out = match Command::new("aarch64-linux-gnu-gcc")
        .arg("-O2")
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "aarch64-linux-gnu-gcc is needed to build this test's program ({e}): install \
             gcc-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu)"
        ),
    };
    assert!(out.status.success(), "gcc: {}", text(&out.stderr));
    exe
}

#[test]
fn static_glibc_program_runs_like_qemu() {
    let exe = compile_c(
        "hello",
        "#include <stdio.h>\nint main(int c, char **v) { printf(\"hello %d\\n\", c); return 3; }\n",
    );
    let path = exe.to_str().expect("utf-8 path");
    let reference = qemu(&[path]);
    let out = armature(&["run", "--", path]);
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    assert_eq!(
        text(&out.stdout),
        "hello 1\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), text(&reference.stdout));
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));
    assert_eq!(out.status.code(), reference.status.code());
}

/// Under `perf record` (which sets `PERF_BUILDID_DIR`), cranelift-jit names every compiled
/// function in `/tmp/perf-PID.map`. A static glibc program changes its code pages at start-up
/// (RELRO), which flushes the JIT's code; the blocks compiled after must not land on the
/// addresses of the old ones, or perf shows the old names for them.
#[test]
fn the_perf_map_names_each_address_once() {
    let exe = compile_c(
        "perfmap",
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    );
    let buildid = exe.parent().expect("a directory").join("buildid");
    let child = Command::new(env!("CARGO_BIN_EXE_armature"))
        .args(["run", "--jit-threshold", "0", "--"])
        .arg(&exe)
        .env("PERF_BUILDID_DIR", &buildid)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("armature runs");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().expect("armature ends");
    let text_map = std::fs::read_to_string(&map);
    std::fs::remove_file(&map).ok();
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    assert_eq!(text(&out.stdout), "hello\n");
    let text_map = text_map.expect("armature wrote the perf map");
    let mut ranges: Vec<(u64, u64, &str)> = text_map
        .lines()
        .map(|line| {
            let mut f = line.splitn(3, ' ');
            let mut hex = || u64::from_str_radix(f.next().unwrap_or(""), 16).expect("hex");
            let (start, len) = (hex(), hex());
            (start, start + len, f.next().unwrap_or(""))
        })
        .collect();
    // Each module has one trampoline: two or more show that a flush happened.
    let modules = ranges.iter().filter(|r| !r.2.starts_with("guest_")).count();
    assert!(modules >= 2, "no flush happened:\n{text_map}");
    ranges.sort();
    for pair in ranges.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "{} at {:#x} overlaps {} at {:#x}",
            pair[1].2,
            pair[1].0,
            pair[0].2,
            pair[0].0
        );
    }
}

/// Runs `prog` under `armature run --trace`; gives the exit code and the parsed trace lines.
fn trace_of(prog: &str) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
    let name = Path::new(prog)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a program file name");
    let trace = std::env::temp_dir().join(format!(
        "armature-trace-{}-{name}.jsonl",
        std::process::id()
    ));
    let out = armature(&[
        "run",
        "--trace",
        trace.to_str().expect("utf-8 path"),
        "--",
        prog,
    ]);
    let text = std::fs::read_to_string(&trace).expect("the trace file exists");
    std::fs::remove_file(&trace).ok();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (out.status, lines)
}

#[test]
fn trace_has_a_line_per_instruction() {
    let (status, lines) = trace_of("examples/hello.elf");
    assert_eq!(status.code(), Some(55));
    let first = &lines[0];
    assert_eq!(first["pc"], "0x210134");
    assert_eq!(first["word"], "d2800020");
    assert_eq!(first["encoding"], "MOVZ_64_movewide");
    assert_eq!(first["changed"]["x0"], "0x1");
    let syscalls: Vec<_> = lines
        .iter()
        .filter(|l| l.get("syscall").is_some())
        .collect();
    assert_eq!(syscalls.len(), 1, "one write before exit");
    assert_eq!(syscalls[0]["x0"], "0x14", "write returned the 20 bytes");
    assert_eq!(lines.last().expect("lines")["exit"], 55);
    let executed = lines.iter().filter(|l| l.get("pc").is_some()).count();
    assert_eq!(executed, 52, "the program's dynamic instruction count");
}

#[test]
fn trace_is_complete_when_the_guest_crashes() {
    let crash = compile_c(
        "crash",
        "#include <stdio.h>\nint main(void) { puts(\"before\"); *(volatile int *)8 = 1; return 0; }\n",
    );
    let (status, lines) = trace_of(crash.to_str().expect("utf-8 path"));
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(11),
        "armature dies by the guest's signal"
    );
    let last = lines.last().expect("lines");
    assert_eq!(last["signal"], 11, "{last}");
    let before = &lines[lines.len() - 2];
    assert!(
        before["encoding"]
            .as_str()
            .is_some_and(|e| e.starts_with("STR")),
        "{before}"
    );
    assert!(
        lines.len() > 1000,
        "glibc startup ran: {} lines",
        lines.len()
    );
}

/// The `tid` of a trace line.
fn tid(line: &serde_json::Value) -> u64 {
    line["tid"]
        .as_u64()
        .unwrap_or_else(|| panic!("a tid in {line}"))
}

/// The result of the first `clone` (220) of thread `by` in the trace: the new thread's or
/// child's id.
fn cloned_tid(lines: &[serde_json::Value], by: u64) -> u64 {
    let clone = lines
        .iter()
        .find(|l| l["syscall"] == 220 && tid(l) == by)
        .expect("a clone system call");
    let x0 = clone["x0"].as_str().expect("x0");
    u64::from_str_radix(x0.trim_start_matches("0x"), 16).expect("hex x0")
}

#[test]
fn trace_follows_every_thread() {
    let prog = compile_c(
        "traced-threads",
        "#include <pthread.h>\n#include <stdio.h>\n\
         static volatile unsigned long sink;\n\
         static void *work(void *arg) {\n\
           for (int i = 0; i < 1000; i++) sink += i * (unsigned long)arg;\n\
           return 0;\n\
         }\n\
         int main(void) {\n\
           pthread_t t;\n\
           pthread_create(&t, 0, work, (void *)3);\n\
           pthread_join(t, 0);\n\
           printf(\"%lu\\n\", sink);\n\
           return 7;\n\
         }\n",
    );
    let (status, lines) = trace_of(prog.to_str().expect("utf-8 path"));
    assert_eq!(status.code(), Some(7));
    let main = tid(&lines[0]);
    let thread = cloned_tid(&lines, main);
    assert_ne!(thread, main);
    let executed = |t: u64| {
        lines
            .iter()
            .filter(|l| l.get("pc").is_some() && tid(l) == t)
            .count()
    };
    assert!(
        executed(thread) > 3000,
        "the thread's loop is traced: {} lines",
        executed(thread)
    );
    assert!(executed(main) > 1000, "{} lines", executed(main));
    let others: Vec<u64> = lines
        .iter()
        .map(tid)
        .filter(|&t| t != main && t != thread)
        .collect();
    assert!(others.is_empty(), "lines of unknown threads: {others:?}");
    let last = lines.last().expect("lines");
    assert_eq!(
        (last["exit"].as_u64(), tid(last)),
        (Some(7), main),
        "{last}"
    );
}

#[test]
fn trace_follows_a_forked_child() {
    let prog = compile_c(
        "traced-fork",
        "#include <sys/wait.h>\n#include <unistd.h>\n\
         int main(void) {\n\
           pid_t p = fork();\n\
           if (p == 0) _exit(3);\n\
           int status;\n\
           waitpid(p, &status, 0);\n\
           return WEXITSTATUS(status) + 10;\n\
         }\n",
    );
    let (status, lines) = trace_of(prog.to_str().expect("utf-8 path"));
    assert_eq!(status.code(), Some(13));
    let parent = tid(&lines[0]);
    let child = cloned_tid(&lines, parent);
    let child_lines: Vec<_> = lines.iter().filter(|l| tid(l) == child).collect();
    assert!(
        child_lines.iter().filter(|l| l.get("pc").is_some()).count() > 10,
        "the child's instructions after fork are traced: {child_lines:?}"
    );
    assert!(
        child_lines.iter().any(|l| l["exit"] == 3),
        "the child's end: {child_lines:?}"
    );
    // The parent's lines still buffered at the fork (its SVC at least) are written once, not
    // again by the child.
    let clone = lines
        .iter()
        .position(|l| l["syscall"] == 220 && tid(l) == parent)
        .expect("the parent's clone");
    let svc = lines[..clone]
        .iter()
        .rev()
        .find(|l| tid(l) == parent && l.get("pc").is_some())
        .expect("the parent's SVC");
    assert!(
        svc["encoding"]
            .as_str()
            .is_some_and(|e| e.starts_with("SVC")),
        "{svc}"
    );
    assert_eq!(lines.iter().filter(|l| *l == svc).count(), 1, "{svc}");
    let last = lines.last().expect("lines");
    assert_eq!(
        (last["exit"].as_u64(), tid(last)),
        (Some(13), parent),
        "{last}"
    );
}

#[test]
fn stats_count_the_instructions() {
    // (engine, --jit-threshold, whether the JIT compiles something): with a threshold of 0 the
    // JIT compiles the loop at once, and the count must not change.
    for (engine, threshold, compiles) in [
        ("ref", "32", false),
        ("interp", "32", false),
        ("jit", "32", false),
        ("jit", "0", true),
    ] {
        let out = armature(&[
            "run",
            "--engine",
            engine,
            "--jit-threshold",
            threshold,
            "--stats",
            "--",
            "examples/hello.elf",
        ]);
        let err = text(&out.stderr);
        let mut lines = err.lines();
        // 7 before the loop and in write(), 2 + 4 x 10 for the sum, 3 to exit (see hello.S).
        let count = lines.next().unwrap_or_default();
        assert!(
            count.starts_with("armature: 52 instructions in "),
            "{engine} {threshold}: {err}"
        );
        assert!(count.ends_with("MIPS)"), "{engine}: {err}");
        // The JIT says what it compiled: nothing when no block of this program gets hot.
        let jit = lines.next();
        match (engine, compiles) {
            ("jit", false) => assert_eq!(
                jit,
                Some("armature: JIT: 0 blocks of 0 instructions compiled in 0.000 s, 0 calls followed into the callee, 0 failed; 0 loads left to the interpreter"),
                "{err}"
            ),
            ("jit", true) => assert!(
                jit.is_some_and(|l| l.starts_with("armature: JIT: ")
                    && !l.starts_with("armature: JIT: 0 blocks")),
                "{err}"
            ),
            // The pre-decoded interpreter translated hello's blocks: `_start` to the BL and on
            // into `write` to its SVC (4 + 2), its RET (1), and the code after the BL (9) and
            // from the loop's head (7), both on past the loop's B.LE (a side exit) to the
            // exit's SVC; the three SVCs run their semantics whole.
            ("interp", _) => assert_eq!(
                jit,
                Some("armature: pre-decoded interpreter: 4 blocks, 23 instructions translated, 3 of them run whole"),
                "{err}"
            ),
            _ => assert_eq!(jit, None, "{err}"),
        }
        assert_eq!(out.status.code(), Some(55), "{engine}: {err}");
    }
}

/// Compiles `tests/programs/custom/NAME.c` statically (see [`compile_c`]).
fn compile_program(name: &str) -> PathBuf {
    compile_program_as(name, name)
}

/// Compiles `tests/programs/custom/NAME.c` into a build directory of its own for `build`, so
/// that tests running at once do not share one.
fn compile_program_as(name: &str, build: &str) -> PathBuf {
    let src = format!(
        "{}/tests/programs/custom/{name}.c",
        env!("CARGO_MANIFEST_DIR")
    );
    compile_c(
        build,
        &std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}")),
    )
}

#[test]
fn signal_handlers_run_like_qemu() {
    let exe = compile_program("signals");
    let path = exe.to_str().expect("utf-8 path");
    // With SVE, qemu always saves the live SVE registers in the frame and restores V0-V31 from
    // there, ignoring the FP/SIMD record the handler edits; Linux does that only for a task
    // that used SVE since its last system call. Without SVE both follow the FP/SIMD record.
    let reference = qemu(&["-cpu", "max,sve=off", path]);
    let out = armature(&["run", "--", path]);
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    let err = text(&out.stderr);
    assert_eq!(reference.status.code(), Some(0));
    // qemu 7.2 gives ILL_ILLOPN (2) for an undefined instruction; Linux gives ILL_ILLOPC (1)
    // (do_el0_undef in arch/arm64/kernel/traps.c), which armature follows.
    let expected = text(&reference.stdout).replace("ill: sig 4 code 2", "ill: sig 4 code 1");
    assert!(
        expected.contains("ill: sig 4 code 1 addr==pc 1"),
        "{expected}"
    );
    // qemu 7.2 refuses SS_AUTODISARM (EINVAL); these lines follow Linux's kernel/signal.c:
    // __save_altstack stores the flags sigaltstack got, signal_delivered disables the stack
    // (sas_ss_reset), rt_sigreturn restores it, and sigaltstack reports SS_AUTODISARM with
    // the state.
    let stdout = text(&out.stdout);
    let (autodisarm, rest): (Vec<&str>, Vec<&str>) =
        stdout.lines().partition(|l| l.starts_with("autodisarm:"));
    assert_eq!(
        autodisarm,
        [
            "autodisarm: sigaltstack 0",
            "autodisarm: sig 1 on it 1 uc_stack flags 0x80000000 now flags 0x2 size 0",
            "autodisarm: after flags 0x80000000 size 65536",
        ],
        "stderr: {err}"
    );
    let expected: Vec<&str> = expected
        .lines()
        .filter(|l| !l.starts_with("autodisarm:"))
        .collect();
    assert_eq!(rest, expected, "stderr: {err}");
    assert!(rest.contains(&"done"), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
}

#[test]
fn deaths_by_signal_exit_like_qemu() {
    use std::os::unix::process::ExitStatusExt;
    let exe = compile_program("signals_exit");
    let path = exe.to_str().expect("utf-8 path");
    for (mode, signal, core) in [
        ("abort", 6, true),
        ("blocked-segv", 11, true),
        ("usr1", 10, false),
        ("resethand", 15, false),
        ("pending", 2, false),
    ] {
        // In the build directory: a qemu that may dump the guest's core leaves it there.
        let reference = Command::new("qemu-aarch64")
            .args([path, mode])
            .current_dir(exe.parent().expect("a directory"))
            .output()
            .unwrap_or_else(|e| panic!("qemu-aarch64 is needed (apt-get install qemu-user): {e}"));
        let out = armature(&["run", "--", path, mode]);
        let err = text(&out.stderr);
        // qemu kills itself with the signal, and so does armature (a shell shows 128 + signal,
        // a guest parent's wait4 sees WIFSIGNALED).
        assert_eq!(reference.status.signal(), Some(signal), "{mode}");
        assert_eq!(out.status.signal(), Some(signal), "{mode}: {err}");
        assert_eq!(text(&out.stdout), text(&reference.stdout), "{mode}: {err}");
        let line = format!("armature: uncaught target signal {signal} (");
        assert!(err.contains(&line), "{mode}: {err}");
        assert_eq!(err.contains("core dumped"), core, "{mode}: {err}");
    }
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
}

/// A guest that reports SIGHUP's disposition, then (`exec`) runs itself again, or (`ignore-exec`)
/// ignores SIGHUP and runs itself again, or (`run`) raises SIGHUP and says whether it lived.
const SIGHUP_PROGRAM: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct sigaction old;
    sigaction(SIGHUP, 0, &old);
    printf("%s: SIGHUP %s\n", argc > 1 ? argv[1] : "after exec",
           old.sa_handler == SIG_IGN ? "ignored" : "default");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "ignore-exec") == 0)
        signal(SIGHUP, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "run") != 0) {
        execl(argv[0], argv[0], (char *)0);
        return 3;
    }
    raise(SIGHUP);
    puts("alive");
    return 0;
}
"#;

/// Signals the parent left ignored stay ignored in the guest, and a guest's ignored signals
/// stay ignored across its execve, as the kernel's execve keeps them and qemu-aarch64 does:
/// `nohup armature run prog` shields `prog` from SIGHUP.
#[test]
fn ignored_signals_are_inherited_like_qemu() {
    use std::os::unix::process::ExitStatusExt;
    let exe = compile_c("sighup", SIGHUP_PROGRAM);
    let path = exe.to_str().expect("utf-8 path");
    let armature_exe = env!("CARGO_BIN_EXE_armature");
    // qemu-aarch64 runs the first two like armature; it cannot execve an aarch64 program
    // (without binfmt_misc), so the others are checked against the kernel's rule alone.
    for (nohup, mode, expected) in [
        (false, "run", "run: SIGHUP default\n"),
        (true, "run", "run: SIGHUP ignored\nalive\n"),
        (
            true,
            "exec",
            "exec: SIGHUP ignored\nafter exec: SIGHUP ignored\nalive\n",
        ),
        (
            false,
            "ignore-exec",
            "ignore-exec: SIGHUP default\nafter exec: SIGHUP ignored\nalive\n",
        ),
        (
            false,
            "exec",
            "exec: SIGHUP default\nafter exec: SIGHUP default\n",
        ),
    ] {
        // `nohup` (coreutils) starts the command with SIGHUP ignored; with standard output a
        // pipe and standard input not a terminal it changes nothing else.
        let run = |cmd: &[&str]| {
            let mut c = if nohup {
                let mut c = Command::new("nohup");
                c.args(cmd);
                c
            } else {
                let mut c = Command::new(cmd[0]);
                c.args(&cmd[1..]);
                c
            };
            c.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
        };
        let out = run(&[armature_exe, "run", "--", path, mode]);
        let what = format!("nohup {nohup}, {mode}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), expected, "{what}");
        // A guest that raised SIGHUP while it was not ignored died of it.
        let died = expected.ends_with("default\n");
        assert_eq!(out.status.signal(), died.then_some(1), "{what}");
        assert_eq!(out.status.code(), (!died).then_some(0), "{what}");
        if mode == "run" {
            let reference = run(&["qemu-aarch64", path, mode]);
            assert_eq!(text(&reference.stdout), expected, "qemu-aarch64, {what}");
            assert_eq!(out.status.code(), reference.status.code(), "{what}");
            assert_eq!(out.status.signal(), reference.status.signal(), "{what}");
        }
    }
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
}

/// Debian's arm64 libc6 unpacked (by scripts/fetch-arm64.sh) as a guest root: it has
/// lib/ld-linux-aarch64.so.1 and lib/aarch64-linux-gnu/libc.so.6, which the dynamic linker
/// finds in its default multiarch directory, as on a Debian arm64 system.
const ARM64_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/arm64-root");

#[test]
fn dynamic_program_runs_with_its_interpreter_like_qemu() {
    assert!(
        std::path::Path::new(ARM64_ROOT)
            .join("lib/ld-linux-aarch64.so.1")
            .exists(),
        "{ARM64_ROOT}/lib/ld-linux-aarch64.so.1 is needed: run scripts/fetch-arm64.sh"
    );
    let exe = compile_c_with(
        "dynamic",
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
         int main(int c, char **v) { char *s = strdup(\"dynamic\"); \
         printf(\"hello %s %d %s\\n\", s, c, v[c - 1]); free(s); return 4; }\n",
        &[],
    );
    let path = exe.to_str().expect("utf-8 path");
    let reference = qemu(&["-L", ARM64_ROOT, path, "arg"]);
    let out = armature(&["run", "-L", ARM64_ROOT, "--", path, "arg"]);
    let err = text(&out.stderr);
    assert_eq!(text(&out.stdout), "hello dynamic 2 arg\n", "stderr: {err}");
    assert_eq!(text(&out.stdout), text(&reference.stdout));
    assert_eq!(out.status.code(), Some(4), "stderr: {err}");
    assert_eq!(out.status.code(), reference.status.code());

    // The same program asking for an interpreter that exists nowhere.
    let mut image = std::fs::read(&exe).expect("the program");
    let (from, to) = (b"/lib/ld-linux-aarch64.so.1", b"/nonexist/ld-linux-arm.so1");
    let at = image
        .windows(from.len())
        .position(|w| w == from)
        .expect("PT_INTERP names the dynamic linker");
    image[at..at + to.len()].copy_from_slice(to);
    let broken = exe.with_file_name("broken");
    std::fs::write(&broken, image).expect("write the program");
    let out = armature(&[
        "run",
        "-L",
        ARM64_ROOT,
        "--",
        broken.to_str().expect("utf-8"),
    ]);
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot load the program interpreter /nonexist/ld-linux-arm.so1")
            && err.contains("cannot read /nonexist/ld-linux-arm.so1: No such file"),
        "{err}"
    );
}

#[test]
fn system_registers_read_like_qemu() {
    let exe = compile_program("sysregs");
    let path = exe.to_str().expect("utf-8 path");
    let reference = qemu(&[path]);
    let out = armature(&["run", "--", path]);
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    let err = text(&out.stderr);
    assert!(
        text(&out.stdout).contains("midr_el1 0xf0510\n")
            && text(&out.stdout).contains("id registers agree with hwcap 1\n")
            && text(&out.stdout).contains("cntvct_el0 advances 1\n"),
        "{}\nstderr: {err}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stdout), text(&reference.stdout), "stderr: {err}");
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
}

#[test]
fn sigpipe_and_unknown_syscalls_like_qemu() {
    use std::os::unix::process::ExitStatusExt;
    let exe = compile_program("sigpipe");
    let path = exe.to_str().expect("utf-8 path");
    let reference = qemu(&[path]);
    let out = armature(&["run", "--", path]);
    // -strace shows the signal as qemu does.
    let traced = armature(&["run", "--strace", "--", path]);
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    let strace = text(&traced.stderr);
    let line = format!(
        "--- SIGPIPE {{si_signo=SIGPIPE, si_code=SI_USER, si_pid={}, si_uid=",
        strace.split(' ').next().unwrap_or_default()
    );
    assert!(strace.contains(&line), "{line}\n{strace}");
    let err = text(&out.stderr);
    assert_eq!(text(&out.stdout), text(&reference.stdout), "stderr: {err}");
    assert!(
        text(&out.stdout).contains("ignored: write -1 errno 32\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(reference.status.signal(), Some(13));
    assert_eq!(out.status.signal(), Some(13), "stderr: {err}");
    // One warning per unknown system call number, however often it is called.
    assert_eq!(err.matches("unsupported syscall 4000").count(), 1, "{err}");
}

#[test]
fn trace_shows_signal_delivery() {
    let exe = compile_c(
        "trapped",
        "#include <signal.h>\n#include <unistd.h>\n\
         static void h(int s) { (void)s; write(1, \"h\\n\", 2); }\n\
         int main(void) { signal(SIGUSR1, h); raise(SIGUSR1); return 7; }\n",
    );
    let (code, lines) = trace_of(exe.to_str().expect("utf-8 path"));
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
    assert_eq!(code.code(), Some(7));
    let at = lines
        .iter()
        .position(|l| l.get("deliver").is_some())
        .expect("a delivery line");
    assert_eq!(lines[at]["deliver"], 10);
    // The next instruction is the handler's first.
    assert_eq!(lines[at + 1]["pc"], lines[at]["handler"]);
    let returns = lines
        .iter()
        .filter(|l| l.get("syscall").is_some_and(|n| n == 139))
        .count();
    assert_eq!(returns, 1, "one rt_sigreturn");
}

/// Runs `timers MODE` under qemu-aarch64 and armature; gives both outputs.
fn timers_both(exe: &std::path::Path, mode: &str, engine: &str) -> (Output, Output) {
    let path = exe.to_str().expect("utf-8 path");
    let reference = Command::new("qemu-aarch64")
        .args([path, mode])
        .current_dir(exe.parent().expect("a directory"))
        .output()
        .unwrap_or_else(|e| panic!("qemu-aarch64 is needed (apt-get install qemu-user): {e}"));
    (
        reference,
        armature(&["run", "--engine", engine, "--", path, mode]),
    )
}

#[test]
fn timers_and_sleeps_run_like_qemu() {
    let exe = compile_program("timers");
    // On both engines (the JIT's compiled loops return to the dispatcher regularly, which
    // reads the interrupt flag).
    for engine in ["interp", "jit"] {
        timers_run_like_qemu(&exe, engine);
    }
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
}

fn timers_run_like_qemu(exe: &std::path::Path, engine: &str) {
    // busy: the alarm interrupts a loop without system calls; periodic: ticks of a periodic
    // timer; sleep: EINTR from nanosleep, blocked alarms, TIMER_ABSTIME; restart: SA_RESTART;
    // posix: timer_create with a real-time signal and its SI_TIMER siginfo; sigwait: a timer's
    // signal taken by sigtimedwait, and its timeout; poll: ppoll's readiness, EINTR, timeout.
    for (mode, first) in [
        ("busy", "busy: interrupted after counting some, ticks 1"),
        ("periodic", "periodic: ticks 5, interval 20000 us"),
        (
            "sleep",
            "sleep: nanosleep -1 EINTR, rem > 0 1, rem < 5 s 1, ticks 1",
        ),
        (
            "restart",
            "restart: without SA_RESTART read -1 EINTR, ticks 1",
        ),
    ] {
        let (reference, out) = timers_both(exe, mode, engine);
        let err = text(&out.stderr);
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().next(), Some(first), "{engine} {mode}: {err}");
        assert_eq!(stdout, text(&reference.stdout), "{engine} {mode}: {err}");
        assert_eq!(out.status.code(), Some(0), "{engine} {mode}: {err}");
        assert_eq!(reference.status.code(), Some(0), "{mode}");
    }
    // alarm: a SIGALRM without a handler kills; qemu and armature kill themselves with it.
    use std::os::unix::process::ExitStatusExt;
    let (reference, out) = timers_both(exe, "alarm", engine);
    let err = text(&out.stderr);
    assert_eq!(reference.status.signal(), Some(14));
    assert_eq!(out.status.signal(), Some(14), "{engine}: {err}");
    assert_eq!(
        text(&out.stdout),
        text(&reference.stdout),
        "{engine}: {err}"
    );
    assert!(
        err.contains("armature: uncaught target signal 14 (Alarm clock)\n"),
        "{err}"
    );
    assert!(!err.contains("core dumped"), "{err}");
}

/// Starts `command` (which runs `timers wait`), waits for its "ready" line, sends it `signal`
/// and gives its standard output and exit status.
fn signal_after_ready(mut command: Command, signal: i32) -> (String, std::process::ExitStatus) {
    use std::io::Read as _;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the program starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"ready\n") {
        match stdout.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => break,
        }
    }
    assert!(seen.ends_with(b"ready\n"), "no ready line: {}", text(&seen));
    // SAFETY: kill only takes integers; the pid is our own child's.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(r, 0, "kill");
    stdout
        .read_to_end(&mut seen)
        .expect("read the rest of stdout");
    let status = child.wait().expect("the program ends");
    (text(&seen), status)
}

#[test]
fn host_signals_reach_the_guest_handler_like_qemu() {
    let exe = compile_program_as("timers", "timers-wait");
    let path = exe.to_str().expect("utf-8 path");
    // The guest loops without system calls: on the JIT, in compiled code.
    for (signal, engine) in [
        (libc::SIGTERM, "interp"),
        (libc::SIGINT, "interp"),
        (libc::SIGTERM, "jit"),
        (libc::SIGINT, "jit"),
    ] {
        let mut reference = Command::new("qemu-aarch64");
        reference.args([path, "wait"]);
        let (ref_out, ref_status) = signal_after_ready(reference, signal);
        let mut ours = Command::new(env!("CARGO_BIN_EXE_armature"));
        ours.args(["run", "--engine", engine, "--", path, "wait"]);
        let (out, status) = signal_after_ready(ours, signal);
        // The handler prints its signal and exits with 40 + it.
        let what = format!("signal {signal}, {engine}");
        assert_eq!(out, format!("ready\nhandler {signal}\n"), "{what}");
        assert_eq!(out, ref_out, "{what}");
        assert_eq!(status.code(), Some(40 + signal), "{what}");
        assert_eq!(status.code(), ref_status.code(), "{what}");
    }
    std::fs::remove_dir_all(exe.parent().expect("a directory")).ok();
}
