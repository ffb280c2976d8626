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

/// The guest address space.
#[derive(Default)]
pub struct Memory {
    /// Mappings by start address; they never overlap and are page aligned.
    regions: BTreeMap<u64, Region>,
}

/// Strips the top byte of a data address (top-byte-ignore, as Linux enables it for EL0).
pub fn tbi(addr: u64) -> u64 {
    ((addr << 8) as i64 >> 8) as u64
}

impl Memory {
    /// Maps `[addr, addr + len)` (page aligned) with zeroes, replacing what was there.
    pub fn map(&mut self, addr: u64, len: u64, perms: Perms) {
        debug_assert!(addr % PAGE_SIZE == 0 && len % PAGE_SIZE == 0);
        self.unmap(addr, len);
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
        let end = addr.saturating_add(len);
        let starts: Vec<u64> = self.regions.range(..end).map(|(s, _)| *s).collect();
        for start in starts {
            let region_end = start + self.regions[&start].data.len() as u64;
            if region_end <= addr {
                continue;
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
    pub fn read_u64(&mut self, addr: u64, size: usize) -> Result<u64, Fault> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b[..size])?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes the low `size` bytes of `value`, little-endian.
    pub fn write_u64(&mut self, addr: u64, size: usize, value: u64) -> Result<(), Fault> {
        self.write(addr, &value.to_le_bytes()[..size])
    }

    /// Fetches an instruction word: the mapping must be executable.
    pub fn fetch(&mut self, addr: u64) -> Result<u32, Fault> {
        let bytes = self.access(addr, 4, |p| p.exec, false)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
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
    fn top_byte_is_ignored() {
        assert_eq!(tbi(0xff00_0000_1234_5678), 0x0000_0000_1234_5678);
        assert_eq!(tbi(0x00ff_8000_0000_0000), 0xffff_8000_0000_0000);
    }
}
