//! Generates `decoder.rs`: a decision tree over the word's bits, then per-encoding checks.
//!
//! Overlaps are resolved by `!=` constraints, then by specificity (the more fixed bits, the
//! earlier a candidate is tried). After a pattern matches, the encoding's feature test and its
//! field-only decode guards decide between `Insn`, `Undefined` and `FeatureDisabled`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use armature_spec::Encoding;
use askama::Template;

use crate::gen_fields::extract_expr;
use crate::rust_expr::{self, Scope, Ty};
use crate::{field_ident, Error, Model};

/// The feature each `Have*()` pseudocode function tests.
pub const HAVE_FEATURES: &[(&str, &str)] = &[
    ("Have128BitDescriptorExt", "FEAT_D128"),
    ("HaveAESExt", "FEAT_AES"),
    ("HaveAtomicExt", "FEAT_LSE"),
    ("HaveBF16Ext", "FEAT_BF16"),
    ("HaveBit128PMULLExt", "FEAT_PMULL"),
    ("HaveCRCExt", "FEAT_CRC32"),
    ("HaveCSSC", "FEAT_CSSC"),
    ("HaveDITExt", "FEAT_DIT"),
    ("HaveDOTPExt", "FEAT_DotProd"),
    ("HaveFCADDExt", "FEAT_FCMA"),
    ("HaveFJCVTZSExt", "FEAT_JSCVT"),
    ("HaveFP16Ext", "FEAT_FP16"),
    ("HaveFP16MulNoRoundingToFP32Ext", "FEAT_FHM"),
    ("HaveFeatEBEP", "FEAT_EBEP"),
    ("HaveFeatHBC", "FEAT_HBC"),
    ("HaveFeatLS64", "FEAT_LS64"),
    ("HaveFeatLS64_ACCDATA", "FEAT_LS64_ACCDATA"),
    ("HaveFeatLS64_V", "FEAT_LS64_V"),
    ("HaveFeatMOPS", "FEAT_MOPS"),
    ("HaveFeatNMI", "FEAT_NMI"),
    ("HaveFeatWFxT", "FEAT_WFxT"),
    ("HaveFeatXS", "FEAT_XS"),
    ("HaveFlagFormatExt", "FEAT_FlagM2"),
    ("HaveFlagManipulateExt", "FEAT_FlagM"),
    ("HaveFrintExt", "FEAT_FRINTTS"),
    ("HaveGCS", "FEAT_GCS"),
    ("HaveInt8MatMulExt", "FEAT_I8MM"),
    ("HaveLSE128", "FEAT_LSE128"),
    ("HaveMTE2Ext", "FEAT_MTE2"),
    ("HaveMTEExt", "FEAT_MTE"),
    ("HavePACExt", "FEAT_PAuth"),
    ("HavePANExt", "FEAT_PAN"),
    ("HaveQRDMLAHExt", "FEAT_RDM"),
    ("HaveSBExt", "FEAT_SB"),
    ("HaveSHA1Ext", "FEAT_SHA1"),
    ("HaveSHA256Ext", "FEAT_SHA256"),
    ("HaveSHA3Ext", "FEAT_SHA3"),
    ("HaveSHA512Ext", "FEAT_SHA512"),
    ("HaveSM3Ext", "FEAT_SM3"),
    ("HaveSM4Ext", "FEAT_SM4"),
    ("HaveSME", "FEAT_SME"),
    ("HaveSME2", "FEAT_SME2"),
    ("HaveSME2p1", "FEAT_SME2p1"),
    ("HaveSMEB16B16", "FEAT_B16B16"),
    ("HaveSMEF16F16", "FEAT_SME_F16F16"),
    ("HaveSMEF64F64", "FEAT_SME_F64F64"),
    ("HaveSMEI16I64", "FEAT_SME_I16I64"),
    ("HaveSSBSExt", "FEAT_SSBS"),
    ("HaveSVE", "FEAT_SVE"),
    ("HaveSVE2", "FEAT_SVE2"),
    ("HaveSVE2AES", "FEAT_SVE_AES"),
    ("HaveSVE2BitPerm", "FEAT_SVE_BitPerm"),
    ("HaveSVE2PMULL128", "FEAT_SVE_PMULL128"),
    ("HaveSVE2SHA3", "FEAT_SVE_SHA3"),
    ("HaveSVE2SM4", "FEAT_SVE_SM4"),
    ("HaveSVE2p1", "FEAT_SVE2p1"),
    ("HaveSVEB16B16", "FEAT_B16B16"),
    ("HaveSVEFP32MatMulExt", "FEAT_F32MM"),
    ("HaveSVEFP64MatMulExt", "FEAT_F64MM"),
    ("HaveSysInstr128", "FEAT_SYSINSTR128"),
    ("HaveSysReg128", "FEAT_SYSREG128"),
    ("HaveTHExt", "FEAT_THE"),
    ("HaveTME", "FEAT_TME"),
    ("HaveUAOExt", "FEAT_UAO"),
];

/// The largest leaf the tree builder accepts without trying to split further.
const LEAF_MAX: usize = 3;
/// The widest run of bits one `match` switches on.
const SPLIT_MAX_BITS: u32 = 8;
/// How many times over a split may copy its candidates into arms (code size bound).
const DUPLICATION: usize = 3;

#[derive(Template)]
#[template(path = "decoder.rs.txt", escape = "none")]
struct DecoderRs {
    stats: String,
    tree: String,
    checks: Vec<CheckRow>,
}

struct CheckRow {
    name: String,
    file: String,
    body: String,
}

/// Reads fields of one encoding; `Have*()` calls test `features` (`f`, or all when `f` is None).
struct GuardScope<'a> {
    enc: &'a Encoding,
    model: &'a Model<'a>,
    all_features: bool,
}

impl Scope for GuardScope<'_> {
    fn field_width(&self, name: &str) -> Option<u8> {
        self.enc.field(name).map(|f| f.width() as u8)
    }

    fn call(&self, name: &str, args: &[(String, Ty)]) -> Option<(String, Ty)> {
        if !args.is_empty() || !name.starts_with("Have") {
            return None;
        }
        if self.all_features {
            return Some(("true".into(), Ty::Bool));
        }
        let feature = HAVE_FEATURES
            .iter()
            .find(|(h, _)| *h == name)
            .map(|(_, f)| *f)?;
        self.model.feature_index(feature)?;
        Some((format!("f.contains(Feature::{feature})"), Ty::Bool))
    }
}

struct Tree<'a> {
    model: &'a Model<'a>,
    nodes: usize,
    leaves: usize,
    max_leaf: usize,
    /// Expected `match` nodes and leaf pattern tests per uniformly random word.
    expected_switches: f64,
    expected_tests: f64,
}

impl Tree<'_> {
    fn pattern(&self, i: usize) -> armature_spec::Pattern {
        self.model.insns[i].pattern
    }

    /// Emits the subtree deciding among `cands`, whose bits in `known` are already decided.
    fn build(&mut self, cands: &[usize], known: u32, p: f64) -> String {
        if cands.len() > LEAF_MAX {
            if let Some((lo, width)) = self.best_run(cands, known) {
                return self.switch(cands, known, lo, width, p);
            }
        }
        self.leaf(cands, p)
    }

    /// The run of undecided bits whose switch leaves the fewest candidates per arm on
    /// average, duplicating candidates that leave some of its bits free into every arm they
    /// allow. One multi-way `match` costs one indirect branch where single-bit splits cost one
    /// conditional branch per bit, which random words mispredict half the time.
    fn best_run(&self, cands: &[usize], known: u32) -> Option<(u32, u32)> {
        let n = cands.len();
        let mut best: Option<(f64, u32, u32)> = None;
        for width in 1..=SPLIT_MAX_BITS {
            let values = 1usize << width;
            for lo in 0..=(32 - width) {
                let run = (((1u64 << width) - 1) as u32) << lo;
                if known & run != 0 {
                    continue;
                }
                let mut arms = vec![0usize; values];
                for &i in cands {
                    let p = self.pattern(i);
                    let (m, v) = ((p.mask & run) >> lo, (p.value & run) >> lo);
                    for (k, arm) in arms.iter_mut().enumerate() {
                        if k as u32 & m == v {
                            *arm += 1;
                        }
                    }
                }
                let total: usize = arms.iter().sum();
                let largest = arms.iter().copied().max().unwrap_or(0);
                if largest >= n || total > n * DUPLICATION + values {
                    continue;
                }
                // Estimated switches per random word: this one, then about one per five bits of
                // what an arm leaves to decide.
                let rest: f64 =
                    arms.iter().map(|&a| (a as f64 + 1.0).log2()).sum::<f64>() / values as f64;
                let score = 1.0 + rest / 5.0;
                if best.is_none_or(|(b, _, _)| score < b - 1e-9) {
                    best = Some((score, lo, width));
                }
            }
        }
        best.map(|(_, lo, width)| (lo, width))
    }

    fn switch(&mut self, cands: &[usize], known: u32, lo: u32, width: u32, p: f64) -> String {
        self.nodes += 1;
        self.expected_switches += p;
        let child = p / f64::from(1u32 << width);
        let field_mask = ((1u64 << width) - 1) as u32;
        let run = field_mask << lo;
        let mut arms: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for v in 0..=field_mask {
            let sub: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|&i| {
                    let p = self.pattern(i);
                    (p.value >> lo) & (p.mask >> lo) & field_mask == v & (p.mask >> lo)
                })
                .collect();
            let code = if sub.is_empty() {
                "Decoded::Unallocated".to_string()
            } else {
                self.build(&sub, known | run, child)
            };
            arms.entry(code).or_default().push(v);
        }
        let mut out = format!("match (w >> {lo}) & {field_mask:#x} {{\n");
        let total = arms.len();
        for (k, (code, values)) in arms.into_iter().enumerate() {
            let pat = if k + 1 == total {
                "_".to_string()
            } else {
                values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let _ = writeln!(out, "{pat} => {code},");
        }
        if total == 1 {
            // A single arm covering every value: the switch decides nothing at run time.
            return out
                .lines()
                .nth(1)
                .and_then(|l| l.split_once(" => "))
                .map(|(_, c)| c.trim_end_matches(',').to_string())
                .unwrap_or(out);
        }
        out.push('}');
        out
    }

    fn leaf(&mut self, cands: &[usize], p: f64) -> String {
        self.leaves += 1;
        self.expected_tests += p * cands.len() as f64;
        self.max_leaf = self.max_leaf.max(cands.len());
        let mut order = cands.to_vec();
        order.sort_by_key(|&i| (std::cmp::Reverse(self.pattern(i).specificity()), i));
        let mut out = String::from("{\n");
        for i in order {
            let e = self.model.insns[i];
            let p = e.pattern;
            let mut test = format!("w & {:#010x} == {:#010x}", p.mask, p.value);
            for (m, v) in p.not.as_slice() {
                let _ = write!(test, " && w & {m:#010x} != {v:#010x}");
            }
            let _ = writeln!(out, "if {test} {{ return check_{}(w, f); }}", e.id);
        }
        out.push_str("Decoded::Unallocated\n}");
        out
    }
}

/// The body of `check_ID`: feature test, then guards.
fn check_body(model: &Model<'_>, e: &Encoding) -> Result<String, Error> {
    let mut body = String::new();
    let id = &e.id;
    let has_feature_guard = e
        .guards
        .iter()
        .any(|g| g.cond.calls().iter().any(|c| c.starts_with("Have")));
    if !e.feature_alternatives.is_empty() {
        let tests: Vec<String> = e
            .feature_alternatives
            .iter()
            .map(|all| {
                all.iter()
                    .map(|f| format!("f.contains(Feature::{f})"))
                    .collect::<Vec<_>>()
                    .join(" && ")
            })
            .collect();
        let _ = writeln!(
            body,
            "if !({}) {{ return Decoded::FeatureDisabled {{ id: EncodingId::{id}, feature: Feature::{} }}; }}",
            tests.join(" || "),
            e.feature
        );
    } else if !has_feature_guard && e.feature != "A64" {
        let _ = writeln!(
            body,
            "if !f.contains(Feature::{0}) {{ return Decoded::FeatureDisabled {{ id: EncodingId::{id}, feature: Feature::{0} }}; }}",
            e.feature
        );
    }
    let mut used: Vec<&str> = e.guards.iter().flat_map(|g| g.cond.idents()).collect();
    used.sort();
    used.dedup();
    for name in used {
        if let Some(field) = e.field(name) {
            let _ = writeln!(
                body,
                "let {}: u64 = ({}) as u64;",
                field_ident(name),
                extract_expr(field, "w")
            );
        }
    }
    for (k, g) in e.guards.iter().enumerate() {
        let err =
            |m: String| Error::Model(format!("{}: {}: guard `{}`: {m}", e.file, e.id, g.text));
        let scope = GuardScope {
            enc: e,
            model,
            all_features: false,
        };
        let (code, ty) = rust_expr::translate(&g.cond, &scope).map_err(err)?;
        if ty != Ty::Bool {
            return Err(err(format!("is {ty:?}, not a condition")));
        }
        let all = GuardScope {
            enc: e,
            model,
            all_features: true,
        };
        let (code_all, _) = rust_expr::translate(&g.cond, &all).map_err(err)?;
        let _ = writeln!(body, "// {}", g.text);
        if code == code_all {
            let _ = writeln!(
                body,
                "if {code} {{ return Decoded::Undefined {{ id: EncodingId::{id}, guard: {k} }}; }}"
            );
        } else {
            let _ = writeln!(
                body,
                "if {code} {{ return if {code_all} {{ Decoded::Undefined {{ id: EncodingId::{id}, guard: {k} }} }} else {{ Decoded::FeatureDisabled {{ id: EncodingId::{id}, feature: Feature::{} }} }}; }}",
                e.feature
            );
        }
    }
    Ok(body)
}

pub fn generate(model: &Model<'_>) -> Result<String, Error> {
    let mut tree = Tree {
        model,
        nodes: 0,
        leaves: 0,
        max_leaf: 0,
        expected_switches: 0.0,
        expected_tests: 0.0,
    };
    let all: Vec<usize> = (0..model.insns.len()).collect();
    let code = tree.build(&all, 0, 1.0);
    let checks = model
        .insns
        .iter()
        .map(|e| {
            Ok(CheckRow {
                name: e.id.clone(),
                file: e.file.clone(),
                body: check_body(model, e)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let stats = format!(
        "{} encodings, {} switch nodes, {} leaves, largest leaf {}; per random word {:.2} switches and {:.2} pattern tests",
        model.insns.len(),
        tree.nodes,
        tree.leaves,
        tree.max_leaf,
        tree.expected_switches,
        tree.expected_tests
    );
    DecoderRs {
        stats,
        tree: code,
        checks,
    }
    .render()
    .map_err(|e| Error::Template("decoder.rs.txt", e))
}
