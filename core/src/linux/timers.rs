//! Interval timers and sleeps, performed with the host's: `setitimer`/`getitimer` arm the
//! host's timer of the same kind, whose signal (SIGALRM, SIGVTALRM, SIGPROF) the host signal
//! forwarding ([`super::hostsig`]) delivers to the guest. ITIMER_VIRTUAL and ITIMER_PROF so
//! count armature's CPU time, the emulator's work for the guest, as under qemu-user.
//!
//! A sleep that a forwarded signal interrupts returns EINTR (with the time left, as Linux
//! writes it) only when that signal is ready for delivery; a blocked or ignored one lets the
//! sleep go on, as in Linux. Sleeps are never restarted after a handler, SA_RESTART or not
//! (Linux's `-ERESTART_RESTARTBLOCK` becomes EINTR when a handler runs).

use super::Process;

const EFAULT: i64 = 14;
const EINVAL: i64 = 22;
const EINTR: i64 = 4;

/// `TIMER_ABSTIME` of `clock_nanosleep`.
const TIMER_ABSTIME: u64 = 1;

impl Process {
    /// Reads a `struct timespec` (or `timeval`: two 64-bit words) of the guest.
    fn get_pair(&mut self, addr: u64) -> Result<(i64, i64), i64> {
        let mut b = [0u8; 16];
        self.machine.mem.read(addr, &mut b).map_err(|_| EFAULT)?;
        let word = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        Ok((word(0), word(8)))
    }

    fn put_words(&mut self, addr: u64, words: &[i64]) -> Result<(), i64> {
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
