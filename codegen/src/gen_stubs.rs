//! Generates `semantics.rs`: one trait per instr-class with a "not implemented" default per
//! encoding, documented with the encoding's execute pseudocode, and the dispatcher.

use askama::Template;

use crate::{Error, Model};

#[derive(Template)]
#[template(path = "semantics.rs.txt", escape = "none")]
struct SemanticsRs {
    traits: Vec<TraitRow>,
}

struct TraitRow {
    class: String,
    name: String,
    methods: Vec<MethodRow>,
}

struct MethodRow {
    name: String,
    file: String,
    title: String,
    execute: Vec<String>,
}

/// The trait name of an instr-class.
pub fn trait_name(class: &str) -> String {
    match class {
        "general" => "GeneralSemantics".into(),
        "system" => "SystemSemantics".into(),
        "float" => "FloatSemantics".into(),
        "fpsimd" => "FpSimdSemantics".into(),
        "advsimd" => "AdvSimdSemantics".into(),
        "sve" => "SveSemantics".into(),
        "sve2" => "Sve2Semantics".into(),
        "mortlach" => "SmeSemantics".into(),
        "mortlach2" => "Sme2Semantics".into(),
        other => {
            let mut s: String = other.chars().filter(char::is_ascii_alphanumeric).collect();
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{s}Semantics")
        }
    }
}

pub fn generate(model: &Model<'_>) -> Result<String, Error> {
    let mut classes: Vec<&str> = model.insns.iter().map(|e| e.instr_class.as_str()).collect();
    classes.sort();
    classes.dedup();
    let traits = classes
        .into_iter()
        .map(|class| TraitRow {
            class: class.to_string(),
            name: trait_name(class),
            methods: model
                .insns
                .iter()
                .filter(|e| e.instr_class == class)
                .map(|e| {
                    let section = model.spec.section(&e.section);
                    let execute = section
                        .and_then(|s| s.execute.as_deref())
                        .unwrap_or("(no execute pseudocode)");
                    MethodRow {
                        name: e.id.clone(),
                        file: e.file.clone(),
                        title: section.map(|s| s.title.clone()).unwrap_or_default(),
                        execute: execute
                            .lines()
                            .map(|l| {
                                if l.is_empty() {
                                    String::new()
                                } else {
                                    format!(" {l}")
                                }
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    SemanticsRs { traits }
        .render()
        .map_err(|e| Error::Template("semantics.rs.txt", e))
}
