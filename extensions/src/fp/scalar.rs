//! Scalar floating-point instructions (float-data-processing 1, 2 and 3 source, compare,
//! conditional compare, conditional select, immediate, conversions to and from integers and
//! fixed point) for H, S and D. A scalar result written to a V register zeroes the rest of it.

use armature_core::isa::{fields, pseudo::VFPExpandImm, EncodingId as E};
use armature_core::sem::{ops::condition_holds, BinOp, Sem, SemTable, Stop};

use super::h_to_fixed_js;
use super::softfloat::{Fmt, Rounding};
use super::{h_binary, h_compare, h_cond_compare, h_from_fixed, h_mul_add, h_to_fixed, h_unary};
use super::{op, unop, Ctl};
use crate::advsimd::{ones, write_halves};

/// Registers the scalar FP encodings.
pub fn register<S: Sem>(t: &mut SemTable<S>) {
    // Data-processing (2 source).
    for (ids, f) in [
        (
            [E::FADD_H_floatdp2, E::FADD_S_floatdp2, E::FADD_D_floatdp2],
            dp2::<S, { op::ADD }> as fn(&mut S, u32) -> Result<(), Stop>,
        ),
        (
            [E::FSUB_H_floatdp2, E::FSUB_S_floatdp2, E::FSUB_D_floatdp2],
            dp2::<S, { op::SUB }>,
        ),
        (
            [E::FMUL_H_floatdp2, E::FMUL_S_floatdp2, E::FMUL_D_floatdp2],
            dp2::<S, { op::MUL }>,
        ),
        (
            [E::FDIV_H_floatdp2, E::FDIV_S_floatdp2, E::FDIV_D_floatdp2],
            dp2::<S, { op::DIV }>,
        ),
        (
            [E::FMAX_H_floatdp2, E::FMAX_S_floatdp2, E::FMAX_D_floatdp2],
            dp2::<S, { op::MAX }>,
        ),
        (
            [E::FMIN_H_floatdp2, E::FMIN_S_floatdp2, E::FMIN_D_floatdp2],
            dp2::<S, { op::MIN }>,
        ),
        (
            [
                E::FMAXNM_H_floatdp2,
                E::FMAXNM_S_floatdp2,
                E::FMAXNM_D_floatdp2,
            ],
            dp2::<S, { op::MAXNM }>,
        ),
        (
            [
                E::FMINNM_H_floatdp2,
                E::FMINNM_S_floatdp2,
                E::FMINNM_D_floatdp2,
            ],
            dp2::<S, { op::MINNM }>,
        ),
        (
            [
                E::FNMUL_H_floatdp2,
                E::FNMUL_S_floatdp2,
                E::FNMUL_D_floatdp2,
            ],
            dp2::<S, { op::NMUL }>,
        ),
        // Data-processing (3 source).
        (
            [
                E::FMADD_H_floatdp3,
                E::FMADD_S_floatdp3,
                E::FMADD_D_floatdp3,
            ],
            dp3::<S>,
        ),
        (
            [
                E::FMSUB_H_floatdp3,
                E::FMSUB_S_floatdp3,
                E::FMSUB_D_floatdp3,
            ],
            dp3::<S>,
        ),
        (
            [
                E::FNMADD_H_floatdp3,
                E::FNMADD_S_floatdp3,
                E::FNMADD_D_floatdp3,
            ],
            dp3::<S>,
        ),
        (
            [
                E::FNMSUB_H_floatdp3,
                E::FNMSUB_S_floatdp3,
                E::FNMSUB_D_floatdp3,
            ],
            dp3::<S>,
        ),
        // Data-processing (1 source).
        (
            [E::FABS_H_floatdp1, E::FABS_S_floatdp1, E::FABS_D_floatdp1],
            abs_neg::<S>,
        ),
        (
            [E::FNEG_H_floatdp1, E::FNEG_S_floatdp1, E::FNEG_D_floatdp1],
            abs_neg::<S>,
        ),
        (
            [
                E::FSQRT_H_floatdp1,
                E::FSQRT_S_floatdp1,
                E::FSQRT_D_floatdp1,
            ],
            sqrt::<S>,
        ),
        (
            [
                E::FRINTN_H_floatdp1,
                E::FRINTN_S_floatdp1,
                E::FRINTN_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTP_H_floatdp1,
                E::FRINTP_S_floatdp1,
                E::FRINTP_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTM_H_floatdp1,
                E::FRINTM_S_floatdp1,
                E::FRINTM_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTZ_H_floatdp1,
                E::FRINTZ_S_floatdp1,
                E::FRINTZ_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTA_H_floatdp1,
                E::FRINTA_S_floatdp1,
                E::FRINTA_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTX_H_floatdp1,
                E::FRINTX_S_floatdp1,
                E::FRINTX_D_floatdp1,
            ],
            frint::<S>,
        ),
        (
            [
                E::FRINTI_H_floatdp1,
                E::FRINTI_S_floatdp1,
                E::FRINTI_D_floatdp1,
            ],
            frint::<S>,
        ),
        // Compare, conditional compare, conditional select.
        (
            [E::FCMP_H_floatcmp, E::FCMP_S_floatcmp, E::FCMP_D_floatcmp],
            fcmp::<S>,
        ),
        (
            [
                E::FCMP_HZ_floatcmp,
                E::FCMP_SZ_floatcmp,
                E::FCMP_DZ_floatcmp,
            ],
            fcmp::<S>,
        ),
        (
            [
                E::FCMPE_H_floatcmp,
                E::FCMPE_S_floatcmp,
                E::FCMPE_D_floatcmp,
            ],
            fcmp::<S>,
        ),
        (
            [
                E::FCMPE_HZ_floatcmp,
                E::FCMPE_SZ_floatcmp,
                E::FCMPE_DZ_floatcmp,
            ],
            fcmp::<S>,
        ),
        (
            [
                E::FCCMP_H_floatccmp,
                E::FCCMP_S_floatccmp,
                E::FCCMP_D_floatccmp,
            ],
            fccmp::<S>,
        ),
        (
            [
                E::FCCMPE_H_floatccmp,
                E::FCCMPE_S_floatccmp,
                E::FCCMPE_D_floatccmp,
            ],
            fccmp::<S>,
        ),
        (
            [
                E::FCSEL_H_floatsel,
                E::FCSEL_S_floatsel,
                E::FCSEL_D_floatsel,
            ],
            fcsel::<S>,
        ),
    ] {
        for id in ids {
            t.set(id, f);
        }
    }
    for id in [
        E::FCVT_SH_floatdp1,
        E::FCVT_DH_floatdp1,
        E::FCVT_HS_floatdp1,
        E::FCVT_DS_floatdp1,
        E::FCVT_HD_floatdp1,
        E::FCVT_SD_floatdp1,
    ] {
        t.set(id, fcvt::<S>);
    }
    t.set(E::FRINT32X_S_floatdp1, frint_n::<S, 32, false>);
    t.set(E::FRINT32X_D_floatdp1, frint_n::<S, 32, false>);
    t.set(E::FRINT32Z_S_floatdp1, frint_n::<S, 32, true>);
    t.set(E::FRINT32Z_D_floatdp1, frint_n::<S, 32, true>);
    t.set(E::FRINT64X_S_floatdp1, frint_n::<S, 64, false>);
    t.set(E::FRINT64X_D_floatdp1, frint_n::<S, 64, false>);
    t.set(E::FRINT64Z_S_floatdp1, frint_n::<S, 64, true>);
    t.set(E::FRINT64Z_D_floatdp1, frint_n::<S, 64, true>);
    t.set(E::FJCVTZS_32D_float2int, fjcvtzs::<S>);
    t.set(E::BFCVT_BS_floatdp1, bfcvt::<S>);
    // Half-precision moves (the S and D forms are in advsimd).
    t.set(E::FMOV_H_floatdp1, fmov_h_reg::<S>);
    t.set(E::FMOV_H_floatimm, fmov_h_imm::<S>);
    for id in [
        E::FMOV_32H_float2int,
        E::FMOV_64H_float2int,
        E::FMOV_H32_float2int,
        E::FMOV_H64_float2int,
    ] {
        t.set(id, fmov_h_general::<S>);
    }
    // Conversions between FP and integers.
    macro_rules! each_size {
        ($f:expr, $($id:ident),*) => { $( t.set(E::$id, $f); )* };
    }
    each_size!(
        fcvt_int::<S>,
        FCVTNS_32H_float2int,
        FCVTNS_64H_float2int,
        FCVTNS_32S_float2int,
        FCVTNS_64S_float2int,
        FCVTNS_32D_float2int,
        FCVTNS_64D_float2int,
        FCVTNU_32H_float2int,
        FCVTNU_64H_float2int,
        FCVTNU_32S_float2int,
        FCVTNU_64S_float2int,
        FCVTNU_32D_float2int,
        FCVTNU_64D_float2int,
        FCVTPS_32H_float2int,
        FCVTPS_64H_float2int,
        FCVTPS_32S_float2int,
        FCVTPS_64S_float2int,
        FCVTPS_32D_float2int,
        FCVTPS_64D_float2int,
        FCVTPU_32H_float2int,
        FCVTPU_64H_float2int,
        FCVTPU_32S_float2int,
        FCVTPU_64S_float2int,
        FCVTPU_32D_float2int,
        FCVTPU_64D_float2int,
        FCVTMS_32H_float2int,
        FCVTMS_64H_float2int,
        FCVTMS_32S_float2int,
        FCVTMS_64S_float2int,
        FCVTMS_32D_float2int,
        FCVTMS_64D_float2int,
        FCVTMU_32H_float2int,
        FCVTMU_64H_float2int,
        FCVTMU_32S_float2int,
        FCVTMU_64S_float2int,
        FCVTMU_32D_float2int,
        FCVTMU_64D_float2int,
        FCVTZS_32H_float2int,
        FCVTZS_64H_float2int,
        FCVTZS_32S_float2int,
        FCVTZS_64S_float2int,
        FCVTZS_32D_float2int,
        FCVTZS_64D_float2int,
        FCVTZU_32H_float2int,
        FCVTZU_64H_float2int,
        FCVTZU_32S_float2int,
        FCVTZU_64S_float2int,
        FCVTZU_32D_float2int,
        FCVTZU_64D_float2int,
        FCVTAS_32H_float2int,
        FCVTAS_64H_float2int,
        FCVTAS_32S_float2int,
        FCVTAS_64S_float2int,
        FCVTAS_32D_float2int,
        FCVTAS_64D_float2int,
        FCVTAU_32H_float2int,
        FCVTAU_64H_float2int,
        FCVTAU_32S_float2int,
        FCVTAU_64S_float2int,
        FCVTAU_32D_float2int,
        FCVTAU_64D_float2int,
        SCVTF_H32_float2int,
        SCVTF_H64_float2int,
        SCVTF_S32_float2int,
        SCVTF_S64_float2int,
        SCVTF_D32_float2int,
        SCVTF_D64_float2int,
        UCVTF_H32_float2int,
        UCVTF_H64_float2int,
        UCVTF_S32_float2int,
        UCVTF_S64_float2int,
        UCVTF_D32_float2int,
        UCVTF_D64_float2int
    );
    each_size!(
        fcvt_fixed::<S>,
        FCVTZS_32H_float2fix,
        FCVTZS_64H_float2fix,
        FCVTZS_32S_float2fix,
        FCVTZS_64S_float2fix,
        FCVTZS_32D_float2fix,
        FCVTZS_64D_float2fix,
        FCVTZU_32H_float2fix,
        FCVTZU_64H_float2fix,
        FCVTZU_32S_float2fix,
        FCVTZU_64S_float2fix,
        FCVTZU_32D_float2fix,
        FCVTZU_64D_float2fix,
        SCVTF_H32_float2fix,
        SCVTF_H64_float2fix,
        SCVTF_S32_float2fix,
        SCVTF_S64_float2fix,
        SCVTF_D32_float2fix,
        SCVTF_D64_float2fix,
        UCVTF_H32_float2fix,
        UCVTF_H64_float2fix,
        UCVTF_S32_float2fix,
        UCVTF_S64_float2fix,
        UCVTF_D32_float2fix,
        UCVTF_D64_float2fix
    );
}

/// The format of `ftype`; `10` is UNDEFINED.
fn format(ftype: u32) -> Result<Fmt, Stop> {
    Fmt::from_ftype(ftype).ok_or(Stop::Undefined)
}

/// `V[n]<esize-1:0>`, zero-extended.
pub(crate) fn read_scalar<S: Sem>(s: &mut S, n: u32, fmt: Fmt) -> S::V {
    let v = s.v(n, 0);
    if fmt == Fmt::D {
        return v;
    }
    let m = s.imm(ones(fmt.bits()));
    s.bin(BinOp::And, v, m)
}

/// `V[d] = result`: the rest of the register is zeroed.
pub(crate) fn write_scalar<S: Sem>(s: &mut S, d: u32, result: S::V) {
    write_halves(s, d, &[result]);
}

/// FADD, FSUB, FMUL, FDIV, FMAX, FMIN, FMAXNM, FMINNM, FNMUL (scalar): `V[d] =
/// op(V[n], V[m])` through FPAdd, FPSub, FPMul, FPDiv, FPMax, FPMin, FPMaxNum, FPMinNum.
fn dp2<S: Sem, const OP: u64>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FADD_S_floatdp2::from_word(word);
    let fmt = format(f.ftype)?;
    let a = read_scalar(s, f.Rn, fmt);
    let b = read_scalar(s, f.Rm, fmt);
    let c = s.imm(Ctl::new(fmt).op(OP).pack());
    let r = s.call(h_binary, &[a, b, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FMADD, FMSUB, FNMADD, FNMSUB: `FPMulAdd(operanda, element1, element2)` with `operanda`
/// negated when `o1` is 1 and `element1` negated when `o1 != o0` (FPNeg flips the sign bit).
fn dp3<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMADD_S_floatdp3::from_word(word);
    let fmt = format(f.ftype)?;
    let sign = s.imm(1 << (fmt.bits() - 1));
    let mut a = read_scalar(s, f.Ra, fmt);
    let mut e1 = read_scalar(s, f.Rn, fmt);
    let e2 = read_scalar(s, f.Rm, fmt);
    if f.o1 == 1 {
        a = s.bin(BinOp::Xor, a, sign);
    }
    if f.o1 != f.o0 {
        e1 = s.bin(BinOp::Xor, e1, sign);
    }
    let c = s.imm(Ctl::new(fmt).pack());
    let r = s.call(h_mul_add, &[a, e1, e2, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FABS (`opc` 01) and FNEG (`opc` 10) (scalar): FPAbs and FPNeg clear or flip the sign bit,
/// NaNs included, with no exceptions.
fn abs_neg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FABS_S_floatdp1::from_word(word);
    let fmt = format(f.ftype)?;
    let v = read_scalar(s, f.Rn, fmt);
    let r = if f.opc == 1 {
        let m = s.imm(ones(fmt.bits() - 1));
        s.bin(BinOp::And, v, m)
    } else {
        let m = s.imm(1 << (fmt.bits() - 1));
        s.bin(BinOp::Xor, v, m)
    };
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FSQRT (scalar): FPSqrt.
fn sqrt<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FSQRT_S_floatdp1::from_word(word);
    let fmt = format(f.ftype)?;
    let v = read_scalar(s, f.Rn, fmt);
    let c = s.imm(Ctl::new(fmt).op(unop::SQRT).pack());
    let r = s.call(h_unary, &[v, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// The rounding and exactness of FRINT<r> from `rmode` (`opcode<2:0>` of floatdp1):
/// N, P, M, Z, A, (reserved), X (FPCR mode, exact), I (FPCR mode).
pub(crate) fn frint_mode(rmode: u32) -> Result<(Option<Rounding>, bool), Stop> {
    Ok(match rmode {
        0 => (Some(Rounding::TieEven), false),
        1 => (Some(Rounding::PosInf), false),
        2 => (Some(Rounding::NegInf), false),
        3 => (Some(Rounding::Zero), false),
        4 => (Some(Rounding::TieAway), false),
        6 => (None, true),
        7 => (None, false),
        _ => return Err(Stop::Undefined),
    })
}

/// FRINTN, FRINTP, FRINTM, FRINTZ, FRINTA, FRINTX, FRINTI (scalar): FPRoundInt.
fn frint<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FRINTA_S_floatdp1::from_word(word);
    let fmt = format(f.ftype)?;
    let (rounding, exact) = frint_mode(f.rmode)?;
    let v = read_scalar(s, f.Rn, fmt);
    let c = Ctl::new(fmt)
        .op(unop::ROUND_INT)
        .rounding(rounding)
        .flag(exact);
    let c = s.imm(c.pack());
    let r = s.call(h_unary, &[v, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FRINT32X, FRINT32Z, FRINT64X, FRINT64Z (scalar): FPRoundIntN into `INTSIZE` bits,
/// towards zero (`Z`) or with FPCR's rounding mode.
fn frint_n<S: Sem, const INTSIZE: u64, const Z: bool>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FRINT32X_S_floatdp1::from_word(word);
    let fmt = format(f.ftype)?;
    let v = read_scalar(s, f.Rn, fmt);
    let c = s.imm(frint_n_ctl(fmt, INTSIZE, Z).pack());
    let r = s.call(h_unary, &[v, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// The helper parameters of FPRoundIntN.
pub(crate) fn frint_n_ctl(fmt: Fmt, intsize: u64, z: bool) -> Ctl {
    Ctl::new(fmt)
        .op(unop::ROUND_INT_N)
        .rounding(z.then_some(Rounding::Zero))
        .width(intsize)
}

/// FJCVTZS: `X[d] = ZeroExtend(FPToFixedJS(V[n]<63:0>))`, `PSTATE.NZCV = '0':Z:'00'`.
fn fjcvtzs<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FJCVTZS_32D_float2int::from_word(word);
    let v = s.v(f.Rn, 0);
    let r = s.call(h_to_fixed_js, &[v]);
    let m = s.imm(0xffff_ffff);
    let x = s.bin(BinOp::And, r, m);
    s.set_x(f.Rd, x);
    let sh = s.imm(2);
    let z = s.bin(BinOp::Lsr, r, sh);
    let zm = s.imm(1 << 30);
    let nzcv = s.bin(BinOp::And, z, zm);
    s.set_nzcv(nzcv);
    Ok(())
}

/// BFCVT: `V[d] = FPConvertBF(V[n]<31:0>, FPCR)`: single to BFloat16 with FPCR's rounding
/// and FPCR.FZ (FPConvert into a format with E = 8, F = 7).
fn bfcvt<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BFCVT_BS_floatdp1::from_word(word);
    let v = read_scalar(s, f.Rn, Fmt::S);
    let c = Ctl::new(Fmt::S).op(unop::CONVERT).width(Fmt::BF16.code());
    let c = s.imm(c.pack());
    let r = s.call(h_unary, &[v, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FCVT (scalar): FPConvert from `ftype` to `opc` with FPCR's rounding mode.
fn fcvt<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVT_DH_floatdp1::from_word(word);
    let from = format(f.ftype)?;
    let to = format(f.opc)?;
    if from == to {
        return Err(Stop::Undefined);
    }
    let v = read_scalar(s, f.Rn, from);
    let c = Ctl::new(from).op(unop::CONVERT).width(to.code());
    let c = s.imm(c.pack());
    let r = s.call(h_unary, &[v, c]);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FCMP, FCMPE (scalar): `PSTATE.NZCV = FPCompare(V[n], V[m] or 0.0, signal_nans)`;
/// `opc<1>` signals quiet NaNs, `opc<0>` compares with zero.
fn fcmp<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCMP_S_floatcmp::from_word(word);
    let fmt = format(f.ftype)?;
    let a = read_scalar(s, f.Rn, fmt);
    let b = if f.opc & 1 == 1 {
        s.imm(0)
    } else {
        read_scalar(s, f.Rm, fmt)
    };
    let c = s.imm(Ctl::new(fmt).flag(f.opc & 2 != 0).pack());
    let nzcv = s.call(h_compare, &[a, b, c]);
    s.set_nzcv(nzcv);
    Ok(())
}

/// FCCMP, FCCMPE: `PSTATE.NZCV = ConditionHolds(cond) ? FPCompare(V[n], V[m], op == 1) :
/// nzcv`. The helper compares (and raises flags) only when the condition holds.
fn fccmp<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCCMP_S_floatccmp::from_word(word);
    let fmt = format(f.ftype)?;
    let a = read_scalar(s, f.Rn, fmt);
    let b = read_scalar(s, f.Rm, fmt);
    let holds = condition_holds(s, f.cond);
    let c = Ctl::new(fmt).flag(f.op == 1).fbits(f.nzcv);
    let c = s.imm(c.pack());
    let nzcv = s.call(h_cond_compare, &[a, b, holds, c]);
    s.set_nzcv(nzcv);
    Ok(())
}

/// FCSEL: `V[d] = ConditionHolds(cond) ? V[n] : V[m]`.
fn fcsel<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCSEL_S_floatsel::from_word(word);
    let fmt = format(f.ftype)?;
    let a = read_scalar(s, f.Rn, fmt);
    let b = read_scalar(s, f.Rm, fmt);
    let holds = condition_holds(s, f.cond);
    let r = s.select(holds, a, b);
    write_scalar(s, f.Rd, r);
    Ok(())
}

/// FMOV (register), half precision: `V[d] = ZeroExtend(V[n]<15:0>)`.
fn fmov_h_reg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_H_floatdp1::from_word(word);
    let v = read_scalar(s, f.Rn, Fmt::H);
    write_scalar(s, f.Rd, v);
    Ok(())
}

/// FMOV (scalar, immediate), half precision: `V[d] = VFPExpandImm(imm8, 16)`.
fn fmov_h_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_H_floatimm::from_word(word);
    let v = s.imm(VFPExpandImm(f.imm8.into(), 16));
    write_scalar(s, f.Rd, v);
    Ok(())
}

/// FMOV (general), half precision: `opcode<0>` 1 moves `X[n]<15:0>` into `V[d]`, 0 moves
/// `V[n]<15:0>` into `X[d]`, both zero-extended.
fn fmov_h_general<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_H32_float2int::from_word(word);
    let m = s.imm(0xffff);
    if f.opcode & 1 == 1 {
        let x = s.x(f.Rn);
        let v = s.bin(BinOp::And, x, m);
        write_scalar(s, f.Rd, v);
    } else {
        let v = s.v(f.Rn, 0);
        let v = s.bin(BinOp::And, v, m);
        s.set_x(f.Rd, v);
    }
    Ok(())
}

/// FCVT<r>S/U (scalar, integer), SCVTF and UCVTF (scalar, integer). `rmode:opcode<2:1>`
/// selects the operation: FPToFixed with rounding N (00 00), P (01 00), M (10 00), Z (11 00),
/// A (00 10), or FixedToFP (00 01) with FPCR's rounding; `opcode<0>` is unsigned.
fn fcvt_int<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTZS_32S_float2int::from_word(word);
    let fmt = format(f.ftype)?;
    let intsize = if f.sf == 1 { 64 } else { 32 };
    let unsigned = f.opcode & 1 == 1;
    let rounding = match (f.rmode, f.opcode >> 1) {
        (r, 0) => Some(Rounding::decode(r.into())),
        (0, 2) => Some(Rounding::TieAway),
        (0, 1) => None,
        _ => return Err(Stop::Undefined),
    };
    convert(s, f.Rn, f.Rd, fmt, intsize, 0, unsigned, rounding)
}

/// FCVTZS/FCVTZU (scalar, fixed-point) and SCVTF/UCVTF (scalar, fixed-point): `fbits = 64 -
/// UInt(scale)`; FPToFixed rounds towards zero, FixedToFP uses FPCR's mode.
fn fcvt_fixed<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTZS_32S_float2fix::from_word(word);
    let fmt = format(f.ftype)?;
    let intsize = if f.sf == 1 { 64 } else { 32 };
    if f.sf == 0 && f.scale >> 5 == 0 {
        return Err(Stop::Undefined);
    }
    let fbits = 64 - f.scale;
    let unsigned = f.opcode & 1 == 1;
    let rounding = if f.opcode >> 1 == 0 {
        Some(Rounding::Zero)
    } else {
        None
    };
    convert(s, f.Rn, f.Rd, fmt, intsize, fbits, unsigned, rounding)
}

/// FPToFixed into `X[d]` (when `rounding` is given) or FixedToFP into `V[d]`.
#[allow(clippy::too_many_arguments)]
fn convert<S: Sem>(
    s: &mut S,
    n: u32,
    d: u32,
    fmt: Fmt,
    intsize: u64,
    fbits: u32,
    unsigned: bool,
    rounding: Option<Rounding>,
) -> Result<(), Stop> {
    let c = Ctl::new(fmt).flag(unsigned).fbits(fbits).width(intsize);
    match rounding {
        Some(r) => {
            let v = read_scalar(s, n, fmt);
            let c = s.imm(c.rounding(Some(r)).pack());
            let r = s.call(h_to_fixed, &[v, c]);
            s.set_x(d, r);
        }
        None => {
            let x = s.x(n);
            let c = s.imm(c.pack());
            let r = s.call(h_from_fixed, &[x, c]);
            write_scalar(s, d, r);
        }
    }
    Ok(())
}
