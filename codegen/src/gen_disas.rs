//! Generates `disas.rs`: the disassembler's print forms and alias choices.
//!
//! Every encoding's assembler template becomes a list of ops (see `isa/src/disas/form.rs`):
//! literal text, optional parts, alternatives and values. Each template symbol is classified
//! from its name (`<Xd|SP>`, `<Vd>`, `<Zn1>`, `<Pg>`, ...), its `encodedin` fields, its
//! definition table and the wording of its account ("encoded as \"Rt\" plus 1 modulo 32",
//! "times 4", "as <imm>/16", "in the range -256 to 255", "defaulting to 0"). Operands the XML
//! describes only in prose map to the hand-written `Special` printers.
//!
//! Alias encodings get print forms too; an instruction's aliases are tried in the order its
//! section lists them, each under its own pattern, `aliascond` and the section's `aliaspref`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use armature_spec::bits::{parse_bitpat, parse_encodedin, FieldRef};
use armature_spec::{Condition, Encoding, Field, Symbol, SymbolKind, TemplatePiece, ValueTable};
use askama::Template;

use crate::gen_fields::extract_expr;
use crate::rust_expr::{self, Scope, Ty};
use crate::{field_ident, lit, Error, Model};

#[derive(Template)]
#[template(path = "disas.rs.txt", escape = "none")]
struct DisasRs {
    stats: String,
    unhandled: Vec<String>,
    insns: Vec<FormRow>,
    aliases: Vec<AliasRow>,
    aliases_of: Vec<String>,
    conds: Vec<CondRow>,
}

struct FormRow {
    name: String,
    file: String,
    template: String,
    ops: String,
}

struct AliasRow {
    name: String,
    file: String,
    template: String,
    insn: String,
    mask: String,
    value: String,
    not: String,
    reason: String,
    ops: String,
}

struct CondRow {
    index: usize,
    name: String,
    text: String,
    body: String,
}

/// A parsed template: literal text, optional parts, alternatives and symbols.
#[derive(Clone, Debug)]
enum Node {
    Lit(String),
    Tab,
    Opt(Vec<Node>),
    Alt(Vec<Node>, Vec<Node>),
    Sym(String, String),
}

/// One character of template text, or a symbol.
#[derive(Clone, Debug)]
enum Tok {
    Ch(char),
    Sym(String, String),
}

fn tokens(template: &[TemplatePiece]) -> Vec<Tok> {
    let mut out = Vec::new();
    for p in template {
        match p {
            TemplatePiece::Text(t) => out.extend(t.chars().map(Tok::Ch)),
            TemplatePiece::Symbol { text, link } => out.push(Tok::Sym(text.clone(), link.clone())),
        }
    }
    out
}

/// Parses a template into nodes: mnemonic, tab, operands.
fn parse_template(template: &[TemplatePiece]) -> Vec<Node> {
    let toks = tokens(template);
    let mut nodes = Vec::new();
    let mut i = 0;
    let mut text = String::new();
    while i < toks.len() {
        match &toks[i] {
            Tok::Ch(c) if c.is_whitespace() => break,
            Tok::Ch(c) => text.push(*c),
            Tok::Sym(t, l) => {
                flush(&mut text, &mut nodes);
                nodes.push(Node::Sym(t.clone(), l.clone()));
            }
        }
        i += 1;
    }
    flush(&mut text, &mut nodes);
    while matches!(toks.get(i), Some(Tok::Ch(c)) if c.is_whitespace()) {
        i += 1;
    }
    if i < toks.len() {
        nodes.push(Node::Tab);
        let mut lists = 0;
        let alts = parse_seq(&toks, &mut i, &mut lists);
        nodes.extend(join_alts(alts));
    }
    tight_za_lists(&mut nodes);
    nodes
}

/// LLVM prints lists of ZA tiles and slices without the spaces inside the braces: `{za0h.s[w12, 0]}`.
fn tight_za_lists(nodes: &mut [Node]) {
    let mut open = false;
    for k in 0..nodes.len() {
        let next_is_za = match nodes.get(k + 1) {
            Some(Node::Sym(t, _)) => t.starts_with("<ZA"),
            Some(Node::Lit(t)) => t.starts_with("ZA"),
            _ => false,
        };
        if let Node::Lit(t) = &mut nodes[k] {
            if open {
                if let Some(pos) = t.find(" }") {
                    t.replace_range(pos..pos + 2, "}");
                    open = false;
                }
            }
            if let Some(x) = t.strip_suffix("{ ") {
                if next_is_za {
                    *t = format!("{x}{{");
                    open = true;
                }
            } else if let Some(pos) = t.find("{ ZA") {
                t.replace_range(pos..pos + 2, "{");
                if let Some(end) = t.find(" }") {
                    t.replace_range(end..end + 2, "}");
                } else {
                    open = true;
                }
            }
        }
    }
}

fn flush(text: &mut String, nodes: &mut Vec<Node>) {
    if !text.is_empty() {
        nodes.push(Node::Lit(std::mem::take(text)));
    }
}

fn join_alts(mut alts: Vec<Vec<Node>>) -> Vec<Node> {
    let mut acc = alts.pop().unwrap_or_default();
    while let Some(prev) = alts.pop() {
        acc = vec![Node::Alt(prev, acc)];
    }
    acc
}

/// Parses up to a closing `}` or `)` (consumed) or the end; returns the `|` alternatives.
fn parse_seq(toks: &[Tok], i: &mut usize, lists: &mut usize) -> Vec<Vec<Node>> {
    let mut alts = Vec::new();
    let mut nodes = Vec::new();
    let mut text = String::new();
    while *i < toks.len() {
        let tok = &toks[*i];
        *i += 1;
        match tok {
            Tok::Sym(t, l) => {
                flush(&mut text, &mut nodes);
                nodes.push(Node::Sym(t.clone(), l.clone()));
            }
            Tok::Ch('{') if matches!(toks.get(*i), Some(Tok::Ch(' '))) => {
                *lists += 1;
                text.push('{');
            }
            Tok::Ch('}') if *lists > 0 && text.ends_with(' ') => {
                *lists -= 1;
                text.push('}');
            }
            Tok::Ch('{') => {
                flush(&mut text, &mut nodes);
                let inner = parse_seq(toks, i, lists);
                nodes.push(Node::Opt(join_alts(inner)));
            }
            Tok::Ch('(') => {
                flush(&mut text, &mut nodes);
                let inner = parse_seq(toks, i, lists);
                nodes.extend(join_alts(inner));
            }
            Tok::Ch('}') | Tok::Ch(')') => break,
            Tok::Ch('|') => {
                flush(&mut text, &mut nodes);
                alts.push(std::mem::take(&mut nodes));
            }
            Tok::Ch(c) => {
                if !(c.is_whitespace() && text.ends_with(' ')) {
                    text.push(if c.is_whitespace() { ' ' } else { *c });
                }
            }
        }
    }
    flush(&mut text, &mut nodes);
    alts.push(nodes);
    alts
}

/// The bits of a value: `(lo, width)` runs of the word, or constants.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    F(u8, u8),
    K(u32, u8),
}

fn parts_code(parts: &[Part]) -> String {
    let items: Vec<String> = parts
        .iter()
        .map(|p| match p {
            Part::F(lo, w) => format!("Part::F({lo}, {w})"),
            Part::K(v, w) => format!("Part::K({v}, {w})"),
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

fn parts_width(parts: &[Part]) -> u32 {
    parts
        .iter()
        .map(|p| match p {
            Part::F(_, w) | Part::K(_, w) => u32::from(*w),
        })
        .sum()
}

/// A value under construction; rendered as a `Val` literal.
#[derive(Clone, Debug)]
struct ValSpec {
    src: Vec<Part>,
    signed: bool,
    neg: bool,
    mul: i64,
    add: i64,
    modulo: i64,
    default: Option<i64>,
    /// "When option<0> is set to 1": the value applies only when these bits hold this value.
    when: Option<(Vec<Part>, u32)>,
    fmt: String,
}

impl ValSpec {
    fn new(src: Vec<Part>, fmt: impl Into<String>) -> Self {
        ValSpec {
            src,
            signed: false,
            neg: false,
            mul: 1,
            add: 0,
            modulo: 0,
            default: None,
            when: None,
            fmt: fmt.into(),
        }
    }

    fn code(&self) -> String {
        format!(
            "Op::Val(&Val {{ src: {}, signed: {}, neg: {}, mul: {}, add: {}, modulo: {}, default: {:?}, when: {}, fmt: {} }})",
            parts_code(&self.src),
            self.signed,
            self.neg,
            self.mul,
            self.add,
            self.modulo,
            self.default,
            match &self.when {
                Some((p, v)) => format!("Some(({}, {v}))", parts_code(p)),
                None => "None".into(),
            },
            self.fmt
        )
    }
}

/// Finds the first match of a simple pattern: `words` with `#` standing for a number.
/// Returns the numbers in order.
fn find_nums(text: &str, pattern: &str) -> Option<Vec<i64>> {
    let pw: Vec<&str> = pattern.split(' ').collect();
    let tw: Vec<&str> = text.split(' ').collect();
    'outer: for start in 0..tw.len() {
        let mut nums = Vec::new();
        for (k, p) in pw.iter().enumerate() {
            let Some(t) = tw.get(start + k) else {
                continue 'outer;
            };
            let t = t.trim_end_matches([',', '.', ';']);
            if *p == "#" {
                match t.parse::<i64>() {
                    Ok(n) => nums.push(n),
                    Err(_) => continue 'outer,
                }
            } else if *p != t {
                continue 'outer;
            }
        }
        return Some(nums);
    }
    None
}

/// Quoted names in prose, e.g. `imm12` from `encoded in the "imm12" field`.
fn quoted(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

/// The base register number of a register range named in prose, e.g. 8 for "PN8-PN15".
fn range_base(text: &str) -> i64 {
    for word in text.split([' ', ',', '(', ')']) {
        if let Some((a, b)) = word.split_once('-') {
            let pa = a.trim_end_matches(|c: char| c.is_ascii_digit());
            let pb = b.trim_end_matches(|c: char| c.is_ascii_digit());
            if !pa.is_empty() && pa == pb && pa.chars().all(|c| c.is_ascii_uppercase()) {
                if let (Ok(x), Ok(_)) = (a[pa.len()..].parse::<i64>(), b[pb.len()..].parse::<i64>())
                {
                    return x;
                }
            }
        }
    }
    0
}

struct Builder<'a> {
    model: &'a Model<'a>,
    e: &'a Encoding,
    insn: &'a Encoding,
    unhandled: &'a mut Vec<String>,
}

impl<'a> Builder<'a> {
    fn field(&self, name: &str) -> Option<&Field> {
        self.e.field(name).or_else(|| self.insn.field(name))
    }

    fn datasize(&self) -> u8 {
        match self.e.docvars.get("datatype").map(String::as_str) {
            Some("32") => 32,
            Some("64") => 64,
            _ if self.e.id.contains("_32") => 32,
            _ => 64,
        }
    }

    /// The word bits of field references, as runs.
    fn parts(&self, refs: &[FieldRef]) -> Result<Vec<Part>, String> {
        let mut out: Vec<Part> = Vec::new();
        for r in refs {
            if r.is_literal() {
                let v = u32::from_str_radix(&r.name, 2).map_err(|e| e.to_string())?;
                out.push(Part::K(v, r.name.len() as u8));
                continue;
            }
            let f = self
                .field(&r.name)
                .ok_or_else(|| format!("no field {}", r.name))?;
            let mut bits: Vec<u8> = Vec::new();
            for p in &f.parts {
                bits.extend((p.lobit()..=p.hibit).rev());
            }
            let n = bits.len();
            let (hi, lo) = match (r.hi, r.lo) {
                (Some(h), Some(l)) => (usize::from(h), usize::from(l)),
                _ => (n - 1, 0),
            };
            if hi >= n {
                return Err(format!("slice {hi} of field {}", r.name));
            }
            for k in (lo..=hi).rev() {
                let bit = bits[n - 1 - k];
                match out.last_mut() {
                    Some(Part::F(l, w)) if *l == bit + 1 => {
                        *l = bit;
                        *w += 1;
                    }
                    _ => out.push(Part::F(bit, 1)),
                }
            }
        }
        Ok(out)
    }

    /// The explanation of a symbol; when the XML's `enclist` omits this encoding, that of
    /// another encoding of the same file.
    fn symbol(&self, text: &str, link: &str) -> Option<&'a Symbol> {
        let e: &'a Encoding = self.e;
        e.symbols
            .iter()
            .find(|s| s.link == link)
            .or_else(|| e.symbols.iter().find(|s| s.text == text))
            .or_else(|| {
                let same_file = self
                    .model
                    .spec
                    .encodings
                    .iter()
                    .filter(|o| o.file == e.file);
                same_file
                    .flat_map(|o| o.symbols.iter())
                    .find(|s| s.link == link)
            })
    }

    /// The source bits of a symbol: its `encodedin`, else the quoted fields of its prose.
    fn source(&self, sym: &Symbol, intro: &str) -> Result<Vec<Part>, String> {
        if !sym.encodedin.is_empty() {
            // Where the prose names the same fields in another order ("b5:b40" for "b40:b5"), it is right.
            let names = |refs: &[FieldRef]| {
                let mut n: Vec<String> = refs.iter().map(|r| r.name.clone()).collect();
                n.sort();
                n
            };
            for q in quoted(intro) {
                if let Ok(refs) = parse_encodedin(q) {
                    if refs.len() > 1
                        && refs != sym.encodedin
                        && names(&refs) == names(&sym.encodedin)
                    {
                        return self.parts(&refs);
                    }
                }
            }
            // Some attributes mix prose into the field list ("CRm:Encoding:Hints:Index:by:op2").
            let known: Vec<FieldRef> = sym
                .encodedin
                .iter()
                .filter(|r| r.is_literal() || self.field(&r.name).is_some())
                .cloned()
                .collect();
            return self.parts(&known);
        }
        for q in quoted(intro) {
            if let Ok(refs) = parse_encodedin(q) {
                if let Ok(p) = self.parts(&refs) {
                    return Ok(p);
                }
            }
        }
        Err("no encodedin".into())
    }

    fn nodes(&mut self, nodes: &[Node]) -> String {
        let ops: Vec<String> = nodes.iter().map(|n| self.node(n)).collect();
        format!("&[{}]", ops.join(", "))
    }

    fn node(&mut self, n: &Node) -> String {
        match n {
            Node::Lit(t) => format!("Op::Lit({})", lit(&t.to_lowercase())),
            Node::Tab => "Op::Tab".into(),
            Node::Opt(inner) => format!("Op::Opt({})", self.nodes(inner)),
            Node::Alt(a, b) => format!("Op::Alt({}, {})", self.nodes(a), self.nodes(b)),
            Node::Sym(text, link) => match self.classify(text, link) {
                Ok(code) => code,
                Err(why) => {
                    self.unhandled.push(format!("{}: {text}: {why}", self.e.id));
                    format!("Op::Lit({})", lit(&text.to_lowercase()))
                }
            },
        }
    }

    /// Classifies one symbol into an op.
    fn classify(&mut self, text: &str, link: &str) -> Result<String, String> {
        let sym = self.symbol(text, link).ok_or("no explanation")?.clone();
        let name = text.trim_start_matches('<').trim_end_matches('>');
        // `<X(s+1)>`, `<W(t+1)>`: the register after the one in field Rs / Rt.
        if let Some(inner) = name
            .get(1..)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix("+1)"))
        {
            let field = format!("R{inner}");
            let mut v = ValSpec::new(
                self.parts(&[FieldRef {
                    name: field,
                    hi: None,
                    lo: None,
                }])?,
                "",
            );
            v.fmt = format!("Fmt::Gp {{ x: {}, sp: false }}", name.starts_with('X'));
            v.add = 1;
            v.modulo = 32;
            return Ok(v.code());
        }
        match &sym.kind {
            SymbolKind::Definition { intro, table } => self.table(&sym, name, intro, table),
            SymbolKind::Account { intro } => self.account(&sym, name, intro),
        }
    }

    fn table(
        &mut self,
        sym: &Symbol,
        name: &str,
        intro: &str,
        table: &ValueTable,
    ) -> Result<String, String> {
        let col = table
            .symbols
            .iter()
            .position(|s| s == &sym.text)
            .unwrap_or(0);
        // The key is the concatenation of the bitfield columns, else the encodedin.
        let from_cols: Option<Vec<Part>> = table
            .bitfields
            .iter()
            .map(|b| parse_encodedin(b).ok().and_then(|r| self.parts(&r).ok()))
            .collect::<Option<Vec<Vec<Part>>>>()
            .map(|v| v.concat());
        let row_width = table.rows.first().map(|r| {
            r.bits
                .iter()
                .map(|b| parse_bitpat(b).map(|p| u32::from(p.width)).unwrap_or(0))
                .sum::<u32>()
        });
        let src = match from_cols {
            Some(p) if Some(parts_width(&p)) == row_width => p,
            _ => self.source(sym, intro)?,
        };
        let width = parts_width(&src);
        if Some(width) != row_width {
            return Err(format!("table key is {width} bits, rows are {row_width:?}"));
        }
        let default = default_text(intro);
        let mut rows = Vec::new();
        for r in &table.rows {
            let mut mask = 0u32;
            let mut value = 0u32;
            for b in &r.bits {
                let p = parse_bitpat(b)?;
                mask = (mask << p.width) | p.mask as u32;
                value = (value << p.width) | p.value as u32;
            }
            let v = r.values.get(col).map(String::as_str).unwrap_or("");
            let out = self.row_out(name, v)?;
            let is_default = default
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(v));
            rows.push(format!(
                "Row {{ mask: {mask:#x}, value: {value:#x}, out: {out}, default: {is_default} }}"
            ));
        }
        let spec = ValSpec::new(src, format!("Fmt::Table(&[{}])", rows.join(", ")));
        Ok(spec.code())
    }

    fn row_out(&self, name: &str, v: &str) -> Result<String, String> {
        let v = v.trim();
        if v == "RESERVED" || v.starts_with("SEE ") || v.is_empty() {
            return Ok("Out::Reserved".into());
        }
        if matches!(v, "[absent]" | "(omitted)" | "[no specifier]") {
            return Ok("Out::Text(\"\")".into());
        }
        if v == "[present]" {
            return Ok("Out::Text(\"2\")".into());
        }
        if let Some(rest) = v.strip_prefix("LSL|") {
            return Ok(format!("Out::LslOr({})", lit(&rest.to_lowercase())));
        }
        // "(128-UInt(immh:immb))", "(UInt(immh:immb)-8)".
        let lower = v.to_ascii_lowercase();
        if let Some(inner) = lower.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
            if let Some((n, f)) = inner.split_once("-uint(") {
                let n: i64 = n.parse().map_err(|_| format!("row {v}"))?;
                let refs = parse_encodedin(&original_case(v, f.trim_end_matches(')')))?;
                return Ok(format!(
                    "Out::Num({}, {n}, true)",
                    parts_code(&self.parts(&refs)?)
                ));
            }
            if let Some(rest) = inner.strip_prefix("uint(") {
                let (f, n) = rest.split_once(")-").ok_or(format!("row {v}"))?;
                let n: i64 = n.parse().map_err(|_| format!("row {v}"))?;
                let refs = parse_encodedin(&original_case(v, f))?;
                return Ok(format!(
                    "Out::Num({}, {}, false)",
                    parts_code(&self.parts(&refs)?),
                    -n
                ));
            }
        }
        if let Some(f) = v.strip_prefix('#').filter(|f| f.starts_with("uimm")) {
            let _ = f;
            // "#uimm5": the key bits themselves; the row's own source is the table key.
            return Ok("Out::Imm(&[])".into());
        }
        // Indices name fields ("H:L", "H", "imm4"); specifiers are text ("H", "8B").
        let field_like = v.contains([':', '<'])
            || (v.len() > 1 && v.chars().any(|c| c.is_ascii_lowercase()))
            || name.starts_with(|c: char| c.is_ascii_lowercase());
        if let Some(refs) = parse_encodedin(v).ok().filter(|_| field_like) {
            if refs
                .iter()
                .all(|r| r.is_literal() || self.field(&r.name).is_some())
                && refs.iter().any(|r| !r.is_literal())
            {
                let parts = parts_code(&self.parts(&refs)?);
                let first = name.chars().next().unwrap_or(' ');
                let reg = name.len() > 1 && name[1..].starts_with(|c: char| c.is_ascii_lowercase());
                if reg && matches!(first, 'V' | 'Z' | 'P' | 'B' | 'H' | 'S' | 'D' | 'Q') {
                    return Ok(format!(
                        "Out::Reg({}, {parts})",
                        lit(&first.to_ascii_lowercase().to_string())
                    ));
                }
                return Ok(format!("Out::Num({parts}, 0, false)"));
            }
        }
        Ok(format!("Out::Text({})", lit(&v.to_lowercase())))
    }

    fn account(&mut self, sym: &Symbol, name: &str, intro: &str) -> Result<String, String> {
        let lower = intro.to_lowercase();
        // "it must be #0, encoded in "S" as 0 if omitted, or as 1 if present".
        if let Some(pos) = lower.find("it must be #") {
            let must = lower[pos + 11..].split([',', ' ']).next().unwrap_or("");
            if lower.contains("as 0 if omitted, or as 1 if present") {
                let src = self.source(sym, intro)?;
                let rows = format!(
                    "Row {{ mask: 0x1, value: 0x0, out: Out::Text(\"\"), default: true }}, \
                     Row {{ mask: 0x1, value: 0x1, out: Out::Text({}), default: false }}",
                    lit(must)
                );
                return Ok(ValSpec::new(src, format!("Fmt::Table(&[{rows}])")).code());
            }
        }
        let first = name.chars().next().unwrap_or(' ');
        let second = name.chars().nth(1).unwrap_or(' ');
        let reg_tail = |k: usize| {
            name[k..].chars().next().is_some_and(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '(' || c == '+'
            })
        };
        let datasize = self.datasize();

        // Operands described in prose only.
        if lower.contains("program label") {
            let scale = find_nums(&lower, "times #").map_or(1, |n| n[0]) as u32;
            let page = lower.contains("page address");
            let src = self.source(sym, intro)?;
            let mut v = ValSpec::new(
                src,
                format!("Fmt::Special(Special::Label {{ scale: {scale}, page: {page} }})"),
            );
            v.signed = true;
            return Ok(v.code());
        }
        if lower.contains("bitmask immediate") || lower.contains("bitmask consisting of replicated")
        {
            let src = self.source(sym, intro)?;
            let special = if parts_width(&src) == 13 && self.e.instr_class.starts_with("sve") {
                "Special::SveBitMask".to_string()
            } else {
                format!("Special::BitMask({datasize})")
            };
            return Ok(ValSpec::new(src, format!("Fmt::Special({special})")).code());
        }
        if lower.contains("floating-point constant")
            || lower.contains("floating-point immediate value")
        {
            let src = self.source(sym, intro)?;
            return Ok(ValSpec::new(src, "Fmt::Special(Special::FpImm)").code());
        }
        if lower.contains("'aaaaaaaabbbbbbbb") {
            let src = self.source(sym, intro)?;
            return Ok(ValSpec::new(src, "Fmt::Special(Special::SimdImm64)").code());
        }
        if lower.contains("which can be encoded in") {
            let inverted = lower.contains("bitwise inverse");
            return Ok(ValSpec::new(
                Vec::new(),
                format!("Fmt::Special(Special::MoveWide({inverted}, {datasize}))"),
            )
            .code());
        }
        if lower.contains("standard conditions") {
            let src = self.source(sym, intro)?;
            let inverted = lower.contains("inverted");
            return Ok(
                ValSpec::new(src, format!("Fmt::Special(Special::Cond({inverted}))")).code(),
            );
        }
        if lower.contains("system register name") {
            return Ok(ValSpec::new(Vec::new(), "Fmt::Special(Special::SysReg)").code());
        }
        if lower.contains("limitation on the barrier") {
            let src = match self.source(sym, intro) {
                Ok(src) => src,
                Err(_) => {
                    let name = if self.field("CRm").is_some() {
                        "CRm"
                    } else {
                        "imm2"
                    };
                    self.parts(&[FieldRef {
                        name: name.into(),
                        hi: None,
                        lo: None,
                    }])?
                }
            };
            let special = if lower.contains("optional limitation") {
                "Isb"
            } else if parts_width(&src) == 2 || lower.contains("nxs barrier") {
                "BarrierNxs"
            } else {
                "Barrier"
            };
            let mut v = ValSpec::new(src, format!("Fmt::Special(Special::{special})"));
            if special == "Isb" {
                v.default = Some(15);
            }
            return Ok(v.code());
        }
        if lower.contains("range prefetch operation, defined as") {
            return Ok(ValSpec::new(Vec::new(), "Fmt::Special(Special::Rprfop)").code());
        }
        if lower.contains("prefetch operation, defined as") {
            let src = self.source(sym, intro)?;
            return Ok(ValSpec::new(src, "Fmt::Special(Special::Prfop)").code());
        }
        if lower.contains("tile names separated by commas") {
            let src = self.source(sym, intro)?;
            return Ok(ValSpec::new(src, "Fmt::Special(Special::ZaMask)").code());
        }
        if lower.contains("lsb of the destination bitfield")
            || (name == "shift" && sym.encodedin.is_empty() && quoted(intro).is_empty())
        {
            return Ok(ValSpec::new(
                Vec::new(),
                format!("Fmt::Special(Special::LsbDest({datasize}))"),
            )
            .code());
        }
        if lower.contains("lsb of the source bitfield") {
            let src = self.parts(&[FieldRef {
                name: "immr".into(),
                hi: None,
                lo: None,
            }])?;
            return Ok(ValSpec::new(src, "Fmt::Dec").code());
        }
        if lower.contains("width of the bitfield") {
            let dest = self.e.symbols.iter().any(|s| match &s.kind {
                SymbolKind::Account { intro } => intro.contains("lsb of the destination bitfield"),
                _ => false,
            });
            let special = if dest { "WidthDest" } else { "WidthSrc" };
            return Ok(
                ValSpec::new(Vec::new(), format!("Fmt::Special(Special::{special})")).code(),
            );
        }

        // "is the destination width specifier, H."
        if let Some(pos) = intro.find("specifier, ") {
            let rest = intro[pos + 11..].trim_end_matches('.');
            if rest.len() == 1 {
                return Ok(format!("Op::Lit({})", lit(&rest.to_lowercase())));
            }
        }
        let src = if lower.contains("with implicit value")
            || (lower.contains("slice index offset")
                && sym.encodedin.is_empty()
                && quoted(intro).is_empty())
        {
            Vec::new()
        } else {
            self.source(sym, intro)?
        };
        let mut v = ValSpec::new(src, "Fmt::Dec");

        // Register names.
        let is_gp_num = first.is_ascii_lowercase()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '|' || c == 'S' || c == 'P')
            && (lower.contains("general-purpose")
                || lower.contains("simd&fp")
                || lower.contains("name zr")
                || lower.contains("name sp"));
        if is_gp_num {
            if lower.contains("general-purpose") {
                v.fmt = format!(
                    "Fmt::GpNum {{ sp: {} }}",
                    name.contains("|SP") || lower.contains("name sp")
                );
            } else {
                v.fmt = "Fmt::Reg(\"\")".into();
            }
        } else if (first == 'X' || first == 'W') && (reg_tail(1) || name.contains('|')) {
            v.fmt = format!(
                "Fmt::Gp {{ x: {}, sp: {} }}",
                first == 'X',
                name.contains("|SP") || name.contains("|WSP")
            );
            v.add = range_base(intro);
        } else if matches!(first, 'B' | 'H' | 'S' | 'D' | 'Q' | 'V' | 'Z' | 'P' | 'C')
            && reg_tail(1)
        {
            let prefix = first.to_ascii_lowercase().to_string();
            v.fmt = format!("Fmt::Reg({})", lit(&prefix));
            v.add = range_base(intro);
            // The second register of `{ <Zn1>.B, <Zn2>.B }`, encoded in the same field as the first.
            let k = name[1..].trim_start_matches(|c: char| c.is_ascii_lowercase());
            if let Ok(k @ 2..=4) = k.parse::<i64>() {
                let first_name = format!("<{}1>", &name[..name.len() - 1]);
                let same_field = self
                    .e
                    .symbols
                    .iter()
                    .any(|o| o.text == first_name && o.encodedin == sym.encodedin);
                if same_field && !lower.contains("plus") && !lower.contains("times") {
                    v.add += k - 1;
                    v.modulo = 32;
                }
            }
        } else if name.starts_with("PN") && reg_tail(2) {
            v.fmt = "Fmt::Reg(\"pn\")".into();
            v.add = range_base(intro);
        } else if name.starts_with("ZA") && reg_tail(2) {
            v.fmt = "Fmt::Reg(\"za\")".into();
        } else if name.starts_with("Z") && second == 'A' {
            return Err("unknown ZA symbol".into());
        }

        // Transformations of the encoded bits.
        if let Some(n) = find_nums(&lower, "plus # modulo #") {
            v.add += n[0];
            v.modulo = n[1];
        } else if let Some(n) = find_nums(&lower, "times # plus #") {
            v.mul = n[0];
            v.add += n[1];
        } else if let Some(n) = find_nums(&lower, "field times # plus #") {
            v.mul = n[0];
            v.add += n[1];
        } else if let Some(n) = find_nums(&lower, "times #") {
            v.mul = n[0];
        } else if let Some(n) = find_nums(&lower, "field times #") {
            v.mul = n[0];
        }
        if let Some(pos) = lower.find("\" +") {
            if let Ok(n) = lower[pos + 3..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .parse::<i64>()
            {
                v.add += n;
            }
        }
        if let Some(pos) = lower.find("as <") {
            let rest = &lower[pos..];
            if let Some(slash) = rest.find(">/") {
                if let Ok(n) = rest[slash + 2..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap_or("")
                    .parse::<i64>()
                {
                    v.mul = n;
                }
            }
        } else if let Some(n) = find_nums(&lower, "a multiple of #") {
            if v.mul == 1 {
                v.mul = n[0];
            }
        }
        if let Some(n) = find_nums(&lower, "encoded as # minus") {
            v.neg = true;
            v.add = n[0];
        }
        if lower.contains("with implicit value") {
            v.add = find_nums(&lower, "with implicit value #").map_or(0, |n| n[0]);
        } else if v.src.is_empty() {
            v.add = find_nums(&lower, "offset #").map_or(0, |n| n[0]);
        }
        if lower.contains("range -")
            || lower.contains("signed immediate") && !lower.contains("unsigned")
        {
            v.signed = true;
        }

        // Defaults.
        if let Some(n) = find_nums(&lower, "either # (the default)") {
            v.default = Some(n[0]);
        }
        if let Some(d) = default_text(intro) {
            let d = d.trim_matches('\'');
            v.default = match d.to_ascii_uppercase().as_str() {
                "XZR" | "WZR" | "11111" => Some(31),
                "X30" => Some(30),
                _ => d.parse::<i64>().ok(),
            };
        }
        if let Some(rest) = intro.strip_prefix("When ") {
            if let Some((f, rest)) = rest.split_once(" is set to ") {
                let value = rest.split(',').next().unwrap_or("");
                if let (Ok(refs), Ok(value)) = (parse_encodedin(f), u32::from_str_radix(value, 2)) {
                    v.when = Some((self.parts(&refs)?, value));
                }
            }
        }
        if v.fmt == "Fmt::Dec" && hex_immediate(self.e, name, &lower) {
            v.fmt = "Fmt::Hex".into();
        }
        Ok(v.code())
    }
}

/// Whether LLVM prints an immediate in hexadecimal: the 16-bit comments of the exception
/// generating instructions and 8-bit AdvSIMD modified immediates.
fn hex_immediate(e: &Encoding, name: &str, lower: &str) -> bool {
    (e.psname.contains("/exceptions/") && lower.contains("16-bit unsigned immediate"))
        || (name == "imm8" && e.instr_class == "advsimd")
        || name == "mask" && lower.contains("flag bit mask")
}

/// `X` from "defaulting to X" / "defaults to X" in prose.
fn default_text(intro: &str) -> Option<String> {
    for key in ["defaulting to ", "Defaults to ", "defaults to "] {
        if let Some(pos) = intro.find(key) {
            let rest = &intro[pos + key.len()..];
            let end = rest.find([',', '.', ';', ')']).unwrap_or(rest.len());
            let mut d = rest[..end].trim();
            if let Some(x) = d.strip_suffix(" and encoded in the") {
                d = x;
            }
            let d = d.split(" and ").next().unwrap_or(d).trim();
            let d = d.strip_suffix(" and").unwrap_or(d).trim();
            let d = d.split(" if ").next().unwrap_or(d).trim();
            return Some(d.to_string());
        }
    }
    None
}

/// Recovers the original case of a lowercased slice of `v`.
fn original_case(v: &str, lower_part: &str) -> String {
    let l = v.to_ascii_lowercase();
    match l.find(lower_part) {
        Some(pos) => v[pos..pos + lower_part.len()].to_string(),
        None => lower_part.to_string(),
    }
}

/// Reads the fields of an alias encoding, falling back to its instruction encoding.
struct CondScope<'a> {
    alias: &'a Encoding,
    insn: &'a Encoding,
}

impl Scope for CondScope<'_> {
    fn field_width(&self, name: &str) -> Option<u8> {
        self.alias
            .field(name)
            .or_else(|| self.insn.field(name))
            .map(|f| f.width() as u8)
    }

    fn call(&self, name: &str, args: &[(String, Ty)]) -> Option<(String, Ty)> {
        let (func, ty) = match name {
            "BFXPreferred" => ("bfx_preferred", Ty::Bool),
            "MoveWidePreferred" => ("move_wide_preferred", Ty::Bool),
            "SVEMoveMaskPreferred" => ("sve_move_mask_preferred", Ty::Bool),
            "SysOp" if self.insn.id.starts_with("SYSP") => ("sys_op128", Ty::Enum),
            "SysOp" => ("sys_op", Ty::Enum),
            _ => return None,
        };
        let args: Vec<String> = args.iter().map(|(c, _)| format!("{c} as u64")).collect();
        Some((format!("cond::{func}({})", args.join(", ")), ty))
    }
}

fn cond_code(
    c: &Condition,
    scope: &CondScope<'_>,
) -> Result<Option<(String, Vec<String>)>, String> {
    match c {
        Condition::Always => Ok(Some(("true".into(), Vec::new()))),
        Condition::Never => Ok(None),
        Condition::Unparsed(text, err) => Err(format!("unparsed `{text}`: {err}")),
        Condition::Expr(e) => {
            let (code, ty) = rust_expr::translate(e, scope)?;
            if ty != Ty::Bool {
                return Err(format!("condition is {ty:?}"));
            }
            Ok(Some((
                code,
                e.idents().into_iter().map(str::to_string).collect(),
            )))
        }
    }
}

fn template_text(t: &[TemplatePiece]) -> String {
    t.iter()
        .map(|p| match p {
            TemplatePiece::Text(s) => s.as_str(),
            TemplatePiece::Symbol { text, .. } => text.as_str(),
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn generate(model: &Model<'_>) -> Result<String, Error> {
    let mut unhandled = Vec::new();
    let mut insns = Vec::new();
    for e in &model.insns {
        let mut b = Builder {
            model,
            e,
            insn: e,
            unhandled: &mut unhandled,
        };
        let ops = b.nodes(&parse_template(&e.template));
        insns.push(FormRow {
            name: e.id.clone(),
            file: e.file.clone(),
            template: template_text(&e.template),
            ops,
        });
    }

    let mut aliases = Vec::new();
    let mut conds = Vec::new();
    let mut of: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); model.insns.len()];
    for a in &model.aliases {
        let Some(alias_of) = &a.alias_of else {
            continue;
        };
        let Some(ii) = model.insn_index(&alias_of.encoding) else {
            unhandled.push(format!(
                "{}: alias of unknown encoding {}",
                a.id, alias_of.encoding
            ));
            continue;
        };
        let insn = model.insns[ii];
        let scope = CondScope { alias: a, insn };
        let section = model.spec.section(&insn.section);
        let aref_pos = section.and_then(|s| s.aliases.iter().position(|r| r.section == a.section));
        let prefs: Vec<_> = section
            .and_then(|s| aref_pos.map(|p| &s.aliases[p]))
            .map(|r| {
                r.prefs
                    .iter()
                    .filter(|p| p.labels.is_empty() || p.labels.contains(&insn.label))
                    .collect()
            })
            .unwrap_or_default();
        let mut parts = Vec::new();
        let mut idents = BTreeSet::new();
        let mut ok = true;
        let mut reason = Vec::new();
        match cond_code(&alias_of.cond, &scope) {
            Ok(Some((c, ids))) => {
                if c != "true" {
                    parts.push(c);
                    reason.push(alias_of.cond_text.clone());
                }
                idents.extend(ids);
            }
            Ok(None) => ok = false,
            Err(err) => {
                unhandled.push(format!("{}: aliascond: {err}", a.id));
                ok = false;
            }
        }
        let mut pref_codes = Vec::new();
        for p in &prefs {
            match cond_code(&p.cond, &scope) {
                Ok(Some((c, ids))) => {
                    if p.text != "Unconditionally" {
                        reason.push(p.text.clone());
                    }
                    pref_codes.push(c);
                    idents.extend(ids);
                }
                Ok(None) => {}
                Err(err) => unhandled.push(format!("{}: aliaspref: {err}", a.id)),
            }
        }
        if !prefs.is_empty() {
            if pref_codes.is_empty() {
                ok = false;
            } else {
                parts.push(format!("({})", pref_codes.join(" || ")));
            }
        }
        if !ok {
            continue;
        }
        let k = aliases.len();
        let mut body = String::new();
        for id in &idents {
            if let Some(f) = a.field(id).or_else(|| insn.field(id)) {
                let _ = writeln!(
                    body,
                    "let {}: u64 = ({}) as u64;",
                    field_ident(id),
                    extract_expr(f, "w")
                );
            }
        }
        let _ = write!(
            body,
            "{}",
            if parts.is_empty() {
                "true".to_string()
            } else {
                parts.join(" && ")
            }
        );
        conds.push(CondRow {
            index: k,
            name: a.id.clone(),
            text: reason.join("; "),
            body,
        });
        let mut b = Builder {
            model,
            e: a,
            insn,
            unhandled: &mut unhandled,
        };
        let ops = b.nodes(&parse_template(&a.template));
        let p = a.pattern;
        aliases.push(AliasRow {
            name: a.id.clone(),
            file: a.file.clone(),
            template: template_text(&a.template),
            insn: insn.id.clone(),
            mask: format!("{:#010x}", p.mask),
            value: format!("{:#010x}", p.value),
            not: p
                .not
                .as_slice()
                .iter()
                .map(|(m, v)| format!("({m:#010x}, {v:#010x})"))
                .collect::<Vec<_>>()
                .join(", "),
            reason: lit(&reason.join("; ")),
            ops,
        });
        let order = aref_pos.unwrap_or(usize::MAX);
        of[ii].push((order, k, k));
    }
    let aliases_of = of
        .into_iter()
        .map(|mut v| {
            v.sort();
            format!(
                "&[{}]",
                v.iter()
                    .map(|(_, k, _)| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let stats = format!(
        "{} instruction forms, {} alias forms, {} unhandled symbols",
        insns.len(),
        aliases.len(),
        unhandled.len()
    );
    DisasRs {
        stats,
        unhandled,
        insns,
        aliases,
        aliases_of,
        conds,
    }
    .render()
    .map_err(|e| Error::Template("disas.rs.txt", e))
}
