//! Advanced SIMD integer arithmetic: three-same (vector and scalar), shifts by immediate,
//! two-register miscellaneous, three-different (long, wide, narrow) and by-element forms,
//! across-lanes reductions. Saturating and register-shift element operations go through
//! [`super::sat`].

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};

use super::sat::{sat, Meta, SatOp};
use super::{elems, ones, pack, set_elems, set_vpart, write_halves, Lanes};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::SHADD_asimdsame_only,
        E::UHADD_asimdsame_only,
        E::SRHADD_asimdsame_only,
        E::URHADD_asimdsame_only,
        E::SHSUB_asimdsame_only,
        E::UHSUB_asimdsame_only,
        E::SQADD_asimdsame_only,
        E::UQADD_asimdsame_only,
        E::SQSUB_asimdsame_only,
        E::UQSUB_asimdsame_only,
        E::SSHL_asimdsame_only,
        E::USHL_asimdsame_only,
        E::SQSHL_asimdsame_only,
        E::UQSHL_asimdsame_only,
        E::SRSHL_asimdsame_only,
        E::URSHL_asimdsame_only,
        E::SQRSHL_asimdsame_only,
        E::UQRSHL_asimdsame_only,
        E::SMAX_asimdsame_only,
        E::SMIN_asimdsame_only,
        E::SABD_asimdsame_only,
        E::UABD_asimdsame_only,
        E::SABA_asimdsame_only,
        E::UABA_asimdsame_only,
        E::MLA_asimdsame_only,
        E::MLS_asimdsame_only,
        E::MUL_asimdsame_only,
        E::PMUL_asimdsame_only,
        E::SMAXP_asimdsame_only,
        E::SMINP_asimdsame_only,
        E::SQDMULH_asimdsame_only,
        E::SQRDMULH_asimdsame_only,
        E::ADD_asisdsame_only,
        E::SUB_asisdsame_only,
        E::CMEQ_asisdsame_only,
        E::CMTST_asisdsame_only,
        E::CMGE_asisdsame_only,
        E::CMGT_asisdsame_only,
        E::CMHI_asisdsame_only,
        E::CMHS_asisdsame_only,
        E::SQADD_asisdsame_only,
        E::UQADD_asisdsame_only,
        E::SQSUB_asisdsame_only,
        E::UQSUB_asisdsame_only,
        E::SSHL_asisdsame_only,
        E::USHL_asisdsame_only,
        E::SQSHL_asisdsame_only,
        E::UQSHL_asisdsame_only,
        E::SRSHL_asisdsame_only,
        E::URSHL_asisdsame_only,
        E::SQRSHL_asisdsame_only,
        E::UQRSHL_asisdsame_only,
        E::SQDMULH_asisdsame_only,
        E::SQRDMULH_asisdsame_only,
    ] {
        t.set(id, same::<S>);
    }
    for id in [
        E::SSHR_asimdshf_R,
        E::USHR_asimdshf_R,
        E::SSRA_asimdshf_R,
        E::USRA_asimdshf_R,
        E::SRSHR_asimdshf_R,
        E::URSHR_asimdshf_R,
        E::SRSRA_asimdshf_R,
        E::URSRA_asimdshf_R,
        E::SRI_asimdshf_R,
        E::SHL_asimdshf_R,
        E::SLI_asimdshf_R,
        E::SQSHL_asimdshf_R,
        E::UQSHL_asimdshf_R,
        E::SQSHLU_asimdshf_R,
        E::SSHR_asisdshf_R,
        E::USHR_asisdshf_R,
        E::SSRA_asisdshf_R,
        E::USRA_asisdshf_R,
        E::SRSHR_asisdshf_R,
        E::URSHR_asisdshf_R,
        E::SRSRA_asisdshf_R,
        E::URSRA_asisdshf_R,
        E::SRI_asisdshf_R,
        E::SHL_asisdshf_R,
        E::SLI_asisdshf_R,
        E::SQSHL_asisdshf_R,
        E::UQSHL_asisdshf_R,
        E::SQSHLU_asisdshf_R,
    ] {
        t.set(id, shift_imm::<S>);
    }
    for id in [
        E::RSHRN_asimdshf_N,
        E::SQSHRN_asimdshf_N,
        E::UQSHRN_asimdshf_N,
        E::SQRSHRN_asimdshf_N,
        E::UQRSHRN_asimdshf_N,
        E::SQSHRUN_asimdshf_N,
        E::SQRSHRUN_asimdshf_N,
        E::SQSHRN_asisdshf_N,
        E::UQSHRN_asisdshf_N,
        E::SQRSHRN_asisdshf_N,
        E::UQRSHRN_asisdshf_N,
        E::SQSHRUN_asisdshf_N,
        E::SQRSHRUN_asisdshf_N,
    ] {
        t.set(id, shift_narrow::<S>);
    }
    t.set(E::SSHLL_asimdshf_L, shift_long::<S>);
    t.set(E::USHLL_asimdshf_L, shift_long::<S>);
    for id in [
        E::ABS_asimdmisc_R,
        E::NEG_asimdmisc_R,
        E::NOT_asimdmisc_R,
        E::RBIT_asimdmisc_R,
        E::REV16_asimdmisc_R,
        E::REV32_asimdmisc_R,
        E::REV64_asimdmisc_R,
        E::CLS_asimdmisc_R,
        E::CLZ_asimdmisc_R,
        E::CMGE_asimdmisc_Z,
        E::CMGT_asimdmisc_Z,
        E::CMLE_asimdmisc_Z,
        E::CMLT_asimdmisc_Z,
        E::SQABS_asimdmisc_R,
        E::SQNEG_asimdmisc_R,
        E::SUQADD_asimdmisc_R,
        E::USQADD_asimdmisc_R,
        E::ABS_asisdmisc_R,
        E::NEG_asisdmisc_R,
        E::CMEQ_asisdmisc_Z,
        E::CMGE_asisdmisc_Z,
        E::CMGT_asisdmisc_Z,
        E::CMLE_asisdmisc_Z,
        E::CMLT_asisdmisc_Z,
        E::SQABS_asisdmisc_R,
        E::SQNEG_asisdmisc_R,
        E::SUQADD_asisdmisc_R,
        E::USQADD_asisdmisc_R,
    ] {
        t.set(id, misc::<S>);
    }
    for id in [
        E::SQXTN_asimdmisc_N,
        E::UQXTN_asimdmisc_N,
        E::SQXTUN_asimdmisc_N,
        E::SQXTN_asisdmisc_N,
        E::UQXTN_asisdmisc_N,
        E::SQXTUN_asisdmisc_N,
    ] {
        t.set(id, sat_extract_narrow::<S>);
    }
    for id in [
        E::SADDLP_asimdmisc_P,
        E::UADDLP_asimdmisc_P,
        E::SADALP_asimdmisc_P,
        E::UADALP_asimdmisc_P,
    ] {
        t.set(id, add_long_pairwise::<S>);
    }
    t.set(E::SHLL_asimdmisc_S, shll::<S>);
    for id in [
        E::SADDL_asimddiff_L,
        E::UADDL_asimddiff_L,
        E::SSUBL_asimddiff_L,
        E::USUBL_asimddiff_L,
        E::SADDW_asimddiff_W,
        E::UADDW_asimddiff_W,
        E::SSUBW_asimddiff_W,
        E::USUBW_asimddiff_W,
        E::ADDHN_asimddiff_N,
        E::RADDHN_asimddiff_N,
        E::SUBHN_asimddiff_N,
        E::RSUBHN_asimddiff_N,
        E::SABAL_asimddiff_L,
        E::UABAL_asimddiff_L,
        E::SABDL_asimddiff_L,
        E::UABDL_asimddiff_L,
        E::SMLAL_asimddiff_L,
        E::UMLAL_asimddiff_L,
        E::SMLSL_asimddiff_L,
        E::UMLSL_asimddiff_L,
        E::SMULL_asimddiff_L,
        E::UMULL_asimddiff_L,
        E::SQDMLAL_asimddiff_L,
        E::SQDMLSL_asimddiff_L,
        E::SQDMULL_asimddiff_L,
        E::SQDMLAL_asisddiff_only,
        E::SQDMLSL_asisddiff_only,
        E::SQDMULL_asisddiff_only,
    ] {
        t.set(id, different::<S>);
    }
    for id in [
        E::MUL_asimdelem_R,
        E::MLA_asimdelem_R,
        E::MLS_asimdelem_R,
        E::SQDMULH_asimdelem_R,
        E::SQRDMULH_asimdelem_R,
        E::SQDMULH_asisdelem_R,
        E::SQRDMULH_asisdelem_R,
        E::SMULL_asimdelem_L,
        E::UMULL_asimdelem_L,
        E::SMLAL_asimdelem_L,
        E::UMLAL_asimdelem_L,
        E::SMLSL_asimdelem_L,
        E::UMLSL_asimdelem_L,
        E::SQDMULL_asimdelem_L,
        E::SQDMLAL_asimdelem_L,
        E::SQDMLSL_asimdelem_L,
        E::SQDMULL_asisdelem_L,
        E::SQDMLAL_asisdelem_L,
        E::SQDMLSL_asisdelem_L,
    ] {
        t.set(id, by_element::<S>);
    }
    for id in [
        E::SMAXV_asimdall_only,
        E::SMINV_asimdall_only,
        E::SADDLV_asimdall_only,
    ] {
        t.set(id, across_signed::<S>);
    }
    t.set(E::ADDP_asisdpair_only, addp_scalar::<S>);
    t.set(E::URECPE_asimdmisc_R, unsigned_estimate::<S>);
    t.set(E::URSQRTE_asimdmisc_R, unsigned_estimate::<S>);
}

/// `SInt` of a zero-extended `esize`-bit element, as a 64-bit value.
pub(crate) fn sext<S: Sem>(s: &mut S, x: S::V, esize: u32) -> S::V {
    match esize {
        8 => s.un(UnOp::Sext8, x),
        16 => s.un(UnOp::Sext16, x),
        32 => s.un(UnOp::Sext32, x),
        _ => x,
    }
}

/// `Int(x, unsigned)` of an `esize`-bit element, as a 64-bit value.
fn ext<S: Sem>(s: &mut S, x: S::V, esize: u32, signed: bool) -> S::V {
    if signed {
        sext(s, x, esize)
    } else {
        x
    }
}

/// `test ? Ones : Zeros` from a 0/1 value.
fn mask_of<S: Sem>(s: &mut S, t: S::V) -> S::V {
    s.un(UnOp::Neg, t)
}

/// `Abs(a - b)` of extended elements.
fn abs_diff<S: Sem>(s: &mut S, a: S::V, b: S::V, signed: bool) -> S::V {
    let lt = s.bin(if signed { BinOp::Slt } else { BinOp::Ult }, a, b);
    let d1 = s.bin(BinOp::Sub, a, b);
    let d2 = s.bin(BinOp::Sub, b, a);
    s.select(lt, d2, d1)
}

/// `PolynomialMult(a<7:0>, b<7:0>)<7:0>`: carry-less product of two bytes.
fn pmul8<S: Sem>(s: &mut S, a: S::V, b: S::V) -> S::V {
    let mut acc = s.imm(0);
    let one = s.imm(1);
    for i in 0..8 {
        let sh = s.imm(i);
        let bit = s.bin(BinOp::Lsr, b, sh);
        let bit = s.bin(BinOp::And, bit, one);
        let m = mask_of(s, bit);
        let p = s.bin(BinOp::Shl, a, sh);
        let p = s.bin(BinOp::And, p, m);
        acc = s.bin(BinOp::Xor, acc, p);
    }
    acc
}

/// The element operations of [`same`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum SameOp {
    Hadd,
    Rhadd,
    Hsub,
    QAdd,
    QSub,
    Shl { sat: bool, round: bool },
    Max,
    Min,
    Abd,
    Aba,
    Add,
    Sub,
    Cmeq,
    Cmtst,
    Cmgt,
    Cmge,
    Mla,
    Mls,
    Mul,
    Pmul,
    Maxp,
    Minp,
    Qdmulh { round: bool },
}

/// Three-same integer operations not in `dp::three_same`, vector and scalar: halving adds,
/// saturating adds, shifts by register, signed max and min, absolute differences, multiplies
/// and the scalar forms of ADD, SUB and the compares. Follows each instruction's execute
/// pseudocode element by element.
pub fn same<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHADD_asimdsame_only::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let signed = f.U == 0;
    let op = match (f.opcode, f.U) {
        (0b00000, _) => SameOp::Hadd,
        (0b00010, _) => SameOp::Rhadd,
        (0b00100, _) => SameOp::Hsub,
        (0b00001, _) => SameOp::QAdd,
        (0b00101, _) => SameOp::QSub,
        (0b01000, _) => SameOp::Shl {
            sat: false,
            round: false,
        },
        (0b01001, _) => SameOp::Shl {
            sat: true,
            round: false,
        },
        (0b01010, _) => SameOp::Shl {
            sat: false,
            round: true,
        },
        (0b01011, _) => SameOp::Shl {
            sat: true,
            round: true,
        },
        (0b01100, 0) => SameOp::Max,
        (0b01101, 0) => SameOp::Min,
        (0b01110, _) => SameOp::Abd,
        (0b01111, _) => SameOp::Aba,
        (0b10000, 0) => SameOp::Add,
        (0b10000, _) => SameOp::Sub,
        (0b10001, 1) => SameOp::Cmeq,
        (0b10001, _) => SameOp::Cmtst,
        (0b00110, _) => SameOp::Cmgt,
        (0b00111, _) => SameOp::Cmge,
        (0b10010, 0) => SameOp::Mla,
        (0b10010, _) => SameOp::Mls,
        (0b10011, 0) => SameOp::Mul,
        (0b10011, _) => SameOp::Pmul,
        (0b10100, 0) => SameOp::Maxp,
        (0b10101, 0) => SameOp::Minp,
        (0b10110, u) => SameOp::Qdmulh { round: u == 1 },
        _ => return Err(Stop::Undefined),
    };
    let size_ok = match op {
        SameOp::QAdd | SameOp::QSub | SameOp::Shl { .. } => scalar || f.size != 3 || f.Q == 1,
        SameOp::Add | SameOp::Sub | SameOp::Cmeq | SameOp::Cmtst | SameOp::Cmgt | SameOp::Cmge => {
            if scalar {
                f.size == 3
            } else {
                f.size != 3 || f.Q == 1
            }
        }
        SameOp::Qdmulh { .. } => f.size == 1 || f.size == 2,
        SameOp::Pmul => f.size == 0,
        _ => f.size != 3,
    };
    let scalar_ok = matches!(
        op,
        SameOp::QAdd
            | SameOp::QSub
            | SameOp::Shl { .. }
            | SameOp::Add
            | SameOp::Sub
            | SameOp::Cmeq
            | SameOp::Cmtst
            | SameOp::Cmgt
            | SameOp::Cmge
            | SameOp::Qdmulh { .. }
    );
    if !size_ok || (scalar && !scalar_ok) {
        return Err(Stop::Undefined);
    }
    // Scalar forms without size 3 (SQADD b, h, s) take the size as is.
    let esize = 8 << f.size;
    let datasize = if scalar { esize } else { 64 << f.Q };
    let n = elems(s, f.Rn, datasize, esize);
    let m = elems(s, f.Rm, datasize, esize);
    let d = elems(s, f.Rd, datasize, esize);
    let mut out = Lanes::with_capacity(n.len());
    if matches!(op, SameOp::Maxp | SameOp::Minp) {
        let concat: Lanes<S::V> = n.iter().chain(m.iter()).copied().collect();
        for p in concat.chunks(2) {
            let a = sext(s, p[0], esize);
            let b = sext(s, p[1], esize);
            let lt = s.bin(BinOp::Slt, a, b);
            out.push(if op == SameOp::Maxp {
                s.select(lt, b, a)
            } else {
                s.select(lt, a, b)
            });
        }
        set_elems(s, f.Rd, esize, &out);
        return Ok(());
    }
    for i in 0..n.len() {
        let (a, b, acc) = (n[i], m[i], d[i]);
        let r = match op {
            SameOp::Hadd | SameOp::Rhadd | SameOp::Hsub => {
                let a = ext(s, a, esize, signed);
                let b = ext(s, b, esize, signed);
                let mut r = if op == SameOp::Hsub {
                    s.bin(BinOp::Sub, a, b)
                } else {
                    s.bin(BinOp::Add, a, b)
                };
                if op == SameOp::Rhadd {
                    let one = s.imm(1);
                    r = s.bin(BinOp::Add, r, one);
                }
                let one = s.imm(1);
                // The sum needs esize + 1 bits, which a 64-bit value holds for esize < 64.
                s.bin(
                    if signed || op == SameOp::Hsub {
                        BinOp::Asr
                    } else {
                        BinOp::Lsr
                    },
                    r,
                    one,
                )
            }
            SameOp::QAdd | SameOp::QSub => {
                let mut meta = Meta::new(SatOp::Add, esize, signed);
                meta.sub = op == SameOp::QSub;
                let z = s.imm(0);
                sat(s, meta, a, b, z)
            }
            SameOp::Shl {
                sat: saturate,
                round,
            } => {
                let meta = Meta {
                    round,
                    saturate,
                    ..Meta::new(SatOp::Shift, esize, signed)
                };
                let z = s.imm(0);
                sat(s, meta, a, b, z)
            }
            SameOp::Max | SameOp::Min => {
                let a = sext(s, a, esize);
                let b = sext(s, b, esize);
                let lt = s.bin(BinOp::Slt, a, b);
                if op == SameOp::Max {
                    s.select(lt, b, a)
                } else {
                    s.select(lt, a, b)
                }
            }
            SameOp::Abd | SameOp::Aba => {
                let a = ext(s, a, esize, signed);
                let b = ext(s, b, esize, signed);
                let r = abs_diff(s, a, b, signed);
                if op == SameOp::Aba {
                    s.bin(BinOp::Add, acc, r)
                } else {
                    r
                }
            }
            SameOp::Add => s.bin(BinOp::Add, a, b),
            SameOp::Sub => s.bin(BinOp::Sub, a, b),
            SameOp::Cmeq => {
                let t = s.bin(BinOp::Eq, a, b);
                mask_of(s, t)
            }
            SameOp::Cmtst => {
                let x = s.bin(BinOp::And, a, b);
                let z = s.imm(0);
                let t = s.bin(BinOp::Ne, x, z);
                mask_of(s, t)
            }
            SameOp::Cmgt | SameOp::Cmge => {
                let a = ext(s, a, esize, signed);
                let b = ext(s, b, esize, signed);
                let cmp = match (op == SameOp::Cmge, signed) {
                    (true, true) => BinOp::Sle,
                    (true, false) => BinOp::Ule,
                    (false, true) => BinOp::Slt,
                    (false, false) => BinOp::Ult,
                };
                let t = s.bin(cmp, b, a);
                mask_of(s, t)
            }
            SameOp::Mla | SameOp::Mls | SameOp::Mul => {
                let p = s.bin(BinOp::Mul, a, b);
                match op {
                    SameOp::Mla => s.bin(BinOp::Add, acc, p),
                    SameOp::Mls => s.bin(BinOp::Sub, acc, p),
                    _ => p,
                }
            }
            SameOp::Pmul => pmul8(s, a, b),
            SameOp::Qdmulh { round } => {
                let meta = Meta {
                    round,
                    ..Meta::new(SatOp::DoublingMulHigh, esize, true)
                };
                let z = s.imm(0);
                sat(s, meta, a, b, z)
            }
            SameOp::Maxp | SameOp::Minp => unreachable!("handled above"),
        };
        out.push(r);
    }
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}

/// `esize` and `shift` of a shift by immediate from `immh:immb`: right shifts are
/// `2 * esize - immh:immb`, left shifts `immh:immb - esize`.
fn shift_esize(immh: u32) -> Result<u32, Stop> {
    if immh == 0 {
        return Err(Stop::Undefined);
    }
    Ok(8 << (31 - immh.leading_zeros()))
}

/// `x >> shift` for a decode-time 1 <= shift <= 64 on an extended 64-bit element, signed
/// (arithmetic) or not, with `round` adding bit `shift - 1` (`(x + 2^(shift-1)) >> shift`
/// without the overflow).
fn shr_round<S: Sem>(s: &mut S, x: S::V, shift: u32, signed: bool, round: bool) -> S::V {
    let op = if signed { BinOp::Asr } else { BinOp::Lsr };
    let main = if shift >= 64 {
        if signed {
            let sh = s.imm(63);
            s.bin(BinOp::Asr, x, sh)
        } else {
            s.imm(0)
        }
    } else {
        let sh = s.imm(u64::from(shift));
        s.bin(op, x, sh)
    };
    if !round {
        return main;
    }
    let sh = s.imm(u64::from(shift - 1));
    let one = s.imm(1);
    let bit = s.bin(BinOp::Lsr, x, sh);
    let bit = s.bin(BinOp::And, bit, one);
    s.bin(BinOp::Add, main, bit)
}

/// Shifts by immediate, vector and scalar: SSHR, USHR, SSRA, USRA, SRSHR, URSHR, SRSRA,
/// URSRA, SRI (right, `opcode` 00000-01000), SHL, SLI, SQSHL, UQSHL, SQSHLU (left).
pub fn shift_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SSHR_asimdshf_R::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let opcode = (word >> 11) & 0x1f;
    let esize = shift_esize(f.immh)?;
    if (scalar && esize != 64 && !matches!(opcode, 0b01100 | 0b01110))
        || (!scalar && esize == 64 && f.Q == 0)
    {
        return Err(Stop::Undefined);
    }
    let datasize = if scalar { esize } else { 64 << f.Q };
    let immhb = (f.immh << 3) | f.immb;
    let signed = f.U == 0;
    let n = elems(s, f.Rn, datasize, esize);
    let d = elems(s, f.Rd, datasize, esize);
    let mut out = Lanes::with_capacity(n.len());
    for i in 0..n.len() {
        let (x, old) = (n[i], d[i]);
        let r = match opcode {
            // SSHR, SSRA, SRSHR, SRSRA and the unsigned forms.
            0b00000 | 0b00010 | 0b00100 | 0b00110 => {
                let shift = 2 * esize - immhb;
                let xe = ext(s, x, esize, signed);
                let r = shr_round(s, xe, shift, signed, opcode & 4 != 0);
                if opcode & 2 != 0 {
                    s.bin(BinOp::Add, old, r)
                } else {
                    r
                }
            }
            // SRI (U = 1): the shifted bits replace the low bits of the destination.
            0b01000 if f.U == 1 => {
                let shift = 2 * esize - immhb;
                let r = shr_round(s, x, shift, false, false);
                let keep = if shift >= esize {
                    ones(esize)
                } else {
                    !(ones(esize) >> shift) & ones(esize)
                };
                let keep = s.imm(keep);
                let old = s.bin(BinOp::And, old, keep);
                s.bin(BinOp::Or, old, r)
            }
            // SHL (U = 0), SLI (U = 1).
            0b01010 => {
                let shift = immhb - esize;
                let sh = s.imm(u64::from(shift));
                let r = s.bin(BinOp::Shl, x, sh);
                if f.U == 1 {
                    let keep = s.imm(ones(shift));
                    let old = s.bin(BinOp::And, old, keep);
                    s.bin(BinOp::Or, old, r)
                } else {
                    r
                }
            }
            // SQSHLU (U = 1, opcode 01100), SQSHL, UQSHL (01110).
            0b01100 | 0b01110 => {
                if opcode == 0b01100 && f.U == 0 {
                    return Err(Stop::Undefined);
                }
                let shift = immhb - esize;
                let meta = Meta {
                    unsigned_out: f.U == 1,
                    ..Meta::new(SatOp::Shift, esize, opcode == 0b01100 || signed)
                };
                let b = s.imm(u64::from(shift));
                let z = s.imm(0);
                sat(s, meta, x, b, z)
            }
            _ => return Err(Stop::Undefined),
        };
        out.push(r);
    }
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}

/// Narrowing shifts by immediate: RSHRN, SQSHRN, UQSHRN, SQRSHRN, UQRSHRN, SQSHRUN,
/// SQRSHRUN (vector, into half `Q`) and their scalar forms. `op` (bit 11) rounds; bits 12 and
/// 29 pick the saturation.
pub fn shift_narrow<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQSHRN_asimdshf_N::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let esize = shift_esize(f.immh)?;
    if esize == 64 {
        return Err(Stop::Undefined);
    }
    let immhb = (f.immh << 3) | f.immb;
    let shift = 2 * esize - immhb;
    let round = f.op == 1;
    // opcode<4:1>: 1000 RSHRN / SQSHRUN (U=1), 1001 SQSHRN / UQSHRN.
    let (saturate, signed, unsigned_out) = match (f.opcode_4_1_, f.U) {
        (0b1000, 0) => (false, false, true),
        (0b1000, _) => (true, true, true),
        (_, 0) => (true, true, false),
        _ => (true, false, true),
    };
    let meta = Meta {
        op: SatOp::Shift,
        esize: 2 * esize,
        out_esize: esize,
        signed,
        unsigned_out,
        round,
        saturate,
        sub: false,
    };
    let count = if scalar { 1 } else { 64 / esize };
    let n = elems(s, f.Rn, count * 2 * esize, 2 * esize);
    let b = s.imm((shift as i8).wrapping_neg() as u8 as u64);
    let z = s.imm(0);
    let out: Lanes<S::V> = n.iter().map(|&x| sat(s, meta, x, b, z)).collect();
    write_narrow(s, f.Rd, f.Q, scalar, esize, &out);
    Ok(())
}

/// Writes narrowed `esize`-bit results: a scalar form's one element zero-extended into `V[d]`,
/// else the elements packed into half `q` (`Vpart[d, q]`).
fn write_narrow<S: Sem>(s: &mut S, d: u32, q: u32, scalar: bool, esize: u32, out: &[S::V]) {
    if scalar {
        write_halves(s, d, out);
    } else {
        let packed = pack(s, out, esize);
        set_vpart(s, d, q, packed[0]);
    }
}

/// SSHLL, USHLL (and SXTL, UXTL): each element of half `Q` of `V[n]`, extended to
/// `2 * esize` and shifted left by `immh:immb - esize`.
pub fn shift_long<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SSHLL_asimdshf_L::from_word(word);
    let esize = shift_esize(f.immh)?;
    if esize == 64 {
        return Err(Stop::Undefined);
    }
    let shift = ((f.immh << 3) | f.immb) - esize;
    let half = s.v(f.Rn, f.Q);
    let sh = s.imm(u64::from(shift));
    let out: Lanes<S::V> = (0..64 / esize)
        .map(|i| {
            let e = super::lane(s, half, i * esize, esize);
            let e = ext(s, e, esize, f.U == 0);
            s.bin(BinOp::Shl, e, sh)
        })
        .collect();
    set_elems(s, f.Rd, 2 * esize, &out);
    Ok(())
}

/// SHLL, SHLL2: each element of half `Q` of `V[n]`, zero-extended and shifted left by esize.
pub fn shll<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHLL_asimdmisc_S::from_word(word);
    if f.size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let half = s.v(f.Rn, f.Q);
    let sh = s.imm(u64::from(esize));
    let out: Lanes<S::V> = (0..64 / esize)
        .map(|i| {
            let e = super::lane(s, half, i * esize, esize);
            s.bin(BinOp::Shl, e, sh)
        })
        .collect();
    set_elems(s, f.Rd, 2 * esize, &out);
    Ok(())
}

/// Two-register miscellaneous, vector and scalar: ABS, NEG, NOT, RBIT, REV16, REV32, REV64,
/// CLS, CLZ, the compares with zero, SQABS, SQNEG, SUQADD and USQADD.
pub fn misc<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ABS_asimdmisc_R::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let (u, opcode) = (f.U, f.opcode);
    let esize = 8 << f.size;
    // REV16 (U=0, 00001), REV32 (U=1, 00000), REV64 (U=0, 00000): reverse the elements of each
    // container; RBIT and NOT (opcode 00101, U=1) act on bytes.
    let byte_ops = opcode == 0b00101 && u == 1;
    let rev = opcode <= 1 && !scalar;
    let ok = if scalar {
        !matches!(opcode, 0b00000 | 0b00001 | 0b00100 | 0b00101)
            && (f.size == 3 || matches!(opcode, 0b00011 | 0b00111))
    } else if byte_ops {
        true
    } else if rev {
        let container = match (u, opcode) {
            (0, 0) => 64,
            (1, 0) => 32,
            (0, 1) => 16,
            _ => return Err(Stop::Undefined),
        };
        esize < container
    } else {
        f.size != 3 || f.Q == 1
    };
    if !ok {
        return Err(Stop::Undefined);
    }
    let datasize = if scalar { esize } else { 64 << f.Q };
    if byte_ops {
        if f.size > 1 {
            return Err(Stop::Undefined);
        }
        let halves = super::read_halves(s, f.Rn, datasize);
        let out: Lanes<S::V> = halves
            .iter()
            .map(|&h| {
                if f.size == 0 {
                    s.un(UnOp::Not, h)
                } else {
                    // RBIT: reverse all 64 bits, then the byte order back.
                    let r = s.un(UnOp::Rbit, h);
                    s.un(UnOp::Rev, r)
                }
            })
            .collect();
        write_halves(s, f.Rd, &out);
        return Ok(());
    }
    if rev {
        let container = match (u, opcode) {
            (0, 0) => 64,
            (1, 0) => 32,
            _ => 16,
        };
        let n = elems(s, f.Rn, datasize, esize);
        let per = (container / esize) as usize;
        let out: Lanes<S::V> = n
            .chunks(per)
            .flat_map(|c| c.iter().rev().copied())
            .collect();
        set_elems(s, f.Rd, esize, &out);
        return Ok(());
    }
    let n = elems(s, f.Rn, datasize, esize);
    let d = elems(s, f.Rd, datasize, esize);
    let z = s.imm(0);
    let mut out = Lanes::with_capacity(n.len());
    for i in 0..n.len() {
        let x = n[i];
        let r = match (u, opcode) {
            // ABS, NEG.
            (0, 0b01011) | (1, 0b01011) => {
                let xs = sext(s, x, esize);
                let neg = s.un(UnOp::Neg, xs);
                if u == 1 {
                    neg
                } else {
                    let lt = s.bin(BinOp::Slt, xs, z);
                    s.select(lt, neg, xs)
                }
            }
            // CLS, CLZ.
            (_, 0b00100) => {
                let top = s.imm(u64::from(64 - esize));
                if u == 0 {
                    let xs = sext(s, x, esize);
                    let b63 = s.imm(63);
                    let sign = s.bin(BinOp::Asr, xs, b63);
                    let y = s.bin(BinOp::Xor, xs, sign);
                    let y = s.bin(BinOp::Shl, y, top);
                    let c = s.un(UnOp::Clz, y);
                    // The top bits of y are zero after the shift, Clz counts the sign copy.
                    let one = s.imm(1);
                    let c = s.bin(BinOp::Sub, c, one);
                    // A zero y counts 64: clamp to esize - 1.
                    let lim = s.imm(u64::from(esize - 1));
                    let over = s.bin(BinOp::Ult, lim, c);
                    s.select(over, lim, c)
                } else {
                    let c = s.un(UnOp::Clz, x);
                    s.bin(BinOp::Sub, c, top)
                }
            }
            // CMGT (zero) U=0 01000, CMGE U=1 01000, CMEQ U=0 01001, CMLE U=1 01001, CMLT 01010.
            (_, 0b01000) | (_, 0b01001) | (0, 0b01010) => {
                let xs = sext(s, x, esize);
                let t = match (u, opcode) {
                    (0, 0b01000) => s.bin(BinOp::Slt, z, xs),
                    (1, 0b01000) => s.bin(BinOp::Sle, z, xs),
                    (0, 0b01001) => s.bin(BinOp::Eq, xs, z),
                    (1, 0b01001) => s.bin(BinOp::Sle, xs, z),
                    _ => s.bin(BinOp::Slt, xs, z),
                };
                mask_of(s, t)
            }
            // SQABS (U=0), SQNEG (U=1).
            (_, 0b00111) => {
                let meta = Meta {
                    sub: u == 1,
                    ..Meta::new(SatOp::Abs, esize, true)
                };
                sat(s, meta, x, z, z)
            }
            // SUQADD (U=0), USQADD (U=1): the accumulator is V[d].
            (_, 0b00011) => {
                let meta = Meta {
                    unsigned_out: u == 1,
                    ..Meta::new(SatOp::AccumulateOpposite, esize, u == 0)
                };
                sat(s, meta, x, z, d[i])
            }
            _ => return Err(Stop::Undefined),
        };
        out.push(r);
    }
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}

/// SQXTN, UQXTN, SQXTUN (vector into half `Q`, and scalar): each `2 * esize` element
/// saturated to `esize` bits.
pub fn sat_extract_narrow<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQXTN_asimdmisc_N::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    if f.size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    // opcode 10010 with U = 1 is SQXTUN; 10100 is SQXTN (U = 0) or UQXTN (U = 1).
    let (signed, unsigned_out) = match (f.opcode, f.U) {
        (0b10010, 1) => (true, true),
        (0b10100, 0) => (true, false),
        (0b10100, _) => (false, true),
        _ => return Err(Stop::Undefined),
    };
    let meta = Meta {
        op: SatOp::Shift,
        esize: 2 * esize,
        out_esize: esize,
        signed,
        unsigned_out,
        round: false,
        saturate: true,
        sub: false,
    };
    let count = if scalar { 1 } else { 64 / esize };
    let n = elems(s, f.Rn, count * 2 * esize, 2 * esize);
    let z = s.imm(0);
    let out: Lanes<S::V> = n.iter().map(|&x| sat(s, meta, x, z, z)).collect();
    write_narrow(s, f.Rd, f.Q, scalar, esize, &out);
    Ok(())
}

/// SADDLP, UADDLP, SADALP, UADALP: pairs of elements added into `2 * esize` elements, and
/// accumulated into `V[d]` for the ADALP forms (`op`, bit 14).
pub fn add_long_pairwise<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SADDLP_asimdmisc_P::from_word(word);
    if f.size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let datasize = 64 << f.Q;
    let n = elems(s, f.Rn, datasize, esize);
    let d = elems(s, f.Rd, datasize, 2 * esize);
    let mut out = Lanes::new();
    for (i, p) in n.chunks(2).enumerate() {
        let a = ext(s, p[0], esize, f.U == 0);
        let b = ext(s, p[1], esize, f.U == 0);
        let sum = s.bin(BinOp::Add, a, b);
        out.push(if f.op == 1 {
            s.bin(BinOp::Add, d[i], sum)
        } else {
            sum
        });
    }
    set_elems(s, f.Rd, 2 * esize, &out);
    Ok(())
}

/// Three-different forms: long (SADDL, SSUBL, SABAL, SABDL, SMLAL, SMLSL, SMULL, SQDMULL,
/// SQDMLAL, SQDMLSL and unsigned forms; half `Q` of both sources), wide (SADDW, SSUBW: `V[n]`
/// is already wide) and narrow high-half (ADDHN, RADDHN, SUBHN, RSUBHN into half `Q`).
pub fn different<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQDMULL_asisddiff_only::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let q = (word >> 30) & 1;
    let signed = f.U == 0;
    let esize = 8 << f.size;
    if f.size == 3 {
        return Err(Stop::Undefined);
    }
    let doubling = matches!(f.opcode, 0b1001 | 0b1011 | 0b1101);
    if (doubling && (f.size == 0 || f.U == 1)) || (scalar && !doubling) {
        return Err(Stop::Undefined);
    }
    let part = if scalar { 0 } else { q };
    let count = if scalar { 1 } else { 64 / esize };
    let narrow_src = |s: &mut S, r: u32| -> Lanes<S::V> {
        let half = s.v(r, part);
        (0..count)
            .map(|i| super::lane(s, half, i * esize, esize))
            .collect()
    };
    let z = s.imm(0);
    match f.opcode {
        // ADDHN, RADDHN (U=1), SUBHN, RSUBHN: the high half of each 2*esize sum.
        0b0100 | 0b0110 => {
            let n = elems(s, f.Rn, 128, 2 * esize);
            let m = elems(s, f.Rm, 128, 2 * esize);
            let mut out = Lanes::new();
            for i in 0..n.len() {
                let r = if f.opcode == 0b0100 {
                    s.bin(BinOp::Add, n[i], m[i])
                } else {
                    s.bin(BinOp::Sub, n[i], m[i])
                };
                let r = if f.U == 1 {
                    let rc = s.imm(1 << (esize - 1));
                    s.bin(BinOp::Add, r, rc)
                } else {
                    r
                };
                let sh = s.imm(u64::from(esize));
                out.push(s.bin(BinOp::Lsr, r, sh));
            }
            let packed = pack(s, &out, esize);
            set_vpart(s, f.Rd, q, packed[0]);
            return Ok(());
        }
        // SADDW, SSUBW, UADDW, USUBW.
        0b0001 | 0b0011 => {
            let n = elems(s, f.Rn, 128, 2 * esize);
            let m = narrow_src(s, f.Rm);
            let mut out = Lanes::new();
            for i in 0..n.len() {
                let b = ext(s, m[i], esize, signed);
                out.push(if f.opcode == 0b0001 {
                    s.bin(BinOp::Add, n[i], b)
                } else {
                    s.bin(BinOp::Sub, n[i], b)
                });
            }
            set_elems(s, f.Rd, 2 * esize, &out);
            return Ok(());
        }
        _ => {}
    }
    let n = narrow_src(s, f.Rn);
    let m = narrow_src(s, f.Rm);
    let d = elems(s, f.Rd, count * 2 * esize, 2 * esize);
    let mut out = Lanes::new();
    for i in 0..n.len() {
        let a = ext(s, n[i], esize, signed);
        let b = ext(s, m[i], esize, signed);
        let r = match f.opcode {
            0b0000 => s.bin(BinOp::Add, a, b),
            0b0010 => s.bin(BinOp::Sub, a, b),
            0b0101 => {
                let r = abs_diff(s, a, b, signed);
                s.bin(BinOp::Add, d[i], r)
            }
            0b0111 => abs_diff(s, a, b, signed),
            0b1000 | 0b1010 | 0b1100 => {
                let p = s.bin(BinOp::Mul, a, b);
                match f.opcode {
                    0b1000 => s.bin(BinOp::Add, d[i], p),
                    0b1010 => s.bin(BinOp::Sub, d[i], p),
                    _ => p,
                }
            }
            0b1101 => {
                let meta = Meta::new(SatOp::DoublingMulLong, esize, true);
                sat(s, meta, a, b, z)
            }
            0b1001 | 0b1011 => {
                let meta = Meta {
                    sub: f.opcode == 0b1011,
                    ..Meta::new(SatOp::DoublingMulAccLong, esize, true)
                };
                sat(s, meta, a, b, d[i])
            }
            _ => return Err(Stop::Undefined),
        };
        out.push(r);
    }
    set_elems(s, f.Rd, 2 * esize, &out);
    Ok(())
}

/// By-element forms: MUL, MLA, MLS, SQDMULH, SQRDMULH (same size) and SMULL, UMULL, SMLAL,
/// UMLAL, SMLSL, UMLSL, SQDMULL, SQDMLAL, SQDMLSL (long, half `Q` of `V[n]`), vector and
/// scalar. The element is `Elem[V[Rm], index]` with `index = H:L:M` (bytes 8) or `H:L`, and
/// `Rm` 4 bits for 16-bit elements.
pub fn by_element<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQDMULH_asisdelem_R::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let q = (word >> 30) & 1;
    let opcode = (word >> 12) & 0xf;
    let signed = f.U == 0;
    let (index, rm) = match f.size {
        1 => ((f.H << 2) | (f.L << 1) | f.M, f.Rm),
        2 => ((f.H << 1) | f.L, (f.M << 4) | f.Rm),
        _ => return Err(Stop::Undefined),
    };
    let esize = 8 << f.size;
    let bit = index * esize;
    let mh = s.v(rm, bit / 64);
    let elem = super::lane(s, mh, bit % 64, esize);
    let z = s.imm(0);
    let long = matches!(opcode, 0b0010 | 0b0110 | 0b1010 | 0b0011 | 0b0111 | 0b1011);
    let ok = match opcode {
        // MUL; MLA, MLS.
        0b1000 => !scalar && f.U == 0,
        0b0000 | 0b0100 => !scalar && f.U == 1,
        // SQDMULH, SQRDMULH (U = 1 is FEAT_RDM's SQRDMLAH).
        0b1100 | 0b1101 => f.U == 0,
        // SMULL, SMLAL, SMLSL and the unsigned forms.
        0b1010 | 0b0010 | 0b0110 => !scalar,
        // SQDMULL, SQDMLAL, SQDMLSL.
        0b1011 | 0b0011 | 0b0111 => f.U == 0,
        _ => false,
    };
    if !ok {
        return Err(Stop::Undefined);
    }
    if long {
        let count = if scalar { 1 } else { 64 / esize };
        let part = if scalar { 0 } else { q };
        let half = s.v(f.Rn, part);
        let d = elems(s, f.Rd, count * 2 * esize, 2 * esize);
        let b = ext(s, elem, esize, signed);
        let mut out = Lanes::new();
        for i in 0..count {
            let a = super::lane(s, half, i * esize, esize);
            let a = ext(s, a, esize, signed);
            let r = match opcode {
                0b1010 => s.bin(BinOp::Mul, a, b),
                0b0010 | 0b0110 => {
                    let p = s.bin(BinOp::Mul, a, b);
                    s.bin(
                        if opcode == 0b0010 {
                            BinOp::Add
                        } else {
                            BinOp::Sub
                        },
                        d[i as usize],
                        p,
                    )
                }
                0b1011 => sat(s, Meta::new(SatOp::DoublingMulLong, esize, true), a, b, z),
                _ => {
                    let meta = Meta {
                        sub: opcode == 0b0111,
                        ..Meta::new(SatOp::DoublingMulAccLong, esize, true)
                    };
                    sat(s, meta, a, b, d[i as usize])
                }
            };
            out.push(r);
        }
        set_elems(s, f.Rd, 2 * esize, &out);
        return Ok(());
    }
    let datasize = if scalar { esize } else { 64 << q };
    let n = elems(s, f.Rn, datasize, esize);
    let d = elems(s, f.Rd, datasize, esize);
    let mut out = Lanes::new();
    for i in 0..n.len() {
        let r = match opcode {
            0b1000 => s.bin(BinOp::Mul, n[i], elem),
            0b0000 | 0b0100 => {
                let p = s.bin(BinOp::Mul, n[i], elem);
                s.bin(if opcode == 0 { BinOp::Add } else { BinOp::Sub }, d[i], p)
            }
            0b1100 | 0b1101 => {
                let meta = Meta {
                    round: opcode == 0b1101,
                    ..Meta::new(SatOp::DoublingMulHigh, esize, true)
                };
                sat(s, meta, n[i], elem, z)
            }
            _ => return Err(Stop::Undefined),
        };
        out.push(r);
    }
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}

/// SMAXV, SMINV, SADDLV: a signed reduction over the elements of `V[n]`.
pub fn across_signed<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SMAXV_asimdall_only::from_word(word);
    let esize = 8 << f.size;
    let elements = (64 << f.Q) / esize;
    if f.size == 3 || elements < 4 {
        return Err(Stop::Undefined);
    }
    let opcode = (word >> 12) & 0x1f;
    let n = elems(s, f.Rn, 64 << f.Q, esize);
    let mut acc = sext(s, n[0], esize);
    for &e in &n[1..] {
        let e = sext(s, e, esize);
        acc = match opcode {
            0b01010 | 0b11010 => {
                let lt = s.bin(BinOp::Slt, acc, e);
                if opcode == 0b01010 {
                    s.select(lt, e, acc)
                } else {
                    s.select(lt, acc, e)
                }
            }
            0b00011 => s.bin(BinOp::Add, acc, e),
            _ => return Err(Stop::Undefined),
        };
    }
    let outsize = if opcode == 0b00011 { 2 * esize } else { esize };
    let m = s.imm(ones(outsize));
    let r = s.bin(BinOp::And, acc, m);
    write_halves(s, f.Rd, &[r]);
    Ok(())
}

/// ADDP (scalar): `D[d] = V[n].D[0] + V[n].D[1]`.
pub fn addp_scalar<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADDP_asisdpair_only::from_word(word);
    if f.size != 3 {
        return Err(Stop::Undefined);
    }
    let a = s.v(f.Rn, 0);
    let b = s.v(f.Rn, 1);
    let r = s.bin(BinOp::Add, a, b);
    write_halves(s, f.Rd, &[r]);
    Ok(())
}

/// `RecipEstimate(a)` for `256 <= a < 512` (no increased precision): a 9-bit estimate of
/// `1 / (a / 512)`; `(b + 1) DIV 2` rounds to nearest.
fn recip_estimate(a: u64) -> u64 {
    let a = a * 2 + 1;
    let b = (1 << 19) / a;
    b.div_ceil(2)
}

/// `RecipSqrtEstimate(a)` for `128 <= a < 512`: a 9-bit estimate of `1 / sqrt(a / 512)`.
fn recip_sqrt_estimate(a: u64) -> u64 {
    let a = if a < 256 {
        a * 2 + 1
    } else {
        ((a >> 1) << 1) * 2 + 2
    };
    let mut b = 512u64;
    while a * (b + 1) * (b + 1) < (1 << 28) {
        b += 1;
    }
    b.div_ceil(2)
}

/// `UnsignedRecipEstimate` (`args[1]` 0) or `UnsignedRSqrtEstimate` (1) of a 32-bit element.
fn unsigned_estimate_helper(_: &mut armature_core::cpu::Cpu, args: &[u64]) -> u64 {
    let x = args[0] & 0xffff_ffff;
    if args[1] == 0 {
        if x >> 31 == 0 {
            return 0xffff_ffff;
        }
        (recip_estimate(x >> 23) & 0x1ff) << 23
    } else {
        if x >> 30 == 0 {
            return 0xffff_ffff;
        }
        (recip_sqrt_estimate(x >> 23) & 0x1ff) << 23
    }
}

/// URECPE (`U` 0) and URSQRTE (`U` 1): `UnsignedRecipEstimate` or `UnsignedRSqrtEstimate` of
/// each 32-bit element (`sz` 0; 1 is reserved).
pub fn unsigned_estimate<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ABS_asimdmisc_R::from_word(word);
    if f.size & 1 == 1 {
        return Err(Stop::Undefined);
    }
    let n = elems(s, f.Rn, 64 << f.Q, 32);
    let which = s.imm(u64::from(f.U));
    let out: Lanes<S::V> = n
        .iter()
        .map(|&x| s.call(unsigned_estimate_helper, &[x, which]))
        .collect();
    set_elems(s, f.Rd, 32, &out);
    Ok(())
}
