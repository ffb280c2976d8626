//! Case generation from the encoding table: proptest strategies for instruction words and
//! initial states, and the selection of encodings by glob, feature or instr-class.

use armature_core::interp::Interp;
use armature_core::isa::{decode, Decoded, EncodingId, FeatureSet, FieldInfo, ENCODINGS};
use armature_core::sem::SemTable;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};

use crate::program::{region_mid, test_pcs, Case, State};

/// Random words of encoding `id`: the pattern's fixed bits, random bits elsewhere, kept only
/// when the decoder maps them to `id` with `features` (so `!=` constraints, decode guards and
/// more specific encodings are respected). Should-be bits take their required values, and
/// CONSTRAINED UNPREDICTABLE register overlaps ([`crate::known::CONSTRAINED_OVERLAPS`]) are
/// left out. The offset field of an immediate branch is chosen so that the target is a
/// landing instruction of the case (see [`branch_offset`]), after it or, for a word at the
/// start of the case, before it (a backward landing pad; [`words`] moves the offset of a
/// later word with [`place_backward`]). Shrinks towards the pattern with zero fields and a
/// forward branch.
pub fn word(id: EncodingId, features: FeatureSet) -> BoxedStrategy<u32> {
    let info = id.info();
    let fixed = info.mask | info.should_mask;
    let value = info.value | (info.should_value & info.should_mask & !info.mask);
    let offset = match branch(id) {
        Some(Branch::Offset(f)) => Some(f),
        _ => None,
    };
    let literal = literal(id);
    (any::<u32>(), 0..LANDING + BACK, 0..2 * LITERAL_REACH)
        .prop_map(move |(r, landing, near)| {
            let w = (r & !fixed) | value;
            let w = offset.map_or(w, |f| insert(f, w, branch_offset(landing) as u32));
            // 0, -1, 1, -2, ...: shrinks to the load reading its own word.
            let near = if near % 2 == 0 {
                near as i32 / 2
            } else {
                -(near as i32 + 1) / 2
            };
            literal.map_or(w, |f| insert(f, w, near as u32))
        })
        .prop_filter("the word must decode to the encoding", move |&w| {
            decode(w, &features) == Decoded::Insn(id) && generable(id, w)
        })
        .boxed()
}

/// How far, in words, a literal load reads from itself: into the code of its case and its
/// neighbours (set-up code, landing instructions, the exit sequence), which is mapped and the
/// same bytes in the reference and armature.
pub const LITERAL_REACH: u32 = 8;

/// The offset field (`imm19`) of a PC-relative literal load (LDR, LDRSW, PRFM literal): an
/// encoding with it and no base register whose pseudocode reads memory or prefetches.
pub fn literal(id: EncodingId) -> Option<&'static FieldInfo> {
    let info = id.info();
    let execute = info.section().execute;
    let reads = execute.contains("Mem[") || execute.contains("Prefetch(");
    let f = info.field("imm19")?;
    (info.field("Rn").is_none() && reads && branch(id).is_none()).then_some(f)
}

/// Whether `word` of `id` may be generated: not CONSTRAINED UNPREDICTABLE
/// ([`crate::known::constrained_unpredictable`]), and not a register-offset load or store whose
/// offset register is its base (`[Xn, Xn, LSL #s]` addresses `Xn + (Xn << s)`, which cannot lie
/// in the scratch memory with `Xn` in it, so it could only fault).
pub fn generable(id: EncodingId, word: u32) -> bool {
    let info = id.info();
    let same_base_and_offset =
        info.section().file.contains("regoff") || info.name.ends_with("_ldst_regoff");
    let overlap = match (info.field("Rn"), info.field("Rm")) {
        (Some(n), Some(m)) => same_base_and_offset && n.extract(word) == m.extract(word),
        _ => false,
    };
    !overlap && !crate::known::constrained_unpredictable(id, word)
}

/// The landing instructions (NOPs) laid out after the instructions of a case with a branch,
/// so that every branch target lies inside the case.
pub const LANDING: u32 = 4;

/// The backward landing pads laid out before the instructions of a case with a backward
/// immediate branch. Each pad is a `B` to the end of the case, so a backward branch runs one
/// pad and leaves the case, and never loops (see [`crate::program`]).
pub const BACK: u32 = 4;

/// The offset, in instructions, of a branch to landing choice `landing` (below
/// [`LANDING`]` + `[`BACK`]) from the first instruction of a case. Choices below [`LANDING`]
/// go forward 2 to `LANDING + 1` instructions, so that the taken path skips at least the next
/// instruction; from any instruction of a case this is at most the instruction after the last
/// landing one. The other choices go backward 1 to [`BACK`] instructions: to a backward landing
/// pad from the first instruction (see [`place_backward`] for the others).
pub fn branch_offset(landing: u32) -> i32 {
    let landing = landing % (LANDING + BACK);
    if landing < LANDING {
        2 + landing as i32
    } else {
        -1 - (landing - LANDING) as i32
    }
}

/// The offset field and its value (in instructions) of `word` if it is an immediate branch.
pub fn branch_field(word: u32) -> Option<(&'static FieldInfo, i64)> {
    let id = decode(word, &FeatureSet::all()).encoding()?;
    match branch(id)? {
        Branch::Offset(f) => Some((f, signed_field(f, word))),
        Branch::Register(_) => None,
    }
}

/// Moves the targets of the backward immediate branches of a case from the position the
/// generator assumed (the first instruction) to their own: the branch at index `k` with offset
/// `-(1 + b)` gets `-(1 + b + k)`, so that it still reaches backward landing pad `b` counted
/// back from the first instruction. Generated words are position-free, so a sequence shrinks
/// like any other; this runs on each sequence proptest gives.
pub fn place_backward(words: &mut [u32]) {
    for (k, w) in words.iter_mut().enumerate() {
        if let Some((f, off)) = branch_field(*w) {
            if off < 0 && k > 0 {
                *w = insert(f, *w, (off - k as i64) as u32);
            }
        }
    }
}

/// A memory copy or set of FEAT_MOPS (CPY*, SET*): one stage of a prologue, main, epilogue
/// triple that Arm requires to run in that order with the same registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mops {
    /// Whether it copies (CPY*, with a source register `Rs`) or sets (SET*, `Rs` the data).
    pub copy: bool,
    /// The lowest bit of the two-bit stage field (0 prologue, 1 main, 2 epilogue): `op1` of a
    /// copy, `op2<3:2>` of a set.
    pub stage_lo: u32,
}

/// Whether `id` is a FEAT_MOPS memory copy or set stage, read from its decode pseudocode
/// (`case op1 of` or `case op2<3:2> of` choosing the `MOPSStage`).
pub fn mops(id: EncodingId) -> Option<Mops> {
    let decode = id.info().decode;
    if !decode.contains("MOPSStage_Prologue") {
        return None;
    }
    if decode.contains("case op1 of") {
        Some(Mops {
            copy: true,
            stage_lo: 22,
        })
    } else if decode.contains("case op2<3:2> of") {
        Some(Mops {
            copy: false,
            stage_lo: 14,
        })
    } else {
        None
    }
}

/// `words` with each memory copy or set (of any stage) replaced by its prologue, main and
/// epilogue, with the same registers and options, in that order.
pub fn expand_mops(words: &[u32]) -> Vec<u32> {
    let all = FeatureSet::all();
    let mut out = Vec::with_capacity(words.len());
    for &w in words {
        match decode(w, &all).encoding().and_then(mops) {
            Some(m) => {
                out.extend((0..3).map(|stage| (w & !(3 << m.stage_lo)) | stage << m.stage_lo))
            }
            None => out.push(w),
        }
    }
    out
}

/// A generated sequence as a case runs it: memory copies and sets expanded to their triples
/// ([`expand_mops`]), then backward branch targets placed ([`place_backward`]).
pub fn arrange(words: &[u32]) -> Vec<u32> {
    let mut w = expand_mops(words);
    place_backward(&mut w);
    w
}

/// The number of backward landing pads a case of `words` needs: [`BACK`] when one of them is
/// an immediate branch with a negative offset, none otherwise.
pub fn back_len(words: &[u32]) -> u32 {
    if words
        .iter()
        .any(|&w| branch_field(w).is_some_and(|(_, off)| off < 0))
    {
        BACK
    } else {
        0
    }
}

/// How a branch encoding names its target.
#[derive(Clone, Copy, Debug)]
pub enum Branch {
    /// `PC + offset`, the offset (in instructions) in this field.
    Offset(&'static FieldInfo),
    /// The address in the X register this field names.
    Register(&'static FieldInfo),
}

/// How `id` branches, if it is a branch that stays in the program: its execute pseudocode
/// calls `BranchTo` and it has an offset field (`imm26`, `imm19`, `imm14`) or a register
/// field `Rn` read as the target (`BranchTo(target` with `target = X[n, 64]`).
pub fn branch(id: EncodingId) -> Option<Branch> {
    let info = id.info();
    let code = [info.decode, info.section().execute];
    if !code.iter().any(|c| c.contains("BranchTo(")) {
        return None;
    }
    if let Some(f) = ["imm26", "imm19", "imm14"]
        .iter()
        .find_map(|name| info.field(name))
    {
        return Some(Branch::Offset(f));
    }
    let rn = info.field("Rn")?;
    code.iter()
        .any(|c| c.contains("target = X[n, 64]"))
        .then_some(Branch::Register(rn))
}

/// The number of landing instructions a case of `words` needs: [`LANDING`] when one of them
/// is a branch, none otherwise.
pub fn landing_len(words: &[u32]) -> u32 {
    let branches = words.iter().any(|&w| {
        decode(w, &FeatureSet::all())
            .encoding()
            .is_some_and(|id| branch(id).is_some())
    });
    if branches {
        LANDING
    } else {
        0
    }
}

/// `word` with field `f` set to the low bits of `v`.
pub fn insert(f: &FieldInfo, word: u32, v: u32) -> u32 {
    let mut v = v;
    let mut w = word;
    for &(hi, width) in f.parts.iter().rev() {
        let lo = u32::from(hi) + 1 - u32::from(width);
        let mask = ((1u64 << width) - 1) as u32;
        w = (w & !(mask << lo)) | (v & mask) << lo;
        v >>= width;
    }
    w
}

/// Sign-extends field `f` of `word`.
pub fn signed_field(f: &FieldInfo, word: u32) -> i64 {
    let width = f.width();
    let v = i64::from(f.extract(word));
    v << (64 - width) >> (64 - width)
}

/// Whether some word of `id` that [`word`] may generate decodes to it with `features` (tried
/// on a few thousand words).
pub fn has_words(id: EncodingId, features: &FeatureSet) -> bool {
    let info = id.info();
    let mut r = crate::SplitMix64(id as u64);
    let fixed = info.mask | info.should_mask;
    let value = info.value | (info.should_value & info.should_mask & !info.mask);
    (0..4096).any(|_| {
        let w = (r.next_u32() & !fixed) | value;
        decode(w, features) == Decoded::Insn(id) && generable(id, w)
    })
}

const X_EDGES: &[u64] = &[
    0,
    1,
    2,
    u64::MAX,
    i64::MIN as u64,
    i64::MAX as u64,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0xffff_ffff_8000_0000,
    0x8000_0000_0000_0001,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
];

const F64_EDGES: &[u64] = &[
    0,
    0x8000_0000_0000_0000, // -0
    0x3ff0_0000_0000_0000, // 1.0
    0xbff0_0000_0000_0000, // -1.0
    0x3fe0_0000_0000_0000, // 0.5
    0x4000_0000_0000_0000, // 2.0
    0x7ff0_0000_0000_0000, // +Inf
    0xfff0_0000_0000_0000, // -Inf
    0x7ff8_0000_0000_0000, // quiet NaN
    0xfff8_0000_0000_0001, // negative quiet NaN with payload
    0x7ff4_0000_0000_0000, // signalling NaN
    0x7ff0_0000_0000_0001, // signalling NaN, smallest payload
    0x0000_0000_0000_0001, // smallest denormal
    0x000f_ffff_ffff_ffff, // largest denormal
    0x8000_0000_0000_0001, // negative denormal
    0x0010_0000_0000_0000, // smallest normal
    0x7fef_ffff_ffff_ffff, // largest finite
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x41df_ffff_ffc0_0000, // 2^31 - 1
    0x41e0_0000_0000_0000, // 2^31
    0x3ff8_0000_0000_0000, // 1.5
];

const F32_EDGES: &[u32] = &[
    0,
    0x8000_0000, // -0
    0x3f80_0000, // 1.0
    0xbf80_0000, // -1.0
    0x3fc0_0000, // 1.5
    0x7f80_0000, // +Inf
    0xff80_0000, // -Inf
    0x7fc0_0000, // quiet NaN
    0xffc0_0001, // negative quiet NaN with payload
    0x7fa0_0000, // signalling NaN
    0x7f80_0001, // signalling NaN, smallest payload
    0x0000_0001, // smallest denormal
    0x007f_ffff, // largest denormal
    0x8000_0001, // negative denormal
    0x0080_0000, // smallest normal
    0x7f7f_ffff, // largest finite
    0x4f00_0000, // 2^31
    0xcf00_0000, // -2^31
    0x5f00_0000, // 2^63
];

const F16_EDGES: &[u16] = &[
    0, 0x8000, // ±0
    0x3c00, 0xbc00, // ±1.0
    0x3e00, // 1.5
    0x7c00, 0xfc00, // ±Inf
    0x7e00, 0xfe01, // quiet NaNs
    0x7d00, 0x7c01, // signalling NaNs
    0x0001, 0x03ff, 0x8001, // denormals
    0x0400, 0x7bff, // smallest normal, largest finite
];

/// X register values: edge values first (they shrink to 0), then anything.
pub fn x_value() -> BoxedStrategy<u64> {
    prop_oneof![
        3 => select(X_EDGES),
        1 => 0u64..0x1000,
        3 => any::<u64>(),
    ]
    .boxed()
}

/// V register values: zero, lanes of FP edge values (double, single, half), or anything.
pub fn v_value() -> BoxedStrategy<u128> {
    let f64s = prop_oneof![3 => select(F64_EDGES), 1 => any::<u64>()];
    let f32s = prop_oneof![3 => select(F32_EDGES), 1 => any::<u32>()];
    let f16s = prop_oneof![3 => select(F16_EDGES), 1 => any::<u16>()];
    prop_oneof![
        1 => Just(0u128),
        3 => [f64s.clone(), f64s].prop_map(|l| l[0] as u128 | (l[1] as u128) << 64),
        3 => proptest::array::uniform4(f32s)
            .prop_map(|l| l.iter().rev().fold(0u128, |a, &x| a << 32 | x as u128)),
        2 => proptest::array::uniform8(f16s)
            .prop_map(|l| l.iter().rev().fold(0u128, |a, &x| a << 16 | x as u128)),
        2 => any::<u128>(),
    ]
    .boxed()
}

/// FPCR values: the AHP, DN, FZ, RMode and FZ16 bits, mostly zero.
pub fn fpcr_value() -> BoxedStrategy<u64> {
    prop_oneof![
        3 => Just(0u64),
        2 => (0u64..64).prop_map(|b| {
            (b & 1) << 26 | (b >> 1 & 1) << 25 | (b >> 2 & 1) << 24 | (b >> 3 & 3) << 22 | (b >> 5 & 1) << 19
        }),
    ]
    .boxed()
}

/// Initial states. SP holds a small index here; [`prepare`] points it into scratch memory.
pub fn state() -> BoxedStrategy<State> {
    (
        proptest::array::uniform31(x_value()),
        proptest::array::uniform32(v_value()),
        0u64..16,
        fpcr_value(),
        0u64..16,
    )
        .prop_map(|(x, v, nzcv, fpcr, sp)| State {
            x,
            sp,
            pc: 0,
            nzcv: nzcv << 28,
            fpcr,
            fpsr: 0,
            v,
            sve: None,
        })
        .boxed()
}

/// Sequences of 1 to `max_len` instructions drawn from `ids` (the first id is what shrinking
/// prefers), arranged by [`arrange`]: a memory copy or set becomes its triple, and backward
/// branch targets are placed. Sequences where a
/// register branch or an SVC reads a register an earlier instruction may write are left out:
/// [`prepare_all`] sets the branch target (to the case's landing instructions) and the system
/// call number in the initial state only, and another value (e.g. the link BL wrote) could loop
/// or make another system call.
pub fn words(ids: &[EncodingId], max_len: usize, features: FeatureSet) -> BoxedStrategy<Vec<u32>> {
    let words = Union::new(ids.iter().map(|&id| word(id, features)));
    proptest::collection::vec(words, 1..=max_len)
        .prop_filter(
            "a register branch's target and an SVC's number must not be written before it",
            |w| register_targets_kept(w),
        )
        .prop_map(|w| arrange(&w))
        .boxed()
}

/// Whether no register branch of `words` reads a register that an earlier instruction names
/// in a register field (or the register after it, for pairs), or X30 after a branch with link;
/// and whether no SVC follows an instruction that may write X8 that way, and no register
/// branch goes through X8 in a case with an SVC.
pub fn register_targets_kept(words: &[u32]) -> bool {
    let all = FeatureSet::all();
    let mut written = 0u64;
    let mut targets = 0u64;
    let mut svc = false;
    for &w in words {
        let Some(id) = decode(w, &all).encoding() else {
            continue;
        };
        let info = id.info();
        if let Some(Branch::Register(f)) = branch(id) {
            if written >> f.extract(w) & 1 != 0 {
                return false;
            }
            targets |= 1 << f.extract(w);
        }
        if id == EncodingId::SVC_EX_exception {
            if written >> 8 & 1 != 0 {
                return false;
            }
            svc = true;
        }
        for f in info.fields.iter().filter(|f| f.name.starts_with('R')) {
            written |= 3 << f.extract(w);
        }
        if info.section().execute.contains("X[30") {
            written |= 1 << 30;
        }
    }
    !(svc && targets >> 8 & 1 != 0)
}

/// Whether `id` accesses memory through a base register `Rn` (loads, stores, atomics).
pub fn is_memory(id: EncodingId) -> bool {
    let info = id.info();
    let file = info.section().file;
    info.field("Rn").is_some()
        && ["ld", "st", "cas", "swp", "prfm", "prfum", "rcw"]
            .iter()
            .any(|p| file.starts_with(p))
}

/// The system calls an SVC of a case makes (the number in X8): ones whose result is the same
/// under qemu-aarch64 and armature on one machine, without side effects, by name and number.
/// `rseq` is one neither implements, so it fails with ENOSYS in both. The ids depend on the
/// user running the check, so stored traces ([`crate::fixtures`]) should not hold them.
pub const SYSCALLS: &[(&str, u64)] = &[
    ("sched_yield", 124),
    ("getuid", 174),
    ("geteuid", 175),
    ("getgid", 176),
    ("getegid", 177),
    ("rseq", 293),
];

/// Points the case's addresses into the scratch region of case `region`: SP always, and for
/// memory instructions the base register `Rn` (a multiple of 16 near the middle) and the offset
/// register `Rm` (small). The register `Rt` a compare-and-branch or test-and-branch tests is
/// made zero, or its tested bit flipped, in a third of the cases, so that both directions are
/// taken. The destination and source registers of a memory copy or set point into the region,
/// and its size register is at most 96. The compare value `Rs` of a compare-and-swap (and `Rs+1`
/// for a pair) is the memory's initial value in two thirds of the cases, so that the swap happens. An
/// SVC gets one of the [`SYSCALLS`] in X8 (chosen by X8's value, which is kept when
/// it is one of them already). The generated values choose the offsets and
/// calls, so they still shrink.
pub fn prepare(case: &mut Case, region: usize) {
    let mid = region_mid(region);
    let s = &mut case.state;
    s.sp = mid - 128 + (s.sp % 16) * 16;
    for &w in &case.words {
        let Some(id) = decode(w, &FeatureSet::all()).encoding() else {
            continue;
        };
        let info = id.info();
        if let (Some(Branch::Offset(_)), Some(rt)) = (branch(id), info.field("Rt")) {
            let rt = rt.extract(w) as usize;
            if rt < 31 && s.x[rt].is_multiple_of(3) {
                s.x[rt] = match (info.field("b5"), info.field("b40"), info.field("sf")) {
                    (Some(b5), Some(b40), _) => {
                        s.x[rt] ^ 1 << (b5.extract(w) << 5 | b40.extract(w))
                    }
                    (_, _, Some(sf)) if sf.extract(w) == 0 => s.x[rt] & !0xffff_ffff,
                    _ => 0,
                };
            }
        }
        if let Some(m) = mops(id) {
            if w >> m.stage_lo & 3 != 0 {
                // The main and epilogue stages use the prologue's registers.
                continue;
            }
            // Destination (and source) anywhere in the middle 512 bytes, a size up to 96.
            let r = |name| info.field(name).map_or(31, |f| f.extract(w) as usize);
            let (d, rs, n) = (r("Rd"), r("Rs"), r("Rn"));
            if d < 31 {
                s.x[d] = mid - 256 + s.x[d] % 512;
            }
            if m.copy && rs < 31 {
                s.x[rs] = mid - 256 + s.x[rs] % 512;
            }
            if n < 31 {
                s.x[n] %= 97;
            }
            continue;
        }
        if !is_memory(id) {
            continue;
        }
        if let Some(rm) = info.field("Rm").map(|f| f.extract(w) as usize) {
            if rm < 31 {
                s.x[rm] %= 64;
            }
        }
        let rn = info.field("Rn").map_or(31, |f| f.extract(w) as usize);
        if rn < 31 {
            s.x[rn] = mid - 256 + (s.x[rn] % 32) * 16;
        }
        // An ordered access must be aligned: LDAPUR and STLUR take the base less their offset,
        // so that the address they access is (SP too; neither engine checks SP alignment).
        if id.name().ends_with("_ldapstl_unscaled") {
            if let Some(imm9) = info.field("imm9") {
                let imm9 = u64::from(imm9.extract(w));
                let offset = ((imm9 << 55) as i64 >> 55) as u64;
                let base = if rn < 31 { &mut s.x[rn] } else { &mut s.sp };
                *base = base.wrapping_sub(offset);
            }
        }
        if let (Some(rs), true) = (info.field("Rs"), info.section().file.starts_with("cas")) {
            // In two thirds of the cases the compare value is the memory's, so that the swap happens.
            let rs = rs.extract(w) as usize;
            let addr = if rn == 31 { s.sp } else { s.x[rn] };
            let pair = info.section().file.starts_with("casp");
            // CASP's register pairs: 32 or 64 bits each (`sz`, bit 30).
            let half = if w >> 30 & 1 == 1 { 8 } else { 4 };
            let regs: &[(usize, u64)] = if pair {
                &[(rs, 0), (rs + 1, half)]
            } else {
                &[(rs, 0)]
            };
            if rs < 31 && !s.x[rs].is_multiple_of(3) && regs.iter().all(|&(r, _)| r != rn) {
                for &(r, off) in regs.iter().filter(|&&(r, _)| r < 31) {
                    s.x[r] = crate::program::scratch_u64(addr + off);
                }
            }
        }
    }
    // Last, so that no other register choice changes the system call number.
    let all = FeatureSet::all();
    if case
        .words
        .iter()
        .any(|&w| decode(w, &all).encoding() == Some(EncodingId::SVC_EX_exception))
        && !SYSCALLS.iter().any(|&(_, nr)| nr == s.x[8])
    {
        s.x[8] = SYSCALLS[(s.x[8] % SYSCALLS.len() as u64) as usize].1;
    }
}

/// Prepares the cases of one program: case `i` with [`prepare`] in region `i`, then the
/// target register of each register branch (BR, BLR, RET) is set to one of the landing
/// instructions after it, [`branch_offset`] instructions on, chosen by its generated value.
/// The case's address comes from the program layout ([`test_pcs`]).
pub fn prepare_all(cases: &mut [Case]) {
    for (i, c) in cases.iter_mut().enumerate() {
        prepare(c, i);
    }
    let pcs = test_pcs(cases);
    let all = FeatureSet::all();
    for (c, pc) in cases.iter_mut().zip(pcs) {
        for (k, &w) in c.words.iter().enumerate() {
            let Some(Branch::Register(f)) = decode(w, &all).encoding().and_then(branch) else {
                continue;
            };
            let rn = f.extract(w) as usize;
            if rn < 31 {
                let choice = (c.state.x[rn] % u64::from(LANDING)) as u32;
                c.state.x[rn] = pc + 4 * (k as u64 + branch_offset(choice) as u64);
            }
        }
    }
}

/// The encodings a selector names: `FEAT_*` a feature, `class:NAME` an instr-class (`general`,
/// `float`, `advsimd`, ...), otherwise a glob over encoding ids (`ADD_*`, `*`). Several
/// selectors separated by commas select the union.
pub fn select_encodings(selector: &str) -> Vec<EncodingId> {
    let parts: Vec<&str> = selector.split(',').map(str::trim).collect();
    ENCODINGS
        .iter()
        .filter(|e| {
            parts.iter().any(|&selector| {
                if selector.starts_with("FEAT_") {
                    e.feature.name() == selector || e.features.iter().any(|f| f.name() == selector)
                } else if let Some(class) = selector.strip_prefix("class:") {
                    e.instr_class == class
                } else {
                    crate::known::glob(selector, e.name)
                }
            })
        })
        .map(|e| e.id)
        .collect()
}

/// Why `id` cannot be tested with `table`, if it cannot.
pub fn skip_reason(
    id: EncodingId,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Option<String> {
    if table.get(id).is_none() {
        if mops(id).is_some() {
            return Some(
                "not implemented: armature has no FEAT_MOPS semantics (the generator makes the \
                 prologue, main, epilogue triples ready for them)"
                    .to_string(),
            );
        }
        return Some("not implemented".to_string());
    }
    if let Some(why) = crate::known::not_generated(id) {
        return Some(format!("not generated: {why}"));
    }
    if !has_words(id, features) {
        return Some("no word of the pattern decodes to this encoding".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    /// The encodings the generator makes cases of for which `keep` holds.
    fn generated_where(keep: impl Fn(EncodingId) -> bool) -> Vec<EncodingId> {
        ENCODINGS
            .iter()
            .map(|e| e.id)
            .filter(|&id| keep(id) && crate::known::not_generated(id).is_none())
            .collect()
    }

    #[test]
    fn words_decode_to_their_encoding() {
        let features = FeatureSet::all();
        let mut runner = TestRunner::deterministic();
        for name in [
            "ADD_64_addsub_imm",
            "ADCS_32_addsub_carry",
            "FADD_D_floatdp2",
            "LDR_64_ldst_pos",
        ] {
            let id = EncodingId::from_name(name).expect(name);
            let s = word(id, features);
            for _ in 0..50 {
                let w = s.new_tree(&mut runner).unwrap().current();
                assert_eq!(decode(w, &features), Decoded::Insn(id), "{w:#010x}");
            }
        }
    }

    #[test]
    fn prepare_points_bases_into_the_region() {
        let id = EncodingId::from_name("LDR_64_ldst_pos").unwrap();
        let mut runner = TestRunner::deterministic();
        let w = word(id, FeatureSet::all())
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut c = Case {
            words: vec![w],
            state: State::default(),
        };
        c.state.x = [u64::MAX; 31];
        prepare(&mut c, 3);
        let rn = (w >> 5 & 31) as usize;
        let base = if rn == 31 { c.state.sp } else { c.state.x[rn] };
        assert!(base.abs_diff(region_mid(3)) <= 256, "{base:#x}");
        assert_eq!(base % 16, 0);
    }

    /// The target of the branch `w` at `pc` in `state`, or `None` for XZR.
    fn target(id: EncodingId, w: u32, pc: u64, state: &State) -> Option<u64> {
        match branch(id).expect("a branch") {
            Branch::Offset(f) => Some(pc.wrapping_add_signed(4 * signed_field(f, w))),
            Branch::Register(f) => state.x.get(f.extract(w) as usize).copied(),
        }
    }

    #[test]
    fn branch_targets_stay_inside_their_case() {
        let features = FeatureSet::all();
        let mut runner = TestRunner::deterministic();
        let branches: Vec<EncodingId> = generated_where(|id| branch(id).is_some());
        for name in [
            "B_only_branch_imm",
            "CBZ_64_compbranch",
            "TBNZ_only_testbranch",
            "RET_64R_branch_reg",
        ] {
            assert!(
                branches.iter().any(|id| id.name() == name),
                "{name} is no branch"
            );
        }
        for &id in &branches {
            let name = id.name();
            let add = EncodingId::from_name("ADD_64_addsub_imm").unwrap();
            let seqs = words(&[id, add], 3, features);
            let states = state();
            // Whether the branch went each way, for the conditional ones.
            let mut taken = [false; 2];
            // Whether the target was forward and backward.
            let mut directions = [false; 2];
            for _ in 0..20 {
                let mut cases: Vec<Case> = (0..10)
                    .map(|_| Case {
                        words: seqs.new_tree(&mut runner).unwrap().current(),
                        state: states.new_tree(&mut runner).unwrap().current(),
                    })
                    .collect();
                prepare_all(&mut cases);
                let p = crate::program::Program::build(&cases);
                for (i, c) in cases.iter().enumerate() {
                    for (k, &w) in c.words.iter().enumerate() {
                        assert!(
                            matches!(decode(w, &features), Decoded::Insn(d) if d == id || d == add)
                        );
                        if decode(w, &features) != Decoded::Insn(id) {
                            continue;
                        }
                        let pc = p.test_pc[i] + 4 * k as u64;
                        let Some(t) = target(id, w, pc, &c.state) else {
                            continue;
                        };
                        let forward = t >= pc + 8 && t <= p.test_end[i];
                        // A backward target is a pad that jumps to the end of the case.
                        let pad = (p.case_pc[i]..p.test_pc[i]).contains(&t)
                            && p.word_at(t).and_then(|b| {
                                let f = branch(EncodingId::from_name("B_only_branch_imm")?)?;
                                let Branch::Offset(f) = f else { return None };
                                Some(t.wrapping_add_signed(4 * signed_field(f, b)))
                            }) == Some(p.test_end[i]);
                        assert!(
                            t % 4 == 0 && (forward || pad),
                            "{name} {w:#010x} at {pc:#x} goes to {t:#x}, outside {:#x}..={:#x} \
                             and no backward pad of {:#x}..{:#x}",
                            p.test_pc[i],
                            p.test_end[i],
                            p.case_pc[i],
                            p.test_pc[i],
                        );
                        directions[pad as usize] = true;
                        let info = id.info();
                        if let (Some(rt), 0) = (info.field("Rt"), k) {
                            let x = c.state.x.get(rt.extract(w) as usize).copied().unwrap_or(0);
                            let tested =
                                match (info.field("b5"), info.field("b40"), info.field("sf")) {
                                    (Some(b5), Some(b40), _) => {
                                        x >> (b5.extract(w) << 5 | b40.extract(w)) & 1
                                    }
                                    (_, _, Some(sf)) if sf.extract(w) == 0 => x & 0xffff_ffff,
                                    _ => x,
                                };
                            taken[(tested == 0) as usize] = true;
                        }
                    }
                }
            }
            if id.info().field("Rt").is_some() {
                assert_eq!(
                    taken,
                    [true, true],
                    "{name}: the tested value is always or never zero"
                );
            }
            if let Some(Branch::Offset(_)) = branch(id) {
                assert_eq!(
                    directions,
                    [true, true],
                    "{name}: forward and backward targets"
                );
            }
        }
    }

    #[test]
    fn register_targets_are_not_written_before_the_branch() {
        let check = |words: &[u32], want: bool| {
            assert_eq!(register_targets_kept(words), want, "{words:08x?}");
        };
        check(&[0xd61f_0020], true); // br x1
        check(&[0x9100_0421, 0xd61f_0020], false); // add x1, x1, #1; br x1
        check(&[0x9100_0442, 0xd61f_0020], true); // add x2, x2, #1; br x1
        check(&[0x9400_0002, 0xd65f_03c0], false); // bl #8; ret
        check(&[0xd65f_03c0, 0x9400_0002], true); // ret; bl #8
        check(&[0xd400_0001], true); // svc #0
        check(&[0x9100_0508, 0xd400_0001], false); // add x8, x8, #1; svc #0
        check(&[0xd400_0001, 0x9100_0508], true); // svc #0; add x8, x8, #1
        check(&[0xd400_0001, 0xd61f_0100], false); // svc #0; br x8
        check(&[0xd61f_0100, 0xd400_0001], false); // br x8; svc #0
    }

    #[test]
    fn memory_copies_and_sets_are_generated_as_triples() {
        let features = FeatureSet::all();
        let mut runner = TestRunner::deterministic();
        let ids: Vec<EncodingId> = generated_where(|id| mops(id).is_some());
        // CPY{F}{P,M,E} with 16 option variants each, SET{P,M,E} with 4.
        assert_eq!(ids.len(), 2 * 3 * 16 + 3 * 4, "{ids:?}");
        let stage = |id: EncodingId, w: u32| w >> mops(id).unwrap().stage_lo & 3;
        for &id in &ids {
            let m = mops(id).unwrap();
            let seqs = words(&[id], 2, features);
            for _ in 0..10 {
                let mut cases = vec![Case {
                    words: seqs.new_tree(&mut runner).unwrap().current(),
                    state: state().new_tree(&mut runner).unwrap().current(),
                }];
                prepare_all(&mut cases);
                let c = &cases[0];
                assert!(matches!(c.words.len(), 3 | 6), "{:08x?}", c.words);
                let last = c.words.len() / 3 - 1;
                for (j, t) in c.words.chunks(3).enumerate() {
                    let decoded: Vec<EncodingId> = t
                        .iter()
                        .map(|&w| decode(w, &features).encoding().expect("decodes"))
                        .collect();
                    let name = id.name();
                    for (k, (&w, &d)) in t.iter().zip(&decoded).enumerate() {
                        assert_eq!(mops(d), Some(m), "{name}: {w:#010x} is {}", d.name());
                        assert_eq!(stage(d, w), k as u32, "{name}: {w:#010x} out of order");
                        assert_eq!(d.info().section().file, id.info().section().file, "{name}");
                        // The same registers and options: only the stage bits differ.
                        assert_eq!(w & !(3 << m.stage_lo), t[0] & !(3 << m.stage_lo), "{name}");
                        assert!(!crate::known::constrained_unpredictable(d, w), "{w:#010x}");
                    }
                    if j != last {
                        // A later triple may reuse these registers.
                        continue;
                    }
                    let r = |name| id.info().field(name).unwrap().extract(t[0]) as usize;
                    let mid = region_mid(0);
                    let inside = |a: u64| a.abs_diff(mid) <= 256;
                    assert!(inside(c.state.x[r("Rd")]), "{name}: Rd");
                    if m.copy {
                        assert!(inside(c.state.x[r("Rs")]), "{name}: Rs");
                    }
                    assert!(c.state.x[r("Rn")] <= 96, "{name}: size");
                }
            }
        }
        // Nothing runs them yet: the skip reason says so.
        let mut table = SemTable::<Interp>::default();
        armature_extensions::register_all(&mut table);
        for &id in &ids {
            if table.get(id).is_none() {
                let why = skip_reason(id, &table, &features).unwrap();
                assert!(why.contains("no FEAT_MOPS semantics"), "{why}");
            }
        }
    }

    /// Whether `id`'s pseudocode reads or writes memory.
    fn accesses_memory(id: EncodingId) -> bool {
        let execute = id.info().section().execute;
        ["Mem[", "MemAtomic", "MemLoad", "MemStore", "MemSingle"]
            .iter()
            .any(|m| execute.contains(m))
    }

    #[test]
    fn memory_operands_point_into_scratch_memory() {
        use crate::program::{scratch_pattern, Program};
        let mut table = SemTable::<Interp>::default();
        armature_extensions::register_all(&mut table);
        let features = armature_core::linux::implemented_features(&table);
        let settings = crate::campaign::Settings {
            cases: 8,
            ..crate::campaign::Settings::default()
        };
        let mut checked = 0;
        let mut bad = Vec::new();
        for id in table.implemented() {
            if !accesses_memory(id) || skip_reason(id, &table, &features).is_some() {
                continue;
            }
            checked += 1;
            let cases = crate::campaign::generate(id, &settings, &features).unwrap();
            let mut swapped = false;
            for c in cases {
                let mut c = [c];
                prepare_all(&mut c);
                let p = Program::build(&c);
                let run = crate::armature::run(&p, &crate::qemu::log_ranges(&p), &table, &features);
                match run.stop {
                    Some(t) if matches!(t.reason.as_str(), r if r.starts_with("Fault")) => bad
                        .push(format!(
                            "{} {:#010x}: {}",
                            id.name(),
                            c[0].words[0],
                            t.reason
                        )),
                    _ => {}
                }
                swapped |= !run.scratch.is_empty() && run.scratch != scratch_pattern(p.scratch.1);
            }
            if id.info().section().file.starts_with("cas") && !swapped {
                bad.push(format!("{}: no case swapped", id.name()));
            }
        }
        assert!(checked > 400, "{checked} encodings");
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn selectors() {
        assert!(select_encodings("ADD_*")
            .iter()
            .all(|id| id.name().starts_with("ADD_")));
        assert!(select_encodings("FEAT_FP16").len() > 10);
        assert!(!select_encodings("class:float").is_empty());
    }
}
