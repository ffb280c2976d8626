//! Arm shared pseudocode functions and LLVM-style immediate text.
//!
//! The functions named in `CamelCase` follow Arm's ASL (2022-12 release) by name and meaning, so
//! code generated from the alias conditions of the A64 XML can call them directly. Each one cites
//! the `impl-*` link id that the XML uses for it. Field values arrive as `u64` and are masked to
//! their field widths first, so no input value panics.
//!
//! The `*_text` functions produce operand text exactly as `llvm-mc-19 --disassemble
//! -triple=aarch64 -mattr=+all` prints it.

#![allow(non_snake_case)]

use std::fmt::Write as _;

/// Returns a value with the low `n` bits set; `n` of 64 or more gives all ones.
#[inline]
fn ones(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Rotates the low `esize` bits of `x` right by `r` (ASL `ROR` on a `bits(esize)` value).
#[inline]
fn ror(x: u64, r: u32, esize: u32) -> u64 {
    let x = x & ones(esize);
    let r = r % esize;
    if r == 0 {
        x
    } else {
        ((x >> r) | (x << (esize - r))) & ones(esize)
    }
}

/// Repeats the low `esize` bits of `x` until `m` bits are filled (ASL `Replicate`).
///
/// `esize` divides `m` (both powers of two), so multiplying by a constant with a one at every
/// multiple of `esize` places a copy of `x` at each: no loop and no division, which matters
/// because `DecodeBitMasks` runs for every executed logical and bitfield instruction.
#[inline]
fn replicate(x: u64, esize: u32, m: u32) -> u64 {
    debug_assert!(esize.is_power_of_two() && m.is_power_of_two() && esize <= m && m <= 64);
    // `u64::MAX / ones(esize)` for esize = 1, 2, 4, ..., 64, by log2(esize).
    const SPREAD: [u64; 7] = [
        u64::MAX,
        0x5555_5555_5555_5555,
        0x1111_1111_1111_1111,
        0x0101_0101_0101_0101,
        0x0001_0001_0001_0001,
        0x0000_0001_0000_0001,
        1,
    ];
    let spread = SPREAD[(esize.trailing_zeros() as usize).min(6)] & ones(m);
    (x & ones(esize)).wrapping_mul(spread)
}

/// Returns the element size of a bitmask immediate, `1 << HighestSetBit(immN:NOT(imms))`.
///
/// The result is `None` where the highest set bit is below 1, which the ASL makes UNDEFINED.
#[inline]
fn bitmask_esize(immN: u64, imms: u64) -> Option<u32> {
    let combined = ((immN & 1) << 6) | (!imms & 0x3f);
    if combined < 2 {
        return None;
    }
    Some(1 << combined.ilog2())
}

/// Decodes a bitmask immediate into `(wmask, tmask)`.
///
/// Arm shared pseudocode `DecodeBitMasks()` (`impl-aarch64.DecodeBitMasks.5`). Both masks hold
/// `M` significant bits. The result is `None` where the ASL says UNDEFINED (element size below 2,
/// or an all-ones `imms` for a logical immediate) and where its assertion `M >= esize` fails or
/// `M` is not a power of two of at most 64.
#[inline]
pub fn DecodeBitMasks(
    immN: u64,
    imms: u64,
    immr: u64,
    immediate: bool,
    M: u32,
) -> Option<(u64, u64)> {
    let imms = imms & 0x3f;
    let immr = immr & 0x3f;
    let esize = bitmask_esize(immN, imms)?;
    if !M.is_power_of_two() || M > 64 || M < esize {
        return None;
    }
    let levels = u64::from(esize - 1);
    if immediate && (imms & levels) == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let d = s.wrapping_sub(r) & levels;
    let welem = ones(s as u32 + 1);
    let telem = ones(d as u32 + 1);
    let wmask = replicate(ror(welem, r as u32, esize), esize, M);
    let tmask = replicate(telem, esize, M);
    Some((wmask, tmask))
}

/// Tells whether UBFX or SBFX is the preferred disassembly of a UBFM or SBFM instruction.
///
/// Arm shared pseudocode `BFXPreferred()` (`impl-aarch64.BFXPreferred.4`). It excludes the more
/// specific aliases UBFIZ, SBFIZ, UXTB, UXTH, SXTB, SXTH, SXTW, LSL, LSR and ASR.
pub fn BFXPreferred(sf: u64, uns: u64, imms: u64, immr: u64) -> bool {
    let sf = sf & 1;
    let uns = uns & 1;
    let imms = imms & 0x3f;
    let immr = immr & 0x3f;
    // UBFIZ and SBFIZ take these.
    if imms < immr {
        return false;
    }
    // LSR and ASR take an `imms` of 31 or 63.
    if imms == (sf << 5) | 0x1f {
        return false;
    }
    if immr == 0 {
        // The 32-bit UXTB, UXTH, SXTB and SXTH take these.
        if sf == 0 && (imms == 7 || imms == 15) {
            return false;
        }
        // The 64-bit SXTB, SXTH and SXTW take these.
        if sf == 1 && uns == 0 && matches!(imms, 7 | 15 | 31) {
            return false;
        }
    }
    true
}

/// Tells whether a bitmask immediate could also be written as one MOVZ or MOVN.
///
/// Arm shared pseudocode `MoveWidePreferred()` (`impl-aarch64.MoveWidePreferred.4`). The MOV
/// (bitmask immediate) alias of ORR is preferred only when this is false. The element size must
/// equal the register size, as in the ASL. The ASL then tests the run of ones with `s < 16` and
/// `(-r MOD 16) <= 15 - s` (MOVZ) and `s >= width - 15` and `(r MOD 16) <= s - (width - 15)`
/// (MOVN); its MOVN test misses 244 encodings that MOVN can write, such as `#0x1ffff` or
/// `#0xfffeffff`, for which LLVM prints `orr`. This function tests what the ASL describes and
/// LLVM does: whether the value, or its inverse, is one 16-bit field at a 16-bit aligned offset.
pub fn MoveWidePreferred(sf: u64, immN: u64, imms: u64, immr: u64) -> bool {
    let sf = sf & 1;
    let immN = immN & 1;
    let width = if sf == 1 { 64 } else { 32 };
    // The element size must equal the register size.
    if sf == 1 && immN != 1 {
        return false;
    }
    if sf == 0 && (immN != 0 || imms & 0x20 != 0) {
        return false;
    }
    let Some((value, _)) = DecodeBitMasks(immN, imms, immr, true, width) else {
        return false;
    };
    let one_halfword = |v: u64| {
        (0..width)
            .step_by(16)
            .any(|shift| v & !(0xffff << shift) == 0)
    };
    one_halfword(value) || one_halfword(!value & ones(width))
}

/// Tells whether DUPM should print as its MOV alias, that is whether no DUP can write the value.
///
/// Arm shared pseudocode `SVEMoveMaskPreferred()` (`impl-aarch64.SVEMoveMaskPreferred.1`), which
/// decodes `imm13` with `DecodeBitMasks(imm13<12>, imm13<5:0>, imm13<11:6>, TRUE, 64)`. A reserved
/// `imm13` gives false.
pub fn SVEMoveMaskPreferred(imm13: u64) -> bool {
    let Some((imm, _)) = DecodeBitMasks(imm13 >> 12, imm13, imm13 >> 6, true, 64) else {
        return false;
    };
    let field = |hi: u32, lo: u32| (imm >> lo) & ones(hi - lo + 1);
    let is_zero = |hi: u32, lo: u32| field(hi, lo) == 0;
    let is_ones = |hi: u32, lo: u32| field(hi, lo) == ones(hi - lo + 1);
    let words_equal = field(63, 32) == field(31, 0);
    let halves_equal = words_equal && field(31, 16) == field(15, 0);
    if !is_zero(7, 0) {
        // An 8-bit immediate, sign-extended to 64, 32 or 16 bits or repeated in every byte.
        if is_zero(63, 7) || is_ones(63, 7) {
            return false;
        }
        if words_equal && (is_zero(31, 7) || is_ones(31, 7)) {
            return false;
        }
        if halves_equal && (is_zero(15, 7) || is_ones(15, 7)) {
            return false;
        }
        if halves_equal && field(15, 8) == field(7, 0) {
            return false;
        }
    } else {
        // An 8-bit immediate shifted left by 8, sign-extended to 64, 32 or 16 bits.
        if is_zero(63, 15) || is_ones(63, 15) {
            return false;
        }
        if words_equal && (is_zero(31, 15) || is_ones(31, 15)) {
            return false;
        }
        if halves_equal {
            return false;
        }
    }
    true
}

/// Expands the 8-bit floating-point immediate of FMOV and friends into an `N`-bit value.
///
/// Arm shared pseudocode `VFPExpandImm()` (`impl-shared.VFPExpandImm.2`). `N` is 16, 32 or 64;
/// any other width, which the ASL asserts against, gives 0.
pub fn VFPExpandImm(imm8: u64, N: u32) -> u64 {
    let imm8 = imm8 & 0xff;
    let e = match N {
        16 => 5,
        32 => 8,
        64 => 11,
        _ => return 0,
    };
    let f = N - e - 1;
    let sign = imm8 >> 7;
    let b6 = (imm8 >> 6) & 1;
    let exp = ((b6 ^ 1) << (e - 1)) | ((ones(e - 3) * b6) << 2) | ((imm8 >> 4) & 3);
    let frac = (imm8 & 0xf) << (f - 4);
    (sign << (N - 1)) | (exp << f) | frac
}

/// Expands the Advanced SIMD modified immediate `op:cmode:imm8` into 64 bits.
///
/// Arm shared pseudocode `AdvSIMDExpandImm()` (`impl-shared.AdvSIMDExpandImm.3`).
pub fn AdvSIMDExpandImm(op: u64, cmode: u64, imm8: u64) -> u64 {
    let op = op & 1;
    let cmode = cmode & 0xf;
    let imm8 = imm8 & 0xff;
    let bit = |n: u32| (imm8 >> n) & 1;
    match cmode >> 1 {
        0b000 => replicate(imm8, 32, 64),
        0b001 => replicate(imm8 << 8, 32, 64),
        0b010 => replicate(imm8 << 16, 32, 64),
        0b011 => replicate(imm8 << 24, 32, 64),
        0b100 => replicate(imm8, 16, 64),
        0b101 => replicate(imm8 << 8, 16, 64),
        0b110 if cmode & 1 == 0 => replicate((imm8 << 8) | 0xff, 32, 64),
        0b110 => replicate((imm8 << 16) | 0xffff, 32, 64),
        _ => match (cmode & 1, op) {
            (0, 0) => replicate(imm8, 8, 64),
            (0, _) => (0..8).fold(0, |acc, i| acc | ((bit(i) * 0xff) << (8 * i))),
            (_, 0) => {
                let imm32 = (bit(7) << 31)
                    | ((bit(6) ^ 1) << 30)
                    | ((bit(6) * 0x1f) << 25)
                    | ((imm8 & 0x3f) << 19);
                replicate(imm32, 32, 64)
            }
            _ => {
                (bit(7) << 63)
                    | ((bit(6) ^ 1) << 62)
                    | ((bit(6) * 0xff) << 54)
                    | ((imm8 & 0x3f) << 48)
            }
        },
    }
}

/// The system instruction groups that `SysOp()` tells apart.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SystemOp {
    /// Address translation (AT).
    Sys_AT,
    /// Branch record buffer (BRB).
    Sys_BRB,
    /// Data cache maintenance (DC).
    Sys_DC,
    /// Instruction cache maintenance (IC).
    Sys_IC,
    /// TLB maintenance (TLBI).
    Sys_TLBI,
    /// TLB maintenance of a 128-bit pair (TLBIP), returned only by [`SysOp128`].
    Sys_TLBIP,
    /// Any other system instruction.
    Sys_SYS,
}

use SystemOp::{Sys_AT as AT, Sys_BRB as BRB, Sys_DC as DC, Sys_IC as IC, Sys_TLBI as TLBI};

/// The ASL `SysOp()` table holds this row.
const A: u8 = 1;
/// The ASL table of 128-bit TLBIP operations holds this row too.
const P: u8 = 2;
/// LLVM prints this operation by name.
const L: u8 = 4;
/// LLVM prints a register operand after the name.
const R: u8 = 8;

/// Packs `op1:CRn:CRm:op2` into a 14-bit key.
const fn k(op1: u16, crn: u16, crm: u16, op2: u16) -> u16 {
    (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

/// Every system operation that the ASL or LLVM names, sorted by `op1:CRn:CRm:op2`.
///
/// The group and the lowercase names come from the 2022-12 XML (`at_sys.xml`, `brb_sys.xml`,
/// `dc_sys.xml`, `ic_sys.xml`, `tlbi_sys.xml`, `tlbip_sysp.xml`) and from `llvm-mc-19` output.
static SYS_OPS: &[(u16, SystemOp, u8, &str)] = &[
    (k(0, 7, 1, 0), IC, A | L, "ialluis"),
    (k(0, 7, 5, 0), IC, A | L, "iallu"),
    (k(0, 7, 6, 1), DC, A | L | R, "ivac"),
    (k(0, 7, 6, 2), DC, A | L | R, "isw"),
    (k(0, 7, 6, 3), DC, A | L | R, "igvac"),
    (k(0, 7, 6, 4), DC, A | L | R, "igsw"),
    (k(0, 7, 6, 5), DC, A | L | R, "igdvac"),
    (k(0, 7, 6, 6), DC, A | L | R, "igdsw"),
    (k(0, 7, 8, 0), AT, A | L | R, "s1e1r"),
    (k(0, 7, 8, 1), AT, A | L | R, "s1e1w"),
    (k(0, 7, 8, 2), AT, A | L | R, "s1e0r"),
    (k(0, 7, 8, 3), AT, A | L | R, "s1e0w"),
    (k(0, 7, 9, 0), AT, A | L | R, "s1e1rp"),
    (k(0, 7, 9, 1), AT, A | L | R, "s1e1wp"),
    (k(0, 7, 9, 2), AT, L | R, "s1e1a"),
    (k(0, 7, 10, 2), DC, A | L | R, "csw"),
    (k(0, 7, 10, 4), DC, A | L | R, "cgsw"),
    (k(0, 7, 10, 6), DC, A | L | R, "cgdsw"),
    (k(0, 7, 14, 2), DC, A | L | R, "cisw"),
    (k(0, 7, 14, 4), DC, A | L | R, "cigsw"),
    (k(0, 7, 14, 6), DC, A | L | R, "cigdsw"),
    (k(0, 8, 1, 0), TLBI, A | L, "vmalle1os"),
    (k(0, 8, 1, 1), TLBI, A | P | L | R, "vae1os"),
    (k(0, 8, 1, 2), TLBI, A | L | R, "aside1os"),
    (k(0, 8, 1, 3), TLBI, A | P | L | R, "vaae1os"),
    (k(0, 8, 1, 5), TLBI, A | P | L | R, "vale1os"),
    (k(0, 8, 1, 7), TLBI, A | P | L | R, "vaale1os"),
    (k(0, 8, 2, 1), TLBI, A | P | L | R, "rvae1is"),
    (k(0, 8, 2, 3), TLBI, A | P | L | R, "rvaae1is"),
    (k(0, 8, 2, 5), TLBI, A | P | L | R, "rvale1is"),
    (k(0, 8, 2, 7), TLBI, A | P | L | R, "rvaale1is"),
    (k(0, 8, 3, 0), TLBI, A | L, "vmalle1is"),
    (k(0, 8, 3, 1), TLBI, A | P | L | R, "vae1is"),
    (k(0, 8, 3, 2), TLBI, A | L | R, "aside1is"),
    (k(0, 8, 3, 3), TLBI, A | P | L | R, "vaae1is"),
    (k(0, 8, 3, 5), TLBI, A | P | L | R, "vale1is"),
    (k(0, 8, 3, 7), TLBI, A | P | L | R, "vaale1is"),
    (k(0, 8, 5, 1), TLBI, A | P | L | R, "rvae1os"),
    (k(0, 8, 5, 3), TLBI, A | P | L | R, "rvaae1os"),
    (k(0, 8, 5, 5), TLBI, A | P | L | R, "rvale1os"),
    (k(0, 8, 5, 7), TLBI, A | P | L | R, "rvaale1os"),
    (k(0, 8, 6, 1), TLBI, A | P | L | R, "rvae1"),
    (k(0, 8, 6, 3), TLBI, A | P | L | R, "rvaae1"),
    (k(0, 8, 6, 5), TLBI, A | P | L | R, "rvale1"),
    (k(0, 8, 6, 7), TLBI, A | P | L | R, "rvaale1"),
    (k(0, 8, 7, 0), TLBI, A | L, "vmalle1"),
    (k(0, 8, 7, 1), TLBI, A | P | L | R, "vae1"),
    (k(0, 8, 7, 2), TLBI, A | L | R, "aside1"),
    (k(0, 8, 7, 3), TLBI, A | P | L | R, "vaae1"),
    (k(0, 8, 7, 5), TLBI, A | P | L | R, "vale1"),
    (k(0, 8, 7, 7), TLBI, A | P | L | R, "vaale1"),
    (k(0, 9, 1, 0), TLBI, A | L, "vmalle1osnxs"),
    (k(0, 9, 1, 1), TLBI, A | P | L | R, "vae1osnxs"),
    (k(0, 9, 1, 2), TLBI, A | L | R, "aside1osnxs"),
    (k(0, 9, 1, 3), TLBI, A | P | L | R, "vaae1osnxs"),
    (k(0, 9, 1, 5), TLBI, A | P | L | R, "vale1osnxs"),
    (k(0, 9, 1, 7), TLBI, A | P | L | R, "vaale1osnxs"),
    (k(0, 9, 2, 1), TLBI, A | P | L | R, "rvae1isnxs"),
    (k(0, 9, 2, 3), TLBI, A | P | L | R, "rvaae1isnxs"),
    (k(0, 9, 2, 5), TLBI, A | P | L | R, "rvale1isnxs"),
    (k(0, 9, 2, 7), TLBI, A | P | L | R, "rvaale1isnxs"),
    (k(0, 9, 3, 0), TLBI, A | L, "vmalle1isnxs"),
    (k(0, 9, 3, 1), TLBI, A | P | L | R, "vae1isnxs"),
    (k(0, 9, 3, 2), TLBI, A | L | R, "aside1isnxs"),
    (k(0, 9, 3, 3), TLBI, A | P | L | R, "vaae1isnxs"),
    (k(0, 9, 3, 5), TLBI, A | P | L | R, "vale1isnxs"),
    (k(0, 9, 3, 7), TLBI, A | P | L | R, "vaale1isnxs"),
    (k(0, 9, 5, 1), TLBI, A | P | L | R, "rvae1osnxs"),
    (k(0, 9, 5, 3), TLBI, A | P | L | R, "rvaae1osnxs"),
    (k(0, 9, 5, 5), TLBI, A | P | L | R, "rvale1osnxs"),
    (k(0, 9, 5, 7), TLBI, A | P | L | R, "rvaale1osnxs"),
    (k(0, 9, 6, 1), TLBI, A | P | L | R, "rvae1nxs"),
    (k(0, 9, 6, 3), TLBI, A | P | L | R, "rvaae1nxs"),
    (k(0, 9, 6, 5), TLBI, A | P | L | R, "rvale1nxs"),
    (k(0, 9, 6, 7), TLBI, A | P | L | R, "rvaale1nxs"),
    (k(0, 9, 7, 0), TLBI, A | L, "vmalle1nxs"),
    (k(0, 9, 7, 1), TLBI, A | P | L | R, "vae1nxs"),
    (k(0, 9, 7, 2), TLBI, A | L | R, "aside1nxs"),
    (k(0, 9, 7, 3), TLBI, A | P | L | R, "vaae1nxs"),
    (k(0, 9, 7, 5), TLBI, A | P | L | R, "vale1nxs"),
    (k(0, 9, 7, 7), TLBI, A | P | L | R, "vaale1nxs"),
    (k(1, 7, 2, 4), BRB, A | L, "iall"),
    (k(1, 7, 2, 5), BRB, A | L, "inj"),
    (k(3, 7, 4, 1), DC, A | L | R, "zva"),
    (k(3, 7, 4, 3), DC, A | L | R, "gva"),
    (k(3, 7, 4, 4), DC, A | L | R, "gzva"),
    (k(3, 7, 5, 1), IC, A | L | R, "ivau"),
    (k(3, 7, 10, 1), DC, A | L | R, "cvac"),
    (k(3, 7, 10, 3), DC, A | L | R, "cgvac"),
    (k(3, 7, 10, 5), DC, A | L | R, "cgdvac"),
    (k(3, 7, 11, 1), DC, A | L | R, "cvau"),
    (k(3, 7, 12, 1), DC, A | L | R, "cvap"),
    (k(3, 7, 12, 3), DC, A | L | R, "cgvap"),
    (k(3, 7, 12, 5), DC, A | L | R, "cgdvap"),
    (k(3, 7, 13, 1), DC, A | L | R, "cvadp"),
    (k(3, 7, 13, 3), DC, A | L | R, "cgvadp"),
    (k(3, 7, 13, 5), DC, A | L | R, "cgdvadp"),
    (k(3, 7, 14, 1), DC, A | L | R, "civac"),
    (k(3, 7, 14, 3), DC, A | L | R, "cigvac"),
    (k(3, 7, 14, 5), DC, A | L | R, "cigdvac"),
    (k(4, 7, 8, 0), AT, A | L | R, "s1e2r"),
    (k(4, 7, 8, 1), AT, A | L | R, "s1e2w"),
    (k(4, 7, 8, 4), AT, A | L | R, "s12e1r"),
    (k(4, 7, 8, 5), AT, A | L | R, "s12e1w"),
    (k(4, 7, 8, 6), AT, A | L | R, "s12e0r"),
    (k(4, 7, 8, 7), AT, A | L | R, "s12e0w"),
    (k(4, 7, 9, 2), AT, L | R, "s1e2a"),
    (k(4, 7, 14, 0), DC, A | L | R, "cipae"),
    (k(4, 7, 14, 7), DC, A | L | R, "cigdpae"),
    (k(4, 8, 0, 1), TLBI, A | P | L | R, "ipas2e1is"),
    (k(4, 8, 0, 2), TLBI, A | P | L | R, "ripas2e1is"),
    (k(4, 8, 0, 5), TLBI, A | P | L | R, "ipas2le1is"),
    (k(4, 8, 0, 6), TLBI, A | P | L | R, "ripas2le1is"),
    (k(4, 8, 1, 0), TLBI, A | L, "alle2os"),
    (k(4, 8, 1, 1), TLBI, A | P | L | R, "vae2os"),
    (k(4, 8, 1, 4), TLBI, A | L, "alle1os"),
    (k(4, 8, 1, 5), TLBI, A | P | L | R, "vale2os"),
    (k(4, 8, 1, 6), TLBI, A | L, "vmalls12e1os"),
    (k(4, 8, 2, 1), TLBI, A | P | L | R, "rvae2is"),
    (k(4, 8, 2, 2), TLBI, L, "vmallws2e1is"),
    (k(4, 8, 2, 5), TLBI, A | P | L | R, "rvale2is"),
    (k(4, 8, 3, 0), TLBI, A | L, "alle2is"),
    (k(4, 8, 3, 1), TLBI, A | P | L | R, "vae2is"),
    (k(4, 8, 3, 4), TLBI, A | L, "alle1is"),
    (k(4, 8, 3, 5), TLBI, A | P | L | R, "vale2is"),
    (k(4, 8, 3, 6), TLBI, A | L, "vmalls12e1is"),
    (k(4, 8, 4, 0), TLBI, A | P | L | R, "ipas2e1os"),
    (k(4, 8, 4, 1), TLBI, A | P | L | R, "ipas2e1"),
    (k(4, 8, 4, 2), TLBI, A | P | L | R, "ripas2e1"),
    (k(4, 8, 4, 3), TLBI, A | P | L | R, "ripas2e1os"),
    (k(4, 8, 4, 4), TLBI, A | P | L | R, "ipas2le1os"),
    (k(4, 8, 4, 5), TLBI, A | P | L | R, "ipas2le1"),
    (k(4, 8, 4, 6), TLBI, A | P | L | R, "ripas2le1"),
    (k(4, 8, 4, 7), TLBI, A | P | L | R, "ripas2le1os"),
    (k(4, 8, 5, 1), TLBI, A | P | L | R, "rvae2os"),
    (k(4, 8, 5, 2), TLBI, L, "vmallws2e1os"),
    (k(4, 8, 5, 5), TLBI, A | P | L | R, "rvale2os"),
    (k(4, 8, 6, 1), TLBI, A | P | L | R, "rvae2"),
    (k(4, 8, 6, 2), TLBI, L, "vmallws2e1"),
    (k(4, 8, 6, 5), TLBI, A | P | L | R, "rvale2"),
    (k(4, 8, 7, 0), TLBI, A | L, "alle2"),
    (k(4, 8, 7, 1), TLBI, A | P | L | R, "vae2"),
    (k(4, 8, 7, 4), TLBI, A | L, "alle1"),
    (k(4, 8, 7, 5), TLBI, A | P | L | R, "vale2"),
    (k(4, 8, 7, 6), TLBI, A | L, "vmalls12e1"),
    (k(4, 9, 0, 1), TLBI, A | P | L | R, "ipas2e1isnxs"),
    (k(4, 9, 0, 2), TLBI, A | P | L | R, "ripas2e1isnxs"),
    (k(4, 9, 0, 5), TLBI, A | P | L | R, "ipas2le1isnxs"),
    (k(4, 9, 0, 6), TLBI, A | P | L | R, "ripas2le1isnxs"),
    (k(4, 9, 1, 0), TLBI, A | L, "alle2osnxs"),
    (k(4, 9, 1, 1), TLBI, A | P | L | R, "vae2osnxs"),
    (k(4, 9, 1, 4), TLBI, A | L, "alle1osnxs"),
    (k(4, 9, 1, 5), TLBI, A | P | L | R, "vale2osnxs"),
    (k(4, 9, 1, 6), TLBI, A | L, "vmalls12e1osnxs"),
    (k(4, 9, 2, 1), TLBI, A | P | L | R, "rvae2isnxs"),
    (k(4, 9, 2, 2), TLBI, L, "vmallws2e1isnxs"),
    (k(4, 9, 2, 5), TLBI, A | P | L | R, "rvale2isnxs"),
    (k(4, 9, 3, 0), TLBI, A | L, "alle2isnxs"),
    (k(4, 9, 3, 1), TLBI, A | P | L | R, "vae2isnxs"),
    (k(4, 9, 3, 4), TLBI, A | L, "alle1isnxs"),
    (k(4, 9, 3, 5), TLBI, A | P | L | R, "vale2isnxs"),
    (k(4, 9, 3, 6), TLBI, A | L, "vmalls12e1isnxs"),
    (k(4, 9, 4, 0), TLBI, A | P | L | R, "ipas2e1osnxs"),
    (k(4, 9, 4, 1), TLBI, A | P | L | R, "ipas2e1nxs"),
    (k(4, 9, 4, 2), TLBI, A | P | L | R, "ripas2e1nxs"),
    (k(4, 9, 4, 3), TLBI, A | P | L | R, "ripas2e1osnxs"),
    (k(4, 9, 4, 4), TLBI, A | P | L | R, "ipas2le1osnxs"),
    (k(4, 9, 4, 5), TLBI, A | P | L | R, "ipas2le1nxs"),
    (k(4, 9, 4, 6), TLBI, A | P | L | R, "ripas2le1nxs"),
    (k(4, 9, 4, 7), TLBI, A | P | L | R, "ripas2le1osnxs"),
    (k(4, 9, 5, 1), TLBI, A | P | L | R, "rvae2osnxs"),
    (k(4, 9, 5, 2), TLBI, L, "vmallws2e1osnxs"),
    (k(4, 9, 5, 5), TLBI, A | P | L | R, "rvale2osnxs"),
    (k(4, 9, 6, 1), TLBI, A | P | L | R, "rvae2nxs"),
    (k(4, 9, 6, 2), TLBI, L, "vmallws2e1nxs"),
    (k(4, 9, 6, 5), TLBI, A | P | L | R, "rvale2nxs"),
    (k(4, 9, 7, 0), TLBI, A | L, "alle2nxs"),
    (k(4, 9, 7, 1), TLBI, A | P | L | R, "vae2nxs"),
    (k(4, 9, 7, 4), TLBI, A | L, "alle1nxs"),
    (k(4, 9, 7, 5), TLBI, A | P | L | R, "vale2nxs"),
    (k(4, 9, 7, 6), TLBI, A | L, "vmalls12e1nxs"),
    (k(6, 7, 8, 0), AT, A | L | R, "s1e3r"),
    (k(6, 7, 8, 1), AT, A | L | R, "s1e3w"),
    (k(6, 7, 9, 2), AT, L | R, "s1e3a"),
    (k(6, 7, 14, 1), DC, A | R, "cipapa"),
    (k(6, 7, 14, 5), DC, A | R, "cigdpapa"),
    (k(6, 8, 1, 0), TLBI, A | L, "alle3os"),
    (k(6, 8, 1, 1), TLBI, A | P | L | R, "vae3os"),
    (k(6, 8, 1, 4), TLBI, A | L, "paallos"),
    (k(6, 8, 1, 5), TLBI, A | P | L | R, "vale3os"),
    (k(6, 8, 2, 1), TLBI, A | P | L | R, "rvae3is"),
    (k(6, 8, 2, 5), TLBI, A | P | L | R, "rvale3is"),
    (k(6, 8, 3, 0), TLBI, A | L, "alle3is"),
    (k(6, 8, 3, 1), TLBI, A | P | L | R, "vae3is"),
    (k(6, 8, 3, 5), TLBI, A | P | L | R, "vale3is"),
    (k(6, 8, 4, 3), TLBI, A | L | R, "rpaos"),
    (k(6, 8, 4, 7), TLBI, A | L | R, "rpalos"),
    (k(6, 8, 5, 1), TLBI, A | P | L | R, "rvae3os"),
    (k(6, 8, 5, 5), TLBI, A | P | L | R, "rvale3os"),
    (k(6, 8, 6, 1), TLBI, A | P | L | R, "rvae3"),
    (k(6, 8, 6, 5), TLBI, A | P | L | R, "rvale3"),
    (k(6, 8, 7, 0), TLBI, A | L, "alle3"),
    (k(6, 8, 7, 1), TLBI, A | P | L | R, "vae3"),
    (k(6, 8, 7, 4), TLBI, A | L, "paall"),
    (k(6, 8, 7, 5), TLBI, A | P | L | R, "vale3"),
    (k(6, 9, 1, 0), TLBI, A | L, "alle3osnxs"),
    (k(6, 9, 1, 1), TLBI, A | P | L | R, "vae3osnxs"),
    (k(6, 9, 1, 4), TLBI, L, "paallosnxs"),
    (k(6, 9, 1, 5), TLBI, A | P | L | R, "vale3osnxs"),
    (k(6, 9, 2, 1), TLBI, A | P | L | R, "rvae3isnxs"),
    (k(6, 9, 2, 5), TLBI, A | P | L | R, "rvale3isnxs"),
    (k(6, 9, 3, 0), TLBI, A | L, "alle3isnxs"),
    (k(6, 9, 3, 1), TLBI, A | P | L | R, "vae3isnxs"),
    (k(6, 9, 3, 5), TLBI, A | P | L | R, "vale3isnxs"),
    (k(6, 9, 4, 3), TLBI, L | R, "rpaosnxs"),
    (k(6, 9, 4, 7), TLBI, L | R, "rpalosnxs"),
    (k(6, 9, 5, 1), TLBI, A | P | L | R, "rvae3osnxs"),
    (k(6, 9, 5, 5), TLBI, A | P | L | R, "rvale3osnxs"),
    (k(6, 9, 6, 1), TLBI, A | P | L | R, "rvae3nxs"),
    (k(6, 9, 6, 5), TLBI, A | P | L | R, "rvale3nxs"),
    (k(6, 9, 7, 0), TLBI, A | L, "alle3nxs"),
    (k(6, 9, 7, 1), TLBI, A | P | L | R, "vae3nxs"),
    (k(6, 9, 7, 4), TLBI, L, "paallnxs"),
    (k(6, 9, 7, 5), TLBI, A | P | L | R, "vale3nxs"),
];

/// Finds the [`SYS_OPS`] row of an `op1:CRn:CRm:op2` encoding, masking each field first.
fn sys_op_row(op1: u64, CRn: u64, CRm: u64, op2: u64) -> Option<(SystemOp, u8, &'static str)> {
    let key = k(
        (op1 & 7) as u16,
        (CRn & 0xf) as u16,
        (CRm & 0xf) as u16,
        (op2 & 7) as u16,
    );
    let i = SYS_OPS.binary_search_by_key(&key, |row| row.0).ok()?;
    let (_, op, flags, name) = SYS_OPS[i];
    Some((op, flags, name))
}

/// Classifies the system instruction `SYS #op1, Cn, Cm, #op2`.
///
/// Arm shared pseudocode `SysOp()` (`impl-aarch64.SysOp.4`), 2022-12 table: AT, BRB IALL and INJ,
/// DC, IC and TLBI including the `FEAT_XS` nXS forms. It never returns [`SystemOp::Sys_TLBIP`]; for
/// SYSP call [`SysOp128`].
pub fn SysOp(op1: u64, CRn: u64, CRm: u64, op2: u64) -> SystemOp {
    match sys_op_row(op1, CRn, CRm, op2) {
        Some((op, flags, _)) if flags & A != 0 => op,
        _ => SystemOp::Sys_SYS,
    }
}

/// Classifies the 128-bit system instruction `SYSP #op1, Cn, Cm, #op2`.
///
/// The 2022-12 XML calls this `SysOp()` too, but with the result type `SystemOp128 {Sys_TLBIP,
/// Sys_SYSP}` (`tlbip_sysp.xml`); later releases name it `SysOp128()`. It returns
/// [`SystemOp::Sys_TLBIP`] for the `FEAT_D128` TLBIP operations and [`SystemOp::Sys_SYS`] (for
/// `Sys_SYSP`) otherwise.
pub fn SysOp128(op1: u64, CRn: u64, CRm: u64, op2: u64) -> SystemOp {
    match sys_op_row(op1, CRn, CRm, op2) {
        Some((_, flags, _)) if flags & P != 0 => SystemOp::Sys_TLBIP,
        _ => SystemOp::Sys_SYS,
    }
}

/// Returns the lowercase operation name LLVM prints for a SYS alias (AT, BRB, DC, IC or TLBI).
///
/// `None` means LLVM prints the plain `sys` form, which happens for DC CIPAPA and CIGDPAPA
/// although the ASL names them. LLVM names a few operations the 2022-12 ASL does not: AT S1E1A,
/// S1E2A and S1E3A, TLBI VMALLWS2E1* and the nXS forms of TLBI PAALL, PAALLOS, RPAOS and RPALOS.
/// LLVM prints the BRB names only when `Rt` is 31. See [`sys_op_takes_register`] for the operand.
pub fn SysOpName(op1: u64, CRn: u64, CRm: u64, op2: u64) -> Option<&'static str> {
    match sys_op_row(op1, CRn, CRm, op2) {
        Some((_, flags, name)) if flags & L != 0 => Some(name),
        _ => None,
    }
}

/// Returns the group LLVM prints for a SYS alias; the mnemonic is its name without `Sys_`, lowercased.
///
/// This differs from [`SysOp`] exactly where [`SysOpName`] and the ASL disagree.
pub fn llvm_sys_op(op1: u64, CRn: u64, CRm: u64, op2: u64) -> SystemOp {
    match sys_op_row(op1, CRn, CRm, op2) {
        Some((op, flags, _)) if flags & L != 0 => op,
        _ => SystemOp::Sys_SYS,
    }
}

/// Tells whether LLVM prints `, Xt` after a named SYS alias.
///
/// LLVM prints the register for every AT and DC operation and for the TLBI and IC operations that
/// take an address; for the others (such as `ic iallu` or `tlbi vmalle1`) it drops the register
/// even when `Rt` is not 31. TLBIP always prints its register pair.
pub fn sys_op_takes_register(op1: u64, CRn: u64, CRm: u64, op2: u64) -> bool {
    matches!(
        sys_op_row(op1, CRn, CRm, op2),
        Some((_, flags, _)) if flags & (L | R) == L | R
    )
}

/// Returns the lowercase operation name LLVM prints for a TLBIP alias of SYSP.
///
/// LLVM 19 prints `tlbip` for every TLBI operation with `CRn` of 8, even those without an
/// address such as `tlbip vmalle1, x0, x1`, and never for the nXS forms (`CRn` of 9), which it
/// prints as `sysp`.
pub fn SysOp128Name(op1: u64, CRn: u64, CRm: u64, op2: u64) -> Option<&'static str> {
    if CRn & 0xf != 8 {
        return None;
    }
    match sys_op_row(op1, CRn, CRm, op2) {
        Some((TLBI, flags, name)) if flags & L != 0 => Some(name),
        _ => None,
    }
}

/// Formats the 8-bit floating-point immediate of FMOV as LLVM prints it, e.g. `#1.00000000`.
///
/// LLVM prints the value of [`VFPExpandImm`] with eight decimals, whatever the register width,
/// for the scalar (`h`, `s`, `d`), vector and SVE forms alike.
pub fn fp_imm_text(imm8: u64) -> String {
    format!("#{:.8}", f64::from_bits(VFPExpandImm(imm8, 64)))
}

/// Formats any other floating-point constant as LLVM prints it, e.g. `#0.5`, `#1.0` or `#0.0`.
///
/// This covers the SVE FADD, FSUB, FSUBR, FMUL, FMAX, FMIN, FMAXNM and FMINNM immediates (0.5,
/// 1.0, 2.0, 0.0) and the `#0.0` of FCMP and the compare-with-zero forms. Whole numbers keep one
/// decimal and others print in shortest form.
pub fn fp_value_text(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("#{f:.1}")
    } else {
        format!("#{f}")
    }
}

/// Formats a bitmask immediate as LLVM prints it for AND, ORR, EOR, ANDS and TST, e.g. `#0xffff`.
///
/// `regsize` is the width LLVM prints the value at: 32 or 64 for the general-purpose forms, and
/// for SVE the element size of the printed arrangement (8, 16, 32 or 64). The value is the
/// `wmask` of [`DecodeBitMasks`] cut to `regsize` bits, in lowercase hex without padding. The
/// result is `None` for a reserved encoding, an element wider than `regsize` (such as `immN` of
/// 1 with a 32-bit register) or another `regsize`.
pub fn logical_imm_text(immN: u64, immr: u64, imms: u64, regsize: u32) -> Option<String> {
    let value = logical_imm_value(immN, immr, imms, regsize)?;
    Some(format!("#{value:#x}"))
}

/// Decodes a bitmask immediate cut to `regsize` bits, as [`logical_imm_text`] prints it.
fn logical_imm_value(immN: u64, immr: u64, imms: u64, regsize: u32) -> Option<u64> {
    if !matches!(regsize, 8 | 16 | 32 | 64) || bitmask_esize(immN, imms)? > regsize {
        return None;
    }
    let (wmask, _) = DecodeBitMasks(immN, imms, immr, true, 64)?;
    Some(wmask & ones(regsize))
}

/// Returns the SVE element size in bits (8, 16, 32 or 64) that LLVM prints for `imm13`.
///
/// This is the `<T>` of the SVE bitmask-immediate forms (AND, ORR, EOR, DUPM and their aliases):
/// the element size of the pattern, raised to at least 8. A reserved `imm13` gives `None`.
pub fn sve_logical_imm_esize(imm13: u64) -> Option<u32> {
    DecodeBitMasks(imm13 >> 12, imm13, imm13 >> 6, true, 64)?;
    Some(bitmask_esize(imm13 >> 12, imm13)?.max(8))
}

/// Formats the immediate of `mov <Zd>.<T>, #imm`, the MOV alias of SVE DUPM, as LLVM prints it.
///
/// `esize` is the element size from [`sve_logical_imm_esize`]. LLVM prints an element value that
/// fits 16 bits (signed, else unsigned) in decimal and then adds an end-of-line comment with the
/// value in hex, sign-extended to 64 bits when it was printed signed, e.g. `#-4081` with
/// `=0xfffffffffffff00f`; see [`with_llvm_comment`]. It prints any other value in hex without a
/// comment. The result is the operand and the comment text, or `None` as for
/// [`logical_imm_text`].
pub fn sve_mov_mask_imm_text(
    immN: u64,
    immr: u64,
    imms: u64,
    esize: u32,
) -> Option<(String, Option<String>)> {
    let value = logical_imm_value(immN, immr, imms, esize)?;
    let sign_bit = 1u64 << (esize - 1);
    let signed = if value & sign_bit != 0 {
        (value | !ones(esize)) as i64
    } else {
        value as i64
    };
    if signed == i64::from(signed as i16) {
        Some((format!("#{signed}"), Some(format!("={:#x}", signed as u64))))
    } else if value <= 0xffff {
        Some((format!("#{value}"), Some(format!("={value:#x}"))))
    } else {
        Some((format!("#{value:#x}"), None))
    }
}

/// Formats the 64-bit immediate of `movi <Dd>, #imm` and `movi <Vd>.2d, #imm` as LLVM prints it.
///
/// The value is `AdvSIMDExpandImm('1', '1110', imm8)` printed with C's `%#016llx`: the `0x`
/// counts toward the width of 16, so `0xff` prints as `#0x000000000000ff`, and zero prints as
/// `#0000000000000000` without the prefix.
pub fn movi_imm64_text(imm8: u64) -> String {
    let value = AdvSIMDExpandImm(1, 0b1110, imm8);
    if value == 0 {
        "#0000000000000000".to_string()
    } else {
        format!("#{value:#016x}")
    }
}

/// Appends an LLVM end-of-line comment to a disassembled line, as `llvm-mc` lays it out.
///
/// `line` is the instruction without the leading tab, such as `"mov\tw0, #-1"`, and `comment` is
/// the comment text, such as `"=0xffffffff"`. LLVM pads with spaces to column 40 and then writes
/// `// ` and the comment. Its column count gives each character one column, and a tab moves to
/// the next multiple of 8 but does nothing when the column already is one (so the leading tab
/// and the tab after an 8-letter mnemonic count as nothing). At least one space is written.
pub fn with_llvm_comment(line: &str, comment: &str) -> String {
    let mut column = 0usize;
    for c in line.chars() {
        if c == '\t' {
            column += (8 - (column & 7)) & 7;
        } else {
            column += 1;
        }
    }
    let pad = 40usize.saturating_sub(column).max(1);
    let mut out = String::with_capacity(line.len() + pad + comment.len() + 3);
    out.push_str(line);
    out.extend(std::iter::repeat_n(' ', pad));
    let _ = write!(out, "// {comment}");
    out
}

#[cfg(test)]
mod tests {
    use super::SystemOp::*;
    use super::*;

    fn check<I: std::fmt::Debug + Copy, O: PartialEq + std::fmt::Debug>(
        f: impl Fn(I) -> O,
        cases: &[(I, O)],
    ) {
        for (input, expected) in cases {
            assert_eq!(f(*input), *expected, "input {input:?}");
        }
    }

    /// Values that overflow every field width, to show that no function panics.
    const WIDE: [u64; 6] = [0, 1, 0x3f, 0x40, 0x1fff, u64::MAX];

    #[test]
    fn wide_inputs_do_not_panic() {
        for a in WIDE {
            for b in WIDE {
                for c in WIDE {
                    for m in [0, 1, 8, 16, 32, 48, 64, 128, u32::MAX] {
                        let _ = DecodeBitMasks(a, b, c, true, m);
                        let _ = VFPExpandImm(a, m);
                        let _ = logical_imm_text(a, b, c, m);
                        let _ = sve_mov_mask_imm_text(a, b, c, m);
                    }
                    let _ = BFXPreferred(a, b, c, a);
                    let _ = MoveWidePreferred(a, b, c, a);
                    let _ = AdvSIMDExpandImm(a, b, c);
                    let _ = (SysOp(a, b, c, a), SysOp128(a, b, c, a));
                    let _ = (SysOpName(a, b, c, a), SysOp128Name(a, b, c, a));
                    let _ = (llvm_sys_op(a, b, c, a), sys_op_takes_register(a, b, c, a));
                }
            }
            let _ = (SVEMoveMaskPreferred(a), sve_logical_imm_esize(a));
            let _ = (fp_imm_text(a), movi_imm64_text(a), fp_value_text(a as f64));
        }
        let _ = fp_value_text(f64::NAN);
        let _ = with_llvm_comment("", "");
    }

    #[test]
    fn replicate_matches_a_loop() {
        for m in [32u32, 64] {
            for esize in (1..=6).map(|k| 1u32 << k).filter(|&e| e <= m) {
                for x in [0u64, 1, 0b10, 0x5a, 0xffff_ffff_ffff_ffff, 0x8000_0001] {
                    let mut want = 0u64;
                    let mut pos = 0;
                    while pos < m {
                        want |= (x & ones(esize)) << pos;
                        pos += esize;
                    }
                    assert_eq!(replicate(x, esize, m), want, "{x:#x} {esize} {m}");
                }
            }
        }
    }

    #[test]
    fn decode_bit_masks() {
        let f = |(n, s, r, imm, m)| DecodeBitMasks(n, s, r, imm, m);
        check(
            f,
            &[
                // `and w0, w0, #0xffff` encodes N=0, immr=0, imms=15.
                ((0, 15, 0, true, 32), Some((0xffff, 0xffff))),
                ((0, 0, 0, true, 64), Some((0x1_0000_0001, 0x1_0000_0001))),
                ((1, 5, 0, true, 64), Some((0x3f, 0x3f))),
                // `and x0, x0, #0xe00000000000001f` encodes N=1, immr=3, imms=7.
                ((1, 7, 3, true, 64), Some((0xe000_0000_0000_001f, 0x1f))),
                // `and w0, w0, #0x55555555` encodes N=0, immr=2, imms=60.
                ((0, 60, 2, true, 32), Some((0x5555_5555, 0x5555_5555))),
                // UBFM w0, w1, #8, #15, that is `ubfx w0, w1, #8, #8`.
                ((0, 15, 8, false, 32), Some((0xff00_00ff, 0xff))),
                // UBFM x0, x1, #63, #62 and the all-ones `imms` of a bitfield.
                ((1, 63, 0, false, 64), Some((u64::MAX, u64::MAX))),
                ((1, 63, 0, true, 64), None),
                ((0, 63, 0, true, 64), None),
                ((0, 0x3e, 0, true, 64), None),
                ((1, 0, 0, true, 32), None),
                ((0, 0, 0, true, 48), None),
                (
                    (u64::MAX, u64::MAX, u64::MAX, false, 64),
                    Some((u64::MAX, 1)),
                ),
            ],
        );
    }

    #[test]
    fn bfx_preferred() {
        // Each expectation is the mnemonic llvm-mc-19 prints for the SBFM or UBFM encoding.
        check(
            |(sf, uns, imms, immr)| BFXPreferred(sf, uns, imms, immr),
            &[
                // ubfx w0, w1, #8, #8
                ((0, 1, 15, 8), true),
                // lsr w0, w1, #8
                ((0, 1, 31, 8), false),
                // ubfiz w0, w1, #24, #8
                ((0, 1, 7, 8), false),
                // uxtb w0, w1
                ((0, 1, 7, 0), false),
                // sxtw x0, w1
                ((1, 0, 31, 0), false),
                // ubfx x0, x1, #0, #32
                ((1, 1, 31, 0), true),
                // sbfx x0, x1, #0, #17
                ((1, 0, 16, 0), true),
                // asr x0, x1, #4
                ((1, 0, 63, 4), false),
            ],
        );
    }

    #[test]
    fn move_wide_preferred() {
        // Each expectation is whether llvm-mc-19 prints ORR with ZR as `orr` rather than `mov`.
        check(
            |(sf, n, imms, immr)| MoveWidePreferred(sf, n, imms, immr),
            &[
                // orr w0, wzr, #0x1
                ((0, 0, 0, 0), true),
                // orr w0, wzr, #0x80000000
                ((0, 0, 0, 1), true),
                // mov w0, #1431655765
                ((0, 0, 60, 2), false),
                // orr w0, wzr, #0xffffc00f
                ((0, 0, 21, 18), true),
                // orr x0, xzr, #0x3f
                ((1, 1, 5, 0), true),
                // mov x0, #-2305843009213693921
                ((1, 1, 7, 3), false),
                // mov x0, #4294967297 has a 32-bit element.
                ((1, 0, 0, 0), false),
                // orr w0, wzr, #0x1ffff and orr w0, wzr, #0xfffeffff, which MOVN can write.
                ((0, 0, 16, 0), true),
                ((0, 0, 30, 15), true),
                // orr x0, xzr, #0xffffffff0000ffff
                ((1, 1, 47, 32), true),
                // mov x0, #1125899906711552
                ((1, 1, 32, 47), false),
            ],
        );
    }

    #[test]
    fn sve_move_mask_preferred() {
        // Each expectation is whether llvm-mc-19 prints DUPM as `mov` rather than `dupm`.
        check(
            SVEMoveMaskPreferred,
            &[
                // dupm z0.s, #0x1
                (0b0_000000_000000, false),
                // dupm z0.b, #0x55
                (0b0_000010_111100, false),
                // mov z0.d, #0xe00000000000001f
                (0b1_000011_000111, true),
                // mov z0.h, #992
                (0b0_001011_100100, true),
                // mov z0.s, #448
                (0b0_011010_000010, true),
                // dupm z0.d, #0x1
                (0b1_000000_000000, false),
                // A reserved encoding.
                (0b0_000000_111111, false),
            ],
        );
    }

    #[test]
    fn vfp_expand_imm() {
        check(
            |(imm8, n)| VFPExpandImm(imm8, n),
            &[
                ((0x70, 32), 1.0f32.to_bits().into()),
                ((0x70, 64), 1.0f64.to_bits()),
                ((0x00, 64), 2.0f64.to_bits()),
                ((0xc0, 64), (-0.125f64).to_bits()),
                ((0x70, 16), 0x3c00),
                ((0xff, 16), 0xbfc0),
                ((0x7f, 32), 1.9375f32.to_bits().into()),
                ((0x70, 8), 0),
            ],
        );
    }

    #[test]
    fn adv_simd_expand_imm() {
        check(
            |(op, cmode, imm8)| AdvSIMDExpandImm(op, cmode, imm8),
            &[
                ((0, 0b0000, 0xab), 0x0000_00ab_0000_00ab),
                ((0, 0b0010, 0xab), 0x0000_ab00_0000_ab00),
                ((0, 0b0100, 0xab), 0x00ab_0000_00ab_0000),
                ((0, 0b0110, 0xab), 0xab00_0000_ab00_0000),
                ((0, 0b1000, 0xab), 0x00ab_00ab_00ab_00ab),
                ((0, 0b1010, 0xab), 0xab00_ab00_ab00_ab00),
                ((0, 0b1100, 0xab), 0x0000_abff_0000_abff),
                ((0, 0b1101, 0xab), 0x00ab_ffff_00ab_ffff),
                ((0, 0b1110, 0xab), 0xabab_abab_abab_abab),
                ((1, 0b1110, 0xa5), 0xff00_ff00_00ff_00ff),
                // fmov v0.4s, #1.0 and fmov v0.2d, #1.0
                ((0, 0b1111, 0x70), 0x3f80_0000_3f80_0000),
                ((1, 0b1111, 0x70), 0x3ff0_0000_0000_0000),
            ],
        );
    }

    #[test]
    fn sys_op() {
        check(
            |(op1, crn, crm, op2)| SysOp(op1, crn, crm, op2),
            &[
                ((3, 7, 14, 1), Sys_DC),
                ((6, 7, 14, 1), Sys_DC),
                ((0, 7, 8, 0), Sys_AT),
                ((0, 7, 9, 2), Sys_SYS),
                ((3, 7, 5, 1), Sys_IC),
                ((1, 7, 2, 4), Sys_BRB),
                ((0, 8, 3, 1), Sys_TLBI),
                ((0, 9, 3, 1), Sys_TLBI),
                ((4, 8, 6, 2), Sys_SYS),
                ((0, 7, 5, 1), Sys_SYS),
                ((u64::MAX, u64::MAX, u64::MAX, u64::MAX), Sys_SYS),
            ],
        );
        check(
            |(op1, crn, crm, op2)| SysOp128(op1, crn, crm, op2),
            &[
                ((0, 8, 7, 1), Sys_TLBIP),
                ((0, 9, 1, 1), Sys_TLBIP),
                ((0, 8, 7, 0), Sys_SYS),
                ((0, 8, 7, 2), Sys_SYS),
                ((6, 8, 4, 3), Sys_SYS),
            ],
        );
    }

    #[test]
    fn sys_op_name() {
        // Expectations come from llvm-mc-19 output for `sys` with x0 and with xzr.
        check(
            |(op1, crn, crm, op2)| {
                let name = SysOpName(op1, crn, crm, op2);
                let reg = sys_op_takes_register(op1, crn, crm, op2);
                (llvm_sys_op(op1, crn, crm, op2), name, reg)
            },
            &[
                // dc civac, x0
                ((3, 7, 14, 1), (Sys_DC, Some("civac"), true)),
                // sys #6, c7, c14, #1, x0
                ((6, 7, 14, 1), (Sys_SYS, None, false)),
                // tlbi vae1is, x0
                ((0, 8, 3, 1), (Sys_TLBI, Some("vae1is"), true)),
                // tlbi vmalle1 (also for x0)
                ((0, 8, 7, 0), (Sys_TLBI, Some("vmalle1"), false)),
                // tlbi vae1osnxs, x0
                ((0, 9, 1, 1), (Sys_TLBI, Some("vae1osnxs"), true)),
                // tlbi vmallws2e1
                ((4, 8, 6, 2), (Sys_TLBI, Some("vmallws2e1"), false)),
                // at s1e1r, x0
                ((0, 7, 8, 0), (Sys_AT, Some("s1e1r"), true)),
                // at s1e1a, x0
                ((0, 7, 9, 2), (Sys_AT, Some("s1e1a"), true)),
                // ic ivau, x0
                ((3, 7, 5, 1), (Sys_IC, Some("ivau"), true)),
                // ic iallu (also for x0)
                ((0, 7, 5, 0), (Sys_IC, Some("iallu"), false)),
                // brb iall (only for xzr)
                ((1, 7, 2, 4), (Sys_BRB, Some("iall"), false)),
                ((1, 7, 2, 5), (Sys_BRB, Some("inj"), false)),
                // cfp rctx, x0 is a separate alias.
                ((3, 7, 3, 4), (Sys_SYS, None, false)),
            ],
        );
        check(
            |(op1, crn, crm, op2)| SysOp128Name(op1, crn, crm, op2),
            &[
                // tlbip vae1os, x0, x1
                ((0, 8, 1, 1), Some("vae1os")),
                // tlbip vmalle1, x0, x1
                ((0, 8, 7, 0), Some("vmalle1")),
                // sysp #0, c9, c1, #1, x0, x1
                ((0, 9, 1, 1), None),
                ((0, 7, 8, 0), None),
            ],
        );
    }

    #[test]
    fn fp_imm() {
        check(
            fp_imm_text,
            &[
                // fmov s0, #1.00000000
                (0x70, "#1.00000000".to_string()),
                // fmov d0, #-0.12500000
                (0xc0, "#-0.12500000".to_string()),
                // fmov h0, #2.00000000
                (0x00, "#2.00000000".to_string()),
                // fmov s0, #0.15625000
                (68, "#0.15625000".to_string()),
                // fmov s0, #-27.00000000
                (187, "#-27.00000000".to_string()),
                // fmov v0.4s, #-1.93750000
                (255, "#-1.93750000".to_string()),
                // fmov s0, #31.00000000
                (0x3f, "#31.00000000".to_string()),
                // fmov s0, #0.13281250
                (0x41, "#0.13281250".to_string()),
            ],
        );
    }

    #[test]
    fn fp_value() {
        check(
            fp_value_text,
            &[
                // fadd z0.s, p0/m, z0.s, #0.5
                (0.5, "#0.5".to_string()),
                // fadd z0.s, p0/m, z0.s, #1.0
                (1.0, "#1.0".to_string()),
                // fmul z0.s, p0/m, z0.s, #2.0
                (2.0, "#2.0".to_string()),
                // fcmp s0, #0.0 and fmax z0.s, p0/m, z0.s, #0.0
                (0.0, "#0.0".to_string()),
                (-0.25, "#-0.25".to_string()),
            ],
        );
    }

    #[test]
    fn logical_imm() {
        let f = |(n, r, s, size)| logical_imm_text(n, r, s, size);
        check(
            f,
            &[
                // and w0, w0, #0xffff
                ((0, 0, 15, 32), Some("#0xffff".to_string())),
                // and w0, w0, #0x1
                ((0, 0, 0, 32), Some("#0x1".to_string())),
                // and x0, x0, #0x100000001
                ((0, 0, 0, 64), Some("#0x100000001".to_string())),
                // and x0, x0, #0xe00000000000001f
                ((1, 3, 7, 64), Some("#0xe00000000000001f".to_string())),
                // and w0, w0, #0x55555555
                ((0, 2, 60, 32), Some("#0x55555555".to_string())),
                // orr w0, wzr, #0xffffc00f
                ((0, 18, 21, 32), Some("#0xffffc00f".to_string())),
                // and z0.b, z0.b, #0x55
                ((0, 2, 60, 8), Some("#0x55".to_string())),
                // and z0.s, z0.s, #0x1
                ((0, 0, 0, 32), Some("#0x1".to_string())),
                ((1, 0, 0, 32), None),
                ((0, 0, 0, 16), None),
                ((0, 0, 63, 64), None),
                ((0, 0, 0, 12), None),
            ],
        );
    }

    #[test]
    fn sve_logical_imm() {
        check(
            sve_logical_imm_esize,
            &[
                // and z0.s, z0.s, #0x1
                (0b0_000000_000000, Some(32)),
                // and z0.b, z0.b, #0x55
                (0b0_000010_111100, Some(8)),
                // and z0.h, z0.h, #0x3e0
                (0b0_001011_100100, Some(16)),
                // and z0.d, z0.d, #0x1
                (0b1_000000_000000, Some(64)),
                (0b0_000000_111111, None),
            ],
        );
        let f = |(n, r, s, esize)| sve_mov_mask_imm_text(n, r, s, esize);
        let text = |a: &str, b: Option<&str>| Some((a.to_string(), b.map(str::to_string)));
        check(
            f,
            &[
                // mov z0.h, #-4081 // =0xfffffffffffff00f
                ((0, 4, 39, 16), text("#-4081", Some("=0xfffffffffffff00f"))),
                // mov z0.h, #992 // =0x3e0
                ((0, 11, 36, 16), text("#992", Some("=0x3e0"))),
                // mov z0.s, #-16385 // =0xffffffffffffbfff
                (
                    (0, 17, 30, 32),
                    text("#-16385", Some("=0xffffffffffffbfff")),
                ),
                // mov z0.d, #4094 // =0xffe
                ((1, 63, 10, 64), text("#4094", Some("=0xffe"))),
                // mov z0.d, #0xe00000000000001f
                ((1, 3, 7, 64), text("#0xe00000000000001f", None)),
                ((1, 3, 7, 32), None),
            ],
        );
    }

    #[test]
    fn movi_imm64() {
        check(
            movi_imm64_text,
            &[
                // movi d0, #0000000000000000
                (0x00, "#0000000000000000".to_string()),
                // movi v0.2d, #0x000000000000ff
                (0x01, "#0x000000000000ff".to_string()),
                // movi v0.2d, #0xffffffffffffffff
                (0xff, "#0xffffffffffffffff".to_string()),
                // movi v0.2d, #0xff00ff0000ff00ff
                (0xa5, "#0xff00ff0000ff00ff".to_string()),
                // movi d0, #0xff000000000000
                (0x40, "#0xff000000000000".to_string()),
            ],
        );
    }

    #[test]
    fn llvm_comment() {
        check(
            |(line, comment)| with_llvm_comment(line, comment),
            &[
                (
                    ("mov\tw0, #-1", "=0xffffffff"),
                    "mov\tw0, #-1                         // =0xffffffff".to_string(),
                ),
                (
                    ("mov\tx0, #-2305843009213693921", "=0xe00000000000001f"),
                    "mov\tx0, #-2305843009213693921       // =0xe00000000000001f".to_string(),
                ),
                (
                    ("mov\tz0.h, #-4081", "=0xfffffffffffff00f"),
                    "mov\tz0.h, #-4081                    // =0xfffffffffffff00f".to_string(),
                ),
            ],
        );
    }
}
