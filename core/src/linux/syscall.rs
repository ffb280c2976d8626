//! aarch64 Linux system calls, performed on the host.
//!
//! Guest file descriptors are host file descriptors. Every guest pointer is read and written
//! through [`Memory`]; a bad one gives `-EFAULT`, never a host access.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use crate::mem::{Backing, Memory, Perms, PAGE_SIZE};

use super::signal::{SA_RESTART, SIG_IGN, SI_TKILL, SI_USER};
use super::{Exit, Process, MMAP_BASE};

/// aarch64 (asm-generic) system call numbers.
pub mod nr {
    pub const SETXATTR: u64 = 5;
    pub const LSETXATTR: u64 = 6;
    pub const FSETXATTR: u64 = 7;
    pub const GETXATTR: u64 = 8;
    pub const LGETXATTR: u64 = 9;
    pub const FGETXATTR: u64 = 10;
    pub const LISTXATTR: u64 = 11;
    pub const LLISTXATTR: u64 = 12;
    pub const FLISTXATTR: u64 = 13;
    pub const REMOVEXATTR: u64 = 14;
    pub const LREMOVEXATTR: u64 = 15;
    pub const FREMOVEXATTR: u64 = 16;
    pub const GETCWD: u64 = 17;
    pub const DUP: u64 = 23;
    pub const DUP3: u64 = 24;
    pub const FCNTL: u64 = 25;
    pub const IOCTL: u64 = 29;
    pub const IOPRIO_SET: u64 = 30;
    pub const IOPRIO_GET: u64 = 31;
    pub const MKDIRAT: u64 = 34;
    pub const UNLINKAT: u64 = 35;
    pub const RENAMEAT: u64 = 38;
    pub const FTRUNCATE: u64 = 46;
    pub const FACCESSAT: u64 = 48;
    pub const CHDIR: u64 = 49;
    pub const OPENAT: u64 = 56;
    pub const CLOSE: u64 = 57;
    pub const PIPE2: u64 = 59;
    pub const PPOLL: u64 = 73;
    pub const VMSPLICE: u64 = 75;
    pub const SPLICE: u64 = 76;
    pub const TEE: u64 = 77;
    pub const CAPGET: u64 = 90;
    pub const CAPSET: u64 = 91;
    pub const SETFSUID: u64 = 151;
    pub const SETFSGID: u64 = 152;
    pub const SETGROUPS: u64 = 159;
    pub const GETDENTS64: u64 = 61;
    pub const LSEEK: u64 = 62;
    pub const READ: u64 = 63;
    pub const WRITE: u64 = 64;
    pub const READV: u64 = 65;
    pub const WRITEV: u64 = 66;
    pub const PREAD64: u64 = 67;
    pub const PWRITE64: u64 = 68;
    pub const READLINKAT: u64 = 78;
    pub const NEWFSTATAT: u64 = 79;
    pub const FSTAT: u64 = 80;
    pub const UTIMENSAT: u64 = 88;
    pub const EXIT: u64 = 93;
    pub const EXIT_GROUP: u64 = 94;
    pub const SET_TID_ADDRESS: u64 = 96;
    pub const FUTEX: u64 = 98;
    pub const SET_ROBUST_LIST: u64 = 99;
    pub const NANOSLEEP: u64 = 101;
    pub const GETITIMER: u64 = 102;
    pub const SETITIMER: u64 = 103;
    pub const TIMER_CREATE: u64 = 107;
    pub const TIMER_GETTIME: u64 = 108;
    pub const TIMER_GETOVERRUN: u64 = 109;
    pub const TIMER_SETTIME: u64 = 110;
    pub const TIMER_DELETE: u64 = 111;
    pub const CLOCK_GETTIME: u64 = 113;
    pub const CLOCK_NANOSLEEP: u64 = 115;
    pub const SCHED_GETAFFINITY: u64 = 123;
    pub const SCHED_YIELD: u64 = 124;
    pub const KILL: u64 = 129;
    pub const TKILL: u64 = 130;
    pub const TGKILL: u64 = 131;
    pub const SIGALTSTACK: u64 = 132;
    pub const RT_SIGACTION: u64 = 134;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const RT_SIGSUSPEND: u64 = 133;
    pub const RT_SIGPENDING: u64 = 136;
    pub const RT_SIGTIMEDWAIT: u64 = 137;
    pub const RT_SIGQUEUEINFO: u64 = 138;
    pub const RT_SIGRETURN: u64 = 139;
    pub const RT_TGSIGQUEUEINFO: u64 = 240;
    pub const UNAME: u64 = 160;
    pub const SYSINFO: u64 = 179;
    pub const PRCTL: u64 = 167;
    pub const GETTIMEOFDAY: u64 = 169;
    pub const GETPID: u64 = 172;
    pub const GETPPID: u64 = 173;
    pub const GETUID: u64 = 174;
    pub const GETEUID: u64 = 175;
    pub const GETGID: u64 = 176;
    pub const GETEGID: u64 = 177;
    pub const GETTID: u64 = 178;
    pub const BRK: u64 = 214;
    pub const MUNMAP: u64 = 215;
    pub const MREMAP: u64 = 216;
    pub const MMAP: u64 = 222;
    pub const MPROTECT: u64 = 226;
    pub const MADVISE: u64 = 233;
    pub const PRLIMIT64: u64 = 261;
    pub const GETRANDOM: u64 = 278;
    pub const RENAMEAT2: u64 = 276;
    pub const RSEQ: u64 = 293;
    pub const FACCESSAT2: u64 = 439;
    pub const WAITID: u64 = 95;
    pub const CLONE: u64 = 220;
    pub const EXECVE: u64 = 221;
    pub const WAIT4: u64 = 260;
    pub const MEMBARRIER: u64 = 283;
    pub const CLONE3: u64 = 435;
    pub const EPOLL_CREATE1: u64 = 20;
    pub const EPOLL_CTL: u64 = 21;
    pub const EPOLL_PWAIT: u64 = 22;
    pub const PSELECT6: u64 = 72;
    pub const EVENTFD2: u64 = 19;
    pub const FLOCK: u64 = 32;
    pub const MKNODAT: u64 = 33;
    pub const SYMLINKAT: u64 = 36;
    pub const LINKAT: u64 = 37;
    pub const STATFS: u64 = 43;
    pub const FSTATFS: u64 = 44;
    pub const TRUNCATE: u64 = 45;
    pub const FALLOCATE: u64 = 47;
    pub const FCHDIR: u64 = 50;
    pub const FCHMOD: u64 = 52;
    pub const FCHMODAT: u64 = 53;
    pub const FCHOWNAT: u64 = 54;
    pub const FCHOWN: u64 = 55;
    pub const PREADV: u64 = 69;
    pub const PWRITEV: u64 = 70;
    pub const SENDFILE: u64 = 71;
    pub const SYNC: u64 = 81;
    pub const FSYNC: u64 = 82;
    pub const FDATASYNC: u64 = 83;
    pub const CLOCK_GETRES: u64 = 114;
    pub const SCHED_GETSCHEDULER: u64 = 120;
    pub const SCHED_GETPARAM: u64 = 121;
    pub const SCHED_SETAFFINITY: u64 = 122;
    pub const SCHED_GET_PRIORITY_MAX: u64 = 125;
    pub const INOTIFY_INIT1: u64 = 26;
    pub const INOTIFY_ADD_WATCH: u64 = 27;
    pub const INOTIFY_RM_WATCH: u64 = 28;
    pub const SYNC_FILE_RANGE: u64 = 84;
    pub const TIMERFD_CREATE: u64 = 85;
    pub const TIMERFD_SETTIME: u64 = 86;
    pub const TIMERFD_GETTIME: u64 = 87;
    pub const PERSONALITY: u64 = 92;
    pub const SCHED_SETPARAM: u64 = 118;
    pub const SCHED_SETSCHEDULER: u64 = 119;
    pub const SCHED_RR_GET_INTERVAL: u64 = 127;
    pub const GETCPU: u64 = 168;
    pub const READAHEAD: u64 = 213;
    pub const FADVISE64: u64 = 223;
    pub const SCHED_GET_PRIORITY_MIN: u64 = 126;
    pub const SETPRIORITY: u64 = 140;
    pub const GETPRIORITY: u64 = 141;
    pub const SETREGID: u64 = 143;
    pub const SETGID: u64 = 144;
    pub const SETREUID: u64 = 145;
    pub const SETUID: u64 = 146;
    pub const SETRESUID: u64 = 147;
    pub const GETRESUID: u64 = 148;
    pub const SETRESGID: u64 = 149;
    pub const GETRESGID: u64 = 150;
    pub const TIMES: u64 = 153;
    pub const SETPGID: u64 = 154;
    pub const GETPGID: u64 = 155;
    pub const GETSID: u64 = 156;
    pub const SETSID: u64 = 157;
    pub const GETGROUPS: u64 = 158;
    pub const GETRUSAGE: u64 = 165;
    pub const UMASK: u64 = 166;
    pub const SOCKET: u64 = 198;
    pub const SOCKETPAIR: u64 = 199;
    pub const BIND: u64 = 200;
    pub const LISTEN: u64 = 201;
    pub const ACCEPT: u64 = 202;
    pub const CONNECT: u64 = 203;
    pub const GETSOCKNAME: u64 = 204;
    pub const GETPEERNAME: u64 = 205;
    pub const SENDTO: u64 = 206;
    pub const RECVFROM: u64 = 207;
    pub const SETSOCKOPT: u64 = 208;
    pub const GETSOCKOPT: u64 = 209;
    pub const SHUTDOWN: u64 = 210;
    pub const SENDMSG: u64 = 211;
    pub const RECVMSG: u64 = 212;
    pub const MSYNC: u64 = 227;
    pub const MLOCK: u64 = 228;
    pub const MUNLOCK: u64 = 229;
    pub const MLOCKALL: u64 = 230;
    pub const MUNLOCKALL: u64 = 231;
    pub const MINCORE: u64 = 232;
    pub const ACCEPT4: u64 = 242;
    pub const RECVMMSG: u64 = 243;
    pub const SYNCFS: u64 = 267;
    pub const SENDMMSG: u64 = 269;
    pub const MEMFD_CREATE: u64 = 279;
    pub const MLOCK2: u64 = 284;
    pub const COPY_FILE_RANGE: u64 = 285;
    pub const PREADV2: u64 = 286;
    pub const PWRITEV2: u64 = 287;
    pub const STATX: u64 = 291;
    pub const CLOSE_RANGE: u64 = 436;
    pub const EPOLL_PWAIT2: u64 = 441;
}

pub(super) const EPERM: i64 = 1;
pub(super) const ENOENT: i64 = 2;
pub(super) const ESRCH: i64 = 3;
pub(super) const EAGAIN: i64 = 11;
pub(super) const EBADF: i64 = 9;
pub(super) const EACCES: i64 = 13;
pub(super) const E2BIG: i64 = 7;
pub(super) const ENOMEM: i64 = 12;
pub(super) const EINTR: i64 = 4;
pub(super) const EFAULT: i64 = 14;
const EEXIST: i64 = 17;
pub(super) const EINVAL: i64 = 22;
const ENOTTY: i64 = 25;
const EPIPE: i64 = 32;
const ERANGE: i64 = 34;
pub(super) const ENAMETOOLONG: i64 = 36;
pub(super) const ENOSYS: i64 = 38;
pub(super) const ETIMEDOUT: i64 = 110;

/// A failed call: the positive errno.
pub(super) type SysResult = Result<i64, i64>;

/// The most bytes one read or write moves (a short count is legal).
pub(super) const MAX_IO: u64 = 1 << 24;
/// The largest mapping `mmap` creates.
const MAX_MAP: u64 = 1 << 32;
/// The highest address `mmap` hands out.
const MMAP_LIMIT: u64 = crate::mem::GUEST_SPACE;

/// Fills `buf` with random bytes from the host.
pub fn host_random(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the pointer and length describe the unfilled part of `buf`.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n <= 0 {
            // No getrandom: fall back to something that still varies between runs.
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            for (i, b) in buf[done..].iter_mut().enumerate() {
                *b = (seed >> ((i % 8) * 8)) as u8 ^ i as u8;
            }
            return;
        }
        done += n as usize;
    }
}

fn errno() -> i64 {
    i64::from(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(EINVAL as i32),
    )
}

/// A host call's result: -1 means errno.
pub(super) fn host(r: i64) -> SysResult {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

pub(super) fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

pub(super) fn fd(v: u64) -> i32 {
    v as i32
}

/// Guest memory access that turns faults into EFAULT.
pub(super) trait GuestMem {
    fn get(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, i64>;
    fn put(&mut self, addr: u64, data: &[u8]) -> Result<(), i64>;
    fn cstr(&mut self, addr: u64) -> Result<CString, i64>;
    /// Checks that `[addr, addr + len)` is writable without changing it.
    fn probe_write(&mut self, addr: u64, len: u64) -> Result<(), i64>;
}

impl GuestMem for Memory {
    fn get(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, i64> {
        let mut buf = vec![0; usize::try_from(len).map_err(|_| EFAULT)?];
        self.read(addr, &mut buf).map_err(|_| EFAULT)?;
        Ok(buf)
    }

    fn put(&mut self, addr: u64, data: &[u8]) -> Result<(), i64> {
        self.write(addr, data).map_err(|_| EFAULT)
    }

    fn cstr(&mut self, addr: u64) -> Result<CString, i64> {
        let mut bytes = Vec::new();
        loop {
            let b = self
                .read_u64(addr.wrapping_add(bytes.len() as u64), 1)
                .map_err(|_| EFAULT)? as u8;
            if b == 0 {
                return CString::new(bytes).map_err(|_| EINVAL);
            }
            bytes.push(b);
            if bytes.len() >= 4096 {
                return Err(ENAMETOOLONG);
            }
        }
    }

    fn probe_write(&mut self, addr: u64, len: u64) -> Result<(), i64> {
        self.check_write(addr, len).map_err(|_| EFAULT)
    }
}

/// aarch64 open flags that differ from x86-64's.
const A64_O_DIRECTORY: u64 = 0x4000;
const A64_O_NOFOLLOW: u64 = 0x8000;
const A64_O_DIRECT: u64 = 0x10000;
const A64_O_LARGEFILE: u64 = 0x20000;

/// Translates aarch64 open flags to the host's.
fn open_flags(flags: u64) -> i32 {
    let moved = A64_O_DIRECTORY | A64_O_NOFOLLOW | A64_O_DIRECT | A64_O_LARGEFILE;
    let mut host = (flags & !moved) as i32;
    for (guest, h) in [
        (A64_O_DIRECTORY, libc::O_DIRECTORY),
        (A64_O_NOFOLLOW, libc::O_NOFOLLOW),
        (A64_O_DIRECT, libc::O_DIRECT),
        (A64_O_LARGEFILE, libc::O_LARGEFILE),
    ] {
        if flags & guest != 0 {
            host |= h;
        }
    }
    host
}

/// The aarch64 `struct stat` (asm-generic, 128 bytes) of a host `stat`.
fn guest_stat(st: &libc::stat) -> [u8; 128] {
    let mut b = [0u8; 128];
    let mut put = |off: usize, v: u64, size: usize| {
        b[off..off + size].copy_from_slice(&v.to_le_bytes()[..size])
    };
    put(0, st.st_dev, 8);
    put(8, st.st_ino, 8);
    put(16, u64::from(st.st_mode), 4);
    put(20, st.st_nlink, 4);
    put(24, u64::from(st.st_uid), 4);
    put(28, u64::from(st.st_gid), 4);
    put(32, st.st_rdev, 8);
    put(48, st.st_size as u64, 8);
    put(56, st.st_blksize as u64, 4);
    put(64, st.st_blocks as u64, 8);
    put(72, st.st_atime as u64, 8);
    put(80, st.st_atime_nsec as u64, 8);
    put(88, st.st_mtime as u64, 8);
    put(96, st.st_mtime_nsec as u64, 8);
    put(104, st.st_ctime as u64, 8);
    put(112, st.st_ctime_nsec as u64, 8);
    b
}

/// How strace prints an argument.
#[derive(Clone, Copy)]
enum Arg {
    /// Signed decimal.
    D,
    /// Hex (flags).
    X,
    /// A guest pointer: hex, or NULL.
    P,
    /// A guest string.
    S,
    /// Octal (modes).
    O,
}

/// The name and argument kinds of a system call, for strace.
fn describe(n: u64) -> Option<(&'static str, &'static [Arg])> {
    use Arg::*;
    Some(match n {
        nr::SETXATTR => ("setxattr", &[S, S, P, D, X]),
        nr::LSETXATTR => ("lsetxattr", &[S, S, P, D, X]),
        nr::FSETXATTR => ("fsetxattr", &[D, S, P, D, X]),
        nr::GETXATTR => ("getxattr", &[S, S, P, D]),
        nr::LGETXATTR => ("lgetxattr", &[S, S, P, D]),
        nr::FGETXATTR => ("fgetxattr", &[D, S, P, D]),
        nr::LISTXATTR => ("listxattr", &[S, P, D]),
        nr::LLISTXATTR => ("llistxattr", &[S, P, D]),
        nr::FLISTXATTR => ("flistxattr", &[D, P, D]),
        nr::REMOVEXATTR => ("removexattr", &[S, S]),
        nr::LREMOVEXATTR => ("lremovexattr", &[S, S]),
        nr::FREMOVEXATTR => ("fremovexattr", &[D, S]),
        nr::VMSPLICE => ("vmsplice", &[D, P, D, X]),
        nr::SPLICE => ("splice", &[D, P, D, P, D, X]),
        nr::TEE => ("tee", &[D, D, D, X]),
        nr::CAPGET => ("capget", &[P, P]),
        nr::CAPSET => ("capset", &[P, P]),
        nr::IOPRIO_SET => ("ioprio_set", &[D, D, X]),
        nr::IOPRIO_GET => ("ioprio_get", &[D, D]),
        nr::SETFSUID => ("setfsuid", &[D]),
        nr::SETFSGID => ("setfsgid", &[D]),
        nr::SETGROUPS => ("setgroups", &[D, P]),
        nr::GETCWD => ("getcwd", &[P, D]),
        nr::DUP => ("dup", &[D]),
        nr::DUP3 => ("dup3", &[D, D, X]),
        nr::FCNTL => ("fcntl", &[D, D, X]),
        nr::IOCTL => ("ioctl", &[D, X, P]),
        nr::MKDIRAT => ("mkdirat", &[D, S, O]),
        nr::UNLINKAT => ("unlinkat", &[D, S, X]),
        nr::RENAMEAT => ("renameat", &[D, S, D, S]),
        nr::RENAMEAT2 => ("renameat2", &[D, S, D, S, X]),
        nr::FTRUNCATE => ("ftruncate", &[D, D]),
        nr::FACCESSAT => ("faccessat", &[D, S, O]),
        nr::FACCESSAT2 => ("faccessat2", &[D, S, O, X]),
        nr::CHDIR => ("chdir", &[S]),
        nr::OPENAT => ("openat", &[D, S, X, O]),
        nr::CLOSE => ("close", &[D]),
        nr::PIPE2 => ("pipe2", &[P, X]),
        nr::PPOLL => ("ppoll", &[P, D, P, P, D]),
        nr::GETDENTS64 => ("getdents64", &[D, P, D]),
        nr::LSEEK => ("lseek", &[D, D, D]),
        nr::READ => ("read", &[D, P, D]),
        nr::WRITE => ("write", &[D, P, D]),
        nr::READV => ("readv", &[D, P, D]),
        nr::WRITEV => ("writev", &[D, P, D]),
        nr::PREAD64 => ("pread64", &[D, P, D, D]),
        nr::PWRITE64 => ("pwrite64", &[D, P, D, D]),
        nr::READLINKAT => ("readlinkat", &[D, S, P, D]),
        nr::NEWFSTATAT => ("newfstatat", &[D, S, P, X]),
        nr::FSTAT => ("fstat", &[D, P]),
        nr::UTIMENSAT => ("utimensat", &[D, S, P, X]),
        nr::EXIT => ("exit", &[D]),
        nr::EXIT_GROUP => ("exit_group", &[D]),
        nr::SET_TID_ADDRESS => ("set_tid_address", &[P]),
        nr::FUTEX => ("futex", &[P, D, D, P, P, D]),
        nr::CLONE => ("clone", &[P, P, P, P, P]),
        nr::CLONE3 => ("clone3", &[P, D]),
        nr::EXECVE => ("execve", &[S, P, P]),
        nr::WAIT4 => ("wait4", &[D, P, D, P]),
        nr::WAITID => ("waitid", &[D, D, P, D, P]),
        nr::MEMBARRIER => ("membarrier", &[D, D, D]),
        nr::EPOLL_CREATE1 => ("epoll_create1", &[X]),
        nr::EPOLL_CTL => ("epoll_ctl", &[D, D, D, P]),
        nr::EPOLL_PWAIT => ("epoll_pwait", &[D, P, D, D, P, D]),
        nr::EPOLL_PWAIT2 => ("epoll_pwait2", &[D, P, D, P, P, D]),
        nr::PSELECT6 => ("pselect6", &[D, P, P, P, P, P]),
        nr::SET_ROBUST_LIST => ("set_robust_list", &[P, D]),
        nr::CLOCK_GETTIME => ("clock_gettime", &[D, P]),
        nr::NANOSLEEP => ("nanosleep", &[P, P]),
        nr::GETITIMER => ("getitimer", &[D, P]),
        nr::SETITIMER => ("setitimer", &[D, P, P]),
        nr::CLOCK_NANOSLEEP => ("clock_nanosleep", &[D, D, P, P]),
        nr::TIMER_CREATE => ("timer_create", &[D, P, P]),
        nr::TIMER_GETTIME => ("timer_gettime", &[D, P]),
        nr::TIMER_GETOVERRUN => ("timer_getoverrun", &[D]),
        nr::TIMER_SETTIME => ("timer_settime", &[D, D, P, P]),
        nr::TIMER_DELETE => ("timer_delete", &[D]),
        nr::SCHED_GETAFFINITY => ("sched_getaffinity", &[D, D, P]),
        nr::SCHED_YIELD => ("sched_yield", &[]),
        nr::KILL => ("kill", &[D, D]),
        nr::TKILL => ("tkill", &[D, D]),
        nr::TGKILL => ("tgkill", &[D, D, D]),
        nr::SIGALTSTACK => ("sigaltstack", &[P, P]),
        nr::RT_SIGACTION => ("rt_sigaction", &[D, P, P, D]),
        nr::RT_SIGPENDING => ("rt_sigpending", &[P, D]),
        nr::RT_SIGSUSPEND => ("rt_sigsuspend", &[P, D]),
        nr::RT_SIGTIMEDWAIT => ("rt_sigtimedwait", &[P, P, P, D]),
        nr::RT_SIGRETURN => ("rt_sigreturn", &[]),
        nr::RT_SIGQUEUEINFO => ("rt_sigqueueinfo", &[D, D, P]),
        nr::RT_TGSIGQUEUEINFO => ("rt_tgsigqueueinfo", &[D, D, D, P]),
        nr::RT_SIGPROCMASK => ("rt_sigprocmask", &[D, P, P, D]),
        nr::UNAME => ("uname", &[P]),
        nr::SYSINFO => ("sysinfo", &[P]),
        nr::PRCTL => ("prctl", &[D, P, X, X, X]),
        nr::GETTIMEOFDAY => ("gettimeofday", &[P, P]),
        nr::GETPID => ("getpid", &[]),
        nr::GETPPID => ("getppid", &[]),
        nr::GETUID => ("getuid", &[]),
        nr::GETEUID => ("geteuid", &[]),
        nr::GETGID => ("getgid", &[]),
        nr::GETEGID => ("getegid", &[]),
        nr::GETTID => ("gettid", &[]),
        nr::BRK => ("brk", &[P]),
        nr::MUNMAP => ("munmap", &[P, D]),
        nr::MREMAP => ("mremap", &[P, D, D, X, P]),
        nr::MMAP => ("mmap", &[P, D, D, X, D, D]),
        nr::MPROTECT => ("mprotect", &[P, D, D]),
        nr::MADVISE => ("madvise", &[P, D, D]),
        nr::PRLIMIT64 => ("prlimit64", &[D, D, P, P]),
        nr::GETRANDOM => ("getrandom", &[P, D, D]),
        nr::RSEQ => ("rseq", &[P, D, D, X]),
        nr::EVENTFD2 => ("eventfd2", &[D, X]),
        nr::FLOCK => ("flock", &[D, D]),
        nr::MKNODAT => ("mknodat", &[D, S, O, X]),
        nr::SYMLINKAT => ("symlinkat", &[S, D, S]),
        nr::LINKAT => ("linkat", &[D, S, D, S, X]),
        nr::STATFS => ("statfs", &[S, P]),
        nr::FSTATFS => ("fstatfs", &[D, P]),
        nr::TRUNCATE => ("truncate", &[S, D]),
        nr::FALLOCATE => ("fallocate", &[D, X, D, D]),
        nr::FCHDIR => ("fchdir", &[D]),
        nr::FCHMOD => ("fchmod", &[D, O]),
        nr::FCHMODAT => ("fchmodat", &[D, S, O]),
        nr::FCHOWNAT => ("fchownat", &[D, S, D, D, X]),
        nr::FCHOWN => ("fchown", &[D, D, D]),
        nr::PREADV => ("preadv", &[D, P, D, D]),
        nr::PWRITEV => ("pwritev", &[D, P, D, D]),
        nr::SENDFILE => ("sendfile", &[D, D, P, D]),
        nr::SYNC => ("sync", &[]),
        nr::FSYNC => ("fsync", &[D]),
        nr::FDATASYNC => ("fdatasync", &[D]),
        nr::SYNCFS => ("syncfs", &[D]),
        nr::CLOCK_GETRES => ("clock_getres", &[D, P]),
        nr::SCHED_GETSCHEDULER => ("sched_getscheduler", &[D]),
        nr::SCHED_GETPARAM => ("sched_getparam", &[D, P]),
        nr::SCHED_SETAFFINITY => ("sched_setaffinity", &[D, D, P]),
        nr::SCHED_GET_PRIORITY_MAX => ("sched_get_priority_max", &[D]),
        nr::INOTIFY_INIT1 => ("inotify_init1", &[X]),
        nr::INOTIFY_ADD_WATCH => ("inotify_add_watch", &[D, S, X]),
        nr::INOTIFY_RM_WATCH => ("inotify_rm_watch", &[D, D]),
        nr::SYNC_FILE_RANGE => ("sync_file_range", &[D, D, D, X]),
        nr::TIMERFD_CREATE => ("timerfd_create", &[D, X]),
        nr::TIMERFD_SETTIME => ("timerfd_settime", &[D, X, P, P]),
        nr::TIMERFD_GETTIME => ("timerfd_gettime", &[D, P]),
        nr::PERSONALITY => ("personality", &[X]),
        nr::SCHED_SETPARAM => ("sched_setparam", &[D, P]),
        nr::SCHED_SETSCHEDULER => ("sched_setscheduler", &[D, D, P]),
        nr::SCHED_RR_GET_INTERVAL => ("sched_rr_get_interval", &[D, P]),
        nr::GETCPU => ("getcpu", &[P, P, P]),
        nr::READAHEAD => ("readahead", &[D, D, D]),
        nr::FADVISE64 => ("fadvise64", &[D, D, D, D]),
        nr::SCHED_GET_PRIORITY_MIN => ("sched_get_priority_min", &[D]),
        nr::SETPRIORITY => ("setpriority", &[D, D, D]),
        nr::GETPRIORITY => ("getpriority", &[D, D]),
        nr::SETREGID => ("setregid", &[D, D]),
        nr::SETGID => ("setgid", &[D]),
        nr::SETREUID => ("setreuid", &[D, D]),
        nr::SETUID => ("setuid", &[D]),
        nr::SETRESUID => ("setresuid", &[D, D, D]),
        nr::GETRESUID => ("getresuid", &[P, P, P]),
        nr::SETRESGID => ("setresgid", &[D, D, D]),
        nr::GETRESGID => ("getresgid", &[P, P, P]),
        nr::TIMES => ("times", &[P]),
        nr::SETPGID => ("setpgid", &[D, D]),
        nr::GETPGID => ("getpgid", &[D]),
        nr::GETSID => ("getsid", &[D]),
        nr::SETSID => ("setsid", &[]),
        nr::GETGROUPS => ("getgroups", &[D, P]),
        nr::GETRUSAGE => ("getrusage", &[D, P]),
        nr::UMASK => ("umask", &[O]),
        nr::SOCKET => ("socket", &[D, X, D]),
        nr::SOCKETPAIR => ("socketpair", &[D, X, D, P]),
        nr::BIND => ("bind", &[D, P, D]),
        nr::LISTEN => ("listen", &[D, D]),
        nr::ACCEPT => ("accept", &[D, P, P]),
        nr::ACCEPT4 => ("accept4", &[D, P, P, X]),
        nr::CONNECT => ("connect", &[D, P, D]),
        nr::GETSOCKNAME => ("getsockname", &[D, P, P]),
        nr::GETPEERNAME => ("getpeername", &[D, P, P]),
        nr::SENDTO => ("sendto", &[D, P, D, X, P, D]),
        nr::RECVFROM => ("recvfrom", &[D, P, D, X, P, P]),
        nr::SETSOCKOPT => ("setsockopt", &[D, D, D, P, D]),
        nr::GETSOCKOPT => ("getsockopt", &[D, D, D, P, P]),
        nr::SHUTDOWN => ("shutdown", &[D, D]),
        nr::SENDMSG => ("sendmsg", &[D, P, X]),
        nr::RECVMSG => ("recvmsg", &[D, P, X]),
        nr::SENDMMSG => ("sendmmsg", &[D, P, D, X]),
        nr::RECVMMSG => ("recvmmsg", &[D, P, D, X, P]),
        nr::MSYNC => ("msync", &[P, D, X]),
        nr::MLOCK => ("mlock", &[P, D]),
        nr::MLOCK2 => ("mlock2", &[P, D, X]),
        nr::PREADV2 => ("preadv2", &[D, P, D, D, D, X]),
        nr::PWRITEV2 => ("pwritev2", &[D, P, D, D, D, X]),
        nr::MUNLOCK => ("munlock", &[P, D]),
        nr::MLOCKALL => ("mlockall", &[X]),
        nr::MUNLOCKALL => ("munlockall", &[]),
        nr::MINCORE => ("mincore", &[P, D, P]),
        nr::MEMFD_CREATE => ("memfd_create", &[S, X]),
        nr::COPY_FILE_RANGE => ("copy_file_range", &[D, P, D, P, D, X]),
        nr::STATX => ("statx", &[D, S, X, X, P]),
        nr::CLOSE_RANGE => ("close_range", &[D, D, X]),
        _ => return None,
    })
}

/// Whether strace prints the result in hex (addresses).
fn returns_address(n: u64) -> bool {
    matches!(n, nr::BRK | nr::MMAP | nr::MREMAP)
}

impl Process {
    /// Performs the system call the registers describe (number in X8, arguments in X0-X5) and
    /// puts the result in X0. Returns the exit when the call ends the process. The caller
    /// advances the PC.
    pub fn syscall(&mut self) -> Option<Exit> {
        let n = self.machine.cpu.x[8];
        let a: [u64; 6] = self.machine.cpu.x[..6]
            .try_into()
            .expect("six argument registers");
        let prefix = self.strace.then(|| self.strace_call(n, &a));
        if let Some(p) = &prefix {
            if matches!(n, nr::EXIT | nr::EXIT_GROUP) {
                eprintln!("{p}");
            }
        }
        let result = match n {
            nr::EXIT => return Some(self.exit_thread(a[0] as u8)),
            nr::EXIT_GROUP => {
                self.threads.end(Exit::Exited(a[0] as u8));
                return self.threads.ended();
            }
            nr::RT_SIGRETURN => {
                // Every register, X0 included, comes from the frame.
                let exit = self.sigreturn();
                if let Some(p) = prefix {
                    eprintln!("{p} = {}", self.machine.cpu.x[0] as i64);
                }
                return exit;
            }
            _ => self.dispatch(n, &a),
        };
        let mut result = result;
        while result == Err(EINTR)
            && matches!(
                n,
                nr::READ
                    | nr::WRITE
                    | nr::READV
                    | nr::WRITEV
                    | nr::ACCEPT
                    | nr::ACCEPT4
                    | nr::SENDTO
                    | nr::RECVFROM
                    | nr::SENDMSG
                    | nr::RECVMSG
                    | nr::SENDMMSG
                    | nr::RECVMMSG
            )
        {
            // A forwarded host signal ended the host call: Linux's -ERESTARTSYS.
            if !self.signal_ready() {
                // Blocked or ignored by the guest: Linux would not have been interrupted.
                result = self.dispatch(n, &a);
                continue;
            }
            let ready = self.signals.pending_set() & !self.signals.mask;
            let act = self.signals.action(ready.trailing_zeros() as i32 + 1);
            if act.handler > SIG_IGN && act.flags & SA_RESTART != 0 {
                // The handler's frame returns to the SVC, which makes the call again with its
                // arguments (X0 is left as it was).
                self.machine.cpu.pc = self.machine.cpu.pc.wrapping_sub(4);
                if let Some(p) = prefix {
                    eprintln!("{p} = ? ERESTARTSYS (restarted after the handler)");
                }
                return None;
            }
            break;
        }
        const MSG_NOSIGNAL: u64 = 0x4000;
        let signals = match n {
            nr::WRITE | nr::WRITEV | nr::PWRITE64 | nr::PWRITEV => true,
            nr::SENDTO => a[3] & MSG_NOSIGNAL == 0,
            nr::SENDMSG => a[2] & MSG_NOSIGNAL == 0,
            nr::SENDMMSG => a[3] & MSG_NOSIGNAL == 0,
            _ => false,
        };
        if result == Err(EPIPE) && signals {
            // The host ignores SIGPIPE (Rust's runtime does); Linux sends it to the writer.
            self.raise_sigpipe(n);
        }
        let ret = match result {
            Ok(v) => v,
            Err(e) => -e,
        };
        self.machine.cpu.x[0] = ret as u64;
        if let Some(p) = prefix {
            if ret < 0 && ret > -4096 {
                let msg = std::io::Error::from_raw_os_error(-ret as i32);
                let msg = msg.to_string();
                let msg = msg.split(" (os error").next().unwrap_or_default();
                eprintln!("{p} = -1 errno={} ({msg})", -ret);
            } else if returns_address(n) {
                eprintln!("{p} = {:#018x}", ret as u64);
            } else {
                eprintln!("{p} = {ret}");
            }
        }
        None
    }

    /// `PID name(args)` for strace.
    fn strace_call(&mut self, n: u64, a: &[u64; 6]) -> String {
        let Some((name, kinds)) = describe(n) else {
            return format!("{} Unknown syscall {n}", self.pid);
        };
        let args: Vec<String> = kinds
            .iter()
            .zip(a)
            .map(|(k, &v)| match k {
                Arg::D => (v as i64).to_string(),
                Arg::X => format!("{v:#x}"),
                Arg::P if v == 0 => "NULL".to_string(),
                Arg::P => format!("{v:#x}"),
                Arg::O => format!("{v:#o}"),
                Arg::S => match self.machine.mem.cstr(v) {
                    Ok(s) => format!("{:?}", s.to_string_lossy()),
                    Err(_) => format!("{v:#x}"),
                },
            })
            .collect();
        format!("{} {name}({})", self.pid, args.join(","))
    }

    fn dispatch(&mut self, n: u64, a: &[u64; 6]) -> SysResult {
        let pid = i64::from(self.pid);
        // SAFETY (for every host call below): buffers passed to the host are host vectors of at
        // least the length given; guest memory is only touched through `Memory`.
        match n {
            nr::READ => {
                let len = a[2].min(MAX_IO);
                self.mem().probe_write(a[1], len)?;
                let mut buf = vec![0u8; len as usize];
                let r = host(
                    unsafe { libc::read(fd(a[0]), buf.as_mut_ptr().cast(), buf.len()) } as i64,
                )?;
                self.mem().put(a[1], &buf[..r as usize])?;
                Ok(r)
            }
            nr::PREAD64 => {
                let len = a[2].min(MAX_IO);
                self.mem().probe_write(a[1], len)?;
                let mut buf = vec![0u8; len as usize];
                let r = host(unsafe {
                    libc::pread(fd(a[0]), buf.as_mut_ptr().cast(), buf.len(), a[3] as i64)
                } as i64)?;
                self.mem().put(a[1], &buf[..r as usize])?;
                Ok(r)
            }
            nr::WRITE => {
                let buf = self.mem().get(a[1], a[2].min(MAX_IO))?;
                host(unsafe { libc::write(fd(a[0]), buf.as_ptr().cast(), buf.len()) } as i64)
            }
            nr::PWRITE64 => {
                let buf = self.mem().get(a[1], a[2].min(MAX_IO))?;
                host(
                    unsafe { libc::pwrite(fd(a[0]), buf.as_ptr().cast(), buf.len(), a[3] as i64) }
                        as i64,
                )
            }
            nr::READV | nr::WRITEV => self.vectored(a[0], a[1], a[2], n == nr::WRITEV, None),
            nr::PREADV | nr::PWRITEV => {
                self.vectored(a[0], a[1], a[2], n == nr::PWRITEV, Some(a[3] as i64))
            }
            nr::OPENAT => {
                let path = self.lookup_path(a[1])?;
                if let Some(contents) = self.proc_file(path.as_bytes()) {
                    // O_CLOEXEC is the only flag that matters for a read-only memfd.
                    let fd = Self::memfd_with(&contents)?;
                    if a[2] & 0o2000000 == 0 {
                        // SAFETY: clearing FD_CLOEXEC of the descriptor just made.
                        unsafe { libc::fcntl(fd as i32, libc::F_SETFD, 0) };
                    }
                    return Ok(fd);
                }
                host(i64::from(unsafe {
                    libc::openat(
                        fd(a[0]),
                        path.as_ptr(),
                        open_flags(a[2]),
                        a[3] as libc::c_uint,
                    )
                }))
            }
            nr::CLOSE => host(i64::from(unsafe { libc::close(fd(a[0])) })),
            nr::PIPE2 => {
                // O_CLOEXEC, O_NONBLOCK, O_DIRECT and O_NOTIFICATION_PIPE (O_EXCL).
                const VALID: u64 = 0o2000000 | 0o4000 | A64_O_DIRECT | 0o200;
                if a[1] & !VALID != 0 {
                    return Err(EINVAL);
                }
                self.mem().probe_write(a[0], 8)?;
                let mut fds = [0i32; 2];
                host(i64::from(unsafe {
                    libc::pipe2(fds.as_mut_ptr(), open_flags(a[1]))
                }))?;
                let bytes: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
                self.mem().put(a[0], &bytes)?;
                Ok(0)
            }
            nr::DUP => host(i64::from(unsafe { libc::dup(fd(a[0])) })),
            nr::DUP3 => host(i64::from(unsafe {
                libc::dup3(fd(a[0]), fd(a[1]), open_flags(a[2]))
            })),
            nr::FCNTL => {
                let cmd = a[1] as i32;
                match cmd {
                    libc::F_DUPFD | libc::F_DUPFD_CLOEXEC | libc::F_GETFD | libc::F_SETFD => {
                        host(i64::from(unsafe {
                            libc::fcntl(fd(a[0]), cmd, a[2] as libc::c_int)
                        }))
                    }
                    libc::F_GETFL => {
                        let r = host(i64::from(unsafe { libc::fcntl(fd(a[0]), cmd) }))?;
                        Ok(guest_open_flags(r as i32) as i64)
                    }
                    libc::F_SETFL => host(i64::from(unsafe {
                        libc::fcntl(fd(a[0]), cmd, open_flags(a[2]))
                    })),
                    _ => Err(EINVAL),
                }
            }
            nr::LSEEK => host(unsafe { libc::lseek(fd(a[0]), a[1] as i64, a[2] as i32) }),
            nr::FSTAT => {
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                host(i64::from(unsafe { libc::fstat(fd(a[0]), &mut st) }))?;
                self.mem().put(a[1], &guest_stat(&st))?;
                Ok(0)
            }
            nr::NEWFSTATAT => {
                let path = self.lookup_path(a[1])?;
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                host(i64::from(unsafe {
                    libc::fstatat(fd(a[0]), path.as_ptr(), &mut st, a[3] as i32)
                }))?;
                self.mem().put(a[2], &guest_stat(&st))?;
                Ok(0)
            }
            nr::READLINKAT => {
                let path = self.machine.mem.cstr(a[1])?;
                let target = if path.as_bytes() == b"/proc/self/exe" {
                    self.exe_abs.as_os_str().as_bytes().to_vec()
                } else {
                    let path = self.lookup_path(a[1])?;
                    let mut buf = vec![0u8; 4096];
                    let r = host(unsafe {
                        libc::readlinkat(
                            fd(a[0]),
                            path.as_ptr(),
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                        )
                    } as i64)?;
                    buf.truncate(r as usize);
                    buf
                };
                let len = target.len().min(a[3] as usize);
                self.mem().put(a[2], &target[..len])?;
                Ok(len as i64)
            }
            nr::GETCWD => {
                let cwd = std::env::current_dir()
                    .map_err(|e| i64::from(e.raw_os_error().unwrap_or(ENOENT as i32)))?;
                let mut bytes = cwd.as_os_str().as_bytes().to_vec();
                bytes.push(0);
                if bytes.len() as u64 > a[1] {
                    return Err(ERANGE);
                }
                self.mem().put(a[0], &bytes)?;
                Ok(bytes.len() as i64)
            }
            nr::CHDIR => {
                let path = self.guest_path(a[0])?;
                host(i64::from(unsafe { libc::chdir(path.as_ptr()) }))
            }
            nr::FACCESSAT | nr::FACCESSAT2 => {
                let path = self.lookup_path(a[1])?;
                let flags = if n == nr::FACCESSAT2 { a[3] as i32 } else { 0 };
                host(unsafe {
                    libc::syscall(
                        libc::SYS_faccessat2,
                        fd(a[0]),
                        path.as_ptr(),
                        a[2] as i32,
                        flags,
                    )
                })
                .or_else(|e| {
                    if e == ENOSYS && flags == 0 {
                        host(i64::from(unsafe {
                            libc::faccessat(fd(a[0]), path.as_ptr(), a[2] as i32, 0)
                        }))
                    } else {
                        Err(e)
                    }
                })
            }
            nr::UNLINKAT => {
                let path = self.guest_path(a[1])?;
                host(i64::from(unsafe {
                    libc::unlinkat(fd(a[0]), path.as_ptr(), a[2] as i32)
                }))
            }
            nr::RENAMEAT | nr::RENAMEAT2 => {
                let from = self.guest_path(a[1])?;
                let to = self.guest_path(a[3])?;
                let flags = if n == nr::RENAMEAT2 { a[4] as u32 } else { 0 };
                host(unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        fd(a[0]),
                        from.as_ptr(),
                        fd(a[2]),
                        to.as_ptr(),
                        flags,
                    )
                })
                .or_else(|e| {
                    if e == ENOSYS && flags == 0 {
                        host(i64::from(unsafe {
                            libc::renameat(fd(a[0]), from.as_ptr(), fd(a[2]), to.as_ptr())
                        }))
                    } else {
                        Err(e)
                    }
                })
            }
            nr::FTRUNCATE => host(i64::from(unsafe { libc::ftruncate(fd(a[0]), a[1] as i64) })),
            nr::UTIMENSAT => {
                // A NULL path is futimens() on the descriptor; NULL times mean "now". Both
                // are passed on, so the raw call rather than libc's wrapper.
                let path = match a[1] {
                    0 => None,
                    p => Some(self.guest_path(p)?),
                };
                // Two `struct timespec { tv_sec, tv_nsec }`, the same layout on both sides.
                let times = match a[2] {
                    0 => None,
                    p => {
                        let (sec0, nsec0) = self.get_pair(p)?;
                        let (sec1, nsec1) = self.get_pair(p + 16)?;
                        Some([
                            libc::timespec {
                                tv_sec: sec0,
                                tv_nsec: nsec0,
                            },
                            libc::timespec {
                                tv_sec: sec1,
                                tv_nsec: nsec1,
                            },
                        ])
                    }
                };
                host(unsafe {
                    libc::syscall(
                        libc::SYS_utimensat,
                        fd(a[0]),
                        path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                        times.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
                        a[3] as i32,
                    )
                })
            }
            nr::MKDIRAT => {
                let path = self.guest_path(a[1])?;
                host(i64::from(unsafe {
                    libc::mkdirat(fd(a[0]), path.as_ptr(), a[2] as libc::mode_t)
                }))
            }
            nr::GETDENTS64 => {
                // linux_dirent64 is the same on every architecture.
                let len = a[2].min(MAX_IO);
                self.mem().probe_write(a[1], len)?;
                let mut buf = vec![0u8; len as usize];
                let r = host(unsafe {
                    libc::syscall(libc::SYS_getdents64, fd(a[0]), buf.as_mut_ptr(), buf.len())
                })?;
                self.mem().put(a[1], &buf[..r as usize])?;
                Ok(r)
            }
            nr::IOCTL => self.ioctl(a),
            nr::BRK => Ok(self.do_brk(a[0]) as i64),
            nr::MMAP => self.mmap(a),
            nr::MUNMAP => {
                if !a[0].is_multiple_of(PAGE_SIZE) || a[1] == 0 {
                    return Err(EINVAL);
                }
                let len = page_up(a[1]).ok_or(EINVAL)?;
                self.machine.mem.unmap(a[0], len);
                Ok(0)
            }
            nr::MREMAP => self.mremap(a[0], a[1], a[2], a[3]),
            nr::MPROTECT => {
                if !a[0].is_multiple_of(PAGE_SIZE) {
                    return Err(EINVAL);
                }
                let len = page_up(a[1]).ok_or(ENOMEM)?;
                if len == 0 {
                    return Ok(0);
                }
                let perms = prot(a[2]);
                if perms.write && self.machine.mem.shared_read_only(a[0], len) {
                    // A read-only file's shared pages never become writable.
                    return Err(EACCES);
                }
                self.machine
                    .mem
                    .protect(a[0], len, perms)
                    .map_err(|_| ENOMEM)?;
                Ok(0)
            }
            nr::MADVISE => self.sys_madvise(a[0], a[1], a[2]),
            nr::PRCTL => match a[0] {
                // PR_SET_NAME: up to 15 bytes, the rest of `comm` cleared.
                15 => {
                    let name = self.mem().get(a[1], 16)?;
                    let n = name.iter().position(|&b| b == 0).unwrap_or(16).min(15);
                    self.comm = [0; 16];
                    self.comm[..n].copy_from_slice(&name[..n]);
                    Ok(0)
                }
                // PR_GET_NAME.
                16 => {
                    let comm = self.comm;
                    self.mem().put(a[1], &comm)?;
                    Ok(0)
                }
                // Other options act on the host process; a guest must not change it.
                _ => Err(EINVAL),
            },
            nr::SYSINFO => {
                // struct sysinfo has the same 112-byte layout on every 64-bit Linux.
                let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
                host(i64::from(unsafe { libc::sysinfo(&mut info) }))?;
                let bytes = unsafe {
                    std::slice::from_raw_parts(
                        (&info as *const libc::sysinfo).cast::<u8>(),
                        std::mem::size_of::<libc::sysinfo>().min(112),
                    )
                };
                self.mem().put(a[0], bytes)?;
                Ok(0)
            }
            nr::UNAME => {
                let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
                host(i64::from(unsafe { libc::uname(&mut uts) }))?;
                let mut buf = [0u8; 6 * 65];
                let fields = [
                    &uts.sysname,
                    &uts.nodename,
                    &uts.release,
                    &uts.version,
                    &uts.machine,
                    &uts.domainname,
                ];
                for (i, f) in fields.iter().enumerate() {
                    let bytes: Vec<u8> = if i == 4 {
                        b"aarch64".to_vec()
                    } else {
                        f.iter()
                            .take(64)
                            .take_while(|&&c| c != 0)
                            .map(|&c| c as u8)
                            .collect()
                    };
                    buf[i * 65..i * 65 + bytes.len()].copy_from_slice(&bytes);
                }
                self.mem().put(a[0], &buf)?;
                Ok(0)
            }
            nr::GETRANDOM => {
                let len = a[1].min(MAX_IO);
                self.mem().probe_write(a[0], len)?;
                let mut buf = vec![0u8; len as usize];
                host_random(&mut buf);
                self.mem().put(a[0], &buf)?;
                Ok(len as i64)
            }
            nr::CLOCK_GETTIME => {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                host(i64::from(unsafe {
                    libc::clock_gettime(a[0] as libc::clockid_t, &mut ts)
                }))?;
                self.put_pair(a[1], ts.tv_sec, ts.tv_nsec)
            }
            nr::GETTIMEOFDAY => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|_| EINVAL)?;
                if a[0] != 0 {
                    self.put_pair(a[0], now.as_secs() as i64, i64::from(now.subsec_micros()))?;
                }
                if a[1] != 0 {
                    self.mem().put(a[1], &[0; 8])?;
                }
                Ok(0)
            }
            nr::SET_TID_ADDRESS => {
                self.clear_child_tid = a[0];
                Ok(i64::from(self.tid))
            }
            nr::SET_ROBUST_LIST => {
                // The size of `struct robust_list_head`.
                if a[1] != 24 {
                    return Err(EINVAL);
                }
                Ok(0)
            }
            nr::RSEQ => Err(ENOSYS),
            nr::PRLIMIT64 => self.sys_prlimit64(a),
            nr::GETPID => Ok(pid),
            nr::GETTID => Ok(i64::from(self.tid)),
            nr::GETPPID => Ok(i64::from(unsafe { libc::getppid() })),
            nr::GETUID => Ok(i64::from(unsafe { libc::getuid() })),
            nr::GETEUID => Ok(i64::from(unsafe { libc::geteuid() })),
            nr::GETGID => Ok(i64::from(unsafe { libc::getgid() })),
            nr::GETEGID => Ok(i64::from(unsafe { libc::getegid() })),
            nr::SCHED_YIELD => {
                // SAFETY: no arguments.
                unsafe { libc::sched_yield() };
                Ok(0)
            }
            nr::MEMBARRIER => {
                const MEMBARRIER_CMD_QUERY: u64 = 0;
                // GLOBAL, PRIVATE_EXPEDITED and its REGISTER: every guest thread's accesses are
                // ordered by the host barrier below.
                const SUPPORTED: i64 = 1 | 8 | 16;
                match a[0] {
                    MEMBARRIER_CMD_QUERY => Ok(SUPPORTED),
                    c if c != 0 && SUPPORTED as u64 & c == c && c.is_power_of_two() => {
                        crate::mem::Memory::fence();
                        Ok(0)
                    }
                    _ => Err(EINVAL),
                }
            }
            nr::CLONE => self.sys_clone(a),
            nr::EXECVE => self.sys_execve(a),
            nr::WAIT4 => self.sys_wait4(a),
            nr::WAITID => self.sys_waitid(a),
            // glibc falls back to `clone` when `clone3` is missing.
            nr::CLONE3 => Err(ENOSYS),
            nr::SCHED_GETAFFINITY => {
                // Guest threads are host threads: the host's CPUs are theirs.
                if a[1] < 8 || !a[1].is_multiple_of(8) {
                    return Err(EINVAL);
                }
                let mut set = vec![0u8; (a[1] as usize).min(1 << 12)];
                // SAFETY: `set` is a buffer of that many bytes; pid 0 is this host thread.
                let n = host(unsafe {
                    libc::syscall(libc::SYS_sched_getaffinity, 0, set.len(), set.as_mut_ptr())
                })?;
                self.mem().put(a[2], &set[..n as usize])?;
                Ok(n)
            }
            nr::RT_SIGACTION => self.sys_sigaction(a),
            nr::RT_SIGPROCMASK => {
                if a[3] != 8 {
                    return Err(EINVAL);
                }
                let old = self.signals.mask;
                if a[1] != 0 {
                    let set = self.mem().get(a[1], 8)?;
                    let set = u64::from_le_bytes(set.try_into().expect("8 bytes"));
                    let new = match a[0] {
                        0 => old | set,
                        1 => old & !set,
                        2 => set,
                        _ => return Err(EINVAL),
                    };
                    self.signals.mask = new & !super::signal::UNBLOCKABLE;
                }
                if a[2] != 0 {
                    self.mem().put(a[2], &old.to_le_bytes())?;
                }
                Ok(0)
            }
            nr::RT_SIGPENDING => {
                if a[1] != 8 {
                    return Err(EINVAL);
                }
                let set = self.signals.pending_set() & self.signals.mask;
                self.mem().put(a[0], &set.to_le_bytes())?;
                Ok(0)
            }
            nr::SIGALTSTACK => self.sys_sigaltstack(a[0], a[1]),
            nr::RT_SIGSUSPEND => self.sys_sigsuspend(a[0], a[1]),
            nr::NANOSLEEP => self.sys_nanosleep(a[0], a[1]),
            nr::PPOLL => self.sys_ppoll(a),
            nr::PSELECT6 => self.sys_pselect6(a),
            nr::EPOLL_CREATE1 => {
                // EPOLL_CLOEXEC is O_CLOEXEC on both sides.
                // SAFETY: plain flags.
                host(i64::from(unsafe { libc::epoll_create1(a[0] as i32) }))
            }
            nr::EPOLL_CTL => self.sys_epoll_ctl(a),
            nr::EPOLL_PWAIT => self.sys_epoll_pwait(a, false),
            nr::EPOLL_PWAIT2 => self.sys_epoll_pwait(a, true),
            nr::CLOCK_NANOSLEEP => self.sys_clock_nanosleep(a),
            nr::GETITIMER => self.sys_getitimer(a[0], a[1]),
            nr::SETITIMER => self.sys_setitimer(a[0], a[1], a[2]),
            nr::TIMER_CREATE => self.sys_timer_create(a),
            nr::TIMER_SETTIME => self.sys_timer_settime(a),
            nr::TIMER_GETTIME => self.sys_timer_gettime(a[0], a[1]),
            nr::TIMER_GETOVERRUN => self.sys_timer_id(libc::SYS_timer_getoverrun, a[0]),
            nr::TIMER_DELETE => self.sys_timer_id(libc::SYS_timer_delete, a[0]),
            nr::RT_SIGTIMEDWAIT => self.sys_sigtimedwait(a),
            nr::RT_SIGQUEUEINFO => self.sys_sigqueueinfo(a[0] as i32 as i64, false, a[1], a[2]),
            nr::RT_TGSIGQUEUEINFO => {
                if a[0] as i32 as i64 != pid {
                    return Err(ESRCH);
                }
                self.sys_sigqueueinfo(a[1] as i32 as i64, true, a[2], a[3])
            }
            nr::KILL => self.sys_kill(a[0] as i32 as i64, a[1], SI_USER, "kill"),
            nr::TKILL => self.sys_kill(a[0] as i32 as i64, a[1], SI_TKILL, "tkill"),
            nr::TGKILL => {
                if a[0] as i32 as i64 != pid {
                    // Another process's thread: the host's.
                    // SAFETY: tgkill only takes integers.
                    let r = unsafe {
                        libc::syscall(libc::SYS_tgkill, a[0] as i32, a[1] as i32, a[2] as i32)
                    };
                    return host(r);
                }
                self.sys_kill(a[1] as i32 as i64, a[2], SI_TKILL, "tgkill")
            }
            nr::FUTEX => self.sys_futex(a),
            nr::UMASK => Ok(i64::from(unsafe {
                libc::umask(a[0] as libc::mode_t & 0o777)
            })),
            nr::SYNC => {
                unsafe { libc::sync() };
                Ok(0)
            }
            nr::FSYNC => host(i64::from(unsafe { libc::fsync(fd(a[0])) })),
            nr::FDATASYNC => host(i64::from(unsafe { libc::fdatasync(fd(a[0])) })),
            nr::SYNCFS => host(i64::from(unsafe { libc::syncfs(fd(a[0])) })),
            nr::FLOCK => host(i64::from(unsafe { libc::flock(fd(a[0]), a[1] as i32) })),
            nr::FCHMOD => host(i64::from(unsafe {
                libc::fchmod(fd(a[0]), a[1] as libc::mode_t)
            })),
            nr::FCHMODAT => {
                // The system call has no flags argument (fchmodat2 has).
                let path = self.guest_path(a[1])?;
                host(unsafe {
                    libc::syscall(
                        libc::SYS_fchmodat,
                        fd(a[0]),
                        path.as_ptr(),
                        a[2] as libc::mode_t,
                    )
                })
            }
            nr::FCHOWN => host(i64::from(unsafe {
                libc::fchown(fd(a[0]), a[1] as u32, a[2] as u32)
            })),
            nr::FCHOWNAT => {
                let path = self.guest_path(a[1])?;
                host(i64::from(unsafe {
                    libc::fchownat(
                        fd(a[0]),
                        path.as_ptr(),
                        a[2] as u32,
                        a[3] as u32,
                        a[4] as i32,
                    )
                }))
            }
            nr::FCHDIR => host(i64::from(unsafe { libc::fchdir(fd(a[0])) })),
            nr::TRUNCATE => {
                let path = self.guest_path(a[0])?;
                host(i64::from(unsafe {
                    libc::truncate(path.as_ptr(), a[1] as i64)
                }))
            }
            nr::FALLOCATE => host(i64::from(unsafe {
                libc::fallocate(fd(a[0]), a[1] as i32, a[2] as i64, a[3] as i64)
            })),
            nr::SYMLINKAT => {
                // The target is the link's contents, not a path to look up.
                let target = self.mem().cstr(a[0])?;
                let path = self.guest_path(a[2])?;
                host(i64::from(unsafe {
                    libc::symlinkat(target.as_ptr(), fd(a[1]), path.as_ptr())
                }))
            }
            nr::LINKAT => {
                let from = self.guest_path(a[1])?;
                let to = self.guest_path(a[3])?;
                host(i64::from(unsafe {
                    libc::linkat(fd(a[0]), from.as_ptr(), fd(a[2]), to.as_ptr(), a[4] as i32)
                }))
            }
            nr::MKNODAT => {
                // The device number is the kernel's 32-bit encoding on both sides.
                let path = self.guest_path(a[1])?;
                host(unsafe {
                    libc::syscall(
                        libc::SYS_mknodat,
                        fd(a[0]),
                        path.as_ptr(),
                        a[2] as libc::mode_t,
                        a[3] as u32,
                    )
                })
            }
            nr::STATFS | nr::FSTATFS => self.sys_statfs(n == nr::STATFS, a[0], a[1]),
            nr::STATX => self.sys_statx(a),
            nr::GETRUSAGE => self.sys_getrusage(a[0], a[1]),
            nr::TIMES => self.sys_times(a[0]),
            // Process groups and sessions are the host process's.
            nr::GETPGID => host(i64::from(unsafe { libc::getpgid(a[0] as i32) })),
            nr::SETPGID => host(i64::from(unsafe {
                libc::setpgid(a[0] as i32, a[1] as i32)
            })),
            nr::GETSID => host(i64::from(unsafe { libc::getsid(a[0] as i32) })),
            nr::SETSID => host(i64::from(unsafe { libc::setsid() })),
            // The raw call returns 20 - nice, as the guest's libc expects.
            nr::GETPRIORITY => {
                host(unsafe { libc::syscall(libc::SYS_getpriority, a[0] as i32, a[1] as u32) })
            }
            nr::SETPRIORITY => host(unsafe {
                libc::syscall(libc::SYS_setpriority, a[0] as i32, a[1] as u32, a[2] as i32)
            }),
            nr::GETGROUPS => self.sys_getgroups(a[0], a[1]),
            nr::SETGROUPS => self.sys_setgroups(a[0], a[1]),
            nr::SETXATTR | nr::LSETXATTR | nr::FSETXATTR => self.sys_setxattr(n, a),
            nr::GETXATTR | nr::LGETXATTR | nr::FGETXATTR => self.sys_getxattr(n, a),
            nr::LISTXATTR | nr::LLISTXATTR | nr::FLISTXATTR => self.sys_listxattr(n, a),
            nr::REMOVEXATTR | nr::LREMOVEXATTR | nr::FREMOVEXATTR => self.sys_removexattr(n, a),
            nr::SPLICE => self.sys_splice(a),
            // SAFETY: no pointers.
            nr::TEE => host(unsafe {
                libc::tee(fd(a[0]), fd(a[1]), a[2].min(MAX_IO) as usize, a[3] as u32)
            } as i64),
            nr::VMSPLICE => self.sys_vmsplice(a),
            nr::CAPGET | nr::CAPSET => self.sys_capability(n == nr::CAPSET, a[0], a[1]),
            // SAFETY: no pointers.
            nr::IOPRIO_SET => host(unsafe {
                libc::syscall(libc::SYS_ioprio_set, a[0] as i32, a[1] as i32, a[2] as i32)
            }),
            // SAFETY: no pointers.
            nr::IOPRIO_GET => {
                host(unsafe { libc::syscall(libc::SYS_ioprio_get, a[0] as i32, a[1] as i32) })
            }
            // SAFETY: no pointers; the calls give the previous id and never fail.
            nr::SETFSUID => Ok(i64::from(unsafe { libc::setfsuid(a[0] as u32) })),
            // SAFETY: as above.
            nr::SETFSGID => Ok(i64::from(unsafe { libc::setfsgid(a[0] as u32) })),
            nr::GETRESUID | nr::GETRESGID => self.sys_getres(n == nr::GETRESGID, a),
            // The raw calls change only this thread's ids, as the guest's libc expects (it
            // makes the call in every thread).
            nr::SETUID => host(unsafe { libc::syscall(libc::SYS_setuid, a[0] as u32) }),
            nr::SETGID => host(unsafe { libc::syscall(libc::SYS_setgid, a[0] as u32) }),
            nr::SETREUID => {
                host(unsafe { libc::syscall(libc::SYS_setreuid, a[0] as u32, a[1] as u32) })
            }
            nr::SETREGID => {
                host(unsafe { libc::syscall(libc::SYS_setregid, a[0] as u32, a[1] as u32) })
            }
            nr::SETRESUID => host(unsafe {
                libc::syscall(libc::SYS_setresuid, a[0] as u32, a[1] as u32, a[2] as u32)
            }),
            nr::SETRESGID => host(unsafe {
                libc::syscall(libc::SYS_setresgid, a[0] as u32, a[1] as u32, a[2] as u32)
            }),
            nr::CLOCK_GETRES => {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                host(i64::from(unsafe {
                    libc::clock_getres(a[0] as libc::clockid_t, &mut ts)
                }))?;
                if a[1] != 0 {
                    self.put_pair(a[1], ts.tv_sec, ts.tv_nsec)?;
                }
                Ok(0)
            }
            nr::SCHED_GETSCHEDULER => {
                host(i64::from(unsafe { libc::sched_getscheduler(a[0] as i32) }))
            }
            nr::SCHED_GETPARAM => {
                // struct sched_param is one int.
                let mut param = libc::sched_param { sched_priority: 0 };
                host(i64::from(unsafe {
                    libc::sched_getparam(a[0] as i32, &mut param)
                }))?;
                self.mem().put(a[1], &param.sched_priority.to_le_bytes())?;
                Ok(0)
            }
            nr::SCHED_SETAFFINITY => {
                let set = self.mem().get(a[2], a[1].min(1 << 12))?;
                host(unsafe {
                    libc::syscall(
                        libc::SYS_sched_setaffinity,
                        a[0] as i32,
                        set.len(),
                        set.as_ptr(),
                    )
                })
            }
            nr::SCHED_GET_PRIORITY_MAX => host(i64::from(unsafe {
                libc::sched_get_priority_max(a[0] as i32)
            })),
            nr::SCHED_GET_PRIORITY_MIN => host(i64::from(unsafe {
                libc::sched_get_priority_min(a[0] as i32)
            })),
            // TFD_* and IN_* flags are O_CLOEXEC and O_NONBLOCK on both sides, and the events
            // a read gives (`struct inotify_event`, the expiry count) have one layout.
            nr::INOTIFY_INIT1 => host(i64::from(unsafe { libc::inotify_init1(a[0] as i32) })),
            nr::INOTIFY_ADD_WATCH => {
                let path = self.lookup_path(a[1])?;
                host(i64::from(unsafe {
                    libc::inotify_add_watch(fd(a[0]), path.as_ptr(), a[2] as u32)
                }))
            }
            nr::INOTIFY_RM_WATCH => host(i64::from(unsafe {
                libc::inotify_rm_watch(fd(a[0]), a[1] as i32)
            })),
            nr::TIMERFD_CREATE => host(i64::from(unsafe {
                libc::timerfd_create(a[0] as i32, a[1] as i32)
            })),
            nr::TIMERFD_SETTIME => self.sys_timerfd_settime(a),
            nr::TIMERFD_GETTIME => {
                let mut now = [0u8; 32];
                host(unsafe {
                    libc::syscall(libc::SYS_timerfd_gettime, fd(a[0]), now.as_mut_ptr())
                })?;
                self.mem().put(a[1], &now)?;
                Ok(0)
            }
            nr::SYNC_FILE_RANGE => host(i64::from(unsafe {
                libc::sync_file_range(fd(a[0]), a[1] as i64, a[2] as i64, a[3] as u32)
            })),
            nr::READAHEAD => {
                host(unsafe { libc::readahead(fd(a[0]), a[1] as i64, a[2] as usize) as i64 })
            }
            // posix_fadvise gives the error number rather than setting errno.
            nr::FADVISE64 => match unsafe {
                libc::posix_fadvise(fd(a[0]), a[1] as i64, a[2] as i64, a[3] as i32)
            } {
                0 => Ok(0),
                e => Err(i64::from(e)),
            },
            // The execution domain is the host process's (PER_LINUX), as under qemu.
            nr::PERSONALITY => host(i64::from(unsafe {
                libc::personality(a[0] as libc::c_ulong)
            })),
            nr::SCHED_SETPARAM | nr::SCHED_SETSCHEDULER => {
                // struct sched_param is one int.
                let at = if n == nr::SCHED_SETPARAM { a[1] } else { a[2] };
                let param = self.mem().get(at, 4)?;
                let param = libc::sched_param {
                    sched_priority: i32::from_le_bytes(param.try_into().expect("4 bytes")),
                };
                host(i64::from(unsafe {
                    if n == nr::SCHED_SETPARAM {
                        libc::sched_setparam(a[0] as i32, &param)
                    } else {
                        libc::sched_setscheduler(a[0] as i32, a[1] as i32, &param)
                    }
                }))
            }
            nr::SCHED_RR_GET_INTERVAL => {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                host(i64::from(unsafe {
                    libc::sched_rr_get_interval(a[0] as i32, &mut ts)
                }))?;
                self.put_pair(a[1], ts.tv_sec, ts.tv_nsec)
            }
            nr::GETCPU => {
                let (mut cpu, mut node) = (0u32, 0u32);
                host(unsafe {
                    libc::syscall(
                        libc::SYS_getcpu,
                        &mut cpu,
                        &mut node,
                        std::ptr::null_mut::<u8>(),
                    )
                })?;
                if a[0] != 0 {
                    self.mem().put(a[0], &cpu.to_le_bytes())?;
                }
                if a[1] != 0 {
                    self.mem().put(a[1], &node.to_le_bytes())?;
                }
                Ok(0)
            }
            nr::CLOSE_RANGE => host(unsafe {
                libc::syscall(libc::SYS_close_range, a[0] as u32, a[1] as u32, a[2] as u32)
            }),
            nr::SENDFILE => self.sys_sendfile(a),
            nr::COPY_FILE_RANGE => self.sys_copy_file_range(a),
            // EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK on both sides.
            nr::EVENTFD2 => host(i64::from(unsafe {
                libc::eventfd(a[0] as u32, a[1] as i32)
            })),
            nr::MEMFD_CREATE => self.sys_memfd_create(a[0], a[1]),
            nr::MSYNC => self.sys_msync(a[0], a[1], a[2]),
            nr::MLOCK | nr::MUNLOCK => self.sys_mlock(a[0], a[1], n == nr::MLOCK),
            nr::MLOCK2 => {
                // MLOCK_ONFAULT is the only flag.
                if a[2] & !1 != 0 {
                    return Err(EINVAL);
                }
                self.sys_mlock(a[0], a[1], true)
            }
            nr::PREADV2 | nr::PWRITEV2 => self.sys_rw_v2(n == nr::PWRITEV2, a),
            nr::MLOCKALL => self.sys_mlockall(a[0]),
            nr::MUNLOCKALL => Ok(0),
            nr::MINCORE => self.sys_mincore(a[0], a[1], a[2]),
            // SOCK_NONBLOCK and SOCK_CLOEXEC are the same on both sides.
            nr::SOCKET => host(i64::from(unsafe {
                libc::socket(a[0] as i32, a[1] as i32, a[2] as i32)
            })),
            nr::SOCKETPAIR => self.sys_socketpair(a),
            nr::BIND | nr::CONNECT => self.sys_bind_connect(a, n == nr::CONNECT),
            nr::LISTEN => host(i64::from(unsafe { libc::listen(fd(a[0]), a[1] as i32) })),
            nr::ACCEPT => self.sys_accept4(a, 0),
            nr::ACCEPT4 => self.sys_accept4(a, a[3]),
            nr::GETSOCKNAME | nr::GETPEERNAME => self.sys_getname(a, n == nr::GETPEERNAME),
            nr::SENDTO => self.sys_sendto(a),
            nr::RECVFROM => self.sys_recvfrom(a),
            nr::SETSOCKOPT => self.sys_setsockopt(a),
            nr::GETSOCKOPT => self.sys_getsockopt(a),
            nr::SHUTDOWN => host(i64::from(unsafe { libc::shutdown(fd(a[0]), a[1] as i32) })),
            nr::SENDMSG => self.sys_sendmsg(a),
            nr::RECVMSG => self.sys_recvmsg(a),
            nr::SENDMMSG => self.sys_sendmmsg(a),
            nr::RECVMMSG => self.sys_recvmmsg(a),
            _ => {
                if self.warned.insert(n) {
                    eprintln!("armature: unsupported syscall {n}");
                }
                Err(ENOSYS)
            }
        }
    }

    pub(super) fn mem(&mut self) -> &mut Memory {
        &mut self.machine.mem
    }

    /// Writes two 64-bit values (timespec, timeval, rlimit).
    /// `timerfd_settime(fd, flags, new, old)`: `struct itimerspec` (two timespecs) has one
    /// layout on both sides.
    fn sys_timerfd_settime(&mut self, a: &[u64; 6]) -> SysResult {
        let new = self.mem().get(a[2], 32)?;
        let mut old = [0u8; 32];
        host(unsafe {
            libc::syscall(
                libc::SYS_timerfd_settime,
                fd(a[0]),
                a[1] as i32,
                new.as_ptr(),
                old.as_mut_ptr(),
            )
        })?;
        if a[3] != 0 {
            self.mem().put(a[3], &old)?;
        }
        Ok(0)
    }

    fn put_pair(&mut self, addr: u64, a: i64, b: i64) -> SysResult {
        self.put_words(addr, &[a, b])?;
        Ok(0)
    }

    /// A path argument; `/proc/self/exe` names the program.
    pub(super) fn guest_path(&mut self, addr: u64) -> Result<CString, i64> {
        let path = self.machine.mem.cstr(addr)?;
        if path.as_bytes() == b"/proc/self/exe" {
            return CString::new(self.exe_abs.as_os_str().as_bytes()).map_err(|_| EINVAL);
        }
        Ok(path)
    }

    /// A path argument the call only looks up: like [`Process::guest_path`], and an absolute
    /// path is taken under the `-L` root when it exists there.
    pub(super) fn lookup_path(&mut self, addr: u64) -> Result<CString, i64> {
        let path = self.guest_path(addr)?;
        if self.root.is_none() || path.as_bytes() == self.exe_abs.as_os_str().as_bytes() {
            return Ok(path);
        }
        let host = super::under_root(
            self.root.as_deref(),
            std::path::Path::new(std::ffi::OsStr::from_bytes(path.as_bytes())),
        );
        CString::new(host.as_os_str().as_bytes()).map_err(|_| EINVAL)
    }

    /// The (base, len) pairs of a guest iovec array.
    pub(super) fn iovecs(&mut self, addr: u64, count: u64) -> Result<Vec<(u64, u64)>, i64> {
        if count > 1024 {
            return Err(EINVAL);
        }
        let raw = self.mem().get(addr, count * 16)?;
        let mut total = 0u64;
        let iov: Vec<(u64, u64)> = raw
            .chunks_exact(16)
            .map(|c| {
                let base = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
                let len = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
                (base, len)
            })
            .collect();
        for &(_, len) in &iov {
            total = total.checked_add(len).ok_or(EINVAL)?;
        }
        if total > MAX_IO {
            return Err(EINVAL);
        }
        Ok(iov)
    }

    fn ioctl(&mut self, a: &[u64; 6]) -> SysResult {
        const TCGETS: u64 = 0x5401;
        const TIOCGWINSZ: u64 = 0x5413;
        const FIONREAD: u64 = 0x541b;
        const FIONBIO: u64 = 0x5421;
        const FIONCLEX: u64 = 0x5450;
        const FIOCLEX: u64 = 0x5451;
        // Linux looks the descriptor up before the command.
        super::net::check_fd(a[0])?;
        // The numbers below are the same on aarch64 and x86-64.
        match a[1] {
            FIONREAD => {
                let mut n: libc::c_int = 0;
                host(i64::from(unsafe {
                    libc::ioctl(fd(a[0]), libc::FIONREAD, &mut n)
                }))?;
                self.mem().put(a[2], &n.to_le_bytes())?;
                return Ok(0);
            }
            FIONBIO => {
                let on = self.mem().get(a[2], 4)?;
                let on = libc::c_int::from_le_bytes(on.try_into().expect("4 bytes"));
                return host(i64::from(unsafe {
                    libc::ioctl(fd(a[0]), libc::FIONBIO, &on)
                }));
            }
            FIOCLEX | FIONCLEX => {
                return host(i64::from(unsafe { libc::ioctl(fd(a[0]), a[1] as _) }));
            }
            _ => {}
        }
        // Terminal requests, by the size of what they read or write through the pointer:
        // the kernel's struct termios (36 bytes), struct winsize (8), a pid or an int (4).
        // Their numbers, layouts and flag bits are asm-generic on both sides.
        const TCSETS: u64 = 0x5402;
        const TCSETSW: u64 = 0x5403;
        const TCSETSF: u64 = 0x5404;
        const TIOCGPGRP: u64 = 0x540f;
        const TIOCSPGRP: u64 = 0x5410;
        const TIOCSWINSZ: u64 = 0x5414;
        const TIOCGSID: u64 = 0x5429;
        const TIOCGPTN: u64 = 0x8004_5430;
        const TIOCSPTLCK: u64 = 0x4004_5431;
        let (size, to_host) = match a[1] {
            TCGETS => (36, false),
            TCSETS | TCSETSW | TCSETSF => (36, true),
            TIOCGWINSZ => (8, false),
            TIOCSWINSZ => (8, true),
            TIOCGPGRP | TIOCGSID | TIOCGPTN => (4, false),
            TIOCSPGRP | TIOCSPTLCK => (4, true),
            _ => return Err(ENOTTY),
        };
        let mut buf = [0u8; 64];
        if to_host {
            let data = self.mem().get(a[2], size as u64)?;
            buf[..size].copy_from_slice(&data);
        }
        // SAFETY: `buf` holds more bytes than any of these requests reads or writes.
        host(i64::from(unsafe {
            libc::ioctl(fd(a[0]), a[1] as _, buf.as_mut_ptr())
        }))?;
        if !to_host {
            self.mem().put(a[2], &buf[..size])?;
        }
        Ok(0)
    }

    /// `prlimit64(pid, resource, new, old)` of this process. New limits are set on the host,
    /// except RLIMIT_DATA, RLIMIT_STACK and RLIMIT_AS, which would limit armature rather than
    /// the guest (as qemu-user does).
    fn sys_prlimit64(&mut self, a: &[u64; 6]) -> SysResult {
        const RLIMIT_DATA: u64 = 2;
        const RLIMIT_STACK: u64 = 3;
        const RLIMIT_AS: u64 = 9;
        const RLIM_NLIMITS: u64 = 16;
        if a[1] >= RLIM_NLIMITS {
            return Err(EINVAL);
        }
        let new = match a[2] {
            0 => None,
            p => Some(self.get_pair(p)?),
        };
        if a[0] != 0 && a[0] != u64::from(self.pid) {
            return Err(EPERM);
        }
        let new = new
            .filter(|_| !matches!(a[1], RLIMIT_DATA | RLIMIT_STACK | RLIMIT_AS))
            .map(|(cur, max)| libc::rlimit {
                rlim_cur: cur as u64,
                rlim_max: max as u64,
            });
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `new` is NULL or a valid rlimit, and `old` is one.
        host(i64::from(unsafe {
            libc::prlimit(
                0,
                a[1] as _,
                new.as_ref().map_or(std::ptr::null(), |r| r as *const _),
                &mut old,
            )
        }))?;
        if a[3] != 0 {
            self.put_pair(a[3], old.rlim_cur as i64, old.rlim_max as i64)?;
        }
        Ok(0)
    }

    /// `brk(addr)`: moves the program break when it can; returns the break.
    pub fn do_brk(&mut self, addr: u64) -> u64 {
        let threads = std::sync::Arc::clone(&self.threads);
        let mut brk = super::signal::lock(&threads.brk);
        if addr < self.brk_start || addr > MMAP_LIMIT {
            return *brk;
        }
        let (Some(old_end), Some(new_end)) = (page_up(*brk), page_up(addr)) else {
            return *brk;
        };
        if new_end > old_end {
            if !self
                .machine
                .mem
                .map_if_free(old_end, new_end - old_end, Perms::RW)
                .unwrap_or(false)
            {
                return *brk;
            }
        } else if new_end < old_end {
            self.machine.mem.unmap(new_end, old_end - new_end);
        }
        *brk = addr;
        addr
    }

    /// `mremap` within one mapping: shrinks in place, grows in place when the pages after it
    /// are free, else moves with MREMAP_MAYMOVE (what glibc's realloc asks for). MREMAP_FIXED
    /// and MREMAP_DONTUNMAP are refused with EINVAL.
    fn mremap(&mut self, old: u64, old_len: u64, new_len: u64, flags: u64) -> SysResult {
        const MREMAP_MAYMOVE: u64 = 1;
        if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 || flags & !MREMAP_MAYMOVE != 0 {
            return Err(EINVAL);
        }
        let old_len = page_up(old_len).ok_or(EINVAL)?;
        let new_len = page_up(new_len).ok_or(ENOMEM)?;
        if new_len > MAX_MAP {
            return Err(ENOMEM);
        }
        let perms = self
            .machine
            .mem
            .perms_of(old, old_len.max(1))
            .ok_or(EFAULT)?;
        if new_len <= old_len {
            self.machine.mem.unmap(old + new_len, old_len - new_len);
            return Ok(old as i64);
        }
        let tail = old + old_len;
        if self
            .machine
            .mem
            .map_if_free(tail, new_len - old_len, perms)
            .unwrap_or(false)
        {
            return Ok(old as i64);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(ENOMEM);
        }
        let at = self
            .machine
            .mem
            .map_free(MMAP_BASE, new_len, MMAP_LIMIT, perms)
            .ok_or(ENOMEM)?;
        let mut data = vec![0u8; old_len as usize];
        let readable = Perms {
            read: true,
            ..perms
        };
        self.machine
            .mem
            .protect(old, old_len, readable)
            .map_err(|_| EFAULT)?;
        self.machine.mem.read(old, &mut data).map_err(|_| EFAULT)?;
        self.machine.mem.poke(at, &data).map_err(|_| EFAULT)?;
        self.machine.mem.unmap(old, old_len);
        Ok(at as i64)
    }

    fn mmap(&mut self, a: &[u64; 6]) -> SysResult {
        const MAP_SHARED: u64 = 0x01;
        const MAP_PRIVATE: u64 = 0x02;
        const MAP_FIXED: u64 = 0x10;
        const MAP_ANONYMOUS: u64 = 0x20;
        const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
        let (addr, len, prot_bits, flags, file, offset) = (a[0], a[1], a[2], a[3], fd(a[4]), a[5]);
        if len == 0 || offset % PAGE_SIZE != 0 || flags & (MAP_SHARED | MAP_PRIVATE) == 0 {
            return Err(EINVAL);
        }
        let len = page_up(len).ok_or(ENOMEM)?;
        if len > MAX_MAP {
            return Err(ENOMEM);
        }
        let shared = flags & MAP_SHARED != 0;
        // A shared file mapping is the file's pages on the host (`Memory::back_shared`); a
        // private one is a copy of them, as the guest cannot tell the two apart until the file
        // changes under it.
        let backing = match (shared, flags & MAP_ANONYMOUS != 0) {
            (false, _) => None,
            (true, true) => Some(Backing::Anonymous),
            (true, false) => {
                // SAFETY: no pointers.
                let mode = host(i64::from(unsafe { libc::fcntl(file, libc::F_GETFL) }))? as i32;
                let writable = mode & libc::O_ACCMODE == libc::O_RDWR;
                if mode & libc::O_ACCMODE == libc::O_WRONLY || (prot_bits & 2 != 0 && !writable) {
                    return Err(EACCES);
                }
                // SAFETY: `st` is a plain struct the call fills.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                host(i64::from(unsafe { libc::fstat(file, &mut st) }))?;
                let exists = if st.st_mode & libc::S_IFMT == libc::S_IFREG {
                    (st.st_size as u64).saturating_sub(offset)
                } else {
                    len
                };
                Some(Backing::File {
                    fd: file,
                    offset,
                    len: exists,
                    writable,
                })
            }
        };
        let data = if flags & MAP_ANONYMOUS == 0 && backing.is_none() {
            let mut buf = vec![0u8; len as usize];
            let mut done = 0usize;
            while done < buf.len() {
                let r = unsafe {
                    libc::pread(
                        file,
                        buf[done..].as_mut_ptr().cast(),
                        buf.len() - done,
                        (offset + done as u64) as i64,
                    )
                };
                if r < 0 {
                    return Err(errno());
                }
                if r == 0 {
                    break;
                }
                done += r as usize;
            }
            buf.truncate(done);
            Some(buf)
        } else {
            None
        };
        let perms = prot(prot_bits);
        let mem = &self.machine.mem;
        let at = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            if addr % PAGE_SIZE != 0 || addr.checked_add(len).is_none_or(|e| e > MMAP_LIMIT) {
                return Err(EINVAL);
            }
            if flags & MAP_FIXED != 0 {
                mem.map(addr, len, perms).map_err(|_| ENOMEM)?;
            } else if !mem.map_if_free(addr, len, perms).map_err(|_| ENOMEM)? {
                return Err(EEXIST);
            }
            addr
        } else if addr != 0
            && addr % PAGE_SIZE == 0
            && mem.map_if_free(addr, len, perms).unwrap_or(false)
        {
            addr
        } else {
            mem.map_free(MMAP_BASE, len, MMAP_LIMIT, perms)
                .ok_or(ENOMEM)?
        };
        if let Some(data) = data {
            self.machine.mem.poke(at, &data).map_err(|_| EFAULT)?;
            self.machine.mem.keep_contents(at, len);
        }
        if let Some(backing) = backing {
            if let Err(e) = self.machine.mem.back_shared(at, len, backing) {
                self.machine.mem.unmap(at, len);
                return Err(i64::from(e.raw_os_error().unwrap_or(libc::ENODEV)));
            }
        }
        Ok(at as i64)
    }
}

/// Host open flags back to aarch64's (for `F_GETFL`).
fn guest_open_flags(host: i32) -> u64 {
    let moved = libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_DIRECT | libc::O_LARGEFILE;
    let mut guest = (host & !moved) as u64;
    for (g, h) in [
        (A64_O_DIRECTORY, libc::O_DIRECTORY),
        (A64_O_NOFOLLOW, libc::O_NOFOLLOW),
        (A64_O_DIRECT, libc::O_DIRECT),
        (A64_O_LARGEFILE, libc::O_LARGEFILE),
    ] {
        if host & h != 0 {
            guest |= g;
        }
    }
    guest
}

/// `PROT_*` bits to page permissions.
fn prot(bits: u64) -> Perms {
    Perms {
        read: bits & 1 != 0,
        write: bits & 2 != 0,
        exec: bits & 4 != 0,
    }
}
