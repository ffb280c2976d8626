//! Advanced SIMD and scalar floating-point moves: SIMD&FP loads and stores, moves between
//! general and SIMD&FP registers, immediates and the integer vector operations C libraries use.
//!
//! Vectors are handled as two 64-bit halves through `Sem::v` and `Sem::set_v`; element-wise
//! operations split a half into lanes with shifts and masks, so they stay generic over `Sem`.

pub mod crypto;
pub mod dot;
pub mod dp;
pub mod int;
mod lanes;
pub mod ldst;
pub mod perm;
pub mod sat;

#[cfg(test)]
mod tests;

use armature_core::sem::{BinOp, Sem, SemTable};
use smallvec::SmallVec;

/// A per-instruction list of values (lanes, halves, register numbers). It lives on the stack
/// up to 32 entries, the byte lanes of two registers that a pairwise operation concatenates,
/// so executing an instruction allocates nothing; longer lists (TBL's four-register table,
/// LD4's lanes) move to the heap.
pub(crate) type Lanes<V> = SmallVec<[V; 32]>;

/// The one or two 64-bit halves of a register operand: small enough to move in registers.
/// (A SmallVec was built in memory and moved with one 128-bit load of the two halves just
/// stored apart, which waits until both stores are done: a fifth of the interpreter's time on
/// glibc's string functions.)
#[derive(Clone, Copy, Debug)]
pub(crate) struct Halves<V> {
    items: [V; 2],
    len: usize,
}

impl<V: Copy> Halves<V> {
    /// A 64-bit operand.
    pub(crate) fn one(lo: V) -> Self {
        Halves {
            items: [lo, lo],
            len: 1,
        }
    }

    /// A 128-bit operand.
    pub(crate) fn two(lo: V, hi: V) -> Self {
        Halves {
            items: [lo, hi],
            len: 2,
        }
    }

    /// `v` in each half of a 64-bit (`q` 0) or 128-bit (`q` 1) operand.
    pub(crate) fn splat(v: V, q: u32) -> Self {
        if q == 1 {
            Halves::two(v, v)
        } else {
            Halves::one(v)
        }
    }

    /// `f` of each half.
    #[inline(always)]
    pub(crate) fn map(self, mut f: impl FnMut(V) -> V) -> Self {
        let lo = f(self.items[0]);
        if self.len == 2 {
            Halves::two(lo, f(self.items[1]))
        } else {
            Halves::one(lo)
        }
    }

    /// `f` of each half of `self` and the same half of `other`, which has as many.
    #[inline(always)]
    pub(crate) fn map2(self, other: Self, mut f: impl FnMut(V, V) -> V) -> Self {
        let lo = f(self.items[0], other.items[0]);
        if self.len == 2 {
            Halves::two(lo, f(self.items[1], other.items[1]))
        } else {
            Halves::one(lo)
        }
    }
}

impl<V> std::ops::Deref for Halves<V> {
    type Target = [V];

    fn deref(&self) -> &[V] {
        &self.items[..self.len]
    }
}

/// Registers every Advanced SIMD and FP encoding armature implements.
pub fn register<S: Sem>(t: &mut SemTable<S>) {
    ldst::register(t);
    dp::register(t);
    int::register(t);
    perm::register(t);
    crypto::register(t);
    dot::register(t);
}

/// `Ones(esize)` as a decode-time mask of the low `esize` bits.
pub(crate) fn ones(esize: u32) -> u64 {
    if esize >= 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    }
}

/// `V[n]<datasize-1:0>` as its halves: one for 64 bits or fewer, else two.
pub(crate) fn read_halves<S: Sem>(s: &mut S, n: u32, datasize: u32) -> Halves<S::V> {
    let lo = s.v(n, 0);
    if datasize > 64 {
        Halves::two(lo, s.v(n, 1))
    } else {
        Halves::one(lo)
    }
}

/// `V[d] = ZeroExtend(halves)`: a 64-bit (or narrower) value zeroes the upper half.
pub(crate) fn write_halves<S: Sem>(s: &mut S, d: u32, halves: &[S::V]) {
    s.set_v(d, 0, halves[0]);
    let hi = match halves.get(1) {
        Some(&h) => h,
        None => s.imm(0),
    };
    s.set_v(d, 1, hi);
}

/// `Vpart[d, part] = v` for a narrowing result: part 0 writes the low half and zeroes the
/// high one, part 1 writes the high half only.
pub(crate) fn set_vpart<S: Sem>(s: &mut S, d: u32, part: u32, v: S::V) {
    if part == 0 {
        write_halves(s, d, &[v]);
    } else {
        s.set_v(d, 1, v);
    }
}

/// `Elem[x, e, esize]` at bit `lsb` of a 64-bit half, zero-extended.
pub(crate) fn lane<S: Sem>(s: &mut S, half: S::V, lsb: u32, esize: u32) -> S::V {
    if esize == 64 {
        return half;
    }
    let sh = s.imm(u64::from(lsb));
    let x = s.bin(BinOp::Lsr, half, sh);
    let m = s.imm(ones(esize));
    s.bin(BinOp::And, x, m)
}

/// The elements of `V[n]<datasize-1:0>`, each zero-extended, element 0 first.
pub(crate) fn elems<S: Sem>(s: &mut S, n: u32, datasize: u32, esize: u32) -> Lanes<S::V> {
    let halves = read_halves(s, n, datasize);
    let per = (datasize.min(64) / esize).max(1);
    let mut out = Lanes::new();
    for &h in halves.iter() {
        for i in 0..per {
            out.push(lane(s, h, i * esize, esize));
        }
    }
    out
}

/// Packs `esize`-bit elements (element 0 lowest) into 64-bit halves; each element is cut to
/// `esize` bits.
pub(crate) fn pack<S: Sem>(s: &mut S, lanes: &[S::V], esize: u32) -> Lanes<S::V> {
    let per = (64 / esize) as usize;
    let m = s.imm(ones(esize));
    lanes
        .chunks(per)
        .map(|chunk| {
            let mut acc = s.imm(0);
            for (i, &e) in chunk.iter().enumerate() {
                let e = if esize == 64 {
                    e
                } else {
                    s.bin(BinOp::And, e, m)
                };
                let sh = s.imm(i as u64 * u64::from(esize));
                let e = s.bin(BinOp::Shl, e, sh);
                acc = s.bin(BinOp::Or, acc, e);
            }
            acc
        })
        .collect()
}

/// `V[d] = result` for `esize`-bit elements; a result of 64 bits or fewer zeroes the rest.
pub(crate) fn set_elems<S: Sem>(s: &mut S, d: u32, esize: u32, lanes: &[S::V]) {
    let halves = pack(s, lanes, esize);
    write_halves(s, d, &halves);
}
