//! `armature disas`: hex words (llvm-mc style) or ELF files (llvm-objdump style).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use armature_core::disas::{disassemble, Style};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use crate::{open_input, parse_word, read_file};

/// Prints `word<TAB>text` per word; `<undefined>` where the word does not decode.
pub fn words(input: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let name = input.map_or("standard input".into(), |p| p.display().to_string());
    let reader = open_input(input)?;
    for (n, line) in BufRead::lines(reader).enumerate() {
        let line = line.with_context(|| format!("cannot read {name}"))?;
        for token in line.split_whitespace() {
            let word = parse_word(token).with_context(|| format!("{name}:{}", n + 1))?;
            match disassemble(word, 0, Style::Relative) {
                Some(d) => writeln!(out, "{word:08x}\t{}", d.text)?,
                None => writeln!(out, "{word:08x}\t<undefined>")?,
            }
        }
    }
    Ok(())
}

/// Disassembles the executable sections of an aarch64 ELF file like `llvm-objdump -d`.
pub fn elf(path: &Path, out: &mut dyn Write) -> Result<()> {
    let data = read_file(path)?;
    let file = object::File::parse(&*data)
        .with_context(|| format!("{} is not an ELF file", path.display()))?;
    if file.format() != object::BinaryFormat::Elf {
        bail!("{} is a {:?} file, not ELF", path.display(), file.format());
    }
    if file.architecture() != object::Architecture::Aarch64 {
        bail!(
            "{} is for {:?}, not aarch64",
            path.display(),
            file.architecture()
        );
    }
    if !file.is_little_endian() {
        bail!(
            "{} is big-endian; armature supports little-endian aarch64",
            path.display()
        );
    }
    writeln!(
        out,
        "\n{}:\tfile format elf64-littleaarch64",
        path.display()
    )?;
    // Named symbols by address, the first name winning as in llvm-objdump's listing: code
    // symbols head the listing, and any symbol names a branch or address target.
    let code_sections: Vec<_> = file
        .sections()
        .filter(|s| s.kind() == SectionKind::Text)
        .map(|s| s.index())
        .collect();
    let mut symbols: BTreeMap<u64, String> = BTreeMap::new();
    let mut targets: BTreeMap<u64, String> = BTreeMap::new();
    for s in file.symbols() {
        let Some(section) = s.section_index() else {
            continue;
        };
        let Ok(name) = s.name() else { continue };
        if name.is_empty()
            || name.starts_with('$')
            || matches!(s.kind(), SymbolKind::Section | SymbolKind::File)
        {
            continue;
        }
        targets
            .entry(s.address())
            .or_insert_with(|| name.to_string());
        if code_sections.contains(&section) {
            symbols
                .entry(s.address())
                .or_insert_with(|| name.to_string());
        }
    }
    for section in file.sections() {
        if section.kind() != SectionKind::Text {
            continue;
        }
        let name = section.name().unwrap_or("?");
        let bytes = section
            .data()
            .with_context(|| format!("{}: section {name} lies outside the file", path.display()))?;
        writeln!(out, "\nDisassembly of section {name}:")?;
        let base = section.address();
        if !symbols.contains_key(&base) {
            writeln!(out, "\n{base:016x} <{name}>:")?;
        }
        for (i, chunk) in bytes.chunks(4).enumerate() {
            let pc = base + 4 * i as u64;
            if let Some(sym) = symbols.get(&pc) {
                writeln!(out, "\n{pc:016x} <{sym}>:")?;
            }
            if chunk.len() < 4 {
                let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                writeln!(out, "{pc:8x}: {:<13}\t<unknown>", hex.join(" "))?;
                continue;
            }
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let text = match disassemble(word, pc, Style::Absolute) {
                Some(d) => symbolize(&d.text, &targets),
                None => "<unknown>".to_string(),
            };
            writeln!(out, "{pc:8x}: {word:08x}     \t{text}")?;
        }
    }
    Ok(())
}

/// Appends ` <symbol+offset>` to a trailing absolute target, as llvm-objdump does for branches.
fn symbolize(text: &str, symbols: &BTreeMap<u64, String>) -> String {
    let Some(last) = text.rsplit([' ', '\t']).next() else {
        return text.to_string();
    };
    let Some(target) = last
        .strip_prefix("0x")
        .and_then(|h| u64::from_str_radix(h, 16).ok())
    else {
        return text.to_string();
    };
    match symbols.range(..=target).next_back() {
        Some((addr, name)) if *addr == target => format!("{text} <{name}>"),
        Some((addr, name)) => format!("{text} <{name}+{:#x}>", target - addr),
        None => text.to_string(),
    }
}
