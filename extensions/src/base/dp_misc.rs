//! Data processing added after Armv8.0: FEAT_CSSC (ABS, CNT, CTZ, SMAX, SMIN, UMAX, UMIN),
//! FEAT_CRC32 (CRC32*, CRC32C*), FEAT_FlagM (CFINV, RMIF, SETF8, SETF16) and FEAT_FlagM2
//! (AXFLAG, XAFLAG).

use armature_core::cpu::Cpu;
use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::{pack_nzcv, width};
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};

use super::{datasize, sign_extend};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::ABS_32_dp_1src,
        E::ABS_64_dp_1src,
        E::CNT_32_dp_1src,
        E::CNT_64_dp_1src,
        E::CTZ_32_dp_1src,
        E::CTZ_64_dp_1src,
    ] {
        t.set(id, cssc_1src::<S>);
    }
    for id in [
        E::SMAX_32_dp_2src,
        E::SMAX_64_dp_2src,
        E::SMIN_32_dp_2src,
        E::SMIN_64_dp_2src,
        E::UMAX_32_dp_2src,
        E::UMAX_64_dp_2src,
        E::UMIN_32_dp_2src,
        E::UMIN_64_dp_2src,
    ] {
        t.set(id, minmax_reg::<S>);
    }
    for id in [
        E::SMAX_32_minmax_imm,
        E::SMAX_64_minmax_imm,
        E::SMIN_32_minmax_imm,
        E::SMIN_64_minmax_imm,
        E::UMAX_32U_minmax_imm,
        E::UMAX_64U_minmax_imm,
        E::UMIN_32U_minmax_imm,
        E::UMIN_64U_minmax_imm,
    ] {
        t.set(id, minmax_imm::<S>);
    }
    for id in [
        E::CRC32B_32C_dp_2src,
        E::CRC32H_32C_dp_2src,
        E::CRC32W_32C_dp_2src,
        E::CRC32X_64C_dp_2src,
        E::CRC32CB_32C_dp_2src,
        E::CRC32CH_32C_dp_2src,
        E::CRC32CW_32C_dp_2src,
        E::CRC32CX_64C_dp_2src,
    ] {
        t.set(id, crc32::<S>);
    }
    t.set(E::CFINV_M_pstate, cfinv::<S>);
    t.set(E::RMIF_only_rmif, rmif::<S>);
    t.set(E::SETF8_only_setf, setf::<S>);
    t.set(E::SETF16_only_setf, setf::<S>);
    t.set(E::AXFLAG_M_pstate, axflag::<S>);
    t.set(E::XAFLAG_M_pstate, xaflag::<S>);
}

/// `BitCount` of each byte of a 64-bit value, in that byte: the SWAR sums of Hacker's Delight
/// (also AdvSIMD CNT's lanes).
pub(crate) fn byte_bit_counts<S: Sem>(s: &mut S, x: S::V) -> S::V {
    let one = s.imm(1);
    let two = s.imm(2);
    let four = s.imm(4);
    let m1 = s.imm(0x5555_5555_5555_5555);
    let m2 = s.imm(0x3333_3333_3333_3333);
    let m4 = s.imm(0x0f0f_0f0f_0f0f_0f0f);
    let t = s.bin(BinOp::Lsr, x, one);
    let t = s.bin(BinOp::And, t, m1);
    let x = s.bin(BinOp::Sub, x, t);
    let a = s.bin(BinOp::And, x, m2);
    let b = s.bin(BinOp::Lsr, x, two);
    let b = s.bin(BinOp::And, b, m2);
    let x = s.bin(BinOp::Add, a, b);
    let t = s.bin(BinOp::Lsr, x, four);
    let x = s.bin(BinOp::Add, x, t);
    s.bin(BinOp::And, x, m4)
}

/// `BitCount(x)` of a 64-bit value.
pub(crate) fn bit_count<S: Sem>(s: &mut S, x: S::V) -> S::V {
    let x = byte_bit_counts(s, x);
    // The byte sums add up in the top byte.
    let h01 = s.imm(0x0101_0101_0101_0101);
    let x = s.bin(BinOp::Mul, x, h01);
    let b56 = s.imm(56);
    s.bin(BinOp::Lsr, x, b56)
}

/// ABS (`Abs(SInt(X[n]))`), CNT (`BitCount`) and CTZ (`CountLeadingZeroBits(BitReverse)`)
/// by `opcode` 001000, 000111 and 000110.
pub fn cssc_1src<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ABS_64_dp_1src::from_word(word);
    let bits = datasize(f.sf);
    let x = s.x(f.Rn);
    let x = width(s, x, bits);
    let result = match f.opcode {
        0b001000 => {
            let v = if bits == 32 { s.un(UnOp::Sext32, x) } else { x };
            let zero = s.imm(0);
            let negative = s.bin(BinOp::Slt, v, zero);
            let neg = s.un(UnOp::Neg, v);
            let r = s.select(negative, neg, v);
            width(s, r, bits)
        }
        0b000111 => bit_count(s, x),
        0b000110 => {
            // A 32-bit value gets a stop bit at 32, so that zero counts 32.
            let x = if bits == 32 {
                let stop = s.imm(1 << 32);
                s.bin(BinOp::Or, x, stop)
            } else {
                x
            };
            let r = s.un(UnOp::Rbit, x);
            s.un(UnOp::Clz, r)
        }
        _ => return Err(Stop::Undefined),
    };
    s.set_x(f.Rd, result);
    Ok(())
}

/// `Max` or `Min` of two values as signed (`unsigned` false) or unsigned `bits`-wide
/// integers; `min` picks the smaller.
fn min_max<S: Sem>(s: &mut S, a: S::V, b: S::V, bits: u32, unsigned: bool, min: bool) -> S::V {
    let (a, b) = if bits == 32 {
        let ext = if unsigned { UnOp::Zext32 } else { UnOp::Sext32 };
        (s.un(ext, a), s.un(ext, b))
    } else {
        (a, b)
    };
    let op = if unsigned { BinOp::Ult } else { BinOp::Slt };
    let lt = s.bin(op, a, b);
    let r = if min {
        s.select(lt, a, b)
    } else {
        s.select(lt, b, a)
    };
    width(s, r, bits)
}

/// SMAX, UMAX, SMIN, UMIN (register), by `opcode<1:0>` (U is bit 0, MIN bit 1).
pub fn minmax_reg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SMAX_64_dp_2src::from_word(word);
    let bits = datasize(f.sf);
    let a = s.x(f.Rn);
    let b = s.x(f.Rm);
    let r = min_max(s, a, b, bits, f.opcode & 1 == 1, f.opcode & 2 == 2);
    s.set_x(f.Rd, r);
    Ok(())
}

/// SMAX, UMAX, SMIN, UMIN (immediate), by `opc<1:0>`: the immediate is `SignExtend(imm8)`
/// for the signed and `ZeroExtend(imm8)` for the unsigned forms.
pub fn minmax_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SMAX_64_minmax_imm::from_word(word);
    if f.opc >> 2 != 0 {
        return Err(Stop::Undefined);
    }
    let bits = datasize(f.sf);
    let unsigned = f.opc & 1 == 1;
    let imm = if unsigned {
        u64::from(f.imm8)
    } else {
        sign_extend(f.imm8.into(), 8)
    };
    let a = s.x(f.Rn);
    let b = s.imm(imm);
    let r = min_max(s, a, b, bits, unsigned, f.opc & 2 == 2);
    s.set_x(f.Rd, r);
    Ok(())
}

/// The reflected CRC-32 update of `acc` with the low `bytes` bytes of `val`, which is
/// `BitReverse(Poly32Mod2(BitReverse(acc):Zeros(size) EOR BitReverse(val):Zeros(32), poly))`.
fn crc_update(acc: u64, val: u64, bytes: u64, reflected_poly: u32) -> u64 {
    let mut crc = acc as u32;
    for i in 0..bytes {
        crc ^= (val >> (8 * i)) as u8 as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ reflected_poly
            } else {
                crc >> 1
            };
        }
    }
    u64::from(crc)
}

/// The CRC32 polynomial 0x04C11DB7, reflected.
fn crc32_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    crc_update(args[0], args[1], args[2], 0xedb8_8320)
}

/// The CRC32C (Castagnoli) polynomial 0x1EDC6F41, reflected.
fn crc32c_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    crc_update(args[0], args[1], args[2], 0x82f6_3b78)
}

/// CRC32B/H/W/X and CRC32CB/H/W/X: `X[d] = CRC of X[n]<31:0> with X[m]<size-1:0>`; `C` picks
/// the Castagnoli polynomial.
pub fn crc32<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CRC32B_32C_dp_2src::from_word(word);
    if (f.sf == 1) != (f.sz == 3) {
        return Err(Stop::Undefined);
    }
    let acc = s.x(f.Rn);
    let val = s.x(f.Rm);
    let bytes = s.imm(1 << f.sz);
    let helper = if f.C == 1 {
        crc32c_helper
    } else {
        crc32_helper
    };
    let r = s.call_pure(helper, &[acc, val, bytes]);
    s.set_x(f.Rd, r);
    Ok(())
}

/// PSTATE flag `bit` (31 N, 30 Z, 29 C, 28 V) of an NZCV value, as 0 or 1.
fn flag<S: Sem>(s: &mut S, nzcv: S::V, bit: u64) -> S::V {
    let sh = s.imm(bit);
    let one = s.imm(1);
    let f = s.bin(BinOp::Lsr, nzcv, sh);
    s.bin(BinOp::And, f, one)
}

/// CFINV: `PSTATE.C = NOT(PSTATE.C)`.
pub fn cfinv<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    let nzcv = s.nzcv();
    let c = s.imm(1 << 29);
    let r = s.bin(BinOp::Xor, nzcv, c);
    s.set_nzcv(r);
    Ok(())
}

/// RMIF: the flags selected by `mask` take bits `lsb+3:lsb` of `ROR(X[n], lsb)`'s pattern
/// (`(tmpreg:tmpreg)<lsb+3:lsb>`), N from the highest.
pub fn rmif<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::RMIF_only_rmif::from_word(word);
    let x = s.x(f.Rn);
    let x = super::ror_imm(s, x, f.imm6, 64);
    let sh = s.imm(28);
    let tmp = s.bin(BinOp::Shl, x, sh);
    let mask = u64::from(f.mask) << 28;
    let keep = s.imm(!mask & 0xf000_0000);
    let take = s.imm(mask);
    let tmp = s.bin(BinOp::And, tmp, take);
    let nzcv = s.nzcv();
    let nzcv = s.bin(BinOp::And, nzcv, keep);
    let r = s.bin(BinOp::Or, nzcv, tmp);
    s.set_nzcv(r);
    Ok(())
}

/// SETF8, SETF16 (`sz`): N = `X[n]<msb>`, Z = `IsZero(X[n]<msb:0>)`,
/// V = `X[n]<msb+1> EOR X[n]<msb>`; C is unchanged.
pub fn setf<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SETF8_only_setf::from_word(word);
    let msb = if f.sz == 1 { 15 } else { 7 };
    let x = s.x(f.Rn);
    let n = flag(s, x, msb);
    let above = flag(s, x, msb + 1);
    let v = s.bin(BinOp::Xor, above, n);
    let low = s.imm((2 << msb) - 1);
    let low = s.bin(BinOp::And, x, low);
    let zero = s.imm(0);
    let z = s.bin(BinOp::Eq, low, zero);
    let nzcv = s.nzcv();
    let c = flag(s, nzcv, 29);
    let r = pack_nzcv(s, n, z, c, v);
    s.set_nzcv(r);
    Ok(())
}

/// AXFLAG: N = 0, Z = Z OR V, C = C AND NOT(V), V = 0.
pub fn axflag<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    let nzcv = s.nzcv();
    let z = flag(s, nzcv, 30);
    let c = flag(s, nzcv, 29);
    let v = flag(s, nzcv, 28);
    let zero = s.imm(0);
    let one = s.imm(1);
    let z = s.bin(BinOp::Or, z, v);
    let nv = s.bin(BinOp::Xor, v, one);
    let c = s.bin(BinOp::And, c, nv);
    let r = pack_nzcv(s, zero, z, c, zero);
    s.set_nzcv(r);
    Ok(())
}

/// XAFLAG: N = NOT(C) AND NOT(Z), Z = Z AND C, C = C OR Z, V = NOT(C) AND Z.
pub fn xaflag<S: Sem>(s: &mut S, _: u32) -> Result<(), Stop> {
    let nzcv = s.nzcv();
    let z = flag(s, nzcv, 30);
    let c = flag(s, nzcv, 29);
    let one = s.imm(1);
    let nc = s.bin(BinOp::Xor, c, one);
    let nz = s.bin(BinOp::Xor, z, one);
    let n2 = s.bin(BinOp::And, nc, nz);
    let z2 = s.bin(BinOp::And, z, c);
    let c2 = s.bin(BinOp::Or, c, z);
    let v2 = s.bin(BinOp::And, nc, z);
    let r = pack_nzcv(s, n2, z2, c2, v2);
    s.set_nzcv(r);
    Ok(())
}
