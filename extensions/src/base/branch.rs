//! Branches: immediate, conditional, compare and test, and register.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::{condition_holds, width};
use armature_core::sem::{BinOp, Sem, SemTable, Stop};
use armature_core::specialised;

use super::{datasize, sign_extend};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    t.set(E::B_only_branch_imm, branch_imm::<S>);
    t.set(E::BL_only_branch_imm, branch_imm::<S>);
    t.set_specialised(
        E::B_only_condbranch,
        branch_cond::<S>,
        specialised!(branch_cond, 0x0000_000F, 4),
    );
    t.set_specialised(
        E::BC_only_condbranch,
        branch_cond::<S>,
        specialised!(branch_cond, 0x0000_000F, 4),
    );
    for id in [
        E::CBZ_32_compbranch,
        E::CBZ_64_compbranch,
        E::CBNZ_32_compbranch,
        E::CBNZ_64_compbranch,
    ] {
        t.set_specialised(
            id,
            compare_branch::<S>,
            specialised!(compare_branch, 0x8100_0000, 2),
        );
    }
    t.set_specialised(
        E::TBZ_only_testbranch,
        test_branch::<S>,
        specialised!(test_branch, 0x8100_0000, 2),
    );
    t.set_specialised(
        E::TBNZ_only_testbranch,
        test_branch::<S>,
        specialised!(test_branch, 0x8100_0000, 2),
    );
    t.set_specialised(
        E::BR_64_branch_reg,
        branch_reg::<S>,
        specialised!(branch_reg, 0x0060_0000, 2),
    );
    t.set_specialised(
        E::BLR_64_branch_reg,
        branch_reg::<S>,
        specialised!(branch_reg, 0x0060_0000, 2),
    );
    t.set_specialised(
        E::RET_64R_branch_reg,
        branch_reg::<S>,
        specialised!(branch_reg, 0x0060_0000, 2),
    );
}

/// `PC + offset` for a decode-time offset.
fn pc_plus<S: Sem>(s: &mut S, offset: u64) -> S::V {
    let pc = s.pc();
    let offset = s.imm(offset);
    s.bin(BinOp::Add, pc, offset)
}

/// B and BL: `PC + SignExtend(imm26:'00')`; BL writes `X[30] = PC + 4`.
pub fn branch_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BL_only_branch_imm::from_word(word);
    let target = pc_plus(s, sign_extend(u64::from(f.imm26) << 2, 28));
    if f.op == 1 {
        let link = pc_plus(s, 4);
        s.set_x(30, link);
    }
    s.branch(target);
    Ok(())
}

/// B.cond and BC.cond: branch when `ConditionHolds(cond)`.
#[inline(always)]
pub fn branch_cond<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::B_only_condbranch::from_word(word);
    let target = pc_plus(s, sign_extend(u64::from(f.imm19) << 2, 21));
    let c = condition_holds(s, f.cond);
    s.branch_if(c, target);
    Ok(())
}

/// CBZ and CBNZ: branch when `X[t]<datasize-1:0>` is (not) zero.
#[inline(always)]
pub fn compare_branch<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CBZ_64_compbranch::from_word(word);
    let target = pc_plus(s, sign_extend(u64::from(f.imm19) << 2, 21));
    let operand = s.x(f.Rt);
    let operand = width(s, operand, datasize(f.sf));
    let zero = s.imm(0);
    let c = s.bin(if f.op == 1 { BinOp::Ne } else { BinOp::Eq }, operand, zero);
    s.branch_if(c, target);
    Ok(())
}

/// TBZ and TBNZ: branch when bit `b5:b40` of `X[t]` is (not) zero.
#[inline(always)]
pub fn test_branch<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::TBZ_only_testbranch::from_word(word);
    let bit_pos = (f.b5 << 5) | f.b40;
    let target = pc_plus(s, sign_extend(u64::from(f.imm14) << 2, 16));
    let operand = s.x(f.Rt);
    let sh = s.imm(u64::from(bit_pos));
    let one = s.imm(1);
    let bit = s.bin(BinOp::Lsr, operand, sh);
    let bit = s.bin(BinOp::And, bit, one);
    let c = if f.op == 1 {
        bit
    } else {
        s.bin(BinOp::Xor, bit, one)
    };
    s.branch_if(c, target);
    Ok(())
}

/// BR, BLR, RET: branch to `X[n]`; BLR writes `X[30] = PC + 4` after reading the target.
#[inline(always)]
pub fn branch_reg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BLR_64_branch_reg::from_word(word);
    let target = s.x(f.Rn);
    // opc (bits 24:21) is 0001 for BLR (BranchType_INDCALL); bit 21 is the field `op`.
    if f.opc_2_1_ == 0 && f.op == 1 {
        let link = pc_plus(s, 4);
        s.set_x(30, link);
    }
    s.branch(target);
    Ok(())
}
