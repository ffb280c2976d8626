//! Conformance checks of armature against reference tools (LLVM's disassembler, qemu-aarch64).
//!
//! This crate holds the harness code the tests share: a deterministic word generator, a batch
//! driver for `llvm-mc-19 --disassemble`, and the semantic conformance harness: test programs
//! written as static ELF files ([`program`]), the qemu-aarch64 reference ([`qemu`]), armature's
//! side ([`armature`]), their comparison ([`check`]), case generation from the encoding table
//! with shrinking ([`gen`], [`campaign`]), the declared known differences ([`known`]), the
//! stored reference traces ([`fixtures`]), and the replay of risu traces recorded on real
//! hardware ([`risu`]).

pub mod armature;
pub mod campaign;
pub mod check;
pub mod fixtures;
pub mod gen;
pub mod known;
pub mod program;
pub mod qemu;
pub mod risu;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The splitmix64 generator: tiny, deterministic, and good enough to spread test words.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

/// The LLVM disassembler the checks compare against.
pub const LLVM_MC: &str = "llvm-mc-19";

/// Why LLVM could not be run.
#[derive(Debug)]
pub enum LlvmError {
    /// `llvm-mc-19` is not installed.
    Missing(String),
    /// It ran but its output could not be matched to the input.
    Output(String),
}

impl std::fmt::Display for LlvmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LlvmError::Missing(e) => write!(
                f,
                "{LLVM_MC} could not be run ({e}). Install LLVM 19 (e.g. `apt-get install llvm-19`) so that \
                 `{LLVM_MC}` is on PATH; the disassembler cross-check needs it."
            ),
            LlvmError::Output(e) => write!(f, "unexpected {LLVM_MC} output: {e}"),
        }
    }
}

/// Disassembles `words` with `llvm-mc-19 -triple=aarch64 -mattr=+all` in one batch.
///
/// Returns one entry per word: the text with `//` comments stripped and whitespace normalised
/// (a tab after the mnemonic, single spaces elsewhere), or `None` where LLVM reports an invalid
/// instruction encoding. `scratch` is a directory for the input file.
pub fn llvm_disassemble(words: &[u32], scratch: &Path) -> Result<Vec<Option<String>>, LlvmError> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| LlvmError::Output(format!("{}: {e}", scratch.display())))?;
    let input: PathBuf = scratch.join("llvm-mc-input.txt");
    let mut text = String::with_capacity(words.len() * 20);
    for w in words {
        let b = w.to_le_bytes();
        text.push_str(&format!(
            "{:#04x} {:#04x} {:#04x} {:#04x}\n",
            b[0], b[1], b[2], b[3]
        ));
    }
    std::fs::write(&input, text)
        .map_err(|e| LlvmError::Output(format!("{}: {e}", input.display())))?;
    let out = Command::new(LLVM_MC)
        .args(["--disassemble", "-triple=aarch64", "-mattr=+all"])
        .arg(&input)
        .output()
        .map_err(|e| LlvmError::Missing(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut invalid = BTreeSet::new();
    for line in stderr.lines() {
        let Some(head) = line.strip_suffix(": warning: invalid instruction encoding") else {
            continue;
        };
        // `<file>:LINE:COL`; the file name may itself contain ':'.
        let mut parts = head.rsplitn(3, ':');
        let _col = parts.next();
        let line_no = parts.next().and_then(|n| n.trim().parse::<usize>().ok());
        match line_no {
            Some(n) if n >= 1 => {
                invalid.insert(n - 1);
            }
            _ => {
                return Err(LlvmError::Output(format!(
                    "cannot read line number of `{line}`"
                )))
            }
        }
    }
    let insns: Vec<String> = stdout
        .lines()
        .map(normalize)
        .filter(|l| !l.is_empty() && !l.starts_with('.'))
        .collect();
    if insns.len() + invalid.len() != words.len() {
        return Err(LlvmError::Output(format!(
            "{} words gave {} instructions and {} invalid encodings",
            words.len(),
            insns.len(),
            invalid.len()
        )));
    }
    let mut it = insns.into_iter();
    Ok((0..words.len())
        .map(|i| {
            if invalid.contains(&i) {
                None
            } else {
                it.next()
            }
        })
        .collect())
}

/// Strips a `//` comment and normalises whitespace: the mnemonic, a tab, then the operands with
/// runs of spaces collapsed.
pub fn normalize(line: &str) -> String {
    let line = line.split("//").next().unwrap_or("").trim();
    let (mnemonic, rest) = match line.split_once(char::is_whitespace) {
        Some((m, r)) => (m, r.trim()),
        None => (line, ""),
    };
    let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    if rest.is_empty() {
        mnemonic.to_string()
    } else {
        format!("{mnemonic}\t{rest}")
    }
}

/// The mnemonic of a normalised line.
pub fn mnemonic(line: &str) -> &str {
    line.split('\t').next().unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("\tmov\tx0,  #65536                      // =0x10000"),
            "mov\tx0, #65536"
        );
        assert_eq!(normalize("\tnop"), "nop");
        assert_eq!(normalize("\tpsb\tcsync "), "psb\tcsync");
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64(1);
        let mut b = SplitMix64(1);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(a.next_u64(), SplitMix64(2).next_u64());
    }
}
