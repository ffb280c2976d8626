//! The A64 instruction set as generated from Arm's machine-readable XML.
//!
//! Everything in [`generated`] is written by `armature-codegen` from `build.rs`; this module
//! holds the hand-written types it fills in.

pub mod names;
pub mod pseudo;

/// Code generated at build time from the XML; every item names the file and encoding it came from.
#[allow(
    non_camel_case_types,
    non_snake_case,
    clippy::all,
    reason = "generated code"
)]
pub mod generated {
    use super::{AliasInfo, Decoded, EncodingInfo, FeatureSet, FieldInfo, SectionInfo};

    include!(concat!(env!("OUT_DIR"), "/encodings.rs"));
    include!(concat!(env!("OUT_DIR"), "/decoder.rs"));

    /// One struct per encoding with its named fields.
    pub mod fields {
        include!(concat!(env!("OUT_DIR"), "/fields.rs"));
    }

    /// The semantics traits, one per instr-class, and their dispatcher.
    pub mod semantics {
        use super::{fields, EncodingId};
        include!(concat!(env!("OUT_DIR"), "/semantics.rs"));
    }
}

pub use generated::{
    decode, fields, semantics, EncodingId, Feature, ALIASES, ENCODINGS, HAVE_FEATURES, SECTIONS,
};

/// The metadata of one instruction encoding.
#[derive(Debug)]
pub struct EncodingInfo {
    pub id: EncodingId,
    /// The encoding id as Arm writes it, e.g. `ADD_64_addsub_imm`.
    pub name: &'static str,
    pub mnemonic: &'static str,
    /// The primary feature: first FEAT_ tag, else derived from the instr-class, else `A64`.
    pub feature: Feature,
    /// Every FEAT_ tag of the encoding's `arch_variants` (any one of them enables it).
    pub features: &'static [Feature],
    pub instr_class: &'static str,
    /// Index into [`SECTIONS`].
    pub section: usize,
    pub iclass: &'static str,
    pub label: &'static str,
    pub psname: &'static str,
    pub mask: u32,
    pub value: u32,
    /// `!=` constraints: `(mask, value)` pairs that must not match.
    pub not: &'static [(u32, u32)],
    pub should_mask: u32,
    pub should_value: u32,
    pub fields: &'static [FieldInfo],
    /// The decode guards the decoder evaluates, as written in the pseudocode.
    pub guards: &'static [&'static str],
    /// Guards that need more than the fields; they are checked at execution time.
    pub runtime_guards: &'static [&'static str],
    /// The decode pseudocode.
    pub decode: &'static str,
}

impl EncodingInfo {
    /// The section (XML file) of the encoding.
    pub fn section(&self) -> &'static SectionInfo {
        &SECTIONS[self.section]
    }

    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether `word` matches the pattern, `!=` constraints included.
    pub fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value && self.not.iter().all(|&(m, v)| word & m != v)
    }
}

impl EncodingId {
    pub fn info(self) -> &'static EncodingInfo {
        &ENCODINGS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Looks an encoding up by its Arm id.
    pub fn from_name(name: &str) -> Option<EncodingId> {
        ENCODINGS
            .binary_search_by(|e| e.name.cmp(name))
            .ok()
            .map(|i| ENCODINGS[i].id)
    }
}

/// One instruction section, that is one XML file.
#[derive(Debug)]
pub struct SectionInfo {
    pub id: &'static str,
    pub file: &'static str,
    pub title: &'static str,
    /// The execute pseudocode (Operation).
    pub execute: &'static str,
}

/// An alias encoding: another way to write (and print) an instruction encoding.
#[derive(Debug)]
pub struct AliasInfo {
    /// The alias encoding id, e.g. `MOV_ORR_64_log_shift`.
    pub name: &'static str,
    pub file: &'static str,
    /// The alias mnemonic, e.g. `MOV`.
    pub mnemonic: &'static str,
    /// The instruction encoding it stands for.
    pub of: Option<EncodingId>,
    /// The `aliascond` text.
    pub cond: &'static str,
}

/// A named field: its bit ranges as `(hibit, width)`, most significant part first.
#[derive(Debug)]
pub struct FieldInfo {
    pub name: &'static str,
    pub parts: &'static [(u8, u8)],
}

impl FieldInfo {
    pub fn width(&self) -> u32 {
        self.parts.iter().map(|&(_, w)| u32::from(w)).sum()
    }

    pub fn extract(&self, word: u32) -> u32 {
        self.parts.iter().fold(0, |acc, &(hi, w)| {
            let lo = u32::from(hi) + 1 - u32::from(w);
            (acc << w) | ((word >> lo) & ((1u32 << w) - 1))
        })
    }
}

/// A set of enabled features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FeatureSet([u64; 4]);

const _: () = assert!(Feature::ALL.len() <= 256, "FeatureSet holds 256 features");

impl FeatureSet {
    /// No feature but the base instruction set.
    pub const fn base() -> Self {
        FeatureSet([1, 0, 0, 0])
    }

    /// Every feature the XML names.
    pub fn all() -> Self {
        Feature::ALL.iter().fold(Self::base(), |s, &f| s.with(f))
    }

    pub const fn contains(&self, f: Feature) -> bool {
        let i = f as usize;
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    #[must_use]
    pub const fn with(mut self, f: Feature) -> Self {
        let i = f as usize;
        self.0[i / 64] |= 1 << (i % 64);
        self
    }

    #[must_use]
    pub const fn without(mut self, f: Feature) -> Self {
        let i = f as usize;
        self.0[i / 64] &= !(1 << (i % 64));
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = Feature> + '_ {
        Feature::ALL.iter().copied().filter(|&f| self.contains(f))
    }
}

impl Feature {
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// What the decoder says of a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// An allocated encoding whose feature is enabled and whose decode guards pass.
    Insn(EncodingId),
    /// No encoding of the XML has this pattern.
    Unallocated,
    /// The pattern is that of `id`, but its decode pseudocode says UNDEFINED (guard index into
    /// [`EncodingInfo::guards`]).
    Undefined { id: EncodingId, guard: u8 },
    /// The encoding needs a feature that is not enabled.
    FeatureDisabled { id: EncodingId, feature: Feature },
}

impl Decoded {
    /// The encoding the word was matched to, if any.
    pub fn encoding(self) -> Option<EncodingId> {
        match self {
            Decoded::Insn(id)
            | Decoded::Undefined { id, .. }
            | Decoded::FeatureDisabled { id, .. } => Some(id),
            Decoded::Unallocated => None,
        }
    }
}

#[cfg(test)]
mod tests;
