//! Cross-checks the disassembler against `llvm-mc-19 --disassemble -triple=aarch64 -mattr=+all`
//! on uniformly random words.
//!
//! Bars: validity agreement (both valid or both invalid) of at least 99% of all words, mnemonic
//! agreement of at least 98% and exact text agreement of at least 90% of the words both accept.
//! The report with the differences classified is written to
//! `$CARGO_TARGET_TMPDIR/llvm_disas_report.txt` and printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use armature_conformance::{llvm_disassemble, mnemonic, normalize, SplitMix64};
use armature_core::disas::{disassemble, Style};
use armature_core::isa::{decode, Decoded, FeatureSet};

const SEED: u64 = 0x4152_4d41_5455_5245;
const WORDS: usize = 20_000;
/// Examples listed per class in the report.
const EXAMPLES: usize = 3;
/// Classes listed per kind in the report.
const CLASSES: usize = 25;

/// One kind of difference, broken down by class (usually an encoding id).
#[derive(Default)]
struct Kind {
    total: usize,
    classes: BTreeMap<String, (usize, Vec<String>)>,
}

impl Kind {
    fn add(&mut self, class: String, example: String) {
        self.total += 1;
        let entry = self.classes.entry(class).or_default();
        entry.0 += 1;
        if entry.1.len() < EXAMPLES {
            entry.1.push(example);
        }
    }

    fn write(&self, title: &str, out: &mut String) {
        let _ = writeln!(out, "\n## {title}: {} words", self.total);
        let mut classes: Vec<_> = self.classes.iter().collect();
        classes.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (class, (n, examples)) in classes.iter().take(CLASSES) {
            let _ = writeln!(out, "{n:6}  {class}");
            for e in examples {
                let _ = writeln!(out, "        {e}");
            }
        }
        if classes.len() > CLASSES {
            let rest: usize = classes[CLASSES..].iter().map(|c| c.1 .0).sum();
            let _ = writeln!(
                out,
                "        ... {} more classes, {rest} words",
                classes.len() - CLASSES
            );
        }
    }
}

fn percent(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

#[test]
fn agrees_with_llvm_mc() {
    let count = std::env::var("LLVM_DISAS_WORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(WORDS);
    let mut rng = SplitMix64(SEED);
    let words: Vec<u32> = (0..count).map(|_| rng.next_u32()).collect();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let llvm = llvm_disassemble(&words, scratch).unwrap_or_else(|e| panic!("{e}"));

    let all = FeatureSet::all();
    let (mut valid_agree, mut both, mut mnemonic_agree, mut text_agree) = (0, 0, 0, 0);
    let mut llvm_only = Kind::default();
    let mut ours_only = Kind::default();
    let mut mnemonic_diff = Kind::default();
    let mut text_diff = Kind::default();
    for (&w, theirs) in words.iter().zip(&llvm) {
        let ours = disassemble(w, 0, Style::Relative);
        match (&ours, theirs) {
            (None, None) => valid_agree += 1,
            (Some(d), Some(t)) => {
                valid_agree += 1;
                both += 1;
                let text = normalize(&d.text);
                let class = match d.alias {
                    Some(a) => format!("{} (alias {a})", d.id.name()),
                    None => d.id.name().to_string(),
                };
                let example = format!("{w:#010x}  ours `{text}`  llvm `{t}`");
                if mnemonic(&text) == mnemonic(t) {
                    mnemonic_agree += 1;
                    if text == *t {
                        text_agree += 1;
                    } else {
                        text_diff.add(class, example);
                    }
                } else {
                    mnemonic_diff.add(class, example);
                }
            }
            (None, Some(t)) => {
                let class = match decode(w, &all) {
                    Decoded::Unallocated => format!("unallocated in the XML: {}", mnemonic(t)),
                    Decoded::Undefined { id, guard } => {
                        format!(
                            "UNDEFINED by guard `{}` of {}",
                            id.info().guards.get(usize::from(guard)).unwrap_or(&"?"),
                            id.name()
                        )
                    }
                    Decoded::FeatureDisabled { id, feature } => {
                        format!("feature {} disabled: {}", feature.name(), id.name())
                    }
                    Decoded::Insn(id) => {
                        format!("reserved value in the print form of {}", id.name())
                    }
                };
                llvm_only.add(class, format!("{w:#010x}  llvm `{t}`"));
            }
            (Some(d), None) => {
                ours_only.add(
                    d.id.name().to_string(),
                    format!("{w:#010x}  ours `{}`", d.text),
                );
            }
        }
    }

    let validity = percent(valid_agree, words.len());
    let mnemonics = percent(mnemonic_agree, both);
    let texts = percent(text_agree, both);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# armature disassembler vs {} on {} random words (seed {SEED:#x})",
        armature_conformance::LLVM_MC,
        words.len()
    );
    let _ = writeln!(
        report,
        "validity agreement: {validity:.2}% ({valid_agree} of {})",
        words.len()
    );
    let _ = writeln!(
        report,
        "mnemonic agreement: {mnemonics:.2}% ({mnemonic_agree} of {both} both accept)"
    );
    let _ = writeln!(
        report,
        "text agreement:     {texts:.2}% ({text_agree} of {both} both accept)"
    );
    llvm_only.write(
        "valid for LLVM only (newer extensions, decoder guards, reserved values)",
        &mut report,
    );
    ours_only.write("valid for armature only", &mut report);
    mnemonic_diff.write("mnemonic differs", &mut report);
    text_diff.write("operands differ", &mut report);
    let path = scratch.join("llvm_disas_report.txt");
    std::fs::write(&path, &report).expect("write the report");
    println!("{report}\nreport written to {}", path.display());

    assert!(
        validity >= 99.0,
        "validity agreement {validity:.2}% is below 99%"
    );
    assert!(
        mnemonics >= 98.0,
        "mnemonic agreement {mnemonics:.2}% is below 98%"
    );
    assert!(texts >= 90.0, "text agreement {texts:.2}% is below 90%");
}
