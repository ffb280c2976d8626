//! The disassembler, printing LLVM's syntax (`llvm-mc --disassemble -triple=aarch64 -mattr=+all`).
//!
//! The print forms are generated from the XML's assembler templates and symbol explanations
//! (see `codegen/src/gen_disas.rs`); [`form`] defines the small language they are written in and
//! this module interprets it. Operands the XML describes only in prose have hand-written
//! printers in [`special`]. Preferred aliases come from the XML's alias encodings, tried in
//! the order the instruction's section lists them, under their `aliascond` and `aliaspref`.

mod cond;
pub mod form;
mod special;

use crate::isa::{decode, Decoded, EncodingId, FeatureSet};
use form::{Fmt, Op, Out, Part, Row, Val};

/// The print forms generated from the XML.
#[allow(clippy::all, reason = "generated code")]
mod generated {
    use super::form::{Fmt, Op, Out, Part, Row, Special, Val};
    use super::{cond, AliasForm};
    use crate::isa::EncodingId;

    include!(concat!(env!("OUT_DIR"), "/disas.rs"));
}

/// How PC-relative targets print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// As llvm-mc prints them: the offset, `b #4096`, `adrp x0, #4096`.
    Relative,
    /// As llvm-objdump prints them: the target address, `b 0x401000`.
    Absolute,
}

/// One disassembled instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disassembly {
    /// The instruction encoding.
    pub id: EncodingId,
    /// The text, e.g. `mov\tx0, x1`: the mnemonic, a tab, the operands.
    pub text: String,
    /// The alias encoding chosen, e.g. `MOV_ORR_64_log_shift`.
    pub alias: Option<&'static str>,
    /// The condition that chose the alias (its `aliascond` and `aliaspref`), empty when unconditional.
    pub alias_reason: Option<&'static str>,
}

/// An alias encoding: its pattern, the condition text that prefers it, and its print form.
#[derive(Debug)]
pub struct AliasForm {
    pub name: &'static str,
    pub insn: EncodingId,
    pub mask: u32,
    pub value: u32,
    pub not: &'static [(u32, u32)],
    pub reason: &'static str,
    pub ops: &'static [Op],
}

impl AliasForm {
    fn matches(&self, w: u32) -> bool {
        w & self.mask == self.value && self.not.iter().all(|&(m, v)| w & m != v)
    }
}

/// Disassembles one word at address `pc`.
///
/// Returns `None` when `decode(word, &FeatureSet::all())` is not an instruction, and when a
/// field holds a value that the assembler syntax marks RESERVED (LLVM rejects those words too).
pub fn disassemble(word: u32, pc: u64, style: Style) -> Option<Disassembly> {
    let Decoded::Insn(id) = decode(word, &FeatureSet::all()) else {
        return None;
    };
    let cx = Cx {
        w: word,
        pc,
        style,
        id,
    };
    for &k in generated::ALIASES_OF[id as usize] {
        let a = &generated::ALIAS_FORMS[usize::from(k)];
        if a.matches(word) && generated::alias_cond(usize::from(k), word) {
            if let Some(text) = cx.render(a.ops) {
                let reason = (!a.reason.is_empty()).then_some(a.reason);
                return Some(Disassembly {
                    id,
                    text,
                    alias: Some(a.name),
                    alias_reason: reason,
                });
            }
        }
    }
    let text = cx.render(generated::INSN_FORMS[id as usize])?;
    Some(Disassembly {
        id,
        text,
        alias: None,
        alias_reason: None,
    })
}

/// What rendering reads: the word, where it is, and its encoding.
struct Cx {
    w: u32,
    pc: u64,
    style: Style,
    id: EncodingId,
}

/// One rendered value: its text and whether it equals its default.
struct Piece {
    text: String,
    default: bool,
}

impl Cx {
    fn render(&self, ops: &[Op]) -> Option<String> {
        let mut out = String::new();
        self.ops(ops, &mut out)?;
        Some(sve_lists(out.trim_end()))
    }

    /// Renders `ops` into `out`; returns whether any value was not its default (None: invalid).
    fn ops(&self, ops: &[Op], out: &mut String) -> Option<bool> {
        let mut any = false;
        for op in ops {
            match op {
                Op::Lit(t) => out.push_str(t),
                Op::Tab => out.push('\t'),
                Op::Val(v) => {
                    let p = self.val(v)?;
                    out.push_str(&p.text);
                    any |= !p.default;
                }
                Op::Opt(inner) => {
                    let mut s = String::new();
                    let nondefault = self.ops(inner, &mut s)?;
                    let has_vals = inner.iter().any(|o| !matches!(o, Op::Lit(_)));
                    let print = if has_vals {
                        nondefault
                    } else {
                        s.chars().any(|c| c.is_ascii_alphabetic())
                    };
                    if print {
                        out.push_str(&s);
                        any = true;
                    } else if out.ends_with(' ') {
                        // The space before an omitted part: `uxtw {#<amount>}`.
                        out.pop();
                    }
                }
                Op::Alt(a, b) => {
                    let mut s = String::new();
                    let r = match self.ops(a, &mut s) {
                        Some(r) => r,
                        None => {
                            s.clear();
                            self.ops(b, &mut s)?
                        }
                    };
                    out.push_str(&s);
                    any |= r;
                }
            }
        }
        Some(any)
    }

    fn bits(&self, src: &[Part]) -> (u64, u32) {
        src.iter().fold((0u64, 0u32), |(acc, width), p| match *p {
            Part::F(lo, w) => (
                (acc << w) | u64::from((self.w >> lo) & ((1u64 << w) - 1) as u32),
                width + u32::from(w),
            ),
            Part::K(v, w) => ((acc << w) | u64::from(v), width + u32::from(w)),
        })
    }

    /// The value of field `name` of the word's encoding, 0 if there is none.
    fn field(&self, name: &str) -> u64 {
        self.id
            .info()
            .field(name)
            .map_or(0, |f| u64::from(f.extract(self.w)))
    }

    fn number(&self, v: &Val) -> i64 {
        let (raw, width) = self.bits(v.src);
        let raw = if v.signed && width > 0 && width < 64 {
            ((raw << (64 - width)) as i64) >> (64 - width)
        } else {
            raw as i64
        };
        let mut n = if v.neg {
            v.add.wrapping_sub(raw)
        } else {
            raw.wrapping_mul(v.mul).wrapping_add(v.add)
        };
        if v.modulo != 0 {
            n = n.rem_euclid(v.modulo);
        }
        n
    }

    fn val(&self, v: &Val) -> Option<Piece> {
        if let Some((src, value)) = v.when {
            if self.bits(src).0 != u64::from(value) {
                return None;
            }
        }
        let n = self.number(v);
        let default = v.default == Some(n);
        let text = match &v.fmt {
            Fmt::Gp { x, sp } => match (n, x, sp) {
                (31, true, true) => "sp".to_string(),
                (31, false, true) => "wsp".to_string(),
                (31, true, false) => "xzr".to_string(),
                (31, false, false) => "wzr".to_string(),
                (n, true, _) => format!("x{n}"),
                (n, false, _) => format!("w{n}"),
            },
            Fmt::GpNum { sp } => match (n, sp) {
                (31, true) => "sp".to_string(),
                (31, false) => "zr".to_string(),
                (n, _) => n.to_string(),
            },
            Fmt::Reg(prefix) => format!("{prefix}{n}"),
            Fmt::Dec => n.to_string(),
            // LLVM's hexadecimal immediates print zero as plain `0`.
            Fmt::Hex if n == 0 => "0".to_string(),
            Fmt::Hex => format!("{n:#x}"),
            Fmt::Table(rows) => return self.table(v, rows),
            Fmt::Special(s) => return special::render(self, *s, v, n),
        };
        Some(Piece { text, default })
    }

    fn table(&self, v: &Val, rows: &[Row]) -> Option<Piece> {
        let (key, _) = self.bits(v.src);
        let key = key as u32;
        let row = rows.iter().find(|r| key & r.mask == r.value)?;
        let text = match &row.out {
            Out::Text(t) => t.to_string(),
            Out::Reserved => return None,
            Out::Num(src, add, neg) => {
                let (b, _) = self.bits(src);
                let n = if *neg { add - b as i64 } else { b as i64 + add };
                n.to_string()
            }
            Out::Reg(prefix, src) => format!("{prefix}{}", self.bits(src).0),
            Out::Imm(_) => format!("#{key}"),
            Out::LslOr(other) => {
                if self.field("Rd") == 31 || self.field("Rn") == 31 {
                    return Some(Piece {
                        text: "lsl".into(),
                        default: true,
                    });
                }
                other.to_string()
            }
        };
        Some(Piece {
            text,
            default: row.default,
        })
    }
}

#[cfg(test)]
mod tests;

/// Rewrites lists of Z registers as LLVM prints them: three or more consecutive registers as a
/// range `{ z0.s - z2.s }`, others separated by commas.
fn sve_lists(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{ z") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find(" }") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let items: Vec<&str> = inner.split([',', '-']).map(str::trim).collect();
        let regs: Option<Vec<(u32, &str)>> = items
            .iter()
            .map(|it| {
                let (num, suffix) = it.strip_prefix('z')?.split_once('.')?;
                Some((num.parse().ok()?, suffix))
            })
            .collect();
        match regs {
            Some(regs) if !regs.is_empty() => {
                let (first, suffix) = regs[0];
                let mut list: Vec<(u32, &str)> = regs.clone();
                if inner.contains('-') && regs.len() == 2 {
                    // `<Zn1>.T-<Zn4>.T`: every register from the first to the last.
                    let last = regs[1].0;
                    let count = (last + 32 - first) % 32 + 1;
                    list = (0..count).map(|k| ((first + k) % 32, suffix)).collect();
                }
                let consecutive = list.windows(2).all(|w| w[1].0 == w[0].0 + 1);
                if list.len() >= 3 && consecutive {
                    let (last, _) = list[list.len() - 1];
                    out.push_str(&format!("{{ z{first}.{suffix} - z{last}.{suffix} }}"));
                } else {
                    let items: Vec<String> =
                        list.iter().map(|(n, s)| format!("z{n}.{s}")).collect();
                    out.push_str(&format!("{{ {} }}", items.join(", ")));
                }
            }
            _ => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}
