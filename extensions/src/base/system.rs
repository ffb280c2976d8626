//! Exception generation, hints, barriers and system register moves.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::linux::sysregs::is_emulated_id_reg;
use armature_core::sem::{BinOp, Sem, SemTable, Stop, SysReg};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    t.set(E::SVC_EX_exception, svc::<S>);
    t.set(E::BRK_EX_exception, brk::<S>);
    t.set(E::UDF_only_perm_undef, udf::<S>);
    for id in [
        E::NOP_HI_hints,
        E::HINT_HM_hints,
        E::YIELD_HI_hints,
        E::WFE_HI_hints,
        E::WFI_HI_hints,
        E::SEV_HI_hints,
        E::SEVL_HI_hints,
        E::BTI_HB_hints,
        E::CSDB_HI_hints,
        E::DGH_HI_hints,
        E::ISB_BI_barriers,
        E::SB_only_barriers,
    ] {
        t.set(id, nop::<S>);
    }
    t.set(E::DMB_BO_barriers, barrier::<S>);
    t.set(E::DSB_BO_barriers, barrier::<S>);
    t.set(E::CLREX_BN_barriers, clrex::<S>);
    t.set(E::MRS_RS_systemmove, mrs::<S>);
    t.set(E::MSR_SR_systemmove, msr::<S>);
}

/// SVC: `AArch64.CallSupervisor(imm16)`, which the run loop turns into a system call.
pub fn svc<S: Sem>(_: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SVC_EX_exception::from_word(word);
    Err(Stop::Syscall(f.imm16 as u16))
}

/// BRK: `AArch64.SoftwareBreakpoint(imm16)`.
pub fn brk<S: Sem>(_: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BRK_EX_exception::from_word(word);
    Err(Stop::Breakpoint(f.imm16 as u16))
}

/// UDF: its decode pseudocode is `UNDEFINED`, whatever imm16 holds.
pub fn udf<S: Sem>(_: &mut S, _: u32) -> Result<(), Stop> {
    Err(Stop::Undefined)
}

/// DMB and DSB: a full barrier whatever the domain and access types (`CRm`) ask for.
pub fn barrier<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    s.barrier();
    Ok(())
}

/// Hints, ISB (decoded code is dropped when code changes, see `Interp`) and SB, which order
/// nothing the interpreter could reorder.
pub fn nop<S: Sem>(_: &mut S, _: u32) -> Result<(), Stop> {
    Ok(())
}

/// CLREX: `ClearExclusiveLocal()`.
pub fn clrex<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    s.clear_exclusive();
    Ok(())
}

/// The system registers EL0 code reaches with MRS and MSR, by `op0:op1:CRn:CRm:op2`; the ID
/// registers are the ones Linux's MRS emulation answers.
#[derive(Clone, Copy)]
enum Reg {
    Nzcv,
    Sys(SysReg),
    /// A read-only register with a fixed value.
    Const(u64),
    /// A read-only register whose value the backend knows.
    ReadOnly(SysReg),
}

/// `sys_reg(op0, op1, CRn, CRm, op2)` as the 16 bits 20:5 of MRS and MSR.
const fn sys_reg(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

fn decode_sys_reg(word: u32) -> Option<Reg> {
    const NZCV: u32 = sys_reg(3, 3, 4, 2, 0);
    const FPCR: u32 = sys_reg(3, 3, 4, 4, 0);
    const FPSR: u32 = sys_reg(3, 3, 4, 4, 1);
    const TPIDR_EL0: u32 = sys_reg(3, 3, 13, 0, 2);
    const CTR_EL0: u32 = sys_reg(3, 3, 0, 0, 1);
    const DCZID_EL0: u32 = sys_reg(3, 3, 0, 0, 7);
    const CNTFRQ_EL0: u32 = sys_reg(3, 3, 14, 0, 0);
    const CNTVCT_EL0: u32 = sys_reg(3, 3, 14, 0, 2);
    const CNTVCTSS_EL0: u32 = sys_reg(3, 3, 14, 0, 6);
    Some(match (word >> 5) & 0xffff {
        NZCV => Reg::Nzcv,
        FPCR => Reg::Sys(SysReg::Fpcr),
        FPSR => Reg::Sys(SysReg::Fpsr),
        TPIDR_EL0 => Reg::Sys(SysReg::TpidrEl0),
        // 64-byte cache lines (DminLine, IminLine = 4), IDC and DIC clear.
        CTR_EL0 => Reg::Const(0x8444_c004),
        // BS = 4: DC ZVA zeroes 4 << 4 = 64 bytes (`system_ops::DC_ZVA_BLOCK`); DZP clear.
        DCZID_EL0 => Reg::Const(0x4),
        CNTFRQ_EL0 => Reg::ReadOnly(SysReg::CntfrqEl0),
        CNTVCT_EL0 | CNTVCTSS_EL0 => Reg::ReadOnly(SysReg::CntvctEl0),
        enc if is_emulated_id_reg(enc as u16) => Reg::ReadOnly(SysReg::IdReg(enc as u16)),
        _ => return None,
    })
}

/// MRS: `X[t] = AArch64.SysRegRead(op0, op1, CRn, CRm, op2)`.
pub fn mrs<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::MRS_RS_systemmove::from_word(word);
    let v = match decode_sys_reg(word).ok_or(Stop::Undefined)? {
        Reg::Nzcv => s.nzcv(),
        Reg::Sys(r) => s.sysreg(r),
        Reg::Const(v) => s.imm(v),
        Reg::ReadOnly(r) => s.sysreg(r),
    };
    s.set_x(f.Rt, v);
    Ok(())
}

/// MSR (register): `AArch64.SysRegWrite(op0, op1, CRn, CRm, op2, X[t])`.
pub fn msr<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::MSR_SR_systemmove::from_word(word);
    let v = s.x(f.Rt);
    match decode_sys_reg(word).ok_or(Stop::Undefined)? {
        Reg::Nzcv => {
            // Only N, Z, C and V (bits 31:28) are writable.
            let mask = s.imm(0xf000_0000);
            let v = s.bin(BinOp::And, v, mask);
            s.set_nzcv(v);
        }
        Reg::Sys(r) => s.set_sysreg(r, v),
        Reg::Const(_) | Reg::ReadOnly(_) => return Err(Stop::Undefined),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use armature_core::interp::Interp;
    use armature_core::isa::{Feature, FeatureSet};
    use armature_core::linux::sysregs::IdRegisters;
    use armature_core::mem::{Perms, PAGE_SIZE};
    use armature_core::sem::{SemTable, Stop};

    /// Runs the MRS or MSR `word` on a CPU whose ID registers follow `features`; gives X0.
    fn run(word: u32, features: FeatureSet) -> Result<u64, Stop> {
        let mut table = SemTable::<Interp>::default();
        super::register(&mut table);
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, Perms::RX).expect("map");
        m.mem.poke(0x1000, &word.to_le_bytes()).expect("mapped");
        m.cpu.pc = 0x1000;
        *m.cpu.ext::<IdRegisters>() = IdRegisters::new(&features);
        m.step(&table, &FeatureSet::all())?;
        Ok(m.cpu.x[0])
    }

    fn check(word: u32, features: FeatureSet, expect: Result<u64, Stop>) {
        assert_eq!(run(word, features), expect, "{word:#010x}");
    }

    #[test]
    fn id_registers_through_linux_mrs_emulation() {
        use Feature::*;
        let base = FeatureSet::base();
        // qemu-aarch64 7.2 -cpu max: MIDR_EL1, MPIDR_EL1, REVIDR_EL1, ID_AA64DFR0_EL1 and
        // CNTFRQ_EL0 (tests/programs/custom/sysregs.c prints them).
        check(0xd5380000, base, Ok(0x000f_0510)); // mrs x0, midr_el1
        check(0xd53800a0, base, Ok(0x8000_0000)); // mrs x0, mpidr_el1
        check(0xd53800c0, base, Ok(0)); // mrs x0, revidr_el1
        check(0xd5380500, base, Ok(6)); // mrs x0, id_aa64dfr0_el1
        check(0xd53be000, base, Ok(62_500_000)); // mrs x0, cntfrq_el0
                                                 // ID_AA64PFR0_EL1: EL0 and EL1 AArch64-only; FP and AdvSIMD 0xf when absent, 0 when
                                                 // present, 1 with FP16 (Arm ARM D19.2.64).
        check(0xd5380400, base, Ok(0x00ff_0011));
        let fp = base.with(FEAT_FP).with(FEAT_AdvSIMD);
        check(0xd5380400, fp, Ok(0x11));
        check(
            0xd5380400,
            fp.with(FEAT_FP16).with(FEAT_SVE),
            Ok(0x1_0011_0011),
        );
        // ID_AA64ISAR0_EL1: AES 2 (with PMULL), SHA1 1, SHA2 1, CRC32 1, Atomic 2.
        let isar0 = base
            .with(FEAT_AES)
            .with(FEAT_PMULL)
            .with(FEAT_SHA1)
            .with(FEAT_SHA256)
            .with(FEAT_CRC32)
            .with(FEAT_LSE);
        check(0xd5380600, isar0, Ok(0x21_1120));
        check(0xd5380600, base, Ok(0));
        // ID_AA64ISAR1_EL1: LRCPC 2, JSCVT 1.
        let isar1 = base.with(FEAT_LRCPC).with(FEAT_LRCPC2).with(FEAT_JSCVT);
        check(0xd5380620, isar1, Ok(0x20_1000));
        // ID_AA64ZFR0_EL1 reads as zero without SVE, even with SVE2 enabled in the decoder.
        check(0xd5380480, base.with(FEAT_SVE2), Ok(0));
        check(0xd5380480, base.with(FEAT_SVE).with(FEAT_SVE2), Ok(1));
        // ID_AA64MMFR0_EL1: ECV 1, TGran4 and TGran64 0xf.
        check(0xd5380700, base, Ok(0x1000_0000_ff00_0000));
        // Reserved registers of the ID space read as zero (CRm 2-7); CRm 0 and 1 otherwise trap.
        check(0xd53807e0, base, Ok(0)); // s3_0_c0_c7_7
        check(0xd5380100, base, Err(Stop::Undefined)); // id_pfr0_el1
        check(0xd5380020, base, Err(Stop::Undefined)); // s3_0_c0_c0_1
                                                       // The ID registers and the counter are read-only: msr midr_el1, x0; msr cntvct_el0, x0.
        check(0xd5180000, base, Err(Stop::Undefined));
        check(0xd51be040, base, Err(Stop::Undefined));
    }

    #[test]
    fn the_virtual_counter_moves_at_cntfrq() {
        let base = FeatureSet::base();
        // mrs x0, cntvct_el0; mrs x0, cntvctss_el0
        let a = run(0xd53be040, base).expect("cntvct_el0");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = run(0xd53be0c0, base).expect("cntvctss_el0");
        // 20 ms at 62.5 MHz is 1.25 million ticks.
        assert!(b - a >= 1_250_000 && b - a < 62_500_000, "{a} {b}");
    }
}
