//! Exception generation, hints, barriers and system register moves.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
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
        E::DMB_BO_barriers,
        E::DSB_BO_barriers,
        E::ISB_BI_barriers,
        E::SB_only_barriers,
    ] {
        t.set(id, nop::<S>);
    }
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

/// Hints and barriers, which a single-threaded interpreter executes as no-ops.
pub fn nop<S: Sem>(_: &mut S, _: u32) -> Result<(), Stop> {
    Ok(())
}

/// CLREX: `ClearExclusiveLocal()`.
pub fn clrex<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    s.clear_exclusive();
    Ok(())
}

/// The system registers EL0 code reaches with MRS and MSR, by `op0:op1:CRn:CRm:op2`.
#[derive(Clone, Copy)]
enum Reg {
    Nzcv,
    Sys(SysReg),
    /// A read-only register with a fixed value.
    Const(u64),
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
    Some(match (word >> 5) & 0xffff {
        NZCV => Reg::Nzcv,
        FPCR => Reg::Sys(SysReg::Fpcr),
        FPSR => Reg::Sys(SysReg::Fpsr),
        TPIDR_EL0 => Reg::Sys(SysReg::TpidrEl0),
        // 64-byte cache lines (DminLine, IminLine = 4), IDC and DIC clear.
        CTR_EL0 => Reg::Const(0x8444_c004),
        // DZP set: DC ZVA is prohibited, so software does not use it.
        DCZID_EL0 => Reg::Const(0x10),
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
        Reg::Const(_) => return Err(Stop::Undefined),
    }
    Ok(())
}
