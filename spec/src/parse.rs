//! Reading the XML files into the model.
//!
//! Each file is read into a small element tree with quick-xml, then walked. Files are parsed in
//! parallel with rayon and every error is collected with its file and line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use rayon::prelude::*;

use crate::asl::{self, Expr};
use crate::bits;
use crate::error::{Error, Errors};
use crate::model::*;

/// Where the spec lives: `ARMATURE_SPEC_DIR`, else `../shared/arm-a64-xml` beside the project.
pub fn spec_dir() -> PathBuf {
    match std::env::var_os("ARMATURE_SPEC_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/arm-a64-xml"),
    }
}

/// Loads every instruction and alias file of `dir`.
pub fn load(dir: &Path) -> Result<Spec, Errors> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Errors(vec![Error {
            file: dir.display().to_string(),
            line: 0,
            message: format!(
                "cannot read the A64 ISA XML directory: {e}. Download an Arm A64 ISA XML release \
                 (https://developer.arm.com/downloads/-/exploration-tools, 'A64 ISA XML'), unpack it \
                 and point ARMATURE_SPEC_DIR at the directory holding its *.xml files"
            ),
        }])
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Errors(vec![Error {
            file: dir.display().to_string(),
            line: 0,
            message: "no *.xml files: this is not an A64 ISA XML release directory".into(),
        }]));
    }
    load_files(&files)
}

/// Loads the given files; files that are not instruction or alias sections are skipped.
pub fn load_files(files: &[PathBuf]) -> Result<Spec, Errors> {
    let results: Vec<_> = files
        .par_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::read_to_string(path) {
                Ok(text) => parse_file(&name, &text),
                Err(e) => Err(vec![Error {
                    file: name,
                    line: 0,
                    message: format!("cannot read: {e}"),
                }]),
            }
        })
        .collect();
    let mut spec = Spec::default();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(Some((section, encodings))) => {
                spec.sections.push(section);
                spec.encodings.extend(encodings);
            }
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    spec.encodings
        .retain(|e| !(e.id.is_empty() && e.template.is_empty()));
    spec.encodings
        .sort_by(|a, b| (&a.id, &a.file).cmp(&(&b.id, &b.file)));
    // Some alias files give two alias forms the same encoding id (mov_dup_z_zi.xml); the later
    // ones get a `__N` suffix so that every id is unique.
    for i in 1..spec.encodings.len() {
        let (done, rest) = spec.encodings.split_at_mut(i);
        let prev = &done[i - 1];
        let cur = &mut rest[0];
        if cur.kind == SectionKind::Alias
            && cur.id == prev.id.split("__").next().unwrap_or_default()
        {
            let n = prev
                .id
                .rsplit_once("__")
                .and_then(|(_, n)| n.parse::<u32>().ok())
                .unwrap_or(1);
            cur.id = format!("{}__{}", cur.id, n + 1);
        }
    }
    spec.encodings.sort_by(|a, b| a.id.cmp(&b.id));
    // `equivalent_to` links name the encoding in any case (`dup_z_zi.xml#dup_z_zi_`).
    let ids: std::collections::HashMap<String, String> = spec
        .encodings
        .iter()
        .filter(|e| e.kind == SectionKind::Instruction)
        .map(|e| (e.id.to_ascii_lowercase(), e.id.clone()))
        .collect();
    for e in &mut spec.encodings {
        if let Some(of) = &mut e.alias_of {
            match ids.get(&of.encoding.to_ascii_lowercase()) {
                Some(id) => of.encoding = id.clone(),
                None => errors.push(Error {
                    file: e.file.clone(),
                    line: 0,
                    message: format!(
                        "alias {} stands for unknown encoding {:?}",
                        e.id, of.encoding
                    ),
                }),
            }
        }
    }
    for pair in spec.encodings.windows(2) {
        if pair[0].id == pair[1].id {
            errors.push(Error {
                file: pair[1].file.clone(),
                line: 0,
                message: format!(
                    "encoding {} is defined twice (also in {})",
                    pair[1].id, pair[0].file
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(Errors(errors))
    }
}

/// An element of the tree.
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Child>,
    line: u32,
}

enum Child {
    Node(Node),
    Text(String),
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn elems(&self) -> impl Iterator<Item = &Node> {
        self.children.iter().filter_map(|c| match c {
            Child::Node(n) => Some(n),
            Child::Text(_) => None,
        })
    }

    fn all(&self, name: &'static str) -> impl Iterator<Item = &Node> {
        self.elems().filter(move |n| n.name == name)
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.elems().find(|n| n.name == name)
    }

    /// The text of the element and all its descendants, with markup removed.
    fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for c in &self.children {
            match c {
                Child::Text(t) => out.push_str(t),
                Child::Node(n) => n.collect_text(out),
            }
        }
    }

    fn docvars(&self) -> BTreeMap<String, String> {
        self.child("docvars")
            .into_iter()
            .flat_map(|d| d.all("docvar"))
            .filter_map(|d| Some((d.attr("key")?.to_string(), d.attr("value")?.to_string())))
            .collect()
    }

    /// The `arch_variants`: alternatives, each a conjunction of FEAT_ tags.
    fn features(&self) -> Vec<Vec<String>> {
        self.child("arch_variants")
            .into_iter()
            .flat_map(|a| a.all("arch_variant"))
            .filter_map(|v| v.attr("feature"))
            .filter(|f| !f.is_empty())
            .map(|f| f.split("&&").map(|t| t.trim().to_string()).collect())
            .collect()
    }
}

/// Reads `text` into an element tree.
fn read_tree(file: &str, text: &str) -> Result<Node, Error> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_at = |pos: usize| -> u32 {
        let line = line_starts.partition_point(|&s| s <= pos);
        u32::try_from(line).unwrap_or(u32::MAX)
    };
    let err = |pos: usize, message: String| Error {
        file: file.to_string(),
        line: line_at(pos),
        message,
    };
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader
            .read_event()
            .map_err(|e| err(pos, format!("malformed XML: {e}")))?;
        match event {
            Event::Start(e) => stack.push(start_node(&e, line_at(pos)).map_err(|m| err(pos, m))?),
            Event::Empty(e) => {
                let node = start_node(&e, line_at(pos)).map_err(|m| err(pos, m))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Child::Node(node)),
                    None => root = Some(node),
                }
            }
            Event::End(e) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| err(pos, "closing tag without an open element".into()))?;
                if node.name.as_bytes() != e.name().as_ref() {
                    return Err(err(
                        pos,
                        format!(
                            "</{}> closes <{}>",
                            String::from_utf8_lossy(e.name().as_ref()),
                            node.name
                        ),
                    ));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Child::Node(node)),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(parent) = stack.last_mut() {
                    let s = t
                        .unescape()
                        .map_err(|e| err(pos, format!("bad text: {e}")))?;
                    parent.children.push(Child::Text(s.into_owned()));
                }
            }
            Event::CData(t) => {
                if let Some(parent) = stack.last_mut() {
                    parent
                        .children
                        .push(Child::Text(String::from_utf8_lossy(&t).into_owned()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(err(
            text.len(),
            format!(
                "file ends inside <{}> opened at line {}",
                open.name, open.line
            ),
        ));
    }
    root.ok_or_else(|| err(0, "no root element".into()))
}

fn start_node(e: &BytesStart<'_>, line: u32) -> Result<Node, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let value = a
            .unescape_value()
            .map_err(|e| format!("bad attribute value in <{name}>: {e}"))?;
        attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
        line,
    })
}

/// Parses one file. Returns `None` for files that are not instruction or alias sections.
pub fn parse_file(file: &str, text: &str) -> Result<Option<(Section, Vec<Encoding>)>, Vec<Error>> {
    let root = read_tree(file, text).map_err(|e| vec![e])?;
    if root.name != "instructionsection" {
        return Ok(None);
    }
    let kind = match root.attr("type") {
        Some("instruction") => SectionKind::Instruction,
        Some("alias") => SectionKind::Alias,
        _ => return Ok(None),
    };
    let mut cx = FileCx {
        file,
        errors: Vec::new(),
    };
    let result = cx.section(&root, kind);
    if cx.errors.is_empty() {
        Ok(Some(result))
    } else {
        Err(cx.errors)
    }
}

struct FileCx<'a> {
    file: &'a str,
    errors: Vec<Error>,
}

/// The state of one bit of a register diagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Any,
    Fixed(bool),
    ShouldBe(bool),
    /// A digit of a `!=` pattern (N = 1, Z = 0).
    NotDigit(bool),
}

impl FileCx<'_> {
    fn error(&mut self, line: u32, message: String) {
        self.errors.push(Error {
            file: self.file.to_string(),
            line,
            message,
        });
    }

    fn section(&mut self, root: &Node, kind: SectionKind) -> (Section, Vec<Encoding>) {
        let id = root.attr("id").unwrap_or_default().to_string();
        if id.is_empty() {
            self.error(root.line, "instructionsection has no id".into());
        }
        let aliases = root
            .child("alias_list")
            .into_iter()
            .flat_map(|l| l.all("aliasref"))
            .map(|a| AliasRef {
                section: a.attr("aliaspageid").unwrap_or_default().to_string(),
                file: a.attr("aliasfile").unwrap_or_default().to_string(),
                prefs: a
                    .all("aliaspref")
                    .map(|p| {
                        let text = p.text().trim().to_string();
                        AliasPref {
                            labels: p
                                .attr("labels")
                                .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
                                .unwrap_or_default(),
                            cond: condition(&text),
                            text,
                        }
                    })
                    .collect(),
            })
            .collect();
        let execute = root
            .all("ps_section")
            .flat_map(|s| s.all("ps"))
            .flat_map(|p| p.all("pstext"))
            .filter(|t| t.attr("section") == Some("Execute"))
            .map(Node::text)
            .reduce(|a, b| a + "\n" + &b);
        let section = Section {
            id: id.clone(),
            file: self.file.to_string(),
            title: root.attr("title").unwrap_or_default().to_string(),
            kind,
            alias_to: root
                .child("aliasto")
                .and_then(|a| a.attr("refiform"))
                .map(str::to_string),
            aliases,
            execute,
        };
        let explanations: Vec<(Vec<&str>, &Node)> = root
            .child("explanations")
            .into_iter()
            .flat_map(|e| e.all("explanation"))
            .map(|e| {
                (
                    e.attr("enclist")
                        .unwrap_or_default()
                        .split(',')
                        .map(str::trim)
                        .collect(),
                    e,
                )
            })
            .collect();
        let root_docvars = root.docvars();
        let mut encodings = Vec::new();
        for iclass in root
            .child("classes")
            .into_iter()
            .flat_map(|c| c.all("iclass"))
        {
            let Some(diagram) = iclass.child("regdiagram") else {
                self.error(iclass.line, "iclass without a regdiagram".into());
                continue;
            };
            let Some((base_cells, base_nots, fields)) = self.diagram(diagram) else {
                continue;
            };
            let decode = iclass
                .all("ps_section")
                .flat_map(|s| s.all("ps"))
                .flat_map(|p| p.all("pstext"))
                .filter(|t| t.attr("section") == Some("Decode"))
                .map(Node::text)
                .reduce(|a, b| a + "\n" + &b);
            let iclass_features = iclass.features();
            for enc in iclass.all("encoding") {
                let mut docvars = root_docvars.clone();
                docvars.extend(iclass.docvars());
                docvars.extend(enc.docvars());
                let id = enc.attr("name").unwrap_or_default().to_string();
                let mut cells = base_cells;
                let mut nots = base_nots.clone();
                for b in enc.all("box") {
                    self.overlay_box(b, &mut cells, &mut nots);
                }
                let pattern = self.pattern(enc.line, &cells, &nots);
                let mut feature_alternatives = enc.features();
                if feature_alternatives.is_empty() {
                    feature_alternatives = iclass_features.clone();
                }
                let mut features: Vec<String> =
                    feature_alternatives.iter().flatten().cloned().collect();
                features.dedup();
                let instr_class = docvars.get("instr-class").cloned().unwrap_or_default();
                let feature = features
                    .first()
                    .cloned()
                    .or_else(|| feature_from_instr_class(&instr_class).map(str::to_string))
                    .unwrap_or_else(|| "A64".into());
                let template = enc.child("asmtemplate").map(template).unwrap_or_default();
                let alias_of = enc.child("equivalent_to").map(|eq| {
                    let target = eq
                        .child("asmtemplate")
                        .into_iter()
                        .flat_map(|t| t.all("a"))
                        .filter_map(|a| a.attr("href"))
                        .find_map(|h| h.split_once('#').map(|(_, e)| e.to_string()))
                        .unwrap_or_default();
                    let cond_text = eq
                        .child("aliascond")
                        .map(|c| c.text().trim().to_string())
                        .unwrap_or_default();
                    AliasOf {
                        encoding: target,
                        cond: condition(&cond_text),
                        cond_text,
                    }
                });
                let symbols = explanations
                    .iter()
                    .filter(|(list, _)| list.contains(&id.as_str()))
                    .filter_map(|(_, e)| self.symbol(e))
                    .collect();
                let (guards, runtime_guards) =
                    split_guards(decode.as_deref().unwrap_or(""), &fields);
                encodings.push(Encoding {
                    file: self.file.to_string(),
                    section: section.id.clone(),
                    kind,
                    iclass: iclass.attr("name").unwrap_or_default().to_string(),
                    label: enc.attr("label").unwrap_or_default().to_string(),
                    mnemonic: docvars.get("mnemonic").cloned().unwrap_or_default(),
                    alias_mnemonic: docvars.get("alias_mnemonic").cloned(),
                    instr_class,
                    features,
                    feature_alternatives,
                    feature,
                    psname: diagram.attr("psname").unwrap_or_default().to_string(),
                    pattern,
                    fields: fields.clone(),
                    template,
                    symbols,
                    decode: decode.clone(),
                    guards,
                    runtime_guards,
                    alias_of,
                    docvars,
                    id,
                });
            }
        }
        (section, encodings)
    }

    /// Reads a regdiagram: the 32 cells, the box-level `!=` constraints and the named fields.
    #[allow(clippy::type_complexity)]
    fn diagram(&mut self, diagram: &Node) -> Option<([Cell; 32], Vec<(u32, u32)>, Vec<Field>)> {
        let mut cells = [Cell::Any; 32];
        let mut covered = 0u64;
        let mut nots = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for b in diagram.all("box") {
            let Some(range) = self.box_range(b) else {
                continue;
            };
            let m = u64::from(range.mask());
            if covered & m != 0 {
                self.error(
                    b.line,
                    format!("box at bit {} overlaps another box", range.hibit),
                );
            }
            covered |= m;
            self.overlay_box(b, &mut cells, &mut nots);
            if let Some(name) = b.attr("name") {
                match fields.iter_mut().find(|f| f.name == name) {
                    Some(f) => f.parts.push(range),
                    None => fields.push(Field {
                        name: name.to_string(),
                        parts: vec![range],
                    }),
                }
            }
        }
        if covered != 0xffff_ffff {
            self.error(
                diagram.line,
                format!("the boxes cover bits {covered:#010x}, not all 32 bits"),
            );
            return None;
        }
        Some((cells, nots, fields))
    }

    fn box_range(&mut self, b: &Node) -> Option<BitRange> {
        let hibit = b.attr("hibit").and_then(|h| h.parse::<u8>().ok());
        let width = b.attr("width").map_or(Some(1), |w| w.parse::<u8>().ok());
        match (hibit, width) {
            (Some(hibit), Some(width)) if hibit < 32 && width >= 1 && width <= hibit + 1 => {
                Some(BitRange { hibit, width })
            }
            _ => {
                self.error(b.line, "box with a bad hibit or width".into());
                None
            }
        }
    }

    /// Writes a box's cells over `cells`, and records a `!=` constraint it carries.
    fn overlay_box(&mut self, b: &Node, cells: &mut [Cell; 32], nots: &mut Vec<(u32, u32)>) {
        let Some(range) = self.box_range(b) else {
            return;
        };
        let mut bit = i32::from(range.hibit);
        let mut not_mask = 0u32;
        let mut not_value = 0u32;
        let cs: Vec<&Node> = b.all("c").collect();
        if cs.is_empty() {
            return;
        }
        for c in cs {
            let span = c
                .attr("colspan")
                .and_then(|s| s.parse::<i32>().ok())
                .unwrap_or(1);
            let content = c.text();
            let content = content.trim();
            let lo = bit - span + 1;
            if lo < i32::from(range.lobit()) {
                self.error(c.line, "box cells span more bits than the box".into());
                return;
            }
            if let Some(pat) = content.strip_prefix("!=") {
                match bits::parse_bitpat(pat) {
                    Ok(p) if i32::from(p.width) == span => {
                        let shift = lo as u32;
                        let extra = ((p.mask as u32) << shift, (p.value as u32) << shift);
                        nots.push(extra);
                    }
                    _ => self.error(c.line, format!("bad != cell {content:?}")),
                }
                for i in lo..=bit {
                    cells[i as usize] = Cell::Any;
                }
            } else if span == 1 {
                let cell = match content {
                    // An empty cell of an encoding box keeps what the iclass diagram says.
                    "" => cells[bit as usize],
                    "x" => Cell::Any,
                    "0" => Cell::Fixed(false),
                    "1" => Cell::Fixed(true),
                    "(0)" | "z" => Cell::ShouldBe(false),
                    "(1)" => Cell::ShouldBe(true),
                    "N" => Cell::NotDigit(true),
                    "Z" => Cell::NotDigit(false),
                    other => {
                        self.error(c.line, format!("unknown cell content {other:?}"));
                        Cell::Any
                    }
                };
                if let Cell::NotDigit(one) = cell {
                    not_mask |= 1 << bit;
                    not_value |= u32::from(one) << bit;
                    cells[bit as usize] = Cell::Any;
                } else {
                    cells[bit as usize] = cell;
                }
            } else if content.is_empty() {
                // As above: an empty cell keeps the diagram's bits.
            } else if content.chars().all(|ch| ch == 'x') {
                for i in lo..=bit {
                    cells[i as usize] = Cell::Any;
                }
            } else if content.len() == span as usize
                && content.chars().all(|ch| ch == '0' || ch == '1')
            {
                for (k, ch) in content.chars().enumerate() {
                    cells[(bit - k as i32) as usize] = Cell::Fixed(ch == '1');
                }
            } else {
                self.error(
                    c.line,
                    format!("unknown cell content {content:?} over {span} bits"),
                );
            }
            bit = lo - 1;
        }
        if not_mask != 0 {
            nots.push((not_mask, not_value));
        }
        if let Some(constraint) = b.attr("constraint") {
            match constraint.strip_prefix("!=").map(bits::parse_bitpat) {
                Some(Ok(p)) if p.width == range.width => {
                    let pair = (
                        (p.mask as u32) << range.lobit(),
                        (p.value as u32) << range.lobit(),
                    );
                    if !nots.contains(&pair) {
                        nots.push(pair);
                    }
                }
                _ => self.error(b.line, format!("bad box constraint {constraint:?}")),
            }
        }
    }

    fn pattern(&mut self, line: u32, cells: &[Cell; 32], nots: &[(u32, u32)]) -> Pattern {
        let mut p = Pattern::default();
        for (i, c) in cells.iter().enumerate() {
            match *c {
                Cell::Fixed(v) => {
                    p.mask |= 1 << i;
                    p.value |= u32::from(v) << i;
                }
                Cell::ShouldBe(v) => {
                    p.should_mask |= 1 << i;
                    p.should_value |= u32::from(v) << i;
                }
                Cell::Any | Cell::NotDigit(_) => {}
            }
        }
        let mut seen = Vec::new();
        for &(m, v) in nots {
            if seen.contains(&(m, v)) {
                continue;
            }
            seen.push((m, v));
            if let Err(e) = p.not.push(m, v) {
                self.error(line, e);
            }
        }
        p
    }

    fn symbol(&mut self, explanation: &Node) -> Option<Symbol> {
        let sym = explanation.child("symbol")?;
        let body = explanation
            .child("account")
            .or_else(|| explanation.child("definition"))?;
        let encodedin_text = body.attr("encodedin").unwrap_or_default().to_string();
        let encodedin = if encodedin_text.is_empty() {
            Vec::new()
        } else {
            match bits::parse_encodedin(&encodedin_text) {
                Ok(v) => v,
                Err(e) => {
                    self.error(body.line, format!("bad encodedin {encodedin_text:?}: {e}"));
                    Vec::new()
                }
            }
        };
        let intro = body
            .child("intro")
            .map(|i| normalize_space(&i.text()))
            .unwrap_or_default();
        let kind = if body.name == "account" {
            SymbolKind::Account { intro }
        } else {
            SymbolKind::Definition {
                intro,
                table: value_table(body),
            }
        };
        Some(Symbol {
            link: sym.attr("link").unwrap_or_default().to_string(),
            text: sym.text(),
            encodedin_text,
            encodedin,
            kind,
        })
    }
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn value_table(def: &Node) -> ValueTable {
    let mut t = ValueTable::default();
    let Some(tgroup) = def.child("table").and_then(|t| t.child("tgroup")) else {
        return t;
    };
    if let Some(row) = tgroup.child("thead").and_then(|h| h.child("row")) {
        for e in row.all("entry") {
            match e.attr("class") {
                Some("bitfield") => t.bitfields.push(e.text().trim().to_string()),
                Some("symbol") => t.symbols.push(e.text().trim().to_string()),
                _ => {}
            }
        }
    }
    for row in tgroup.child("tbody").into_iter().flat_map(|b| b.all("row")) {
        let mut r = ValueRow {
            bits: Vec::new(),
            values: Vec::new(),
            feature: None,
        };
        for e in row.all("entry") {
            let text = e.text().trim().to_string();
            match e.attr("class") {
                Some("bitfield") => r.bits.push(text),
                Some("symbol") => r.values.push(text),
                Some("feature") => r.feature = Some(text).filter(|f| !f.is_empty() && f != "-"),
                _ => {}
            }
        }
        t.rows.push(r);
    }
    t
}

fn template(t: &Node) -> Vec<TemplatePiece> {
    let mut out = Vec::new();
    for c in t.elems() {
        match c.name.as_str() {
            "text" => out.push(TemplatePiece::Text(c.text())),
            "a" => match c.attr("link") {
                Some(link) => out.push(TemplatePiece::Symbol {
                    text: c.text(),
                    link: link.to_string(),
                }),
                None => out.push(TemplatePiece::Text(c.text())),
            },
            _ => {}
        }
    }
    out
}

/// A condition text as found in `aliascond` / `aliaspref`.
fn condition(text: &str) -> Condition {
    match text {
        "Unconditionally" => Condition::Always,
        "Never" => Condition::Never,
        _ => match asl::parse_expr(text) {
            Ok(e) => Condition::Expr(e),
            Err(e) => Condition::Unparsed(text.to_string(), e),
        },
    }
}

/// Functions a decode-time guard may call: pure functions of fields, and feature tests.
fn decode_time_call(name: &str) -> bool {
    matches!(
        name,
        "UInt" | "SInt" | "IsZero" | "IsOnes" | "BitCount" | "ZeroExtend" | "Zeros" | "Ones"
    ) || name.starts_with("Have")
}

/// Splits the top-level `if COND then UNDEFINED;` lines of decode pseudocode into guards that
/// read only fields and features, and guards that need more than that.
///
/// Locals defined once at top level from fields (`integer shift = UInt(imm3);`) are
/// substituted into later guards, so `if shift > 4 then UNDEFINED;` is decided at decode time.
fn split_guards(decode: &str, fields: &[Field]) -> (Vec<Guard>, Vec<String>) {
    let mut guards = Vec::new();
    let mut runtime = Vec::new();
    let mut locals: HashMap<String, Expr> = HashMap::new();
    for line in decode.lines() {
        let top_level = !line.starts_with(char::is_whitespace);
        if let Some((name, value)) = local_definition(line).filter(|_| top_level) {
            if assignments(decode, name) == 1 {
                if let Ok(e) = asl::parse_expr(value) {
                    let e = substitute(&e, &locals);
                    if field_only(&e, fields) {
                        locals.insert(name.to_string(), e);
                    }
                }
            }
            continue;
        }
        let Some(parsed) = asl::parse_undefined_guard(line) else {
            continue;
        };
        match parsed.map(|cond| substitute(&cond, &locals)) {
            Ok(cond) if top_level && field_only(&cond, fields) => guards.push(Guard {
                text: line.trim().to_string(),
                cond,
            }),
            _ => runtime.push(line.trim().to_string()),
        }
    }
    (guards, runtime)
}

/// `integer NAME = EXPR;`, `constant integer NAME = EXPR;`, `boolean NAME = EXPR;` or
/// `bits(N) NAME = EXPR;`: the name and the expression text.
fn local_definition(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("constant ").unwrap_or(line.trim());
    let rest = ["integer ", "boolean ", "bits("].iter().find_map(|t| {
        rest.strip_prefix(t).map(|r| {
            if *t == "bits(" {
                r.split_once(") ").map_or("", |(_, r)| r)
            } else {
                r
            }
        })
    })?;
    let (name, value) = rest.split_once(" = ")?;
    let value = value.strip_suffix(';')?;
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (plain && !value.contains(" then ")).then_some((name, value))
}

/// How many statements of `code` assign `name` (definitions included).
fn assignments(code: &str, name: &str) -> usize {
    code.lines()
        .filter(|l| {
            let l = l.trim();
            let l = l.strip_prefix("constant ").unwrap_or(l);
            l.split_once(" = ").is_some_and(|(lhs, _)| {
                lhs == name
                    || lhs.ends_with(&format!(" {name}"))
                    || lhs.starts_with(&format!("{name}<"))
            }) || l.starts_with(&format!("{name} = "))
        })
        .count()
}

/// `e` with every identifier that names a local replaced by the local's definition.
fn substitute(e: &Expr, locals: &HashMap<String, Expr>) -> Expr {
    let sub = |x: &Expr| Box::new(substitute(x, locals));
    match e {
        Expr::Ident(name) => locals.get(name).cloned().unwrap_or_else(|| e.clone()),
        Expr::Bits(_) | Expr::Int(_) | Expr::Bool(_) => e.clone(),
        Expr::Slice(x, hi, lo) => Expr::Slice(sub(x), *hi, *lo),
        Expr::Concat(xs) => Expr::Concat(xs.iter().map(|x| substitute(x, locals)).collect()),
        Expr::Call(f, xs) => Expr::Call(
            f.clone(),
            xs.iter().map(|x| substitute(x, locals)).collect(),
        ),
        Expr::Unary(op, x) => Expr::Unary(*op, sub(x)),
        Expr::Binary(op, a, b) => Expr::Binary(*op, sub(a), sub(b)),
        Expr::In(x, pats) => Expr::In(sub(x), pats.clone()),
    }
}

fn field_only(e: &Expr, fields: &[Field]) -> bool {
    e.idents()
        .iter()
        .all(|i| fields.iter().any(|f| f.name == *i))
        && e.calls().iter().all(|c| decode_time_call(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal instruction section: one iclass, two encodings, one with a `!=` pattern.
    const SAMPLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<instructionsection id="TEST_x" title="TEST -- A64" type="instruction">
  <docvars><docvar key="instr-class" value="general" /></docvars>
  <classes>
    <iclass name="Test" oneof="1" id="iclass_t" no_encodings="2" isa="A64">
      <arch_variants><arch_variant name="ARMv8.1" feature="FEAT_LSE" /></arch_variants>
      <regdiagram form="32" psname="aarch64/instrs/test">
        <box hibit="31" name="sf" usename="1"><c></c></box>
        <box hibit="30" width="10" settings="10"><c>1</c><c>0</c><c>1</c><c>0</c><c>1</c><c>0</c><c>1</c><c>0</c><c>(0)</c><c>(1)</c></box>
        <box hibit="20" width="5" name="Rm" usename="1"><c colspan="5"></c></box>
        <box hibit="15" width="6" name="imm6" usename="1"><c colspan="6"></c></box>
        <box hibit="9" width="5" name="Rn" usename="1"><c colspan="5"></c></box>
        <box hibit="4" width="5" name="Rd" usename="1"><c colspan="5"></c></box>
      </regdiagram>
      <encoding name="TEST_32_x" label="32-bit">
        <docvars><docvar key="mnemonic" value="TEST" /></docvars>
        <box hibit="31" width="1" name="sf"><c>0</c></box>
        <asmtemplate><text>TEST  </text><a link="sa_wd" hover="">&lt;Wd&gt;</a></asmtemplate>
      </encoding>
      <encoding name="TEST_64_x" label="64-bit">
        <box hibit="31" width="1" name="sf"><c>1</c></box>
        <box hibit="20" width="5" name="Rm"><c>N</c><c>N</c><c>N</c><c>N</c><c>N</c></box>
        <asmtemplate><text>TEST  </text><a link="sa_wd" hover="">&lt;Wd&gt;</a></asmtemplate>
      </encoding>
      <ps_section howmany="1"><ps name="t" sections="1"><pstext section="Decode">integer d = UInt(Rd);
if sf == '0' &amp;&amp; imm6&lt;5&gt; == '1' then UNDEFINED;
if d == 31 then UNDEFINED;</pstext></ps></ps_section>
    </iclass>
  </classes>
  <explanations scope="all">
    <explanation enclist="TEST_32_x, TEST_64_x"><symbol link="sa_wd">&lt;Wd&gt;</symbol>
      <account encodedin="Rd"><intro><para>Is the destination, encoded in the "Rd" field.</para></intro></account>
    </explanation>
  </explanations>
</instructionsection>
"#;

    fn parse(text: &str) -> Result<Vec<Encoding>, Vec<String>> {
        match parse_file("t.xml", text) {
            Ok(Some((_, encodings))) => Ok(encodings),
            Ok(None) => Ok(Vec::new()),
            Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
        }
    }

    /// Parses `text` with `from` replaced by `to` and expects exactly these error lines.
    fn check_errors(from: &str, to: &str, expect: &[&str]) {
        assert!(SAMPLE.contains(from), "{from}");
        let got = parse(&SAMPLE.replacen(from, to, 1))
            .err()
            .unwrap_or_default();
        assert_eq!(got, expect);
    }

    #[test]
    fn sample_encodings() {
        let encodings = parse(SAMPLE).expect("parses");
        let [e32, e64] = &encodings[..] else {
            panic!("two encodings, got {}", encodings.len())
        };
        assert_eq!(e32.id, "TEST_32_x");
        assert_eq!(e32.pattern.mask, 0xffc0_0000 & !0x0060_0000 | 0x8000_0000);
        assert_eq!(e32.pattern.value, 0x5500_0000 & !0x0060_0000);
        assert_eq!(
            (e32.pattern.should_mask, e32.pattern.should_value),
            (0x0060_0000, 0x0020_0000)
        );
        assert_eq!(e32.feature, "FEAT_LSE");
        assert_eq!(e32.mnemonic, "TEST");
        assert_eq!(e64.pattern.not.as_slice(), &[(0x001f_0000, 0x001f_0000)]);
        assert!(e64.pattern.matches(0xd500_0000) && !e64.pattern.matches(0xd51f_0000));
        assert_eq!(e32.field("Rm").map(|f| f.extract(0x001f_0000)), Some(31));
        let guards: Vec<&str> = e32.guards.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(
            guards,
            [
                "if sf == '0' && imm6<5> == '1' then UNDEFINED;",
                "if d == 31 then UNDEFINED;"
            ]
        );
        assert!(e32.runtime_guards.is_empty(), "{:?}", e32.runtime_guards);
        assert_eq!(e32.symbols.len(), 1);
        assert_eq!(e32.symbols[0].encodedin_text, "Rd");
    }

    /// Guards over locals defined once from fields are decided at decode time; others are not.
    #[test]
    fn guards_see_through_single_definitions() {
        let fields: Vec<Field> = ["imm3", "size", "Rd"]
            .iter()
            .map(|n| Field {
                name: n.to_string(),
                parts: vec![BitRange { hibit: 2, width: 3 }],
            })
            .collect();
        let decode = "integer shift = UInt(imm3);\nconstant integer esize = 8 << UInt(size);\n\
                      integer d = UInt(Rd);\nd = d + 1;\nif shift > 4 then UNDEFINED;\n\
                      if esize == 64 then UNDEFINED;\nif d == 3 then UNDEFINED;\n\
                      if shift == 1 then\n    if size == '11' then UNDEFINED;";
        let (guards, runtime) = split_guards(decode, &fields);
        let shown: Vec<String> = guards
            .iter()
            .map(|g| format!("{} => {}", g.text, g.cond))
            .collect();
        assert_eq!(
            shown,
            [
                "if shift > 4 then UNDEFINED; => UInt(imm3) > 4",
                "if esize == 64 then UNDEFINED; => 8 << UInt(size) == 64",
            ]
        );
        assert_eq!(
            runtime,
            [
                "if d == 3 then UNDEFINED;",
                "if size == '11' then UNDEFINED;"
            ]
        );
    }

    #[test]
    fn malformed_input_names_file_and_line() {
        check_errors("</encoding>\n      <encoding", "</encodingx>\n      <encoding", &[
            "t.xml:19: malformed XML: ill-formed document: expected `</encoding>`, but `</encodingx>` was found",
        ]);
        check_errors(
            r#"<box hibit="20" width="5" name="Rm" usename="1">"#,
            r#"<box hibit="20" width="4" name="Rm" usename="1">"#,
            &[
                "t.xml:10: box cells span more bits than the box",
                "t.xml:7: the boxes cover bits 0xfffeffff, not all 32 bits",
            ],
        );
        check_errors(
            "<c>(0)</c>",
            "<c>Q</c>",
            &["t.xml:9: unknown cell content \"Q\""],
        );
        check_errors(
            r#"hibit="4" width="5""#,
            r#"hibit="40" width="5""#,
            &[
                "t.xml:13: box with a bad hibit or width",
                "t.xml:7: the boxes cover bits 0xffffffe0, not all 32 bits",
            ],
        );
        let truncated = &SAMPLE[..SAMPLE.len() / 2];
        let errors = parse(truncated).expect_err("truncated file");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("t.xml:"), "{errors:?}");
    }

    #[test]
    fn errors_are_collected_across_files() {
        let dir = std::env::temp_dir().join(format!("armature-spec-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let bad1 = dir.join("a.xml");
        let bad2 = dir.join("b.xml");
        std::fs::write(&bad1, SAMPLE.replacen("<c>(0)</c>", "<c>Q</c>", 1)).expect("write");
        std::fs::write(
            &bad2,
            "<instructionsection id=\"X\" type=\"instruction\"><classes>",
        )
        .expect("write");
        let errors = load(&dir).expect_err("two bad files").0;
        std::fs::remove_dir_all(&dir).ok();
        let files: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(files, ["a.xml", "b.xml"], "{errors:?}");
        let missing = load(Path::new("/nonexistent/arm-xml")).expect_err("missing dir");
        assert!(
            missing.to_string().contains("ARMATURE_SPEC_DIR"),
            "{missing}"
        );
    }

    #[test]
    fn whole_release_loads() {
        let dir = spec_dir();
        assert!(
            dir.is_dir(),
            "the A64 ISA XML is missing at {} (set ARMATURE_SPEC_DIR)",
            dir.display()
        );
        let spec = load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let insns = spec
            .encodings
            .iter()
            .filter(|e| e.kind == SectionKind::Instruction)
            .count();
        assert!(insns > 3500, "{insns} instruction encodings");
        let add = spec
            .encoding("ADD_64_addsub_imm")
            .expect("ADD_64_addsub_imm");
        assert_eq!(
            (add.pattern.mask, add.pattern.value),
            (0xff80_0000, 0x9100_0000)
        );
        assert_eq!(add.file, "add_addsub_imm.xml");
        let sve = spec.encoding("add_z_p_zz_").expect("add_z_p_zz_");
        assert_eq!(sve.feature, "FEAT_SVE");
        let alias = spec.encoding("MOV_ADD_64_addsub_imm").expect("alias");
        assert_eq!(
            alias.alias_of.as_ref().map(|a| a.encoding.as_str()),
            Some("ADD_64_addsub_imm")
        );
        for e in &spec.encodings {
            if let Some(of) = &e.alias_of {
                assert!(
                    spec.encoding(&of.encoding).is_some(),
                    "{} stands for {}",
                    e.id,
                    of.encoding
                );
            }
        }
    }
}
