//! The one place where conformance campaigns declare what they do not test and which
//! differences from qemu-aarch64 are expected.

use armature_core::isa::{decode, EncodingId, FeatureSet};

use crate::program::{Case, State};

/// Sections (XML files, without `.xml`, `*` globs) whose encodings are not generated, and why.
/// A campaign reports them as skipped with this reason. Branches are generated with their
/// targets inside the case ([`crate::gen::branch`]), system calls with a harmless number in X8
/// ([`crate::gen::SYSCALLS`]); the exception-generating instructions that are UNDEFINED at EL0
/// (HVC, SMC, HLT, ERET, DRPS, DCPS1-3) and BRK and UDF are generated, and the signal they raise
/// (SIGILL, SIGTRAP) is compared with the reference's.
pub const NOT_GENERATED: &[(&str, &str)] = &[
    (
        "setgp*",
        "memory sets with tag setting (FEAT_MOPS with FEAT_MTE) need tagged memory, which the \
         test program does not map",
    ),
    (
        "gcs*",
        "the guarded control stack is not set up in the test program",
    ),
    ("tstart", "transactions (FEAT_TME) branch on failure"),
];

/// Differences from qemu-aarch64 that are understood and accepted: `(encoding glob, the
/// register or memory the difference is in, why)`. A mismatch of a matching encoding is
/// reported as "known" instead of failing the campaign.
pub const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "LDAPUR*_ldapstl_unscaled",
        "signal",
        "qemu-aarch64 7.2 raises SIGBUS for an unaligned load-acquire (FEAT_LRCPC2 without \
         FEAT_LSE2 alignment relaxation); armature performs the access",
    ),
    (
        "STLUR*_ldapstl_unscaled",
        "signal",
        "qemu-aarch64 7.2 raises SIGBUS for an unaligned store-release (FEAT_LRCPC2 without \
         FEAT_LSE2 alignment relaxation); armature performs the access",
    ),
    (
        "FCVTZS_asisdshf_C",
        "V",
        "qemu-aarch64 7.2 writes the half-precision scalar result sign-extended to 32 bits \
         (`fcvtzs h0, h8, #12` gives 0xffff8000); Arm's V[d, 16] = result zero-extends, as \
         armature does",
    ),
];

/// A difference from qemu-aarch64 that only some inputs show. A mismatching single-instruction
/// case of a matching encoding whose input `applies` accepts counts as known; every other
/// mismatch of the encoding still fails the campaign.
pub struct KnownCase {
    /// Encoding glob.
    pub encoding: &'static str,
    /// The register the difference is in.
    pub location: &'static str,
    /// Whether the instruction `word` run from `state` shows the difference.
    pub applies: fn(word: u32, state: &State) -> bool,
    pub why: &'static str,
}

/// Differences from qemu-aarch64 that only some inputs show, where armature follows Arm.
pub const KNOWN_CASES: &[KnownCase] = &[
    KnownCase {
        encoding: "MRS_RS_systemmove",
        location: "signal",
        applies: sme_system_register,
        why: "qemu-aarch64 -cpu max has FEAT_SME, so EL0 reads TPIDR2_EL0; armature implements no \
              SME, and the register is UNDEFINED without it, as on a core without SME",
    },
    KnownCase {
        encoding: "SYS_CR_systeminstrs",
        location: "signal",
        applies: mte_cache_operation,
        why: "qemu-aarch64 -cpu max has FEAT_MTE2, so EL0 may run DC GVA/GZVA/CGVAC/CGDVAC/CGVAP/\
              CGDVAP/CGVADP/CGDVADP; armature implements no MTE, and they are UNDEFINED without it",
    },
    KnownCase {
        encoding: "FJCVTZS_32D_float2int",
        location: "NZCV",
        applies: fjcvtzs_flushed_positive_denormal,
        why: "qemu-aarch64 7.2 sets Z for a positive denormal that FPCR.FZ flushes to zero; Arm's \
          FPToFixedJS clears it (`elsif sign == '0' && value == 0.0 && !IsZero(op<51:0>) then \
          z = '0'`), as armature does and as qemu does since \"target/arm: Fix FJCVTZS vs \
          flush-to-zero\" (July 2024, qemu issue #2375)",
    },
];

/// The `op1:CRn:CRm:op2` fields of a system instruction or register move, bits 18:5.
fn system_fields(word: u32) -> (u32, u32, u32, u32) {
    (
        word >> 16 & 7,
        word >> 12 & 15,
        word >> 8 & 15,
        word >> 5 & 7,
    )
}

/// MRS or MSR of TPIDR2_EL0 (`S3_3_C13_C0_5`, FEAT_SME).
fn sme_system_register(word: u32, _: &State) -> bool {
    system_fields(word) == (3, 13, 0, 5)
}

/// The EL0 data cache operations of FEAT_MTE2: `DC` with op1 = 3, CRn = 7, CRm = 4 (GVA,
/// GZVA), 10 (CGVAC, CGDVAC), 12 (CGVAP, CGDVAP) or 13 (CGVADP, CGDVADP).
fn mte_cache_operation(word: u32, _: &State) -> bool {
    let (op1, crn, crm, op2) = system_fields(word);
    op1 == 3 && crn == 7 && matches!((crm, op2), (4, 3 | 4) | (10 | 12 | 13, 3 | 5))
}

/// FJCVTZS with FPCR.FZ set on a positive denormal double in `V[Rn]`.
fn fjcvtzs_flushed_positive_denormal(word: u32, state: &State) -> bool {
    let d = state.v[(word >> 5 & 31) as usize] as u64;
    state.fpcr & 1 << 24 != 0 && d != 0 && d < 1 << 52
}

/// The declared difference a mismatching `case` of the encodings `ids` shows, if it is one of
/// [`KNOWN_CASES`].
pub fn known_case(ids: &[EncodingId], case: &Case) -> Option<&'static str> {
    let &[word] = case.words.as_slice() else {
        return None;
    };
    let id = decode(word, &FeatureSet::all()).encoding()?;
    KNOWN_CASES
        .iter()
        .find(|k| {
            ids.contains(&id) && glob(k.encoding, id.name()) && (k.applies)(word, &case.state)
        })
        .map(|k| k.why)
}

/// Register overlaps that Arm's pseudocode makes CONSTRAINED UNPREDICTABLE (a
/// `ConstrainUnpredictable` call on `t == t2`, `t == n` with writeback, `s == t`, ...):
/// `(condition as written in the pseudocode, first field, second field)`. Words where the
/// condition holds are not generated, since qemu-aarch64 and armature may each pick another
/// permitted behaviour (e.g. `LDP x5, x5, [x1]` loads either value; `LDXP x1, x1` is UNDEFINED in
/// armature and a load in qemu).
pub const CONSTRAINED_OVERLAPS: &[(&str, &str, &str)] = &[
    ("t == t2", "Rt", "Rt2"),
    ("t == n", "Rt", "Rn"),
    ("n == t", "Rn", "Rt"),
    ("t2 == n", "Rt2", "Rn"),
    ("s == t", "Rs", "Rt"),
    ("s == n", "Rs", "Rn"),
    ("s == t2", "Rs", "Rt2"),
];

/// Whether `word` (of encoding `id`) is CONSTRAINED UNPREDICTABLE by [`CONSTRAINED_OVERLAPS`],
/// or a memory copy or set (FEAT_MOPS) whose registers overlap or name register 31
/// (`Unpredictable_MOPSOVERLAP31`: `s == n || s == d || n == d || d == 31 || n == 31`, and
/// `s == 31` for a copy).
pub fn constrained_unpredictable(id: EncodingId, word: u32) -> bool {
    let info = id.info();
    let code = [info.decode, info.section().execute];
    if info.decode.contains("Unpredictable_MOPSOVERLAP31") {
        let r = |name| info.field(name).map_or(31, |f| f.extract(word));
        let (d, s, n) = (r("Rd"), r("Rs"), r("Rn"));
        let s31 = s == 31 && info.decode.contains("s == 31");
        return s == n || s == d || n == d || d == 31 || n == 31 || s31;
    }
    CONSTRAINED_OVERLAPS.iter().any(|&(cond, a, b)| {
        let (Some(fa), Some(fb)) = (info.field(a), info.field(b)) else {
            return false;
        };
        let (va, vb) = (fa.extract(word), fb.extract(word));
        // Overlaps with register 31 as SP (`n != 31` in the pseudocode) are fine.
        let sp = (a == "Rn" || b == "Rn") && va == 31;
        // The load-pair check (`memop == MemOp_LOAD && t == t2`) sits in the Postdecode
        // pseudocode, which the table does not keep: every load with Rt and Rt2 has it.
        let pair_load = cond == "t == t2" && info.section().file.starts_with("ld");
        va == vb && !sp && (pair_load || code.iter().any(|c| c.contains(cond)))
    })
}

/// Why the encoding `id` is not generated, if it is not.
pub fn not_generated(id: EncodingId) -> Option<&'static str> {
    let info = id.info();
    let file = info.section().file.trim_end_matches(".xml");
    NOT_GENERATED
        .iter()
        .find(|(pat, _)| glob(pat, file))
        .map(|(_, why)| *why)
}

/// The declared difference for `id`, if any.
pub fn known_difference(id: EncodingId) -> Option<&'static str> {
    KNOWN_DIFFERENCES
        .iter()
        .find(|(pat, _, _)| glob(pat, id.name()))
        .map(|(_, _, why)| *why)
}

/// Matches `text` against a pattern where `*` is any run of characters and `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((b'?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_cases_name_only_their_operations() {
        let s = State::default();
        // mrs x0, TPIDR2_EL0 and msr TPIDR2_EL0, x0; not TPIDR_EL0.
        assert!(sme_system_register(0xd53b_d0a0, &s));
        assert!(sme_system_register(0xd51b_d0a0, &s));
        assert!(!sme_system_register(0xd53b_d040, &s));
        // dc cgvap, x0 and dc gva, x0; not dc cvap, x0 or dc zva, x0.
        assert!(mte_cache_operation(0xd50b_7c60, &s));
        assert!(mte_cache_operation(0xd50b_7460, &s));
        assert!(!mte_cache_operation(0xd50b_7c20, &s));
        assert!(!mte_cache_operation(0xd50b_7420, &s));
    }

    #[test]
    fn globs() {
        assert!(glob("ADD_*", "ADD_64_addsub_imm"));
        assert!(glob("*", ""));
        assert!(glob("A?D_*imm", "ADD_64_addsub_imm"));
        assert!(!glob("ADD_*", "ADDS_64_addsub_imm"));
        assert!(!glob("bl", "blr"));
    }

    #[test]
    fn overlapping_pair_loads_are_constrained_unpredictable() {
        let ldp = EncodingId::from_name("LDP_32_ldstpair_off").unwrap();
        assert!(constrained_unpredictable(ldp, 0x295a_c1d0)); // ldp w16, w16, [x14, #212]
        assert!(!constrained_unpredictable(ldp, 0x295a_c5d0)); // ldp w16, w17, [x14, #212]
        let post = EncodingId::from_name("LDPSW_64_ldstpair_post").unwrap();
        assert!(constrained_unpredictable(post, 0x68fa_5034)); // ldpsw x20, x20, [x1], #-48
    }

    #[test]
    fn fjcvtzs_flushed_denormals_are_known_cases() {
        let id = EncodingId::from_name("FJCVTZS_32D_float2int").unwrap();
        let mut case = Case {
            words: vec![0x1e7e_0002], // fjcvtzs w2, d0
            state: State::default(),
        };
        case.state.fpcr = 1 << 24;
        case.state.v[0] = 0x00fc_ff00;
        assert!(known_case(&[id], &case).is_some());
        // Not flushed, negative, or an exact zero: these must agree with qemu.
        for (fpcr, d) in [
            (0, 0x00fc_ff00),
            (1 << 24, 0x8000_0000_00fc_ff00),
            (1 << 24, 0),
        ] {
            case.state.fpcr = fpcr;
            case.state.v[0] = d;
            assert_eq!(known_case(&[id], &case), None);
        }
    }

    #[test]
    fn branches_and_exceptions_are_generated() {
        for (name, generated) in [
            ("B_only_branch_imm", true),
            ("BLR_64_branch_reg", true),
            ("TBNZ_only_testbranch", true),
            ("ADD_64_addsub_imm", true),
            ("SVC_EX_exception", true),
            ("HVC_EX_exception", true),
            ("BRK_EX_exception", true),
            ("ERET_64E_branch_reg", true),
            ("GCSSTR_64_ldst_gcs", false),
            ("CPYP_CPY_memcms", true),
            ("SETE_SET_memcms", true),
            ("SETGP_SET_memcms", false),
            ("TSTART_BR_systemresult", false),
        ] {
            let id = EncodingId::from_name(name).expect(name);
            assert_eq!(not_generated(id).is_none(), generated, "{name}");
        }
    }
}
