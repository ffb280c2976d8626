//! Permutes and element moves: ZIP1, ZIP2, TRN1, TRN2, TBL and TBX (1 to 4 table registers),
//! INS (element), SMOV and DUP (element, scalar).

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop};

use super::int::sext;
use super::{elems, lane, ones, set_elems, write_halves, Lanes};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::ZIP1_asimdperm_only,
        E::ZIP2_asimdperm_only,
        E::TRN1_asimdperm_only,
        E::TRN2_asimdperm_only,
    ] {
        t.set(id, zip_trn::<S>);
    }
    for id in [
        E::TBL_asimdtbl_L1_1,
        E::TBL_asimdtbl_L2_2,
        E::TBL_asimdtbl_L3_3,
        E::TBL_asimdtbl_L4_4,
        E::TBX_asimdtbl_L1_1,
        E::TBX_asimdtbl_L2_2,
        E::TBX_asimdtbl_L3_3,
        E::TBX_asimdtbl_L4_4,
    ] {
        t.set(id, tbl::<S>);
    }
    t.set(E::INS_asimdins_IV_v, ins_element::<S>);
    t.set(E::SMOV_asimdins_W_w, smov::<S>);
    t.set(E::SMOV_asimdins_X_x, smov::<S>);
    t.set(E::DUP_asisdone_only, dup_scalar::<S>);
}

/// ZIP1, ZIP2 (`opcode` 011) interleave the low or high halves of the elements of `V[n]` and
/// `V[m]`; TRN1, TRN2 (010) take the even or odd elements of each pair; `op` picks the part.
pub fn zip_trn<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::TRN1_asimdperm_only::from_word(word);
    if f.size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let datasize = 64 << f.Q;
    let n = elems(s, f.Rn, datasize, esize);
    let m = elems(s, f.Rm, datasize, esize);
    let part = f.op as usize;
    let pairs = n.len() / 2;
    let mut out = Lanes::with_capacity(n.len());
    for p in 0..pairs {
        match f.opcode_1_0_ {
            0b11 => {
                out.push(n[part * pairs + p]);
                out.push(m[part * pairs + p]);
            }
            0b10 => {
                out.push(n[2 * p + part]);
                out.push(m[2 * p + part]);
            }
            _ => return Err(Stop::Undefined),
        }
    }
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}

/// TBL, TBX: each byte of `V[m]` indexes the bytes of the table `V[n]`..`V[n+len]` (modulo
/// 32); an index past the table gives 0 (TBL) or leaves the byte of `V[d]` (TBX, `op` 1).
pub fn tbl<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::TBL_asimdtbl_L2_2::from_word(word);
    let datasize = 64 << f.Q;
    let regs = f.len + 1;
    let mut table = Lanes::new();
    for r in 0..regs {
        table.push(s.v((f.Rn + r) % 32, 0));
        table.push(s.v((f.Rn + r) % 32, 1));
    }
    let indices = elems(s, f.Rm, datasize, 8);
    let old = elems(s, f.Rd, datasize, 8);
    let seven = s.imm(7);
    let three = s.imm(3);
    let mut out = Lanes::with_capacity(indices.len());
    for (i, &idx) in indices.iter().enumerate() {
        let mut acc = if f.op == 1 { old[i] } else { s.imm(0) };
        // Byte `idx` of the table is byte `idx & 7` of half `idx >> 3`.
        let which = s.bin(BinOp::Lsr, idx, three);
        let byte = s.bin(BinOp::And, idx, seven);
        let sh = s.bin(BinOp::Shl, byte, three);
        for (h, &half) in table.iter().enumerate() {
            let v = s.bin(BinOp::Lsr, half, sh);
            let hv = s.imm(h as u64);
            let hit = s.bin(BinOp::Eq, which, hv);
            acc = s.select(hit, v, acc);
        }
        out.push(acc);
    }
    set_elems(s, f.Rd, 8, &out);
    Ok(())
}

/// `size = LowestSetBit(imm5)`; above 3 is UNDEFINED.
fn imm5_size(imm5: u32) -> Result<u32, Stop> {
    match imm5.trailing_zeros() {
        sz @ 0..=3 => Ok(sz),
        _ => Err(Stop::Undefined),
    }
}

/// `Elem[V[n], index, esize]`, zero-extended.
fn element_at<S: Sem>(s: &mut S, n: u32, index: u32, esize: u32) -> S::V {
    let bit = index * esize;
    let half = s.v(n, bit / 64);
    lane(s, half, bit % 64, esize)
}

/// INS (element): `Elem[V[d], imm5 >> (size + 1)] = Elem[V[n], imm4 >> size]`, the rest of
/// `V[d]` unchanged.
pub fn ins_element<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::INS_asimdins_IV_v::from_word(word);
    let size = imm5_size(f.imm5)?;
    let esize = 8 << size;
    let x = element_at(s, f.Rn, f.imm4 >> size, esize);
    let bit = (f.imm5 >> (size + 1)) * esize;
    let (h, lsb) = (bit / 64, bit % 64);
    let sh = s.imm(u64::from(lsb));
    let x = s.bin(BinOp::Shl, x, sh);
    let old = s.v(f.Rd, h);
    let keep = s.imm(!(ones(esize) << lsb));
    let old = s.bin(BinOp::And, old, keep);
    let r = s.bin(BinOp::Or, old, x);
    s.set_v(f.Rd, h, r);
    Ok(())
}

/// SMOV: `X[d] = SignExtend(Elem[V[n], index, esize], 32 << Q)`.
pub fn smov<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::INS_asimdins_IV_v::from_word(word);
    let size = imm5_size(f.imm5)?;
    if size > 1 + f.Q || size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << size;
    let x = element_at(s, f.Rn, f.imm5 >> (size + 1), esize);
    let x = sext(s, x, esize);
    let x = if f.Q == 0 {
        let m = s.imm(0xffff_ffff);
        s.bin(BinOp::And, x, m)
    } else {
        x
    };
    s.set_x(f.Rd, x);
    Ok(())
}

/// DUP (element, scalar), alias MOV: `V[d] = Elem[V[n], index, esize]`, zero-extended.
pub fn dup_scalar<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::DUP_asisdone_only::from_word(word);
    let size = imm5_size(f.imm5)?;
    let esize = 8 << size;
    let x = element_at(s, f.Rn, f.imm5 >> (size + 1), esize);
    write_halves(s, f.Rd, &[x]);
    Ok(())
}
