//! The interpreter: [`Sem`] over plain `u64` values, executed as the semantics run.

use crate::cpu::Cpu;
use crate::isa::{decode, Decoded, FeatureSet};
use crate::mem::{tbi, Memory};
use crate::sem::{BinOp, Helper, Sem, SemFn, SemTable, Stop, SysReg, UnOp};

/// A CPU and its memory, executing instruction semantics directly.
#[derive(Default)]
pub struct Interp {
    pub cpu: Cpu,
    pub mem: Memory,
    /// Where control goes after the current instruction, if its semantics branched.
    next_pc: Option<u64>,
    /// Decoded instructions by address.
    cache: DecodeCache,
    /// Instructions executed so far, counting each one whose semantics ran (an SVC or a
    /// faulting load counts once, even though it stops).
    pub instructions: u64,
}

/// Entries of the decoded-instruction cache (direct-mapped by `pc / 4`).
const CACHE_SIZE: usize = 8192;

/// A decoded instruction: its address, word and semantics function.
#[derive(Clone, Copy)]
struct CacheEntry {
    /// The instruction's address; `u64::MAX`, which no instruction has, marks an empty entry.
    pc: u64,
    word: u32,
    f: SemFn<Interp>,
}

/// The function of empty cache entries, which are never run (their `pc` matches no address).
fn empty_entry(_: &mut Interp, _: u32) -> Result<(), Stop> {
    Err(Stop::Undefined)
}

const CACHE_EMPTY: CacheEntry = CacheEntry {
    pc: u64::MAX,
    word: 0,
    f: empty_entry,
};

/// What `step` decoded before, so that a hot loop is fetched and decoded once. It is valid for
/// one semantics table, one feature set and one `Memory::code_generation`; a change of any of
/// them empties it (self-modifying code, mprotect, munmap).
struct DecodeCache {
    entries: Box<[CacheEntry; CACHE_SIZE]>,
    table: usize,
    features: FeatureSet,
    generation: u64,
}

impl Default for DecodeCache {
    fn default() -> Self {
        DecodeCache {
            entries: Box::new([CACHE_EMPTY; CACHE_SIZE]),
            table: 0,
            features: FeatureSet::base(),
            generation: u64::MAX,
        }
    }
}

impl Sem for Interp {
    type V = u64;

    #[inline]
    fn imm(&mut self, v: u64) -> u64 {
        v
    }

    #[inline]
    fn x(&mut self, n: u32) -> u64 {
        self.cpu.x.get(n as usize).copied().unwrap_or(0)
    }

    #[inline]
    fn set_x(&mut self, n: u32, v: u64) {
        if let Some(r) = self.cpu.x.get_mut(n as usize) {
            *r = v;
        }
    }

    #[inline]
    fn v(&mut self, n: u32, half: u32) -> u64 {
        let r = self.cpu.v[(n & 31) as usize];
        (r >> (64 * (half & 1))) as u64
    }

    #[inline]
    fn set_v(&mut self, n: u32, half: u32, v: u64) {
        let r = &mut self.cpu.v[(n & 31) as usize];
        let sh = 64 * (half & 1);
        *r = (*r & !(u128::from(u64::MAX) << sh)) | (u128::from(v) << sh);
    }

    fn sp(&mut self) -> u64 {
        self.cpu.sp
    }

    fn set_sp(&mut self, v: u64) {
        self.cpu.sp = v;
    }

    fn pc(&mut self) -> u64 {
        self.cpu.pc
    }

    fn nzcv(&mut self) -> u64 {
        self.cpu.nzcv
    }

    fn set_nzcv(&mut self, v: u64) {
        self.cpu.nzcv = v & 0xf000_0000;
    }

    fn sysreg(&mut self, r: SysReg) -> u64 {
        match r {
            SysReg::TpidrEl0 => self.cpu.tpidr_el0,
            SysReg::Fpcr => self.cpu.fpcr,
            SysReg::Fpsr => self.cpu.fpsr,
            SysReg::IdReg(enc) => self
                .cpu
                .ext::<crate::linux::sysregs::IdRegisters>()
                .read(enc),
            SysReg::CntvctEl0 => crate::linux::sysregs::virtual_count(),
            SysReg::CntfrqEl0 => crate::linux::sysregs::CNTFRQ,
        }
    }

    fn set_sysreg(&mut self, r: SysReg, v: u64) {
        match r {
            SysReg::TpidrEl0 => self.cpu.tpidr_el0 = v,
            SysReg::Fpcr => self.cpu.fpcr = v,
            SysReg::Fpsr => self.cpu.fpsr = v,
            // Read-only: MSR to them is UNDEFINED before it gets here.
            SysReg::IdReg(_) | SysReg::CntvctEl0 | SysReg::CntfrqEl0 => {}
        }
    }

    #[inline]
    fn bin(&mut self, op: BinOp, a: u64, b: u64) -> u64 {
        match op {
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::Shl => a << (b & 63),
            BinOp::Lsr => a >> (b & 63),
            BinOp::Asr => ((a as i64) >> (b & 63)) as u64,
            BinOp::Ror => a.rotate_right((b & 63) as u32),
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::UMulH => ((u128::from(a) * u128::from(b)) >> 64) as u64,
            BinOp::SMulH => ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64,
            BinOp::UDiv => a.checked_div(b).unwrap_or(0),
            BinOp::SDiv => {
                if b == 0 {
                    0
                } else {
                    (a as i64).wrapping_div(b as i64) as u64
                }
            }
            BinOp::Eq => u64::from(a == b),
            BinOp::Ne => u64::from(a != b),
            BinOp::Ult => u64::from(a < b),
            BinOp::Ule => u64::from(a <= b),
            BinOp::Slt => u64::from((a as i64) < (b as i64)),
            BinOp::Sle => u64::from((a as i64) <= (b as i64)),
        }
    }

    #[inline]
    fn un(&mut self, op: UnOp, a: u64) -> u64 {
        match op {
            UnOp::Not => !a,
            UnOp::Neg => a.wrapping_neg(),
            UnOp::Clz => u64::from(a.leading_zeros()),
            UnOp::Rbit => a.reverse_bits(),
            UnOp::Rev => a.swap_bytes(),
            UnOp::Sext8 => a as i8 as i64 as u64,
            UnOp::Sext16 => a as i16 as i64 as u64,
            UnOp::Sext32 => a as i32 as i64 as u64,
            UnOp::Zext8 => a & 0xff,
            UnOp::Zext16 => a & 0xffff,
            UnOp::Zext32 => a & 0xffff_ffff,
        }
    }

    #[inline]
    fn select(&mut self, c: u64, a: u64, b: u64) -> u64 {
        if c != 0 {
            a
        } else {
            b
        }
    }

    #[inline]
    fn call(&mut self, f: Helper, args: &[u64]) -> u64 {
        debug_assert!(args.len() <= 4, "helpers take at most four arguments");
        f(&mut self.cpu, args)
    }

    fn branch(&mut self, target: u64) {
        self.next_pc = Some(target);
    }

    fn branch_if(&mut self, c: u64, target: u64) {
        if c != 0 {
            self.next_pc = Some(target);
        }
    }

    #[inline]
    fn load(&mut self, addr: u64, size: u8) -> Result<u64, Stop> {
        Ok(self.mem.read_u64(tbi(addr), usize::from(size))?)
    }

    #[inline]
    fn store(&mut self, addr: u64, size: u8, v: u64) -> Result<(), Stop> {
        Ok(self.mem.write_u64(tbi(addr), usize::from(size), v)?)
    }

    fn load_exclusive(&mut self, addr: u64, size: u8) -> Result<u64, Stop> {
        let v = self.load(addr, size)?;
        self.cpu.exclusive = Some((tbi(addr), size));
        Ok(v)
    }

    fn store_exclusive(&mut self, addr: u64, size: u8, v: u64) -> Result<u64, Stop> {
        if self.cpu.exclusive.take() != Some((tbi(addr), size)) {
            return Ok(1);
        }
        self.store(addr, size, v)?;
        Ok(0)
    }

    fn clear_exclusive(&mut self) {
        self.cpu.exclusive = None;
    }
}

/// `HINT #imm`: `1101 0101 0000 0011 0010 xxxx xxx1 1111`.
const HINT_MASK: u32 = 0xffff_f01f;
const HINT_VALUE: u32 = 0xd503_201f;

impl Interp {
    /// Fetches, decodes and executes one instruction at `cpu.pc`, advancing the PC. On a stop
    /// the PC still names the instruction that stopped (after a system call the caller
    /// advances it).
    #[inline]
    pub fn step(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Result<(), Stop> {
        self.check_cache(table, features);
        self.step_cached(table, features)
    }

    /// Runs instructions until one stops; the stop is given as `step` gives it.
    pub fn run(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Stop {
        self.check_cache(table, features);
        loop {
            if self.cache.generation != self.mem.code_generation() {
                self.flush_cache();
            }
            if let Err(stop) = self.step_cached(table, features) {
                return stop;
            }
        }
    }

    /// Empties the decode cache after executable memory changed.
    #[cold]
    #[inline(never)]
    fn flush_cache(&mut self) {
        self.cache.entries.fill(CACHE_EMPTY);
        self.cache.generation = self.mem.code_generation();
    }

    /// Empties the decode cache when it was filled for another table, feature set or code
    /// generation.
    #[inline]
    fn check_cache(&mut self, table: &SemTable<Interp>, features: &FeatureSet) {
        let key = std::ptr::from_ref(table) as usize;
        let c = &mut self.cache;
        if c.generation != self.mem.code_generation() || c.table != key || c.features != *features {
            c.entries.fill(CACHE_EMPTY);
            c.generation = self.mem.code_generation();
            c.table = key;
            c.features = *features;
        }
    }

    /// `step` once the cache is known to be valid.
    #[inline(always)]
    fn step_cached(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Result<(), Stop> {
        let pc = self.cpu.pc;
        let e = self.cache.entries[((pc / 4) as usize) % CACHE_SIZE];
        if e.pc != pc {
            return self.step_uncached(table, features);
        }
        self.next_pc = None;
        self.instructions += 1;
        (e.f)(self, e.word)?;
        self.cpu.pc = self.next_pc.take().unwrap_or(pc.wrapping_add(4));
        Ok(())
    }

    /// `step` for an instruction the cache does not hold; enters it when it has semantics.
    #[cold]
    fn step_uncached(
        &mut self,
        table: &SemTable<Interp>,
        features: &FeatureSet,
    ) -> Result<(), Stop> {
        let pc = self.cpu.pc;
        let word = self.mem.fetch(pc)?;
        let id = match decode(word, features) {
            Decoded::Insn(id) => id,
            // The hint space executes as NOP where a hint's feature is absent (BTI, PACIASP
            // and friends run on older cores): Arm's HINT "for allocation to other hints".
            Decoded::FeatureDisabled { .. } if word & HINT_MASK == HINT_VALUE => {
                self.instructions += 1;
                self.cpu.pc = self.cpu.pc.wrapping_add(4);
                return Ok(());
            }
            Decoded::Unallocated | Decoded::Undefined { .. } | Decoded::FeatureDisabled { .. } => {
                return Err(Stop::Undefined)
            }
        };
        let f = table.get(id).ok_or(Stop::NotImplemented(id))?;
        self.cache.entries[((pc / 4) as usize) % CACHE_SIZE] = CacheEntry { pc, word, f };
        self.next_pc = None;
        self.instructions += 1;
        f(self, word)?;
        self.cpu.pc = self.next_pc.take().unwrap_or(self.cpu.pc.wrapping_add(4));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{Perms, PAGE_SIZE};

    /// Runs one `word` at 0x1000 with no semantics registered; gives the stop and the next PC.
    fn check(word: u32, features: FeatureSet, expect: Result<(), Stop>, next_pc: u64) {
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, Perms::RX);
        m.mem.poke(0x1000, &word.to_le_bytes()).expect("mapped");
        m.cpu.pc = 0x1000;
        assert_eq!(
            m.step(&SemTable::default(), &features),
            expect,
            "{word:#010x}"
        );
        assert_eq!(m.cpu.pc, next_pc, "{word:#010x}");
    }

    #[test]
    fn stops_and_hint_fallback() {
        let base = FeatureSet::base();
        // PACIASP and BTI c run as NOPs on a core without FEAT_PAuth / FEAT_BTI.
        check(0xd503_233f, base, Ok(()), 0x1004);
        check(0xd503_245f, base, Ok(()), 0x1004);
        // With the features, they are instructions whose semantics are not registered here.
        let paciasp = crate::isa::EncodingId::from_name("PACIASP_HI_hints").expect("PACIASP");
        check(
            0xd503_233f,
            FeatureSet::all(),
            Err(Stop::NotImplemented(paciasp)),
            0x1000,
        );
        // Unallocated and feature-disabled non-hint words are UNDEFINED.
        check(0xffff_ffff, FeatureSet::all(), Err(Stop::Undefined), 0x1000);
        check(0x0480_1000, base, Err(Stop::Undefined), 0x1000);
    }

    /// A semantics function for the test below: `MOVZ X0, #imm16`.
    fn movz_x0(s: &mut Interp, word: u32) -> Result<(), Stop> {
        s.cpu.x[0] = u64::from((word >> 5) & 0xffff);
        Ok(())
    }

    #[test]
    fn the_decode_cache_sees_code_writes() {
        let movz = crate::isa::EncodingId::from_name("MOVZ_64_movewide").expect("MOVZ");
        let mut table = SemTable::default();
        table.set(movz, movz_x0);
        let rwx = Perms {
            read: true,
            write: true,
            exec: true,
        };
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, rwx);
        let features = FeatureSet::all();
        for imm in [1u32, 2, 3] {
            // MOVZ X0, #imm, written over the previous one, like a guest JIT patching code.
            let word = 0xd280_0000 | (imm << 5);
            m.mem.write_u64(0x1000, 4, u64::from(word)).expect("RWX");
            m.cpu.pc = 0x1000;
            m.step(&table, &features).expect("MOVZ");
            assert_eq!(m.cpu.x[0], u64::from(imm));
        }
        // mprotect of the code page: the cached instruction must fault on fetch now.
        m.mem
            .protect(0x1000, PAGE_SIZE, Perms::RW)
            .expect("protect");
        m.cpu.pc = 0x1000;
        assert!(matches!(m.step(&table, &features), Err(Stop::Fault(_))));
    }

    #[test]
    fn fetch_faults_name_the_address() {
        let mut m = Interp::default();
        m.cpu.pc = 0x4000;
        let got = m.step(&SemTable::default(), &FeatureSet::all());
        assert!(
            matches!(got, Err(Stop::Fault(f)) if f.addr == 0x4000),
            "{got:?}"
        );
    }
}
