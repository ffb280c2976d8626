//! The system under test: runs a [`Program`] in armature's interpreter, taking the state before
//! each instruction in the logged ranges, as qemu-aarch64 logs it. A program whose cases make
//! system calls (SVC) runs as an armature Linux process ([`Process`]), so that the calls are
//! armature's own, as qemu-aarch64's are qemu's.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use armature_core::interp::Interp;
use armature_core::isa::{decode, EncodingId, FeatureSet};
use armature_core::linux::Process;
use armature_core::mem::{Perms, PAGE_SIZE};
use armature_core::sem::{SemTable, Stop};

use crate::program::{Program, State};

/// What one armature run gave.
#[derive(Debug)]
pub struct Run {
    pub states: Vec<State>,
    /// The stop that ended the run before the exit sequence (a fault, SIGILL, BRK).
    pub stop: Option<Trap>,
    /// The scratch memory at the end (empty when the run stopped early).
    pub scratch: Vec<u8>,
}

/// An instruction that stopped armature's run.
#[derive(Clone, Debug)]
pub struct Trap {
    pub pc: u64,
    /// The signal a Linux process gets for it (0 for a stop without one).
    pub signal: i32,
    pub reason: String,
}

impl Trap {
    fn new(pc: u64, stop: &Stop) -> Trap {
        let signal = match stop {
            Stop::Fault(_) => 11,
            Stop::Undefined | Stop::NotImplemented(_) => 4,
            Stop::Breakpoint(_) => 5,
            // Conformance machines have no interrupt flag set; no signal is raised either way.
            Stop::Syscall(_) | Stop::Interrupt => 0,
        };
        Trap {
            pc,
            signal,
            reason: format!("{stop:?}"),
        }
    }
}

/// The state of `m` in the compared form.
pub fn snapshot(m: &Interp) -> State {
    State {
        x: m.cpu.x,
        sp: m.cpu.sp,
        pc: m.cpu.pc,
        nzcv: m.cpu.nzcv & 0xf000_0000,
        fpcr: m.cpu.fpcr,
        fpsr: m.cpu.fpsr,
        v: m.cpu.v,
        sve: None,
    }
}

/// Loads `p` like the ELF loader does (the same bytes and permissions) with the PC at `entry`.
pub fn load(p: &Program, entry: u64) -> Interp {
    let mut m = Interp::default();
    let page = |n: u64| n.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let code = crate::program::CODE_BASE;
    m.mem
        .map(code, page(p.code.len() as u64), Perms::RX)
        .expect("a generated program fits in the guest space");
    m.mem
        .poke(code, &p.code)
        .expect("the code segment is mapped");
    let data = crate::program::DATA_BASE;
    m.mem
        .map(data, page(p.data.len() as u64), Perms::RW)
        .expect("a generated program fits in the guest space");
    m.mem
        .poke(data, &p.data)
        .expect("the data segment is mapped");
    m.cpu.pc = entry;
    m
}

/// Whether a case of `p` makes a system call: an SVC among its instructions under test.
pub fn makes_system_calls(p: &Program) -> bool {
    let all = FeatureSet::all();
    p.test_pc.iter().zip(&p.test_end).any(|(&a, &end)| {
        (a..end)
            .step_by(4)
            .filter_map(|pc| p.word_at(pc))
            .any(|w| decode(w, &all).encoding() == Some(EncodingId::SVC_EX_exception))
    })
}

/// Loads `p` as an armature Linux process (the ELF goes through a temporary file, as
/// `armature run` reads it) with the PC at `entry`.
pub fn load_process(p: &Program, entry: u64, features: &FeatureSet) -> Result<Process, String> {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "armature-conform-{}-{}.elf",
        std::process::id(),
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, p.to_elf()).map_err(|e| format!("{}: {e}", path.display()))?;
    let loaded = Process::load(&path, &["case".to_string()], &[], *features);
    let _ = std::fs::remove_file(&path);
    let mut process = loaded.map_err(|e| format!("cannot load the test program: {e}"))?;
    process.machine.cpu.pc = entry;
    Ok(process)
}

/// The machine a run steps: a bare interpreter, or a Linux process for system calls.
enum Machine {
    Bare(Box<Interp>),
    Linux(Box<Process>),
}

impl Machine {
    fn interp(&mut self) -> &mut Interp {
        match self {
            Machine::Bare(m) => m,
            Machine::Linux(p) => &mut p.machine,
        }
    }
}

/// Runs `p` from its entry until the exit sequence's first system call or a stop. A system
/// call of a case is made by armature's Linux layer and the run goes on after it.
pub fn run(
    p: &Program,
    ranges: &[(u64, u64)],
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Run {
    let logged: HashSet<u64> = ranges
        .iter()
        .flat_map(|&(a, n)| (a..a + n).step_by(4))
        .collect();
    let mut machine = if makes_system_calls(p) {
        match load_process(p, p.entry, features) {
            Ok(process) => Machine::Linux(Box::new(process)),
            Err(reason) => {
                return Run {
                    states: Vec::new(),
                    stop: Some(Trap {
                        pc: p.entry,
                        signal: 0,
                        reason,
                    }),
                    scratch: Vec::new(),
                }
            }
        }
    } else {
        Machine::Bare(Box::new(load(p, p.entry)))
    };
    let mut states = Vec::new();
    // Every case runs straight through: no more steps than instructions, plus the exit.
    let limit = p.code.len() / 4 + 16;
    for _ in 0..limit {
        let m = machine.interp();
        let pc = m.cpu.pc;
        if logged.contains(&pc) {
            states.push(snapshot(m));
        }
        match m.step(table, features) {
            Ok(()) => {}
            Err(Stop::Syscall(_)) if pc >= p.end_pc => {
                let mut scratch = vec![0u8; p.scratch.1 as usize];
                m.mem
                    .read(p.scratch.0, &mut scratch)
                    .expect("the scratch memory stays mapped");
                return Run {
                    states,
                    stop: None,
                    scratch,
                };
            }
            Err(Stop::Syscall(imm)) if matches!(machine, Machine::Linux(_)) => {
                let Machine::Linux(process) = &mut machine else {
                    unreachable!("matched above")
                };
                process.machine.cpu.pc = pc.wrapping_add(4);
                if let Some(exit) = process.syscall() {
                    return Run {
                        states,
                        stop: Some(Trap {
                            pc,
                            signal: 0,
                            reason: format!("svc #{imm:#x} ended the process: {exit:?}"),
                        }),
                        scratch: Vec::new(),
                    };
                }
            }
            Err(stop) => {
                return Run {
                    states,
                    stop: Some(Trap::new(pc, &stop)),
                    scratch: Vec::new(),
                }
            }
        }
    }
    Run {
        states,
        stop: Some(Trap {
            pc: machine.interp().cpu.pc,
            signal: 0,
            reason: format!("still running after {limit} instructions"),
        }),
        scratch: Vec::new(),
    }
}
