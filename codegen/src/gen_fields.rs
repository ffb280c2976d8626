//! Generates `fields.rs`: one struct per instruction encoding with its named fields.

use armature_spec::Field;
use askama::Template;

use crate::{field_ident, Error, Model};

#[derive(Template)]
#[template(path = "fields.rs.txt", escape = "none")]
struct FieldsRs {
    structs: Vec<StructRow>,
}

struct StructRow {
    name: String,
    file: String,
    diagram: String,
    fields: Vec<FieldRow>,
}

struct FieldRow {
    ident: String,
    bits: String,
    extract: String,
}

/// A Rust expression extracting `field` from `word`, most significant part first.
pub(crate) fn extract_expr(field: &Field, word: &str) -> String {
    let mut expr = String::new();
    let mut shift = field.width();
    for p in &field.parts {
        shift -= u32::from(p.width);
        let bits = format!("(({word} >> {}) & {:#x})", p.lobit(), (1u64 << p.width) - 1);
        let part = if shift == 0 {
            bits
        } else {
            format!("({bits} << {shift})")
        };
        if !expr.is_empty() {
            expr.push_str(" | ");
        }
        expr.push_str(&part);
    }
    expr
}

pub fn generate(model: &Model<'_>) -> Result<String, Error> {
    let structs = model
        .insns
        .iter()
        .map(|e| StructRow {
            name: e.id.clone(),
            file: e.file.clone(),
            diagram: e
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(":"),
            fields: e
                .fields
                .iter()
                .map(|f| FieldRow {
                    ident: field_ident(&f.name),
                    bits: f
                        .parts
                        .iter()
                        .map(|p| format!("{}..={}", p.lobit(), p.hibit))
                        .collect::<Vec<_>>()
                        .join(", "),
                    extract: extract_expr(f, "word"),
                })
                .collect(),
        })
        .collect();
    FieldsRs { structs }
        .render()
        .map_err(|e| Error::Template("fields.rs.txt", e))
}
