//! `armature spec stats`: counts of the XML the build was generated from.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use armature_core::isa::{ALIASES, ENCODINGS, SECTIONS};
use serde_json::json;

pub fn run(as_json: bool, out: &mut dyn Write) -> Result<()> {
    let alias_files: BTreeSet<&str> = ALIASES.iter().map(|a| a.file).collect();
    let mut per_feature: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &ENCODINGS {
        *per_feature.entry(e.feature.name()).or_default() += 1;
        *per_class.entry(e.instr_class).or_default() += 1;
    }
    let guarded = ENCODINGS.iter().filter(|e| !e.guards.is_empty()).count();
    if as_json {
        let v = json!({
            "instruction_files": SECTIONS.len(),
            "alias_files": alias_files.len(),
            "encodings": ENCODINGS.len(),
            "alias_encodings": ALIASES.len(),
            "encodings_with_decode_guards": guarded,
            "features": per_feature,
            "instr_classes": per_class,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(out, "instruction files            {:>6}", SECTIONS.len())?;
    writeln!(out, "alias files                  {:>6}", alias_files.len())?;
    writeln!(out, "encodings                    {:>6}", ENCODINGS.len())?;
    writeln!(out, "alias encodings              {:>6}", ALIASES.len())?;
    writeln!(out, "encodings with decode guards {guarded:>6}")?;
    writeln!(out, "\nencodings per instr-class:")?;
    for (c, n) in &per_class {
        writeln!(out, "  {c:<26} {n:>6}")?;
    }
    writeln!(out, "\nencodings per feature:")?;
    for (f, n) in &per_feature {
        writeln!(out, "  {f:<26} {n:>6}")?;
    }
    Ok(())
}
