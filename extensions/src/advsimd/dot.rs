//! FEAT_RDM (SQRDMLAH, SQRDMLSH), FEAT_DotProd (SDOT, UDOT) and FEAT_I8MM (USDOT, SUDOT,
//! SMMLA, UMMLA, USMMLA): multiply-accumulate forms added after Armv8.0.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop};

use super::int::sext;
use super::sat::{sat, Meta, SatOp};
use super::{elems, lane, set_elems, Lanes};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::SQRDMLAH_asimdsame2_only,
        E::SQRDMLSH_asimdsame2_only,
        E::SQRDMLAH_asisdsame2_only,
        E::SQRDMLSH_asisdsame2_only,
    ] {
        t.set(id, sqrdmlah::<S>);
    }
    for id in [
        E::SQRDMLAH_asimdelem_R,
        E::SQRDMLSH_asimdelem_R,
        E::SQRDMLAH_asisdelem_R,
        E::SQRDMLSH_asisdelem_R,
    ] {
        t.set(id, sqrdmlah_element::<S>);
    }
    for id in [
        E::SDOT_asimdsame2_D,
        E::UDOT_asimdsame2_D,
        E::USDOT_asimdsame2_D,
        E::SDOT_asimdelem_D,
        E::UDOT_asimdelem_D,
        E::USDOT_asimdelem_D,
        E::SUDOT_asimdelem_D,
    ] {
        t.set(id, dot::<S>);
    }
    for id in [
        E::SMMLA_asimdsame2_G,
        E::UMMLA_asimdsame2_G,
        E::USMMLA_asimdsame2_G,
    ] {
        t.set(id, mmla::<S>);
    }
}

/// SQRDMLAH, SQRDMLSH (`S`) on `elems` of `V[n]` and `m` (one element per lane) into `V[d]`.
fn rdm_common<S: Sem>(s: &mut S, d: u32, n: u32, m: &[S::V], datasize: u32, esize: u32, sub: bool) {
    let nv = elems(s, n, datasize, esize);
    let dv = elems(s, d, datasize, esize);
    let meta = Meta {
        round: true,
        sub,
        ..Meta::new(SatOp::DoublingMulAccHigh, esize, true)
    };
    let out: Lanes<S::V> = (0..nv.len())
        .map(|i| sat(s, meta, nv[i], m[i], dv[i]))
        .collect();
    set_elems(s, d, esize, &out);
}

/// SQRDMLAH, SQRDMLSH (vector and scalar): `SignedSatQ(((d << esize) +/- 2 * n * m +
/// round) >> esize)` per element, setting FPSR.QC on saturation.
pub fn sqrdmlah<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQRDMLAH_asimdsame2_only::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    if f.size == 0 || f.size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let datasize = if scalar { esize } else { 64 << f.Q };
    let m = elems(s, f.Rm, datasize, esize);
    rdm_common(s, f.Rd, f.Rn, &m, datasize, esize, f.S == 1);
    Ok(())
}

/// SQRDMLAH, SQRDMLSH (by element): the element is `Elem[V[Rm], H:L:M]` (16 bits, `Rm` 4
/// bits) or `Elem[V[M:Rm], H:L]` (32 bits).
pub fn sqrdmlah_element<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SQRDMLAH_asimdelem_R::from_word(word);
    let scalar = (word >> 28) & 1 == 1;
    let h = (word >> 11) & 1;
    let (index, rm) = match f.size {
        1 => ((h << 2) | (f.L << 1) | f.M, f.Rm),
        2 => ((h << 1) | f.L, (f.M << 4) | f.Rm),
        _ => return Err(Stop::Undefined),
    };
    let esize = 8 << f.size;
    let datasize = if scalar { esize } else { 64 << f.Q };
    let bit = index * esize;
    let half = s.v(rm, bit / 64);
    let e = lane(s, half, bit % 64, esize);
    let m = Lanes::from_elem(e, (datasize / esize) as usize);
    rdm_common(s, f.Rd, f.Rn, &m, datasize, esize, f.S == 1);
    Ok(())
}

/// SDOT, UDOT, USDOT (vector) and SDOT, UDOT, USDOT, SUDOT (by element): each 32-bit lane of
/// `V[d]` plus the four products of the bytes of `V[n]` and of `V[m]` (or of the 32-bit
/// element `Elem[V[M:Rm], H:L]`, repeated).
pub fn dot<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SDOT_asimdsame2_D::from_word(word);
    let by_element = (word >> 24) & 1 == 1;
    if f.size != 2 {
        // USDOT and SUDOT (by element) have US in the size field: 10 USDOT, 00 SUDOT.
        if !(by_element && f.size == 0) {
            return Err(Stop::Undefined);
        }
    }
    let datasize = 64 << f.Q;
    let n = elems(s, f.Rn, datasize, 8);
    // Signedness of the two operands: SDOT (U=0), UDOT (U=1), USDOT (n unsigned, m signed),
    // SUDOT (n signed, m unsigned).
    let (n_signed, m_signed) = if by_element {
        match (f.U, (word >> 12) & 0xf, f.size) {
            (0, 0b1110, _) => (true, true),
            (1, 0b1110, _) => (false, false),
            (0, 0b1111, 2) => (false, true),
            (0, 0b1111, _) => (true, false),
            _ => return Err(Stop::Undefined),
        }
    } else {
        match (f.U, f.opcode) {
            (0, 0b0010) => (true, true),
            (1, 0b0010) => (false, false),
            (0, 0b0011) => (false, true),
            _ => return Err(Stop::Undefined),
        }
    };
    let m: Lanes<S::V> = if by_element {
        let fe = fields::SDOT_asimdelem_D::from_word(word);
        let index = (fe.H << 1) | fe.L;
        let rm = (fe.M << 4) | fe.Rm;
        let half = s.v(rm, index / 2);
        let bytes: Lanes<S::V> = (0..4)
            .map(|b| lane(s, half, 32 * (index % 2) + 8 * b, 8))
            .collect();
        (0..n.len()).map(|i| bytes[i % 4]).collect()
    } else {
        elems(s, f.Rm, datasize, 8)
    };
    let d = elems(s, f.Rd, datasize, 32);
    let mut out = Lanes::new();
    for (e, &acc) in d.iter().enumerate() {
        let mut sum = acc;
        for b in 0..4 {
            let i = 4 * e + b;
            let x = if n_signed { sext(s, n[i], 8) } else { n[i] };
            let y = if m_signed { sext(s, m[i], 8) } else { m[i] };
            let p = s.bin(BinOp::Mul, x, y);
            sum = s.bin(BinOp::Add, sum, p);
        }
        out.push(sum);
    }
    set_elems(s, f.Rd, 32, &out);
    Ok(())
}

/// SMMLA, UMMLA, USMMLA: `V[d]` (a 2x2 matrix of 32-bit sums) plus the product of the 2x8
/// byte matrix `V[n]` and the transpose of the 2x8 byte matrix `V[m]`.
pub fn mmla<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SMMLA_asimdsame2_G::from_word(word);
    // B:U 00 SMMLA, 01 UMMLA, 10 USMMLA (n unsigned, m signed).
    let (n_signed, m_signed) = match (f.B, f.U) {
        (0, 0) => (true, true),
        (0, 1) => (false, false),
        (1, 0) => (false, true),
        _ => return Err(Stop::Undefined),
    };
    let n = elems(s, f.Rn, 128, 8);
    let m = elems(s, f.Rm, 128, 8);
    let d = elems(s, f.Rd, 128, 32);
    let mut out = Lanes::new();
    for i in 0..2 {
        for j in 0..2 {
            let mut sum = d[2 * i + j];
            for k in 0..8 {
                let x = n[8 * i + k];
                let x = if n_signed { sext(s, x, 8) } else { x };
                let y = m[8 * j + k];
                let y = if m_signed { sext(s, y, 8) } else { y };
                let p = s.bin(BinOp::Mul, x, y);
                sum = s.bin(BinOp::Add, sum, p);
            }
            out.push(sum);
        }
    }
    set_elems(s, f.Rd, 32, &out);
    Ok(())
}
