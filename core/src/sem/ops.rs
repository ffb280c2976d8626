//! Arm pseudocode helpers written once over [`Sem`], shared by every extension.

use super::{BinOp, Sem, UnOp};

/// `AddWithCarry(x, y, carry_in)` on `bits` (32 or 64) wide values, `carry_in` 0 or 1: the
/// result (zero-extended) and NZCV in bits 31..28. It is [`Sem::add_with_carry`], whose
/// definition is [`add_with_carry_ops`] unless the backend gives an equal faster one.
pub fn add_with_carry<S: Sem>(
    s: &mut S,
    x: S::V,
    y: S::V,
    carry_in: S::V,
    bits: u32,
) -> (S::V, S::V) {
    s.add_with_carry(x, y, carry_in, bits)
}

/// The definition of `AddWithCarry` over the op table: the reference that backends' own
/// versions of [`Sem::add_with_carry`] are tested against.
pub fn add_with_carry_ops<S: Sem + ?Sized>(
    s: &mut S,
    x: S::V,
    y: S::V,
    carry_in: S::V,
    bits: u32,
) -> (S::V, S::V) {
    let (x, y) = if bits == 32 {
        (s.un(UnOp::Zext32, x), s.un(UnOp::Zext32, y))
    } else {
        (x, y)
    };
    let sum = s.bin(BinOp::Add, x, y);
    let full = s.bin(BinOp::Add, sum, carry_in);
    let result = if bits == 32 {
        s.un(UnOp::Zext32, full)
    } else {
        full
    };
    // N: the sign bit of the result.
    let sign = s.imm(u64::from(bits - 1));
    let n = s.bin(BinOp::Lsr, result, sign);
    let one = s.imm(1);
    let n = s.bin(BinOp::And, n, one);
    let zero = s.imm(0);
    let z = s.bin(BinOp::Eq, result, zero);
    // C: unsigned overflow. For 32 bits the carry is bit 32 of the 64-bit sum; for 64 bits it
    // is sum < x or (carry_in and full == sum wrapped, i.e. full < sum).
    let c = if bits == 32 {
        let b32 = s.imm(32);
        let hi = s.bin(BinOp::Lsr, full, b32);
        s.bin(BinOp::And, hi, one)
    } else {
        let c1 = s.bin(BinOp::Ult, sum, x);
        let c2 = s.bin(BinOp::Ult, full, sum);
        s.bin(BinOp::Or, c1, c2)
    };
    // V: the operands have the same sign and the result's sign differs.
    let xr = s.bin(BinOp::Xor, x, result);
    let yr = s.bin(BinOp::Xor, y, result);
    let both = s.bin(BinOp::And, xr, yr);
    let v = s.bin(BinOp::Lsr, both, sign);
    let v = s.bin(BinOp::And, v, one);
    let nzcv = pack_nzcv(s, n, z, c, v);
    (result, nzcv)
}

/// Packs four 0/1 values into NZCV bits 31..28.
pub fn pack_nzcv<S: Sem + ?Sized>(s: &mut S, n: S::V, z: S::V, c: S::V, v: S::V) -> S::V {
    let mut acc = s.imm(0);
    for (bit, flag) in [(31, n), (30, z), (29, c), (28, v)] {
        let sh = s.imm(bit);
        let f = s.bin(BinOp::Shl, flag, sh);
        acc = s.bin(BinOp::Or, acc, f);
    }
    acc
}

/// NZCV for a logical result of `bits` width (zero-extended): N and Z from the result, C and V
/// clear. It is [`Sem::logical_flags`], defined by [`logical_flags_ops`].
pub fn logical_flags<S: Sem>(s: &mut S, result: S::V, bits: u32) -> S::V {
    s.logical_flags(result, bits)
}

/// The definition of [`logical_flags`] over the op table.
pub fn logical_flags_ops<S: Sem + ?Sized>(s: &mut S, result: S::V, bits: u32) -> S::V {
    let sign = s.imm(u64::from(bits - 1));
    let one = s.imm(1);
    let n = s.bin(BinOp::Lsr, result, sign);
    let n = s.bin(BinOp::And, n, one);
    let zero = s.imm(0);
    let z = s.bin(BinOp::Eq, result, zero);
    pack_nzcv(s, n, z, zero, zero)
}

/// `ConditionHolds(cond)`: 1 when the condition holds on the current NZCV, else 0. It is
/// [`Sem::condition_holds`], defined by [`condition_holds_ops`].
pub fn condition_holds<S: Sem>(s: &mut S, cond: u32) -> S::V {
    s.condition_holds(cond)
}

/// `ConditionHolds(cond)` on a known NZCV value (bits 31..28): the interpreter's and a
/// JIT's constant folding share it; [`condition_holds_ops`] is the same over the op table.
pub const fn condition_holds_on(cond: u32, nzcv: u64) -> bool {
    let (n, z, c, v) = (
        nzcv >> 31 & 1,
        nzcv >> 30 & 1,
        nzcv >> 29 & 1,
        nzcv >> 28 & 1,
    );
    let base = match cond >> 1 {
        0 => z == 1,
        1 => c == 1,
        2 => n == 1,
        3 => v == 1,
        4 => c == 1 && z == 0,
        5 => n == v,
        6 => n == v && z == 0,
        _ => true,
    };
    if cond & 1 == 1 && cond != 0b1111 {
        !base
    } else {
        base
    }
}

/// The definition of [`condition_holds`] over the op table.
pub fn condition_holds_ops<S: Sem + ?Sized>(s: &mut S, cond: u32) -> S::V {
    let nzcv = s.nzcv();
    let flag = |s: &mut S, bit: u64| {
        let sh = s.imm(bit);
        let one = s.imm(1);
        let f = s.bin(BinOp::Lsr, nzcv, sh);
        s.bin(BinOp::And, f, one)
    };
    let (n, z, c, v) = (flag(s, 31), flag(s, 30), flag(s, 29), flag(s, 28));
    let one = s.imm(1);
    let base = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => {
            let nz = s.bin(BinOp::Xor, z, one);
            s.bin(BinOp::And, c, nz)
        }
        5 => s.bin(BinOp::Eq, n, v),
        6 => {
            let ge = s.bin(BinOp::Eq, n, v);
            let nz = s.bin(BinOp::Xor, z, one);
            s.bin(BinOp::And, ge, nz)
        }
        _ => one,
    };
    if cond & 1 == 1 && cond != 0b1111 {
        s.bin(BinOp::Xor, base, one)
    } else {
        base
    }
}

/// Truncates `v` to `bits` (32 or 64) as a W or X register write does.
pub fn width<S: Sem>(s: &mut S, v: S::V, bits: u32) -> S::V {
    if bits == 32 {
        s.un(UnOp::Zext32, v)
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Interp;

    /// AddWithCarry as the Arm pseudocode defines it, on unbounded integers.
    fn reference(x: u64, y: u64, carry: u64, bits: u32) -> (u64, u64) {
        let mask = if bits == 32 { 0xffff_ffff } else { u64::MAX };
        let (x, y) = (x & mask, y & mask);
        let sext = |v: u64| {
            if bits == 32 {
                i128::from(v as u32 as i32)
            } else {
                i128::from(v as i64)
            }
        };
        let unsigned_sum = u128::from(x) + u128::from(y) + u128::from(carry);
        let signed_sum = sext(x) + sext(y) + i128::from(carry);
        let result = (unsigned_sum as u64) & mask;
        let n = (result >> (bits - 1)) & 1;
        let z = u64::from(result == 0);
        let c = u64::from(u128::from(result) != unsigned_sum);
        let v = u64::from(sext(result) != signed_sum);
        (result, (n << 31) | (z << 30) | (c << 29) | (v << 28))
    }

    /// Both the op-table definition and the interpreter's own give the pseudocode's result.
    fn check_add(x: u64, y: u64, carry: u64, bits: u32) {
        let mut s = Interp::default();
        let want = reference(x, y, carry, bits);
        let ops = add_with_carry_ops(&mut s, x, y, carry, bits);
        assert_eq!(
            ops, want,
            "ops AddWithCarry({x:#x}, {y:#x}, {carry}), {bits} bits"
        );
        let own = add_with_carry(&mut s, x, y, carry, bits);
        assert_eq!(
            own, want,
            "Interp AddWithCarry({x:#x}, {y:#x}, {carry}), {bits} bits"
        );
        // N and Z of the result are what the logical flags of it are.
        let (r, nz) = (want.0, want.1 & 0xc000_0000);
        let ops = logical_flags_ops(&mut s, r, bits);
        assert_eq!(ops, nz, "ops logical flags of {r:#x}, {bits} bits");
        let own = logical_flags(&mut s, r, bits);
        assert_eq!(own, nz, "Interp logical flags of {r:#x}, {bits} bits");
    }

    #[test]
    fn add_with_carry_matches_the_pseudocode() {
        let edges = [
            0,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
            u64::MAX,
            0x1234_5678_9abc_def0,
        ];
        for &x in &edges {
            for &y in &edges {
                for carry in 0..2 {
                    check_add(x, y, carry, 32);
                    check_add(x, y, carry, 64);
                    check_add(x, !y, carry, 64);
                }
            }
        }
    }

    #[test]
    fn the_interpreters_conditions_are_the_ops_definition() {
        let mut s = Interp::default();
        for nzcv in 0..16u64 {
            s.set_nzcv(nzcv << 28);
            for cond in 0..16 {
                let ops = condition_holds_ops(&mut s, cond);
                let own = condition_holds(&mut s, cond);
                assert_eq!(own, ops, "cond {cond:#06b} on NZCV {nzcv:#06b}");
            }
        }
    }

    #[test]
    fn conditions() {
        let mut s = Interp::default();
        // cond: EQ NE HS LO MI PL VS VC HI LS GE LT GT LE AL NV, for N=1 Z=0 C=1 V=1.
        s.set_nzcv(0b1011 << 28);
        let got: Vec<u64> = (0..16).map(|c| condition_holds(&mut s, c)).collect();
        assert_eq!(got, [0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1]);
        s.set_nzcv(0b0110 << 28);
        let got: Vec<u64> = (0..16).map(|c| condition_holds(&mut s, c)).collect();
        assert_eq!(got, [1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1]);
    }
}
