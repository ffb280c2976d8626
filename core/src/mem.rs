//! Guest memory: one little-endian address space with page permissions, shared by the guest's
//! threads.
//!
//! The guest's addresses `[0, GUEST_SPACE)` are a host reservation made once (with an
//! inaccessible guard after it): guest address `a` is host address `base + a`, like
//! qemu-user's `guest_base`. What the guest may do with a page is a byte in a permission table
//! that every access checks first; an access outside a mapping or against its permissions is
//! a [`Fault`], which user mode turns into SIGSEGV.
//!
//! The host protection of a page follows its permission byte in one respect: a page the guest
//! can neither read nor execute (unmapped, or `PROT_NONE`) is inaccessible to the host too,
//! and every other mapped page is readable and writable by the host. So the JIT may load
//! from guest memory without reading the table: a load the guest may not make faults in the
//! host, where the JIT turns it back into the interpreter's guest fault. A host access that
//! raced with another guest thread's unmap of its page faults in the host the same way.
//!
//! Guest threads share one [`Memory`] (`Memory::share`). Accesses of 1-8 bytes are, on x86-64,
//! one `mov` in inline assembly (opaque to Rust's memory model) and elsewhere, when naturally
//! aligned, relaxed host atomics (`Memory::fence` orders them), so racing guest threads are
//! no data race in armature; see [`Memory::read_u64`] for the others.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub const PAGE_SIZE: u64 = 4096;

/// The size of the guest address space: guest addresses at or above it are never mapped.
pub const GUEST_SPACE: u64 = 1 << 40;

/// Access permissions of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Perms {
    pub const RW: Perms = Perms {
        read: true,
        write: true,
        exec: false,
    };
    pub const RX: Perms = Perms {
        read: true,
        write: false,
        exec: true,
    };
    pub const R: Perms = Perms {
        read: true,
        write: false,
        exec: false,
    };

    /// The permission-table byte of a mapped page with these permissions.
    fn bits(self) -> u8 {
        P_MAPPED
            | if self.read { P_READ } else { 0 }
            | if self.write { P_WRITE } else { 0 }
            | if self.exec { P_EXEC } else { 0 }
            | if self.write && !self.exec {
                P_DATA_WRITE
            } else {
                0
            }
    }
}

/// Permission-table bits ([`Memory::page_table`]). A byte of 0 is an unmapped page.
pub const P_READ: u8 = 1;
pub const P_WRITE: u8 = 2;
pub const P_EXEC: u8 = 4;
pub const P_MAPPED: u8 = 8;
/// Set with `P_WRITE` on a page that is not executable: a store there cannot change code, so
/// a fast path tests this one bit (the JIT's inline stores).
pub const P_DATA_WRITE: u8 = 16;

/// Why a guest access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No mapping at the address (SEGV_MAPERR).
    Unmapped,
    /// A mapping without the needed permission (SEGV_ACCERR).
    Permission,
    /// A misaligned address where the access must be aligned (`AArch64.CheckAlignment`:
    /// exclusive, atomic and ordered accesses without FEAT_LSE2): SIGBUS with BUS_ADRALN.
    Alignment,
}

/// A failed guest access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub addr: u64,
    pub kind: FaultKind,
    pub write: bool,
}

/// A mapping that cannot be made: `[addr, addr + len)` is not inside the guest address space,
/// or the host has no memory mapping left for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot map {addr:#x}+{len:#x} (the guest address space ends at {GUEST_SPACE:#x})")]
pub struct OutOfSpace {
    pub addr: u64,
    pub len: u64,
}

/// One guest mapping, as `/proc/self/maps` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub len: u64,
    pub perms: Perms,
    /// Private anonymous memory, which `MADV_DONTNEED` gives back as zeroes
    /// ([`Memory::discard`]); file-backed and shared mappings keep their contents there.
    pub anonymous: bool,
    /// Shared memory on the host ([`Memory::back_shared`]): a file's pages or memory a forked
    /// child shares.
    pub shared: bool,
    /// Whether the host pages may be writable: not for the shared pages of a file opened
    /// read-only, which no `mprotect` makes writable (Linux refuses it with EACCES).
    pub host_writable: bool,
}

/// What backs shared guest memory on the host ([`Memory::back_shared`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// `MAP_SHARED | MAP_ANONYMOUS`: memory that a forked child shares.
    Anonymous,
    /// The pages of the open file `fd` from `offset`, of which `len` bytes exist (the pages
    /// past the file's end stay private zeroes: a host access there would be a host
    /// SIGBUS); `writable` when `fd` was opened for writing.
    File {
        fd: i32,
        offset: u64,
        len: u64,
        writable: bool,
    },
}

/// The reservation, the permission table and the mapping list of one guest address space.
/// Where a space's memory and permission table are in the host: copied into every
/// [`Memory`] handle, so that an access reaches them without going through the `Arc`.
#[derive(Clone, Copy)]
struct View {
    /// The host address of guest address 0.
    base: *mut u8,
    /// One byte of `P_*` bits per guest page.
    table: *const AtomicU8,
}

// SAFETY: a `View` points into the host mappings of a `Space`, which live as long as the
// `Space`; every `View` is held next to an `Arc` of its `Space`. Guest memory is accessed
// through atomics or the documented plain copies, the table only through atomics.
unsafe impl Send for View {}
unsafe impl Sync for View {}

struct Space {
    view: View,
    /// Mappings by start address; they never overlap and are page aligned. The lock also
    /// serializes changes of the permission table.
    regions: Mutex<BTreeMap<u64, Region>>,
    /// Changes whenever executable memory may have changed (a write to an executable page, or
    /// a mapping change that touches one), so that decoded-instruction caches know when to
    /// drop what they hold.
    code_generation: AtomicU64,
}

const TABLE_SIZE: usize = (GUEST_SPACE / PAGE_SIZE) as usize;

/// Inaccessible host memory after the guest space: an access of up to this many bytes that
/// starts below [`GUEST_SPACE`] faults in the host rather than reach past the reservation.
pub const GUEST_GUARD: u64 = 1 << 16;

/// Whether the host may read a page with these permission bits: the guest may read or
/// execute it (instruction fetch reads it through the host).
fn host_readable(bits: u8) -> bool {
    bits & (P_READ | P_EXEC) != 0
}

/// The host protection of guest pages: readable and, where the host mapping allows it,
/// writable (the permission table checks guest writes), or inaccessible.
fn host_prot(readable: bool, writable: bool) -> i32 {
    match (readable, writable) {
        (false, _) => libc::PROT_NONE,
        (true, true) => libc::PROT_READ | libc::PROT_WRITE,
        (true, false) => libc::PROT_READ,
    }
}

/// `mmap` of fresh private anonymous memory, not counted against the commit limit.
fn host_mmap(at: *mut u8, len: usize, prot: i32, fixed: bool) -> std::io::Result<*mut u8> {
    let flags = libc::MAP_PRIVATE
        | libc::MAP_ANONYMOUS
        | libc::MAP_NORESERVE
        | if fixed { libc::MAP_FIXED } else { 0 };
    // SAFETY: an anonymous mapping; with MAP_FIXED, `at` is inside the reservation this
    // `Space` owns.
    let p = unsafe { libc::mmap(at.cast(), len, prot, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(p.cast())
}

/// A reservation of host address space.
fn reserve(len: usize, prot: i32) -> std::io::Result<*mut u8> {
    host_mmap(std::ptr::null_mut(), len, prot, false)
}

impl Space {
    fn new() -> std::io::Result<Space> {
        let base = reserve((GUEST_SPACE + GUEST_GUARD) as usize, libc::PROT_NONE)?;
        let table = match reserve(TABLE_SIZE, libc::PROT_READ | libc::PROT_WRITE) {
            Ok(t) => t,
            Err(e) => {
                // SAFETY: the reservation just made, which nothing refers to.
                unsafe { libc::munmap(base.cast(), (GUEST_SPACE + GUEST_GUARD) as usize) };
                return Err(e);
            }
        };
        Ok(Space {
            view: View {
                base,
                table: table.cast(),
            },
            regions: Mutex::new(BTreeMap::new()),
            code_generation: AtomicU64::new(0),
        })
    }

    fn bump_code(&self) {
        self.code_generation.fetch_add(1, Ordering::Release);
    }
}

impl View {
    /// The permission byte of the page holding `addr` (0 outside the guest space).
    #[inline(always)]
    fn page(&self, addr: u64) -> u8 {
        if addr >= GUEST_SPACE {
            return 0;
        }
        // SAFETY: `addr / PAGE_SIZE < TABLE_SIZE`.
        unsafe { (*self.table.add((addr / PAGE_SIZE) as usize)).load(Ordering::Relaxed) }
    }

    /// Sets the permission byte of the pages of `[addr, addr + len)`, and their host
    /// protection to match: a page the guest can neither read nor execute is inaccessible to
    /// the host as well, so that a compiled load from it faults in the host (see
    /// [`Memory::host_base`]). With `fresh`, the pages are a new host mapping, readable.
    fn set_pages(&self, addr: u64, len: u64, bits: u8, fresh: bool) {
        for page in (addr / PAGE_SIZE)..((addr + len) / PAGE_SIZE) {
            // SAFETY: the caller checked `addr + len <= GUEST_SPACE`.
            unsafe { (*self.table.add(page as usize)).store(bits, Ordering::Relaxed) };
        }
        if !fresh || !host_readable(bits) {
            self.protect_host(addr, len, host_readable(bits));
        }
    }

    /// Makes the host pages of `[addr, addr + len)` readable and writable, or inaccessible.
    fn protect_host(&self, addr: u64, len: u64, readable: bool) {
        self.protect_host_as(addr, len, host_prot(readable, true));
    }

    /// Gives the host pages of `[addr, addr + len)` the protection `prot`.
    fn protect_host_as(&self, addr: u64, len: u64, prot: i32) {
        if len == 0 {
            return;
        }
        // SAFETY: `[addr, addr + len)` is inside the reservation, which is all host mappings
        // of this space; only their protection changes.
        unsafe { libc::mprotect(self.host(addr).cast(), len as usize, prot) };
    }

    /// The host address of guest address `addr`, which must be below `GUEST_SPACE`.
    #[inline(always)]
    fn host(&self, addr: u64) -> *mut u8 {
        // SAFETY: `addr < GUEST_SPACE`, the reservation's size.
        unsafe { self.base.add(addr as usize) }
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: both mappings were made by `Space::new` with these sizes and nothing
        // refers to them once the last `Memory` is gone.
        unsafe {
            libc::munmap(self.view.base.cast(), (GUEST_SPACE + GUEST_GUARD) as usize);
            libc::munmap(self.view.table as *mut libc::c_void, TABLE_SIZE);
        }
    }
}

/// A guest address space; [`Memory::share`] gives another handle to the same one (another
/// guest thread), `Default` a new empty one.
pub struct Memory {
    space: Arc<Space>,
    view: View,
}

impl Default for Memory {
    /// A new address space; panics when the host refuses the reservation (see
    /// [`Memory::new`] for the fallible form).
    fn default() -> Self {
        Memory::new().unwrap_or_else(|e| {
            panic!("armature: cannot reserve the {GUEST_SPACE:#x}-byte guest address space: {e}")
        })
    }
}

/// Strips the top byte of a data address (top-byte-ignore, as Linux enables it for EL0).
pub fn tbi(addr: u64) -> u64 {
    ((addr << 8) as i64 >> 8) as u64
}

/// What an access needs from each page it touches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Write,
    Exec,
    /// A read-modify-write (atomics): readable and writable.
    Modify,
    /// Mapped, whatever the permissions (the loader).
    Mapped,
}

/// Serializes the atomic operations that are not naturally aligned, which host atomics
/// cannot do: they are atomic with respect to each other only.
static MISALIGNED: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memory {
    /// A new, empty address space: a host reservation of [`GUEST_SPACE`] bytes (and its
    /// permission table), which fails when the host refuses it (a `ulimit -v` below it).
    pub fn new() -> std::io::Result<Memory> {
        let space = Arc::new(Space::new()?);
        Ok(Memory {
            view: space.view,
            space,
        })
    }

    /// Another handle to the same address space, for another guest thread.
    pub fn share(&self) -> Memory {
        Memory {
            space: Arc::clone(&self.space),
            view: self.view,
        }
    }

    /// The host address of guest address 0, for host calls that take guest memory in place
    /// (`futex`): guest address `a` is host address `host_base() + a` below [`GUEST_SPACE`].
    pub fn host_base(&self) -> usize {
        self.view.base as usize
    }

    /// The host address of the permission table: one byte of `P_*` bits per guest page, the
    /// byte of guest address `a` (below [`GUEST_SPACE`]) at `page_table() + a / PAGE_SIZE`,
    /// read with relaxed atomic loads. For a JIT that checks accesses inline as
    /// [`Memory::read_u64`] does: the table and the reservation live as long as the space.
    pub fn page_table(&self) -> usize {
        self.view.table as usize
    }

    /// Runs `f` with the mapping list locked, so that no other thread holds the lock while
    /// `f` runs (a host `fork` in `f` gives the child an unlocked copy).
    pub fn while_locked<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.regions();
        f()
    }

    fn regions(&self) -> MutexGuard<'_, BTreeMap<u64, Region>> {
        lock(&self.space.regions)
    }

    /// Maps `[addr, addr + len)` (page aligned) with zeroes, replacing what was there.
    pub fn map(&self, addr: u64, len: u64, perms: Perms) -> Result<(), OutOfSpace> {
        let mut regions = self.regions();
        self.map_locked(&mut regions, addr, len, perms)
    }

    /// Maps `[addr, addr + len)` like [`Memory::map`] only when no byte of it is mapped yet,
    /// in one step that no other thread's mapping change interleaves with; `Ok(false)` when
    /// part of it was mapped.
    pub fn map_if_free(&self, addr: u64, len: u64, perms: Perms) -> Result<bool, OutOfSpace> {
        let mut regions = self.regions();
        if overlaps(&regions, addr, len) {
            return Ok(false);
        }
        self.map_locked(&mut regions, addr, len, perms)?;
        Ok(true)
    }

    /// Maps `len` bytes at the first gap at or above `hint` that ends below `limit`, in one
    /// step; gives the address.
    pub fn map_free(&self, hint: u64, len: u64, limit: u64, perms: Perms) -> Option<u64> {
        let mut regions = self.regions();
        let at = find_free(&regions, hint, len, limit)?;
        self.map_locked(&mut regions, at, len, perms).ok()?;
        Some(at)
    }

    fn map_locked(
        &self,
        regions: &mut BTreeMap<u64, Region>,
        addr: u64,
        len: u64,
        perms: Perms,
    ) -> Result<(), OutOfSpace> {
        debug_assert!(addr.is_multiple_of(PAGE_SIZE) && len.is_multiple_of(PAGE_SIZE));
        if addr.checked_add(len).is_none_or(|end| end > GUEST_SPACE) {
            return Err(OutOfSpace { addr, len });
        }
        self.unmap_locked(regions, addr, len);
        if len == 0 {
            return Ok(());
        }
        // Fresh zero pages, readable and writable by the host from now on.
        host_mmap(
            self.view.host(addr),
            len as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            true,
        )
        .map_err(|_| OutOfSpace { addr, len })?;
        regions.insert(
            addr,
            Region {
                len,
                perms,
                anonymous: true,
                shared: false,
                host_writable: true,
            },
        );
        self.view.set_pages(addr, len, perms.bits(), true);
        if perms.exec {
            self.space.bump_code();
        }
        Ok(())
    }

    /// Removes every mapping in `[addr, addr + len)`, splitting mappings that straddle it.
    pub fn unmap(&self, addr: u64, len: u64) {
        let mut regions = self.regions();
        self.unmap_locked(&mut regions, addr, len);
    }

    fn unmap_locked(&self, regions: &mut BTreeMap<u64, Region>, addr: u64, len: u64) {
        let end = addr.saturating_add(len).min(GUEST_SPACE);
        if addr >= end {
            return;
        }
        let starts: Vec<u64> = regions.range(..end).map(|(s, _)| *s).collect();
        for start in starts {
            let region = regions[&start];
            let region_end = start + region.len;
            if region_end <= addr {
                continue;
            }
            regions.remove(&start);
            if start < addr {
                regions.insert(
                    start,
                    Region {
                        len: addr - start,
                        ..region
                    },
                );
            }
            if region_end > end {
                regions.insert(
                    end,
                    Region {
                        len: region_end - end,
                        ..region
                    },
                );
            }
            let (from, to) = (start.max(addr), region_end.min(end));
            self.view.set_pages(from, to - from, 0, false);
            self.drop_pages(from, to, region.perms.exec);
        }
    }

    /// Gives the memory of `[from, to)` (inside the reservation) back to the host: its pages
    /// read as zeroes again. With `code`, decoded code is stale.
    fn drop_pages(&self, from: u64, to: u64, code: bool) {
        // SAFETY: `[from, to)` is inside the reservation; the host mapping stays.
        unsafe {
            libc::madvise(
                self.view.host(from).cast(),
                (to - from) as usize,
                libc::MADV_DONTNEED,
            );
        }
        if code {
            self.space.bump_code();
        }
    }

    /// Marks the mappings that start in `[addr, addr + len)` (those a `map` of that range
    /// made) as file-backed or shared: [`Memory::discard`]
    /// leaves their contents alone. (armature copies a file mapping's contents in, so it
    /// cannot fetch them again as Linux does for a private file mapping.)
    pub fn keep_contents(&self, addr: u64, len: u64) {
        let mut regions = self.regions();
        let end = addr.saturating_add(len);
        for (_, region) in regions.range_mut(addr..end) {
            region.anonymous = false;
        }
    }

    /// Makes the mapped `[addr, addr + len)` (one `map` just made) shared memory on the host,
    /// backed as `backing` says, so that its writes reach the file (or a forked child) and
    /// the file's changes reach it. Fails, changing nothing, when the host cannot map the
    /// file (a descriptor that does not map, a device).
    pub fn back_shared(&self, addr: u64, len: u64, backing: Backing) -> std::io::Result<()> {
        let mut regions = self.regions();
        let end = addr.saturating_add(len).min(GUEST_SPACE);
        let Some((_, region)) = find(&regions, addr) else {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        };
        let readable = host_readable(region.perms.bits());
        let (fd, offset, host_len, flags, writable) = match backing {
            Backing::Anonymous => (
                -1,
                0,
                end - addr,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                true,
            ),
            Backing::File {
                fd,
                offset,
                len: file_len,
                writable,
            } => (
                fd,
                offset,
                file_len.next_multiple_of(PAGE_SIZE).min(end - addr),
                libc::MAP_SHARED,
                writable,
            ),
        };
        if host_len > 0 {
            // SAFETY: `[addr, addr + host_len)` is inside the reservation this space owns; the
            // new host mapping replaces the pages `map` made there.
            let p = unsafe {
                libc::mmap(
                    self.view.host(addr).cast(),
                    host_len as usize,
                    host_prot(readable, writable),
                    flags | libc::MAP_FIXED,
                    fd,
                    offset as libc::off_t,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
        }
        if !writable {
            // The private pages past the file's end follow the same rule.
            self.view.protect_host_as(
                addr + host_len,
                end - addr - host_len,
                host_prot(readable, false),
            );
        }
        let mut code = false;
        for (_, region) in regions.range_mut(addr..end) {
            region.anonymous = false;
            region.shared = true;
            region.host_writable = writable;
            code |= region.perms.exec;
        }
        if code {
            // The pages now hold the file's bytes, not the zeroes `map` gave them.
            self.space.bump_code();
        }
        Ok(())
    }

    /// Whether part of `[addr, addr + len)` is the shared mapping of a file opened read-only,
    /// which Linux refuses to make writable (`mprotect` gives EACCES).
    pub fn shared_read_only(&self, addr: u64, len: u64) -> bool {
        let regions = self.regions();
        let end = addr.saturating_add(len);
        let first = find(&regions, addr).map_or(addr, |(start, _)| start);
        regions
            .range(first..end)
            .any(|(_, r)| r.shared && !r.host_writable)
    }

    /// `madvise(MADV_DONTNEED)`: the private anonymous pages of `[addr, addr + len)` read as
    /// zeroes again, and their memory goes back to the host; other mappings keep their
    /// contents. Like Linux, it discards every mapped part and then fails with the first
    /// unmapped address when part of the range is unmapped.
    pub fn discard(&self, addr: u64, len: u64) -> Result<(), Fault> {
        let regions = self.regions();
        let end = addr.saturating_add(len).min(GUEST_SPACE);
        let mut at = addr;
        let mut gap = None;
        let first = find(&regions, addr).map_or(addr, |(start, _)| start);
        for (&start, region) in regions.range(first..end) {
            if start > at && gap.is_none() {
                gap = Some(at);
            }
            let (from, to) = (start.max(addr), (start + region.len).min(end));
            at = to;
            if !region.anonymous || from >= to {
                continue;
            }
            self.drop_pages(from, to, region.perms.exec);
        }
        if at < end && gap.is_none() {
            gap = Some(at);
        }
        match gap {
            Some(addr) => Err(Fault {
                addr,
                kind: FaultKind::Unmapped,
                write: false,
            }),
            None => Ok(()),
        }
    }

    /// Changes the permissions of `[addr, addr + len)`; fails if part of it is unmapped.
    pub fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), Fault> {
        let mut regions = self.regions();
        let end = addr.saturating_add(len);
        let mut at = addr;
        while at < end {
            let (start, region) = find(&regions, at).ok_or(Fault {
                addr: at,
                kind: FaultKind::Unmapped,
                write: false,
            })?;
            at = start + region.len;
        }
        // Split at both ends, then set the permissions of every piece inside.
        for cut in [addr, end] {
            if let Some((start, region)) = find(&regions, cut).filter(|(s, _)| *s < cut) {
                regions.insert(
                    start,
                    Region {
                        len: cut - start,
                        ..region
                    },
                );
                regions.insert(
                    cut,
                    Region {
                        len: start + region.len - cut,
                        ..region
                    },
                );
            }
        }
        for (_, region) in regions.range_mut(addr..end) {
            region.perms = perms;
        }
        // The table (which makes pages the guest cannot read inaccessible to the host); then
        // the host pages of each mapping the guest can read, as far as its host mapping allows
        // (a read-only file's shared pages stay read-only).
        self.view.set_pages(addr, end - addr, perms.bits(), true);
        if host_readable(perms.bits()) {
            for (&start, region) in regions.range(addr..end) {
                let prot = host_prot(true, region.host_writable);
                self.view.protect_host_as(start, region.len, prot);
            }
        }
        // Executable pages may gain or lose their permission: decoded code is stale.
        self.space.bump_code();
        Ok(())
    }

    /// Changes whenever executable memory may have changed; see [`Space`].
    #[inline]
    pub fn code_generation(&self) -> u64 {
        self.space.code_generation.load(Ordering::Acquire)
    }

    /// The mappings, in address order: start, length and permissions.
    pub fn mappings(&self) -> Vec<(u64, Region)> {
        self.regions().iter().map(|(s, r)| (*s, *r)).collect()
    }

    /// The permissions of `[addr, addr + len)` when it is all mapped with the same ones
    /// (possibly by several adjacent mappings).
    pub fn perms_of(&self, addr: u64, len: u64) -> Option<Perms> {
        let end = addr.checked_add(len)?;
        let regions = self.regions();
        let (start, region) = find(&regions, addr)?;
        let perms = region.perms;
        let mut at = start + region.len;
        while at < end {
            let (next, r) = find(&regions, at)?;
            if r.perms != perms {
                return None;
            }
            at = next + r.len;
        }
        Some(perms)
    }

    /// Whether any byte of `[addr, addr + len)` is mapped.
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        overlaps(&self.regions(), addr, len)
    }

    /// The first gap of `len` bytes at or above `hint`, below `limit` (and the guest space's
    /// end).
    pub fn find_free(&self, hint: u64, len: u64, limit: u64) -> Option<u64> {
        find_free(&self.regions(), hint, len, limit)
    }

    /// Checks `[addr, addr + len)` page by page for `need`, giving the first bad address.
    fn check_range(&self, addr: u64, len: u64, need: Need) -> Result<(), Fault> {
        let write = matches!(need, Need::Write | Need::Modify);
        let mut at = addr;
        let end = addr.wrapping_add(len);
        while at != end {
            let p = self.view.page(at);
            let ok = p & P_MAPPED != 0
                && match need {
                    Need::Read => p & P_READ != 0,
                    Need::Write => p & P_WRITE != 0,
                    Need::Exec => p & P_EXEC != 0,
                    Need::Modify => p & (P_READ | P_WRITE) == P_READ | P_WRITE,
                    Need::Mapped => true,
                };
            if !ok {
                let kind = if p & P_MAPPED == 0 {
                    FaultKind::Unmapped
                } else {
                    FaultKind::Permission
                };
                return Err(Fault {
                    addr: at,
                    kind,
                    write,
                });
            }
            let next = (at - at % PAGE_SIZE).wrapping_add(PAGE_SIZE);
            if end.wrapping_sub(at) <= next.wrapping_sub(at) {
                break;
            }
            at = next;
        }
        Ok(())
    }

    /// Whether `[addr, addr + len)` touches an executable page (a write there is a code
    /// change). Called after `check_range` succeeded, so every page is mapped.
    fn touches_code(&self, addr: u64, len: u64) -> bool {
        let last = addr + len.max(1) - 1;
        (addr / PAGE_SIZE..=last / PAGE_SIZE).any(|p| self.view.page(p * PAGE_SIZE) & P_EXEC != 0)
    }

    /// Checks that `[addr, addr + len)` could be written now, without writing.
    pub fn check_write(&self, addr: u64, len: u64) -> Result<(), Fault> {
        self.check_range(addr, len, Need::Write)
    }

    /// Reads `buf.len()` bytes, crossing mappings as needed.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Fault> {
        self.check_range(addr, buf.len() as u64, Need::Read)?;
        // SAFETY: every byte is in a mapped page of the reservation. A plain copy: guest
        // threads racing on these bytes get some mix of old and new bytes (see `read_u64`).
        unsafe { std::ptr::copy_nonoverlapping(self.view.host(addr), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Writes `data`, crossing mappings as needed.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        self.check_range(addr, data.len() as u64, Need::Write)?;
        self.copy_in(addr, data);
        Ok(())
    }

    /// Writes `data` whatever the permissions (the loader fills read-only segments with it).
    pub fn poke(&self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        self.check_range(addr, data.len() as u64, Need::Mapped)?;
        // A page the guest cannot read is inaccessible to the host too (`View::set_pages`):
        // opened for the copy, under the lock that orders permission changes.
        let _regions = self.regions();
        let first = addr / PAGE_SIZE * PAGE_SIZE;
        let len = (addr + data.len() as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE - first;
        let closed: Vec<u64> = (first..first + len)
            .step_by(PAGE_SIZE as usize)
            .filter(|&p| !host_readable(self.view.page(p)))
            .collect();
        for &p in &closed {
            self.view.protect_host(p, PAGE_SIZE, true);
        }
        self.copy_in(addr, data);
        for &p in &closed {
            self.view.protect_host(p, PAGE_SIZE, false);
        }
        Ok(())
    }

    fn copy_in(&self, addr: u64, data: &[u8]) {
        // SAFETY: the caller checked that every byte is in a mapped page of the reservation.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.view.host(addr), data.len()) };
        if self.touches_code(addr, data.len() as u64) {
            self.space.bump_code();
        }
    }

    /// The host address of `size` bytes at `addr` when they are in one page whose permission
    /// byte has all of `need` and none of `deny`.
    #[inline(always)]
    fn fast(&self, addr: u64, size: usize, need: u8, deny: u8) -> Option<*mut u8> {
        let off = (addr % PAGE_SIZE) as usize;
        if off + size > PAGE_SIZE as usize {
            return None;
        }
        let p = self.view.page(addr);
        (p & (need | deny) == need).then(|| self.view.host(addr))
    }

    /// Reads a little-endian value of `size` bytes (at most 8).
    ///
    /// On x86-64 any access is one `mov` in inline assembly (see `load`), single-copy atomic
    /// when naturally aligned, as Arm requires. On other hosts a naturally aligned access is
    /// a relaxed host atomic load, and a misaligned one a plain unaligned host load (Arm does
    /// not make it single-copy atomic either): there, the one place where a racing guest
    /// thread's store is a data race in Rust's terms.
    #[inline(always)]
    pub fn read_u64(&self, addr: u64, size: usize) -> Result<u64, Fault> {
        debug_assert!(size <= 8);
        if !size.is_power_of_two() {
            let mut b = [0u8; 8];
            self.read(addr, &mut b[..size])?;
            return Ok(u64::from_le_bytes(b));
        }
        if let Some(p) = self.fast(addr, size, P_READ, 0) {
            // SAFETY: `fast` gives `size` readable bytes inside the reservation.
            return Ok(unsafe { load(p, size) });
        }
        let mut b = [0u8; 8];
        self.read(addr, &mut b[..size])?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes the low `size` bytes of `value`, little-endian; atomic like [`Memory::read_u64`].
    #[inline(always)]
    pub fn write_u64(&self, addr: u64, size: usize, value: u64) -> Result<(), Fault> {
        debug_assert!(size <= 8);
        if !size.is_power_of_two() {
            return self.write(addr, &value.to_le_bytes()[..size]);
        }
        // Executable pages take the slow path, which changes the code generation.
        if self.write_u64_fast(addr, size, value) {
            return Ok(());
        }
        self.check_range(addr, size as u64, Need::Write)?;
        if addr.is_multiple_of(size as u64) {
            // SAFETY: checked above; aligned, so in one page.
            unsafe { store(self.view.host(addr), size, value) };
            if self.touches_code(addr, size as u64) {
                self.space.bump_code();
            }
            return Ok(());
        }
        self.write(addr, &value.to_le_bytes()[..size])
    }

    /// [`Memory::write_u64`]'s fast path alone: writes and gives `true` when the `size` bytes
    /// (1, 2, 4 or 8) are in one writable page that holds no code, so the write cannot have
    /// changed the code generation; gives `false`, writing nothing, otherwise.
    #[inline(always)]
    pub fn write_u64_fast(&self, addr: u64, size: usize, value: u64) -> bool {
        debug_assert!(size.is_power_of_two() && size <= 8);
        match self.fast(addr, size, P_DATA_WRITE, 0) {
            Some(p) => {
                // SAFETY: `fast` gives `size` writable bytes inside the reservation.
                unsafe { store(p, size, value) };
                true
            }
            None => false,
        }
    }

    /// Fetches an instruction word: the mapping must be executable.
    #[inline]
    pub fn fetch(&self, addr: u64) -> Result<u32, Fault> {
        let p = match self.fast(addr, 4, P_EXEC, 0) {
            Some(p) => p,
            None => {
                self.check_range(addr, 4, Need::Exec)?;
                self.view.host(addr)
            }
        };
        // SAFETY: 4 executable bytes inside the reservation.
        Ok(unsafe { load(p, 4) } as u32)
    }

    /// Atomically replaces the `size`-byte value at `addr` with `f(old)` and gives `old`
    /// (a read-modify-write: LSE atomics, store-exclusive). Needs a readable and writable
    /// mapping. A naturally aligned one is a host compare-and-swap loop; a misaligned one is
    /// atomic only with respect to other misaligned ones (Arm makes it an alignment fault
    /// without FEAT_LSE2).
    pub fn modify(
        &self,
        addr: u64,
        size: usize,
        mut f: impl FnMut(u64) -> u64,
    ) -> Result<u64, Fault> {
        debug_assert!(matches!(size, 1 | 2 | 4 | 8));
        self.check_range(addr, size as u64, Need::Modify)?;
        let code = self.touches_code(addr, size as u64);
        let host = self.view.host(addr);
        let old = if addr.is_multiple_of(size as u64) {
            macro_rules! cas_loop {
                ($atomic:ty, $t:ty) => {{
                    // SAFETY: aligned, inside a readable and writable mapped page.
                    let a = unsafe { <$atomic>::from_ptr(host.cast::<$t>()) };
                    let mut old = a.load(Ordering::Relaxed);
                    loop {
                        let new = f(u64::from(old)) as $t;
                        match a.compare_exchange_weak(old, new, Ordering::SeqCst, Ordering::Relaxed)
                        {
                            Ok(_) => break u64::from(old),
                            Err(now) => old = now,
                        }
                    }
                }};
            }
            match size {
                1 => cas_loop!(AtomicU8, u8),
                2 => cas_loop!(AtomicU16, u16),
                4 => cas_loop!(AtomicU32, u32),
                _ => cas_loop!(AtomicU64, u64),
            }
        } else {
            let _guard = lock(&MISALIGNED);
            let mut b = [0u8; 8];
            // SAFETY: checked above; a plain copy under the lock.
            unsafe { std::ptr::copy_nonoverlapping(host, b.as_mut_ptr(), size) };
            let old = u64::from_le_bytes(b);
            let new = f(old).to_le_bytes();
            // SAFETY: as above.
            unsafe { std::ptr::copy_nonoverlapping(new.as_ptr(), host, size) };
            old
        };
        if code {
            self.space.bump_code();
        }
        Ok(old)
    }

    /// Reads 16 bytes at `addr` as one value: single-copy atomic when 16-byte aligned.
    pub fn read_u128(&self, addr: u64) -> Result<u128, Fault> {
        self.check_range(addr, 16, Need::Read)?;
        if addr.is_multiple_of(16) {
            let host = self.view.host(addr);
            // SAFETY: aligned, inside a readable mapped page.
            let a = unsafe { portable_atomic::AtomicU128::from_ptr(host.cast::<u128>()) };
            return Ok(a.load(Ordering::SeqCst));
        }
        let mut b = [0u8; 16];
        self.read(addr, &mut b)?;
        Ok(u128::from_le_bytes(b))
    }

    /// Compares the 16 bytes at `addr` with `expected` and writes `new` when they are equal,
    /// atomically; gives the old value (CASP, STXP of two doublewords). Host-atomic when
    /// 16-byte aligned, else atomic with respect to other misaligned operations only.
    pub fn compare_swap_u128(&self, addr: u64, expected: u128, new: u128) -> Result<u128, Fault> {
        self.check_range(addr, 16, Need::Modify)?;
        let code = self.touches_code(addr, 16);
        let host = self.view.host(addr);
        let old = if addr.is_multiple_of(16) {
            // SAFETY: aligned, inside a readable and writable mapped page.
            let a = unsafe { portable_atomic::AtomicU128::from_ptr(host.cast::<u128>()) };
            match a.compare_exchange(expected, new, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(old) | Err(old) => old,
            }
        } else {
            let _guard = lock(&MISALIGNED);
            let mut b = [0u8; 16];
            // SAFETY: checked above; plain copies under the lock.
            unsafe { std::ptr::copy_nonoverlapping(host, b.as_mut_ptr(), 16) };
            let old = u128::from_le_bytes(b);
            if old == expected {
                // SAFETY: as above.
                unsafe { std::ptr::copy_nonoverlapping(new.to_le_bytes().as_ptr(), host, 16) };
            }
            old
        };
        if code && old == expected {
            self.space.bump_code();
        }
        Ok(old)
    }

    /// A full host memory barrier (DMB, DSB): guest accesses before it are visible to other
    /// guest threads before the ones after it.
    pub fn fence() {
        std::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Whether any byte of `[addr, addr + len)` is in a mapping.
fn overlaps(regions: &BTreeMap<u64, Region>, addr: u64, len: u64) -> bool {
    let end = addr.saturating_add(len);
    regions
        .range(..end)
        .next_back()
        .is_some_and(|(s, r)| s + r.len > addr)
}

/// The first gap of `len` bytes at or above `hint` that ends below `limit` and the guest
/// space's end.
fn find_free(regions: &BTreeMap<u64, Region>, hint: u64, len: u64, limit: u64) -> Option<u64> {
    let mut at = hint;
    for (start, region) in regions.iter() {
        let end = start + region.len;
        if end <= at {
            continue;
        }
        if *start >= at.checked_add(len)? {
            break;
        }
        at = end;
    }
    (at.checked_add(len)? <= limit.min(GUEST_SPACE)).then_some(at)
}

/// The start and the mapping holding `addr`.
fn find(regions: &BTreeMap<u64, Region>, addr: u64) -> Option<(u64, Region)> {
    let (start, region) = regions.range(..=addr).next_back()?;
    (addr < start + region.len).then_some((*start, *region))
}

/// Loads `size` little-endian bytes at `p`.
///
/// On x86-64 this is one `mov` in inline assembly, aligned or not: x86-64 makes an aligned
/// access single-copy atomic, as Arm requires, and to Rust's memory model the assembly is an
/// opaque access, so a racing guest thread's store is no data race. (A relaxed atomic
/// load is the same `mov`, but only when aligned, and the check for that cost the
/// pre-decoded interpreter a test and a branch on every access.)
///
/// # Safety
/// `p` must point at `size` readable bytes of the reservation.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn load(p: *mut u8, size: usize) -> u64 {
    let v: u64;
    // SAFETY: the caller's contract: `size` readable bytes at `p`.
    unsafe {
        match size {
            1 => std::arch::asm!("movzx {v:e}, byte ptr [{p}]", p = in(reg) p, v = lateout(reg) v,
                options(nostack, preserves_flags, readonly)),
            2 => std::arch::asm!("movzx {v:e}, word ptr [{p}]", p = in(reg) p, v = lateout(reg) v,
                options(nostack, preserves_flags, readonly)),
            4 => std::arch::asm!("mov {v:e}, dword ptr [{p}]", p = in(reg) p, v = lateout(reg) v,
                options(nostack, preserves_flags, readonly)),
            _ => std::arch::asm!("mov {v}, qword ptr [{p}]", p = in(reg) p, v = lateout(reg) v,
                options(nostack, preserves_flags, readonly)),
        }
    }
    v
}

/// Stores the low `size` bytes of `v` little-endian at `p`: one `mov` on x86-64, as
/// [`load`].
///
/// # Safety
/// `p` must point at `size` writable bytes of the reservation.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn store(p: *mut u8, size: usize, v: u64) {
    // SAFETY: the caller's contract: `size` writable bytes at `p`.
    unsafe {
        match size {
            1 => std::arch::asm!("mov byte ptr [{p}], {v:l}", p = in(reg) p, v = in(reg) v,
                options(nostack, preserves_flags)),
            2 => std::arch::asm!("mov word ptr [{p}], {v:x}", p = in(reg) p, v = in(reg) v,
                options(nostack, preserves_flags)),
            4 => std::arch::asm!("mov dword ptr [{p}], {v:e}", p = in(reg) p, v = in(reg) v,
                options(nostack, preserves_flags)),
            _ => std::arch::asm!("mov qword ptr [{p}], {v}", p = in(reg) p, v = in(reg) v,
                options(nostack, preserves_flags)),
        }
    }
}

/// Loads `size` little-endian bytes at `p`: a relaxed atomic load when aligned.
///
/// # Safety
/// `p` must point at `size` readable bytes of the reservation.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn load(p: *mut u8, size: usize) -> u64 {
    let aligned = (p as usize).is_multiple_of(size);
    // SAFETY: the caller's contract; atomics only when aligned.
    unsafe {
        match (size, aligned) {
            (1, _) => u64::from(AtomicU8::from_ptr(p).load(Ordering::Relaxed)),
            (2, true) => u64::from(AtomicU16::from_ptr(p.cast()).load(Ordering::Relaxed)),
            (4, true) => u64::from(AtomicU32::from_ptr(p.cast()).load(Ordering::Relaxed)),
            (8, true) => AtomicU64::from_ptr(p.cast()).load(Ordering::Relaxed),
            (2, false) => u64::from(p.cast::<u16>().read_unaligned()),
            (4, false) => u64::from(p.cast::<u32>().read_unaligned()),
            _ => p.cast::<u64>().read_unaligned(),
        }
    }
}

/// Stores the low `size` bytes of `v` little-endian at `p`: a relaxed atomic store when
/// aligned.
///
/// # Safety
/// `p` must point at `size` writable bytes of the reservation.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn store(p: *mut u8, size: usize, v: u64) {
    let aligned = (p as usize).is_multiple_of(size);
    // SAFETY: the caller's contract; atomics only when aligned.
    unsafe {
        match (size, aligned) {
            (1, _) => AtomicU8::from_ptr(p).store(v as u8, Ordering::Relaxed),
            (2, true) => AtomicU16::from_ptr(p.cast()).store(v as u16, Ordering::Relaxed),
            (4, true) => AtomicU32::from_ptr(p.cast()).store(v as u32, Ordering::Relaxed),
            (8, true) => AtomicU64::from_ptr(p.cast()).store(v, Ordering::Relaxed),
            (2, false) => p.cast::<u16>().write_unaligned(v as u16),
            (4, false) => p.cast::<u32>().write_unaligned(v as u32),
            _ => p.cast::<u64>().write_unaligned(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_read_write_protect() {
        let m = Memory::default();
        m.map(0x10000, 3 * PAGE_SIZE, Perms::RW).expect("map");
        m.write_u64(0x10ffc, 8, 0x1122_3344_5566_7788)
            .expect("write across pages");
        assert_eq!(m.read_u64(0x10ffc, 8), Ok(0x1122_3344_5566_7788));
        m.protect(0x11000, PAGE_SIZE, Perms::R).expect("protect");
        assert_eq!(
            m.write_u64(0x11008, 8, 1),
            Err(Fault {
                addr: 0x11008,
                kind: FaultKind::Permission,
                write: true
            })
        );
        assert_eq!(m.read_u64(0x11008, 4), Ok(0));
        m.write_u64(0x12000, 4, 7)
            .expect("the third page stays writable");
        assert_eq!(
            m.read_u64(0x13000, 1),
            Err(Fault {
                addr: 0x13000,
                kind: FaultKind::Unmapped,
                write: false
            })
        );
        assert_eq!(
            m.fetch(0x10000),
            Err(Fault {
                addr: 0x10000,
                kind: FaultKind::Permission,
                write: false
            })
        );
        m.unmap(0x11000, PAGE_SIZE);
        assert!(
            !m.is_mapped(0x11000, PAGE_SIZE) && m.is_mapped(0x10000, 1) && m.is_mapped(0x12000, 1)
        );
        assert_eq!(m.find_free(0x10000, PAGE_SIZE, u64::MAX), Some(0x11000));
        assert_eq!(m.find_free(0x10000, 2 * PAGE_SIZE, u64::MAX), Some(0x13000));
    }

    #[test]
    fn the_tlb_follows_mapping_changes() {
        let m = Memory::default();
        m.map(0x10000, PAGE_SIZE, Perms::RW).expect("map");
        m.write_u64(0x10008, 8, 5).expect("write");
        assert_eq!(
            m.read_u64(0x10008, 8),
            Ok(5),
            "a TLB hit reads what was written"
        );
        m.protect(0x10000, PAGE_SIZE, Perms::R).expect("protect");
        assert_eq!(
            m.write_u64(0x10008, 8, 6).map_err(|f| f.kind),
            Err(FaultKind::Permission),
            "a read-only page is no longer writable through the TLB"
        );
        m.unmap(0x10000, PAGE_SIZE);
        assert_eq!(
            m.read_u64(0x10008, 8).map_err(|f| f.kind),
            Err(FaultKind::Unmapped),
            "an unmapped page is no longer readable through the TLB"
        );
        m.map(0x10000, PAGE_SIZE, Perms::RW).expect("map");
        assert_eq!(m.read_u64(0x10008, 8), Ok(0), "a new mapping is zeroed");
        // Accesses that cross a page boundary take the slow path.
        m.map(0x11000, PAGE_SIZE, Perms::RW).expect("map");
        m.write_u64(0x10ffe, 4, 0xaabb_ccdd).expect("write");
        assert_eq!(m.read_u64(0x10ffe, 4), Ok(0xaabb_ccdd));
    }

    #[test]
    fn writes_to_code_change_the_code_generation() {
        let m = Memory::default();
        let rwx = Perms {
            read: true,
            write: true,
            exec: true,
        };
        m.map(0x10000, PAGE_SIZE, rwx).expect("map");
        m.map(0x20000, PAGE_SIZE, Perms::RW).expect("map");
        assert_eq!(m.fetch(0x10000), Ok(0));
        let g = m.code_generation();
        m.write_u64(0x20000, 4, 1).expect("data write");
        m.write_u64(0x20000, 4, 2)
            .expect("data write through the TLB");
        assert_eq!(m.code_generation(), g, "data writes leave code alone");
        m.write_u64(0x10000, 4, 0xd503_201f).expect("code write");
        assert_ne!(m.code_generation(), g, "a write to an executable page");
        assert_eq!(m.fetch(0x10000), Ok(0xd503_201f));
        let g = m.code_generation();
        m.write_u64(0x10004, 4, 1).expect("second code write");
        assert_ne!(
            m.code_generation(),
            g,
            "every write to code, not only the first"
        );
    }

    #[test]
    fn mappings_are_made_in_one_step_and_stay_in_the_guest_space() {
        let m = Memory::default();
        assert_eq!(m.map_if_free(0x10000, 2 * PAGE_SIZE, Perms::RW), Ok(true));
        assert_eq!(
            m.map_if_free(0x11000, PAGE_SIZE, Perms::R),
            Ok(false),
            "part of it is mapped"
        );
        assert_eq!(m.perms_of(0x11000, 1), Some(Perms::RW), "and left alone");
        assert_eq!(
            m.map_free(0x10000, PAGE_SIZE, u64::MAX, Perms::R),
            Some(0x12000)
        );
        assert_eq!(m.map_free(0x10000, PAGE_SIZE, 0x13000, Perms::R), None);
        assert_eq!(
            m.map(GUEST_SPACE - PAGE_SIZE, 2 * PAGE_SIZE, Perms::RW),
            Err(OutOfSpace {
                addr: GUEST_SPACE - PAGE_SIZE,
                len: 2 * PAGE_SIZE
            })
        );
        assert_eq!(
            m.read_u64(GUEST_SPACE + 8, 8).map_err(|f| f.kind),
            Err(FaultKind::Unmapped)
        );
        assert_eq!(
            m.mappings(),
            vec![
                (
                    0x10000,
                    Region {
                        len: 2 * PAGE_SIZE,
                        perms: Perms::RW,
                        anonymous: true,
                        shared: false,
                        host_writable: true,
                    }
                ),
                (
                    0x12000,
                    Region {
                        len: PAGE_SIZE,
                        perms: Perms::R,
                        anonymous: true,
                        shared: false,
                        host_writable: true,
                    }
                )
            ]
        );
    }

    #[test]
    fn shared_handles_see_one_address_space() {
        let a = Memory::default();
        let b = a.share();
        a.map(0x10000, PAGE_SIZE, Perms::RW).expect("map");
        b.write_u64(0x10008, 8, 42)
            .expect("the other handle sees the mapping");
        assert_eq!(a.read_u64(0x10008, 8), Ok(42));
        assert_eq!(a.host_base(), b.host_base());
        // SAFETY: the page is mapped and the handles alive; a guest address's host address.
        let host = unsafe { *((a.host_base() + 0x10008) as *const u64) };
        assert_eq!(host, 42, "guest address a is host address base + a");
        b.unmap(0x10000, PAGE_SIZE);
        assert_eq!(
            a.read_u64(0x10008, 8).map_err(|f| f.kind),
            Err(FaultKind::Unmapped)
        );
        a.map(0x10000, PAGE_SIZE, Perms::RW).expect("map again");
        assert_eq!(
            a.read_u64(0x10008, 8),
            Ok(0),
            "an unmapped page comes back zeroed"
        );
    }

    #[test]
    fn read_modify_writes_and_pairs() {
        let m = Memory::default();
        m.map(0x10000, PAGE_SIZE, Perms::RW).expect("map");
        m.map(0x11000, PAGE_SIZE, Perms::R).expect("map");
        assert_eq!(m.modify(0x10000, 4, |v| v + 5), Ok(0));
        assert_eq!(m.modify(0x10000, 4, |v| v + 5), Ok(5));
        // Misaligned, and across the end of a 4-byte word.
        assert_eq!(m.modify(0x10003, 2, |_| 0xabcd), Ok(0));
        assert_eq!(m.read_u64(0x10000, 8), Ok(0x0000_00ab_cd00_000a));
        assert_eq!(
            m.modify(0x11000, 8, |v| v).map_err(|f| (f.kind, f.write)),
            Err((FaultKind::Permission, true)),
            "a read-modify-write needs a writable page"
        );
        let pair = 0x1111_2222_3333_4444_5555_6666_7777_8888u128;
        assert_eq!(m.compare_swap_u128(0x10010, 0, pair), Ok(0));
        assert_eq!(
            m.compare_swap_u128(0x10010, 1, 7),
            Ok(pair),
            "no match, no write"
        );
        assert_eq!(m.read_u128(0x10010), Ok(pair));
        assert_eq!(
            m.compare_swap_u128(0x10018, pair, 3),
            Ok(0x1111_2222_3333_4444),
            "misaligned: the high half and the zeroes after it, unchanged"
        );
        assert_eq!(m.read_u128(0x10010), Ok(pair));
    }

    #[test]
    fn discard_zeroes_anonymous_pages_only() {
        let m = Memory::default();
        m.map(0x10000, 2 * PAGE_SIZE, Perms::RW).expect("map");
        m.map(0x12000, PAGE_SIZE, Perms::RW).expect("map");
        m.keep_contents(0x12000, PAGE_SIZE);
        for page in [0x10000, 0x11000, 0x12000] {
            m.write_u64(page + 8, 8, 0x1234).expect("write");
        }
        assert_eq!(m.discard(0x11000, 2 * PAGE_SIZE), Ok(()));
        let after: Vec<_> = [0x10000, 0x11000, 0x12000]
            .iter()
            .map(|&page| m.read_u64(page + 8, 8))
            .collect();
        assert_eq!(
            after,
            [Ok(0x1234), Ok(0), Ok(0x1234)],
            "the page before the range and the kept one keep their contents"
        );
        m.write_u64(0x11008, 8, 7).expect("write");
        assert_eq!(
            m.discard(0x11000, 3 * PAGE_SIZE).map_err(|f| f.addr),
            Err(0x13000),
            "a range that runs past the mappings"
        );
        assert_eq!(
            m.read_u64(0x11008, 8),
            Ok(0),
            "the mapped part is discarded"
        );
        assert_eq!(
            m.discard(0xf000, 2 * PAGE_SIZE).map_err(|f| f.addr),
            Err(0xf000),
            "a range that starts in a hole"
        );
        assert_eq!(m.read_u64(0x10008, 8), Ok(0));
    }

    #[test]
    fn top_byte_is_ignored() {
        assert_eq!(tbi(0xff00_0000_1234_5678), 0x0000_0000_1234_5678);
        assert_eq!(tbi(0x00ff_8000_0000_0000), 0xffff_8000_0000_0000);
    }
}
