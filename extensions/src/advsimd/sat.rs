//! Element operations that saturate (`SignedSatQ`, `UnsignedSatQ`, setting FPSR.QC) or shift
//! by a register amount, as one `Sem::call` helper per element. The helper computes in
//! unbounded integers as Arm's pseudocode does, which keeps 64-bit elements, rounding and the
//! saturation tests exact.

use armature_core::cpu::Cpu;
use armature_core::sem::Sem;

/// FPSR.QC, the cumulative saturation bit.
pub const FPSR_QC: u64 = 1 << 27;

/// The element operation of [`sat_helper`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum SatOp {
    /// `a + b`, or `a - b` with `sub`.
    Add = 0,
    /// `Abs(a)`, or `-a` with `sub`.
    Abs = 1,
    /// SUQADD: `SInt(c) + UInt(a)`; USQADD (`unsigned`): `UInt(c) + SInt(a)`.
    AccumulateOpposite = 2,
    /// SQDMULH, SQRDMULH (`round`): `(2 * a * b + round) >> esize`.
    DoublingMulHigh = 3,
    /// SQRDMLAH, SQRDMLSH (`sub`): `((c << esize) +/- 2 * a * b + round) >> esize`.
    DoublingMulAccHigh = 4,
    /// SQDMULL: `SignedSatQ(2 * a * b, 2 * esize)`.
    DoublingMulLong = 5,
    /// SQDMLAL, SQDMLSL (`sub`): `c +/- SignedSatQ(2 * a * b, 2 * esize)`.
    DoublingMulAccLong = 6,
    /// Shift `a` left by `SInt(b)` (right when negative) with optional rounding; the result
    /// is saturated to `out_esize` bits when `saturate`, else truncated.
    Shift = 7,
}

/// How [`sat_helper`] reads its operands and writes its result, packed into one argument.
#[derive(Clone, Copy)]
pub struct Meta {
    pub op: SatOp,
    /// The element size of the operands.
    pub esize: u32,
    /// The element size of the result.
    pub out_esize: u32,
    /// The operands are signed (for Shift, `a`'s signedness).
    pub signed: bool,
    /// The result saturates as unsigned (else signed).
    pub unsigned_out: bool,
    pub round: bool,
    pub saturate: bool,
    pub sub: bool,
}

impl Meta {
    /// A saturating operation on signed or unsigned `esize`-bit elements.
    pub fn new(op: SatOp, esize: u32, signed: bool) -> Meta {
        Meta {
            op,
            esize,
            out_esize: esize,
            signed,
            unsigned_out: !signed,
            round: false,
            saturate: true,
            sub: false,
        }
    }

    fn pack(self) -> u64 {
        (self.op as u64)
            | u64::from(self.esize) << 8
            | u64::from(self.out_esize) << 16
            | u64::from(self.signed) << 24
            | u64::from(self.unsigned_out) << 25
            | u64::from(self.round) << 26
            | u64::from(self.saturate) << 27
            | u64::from(self.sub) << 28
    }

    fn unpack(m: u64) -> Meta {
        let op = match m & 0xff {
            0 => SatOp::Add,
            1 => SatOp::Abs,
            2 => SatOp::AccumulateOpposite,
            3 => SatOp::DoublingMulHigh,
            4 => SatOp::DoublingMulAccHigh,
            5 => SatOp::DoublingMulLong,
            6 => SatOp::DoublingMulAccLong,
            _ => SatOp::Shift,
        };
        let bit = |n: u32| (m >> n) & 1 == 1;
        Meta {
            op,
            esize: ((m >> 8) & 0xff) as u32,
            out_esize: ((m >> 16) & 0xff) as u32,
            signed: bit(24),
            unsigned_out: bit(25),
            round: bit(26),
            saturate: bit(27),
            sub: bit(28),
        }
    }
}

/// `Int(x<esize-1:0>, unsigned)`.
fn int(x: u64, esize: u32, signed: bool) -> i128 {
    let sh = 64 - esize;
    if signed {
        i128::from(((x << sh) as i64) >> sh)
    } else {
        i128::from((x << sh) >> sh)
    }
}

/// `SatQ(i, N, unsigned)`: the value clamped to N bits and whether it was clamped.
fn sat_q(i: i128, n: u32, unsigned: bool) -> (u64, bool) {
    let (lo, hi) = if unsigned {
        (0, (1i128 << n) - 1)
    } else {
        (-(1i128 << (n - 1)), (1i128 << (n - 1)) - 1)
    };
    let r = i.clamp(lo, hi);
    let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    ((r as u64) & mask, r != i)
}

/// `(x + round) << shift` for a shift of -128..127 (right when negative), in unbounded
/// integers. A left shift of 64 or more of a non-zero 64-bit `x` is out of every result range,
/// so it gives a value of `x`'s sign far outside them (2^100) rather than overflow `i128`;
/// right shifts past 66 bits are clamped, which does not change any esize <= 64 result.
fn shift_round(x: i128, shift: i64, round: bool) -> i128 {
    if shift >= 0 {
        if shift >= 64 {
            x.signum() << 100
        } else {
            x << shift
        }
    } else {
        let n = (-shift).min(66) as u32;
        let rc = if round { 1i128 << (n - 1) } else { 0 };
        (x + rc) >> n
    }
}

/// The helper: `args` are `[a, b, c, meta]`; sets FPSR.QC when the result saturated.
pub fn sat_helper(cpu: &mut Cpu, args: &[u64]) -> u64 {
    let m = Meta::unpack(args[3]);
    let (es, signed) = (m.esize, m.signed);
    let a = int(args[0], es, signed);
    let b = int(args[1], es, signed);
    let (r, sat) = match m.op {
        SatOp::Add => {
            let v = if m.sub { a - b } else { a + b };
            sat_q(v, es, !signed)
        }
        SatOp::Abs => sat_q(if m.sub { -a } else { a.abs() }, es, false),
        SatOp::AccumulateOpposite => {
            // SUQADD: c signed, a unsigned; USQADD (unsigned_out): c unsigned, a signed.
            let c = int(args[2], es, !m.unsigned_out);
            let a = int(args[0], es, m.unsigned_out);
            sat_q(c + a, es, m.unsigned_out)
        }
        SatOp::DoublingMulHigh => {
            let rc = if m.round { 1i128 << (es - 1) } else { 0 };
            sat_q((2 * a * b + rc) >> es, es, false)
        }
        SatOp::DoublingMulAccHigh => {
            let c = int(args[2], es, true);
            let rc = if m.round { 1i128 << (es - 1) } else { 0 };
            let p = 2 * a * b;
            let acc = (c << es) + if m.sub { -p } else { p } + rc;
            sat_q(acc >> es, es, false)
        }
        SatOp::DoublingMulLong => sat_q(2 * a * b, 2 * es, false),
        SatOp::DoublingMulAccLong => {
            let (p, sat1) = sat_q(2 * a * b, 2 * es, false);
            let p = int(p, 2 * es, true);
            let c = int(args[2], 2 * es, true);
            let (r, sat2) = sat_q(if m.sub { c - p } else { c + p }, 2 * es, false);
            (r, sat1 || sat2)
        }
        SatOp::Shift => {
            let shift = i64::from(args[1] as u8 as i8);
            let v = shift_round(a, shift, m.round);
            if m.saturate {
                sat_q(v, m.out_esize, m.unsigned_out)
            } else {
                let mask = if m.out_esize >= 64 {
                    u64::MAX
                } else {
                    (1u64 << m.out_esize) - 1
                };
                ((v as u64) & mask, false)
            }
        }
    };
    if sat {
        cpu.fpsr |= FPSR_QC;
    }
    r
}

/// Calls [`sat_helper`] on one element.
pub fn sat<S: Sem>(s: &mut S, meta: Meta, a: S::V, b: S::V, c: S::V) -> S::V {
    let m = s.imm(meta.pack());
    s.call(sat_helper, &[a, b, c, m])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the helper on one 64-bit element shifted by `shift`; gives the result and FPSR.QC.
    fn check(meta: Meta, a: u64, shift: i8, want: u64, qc: bool) {
        let mut cpu = Cpu::default();
        let got = sat_helper(&mut cpu, &[a, shift as u8 as u64, 0, meta.pack()]);
        assert_eq!(
            (got, cpu.fpsr & FPSR_QC != 0),
            (want, qc),
            "{a:#x} shifted by {shift}"
        );
    }

    #[test]
    fn shifts_of_64_or_more_saturate_by_sign() {
        // Divergences `armature conform` found against qemu-aarch64 (the values are qemu's).
        let sqshl = Meta::new(SatOp::Shift, 64, true);
        let uqshl = Meta::new(SatOp::Shift, 64, false);
        let rounding = |m: Meta| Meta { round: true, ..m };
        // sqshl v0.2d, v25.2d, v19.2d with a shift of 72 of a negative lane.
        check(
            sqshl,
            0x8889_abd1_3e00_7d00,
            72,
            0x8000_0000_0000_0000,
            true,
        );
        // sqrshl with a shift of 77 of a positive lane.
        check(
            rounding(sqshl),
            0x2f80_e10a_2c2f_734e,
            77,
            i64::MAX as u64,
            true,
        );
        // uqrshl d0, d0, d25 with a shift of 99.
        check(rounding(uqshl), 0xf7b4_7c6d_8000_0001, 99, u64::MAX, true);
        check(uqshl, 1, 64, u64::MAX, true);
        // Zero stays zero, and shifts below 64 are exact.
        check(uqshl, 0, 100, 0, false);
        check(sqshl, 1, 62, 1 << 62, false);
        check(sqshl, 1, 63, i64::MAX as u64, true);
        // A plain USHL/SSHL (no saturation) by 64 or more gives zero.
        let ushl = Meta {
            saturate: false,
            ..uqshl
        };
        check(ushl, 0xffff, 64, 0, false);
    }
}
