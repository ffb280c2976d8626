//! Generates `encodings.rs`: `Feature`, `EncodingId`, `SECTIONS` and `ENCODINGS`.

use askama::Template;

use crate::{lit, Error, Model};

#[derive(Template)]
#[template(path = "encodings.rs.txt", escape = "none")]
struct EncodingsRs {
    features: Vec<String>,
    /// `(Have...() function, FEAT_ name)` pairs the decode guards use.
    have_features: Vec<(String, String)>,
    sections: Vec<SectionRow>,
    encodings: Vec<EncodingRow>,
    aliases: Vec<AliasRow>,
    /// Decode pseudocode texts, shared by the encodings of an iclass.
    decodes: Vec<String>,
}

struct AliasRow {
    name: String,
    file: String,
    file_lit: String,
    mnemonic: String,
    of: String,
    cond: String,
}

struct SectionRow {
    id: String,
    file: String,
    file_lit: String,
    title: String,
    execute: String,
}

struct EncodingRow {
    name: String,
    file: String,
    mnemonic: String,
    feature: String,
    features: String,
    instr_class: String,
    section: usize,
    iclass: String,
    label: String,
    psname: String,
    mask: String,
    value: String,
    not: String,
    should_mask: String,
    should_value: String,
    fields: String,
    guards: String,
    runtime_guards: String,
    decode: String,
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

pub fn generate(model: &Model<'_>) -> Result<String, Error> {
    let sections: Vec<SectionRow> = model
        .spec
        .sections
        .iter()
        .filter(|s| s.kind == armature_spec::SectionKind::Instruction)
        .map(|s| SectionRow {
            id: lit(&s.id),
            file: s.file.clone(),
            file_lit: lit(&s.file),
            title: lit(&s.title),
            execute: lit(s.execute.as_deref().unwrap_or("")),
        })
        .collect();
    let mut encodings = Vec::new();
    let mut decodes: Vec<String> = Vec::new();
    for e in &model.insns {
        let text = lit(e.decode.as_deref().unwrap_or(""));
        let decode = match decodes.iter().position(|d| *d == text) {
            Some(k) => k,
            None => {
                decodes.push(text);
                decodes.len() - 1
            }
        };
        let section = sections
            .iter()
            .position(|s| s.file == e.file)
            .ok_or_else(|| Error::Model(format!("{}: encoding {} has no section", e.file, e.id)))?;
        encodings.push(EncodingRow {
            name: e.id.clone(),
            file: e.file.clone(),
            mnemonic: lit(&e.mnemonic),
            feature: e.feature.clone(),
            features: list(e.features.iter().map(|f| format!("Feature::{f}"))),
            instr_class: lit(&e.instr_class),
            section,
            iclass: lit(&e.iclass),
            label: lit(&e.label),
            psname: lit(&e.psname),
            mask: format!("{:#010x}", e.pattern.mask),
            value: format!("{:#010x}", e.pattern.value),
            not: list(
                e.pattern
                    .not
                    .as_slice()
                    .iter()
                    .map(|(m, v)| format!("({m:#010x}, {v:#010x})")),
            ),
            should_mask: format!("{:#010x}", e.pattern.should_mask),
            should_value: format!("{:#010x}", e.pattern.should_value),
            fields: list(e.fields.iter().map(|f| {
                format!(
                    "FieldInfo {{ name: {}, parts: &[{}] }}",
                    lit(&f.name),
                    list(
                        f.parts
                            .iter()
                            .map(|p| format!("({}, {})", p.hibit, p.width))
                    )
                )
            })),
            guards: list(e.guards.iter().map(|g| lit(&g.text))),
            runtime_guards: list(e.runtime_guards.iter().map(|g| lit(g))),
            decode: format!("DECODE_{decode}"),
        });
    }
    let aliases = model
        .aliases
        .iter()
        .map(|a| {
            let of = a.alias_of.as_ref();
            AliasRow {
                name: a.id.clone(),
                file: a.file.clone(),
                file_lit: lit(&a.file),
                mnemonic: lit(a.alias_mnemonic.as_deref().unwrap_or(&a.mnemonic)),
                of: match of.and_then(|o| model.insn_index(&o.encoding)) {
                    Some(i) => format!("Some(EncodingId::{})", model.insns[i].id),
                    None => "None".into(),
                },
                cond: lit(of.map_or("", |o| o.cond_text.as_str())),
            }
        })
        .collect();
    EncodingsRs {
        features: model.features.clone(),
        // Model::new puts every feature of this table into `features`.
        have_features: crate::gen_decoder::HAVE_FEATURES
            .iter()
            .map(|(h, f)| (h.to_string(), f.to_string()))
            .collect(),
        sections,
        encodings,
        aliases,
        decodes,
    }
    .render()
    .map_err(|e| Error::Template("encodings.rs.txt", e))
}
