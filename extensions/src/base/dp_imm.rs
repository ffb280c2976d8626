//! Data processing (immediate): add/subtract, logical, move wide, bitfield, extract and
//! PC-relative addressing.

use armature_core::isa::fields;
use armature_core::isa::pseudo::DecodeBitMasks;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::{add_with_carry, width};
use armature_core::sem::{BinOp, Sem, SemTable, Stop};
use armature_core::specialised;

use super::{datasize, logical, ror_imm, set_x_or_sp, sign_extend, x_or_sp};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::ADD_32_addsub_imm,
        E::ADD_64_addsub_imm,
        E::ADDS_32S_addsub_imm,
        E::ADDS_64S_addsub_imm,
        E::SUB_32_addsub_imm,
        E::SUB_64_addsub_imm,
        E::SUBS_32S_addsub_imm,
        E::SUBS_64S_addsub_imm,
    ] {
        t.set_specialised(
            id,
            add_sub_imm::<S>,
            specialised!(add_sub_imm, 0xE040_0000, 4),
        );
    }
    for id in [
        E::AND_32_log_imm,
        E::AND_64_log_imm,
        E::ORR_32_log_imm,
        E::ORR_64_log_imm,
        E::EOR_32_log_imm,
        E::EOR_64_log_imm,
        E::ANDS_32S_log_imm,
        E::ANDS_64S_log_imm,
    ] {
        t.set_specialised(
            id,
            logical_imm::<S>,
            specialised!(logical_imm, 0xE040_0000, 4),
        );
    }
    for id in [
        E::MOVN_32_movewide,
        E::MOVN_64_movewide,
        E::MOVZ_32_movewide,
        E::MOVZ_64_movewide,
        E::MOVK_32_movewide,
        E::MOVK_64_movewide,
    ] {
        t.set_specialised(id, move_wide::<S>, specialised!(move_wide, 0xE060_0000, 5));
    }
    for id in [
        E::SBFM_32M_bitfield,
        E::SBFM_64M_bitfield,
        E::BFM_32M_bitfield,
        E::BFM_64M_bitfield,
        E::UBFM_32M_bitfield,
        E::UBFM_64M_bitfield,
    ] {
        t.set_specialised(id, bitfield::<S>, specialised!(bitfield, 0xE000_0000, 3));
    }
    t.set_specialised(
        E::EXTR_32_extract,
        extract::<S>,
        specialised!(extract, 0x8040_0000, 2),
    );
    t.set_specialised(
        E::EXTR_64_extract,
        extract::<S>,
        specialised!(extract, 0x8040_0000, 2),
    );
    t.set(E::ADR_only_pcreladdr, pc_rel_addr::<S>);
    t.set(E::ADRP_only_pcreladdr, pc_rel_addr::<S>);
}

/// ADD, ADDS, SUB, SUBS (immediate): `AddWithCarry(X[n] or SP, imm or NOT(imm), op)`.
#[inline(always)]
pub fn add_sub_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADD_64_addsub_imm::from_word(word);
    let bits = datasize(f.sf);
    let imm = u64::from(f.imm12) << (12 * f.sh);
    let operand1 = x_or_sp(s, f.Rn);
    let (operand2, carry_in) = if f.op == 1 { (!imm, 1) } else { (imm, 0) };
    let operand2 = s.imm(operand2);
    let carry_in = s.imm(carry_in);
    let (result, nzcv) = add_with_carry(s, operand1, operand2, carry_in, bits);
    if f.S == 1 {
        s.set_nzcv(nzcv);
        s.set_x(f.Rd, result);
    } else {
        set_x_or_sp(s, f.Rd, result);
    }
    Ok(())
}

/// AND, ORR, EOR, ANDS (immediate), with the mask from `DecodeBitMasks(N, imms, immr, TRUE)`.
#[inline(always)]
pub fn logical_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::AND_64_log_imm::from_word(word);
    let bits = datasize(f.sf);
    if bits == 32 && f.N == 1 {
        return Err(Stop::Undefined);
    }
    let (wmask, _) = DecodeBitMasks(f.N.into(), f.imms.into(), f.immr.into(), true, bits)
        .ok_or(Stop::Undefined)?;
    let operand1 = s.x(f.Rn);
    let imm = s.imm(wmask);
    let result = logical(s, f.opc, operand1, imm, bits);
    if f.opc == 3 {
        s.set_x(f.Rd, result);
    } else {
        set_x_or_sp(s, f.Rd, result);
    }
    Ok(())
}

/// MOVN, MOVZ, MOVK: `imm16` at bit `hw * 16`, inverted (MOVN) or merged into `X[d]` (MOVK).
#[inline(always)]
pub fn move_wide<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::MOVZ_64_movewide::from_word(word);
    let bits = datasize(f.sf);
    if f.opc == 1 || (bits == 32 && f.hw >= 2) {
        return Err(Stop::Undefined);
    }
    let pos = 16 * f.hw;
    let imm = u64::from(f.imm16) << pos;
    let mask = if bits == 32 { 0xffff_ffff } else { u64::MAX };
    let result = match f.opc {
        0 => s.imm(!imm & mask),
        2 => s.imm(imm),
        _ => {
            let old = s.x(f.Rd);
            let keep = s.imm(!(0xffff << pos));
            let old = s.bin(BinOp::And, old, keep);
            let imm = s.imm(imm);
            let r = s.bin(BinOp::Or, old, imm);
            width(s, r, bits)
        }
    };
    s.set_x(f.Rd, result);
    Ok(())
}

/// SBFM, BFM, UBFM, with `(wmask, tmask) = DecodeBitMasks(N, imms, immr, FALSE)`.
#[inline(always)]
pub fn bitfield<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::UBFM_64M_bitfield::from_word(word);
    let bits = datasize(f.sf);
    if f.opc == 3 || f.N != f.sf || (bits == 32 && (f.immr >= 32 || f.imms >= 32)) {
        return Err(Stop::Undefined);
    }
    // SBFM: inzero, extend; BFM: neither; UBFM: inzero.
    let (inzero, extend) = match f.opc {
        0 => (true, true),
        1 => (false, false),
        _ => (true, false),
    };
    if inzero {
        // SBFM and UBFM (ASR, LSL, LSR, SXT*, UXT*, SBFX, UBFX, SBFIZ, UBFIZ) in the equal
        // shift forms: the field `X[n]<S:R>` extended, or `X[n]<S:0>` extended and shifted
        // left by `datasize - R` when `S < R`. BFM keeps the masks below. (DecodeBitMasks
        // cannot fail once the checks above passed: N:NOT(imms) has a set bit 5 or 6.)
        let src = s.x(f.Rn);
        let (field_top, field_low, shift) = if f.imms >= f.immr {
            (f.imms, f.immr, 0)
        } else {
            (f.imms, 0, bits - f.immr)
        };
        let result = if extend {
            // SignExtend: the field's top bit to bit 63, then back down arithmetically.
            let up = s.imm(u64::from(63 - field_top));
            let down = s.imm(u64::from(63 - field_top + field_low));
            let t = s.bin(BinOp::Shl, src, up);
            s.bin(BinOp::Asr, t, down)
        } else {
            let low = if field_low == 0 {
                src
            } else {
                let down = s.imm(u64::from(field_low));
                s.bin(BinOp::Lsr, src, down)
            };
            let len = field_top - field_low + 1;
            if len == 64 {
                low
            } else {
                let mask = s.imm((1u64 << len) - 1);
                s.bin(BinOp::And, low, mask)
            }
        };
        let result = if shift == 0 {
            result
        } else {
            let sh = s.imm(u64::from(shift));
            s.bin(BinOp::Shl, result, sh)
        };
        let result = width(s, result, bits);
        s.set_x(f.Rd, result);
        return Ok(());
    }
    // BFM: bot = (dst AND NOT(wmask)) OR (ROR(src, R) AND wmask), top = dst.
    let (wmask, tmask) = DecodeBitMasks(f.N.into(), f.imms.into(), f.immr.into(), false, bits)
        .ok_or(Stop::Undefined)?;
    let dst = s.x(f.Rd);
    let src = s.x(f.Rn);
    let not_wmask = s.imm(!wmask);
    let wmask = s.imm(wmask);
    let dst_kept = s.bin(BinOp::And, dst, not_wmask);
    let rotated = ror_imm(s, src, f.immr, bits);
    let rotated = s.bin(BinOp::And, rotated, wmask);
    let bot = s.bin(BinOp::Or, dst_kept, rotated);
    // X[d] = (top AND NOT(tmask)) OR (bot AND tmask).
    let not_tmask = s.imm(!tmask);
    let tmask = s.imm(tmask);
    let top = s.bin(BinOp::And, dst, not_tmask);
    let bot = s.bin(BinOp::And, bot, tmask);
    let result = s.bin(BinOp::Or, top, bot);
    let result = width(s, result, bits);
    s.set_x(f.Rd, result);
    Ok(())
}

/// EXTR: `(X[n]:X[m])<lsb+datasize-1:lsb>` with `lsb = imms`.
#[inline(always)]
pub fn extract<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::EXTR_64_extract::from_word(word);
    let bits = datasize(f.sf);
    if f.N != f.sf || (bits == 32 && f.imms >= 32) {
        return Err(Stop::Undefined);
    }
    let lsb = f.imms;
    let m = s.x(f.Rm);
    let m = width(s, m, bits);
    let result = if lsb == 0 {
        m
    } else {
        let n = s.x(f.Rn);
        let lo_sh = s.imm(u64::from(lsb));
        let hi_sh = s.imm(u64::from(bits - lsb));
        let lo = s.bin(BinOp::Lsr, m, lo_sh);
        let hi = s.bin(BinOp::Shl, n, hi_sh);
        let r = s.bin(BinOp::Or, lo, hi);
        width(s, r, bits)
    };
    s.set_x(f.Rd, result);
    Ok(())
}

/// ADR (`PC + imm`) and ADRP (`PC<63:12>:Zeros(12) + imm:Zeros(12)`).
pub fn pc_rel_addr<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ADR_only_pcreladdr::from_word(word);
    let imm = u64::from((f.immhi << 2) | f.immlo);
    let pc = s.pc();
    let (base, imm) = if f.op == 1 {
        let page = s.imm(!0xfff);
        (s.bin(BinOp::And, pc, page), sign_extend(imm << 12, 33))
    } else {
        (pc, sign_extend(imm, 21))
    };
    let imm = s.imm(imm);
    let result = s.bin(BinOp::Add, base, imm);
    s.set_x(f.Rd, result);
    Ok(())
}
