//! Linux user mode: load a static aarch64 program, run it on the interpreter and perform its
//! system calls on the host, like qemu-linux-user.

pub mod elf;
mod files;
pub mod hostsig;
mod net;
mod procfs;
pub mod signal;
pub mod stack;
pub mod syscall;
pub mod sysregs;
pub mod thread;
pub mod timers;
pub mod trace;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::interp::Interp;
use crate::isa::FeatureSet;
use crate::sem::{SemTable, Stop};

pub use elf::LoadError;

/// Where anonymous and file mappings go when the program gives no address.
pub const MMAP_BASE: u64 = 0x40_0000_0000;

/// How a guest program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit` or `exit_group` with this status (0-255).
    Exited(u8),
    /// A signal the program did not handle.
    Signaled {
        signal: i32,
        /// The faulting data address for SIGSEGV.
        fault_addr: Option<u64>,
        /// The address of the instruction that raised it.
        pc: u64,
        /// A one-line explanation for the log.
        reason: String,
    },
}

pub use signal::{signal_name, SIGILL, SIGSEGV, SIGTRAP};
use signal::{SigFields, SigInfo};

/// A guest process: a machine, its program break and mappings, and the signal state it set.
pub struct Process {
    pub machine: Interp,
    /// The features the decoder enables.
    pub features: FeatureSet,
    /// Print each system call to stderr, like `qemu-aarch64 -strace`.
    pub strace: bool,
    /// Where `--trace` writes one JSON line per executed instruction, shared by the threads.
    pub trace: Option<trace::Trace>,
    /// The program path as given, and as an absolute path (for `/proc/self/exe`).
    pub exe: PathBuf,
    pub exe_abs: PathBuf,
    /// The guest's root directory for absolute paths (`-L`).
    pub root: Option<PathBuf>,
    /// The start of the heap (the break itself is the thread group's).
    pub brk_start: u64,
    /// The actions, mask, pending signals and alternate stack.
    pub signals: signal::Signals,
    pub clear_child_tid: u64,
    /// System call numbers already reported as unsupported.
    warned: BTreeSet<u64>,
    /// Encodings without semantics already reported when a SIGILL handler took them.
    warned_encodings: BTreeSet<usize>,
    pid: u32,
    /// This thread's id: the process id for the main thread, the host thread's id for others.
    tid: u32,
    /// What the threads of the process share.
    threads: std::sync::Arc<thread::Group>,
    /// Set when this thread ended with `exit` (not the whole process).
    thread_exited: bool,
    /// The command that runs another aarch64 program for `execve`: armature's path and its
    /// options, to which `--argv0 ARGV0 -- PATH ARGS` are added. Empty: `execve` of an
    /// aarch64 program fails with ENOEXEC.
    pub exec_prefix: Vec<std::ffi::OsString>,
    /// The auxiliary vector the program started with (`/proc/self/auxv`).
    auxv: Vec<(u64, u64)>,
    /// The program's image and the dynamic linker's (`/proc/self/maps` names them).
    images: Vec<(u64, u64, PathBuf)>,
    /// The arguments, each ended by a NUL (`/proc/self/cmdline`).
    cmdline: Vec<u8>,
    /// The thread name `prctl(PR_GET_NAME)` gives: Linux's `comm`, the program's file name cut
    /// to 15 bytes, NUL-padded.
    pub comm: [u8; 16],
}

impl Process {
    /// Loads the static aarch64 program at `path` with `args` (`args[0]` is the program name the
    /// guest sees) and `env`. `features` are enabled in the decoder and reported in AT_HWCAP.
    pub fn load(
        path: &Path,
        args: &[String],
        env: &[String],
        features: FeatureSet,
    ) -> Result<Process, LoadError> {
        Self::load_with_root(path, None, args, env, features)
    }

    /// Like [`Process::load`]; a dynamically linked program also gets its interpreter, and
    /// absolute paths the program opens are looked up under `root` first when they exist there
    /// (qemu's `-L`).
    pub fn load_with_root(
        path: &Path,
        root: Option<&Path>,
        args: &[String],
        env: &[String],
        features: FeatureSet,
    ) -> Result<Process, LoadError> {
        let data = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mem = crate::mem::Memory::new().map_err(LoadError::AddressSpace)?;
        let mut machine = Interp::with_memory(mem);
        let info = elf::load(&data, &mut machine.mem)?;
        let interp = match &info.interp {
            None => None,
            Some(name) => {
                let fail = |source| LoadError::Interpreter {
                    path: name.clone(),
                    source: Box::new(source),
                };
                let host = under_root(root, Path::new(name));
                let data = std::fs::read(&host).map_err(|source| {
                    fail(LoadError::Io {
                        path: host.display().to_string(),
                        source,
                    })
                })?;
                let interp =
                    elf::load_at(&data, &mut machine.mem, elf::INTERP_BASE).map_err(fail)?;
                if interp.interp.is_some() {
                    return Err(LoadError::NestedInterpreter(name.clone()));
                }
                Some(interp)
            }
        };
        let mut random = [0u8; 16];
        syscall::host_random(&mut random);
        // SAFETY: these calls only return the process's ids.
        let ids = unsafe {
            stack::Ids {
                uid: u64::from(libc::getuid()),
                euid: u64::from(libc::geteuid()),
                gid: u64::from(libc::getgid()),
                egid: u64::from(libc::getegid()),
            }
        };
        let params = stack::StackParams {
            load: &info,
            execfn: &path.to_string_lossy(),
            random,
            hwcap: stack::hwcaps(&features),
            ids,
            interp_base: interp.as_ref().map_or(0, |i| i.load_bias),
        };
        let st = stack::build(&mut machine.mem, args, env, &params).map_err(|_| {
            LoadError::Malformed("the arguments and environment do not fit on the stack".into())
        })?;
        machine.cpu.sp = st.sp;
        machine.cpu.pc = interp.as_ref().map_or(info.entry, |i| i.entry);
        signal::map_trampoline(&mut machine.mem);
        *machine.cpu.ext::<sysregs::IdRegisters>() = sysregs::IdRegisters::new(&features);
        let exe_abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut images = vec![(info.start, info.brk, exe_abs.clone())];
        if let (Some(i), Some(name)) = (&interp, &info.interp) {
            images.push((i.start, i.brk, PathBuf::from(name)));
        }
        Ok(Process {
            machine,
            features,
            strace: false,
            trace: None,
            exe: path.to_path_buf(),
            exe_abs,
            root: root.map(Path::to_path_buf),
            brk_start: info.brk,
            signals: signal::Signals::default(),
            clear_child_tid: 0,
            warned: BTreeSet::new(),
            warned_encodings: BTreeSet::new(),
            pid: std::process::id(),
            tid: std::process::id(),
            threads: std::sync::Arc::new(thread::Group::new(info.brk)),
            thread_exited: false,
            exec_prefix: Vec::new(),
            auxv: st.auxv.clone(),
            images,
            cmdline: args.iter().flat_map(|a| a.bytes().chain([0])).collect(),
            comm: comm_of(path),
        })
    }

    /// Forwards the host's signals ([`hostsig::FORWARDED`]) to the guest from now on, as
    /// qemu-user does: they interrupt the running guest and are delivered to it.
    /// The forwarded signals the host left ignored start ignored in the guest, as execve
    /// keeps an ignored disposition.
    pub fn forward_host_signals(&mut self) -> std::io::Result<()> {
        let ignored = hostsig::install()?;
        for sig in 1..=64 {
            if ignored >> (sig - 1) & 1 != 0 {
                self.signals.set_action(
                    sig,
                    signal::SigAction {
                        handler: signal::SIG_IGN,
                        ..Default::default()
                    },
                );
            }
        }
        self.machine.interrupt = &hostsig::INTERRUPT;
        Ok(())
    }

    /// Moves the host signals received since the last call into the guest's pending set.
    pub(super) fn take_host_signals(&mut self) {
        if !std::ptr::eq(self.machine.interrupt, &hostsig::INTERRUPT) {
            return;
        }
        for s in hostsig::take() {
            let info = SigInfo {
                signo: s.signo,
                code: s.code,
                fields: SigFields::Queued(s.fields),
            };
            let pid = u32::from_le_bytes(s.fields[..4].try_into().expect("4 bytes"));
            let reason = format!(
                "{} ({}) from the host (si_code {}, si_pid {pid})",
                signal_name(s.signo),
                s.signo,
                s.code
            );
            // A POSIX timer with SIGEV_THREAD_ID signals its thread; others the process.
            let timer = i32::from_le_bytes(s.fields[..4].try_into().expect("4 bytes"));
            let to = (s.code == signal::SI_TIMER)
                .then(|| {
                    signal::lock(&self.threads.thread_timers)
                        .iter()
                        .find(|(id, _)| *id == timer)
                        .map(|(_, tid)| *tid)
                })
                .flatten();
            self.send(to, info, reason);
        }
    }

    /// Whether a signal is ready for delivery once the host's ones are taken: what ends a
    /// blocking call with EINTR (a blocked or ignored signal does not).
    pub(super) fn signal_ready(&mut self) -> bool {
        self.take_host_signals();
        self.threads.ended().is_some() || self.signals.pending_set() & !self.signals.mask != 0
    }

    /// Runs until the program exits or a signal kills it.
    pub fn run(&mut self, table: &SemTable<Interp>) -> Exit {
        self.start_group(table);
        let exit = self.run_until_exit(table);
        if !self.thread_exited {
            // The other threads stop too.
            self.threads.end(exit.clone());
        }
        if let Some(trace) = &self.trace {
            let line = match &exit {
                Exit::Exited(code) => format!("{{\"tid\":{},\"exit\":{code}}}", self.tid),
                Exit::Signaled { signal, reason, .. } => {
                    format!(
                        "{{\"tid\":{},\"signal\":{signal},\"reason\":\"{}\"}}",
                        self.tid,
                        json_escape(reason)
                    )
                }
            };
            // The trace must be complete even when the guest dies: flush before returning.
            trace.close_with(&line);
        }
        exit
    }

    /// One step, writing a trace line when tracing: pc, word, encoding and what changed.
    fn traced_step(&mut self, table: &SemTable<Interp>) -> Result<(), Stop> {
        let Some(trace) = &self.trace else {
            return self.machine.step(table, &self.features);
        };
        let cpu = &self.machine.cpu;
        let before = (
            cpu.x,
            cpu.sp,
            cpu.nzcv,
            cpu.v,
            cpu.tpidr_el0,
            cpu.fpcr,
            cpu.fpsr,
        );
        let pc = cpu.pc;
        let word = self.machine.mem.fetch(pc).ok();
        let result = self.machine.step(table, &self.features);
        let Some(word) = word else { return result };
        let encoding = match crate::isa::decode(word, &self.features) {
            crate::isa::Decoded::Insn(id) => id.name(),
            _ => "",
        };
        let cpu = &self.machine.cpu;
        let mut changed = Vec::new();
        for (i, (a, b)) in before.0.iter().zip(&cpu.x).enumerate() {
            if a != b {
                changed.push(format!("\"x{i}\":\"{b:#x}\""));
            }
        }
        for (i, (a, b)) in before.3.iter().zip(&cpu.v).enumerate() {
            if a != b {
                changed.push(format!("\"v{i}\":\"{b:#x}\""));
            }
        }
        for (name, a, b) in [
            ("sp", before.1, cpu.sp),
            ("nzcv", before.2, cpu.nzcv),
            ("tpidr_el0", before.4, cpu.tpidr_el0),
            ("fpcr", before.5, cpu.fpcr),
            ("fpsr", before.6, cpu.fpsr),
        ] {
            if a != b {
                changed.push(format!("\"{name}\":\"{b:#x}\""));
            }
        }
        trace.line(&format!(
            "{{\"tid\":{},\"pc\":\"{pc:#x}\",\"word\":\"{word:08x}\",\"encoding\":\"{encoding}\",\"changed\":{{{}}}}}",
            self.tid,
            changed.join(",")
        ));
        result
    }

    fn run_until_exit(&mut self, table: &SemTable<Interp>) -> Exit {
        loop {
            let stop = if self.trace.is_some() {
                // What `Interp::run` checks before each block: a host signal, or another
                // thread that queued a signal for this one or ended the process.
                if self
                    .machine
                    .interrupt
                    .load(std::sync::atomic::Ordering::Relaxed)
                    || self.machine.kick.load(std::sync::atomic::Ordering::Relaxed)
                {
                    Stop::Interrupt
                } else {
                    match self.traced_step(table) {
                        Ok(()) => continue,
                        Err(stop) => stop,
                    }
                }
            } else {
                self.machine.run(table, &self.features)
            };
            let pc = self.machine.cpu.pc;
            let exit = match stop {
                Stop::Interrupt => {
                    self.machine
                        .kick
                        .store(false, std::sync::atomic::Ordering::SeqCst);
                    if let Some(exit) = self.threads.ended() {
                        return exit;
                    }
                    self.take_host_signals();
                    self.deliver_pending()
                }
                Stop::Syscall(_) => {
                    // The call returns after the SVC, which is also what a handler's frame
                    // records; rt_sigreturn sets the PC itself.
                    self.machine.cpu.pc = pc.wrapping_add(4);
                    let number = self.machine.cpu.x[8];
                    if let Some(exit) = self.syscall() {
                        return exit;
                    }
                    if let Some(exit) = self.threads.ended() {
                        return exit;
                    }
                    if let Some(trace) = &self.trace {
                        let result = self.machine.cpu.x[0];
                        // The call's result in X0, which the SVC line before could not show.
                        trace.line(&format!(
                            "{{\"tid\":{},\"syscall\":{number},\"x0\":\"{result:#x}\"}}",
                            self.tid
                        ));
                    }
                    self.take_host_signals();
                    self.deliver_pending()
                }
                Stop::Fault(f) if f.kind == crate::mem::FaultKind::Alignment => {
                    let info = SigInfo {
                        signo: signal::SIGBUS,
                        code: signal::BUS_ADRALN,
                        fields: SigFields::Fault { addr: f.addr },
                    };
                    let what = if f.write { "write" } else { "read" };
                    self.force_signal(
                        info,
                        format!("SIGBUS at pc {pc:#x}: misaligned {what} of {:#x}", f.addr),
                    )
                }
                Stop::Fault(f) => {
                    let what = match (f.kind, f.write) {
                        (crate::mem::FaultKind::Unmapped, _) => "unmapped address",
                        (_, true) => "write to a read-only page",
                        (_, false) if f.addr == pc => "execution of a non-executable page",
                        (_, false) => "read of an unreadable page",
                    };
                    let code = match f.kind {
                        crate::mem::FaultKind::Unmapped => signal::SEGV_MAPERR,
                        crate::mem::FaultKind::Permission | crate::mem::FaultKind::Alignment => {
                            signal::SEGV_ACCERR
                        }
                    };
                    let info = SigInfo {
                        signo: SIGSEGV,
                        code,
                        fields: SigFields::Fault { addr: f.addr },
                    };
                    self.force_signal(info, format!("SIGSEGV at pc {pc:#x}: {what} {:#x}", f.addr))
                }
                Stop::Breakpoint(imm) => {
                    let info = SigInfo {
                        signo: SIGTRAP,
                        code: signal::TRAP_BRKPT,
                        fields: SigFields::Fault { addr: pc },
                    };
                    self.force_signal(info, format!("SIGTRAP at pc {pc:#x}: brk #{imm:#x}"))
                }
                Stop::Undefined => {
                    let word = self.machine.mem.fetch(pc).unwrap_or(0);
                    self.force_signal(
                        Self::sigill(pc),
                        format!("SIGILL at pc {pc:#x}: undefined instruction {word:08x}"),
                    )
                }
                Stop::NotImplemented(id) => {
                    let reason = format!(
                        "SIGILL at pc {pc:#x}: no semantics for encoding {}",
                        id.name()
                    );
                    let handled = self.signals.action(SIGILL).handler > signal::SIG_IGN
                        && self.signals.mask & signal::bit(SIGILL) == 0;
                    if handled && self.warned_encodings.insert(id as usize) {
                        // The program may be probing for a feature: say what it hit.
                        eprintln!("armature: warning: {reason}; the program's handler runs");
                    }
                    self.force_signal(Self::sigill(pc), reason)
                }
            };
            if let Some(exit) = exit {
                return exit;
            }
        }
    }

    /// The siginfo of an undefined instruction at `pc`.
    fn sigill(pc: u64) -> SigInfo {
        SigInfo {
            signo: SIGILL,
            code: signal::ILL_ILLOPC,
            fields: SigFields::Fault { addr: pc },
        }
    }
}

/// `path` under `root` when it is absolute and exists there (qemu's `path()`), else `path`.
pub fn under_root(root: Option<&Path>, path: &Path) -> PathBuf {
    if let (Some(root), Ok(rel)) = (root, path.strip_prefix("/")) {
        let inside = root.join(rel);
        if inside.symlink_metadata().is_ok() {
            return inside;
        }
    }
    path.to_path_buf()
}

/// The features whose instructions have semantics in `table`: a feature counts when at least
/// one encoding that needs it is implemented. The base instruction set is always included.
///
/// Features that only a decode guard names (`HaveBit128PMULLExt()` in PMULL's decode, which
/// gives FEAT_PMULL) count too: the encoding's semantics cover the guarded forms.
pub fn implemented_features<S>(table: &SemTable<S>) -> FeatureSet {
    table.implemented().fold(FeatureSet::base(), |set, id| {
        let info = id.info();
        let set = info
            .features
            .iter()
            .fold(set.with(info.feature), |s, &f| s.with(f));
        crate::isa::HAVE_FEATURES
            .iter()
            .filter(|(have, _)| info.guards.iter().any(|g| g.contains(have)))
            .fold(set, |s, &(_, f)| s.with(f))
    })
}

/// Linux's `comm` for a program: the last path component, at most 15 bytes.
fn comm_of(path: &Path) -> [u8; 16] {
    use std::os::unix::ffi::OsStrExt as _;
    let name = path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    let mut comm = [0u8; 16];
    let n = name.len().min(15);
    comm[..n].copy_from_slice(&name[..n]);
    comm
}

/// `text` as the inside of a JSON string.
fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}
