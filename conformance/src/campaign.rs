//! Campaigns: random cases per encoding, checked in batches against the reference, with the
//! first failure shrunk by proptest to a minimal case.

use std::path::Path;

use armature_core::interp::Interp;
use armature_core::isa::{EncodingId, FeatureSet};
use armature_core::sem::SemTable;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;

use crate::check::{check_batch, describe, Mismatch, Reference, Verdict};
use crate::gen;
use crate::program::{Case, State};
use crate::qemu::QemuError;

/// How a campaign runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Cases per encoding.
    pub cases: usize,
    pub seed: u64,
    /// Instructions per case: 1 to this many.
    pub max_len: usize,
    /// Cases per reference run.
    pub batch: usize,
    /// Reference runs the shrinking may make.
    pub shrink_runs: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cases: 200,
            seed: 0,
            max_len: 1,
            batch: 100,
            shrink_runs: 64,
        }
    }
}

/// The result for one encoding (or one mix of encodings).
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub encoding: String,
    /// `pass`, `fail`, `known` (a declared difference), or `skip`.
    pub status: &'static str,
    /// Why the encoding was skipped, or the declared difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub passed: usize,
    /// Cases where both raised the same signal.
    pub trapped: usize,
    /// Cases where only the reference raised SIGILL.
    pub reference_undefined: usize,
    pub failed: usize,
    /// Mismatching cases that show a difference declared in [`crate::known::KNOWN_CASES`].
    pub known: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// The first failure, shrunk.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The shrunk case (its state already points into scratch region 0).
    pub case: Case,
    /// The first divergence of the shrunk case, one line per difference.
    pub report: String,
    /// Shrinking steps that kept the case failing.
    pub shrink_steps: usize,
}

impl Failure {
    /// The failure as a plain report ending with a ready-to-paste regression case.
    pub fn render(&self) -> String {
        let insns: Vec<String> = self
            .case
            .words
            .iter()
            .map(|&w| {
                let (id, text) = describe(w, 0);
                format!("{w:#010x} {id} `{text}`")
            })
            .collect();
        format!(
            "{}\nshrunk ({} steps) to {} instruction(s): {}\nregression case (re-check it with armature conform --case '<this JSON>'):\n{}",
            self.report,
            self.shrink_steps,
            self.case.words.len(),
            insns.join("; "),
            serde_json::to_string(&self.case).expect("cases serialise")
        )
    }
}

fn rng(seed: u64, salt: &str) -> TestRng {
    let mut h = crate::SplitMix64(seed ^ 0x636f_6e66_6f72_6d00);
    for b in salt.bytes() {
        h.0 ^= b as u64;
        h.next_u64();
    }
    let mut bytes = [0u8; 32];
    for c in bytes.chunks_mut(8) {
        c.copy_from_slice(&h.next_u64().to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// The raw (not yet prepared) single-instruction cases of `id` that a campaign with
/// `settings` would start with (a memory copy or set as its triple, see [`gen::arrange`]).
pub fn generate(
    id: EncodingId,
    settings: &Settings,
    features: &FeatureSet,
) -> Result<Vec<Case>, QemuError> {
    let words = gen::word(id, *features);
    let state = gen::state();
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(settings.seed, id.name()));
    let err = |e| QemuError(format!("cannot generate cases of {}: {e}", id.name()));
    (0..settings.cases)
        .map(|_| {
            Ok(Case {
                words: gen::arrange(&[words.new_tree(&mut runner).map_err(err)?.current()]),
                state: state.new_tree(&mut runner).map_err(err)?.current(),
            })
        })
        .collect()
}

/// Checks one case alone; its mismatch if it fails.
fn fails(
    case: &Case,
    reference: &mut dyn Reference,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Option<(Case, Box<Mismatch>)>, QemuError> {
    let mut c = [case.clone()];
    gen::prepare_all(&mut c);
    let [c] = c;
    let v = check_batch(std::slice::from_ref(&c), reference, table, features)?;
    Ok(match v.into_iter().next() {
        Some(Verdict::Mismatch(m)) => Some((c, m)),
        _ => None,
    })
}

/// Runs `settings.cases` cases of the encodings `ids` (mixed in each case when several) and
/// shrinks the first failure. `name` labels the outcome.
pub fn run(
    name: &str,
    ids: &[EncodingId],
    settings: &Settings,
    reference: &mut dyn Reference,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Outcome, QemuError> {
    let words = gen::words(ids, settings.max_len, *features);
    let state = gen::state();
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(settings.seed, name));
    let mut trees = Vec::with_capacity(settings.cases);
    let err = |e| QemuError(format!("cannot generate cases of {name}: {e}"));
    for _ in 0..settings.cases {
        let w = words.new_tree(&mut runner).map_err(err)?;
        let s = state.new_tree(&mut runner).map_err(err)?;
        trees.push((w, s));
    }
    let mut out = Outcome {
        encoding: name.to_string(),
        status: "pass",
        reason: None,
        passed: 0,
        trapped: 0,
        reference_undefined: 0,
        failed: 0,
        known: 0,
        failure: None,
    };
    let mut first_failure = None;
    let mut known_case = None;
    for (chunk_no, chunk) in trees.chunks(settings.batch.max(1)).enumerate() {
        let mut cases: Vec<Case> = chunk
            .iter()
            .map(|(w, s)| Case {
                words: w.current(),
                state: s.current(),
            })
            .collect();
        gen::prepare_all(&mut cases);
        let verdicts = check_batch(&cases, reference, table, features)?;
        for (i, v) in verdicts.into_iter().enumerate() {
            match v {
                Verdict::Pass => out.passed += 1,
                Verdict::Trapped { .. } => out.trapped += 1,
                Verdict::ReferenceUndefined(_) => out.reference_undefined += 1,
                Verdict::Mismatch(_) if crate::known::known_case(ids, &cases[i]).is_some() => {
                    out.known += 1;
                    known_case = crate::known::known_case(ids, &cases[i]);
                }
                Verdict::Mismatch(m) => {
                    out.failed += 1;
                    if first_failure.is_none() {
                        first_failure =
                            Some((chunk_no * settings.batch.max(1) + i, cases[i].clone(), m));
                    }
                }
            }
        }
    }
    if let Some((k, case, m)) = first_failure {
        let state = trees[k].1.current();
        out.failure = Some(shrink(
            &mut trees[k].0,
            state,
            case,
            m,
            settings,
            reference,
            table,
            features,
        )?);
    }
    let known = ids
        .iter()
        .find_map(|&id| crate::known::known_difference(id));
    if out.failed > 0 {
        out.status = if known.is_some() { "known" } else { "fail" };
        out.reason = known.map(str::to_string);
    } else if let Some(why) = known_case {
        out.status = "known";
        out.reason = Some(why.to_string());
    } else if out.reference_undefined > 0 && out.passed == 0 {
        out.status = "skip";
        out.reason = Some(
            "qemu-aarch64 raises SIGILL for every case: the reference lacks this encoding"
                .to_string(),
        );
    } else if out.reference_undefined > 0 {
        out.status = "fail";
        out.reason = Some(format!(
            "qemu-aarch64 raises SIGILL for {} of the words armature executes",
            out.reference_undefined
        ));
    }
    Ok(out)
}

/// Shrinks a failing case in two steps. First proptest simplifies the instructions (fewer of
/// them, simpler words) while the case keeps failing when run alone; then the initial state is
/// simplified in batches: every register (X, V, NZCV, FPCR, SP) is reset to zero in its own
/// candidate, all candidates run in one program, and the resets that keep the case failing are
/// combined.
#[allow(clippy::too_many_arguments)]
fn shrink(
    words: &mut impl ValueTree<Value = Vec<u32>>,
    state: State,
    case: Case,
    m: Box<Mismatch>,
    settings: &Settings,
    reference: &mut dyn Reference,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Failure, QemuError> {
    let raw = |w: Vec<u32>| Case {
        words: w,
        state: state.clone(),
    };
    let (mut best, mut report) = match fails(&raw(words.current()), reference, table, features)? {
        Some((c, m)) => ((raw(words.current()), c), m.to_string()),
        // The case only fails inside its batch (memory written by a neighbour): report it as is.
        None => {
            return Ok(Failure {
                case,
                report: format!("{m}\n(the case passes when run alone)"),
                shrink_steps: 0,
            })
        }
    };
    let mut steps = 0;
    let mut failing = true;
    for _ in 0..settings.shrink_runs {
        let moved = if failing {
            words.simplify()
        } else {
            words.complicate()
        };
        if !moved {
            break;
        }
        match fails(&raw(words.current()), reference, table, features)? {
            Some((c, m)) => {
                best = (raw(words.current()), c);
                report = m.to_string();
                steps += 1;
                failing = true;
            }
            None => failing = false,
        }
    }
    // The state: try every single reset in one batch, then all the good ones together.
    let base = best.0.clone();
    let resets: Vec<Reset> = (0..31)
        .map(Reset::X)
        .chain((0..32).map(Reset::V))
        .chain([Reset::Nzcv, Reset::Fpcr, Reset::Sp])
        .filter(|r| !r.apply(&base.state).eq(&base.state))
        .collect();
    let mut candidates: Vec<Case> = resets
        .iter()
        .map(|r| Case {
            words: base.words.clone(),
            state: r.apply(&base.state),
        })
        .collect();
    gen::prepare_all(&mut candidates);
    if !candidates.is_empty() {
        let verdicts = check_batch(&candidates, reference, table, features)?;
        let good: Vec<&Reset> = resets
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_failure())
            .map(|(r, _)| r)
            .collect();
        let mut try_state = |s: State| -> Result<bool, QemuError> {
            let c = Case {
                words: base.words.clone(),
                state: s,
            };
            Ok(match fails(&c, reference, table, features)? {
                Some((p, m)) => {
                    best = (c, p);
                    report = m.to_string();
                    steps += 1;
                    true
                }
                None => false,
            })
        };
        let all = good.iter().fold(base.state.clone(), |s, r| r.apply(&s));
        if !try_state(all)? {
            // Resets that only fail alone: add them one at a time.
            let mut s = base.state.clone();
            for r in good {
                let t = r.apply(&s);
                if try_state(t.clone())? {
                    s = t;
                }
            }
        }
    }
    Ok(Failure {
        case: best.1,
        report,
        shrink_steps: steps,
    })
}

/// One register reset to zero.
#[derive(Clone, Copy, Debug)]
enum Reset {
    X(usize),
    V(usize),
    Nzcv,
    Fpcr,
    Sp,
}

impl Reset {
    fn apply(self, s: &State) -> State {
        let mut s = s.clone();
        match self {
            Reset::X(i) => s.x[i] = 0,
            Reset::V(i) => s.v[i] = 0,
            Reset::Nzcv => s.nzcv = 0,
            Reset::Fpcr => s.fpcr = 0,
            Reset::Sp => s.sp = 0,
        }
        s
    }
}

/// Runs one campaign per encoding in `ids` (in parallel on the current rayon pool), calling
/// `progress` after each. Encodings that cannot be tested are skipped with the reason.
pub fn run_all(
    ids: &[EncodingId],
    settings: &Settings,
    dir: &Path,
    table: &SemTable<Interp>,
    features: &FeatureSet,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Result<Vec<Outcome>, QemuError> {
    use rayon::prelude::*;
    ids.par_iter()
        .map(|&id| {
            let out = match gen::skip_reason(id, table, features) {
                Some(reason) => Outcome {
                    encoding: id.name().to_string(),
                    status: "skip",
                    reason: Some(reason),
                    passed: 0,
                    trapped: 0,
                    reference_undefined: 0,
                    failed: 0,
                    known: 0,
                    failure: None,
                },
                None => {
                    let sub = dir.join(id.name());
                    let mut q = crate::check::Qemu(&sub);
                    let r = run(id.name(), &[id], settings, &mut q, table, features);
                    let _ = std::fs::remove_dir_all(&sub);
                    r?
                }
            };
            progress(&out);
            Ok(out)
        })
        .collect()
}
