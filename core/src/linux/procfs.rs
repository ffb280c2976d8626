//! The guest's view of `/proc/self`: `maps` lists the guest's mappings, `auxv` its auxiliary
//! vector and `cmdline` its arguments, as qemu-user fakes them; opening one gives a memfd with the text made at
//! that moment. `/proc/self/exe` is handled with the other paths (`Process::guest_path`).

use std::io::Write as _;

use super::stack::{STACK_SIZE, STACK_TOP};
use super::Process;

impl Process {
    /// The contents of the `/proc` file at `path` when armature fakes it.
    pub(super) fn proc_file(&self, path: &[u8]) -> Option<Vec<u8>> {
        let rest = path.strip_prefix(b"/proc/")?;
        let (who, file) = rest.split_at(rest.iter().position(|&b| b == b'/')?);
        let own = who == b"self"
            || who == b"thread-self"
            || who == self.pid.to_string().as_bytes()
            || who == self.tid.to_string().as_bytes();
        if !own {
            return None;
        }
        match file {
            b"/maps" => Some(self.maps()),
            b"/cmdline" => Some(self.cmdline.clone()),
            b"/auxv" => Some(
                self.auxv
                    .iter()
                    .chain(&[(0, 0)])
                    .flat_map(|(k, v)| k.to_le_bytes().into_iter().chain(v.to_le_bytes()))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `/proc/self/maps`: one line per mapping in Linux's format, with the program and its
    /// dynamic linker, `[heap]` and `[stack]` named.
    fn maps(&self) -> Vec<u8> {
        let brk = *super::signal::lock(&self.threads.brk);
        // Adjacent mappings with the same permissions and name are one line, as Linux merges
        // such areas.
        let mut areas: Vec<(u64, u64, crate::mem::Perms, bool, String)> = Vec::new();
        for (start, r) in self.machine.mem.mappings() {
            let end = start + r.len;
            let image = self
                .images
                .iter()
                .find(|(lo, hi, _)| start >= *lo && end <= *hi);
            let name = if let Some((_, _, path)) = image {
                path.display().to_string()
            } else if start >= self.brk_start
                && end <= brk.next_multiple_of(4096).max(self.brk_start)
            {
                "[heap]".to_string()
            } else if start >= STACK_TOP - STACK_SIZE && end <= STACK_TOP {
                "[stack]".to_string()
            } else {
                String::new()
            };
            match areas.last_mut() {
                Some(last)
                    if last.1 == start
                        && last.2 == r.perms
                        && last.3 == r.shared
                        && last.4 == name =>
                {
                    last.1 = end;
                }
                _ => areas.push((start, end, r.perms, r.shared, name)),
            }
        }
        let mut out = Vec::new();
        for (start, end, perms, shared, name) in areas {
            let flag = |on: bool, c: char| if on { c } else { '-' };
            let line = format!(
                "{start:08x}-{end:08x} {}{}{}{} 00000000 00:00 0",
                flag(perms.read, 'r'),
                flag(perms.write, 'w'),
                flag(perms.exec, 'x'),
                if shared { 's' } else { 'p' },
            );
            let _ = if name.is_empty() {
                writeln!(out, "{line}")
            } else {
                writeln!(out, "{line:<73}{name}")
            };
        }
        out
    }

    /// A file descriptor reading `contents` from the start (a memfd).
    pub(super) fn memfd_with(contents: &[u8]) -> Result<i64, i64> {
        // SAFETY: a NUL-terminated name and plain flags.
        let fd = unsafe { libc::memfd_create(c"armature-proc".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(i64::from(
                std::io::Error::last_os_error().raw_os_error().unwrap_or(12),
            ));
        }
        let mut done = 0;
        while done < contents.len() {
            // SAFETY: the rest of `contents` is valid for reading.
            let n =
                unsafe { libc::write(fd, contents[done..].as_ptr().cast(), contents.len() - done) };
            if n <= 0 {
                // SAFETY: closing the descriptor made above.
                unsafe { libc::close(fd) };
                return Err(5); // EIO
            }
            done += n as usize;
        }
        // SAFETY: plain integers.
        unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
        Ok(i64::from(fd))
    }
}
