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

/// The instruction whose result diverged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The state already differed after the set-up code.
    SetUp,
    /// The instruction of the case's words at this index.
    Insn(usize),
    /// A landing instruction of a branch case (a NOP after the words or a backward pad).
    Landing,
}

/// The first divergence of one case.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The case's index in its batch.
    pub case: usize,
    /// Where the divergence is.
    pub at: At,
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
        match self.at {
            At::Insn(i) => writeln!(
                f,
                "{id} {:#010x} `{text}` (instruction {i} of the case) diverges \
                 (qemu-aarch64 != armature):",
                self.word
            )?,
            At::Landing => writeln!(
                f,
                "the landing instruction {:#010x} `{text}` of a branch diverges \
                 (qemu-aarch64 != armature):",
                self.word
            )?,
            At::SetUp => writeln!(f, "the state after the set-up code diverges:")?,
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

/// The states of one run split by case: `out[i]` holds, in order, the states whose PC lies in
/// the logged range `ranges[i]` (the ranges are ascending and disjoint).
pub fn by_case(states: &[State], ranges: &[(u64, u64)]) -> Vec<Vec<State>> {
    let mut out = vec![Vec::new(); ranges.len()];
    for s in states {
        let i = ranges.partition_point(|&(a, _)| a <= s.pc);
        if let Some(i) = i
            .checked_sub(1)
            .filter(|&i| s.pc < ranges[i].0 + ranges[i].1)
        {
            out[i].push(s.clone());
        }
    }
    out
}

/// Checks `cases` in one program (re-entered after a case that raised a signal). A case's
/// states are the ones logged in its range, so that a branch case may run through any of its
/// landing instructions: the states are compared in order, PC included, so a branch that goes
/// the other way diverges at the state after it.
pub fn check_batch(
    cases: &[Case],
    reference: &mut dyn Reference,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Vec<Verdict>, QemuError> {
    let mut p = Program::build(cases);
    let ranges = qemu::log_ranges(&p);
    let n = cases.len();
    let mut verdicts: Vec<Option<Verdict>> = vec![None; n];
    let mut start = 0;
    while start < n {
        p.entry = p.setup_pc[start];
        // Log only the cases still to run: the entry is the previous case's "after" address.
        let ranges = &ranges[start..];
        let r = reference.run(&p, ranges)?;
        let a = armature::run(&p, ranges, table, features);
        let (rs, gs) = (by_case(&r.states, ranges), by_case(&a.states, ranges));
        // A run ends inside the first case whose states do not reach its end.
        let complete = |s: &[State], i: usize| s.last().is_some_and(|l| l.pc == p.test_end[i]);
        let r_stop = (start..n).find(|&i| !complete(&rs[i - start], i));
        let a_stop = (start..n).find(|&i| !complete(&gs[i - start], i));
        let stopped_at = match (r_stop, a_stop) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        for i in start..stopped_at.map_or(n, |s| s + 1) {
            let (e, g) = (&rs[i - start], &gs[i - start]);
            verdicts[i] = Some(case_verdict(
                i,
                &cases[i],
                e,
                g,
                &r,
                &a,
                &p,
                stopped_at == Some(i),
            ));
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

/// The verdict of case `i` from the states the reference (`e`) and armature (`g`) logged in
/// its range; `stopped` when one of the runs ended inside it.
#[allow(clippy::too_many_arguments)]
fn case_verdict(
    i: usize,
    case: &Case,
    e: &[State],
    g: &[State],
    r: &Trace,
    a: &armature::Run,
    p: &Program,
    stopped: bool,
) -> Verdict {
    let mismatch = |k: usize,
                    what: Vec<String>,
                    expected: Option<&State>,
                    actual: Option<&State>| {
        let (at, word, before) = match k.checked_sub(1).and_then(|j| e.get(j)) {
            None => (At::SetUp, 0, e.first().cloned().unwrap_or_default()),
            Some(b) => {
                let index = b.pc.wrapping_sub(p.test_pc[i]) / 4;
                match case.words.get(index as usize) {
                    Some(&w) if b.pc >= p.test_pc[i] => (At::Insn(index as usize), w, b.clone()),
                    _ => (At::Landing, p.word_at(b.pc).unwrap_or(0), b.clone()),
                }
            }
        };
        Box::new(Mismatch {
            case: i,
            at,
            word,
            before,
            expected: expected.cloned(),
            actual: actual.cloned(),
            what,
        })
    };
    for k in 0..e.len().max(g.len()) {
        match (e.get(k), g.get(k)) {
            (Some(x), Some(y)) => {
                let d = x.diff(y);
                if !d.is_empty() {
                    return Verdict::Mismatch(mismatch(k, d, Some(x), Some(y)));
                }
            }
            (Some(x), None) => {
                let why = match &a.stop {
                    Some(t) => format!(
                        "armature stopped (signal {}: {}); the reference went on",
                        t.signal, t.reason
                    ),
                    None => "armature's run ended early".to_string(),
                };
                return Verdict::Mismatch(mismatch(k, vec![why], Some(x), None));
            }
            (None, y) => {
                let sig = r.signal.unwrap_or(0);
                let m = mismatch(
                    k,
                    vec![format!(
                        "the reference raised signal {sig}; armature went on"
                    )],
                    None,
                    y,
                );
                return if sig == 4 {
                    Verdict::ReferenceUndefined(m)
                } else {
                    Verdict::Mismatch(m)
                };
            }
        }
    }
    if !stopped {
        return Verdict::Pass;
    }
    // Both stopped at the same instruction.
    let rs = r.signal.unwrap_or(0);
    let asig = a.stop.as_ref().map_or(0, |t| t.signal);
    if rs == asig && !e.is_empty() {
        Verdict::Trapped { signal: rs }
    } else {
        Verdict::Mismatch(mismatch(
            e.len(),
            vec![format!(
                "signal {asig} ({}) where the reference raised signal {rs}",
                a.stop.as_ref().map_or("none", |t| t.reason.as_str())
            )],
            None,
            None,
        ))
    }
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
        at: At::Insn(0),
        word: case.words[0],
        before,
        expected: None,
        actual: None,
        what: vec![what],
    }))
}
