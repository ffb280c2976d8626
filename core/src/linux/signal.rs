//! Signals as Linux arm64 delivers them (`arch/arm64/kernel/signal.c`): the recorded actions and
//! mask, the alternate stack, the `rt_sigframe` a handler gets on the guest stack, and
//! `rt_sigreturn`, which restores the interrupted state from it.
//!
//! Signals come from the program itself: a fault, an undefined instruction or BRK (synchronous,
//! delivered at once) or `kill`/`tgkill` to itself (pending until unblocked, delivered after the
//! system call that made them deliverable) or from the host, forwarded by [`super::hostsig`]
//! (delivered when the interpreter stops for them, or after the system call they interrupted).

use std::sync::{Arc, Mutex};

use crate::mem::{Memory, Perms, PAGE_SIZE};

use super::stack::STACK_TOP;
use super::{Exit, Process};

pub const SIGHUP: i32 = 1;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGSTOP: i32 = 19;
/// The highest signal number (`_NSIG`).
pub const NSIG: i32 = 64;

/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_TKILL: i32 = -6;
pub const SI_TIMER: i32 = -2;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const ILL_ILLOPC: i32 = 1;
pub const BUS_ADRALN: i32 = 1;
pub const TRAP_BRKPT: i32 = 1;

/// `sa_handler` values that are not addresses.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits (asm-generic).
pub const SA_SIGINFO: u64 = 0x4;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// A read or write a forwarded host signal interrupted is made again after the handler;
/// sleeps and `rt_sigsuspend` never are.
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `ss_flags` bits.
pub const SS_ONSTACK: u64 = 1;
pub const SS_DISABLE: u64 = 2;
pub const SS_AUTODISARM: u64 = 1 << 31;
/// arm64's `MINSIGSTKSZ`.
pub const MINSIGSTKSZ: u64 = 5120;

/// The page holding the signal return trampoline (`mov x8, #139; svc #0`), which Linux keeps
/// in the vDSO and uses when a handler has no `SA_RESTORER`.
pub const SIGTRAMP: u64 = STACK_TOP + 0x10000;
const SIGTRAMP_CODE: [u32; 2] = [0xd280_1168, 0xd400_0001];

/// `struct rt_sigframe` offsets: `siginfo_t info` (128 bytes), then `struct ucontext uc`.
const UC: u64 = 128;
const UC_STACK: u64 = UC + 16;
const UC_SIGMASK: u64 = UC + 40;
/// `uc_mcontext`, a `struct sigcontext`, after glibc's 1024-bit sigset and 16-byte alignment.
const MC: u64 = UC + 176;
const MC_REGS: u64 = MC + 8;
const MC_SP: u64 = MC + 256;
const MC_PC: u64 = MC + 264;
const MC_PSTATE: u64 = MC + 272;
/// `__reserved[4096]`: the records (`struct _aarch64_ctx` headers) of the extra state.
const MC_RESERVED: u64 = MC + 288;
const RESERVED_SIZE: u64 = 4096;
/// `sizeof(struct rt_sigframe)`.
const FRAME_SIZE: u64 = MC_RESERVED + RESERVED_SIZE;
/// `struct fpsimd_context`: header, fpsr, fpcr, vregs[32].
const FPSIMD_MAGIC: u32 = 0x4650_8001;
const FPSIMD_SIZE: u32 = 16 + 32 * 16;
const ESR_MAGIC: u32 = 0x4553_5201;

/// What `rt_sigaction` recorded for one signal (`struct sigaction` of the arm64 kernel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// The `siginfo_t` fields armature fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub fields: SigFields,
}

/// The union part of `siginfo_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    /// `_sigfault`: the faulting address (data address, or the PC for SIGILL and SIGTRAP).
    Fault { addr: u64 },
    /// `_kill`: the sender.
    Kill { pid: u32, uid: u32 },
    /// The first 16 bytes of the union as `rt_sigqueueinfo` got them (`_rt`: si_pid, si_uid,
    /// si_value).
    Queued([u8; 16]),
}

impl SigInfo {
    /// The signal as qemu's -strace prints it: `SIGSEGV {si_signo=SIGSEGV, ...}`.
    fn strace(&self) -> String {
        let name = signal_abbrev(self.signo);
        let fields = match self.fields {
            SigFields::Fault { addr } => {
                format!("si_code={}, si_addr={addr:#018x}", self.code)
            }
            SigFields::Kill { pid, uid } => {
                let code = match self.code {
                    SI_USER => "SI_USER".to_string(),
                    SI_TKILL => "SI_TKILL".to_string(),
                    c => c.to_string(),
                };
                format!("si_code={code}, si_pid={pid}, si_uid={uid}")
            }
            SigFields::Queued(_) => format!("si_code={}", self.code),
        };
        format!("{name} {{si_signo={name}, {fields}}}")
    }

    /// The 128 bytes of `siginfo_t`.
    fn bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        match self.fields {
            SigFields::Fault { addr } => b[16..24].copy_from_slice(&addr.to_le_bytes()),
            SigFields::Kill { pid, uid } => {
                b[16..20].copy_from_slice(&pid.to_le_bytes());
                b[20..24].copy_from_slice(&uid.to_le_bytes());
            }
            SigFields::Queued(u) => b[16..32].copy_from_slice(&u),
        }
        b
    }
}

/// What happens to a signal without a handler (`sig_kernel_*` of Linux).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    /// Terminate and dump core.
    Core,
    Ignore,
}

/// The default action of `sig`. Job-control stops are ignored: there is no one to continue the
/// program.
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        3..=8 | 11 | 24 | 25 | 31 => DefaultAction::Core,
        17 | 18 | 19 | 20 | 21 | 22 | 23 | 28 => DefaultAction::Ignore,
        _ => DefaultAction::Terminate,
    }
}

/// The bit of `sig` in a signal set.
pub fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// SIGKILL and SIGSTOP, which can be neither blocked nor caught.
pub const UNBLOCKABLE: u64 = 1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1);

/// A signal waiting to be delivered.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub(super) info: SigInfo,
    /// The explanation logged if it kills the program.
    pub(super) reason: String,
}

/// Pending signals by number: real-time signals queue each instance, others merge.
pub(super) type Queues = Vec<std::collections::VecDeque<Pending>>;

pub(super) fn new_queues() -> Arc<Mutex<Queues>> {
    Arc::new(Mutex::new(vec![
        std::collections::VecDeque::new();
        NSIG as usize + 1
    ]))
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The data behind these locks stays consistent at every step; a panicking holder is
    // armature's bug, reported by the panic itself.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The signal state of one guest thread: its own mask, pending signals and alternate stack,
/// and the handles of what the thread group shares (the actions and the process-directed
/// pending signals, as Linux's `sighand` and `shared_pending`).
#[derive(Debug)]
pub struct Signals {
    actions: Arc<Mutex<Vec<SigAction>>>,
    /// The blocked signals.
    pub mask: u64,
    /// Signals directed at this thread (`tgkill`, faults).
    pub(super) own: Arc<Mutex<Queues>>,
    /// Signals directed at the process (`kill`, host signals, timers): any thread that does not
    /// block one takes it.
    pub(super) shared: Arc<Mutex<Queues>>,
    /// The alternate signal stack: base, size (0: disabled) and the flags `sigaltstack` got.
    altstack: (u64, u64, u64),
    /// The mask `rt_sigsuspend` or `ppoll` replaced, restored by the handler's frame or after
    /// delivery.
    pub(super) saved_mask: Option<u64>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            actions: Arc::new(Mutex::new(vec![SigAction::default(); NSIG as usize + 1])),
            mask: 0,
            own: new_queues(),
            shared: new_queues(),
            altstack: (0, 0, SS_DISABLE),
            saved_mask: None,
        }
    }
}

impl Signals {
    /// The signal state of a new thread of the same group (`copy_process` with
    /// CLONE_SIGHAND|CLONE_THREAD): the same actions and process queue, the creator's mask,
    /// nothing pending and no alternate stack.
    pub(super) fn for_new_thread(&self) -> Signals {
        Signals {
            actions: Arc::clone(&self.actions),
            mask: self.mask,
            own: new_queues(),
            shared: Arc::clone(&self.shared),
            altstack: (0, 0, SS_DISABLE),
            saved_mask: None,
        }
    }

    pub fn action(&self, sig: i32) -> SigAction {
        lock(&self.actions)[sig as usize]
    }

    pub(super) fn set_action(&self, sig: i32, act: SigAction) {
        lock(&self.actions)[sig as usize] = act;
    }

    /// Whether `sig` would be discarded (`sig_ignored`).
    fn ignored(&self, sig: i32) -> bool {
        match self.action(sig).handler {
            SIG_IGN => true,
            SIG_DFL => default_action(sig) == DefaultAction::Ignore,
            _ => false,
        }
    }

    /// The signals pending for this thread, directed at it or at the process.
    pub fn pending_set(&self) -> u64 {
        let set = |q: &Queues| {
            (1..=NSIG)
                .filter(|&s| !q[s as usize].is_empty())
                .fold(0, |acc, s| acc | bit(s))
        };
        set(&lock(&self.own)) | set(&lock(&self.shared))
    }

    /// Takes the first instance of `sig`, the thread's own before the process's.
    pub(super) fn take(&self, sig: i32) -> Option<Pending> {
        if let Some(p) = lock(&self.own)[sig as usize].pop_front() {
            return Some(p);
        }
        lock(&self.shared)[sig as usize].pop_front()
    }

    /// Whether `sp` is on the alternate stack (`on_sig_stack`); never with SS_AUTODISARM.
    fn on_altstack(&self, sp: u64) -> bool {
        let (base, size, flags) = self.altstack;
        flags & SS_AUTODISARM == 0 && size != 0 && sp > base && sp - base <= size
    }

    /// `sas_ss_flags`: SS_DISABLE, SS_ONSTACK or 0.
    fn altstack_state(&self, sp: u64) -> u64 {
        if self.altstack.1 == 0 {
            SS_DISABLE
        } else if self.on_altstack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// `stack_t` of the alternate stack (ss_sp, ss_flags, ss_size) with these flags.
    fn stack_t(&self, flags: u64) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&self.altstack.0.to_le_bytes());
        b[8..12].copy_from_slice(&(flags as u32).to_le_bytes());
        b[16..24].copy_from_slice(&self.altstack.1.to_le_bytes());
        b
    }

    /// Sets the alternate stack from a `stack_t` (`do_sigaltstack`); gives the errno on failure.
    fn set_altstack(&mut self, sp: u64, ss: &[u8]) -> Result<(), i64> {
        let word = |o: usize| u64::from_le_bytes(ss[o..o + 8].try_into().expect("8 bytes"));
        let (base, flags, size) = (word(0), word(8) & 0xffff_ffff, word(16));
        if self.on_altstack(sp) {
            return Err(1); // EPERM
        }
        match flags & !SS_AUTODISARM {
            SS_DISABLE => self.altstack = (0, 0, flags),
            0 | SS_ONSTACK => {
                if size < MINSIGSTKSZ {
                    return Err(12); // ENOMEM
                }
                self.altstack = (base, size, flags);
            }
            _ => return Err(22), // EINVAL
        }
        Ok(())
    }
}

/// A little-endian word of `b` at `off`.
fn le64(b: &[u8], off: u64) -> u64 {
    let o = off as usize;
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

fn le32(b: &[u8], off: u64) -> u32 {
    let o = off as usize;
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}

fn put64(b: &mut [u8], off: u64, v: u64) {
    let o = off as usize;
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: u64, v: u32) {
    let o = off as usize;
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

/// Maps the signal return trampoline page.
pub fn map_trampoline(mem: &mut Memory) {
    mem.map(SIGTRAMP, PAGE_SIZE, Perms::RX)
        .expect("the trampoline page is inside the guest space");
    let code: Vec<u8> = SIGTRAMP_CODE.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.poke(SIGTRAMP, &code).expect("the page was just mapped");
}

/// The `SIGxxx` name of a signal.
pub fn signal_abbrev(signal: i32) -> String {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match signal {
        1..=31 => NAMES[signal as usize].to_string(),
        _ => signal.to_string(),
    }
}

/// The name Linux's `strsignal` gives a signal, as qemu prints it.
pub fn signal_name(signal: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "Unknown signal",
        "Hangup",
        "Interrupt",
        "Quit",
        "Illegal instruction",
        "Trace/breakpoint trap",
        "Aborted",
        "Bus error",
        "Floating point exception",
        "Killed",
        "User defined signal 1",
        "Segmentation fault",
        "User defined signal 2",
        "Broken pipe",
        "Alarm clock",
        "Terminated",
        "Stack fault",
        "Child exited",
        "Continued",
        "Stopped (signal)",
        "Stopped",
        "Stopped (tty input)",
        "Stopped (tty output)",
        "Urgent I/O condition",
        "CPU time limit exceeded",
        "File size limit exceeded",
        "Virtual timer expired",
        "Profiling timer expired",
        "Window changed",
        "I/O possible",
        "Power failure",
        "Bad system call",
    ];
    match signal {
        0..=31 => NAMES[signal as usize],
        32..=NSIG => "Real-time signal",
        _ => "Unknown signal",
    }
}

impl Process {
    /// Delivers a synchronous signal the current instruction raised (`force_sig_fault`): when
    /// it is blocked or ignored, the default action applies. Gives the exit if it kills.
    pub(super) fn force_signal(&mut self, info: SigInfo, reason: String) -> Option<Exit> {
        let sig = info.signo;
        let blocked = self.signals.mask & bit(sig) != 0;
        let act = self.signals.action(sig);
        if blocked || act.handler == SIG_IGN {
            self.signals.set_action(
                sig,
                SigAction {
                    handler: SIG_DFL,
                    ..act
                },
            );
            self.signals.mask &= !bit(sig);
        }
        self.deliver(info, reason)
    }

    /// Makes `sig` pending for this thread (`tgkill` to itself); it is delivered once
    /// unblocked, after the current system call.
    pub(super) fn queue_signal(&mut self, info: SigInfo, reason: String) {
        let own = Arc::clone(&self.signals.own);
        self.queue_on(&own, info, reason);
    }

    /// Makes `sig` pending for the process (`kill`, host signals, timers): the first thread
    /// that does not block it takes it, so every thread is told to look.
    pub(super) fn queue_process_signal(&mut self, info: SigInfo, reason: String) {
        let shared = Arc::clone(&self.signals.shared);
        if self.queue_on(&shared, info, reason) {
            self.threads.kick_all(self.tid);
        }
    }

    /// Queues `info` on `queues` unless the signal is ignored; gives whether it was queued.
    pub(super) fn queue_on(&self, queues: &Mutex<Queues>, info: SigInfo, reason: String) -> bool {
        let sig = info.signo;
        if self.signals.ignored(sig) {
            return false;
        }
        // Standard signals do not queue: a second one while pending is merged. Real-time ones
        // (SIGRTMIN = 32 and up) queue each instance.
        let mut q = lock(queues);
        let queue = &mut q[sig as usize];
        if queue.is_empty() || sig >= 32 {
            queue.push_back(Pending { info, reason });
        }
        true
    }

    /// Delivers the pending signals that are not blocked, lowest number first.
    pub(super) fn deliver_pending(&mut self) -> Option<Exit> {
        loop {
            let ready = self.signals.pending_set() & !self.signals.mask;
            if ready == 0 {
                // No handler frame took the mask rt_sigsuspend saved: restore it now.
                if let Some(mask) = self.signals.saved_mask.take() {
                    self.signals.mask = mask;
                }
                return None;
            }
            let sig = ready.trailing_zeros() as i32 + 1;
            // Another thread may have taken a process-directed one since.
            let Some(p) = self.signals.take(sig) else {
                continue;
            };
            if let Some(exit) = self.deliver(p.info, p.reason) {
                return Some(exit);
            }
        }
    }

    /// Runs the action of a signal: the default action, or a handler frame.
    fn deliver(&mut self, info: SigInfo, reason: String) -> Option<Exit> {
        let sig = info.signo;
        let act = self.signals.action(sig);
        if self.strace && !self.signals.ignored(sig) {
            eprintln!("--- {} ---", info.strace());
        }
        let pc = self.machine.cpu.pc;
        match act.handler {
            SIG_IGN => None,
            SIG_DFL => match default_action(sig) {
                DefaultAction::Ignore => None,
                DefaultAction::Terminate | DefaultAction::Core => Some(Exit::Signaled {
                    signal: sig,
                    fault_addr: match info.fields {
                        SigFields::Fault { addr } if sig == SIGSEGV || sig == SIGBUS => Some(addr),
                        _ => None,
                    },
                    pc,
                    reason,
                }),
            },
            _ => match self.setup_frame(&info, &act) {
                Ok(()) => {
                    if let Some(trace) = &self.trace {
                        let frame = self.machine.cpu.sp;
                        // The handler's first instruction follows; say why control went there.
                        trace.line(&format!(
                            "{{\"tid\":{},\"deliver\":{sig},\"handler\":\"{:#x}\",\"frame\":\"{frame:#x}\"}}",
                            self.tid, act.handler
                        ));
                    }
                    if act.flags & SA_RESETHAND != 0 {
                        self.signals.set_action(sig, SigAction::default());
                    }
                    None
                }
                // Linux's force_sigsegv when the frame cannot be written.
                Err(addr) => Some(Exit::Signaled {
                    signal: SIGSEGV,
                    fault_addr: Some(addr),
                    pc,
                    reason: format!(
                        "SIGSEGV at pc {pc:#x}: cannot write the frame of signal {sig} at {addr:#x}"
                    ),
                }),
            },
        }
    }

    /// Builds the `rt_sigframe` and enters the handler (`setup_rt_frame`, `setup_return`).
    /// Gives the faulting address when the frame cannot be written.
    fn setup_frame(&mut self, info: &SigInfo, act: &SigAction) -> Result<(), u64> {
        let sig = info.signo;
        let cpu = &self.machine.cpu;
        // sigsp(): the alternate stack when asked for and not already on it.
        let sp_top = if act.flags & SA_ONSTACK != 0 && self.signals.altstack_state(cpu.sp) == 0 {
            self.signals.altstack.0 + self.signals.altstack.1
        } else {
            cpu.sp
        };
        let next_frame = (sp_top.wrapping_sub(16)) & !15;
        let frame = next_frame.wrapping_sub(FRAME_SIZE);

        let mut f = vec![0u8; FRAME_SIZE as usize];
        f[..128].copy_from_slice(&info.bytes());
        // uc_flags and uc_link stay 0.
        // __save_altstack: the flags as sigaltstack set them.
        let uc_stack = self.signals.stack_t(self.signals.altstack.2);
        f[UC_STACK as usize..UC_STACK as usize + 24].copy_from_slice(&uc_stack);
        let to_restore = self.signals.saved_mask.unwrap_or(self.signals.mask);
        put64(&mut f, UC_SIGMASK, to_restore);
        let fault_address = match info.fields {
            SigFields::Fault { addr } if sig == SIGSEGV || sig == SIGBUS => addr,
            _ => 0,
        };
        put64(&mut f, MC, fault_address);
        for (i, &x) in cpu.x.iter().enumerate() {
            put64(&mut f, MC_REGS + 8 * i as u64, x);
        }
        put64(&mut f, MC_SP, cpu.sp);
        put64(&mut f, MC_PC, cpu.pc);
        put64(&mut f, MC_PSTATE, cpu.nzcv & 0xf000_0000);
        put32(&mut f, MC_RESERVED, FPSIMD_MAGIC);
        put32(&mut f, MC_RESERVED + 4, FPSIMD_SIZE);
        put32(&mut f, MC_RESERVED + 8, cpu.fpsr as u32);
        put32(&mut f, MC_RESERVED + 12, cpu.fpcr as u32);
        for (i, v) in cpu.v.iter().enumerate() {
            let o = (MC_RESERVED + 16 + 16 * i as u64) as usize;
            f[o..o + 16].copy_from_slice(&v.to_le_bytes());
        }
        // The terminating null record follows the FP/SIMD record: already zero.

        let record = [cpu.x[29], cpu.x[30]];
        let mem = &mut self.machine.mem;
        let bytes: Vec<u8> = record.iter().flat_map(|w| w.to_le_bytes()).collect();
        mem.write(next_frame, &bytes).map_err(|e| e.addr)?;
        mem.write(frame, &f).map_err(|e| e.addr)?;

        // The frame restores the mask rt_sigsuspend saved.
        self.signals.saved_mask = None;
        let cpu = &mut self.machine.cpu;
        cpu.x[0] = sig as u64;
        if act.flags & SA_SIGINFO != 0 {
            cpu.x[1] = frame;
            cpu.x[2] = frame + UC;
        }
        cpu.sp = frame;
        cpu.x[29] = next_frame;
        cpu.x[30] = if act.flags & SA_RESTORER != 0 {
            act.restorer
        } else {
            SIGTRAMP
        };
        cpu.pc = act.handler;
        let mut blocked = self.signals.mask | act.mask;
        if act.flags & SA_NODEFER == 0 {
            blocked |= bit(sig);
        }
        self.signals.mask = blocked & !UNBLOCKABLE;
        // signal_delivered(): SS_AUTODISARM disables the stack until rt_sigreturn restores it.
        if self.signals.altstack.2 & SS_AUTODISARM != 0 {
            self.signals.altstack = (0, 0, SS_DISABLE);
        }
        Ok(())
    }

    /// `rt_sigreturn`: restores the registers, the mask, the FP/SIMD state and the alternate
    /// stack from the frame at SP. A bad frame kills the program with SIGSEGV, as in Linux.
    pub(super) fn sigreturn(&mut self) -> Option<Exit> {
        let sp = self.machine.cpu.sp;
        let pc = self.machine.cpu.pc;
        let bad = |why: &str| {
            Some(Exit::Signaled {
                signal: SIGSEGV,
                fault_addr: None,
                pc,
                reason: format!(
                    "SIGSEGV at pc {pc:#x}: rt_sigreturn with a bad frame at {sp:#x}: {why}"
                ),
            })
        };
        if !sp.is_multiple_of(16) {
            return bad("misaligned stack pointer");
        }
        let mut f = vec![0u8; FRAME_SIZE as usize];
        if self.machine.mem.read(sp, &mut f).is_err() {
            return bad("unreadable");
        }
        // Walk the records of __reserved: FP/SIMD is required, ESR is ignored.
        let mut fpsimd = None;
        let mut off = MC_RESERVED;
        loop {
            if off + 8 > FRAME_SIZE {
                return bad("no terminating record");
            }
            let (magic, size) = (le32(&f, off), u64::from(le32(&f, off + 4)));
            match magic {
                0 if size == 0 => break,
                FPSIMD_MAGIC if size == u64::from(FPSIMD_SIZE) => fpsimd = Some(off),
                ESR_MAGIC if size == 16 => {}
                _ => return bad("unknown or malformed record"),
            }
            if off + size > FRAME_SIZE {
                return bad("record beyond the frame");
            }
            off += size;
        }
        let Some(fp) = fpsimd else {
            return bad("no FP/SIMD record");
        };
        let cpu = &mut self.machine.cpu;
        for (i, x) in cpu.x.iter_mut().enumerate() {
            *x = le64(&f, MC_REGS + 8 * i as u64);
        }
        cpu.sp = le64(&f, MC_SP);
        cpu.pc = le64(&f, MC_PC);
        cpu.nzcv = le64(&f, MC_PSTATE) & 0xf000_0000;
        cpu.fpsr = u64::from(le32(&f, fp + 8));
        cpu.fpcr = u64::from(le32(&f, fp + 12));
        for (i, v) in cpu.v.iter_mut().enumerate() {
            let o = (fp + 16 + 16 * i as u64) as usize;
            *v = u128::from_le_bytes(f[o..o + 16].try_into().expect("16 bytes"));
        }
        self.signals.mask = le64(&f, UC_SIGMASK) & !UNBLOCKABLE;
        // restore_altstack: errors are ignored, as in Linux.
        let new_sp = self.machine.cpu.sp;
        let ss = &f[UC_STACK as usize..UC_STACK as usize + 24];
        let _ = self.signals.set_altstack(new_sp, ss);
        None
    }

    /// Queues the SIGPIPE Linux sends a process that writes to a pipe or socket with no reader
    /// (`send_sig(SIGPIPE, current, 0)`: SI_USER from the process itself).
    pub(super) fn raise_sigpipe(&mut self, number: u64) {
        // SAFETY: getuid only returns the id.
        let uid = unsafe { libc::getuid() };
        let info = SigInfo {
            signo: SIGPIPE,
            code: SI_USER,
            fields: SigFields::Kill { pid: self.pid, uid },
        };
        let pc = self.machine.cpu.pc.wrapping_sub(4);
        let reason =
            format!("SIGPIPE at pc {pc:#x}: system call {number} wrote to a pipe with no reader");
        self.queue_signal(info, reason);
    }

    /// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` for a signal; the handler's frame
    /// restores the mask before. With nothing pending, no signal can come from the program
    /// itself: it waits for the host to end it, as Linux would wait for another process.
    pub(super) fn sys_sigsuspend(&mut self, set: u64, size: u64) -> Result<i64, i64> {
        if size != 8 {
            return Err(22);
        }
        let mut b = [0u8; 8];
        self.machine.mem.read(set, &mut b).map_err(|_| 14i64)?;
        let old = self.signals.mask;
        self.signals.mask = u64::from_le_bytes(b) & !UNBLOCKABLE;
        self.wait_for(!self.signals.mask, None);
        self.signals.saved_mask = Some(old);
        Err(4) // EINTR
    }

    /// Blocks the host until one of `set` is pending (a forwarded host signal, or the host
    /// ending armature when nothing is forwarded) or `deadline` passes; gives whether one came.
    fn wait_for(&mut self, set: u64, deadline: Option<std::time::Instant>) -> bool {
        super::hostsig::wait_until(deadline, || {
            self.take_host_signals();
            self.signals.pending_set() & set != 0
        })
    }

    /// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending signal of `set`
    /// without running its handler.
    pub(super) fn sys_sigtimedwait(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        if a[3] != 8 {
            return Err(22);
        }
        let mut b = [0u8; 8];
        self.machine.mem.read(a[0], &mut b).map_err(|_| 14i64)?;
        let set = u64::from_le_bytes(b) & !UNBLOCKABLE;
        let deadline = if a[2] == 0 {
            None
        } else {
            let mut t = [0u8; 16];
            self.machine.mem.read(a[2], &mut t).map_err(|_| 14i64)?;
            let (sec, nsec) = (le64(&t, 0) as i64, le64(&t, 8) as i64);
            if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                return Err(22);
            }
            let wait = std::time::Duration::new(sec as u64, nsec as u32);
            // A deadline beyond what the host's clock can hold is no deadline.
            std::time::Instant::now().checked_add(wait)
        };
        if !self.wait_for(set, deadline) {
            return Err(11); // EAGAIN
        }
        let sig = (self.signals.pending_set() & set).trailing_zeros() as i32 + 1;
        let Some(p) = self.signals.take(sig) else {
            // Another thread took it in between: as if the wait had been interrupted.
            return Err(4); // EINTR
        };
        if a[1] != 0 {
            self.machine
                .mem
                .write(a[1], &p.info.bytes())
                .map_err(|_| 14i64)?;
        }
        Ok(i64::from(sig))
    }

    /// `rt_sigqueueinfo` to the process itself (`thread` false, `target` the pid) and
    /// `rt_tgsigqueueinfo` to one of its threads (`thread` true, `target` the tid): the signal
    /// carries the caller's siginfo. Other targets are refused (no other process is emulated).
    pub(super) fn sys_sigqueueinfo(
        &mut self,
        target: i64,
        thread: bool,
        sig: u64,
        uinfo: u64,
    ) -> Result<i64, i64> {
        if !(1..=NSIG as u64).contains(&sig) {
            return Err(22);
        }
        let tid = u32::try_from(target).ok();
        let to = if thread {
            match tid.filter(|&t| t == self.tid || self.threads.contains(t)) {
                Some(t) => Some(t),
                None => return Err(3), // ESRCH
            }
        } else if target == i64::from(self.pid) {
            None
        } else {
            return Err(1); // EPERM
        };
        let mut b = [0u8; 128];
        self.machine.mem.read(uinfo, &mut b).map_err(|_| 14i64)?;
        let sig = sig as i32;
        let code = i32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        let info = SigInfo {
            signo: sig,
            code,
            fields: SigFields::Queued(b[16..32].try_into().expect("16 bytes")),
        };
        let pc = self.machine.cpu.pc.wrapping_sub(4);
        let reason = format!(
            "{} ({sig}) queued by the program itself at pc {pc:#x}",
            signal_name(sig)
        );
        self.send(to, info, reason);
        Ok(0)
    }

    /// `sigaltstack(ss, old_ss)`.
    pub(super) fn sys_sigaltstack(&mut self, ss: u64, old: u64) -> Result<i64, i64> {
        let sp = self.machine.cpu.sp;
        let state = self.signals.altstack_state(sp) | self.signals.altstack.2 & SS_AUTODISARM;
        let before = self.signals.stack_t(state);
        if ss != 0 {
            let mut b = [0u8; 24];
            self.machine.mem.read(ss, &mut b).map_err(|_| 14i64)?;
            self.signals.set_altstack(sp, &b)?;
        }
        if old != 0 {
            self.machine.mem.write(old, &before).map_err(|_| 14i64)?;
        }
        Ok(0)
    }

    /// `rt_sigaction(sig, act, oldact, sigsetsize)`.
    pub(super) fn sys_sigaction(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        let sig = a[0] as i64;
        if !(1..=i64::from(NSIG)).contains(&sig) || a[3] != 8 {
            return Err(22);
        }
        let sig = sig as i32;
        if a[1] != 0 && (sig == SIGKILL || sig == SIGSTOP) {
            return Err(22);
        }
        let old = self.signals.action(sig);
        if a[1] != 0 {
            let mut b = [0u8; 32];
            self.machine.mem.read(a[1], &mut b).map_err(|_| 14i64)?;
            let new = SigAction {
                handler: le64(&b, 0),
                flags: le64(&b, 8),
                restorer: le64(&b, 16),
                mask: le64(&b, 24) & !UNBLOCKABLE,
            };
            self.signals.set_action(sig, new);
            // Setting a signal to be ignored discards it if pending (for the process, and for
            // this thread; other threads drop theirs when they would deliver them).
            if self.signals.ignored(sig) {
                lock(&self.signals.own)[sig as usize].clear();
                lock(&self.signals.shared)[sig as usize].clear();
            }
        }
        if a[2] != 0 {
            let mut b = [0u8; 32];
            put64(&mut b, 0, old.handler);
            put64(&mut b, 8, old.flags);
            put64(&mut b, 16, old.restorer);
            put64(&mut b, 24, old.mask);
            self.machine.mem.write(a[2], &b).map_err(|_| 14i64)?;
        }
        Ok(0)
    }

    /// `kill`, `tkill` and `tgkill` aimed at `target` (a pid, or a tid for SI_TKILL); `code`
    /// is SI_USER or SI_TKILL. Signals to the process or one of its threads are queued there;
    /// others go to the host.
    pub(super) fn sys_kill(
        &mut self,
        target: i64,
        sig: u64,
        code: i32,
        name: &str,
    ) -> Result<i64, i64> {
        if sig > NSIG as u64 {
            return Err(22);
        }
        let own = i64::from(self.pid);
        // Process group 0 (the caller's) is taken as the process itself: the rest of the group
        // is the shell or test harness that started armature.
        let to_process = code == SI_USER && (target == own || target == 0);
        if code == SI_USER && target == -1 {
            // "Every process the user may signal" would reach the host's processes.
            return Err(1); // EPERM
        }
        let thread = (code == SI_TKILL)
            .then(|| u32::try_from(target).ok())
            .flatten()
            .filter(|&tid| tid == self.tid || self.threads.contains(tid));
        if !to_process && thread.is_none() {
            if code == SI_TKILL {
                return Err(3); // ESRCH: not one of this process's threads
            }
            // SAFETY: kill only takes integers.
            let r = unsafe { libc::kill(target as libc::pid_t, sig as libc::c_int) };
            return if r < 0 {
                Err(i64::from(
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(22),
                ))
            } else {
                Ok(0)
            };
        }
        if sig == 0 {
            return Ok(0);
        }
        let sig = sig as i32;
        // SAFETY: getuid only returns the id.
        let uid = unsafe { libc::getuid() };
        let info = SigInfo {
            signo: sig,
            code,
            fields: SigFields::Kill { pid: self.pid, uid },
        };
        let pc = self.machine.cpu.pc.wrapping_sub(4);
        let reason = format!(
            "{} ({sig}) sent by the program itself with {name} at pc {pc:#x}",
            signal_name(sig)
        );
        self.send(thread, info, reason);
        Ok(0)
    }

    /// Queues a signal for thread `tid` of this process, or for the process when `None`.
    pub(super) fn send(&mut self, tid: Option<u32>, info: SigInfo, reason: String) {
        match tid {
            None => self.queue_process_signal(info, reason),
            Some(t) if t == self.tid => self.queue_signal(info, reason),
            Some(t) => {
                self.threads.with_peer(t, |peer| {
                    if self.queue_on(&peer.pending, info, reason) {
                        peer.kick();
                    }
                });
            }
        }
    }
}
