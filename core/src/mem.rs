//! Guest memory: a sparse little-endian address space with page permissions.
//!
//! A guest access outside a mapping or against its permissions is a [`Fault`], which user mode
//! turns into SIGSEGV; it never touches host memory outside the mappings.

use std::collections::BTreeMap;

pub const PAGE_SIZE: u64 = 4096;

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
}

/// Why a guest access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No mapping at the address (SEGV_MAPERR).
    Unmapped,
    /// A mapping without the needed permission (SEGV_ACCERR).
    Permission,
}

/// A failed guest access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub addr: u64,
    pub kind: FaultKind,
    pub write: bool,
}

struct Region {
    perms: Perms,
    data: Vec<u8>,
}

/// Entries of the software TLB (direct-mapped by page number).
const TLB_SIZE: usize = 256;
const TLB_READ: u8 = 1;
const TLB_WRITE: u8 = 2;
const TLB_EXEC: u8 = 4;

/// One page of the software TLB: the host address of the page's bytes inside a `Region`.
#[derive(Clone, Copy)]
struct TlbEntry {
    /// The guest page number, or `u64::MAX` when empty.
    vpn: u64,
    host: *mut u8,
    /// `TLB_*` bits. Executable pages never get `TLB_WRITE`, so that every write to code takes
    /// the slow path, which bumps `code_generation`.
    perms: u8,
}

const TLB_EMPTY: TlbEntry = TlbEntry {
    vpn: u64::MAX,
    host: std::ptr::null_mut(),
    perms: 0,
};

/// The guest address space.
pub struct Memory {
    /// Mappings by start address; they never overlap and are page aligned.
    regions: BTreeMap<u64, Region>,
    /// A cache of page translations, after QEMU's softmmu TLB. Invariant: every entry points
    /// into the `data` of a region of `regions` that covers the whole page; any change of the
    /// mappings (map, unmap, protect) empties it, so no entry outlives or moves with its region.
    tlb: Box<[TlbEntry; TLB_SIZE]>,
    /// Changes whenever executable memory may have changed (a write to an executable page, or
    /// a mapping change that touches one), so that decoded-instruction caches know when to
    /// drop what they hold.
    code_generation: u64,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            regions: BTreeMap::new(),
            tlb: Box::new([TLB_EMPTY; TLB_SIZE]),
            code_generation: 0,
        }
    }
}

// SAFETY: the TLB's raw pointers point into `Vec`s this `Memory` owns; moving the `Memory` to
// another thread moves their owner with them, and `Memory` is not `Sync`.
unsafe impl Send for Memory {}

/// Strips the top byte of a data address (top-byte-ignore, as Linux enables it for EL0).
pub fn tbi(addr: u64) -> u64 {
    ((addr << 8) as i64 >> 8) as u64
}

impl Memory {
    /// Maps `[addr, addr + len)` (page aligned) with zeroes, replacing what was there.
    pub fn map(&mut self, addr: u64, len: u64, perms: Perms) {
        debug_assert!(addr % PAGE_SIZE == 0 && len % PAGE_SIZE == 0);
        self.unmap(addr, len);
        if perms.exec {
            self.code_generation += 1;
        }
        self.regions.insert(
            addr,
            Region {
                perms,
                data: vec![0; len as usize],
            },
        );
    }

    /// Removes every mapping in `[addr, addr + len)`, splitting mappings that straddle it.
    pub fn unmap(&mut self, addr: u64, len: u64) {
        self.flush_tlb();
        let end = addr.saturating_add(len);
        let starts: Vec<u64> = self.regions.range(..end).map(|(s, _)| *s).collect();
        for start in starts {
            let region_end = start + self.regions[&start].data.len() as u64;
            if region_end <= addr {
                continue;
            }
            if self.regions[&start].perms.exec {
                self.code_generation += 1;
            }
            let Some(region) = self.regions.remove(&start) else {
                continue;
            };
            if start < addr {
                let keep = (addr - start) as usize;
                self.regions.insert(
                    start,
                    Region {
                        perms: region.perms,
                        data: region.data[..keep].to_vec(),
                    },
                );
            }
            if region_end > end {
                let from = (end - start) as usize;
                self.regions.insert(
                    end,
                    Region {
                        perms: region.perms,
                        data: region.data[from..].to_vec(),
                    },
                );
            }
        }
    }

    /// Changes the permissions of `[addr, addr + len)`; fails if part of it is unmapped.
    pub fn protect(&mut self, addr: u64, len: u64, perms: Perms) -> Result<(), Fault> {
        self.flush_tlb();
        // Executable pages may gain or lose their permission: decoded code is stale.
        self.code_generation += 1;
        let end = addr.saturating_add(len);
        let mut at = addr;
        while at < end {
            let (start, region_len) = self.find(at).ok_or(Fault {
                addr: at,
                kind: FaultKind::Unmapped,
                write: false,
            })?;
            at = start + region_len;
        }
        // Split at both ends, then set the permissions of every piece inside.
        for cut in [addr, end] {
            if let Some((start, _)) = self.find(cut).filter(|(s, _)| *s < cut) {
                let mut region = self.regions.remove(&start).expect("found above");
                let tail = region.data.split_off((cut - start) as usize);
                let perms = region.perms;
                self.regions.insert(start, region);
                self.regions.insert(cut, Region { perms, data: tail });
            }
        }
        for (_, region) in self.regions.range_mut(addr..end) {
            region.perms = perms;
        }
        Ok(())
    }

    /// Empties the software TLB; called before any change of the mappings.
    fn flush_tlb(&mut self) {
        self.tlb.fill(TLB_EMPTY);
    }

    /// Changes whenever executable memory may have changed; see [`Memory`].
    pub fn code_generation(&self) -> u64 {
        self.code_generation
    }

    /// The host address of `len` bytes at `addr` for an access needing `perm`, when the access
    /// stays in one page that the TLB holds with that permission.
    #[inline(always)]
    fn tlb_hit(&self, addr: u64, len: usize, perm: u8) -> Option<*mut u8> {
        let off = (addr % PAGE_SIZE) as usize;
        if off + len > PAGE_SIZE as usize {
            return None;
        }
        let vpn = addr / PAGE_SIZE;
        let e = &self.tlb[(vpn as usize) % TLB_SIZE];
        // SAFETY: by the TLB invariant, `e.host` is the start of a whole page inside a live
        // region, and `off + len <= PAGE_SIZE`.
        (e.vpn == vpn && e.perms & perm != 0).then(|| unsafe { e.host.add(off) })
    }

    /// Enters the page holding `addr` in the TLB when a region covers the whole page.
    fn tlb_fill(&mut self, addr: u64) {
        let page = addr - addr % PAGE_SIZE;
        let Some((start, len)) = self.find(page) else {
            return;
        };
        if page + PAGE_SIZE > start + len {
            return;
        }
        let region = self.regions.get_mut(&start).expect("found above");
        let p = region.perms;
        let perms = if p.read { TLB_READ } else { 0 }
            | if p.write && !p.exec { TLB_WRITE } else { 0 }
            | if p.exec { TLB_EXEC } else { 0 };
        // SAFETY: `page - start + PAGE_SIZE <= len`, checked above.
        let host = unsafe { region.data.as_mut_ptr().add((page - start) as usize) };
        self.tlb[((page / PAGE_SIZE) as usize) % TLB_SIZE] = TlbEntry {
            vpn: page / PAGE_SIZE,
            host,
            perms,
        };
    }

    /// The permissions of `[addr, addr + len)` when it is all mapped with the same ones
    /// (possibly by several adjacent mappings).
    pub fn perms_of(&self, addr: u64, len: u64) -> Option<Perms> {
        let end = addr.checked_add(len)?;
        let (start, region_len) = self.find(addr)?;
        let perms = self.regions[&start].perms;
        let mut at = start + region_len;
        while at < end {
            let (next, next_len) = self.find(at)?;
            if self.regions[&next].perms != perms {
                return None;
            }
            at = next + next_len;
        }
        Some(perms)
    }

    /// Whether any byte of `[addr, addr + len)` is mapped.
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        self.regions
            .range(..end)
            .next_back()
            .is_some_and(|(s, r)| s + r.data.len() as u64 > addr)
    }

    /// The start and length of the mapping holding `addr`.
    fn find(&self, addr: u64) -> Option<(u64, u64)> {
        let (start, region) = self.regions.range(..=addr).next_back()?;
        let len = region.data.len() as u64;
        (addr < start + len).then_some((*start, len))
    }

    fn access(
        &mut self,
        addr: u64,
        len: usize,
        need: fn(Perms) -> bool,
        write: bool,
    ) -> Result<&mut [u8], Fault> {
        let (start, region_len) = self.find(addr).ok_or(Fault {
            addr,
            kind: FaultKind::Unmapped,
            write,
        })?;
        let region = self.regions.get_mut(&start).expect("found above");
        if !need(region.perms) {
            return Err(Fault {
                addr,
                kind: FaultKind::Permission,
                write,
            });
        }
        if write && region.perms.exec {
            self.code_generation += 1;
        }
        let off = (addr - start) as usize;
        if off + len > region_len as usize {
            return Err(Fault {
                addr: start + region_len,
                kind: FaultKind::Unmapped,
                write,
            });
        }
        Ok(&mut region.data[off..off + len])
    }

    /// Reads `buf.len()` bytes, crossing mappings as needed.
    pub fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Fault> {
        self.copy(addr, buf.len(), false, |slice, done| {
            buf[done..done + slice.len()].copy_from_slice(slice)
        })
    }

    /// Writes `data`, crossing mappings as needed.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        self.copy(addr, data.len(), true, |slice, done| {
            slice.copy_from_slice(&data[done..done + slice.len()])
        })
    }

    /// Writes `data` whatever the permissions (the loader fills read-only segments with it).
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        let mut done = 0;
        while done < data.len() {
            let at = addr + done as u64;
            let (start, len) = self.find(at).ok_or(Fault {
                addr: at,
                kind: FaultKind::Unmapped,
                write: true,
            })?;
            let region = self.regions.get_mut(&start).expect("found above");
            if region.perms.exec {
                self.code_generation += 1;
            }
            let off = (at - start) as usize;
            let n = (len as usize - off).min(data.len() - done);
            region.data[off..off + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    fn copy(
        &mut self,
        addr: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(&mut [u8], usize),
    ) -> Result<(), Fault> {
        let mut done = 0;
        while done < len {
            let at = addr.wrapping_add(done as u64);
            let (start, region_len) = self.find(at).ok_or(Fault {
                addr: at,
                kind: FaultKind::Unmapped,
                write,
            })?;
            let n = ((start + region_len - at) as usize).min(len - done);
            let need: fn(Perms) -> bool = if write { |p| p.write } else { |p| p.read };
            let slice = self.access(at, n, need, write)?;
            f(slice, done);
            done += n;
        }
        Ok(())
    }

    /// Reads a little-endian value of `size` bytes (1, 2, 4 or 8).
    #[inline(always)]
    pub fn read_u64(&mut self, addr: u64, size: usize) -> Result<u64, Fault> {
        debug_assert!(size <= 8);
        if let Some(p) = self.tlb_hit(addr, size, TLB_READ) {
            // SAFETY: `tlb_hit` gives `size` readable bytes inside a region.
            return Ok(unsafe {
                match size {
                    1 => u64::from(p.read()),
                    2 => u64::from(u16::from_le(p.cast::<u16>().read_unaligned())),
                    4 => u64::from(u32::from_le(p.cast::<u32>().read_unaligned())),
                    _ => u64::from_le(p.cast::<u64>().read_unaligned()),
                }
            });
        }
        let mut b = [0u8; 8];
        self.read(addr, &mut b[..size])?;
        self.tlb_fill(addr);
        Ok(u64::from_le_bytes(b))
    }

    /// Writes the low `size` bytes of `value`, little-endian.
    #[inline(always)]
    pub fn write_u64(&mut self, addr: u64, size: usize, value: u64) -> Result<(), Fault> {
        debug_assert!(size <= 8);
        if let Some(p) = self.tlb_hit(addr, size, TLB_WRITE) {
            // SAFETY: `tlb_hit` gives `size` writable bytes inside a region.
            unsafe {
                match size {
                    1 => p.write(value as u8),
                    2 => p.cast::<u16>().write_unaligned((value as u16).to_le()),
                    4 => p.cast::<u32>().write_unaligned((value as u32).to_le()),
                    _ => p.cast::<u64>().write_unaligned(value.to_le()),
                }
            }
            return Ok(());
        }
        self.write(addr, &value.to_le_bytes()[..size])?;
        self.tlb_fill(addr);
        Ok(())
    }

    /// Fetches an instruction word: the mapping must be executable.
    #[inline]
    pub fn fetch(&mut self, addr: u64) -> Result<u32, Fault> {
        if let Some(p) = self.tlb_hit(addr, 4, TLB_EXEC) {
            let mut b = [0u8; 4];
            // SAFETY: `tlb_hit` gives 4 executable bytes inside a region.
            unsafe { std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), 4) };
            return Ok(u32::from_le_bytes(b));
        }
        let bytes = self.access(addr, 4, |p| p.exec, false)?;
        let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        self.tlb_fill(addr);
        Ok(word)
    }

    /// The first gap of `len` bytes at or above `hint`, below `limit`.
    pub fn find_free(&self, hint: u64, len: u64, limit: u64) -> Option<u64> {
        let mut at = hint;
        for (start, region) in self.regions.range(..) {
            let end = start + region.data.len() as u64;
            if end <= at {
                continue;
            }
            if *start >= at + len {
                break;
            }
            at = end;
        }
        (at + len <= limit).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_read_write_protect() {
        let mut m = Memory::default();
        m.map(0x10000, 3 * PAGE_SIZE, Perms::RW);
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
        let mut m = Memory::default();
        m.map(0x10000, PAGE_SIZE, Perms::RW);
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
        m.map(0x10000, PAGE_SIZE, Perms::RW);
        assert_eq!(m.read_u64(0x10008, 8), Ok(0), "a new mapping is zeroed");
        // Accesses that cross a page boundary take the slow path.
        m.map(0x11000, PAGE_SIZE, Perms::RW);
        m.write_u64(0x10ffe, 4, 0xaabb_ccdd).expect("write");
        assert_eq!(m.read_u64(0x10ffe, 4), Ok(0xaabb_ccdd));
    }

    #[test]
    fn writes_to_code_change_the_code_generation() {
        let mut m = Memory::default();
        let rwx = Perms {
            read: true,
            write: true,
            exec: true,
        };
        m.map(0x10000, PAGE_SIZE, rwx);
        m.map(0x20000, PAGE_SIZE, Perms::RW);
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
    fn top_byte_is_ignored() {
        assert_eq!(tbi(0xff00_0000_1234_5678), 0x0000_0000_1234_5678);
        assert_eq!(tbi(0x00ff_8000_0000_0000), 0xffff_8000_0000_0000);
    }
}
