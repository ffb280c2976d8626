//! The `check` helper of the FP tests: runs one instruction word on the interpreter from a
//! set-up state and compares registers, FPSR and NZCV with values recorded from qemu.

use armature_core::interp::Interp;
use armature_core::isa::FeatureSet;
use armature_core::mem::Perms;
use armature_core::sem::SemTable;

/// Where the code page is mapped.
const CODE: u64 = 0x1000;

/// A piece of state a case sets up or checks.
#[derive(Clone, Copy, Debug)]
pub enum Loc {
    X(u32),
    /// The whole 128-bit V[n].
    V(u32),
    Fpcr,
    Fpsr,
    Nzcv,
}

/// (assembly, instruction word, setup, expected values).
pub type Case = (
    &'static str,
    u32,
    &'static [(Loc, u128)],
    &'static [(Loc, u128)],
);

fn get(s: &Interp, loc: Loc) -> u128 {
    match loc {
        Loc::X(n) => s.cpu.x[n as usize].into(),
        Loc::V(n) => s.cpu.v[n as usize],
        Loc::Fpcr => s.cpu.fpcr.into(),
        Loc::Fpsr => s.cpu.fpsr.into(),
        Loc::Nzcv => s.cpu.nzcv.into(),
    }
}

fn set(s: &mut Interp, loc: Loc, v: u128) {
    match loc {
        Loc::X(n) => s.cpu.x[n as usize] = v as u64,
        Loc::V(n) => s.cpu.v[n as usize] = v,
        Loc::Fpcr => s.cpu.fpcr = v as u64,
        Loc::Fpsr => s.cpu.fpsr = v as u64,
        Loc::Nzcv => s.cpu.nzcv = v as u64,
    }
}

/// Runs one case; gives a description of each difference.
pub fn check(case: &Case) -> Vec<String> {
    let (asm, word, setup, expect) = *case;
    let mut table = SemTable::default();
    crate::register_all(&mut table);
    let mut s = Interp::default();
    s.mem.map(CODE, 0x1000, Perms::RX).expect("map");
    s.mem
        .poke(CODE, &word.to_le_bytes())
        .expect("the code page is mapped");
    s.cpu.pc = CODE;
    for &(loc, v) in setup {
        set(&mut s, loc, v);
    }
    if let Err(stop) = s.step(&table, &FeatureSet::all()) {
        return vec![format!("{asm} ({word:#010x}): {stop:?}")];
    }
    expect
        .iter()
        .filter(|&&(loc, v)| get(&s, loc) != v)
        .map(|&(loc, v)| {
            format!(
                "{asm} ({word:#010x}) from {setup:x?}: {loc:?} is {:#x}, expected {v:#x}",
                get(&s, loc)
            )
        })
        .collect()
}

/// Runs every case and fails with the list of differences.
pub fn check_all(cases: &[Case]) {
    let errors: Vec<String> = cases.iter().flat_map(check).collect();
    assert!(
        errors.is_empty(),
        "{} of {} cases differ:\n{}",
        errors.len(),
        cases.len(),
        errors.join("\n")
    );
}
