//! System instructions EL0 can execute (`SYS`: DC ZVA and the EL0 cache maintenance
//! operations) and the exception-generating and debug instructions that are UNDEFINED at EL0.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop};

/// The size of the block DC ZVA zeroes: `4 << DCZID_EL0.BS` bytes, 64 as on Cortex-A57 and
/// qemu's `-cpu max`. DCZID_EL0 should report BS = 4 (and DZP clear) to match.
pub const DC_ZVA_BLOCK: u64 = 64;

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    t.set(E::SYS_CR_systeminstrs, sys::<S>);
    for id in [
        // SYSL has no architecturally defined operation (`AArch64.SysInstrWithResult`).
        E::SYSL_RC_systeminstrs,
        E::UDF_only_perm_undef,
        // HVC and SMC are UNDEFINED at EL0; HLT is while halting debug is off; ERET, DRPS
        // and DCPS1-3 are UNDEFINED at EL0 and outside Debug state.
        E::HVC_EX_exception,
        E::SMC_EX_exception,
        E::HLT_EX_exception,
        E::ERET_64E_branch_reg,
        E::DRPS_64E_branch_reg,
        E::DCPS1_DC_exception,
        E::DCPS2_DC_exception,
        E::DCPS3_DC_exception,
    ] {
        t.set(id, undefined::<S>);
    }
}

/// An instruction that is UNDEFINED at EL0 (SIGILL).
pub fn undefined<S: Sem>(_: &mut S, _: u32) -> Result<(), Stop> {
    Err(Stop::Undefined)
}

/// SYS: `AArch64.SysInstr(1, op1, CRn, CRm, op2, t)` for the operations EL0 may use under
/// Linux (SCTLR_EL1.{DZE, UCI} set): DC ZVA zeroes a block; DC CVAU, CVAC, CIVAC, CVAP,
/// CVADP and IC IVAU clean or invalidate caches, which an interpreter does not have, so they
/// are no-ops as in qemu. Everything else traps to EL1, which is UNDEFINED for the process.
pub fn sys<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SYS_CR_systeminstrs::from_word(word);
    match (f.op1, f.CRn, f.CRm, f.op2) {
        // DC ZVA, Xt: zero the aligned block that holds the address.
        (3, 7, 4, 1) => {
            let address = s.x(f.Rt);
            let align = s.imm(!(DC_ZVA_BLOCK - 1));
            let base = s.bin(BinOp::And, address, align);
            let zero = s.imm(0);
            for i in 0..DC_ZVA_BLOCK / 8 {
                let off = s.imm(8 * i);
                let a = s.bin(BinOp::Add, base, off);
                s.store(a, 8, zero)?;
            }
            Ok(())
        }
        // DC CVAC, CVAU, CVAP, CVADP, CIVAC; IC IVAU.
        (3, 7, 10..=14, 1) | (3, 7, 5, 1) => Ok(()),
        _ => Err(Stop::Undefined),
    }
}
