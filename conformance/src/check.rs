//! Runs a batch of cases in the reference and in armature and compares them instruction by
//! instruction, then the scratch memory at the end.

use std::fmt;
use std::path::Path;

use armature_core::disas::{disassemble, Style};
use armature_core::interp::Interp;
use armature_core::isa::{decode, FeatureSet};
use armature_core::sem::SemTable;

use crate::armature;
use crate::program::{Case, Program, State, REGION_SIZE, SCRATCH_MARGIN};
use crate::qemu::{self, QemuError, Trace};

/// The result of one case.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Every instruction left the same state in both.
    Pass,
    /// Both raised the same signal at the same instruction (e.g. SIGSEGV for an unmapped load).
    Trapped { signal: i32 },
    /// The reference raised SIGILL where armature executed the instruction: an encoding
    /// armature accepts but qemu-aarch64 does not (a missing qemu feature or an armature bug).
    ReferenceUndefined(Box<Mismatch>),
    /// A semantic difference.
    Mismatch(Box<Mismatch>),
}

impl Verdict {
    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Mismatch(_))
    }
}

/// The first divergence of one case.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The case's index in its batch.
    pub case: usize,
    /// The instruction that diverged, as an index into the case's words; `None` when the state
    /// already differed after the set-up code.
    pub insn: Option<usize>,
    pub word: u32,
    /// The state before the instruction (the reference's).
    pub before: State,
    pub expected: Option<State>,
    pub actual: Option<State>,
    /// What differs, one line each.
    pub what: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (id, text) = describe(self.word, self.before.pc);
        match self.insn {
            Some(i) => writeln!(
                f,
                "{id} {:#010x} `{text}` (instruction {i} of the case) diverges \
                 (qemu-aarch64 != armature):",
                self.word
            )?,
            None => writeln!(f, "the state after the set-up code diverges:")?,
        }
        for w in &self.what {
            writeln!(f, "  {w}")?;
        }
        write!(f, "  input state: {}", brief_state(&self.before))
    }
}

/// The encoding id and disassembly of `word`.
pub fn describe(word: u32, pc: u64) -> (String, String) {
    let id = decode(word, &FeatureSet::all())
        .encoding()
        .map_or_else(|| "unallocated".to_string(), |id| id.name().to_string());
    let text = disassemble(word, pc, Style::Relative).map_or_else(|| "?".to_string(), |d| d.text);
    (id, text.replace('\t', " "))
}

/// The non-zero registers of `s`, on one line.
pub fn brief_state(s: &State) -> String {
    let mut out = Vec::new();
    for (i, x) in s.x.iter().enumerate() {
        if *x != 0 {
            out.push(format!("X{i}={x:#x}"));
        }
    }
    out.push(format!("SP={:#x}", s.sp));
    out.push(format!("NZCV={:#x}", s.nzcv >> 28));
    if s.fpcr != 0 {
        out.push(format!("FPCR={:#x}", s.fpcr));
    }
    for (i, v) in s.v.iter().enumerate() {
        if *v != 0 {
            out.push(format!("V{i}={v:#x}"));
        }
    }
    out.join(" ")
}

/// What the reference says of a program: a live qemu run or stored expectations.
pub trait Reference {
    fn run(&mut self, p: &Program, ranges: &[(u64, u64)]) -> Result<Trace, QemuError>;
}

/// qemu-aarch64, with its files in a scratch directory.
pub struct Qemu<'a>(pub &'a Path);

impl Reference for Qemu<'_> {
    fn run(&mut self, p: &Program, ranges: &[(u64, u64)]) -> Result<Trace, QemuError> {
        qemu::run(p, ranges, self.0)
    }
}

/// Checks `cases` in one program (re-entered after a case that raised a signal).
pub fn check_batch(
    cases: &[Case],
    reference: &mut dyn Reference,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Vec<Verdict>, QemuError> {
    let mut p = Program::build(cases);
    let lens: Vec<usize> = cases.iter().map(|c| c.words.len()).collect();
    let ranges = qemu::log_ranges(&p, &lens);
    let n = cases.len();
    let mut verdicts: Vec<Option<Verdict>> = vec![None; n];
    let mut start = 0;
    while start < n {
        p.entry = p.setup_pc[start];
        // Log only the cases still to run: the entry is the previous case's "after" address.
        let ranges = &ranges[start..];
        let r = reference.run(&p, ranges)?;
        let a = armature::run(&p, ranges, table, features);
        let mut j = 0;
        let mut stopped_at = None;
        'cases: for i in start..n {
            let case = &cases[i];
            for step in 0..=case.words.len() {
                let mismatch = |what: Vec<String>, expected: Option<State>, actual| {
                    let (insn, before) = match step {
                        0 => (None, r.states.get(j).cloned().unwrap_or_default()),
                        _ => (Some(step - 1), r.states[j - 1].clone()),
                    };
                    Box::new(Mismatch {
                        case: i,
                        insn,
                        word: insn.map_or(0, |k| case.words[k]),
                        before,
                        expected,
                        actual,
                        what,
                    })
                };
                match (r.states.get(j), a.states.get(j)) {
                    (Some(e), Some(g)) => {
                        let d = e.diff(g);
                        if !d.is_empty() {
                            verdicts[i] = Some(Verdict::Mismatch(mismatch(
                                d,
                                Some(e.clone()),
                                Some(g.clone()),
                            )));
                            j += case.words.len() + 1 - step;
                            continue 'cases;
                        }
                    }
                    (Some(e), None) => {
                        let why = match &a.stop {
                            Some(t) => format!(
                                "armature stopped (signal {}: {}); the reference went on",
                                t.signal, t.reason
                            ),
                            None => "armature's run ended early".to_string(),
                        };
                        verdicts[i] = Some(Verdict::Mismatch(mismatch(
                            vec![why],
                            Some(e.clone()),
                            None,
                        )));
                        stopped_at = Some(i);
                        break 'cases;
                    }
                    (None, Some(g)) => {
                        let sig = r.signal.unwrap_or(0);
                        let m = mismatch(
                            vec![format!(
                                "the reference raised signal {sig}; armature went on"
                            )],
                            None,
                            Some(g.clone()),
                        );
                        verdicts[i] = Some(if sig == 4 {
                            Verdict::ReferenceUndefined(m)
                        } else {
                            Verdict::Mismatch(m)
                        });
                        stopped_at = Some(i);
                        break 'cases;
                    }
                    (None, None) => {
                        let rs = r.signal.unwrap_or(0);
                        let asig = a.stop.as_ref().map_or(0, |t| t.signal);
                        verdicts[i] = Some(if rs == asig && step > 0 {
                            Verdict::Trapped { signal: rs }
                        } else {
                            Verdict::Mismatch(mismatch(
                                vec![format!(
                                    "signal {asig} ({}) where the reference raised signal {rs}",
                                    a.stop.as_ref().map_or("none", |t| t.reason.as_str())
                                )],
                                None,
                                None,
                            ))
                        });
                        stopped_at = Some(i);
                        break 'cases;
                    }
                }
                j += 1;
            }
            verdicts[i] = Some(Verdict::Pass);
        }
        match stopped_at {
            Some(i) => start = i + 1,
            None => {
                compare_memory(&r.stdout, &a.scratch, start, cases, &mut verdicts, &p);
                start = n;
            }
        }
    }
    Ok(verdicts
        .into_iter()
        .map(|v| v.expect("every case gets a verdict"))
        .collect())
}

/// Compares the scratch memory at the end; a difference fails the case whose region holds it.
fn compare_memory(
    expected: &[u8],
    actual: &[u8],
    start: usize,
    cases: &[Case],
    verdicts: &mut [Option<Verdict>],
    p: &Program,
) {
    if expected.len() != actual.len() {
        let what = format!(
            "the reference wrote {} bytes of scratch memory, armature has {}",
            expected.len(),
            actual.len()
        );
        verdicts[start] = Some(memory_mismatch(start, &cases[start], what, p));
        return;
    }
    for (off, (e, a)) in expected.iter().zip(actual).enumerate() {
        if e == a {
            continue;
        }
        let region = (off as u64).saturating_sub(SCRATCH_MARGIN) / REGION_SIZE;
        let i = (region as usize).clamp(start, cases.len() - 1);
        if matches!(verdicts[i], Some(Verdict::Pass)) {
            let addr = p.scratch.0 + off as u64;
            let what = format!("memory at {addr:#x}: {e:#04x} != {a:#04x} (first differing byte)");
            verdicts[i] = Some(memory_mismatch(i, &cases[i], what, p));
        }
    }
}

fn memory_mismatch(i: usize, case: &Case, what: String, p: &Program) -> Verdict {
    let mut before = case.state.clone();
    before.pc = p.test_pc[i];
    Verdict::Mismatch(Box::new(Mismatch {
        case: i,
        insn: Some(0),
        word: case.words[0],
        before,
        expected: None,
        actual: None,
        what: vec![what],
    }))
}
