//! File and memory system calls beyond the basic ones, performed on the host: modes, owners,
//! links and device nodes, file system statistics, `statx`, resource usage, vectored I/O at an
//! offset, copies in the kernel, eventfd and memfd, and the memory calls that only check the
//! guest range (`msync`, `mlock`, `mincore`).
//!
//! The kernel structures they fill (`struct statfs`, `rusage`, `tms`, `statx`) have the same
//! layout on aarch64 and x86-64, so the host's raw system call writes the guest's bytes.

use crate::mem::PAGE_SIZE;

use super::syscall::{
    fd, host, page_up, GuestMem, SysResult, EINVAL, ENAMETOOLONG, ENOMEM, EPERM, MAX_IO,
};
use super::Process;

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
            let mut buf = Vec::new();
            for &(base, len) in &iov {
                buf.extend(self.mem().get(base, len)?);
            }
            // SAFETY: `buf` holds `buf.len()` bytes.
            return host(unsafe {
                match offset {
                    Some(off) => libc::pwrite(fd(fd_arg), buf.as_ptr().cast(), buf.len(), off),
                    None => libc::write(fd(fd_arg), buf.as_ptr().cast(), buf.len()),
                }
            } as i64);
        }
        for &(base, len) in &iov {
            self.mem().probe_write(base, len)?;
        }
        let total: u64 = iov.iter().map(|(_, l)| l).sum();
        let mut buf = vec![0u8; total as usize];
        // SAFETY: `buf` holds `buf.len()` bytes.
        let r = host(unsafe {
            match offset {
                Some(off) => libc::pread(fd(fd_arg), buf.as_mut_ptr().cast(), buf.len(), off),
                None => libc::read(fd(fd_arg), buf.as_mut_ptr().cast(), buf.len()),
            }
        } as i64)?;
        let mut done = 0usize;
        for &(base, len) in &iov {
            let take = (len as usize).min(r as usize - done);
            self.mem().put(base, &buf[done..done + take])?;
            done += take;
        }
        Ok(r)
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
        let mut off_in = self.get_offset(a[1])?;
        let mut off_out = self.get_offset(a[3])?;
        let pin = off_in
            .as_mut()
            .map_or(std::ptr::null_mut(), |o| o as *mut i64);
        let pout = off_out
            .as_mut()
            .map_or(std::ptr::null_mut(), |o| o as *mut i64);
        // SAFETY: the offset pointers are NULL or point to the locals above.
        let r = host(unsafe {
            libc::syscall(
                libc::SYS_copy_file_range,
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
