//! Build-time generator: turns the spec model into Rust source for `armature-isa`.
//!
//! One generator module per output file, after Cranelift's meta crate:
//! - [`gen_meta`] → `encodings.rs`: the `EncodingId` enum, the metadata table and the features;
//! - [`gen_fields`] → `fields.rs`: one field struct per encoding;
//! - [`gen_decoder`] → `decoder.rs`: the decision tree and the decode guards;
//! - [`gen_disas`] → `disas.rs`: the disassembler's per-encoding print forms and alias choices;
//! - [`gen_stubs`] → `semantics.rs`: one semantics trait per instr-class with "not implemented" defaults.
//!
//! Output is deterministic: the same spec gives byte-identical files.

use std::path::Path;

use armature_spec::{Encoding, SectionKind, Spec};

mod gen_decoder;
mod gen_disas;
mod gen_fields;
mod gen_meta;
mod gen_stubs;
mod rust_expr;

/// One generated file.
#[derive(Debug)]
pub struct GeneratedFile {
    pub name: &'static str,
    pub contents: String,
}

/// A generation failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("template {0} failed: {1}")]
    Template(&'static str, askama::Error),
    #[error("{0}")]
    Model(String),
    #[error("cannot write {0}: {1}")]
    Io(String, std::io::Error),
}

/// The model seen by every generator: the spec plus the stable order of instruction encodings.
pub struct Model<'a> {
    pub spec: &'a Spec,
    /// The encodings the decoder can return (instruction encodings), sorted by id; their
    /// position is their `EncodingId` discriminant.
    pub insns: Vec<&'a Encoding>,
    /// Alias encodings, sorted by id.
    pub aliases: Vec<&'a Encoding>,
    /// Every feature named anywhere, sorted, `A64` first.
    pub features: Vec<String>,
}

impl<'a> Model<'a> {
    pub fn new(spec: &'a Spec) -> Self {
        let insns: Vec<_> = spec
            .encodings
            .iter()
            .filter(|e| e.kind == SectionKind::Instruction)
            .collect();
        let aliases: Vec<_> = spec
            .encodings
            .iter()
            .filter(|e| e.kind == SectionKind::Alias)
            .collect();
        let mut features: Vec<String> = spec
            .encodings
            .iter()
            .flat_map(|e| e.features.iter().chain(std::iter::once(&e.feature)))
            .cloned()
            .chain(
                gen_decoder::HAVE_FEATURES
                    .iter()
                    .map(|(_, f)| f.to_string()),
            )
            .filter(|f| f != "A64")
            .collect();
        features.sort();
        features.dedup();
        features.insert(0, "A64".into());
        Model {
            spec,
            insns,
            aliases,
            features,
        }
    }

    /// The `EncodingId` discriminant of an instruction encoding.
    pub fn insn_index(&self, id: &str) -> Option<usize> {
        self.insns.binary_search_by(|e| e.id.as_str().cmp(id)).ok()
    }

    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.features.iter().position(|f| f == name)
    }
}

/// Generates every output file from `spec`.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, Error> {
    let model = Model::new(spec);
    Ok(vec![
        GeneratedFile {
            name: "encodings.rs",
            contents: gen_meta::generate(&model)?,
        },
        GeneratedFile {
            name: "fields.rs",
            contents: gen_fields::generate(&model)?,
        },
        GeneratedFile {
            name: "decoder.rs",
            contents: gen_decoder::generate(&model)?,
        },
        GeneratedFile {
            name: "disas.rs",
            contents: gen_disas::generate(&model)?,
        },
        GeneratedFile {
            name: "semantics.rs",
            contents: gen_stubs::generate(&model)?,
        },
    ])
}

/// Writes `files` into `dir`, leaving files whose contents did not change untouched.
pub fn write(files: &[GeneratedFile], dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io(dir.display().to_string(), e))?;
    for f in files {
        let path = dir.join(f.name);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(f.contents.as_str()) {
            continue;
        }
        std::fs::write(&path, &f.contents).map_err(|e| Error::Io(path.display().to_string(), e))?;
    }
    Ok(())
}

/// A Rust string literal for `s`.
pub(crate) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// An identifier for a field name: Arm's name, raw where it is a Rust keyword.
pub(crate) fn field_ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "type", "mod", "use", "in", "ref", "fn", "as", "if", "else", "match", "loop", "move",
        "self", "Self", "crate", "super", "where", "impl", "trait", "struct", "enum", "const",
        "static", "let", "mut", "pub", "return", "true", "false", "for", "while", "break",
        "continue", "dyn", "async", "await", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "abstract", "become", "extern", "unsafe",
        "gen",
    ];
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if KEYWORDS.contains(&clean.as_str()) {
        format!("r#{clean}")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        let dir = armature_spec::spec_dir();
        armature_spec::load(&dir).unwrap_or_else(|e| panic!("cannot load {}: {e}", dir.display()))
    }

    /// The lines of `text` from the first line containing `start` up to `lines` lines.
    fn excerpt(text: &str, start: &str, lines: usize) -> String {
        let from = text
            .lines()
            .position(|l| l.contains(start))
            .unwrap_or_else(|| panic!("{start} not found"));
        text.lines()
            .skip(from)
            .take(lines)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn output_is_deterministic_and_traceable() {
        let spec = spec();
        let a = generate(&spec).expect("generates");
        let b = generate(&spec).expect("generates");
        for (x, y) in a.iter().zip(&b) {
            assert!(
                x.contents == y.contents,
                "{} differs between two runs",
                x.name
            );
            assert!(
                x.contents.starts_with("// @generated by armature-codegen"),
                "{}",
                x.name
            );
        }
        let get = |name: &str| &a.iter().find(|f| f.name == name).expect(name).contents;
        insta::assert_snapshot!(
            "fields_sample",
            excerpt(get("fields.rs"), "The fields of `ADD_64_addsub_imm`", 30)
        );
        insta::assert_snapshot!(
            "decoder_check_sample",
            excerpt(get("decoder.rs"), "fn check_ADD_32_addsub_shift(", 12)
        );
        insta::assert_snapshot!(
            "metadata_sample",
            excerpt(
                get("encodings.rs"),
                "// add_addsub_imm.xml: ADD_64_addsub_imm",
                24
            )
        );
        insta::assert_snapshot!(
            "semantics_sample",
            excerpt(get("semantics.rs"), "/// `ADD_64_addsub_imm` from", 40)
        );
    }
}
