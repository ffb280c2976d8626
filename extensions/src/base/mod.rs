//! The base A64 integer instruction set: data processing, branches, loads and stores, and the
//! system instructions user-mode code needs.
//!
//! One file per encoding family, after Dynarmic's `translate/impl`. Each function follows the
//! decode and execute pseudocode of its Arm XML file, named by the Arm functions it uses.

pub mod atomic;
pub mod branch;
pub mod dp_imm;
pub mod dp_misc;
pub mod dp_reg;
pub mod ldst;
pub mod system;
pub mod system_ops;

#[cfg(test)]
mod tests;

use armature_core::sem::ops::{logical_flags, width};
use armature_core::sem::{BinOp, Sem, SemTable, UnOp};

/// Registers every base encoding armature implements.
pub fn register<S: Sem>(t: &mut SemTable<S>) {
    dp_imm::register(t);
    branch::register(t);
    ldst::register(t);
    dp_reg::register(t);
    system::register(t);
    atomic::register(t);
    dp_misc::register(t);
    system_ops::register(t);
}

/// `SignExtend(value<bits-1:0>, 64)` on a decode-time value.
pub(crate) fn sign_extend(value: u64, bits: u32) -> u64 {
    let sh = 64 - bits;
    (((value << sh) as i64) >> sh) as u64
}

/// AND, ORR, EOR or ANDS by `opc` (00, 01, 10, 11) on `bits`-wide operands; ANDS also sets
/// NZCV. Shared by the immediate and shifted-register forms.
#[inline(always)]
pub(crate) fn logical<S: Sem>(
    s: &mut S,
    opc: u32,
    operand1: S::V,
    operand2: S::V,
    bits: u32,
) -> S::V {
    let op = match opc {
        0 | 3 => BinOp::And,
        1 => BinOp::Or,
        _ => BinOp::Xor,
    };
    let result = s.bin(op, operand1, operand2);
    let result = width(s, result, bits);
    if opc == 3 {
        let nzcv = logical_flags(s, result, bits);
        s.set_nzcv(nzcv);
    }
    result
}

/// The register size of an `sf` field: 32 or 64.
pub(crate) fn datasize(sf: u32) -> u32 {
    if sf == 1 {
        64
    } else {
        32
    }
}

/// `X[n]`, or `SP[]` when `n` is 31, as base registers and `ADD (immediate)` read them.
pub(crate) fn x_or_sp<S: Sem>(s: &mut S, n: u32) -> S::V {
    if n == 31 {
        s.sp()
    } else {
        s.x(n)
    }
}

/// `X[d] = v`, or `SP[] = v` when `d` is 31.
pub(crate) fn set_x_or_sp<S: Sem>(s: &mut S, d: u32, v: S::V) {
    if d == 31 {
        s.set_sp(v);
    } else {
        s.set_x(d, v);
    }
}

/// `ROR(x<bits-1:0>, amount)` for a decode-time amount; the result is zero-extended.
pub(crate) fn ror_imm<S: Sem>(s: &mut S, x: S::V, amount: u32, bits: u32) -> S::V {
    let x = armature_core::sem::ops::width(s, x, bits);
    let amount = amount % bits;
    if amount == 0 {
        return x;
    }
    if bits == 64 {
        let a = s.imm(u64::from(amount));
        return s.bin(BinOp::Ror, x, a);
    }
    let a = s.imm(u64::from(amount));
    let b = s.imm(u64::from(bits - amount));
    let lo = s.bin(BinOp::Lsr, x, a);
    let hi = s.bin(BinOp::Shl, x, b);
    let r = s.bin(BinOp::Or, lo, hi);
    s.un(UnOp::Zext32, r)
}

/// `ShiftReg(m, shift_type, amount, N)` for a decode-time shift: LSL, LSR, ASR or ROR of
/// `X[m]<N-1:0>`, zero-extended.
#[inline(always)]
pub(crate) fn shift_reg<S: Sem>(
    s: &mut S,
    m: u32,
    shift_type: u32,
    amount: u32,
    bits: u32,
) -> S::V {
    let x = s.x(m);
    shift_value(s, x, shift_type, amount, bits)
}

/// The shift of [`shift_reg`] on a value, with a variable amount (already below `bits`).
pub(crate) fn shift_by<S: Sem>(
    s: &mut S,
    x: S::V,
    shift_type: u32,
    amount: S::V,
    bits: u32,
) -> S::V {
    use armature_core::sem::ops::width;
    match (shift_type, bits) {
        (0, _) => {
            let r = s.bin(BinOp::Shl, x, amount);
            width(s, r, bits)
        }
        (1, _) => {
            let x = width(s, x, bits);
            s.bin(BinOp::Lsr, x, amount)
        }
        (2, 64) => s.bin(BinOp::Asr, x, amount),
        (2, _) => {
            let x = s.un(UnOp::Sext32, x);
            let r = s.bin(BinOp::Asr, x, amount);
            s.un(UnOp::Zext32, r)
        }
        (_, 64) => s.bin(BinOp::Ror, x, amount),
        _ => {
            // ROR on 32 bits: (x >> a) | (x << (32 - a)); for a == 0 the left part is cut off.
            let x = s.un(UnOp::Zext32, x);
            let lo = s.bin(BinOp::Lsr, x, amount);
            let b32 = s.imm(32);
            let inv = s.bin(BinOp::Sub, b32, amount);
            let hi = s.bin(BinOp::Shl, x, inv);
            let r = s.bin(BinOp::Or, lo, hi);
            s.un(UnOp::Zext32, r)
        }
    }
}

#[inline(always)]
fn shift_value<S: Sem>(s: &mut S, x: S::V, shift_type: u32, amount: u32, bits: u32) -> S::V {
    let a = s.imm(u64::from(amount));
    shift_by(s, x, shift_type, a, bits)
}

/// `ExtendReg(m, extend_type, shift, N)`: `X[m]` extended as `DecodeRegExtend(option)` says
/// (UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW, SXTX), shifted left and truncated to N bits.
#[inline(always)]
pub(crate) fn extend_reg<S: Sem>(s: &mut S, m: u32, option: u32, shift: u32, bits: u32) -> S::V {
    let x = s.x(m);
    let extended = match option & 7 {
        0 => s.un(UnOp::Zext8, x),
        1 => s.un(UnOp::Zext16, x),
        2 => s.un(UnOp::Zext32, x),
        4 => s.un(UnOp::Sext8, x),
        5 => s.un(UnOp::Sext16, x),
        6 => s.un(UnOp::Sext32, x),
        _ => x,
    };
    let sh = s.imm(u64::from(shift));
    let r = s.bin(BinOp::Shl, extended, sh);
    armature_core::sem::ops::width(s, r, bits)
}

/// PSTATE.C as 0 or 1.
pub(crate) fn carry_flag<S: Sem>(s: &mut S) -> S::V {
    let nzcv = s.nzcv();
    let sh = s.imm(29);
    let one = s.imm(1);
    let c = s.bin(BinOp::Lsr, nzcv, sh);
    s.bin(BinOp::And, c, one)
}
