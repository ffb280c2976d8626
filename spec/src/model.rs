//! The model of the A64 ISA that the parser builds and the generator reads.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::asl::Expr;
use crate::bits::FieldRef;

/// The whole specification: every instruction and alias section with its encodings.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Spec {
    /// One entry per XML file of type `instruction` or `alias`, sorted by file name.
    pub sections: Vec<Section>,
    /// Every encoding of every section, instruction encodings and alias encodings alike, sorted by id.
    pub encodings: Vec<Encoding>,
}

/// Whether a section defines instructions or aliases of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SectionKind {
    Instruction,
    Alias,
}

/// One `<instructionsection>`, that is one XML file.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// The section id, e.g. `ADD_addsub_imm`.
    pub id: String,
    /// The XML file name, e.g. `add_addsub_imm.xml`.
    pub file: String,
    pub title: String,
    pub kind: SectionKind,
    /// For an alias section: the file of the instruction it is an alias of.
    pub alias_to: Option<String>,
    /// For an instruction section: the aliases it lists, with their preference conditions.
    pub aliases: Vec<AliasRef>,
    /// The execute pseudocode (Operation), with links stripped.
    pub execute: Option<String>,
}

/// An `<aliasref>` of an instruction section.
#[derive(Clone, Debug, Serialize)]
pub struct AliasRef {
    /// The alias section id (`aliaspageid`).
    pub section: String,
    /// The alias file (`aliasfile`).
    pub file: String,
    /// The `aliaspref` conditions, each with the encoding labels it is limited to (empty: all).
    pub prefs: Vec<AliasPref>,
}

/// One `<aliaspref>`: when the alias is the preferred disassembly.
#[derive(Clone, Debug, Serialize)]
pub struct AliasPref {
    pub labels: Vec<String>,
    pub text: String,
    pub cond: Condition,
}

/// A condition in ASL, kept as text and as a parsed expression where it parses.
#[derive(Clone, Debug, Serialize)]
pub enum Condition {
    Always,
    Never,
    Expr(Expr),
    /// Text that did not parse, with the parse error.
    Unparsed(String, String),
}

/// One `<encoding>`: a concrete bit pattern with an assembler template.
#[derive(Clone, Debug, Serialize)]
pub struct Encoding {
    /// The encoding id, e.g. `ADD_64_addsub_imm`.
    pub id: String,
    pub file: String,
    /// The id of the section the encoding belongs to.
    pub section: String,
    pub kind: SectionKind,
    /// The iclass name, e.g. `Not setting the condition flags`.
    pub iclass: String,
    pub label: String,
    /// The `mnemonic` docvar (for an alias, the mnemonic of the aliased instruction).
    pub mnemonic: String,
    /// The `alias_mnemonic` docvar of alias encodings.
    pub alias_mnemonic: Option<String>,
    /// The `instr-class` docvar: general, system, float, fpsimd, advsimd, sve, sve2, mortlach, mortlach2.
    pub instr_class: String,
    /// The FEAT_ tags of the encoding's `arch_variants`, in document order (may be empty).
    pub features: Vec<String>,
    /// The same as a requirement: any one of the alternatives, each needing all of its tags
    /// (`FEAT_D128 && FEAT_THE`). Empty when the XML gives no tag.
    pub feature_alternatives: Vec<Vec<String>>,
    /// The primary feature: the first FEAT_ tag, else one derived from `instr_class`, else `A64`.
    pub feature: String,
    /// The `psname` of the register diagram, e.g. `aarch64/instrs/integer/arithmetic/add-sub/immediate`.
    pub psname: String,
    pub pattern: Pattern,
    /// The named fields of the register diagram after the encoding's own boxes are overlaid.
    pub fields: Vec<Field>,
    pub template: Vec<TemplatePiece>,
    /// The explanations of the template's symbols that apply to this encoding.
    pub symbols: Vec<Symbol>,
    /// The decode pseudocode of the iclass, with links stripped.
    pub decode: Option<String>,
    /// `if COND then UNDEFINED;` guards of the decode pseudocode that read only fields and features.
    pub guards: Vec<Guard>,
    /// Guards that read anything else; they are decided at execution time.
    pub runtime_guards: Vec<String>,
    /// For an alias encoding: the instruction encoding it stands for, and when.
    pub alias_of: Option<AliasOf>,
    pub docvars: BTreeMap<String, String>,
}

/// The instruction encoding an alias encoding is equivalent to.
#[derive(Clone, Debug, Serialize)]
pub struct AliasOf {
    /// The encoding id the `equivalent_to` template links to.
    pub encoding: String,
    pub cond_text: String,
    pub cond: Condition,
}

/// An `if COND then UNDEFINED;` line of decode pseudocode.
#[derive(Clone, Debug, Serialize)]
pub struct Guard {
    pub text: String,
    pub cond: Expr,
}

/// The 32-bit pattern of an encoding.
///
/// A word belongs to the encoding when `word & mask == value`, no `not` pattern matches, and
/// (for the architecturally exact reading) the should-be bits hold; decoders treat
/// should-be bits as don't-care, as LLVM does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Pattern {
    pub mask: u32,
    pub value: u32,
    /// `!=` constraints: the word must not match any of these `(mask, value)` pairs.
    #[serde(skip)]
    pub not: NotList,
    /// Bits written `(0)` or `(1)`: should-be-zero / should-be-one.
    pub should_mask: u32,
    pub should_value: u32,
}

/// Up to four `!=` constraints, stored inline so that `Pattern` stays `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NotList {
    len: u8,
    items: [(u32, u32); 4],
}

impl NotList {
    pub fn push(&mut self, mask: u32, value: u32) -> Result<(), String> {
        let slot = self
            .items
            .get_mut(usize::from(self.len))
            .ok_or("more than four != constraints in one encoding")?;
        *slot = (mask, value);
        self.len += 1;
        Ok(())
    }

    pub fn as_slice(&self) -> &[(u32, u32)] {
        &self.items[..usize::from(self.len)]
    }
}

impl Pattern {
    /// Whether `word` matches the fixed bits and none of the `!=` constraints.
    pub fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value && self.not.as_slice().iter().all(|&(m, v)| word & m != v)
    }

    /// How many bits the pattern decides: fixed bits plus `!=`-constrained bits.
    pub fn specificity(&self) -> u32 {
        let not_bits = self.not.as_slice().iter().fold(0, |acc, &(m, _)| acc | m);
        self.mask.count_ones() + (not_bits & !self.mask).count_ones()
    }
}

/// A named field of the register diagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    /// The bit ranges, most significant part first; usually one.
    pub parts: Vec<BitRange>,
}

impl Field {
    pub fn width(&self) -> u32 {
        self.parts.iter().map(|p| u32::from(p.width)).sum()
    }

    /// Extracts the field from `word`.
    pub fn extract(&self, word: u32) -> u32 {
        self.parts
            .iter()
            .fold(0, |acc, p| (acc << p.width) | p.extract(word))
    }
}

/// Bits `hibit` down to `hibit - width + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BitRange {
    pub hibit: u8,
    pub width: u8,
}

impl BitRange {
    pub fn lobit(&self) -> u8 {
        self.hibit + 1 - self.width
    }

    pub fn mask(&self) -> u32 {
        (((1u64 << self.width) - 1) as u32) << self.lobit()
    }

    pub fn extract(&self, word: u32) -> u32 {
        (word & self.mask()) >> self.lobit()
    }
}

/// One piece of an assembler template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum TemplatePiece {
    /// Literal text, e.g. `ADD  ` or `, #` or `{`.
    Text(String),
    /// A symbol such as `<Xd|SP>`, with the link to its explanation.
    Symbol { text: String, link: String },
}

/// The explanation of one template symbol.
#[derive(Clone, Debug, Serialize)]
pub struct Symbol {
    pub link: String,
    /// The symbol as written, e.g. `<Xd|SP>`.
    pub text: String,
    /// The raw `encodedin` attribute.
    pub encodedin_text: String,
    /// The parsed `encodedin` attribute (empty when absent).
    pub encodedin: Vec<FieldRef>,
    pub kind: SymbolKind,
}

/// How a symbol's value is given.
#[derive(Clone, Debug, Serialize)]
pub enum SymbolKind {
    /// Prose, e.g. `Is the 64-bit name of the destination general-purpose register ...`.
    Account { intro: String },
    /// A table from field values to text.
    Definition { intro: String, table: ValueTable },
}

/// A definition table: bitfield columns, then symbol columns.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ValueTable {
    pub bitfields: Vec<String>,
    pub symbols: Vec<String>,
    pub rows: Vec<ValueRow>,
}

/// One row of a definition table.
#[derive(Clone, Debug, Serialize)]
pub struct ValueRow {
    /// One bit pattern text per bitfield column, e.g. `01`, `1x`.
    pub bits: Vec<String>,
    /// One text per symbol column, e.g. `4H`, `RESERVED`.
    pub values: Vec<String>,
    /// The feature column, if any.
    pub feature: Option<String>,
}

impl Spec {
    pub fn encoding(&self, id: &str) -> Option<&Encoding> {
        self.encodings
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.encodings[i])
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

impl Encoding {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The feature that base SVE, SVE2 and SME encodings imply through their `instr-class`,
/// since their XML carries no FEAT_ tag.
pub fn feature_from_instr_class(instr_class: &str) -> Option<&'static str> {
    Some(match instr_class {
        "sve" => "FEAT_SVE",
        "sve2" => "FEAT_SVE2",
        "mortlach" => "FEAT_SME",
        "mortlach2" => "FEAT_SME2",
        "float" | "fpsimd" => "FEAT_FP",
        "advsimd" => "FEAT_AdvSIMD",
        _ => return None,
    })
}
