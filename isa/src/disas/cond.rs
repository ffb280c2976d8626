//! The pseudocode functions that alias conditions call, as LLVM reads them.

use crate::isa::pseudo;
pub(super) use crate::isa::pseudo::SystemOp;

pub(super) fn bfx_preferred(sf: u64, uns: u64, imms: u64, immr: u64) -> bool {
    pseudo::BFXPreferred(sf, uns, imms, immr)
}

pub(super) fn move_wide_preferred(sf: u64, n: u64, imms: u64, immr: u64) -> bool {
    pseudo::MoveWidePreferred(sf, n, imms, immr)
}

pub(super) fn sve_move_mask_preferred(imm13: u64) -> bool {
    pseudo::SVEMoveMaskPreferred(imm13)
}

/// `SysOp()` where LLVM names the operation (it prints plain `sys` for the others).
pub(super) fn sys_op(op1: u64, crn: u64, crm: u64, op2: u64) -> SystemOp {
    pseudo::llvm_sys_op(op1, crn, crm, op2)
}

/// `SysOp()` of SYSP: `Sys_TLBIP` where LLVM prints `tlbip`.
pub(super) fn sys_op128(op1: u64, crn: u64, crm: u64, op2: u64) -> SystemOp {
    if pseudo::SysOp128Name(op1, crn, crm, op2).is_some() {
        SystemOp::Sys_TLBIP
    } else {
        SystemOp::Sys_SYS
    }
}
