//! The interpreter: [`Sem`] over plain `u64` values, executed as the semantics run.

use crate::cpu::Cpu;
use crate::isa::{decode, Decoded, FeatureSet};
use crate::mem::{tbi, Memory};
use crate::sem::{BinOp, Helper, Sem, SemTable, Stop, SysReg, UnOp};

/// A CPU and its memory, executing instruction semantics directly.
#[derive(Default)]
pub struct Interp {
    pub cpu: Cpu,
    pub mem: Memory,
    /// Where control goes after the current instruction, if its semantics branched.
    next_pc: Option<u64>,
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

    fn load(&mut self, addr: u64, size: u8) -> Result<u64, Stop> {
        Ok(self.mem.read_u64(tbi(addr), usize::from(size))?)
    }

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
    pub fn step(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Result<(), Stop> {
        let word = self.mem.fetch(self.cpu.pc)?;
        let id = match decode(word, features) {
            Decoded::Insn(id) => id,
            // The hint space executes as NOP where a hint's feature is absent (BTI, PACIASP
            // and friends run on older cores): Arm's HINT "for allocation to other hints".
            Decoded::FeatureDisabled { .. } if word & HINT_MASK == HINT_VALUE => {
                self.cpu.pc = self.cpu.pc.wrapping_add(4);
                return Ok(());
            }
            Decoded::Unallocated | Decoded::Undefined { .. } | Decoded::FeatureDisabled { .. } => {
                return Err(Stop::Undefined)
            }
        };
        let f = table.get(id).ok_or(Stop::NotImplemented(id))?;
        self.next_pc = None;
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
