//! File and memory system calls beyond the basic ones, performed on the host: modes, owners,
//! links and device nodes, extended attributes, file system statistics, `statx`, resource
//! usage, vectored I/O at an offset, copies in the kernel (`splice`, `tee`), eventfd and memfd,
//! supplementary groups and capabilities, and the memory calls that only check the guest range
//! (`msync`, `mlock`, `mincore`).
//!
//! The kernel structures they fill (`struct statfs`, `rusage`, `tms`, `statx`) have the same
//! layout on aarch64 and x86-64, so the host's raw system call writes the guest's bytes.

use crate::mem::PAGE_SIZE;

use super::syscall::{
    fd, host, nr, page_up, GuestMem, SysResult, E2BIG, EAGAIN, EBADF, EINVAL, ENAMETOOLONG, ENOMEM,
    EPERM, MAX_IO,
};
use super::Process;

/// `XATTR_SIZE_MAX` and `XATTR_LIST_MAX`: the largest value and name list the kernel moves.
const XATTR_MAX: u64 = 65536;
/// `NGROUPS_MAX`.
const NGROUPS_MAX: u64 = 65536;
/// `SPLICE_F_NONBLOCK`.
const SPLICE_F_NONBLOCK: u64 = 2;

/// The file an `*xattr` call names: a path, followed or not at a final symlink, or a
/// descriptor.
enum XattrTarget {
    Path(std::ffi::CString),
    Link(std::ffi::CString),
    Fd(i32),
}

impl Process {
    /// `statfs(path, buf)` and `fstatfs(fd, buf)`: the 120-byte `struct statfs`.
    pub(super) fn sys_statfs(&mut self, by_path: bool, target: u64, buf: u64) -> SysResult {
        let mut st = [0u8; 120];
        // SAFETY: `st` is as large as the kernel's `struct statfs`; the path is NUL-terminated.
        if by_path {
            let path = self.lookup_path(target)?;
            host(unsafe { libc::syscall(libc::SYS_statfs, path.as_ptr(), st.as_mut_ptr()) })?;
        } else {
            host(unsafe { libc::syscall(libc::SYS_fstatfs, fd(target), st.as_mut_ptr()) })?;
        }
        self.mem().put(buf, &st)?;
        Ok(0)
    }

    /// `statx(dirfd, path, flags, mask, buf)`: the 256-byte `struct statx`.
    pub(super) fn sys_statx(&mut self, a: &[u64; 6]) -> SysResult {
        let path = self.lookup_path(a[1])?;
        let mut st = [0u8; 256];
        // SAFETY: `st` is as large as `struct statx`; the path is NUL-terminated.
        host(unsafe {
            libc::syscall(
                libc::SYS_statx,
                fd(a[0]),
                path.as_ptr(),
                a[2] as i32,
                a[3] as u32,
                st.as_mut_ptr(),
            )
        })?;
        self.mem().put(a[4], &st)?;
        Ok(0)
    }

    /// `getrusage(who, usage)`: the 144-byte `struct rusage`. Guest threads are host threads,
    /// so RUSAGE_THREAD is the calling thread's.
    pub(super) fn sys_getrusage(&mut self, who: u64, usage: u64) -> SysResult {
        let mut ru = [0u8; 144];
        // SAFETY: `ru` is as large as the kernel's `struct rusage`.
        host(unsafe { libc::syscall(libc::SYS_getrusage, who as i32, ru.as_mut_ptr()) })?;
        self.mem().put(usage, &ru)?;
        Ok(0)
    }

    /// `times(buf)`: the 32-byte `struct tms` (NULL allowed); returns the clock ticks.
    pub(super) fn sys_times(&mut self, buf: u64) -> SysResult {
        let mut tms = [0u8; 32];
        // SAFETY: `tms` is as large as the kernel's `struct tms`.
        let ticks = host(unsafe { libc::syscall(libc::SYS_times, tms.as_mut_ptr()) })?;
        if buf != 0 {
            self.mem().put(buf, &tms)?;
        }
        Ok(ticks)
    }

    /// `getgroups(size, list)`: the number of groups, and the groups when `size` is not 0.
    pub(super) fn sys_getgroups(&mut self, size: u64, list: u64) -> SysResult {
        let size = size as i32;
        if size < 0 {
            return Err(EINVAL);
        }
        // SAFETY: a zero size only counts.
        let count = host(i64::from(unsafe {
            libc::getgroups(0, std::ptr::null_mut())
        }))?;
        if size == 0 {
            return Ok(count);
        }
        if i64::from(size) < count {
            return Err(EINVAL);
        }
        let mut groups = vec![0 as libc::gid_t; count as usize];
        // SAFETY: `groups` holds `count` entries.
        let n = host(i64::from(unsafe {
            libc::getgroups(count as i32, groups.as_mut_ptr())
        }))?;
        let bytes: Vec<u8> = groups[..n as usize]
            .iter()
            .flat_map(|g| g.to_le_bytes())
            .collect();
        self.mem().put(list, &bytes)?;
        Ok(n)
    }

    /// `getresuid(ruid, euid, suid)` and `getresgid`: three 32-bit ids.
    pub(super) fn sys_getres(&mut self, group: bool, a: &[u64; 6]) -> SysResult {
        let mut ids = [0u32; 3];
        let [r, e, s] = &mut ids;
        // SAFETY: three valid pointers to ids.
        host(i64::from(unsafe {
            if group {
                libc::getresgid(r, e, s)
            } else {
                libc::getresuid(r, e, s)
            }
        }))?;
        for (id, &addr) in ids.iter().zip(&a[..3]) {
            self.mem().put(addr, &id.to_le_bytes())?;
        }
        Ok(0)
    }

    /// `preadv`, `pwritev` (`offset` given), `readv` and `writev`.
    pub(super) fn vectored(
        &mut self,
        fd_arg: u64,
        iov_addr: u64,
        count: u64,
        write: bool,
        offset: Option<i64>,
    ) -> SysResult {
        let iov = self.iovecs(iov_addr, count)?;
        if write {
            let buf = self.gather(&iov)?;
            // SAFETY: `buf` holds `buf.len()` bytes.
            return host(unsafe {
                match offset {
                    Some(off) => libc::pwrite(fd(fd_arg), buf.as_ptr().cast(), buf.len(), off),
                    None => libc::write(fd(fd_arg), buf.as_ptr().cast(), buf.len()),
                }
            } as i64);
        }
        self.scatter(&iov, |buf| {
            // SAFETY: `buf` holds `buf.len()` bytes.
            unsafe {
                match offset {
                    Some(off) => libc::pread(fd(fd_arg), buf.as_mut_ptr().cast(), buf.len(), off),
                    None => libc::read(fd(fd_arg), buf.as_mut_ptr().cast(), buf.len()),
                }
            }
        })
    }

    /// The bytes of the guest buffers `iov`, one after the other.
    fn gather(&mut self, iov: &[(u64, u64)]) -> Result<Vec<u8>, i64> {
        let mut buf = Vec::new();
        for &(base, len) in iov {
            buf.extend(self.mem().get(base, len)?);
        }
        Ok(buf)
    }

    /// Runs `read` on a host buffer as large as the guest buffers `iov` (checked writable
    /// first, as the kernel fails before reading) and spreads the bytes it read over them.
    fn scatter(&mut self, iov: &[(u64, u64)], read: impl FnOnce(&mut [u8]) -> isize) -> SysResult {
        for &(base, len) in iov {
            self.mem().probe_write(base, len)?;
        }
        let total: u64 = iov.iter().map(|(_, l)| l).sum();
        let mut buf = vec![0u8; total as usize];
        let r = host(read(&mut buf) as i64)?;
        let mut done = 0usize;
        for &(base, len) in iov {
            let take = (len as usize).min(r as usize - done);
            self.mem().put(base, &buf[done..done + take])?;
            done += take;
        }
        Ok(r)
    }

    /// `preadv2(fd, iov, iovcnt, pos_l, pos_h, flags)` and `pwritev2`: `pos_l` is the whole
    /// offset on a 64-bit kernel, -1 the file's own position; the RWF_* flags go to the host
    /// call, made on one host buffer.
    pub(super) fn sys_rw_v2(&mut self, write: bool, a: &[u64; 6]) -> SysResult {
        let iov = self.iovecs(a[1], a[2])?;
        let (off, flags) = (a[3] as i64, a[5] as i32);
        if write {
            let mut buf = self.gather(&iov)?;
            let host_iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: one iovec over `buf`.
            return host(unsafe { libc::pwritev2(fd(a[0]), &host_iov, 1, off, flags) } as i64);
        }
        self.scatter(&iov, |buf| {
            let host_iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: one iovec over `buf`.
            unsafe { libc::preadv2(fd(a[0]), &host_iov, 1, off, flags) }
        })
    }

    /// A guest `loff_t *` (NULL: none).
    fn get_offset(&mut self, addr: u64) -> Result<Option<i64>, i64> {
        if addr == 0 {
            return Ok(None);
        }
        let b = self.mem().get(addr, 8)?;
        Ok(Some(i64::from_le_bytes(b.try_into().expect("8 bytes"))))
    }

    /// Writes back an offset that [`Process::get_offset`] read.
    fn put_offset(&mut self, addr: u64, off: Option<i64>) -> Result<(), i64> {
        match off {
            Some(off) => self.mem().put(addr, &off.to_le_bytes()),
            None => Ok(()),
        }
    }

    /// `sendfile(out_fd, in_fd, offset, count)`.
    pub(super) fn sys_sendfile(&mut self, a: &[u64; 6]) -> SysResult {
        let mut off = self.get_offset(a[2])?;
        let ptr = off.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
        // SAFETY: `ptr` is NULL or points to `off`.
        let r = host(
            unsafe { libc::sendfile(fd(a[0]), fd(a[1]), ptr, a[3].min(MAX_IO) as usize) } as i64,
        )?;
        self.put_offset(a[2], off)?;
        Ok(r)
    }

    /// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`.
    pub(super) fn sys_copy_file_range(&mut self, a: &[u64; 6]) -> SysResult {
        self.copy_in_kernel(a, libc::SYS_copy_file_range)
    }

    /// `splice(fd_in, off_in, fd_out, off_out, len, flags)`.
    pub(super) fn sys_splice(&mut self, a: &[u64; 6]) -> SysResult {
        self.copy_in_kernel(a, libc::SYS_splice)
    }

    /// The host system call `call` with the arguments of `copy_file_range` and `splice`:
    /// `(fd_in, off_in, fd_out, off_out, len, flags)`, the offsets being guest `loff_t *`s
    /// (NULL: the file's own position), read before and written back after.
    fn copy_in_kernel(&mut self, a: &[u64; 6], call: libc::c_long) -> SysResult {
        let mut off_in = self.get_offset(a[1])?;
        let mut off_out = self.get_offset(a[3])?;
        let ptr = |o: &mut Option<i64>| o.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
        let (pin, pout) = (ptr(&mut off_in), ptr(&mut off_out));
        // SAFETY: the offset pointers are NULL or point to the locals above.
        let r = host(unsafe {
            libc::syscall(
                call,
                fd(a[0]),
                pin,
                fd(a[2]),
                pout,
                a[4].min(MAX_IO) as usize,
                a[5] as u32,
            )
        })?;
        self.put_offset(a[1], off_in)?;
        self.put_offset(a[3], off_out)?;
        Ok(r)
    }

    /// `memfd_create(name, flags)`.
    pub(super) fn sys_memfd_create(&mut self, name: u64, flags: u64) -> SysResult {
        // Linux takes at most 249 bytes of name and says EINVAL for a longer one.
        let name = self
            .mem()
            .cstr(name)
            .map_err(|e| if e == ENAMETOOLONG { EINVAL } else { e })?;
        // SAFETY: a NUL-terminated name and plain flags.
        host(i64::from(unsafe {
            libc::memfd_create(name.as_ptr(), flags as u32)
        }))
    }

    /// Whether every page of `[addr, addr + len)` is mapped in the guest.
    fn all_mapped(&self, addr: u64, len: u64) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        let mut at = addr;
        for (start, region) in self.machine.mem.mappings() {
            if at >= end {
                break;
            }
            if start + region.len <= at {
                continue;
            }
            if start > at {
                return false;
            }
            at = start + region.len;
        }
        at >= end
    }

    /// `msync(addr, len, flags)`: the guest memory is the host's own mapping and no guest
    /// mapping shares a file, so there is nothing to write; the range must be mapped.
    pub(super) fn sys_msync(&mut self, addr: u64, len: u64, flags: u64) -> SysResult {
        const MS_ASYNC: u64 = 1;
        const MS_INVALIDATE: u64 = 2;
        const MS_SYNC: u64 = 4;
        if !addr.is_multiple_of(PAGE_SIZE)
            || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
            || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0)
        {
            return Err(EINVAL);
        }
        let len = page_up(len).ok_or(ENOMEM)?;
        if len != 0 && !self.all_mapped(addr, len) {
            return Err(ENOMEM);
        }
        Ok(0)
    }

    /// `mlock(addr, len)` (`lock`) and `munlock`: the pages must be mapped, and locking needs a
    /// large enough RLIMIT_MEMLOCK, as in Linux; the host pages are not locked.
    pub(super) fn sys_mlock(&mut self, addr: u64, len: u64, lock: bool) -> SysResult {
        let offset = addr % PAGE_SIZE;
        let len = len.checked_add(offset).and_then(page_up).ok_or(EINVAL)?;
        let start = addr - offset;
        if lock {
            Self::check_memlock(len)?;
        }
        if len != 0 && !self.all_mapped(start, len) {
            return Err(ENOMEM);
        }
        Ok(0)
    }

    /// `mlockall(flags)`: like `mlock` of every mapping with MCL_CURRENT.
    pub(super) fn sys_mlockall(&mut self, flags: u64) -> SysResult {
        const MCL_CURRENT: u64 = 1;
        const MCL_FUTURE: u64 = 2;
        const MCL_ONFAULT: u64 = 4;
        if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 {
            return Err(EINVAL);
        }
        if flags == MCL_ONFAULT {
            return Err(EINVAL);
        }
        let total = if flags & MCL_CURRENT != 0 {
            self.machine.mem.mappings().iter().map(|(_, r)| r.len).sum()
        } else {
            0
        };
        Self::check_memlock(total)?;
        Ok(0)
    }

    /// Linux's check before locking `len` bytes: EPERM without any RLIMIT_MEMLOCK, ENOMEM
    /// above it, unless the host user is root.
    fn check_memlock(len: u64) -> Result<(), i64> {
        // SAFETY: geteuid only returns the id.
        if unsafe { libc::geteuid() } == 0 {
            return Ok(());
        }
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `rl` is a valid rlimit.
        host(i64::from(unsafe {
            libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl)
        }))?;
        if rl.rlim_cur == 0 {
            return Err(EPERM);
        }
        if len > rl.rlim_cur {
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// `mincore(addr, len, vec)`: every mapped guest page is resident (1).
    pub(super) fn sys_mincore(&mut self, addr: u64, len: u64, vec: u64) -> SysResult {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(EINVAL);
        }
        let len = page_up(len).ok_or(ENOMEM)?;
        if !self.all_mapped(addr, len) {
            return Err(ENOMEM);
        }
        let pages = len / PAGE_SIZE;
        let chunk = vec![1u8; pages.min(1 << 16) as usize];
        let mut done = 0;
        while done < pages {
            let n = (pages - done).min(chunk.len() as u64);
            self.mem().put(vec + done, &chunk[..n as usize])?;
            done += n;
        }
        Ok(0)
    }

    /// `madvise(addr, len, advice)`: `MADV_DONTNEED` gives private anonymous pages back as
    /// zeroes (glibc's `calloc` counts on that after it trimmed a thread's heap); other
    /// advice Linux knows is accepted and ignored.
    pub(super) fn sys_madvise(&mut self, addr: u64, len: u64, advice: u64) -> SysResult {
        const MADV_DONTNEED: u64 = 4;
        // MADV_HWPOISON and MADV_SOFT_OFFLINE need CAP_SYS_ADMIN.
        const PRIVILEGED: [u64; 2] = [100, 101];
        let known = matches!(advice, 0..=4 | 8..=25 | 102 | 103);
        if !known && !PRIVILEGED.contains(&advice) {
            return Err(EINVAL);
        }
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(EINVAL);
        }
        if !known {
            return Err(EPERM);
        }
        if advice == MADV_DONTNEED {
            let len = page_up(len).ok_or(EINVAL)?;
            self.mem().discard(addr, len).map_err(|_| ENOMEM)?;
        }
        Ok(0)
    }
}

impl Process {
    /// The target of `setxattr` (`lsetxattr`, `fsetxattr`) and the other `*xattr` calls, from
    /// the first argument: a path for the plain and `l` calls (taken under the `-L` root, like
    /// other lookups, only when the call reads), a descriptor for the `f` ones.
    fn xattr_target(&mut self, n: u64, arg: u64, reads: bool) -> Result<XattrTarget, i64> {
        let path = |p: &mut Process| {
            if reads {
                p.lookup_path(arg)
            } else {
                p.guest_path(arg)
            }
        };
        Ok(match n {
            nr::SETXATTR | nr::GETXATTR | nr::LISTXATTR | nr::REMOVEXATTR => {
                XattrTarget::Path(path(self)?)
            }
            nr::LSETXATTR | nr::LGETXATTR | nr::LLISTXATTR | nr::LREMOVEXATTR => {
                XattrTarget::Link(path(self)?)
            }
            _ => XattrTarget::Fd(fd(arg)),
        })
    }

    /// `setxattr(path, name, value, size, flags)` and its `l` and `f` forms.
    pub(super) fn sys_setxattr(&mut self, n: u64, a: &[u64; 6]) -> SysResult {
        let target = self.xattr_target(n, a[0], false)?;
        let name = self.mem().cstr(a[1])?;
        if a[3] > XATTR_MAX {
            return Err(E2BIG);
        }
        let value = self.mem().get(a[2], a[3])?;
        let (v, len, flags) = (value.as_ptr().cast(), value.len(), a[4] as i32);
        // SAFETY: NUL-terminated strings and `len` bytes at `v`.
        host(i64::from(unsafe {
            match &target {
                XattrTarget::Path(p) => libc::setxattr(p.as_ptr(), name.as_ptr(), v, len, flags),
                XattrTarget::Link(p) => libc::lsetxattr(p.as_ptr(), name.as_ptr(), v, len, flags),
                XattrTarget::Fd(f) => libc::fsetxattr(*f, name.as_ptr(), v, len, flags),
            }
        }))
    }

    /// `getxattr(path, name, value, size)` and its `l` and `f` forms: the value's length, and
    /// the value when `size` is not 0.
    pub(super) fn sys_getxattr(&mut self, n: u64, a: &[u64; 6]) -> SysResult {
        let target = self.xattr_target(n, a[0], true)?;
        let name = self.mem().cstr(a[1])?;
        self.xattr_query(a[2], a[3], |v, len| {
            // SAFETY: NUL-terminated strings, and `v` is NULL or holds `len` bytes.
            unsafe {
                match &target {
                    XattrTarget::Path(p) => libc::getxattr(p.as_ptr(), name.as_ptr(), v, len),
                    XattrTarget::Link(p) => libc::lgetxattr(p.as_ptr(), name.as_ptr(), v, len),
                    XattrTarget::Fd(f) => libc::fgetxattr(*f, name.as_ptr(), v, len),
                }
            }
        })
    }

    /// `listxattr(path, list, size)` and its `l` and `f` forms: the NUL-separated names.
    pub(super) fn sys_listxattr(&mut self, n: u64, a: &[u64; 6]) -> SysResult {
        let target = self.xattr_target(n, a[0], true)?;
        self.xattr_query(a[1], a[2], |l, len| {
            // SAFETY: a NUL-terminated path, and `l` is NULL or holds `len` bytes.
            unsafe {
                match &target {
                    XattrTarget::Path(p) => libc::listxattr(p.as_ptr(), l.cast(), len),
                    XattrTarget::Link(p) => libc::llistxattr(p.as_ptr(), l.cast(), len),
                    XattrTarget::Fd(f) => libc::flistxattr(*f, l.cast(), len),
                }
            }
        })
    }

    /// Runs `call` on a host buffer of `size` bytes (at most [`XATTR_MAX`]; NULL and 0 when
    /// `size` is 0, the length query) and copies what it gave to the guest's `out`.
    fn xattr_query(
        &mut self,
        out: u64,
        size: u64,
        call: impl FnOnce(*mut libc::c_void, usize) -> isize,
    ) -> SysResult {
        let mut buf = vec![0u8; size.min(XATTR_MAX) as usize];
        let (p, len) = if buf.is_empty() {
            (std::ptr::null_mut(), 0)
        } else {
            (buf.as_mut_ptr().cast(), buf.len())
        };
        let got = host(call(p, len) as i64)?;
        if len != 0 {
            self.mem().put(out, &buf[..got as usize])?;
        }
        Ok(got)
    }

    /// `removexattr(path, name)` and its `l` and `f` forms.
    pub(super) fn sys_removexattr(&mut self, n: u64, a: &[u64; 6]) -> SysResult {
        let target = self.xattr_target(n, a[0], false)?;
        let name = self.mem().cstr(a[1])?;
        // SAFETY: NUL-terminated strings.
        host(i64::from(unsafe {
            match &target {
                XattrTarget::Path(p) => libc::removexattr(p.as_ptr(), name.as_ptr()),
                XattrTarget::Link(p) => libc::lremovexattr(p.as_ptr(), name.as_ptr()),
                XattrTarget::Fd(f) => libc::fremovexattr(*f, name.as_ptr()),
            }
        }))
    }

    /// `vmsplice(fd, iov, nr_segs, flags)`: into a pipe's write end the guest's buffers, out of
    /// its read end into them, as `writev` and `readv` do (the kernel may reference the pages
    /// rather than copy them, which nothing the guest sees tells apart, as it must not change
    /// the buffers until the data is read anyway). With SPLICE_F_NONBLOCK, a pipe that is not
    /// ready gives EAGAIN.
    pub(super) fn sys_vmsplice(&mut self, a: &[u64; 6]) -> SysResult {
        let f = fd(a[0]);
        // SAFETY: `st` is a plain struct the call fills.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        host(i64::from(unsafe { libc::fstat(f, &mut st) }))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return Err(EBADF);
        }
        // SAFETY: no pointers.
        let mode = host(i64::from(unsafe { libc::fcntl(f, libc::F_GETFL) }))? as i32;
        // The kernel writes into the pipe when the descriptor may write.
        let write = mode & libc::O_ACCMODE != libc::O_RDONLY;
        if a[3] & SPLICE_F_NONBLOCK != 0 {
            let mut p = libc::pollfd {
                fd: f,
                events: if write { libc::POLLOUT } else { libc::POLLIN },
                revents: 0,
            };
            // SAFETY: one pollfd.
            if host(i64::from(unsafe { libc::poll(&mut p, 1, 0) }))? == 0 {
                return Err(EAGAIN);
            }
        }
        self.vectored(a[0], a[1], a[2], write, None)
    }

    /// `setgroups(size, list)`: this thread's supplementary groups (the raw call, as the
    /// guest's C library makes it on each of its threads).
    pub(super) fn sys_setgroups(&mut self, size: u64, list: u64) -> SysResult {
        if size > NGROUPS_MAX {
            return Err(EINVAL);
        }
        let bytes = self.mem().get(list, size * 4)?;
        let groups: Vec<libc::gid_t> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        // SAFETY: `groups` holds `size` ids.
        host(unsafe { libc::syscall(libc::SYS_setgroups, size as usize, groups.as_ptr()) })
    }

    /// `capget(header, data)` and `capset`: the 8-byte header (version, pid), whose version the
    /// kernel may rewrite, and one (version 1) or two (versions 2 and 3) 12-byte data records.
    pub(super) fn sys_capability(&mut self, set: bool, header: u64, data: u64) -> SysResult {
        const VERSION_1: u32 = 0x1998_0330;
        let mut head = [0u32; 2];
        let bytes = self.mem().get(header, 8)?;
        for (h, c) in head.iter_mut().zip(bytes.chunks_exact(4)) {
            *h = u32::from_le_bytes(c.try_into().expect("4 bytes"));
        }
        let records = |version: u32| if version == VERSION_1 { 1 } else { 2 };
        let mut recs = [0u32; 6];
        if set && data != 0 {
            let n = records(head[0]);
            let bytes = self.mem().get(data, 12 * n)?;
            for (r, c) in recs.iter_mut().zip(bytes.chunks_exact(4)) {
                *r = u32::from_le_bytes(c.try_into().expect("4 bytes"));
            }
        }
        let p = if data == 0 {
            std::ptr::null_mut()
        } else {
            recs.as_mut_ptr()
        };
        let call = if set {
            libc::SYS_capset
        } else {
            libc::SYS_capget
        };
        // SAFETY: the header and room for two records, as the kernel's structs.
        let r = host(unsafe { libc::syscall(call, head.as_mut_ptr(), p) });
        // The kernel writes its preferred version back for one it does not know.
        let head_bytes: Vec<u8> = head.iter().flat_map(|h| h.to_le_bytes()).collect();
        self.mem().put(header, &head_bytes)?;
        let r = r?;
        if !set && data != 0 {
            let n = records(head[0]) as usize;
            let out: Vec<u8> = recs[..3 * n].iter().flat_map(|v| v.to_le_bytes()).collect();
            self.mem().put(data, &out)?;
        }
        Ok(r)
    }
}
