//! Atomic memory operations (FEAT_LSE: LDADD and friends, SWP, CAS, CASP), exclusive pairs
//! (LDXP, LDAXP, STXP, STLXP) and LDAPR (FEAT_LRCPC).
//!
//! Each is one `Sem` atomic operation (`Sem::atomic`, `Sem::compare_swap`, the exclusive
//! pairs), which the interpreter performs as a host atomic on guest memory, so guest threads
//! racing on the same location see single-copy atomic read-modify-writes.

use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::ops::width;
use armature_core::sem::{AtomicOp, BinOp, Sem, SemTable, Stop, UnOp};

use super::x_or_sp;

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    use armature_core::isa::ENCODINGS;
    // Every FEAT_LSE load-operate and swap encoding (`*_memop` in ld<op>.xml and swp.xml),
    // every CAS and every CASP.
    for e in &ENCODINGS {
        let file = e.section().file;
        let memop = e.name.ends_with("_memop")
            && (file.starts_with("ld") || file.starts_with("swp"))
            && !e.name.starts_with("LDAPR");
        if memop && e.feature == armature_core::isa::Feature::FEAT_LSE {
            t.set(e.id, mem_atomic::<S>);
        } else if e.name.ends_with("_comswap") {
            t.set(e.id, cas::<S>);
        } else if e.name.ends_with("_comswappr") {
            t.set(e.id, casp::<S>);
        }
    }
    for id in [
        E::LDXP_LP32_ldstexclp,
        E::LDXP_LP64_ldstexclp,
        E::LDAXP_LP32_ldstexclp,
        E::LDAXP_LP64_ldstexclp,
        E::STXP_SP32_ldstexclp,
        E::STXP_SP64_ldstexclp,
        E::STLXP_SP32_ldstexclp,
        E::STLXP_SP64_ldstexclp,
    ] {
        t.set(id, exclusive_pair::<S>);
    }
    for id in [
        E::LDAPRB_32L_memop,
        E::LDAPRH_32L_memop,
        E::LDAPR_32L_memop,
        E::LDAPR_64L_memop,
    ] {
        t.set(id, ldapr::<S>);
    }
    t.set(E::LDAPR_32L_ldapstl_writeback, ldapr_stlr_writeback::<S>);
    t.set(E::LDAPR_64L_ldapstl_writeback, ldapr_stlr_writeback::<S>);
    t.set(E::STLR_32S_ldapstl_writeback, ldapr_stlr_writeback::<S>);
    t.set(E::STLR_64S_ldapstl_writeback, ldapr_stlr_writeback::<S>);
    for id in [
        E::LDIAPP_32LE_ldiappstilp,
        E::LDIAPP_32L_ldiappstilp,
        E::LDIAPP_64LS_ldiappstilp,
        E::LDIAPP_64L_ldiappstilp,
        E::STILP_32SE_ldiappstilp,
        E::STILP_32S_ldiappstilp,
        E::STILP_64SS_ldiappstilp,
        E::STILP_64S_ldiappstilp,
    ] {
        t.set(id, ldiapp_stilp::<S>);
    }
}

/// `x<bits-1:0>`, zero-extended.
fn zext<S: Sem>(s: &mut S, x: S::V, bits: u32) -> S::V {
    match bits {
        8 => s.un(UnOp::Zext8, x),
        16 => s.un(UnOp::Zext16, x),
        32 => s.un(UnOp::Zext32, x),
        _ => x,
    }
}

/// LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN (by `opc`) and SWP (`o3` 1),
/// with their A, L, AL, B and H forms and the ST<op> aliases (`Rt` 31): `MemAtomic` reads
/// `data`, writes `op(data, X[s])` and `X[t] = ZeroExtend(data)`.
pub fn mem_atomic<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDADD_64_memop::from_word(word);
    let datasize = 8 << f.size;
    let bytes = 1u8 << f.size;
    let value = s.x(f.Rs);
    let value = zext(s, value, datasize);
    let address = x_or_sp(s, f.Rn);
    let op = if f.o3 == 1 {
        AtomicOp::Swp
    } else {
        AtomicOp::ALL[(f.opc & 7) as usize]
    };
    let data = s.atomic(op, address, bytes, value)?;
    s.set_x(f.Rt, data);
    Ok(())
}

/// CAS, CASA, CASL, CASAL and their B and H forms: `MemAtomic` with `MemAtomicOp_CAS` writes
/// `X[t]` when the memory equals `X[s]` (here it writes the old value back otherwise), and
/// `X[s] = ZeroExtend(data)`.
pub fn cas<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CAS_C64_comswap::from_word(word);
    let datasize = 8 << f.size;
    let bytes = 1u8 << f.size;
    let compare = s.x(f.Rs);
    let compare = zext(s, compare, datasize);
    let new = s.x(f.Rt);
    let address = x_or_sp(s, f.Rn);
    let data = s.compare_swap(address, bytes, compare, new)?;
    s.set_x(f.Rs, data);
    Ok(())
}

/// CASP, CASPA, CASPL, CASPAL: a compare and swap of the pair `X[s+1]:X[s]` against memory,
/// writing `X[t+1]:X[t]` when they are equal. `Rs` and `Rt` must be even.
pub fn casp<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::CASP_CP64_comswappr::from_word(word);
    if f.Rs & 1 == 1 || f.Rt & 1 == 1 {
        return Err(Stop::Undefined);
    }
    let address = x_or_sp(s, f.Rn);
    let (s1, s2) = (s.x(f.Rs), s.x(f.Rs + 1));
    let (t1, t2) = (s.x(f.Rt), s.x(f.Rt + 1));
    if f.sz == 0 {
        // 32-bit elements: one 8-byte access, `s2:s1` little-endian.
        let compare = concat32(s, s2, s1);
        let new = concat32(s, t2, t1);
        let data = s.compare_swap(address, 8, compare, new)?;
        let lo = s.un(UnOp::Zext32, data);
        let sh = s.imm(32);
        let hi = s.bin(BinOp::Lsr, data, sh);
        s.set_x(f.Rs, lo);
        s.set_x(f.Rs + 1, hi);
    } else {
        let (d1, d2) = s.compare_swap_pair(address, (s1, s2), (t1, t2))?;
        s.set_x(f.Rs, d1);
        s.set_x(f.Rs + 1, d2);
    }
    Ok(())
}

/// `hi<31:0>:lo<31:0>`.
fn concat32<S: Sem>(s: &mut S, hi: S::V, lo: S::V) -> S::V {
    let lo = s.un(UnOp::Zext32, lo);
    let sh = s.imm(32);
    let hi = s.bin(BinOp::Shl, hi, sh);
    s.bin(BinOp::Or, hi, lo)
}

/// LDXP, LDAXP, STXP, STLXP: exclusive accesses of a register pair (`sz` 0: two W registers
/// in one 8-byte access, 1: two X registers in one 16-byte access). A monitor set by an
/// access of the other size does not let the store pass (Arm leaves that IMPLEMENTATION
/// DEFINED).
pub fn exclusive_pair<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDXP_LP64_ldstexclp::from_word(word);
    let load = f.L == 1;
    if load && f.Rt == f.Rt2 {
        // CONSTRAINED UNPREDICTABLE: armature chooses UNDEFINED.
        return Err(Stop::Undefined);
    }
    let address = x_or_sp(s, f.Rn);
    if f.sz == 0 {
        if load {
            let data = s.load_exclusive(address, 8)?;
            let lo = s.un(UnOp::Zext32, data);
            let sh = s.imm(32);
            let hi = s.bin(BinOp::Lsr, data, sh);
            s.set_x(f.Rt, lo);
            s.set_x(f.Rt2, hi);
        } else {
            let (el1, el2) = (s.x(f.Rt), s.x(f.Rt2));
            let data = concat32(s, el2, el1);
            let status = s.store_exclusive(address, 8, data)?;
            s.set_x(f.Rs, status);
        }
        return Ok(());
    }
    if load {
        let (lo, hi) = s.load_exclusive_pair(address)?;
        s.set_x(f.Rt, lo);
        s.set_x(f.Rt2, hi);
    } else {
        let (el1, el2) = (s.x(f.Rt), s.x(f.Rt2));
        let status = s.store_exclusive_pair(address, el1, el2)?;
        s.set_x(f.Rs, status);
    }
    Ok(())
}

/// LDAPR, LDAPRB, LDAPRH: `X[t] = ZeroExtend(Mem[X[n] or SP, size])` with acquire-PC order,
/// which the host's in-order loads give.
pub fn ldapr<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDAPR_64L_memop::from_word(word);
    let address = x_or_sp(s, f.Rn);
    s.check_aligned(address, 1 << f.size, false)?;
    let data = s.load(address, 1 << f.size)?;
    let regsize = if f.size == 3 { 64 } else { 32 };
    let data = width(s, data, regsize);
    s.set_x(f.Rt, data);
    Ok(())
}

/// LDAPR (post-index) and STLR (pre-index), FEAT_LRCPC3: `X[t]` loaded from `X[n] or SP`,
/// which then grows by `1 << size`, or stored at `X[n] or SP` less `1 << size`, which is
/// written back first.
pub fn ldapr_stlr_writeback<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDAPR_64L_ldapstl_writeback::from_word(word);
    let bytes = 1u8 << f.size;
    let base = x_or_sp(s, f.Rn);
    if f.L == 1 {
        let data = s.load(base, bytes)?;
        let step = s.imm(u64::from(bytes));
        let next = s.bin(BinOp::Add, base, step);
        super::set_x_or_sp(s, f.Rn, next);
        s.set_x(f.Rt, data);
    } else {
        let step = s.imm(u64::from(bytes).wrapping_neg());
        let address = s.bin(BinOp::Add, base, step);
        let data = s.x(f.Rt);
        s.store(address, bytes, data)?;
        super::set_x_or_sp(s, f.Rn, address);
        // A release, ordered as STLR is (`ldst_ordered`).
        s.barrier();
    }
    Ok(())
}

/// LDIAPP (post-index by the pair's size when `opc2<0>` is 0) and STILP (pre-index by minus
/// the pair's size when `opc2<0>` is 0), FEAT_LRCPC3: a pair of W (`size` 10) or X registers.
pub fn ldiapp_stilp<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::LDIAPP_32LE_ldiappstilp::from_word(word);
    let scale = if f.size == 3 { 3 } else { 2 };
    let bytes = 1u8 << scale;
    let wback = f.opc2 & 1 == 0;
    let base = x_or_sp(s, f.Rn);
    let step = s.imm(u64::from(bytes));
    if f.L == 1 {
        let address2 = s.bin(BinOp::Add, base, step);
        let data1 = s.load(base, bytes)?;
        let data2 = s.load(address2, bytes)?;
        s.set_x(f.Rt, data1);
        s.set_x(f.Rt2, data2);
        if wback {
            let next = s.bin(BinOp::Add, address2, step);
            super::set_x_or_sp(s, f.Rn, next);
        }
    } else {
        let address = if wback {
            let back = s.imm(u64::from(2 * bytes).wrapping_neg());
            s.bin(BinOp::Add, base, back)
        } else {
            base
        };
        let address2 = s.bin(BinOp::Add, address, step);
        let data1 = s.x(f.Rt);
        let data2 = s.x(f.Rt2);
        // A negative pre-index writes the higher address first.
        if wback {
            s.store(address2, bytes, data2)?;
            s.store(address, bytes, data1)?;
        } else {
            s.store(address, bytes, data1)?;
            s.store(address2, bytes, data2)?;
        }
        if wback {
            super::set_x_or_sp(s, f.Rn, address);
        }
        // STILP is a release, ordered as STLR is (`ldst_ordered`).
        s.barrier();
    }
    Ok(())
}
