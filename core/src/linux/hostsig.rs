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

/// The signals forwarded to the guest.
pub const FORWARDED: [i32; 10] = [
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
];

/// Set by the handler; the interpreter stops before its next block when it is set.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);
/// The forwarded signals received and not yet taken (bit `sig - 1`).
static PENDING: AtomicU64 = AtomicU64::new(0);
/// The last `si_code` and `si_pid` of each signal (code in the high half), and `si_uid`.
static SENDER: [AtomicU64; 32] = [const { AtomicU64::new(0) }; 32];
static SENDER_UID: [AtomicU32; 32] = [const { AtomicU32::new(0) }; 32];

/// A forwarded signal as the host reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSignal {
    pub signo: i32,
    pub code: i32,
    pub pid: u32,
    pub uid: u32,
}

/// The handler: only atomic stores, which are async-signal-safe.
extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let i = sig as usize;
    if !(1..32).contains(&i) {
        return;
    }
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
        let (code, pid, uid) = unsafe { ((*info).si_code, (*info).si_pid(), (*info).si_uid()) };
        SENDER[i].store(
            u64::from(code as u32) << 32 | u64::from(pid as u32),
            Ordering::Relaxed,
        );
        SENDER_UID[i].store(uid, Ordering::Relaxed);
    }
    PENDING.fetch_or(1 << (i - 1), Ordering::SeqCst);
    INTERRUPT.store(true, Ordering::SeqCst);
}

/// Installs the handler for every forwarded signal (without SA_RESTART, so that a blocking host
/// call returns EINTR and the guest's rules decide whether it restarts).
pub fn install() -> std::io::Result<()> {
    for &sig in &FORWARDED {
        // SAFETY: the action is fully initialised and its handler only touches atomics.
        let r = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                on_signal;
            act.sa_sigaction = handler as usize;
            act.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Takes the signals received since the last call, lowest number first, and clears the
/// interrupt flag (before taking them, so that a signal arriving in between sets it again).
pub fn take() -> Vec<HostSignal> {
    INTERRUPT.store(false, Ordering::SeqCst);
    let set = PENDING.swap(0, Ordering::SeqCst);
    (1..32)
        .filter(|&s| set & (1 << (s - 1)) != 0)
        .map(|s| {
            let sender = SENDER[s].load(Ordering::Relaxed);
            HostSignal {
                signo: s as i32,
                code: (sender >> 32) as u32 as i32,
                pid: sender as u32,
                uid: SENDER_UID[s].load(Ordering::Relaxed),
            }
        })
        .collect()
}

/// Waits until `ready` holds, checking it after each forwarded signal. The forwarded signals
/// are blocked between the check and the wait, so none arriving in between is missed.
pub fn wait_until(mut ready: impl FnMut() -> bool) {
    // SAFETY: the sets are initialised by sigemptyset before use; sigsuspend only waits.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        for &sig in &FORWARDED {
            libc::sigaddset(&mut block, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        while !ready() {
            let mut wait = old;
            for &sig in &FORWARDED {
                libc::sigdelset(&mut wait, sig);
            }
            libc::sigsuspend(&wait);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}
