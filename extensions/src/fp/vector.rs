//! Advanced SIMD floating-point operations, vector and scalar (`asisd`) forms: three-same
//! arithmetic and compares, pairwise and across-lanes reductions, by-element multiplies,
//! two-register misc (FABS ... FRINT*, conversions, compares with zero), fixed-point
//! conversions by immediate, FCVTL/FCVTN/FCVTXN and FMOV (vector, immediate) for H.
//!
//! Each lane is one helper call; the lane helpers of `advsimd` split and pack the halves.

use armature_core::isa::{fields, pseudo::VFPExpandImm, EncodingId as E};
use armature_core::sem::{BinOp, Sem, SemTable, Stop};

use super::scalar::{frint_mode, frint_n_ctl};
use super::softfloat::{Fmt, Rounding};
use super::{h_bf_dot_add, h_binary, h_from_fixed, h_mul_add, h_to_fixed, h_unary, op, unop, Ctl};
use crate::advsimd::{elems, ones, pack, set_elems, write_halves, Lanes};

/// How an encoding gives its element size and vector length.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Vector, `sz` selects 32 or 64-bit elements, `Q` the length.
    V,
    /// Vector of half-precision elements.
    V16,
    /// Scalar (`asisd`), `sz` selects 32 or 64 bits.
    S,
    /// Scalar half precision.
    S16,
}

const V: u8 = 0;
const V16: u8 = 1;
const SC: u8 = 2;
const S16: u8 = 3;

fn kind(k: u8) -> Kind {
    match k {
        V => Kind::V,
        V16 => Kind::V16,
        SC => Kind::S,
        _ => Kind::S16,
    }
}

/// `(esize, datasize)`: `sz` 1 with `Q` 0 is reserved for vectors.
fn shape(k: Kind, q: u32, sz: u32) -> Result<(u32, u32), Stop> {
    Ok(match k {
        Kind::V if sz == 1 && q == 0 => return Err(Stop::Undefined),
        Kind::V => (32 << sz, 64 << q),
        Kind::V16 => (16, 64 << q),
        Kind::S => (32 << sz, 32 << sz),
        Kind::S16 => (16, 16),
    })
}

/// Registers the vector FP encodings.
pub fn register<S: Sem>(t: &mut SemTable<S>) {
    macro_rules! same {
        ($opc:expr, $v:ident, $v16:ident $(, $s:ident, $s16:ident)?) => {
            t.set(E::$v, three_same::<S, { $opc }, V>);
            t.set(E::$v16, three_same::<S, { $opc }, V16>);
            $(
                t.set(E::$s, three_same::<S, { $opc }, SC>);
                t.set(E::$s16, three_same::<S, { $opc }, S16>);
            )?
        };
    }
    same!(op::ADD, FADD_asimdsame_only, FADD_asimdsamefp16_only);
    same!(op::SUB, FSUB_asimdsame_only, FSUB_asimdsamefp16_only);
    same!(op::MUL, FMUL_asimdsame_only, FMUL_asimdsamefp16_only);
    same!(op::DIV, FDIV_asimdsame_only, FDIV_asimdsamefp16_only);
    same!(op::MAX, FMAX_asimdsame_only, FMAX_asimdsamefp16_only);
    same!(op::MIN, FMIN_asimdsame_only, FMIN_asimdsamefp16_only);
    same!(op::MAXNM, FMAXNM_asimdsame_only, FMAXNM_asimdsamefp16_only);
    same!(op::MINNM, FMINNM_asimdsame_only, FMINNM_asimdsamefp16_only);
    same!(
        op::ABD,
        FABD_asimdsame_only,
        FABD_asimdsamefp16_only,
        FABD_asisdsame_only,
        FABD_asisdsamefp16_only
    );
    same!(
        op::MULX,
        FMULX_asimdsame_only,
        FMULX_asimdsamefp16_only,
        FMULX_asisdsame_only,
        FMULX_asisdsamefp16_only
    );
    same!(
        op::RECPS,
        FRECPS_asimdsame_only,
        FRECPS_asimdsamefp16_only,
        FRECPS_asisdsame_only,
        FRECPS_asisdsamefp16_only
    );
    same!(
        op::RSQRTS,
        FRSQRTS_asimdsame_only,
        FRSQRTS_asimdsamefp16_only,
        FRSQRTS_asisdsame_only,
        FRSQRTS_asisdsamefp16_only
    );
    same!(
        op::CMEQ,
        FCMEQ_asimdsame_only,
        FCMEQ_asimdsamefp16_only,
        FCMEQ_asisdsame_only,
        FCMEQ_asisdsamefp16_only
    );
    same!(
        op::CMGE,
        FCMGE_asimdsame_only,
        FCMGE_asimdsamefp16_only,
        FCMGE_asisdsame_only,
        FCMGE_asisdsamefp16_only
    );
    same!(
        op::CMGT,
        FCMGT_asimdsame_only,
        FCMGT_asimdsamefp16_only,
        FCMGT_asisdsame_only,
        FCMGT_asisdsamefp16_only
    );
    same!(
        ACGE,
        FACGE_asimdsame_only,
        FACGE_asimdsamefp16_only,
        FACGE_asisdsame_only,
        FACGE_asisdsamefp16_only
    );
    same!(
        ACGT,
        FACGT_asimdsame_only,
        FACGT_asimdsamefp16_only,
        FACGT_asisdsame_only,
        FACGT_asisdsamefp16_only
    );
    same!(FMLA, FMLA_asimdsame_only, FMLA_asimdsamefp16_only);
    same!(FMLS, FMLS_asimdsame_only, FMLS_asimdsamefp16_only);
    same!(
        PAIR | op::ADD,
        FADDP_asimdsame_only,
        FADDP_asimdsamefp16_only
    );
    same!(
        PAIR | op::MAX,
        FMAXP_asimdsame_only,
        FMAXP_asimdsamefp16_only
    );
    same!(
        PAIR | op::MIN,
        FMINP_asimdsame_only,
        FMINP_asimdsamefp16_only
    );
    same!(
        PAIR | op::MAXNM,
        FMAXNMP_asimdsame_only,
        FMAXNMP_asimdsamefp16_only
    );
    same!(
        PAIR | op::MINNM,
        FMINNMP_asimdsame_only,
        FMINNMP_asimdsamefp16_only
    );

    macro_rules! pair {
        ($opc:expr, $sd:ident, $h:ident) => {
            t.set(E::$sd, scalar_pair::<S, { $opc }, SC>);
            t.set(E::$h, scalar_pair::<S, { $opc }, S16>);
        };
    }
    pair!(op::ADD, FADDP_asisdpair_only_SD, FADDP_asisdpair_only_H);
    pair!(op::MAX, FMAXP_asisdpair_only_SD, FMAXP_asisdpair_only_H);
    pair!(op::MIN, FMINP_asisdpair_only_SD, FMINP_asisdpair_only_H);
    pair!(
        op::MAXNM,
        FMAXNMP_asisdpair_only_SD,
        FMAXNMP_asisdpair_only_H
    );
    pair!(
        op::MINNM,
        FMINNMP_asisdpair_only_SD,
        FMINNMP_asisdpair_only_H
    );

    macro_rules! across {
        ($opc:expr, $sd:ident, $h:ident) => {
            t.set(E::$sd, across::<S, { $opc }, V>);
            t.set(E::$h, across::<S, { $opc }, V16>);
        };
    }
    across!(op::MAX, FMAXV_asimdall_only_SD, FMAXV_asimdall_only_H);
    across!(op::MIN, FMINV_asimdall_only_SD, FMINV_asimdall_only_H);
    across!(op::MAXNM, FMAXNMV_asimdall_only_SD, FMAXNMV_asimdall_only_H);
    across!(op::MINNM, FMINNMV_asimdall_only_SD, FMINNMV_asimdall_only_H);

    macro_rules! elem {
        ($opc:expr, $v:ident, $v16:ident, $s:ident, $s16:ident) => {
            t.set(E::$v, by_element::<S, { $opc }, V>);
            t.set(E::$v16, by_element::<S, { $opc }, V16>);
            t.set(E::$s, by_element::<S, { $opc }, SC>);
            t.set(E::$s16, by_element::<S, { $opc }, S16>);
        };
    }
    elem!(
        op::MUL,
        FMUL_asimdelem_R_SD,
        FMUL_asimdelem_RH_H,
        FMUL_asisdelem_R_SD,
        FMUL_asisdelem_RH_H
    );
    elem!(
        op::MULX,
        FMULX_asimdelem_R_SD,
        FMULX_asimdelem_RH_H,
        FMULX_asisdelem_R_SD,
        FMULX_asisdelem_RH_H
    );
    elem!(
        FMLA,
        FMLA_asimdelem_R_SD,
        FMLA_asimdelem_RH_H,
        FMLA_asisdelem_R_SD,
        FMLA_asisdelem_RH_H
    );
    elem!(
        FMLS,
        FMLS_asimdelem_R_SD,
        FMLS_asimdelem_RH_H,
        FMLS_asisdelem_R_SD,
        FMLS_asisdelem_RH_H
    );

    macro_rules! misc {
        ($opc:expr, $v:ident, $v16:ident $(, $s:ident, $s16:ident)?) => {
            t.set(E::$v, misc::<S, { $opc }, V>);
            t.set(E::$v16, misc::<S, { $opc }, V16>);
            $(
                t.set(E::$s, misc::<S, { $opc }, SC>);
                t.set(E::$s16, misc::<S, { $opc }, S16>);
            )?
        };
    }
    misc!(M_ABS, FABS_asimdmisc_R, FABS_asimdmiscfp16_R);
    misc!(M_NEG, FNEG_asimdmisc_R, FNEG_asimdmiscfp16_R);
    misc!(M_SQRT, FSQRT_asimdmisc_R, FSQRT_asimdmiscfp16_R);
    misc!(M_FRINT, FRINTN_asimdmisc_R, FRINTN_asimdmiscfp16_R);
    misc!(M_FRINT | 1 << 8, FRINTP_asimdmisc_R, FRINTP_asimdmiscfp16_R);
    misc!(M_FRINT | 2 << 8, FRINTM_asimdmisc_R, FRINTM_asimdmiscfp16_R);
    misc!(M_FRINT | 3 << 8, FRINTZ_asimdmisc_R, FRINTZ_asimdmiscfp16_R);
    misc!(M_FRINT | 4 << 8, FRINTA_asimdmisc_R, FRINTA_asimdmiscfp16_R);
    misc!(M_FRINT | 6 << 8, FRINTX_asimdmisc_R, FRINTX_asimdmiscfp16_R);
    misc!(M_FRINT | 7 << 8, FRINTI_asimdmisc_R, FRINTI_asimdmiscfp16_R);
    t.set(
        E::FRINT32X_asimdmisc_R,
        misc::<S, { M_FRINTN | 32 << 8 }, V>,
    );
    t.set(
        E::FRINT32Z_asimdmisc_R,
        misc::<S, { M_FRINTN | 32 << 8 | 1 << 16 }, V>,
    );
    t.set(
        E::FRINT64X_asimdmisc_R,
        misc::<S, { M_FRINTN | 64 << 8 }, V>,
    );
    t.set(
        E::FRINT64Z_asimdmisc_R,
        misc::<S, { M_FRINTN | 64 << 8 | 1 << 16 }, V>,
    );
    misc!(
        M_RECPE,
        FRECPE_asimdmisc_R,
        FRECPE_asimdmiscfp16_R,
        FRECPE_asisdmisc_R,
        FRECPE_asisdmiscfp16_R
    );
    misc!(
        M_RSQRTE,
        FRSQRTE_asimdmisc_R,
        FRSQRTE_asimdmiscfp16_R,
        FRSQRTE_asisdmisc_R,
        FRSQRTE_asisdmiscfp16_R
    );
    t.set(E::FRECPX_asisdmisc_R, misc::<S, M_RECPX, SC>);
    t.set(E::FRECPX_asisdmiscfp16_R, misc::<S, M_RECPX, S16>);
    misc!(
        M_CMEQ0,
        FCMEQ_asimdmisc_FZ,
        FCMEQ_asimdmiscfp16_FZ,
        FCMEQ_asisdmisc_FZ,
        FCMEQ_asisdmiscfp16_FZ
    );
    misc!(
        M_CMGE0,
        FCMGE_asimdmisc_FZ,
        FCMGE_asimdmiscfp16_FZ,
        FCMGE_asisdmisc_FZ,
        FCMGE_asisdmiscfp16_FZ
    );
    misc!(
        M_CMGT0,
        FCMGT_asimdmisc_FZ,
        FCMGT_asimdmiscfp16_FZ,
        FCMGT_asisdmisc_FZ,
        FCMGT_asisdmiscfp16_FZ
    );
    misc!(
        M_CMLE0,
        FCMLE_asimdmisc_FZ,
        FCMLE_asimdmiscfp16_FZ,
        FCMLE_asisdmisc_FZ,
        FCMLE_asisdmiscfp16_FZ
    );
    misc!(
        M_CMLT0,
        FCMLT_asimdmisc_FZ,
        FCMLT_asimdmiscfp16_FZ,
        FCMLT_asisdmisc_FZ,
        FCMLT_asisdmiscfp16_FZ
    );
    misc!(
        M_SCVTF,
        SCVTF_asimdmisc_R,
        SCVTF_asimdmiscfp16_R,
        SCVTF_asisdmisc_R,
        SCVTF_asisdmiscfp16_R
    );
    misc!(
        M_UCVTF,
        UCVTF_asimdmisc_R,
        UCVTF_asimdmiscfp16_R,
        UCVTF_asisdmisc_R,
        UCVTF_asisdmiscfp16_R
    );
    macro_rules! cvt {
        ($r:expr, $s:ident, $s16:ident, $ss:ident, $ss16:ident, $u:ident, $u16:ident, $us:ident, $us16:ident) => {
            misc!(M_CVTS | $r << 8, $s, $s16, $ss, $ss16);
            misc!(M_CVTU | $r << 8, $u, $u16, $us, $us16);
        };
    }
    cvt!(
        0,
        FCVTNS_asimdmisc_R,
        FCVTNS_asimdmiscfp16_R,
        FCVTNS_asisdmisc_R,
        FCVTNS_asisdmiscfp16_R,
        FCVTNU_asimdmisc_R,
        FCVTNU_asimdmiscfp16_R,
        FCVTNU_asisdmisc_R,
        FCVTNU_asisdmiscfp16_R
    );
    cvt!(
        1,
        FCVTPS_asimdmisc_R,
        FCVTPS_asimdmiscfp16_R,
        FCVTPS_asisdmisc_R,
        FCVTPS_asisdmiscfp16_R,
        FCVTPU_asimdmisc_R,
        FCVTPU_asimdmiscfp16_R,
        FCVTPU_asisdmisc_R,
        FCVTPU_asisdmiscfp16_R
    );
    cvt!(
        2,
        FCVTMS_asimdmisc_R,
        FCVTMS_asimdmiscfp16_R,
        FCVTMS_asisdmisc_R,
        FCVTMS_asisdmiscfp16_R,
        FCVTMU_asimdmisc_R,
        FCVTMU_asimdmiscfp16_R,
        FCVTMU_asisdmisc_R,
        FCVTMU_asisdmiscfp16_R
    );
    cvt!(
        3,
        FCVTZS_asimdmisc_R,
        FCVTZS_asimdmiscfp16_R,
        FCVTZS_asisdmisc_R,
        FCVTZS_asisdmiscfp16_R,
        FCVTZU_asimdmisc_R,
        FCVTZU_asimdmiscfp16_R,
        FCVTZU_asisdmisc_R,
        FCVTZU_asisdmiscfp16_R
    );
    cvt!(
        4,
        FCVTAS_asimdmisc_R,
        FCVTAS_asimdmiscfp16_R,
        FCVTAS_asisdmisc_R,
        FCVTAS_asisdmiscfp16_R,
        FCVTAU_asimdmisc_R,
        FCVTAU_asimdmiscfp16_R,
        FCVTAU_asisdmisc_R,
        FCVTAU_asisdmiscfp16_R
    );

    t.set(E::FCVTZS_asimdshf_C, fixed_shift::<S, M_CVTS, V>);
    t.set(E::FCVTZU_asimdshf_C, fixed_shift::<S, M_CVTU, V>);
    t.set(E::SCVTF_asimdshf_C, fixed_shift::<S, M_SCVTF, V>);
    t.set(E::UCVTF_asimdshf_C, fixed_shift::<S, M_UCVTF, V>);
    t.set(E::FCVTZS_asisdshf_C, fixed_shift::<S, M_CVTS, SC>);
    t.set(E::FCVTZU_asisdshf_C, fixed_shift::<S, M_CVTU, SC>);
    t.set(E::SCVTF_asisdshf_C, fixed_shift::<S, M_SCVTF, SC>);
    t.set(E::UCVTF_asisdshf_C, fixed_shift::<S, M_UCVTF, SC>);

    t.set(E::FCVTL_asimdmisc_L, fcvtl::<S>);
    t.set(E::FCVTN_asimdmisc_N, fcvtn::<S, false>);
    t.set(E::FCVTXN_asimdmisc_N, fcvtn::<S, true>);
    t.set(E::FCVTXN_asisdmisc_N, fcvtxn_scalar::<S>);
    t.set(E::BFCVTN_asimdmisc_4S, bfcvtn::<S>);
    t.set(E::FCADD_asimdsame2_C, fcadd::<S>);
    t.set(E::FCMLA_asimdsame2_C, fcmla::<S, false>);
    t.set(E::FCMLA_asimdelem_C_H, fcmla::<S, true>);
    t.set(E::FCMLA_asimdelem_C_S, fcmla::<S, true>);
    for id in [
        E::FMLAL_asimdsame_F,
        E::FMLAL2_asimdsame_F,
        E::FMLSL_asimdsame_F,
        E::FMLSL2_asimdsame_F,
        E::FMLAL_asimdelem_LH,
        E::FMLAL2_asimdelem_LH,
        E::FMLSL_asimdelem_LH,
        E::FMLSL2_asimdelem_LH,
    ] {
        t.set(id, fmlal::<S>);
    }
    t.set(E::BFDOT_asimdsame2_D, bfdot::<S>);
    t.set(E::BFDOT_asimdelem_E, bfdot::<S>);
    t.set(E::BFMLAL_asimdsame2_F_, bfmlal::<S>);
    t.set(E::BFMLAL_asimdelem_F, bfmlal::<S>);
    t.set(E::BFMMLA_asimdsame2_E, bfmmla::<S>);
    t.set(E::FMOV_asimdimm_H_h, fmov_h_vector_imm::<S>);
}

/// Three-same operations beyond [`op`]: FACGE, FACGT, FMLA, FMLS; `PAIR` marks pairwise.
const ACGE: u64 = 0x20;
const ACGT: u64 = 0x21;
const FMLA: u64 = 0x22;
const FMLS: u64 = 0x23;
const PAIR: u64 = 0x100;

/// Two-register misc operations; bits 15..8 hold the FRINT `rmode` or FPToFixed rounding.
const M_ABS: u64 = 0;
const M_NEG: u64 = 1;
const M_SQRT: u64 = 2;
const M_FRINT: u64 = 3;
const M_CVTS: u64 = 4;
const M_CVTU: u64 = 5;
const M_SCVTF: u64 = 6;
const M_UCVTF: u64 = 7;
const M_CMEQ0: u64 = 8;
const M_CMGE0: u64 = 9;
const M_CMGT0: u64 = 10;
const M_CMLE0: u64 = 11;
const M_CMLT0: u64 = 12;
/// FRINT32X/Z, FRINT64X/Z: bits 15..8 the integer size, bit 16 rounds towards zero.
const M_FRINTN: u64 = 13;
const M_RECPE: u64 = 14;
const M_RSQRTE: u64 = 15;
const M_RECPX: u64 = 16;

/// One lane of a binary operation (FMLA/FMLS read the destination lane `acc`).
fn lane_op<S: Sem>(s: &mut S, opc: u64, fmt: Fmt, a: S::V, b: S::V, acc: S::V) -> S::V {
    let sign = s.imm(1 << (fmt.bits() - 1));
    match opc {
        FMLA | FMLS => {
            let a = if opc == FMLS {
                s.bin(BinOp::Xor, a, sign)
            } else {
                a
            };
            let c = s.imm(Ctl::new(fmt).pack());
            s.call(h_mul_add, &[acc, a, b, c])
        }
        ACGE | ACGT => {
            // FPCompareGE/GT(FPAbs(element1), FPAbs(element2)).
            let m = s.imm(ones(fmt.bits() - 1));
            let a = s.bin(BinOp::And, a, m);
            let b = s.bin(BinOp::And, b, m);
            let o = if opc == ACGE { op::CMGE } else { op::CMGT };
            let c = s.imm(Ctl::new(fmt).op(o).pack());
            s.call(h_binary, &[a, b, c])
        }
        _ => {
            let c = s.imm(Ctl::new(fmt).op(opc).pack());
            s.call(h_binary, &[a, b, c])
        }
    }
}

/// Three-same FP operations (vector and scalar): `Elem[d, e] = op(Elem[n, e], Elem[m, e])`;
/// the pairwise forms operate on adjacent elements of `Vm:Vn`.
fn three_same<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let k = kind(K);
    let f = fields::FADD_asimdsame_only::from_word(word);
    let sz = if matches!(k, Kind::V | Kind::S) {
        f.sz
    } else {
        0
    };
    let (esize, datasize) = shape(k, f.Q, sz)?;
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, datasize, esize);
    let b = elems(s, f.Rm, datasize, esize);
    let result: Lanes<S::V> = if OPC & PAIR != 0 {
        let concat: Lanes<S::V> = a.iter().chain(b.iter()).copied().collect();
        let zero = s.imm(0);
        concat
            .chunks(2)
            .map(|p| lane_op(s, OPC & !PAIR, fmt, p[0], p[1], zero))
            .collect()
    } else {
        let acc = if OPC == FMLA || OPC == FMLS {
            elems(s, f.Rd, datasize, esize)
        } else {
            let zero = s.imm(0);
            Lanes::from_elem(zero, a.len())
        };
        (0..a.len())
            .map(|e| lane_op(s, OPC, fmt, a[e], b[e], acc[e]))
            .collect()
    };
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (scalar): `op(Elem[n, 0], Elem[n, 1])`.
fn scalar_pair<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FADDP_asisdpair_only_SD::from_word(word);
    let esize = if kind(K) == Kind::S { 32 << f.sz } else { 16 };
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, 2 * esize, esize);
    let zero = s.imm(0);
    let r = lane_op(s, OPC, fmt, a[0], a[1], zero);
    set_elems(s, f.Rd, esize, &[r]);
    Ok(())
}

/// FMAXV, FMINV, FMAXNMV, FMINNMV: `Reduce(op, V[n], esize)`, a balanced tree of pairs.
fn across<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMAXV_asimdall_only_SD::from_word(word);
    let k = kind(K);
    if k == Kind::V && (f.Q == 0 || f.sz == 1) {
        return Err(Stop::Undefined);
    }
    let (esize, datasize) = shape(k, f.Q, 0)?;
    let fmt = Fmt::from_esize(esize);
    let mut v = elems(s, f.Rn, datasize, esize);
    let zero = s.imm(0);
    while v.len() > 1 {
        v = v
            .chunks(2)
            .map(|p| lane_op(s, OPC, fmt, p[0], p[1], zero))
            .collect();
    }
    set_elems(s, f.Rd, esize, &v);
    Ok(())
}

/// FMUL, FMULX, FMLA, FMLS (by element), vector and scalar: the second operand is
/// `Elem[m, index]` (`index` = `H:L` or `H` for S and D, `H:L:M` for H; `Rm` is `M:Rm` for S
/// and D).
fn by_element<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMLA_asimdelem_R_SD::from_word(word);
    let k = kind(K);
    let (index, m, sz) = match k {
        Kind::V | Kind::S => {
            let index = match (f.sz, f.L) {
                (0, l) => f.H << 1 | l,
                (1, 0) => f.H,
                _ => return Err(Stop::Undefined),
            };
            (index, f.M << 4 | f.Rm, f.sz)
        }
        _ => (f.H << 2 | f.L << 1 | f.M, f.Rm, 0),
    };
    let (esize, datasize) = shape(k, f.Q, sz)?;
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, datasize, esize);
    let all = elems(s, m, 128, esize);
    let b = all[index as usize];
    let acc = if OPC == FMLA || OPC == FMLS {
        elems(s, f.Rd, datasize, esize)
    } else {
        let zero = s.imm(0);
        Lanes::from_elem(zero, a.len())
    };
    let result: Lanes<S::V> = (0..a.len())
        .map(|e| lane_op(s, OPC, fmt, a[e], b, acc[e]))
        .collect();
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// One lane of a two-register misc operation, or of a fixed-point conversion by `fbits`.
fn misc_lane<S: Sem>(s: &mut S, opc: u64, fmt: Fmt, x: S::V, fbits: u32) -> Result<S::V, Stop> {
    let param = opc >> 8;
    let bits = fmt.bits();
    Ok(match opc & 0xff {
        M_ABS => {
            let m = s.imm(ones(bits - 1));
            s.bin(BinOp::And, x, m)
        }
        M_NEG => {
            let m = s.imm(1 << (bits - 1));
            s.bin(BinOp::Xor, x, m)
        }
        M_SQRT => {
            let c = s.imm(Ctl::new(fmt).op(unop::SQRT).pack());
            s.call(h_unary, &[x, c])
        }
        M_FRINT => {
            let (rounding, exact) = frint_mode(param as u32)?;
            let c = Ctl::new(fmt)
                .op(unop::ROUND_INT)
                .rounding(rounding)
                .flag(exact);
            let c = s.imm(c.pack());
            s.call(h_unary, &[x, c])
        }
        M_FRINTN => {
            if fmt == Fmt::H {
                return Err(Stop::Undefined);
            }
            let c = frint_n_ctl(fmt, param & 0xff, param >> 8 == 1);
            let c = s.imm(c.pack());
            s.call(h_unary, &[x, c])
        }
        M_RECPE | M_RSQRTE | M_RECPX => {
            let o = match opc & 0xff {
                M_RECPE => unop::RECPE,
                M_RSQRTE => unop::RSQRTE,
                _ => unop::RECPX,
            };
            let c = s.imm(Ctl::new(fmt).op(o).pack());
            s.call(h_unary, &[x, c])
        }
        M_CVTS | M_CVTU => {
            let rounding = match param {
                4 => Rounding::TieAway,
                r => Rounding::decode(r),
            };
            let c = Ctl::new(fmt)
                .rounding(Some(rounding))
                .flag(opc & 0xff == M_CVTU)
                .fbits(fbits)
                .width(bits.into());
            let c = s.imm(c.pack());
            s.call(h_to_fixed, &[x, c])
        }
        M_SCVTF | M_UCVTF => {
            let c = Ctl::new(fmt)
                .flag(opc & 0xff == M_UCVTF)
                .fbits(fbits)
                .width(bits.into());
            let c = s.imm(c.pack());
            s.call(h_from_fixed, &[x, c])
        }
        cmp => {
            // FCMxx (zero): EQ, GE, GT compare (x, 0); LE and LT compare (0, x).
            let zero = s.imm(0);
            let (o, a, b) = match cmp {
                M_CMEQ0 => (op::CMEQ, x, zero),
                M_CMGE0 => (op::CMGE, x, zero),
                M_CMGT0 => (op::CMGT, x, zero),
                M_CMLE0 => (op::CMGE, zero, x),
                _ => (op::CMGT, zero, x),
            };
            let c = s.imm(Ctl::new(fmt).op(o).pack());
            s.call(h_binary, &[a, b, c])
        }
    })
}

/// Two-register misc FP operations (vector and scalar): `Elem[d, e] = op(Elem[n, e])`.
fn misc<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FABS_asimdmisc_R::from_word(word);
    let k = kind(K);
    let sz = if matches!(k, Kind::V | Kind::S) {
        f.sz
    } else {
        0
    };
    let (esize, datasize) = shape(k, f.Q, sz)?;
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, datasize, esize);
    let mut result = Lanes::with_capacity(a.len());
    for x in a {
        result.push(misc_lane(s, OPC, fmt, x, 0)?);
    }
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// FCVTZS, FCVTZU, SCVTF, UCVTF (vector and scalar, fixed-point): `esize = 8 <<
/// HighestSetBit(immh)`, `fracbits = esize * 2 - UInt(immh:immb)`.
fn fixed_shift<S: Sem, const OPC: u64, const K: u8>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTZS_asimdshf_C::from_word(word);
    if f.immh < 2 {
        return Err(Stop::Undefined);
    }
    let esize = 8u32 << (31 - f.immh.leading_zeros());
    let datasize = if kind(K) == Kind::S {
        esize
    } else {
        if f.immh >> 3 == 1 && f.Q == 0 {
            return Err(Stop::Undefined);
        }
        64 << f.Q
    };
    let fbits = esize * 2 - (f.immh << 3 | f.immb);
    let fmt = Fmt::from_esize(esize);
    // FCVTZS/FCVTZU (fixed-point) round towards zero.
    let opc = if OPC == M_CVTS || OPC == M_CVTU {
        OPC | 3 << 8
    } else {
        OPC
    };
    let a = elems(s, f.Rn, datasize, esize);
    let mut result = Lanes::with_capacity(a.len());
    for x in a {
        result.push(misc_lane(s, opc, fmt, x, fbits)?);
    }
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// `FPConvert` of one lane with `rounding` (None: FPCR's).
fn convert_lane<S: Sem>(s: &mut S, from: Fmt, to: Fmt, x: S::V, odd: bool) -> S::V {
    let r = if odd { Some(Rounding::Odd) } else { None };
    let c = Ctl::new(from)
        .op(unop::CONVERT)
        .width(to.code())
        .rounding(r);
    let c = s.imm(c.pack());
    s.call(h_unary, &[x, c])
}

/// FCVTL, FCVTL2: widens the elements of `Vpart[n, Q]` (H to S for `sz` 0, S to D for 1).
fn fcvtl<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTL_asimdmisc_L::from_word(word);
    let esize = 16 << f.sz;
    let (from, to) = (Fmt::from_esize(esize), Fmt::from_esize(2 * esize));
    let half = s.v(f.Rn, f.Q);
    let per = 64 / esize;
    let mut result = Lanes::new();
    for i in 0..per {
        let x = crate::advsimd::lane(s, half, i * esize, esize);
        result.push(convert_lane(s, from, to, x, false));
    }
    set_elems(s, f.Rd, 2 * esize, &result);
    Ok(())
}

/// FCVTN, FCVTN2, FCVTXN, FCVTXN2 (vector): narrows the elements of `V[n]` into `Vpart[d, Q]`
/// (writing the low half zeroes the high half; the high half keeps the low one). FCVTXN
/// rounds to odd and only narrows D to S.
fn fcvtn<S: Sem, const ODD: bool>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTN_asimdmisc_N::from_word(word);
    if ODD && f.sz == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 16 << f.sz;
    let (to, from) = (Fmt::from_esize(esize), Fmt::from_esize(2 * esize));
    let a = elems(s, f.Rn, 128, 2 * esize);
    let result: Lanes<S::V> = a
        .iter()
        .map(|&x| convert_lane(s, from, to, x, ODD))
        .collect();
    let packed = pack(s, &result, esize);
    if f.Q == 0 {
        write_halves(s, f.Rd, &packed);
    } else {
        s.set_v(f.Rd, 1, packed[0]);
    }
    Ok(())
}

/// BFCVTN, BFCVTN2: the four singles of `V[n]` converted to BFloat16 (FPConvertBF) into
/// `Vpart[d, Q]`.
fn bfcvtn<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BFCVTN_asimdmisc_4S::from_word(word);
    let a = elems(s, f.Rn, 128, 32);
    let result: Lanes<S::V> = a
        .iter()
        .map(|&x| convert_lane(s, Fmt::S, Fmt::BF16, x, false))
        .collect();
    let packed = pack(s, &result, 16);
    if f.Q == 0 {
        write_halves(s, f.Rd, &packed);
    } else {
        s.set_v(f.Rd, 1, packed[0]);
    }
    Ok(())
}

/// FMLAL, FMLAL2, FMLSL, FMLSL2 (vector and by element): each single of `V[d]` gets
/// FPMulAddH of the halves of `Vpart[n, part]` (negated for FMLSL) and of `Vpart[m, part]` (or
/// element `H:L:M` of `V[Rm]`); `part` is 1 for the "2" forms.
fn fmlal<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let by_element = word >> 24 & 1 == 1;
    let f = fields::FMLAL_asimdelem_LH::from_word(word);
    // `part` is U; S (subtract) is bit 23 in the vector form, bit 14 by element.
    let part = f.U;
    let sub = if by_element {
        f.S == 1
    } else {
        fields::FMLAL_asimdsame_F::from_word(word).S == 1
    };
    if f.sz == 1 {
        return Err(Stop::Undefined);
    }
    let datasize = 32 << f.Q;
    let elements = (datasize / 16) as usize;
    let a = elems(s, f.Rn, 128, 16);
    let m = if by_element { f.Rm } else { f.M << 4 | f.Rm };
    let b = elems(s, m, 128, 16);
    let acc = elems(s, f.Rd, 2 * datasize, 32);
    let base = part as usize * elements;
    let sign = s.imm(0x8000);
    let c = s.imm(Ctl::new(Fmt::S).flag(true).pack());
    let mut result = Lanes::new();
    for e in 0..elements {
        let x = a[base + e];
        let x = if sub { s.bin(BinOp::Xor, x, sign) } else { x };
        let y = if by_element {
            b[(f.H << 2 | f.L << 1 | f.M) as usize]
        } else {
            b[base + e]
        };
        result.push(s.call(h_mul_add, &[acc[e], x, y, c]));
    }
    set_elems(s, f.Rd, 32, &result);
    Ok(())
}

/// `(esize, datasize)` of FCADD and FCMLA: `size` 00 is reserved, as is 64-bit elements in a
/// 64-bit vector.
fn complex_shape(size: u32, q: u32) -> Result<(u32, u32), Stop> {
    if size == 0 || (q == 0 && size == 3) {
        return Err(Stop::Undefined);
    }
    Ok((8 << size, 64 << q))
}

/// FCADD: adds `V[m]` rotated by 90 (`rot` 0) or 270 degrees to the complex pairs of `V[n]`.
fn fcadd<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCADD_asimdsame2_C::from_word(word);
    let (esize, datasize) = complex_shape(f.size, f.Q)?;
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, datasize, esize);
    let b = elems(s, f.Rm, datasize, esize);
    let sign = s.imm(1 << (esize - 1));
    let c = s.imm(Ctl::new(fmt).op(op::ADD).pack());
    let mut result = Lanes::new();
    for e in 0..a.len() / 2 {
        let (re, im) = (b[2 * e], b[2 * e + 1]);
        let (element1, element3) = if f.rot == 0 {
            (s.bin(BinOp::Xor, im, sign), re)
        } else {
            (im, s.bin(BinOp::Xor, re, sign))
        };
        result.push(s.call(h_binary, &[a[2 * e], element1, c]));
        result.push(s.call(h_binary, &[a[2 * e + 1], element3, c]));
    }
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// FCMLA (vector and by element): complex multiply-accumulate of one rotation (`rot` 0, 90,
/// 180, 270 degrees) of the pairs of `V[n]` and `V[m]` (or pair `index` of `V[M:Rm]`) into
/// `V[d]`, through FPMulAdd.
fn fcmla<S: Sem, const ELEM: bool>(s: &mut S, word: u32) -> Result<(), Stop> {
    let (size, q, m, rot, index) = if ELEM {
        let f = fields::FCMLA_asimdelem_C_S::from_word(word);
        let index = match f.size {
            1 if f.H == 1 && f.Q == 0 => return Err(Stop::Undefined),
            1 => f.H << 1 | f.L,
            2 if f.L == 1 || f.Q == 0 => return Err(Stop::Undefined),
            2 => f.H,
            _ => return Err(Stop::Undefined),
        };
        (f.size, f.Q, f.M << 4 | f.Rm, f.rot, Some(index as usize))
    } else {
        let f = fields::FCMLA_asimdsame2_C::from_word(word);
        (f.size, f.Q, f.Rm, f.rot, None)
    };
    let f = fields::FCMLA_asimdsame2_C::from_word(word);
    let (esize, datasize) = complex_shape(size, q)?;
    let fmt = Fmt::from_esize(esize);
    let a = elems(s, f.Rn, datasize, esize);
    let b = elems(s, m, datasize, esize);
    let acc = elems(s, f.Rd, datasize, esize);
    let sign = s.imm(1 << (esize - 1));
    let c = s.imm(Ctl::new(fmt).pack());
    let mut result = Lanes::new();
    for e in 0..a.len() / 2 {
        let p = index.unwrap_or(e);
        let (re, im) = (b[2 * p], b[2 * p + 1]);
        let neg_re = s.bin(BinOp::Xor, re, sign);
        let neg_im = s.bin(BinOp::Xor, im, sign);
        // (element1, element2, element3, element4) of the pseudocode.
        let (e1, e2, e3, e4) = match rot {
            0 => (re, a[2 * e], im, a[2 * e]),
            1 => (neg_im, a[2 * e + 1], re, a[2 * e + 1]),
            2 => (neg_re, a[2 * e], neg_im, a[2 * e]),
            _ => (im, a[2 * e + 1], neg_re, a[2 * e + 1]),
        };
        result.push(s.call(h_mul_add, &[acc[2 * e], e2, e1, c]));
        result.push(s.call(h_mul_add, &[acc[2 * e + 1], e4, e3, c]));
    }
    set_elems(s, f.Rd, esize, &result);
    Ok(())
}

/// BFDOT (vector and by element): each single of `V[d]` gets BFDotAdd of the BFloat16 pair
/// of `V[n]` in its place and that of `V[m]` (or pair `H:L` of `V[M:Rm]`).
fn bfdot<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BFDOT_asimdelem_E::from_word(word);
    let by_element = word >> 24 & 1 == 1;
    let datasize = 64 << f.Q;
    let a = elems(s, f.Rn, datasize, 32);
    let acc = elems(s, f.Rd, datasize, 32);
    let b = if by_element {
        let all = elems(s, f.M << 4 | f.Rm, 128, 32);
        Lanes::from_elem(all[(f.H << 1 | f.L) as usize], a.len())
    } else {
        elems(s, f.M << 4 | f.Rm, datasize, 32)
    };
    let result: Lanes<S::V> = (0..a.len())
        .map(|e| s.call(h_bf_dot_add, &[acc[e], a[e], b[e]]))
        .collect();
    set_elems(s, f.Rd, 32, &result);
    Ok(())
}

/// BFMLALB, BFMLALT (vector and by element): `Elem[d, e, 32] = FPMulAdd(addend, element1 :
/// Zeros(16), element2 : Zeros(16), FPCR)` (BFMulAddH) for the even (`Q` 0) or odd BFloat16
/// elements.
fn bfmlal<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BFMLAL_asimdelem_F::from_word(word);
    let by_element = word >> 24 & 1 == 1;
    let sel = f.Q as usize;
    let a = elems(s, f.Rn, 128, 16);
    let acc = elems(s, f.Rd, 128, 32);
    let b = if by_element {
        let all = elems(s, f.Rm, 128, 16);
        Lanes::from_elem(all[(f.H << 2 | f.L << 1 | f.M) as usize], 8)
    } else {
        elems(s, f.M << 4 | f.Rm, 128, 16)
    };
    let sh = s.imm(16);
    let c = s.imm(Ctl::new(Fmt::S).pack());
    let mut result = Lanes::new();
    for e in 0..4 {
        let x = s.bin(BinOp::Shl, a[2 * e + sel], sh);
        let y = if by_element { b[0] } else { b[2 * e + sel] };
        let y = s.bin(BinOp::Shl, y, sh);
        result.push(s.call(h_mul_add, &[acc[e], x, y, c]));
    }
    set_elems(s, f.Rd, 32, &result);
    Ok(())
}

/// BFMMLA: BFMatMulAdd: the 2x2 single matrix `V[d]` plus the 2x4 BFloat16 matrix `V[n]`
/// times the transpose of the 2x4 matrix `V[m]`, through BFDotAdd.
fn bfmmla<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::BFMMLA_asimdsame2_E::from_word(word);
    // 32-bit elements: pair k of row i is element 2 * i + k.
    let op1 = elems(s, f.Rn, 128, 32);
    let op2 = elems(s, f.Rm, 128, 32);
    let acc = elems(s, f.Rd, 128, 32);
    let mut result = Lanes::new();
    for i in 0..2 {
        for j in 0..2 {
            let mut sum = acc[2 * i + j];
            for k in 0..2 {
                sum = s.call(h_bf_dot_add, &[sum, op1[2 * i + k], op2[2 * j + k]]);
            }
            result.push(sum);
        }
    }
    set_elems(s, f.Rd, 32, &result);
    Ok(())
}

/// FCVTXN (scalar): `V[d] = FPConvert(V[n]<63:0>, 32, FPRounding_ODD)`.
fn fcvtxn_scalar<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FCVTXN_asisdmisc_N::from_word(word);
    if f.sz == 0 {
        return Err(Stop::Undefined);
    }
    let x = s.v(f.Rn, 0);
    let r = convert_lane(s, Fmt::D, Fmt::S, x, true);
    write_halves(s, f.Rd, &[r]);
    Ok(())
}

/// FMOV (vector, immediate), half precision: every element is `VFPExpandImm(a:b:c:d:e:f:g:h,
/// 16)`.
fn fmov_h_vector_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_asimdimm_H_h::from_word(word);
    let imm8 = f.a << 7 | f.b << 6 | f.c << 5 | f.d << 4 | f.e << 3 | f.f << 2 | f.g << 1 | f.h;
    let imm = VFPExpandImm(imm8.into(), 16) * 0x0001_0001_0001_0001;
    let lo = s.imm(imm);
    let hi = s.imm(if f.Q == 1 { imm } else { 0 });
    s.set_v(f.Rd, 0, lo);
    s.set_v(f.Rd, 1, hi);
    Ok(())
}
