//! Semantic checks against the stored qemu-aarch64 traces in `conformance/fixtures/`: these
//! run without qemu. Re-record with `armature conform --record conformance/fixtures --filter ...`.

use std::path::Path;

use armature_conformance::check::Verdict;
use armature_conformance::fixtures::check_dir;
use armature_core::interp::Interp;
use armature_core::isa::{fields, EncodingId};
use armature_core::linux::implemented_features;
use armature_core::sem::{Sem, SemTable, Stop};

fn table() -> SemTable<Interp> {
    let mut t = SemTable::default();
    armature_extensions::register_all(&mut t);
    t
}

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

#[test]
fn armature_matches_the_stored_traces() {
    let t = table();
    let results = check_dir(dir(), &|_| true, &t, &implemented_features(&t))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        results.len() >= 10,
        "the corpus has {} files",
        results.len()
    );
    let mut bad = Vec::new();
    for (name, verdicts) in &results {
        assert!(!verdicts.is_empty(), "{name} has no case");
        for v in verdicts {
            match v {
                Verdict::Pass => {}
                Verdict::Mismatch(m) => bad.push(format!("{name}: {m}")),
                other => bad.push(format!("{name}: {other:?}")),
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// ADCS (32-bit) that forgets the carry in.
fn adcs_without_carry(m: &mut Interp, w: u32) -> Result<(), Stop> {
    let f = fields::ADCS_32_addsub_carry::from_word(w);
    let r = |m: &Interp, i: u32| {
        if i == 31 {
            0
        } else {
            m.cpu.x[i as usize] as u32
        }
    };
    let (a, b) = (r(m, f.Rn), r(m, f.Rm));
    let (res, c) = a.overflowing_add(b);
    let v = ((a ^ res) & (b ^ res)) >> 31;
    m.cpu.nzcv = ((res >> 31) as u64) << 31
        | ((res == 0) as u64) << 30
        | (c as u64) << 29
        | (v as u64) << 28;
    if f.Rd != 31 {
        m.cpu.x[f.Rd as usize] = res as u64;
    }
    Ok(())
}

/// B.cond with the condition inverted (the low bit of `cond` flipped; AL stays AL).
fn inverted_b_cond(m: &mut Interp, w: u32) -> Result<(), Stop> {
    armature_extensions::base::branch::branch_cond(m, w ^ 1)
}

/// The stored traces fail some case of `encoding` when `broken` is its semantics, and no case
/// of the other encodings.
fn check_caught(encoding: &str, broken: fn(&mut Interp, u32) -> Result<(), Stop>) {
    let mut t = table();
    t.set(EncodingId::from_name(encoding).unwrap(), broken);
    let results = check_dir(dir(), &|_| true, &t, &implemented_features(&t))
        .unwrap_or_else(|e| panic!("{e}"));
    for (name, verdicts) in results {
        let failed = verdicts.iter().filter(|v| v.is_failure()).count();
        if name == encoding {
            assert!(failed > 0, "the broken {encoding} passed the stored traces");
        } else {
            assert_eq!(failed, 0, "{name}");
        }
    }
}

#[test]
fn the_stored_traces_catch_a_broken_adcs() {
    check_caught("ADCS_32_addsub_carry", adcs_without_carry);
}

#[test]
fn the_stored_traces_catch_an_inverted_b_cond() {
    check_caught("B_only_condbranch", inverted_b_cond);
}

/// B without the sign extension of its offset: a backward branch goes far forward.
fn b_unsigned_offset(m: &mut Interp, w: u32) -> Result<(), Stop> {
    let f = fields::B_only_branch_imm::from_word(w);
    let target = m.cpu.pc.wrapping_add(u64::from(f.imm26) << 2);
    m.branch(target);
    Ok(())
}

#[test]
fn the_stored_traces_catch_a_b_without_sign_extension() {
    check_caught("B_only_branch_imm", b_unsigned_offset);
}
