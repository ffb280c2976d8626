//! Loads and stores of general registers: single registers with an immediate or register
//! offset, literals, and pairs.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::width;
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};
use armature_core::specialised;

use super::{extend_reg, set_x_or_sp, sign_extend, x_or_sp};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::STRB_32_ldst_pos,
        E::LDRB_32_ldst_pos,
        E::LDRSB_64_ldst_pos,
        E::LDRSB_32_ldst_pos,
        E::STRH_32_ldst_pos,
        E::LDRH_32_ldst_pos,
        E::LDRSH_64_ldst_pos,
        E::LDRSH_32_ldst_pos,
        E::STR_32_ldst_pos,
        E::LDR_32_ldst_pos,
        E::LDRSW_64_ldst_pos,
        E::STR_64_ldst_pos,
        E::LDR_64_ldst_pos,
    ] {
        t.set_specialised(id, ldst_pos::<S>, specialised!(ldst_pos, 0xC0C0_0000, 4));
    }
    for id in [
        E::STRB_32_ldst_immpre,
        E::LDRB_32_ldst_immpre,
        E::LDRSB_64_ldst_immpre,
        E::LDRSB_32_ldst_immpre,
        E::STRH_32_ldst_immpre,
        E::LDRH_32_ldst_immpre,
        E::LDRSH_64_ldst_immpre,
        E::LDRSH_32_ldst_immpre,
        E::STR_32_ldst_immpre,
        E::LDR_32_ldst_immpre,
        E::LDRSW_64_ldst_immpre,
        E::STR_64_ldst_immpre,
        E::LDR_64_ldst_immpre,
        E::STRB_32_ldst_immpost,
        E::LDRB_32_ldst_immpost,
        E::LDRSB_64_ldst_immpost,
        E::LDRSB_32_ldst_immpost,
        E::STRH_32_ldst_immpost,
        E::LDRH_32_ldst_immpost,
        E::LDRSH_64_ldst_immpost,
        E::LDRSH_32_ldst_immpost,
        E::STR_32_ldst_immpost,
        E::LDR_32_ldst_immpost,
        E::LDRSW_64_ldst_immpost,
        E::STR_64_ldst_immpost,
        E::LDR_64_ldst_immpost,
        E::STTRB_32_ldst_unpriv,
        E::LDTRB_32_ldst_unpriv,
        E::LDTRSB_64_ldst_unpriv,
        E::LDTRSB_32_ldst_unpriv,
        E::STTRH_32_ldst_unpriv,
        E::LDTRH_32_ldst_unpriv,
        E::LDTRSH_64_ldst_unpriv,
        E::LDTRSH_32_ldst_unpriv,
        E::STTR_32_ldst_unpriv,
        E::LDTR_32_ldst_unpriv,
        E::LDTRSW_64_ldst_unpriv,
        E::STTR_64_ldst_unpriv,
        E::LDTR_64_ldst_unpriv,
        E::STURB_32_ldst_unscaled,
        E::LDURB_32_ldst_unscaled,
        E::LDURSB_64_ldst_unscaled,
        E::LDURSB_32_ldst_unscaled,
        E::STURH_32_ldst_unscaled,
        E::LDURH_32_ldst_unscaled,
        E::LDURSH_64_ldst_unscaled,
        E::LDURSH_32_ldst_unscaled,
        E::STUR_32_ldst_unscaled,
        E::LDUR_32_ldst_unscaled,
        E::LDURSW_64_ldst_unscaled,
        E::STUR_64_ldst_unscaled,
        E::LDUR_64_ldst_unscaled,
    ] {
        t.set_specialised(id, ldst_imm9::<S>, specialised!(ldst_imm9, 0xC0C0_0C00, 6));
    }
    for id in [
        E::STRB_32B_ldst_regoff,
        E::STRB_32BL_ldst_regoff,
        E::LDRB_32B_ldst_regoff,
        E::LDRB_32BL_ldst_regoff,
        E::LDRSB_64B_ldst_regoff,
        E::LDRSB_64BL_ldst_regoff,
        E::LDRSB_32B_ldst_regoff,
        E::LDRSB_32BL_ldst_regoff,
        E::STRH_32_ldst_regoff,
        E::LDRH_32_ldst_regoff,
        E::LDRSH_64_ldst_regoff,
        E::LDRSH_32_ldst_regoff,
        E::STR_32_ldst_regoff,
        E::LDR_32_ldst_regoff,
        E::LDRSW_64_ldst_regoff,
        E::STR_64_ldst_regoff,
        E::LDR_64_ldst_regoff,
    ] {
        // size, opc and option<2,0> (the extension: option<1> is 1 where the form is
        // allocated); S only picks the shift amount.
        t.set_specialised(
            id,
            ldst_regoff::<S>,
            specialised!(ldst_regoff, 0xC0C0_A000, 6),
        );
    }
    for id in [E::LDR_32_loadlit, E::LDR_64_loadlit, E::LDRSW_64_loadlit] {
        t.set_specialised(
            id,
            load_literal::<S>,
            specialised!(load_literal, 0xC000_0000, 2),
        );
    }
    for id in [
        E::STP_32_ldstpair_off,
        E::LDP_32_ldstpair_off,
        E::STP_64_ldstpair_off,
        E::LDP_64_ldstpair_off,
        E::LDPSW_64_ldstpair_off,
        E::STP_32_ldstpair_pre,
        E::LDP_32_ldstpair_pre,
        E::STP_64_ldstpair_pre,
        E::LDP_64_ldstpair_pre,
        E::LDPSW_64_ldstpair_pre,
        E::STP_32_ldstpair_post,
        E::LDP_32_ldstpair_post,
        E::STP_64_ldstpair_post,
        E::LDP_64_ldstpair_post,
        E::LDPSW_64_ldstpair_post,
        E::STNP_32_ldstnapair_offs,
        E::LDNP_32_ldstnapair_offs,
        E::STNP_64_ldstnapair_offs,
        E::LDNP_64_ldstnapair_offs,
    ] {
        t.set_specialised(id, ldst_pair::<S>, specialised!(ldst_pair, 0xC1C0_0000, 5));
    }
    for id in [
        E::STLRB_SL32_ldstord,
        E::STLRH_SL32_ldstord,
        E::STLR_SL32_ldstord,
        E::STLR_SL64_ldstord,
        E::LDARB_LR32_ldstord,
        E::LDARH_LR32_ldstord,
        E::LDAR_LR32_ldstord,
        E::LDAR_LR64_ldstord,
        E::STLLRB_SL32_ldstord,
        E::STLLRH_SL32_ldstord,
        E::STLLR_SL32_ldstord,
        E::STLLR_SL64_ldstord,
        E::LDLARB_LR32_ldstord,
        E::LDLARH_LR32_ldstord,
        E::LDLAR_LR32_ldstord,
        E::LDLAR_LR64_ldstord,
    ] {
        t.set(id, ldst_ordered::<S>);
    }
    for id in [
        E::STLURB_32_ldapstl_unscaled,
        E::LDAPURB_32_ldapstl_unscaled,
        E::LDAPURSB_64_ldapstl_unscaled,
        E::LDAPURSB_32_ldapstl_unscaled,
        E::STLURH_32_ldapstl_unscaled,
        E::LDAPURH_32_ldapstl_unscaled,
        E::LDAPURSH_64_ldapstl_unscaled,
        E::LDAPURSH_32_ldapstl_unscaled,
        E::STLUR_32_ldapstl_unscaled,
        E::LDAPUR_32_ldapstl_unscaled,
        E::LDAPURSW_64_ldapstl_unscaled,
        E::STLUR_64_ldapstl_unscaled,
        E::LDAPUR_64_ldapstl_unscaled,
    ] {
        t.set(id, ldst_ordered_unscaled::<S>);
    }
    for id in [
        E::STXRB_SR32_ldstexclr,
        E::STLXRB_SR32_ldstexclr,
        E::LDXRB_LR32_ldstexclr,
        E::LDAXRB_LR32_ldstexclr,
        E::STXRH_SR32_ldstexclr,
        E::STLXRH_SR32_ldstexclr,
        E::LDXRH_LR32_ldstexclr,
        E::LDAXRH_LR32_ldstexclr,
        E::STXR_SR32_ldstexclr,
        E::STLXR_SR32_ldstexclr,
        E::LDXR_LR32_ldstexclr,
        E::LDAXR_LR32_ldstexclr,
        E::STXR_SR64_ldstexclr,
        E::STLXR_SR64_ldstexclr,
        E::LDXR_LR64_ldstexclr,
        E::LDAXR_LR64_ldstexclr,
    ] {
        t.set(id, ldst_exclusive::<S>);
    }
    for id in [
        E::PRFM_P_ldst_pos,
        E::PRFM_P_ldst_regoff,
        E::PRFM_P_loadlit,
        E::PRFUM_P_ldst_unscaled,
        E::RPRFM_R_ldst_regoff,
    ] {
        t.set(id, prefetch::<S>);
    }
}

/// How an access uses its offset: added without write-back, or added before (pre-index) or
/// after (post-index) the access with write-back.
#[derive(Clone, Copy)]
enum Index {
    Offset,
    Pre,
    Post,
}

impl Index {
    fn wback_postindex(self) -> (bool, bool) {
        match self {
            Index::Offset => (false, false),
            Index::Pre => (true, false),
            Index::Post => (true, true),
        }
    }
}

/// `MemOp` and the register size of a single load or store, from `size` and `opc`.
#[derive(Clone, Copy)]
enum MemOp {
    Store,
    Load { signed: bool, regsize: u32 },
}

#[inline(always)]
fn decode_memop(size: u32, opc: u32) -> Result<MemOp, Stop> {
    Ok(match opc {
        0 => MemOp::Store,
        1 => MemOp::Load {
            signed: false,
            regsize: if size == 3 { 64 } else { 32 },
        },
        2 if size < 3 => MemOp::Load {
            signed: true,
            regsize: 64,
        },
        3 if size < 2 => MemOp::Load {
            signed: true,
            regsize: 32,
        },
        // PRFM and unallocated combinations are not this function's.
        _ => return Err(Stop::Undefined),
    })
}

/// `SignExtend(data, regsize)` or `ZeroExtend(data, regsize)` of a `bytes`-wide load.
#[inline(always)]
fn extend_load<S: Sem>(s: &mut S, data: S::V, bytes: u8, signed: bool, regsize: u32) -> S::V {
    if !signed {
        return data;
    }
    let data = match bytes {
        1 => s.un(UnOp::Sext8, data),
        2 => s.un(UnOp::Sext16, data),
        4 => s.un(UnOp::Sext32, data),
        _ => data,
    };
    width(s, data, regsize)
}

/// The shared execute pseudocode of single-register loads and stores: `address = X[n] or SP`,
/// plus `offset` unless post-indexed; the access; then the write-back of `address + offset`.
#[inline(always)]
fn load_store<S: Sem>(
    s: &mut S,
    size: u32,
    opc: u32,
    n: u32,
    t: u32,
    offset: S::V,
    index: Index,
) -> Result<(), Stop> {
    let (wback, postindex) = index.wback_postindex();
    let memop = decode_memop(size, opc)?;
    let bytes = 1u8 << size;
    let base = x_or_sp(s, n);
    let offset_address = s.bin(BinOp::Add, base, offset);
    let address = if postindex { base } else { offset_address };
    match memop {
        MemOp::Store => {
            let data = s.x(t);
            s.store(address, bytes, data)?;
        }
        MemOp::Load { signed, regsize } => {
            let data = s.load(address, bytes)?;
            let data = extend_load(s, data, bytes, signed, regsize);
            s.set_x(t, data);
        }
    }
    if wback {
        set_x_or_sp(s, n, offset_address);
    }
    Ok(())
}

/// LDR, STR and friends (immediate, unsigned offset): `offset = LSL(ZeroExtend(imm12), size)`.
#[inline(always)]
pub fn ldst_pos<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_64_ldst_pos::from_word(word);
    let offset = s.imm(u64::from(f.imm12) << f.size);
    load_store(s, f.size, f.opc, f.Rn, f.Rt, offset, Index::Offset)
}

/// Pre-index, post-index, unscaled (LDUR, STUR) and unprivileged (LDTR, STTR, which act as
/// LDUR and STUR at EL0) forms: `offset = SignExtend(imm9)`; bits 11:10 are 11 for
/// pre-index, 01 for post-index, 00 for unscaled and 10 for unprivileged.
#[inline(always)]
pub fn ldst_imm9<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_64_ldst_immpre::from_word(word);
    let index = match (word >> 10) & 3 {
        3 => Index::Pre,
        1 => Index::Post,
        _ => Index::Offset,
    };
    let offset = s.imm(sign_extend(f.imm9.into(), 9));
    load_store(s, f.size, f.opc, f.Rn, f.Rt, offset, index)
}

/// Register offset forms: `offset = ExtendReg(m, DecodeRegExtend(option), S ? size : 0, 64)`.
#[inline(always)]
pub fn ldst_regoff<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_64_ldst_regoff::from_word(word);
    if f.option & 2 == 0 {
        return Err(Stop::Undefined);
    }
    let shift = if f.S == 1 { f.size } else { 0 };
    let offset = extend_reg(s, f.Rm, f.option, shift, 64);
    load_store(s, f.size, f.opc, f.Rn, f.Rt, offset, Index::Offset)
}

/// LDR and LDRSW (literal): a load from `PC + SignExtend(imm19:'00')`.
#[inline(always)]
pub fn load_literal<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDR_64_loadlit::from_word(word);
    let (bytes, signed) = match f.opc {
        0 => (4, false),
        1 => (8, false),
        2 => (4, true),
        _ => return Err(Stop::Undefined),
    };
    let pc = s.pc();
    let offset = s.imm(sign_extend(u64::from(f.imm19) << 2, 21));
    let address = s.bin(BinOp::Add, pc, offset);
    let data = s.load(address, bytes)?;
    let data = extend_load(s, data, bytes, signed, 64);
    s.set_x(f.Rt, data);
    Ok(())
}

/// LDP, STP, LDPSW, LDNP, STNP: `offset = LSL(SignExtend(imm7), 2 + opc<1>)`; bits 24:23 are
/// 01 for post-index, 11 for pre-index, 10 for signed offset and 00 for no-allocate pairs.
#[inline(always)]
pub fn ldst_pair<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDP_64_ldstpair_off::from_word(word);
    let (wback, postindex) = match (word >> 23) & 3 {
        1 => Index::Post,
        3 => Index::Pre,
        _ => Index::Offset,
    }
    .wback_postindex();
    let signed = f.opc & 1 == 1;
    if f.opc == 3 || (signed && f.L == 0) {
        return Err(Stop::Undefined);
    }
    let scale = 2 + (f.opc >> 1);
    let bytes = 1u8 << scale;
    let base = x_or_sp(s, f.Rn);
    let offset = s.imm(sign_extend(f.imm7.into(), 7) << scale);
    let offset_address = s.bin(BinOp::Add, base, offset);
    let address = if postindex { base } else { offset_address };
    let step = s.imm(u64::from(bytes));
    let address2 = s.bin(BinOp::Add, address, step);
    if f.L == 1 {
        let data1 = s.load(address, bytes)?;
        let data2 = s.load(address2, bytes)?;
        let data1 = extend_load(s, data1, bytes, signed, 64);
        let data2 = extend_load(s, data2, bytes, signed, 64);
        s.set_x(f.Rt, data1);
        s.set_x(f.Rt2, data2);
    } else {
        let data1 = s.x(f.Rt);
        let data2 = s.x(f.Rt2);
        s.store(address, bytes, data1)?;
        s.store(address2, bytes, data2)?;
    }
    if wback {
        set_x_or_sp(s, f.Rn, offset_address);
    }
    Ok(())
}

/// LDAR, STLR, LDLAR, STLLR and their byte and halfword forms: an access at `X[n] or SP`.
/// Accesses stay in program order as other threads see them except a store followed by a
/// load, so a release that is sequentially consistent (STLR, not STLLR: `o0` 1) ends with a
/// barrier, which keeps it before a later LDAR.
pub fn ldst_ordered<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDAR_LR64_ldstord::from_word(word);
    let opc = if f.L == 1 { 1 } else { 0 };
    let address = x_or_sp(s, f.Rn);
    s.check_aligned(address, 1 << f.size, f.L == 0)?;
    let offset = s.imm(0);
    load_store(s, f.size, opc, f.Rn, f.Rt, offset, Index::Offset)?;
    if f.L == 0 && (word >> 15) & 1 == 1 {
        s.barrier();
    }
    Ok(())
}

/// LDAPUR, LDAPURS*, STLUR: `offset = SignExtend(imm9)`, ordered as [`ldst_ordered`] is
/// (STLUR, `opc` 0, is a release).
pub fn ldst_ordered_unscaled<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDAPUR_64_ldapstl_unscaled::from_word(word);
    let offset = s.imm(sign_extend(f.imm9.into(), 9));
    let base = x_or_sp(s, f.Rn);
    let address = s.bin(BinOp::Add, base, offset);
    s.check_aligned(address, 1 << f.size, f.opc == 0)?;
    load_store(s, f.size, f.opc, f.Rn, f.Rt, offset, Index::Offset)?;
    if f.opc == 0 {
        s.barrier();
    }
    Ok(())
}

/// PRFM, PRFUM and RPRFM: `Prefetch()` is a hint, which never faults.
pub fn prefetch<S: Sem>(_: &mut S, _: u32) -> Result<(), Stop> {
    Ok(())
}

/// LDXR, LDAXR, STXR, STLXR and their byte and halfword forms. A load-exclusive marks its
/// address in the monitor; a store-exclusive writes only while the monitor holds that address
/// and size, and sets `X[s]` to 0 when it did, 1 when it did not.
pub fn ldst_exclusive<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDXR_LR64_ldstexclr::from_word(word);
    let bytes = 1u8 << f.size;
    let address = x_or_sp(s, f.Rn);
    if f.L == 1 {
        let data = s.load_exclusive(address, bytes)?;
        s.set_x(f.Rt, data);
    } else {
        let data = s.x(f.Rt);
        let status = s.store_exclusive(address, bytes, data)?;
        s.set_x(f.Rs, status);
    }
    Ok(())
}
