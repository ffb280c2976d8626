//! Host signals forwarded to the guest, as qemu-user does: a host handler records the signal
//! in an atomic pending set and sets the interrupt flag the interpreter checks once a block;
//! the [`Process`](super::Process) then moves the recorded signals into the guest's pending set
//! and delivers them through the guest's own actions and mask.
//!
//! Only the signals another process (a shell, a terminal, a timer of the program) sends are
//! caught. SIGSEGV, SIGBUS, SIGILL and SIGFPE stay at their defaults: on the host they are
//! armature's own bugs, never the guest's (its faults are emulated). SIGPIPE stays ignored (the
//! Rust runtime's setting): a write to a closed pipe gives EPIPE and the guest gets its SIGPIPE
//! from the system call. Job-control signals (SIGTSTP, SIGCONT, ...) act on armature itself.
//!
//! A host process has one disposition per signal, so this state is process-wide: one forwarding
//! `Process` per host process.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The standard signals forwarded to the guest.
pub const FORWARDED: [i32; 11] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGWINCH,
    // A forked guest child is a host child: its end reaches the guest's handler.
    libc::SIGCHLD,
];

/// The real-time signals forwarded too: glibc's SIGRTMIN (34) to SIGRTMAX, which POSIX timers
/// use; 32 and 33 are glibc's own on both sides. They merge like standard ones on the way.
pub const RT_FORWARDED: std::ops::RangeInclusive<i32> = 34..=64;

/// Whether `sig` is forwarded from the host.
pub fn forwarded(sig: i32) -> bool {
    FORWARDED.contains(&sig) || RT_FORWARDED.contains(&sig)
}

fn all_forwarded() -> impl Iterator<Item = i32> {
    FORWARDED.into_iter().chain(RT_FORWARDED)
}

/// Set by the handler; the interpreter stops before its next block when it is set.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);
/// The forwarded signals received and not yet taken (bit `sig - 1`).
static PENDING: AtomicU64 = AtomicU64::new(0);
/// The last `si_code` of each signal and the first 16 bytes of its siginfo union (`_kill`:
/// pid, uid; `_timer`: id, overrun, value), the same layout on the host and aarch64.
static CODE: [AtomicU32; 65] = [const { AtomicU32::new(0) }; 65];
static UNION: [[AtomicU64; 2]; 65] = [const { [AtomicU64::new(0), AtomicU64::new(0)] }; 65];

/// A forwarded signal as the host reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSignal {
    pub signo: i32,
    pub code: i32,
    /// The first 16 bytes of the siginfo union.
    pub fields: [u8; 16],
}

/// The handler: only atomic stores, which are async-signal-safe.
extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let i = sig as usize;
    if !(1..=64).contains(&i) {
        return;
    }
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO; its first 32 bytes are
        // signo, errno, code, padding and the union.
        let words: [u64; 4] = unsafe { std::ptr::read_unaligned(info.cast()) };
        CODE[i].store(words[1] as u32, Ordering::Relaxed);
        UNION[i][0].store(words[2], Ordering::Relaxed);
        UNION[i][1].store(words[3], Ordering::Relaxed);
    }
    PENDING.fetch_or(1 << (i - 1), Ordering::SeqCst);
    INTERRUPT.store(true, Ordering::SeqCst);
}

/// Installs the handler for every forwarded signal (without SA_RESTART, so that a blocking host
/// call returns EINTR and the guest's rules decide whether it restarts).
///
/// Gives the forwarded signals that the host had left ignored (bit `sig - 1`): execve keeps an
/// ignored disposition, so the guest starts with them ignored too (`nohup armature run ...`
/// shields the guest from SIGHUP, as `nohup qemu-aarch64 ...` does).
pub fn install() -> std::io::Result<u64> {
    let mut ignored = 0;
    for sig in all_forwarded() {
        // SAFETY: the action is fully initialised and its handler only touches atomics; the
        // old action is plain data written by the call.
        let (r, old) = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            let mut old: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                on_signal;
            act.sa_sigaction = handler as usize;
            act.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut act.sa_mask);
            (libc::sigaction(sig, &act, &mut old), old)
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if old.sa_sigaction == libc::SIG_IGN {
            ignored |= 1 << (sig - 1);
        }
    }
    Ok(ignored)
}

/// Before the host execve of a guest's execve: the forwarded signals and SIGPIPE get the
/// disposition the new program must inherit, ignored where the guest ignores them (`ignored`
/// says for each signal) and the default elsewhere, as the kernel's execve leaves them.
/// [`install`] again (and SIGPIPE ignored again) when the execve failed.
pub fn for_execve(ignored: impl Fn(i32) -> bool) {
    for sig in all_forwarded().chain([libc::SIGPIPE]) {
        let handler = if ignored(sig) {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        // SAFETY: setting a disposition to SIG_IGN or SIG_DFL.
        unsafe { libc::signal(sig, handler) };
    }
}

/// Undoes [`for_execve`] after a failed execve.
pub fn after_failed_execve() -> std::io::Result<()> {
    // SAFETY: SIGPIPE back to the Rust runtime's setting.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    install().map(|_| ())
}

/// Takes the signals received since the last call, lowest number first, and clears the
/// interrupt flag (before taking them, so that a signal arriving in between sets it again).
pub fn take() -> Vec<HostSignal> {
    INTERRUPT.store(false, Ordering::SeqCst);
    let set = PENDING.swap(0, Ordering::SeqCst);
    (1..=64usize)
        .filter(|&s| set & (1 << (s - 1)) != 0)
        .map(|s| {
            let mut fields = [0u8; 16];
            fields[..8].copy_from_slice(&UNION[s][0].load(Ordering::Relaxed).to_le_bytes());
            fields[8..].copy_from_slice(&UNION[s][1].load(Ordering::Relaxed).to_le_bytes());
            HostSignal {
                signo: s as i32,
                code: CODE[s].load(Ordering::Relaxed) as i32,
                fields,
            }
        })
        .collect()
}

/// Forgets the signals received and not taken (a forked child's are its parent's).
pub fn forget_pending() {
    PENDING.store(0, Ordering::SeqCst);
    INTERRUPT.store(false, Ordering::SeqCst);
}

/// Runs `f` with the forwarded signals and the guest threads' wake-up signal
/// ([`super::thread::SIG_WAKE`]) blocked on this thread; `f` gets the mask that unblocks them
/// again, for a host wait (`ppoll`) that must not miss one arriving after a check.
pub fn with_forwarded_blocked<R>(f: impl FnOnce(&libc::sigset_t) -> R) -> R {
    // SAFETY: the sets are initialised by sigemptyset or pthread_sigmask before use.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        for sig in all_forwarded().chain([super::thread::SIG_WAKE]) {
            libc::sigaddset(&mut block, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        let mut wait = old;
        for sig in all_forwarded().chain([super::thread::SIG_WAKE]) {
            libc::sigdelset(&mut wait, sig);
        }
        let r = f(&wait);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        r
    }
}

/// What is left of the time to `deadline` as a host timespec; `None` when it has passed.
pub fn time_left(deadline: std::time::Instant) -> Option<libc::timespec> {
    let left = deadline.checked_duration_since(std::time::Instant::now())?;
    Some(libc::timespec {
        tv_sec: left.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(left.subsec_nanos()),
    })
}

/// Waits until `ready` holds, checking it after each forwarded signal, or until `deadline`
/// passes; gives whether `ready` held. The forwarded signals are blocked between the check and
/// the wait (`ppoll` unblocks them atomically), so none arriving in between is missed.
pub fn wait_until(deadline: Option<std::time::Instant>, mut ready: impl FnMut() -> bool) -> bool {
    with_forwarded_blocked(|wait| loop {
        if ready() {
            return true;
        }
        let timeout = match deadline.map(time_left) {
            None => None,
            Some(None) => return false,
            Some(Some(t)) => Some(t),
        };
        let t = timeout
            .as_ref()
            .map_or(std::ptr::null(), std::ptr::from_ref);
        // SAFETY: no descriptors; the timeout and mask are host values.
        unsafe { libc::ppoll(std::ptr::null_mut(), 0, t, wait) };
    })
}
