//! SIMD&FP data processing: moves between register files, immediates, and integer vector
//! operations (bitwise, compares, pairwise and across-lane reductions, permutes, narrowing).

use armature_core::isa::fields;
use armature_core::isa::pseudo::{AdvSIMDExpandImm, VFPExpandImm};
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};

use super::lanes::{call_lanewise, call_pairwise, call_shift_narrow, LaneOp};

use super::{elems, lane, ones, read_halves, set_elems, set_vpart, write_halves, Halves, Lanes};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::FMOV_32S_float2int,
        E::FMOV_S32_float2int,
        E::FMOV_64D_float2int,
        E::FMOV_D64_float2int,
        E::FMOV_64VX_float2int,
        E::FMOV_V64I_float2int,
    ] {
        t.set(id, fmov_general::<S>);
    }
    t.set(E::FMOV_S_floatdp1, fmov_reg::<S>);
    t.set(E::FMOV_D_floatdp1, fmov_reg::<S>);
    t.set(E::FMOV_S_floatimm, fmov_imm::<S>);
    t.set(E::FMOV_D_floatimm, fmov_imm::<S>);
    t.set(E::DUP_asimdins_DR_r, dup_general::<S>);
    t.set(E::DUP_asimdins_DV_v, dup_element::<S>);
    t.set(E::UMOV_asimdins_W_w, umov::<S>);
    t.set(E::UMOV_asimdins_X_x, umov::<S>);
    t.set(E::INS_asimdins_IR_r, ins_general::<S>);
    for id in [
        E::MOVI_asimdimm_N_b,
        E::MOVI_asimdimm_L_hl,
        E::MOVI_asimdimm_L_sl,
        E::MOVI_asimdimm_M_sm,
        E::MOVI_asimdimm_D_ds,
        E::MOVI_asimdimm_D2_d,
        E::MVNI_asimdimm_L_hl,
        E::MVNI_asimdimm_L_sl,
        E::MVNI_asimdimm_M_sm,
        E::ORR_asimdimm_L_hl,
        E::ORR_asimdimm_L_sl,
        E::BIC_asimdimm_L_hl,
        E::BIC_asimdimm_L_sl,
        E::FMOV_asimdimm_S_s,
        E::FMOV_asimdimm_D2_d,
    ] {
        t.set(id, modified_imm::<S>);
    }
    for id in [
        E::AND_asimdsame_only,
        E::BIC_asimdsame_only,
        E::ORR_asimdsame_only,
        E::ORN_asimdsame_only,
        E::EOR_asimdsame_only,
        E::BSL_asimdsame_only,
        E::BIT_asimdsame_only,
        E::BIF_asimdsame_only,
    ] {
        t.set(id, logical_reg::<S>);
    }
    for id in [
        E::ADD_asimdsame_only,
        E::SUB_asimdsame_only,
        E::CMEQ_asimdsame_only,
        E::CMTST_asimdsame_only,
        E::CMHS_asimdsame_only,
        E::CMHI_asimdsame_only,
        E::CMGE_asimdsame_only,
        E::CMGT_asimdsame_only,
        E::UMAX_asimdsame_only,
        E::UMIN_asimdsame_only,
        E::ADDP_asimdsame_only,
        E::UMAXP_asimdsame_only,
        E::UMINP_asimdsame_only,
    ] {
        t.set(id, three_same::<S>);
    }
    t.set(E::CMEQ_asimdmisc_Z, compare_zero::<S>);
    t.set(E::EXT_asimdext_only, ext::<S>);
    t.set(E::SHRN_asimdshf_N, shrn::<S>);
    t.set(E::XTN_asimdmisc_N, xtn::<S>);
    t.set(E::CNT_asimdmisc_R, cnt::<S>);
    t.set(E::UMAXV_asimdall_only, across::<S>);
    t.set(E::UMINV_asimdall_only, across::<S>);
    t.set(E::ADDV_asimdall_only, across::<S>);
    t.set(E::UADDLV_asimdall_only, across::<S>);
    t.set(E::UZP1_asimdperm_only, uzp::<S>);
    t.set(E::UZP2_asimdperm_only, uzp::<S>);
}

/// FMOV (general): `opcode<0>` 1 moves `X[n]` into `V[d]` (zeroing the rest, or only into
/// `Vd.D[1]` for `ftype` 10), 0 moves `V[n]<intsize-1:0>` (or `Vn.D[1]`) into `X[d]`.
pub fn fmov_general<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_64D_float2int::from_word(word);
    let part = u32::from(f.ftype == 2 && f.rmode == 1);
    let to_vector = f.opcode & 1 == 1;
    if to_vector {
        let x = s.x(f.Rn);
        let x = if f.sf == 0 { s.un(UnOp::Zext32, x) } else { x };
        if part == 1 {
            s.set_v(f.Rd, 1, x);
        } else {
            write_halves(s, f.Rd, &[x]);
        }
    } else {
        let v = s.v(f.Rn, part);
        let v = if f.sf == 0 { s.un(UnOp::Zext32, v) } else { v };
        s.set_x(f.Rd, v);
    }
    Ok(())
}

/// FMOV (register): `V[d] = ZeroExtend(V[n]<esize-1:0>)` for `ftype` 00 (S) and 01 (D).
pub fn fmov_reg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_D_floatdp1::from_word(word);
    let v = s.v(f.Rn, 0);
    let v = if f.ftype == 0 {
        s.un(UnOp::Zext32, v)
    } else {
        v
    };
    write_halves(s, f.Rd, &[v]);
    Ok(())
}

/// FMOV (scalar, immediate): `V[d] = VFPExpandImm(imm8)` of 32 or 64 bits.
pub fn fmov_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::FMOV_D_floatimm::from_word(word);
    let n = if f.ftype == 0 { 32 } else { 64 };
    let v = s.imm(VFPExpandImm(f.imm8.into(), n));
    write_halves(s, f.Rd, &[v]);
    Ok(())
}

/// `size = LowestSetBit(imm5)` of DUP, INS and UMOV; above 3 is UNDEFINED.
fn imm5_size(imm5: u32) -> Result<u32, Stop> {
    match imm5.trailing_zeros() {
        sz @ 0..=3 => Ok(sz),
        _ => Err(Stop::Undefined),
    }
}

/// `Replicate(element, 64 DIV esize)` of a zero-extended element.
fn replicate<S: Sem>(s: &mut S, element: S::V, esize: u32) -> S::V {
    if esize == 64 {
        return element;
    }
    let pattern = u64::MAX / ones(esize);
    let p = s.imm(pattern);
    s.bin(BinOp::Mul, element, p)
}

/// DUP (general): every element of `V[d]` is `X[n]<esize-1:0>`.
pub fn dup_general<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::DUP_asimdins_DR_r::from_word(word);
    let size = imm5_size(f.imm5)?;
    if size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << size;
    let x = s.x(f.Rn);
    let m = s.imm(ones(esize));
    let element = s.bin(BinOp::And, x, m);
    let r = replicate(s, element, esize);
    write_halves(s, f.Rd, &Halves::splat(r, f.Q));
    Ok(())
}

/// `Elem[V[n], index, esize]`.
fn element_at<S: Sem>(s: &mut S, n: u32, index: u32, esize: u32) -> S::V {
    let bit = index * esize;
    let half = s.v(n, bit / 64);
    lane(s, half, bit % 64, esize)
}

/// DUP (element): every element of `V[d]` is `Elem[V[n], imm5 >> (size + 1), esize]`.
pub fn dup_element<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::DUP_asimdins_DV_v::from_word(word);
    let size = imm5_size(f.imm5)?;
    if size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << size;
    let element = element_at(s, f.Rn, f.imm5 >> (size + 1), esize);
    let r = replicate(s, element, esize);
    write_halves(s, f.Rd, &Halves::splat(r, f.Q));
    Ok(())
}

/// UMOV: `X[d] = ZeroExtend(Elem[V[n], index, esize])`; `Q` says 64 (D) or 32 bits.
pub fn umov<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::DUP_asimdins_DV_v::from_word(word);
    let size = imm5_size(f.imm5)?;
    if (f.Q == 1) != (size == 3) {
        return Err(Stop::Undefined);
    }
    let esize = 8 << size;
    let element = element_at(s, f.Rn, f.imm5 >> (size + 1), esize);
    s.set_x(f.Rd, element);
    Ok(())
}

/// INS (general): `Elem[V[d], index, esize] = X[n]<esize-1:0>`, the rest unchanged.
pub fn ins_general<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::INS_asimdins_IR_r::from_word(word);
    let size = imm5_size(f.imm5)?;
    let esize = 8 << size;
    let bit = (f.imm5 >> (size + 1)) * esize;
    let (h, lsb) = (bit / 64, bit % 64);
    let x = s.x(f.Rn);
    let m = s.imm(ones(esize));
    let x = s.bin(BinOp::And, x, m);
    let sh = s.imm(u64::from(lsb));
    let x = s.bin(BinOp::Shl, x, sh);
    let old = s.v(f.Rd, h);
    let keep = s.imm(!(ones(esize) << lsb));
    let old = s.bin(BinOp::And, old, keep);
    let r = s.bin(BinOp::Or, old, x);
    s.set_v(f.Rd, h, r);
    Ok(())
}

/// MOVI, MVNI, ORR, BIC (vector, immediate) and FMOV (vector, immediate):
/// `imm = AdvSIMDExpandImm(op, cmode, a:b:c:d:e:f:g:h)`; `cmode` xxx1 (below 11xx) is ORR
/// (`op` 0) or BIC (`op` 1); otherwise `op` 1 is MVNI except for `cmode` 111x.
pub fn modified_imm<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::MOVI_asimdimm_N_b::from_word(word);
    let imm8 = ((word >> 11) & 0xe0) | ((word >> 5) & 0x1f);
    if f.cmode == 0b1111 && f.op == 1 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let imm64 = AdvSIMDExpandImm(f.op.into(), f.cmode.into(), imm8.into());
    let halves = 1 + f.Q as usize;
    let logical = f.cmode & 1 == 1 && f.cmode >> 2 != 3;
    let result: Lanes<S::V> = if logical {
        let old = read_halves(s, f.Rd, 64 * halves as u32);
        old.iter()
            .map(|&o| {
                if f.op == 1 {
                    let i = s.imm(!imm64);
                    s.bin(BinOp::And, o, i)
                } else {
                    let i = s.imm(imm64);
                    s.bin(BinOp::Or, o, i)
                }
            })
            .collect()
    } else {
        let mvni = f.op == 1 && f.cmode >> 1 != 0b111;
        let v = s.imm(if mvni { !imm64 } else { imm64 });
        Lanes::from_elem(v, halves)
    };
    write_halves(s, f.Rd, &result);
    Ok(())
}

/// AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF (vector, register) by `U:size`, on whole halves.
pub fn logical_reg<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::ORR_asimdsame_only::from_word(word);
    let datasize = 64 << f.Q;
    let n = read_halves(s, f.Rn, datasize);
    let m = read_halves(s, f.Rm, datasize);
    let d = read_halves(s, f.Rd, datasize);
    let mut out = Lanes::new();
    for i in 0..n.len() {
        let (n, m, d) = (n[i], m[i], d[i]);
        let r = match (f.U, f.size) {
            (0, 0) => s.bin(BinOp::And, n, m),
            (0, 1) => {
                let nm = s.un(UnOp::Not, m);
                s.bin(BinOp::And, n, nm)
            }
            (0, 2) => s.bin(BinOp::Or, n, m),
            (0, _) => {
                let nm = s.un(UnOp::Not, m);
                s.bin(BinOp::Or, n, nm)
            }
            (_, 0) => s.bin(BinOp::Xor, n, m),
            // BSL: operand1 EOR ((operand1 EOR operand2) AND operand3) with m, n, d.
            (_, 1) => {
                let x = s.bin(BinOp::Xor, m, n);
                let x = s.bin(BinOp::And, x, d);
                s.bin(BinOp::Xor, m, x)
            }
            // BIT: d EOR ((d EOR n) AND m); BIF: d EOR ((d EOR n) AND NOT m).
            (_, size) => {
                let x = s.bin(BinOp::Xor, d, n);
                let sel = if size == 2 { m } else { s.un(UnOp::Not, m) };
                let x = s.bin(BinOp::And, x, sel);
                s.bin(BinOp::Xor, d, x)
            }
        };
        out.push(r);
    }
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// Three-same integer operations (ADD, SUB, CMEQ, CMTST, CMHS, CMHI, CMGE, CMGT, UMAX, UMIN)
/// element by element, and their pairwise forms (ADDP, UMAXP, UMINP) over `Vm:Vn`.
pub fn three_same<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CMEQ_asimdsame_only::from_word(word);
    if f.size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let datasize = 64 << f.Q;
    let (op, pairwise) = match (f.U, f.opcode) {
        (0, 0b10000) => (LaneOp::Add, false),
        (1, 0b10000) => (LaneOp::Sub, false),
        (1, 0b10001) => (LaneOp::Cmeq, false),
        (0, 0b10001) => (LaneOp::Cmtst, false),
        (1, 0b00111) => (LaneOp::Cmhs, false),
        (1, 0b00110) => (LaneOp::Cmhi, false),
        (0, 0b00111) => (LaneOp::Cmge, false),
        (0, 0b00110) => (LaneOp::Cmgt, false),
        (1, 0b01100) => (LaneOp::Umax, false),
        (1, 0b01101) => (LaneOp::Umin, false),
        (0, 0b10111) => (LaneOp::Add, true),
        (1, 0b10100) => (LaneOp::Umax, true),
        (1, 0b10101) => (LaneOp::Umin, true),
        _ => return Err(Stop::NotImplemented(E::ADD_asimdsame_only)),
    };
    if pairwise && esize == 64 && !matches!(op, LaneOp::Add) {
        return Err(Stop::Undefined);
    }
    let n = read_halves(s, f.Rn, datasize);
    let m = read_halves(s, f.Rm, datasize);
    let out = if pairwise {
        // concat = operand2:operand1, so the pairs of Vn fill the low elements of the result:
        // its 64-bit halves pair up as (n0, n1), (m0, m1), or (n0, m0) for 64 bits.
        if let ([n0, n1], [m0, m1]) = (&n[..], &m[..]) {
            let lo = call_pairwise(s, op, esize, *n0, *n1);
            Halves::two(lo, call_pairwise(s, op, esize, *m0, *m1))
        } else {
            Halves::one(call_pairwise(s, op, esize, n[0], m[0]))
        }
    } else {
        n.map2(m, |a, b| call_lanewise(s, op, esize, a, b))
    };
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// CMEQ (zero): each element is all ones when it is zero.
pub fn compare_zero<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CMEQ_asimdmisc_Z::from_word(word);
    if f.size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let n = read_halves(s, f.Rn, 64 << f.Q);
    let z = s.imm(0);
    let out = n.map(|h| call_lanewise(s, LaneOp::Cmeq, esize, h, z));
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// Bits `[off, off + 64)` of the concatenation of `halves` (half 0 lowest), for a decode-time
/// `off` whose window lies inside it.
fn funnel<S: Sem>(s: &mut S, halves: &[S::V], off: u32) -> S::V {
    let (w, b) = ((off / 64) as usize, off % 64);
    if b == 0 {
        return halves[w];
    }
    let lo_sh = s.imm(u64::from(b));
    let lo = s.bin(BinOp::Lsr, halves[w], lo_sh);
    let Some(&next) = halves.get(w + 1) else {
        return lo;
    };
    let hi_sh = s.imm(u64::from(64 - b));
    let hi = s.bin(BinOp::Shl, next, hi_sh);
    s.bin(BinOp::Or, lo, hi)
}

/// EXT: `(Vm:Vn)<position+datasize-1:position>` with `position = imm4 * 8`.
pub fn ext<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::EXT_asimdext_only::from_word(word);
    if f.Q == 0 && f.imm4 >> 3 == 1 {
        return Err(Stop::Undefined);
    }
    let datasize = 64 << f.Q;
    let concat: Lanes<S::V> = read_halves(s, f.Rn, datasize)
        .iter()
        .chain(read_halves(s, f.Rm, datasize).iter())
        .copied()
        .collect();
    let pos = f.imm4 * 8;
    let out: Lanes<S::V> = (0..datasize / 64)
        .map(|h| funnel(s, &concat, pos + 64 * h))
        .collect();
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// SHRN, SHRN2: each `2*esize`-bit element of `V[n]` shifted right by `2*esize - immh:immb`
/// and narrowed to `esize` bits, into half `Q` of `V[d]`.
pub fn shrn<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHRN_asimdshf_N::from_word(word);
    if f.immh >> 3 == 1 || f.immh == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << (31 - f.immh.leading_zeros());
    let shift = 2 * esize - ((f.immh << 3) | f.immb);
    let lo = s.v(f.Rn, 0);
    let hi = s.v(f.Rn, 1);
    let packed = call_shift_narrow(s, esize, shift, lo, hi);
    set_vpart(s, f.Rd, f.Q, packed);
    Ok(())
}

/// XTN, XTN2: each `2*esize`-bit element of `V[n]` cut to `esize` bits, into half `Q`.
pub fn xtn<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::XTN_asimdmisc_N::from_word(word);
    if f.size == 3 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let n = elems(s, f.Rn, 128, 2 * esize);
    let packed = super::pack(s, &n, esize);
    set_vpart(s, f.Rd, f.Q, packed[0]);
    Ok(())
}

/// CNT: `BitCount` of each byte.
pub fn cnt<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CNT_asimdmisc_R::from_word(word);
    if f.size != 0 {
        return Err(Stop::Undefined);
    }
    let halves = read_halves(s, f.Rn, 64 << f.Q);
    let out: Lanes<S::V> = halves
        .iter()
        .map(|&x| crate::base::dp_misc::byte_bit_counts(s, x))
        .collect();
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// UMAXV, UMINV, ADDV and UADDLV: one reduction over the elements of `V[n]`, written as a
/// scalar of `esize` (`2*esize` for UADDLV) bits.
pub fn across<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::UADDLV_asimdall_only::from_word(word);
    let esize = 8 << f.size;
    let elements = (64 << f.Q) / esize;
    if f.size == 3 || elements < 4 {
        return Err(Stop::Undefined);
    }
    let (op, outsize) = match (f.U, f.opcode) {
        (1, 0b01010) => (LaneOp::Umax, esize),
        (1, 0b11010) => (LaneOp::Umin, esize),
        (0, 0b11011) => (LaneOp::Add, esize),
        (1, 0b00011) => (LaneOp::Add, 2 * esize),
        _ => return Err(Stop::NotImplemented(E::ADDV_asimdall_only)),
    };
    let n = elems(s, f.Rn, 64 << f.Q, esize);
    let mut acc = n[0];
    for &e in &n[1..] {
        acc = match op {
            LaneOp::Add => s.bin(BinOp::Add, acc, e),
            LaneOp::Umax => {
                let lt = s.bin(BinOp::Ult, acc, e);
                s.select(lt, e, acc)
            }
            _ => {
                let lt = s.bin(BinOp::Ult, acc, e);
                s.select(lt, acc, e)
            }
        };
    }
    let m = s.imm(ones(outsize));
    let r = s.bin(BinOp::And, acc, m);
    write_halves(s, f.Rd, &[r]);
    Ok(())
}

/// UZP1, UZP2: the even (`op` 0) or odd elements of `Vm:Vn`.
pub fn uzp<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::UZP1_asimdperm_only::from_word(word);
    if f.size == 3 && f.Q == 0 {
        return Err(Stop::Undefined);
    }
    let esize = 8 << f.size;
    let datasize = 64 << f.Q;
    let mut concat = elems(s, f.Rn, datasize, esize);
    concat.extend(elems(s, f.Rm, datasize, esize));
    let out: Lanes<S::V> = concat.chunks(2).map(|p| p[f.op as usize]).collect();
    set_elems(s, f.Rd, esize, &out);
    Ok(())
}
