//! Interval timers and sleeps, performed with the host's: `setitimer`/`getitimer` arm the
//! host's timer of the same kind, whose signal (SIGALRM, SIGVTALRM, SIGPROF) the host signal
//! forwarding ([`super::hostsig`]) delivers to the guest. ITIMER_VIRTUAL and ITIMER_PROF so
//! count armature's CPU time, the emulator's work for the guest, as under qemu-user.
//!
//! POSIX timers (`timer_create` with SIGEV_SIGNAL or SIGEV_NONE, `timer_settime`,
//! `timer_gettime`, `timer_getoverrun`, `timer_delete`) are the host kernel's: the guest's timer
//! id is the host's, and the signal, with its SI_TIMER siginfo and the guest's `sigev_value`,
//! is forwarded like any other. The signal must be one the forwarding catches. With
//! SIGEV_THREAD_ID the host timer aims at the guest thread's host thread (guest thread ids are
//! host ones) and the group records the timer, so that the forwarded signal is queued for that
//! thread. glibc's SIGEV_THREAD uses its internal signal 32, which is not forwarded: ENOTSUP.
//!
//! A sleep that a forwarded signal interrupts returns EINTR (with the time left, as Linux
//! writes it) only when that signal is ready for delivery; a blocked or ignored one lets the
//! sleep go on, as in Linux. Sleeps are never restarted after a handler, SA_RESTART or not
//! (Linux's `-ERESTART_RESTARTBLOCK` becomes EINTR when a handler runs).

use super::Process;

const EFAULT: i64 = 14;
const ENOTSUP: i64 = 95;
const EINVAL: i64 = 22;
const EINTR: i64 = 4;

/// `TIMER_ABSTIME` of `clock_nanosleep`.
const TIMER_ABSTIME: u64 = 1;

impl Process {
    /// Reads a `struct timespec` (or `timeval`: two 64-bit words) of the guest.
    pub(super) fn get_pair(&mut self, addr: u64) -> Result<(i64, i64), i64> {
        let mut b = [0u8; 16];
        self.machine.mem.read(addr, &mut b).map_err(|_| EFAULT)?;
        let word = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        Ok((word(0), word(8)))
    }

    pub(super) fn put_words(&mut self, addr: u64, words: &[i64]) -> Result<(), i64> {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.machine.mem.write(addr, &bytes).map_err(|_| EFAULT)
    }

    /// `getitimer(which, curr_value)`.
    pub(super) fn sys_getitimer(&mut self, which: u64, curr: u64) -> Result<i64, i64> {
        // SAFETY: a zeroed itimerval is valid; the host writes only it.
        let mut it: libc::itimerval = unsafe { std::mem::zeroed() };
        if unsafe { libc::getitimer(which as libc::c_int, &mut it) } != 0 {
            return Err(host_errno());
        }
        self.put_words(curr, &itimerval_words(&it))?;
        Ok(0)
    }

    /// `setitimer(which, new_value, old_value)`.
    pub(super) fn sys_setitimer(&mut self, which: u64, new: u64, old: u64) -> Result<i64, i64> {
        // SAFETY: zeroed itimervals are valid.
        let mut it: libc::itimerval = unsafe { std::mem::zeroed() };
        if new != 0 {
            let (isec, iusec) = self.get_pair(new)?;
            let (sec, usec) = self.get_pair(new + 16)?;
            it.it_interval = libc::timeval {
                tv_sec: isec,
                tv_usec: iusec,
            };
            it.it_value = libc::timeval {
                tv_sec: sec,
                tv_usec: usec,
            };
        }
        // SAFETY: as above.
        let mut before: libc::itimerval = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to host itimervals; a null new value disarms, as in Linux.
        let r = unsafe { libc::setitimer(which as libc::c_int, &it, &mut before) };
        if r != 0 {
            return Err(host_errno());
        }
        if old != 0 {
            self.put_words(old, &itimerval_words(&before))?;
        }
        Ok(0)
    }

    /// `nanosleep(req, rem)`.
    pub(super) fn sys_nanosleep(&mut self, req: u64, rem: u64) -> Result<i64, i64> {
        self.sleep(libc::CLOCK_MONOTONIC as u64, 0, req, rem)
    }

    /// `clock_nanosleep(clockid, flags, req, rem)`: `rem` is written only for a relative sleep.
    pub(super) fn sys_clock_nanosleep(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        self.sleep(a[0], a[1], a[2], a[3])
    }

    fn sleep(&mut self, clock: u64, flags: u64, req: u64, rem: u64) -> Result<i64, i64> {
        let (sec, nsec) = self.get_pair(req)?;
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(EINVAL);
        }
        let mut want = libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        };
        let flags = (flags & TIMER_ABSTIME) as i32;
        loop {
            let mut left = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: both pointers are to host timespecs.
            let r =
                unsafe { libc::clock_nanosleep(clock as libc::clockid_t, flags, &want, &mut left) };
            match r {
                0 => return Ok(0),
                libc::EINTR if self.signal_ready() => {
                    if rem != 0 && flags == 0 {
                        self.put_words(rem, &[left.tv_sec, left.tv_nsec])?;
                    }
                    return Err(EINTR);
                }
                // A signal the guest blocks or ignores: sleep on for what is left.
                libc::EINTR if flags == 0 => want = left,
                libc::EINTR => {}
                e => return Err(i64::from(e)),
            }
        }
    }
}

impl Process {
    /// `ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)` (glibc's `poll` too): the host's `ppoll`
    /// on the guest's descriptors, with the guest's temporary mask deciding which forwarded
    /// signals end it with EINTR (never restarted, as in Linux). The time left is not written
    /// back to `tmo_p`, which glibc does not read.
    pub(super) fn sys_ppoll(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        let nfds = a[1];
        if nfds > 1 << 16 {
            return Err(EINVAL);
        }
        let mut raw = vec![0u8; 8 * nfds as usize];
        self.machine.mem.read(a[0], &mut raw).map_err(|_| EFAULT)?;
        let mut fds: Vec<libc::pollfd> = raw
            .chunks_exact(8)
            .map(|c| libc::pollfd {
                fd: i32::from_le_bytes(c[0..4].try_into().expect("4 bytes")),
                events: i16::from_le_bytes(c[4..6].try_into().expect("2 bytes")),
                revents: 0,
            })
            .collect();
        let deadline = if a[2] == 0 {
            None
        } else {
            let (sec, nsec) = self.get_pair(a[2])?;
            if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                return Err(EINVAL);
            }
            // A deadline beyond what the host's clock can hold is no deadline.
            std::time::Instant::now().checked_add(std::time::Duration::new(sec as u64, nsec as u32))
        };
        let mask = self.temporary_mask(a[3], a[4])?;
        let result = self.wait_host(deadline, mask, |t, wait| {
            // SAFETY: `fds` holds `nfds` host pollfds; the timeout and mask are host values.
            i64::from(unsafe { libc::ppoll(fds.as_mut_ptr(), nfds as libc::nfds_t, t, wait) })
        });
        if result.is_ok() {
            for (c, fd) in raw.chunks_exact_mut(8).zip(&fds) {
                c[6..8].copy_from_slice(&fd.revents.to_le_bytes());
            }
            self.machine.mem.write(a[0], &raw).map_err(|_| EFAULT)?;
        }
        result
    }
}

impl Process {
    /// The temporary signal mask of `ppoll`, `pselect6` and `epoll_pwait`: the sigset at
    /// `addr` (of `size` bytes), or none when `addr` is 0.
    pub(super) fn temporary_mask(&mut self, addr: u64, size: u64) -> Result<Option<u64>, i64> {
        if addr == 0 {
            return Ok(None);
        }
        if size != 8 {
            return Err(EINVAL);
        }
        let mut b = [0u8; 8];
        self.machine.mem.read(addr, &mut b).map_err(|_| EFAULT)?;
        Ok(Some(u64::from_le_bytes(b) & !super::signal::UNBLOCKABLE))
    }

    /// A host wait (`call` gets the host timeout, null for none, and the host signal mask to
    /// wait with) made with the guest's `mask` in place, until it returns, fails with
    /// something else than EINTR, or a signal is ready for the guest (EINTR). The forwarded
    /// signals are blocked between the check and the wait, which unblocks them atomically.
    /// With a temporary mask and EINTR, the handler's frame restores the old mask.
    pub(super) fn wait_host(
        &mut self,
        deadline: Option<std::time::Instant>,
        mask: Option<u64>,
        mut call: impl FnMut(*const libc::timespec, &libc::sigset_t) -> i64,
    ) -> Result<i64, i64> {
        let old_mask = self.signals.mask;
        if let Some(m) = mask {
            self.signals.mask = m;
        }
        let result = super::hostsig::with_forwarded_blocked(|wait| loop {
            if self.signal_ready() {
                break Err(EINTR);
            }
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let left = deadline.map(|d| super::hostsig::time_left(d).unwrap_or(zero));
            let t = left.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
            let n = call(t, wait);
            if n >= 0 {
                break Ok(n);
            }
            let e = host_errno();
            if e != EINTR {
                break Err(e);
            }
        });
        if result == Err(EINTR) && mask.is_some() {
            self.signals.saved_mask = Some(old_mask);
        } else {
            self.signals.mask = old_mask;
        }
        result
    }

    /// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)`: the fd_set layout is
    /// the same on both sides; `sigmask` points at `{ sigset pointer, size }`.
    pub(super) fn sys_pselect6(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        let nfds = a[0] as i64;
        if !(0..=libc::FD_SETSIZE as i64).contains(&nfds) {
            return Err(EINVAL);
        }
        let bytes = (nfds as usize).div_ceil(64) * 8;
        let mut sets = [[0u8; 128]; 3];
        for (set, &addr) in sets.iter_mut().zip(&a[1..4]) {
            if addr != 0 {
                self.machine
                    .mem
                    .read(addr, &mut set[..bytes])
                    .map_err(|_| EFAULT)?;
            }
        }
        let deadline = self.deadline_in(a[4])?;
        let mask = if a[5] == 0 {
            None
        } else {
            let (set, size) = self.get_pair(a[5])?;
            self.temporary_mask(set as u64, size as u64)?
        };
        let mut host_sets = sets;
        let result = self.wait_host(deadline, mask, |t, wait| {
            host_sets = sets;
            let [r, w, e] = std::array::from_fn(|i| {
                if a[1 + i] != 0 {
                    host_sets[i].as_mut_ptr().cast::<libc::fd_set>()
                } else {
                    std::ptr::null_mut()
                }
            });
            // SAFETY: each set is 128 bytes (a host fd_set) or null; the timeout and mask are
            // host values.
            i64::from(unsafe { libc::pselect(nfds as i32, r, w, e, t, wait) })
        });
        if result.is_ok() {
            for (set, &addr) in host_sets.iter().zip(&a[1..4]) {
                if addr != 0 {
                    self.machine
                        .mem
                        .write(addr, &set[..bytes])
                        .map_err(|_| EFAULT)?;
                }
            }
        }
        if let (Some(d), true) = (deadline, a[4] != 0) {
            // Linux writes back the time that was left.
            let left = super::hostsig::time_left(d).unwrap_or(libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
            let _ = self.put_words(a[4], &[left.tv_sec, left.tv_nsec]);
        }
        result
    }

    /// `epoll_ctl(epfd, op, fd, event)`: aarch64's `struct epoll_event` is 16 bytes (events,
    /// padding, data), x86-64's is packed into 12.
    pub(super) fn sys_epoll_ctl(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        if a[3] != 0 {
            let mut b = [0u8; 16];
            if a[1] != libc::EPOLL_CTL_DEL as u64 {
                self.machine.mem.read(a[3], &mut b).map_err(|_| EFAULT)?;
            }
            ev = libc::epoll_event {
                events: u32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
                u64: u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
            };
        }
        // SAFETY: `ev` is a host epoll_event.
        host(libc::c_long::from(unsafe {
            libc::epoll_ctl(a[0] as i32, a[1] as i32, a[2] as i32, &mut ev)
        }))
    }

    /// When a timeout given as a guest `struct timespec *` from now ends (NULL, or one too far
    /// for the host's clock: never); EINVAL for an invalid one.
    pub(super) fn deadline_in(&mut self, addr: u64) -> Result<Option<std::time::Instant>, i64> {
        if addr == 0 {
            return Ok(None);
        }
        let t = self.read_timespec(addr)?;
        Ok(std::time::Instant::now()
            .checked_add(std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)))
    }

    /// `epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)`, with the events
    /// converted to aarch64's layout; with `precise`, `epoll_pwait2`, whose timeout is a
    /// `struct timespec *` (NULL: none) kept to the nanosecond.
    pub(super) fn sys_epoll_pwait(&mut self, a: &[u64; 6], precise: bool) -> Result<i64, i64> {
        let max = a[2] as i32;
        if !(1..=1 << 16).contains(&max) {
            return Err(EINVAL);
        }
        self.machine
            .mem
            .check_write(a[1], 16 * max as u64)
            .map_err(|_| EFAULT)?;
        let deadline = if precise {
            self.deadline_in(a[3])?
        } else {
            let timeout = a[3] as i32;
            (timeout >= 0).then(|| {
                std::time::Instant::now() + std::time::Duration::from_millis(timeout as u64)
            })
        };
        let mask = self.temporary_mask(a[4], a[5])?;
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
        let result = self.wait_host(deadline, mask, |t, wait| {
            if precise {
                // SAFETY: `events` holds `max` host epoll_events; `t` is null or a host
                // timespec; the mask is a host sigset of the kernel's 8 bytes.
                return unsafe {
                    libc::syscall(
                        libc::SYS_epoll_pwait2,
                        a[0] as i32,
                        events.as_mut_ptr(),
                        max,
                        t,
                        std::ptr::from_ref(wait),
                        8usize,
                    )
                };
            }
            // The host timeout in milliseconds, rounded up, or -1 for none.
            // SAFETY: a null or valid host timespec.
            let ms = unsafe { t.as_ref() }.map_or(-1, |t| {
                (t.tv_sec * 1000 + (t.tv_nsec + 999_999) / 1_000_000).min(i64::from(i32::MAX))
                    as i32
            });
            // SAFETY: `events` holds `max` host epoll_events; the mask is a host value.
            i64::from(unsafe { libc::epoll_pwait(a[0] as i32, events.as_mut_ptr(), max, ms, wait) })
        })?;
        let mut out = Vec::with_capacity(16 * result as usize);
        for ev in &events[..result as usize] {
            let (flags, data) = (ev.events, ev.u64);
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&data.to_le_bytes());
        }
        self.machine.mem.write(a[1], &out).map_err(|_| EFAULT)?;
        Ok(result)
    }
}

/// `sigev_notify` values.
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;

/// A host system call's result: -1 means errno.
fn host(r: libc::c_long) -> Result<i64, i64> {
    if r < 0 {
        Err(host_errno())
    } else {
        Ok(r)
    }
}

impl Process {
    /// `timer_create(clockid, sevp, timerid)`.
    pub(super) fn sys_timer_create(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        // struct sigevent (64 bytes): sigev_value, sigev_signo, sigev_notify, then the union.
        let mut ev = [0u8; 64];
        let mut thread = None;
        let evp = if a[1] == 0 {
            // Linux's default: SIGEV_SIGNAL with SIGALRM, which is forwarded.
            std::ptr::null()
        } else {
            self.machine.mem.read(a[1], &mut ev).map_err(|_| EFAULT)?;
            let signo = i32::from_le_bytes(ev[8..12].try_into().expect("4 bytes"));
            let notify = i32::from_le_bytes(ev[12..16].try_into().expect("4 bytes"));
            match notify {
                SIGEV_NONE => {}
                SIGEV_SIGNAL if super::hostsig::forwarded(signo) => {}
                SIGEV_SIGNAL if !(1..=super::signal::NSIG).contains(&signo) => return Err(EINVAL),
                SIGEV_THREAD_ID if super::hostsig::forwarded(signo) => {
                    let tid = u32::from_le_bytes(ev[16..20].try_into().expect("4 bytes"));
                    if tid != self.tid && !self.threads.contains(tid) {
                        return Err(EINVAL);
                    }
                    thread = Some(tid);
                }
                // A signal the host would not hand over, or a thread to aim at.
                _ => return Err(ENOTSUP),
            }
            ev.as_ptr()
        };
        // The id's place must be writable before a timer exists that could not be reported.
        let mut was = [0u8; 4];
        self.machine.mem.read(a[2], &mut was).map_err(|_| EFAULT)?;
        self.machine.mem.write(a[2], &was).map_err(|_| EFAULT)?;
        let mut id: libc::c_int = 0;
        // SAFETY: the sigevent is 64 host bytes (or null), the id a host int.
        host(unsafe {
            libc::syscall(
                libc::SYS_timer_create,
                a[0] as libc::clockid_t,
                evp,
                &mut id as *mut libc::c_int,
            )
        })?;
        self.machine
            .mem
            .write(a[2], &id.to_le_bytes())
            .map_err(|_| EFAULT)?;
        if let Some(tid) = thread {
            super::signal::lock(&self.threads.thread_timers).push((id, tid));
        }
        Ok(0)
    }

    /// `timer_settime(timerid, flags, new_value, old_value)`.
    pub(super) fn sys_timer_settime(&mut self, a: &[u64; 6]) -> Result<i64, i64> {
        // struct itimerspec: it_interval, it_value, both timespecs of two 64-bit words.
        let mut new = [0u8; 32];
        self.machine.mem.read(a[2], &mut new).map_err(|_| EFAULT)?;
        let mut old = [0u8; 32];
        // SAFETY: both buffers are 32 host bytes, the kernel's itimerspec.
        host(unsafe {
            libc::syscall(
                libc::SYS_timer_settime,
                a[0] as libc::c_int,
                a[1] as libc::c_int,
                new.as_ptr(),
                old.as_mut_ptr(),
            )
        })?;
        if a[3] != 0 {
            self.machine.mem.write(a[3], &old).map_err(|_| EFAULT)?;
        }
        Ok(0)
    }

    /// `timer_gettime(timerid, curr_value)`.
    pub(super) fn sys_timer_gettime(&mut self, id: u64, curr: u64) -> Result<i64, i64> {
        let mut cur = [0u8; 32];
        // SAFETY: the buffer is 32 host bytes, the kernel's itimerspec.
        host(unsafe {
            libc::syscall(libc::SYS_timer_gettime, id as libc::c_int, cur.as_mut_ptr())
        })?;
        self.machine.mem.write(curr, &cur).map_err(|_| EFAULT)?;
        Ok(0)
    }

    /// `timer_getoverrun(timerid)` and `timer_delete(timerid)`, which only take the id.
    pub(super) fn sys_timer_id(&mut self, number: libc::c_long, id: u64) -> Result<i64, i64> {
        if number == libc::SYS_timer_delete {
            super::signal::lock(&self.threads.thread_timers).retain(|(t, _)| *t != id as i32);
        }
        // SAFETY: the call only takes an integer.
        host(unsafe { libc::syscall(number, id as libc::c_int) })
    }
}

/// `struct itimerval` as four 64-bit words (interval, then value).
fn itimerval_words(it: &libc::itimerval) -> [i64; 4] {
    [
        it.it_interval.tv_sec,
        it.it_interval.tv_usec,
        it.it_value.tv_sec,
        it.it_value.tv_usec,
    ]
}

fn host_errno() -> i64 {
    i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(22))
}
