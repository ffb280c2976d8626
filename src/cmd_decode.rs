//! `armature decode WORD`: everything armature knows about one word.

use std::io::Write;

use anyhow::{bail, Result};
use armature_core::disas::{disassemble, Style};
use armature_core::isa::{decode, Decoded, EncodingInfo, Feature, FeatureSet, ALIASES};

use crate::parse_word;

pub fn run(word: &str, without: &[String], out: &mut dyn Write) -> Result<()> {
    let word = parse_word(word)?;
    let mut features = FeatureSet::all();
    for name in without {
        match Feature::from_name(name) {
            Some(f) => features = features.without(f),
            None => bail!("unknown feature {name:?} (see `armature spec stats` for the list)"),
        }
    }
    writeln!(out, "word:        {word:#010x}")?;
    let decoded = decode(word, &features);
    let id = match decoded {
        Decoded::Unallocated => {
            writeln!(
                out,
                "result:      unallocated (no encoding of the XML has this pattern)"
            )?;
            return Ok(());
        }
        Decoded::Insn(id) => {
            writeln!(out, "result:      allocated")?;
            id
        }
        Decoded::Undefined { id, guard } => {
            let text = id
                .info()
                .guards
                .get(usize::from(guard))
                .copied()
                .unwrap_or("?");
            writeln!(out, "result:      UNDEFINED by the decode guard `{text}`")?;
            id
        }
        Decoded::FeatureDisabled { id, feature } => {
            writeln!(out, "result:      feature not enabled: {}", feature.name())?;
            id
        }
    };
    let info = id.info();
    let section = info.section();
    writeln!(out, "encoding:    {} ({})", info.name, section.title)?;
    writeln!(out, "file:        {}", section.file)?;
    let features: Vec<&str> = info.features.iter().map(|f| f.name()).collect();
    writeln!(
        out,
        "feature:     {}{}",
        info.feature.name(),
        if features.len() > 1 {
            format!(" (any of {})", features.join(", "))
        } else {
            String::new()
        }
    )?;
    writeln!(out, "instr-class: {}", info.instr_class)?;
    writeln!(out, "iclass:      {} ({})", info.iclass, info.psname)?;
    writeln!(out, "pattern:     {}", pattern_text(info))?;
    writeln!(out, "fields:")?;
    for f in info.fields {
        let v = f.extract(word);
        let w = f.width() as usize;
        writeln!(out, "  {:<8} = {v:0w$b} ({v})", f.name)?;
    }
    match disassemble(word, 0, Style::Relative) {
        Some(d) => {
            writeln!(out, "disassembly: {}", d.text.replace('\t', " "))?;
            match (d.alias, d.alias_reason) {
                (Some(alias), reason) => writeln!(
                    out,
                    "alias:       {alias}, preferred because `{}`",
                    reason.unwrap_or("Unconditionally")
                )?,
                (None, _) => {
                    let candidates: Vec<&str> = ALIASES
                        .iter()
                        .filter(|a| a.of == Some(id))
                        .map(|a| a.name)
                        .collect();
                    if candidates.is_empty() {
                        writeln!(out, "alias:       none (the encoding has no aliases)")?;
                    } else {
                        writeln!(
                            out,
                            "alias:       none (the conditions of {} do not hold)",
                            candidates.join(", ")
                        )?;
                    }
                }
            }
        }
        None => writeln!(out, "disassembly: <undefined>")?,
    }
    if !info.guards.is_empty() || !info.runtime_guards.is_empty() {
        writeln!(out, "guards:")?;
        for g in info.guards {
            writeln!(out, "  decode-time: {g}")?;
        }
        for g in info.runtime_guards {
            writeln!(out, "  run-time:    {g}")?;
        }
    }
    writeln!(out, "\ndecode pseudocode:\n{}", indent(info.decode))?;
    writeln!(out, "\nexecute pseudocode:\n{}", indent(section.execute))?;
    Ok(())
}

/// The pattern as 32 digits: 0/1 fixed, x free, with the `!=` constraints after it.
fn pattern_text(info: &EncodingInfo) -> String {
    let digits: String = (0..32)
        .rev()
        .map(|b| {
            if info.mask & (1 << b) == 0 {
                'x'
            } else if info.value & (1 << b) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect();
    let nots: Vec<String> = info
        .not
        .iter()
        .map(|(m, v)| format!("w & {m:#010x} != {v:#010x}"))
        .collect();
    if nots.is_empty() {
        digits
    } else {
        format!("{digits}, {}", nots.join(", "))
    }
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "  (none)".into();
    }
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
