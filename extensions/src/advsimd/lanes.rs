//! Element-wise integer operations on a whole 64-bit half of a vector register, as Rust
//! helpers ([`Sem::call`]) that both backends run. Taking a half apart into lanes with the op
//! table and packing it again costs dozens of operations per instruction; a helper does the
//! same lane loop in a few host instructions. The element operations follow the pseudocode
//! of the instructions that use them (`CMEQ`, `UMAXP`, `SHRN`, ...).

use armature_core::cpu::Cpu;
pub(crate) use armature_core::sem::LaneOp;
use armature_core::sem::{BinOp, Sem};

use super::ones;

/// The operation on two zero-extended `esize`-bit elements; the caller cuts the result to
/// `esize` bits.
#[inline(always)]
fn elem(op: LaneOp, esize: u32, x: u64, y: u64) -> u64 {
    let mask = |t: bool| if t { u64::MAX } else { 0 };
    let sext = |v: u64| ((v << (64 - esize)) as i64) >> (64 - esize);
    match op {
        LaneOp::Add => x.wrapping_add(y),
        LaneOp::Sub => x.wrapping_sub(y),
        LaneOp::Cmeq => mask(x == y),
        LaneOp::Cmtst => mask(x & y != 0),
        LaneOp::Cmhs => mask(x >= y),
        LaneOp::Cmhi => mask(x > y),
        LaneOp::Cmge => mask(sext(x) >= sext(y)),
        LaneOp::Cmgt => mask(sext(x) > sext(y)),
        LaneOp::Umax => x.max(y),
        LaneOp::Umin => x.min(y),
    }
}

/// `f` on each pair of `E`-bit elements of `a` and `b`.
#[inline(always)]
fn map<const E: u32>(a: u64, b: u64, f: impl Fn(u64, u64) -> u64) -> u64 {
    let m = ones(E);
    let mut r = 0;
    let mut i = 0;
    while i < 64 {
        r |= (f((a >> i) & m, (b >> i) & m) & m) << i;
        i += E;
    }
    r
}

/// `op` on each pair of `E`-bit elements, with the operation chosen once, outside the loop.
#[inline(always)]
fn map_op<const E: u32>(op: LaneOp, a: u64, b: u64) -> u64 {
    match op {
        LaneOp::Add => map::<E>(a, b, |x, y| elem(LaneOp::Add, E, x, y)),
        LaneOp::Sub => map::<E>(a, b, |x, y| elem(LaneOp::Sub, E, x, y)),
        LaneOp::Cmeq => map::<E>(a, b, |x, y| elem(LaneOp::Cmeq, E, x, y)),
        LaneOp::Cmtst => map::<E>(a, b, |x, y| elem(LaneOp::Cmtst, E, x, y)),
        LaneOp::Cmhs => map::<E>(a, b, |x, y| elem(LaneOp::Cmhs, E, x, y)),
        LaneOp::Cmhi => map::<E>(a, b, |x, y| elem(LaneOp::Cmhi, E, x, y)),
        LaneOp::Cmge => map::<E>(a, b, |x, y| elem(LaneOp::Cmge, E, x, y)),
        LaneOp::Cmgt => map::<E>(a, b, |x, y| elem(LaneOp::Cmgt, E, x, y)),
        LaneOp::Umax => map::<E>(a, b, |x, y| elem(LaneOp::Umax, E, x, y)),
        LaneOp::Umin => map::<E>(a, b, |x, y| elem(LaneOp::Umin, E, x, y)),
    }
}

/// `op` element by element on the 64-bit halves `a` and `b`.
pub(crate) fn lanewise(op: LaneOp, esize: u32, a: u64, b: u64) -> u64 {
    match esize {
        8 => bytes(op, a, b),
        _ => lanewise_portable(op, esize, a, b),
    }
}

/// [`lanewise`] one element at a time, for every host.
fn lanewise_portable(op: LaneOp, esize: u32, a: u64, b: u64) -> u64 {
    match esize {
        8 => map_op::<8>(op, a, b),
        16 => map_op::<16>(op, a, b),
        32 => map_op::<32>(op, a, b),
        _ => map_op::<64>(op, a, b),
    }
}

/// [`lanewise`] on bytes: on x86-64 one SSE2 operation (every x86-64 has SSE2), as glibc's
/// string functions run CMEQ, CMHS, UMAXP and friends on bytes in their inner loops.
#[cfg(target_arch = "x86_64")]
fn bytes(op: LaneOp, a: u64, b: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_add_epi8, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cvtsi128_si64,
        _mm_cvtsi64_si128, _mm_max_epu8, _mm_min_epu8, _mm_set1_epi8, _mm_setzero_si128,
        _mm_sub_epi8, _mm_xor_si128,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, so every x86-64 host has it.
    unsafe {
        let (x, y) = (_mm_cvtsi64_si128(a as i64), _mm_cvtsi64_si128(b as i64));
        let not = |v| _mm_xor_si128(v, _mm_set1_epi8(-1));
        let r = match op {
            LaneOp::Add => _mm_add_epi8(x, y),
            LaneOp::Sub => _mm_sub_epi8(x, y),
            LaneOp::Cmeq => _mm_cmpeq_epi8(x, y),
            LaneOp::Cmtst => not(_mm_cmpeq_epi8(_mm_and_si128(x, y), _mm_setzero_si128())),
            // Unsigned x >= y exactly when max(x, y) is x.
            LaneOp::Cmhs => _mm_cmpeq_epi8(_mm_max_epu8(x, y), x),
            LaneOp::Cmhi => not(_mm_cmpeq_epi8(_mm_max_epu8(y, x), y)),
            LaneOp::Cmge => not(_mm_cmpgt_epi8(y, x)),
            LaneOp::Cmgt => _mm_cmpgt_epi8(x, y),
            LaneOp::Umax => _mm_max_epu8(x, y),
            LaneOp::Umin => _mm_min_epu8(x, y),
        };
        _mm_cvtsi128_si64(r) as u64
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn bytes(op: LaneOp, a: u64, b: u64) -> u64 {
    map_op::<8>(op, a, b)
}

/// The pairwise form over the 128 bits `hi:lo`: result element `e` is
/// `op(concat[2e], concat[2e+1])`, so the pairs of `lo` fill the low half of the result.
pub(crate) fn pairwise(op: LaneOp, esize: u32, lo: u64, hi: u64) -> u64 {
    if esize == 8 {
        let (even, odd) = unzip_bytes(lo, hi);
        return bytes(op, even, odd);
    }
    pairwise_portable(op, esize, lo, hi)
}

/// The even-numbered and the odd-numbered bytes of `hi:lo`, each packed into 64 bits (those
/// of `lo` low), by halving steps on 64-bit values (no 128-bit load of the two halves, which
/// would stall when they were just stored apart).
fn unzip_bytes(lo: u64, hi: u64) -> (u64, u64) {
    (
        even_bytes(lo) | even_bytes(hi) << 32,
        even_bytes(lo >> 8) | even_bytes(hi >> 8) << 32,
    )
}

/// The even-numbered bytes of `x`, packed into the low 32 bits.
fn even_bytes(x: u64) -> u64 {
    let x = x & 0x00ff_00ff_00ff_00ff;
    let x = (x | x >> 8) & 0x0000_ffff_0000_ffff;
    (x | x >> 16) & 0x0000_0000_ffff_ffff
}

/// [`even_bytes`] in the op table.
fn even_bytes_ops<S: Sem>(s: &mut S, x: S::V) -> S::V {
    let mut x = x;
    for (shift, mask) in [
        (0, 0x00ff_00ff_00ff_00ff),
        (8, 0x0000_ffff_0000_ffff),
        (16, 0x0000_0000_ffff_ffff),
    ] {
        if shift > 0 {
            let sh = s.imm(shift);
            let down = s.bin(BinOp::Lsr, x, sh);
            x = s.bin(BinOp::Or, x, down);
        }
        let m = s.imm(mask);
        x = s.bin(BinOp::And, x, m);
    }
    x
}

/// [`pairwise`] one element at a time, for every host.
fn pairwise_portable(op: LaneOp, esize: u32, lo: u64, hi: u64) -> u64 {
    if esize == 64 {
        return elem(op, 64, lo, hi);
    }
    // The even and odd elements of each half, side by side, then one element-wise step.
    let (lo_even, lo_odd) = unzip(lo, esize);
    let (hi_even, hi_odd) = unzip(hi, esize);
    let even = lo_even | hi_even << 32;
    let odd = lo_odd | hi_odd << 32;
    lanewise_portable(op, esize, even, odd)
}

/// The even-numbered and odd-numbered `esize`-bit elements of `x`, each packed into the low
/// 32 bits.
fn unzip(x: u64, esize: u32) -> (u64, u64) {
    let m = ones(esize);
    let (mut even, mut odd) = (0, 0);
    for k in 0..32 / esize {
        even |= ((x >> (2 * k * esize)) & m) << (k * esize);
        odd |= ((x >> ((2 * k + 1) * esize)) & m) << (k * esize);
    }
    (even, odd)
}

/// `(hi:lo)` as `2*esize`-bit elements, each shifted right by `shift` and cut to `esize`
/// bits, packed into 64 bits (`SHRN`).
fn shift_narrow(esize: u32, shift: u32, lo: u64, hi: u64) -> u64 {
    let wide = 2 * esize;
    let m = ones(wide);
    let per = 64 / wide;
    let mut r = 0;
    for (k, half) in [lo, hi].into_iter().enumerate() {
        for i in 0..per {
            let e = ((half >> (i * wide)) & m) >> shift;
            r |= (e & ones(esize)) << ((k as u32 * per + i) * esize);
        }
    }
    r
}

/// The two 64-bit operands of a helper, read one at a time: the backends store them apart,
/// and one 128-bit load of both (which the compiler would otherwise make of two neighbouring
/// reads) waits until the stores are done instead of taking their values at once.
fn operands(args: &[u64]) -> (u64, u64) {
    (args[0], std::hint::black_box(args[1]))
}

fn lanewise_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let (op, esize) = LaneOp::from_code(args[2]);
    let (a, b) = operands(args);
    lanewise(op, esize, a, b)
}

fn pairwise_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let (op, esize) = LaneOp::from_code(args[2]);
    let (lo, hi) = operands(args);
    pairwise(op, esize, lo, hi)
}

fn shift_narrow_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let (lo, hi) = operands(args);
    shift_narrow(args[2] as u32, args[3] as u32, lo, hi)
}

/// [`lanewise`] for semantics.
pub(crate) fn call_lanewise<S: Sem>(s: &mut S, op: LaneOp, esize: u32, a: S::V, b: S::V) -> S::V {
    s.lanes(lanewise_helper, op, esize, false, a, b)
}

/// [`pairwise`] for semantics.
pub(crate) fn call_pairwise<S: Sem>(s: &mut S, op: LaneOp, esize: u32, lo: S::V, hi: S::V) -> S::V {
    s.lanes(pairwise_helper, op, esize, true, lo, hi)
}

/// [`shift_narrow`] for semantics.
pub(crate) fn call_shift_narrow<S: Sem>(
    s: &mut S,
    esize: u32,
    shift: u32,
    lo: S::V,
    hi: S::V,
) -> S::V {
    if esize == 8 && shift <= 8 {
        // A dozen operations in the op table, which the JIT does inline (glibc's strlen and
        // memchr run `SHRN v.8b, v.8h, #4` in their loops). Shifting the whole 64-bit value
        // keeps each 16-bit element's bits shift..shift+8 in its low byte: they stay inside
        // the element, as shift + 8 <= 16.
        let sh = s.imm(u64::from(shift));
        let lo = s.bin(BinOp::Lsr, lo, sh);
        let hi = s.bin(BinOp::Lsr, hi, sh);
        let lo = even_bytes_ops(s, lo);
        let hi = even_bytes_ops(s, hi);
        let up = s.imm(32);
        let hi = s.bin(BinOp::Shl, hi, up);
        return s.bin(BinOp::Or, lo, hi);
    }
    let e = s.imm(u64::from(esize));
    let sh = s.imm(u64::from(shift));
    s.call_pure(shift_narrow_helper, &[lo, hi, e, sh])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instructions' element definitions, written apart from the helpers: unsigned
    /// values as they are, signed ones through `i128`.
    fn want(op: LaneOp, esize: u32, x: u64, y: u64) -> u64 {
        let signed = |v: u64| {
            let v = i128::from(v);
            if v >= 1 << (esize - 1) {
                v - (1 << esize)
            } else {
                v
            }
        };
        let all = |t: bool| if t { ones(esize) } else { 0 };
        let r = match op {
            LaneOp::Add => (u128::from(x) + u128::from(y)) as u64,
            LaneOp::Sub => (u128::from(x) + (1u128 << esize) - u128::from(y)) as u64,
            LaneOp::Cmeq => all(x == y),
            LaneOp::Cmtst => all(x & y != 0),
            LaneOp::Cmhs => all(x >= y),
            LaneOp::Cmhi => all(x > y),
            LaneOp::Cmge => all(signed(x) >= signed(y)),
            LaneOp::Cmgt => all(signed(x) > signed(y)),
            LaneOp::Umax => x.max(y),
            LaneOp::Umin => x.min(y),
        };
        r & ones(esize)
    }

    fn samples() -> Vec<u64> {
        let mut v = vec![0, 1, u64::MAX, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(x);
            v.push(x & 0x00ff_00ff_8080_7f7f);
        }
        v
    }

    /// Element `e` of the 128-bit `hi:lo` as `esize` bits.
    fn get(lo: u64, hi: u64, esize: u32, e: u32) -> u64 {
        let v = u128::from(hi) << 64 | u128::from(lo);
        (v >> (e * esize)) as u64 & ones(esize)
    }

    #[test]
    fn lanewise_applies_the_operation_to_each_element() {
        for op in LaneOp::ALL {
            for esize in [8, 16, 32, 64] {
                for &a in &samples() {
                    for &b in &samples()[..12] {
                        let r = lanewise(op, esize, a, b);
                        for e in 0..64 / esize {
                            let x = get(a, 0, esize, e);
                            let y = get(b, 0, esize, e);
                            assert_eq!(
                                get(r, 0, esize, e),
                                want(op, esize, x, y),
                                "{op:?} esize {esize} {a:#x} {b:#x}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn pairwise_pairs_neighbouring_elements() {
        for op in LaneOp::ALL {
            for esize in [8, 16, 32, 64] {
                for &lo in &samples()[..20] {
                    for &hi in &samples()[20..40] {
                        let r = pairwise(op, esize, lo, hi);
                        for e in 0..64 / esize {
                            let x = get(lo, hi, esize, 2 * e);
                            let y = get(lo, hi, esize, 2 * e + 1);
                            assert_eq!(
                                get(r, 0, esize, e),
                                want(op, esize, x, y),
                                "{op:?} esize {esize} element {e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_byte_paths_match_the_portable_ones() {
        let mut m = armature_core::interp::Interp::default();
        for &a in &samples() {
            for &b in &samples()[..20] {
                for shift in 1..=8 {
                    assert_eq!(
                        call_shift_narrow(&mut m, 8, shift, a, b),
                        shift_narrow(8, shift, a, b),
                        "shift_narrow in the op table {shift} {a:#x} {b:#x}"
                    );
                }
            }
        }
        for op in LaneOp::ALL {
            for &a in &samples() {
                for &b in &samples() {
                    assert_eq!(
                        lanewise(op, 8, a, b),
                        lanewise_portable(op, 8, a, b),
                        "{op:?} {a:#x} {b:#x}"
                    );
                    assert_eq!(
                        pairwise(op, 8, a, b),
                        pairwise_portable(op, 8, a, b),
                        "pairwise {op:?} {a:#x} {b:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn shift_narrow_takes_each_wide_element() {
        for esize in [8, 16, 32] {
            for shift in 1..=esize {
                for &lo in &samples()[..10] {
                    for &hi in &samples()[10..20] {
                        let r = shift_narrow(esize, shift, lo, hi);
                        for e in 0..64 / esize {
                            let want = (get(lo, hi, 2 * esize, e) >> shift) & ones(esize);
                            assert_eq!(get(r, 0, esize, e), want, "esize {esize} shift {shift}");
                        }
                    }
                }
            }
        }
    }
}
