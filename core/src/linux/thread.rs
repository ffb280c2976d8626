//! Guest threads, as qemu-user runs them: each guest thread is a host thread with its own
//! [`Process`] (CPU state, signal mask, pending signals, alternate stack), sharing the address
//! space ([`crate::mem::Memory::share`]), the signal actions, the process-directed pending
//! signals and the program break with the others through a [`Group`].
//!
//! A guest thread id is the host thread's id (the main thread's is the process id), so
//! `futex` runs on the host's futexes at the guest words' host addresses, PI futexes see the
//! ids they expect, and `/proc` agrees. A thread that queues a signal for another one sets
//! that thread's kick flag, which its interpreter reads before each block, and sends its host
//! thread [`SIG_WAKE`], so that a blocking host call it is in returns EINTR and the usual
//! rules (restart, EINTR to the guest) apply.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::interp::Interp;
use crate::sem::SemTable;

use super::signal::{lock, Queues};
use super::syscall::{SysResult, EAGAIN, EFAULT, EINTR, EINVAL, ENOSYS, ETIMEDOUT};
use super::{Exit, Process};

/// The host signal that wakes a guest thread's host thread out of a blocking call. SIGURG is
/// ignored by default and not forwarded, so taking it costs the guest nothing (a guest sees no
/// host SIGURG; Linux only sends one for out-of-band socket data).
pub const SIG_WAKE: i32 = libc::SIGURG;

extern "C" fn on_wake(_: libc::c_int) {}

/// Installs the no-op handler of [`SIG_WAKE`], without SA_RESTART so that it interrupts
/// blocking host calls.
pub fn install_wake() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the action is fully initialised and its handler does nothing.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int) = on_wake;
            act.sa_sigaction = handler as usize;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(SIG_WAKE, &act, std::ptr::null_mut());
        }
    });
}

/// Another thread's handles, as the group keeps them.
#[derive(Clone)]
pub(super) struct Peer {
    pub(super) tid: u32,
    /// The signals directed at that thread.
    pub(super) pending: Arc<Mutex<Queues>>,
    /// Its interpreter's kick flag ([`Interp::kick`]).
    kick: Arc<AtomicBool>,
    /// Its host thread.
    pthread: libc::pthread_t,
}

impl Peer {
    /// Makes the thread look at its signals: before its next block, or at once when it is
    /// blocked in a host call. Called with the group's lock held, so the host thread exists.
    pub(super) fn kick(&self) {
        self.kick.store(true, Ordering::SeqCst);
        // SAFETY: the peer is registered, so its host thread has not ended (it removes itself
        // under the same lock before it ends).
        unsafe { libc::pthread_kill(self.pthread, SIG_WAKE) };
    }
}

/// What the threads of one guest process share beyond memory and signal actions.
pub struct Group {
    peers: Mutex<Vec<Peer>>,
    /// How the process ended, once it did (`exit_group`, a fatal signal, the last `exit`).
    ended: Mutex<Option<Exit>>,
    ending: AtomicBool,
    /// Signalled when the process ends or a thread exits.
    changed: Condvar,
    /// The main thread's code when it called `exit` before the others ended.
    leader_code: Mutex<Option<u8>>,
    /// The program break.
    pub(super) brk: Mutex<u64>,
    /// The semantics new threads run, set by `Process::run`.
    table: OnceLock<Arc<SemTable<Interp>>>,
    /// POSIX timers with SIGEV_THREAD_ID: the host timer id and the guest thread it signals.
    pub(super) thread_timers: Mutex<Vec<(i32, u32)>>,
}

impl Group {
    pub(super) fn new(brk: u64) -> Group {
        Group {
            peers: Mutex::new(Vec::new()),
            ended: Mutex::new(None),
            ending: AtomicBool::new(false),
            changed: Condvar::new(),
            leader_code: Mutex::new(None),
            brk: Mutex::new(brk),
            table: OnceLock::new(),
            thread_timers: Mutex::new(Vec::new()),
        }
    }

    /// Whether `tid` is a live thread of the process.
    pub(super) fn contains(&self, tid: u32) -> bool {
        lock(&self.peers).iter().any(|p| p.tid == tid)
    }

    /// Runs `f` on thread `tid`'s handles, under the group's lock (so a kick reaches a live
    /// host thread).
    pub(super) fn with_peer<R>(&self, tid: u32, f: impl FnOnce(&Peer) -> R) -> Option<R> {
        lock(&self.peers).iter().find(|p| p.tid == tid).map(f)
    }

    /// Kicks every thread but `except`.
    pub(super) fn kick_all(&self, except: u32) {
        for p in lock(&self.peers).iter().filter(|p| p.tid != except) {
            p.kick();
        }
    }

    fn register(&self, peer: Peer) {
        lock(&self.peers).push(peer);
    }

    /// Removes thread `tid`; gives how many remain.
    fn remove(&self, tid: u32) -> usize {
        let mut peers = lock(&self.peers);
        peers.retain(|p| p.tid != tid);
        self.changed.notify_all();
        peers.len()
    }

    /// Ends the process with `exit` unless it already ended; every thread is told.
    pub(super) fn end(&self, exit: Exit) {
        {
            let mut ended = lock(&self.ended);
            if ended.is_none() {
                *ended = Some(exit);
            }
        }
        self.ending.store(true, Ordering::SeqCst);
        self.changed.notify_all();
        for p in lock(&self.peers).iter() {
            p.kick();
        }
    }

    /// How the process ended, once it did.
    pub(super) fn ended(&self) -> Option<Exit> {
        if !self.ending.load(Ordering::SeqCst) {
            return None;
        }
        lock(&self.ended).clone()
    }

    /// After a fork: the child's only thread is the one that forked (`old`), now `new`.
    fn forked(&self, old: u32, new: u32) {
        let mut peers = lock(&self.peers);
        peers.retain(|p| p.tid == old);
        for p in peers.iter_mut() {
            p.tid = new;
        }
        lock(&self.thread_timers).clear();
    }
}

/// `clone` flags.
const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x1_0000;
const CLONE_SYSVSEM: u64 = 0x4_0000;
const CLONE_SETTLS: u64 = 0x8_0000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_DETACHED: u64 = 0x40_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
/// The exit signal a forked child sends its parent.
const CSIGNAL: u64 = 0xff;

/// `futex` operations (the same on every architecture).
const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_LOCK_PI: u64 = 6;
const FUTEX_UNLOCK_PI: u64 = 7;
const FUTEX_TRYLOCK_PI: u64 = 8;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_LOCK_PI2: u64 = 13;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;
const FUTEX_BITSET_MATCH_ANY: u64 = 0xffff_ffff;

/// The longest a guest futex wait blocks on the host before it looks at its signals again:
/// a kick that lands between the check and the wait is seen after at most this long.
const WAIT_SLICE: std::time::Duration = std::time::Duration::from_millis(50);

fn errno() -> i64 {
    i64::from(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(EINVAL as i32),
    )
}

impl Process {
    /// Registers the thread that runs this process (the main thread) and the semantics new
    /// threads run.
    pub(super) fn start_group(&mut self, table: &SemTable<Interp>) {
        let _ = self.threads.table.set(Arc::new(table.clone()));
        // SAFETY: pthread_self only returns this thread's handle.
        let pthread = unsafe { libc::pthread_self() };
        self.threads.register(Peer {
            tid: self.tid,
            pending: Arc::clone(&self.signals.own),
            kick: Arc::clone(&self.machine.kick),
            pthread,
        });
    }

    /// `clone(flags, newsp, parent_tid, tls, child_tid)`: a thread (CLONE_THREAD, as glibc's
    /// `pthread_create` asks) or a forked process (no CLONE_VM, or CLONE_VM|CLONE_VFORK, which
    /// runs as a fork: the child gets a copy of memory, as under qemu-user).
    pub(super) fn sys_clone(&mut self, a: &[u64; 6]) -> SysResult {
        let (flags, newsp, ptid, tls, ctid) = (a[0], a[1], a[2], a[3], a[4]);
        if flags & CLONE_THREAD != 0 {
            let needed = CLONE_VM | CLONE_SIGHAND;
            if flags & needed != needed {
                return Err(EINVAL);
            }
            let known = CLONE_VM
                | CLONE_FS
                | CLONE_FILES
                | CLONE_SIGHAND
                | CLONE_THREAD
                | CLONE_SYSVSEM
                | CLONE_SETTLS
                | CLONE_PARENT_SETTID
                | CLONE_CHILD_CLEARTID
                | CLONE_DETACHED
                | CLONE_CHILD_SETTID;
            if flags & !known != 0 {
                return Err(EINVAL);
            }
            return self.spawn_thread(flags, newsp, ptid, tls, ctid);
        }
        if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
            // A second process sharing this one's memory: not supported.
            return Err(EINVAL);
        }
        if flags
            & !(CSIGNAL
                | CLONE_VM
                | CLONE_VFORK
                | CLONE_PARENT_SETTID
                | CLONE_CHILD_SETTID
                | CLONE_CHILD_CLEARTID)
            != 0
        {
            return Err(EINVAL);
        }
        self.fork(flags, newsp, ptid, ctid)
    }

    fn spawn_thread(
        &mut self,
        flags: u64,
        newsp: u64,
        ptid: u64,
        tls: u64,
        ctid: u64,
    ) -> SysResult {
        install_wake();
        let mut machine = Interp::sharing(&self.machine);
        machine.cpu.x[0] = 0;
        if newsp != 0 {
            machine.cpu.sp = newsp;
        }
        if flags & CLONE_SETTLS != 0 {
            machine.cpu.tpidr_el0 = tls;
        }
        let mut child = self.thread_copy(machine);
        if flags & CLONE_CHILD_CLEARTID != 0 {
            child.clear_child_tid = ctid;
        }
        let Some(table) = self.threads.table.get().cloned() else {
            // Only `Process::run` runs guest code, and it sets the table first.
            return Err(ENOSYS);
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("guest thread".into())
            .spawn(move || {
                // SAFETY: gettid and pthread_self only return ids.
                let (tid, pthread) = unsafe { (libc::gettid() as u32, libc::pthread_self()) };
                child.tid = tid;
                child.threads.register(Peer {
                    tid,
                    pending: Arc::clone(&child.signals.own),
                    kick: Arc::clone(&child.machine.kick),
                    pthread,
                });
                // Linux writes both before the child runs.
                let mem = &child.machine.mem;
                if flags & CLONE_PARENT_SETTID != 0 {
                    let _ = mem.write_u64(ptid, 4, u64::from(tid));
                }
                if flags & CLONE_CHILD_SETTID != 0 {
                    let _ = mem.write_u64(ctid, 4, u64::from(tid));
                }
                let _ = tx.send(tid);
                let exit = child.run_until_exit(&table);
                if !child.thread_exited {
                    child.threads.end(exit);
                }
            });
        if spawned.is_err() {
            return Err(EAGAIN);
        }
        match rx.recv() {
            Ok(tid) => Ok(i64::from(tid)),
            Err(_) => Err(EAGAIN),
        }
    }

    /// A new thread's process state: this one's, with `machine`, nothing pending and the
    /// same trace file.
    fn thread_copy(&self, machine: Interp) -> Process {
        Process {
            machine,
            features: self.features,
            strace: self.strace,
            trace: self.trace.clone(),
            exe: self.exe.clone(),
            exe_abs: self.exe_abs.clone(),
            root: self.root.clone(),
            brk_start: self.brk_start,
            signals: self.signals.for_new_thread(),
            clear_child_tid: 0,
            warned: self.warned.clone(),
            warned_encodings: self.warned_encodings.clone(),
            pid: self.pid,
            tid: 0,
            threads: Arc::clone(&self.threads),
            thread_exited: false,
            comm: self.comm,
            exec_prefix: self.exec_prefix.clone(),
            auxv: self.auxv.clone(),
            images: self.images.clone(),
            cmdline: self.cmdline.clone(),
        }
    }

    /// A forked child: the host forks, so the child continues in a copy of armature with a copy
    /// of guest memory; the thread that forked is its only thread.
    fn fork(&mut self, flags: u64, newsp: u64, ptid: u64, ctid: u64) -> SysResult {
        // No other thread may hold the thread list's or the memory map's lock in the child.
        let peers = lock(&self.threads.peers);
        let fork = || {
            self.machine.mem.while_locked(|| {
                // SAFETY: the child only continues this thread; the locks other threads take
                // most are held here, so the child's copies are released with the guards.
                unsafe { libc::fork() }
            })
        };
        // The trace too: the child writes its own lines into the same file.
        let pid = match &self.trace {
            Some(trace) => trace.while_flushed(fork),
            None => fork(),
        };
        drop(peers);
        if pid < 0 {
            return Err(errno());
        }
        if pid > 0 {
            if flags & CLONE_PARENT_SETTID != 0 {
                let _ = self.machine.mem.write_u64(ptid, 4, pid as u64);
            }
            return Ok(i64::from(pid));
        }
        // The child.
        // SAFETY: getpid only returns the id.
        let me = unsafe { libc::getpid() } as u32;
        self.threads.forked(self.tid, me);
        self.pid = me;
        self.tid = me;
        super::hostsig::forget_pending();
        for q in lock(&self.signals.shared).iter_mut() {
            q.clear();
        }
        for q in lock(&self.signals.own).iter_mut() {
            q.clear();
        }
        if newsp != 0 {
            self.machine.cpu.sp = newsp;
        }
        if flags & CLONE_CHILD_SETTID != 0 {
            let _ = self.machine.mem.write_u64(ctid, 4, u64::from(me));
        }
        if flags & CLONE_CHILD_CLEARTID != 0 {
            self.clear_child_tid = ctid;
        }
        Ok(0)
    }

    /// `exit` of this thread: the process ends with it when it is the last one. The main
    /// thread waits for the others (the process lives on until they end) and gives how the
    /// process ended.
    pub(super) fn exit_thread(&mut self, code: u8) -> Exit {
        self.thread_exited = true;
        self.clear_tid();
        let left = self.threads.remove(self.tid);
        let leader = self.tid == self.pid;
        if leader {
            *lock(&self.threads.leader_code) = Some(code);
        }
        if left == 0 {
            // The last thread: the process's status is the main thread's code.
            let code = lock(&self.threads.leader_code).unwrap_or(code);
            self.threads.end(Exit::Exited(code));
        }
        if !leader {
            return Exit::Exited(code);
        }
        let mut ended = lock(&self.threads.ended);
        loop {
            if let Some(exit) = ended.clone() {
                return exit;
            }
            ended = self
                .threads
                .changed
                .wait(ended)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// CLONE_CHILD_CLEARTID and `set_tid_address`: a thread that ends writes 0 to that word
    /// and wakes one waiter on it (`pthread_join`).
    fn clear_tid(&mut self) {
        let at = self.clear_child_tid;
        if at == 0 || self.machine.mem.write_u64(at, 4, 0).is_err() {
            return;
        }
        let host = self.machine.mem.host_base() + crate::mem::tbi(at) as usize;
        // SAFETY: `at` is a mapped, writable guest word, so its host address is too.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                host,
                (FUTEX_WAKE | FUTEX_PRIVATE_FLAG) as i32,
                1,
            )
        };
    }

    /// The host address of the 4-byte futex word at guest address `addr`, which must be
    /// aligned and readable (and writable for the operations that change it).
    fn futex_word(&self, addr: u64, write: bool) -> Result<usize, i64> {
        let addr = crate::mem::tbi(addr);
        if !addr.is_multiple_of(4) {
            return Err(EINVAL);
        }
        let mem = &self.machine.mem;
        if write {
            mem.check_write(addr, 4).map_err(|_| EFAULT)?;
        }
        mem.read_u64(addr, 4).map_err(|_| EFAULT)?;
        Ok(mem.host_base() + addr as usize)
    }

    /// `futex(uaddr, op, val, timeout or val2, uaddr2, val3)` on the host's futexes at the
    /// guest words' host addresses. Waits are made in slices of [`WAIT_SLICE`] so that a
    /// signal for this thread ends them with EINTR.
    pub(super) fn sys_futex(&mut self, a: &[u64; 6]) -> SysResult {
        let op = a[1];
        let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        let flags = op & (FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        match cmd {
            FUTEX_WAIT | FUTEX_WAIT_BITSET => {
                let uaddr = self.futex_word(a[0], false)?;
                let bitset = if cmd == FUTEX_WAIT {
                    FUTEX_BITSET_MATCH_ANY
                } else {
                    a[5]
                };
                if bitset as u32 == 0 {
                    return Err(EINVAL);
                }
                let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                    libc::CLOCK_REALTIME
                } else {
                    libc::CLOCK_MONOTONIC
                };
                // FUTEX_WAIT's timeout is relative, FUTEX_WAIT_BITSET's absolute on `clock`.
                let deadline = if a[3] == 0 {
                    None
                } else {
                    let t = self.read_timespec(a[3])?;
                    Some(if cmd == FUTEX_WAIT {
                        add(now(clock), t)
                    } else {
                        t
                    })
                };
                loop {
                    if self.signal_ready() {
                        return Err(EINTR);
                    }
                    let slice = add(now(clock), duration_ts(WAIT_SLICE));
                    let until = match deadline {
                        Some(d) if before(d, slice) => d,
                        _ => slice,
                    };
                    // SAFETY: `uaddr` is the host address of a mapped guest word; the timeout
                    // is a host timespec.
                    let r = unsafe {
                        libc::syscall(
                            libc::SYS_futex,
                            uaddr,
                            (FUTEX_WAIT_BITSET | flags) as i32,
                            a[2] as u32,
                            &until as *const libc::timespec,
                            std::ptr::null::<u32>(),
                            bitset as u32,
                        )
                    };
                    if r == 0 {
                        return Ok(0);
                    }
                    match errno() {
                        ETIMEDOUT if deadline.is_some_and(|d| !before(now(clock), d)) => {
                            return Err(ETIMEDOUT)
                        }
                        ETIMEDOUT | EINTR => continue,
                        e => return Err(e),
                    }
                }
            }
            FUTEX_WAKE | FUTEX_WAKE_BITSET => {
                let uaddr = self.futex_word(a[0], false)?;
                // SAFETY: as above.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_futex,
                        uaddr,
                        op as i32,
                        a[2] as u32,
                        0usize,
                        0usize,
                        a[5] as u32,
                    )
                };
                if r < 0 {
                    Err(errno())
                } else {
                    Ok(r)
                }
            }
            FUTEX_REQUEUE | FUTEX_CMP_REQUEUE | FUTEX_WAKE_OP => {
                let uaddr = self.futex_word(a[0], false)?;
                let uaddr2 = self.futex_word(a[4], cmd == FUTEX_WAKE_OP)?;
                // SAFETY: both are host addresses of mapped guest words; the fourth argument
                // is a count here, not a pointer.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_futex,
                        uaddr,
                        op as i32,
                        a[2] as u32,
                        a[3] as usize,
                        uaddr2,
                        a[5] as u32,
                    )
                };
                if r < 0 {
                    Err(errno())
                } else {
                    Ok(r)
                }
            }
            FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI | FUTEX_UNLOCK_PI => {
                let uaddr = self.futex_word(a[0], true)?;
                let timeout = if a[3] != 0 && cmd != FUTEX_UNLOCK_PI && cmd != FUTEX_TRYLOCK_PI {
                    Some(self.read_timespec(a[3])?)
                } else {
                    None
                };
                let t = timeout
                    .as_ref()
                    .map_or(std::ptr::null(), std::ptr::from_ref);
                // SAFETY: as above; the timeout is a host timespec or null. The owner ids
                // in the word are host thread ids, which guest ids are.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_futex,
                        uaddr,
                        op as i32,
                        a[2] as u32,
                        t,
                        0usize,
                        0u32,
                    )
                };
                if r < 0 {
                    Err(errno())
                } else {
                    Ok(r)
                }
            }
            _ => Err(ENOSYS),
        }
    }

    /// A guest `struct timespec` (16 bytes); EINVAL for a negative or out-of-range one.
    pub(super) fn read_timespec(&mut self, addr: u64) -> Result<libc::timespec, i64> {
        let mut b = [0u8; 16];
        self.machine.mem.read(addr, &mut b).map_err(|_| EFAULT)?;
        let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let nsec = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(EINVAL);
        }
        Ok(libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        })
    }
}

fn now(clock: libc::clockid_t) -> libc::timespec {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid out-parameter.
    unsafe { libc::clock_gettime(clock, &mut t) };
    t
}

fn duration_ts(d: std::time::Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos()),
    }
}

fn add(a: libc::timespec, b: libc::timespec) -> libc::timespec {
    let mut sec = a.tv_sec.saturating_add(b.tv_sec);
    let mut nsec = a.tv_nsec + b.tv_nsec;
    if nsec >= 1_000_000_000 {
        nsec -= 1_000_000_000;
        sec = sec.saturating_add(1);
    }
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

fn before(a: libc::timespec, b: libc::timespec) -> bool {
    (a.tv_sec, a.tv_nsec) < (b.tv_sec, b.tv_nsec)
}

/// `e_machine` of aarch64 programs.
const EM_AARCH64: u16 = 183;
const ENOEXEC: i64 = 8;
const E2BIG: i64 = 7;

impl Process {
    /// The strings of a NULL-terminated guest array of string pointers (argv, envp).
    fn string_array(&mut self, addr: u64) -> Result<Vec<std::ffi::CString>, i64> {
        use super::syscall::GuestMem as _;
        let mut out = Vec::new();
        if addr == 0 {
            return Ok(out);
        }
        loop {
            let at = addr.wrapping_add(8 * out.len() as u64);
            let p = self.machine.mem.read_u64(at, 8).map_err(|_| EFAULT)?;
            if p == 0 {
                return Ok(out);
            }
            if out.len() >= 1 << 16 {
                return Err(E2BIG);
            }
            out.push(self.machine.mem.cstr(p)?);
        }
    }

    /// `execve(path, argv, envp)`: an aarch64 program runs in a new armature (the command in
    /// [`Process::exec_prefix`], with the guest's argv[0] and environment); any other file is
    /// the host's own program, executed directly, as with qemu-user under binfmt_misc.
    pub(super) fn sys_execve(&mut self, a: &[u64; 6]) -> SysResult {
        use std::ffi::CString;
        use std::io::Read as _;
        use std::os::unix::ffi::OsStrExt as _;
        let path = self.lookup_path(a[0])?;
        let argv = self.string_array(a[1])?;
        let envp = self.string_array(a[2])?;
        let host_path = std::path::Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
        let mut head = [0u8; 20];
        let aarch64 = std::fs::File::open(host_path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && head[..4] == *b"\x7fELF"
            && u16::from_le_bytes([head[18], head[19]]) == EM_AARCH64;
        let (program, args) = if aarch64 {
            let Some((exe, rest)) = self.exec_prefix.split_first() else {
                return Err(ENOEXEC);
            };
            let mut args: Vec<CString> = Vec::new();
            for s in std::iter::once(exe).chain(rest) {
                args.push(CString::new(s.as_bytes()).map_err(|_| EINVAL)?);
            }
            if let Some(argv0) = argv.first() {
                args.push(CString::new("--argv0").expect("no NUL"));
                args.push(argv0.clone());
            }
            args.push(CString::new("--").expect("no NUL"));
            args.push(path.clone());
            args.extend(argv.iter().skip(1).cloned());
            (CString::new(exe.as_bytes()).map_err(|_| EINVAL)?, args)
        } else {
            (path, argv)
        };
        if let Some(trace) = &self.trace {
            trace.flush();
        }
        let ptrs = |v: &[CString]| {
            v.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect::<Vec<_>>()
        };
        let (argp, envpp) = (ptrs(&args), ptrs(&envp));
        // The new program inherits the guest's ignored signals, as from the kernel's execve.
        let forwarding = std::ptr::eq(self.machine.interrupt, &super::hostsig::INTERRUPT);
        if forwarding {
            super::hostsig::for_execve(|sig| {
                self.signals.action(sig).handler == super::signal::SIG_IGN
            });
        }
        // SAFETY: NUL-terminated strings in NULL-terminated arrays that outlive the call.
        unsafe { libc::execve(program.as_ptr(), argp.as_ptr(), envpp.as_ptr()) };
        let e = errno();
        if forwarding {
            if let Err(err) = super::hostsig::after_failed_execve() {
                eprintln!("armature: cannot install the host signal handlers again: {err}");
            }
        }
        Err(e)
    }

    /// Repeats a blocking host call while it fails with EINTR for a signal the guest does not
    /// take (blocked, ignored, or the host's own wake-up signal).
    fn blocking(&mut self, mut call: impl FnMut() -> i64) -> SysResult {
        loop {
            let r = call();
            if r >= 0 {
                return Ok(r);
            }
            let e = errno();
            if e != EINTR || self.signal_ready() {
                return Err(e);
            }
        }
    }

    /// `wait4(pid, wstatus, options, rusage)` on the host: guest children are host processes
    /// (forks of armature) and the status and `struct rusage` layouts are the same.
    pub(super) fn sys_wait4(&mut self, a: &[u64; 6]) -> SysResult {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let (pid, options) = (a[0] as i32, a[2] as i32);
        let r = self.blocking(|| {
            // SAFETY: out-parameters on this stack.
            i64::from(unsafe { libc::wait4(pid, &mut status, options, &mut usage) })
        })?;
        if r > 0 {
            if a[1] != 0 {
                self.machine
                    .mem
                    .write(a[1], &status.to_le_bytes())
                    .map_err(|_| EFAULT)?;
            }
            if a[3] != 0 {
                self.put_rusage(a[3], &usage)?;
            }
        }
        Ok(r)
    }

    /// `waitid(idtype, id, infop, options, rusage)` on the host, like `wait4`; the siginfo
    /// layout is the same.
    pub(super) fn sys_waitid(&mut self, a: &[u64; 6]) -> SysResult {
        let mut info = [0u8; 128];
        // SAFETY: rusage is plain data.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = self.blocking(|| {
            // SAFETY: out-parameters on this stack.
            unsafe {
                libc::syscall(
                    libc::SYS_waitid,
                    a[0] as i32,
                    a[1] as i32,
                    info.as_mut_ptr(),
                    a[3] as i32,
                    &mut usage as *mut libc::rusage,
                )
            }
        })?;
        if a[2] != 0 {
            self.machine.mem.write(a[2], &info).map_err(|_| EFAULT)?;
        }
        if a[4] != 0 {
            self.put_rusage(a[4], &usage)?;
        }
        Ok(r)
    }

    /// Writes a host `struct rusage` to the guest (the layout is the same on aarch64).
    fn put_rusage(&mut self, addr: u64, usage: &libc::rusage) -> Result<(), i64> {
        // SAFETY: `usage` is a plain struct of `size_of` bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                std::ptr::from_ref(usage).cast::<u8>(),
                std::mem::size_of::<libc::rusage>(),
            )
        };
        self.machine.mem.write(addr, bytes).map_err(|_| EFAULT)
    }
}
