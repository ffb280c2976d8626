//! Decoder tests: known words, every encoding's own patterns, and (ignored) all 2^32 words.

use proptest::prelude::*;

use super::*;

/// Decodes `word` with every feature enabled except `without`, and compares a short verdict.
fn check_with(word: u32, without: &[Feature], expect: &str) {
    let features = without.iter().fold(FeatureSet::all(), |s, &f| s.without(f));
    let got = match decode(word, &features) {
        Decoded::Insn(id) => id.name().to_string(),
        Decoded::Unallocated => "unallocated".into(),
        Decoded::Undefined { id, .. } => format!("undefined {}", id.name()),
        Decoded::FeatureDisabled { id, feature } => {
            format!("disabled {} {}", id.name(), feature.name())
        }
    };
    assert_eq!(got, expect, "word {word:#010x}");
}

fn check(word: u32, expect: &str) {
    check_with(word, &[], expect);
}

#[test]
fn known_words() {
    check(0x9100_0484, "ADD_64_addsub_imm");
    check(0x1100_0484, "ADD_32_addsub_imm");
    check(0x8b04_0063, "ADD_64_addsub_shift");
    check(0xd280_0020, "MOVZ_64_movewide");
    check(0xd65f_03c0, "RET_64R_branch_reg");
    check(0xd503_201f, "NOP_HI_hints");
    check(0xd503_2fff, "HINT_HM_hints");
    check(0x54ff_ffad, "B_only_condbranch");
    check(0xd400_0001, "SVC_EX_exception");
    check(0x0480_1000, "add_z_p_zz_");
    check(0x4ea1_1c20, "ORR_asimdsame_only");
    check(0x1e2e_1000, "FMOV_S_floatimm");
    check(0xf940_0000, "LDR_64_ldst_pos");
    check(0xffff_ffff, "unallocated");
    // ADD (shifted register) with shift == '11' is reserved by a decode guard.
    check(0x8bc1_0020, "undefined ADD_64_addsub_shift");
    // A 32-bit shift amount of 32 or more is UNDEFINED.
    check(0x0b01_8020, "undefined ADD_32_addsub_shift");
    check_with(
        0x0480_1000,
        &[Feature::FEAT_SVE, Feature::FEAT_SME],
        "disabled add_z_p_zz_ FEAT_SVE",
    );
    check_with(
        0xf820_0020,
        &[Feature::FEAT_LSE],
        "disabled LDADD_64_memop FEAT_LSE",
    );
}

#[test]
fn metadata_is_consistent() {
    for (i, e) in ENCODINGS.iter().enumerate() {
        assert_eq!(e.id as usize, i, "{} is out of place", e.name);
        assert_eq!(EncodingId::from_name(e.name), Some(e.id));
        assert_eq!(e.value & !e.mask, 0, "{}: value outside mask", e.name);
        // Fields lie inside the word and never overlap one another.
        let mut covered = 0u64;
        for f in e.fields {
            for &(hi, w) in f.parts {
                assert!(
                    w >= 1 && hi < 32 && u32::from(w) <= u32::from(hi) + 1,
                    "{}: {}",
                    e.name,
                    f.name
                );
                let bits = ((1u64 << w) - 1) << (u32::from(hi) + 1 - u32::from(w));
                assert_eq!(
                    covered & bits,
                    0,
                    "{}: field {} overlaps another",
                    e.name,
                    f.name
                );
                covered |= bits;
            }
        }
        assert!(e.section().file.ends_with(".xml"), "{}", e.name);
    }
    assert!(ENCODINGS.len() > 3000, "only {} encodings", ENCODINGS.len());
}

/// A word of encoding `e` built from random bits `r`: fixed bits forced, `!=` constraints kept.
fn word_of(e: &EncodingInfo, r: u32) -> Option<u32> {
    let w = (r & !e.mask) | e.value;
    e.matches(w).then_some(w)
}

/// Whether `other` legitimately takes `word` from `e`: it matches and is at least as specific.
fn more_specific(other: &EncodingInfo, e: &EncodingInfo, word: u32) -> bool {
    let spec = |x: &EncodingInfo| {
        let not_bits = x.not.iter().fold(0, |acc, &(m, _)| acc | m);
        x.mask.count_ones() + (not_bits & !x.mask).count_ones()
    };
    other.matches(word) && (spec(other) > spec(e) || (spec(other) == spec(e) && other.id < e.id))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random words of every encoding's pattern decode to that encoding, or to one that overlaps it
    /// and is more specific (the order the decoder documents).
    #[test]
    fn every_encoding_decodes_its_own_words(r in any::<u32>()) {
        let all = FeatureSet::all();
        for e in &ENCODINGS {
            let Some(w) = word_of(e, r) else { continue };
            let got = decode(w, &all);
            match got.encoding() {
                Some(id) if id == e.id => {}
                Some(id) => prop_assert!(more_specific(id.info(), e, w), "{w:#010x}: {} decodes as {}", e.name, id.name()),
                None => prop_assert!(false, "{w:#010x}: {} decodes as unallocated", e.name),
            }
        }
    }
}

/// The encodings that more specific overlapping encodings take words from, as a documented list.
#[test]
fn overlaps_are_documented() {
    let all = FeatureSet::all();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut lines = std::collections::BTreeSet::new();
    for e in &ENCODINGS {
        for _ in 0..64 {
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let Some(w) = word_of(e, (rng >> 32) as u32) else {
                continue;
            };
            if let Some(id) = decode(w, &all).encoding().filter(|&id| id != e.id) {
                lines.insert(format!("{} -> {}", e.name, id.name()));
            }
        }
    }
    insta::assert_snapshot!(lines.into_iter().collect::<Vec<_>>().join("\n"));
}

/// Every one of the 2^32 words decodes without a panic; run with
/// `cargo test --release -p armature-isa -- --ignored decode_all_words`.
#[test]
#[ignore = "walks all 2^32 words: about a minute in release on 2 cores"]
fn decode_all_words() {
    use rayon::prelude::*;
    let all = FeatureSet::all();
    let counts = (0u32..=0xffff)
        .into_par_iter()
        .map(|hi| {
            let mut c = [0u64; 4];
            for lo in 0..=0xffffu32 {
                let k = match decode((hi << 16) | lo, &all) {
                    Decoded::Insn(_) => 0,
                    Decoded::Unallocated => 1,
                    Decoded::Undefined { .. } => 2,
                    Decoded::FeatureDisabled { .. } => 3,
                };
                c[k] += 1;
            }
            c
        })
        .reduce(
            || [0; 4],
            |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]],
        );
    eprintln!(
        "allocated {}, unallocated {}, undefined {}, feature-disabled {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    assert_eq!(counts.iter().sum::<u64>(), 1 << 32);
    assert_eq!(
        counts[3], 0,
        "with every feature enabled no word is feature-disabled"
    );
}
