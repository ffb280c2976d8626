//! Loads and stores of SIMD&FP registers: single registers, literals, pairs and LD1/ST1
//! (multiple structures).

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop};
use smallvec::SmallVec;

use super::Lanes;
use crate::base::{extend_reg, set_x_or_sp, sign_extend, x_or_sp};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    // LD2-LD4 and ST2-ST4 (multiple structures) and every single-structure form, by class.
    for e in &armature_core::isa::ENCODINGS {
        let multiple = e.name.contains("_asisdlse_") || e.name.contains("_asisdlsep_");
        let single = e.name.contains("_asisdlso_") || e.name.contains("_asisdlsop_");
        if multiple && !e.name.starts_with("LD1_") && !e.name.starts_with("ST1_") {
            t.set(e.id, ldst_multiple_structures::<S>);
        } else if single {
            t.set(e.id, ldst_single_structure::<S>);
        }
    }
    for id in [
        E::STR_B_ldst_pos,
        E::LDR_B_ldst_pos,
        E::STR_H_ldst_pos,
        E::LDR_H_ldst_pos,
        E::STR_S_ldst_pos,
        E::LDR_S_ldst_pos,
        E::STR_D_ldst_pos,
        E::LDR_D_ldst_pos,
        E::STR_Q_ldst_pos,
        E::LDR_Q_ldst_pos,
    ] {
        t.set(id, ldst_pos::<S>);
    }
    for id in [
        E::STR_B_ldst_immpre,
        E::LDR_B_ldst_immpre,
        E::STR_H_ldst_immpre,
        E::LDR_H_ldst_immpre,
        E::STR_S_ldst_immpre,
        E::LDR_S_ldst_immpre,
        E::STR_D_ldst_immpre,
        E::LDR_D_ldst_immpre,
        E::STR_Q_ldst_immpre,
        E::LDR_Q_ldst_immpre,
        E::STR_B_ldst_immpost,
        E::LDR_B_ldst_immpost,
        E::STR_H_ldst_immpost,
        E::LDR_H_ldst_immpost,
        E::STR_S_ldst_immpost,
        E::LDR_S_ldst_immpost,
        E::STR_D_ldst_immpost,
        E::LDR_D_ldst_immpost,
        E::STR_Q_ldst_immpost,
        E::LDR_Q_ldst_immpost,
        E::STUR_B_ldst_unscaled,
        E::LDUR_B_ldst_unscaled,
        E::STUR_H_ldst_unscaled,
        E::LDUR_H_ldst_unscaled,
        E::STUR_S_ldst_unscaled,
        E::LDUR_S_ldst_unscaled,
        E::STUR_D_ldst_unscaled,
        E::LDUR_D_ldst_unscaled,
        E::STUR_Q_ldst_unscaled,
        E::LDUR_Q_ldst_unscaled,
        E::STLUR_B_ldapstl_simd,
        E::LDAPUR_B_ldapstl_simd,
        E::STLUR_H_ldapstl_simd,
        E::LDAPUR_H_ldapstl_simd,
        E::STLUR_S_ldapstl_simd,
        E::LDAPUR_S_ldapstl_simd,
        E::STLUR_D_ldapstl_simd,
        E::LDAPUR_D_ldapstl_simd,
        E::STLUR_Q_ldapstl_simd,
        E::LDAPUR_Q_ldapstl_simd,
    ] {
        t.set(id, ldst_imm9::<S>);
    }
    for id in [
        E::STR_B_ldst_regoff,
        E::LDR_B_ldst_regoff,
        E::STR_BL_ldst_regoff,
        E::LDR_BL_ldst_regoff,
        E::STR_H_ldst_regoff,
        E::LDR_H_ldst_regoff,
        E::STR_S_ldst_regoff,
        E::LDR_S_ldst_regoff,
        E::STR_D_ldst_regoff,
        E::LDR_D_ldst_regoff,
        E::STR_Q_ldst_regoff,
        E::LDR_Q_ldst_regoff,
    ] {
        t.set(id, ldst_regoff::<S>);
    }
    for id in [E::LDR_S_loadlit, E::LDR_D_loadlit, E::LDR_Q_loadlit] {
        t.set(id, load_literal::<S>);
    }
    for id in [
        E::STP_S_ldstpair_off,
        E::LDP_S_ldstpair_off,
        E::STP_D_ldstpair_off,
        E::LDP_D_ldstpair_off,
        E::STP_Q_ldstpair_off,
        E::LDP_Q_ldstpair_off,
        E::STP_S_ldstpair_pre,
        E::LDP_S_ldstpair_pre,
        E::STP_D_ldstpair_pre,
        E::LDP_D_ldstpair_pre,
        E::STP_Q_ldstpair_pre,
        E::LDP_Q_ldstpair_pre,
        E::STP_S_ldstpair_post,
        E::LDP_S_ldstpair_post,
        E::STP_D_ldstpair_post,
        E::LDP_D_ldstpair_post,
        E::STP_Q_ldstpair_post,
        E::LDP_Q_ldstpair_post,
        E::STNP_S_ldstnapair_offs,
        E::LDNP_S_ldstnapair_offs,
        E::STNP_D_ldstnapair_offs,
        E::LDNP_D_ldstnapair_offs,
        E::STNP_Q_ldstnapair_offs,
        E::LDNP_Q_ldstnapair_offs,
    ] {
        t.set(id, ldst_pair::<S>);
    }
    for id in [
        E::LD1_asisdlse_R1_1v,
        E::LD1_asisdlse_R2_2v,
        E::LD1_asisdlse_R3_3v,
        E::LD1_asisdlse_R4_4v,
        E::ST1_asisdlse_R1_1v,
        E::ST1_asisdlse_R2_2v,
        E::ST1_asisdlse_R3_3v,
        E::ST1_asisdlse_R4_4v,
        E::LD1_asisdlsep_I1_i1,
        E::LD1_asisdlsep_I2_i2,
        E::LD1_asisdlsep_I3_i3,
        E::LD1_asisdlsep_I4_i4,
        E::LD1_asisdlsep_R1_r1,
        E::LD1_asisdlsep_R2_r2,
        E::LD1_asisdlsep_R3_r3,
        E::LD1_asisdlsep_R4_r4,
        E::ST1_asisdlsep_I1_i1,
        E::ST1_asisdlsep_I2_i2,
        E::ST1_asisdlsep_I3_i3,
        E::ST1_asisdlsep_I4_i4,
        E::ST1_asisdlsep_R1_r1,
        E::ST1_asisdlsep_R2_r2,
        E::ST1_asisdlsep_R3_r3,
        E::ST1_asisdlsep_R4_r4,
    ] {
        t.set(id, ld1_st1_multiple::<S>);
    }
}

/// `Mem[address, bytes]` zero-extended to 128 bits, as two halves.
fn load_halves<S: Sem>(s: &mut S, address: S::V, bytes: u32) -> Result<(S::V, S::V), Stop> {
    let lo = s.load(address, bytes.min(8) as u8)?;
    let hi = if bytes == 16 {
        let eight = s.imm(8);
        let a = s.bin(BinOp::Add, address, eight);
        s.load(a, 8)?
    } else {
        s.imm(0)
    };
    Ok((lo, hi))
}

/// `V[t] = Mem[address, bytes]`, zero-extended to 128 bits.
pub(crate) fn load_v<S: Sem>(s: &mut S, t: u32, address: S::V, bytes: u32) -> Result<(), Stop> {
    let (lo, hi) = load_halves(s, address, bytes)?;
    s.set_v(t, 0, lo);
    s.set_v(t, 1, hi);
    Ok(())
}

/// `Mem[address, bytes] = V[t]<8*bytes-1:0>`.
pub(crate) fn store_v<S: Sem>(s: &mut S, t: u32, address: S::V, bytes: u32) -> Result<(), Stop> {
    let lo = s.v(t, 0);
    s.store(address, bytes.min(8) as u8, lo)?;
    if bytes == 16 {
        let hi = s.v(t, 1);
        let eight = s.imm(8);
        let a = s.bin(BinOp::Add, address, eight);
        s.store(a, 8, hi)?;
    }
    Ok(())
}

/// The shared execute pseudocode of LDR and STR (SIMD&FP): `scale = opc<1>:size` (above 4 is
/// UNDEFINED), `MemOp` from `opc<0>`, the access at `X[n] or SP` plus `offset` unless
/// post-indexed, then the write-back.
fn load_store<S: Sem>(
    s: &mut S,
    word: u32,
    n: u32,
    t: u32,
    offset: u64,
    wback: bool,
    postindex: bool,
) -> Result<(), Stop> {
    let f = fields::LDR_Q_ldst_pos::from_word(word);
    let scale = ((f.opc >> 1) << 2) | f.size;
    if scale > 4 {
        return Err(Stop::Undefined);
    }
    let bytes = 1u32 << scale;
    let base = x_or_sp(s, n);
    let offset = s.imm(offset);
    let offset_address = s.bin(BinOp::Add, base, offset);
    let address = if postindex { base } else { offset_address };
    if f.opc & 1 == 1 {
        load_v(s, t, address, bytes)?;
    } else {
        store_v(s, t, address, bytes)?;
    }
    if wback {
        set_x_or_sp(s, n, offset_address);
    }
    Ok(())
}

/// `scale = opc<1>:size` of a SIMD&FP load or store.
fn scale_of(word: u32) -> u32 {
    let f = fields::LDR_Q_ldst_pos::from_word(word);
    ((f.opc >> 1) << 2) | f.size
}

/// LDR and STR (immediate, SIMD&FP), unsigned offset: `offset = LSL(ZeroExtend(imm12), scale)`.
pub fn ldst_pos<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_Q_ldst_pos::from_word(word);
    let offset = u64::from(f.imm12) << scale_of(word).min(4);
    load_store(s, word, f.Rn, f.Rt, offset, false, false)
}

/// Pre-index, post-index and unscaled (LDUR, STUR) forms: `offset = SignExtend(imm9)`; bits
/// 11:10 are 11 for pre-index, 01 for post-index and 00 for unscaled. LDAPUR and STLUR
/// (SIMD&FP, FEAT_LRCPC3; bits 11:10 are 10) are the unscaled forms with an order a single
/// PE already has.
pub fn ldst_imm9<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_Q_ldst_immpre::from_word(word);
    let (wback, postindex) = match (word >> 10) & 3 {
        3 => (true, false),
        1 => (true, true),
        _ => (false, false),
    };
    let offset = sign_extend(f.imm9.into(), 9);
    load_store(s, word, f.Rn, f.Rt, offset, wback, postindex)
}

/// Register offset forms: `offset = ExtendReg(m, DecodeRegExtend(option), S ? scale : 0, 64)`.
pub fn ldst_regoff<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_Q_ldst_regoff::from_word(word);
    if f.option & 2 == 0 {
        return Err(Stop::Undefined);
    }
    let scale = scale_of(word);
    if scale > 4 {
        return Err(Stop::Undefined);
    }
    let shift = if f.S == 1 { scale } else { 0 };
    let offset = extend_reg(s, f.Rm, f.option, shift, 64);
    let bytes = 1u32 << scale;
    let base = x_or_sp(s, f.Rn);
    let address = s.bin(BinOp::Add, base, offset);
    if f.opc & 1 == 1 {
        load_v(s, f.Rt, address, bytes)
    } else {
        store_v(s, f.Rt, address, bytes)
    }
}

/// LDR (literal, SIMD&FP): `opc` 00, 01, 10 load 4, 8, 16 bytes from `PC + SignExtend(imm19:'00')`.
pub fn load_literal<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_Q_loadlit::from_word(word);
    if f.opc == 3 {
        return Err(Stop::Undefined);
    }
    let bytes = 4u32 << f.opc;
    let pc = s.pc();
    let offset = s.imm(sign_extend(u64::from(f.imm19) << 2, 21));
    let address = s.bin(BinOp::Add, pc, offset);
    load_v(s, f.Rt, address, bytes)
}

/// LDP, STP, LDNP, STNP (SIMD&FP): `scale = 2 + UInt(opc)`, `offset = LSL(SignExtend(imm7),
/// scale)`; bits 24:23 are 01 for post-index, 11 for pre-index, 10 and 00 for an offset.
pub fn ldst_pair<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDP_Q_ldstpair_off::from_word(word);
    if f.opc == 3 {
        return Err(Stop::Undefined);
    }
    let (wback, postindex) = match (word >> 23) & 3 {
        1 => (true, true),
        3 => (true, false),
        _ => (false, false),
    };
    let scale = 2 + f.opc;
    let bytes = 1u32 << scale;
    let base = x_or_sp(s, f.Rn);
    let offset = s.imm(sign_extend(f.imm7.into(), 7) << scale);
    let offset_address = s.bin(BinOp::Add, base, offset);
    let address = if postindex { base } else { offset_address };
    let step = s.imm(u64::from(bytes));
    let address2 = s.bin(BinOp::Add, address, step);
    if f.L == 1 {
        // Both loads complete before either register changes.
        let (lo1, hi1) = load_halves(s, address, bytes)?;
        let (lo2, hi2) = load_halves(s, address2, bytes)?;
        s.set_v(f.Rt, 0, lo1);
        s.set_v(f.Rt, 1, hi1);
        s.set_v(f.Rt2, 0, lo2);
        s.set_v(f.Rt2, 1, hi2);
    } else {
        store_v(s, f.Rt, address, bytes)?;
        store_v(s, f.Rt2, address2, bytes)?;
    }
    if wback {
        set_x_or_sp(s, f.Rn, offset_address);
    }
    Ok(())
}

/// LD1 and ST1 (multiple structures), 1 to 4 registers: registers `t`, `t+1`, ... (modulo 32)
/// are accessed one after the other at `X[n] or SP`; in little-endian order that is each
/// register's low `datasize` bits. The post-index forms add `X[m]`, or the bytes accessed when
/// `m` is 31.
pub fn ld1_st1_multiple<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LD1_asisdlsep_R1_r1::from_word(word);
    let selem_rpt = match f.opcode {
        0b0111 => 1,
        0b1010 => 2,
        0b0110 => 3,
        0b0010 => 4,
        _ => return Err(Stop::Undefined),
    };
    let bytes = 8u32 << f.Q;
    let base = x_or_sp(s, f.Rn);
    let postindex = (word >> 23) & 1 == 1;
    for r in 0..selem_rpt {
        let off = s.imm(u64::from(r * bytes));
        let address = s.bin(BinOp::Add, base, off);
        let t = (f.Rt + r) % 32;
        if f.L == 1 {
            load_v(s, t, address, bytes)?;
        } else {
            store_v(s, t, address, bytes)?;
        }
    }
    if postindex {
        let offset = if f.Rm == 31 {
            s.imm(u64::from(selem_rpt * bytes))
        } else {
            s.x(f.Rm)
        };
        let a = s.bin(BinOp::Add, base, offset);
        set_x_or_sp(s, f.Rn, a);
    }
    Ok(())
}

/// The post-index write-back of the structure loads and stores: `X[n] or SP` plus `X[m]`,
/// or plus the bytes accessed when `m` is 31.
fn struct_writeback<S: Sem>(s: &mut S, word: u32, n: u32, m: u32, base: S::V, bytes: u32) {
    if (word >> 23) & 1 == 0 {
        return;
    }
    let offset = if m == 31 {
        s.imm(u64::from(bytes))
    } else {
        s.x(m)
    };
    let a = s.bin(BinOp::Add, base, offset);
    set_x_or_sp(s, n, a);
}

/// LD2, LD3, LD4, ST2, ST3, ST4 (multiple structures): element `e` of registers `t`..`t+selem-1`
/// (modulo 32) is at `address + (e * selem + s) * ebytes`, de-interleaving on load.
pub fn ldst_multiple_structures<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LD2_asisdlsep_R2_r::from_word(word);
    let selem = match f.opcode {
        0b1000 => 2,
        0b0100 => 3,
        0b0000 => 4,
        _ => return Err(Stop::Undefined),
    };
    if f.size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8u32 << f.size;
    let ebytes = esize / 8;
    let datasize = 64u32 << f.Q;
    let elements = datasize / esize;
    let base = x_or_sp(s, f.Rn);
    let regs: SmallVec<[u32; 4]> = (0..selem).map(|r| (f.Rt + r) % 32).collect();
    if f.L == 1 {
        let mut lanes: SmallVec<[Lanes<S::V>; 4]> =
            SmallVec::from_elem(Lanes::new(), selem as usize);
        for e in 0..elements {
            for (r, lanes) in lanes.iter_mut().enumerate() {
                let off = s.imm(u64::from((e * selem + r as u32) * ebytes));
                let a = s.bin(BinOp::Add, base, off);
                lanes.push(s.load(a, ebytes as u8)?);
            }
        }
        for (r, lanes) in lanes.iter().enumerate() {
            super::set_elems(s, regs[r], esize, lanes);
        }
    } else {
        let values: SmallVec<[Lanes<S::V>; 4]> = regs
            .iter()
            .map(|&t| super::elems(s, t, datasize, esize))
            .collect();
        for e in 0..elements {
            for (r, values) in values.iter().enumerate() {
                let off = s.imm(u64::from((e * selem + r as u32) * ebytes));
                let a = s.bin(BinOp::Add, base, off);
                s.store(a, ebytes as u8, values[e as usize])?;
            }
        }
    }
    struct_writeback(s, word, f.Rn, f.Rm, base, selem * elements * ebytes);
    Ok(())
}

/// LD1-LD4 and ST1-ST4 (single structure) and LD1R-LD4R: `selem = opcode<0>:R + 1`
/// consecutive elements at `X[n] or SP` go to or come from lane `index` of registers
/// `t`..`t+selem-1` (modulo 32); the R forms (`opcode` 11x) replicate each element into
/// every lane instead. The lane size and index come from `opcode<2:1>`, `size`, `S` and `Q`.
pub fn ldst_single_structure<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LD1_asisdlsop_BX1_r1b::from_word(word);
    let selem = (((f.opcode & 1) << 1) | f.R) + 1;
    let replicate = f.opcode >> 1 == 3;
    let (scale, index) = match f.opcode >> 1 {
        0 => (0, (f.Q << 3) | (f.S << 2) | f.size),
        1 if f.size & 1 == 0 => (1, (f.Q << 2) | (f.S << 1) | (f.size >> 1)),
        2 if f.size == 0 => (2, (f.Q << 1) | f.S),
        2 if f.size == 1 && f.S == 0 => (3, f.Q),
        3 if f.L == 1 && f.S == 0 => (f.size, 0),
        _ => return Err(Stop::Undefined),
    };
    let esize = 8u32 << scale;
    let ebytes = esize / 8;
    let base = x_or_sp(s, f.Rn);
    for r in 0..selem {
        let t = (f.Rt + r) % 32;
        let off = s.imm(u64::from(r * ebytes));
        let a = s.bin(BinOp::Add, base, off);
        if replicate {
            let e = s.load(a, ebytes as u8)?;
            let lanes = Lanes::from_elem(e, ((64 << f.Q) / esize) as usize);
            super::set_elems(s, t, esize, &lanes);
            continue;
        }
        let bit = index * esize;
        let (h, lsb) = (bit / 64, bit % 64);
        if f.L == 1 {
            let e = s.load(a, ebytes as u8)?;
            let sh = s.imm(u64::from(lsb));
            let e = s.bin(BinOp::Shl, e, sh);
            let old = s.v(t, h);
            let keep = s.imm(!(super::ones(esize) << lsb));
            let old = s.bin(BinOp::And, old, keep);
            let v = s.bin(BinOp::Or, old, e);
            s.set_v(t, h, v);
        } else {
            let half = s.v(t, h);
            let e = super::lane(s, half, lsb, esize);
            s.store(a, ebytes as u8, e)?;
        }
    }
    struct_writeback(s, word, f.Rn, f.Rm, base, selem * ebytes);
    Ok(())
}
