//! Stored reference traces: cases recorded from qemu-aarch64, so that the semantic checks run
//! where qemu-aarch64 is absent.
//!
//! A fixture file (`conformance/fixtures/<name>.json`) holds one program's worth of
//! single-instruction cases:
//!
//! ```json
//! { "encoding": "ADDS_64_addsub_shift",
//!   "recorded_with": "qemu-aarch64 -cpu max -singlestep -d cpu,fpu,nochain",
//!   "cases": [ { "words": ["0xab020020"], "state": { "x": [...], "sp": "0x...", ... },
//!                "after": { "X0": "0x5", "NZCV": "0x60000000", "PC": "0x4000b0" } } ],
//!   "memory": [ ["0x10010800", "00ff..."] ] }
//! ```
//!
//! `state` is the initial state (SP and base registers already point into the case's scratch
//! region); `after` names the registers (`X0`-`X30`, `SP`, `PC`, `NZCV`, `FPCR`, `FPSR`,
//! `V0`-`V31`) whose value after the instruction differs from the state before it, as the
//! reference logged it; `memory` lists the runs of scratch bytes that differ from the initial
//! pattern at the end of the program. A branch case also has `path`: the PCs of the landing
//! instructions (NOPs after it, or a backward pad before it) it ran through after its instruction (`"path": ["0x4000b8", "0x4000bc"]`), whose
//! registers are those of `after`; the case ends at the address after its landing NOPs. The program is rebuilt from the cases with
//! [`Program::build`], so a change of the program layout needs a re-recording
//! (`armature conform --record conformance/fixtures`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use armature_core::interp::Interp;
use armature_core::isa::FeatureSet;
use armature_core::sem::SemTable;

use crate::check::{check_batch, Reference, Verdict};
use crate::program::{scratch_pattern, Case, Program, State};
use crate::qemu::{self, QemuError, Trace};

/// One fixture file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fixture {
    pub encoding: String,
    pub recorded_with: String,
    pub cases: Vec<StoredCase>,
    /// Runs of scratch memory that differ from the initial pattern: address and hex bytes.
    pub memory: Vec<(String, String)>,
}

/// A case and what the reference did with it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredCase {
    #[serde(flatten)]
    pub case: Case,
    pub after: BTreeMap<String, String>,
    /// The landing instructions a branch case ran through after its instruction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

/// The registers of `b` that differ from `a`, by name.
pub fn changes(a: &State, b: &State) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for i in 0..31 {
        if a.x[i] != b.x[i] {
            m.insert(format!("X{i}"), format!("{:#x}", b.x[i]));
        }
    }
    for (name, x, y) in [
        ("SP", a.sp, b.sp),
        ("PC", a.pc, b.pc),
        ("NZCV", a.nzcv, b.nzcv),
        ("FPCR", a.fpcr, b.fpcr),
        ("FPSR", a.fpsr, b.fpsr),
    ] {
        if x != y {
            m.insert(name.to_string(), format!("{y:#x}"));
        }
    }
    for i in 0..32 {
        if a.v[i] != b.v[i] {
            m.insert(format!("V{i}"), format!("{:#x}", b.v[i]));
        }
    }
    m
}

/// `s` with the named registers replaced.
pub fn apply(s: &State, changes: &BTreeMap<String, String>) -> Result<State, String> {
    let mut s = s.clone();
    for (name, val) in changes {
        let t = val.strip_prefix("0x").unwrap_or(val);
        let v = u128::from_str_radix(t, 16).map_err(|e| format!("{name}={val}: {e}"))?;
        let idx = |p: &str| name.strip_prefix(p).and_then(|n| n.parse::<usize>().ok());
        match name.as_str() {
            "SP" => s.sp = v as u64,
            "PC" => s.pc = v as u64,
            "NZCV" => s.nzcv = v as u64,
            "FPCR" => s.fpcr = v as u64,
            "FPSR" => s.fpsr = v as u64,
            _ => match (idx("X"), idx("V")) {
                (Some(i), _) if i < 31 => s.x[i] = v as u64,
                (_, Some(i)) if i < 32 => s.v[i] = v,
                _ => return Err(format!("unknown register {name}")),
            },
        }
    }
    Ok(s)
}

/// The state the set-up code leaves before case `i`'s instruction.
fn before(p: &Program, i: usize, case: &Case) -> State {
    let mut s = case.state.clone();
    s.pc = p.test_pc[i];
    s.fpsr = 0;
    s
}

impl Fixture {
    /// The fixture as JSON with one line per case (compact, and diffs stay readable).
    pub fn to_text(&self) -> String {
        let j = |v: &dyn erased::Json| v.json();
        let cases: Vec<String> = self.cases.iter().map(|c| format!("    {}", j(c))).collect();
        let memory: Vec<String> = self
            .memory
            .iter()
            .map(|m| format!("    {}", j(m)))
            .collect();
        format!(
            "{{\n  \"encoding\": {},\n  \"recorded_with\": {},\n  \"cases\": [\n{}\n  ],\n  \"memory\": [\n{}\n  ]\n}}\n",
            j(&self.encoding),
            j(&self.recorded_with),
            cases.join(",\n"),
            memory.join(",\n")
        )
    }

    pub fn cases(&self) -> Vec<Case> {
        self.cases.iter().map(|c| c.case.clone()).collect()
    }

    /// The trace the reference gave, rebuilt from the stored differences.
    pub fn trace(&self, p: &Program) -> Result<Trace, String> {
        self.trace_from(p, 0)
    }

    /// The trace of a run entered at case `first`'s set-up: the whole trace (the check only
    /// reads the states of the cases it runs), with the memory the earlier cases wrote left at
    /// the initial pattern, as a run from there leaves it.
    pub fn trace_from(&self, p: &Program, first: usize) -> Result<Trace, String> {
        let mut states = Vec::new();
        for (i, c) in self.cases.iter().enumerate() {
            let b = before(p, i, &c.case);
            let after = apply(&b, &c.after)?;
            states.push(b);
            for pc in &c.path {
                let mut s = after.clone();
                s.pc = crate::program::parse_hex(pc)?;
                states.push(s);
            }
            states.push(after);
        }
        let mut stdout = scratch_pattern(p.scratch.1);
        for (addr, bytes) in &self.memory {
            let a = crate::program::parse_hex(addr)? - p.scratch.0;
            let region =
                a.saturating_sub(crate::program::SCRATCH_MARGIN) / crate::program::REGION_SIZE;
            if (region as usize) < first {
                continue;
            }
            for (k, chunk) in bytes.as_bytes().chunks(2).enumerate() {
                let s = std::str::from_utf8(chunk).map_err(|e| e.to_string())?;
                let b = u8::from_str_radix(s, 16).map_err(|e| format!("{bytes}: {e}"))?;
                *stdout
                    .get_mut(a as usize + k)
                    .ok_or_else(|| format!("{addr} is outside the scratch memory"))? = b;
            }
        }
        Ok(Trace {
            states,
            stdout,
            signal: None,
        })
    }
}

/// The stored reference: answers for the program built from its own cases. The reference ran
/// every case to its end (a fixture holds no case where it raised a signal), so when armature
/// stops in a case and the check re-enters the program after it, the answer is the same whole
/// trace: the check only looks at the states of the cases still to run.
pub struct Stored<'a>(pub &'a Fixture);

impl Reference for Stored<'_> {
    fn run(&mut self, p: &Program, _ranges: &[(u64, u64)]) -> Result<Trace, QemuError> {
        let first = p.setup_pc.iter().position(|&pc| pc == p.entry).unwrap_or(0);
        self.0.trace_from(p, first).map_err(QemuError)
    }
}

/// Records a fixture of `cases` (single instructions) with qemu-aarch64. Cases where the
/// reference raises a signal are dropped, since a fixture replays one uninterrupted program.
/// The cases are given as generated; they are prepared (pointed into scratch) here.
pub fn record(encoding: &str, mut raw: Vec<Case>, dir: &Path) -> Result<Fixture, QemuError> {
    loop {
        let mut cases = raw.clone();
        crate::gen::prepare_all(&mut cases);
        let p = Program::build(&cases);
        let ranges = qemu::log_ranges(&p);
        let t = qemu::run(&p, &ranges, dir)?;
        let logged = crate::check::by_case(&t.states, &ranges);
        if t.signal.is_some() {
            // The case of the last logged state raised it.
            let Some(i) = logged.iter().rposition(|s| !s.is_empty()) else {
                return Err(QemuError("the set-up code raised a signal".into()));
            };
            if logged[i].last().map(|s| s.pc) == Some(p.test_end[i]) {
                return Err(QemuError(format!("a signal was raised after case {i}")));
            }
            raw.remove(i);
            continue;
        }
        let mut stored = Vec::new();
        for (i, c) in cases.iter().enumerate() {
            let b = before(&p, i, c);
            let states = &logged[i];
            let (Some(first), Some(last)) = (states.first(), states.last()) else {
                return Err(QemuError(format!("no state logged for case {i}")));
            };
            if !first.diff(&b).is_empty() {
                return Err(QemuError(format!(
                    "the reference's state after set-up differs from the case: {:?}",
                    first.diff(&b)
                )));
            }
            if states.len() < 2 || last.pc != p.test_end[i] {
                return Err(QemuError(format!("case {i} does not run to its end")));
            }
            let middle = &states[1..states.len() - 1];
            let mut path = Vec::new();
            for s in middle {
                let mut same = s.clone();
                same.pc = last.pc;
                if !same.diff(last).is_empty() {
                    return Err(QemuError(format!(
                        "case {i} changed registers after its instruction: {:?}",
                        same.diff(last)
                    )));
                }
                path.push(format!("{:#x}", s.pc));
            }
            stored.push(StoredCase {
                case: c.clone(),
                after: changes(&b, last),
                path,
            });
        }
        let pattern = scratch_pattern(p.scratch.1);
        if t.stdout.len() != pattern.len() {
            return Err(QemuError(format!(
                "the reference wrote {} bytes of scratch memory instead of {}",
                t.stdout.len(),
                pattern.len()
            )));
        }
        let mut memory = Vec::new();
        let mut k = 0;
        while k < pattern.len() {
            if t.stdout[k] == pattern[k] {
                k += 1;
                continue;
            }
            let start = k;
            while k < pattern.len() && t.stdout[k] != pattern[k] {
                k += 1;
            }
            let hex: String = t.stdout[start..k]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            memory.push((format!("{:#x}", p.scratch.0 + start as u64), hex));
        }
        return Ok(Fixture {
            encoding: encoding.to_string(),
            recorded_with: format!("{} -cpu max -singlestep -d cpu,fpu,nochain", qemu::QEMU),
            cases: stored,
            memory,
        });
    }
}

/// The verdicts of the fixture files (`*.json`) in `dir` whose encoding `keep` accepts, by
/// encoding.
pub fn check_dir(
    dir: &Path,
    keep: &dyn Fn(&str) -> bool,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Vec<(String, Vec<Verdict>)>, String> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the fixtures directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no fixture (*.json) in {}", dir.display()));
    }
    let mut res = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let f: Fixture = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a fixture: {e}", path.display()))?;
        if !keep(&f.encoding) {
            continue;
        }
        let v = check_batch(&f.cases(), &mut Stored(&f), table, features)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        res.push((f.encoding.clone(), v));
    }
    Ok(res)
}

mod erased {
    /// Compact JSON of any serialisable value, usable as a trait object.
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("fixtures serialise")
        }
    }
}
