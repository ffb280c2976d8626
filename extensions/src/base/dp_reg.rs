//! Data processing (register): add/subtract (shifted, extended, with carry), logical (shifted),
//! conditional select and compare, and the one-, two- and three-source groups.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::{add_with_carry, condition_holds, width};
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};
use armature_core::specialised;

use super::{carry_flag, datasize, extend_reg, logical, set_x_or_sp, shift_by, shift_reg, x_or_sp};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::ADD_32_addsub_shift,
        E::ADD_64_addsub_shift,
        E::ADDS_32_addsub_shift,
        E::ADDS_64_addsub_shift,
        E::SUB_32_addsub_shift,
        E::SUB_64_addsub_shift,
        E::SUBS_32_addsub_shift,
        E::SUBS_64_addsub_shift,
    ] {
        t.set_specialised(
            id,
            add_sub_shifted::<S>,
            specialised!(add_sub_shifted, 0xE0C0_0000, 5),
        );
    }
    for id in [
        E::ADD_32_addsub_ext,
        E::ADD_64_addsub_ext,
        E::ADDS_32S_addsub_ext,
        E::ADDS_64S_addsub_ext,
        E::SUB_32_addsub_ext,
        E::SUB_64_addsub_ext,
        E::SUBS_32S_addsub_ext,
        E::SUBS_64S_addsub_ext,
    ] {
        t.set_specialised(
            id,
            add_sub_extended::<S>,
            specialised!(add_sub_extended, 0xE000_E000, 6),
        );
    }
    for id in [
        E::ADC_32_addsub_carry,
        E::ADC_64_addsub_carry,
        E::ADCS_32_addsub_carry,
        E::ADCS_64_addsub_carry,
        E::SBC_32_addsub_carry,
        E::SBC_64_addsub_carry,
        E::SBCS_32_addsub_carry,
        E::SBCS_64_addsub_carry,
    ] {
        t.set(id, add_sub_carry::<S>);
    }
    for id in [
        E::AND_32_log_shift,
        E::AND_64_log_shift,
        E::BIC_32_log_shift,
        E::BIC_64_log_shift,
        E::ORR_32_log_shift,
        E::ORR_64_log_shift,
        E::ORN_32_log_shift,
        E::ORN_64_log_shift,
        E::EOR_32_log_shift,
        E::EOR_64_log_shift,
        E::EON_32_log_shift,
        E::EON_64_log_shift,
        E::ANDS_32_log_shift,
        E::ANDS_64_log_shift,
        E::BICS_32_log_shift,
        E::BICS_64_log_shift,
    ] {
        t.set_specialised(
            id,
            logical_shifted::<S>,
            specialised!(logical_shifted, 0xE0E0_0000, 6),
        );
    }
    for id in [
        E::CSEL_32_condsel,
        E::CSEL_64_condsel,
        E::CSINC_32_condsel,
        E::CSINC_64_condsel,
        E::CSINV_32_condsel,
        E::CSINV_64_condsel,
        E::CSNEG_32_condsel,
        E::CSNEG_64_condsel,
    ] {
        t.set_specialised(
            id,
            cond_select::<S>,
            specialised!(cond_select, 0xC000_0400, 3),
        );
    }
    for id in [
        E::CCMN_32_condcmp_reg,
        E::CCMN_64_condcmp_reg,
        E::CCMP_32_condcmp_reg,
        E::CCMP_64_condcmp_reg,
        E::CCMN_32_condcmp_imm,
        E::CCMN_64_condcmp_imm,
        E::CCMP_32_condcmp_imm,
        E::CCMP_64_condcmp_imm,
    ] {
        t.set_specialised(
            id,
            cond_compare::<S>,
            specialised!(cond_compare, 0xC000_0800, 3),
        );
    }
    for id in [
        E::UDIV_32_dp_2src,
        E::UDIV_64_dp_2src,
        E::SDIV_32_dp_2src,
        E::SDIV_64_dp_2src,
        E::LSLV_32_dp_2src,
        E::LSLV_64_dp_2src,
        E::LSRV_32_dp_2src,
        E::LSRV_64_dp_2src,
        E::ASRV_32_dp_2src,
        E::ASRV_64_dp_2src,
        E::RORV_32_dp_2src,
        E::RORV_64_dp_2src,
    ] {
        t.set(id, data_proc_2src::<S>);
    }
    for id in [
        E::MADD_32A_dp_3src,
        E::MADD_64A_dp_3src,
        E::MSUB_32A_dp_3src,
        E::MSUB_64A_dp_3src,
        E::SMADDL_64WA_dp_3src,
        E::SMSUBL_64WA_dp_3src,
        E::UMADDL_64WA_dp_3src,
        E::UMSUBL_64WA_dp_3src,
        E::SMULH_64_dp_3src,
        E::UMULH_64_dp_3src,
    ] {
        t.set_specialised(
            id,
            data_proc_3src::<S>,
            specialised!(data_proc_3src, 0x80E0_8000, 5),
        );
    }
    for id in [
        E::RBIT_32_dp_1src,
        E::RBIT_64_dp_1src,
        E::REV16_32_dp_1src,
        E::REV16_64_dp_1src,
        E::REV32_64_dp_1src,
        E::REV_32_dp_1src,
        E::REV_64_dp_1src,
        E::CLZ_32_dp_1src,
        E::CLZ_64_dp_1src,
        E::CLS_32_dp_1src,
        E::CLS_64_dp_1src,
    ] {
        t.set(id, data_proc_1src::<S>);
    }
}

/// ADD, ADDS, SUB, SUBS (shifted register): `AddWithCarry(X[n], ShiftReg(m) or NOT, op)`.
#[inline(always)]
pub fn add_sub_shifted<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADD_64_addsub_shift::from_word(word);
    let bits = datasize(f.sf);
    if f.shift == 3 || (bits == 32 && f.imm6 >= 32) {
        return Err(Stop::Undefined);
    }
    let operand1 = s.x(f.Rn);
    let operand2 = shift_reg(s, f.Rm, f.shift, f.imm6, bits);
    add_sub_common(s, f.op, f.S, operand1, operand2, bits, f.Rd, false)
}

/// ADD, ADDS, SUB, SUBS (extended register): `AddWithCarry(X[n] or SP, ExtendReg(m), op)`.
#[inline(always)]
pub fn add_sub_extended<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADD_64_addsub_ext::from_word(word);
    let bits = datasize(f.sf);
    if f.imm3 > 4 || f.opt != 0 {
        return Err(Stop::Undefined);
    }
    let operand1 = x_or_sp(s, f.Rn);
    let operand2 = extend_reg(s, f.Rm, f.option, f.imm3, bits);
    add_sub_common(s, f.op, f.S, operand1, operand2, bits, f.Rd, true)
}

/// The tail of ADD/SUB: subtraction adds `NOT(operand2)` with carry 1; S sets the flags; the
/// destination is SP when `d == 31` only in the non-flag-setting extended form.
#[allow(
    clippy::too_many_arguments,
    reason = "the decoded fields of one pseudocode block"
)]
fn add_sub_common<S: Sem>(
    s: &mut S,
    op: u32,
    set_flags: u32,
    operand1: S::V,
    operand2: S::V,
    bits: u32,
    d: u32,
    d_may_be_sp: bool,
) -> Result<(), Stop> {
    let (operand2, carry_in) = if op == 1 {
        (s.un(UnOp::Not, operand2), s.imm(1))
    } else {
        (operand2, s.imm(0))
    };
    let (result, nzcv) = add_with_carry(s, operand1, operand2, carry_in, bits);
    if set_flags == 1 {
        s.set_nzcv(nzcv);
        s.set_x(d, result);
    } else if d_may_be_sp {
        set_x_or_sp(s, d, result);
    } else {
        s.set_x(d, result);
    }
    Ok(())
}

/// ADC, ADCS, SBC, SBCS: `AddWithCarry(X[n], X[m] or NOT(X[m]), PSTATE.C)`.
pub fn add_sub_carry<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADC_64_addsub_carry::from_word(word);
    let bits = datasize(f.sf);
    let operand1 = s.x(f.Rn);
    let operand2 = s.x(f.Rm);
    let operand2 = if f.op == 1 {
        s.un(UnOp::Not, operand2)
    } else {
        operand2
    };
    let carry_in = carry_flag(s);
    let (result, nzcv) = add_with_carry(s, operand1, operand2, carry_in, bits);
    if f.S == 1 {
        s.set_nzcv(nzcv);
    }
    s.set_x(f.Rd, result);
    Ok(())
}

/// AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS (shifted register): `ShiftReg(m)`, inverted when N
/// is set, combined with `X[n]`; ANDS and BICS set N and Z and clear C and V.
#[inline(always)]
pub fn logical_shifted<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::AND_64_log_shift::from_word(word);
    let bits = datasize(f.sf);
    if bits == 32 && f.imm6 >= 32 {
        return Err(Stop::Undefined);
    }
    let operand1 = s.x(f.Rn);
    let operand2 = shift_reg(s, f.Rm, f.shift, f.imm6, bits);
    let operand2 = if f.N == 1 {
        s.un(UnOp::Not, operand2)
    } else {
        operand2
    };
    let result = logical(s, f.opc, operand1, operand2, bits);
    s.set_x(f.Rd, result);
    Ok(())
}

/// CSEL, CSINC, CSINV, CSNEG: `ConditionHolds(cond) ? X[n] : X[m]` with X[m] incremented (o2),
/// inverted (op) or negated (both).
#[inline(always)]
pub fn cond_select<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CSEL_64_condsel::from_word(word);
    let bits = datasize(f.sf);
    let c = condition_holds(s, f.cond);
    let operand1 = s.x(f.Rn);
    let mut operand2 = s.x(f.Rm);
    if f.op == 1 {
        operand2 = s.un(UnOp::Not, operand2);
    }
    if f.o2 == 1 {
        let one = s.imm(1);
        operand2 = s.bin(BinOp::Add, operand2, one);
    }
    let result = s.select(c, operand1, operand2);
    let result = width(s, result, bits);
    s.set_x(f.Rd, result);
    Ok(())
}

/// CCMN, CCMP (register and immediate): the flags of `AddWithCarry(X[n], y or NOT(y), op)`
/// when `ConditionHolds(cond)`, else the `nzcv` immediate. Bit 11 selects the immediate form.
#[inline(always)]
pub fn cond_compare<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CCMP_64_condcmp_reg::from_word(word);
    let bits = datasize(f.sf);
    let c = condition_holds(s, f.cond);
    let operand1 = s.x(f.Rn);
    // Rm and imm5 share bits 20:16.
    let operand2 = if word & (1 << 11) != 0 {
        s.imm(f.Rm.into())
    } else {
        s.x(f.Rm)
    };
    let (operand2, carry_in) = if f.op == 1 {
        (s.un(UnOp::Not, operand2), s.imm(1))
    } else {
        (operand2, s.imm(0))
    };
    let (_, nzcv) = add_with_carry(s, operand1, operand2, carry_in, bits);
    let flags = s.imm(u64::from(f.nzcv) << 28);
    let nzcv = s.select(c, nzcv, flags);
    s.set_nzcv(nzcv);
    Ok(())
}

/// UDIV, SDIV, LSLV, LSRV, ASRV, RORV. Division by zero gives zero; shift amounts are taken
/// modulo the register size (`UInt(X[m]) MOD datasize`).
pub fn data_proc_2src<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::UDIV_64_dp_2src::from_word(word);
    let bits = datasize(f.sf);
    // opcode (bits 15:10): 000010 UDIV, 000011 SDIV, 0010xx shifts by op2.
    let opcode = (word >> 10) & 0x3f;
    let operand1 = s.x(f.Rn);
    let operand2 = s.x(f.Rm);
    let result = match opcode {
        2 => {
            let a = width(s, operand1, bits);
            let b = width(s, operand2, bits);
            s.bin(BinOp::UDiv, a, b)
        }
        3 => {
            let (a, b) = if bits == 32 {
                (s.un(UnOp::Sext32, operand1), s.un(UnOp::Sext32, operand2))
            } else {
                (operand1, operand2)
            };
            let q = s.bin(BinOp::SDiv, a, b);
            width(s, q, bits)
        }
        8..=11 => {
            let mask = s.imm(u64::from(bits - 1));
            let amount = s.bin(BinOp::And, operand2, mask);
            shift_by(s, operand1, opcode & 3, amount, bits)
        }
        _ => return Err(Stop::Undefined),
    };
    s.set_x(f.Rd, result);
    Ok(())
}

/// MADD, MSUB (`X[a] +/- X[n] * X[m]`), SMADDL, SMSUBL, UMADDL, UMSUBL (32 x 32 to 64 bits)
/// and SMULH, UMULH (the high 64 bits of the 128-bit product).
#[inline(always)]
pub fn data_proc_3src<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SMADDL_64WA_dp_3src::from_word(word);
    let bits = datasize(f.sf);
    let operand1 = s.x(f.Rn);
    let operand2 = s.x(f.Rm);
    let sub = f.o0 == 1;
    let result = match f.op31_1_0_ {
        0 => {
            let product = s.bin(BinOp::Mul, operand1, operand2);
            let addend = s.x(f.Ra);
            let r = s.bin(if sub { BinOp::Sub } else { BinOp::Add }, addend, product);
            width(s, r, bits)
        }
        1 => {
            let ext = if f.U == 1 { UnOp::Zext32 } else { UnOp::Sext32 };
            let a = s.un(ext, operand1);
            let b = s.un(ext, operand2);
            let product = s.bin(BinOp::Mul, a, b);
            let addend = s.x(f.Ra);
            s.bin(if sub { BinOp::Sub } else { BinOp::Add }, addend, product)
        }
        2 if !sub => s.bin(
            if f.U == 1 { BinOp::UMulH } else { BinOp::SMulH },
            operand1,
            operand2,
        ),
        _ => return Err(Stop::Undefined),
    };
    s.set_x(f.Rd, result);
    Ok(())
}

/// RBIT, REV16, REV32, REV, CLZ, CLS on `X[n]<datasize-1:0>`.
pub fn data_proc_1src<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::REV_64_dp_1src::from_word(word);
    let bits = datasize(f.sf);
    // opcode (bits 15:10): 0000xx RBIT, REV16, REV32/REV, REV; 00010x CLZ, CLS.
    let opcode = (word >> 10) & 0x3f;
    let x = s.x(f.Rn);
    let x = width(s, x, bits);
    let high = s.imm(u64::from(64 - bits));
    let result = match (opcode, bits) {
        // RBIT: the reversed 64-bit value, shifted down for 32 bits.
        (0, _) => {
            let r = s.un(UnOp::Rbit, x);
            s.bin(BinOp::Lsr, r, high)
        }
        // REV16: swap the bytes of each halfword.
        (1, _) => {
            let mask = s.imm(0x00ff_00ff_00ff_00ff);
            let eight = s.imm(8);
            let hi = s.bin(BinOp::Lsr, x, eight);
            let hi = s.bin(BinOp::And, hi, mask);
            let lo = s.bin(BinOp::And, x, mask);
            let lo = s.bin(BinOp::Shl, lo, eight);
            let r = s.bin(BinOp::Or, hi, lo);
            width(s, r, bits)
        }
        // REV32 on 64 bits: reverse all bytes, then swap the words back.
        (2, 64) => {
            let r = s.un(UnOp::Rev, x);
            let b32 = s.imm(32);
            s.bin(BinOp::Ror, r, b32)
        }
        // REV: reverse the bytes of the register.
        (2, 32) | (3, 64) => {
            let r = s.un(UnOp::Rev, x);
            s.bin(BinOp::Lsr, r, high)
        }
        // CLZ: CountLeadingZeroBits.
        (4, _) => {
            let r = s.un(UnOp::Clz, x);
            s.bin(BinOp::Sub, r, high)
        }
        // CLS: CountLeadingSignBits(x) = CountLeadingZeroBits(x EOR (x ASR 63)) - 1, on the
        // sign-extended value.
        (5, _) => {
            let x = if bits == 32 { s.un(UnOp::Sext32, x) } else { x };
            let b63 = s.imm(63);
            let sign = s.bin(BinOp::Asr, x, b63);
            let y = s.bin(BinOp::Xor, x, sign);
            let r = s.un(UnOp::Clz, y);
            let adjust = s.imm(u64::from(64 - bits) + 1);
            s.bin(BinOp::Sub, r, adjust)
        }
        _ => return Err(Stop::Undefined),
    };
    s.set_x(f.Rd, result);
    Ok(())
}
