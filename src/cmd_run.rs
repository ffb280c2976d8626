//! `armature run`: run an aarch64 Linux program, like `qemu-aarch64`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use armature_core::interp::Interp;
use armature_core::isa::{decode, Decoded, FeatureSet};
use armature_core::linux::signal::{default_action, DefaultAction};
use armature_core::linux::trace::Trace;
use armature_core::linux::{implemented_features, signal_name, Exit, Process};
use armature_core::sem::SemTable;
use armature_core::uop::Predecoded;
use armature_jit::ir::Recorder;
use armature_jit::Jit;

/// Options of `armature run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The execution engine: `jit` (Cranelift for hot blocks; cold code and the instructions
    /// it leaves, such as system calls, run on the reference interpreter), `interp` (the
    /// pre-decoded interpreter: blocks translated once into micro-operations, no code
    /// generation) or `ref` (the reference interpreter alone, which runs each instruction's
    /// semantics function every time). `--trace` steps the reference interpreter either way.
    #[arg(long, default_value = "jit", value_parser = ["jit", "interp", "ref"])]
    engine: String,
    /// How many times the interpreter runs a block before the JIT compiles it: higher keeps
    /// Cranelift's time for code that runs long enough to repay it.
    #[arg(long, value_name = "N", default_value_t = armature_jit::HOT)]
    jit_threshold: u32,
    /// Print each system call to standard error, like qemu-aarch64 -strace.
    #[arg(long)]
    strace: bool,
    /// Write one JSON line per executed instruction to FILE (pc, word, encoding id, changed
    /// registers), one per signal handler entered, then the exit or the signal; the file is
    /// complete even when the guest crashes.
    #[arg(long, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
    /// At the end, print the number of guest instructions executed and the rate to stderr.
    #[arg(long)]
    stats: bool,
    /// The guest's root directory, like qemu-aarch64 -L: a dynamically linked program's
    /// interpreter (e.g. /lib/ld-linux-aarch64.so.1) and the absolute paths it opens are looked
    /// up under DIR first.
    #[arg(short = 'L', value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    /// The CPU model: `max` enables every feature that has semantics.
    #[arg(long, default_value = "max")]
    cpu: String,
    /// The argv[0] the program sees instead of PROG, like qemu-aarch64 -0 (an `execve` in the
    /// guest runs a new armature with it).
    #[arg(long, value_name = "ARGV0")]
    argv0: Option<String>,
    /// The program and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROG ARGS"
    )]
    program: Vec<String>,
}

/// Runs the program; the guest's exit status becomes armature's.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    if args.cpu != "max" {
        bail!(
            "unknown CPU model {:?}: only \"max\" is supported for now",
            args.cpu
        );
    }
    let mut table = SemTable::<Interp>::default();
    armature_extensions::register_all(&mut table);
    let features = implemented_features(&table);
    let path = Path::new(&args.program[0]);
    let env: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    let mut guest_args = args.program.clone();
    if let Some(argv0) = &args.argv0 {
        guest_args[0].clone_from(argv0);
    }
    let mut process =
        Process::load_with_root(path, args.root.as_deref(), &guest_args, &env, features)
            .with_context(|| format!("cannot run {}", path.display()))?;
    process.strace = args.strace;
    if args.engine != "ref" {
        let mut recorded = SemTable::<Recorder>::default();
        armature_extensions::register_all(&mut recorded);
        let recorded = std::sync::Arc::new(recorded);
        if args.engine == "jit" {
            let mut jit = Jit::new(recorded).context("cannot start the JIT")?;
            jit.hot = args.jit_threshold;
            process.machine.accel = Some(Box::new(jit));
        } else {
            let mut interp = SemTable::<Interp>::default();
            armature_extensions::register_all(&mut interp);
            process.machine.accel = Some(Box::new(Predecoded::new(
                std::sync::Arc::new(interp),
                recorded,
            )));
        }
    }
    // An `execve` of another aarch64 program runs it in a new armature with these options.
    let exe = std::env::current_exe().context("cannot find armature's own executable")?;
    process.exec_prefix = [
        exe.into_os_string(),
        "run".into(),
        "--engine".into(),
        args.engine.clone().into(),
        "--jit-threshold".into(),
        args.jit_threshold.to_string().into(),
        "--cpu".into(),
        args.cpu.clone().into(),
    ]
    .into_iter()
    .chain(
        args.root
            .iter()
            .flat_map(|r| ["-L".into(), r.clone().into_os_string()]),
    )
    .chain(args.strace.then(|| "--strace".into()))
    .collect();
    process
        .forward_host_signals()
        .context("cannot install the host signal handlers")?;
    if let Some(path) = &args.trace {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the trace file {}", path.display()))?;
        process.trace = Some(Trace::new(Box::new(std::io::BufWriter::new(file))));
    }
    let start = std::time::Instant::now();
    let exit = process.run(&table);
    if args.stats {
        let n = process.machine.instructions;
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "armature: {n} instructions in {secs:.3} s ({:.1} MIPS)",
            n as f64 / secs.max(1e-9) / 1e6
        );
        if let Some(accel) = &process.machine.accel {
            eprintln!("armature: {}", accel.stats());
        }
    }
    Ok(match exit {
        Exit::Exited(code) => ExitCode::from(code),
        Exit::Signaled {
            signal, pc, reason, ..
        } => {
            eprintln!("armature: {reason}");
            if let Some(why) = disabled_feature(&mut process, pc, &features) {
                eprintln!("armature: {why}");
            }
            // qemu's message; like Linux, only some signals dump core by default.
            let core = default_action(signal) == DefaultAction::Core;
            eprintln!(
                "armature: uncaught target signal {signal} ({}){}",
                signal_name(signal),
                if core { " - core dumped" } else { "" }
            );
            die_by(signal)
        }
    })
}

/// Ends armature with the guest's fatal signal, as qemu-user does: a shell shows 128 + signal
/// and a parent's `wait4` sees WIFSIGNALED. The host's core dump is turned off first (it would
/// be armature's, not the guest's).
fn die_by(signal: i32) -> ! {
    // SAFETY: plain system calls on this process; the action is fully initialised.
    unsafe {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &act, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
    // A signal whose default action does not end a host process: the shell's view.
    std::process::exit(128 + signal)
}

/// For an undefined instruction, the encoding it would be with every feature enabled.
fn disabled_feature(process: &mut Process, pc: u64, features: &FeatureSet) -> Option<String> {
    let word = process.machine.mem.fetch(pc).ok()?;
    match decode(word, features) {
        Decoded::FeatureDisabled { id, feature } => Some(format!(
            "{} needs {}, which has no semantics yet",
            id.name(),
            feature.name()
        )),
        _ => None,
    }
}
