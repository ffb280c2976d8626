use std::fmt::Write as _;

use super::{disassemble, Style};
use crate::isa::{decode, Decoded, FeatureSet, ENCODINGS};

/// The splitmix64 generator, for deterministic sample words.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn check(word: u32, expect: &str) {
    let got = disassemble(word, 0x1000, Style::Relative).map(|d| d.text);
    assert_eq!(got.as_deref(), Some(expect), "word {word:#010x}");
}

#[test]
fn examples() {
    check(0x91000000, "add\tx0, x0, #0");
    check(0xaa0103e0, "mov\tx0, x1");
    check(0xd503201f, "nop");
    check(0xd65f03c0, "ret");
    check(0x12003c00, "and\tw0, w0, #0xffff");
    check(0xd2a00020, "mov\tx0, #65536");
    check(0x4c402000, "ld1\t{ v0.16b, v1.16b, v2.16b, v3.16b }, [x0]");
    check(0xa040a000, "ld1h\t{ z0.h - z3.h }, pn8/z, [x0]");
    check(0x1e201000, "fmov\ts0, #2.00000000");
    check(0x54000040, "b.eq\t#8");
}

#[test]
fn labels() {
    let d = disassemble(0x90000020, 0x40_1234, Style::Absolute).expect("adrp");
    assert_eq!(d.text, "adrp\tx0, 0x405000");
    let d = disassemble(0x14000400, 0x40_1000, Style::Absolute).expect("b");
    assert_eq!(d.text, "b\t0x402000");
    let d = disassemble(0x14000400, 0x40_1000, Style::Relative).expect("b");
    assert_eq!(d.text, "b\t#4096");
}

#[test]
fn aliases_name_their_encoding_and_reason() {
    let d = disassemble(0xaa0103e0, 0, Style::Relative).expect("mov");
    assert_eq!(d.alias, Some("MOV_ORR_64_log_shift"));
    assert!(
        d.alias_reason.is_some_and(|r| r.contains("Rn == '11111'")),
        "{:?}",
        d.alias_reason
    );
    let d = disassemble(0x8b020020, 0, Style::Relative).expect("add");
    assert_eq!((d.text.as_str(), d.alias), ("add\tx0, x1, x2", None));
}

/// One random word of every eighth encoding, with its text.
#[test]
fn sample_of_encodings() {
    let all = FeatureSet::all();
    let mut out = String::new();
    for info in ENCODINGS.iter().step_by(8) {
        // A seed per encoding keeps each line stable when other encodings change.
        let mut state = 0x5eed_d15a_u64 ^ u64::from(info.value) ^ (u64::from(info.mask) << 32);
        for _ in 0..256 {
            let w = (splitmix(&mut state) as u32 & !info.mask) | info.value;
            if decode(w, &all) != Decoded::Insn(info.id) {
                continue;
            }
            if let Some(d) = disassemble(w, 0, Style::Relative) {
                let _ = writeln!(out, "{w:08x}\t{}\t{}", d.text, info.name);
                break;
            }
        }
    }
    insta::assert_snapshot!("sample_of_encodings", out);
}

/// Random words never panic.
#[test]
fn random_words_do_not_panic() {
    let mut state = 7;
    for _ in 0..200_000 {
        let w = splitmix(&mut state) as u32;
        let _ = disassemble(w, 0xffff_ffff_ffff_f000, Style::Absolute);
    }
}

/// Every word never panics (slow: run with `--ignored` in release mode).
#[test]
#[ignore]
fn all_words_do_not_panic() {
    use rayon::prelude::*;
    let printed: u64 = (0u32..=0xffff)
        .into_par_iter()
        .map(|hi| {
            (0..=0xffffu32)
                .filter(|lo| disassemble((hi << 16) | lo, 0, Style::Relative).is_some())
                .count() as u64
        })
        .sum();
    eprintln!("{printed} of 2^32 words disassemble");
    assert!(printed > 1 << 30, "{printed}");
}
