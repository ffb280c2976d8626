//! Sockets, performed on the host. Guest descriptors are host descriptors, and `struct
//! sockaddr`, `struct msghdr`, `struct cmsghdr` and the socket option values have the same
//! layout and numbers on aarch64 and x86-64, so addresses and control messages (SCM_RIGHTS
//! descriptors too) pass unchanged; only the guest pointers in a `msghdr` are followed.
//! Options whose values hold pointers are refused with ENOPROTOOPT.

use super::syscall::{fd, host, GuestMem, SysResult, EINVAL};
use super::Process;

const EBADF: i64 = 9;
const EMSGSIZE: i64 = 90;
const ENOPROTOOPT: i64 = 92;
const ENOBUFS: i64 = 105;

/// `sizeof(struct sockaddr_storage)`: the longest address.
const SOCKADDR_MAX: usize = 128;
/// The most bytes of an option value or of control messages moved (Linux's `optmem_max` is
/// smaller).
const OPT_MAX: u64 = 1 << 16;
/// `UIO_MAXIOV`.
const IOV_MAX: u64 = 1024;
/// The size of a `struct mmsghdr`: a `msghdr`, the 32-bit `msg_len` and padding.
const MMSGHDR: u64 = 64;

/// Options whose values hold a pointer: SO_ATTACH_FILTER and SO_ATTACH_REUSEPORT_CBPF (a
/// `struct sock_fprog`), TCP_ZEROCOPY_RECEIVE (an address to map at).
fn pointer_option(level: u64, name: u64) -> bool {
    const SOL_SOCKET: u64 = 1;
    const IPPROTO_TCP: u64 = 6;
    matches!((level, name), (SOL_SOCKET, 26 | 51) | (IPPROTO_TCP, 35))
}

/// EBADF unless `fd` is open, which Linux checks before reading the arguments.
pub(super) fn check_fd(fd_arg: u64) -> Result<(), i64> {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    if unsafe { libc::fcntl(fd(fd_arg), libc::F_GETFD) } < 0 {
        return Err(EBADF);
    }
    Ok(())
}

impl Process {
    /// A socket address the guest passes in (`move_addr_to_kernel`).
    fn sockaddr_from(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, i64> {
        let len = len as i32;
        if len < 0 || len as usize > SOCKADDR_MAX {
            return Err(EINVAL);
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        self.mem().get(addr, len as u64)
    }

    /// Gives the guest an address of `actual` bytes (`move_addr_to_user`): at most the length
    /// at `len_addr` is copied, and the full length is stored there.
    fn sockaddr_to(&mut self, name: &[u8], actual: u32, addr: u64, len_addr: u64) -> SysResult {
        let room = self.mem().get(len_addr, 4)?;
        let room = i32::from_le_bytes(room.try_into().expect("4 bytes"));
        if room < 0 {
            return Err(EINVAL);
        }
        let n = (actual as usize).min(room as usize).min(name.len());
        if n > 0 {
            self.mem().put(addr, &name[..n])?;
        }
        self.mem().put(len_addr, &actual.to_le_bytes())?;
        Ok(0)
    }

    /// `socketpair(domain, type, protocol, sv)`.
    pub(super) fn sys_socketpair(&mut self, a: &[u64; 6]) -> SysResult {
        let mut sv = [0i32; 2];
        // SAFETY: `sv` holds two descriptors.
        host(i64::from(unsafe {
            libc::socketpair(a[0] as i32, a[1] as i32, a[2] as i32, sv.as_mut_ptr())
        }))?;
        let bytes: Vec<u8> = sv.iter().flat_map(|f| f.to_le_bytes()).collect();
        if let Err(e) = self.mem().put(a[3], &bytes) {
            for f in sv {
                // SAFETY: closing the descriptors just made.
                unsafe { libc::close(f) };
            }
            return Err(e);
        }
        Ok(0)
    }

    /// `bind(fd, addr, len)` and `connect` (`connect` set).
    pub(super) fn sys_bind_connect(&mut self, a: &[u64; 6], connect: bool) -> SysResult {
        check_fd(a[0])?;
        let addr = self.sockaddr_from(a[1], a[2])?;
        let (p, len) = (addr.as_ptr().cast(), addr.len() as libc::socklen_t);
        // SAFETY: `p` points to `len` bytes.
        host(i64::from(unsafe {
            if connect {
                libc::connect(fd(a[0]), p, len)
            } else {
                libc::bind(fd(a[0]), p, len)
            }
        }))
    }

    /// `accept4(fd, addr, addrlen, flags)`; `accept` has no flags.
    pub(super) fn sys_accept4(&mut self, a: &[u64; 6], flags: u64) -> SysResult {
        check_fd(a[0])?;
        let mut name = [0u8; SOCKADDR_MAX];
        let mut len = SOCKADDR_MAX as libc::socklen_t;
        // SAFETY: `name` holds `len` bytes.
        let new = host(i64::from(unsafe {
            libc::accept4(fd(a[0]), name.as_mut_ptr().cast(), &mut len, flags as i32)
        }))?;
        if a[1] != 0 {
            if let Err(e) = self.sockaddr_to(&name, len, a[1], a[2]) {
                // SAFETY: closing the descriptor just made.
                unsafe { libc::close(new as i32) };
                return Err(e);
            }
        }
        Ok(new)
    }

    /// `getsockname(fd, addr, addrlen)` and `getpeername` (`peer` set).
    pub(super) fn sys_getname(&mut self, a: &[u64; 6], peer: bool) -> SysResult {
        check_fd(a[0])?;
        let mut name = [0u8; SOCKADDR_MAX];
        let mut len = SOCKADDR_MAX as libc::socklen_t;
        let p = name.as_mut_ptr().cast();
        // SAFETY: `name` holds `len` bytes.
        host(i64::from(unsafe {
            if peer {
                libc::getpeername(fd(a[0]), p, &mut len)
            } else {
                libc::getsockname(fd(a[0]), p, &mut len)
            }
        }))?;
        self.sockaddr_to(&name, len, a[1], a[2])
    }

    /// `sendto(fd, buf, len, flags, addr, addrlen)`.
    pub(super) fn sys_sendto(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        let addr = if a[4] == 0 {
            Vec::new()
        } else {
            self.sockaddr_from(a[4], a[5])?
        };
        let buf = self.mem().get(a[1], a[2].min(super::syscall::MAX_IO))?;
        let to = if addr.is_empty() {
            std::ptr::null()
        } else {
            addr.as_ptr().cast()
        };
        // SAFETY: `buf` and `addr` hold the lengths given.
        host(unsafe {
            libc::sendto(
                fd(a[0]),
                buf.as_ptr().cast(),
                buf.len(),
                a[3] as i32,
                to,
                addr.len() as libc::socklen_t,
            )
        } as i64)
    }

    /// `recvfrom(fd, buf, len, flags, addr, addrlen)`.
    pub(super) fn sys_recvfrom(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        let len = a[2].min(super::syscall::MAX_IO);
        self.mem().probe_write(a[1], len)?;
        let mut buf = vec![0u8; len as usize];
        let mut name = [0u8; SOCKADDR_MAX];
        let mut name_len = SOCKADDR_MAX as libc::socklen_t;
        // SAFETY: `buf` and `name` hold the lengths given.
        let r = host(unsafe {
            libc::recvfrom(
                fd(a[0]),
                buf.as_mut_ptr().cast(),
                buf.len(),
                a[3] as i32,
                name.as_mut_ptr().cast(),
                &mut name_len,
            )
        } as i64)?;
        self.mem().put(a[1], &buf[..r as usize])?;
        if a[4] != 0 {
            self.sockaddr_to(&name, name_len, a[4], a[5])?;
        }
        Ok(r)
    }

    /// `setsockopt(fd, level, name, value, len)`.
    pub(super) fn sys_setsockopt(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        if (a[4] as i32) < 0 {
            return Err(EINVAL);
        }
        if pointer_option(a[1], a[2]) {
            return Err(ENOPROTOOPT);
        }
        let value = self.mem().get(a[3], u64::from(a[4] as u32).min(OPT_MAX))?;
        // SAFETY: `value` holds the length given.
        host(i64::from(unsafe {
            libc::setsockopt(
                fd(a[0]),
                a[1] as i32,
                a[2] as i32,
                value.as_ptr().cast(),
                value.len() as libc::socklen_t,
            )
        }))
    }

    /// `getsockopt(fd, level, name, value, len)`.
    pub(super) fn sys_getsockopt(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        if pointer_option(a[1], a[2]) {
            return Err(ENOPROTOOPT);
        }
        let room = self.mem().get(a[4], 4)?;
        let room = i32::from_le_bytes(room.try_into().expect("4 bytes"));
        if room < 0 {
            return Err(EINVAL);
        }
        let mut value = vec![0u8; (room as u64).min(OPT_MAX) as usize];
        let mut len = value.len() as libc::socklen_t;
        // SAFETY: `value` holds `len` bytes.
        host(i64::from(unsafe {
            libc::getsockopt(
                fd(a[0]),
                a[1] as i32,
                a[2] as i32,
                value.as_mut_ptr().cast(),
                &mut len,
            )
        }))?;
        let n = (len as usize).min(value.len());
        self.mem().put(a[3], &value[..n])?;
        self.mem().put(a[4], &len.to_le_bytes())?;
        Ok(0)
    }

    /// The fields of a guest `struct msghdr` (56 bytes): name, namelen, iov, iovlen, control,
    /// controllen.
    fn msghdr(&mut self, addr: u64) -> Result<[u64; 6], i64> {
        let raw = self.mem().get(addr, 56)?;
        let word = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().expect("8 bytes"));
        let namelen = u64::from(u32::from_le_bytes(raw[8..12].try_into().expect("4 bytes")));
        let (iovlen, controllen) = (word(24), word(40));
        if iovlen > IOV_MAX {
            return Err(EMSGSIZE);
        }
        if controllen > OPT_MAX {
            return Err(ENOBUFS);
        }
        Ok([word(0), namelen, word(16), iovlen, word(32), controllen])
    }

    /// `sendmsg(fd, msg, flags)`: the data goes as one host buffer, which is one message.
    pub(super) fn sys_sendmsg(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        let [name, namelen, iov, iovlen, control, controllen] = self.msghdr(a[1])?;
        let mut name = if name == 0 {
            Vec::new()
        } else {
            self.sockaddr_from(name, namelen)?
        };
        let iov = self.iovecs(iov, iovlen)?;
        let mut data = Vec::new();
        for &(base, len) in &iov {
            data.extend(self.mem().get(base, len)?);
        }
        let mut control = if controllen == 0 {
            Vec::new()
        } else {
            self.mem().get(control, controllen)?
        };
        let mut host_iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: a zeroed msghdr is valid; its pointers are set to the buffers above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        if !name.is_empty() {
            msg.msg_name = name.as_mut_ptr().cast();
            msg.msg_namelen = name.len() as libc::socklen_t;
        }
        msg.msg_iov = &mut host_iov;
        msg.msg_iovlen = 1;
        if !control.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len();
        }
        // SAFETY: every pointer in `msg` points to a live buffer of the length given.
        host(unsafe { libc::sendmsg(fd(a[0]), &msg, a[2] as i32) } as i64)
    }

    /// `recvmsg(fd, msg, flags)`: received into host buffers, then copied to the guest's, with
    /// the lengths and flags Linux writes back into the `msghdr`.
    pub(super) fn sys_recvmsg(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        let [name_addr, _, iov, iovlen, control_addr, controllen] = self.msghdr(a[1])?;
        self.mem().probe_write(a[1], 56)?;
        let iov = self.iovecs(iov, iovlen)?;
        for &(base, len) in &iov {
            self.mem().probe_write(base, len)?;
        }
        let total: u64 = iov.iter().map(|(_, l)| l).sum();
        let mut data = vec![0u8; total as usize];
        let mut name = [0u8; SOCKADDR_MAX];
        let mut control = vec![0u8; controllen as usize];
        let mut host_iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: a zeroed msghdr is valid; its pointers are set to the buffers above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        if name_addr != 0 {
            msg.msg_name = name.as_mut_ptr().cast();
            msg.msg_namelen = SOCKADDR_MAX as libc::socklen_t;
        }
        msg.msg_iov = &mut host_iov;
        msg.msg_iovlen = 1;
        if !control.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len();
        }
        // SAFETY: every pointer in `msg` points to a live buffer of the length given.
        let r = host(unsafe { libc::recvmsg(fd(a[0]), &mut msg, a[2] as i32) } as i64)?;
        let mut done = 0usize;
        for &(base, len) in &iov {
            let take = (len as usize).min(r as usize - done);
            self.mem().put(base, &data[done..done + take])?;
            done += take;
        }
        if name_addr != 0 {
            self.sockaddr_to(&name, msg.msg_namelen, name_addr, a[1] + 8)?;
        }
        let used = msg.msg_controllen.min(control.len());
        if used > 0 {
            self.mem().put(control_addr, &control[..used])?;
        }
        self.mem().put(a[1] + 40, &(used as u64).to_le_bytes())?;
        self.mem().put(a[1] + 48, &msg.msg_flags.to_le_bytes())?;
        Ok(r)
    }

    /// `sendmmsg(fd, msgvec, vlen, flags)`: each 64-byte `struct mmsghdr` as `sendmsg` sends
    /// it, its `msg_len` set; as Linux's `__sys_sendmmsg`, an error after the first message
    /// ends the call with the count sent.
    pub(super) fn sys_sendmmsg(&mut self, a: &[u64; 6]) -> SysResult {
        check_fd(a[0])?;
        let mut sent = 0u64;
        for i in 0..a[2].min(IOV_MAX) {
            let entry = a[1].wrapping_add(MMSGHDR * i);
            match self.sys_sendmsg(&[a[0], entry, a[3], 0, 0, 0]) {
                Ok(n) => self.mem().put(entry + 56, &(n as u32).to_le_bytes())?,
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
            sent += 1;
        }
        Ok(sent as i64)
    }

    /// `recvmmsg(fd, msgvec, vlen, flags, timeout)`: each `struct mmsghdr` as `recvmsg` fills
    /// it, its `msg_len` set, as Linux's `__sys_recvmmsg` loops: MSG_WAITFORONE makes the
    /// calls after the first non-blocking, the timeout is looked at after each message (and
    /// gets the time left), an out-of-band message ends the batch, and an error after the
    /// first message ends the call with the count received.
    pub(super) fn sys_recvmmsg(&mut self, a: &[u64; 6]) -> SysResult {
        const MSG_OOB: u64 = 1;
        const MSG_DONTWAIT: u64 = 0x40;
        const MSG_WAITFORONE: u64 = 0x1_0000;
        check_fd(a[0])?;
        let deadline = self.deadline_in(a[4])?;
        let mut flags = a[3] & !MSG_WAITFORONE;
        let mut received = 0u64;
        let mut error = None;
        for i in 0..a[2].min(IOV_MAX) {
            let entry = a[1].wrapping_add(MMSGHDR * i);
            match self.sys_recvmsg(&[a[0], entry, flags, 0, 0, 0]) {
                Ok(n) => self.mem().put(entry + 56, &(n as u32).to_le_bytes())?,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            received += 1;
            if a[3] & MSG_WAITFORONE != 0 {
                flags |= MSG_DONTWAIT;
            }
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                break;
            }
            let msg_flags = self.mem().get(entry + 48, 4)?;
            if u64::from(u32::from_le_bytes(msg_flags.try_into().expect("4 bytes"))) & MSG_OOB != 0
            {
                break;
            }
        }
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(std::time::Instant::now());
            let mut t = (left.as_secs() as i64).to_le_bytes().to_vec();
            t.extend(i64::from(left.subsec_nanos()).to_le_bytes());
            self.mem().put(a[4], &t)?;
        }
        match error {
            Some(e) if received == 0 => Err(e),
            _ => Ok(received as i64),
        }
    }
}
