//! Semantic conformance against qemu-aarch64 (which must be installed: these tests fail
//! without it), and against the stored traces in `conformance/fixtures/` (which need no qemu).

use std::path::PathBuf;

use armature_conformance::campaign::{self, Settings};
use armature_conformance::check::{check_batch, Qemu, Verdict};
use armature_conformance::gen;
use armature_conformance::program::{Case, State};
use armature_core::interp::Interp;
use armature_core::isa::{decode, fields, Decoded, EncodingId, FeatureSet};
use armature_core::linux::implemented_features;
use armature_core::sem::{Sem, SemTable, Stop};

fn table() -> SemTable<Interp> {
    let mut t = SemTable::default();
    armature_extensions::register_all(&mut t);
    t
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "armature-conformance-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn id(name: &str) -> EncodingId {
    EncodingId::from_name(name).unwrap_or_else(|| panic!("no encoding {name}"))
}

#[test]
fn hand_written_cases_agree_with_qemu() {
    let t = table();
    let f = implemented_features(&t);
    let mut adds = Case {
        words: vec![0xab02_0020],
        state: State::default(),
    }; // adds x0, x1, x2
    adds.state.x[1] = u64::MAX;
    adds.state.x[2] = 1;
    let mut fadd = Case {
        words: vec![0x1e62_2820],
        state: State::default(),
    }; // fadd d0, d1, d2
    fadd.state.v[1] = 0x3ff8_0000_0000_0000;
    fadd.state.v[2] = 0x7ff4_0000_0000_0000; // a signalling NaN: FPSR.IOC
    let mut str_ = Case {
        words: vec![0xf900_0022],
        state: State::default(),
    }; // str x2, [x1]
    str_.state.x[2] = 0x1122_3344_5566_7788;
    // ldr x0, [x1] from address 0: both raise SIGSEGV.
    let segv = Case {
        words: vec![0xf940_0020],
        state: State::default(),
    };
    let mut cases = vec![adds, fadd, str_, segv.clone(), segv];
    gen::prepare_all(&mut cases[..3]);
    for c in &mut cases[3..] {
        c.state.x[1] = 0;
    }
    let dir = scratch("hand");
    let v = check_batch(&cases, &mut Qemu(&dir), &t, &f).unwrap_or_else(|e| panic!("{e}"));
    let text: Vec<String> = v.iter().map(|v| format!("{v:?}")).collect();
    assert!(matches!(v[0], Verdict::Pass), "{}", text[0]);
    assert!(matches!(v[1], Verdict::Pass), "{}", text[1]);
    assert!(matches!(v[2], Verdict::Pass), "{}", text[2]);
    assert!(
        matches!(v[3], Verdict::Trapped { signal: 11 }),
        "{}",
        text[3]
    );
    assert!(
        matches!(v[4], Verdict::Trapped { signal: 11 }),
        "{}",
        text[4]
    );
    std::fs::remove_dir_all(dir).ok();
}

/// ADCS with a wrong carry in: PSTATE.V is added instead of PSTATE.C.
fn broken_adcs(m: &mut Interp, w: u32) -> Result<(), Stop> {
    let f = fields::ADCS_64_addsub_carry::from_word(w);
    let (n, mm, d) = (f.Rn as usize, f.Rm as usize, f.Rd as usize);
    let r = |m: &Interp, i: usize| if i == 31 { 0 } else { m.cpu.x[i] };
    let (a, b) = (r(m, n), r(m, mm));
    let cin = m.cpu.nzcv >> 28 & 1;
    let (s1, c1) = a.overflowing_add(b);
    let (res, c2) = s1.overflowing_add(cin);
    let v = ((a ^ res) & (b ^ res)) >> 63;
    let nzcv = (res >> 63) << 31 | ((res == 0) as u64) << 30 | ((c1 | c2) as u64) << 29 | v << 28;
    m.cpu.nzcv = nzcv;
    if d != 31 {
        m.cpu.x[d] = res;
    }
    Ok(())
}

#[test]
fn a_broken_adcs_is_caught_and_shrunk_to_one_instruction() {
    let ids = [
        id("ADCS_64_addsub_carry"),
        id("ADDS_64_addsub_shift"),
        id("SUBS_64_addsub_shift"),
    ];
    check_caught_and_shrunk(&ids, broken_adcs, "NZCV");
}

/// The branches the table names ([`gen::branch`]) that are generated and implemented, but
/// BC.cond (FEAT_HBC): qemu-aarch64 7.2 raises SIGILL for it.
fn branches(t: &SemTable<Interp>, f: &FeatureSet) -> Vec<EncodingId> {
    armature_core::isa::ENCODINGS
        .iter()
        .map(|e| e.id)
        .filter(|&i| gen::branch(i).is_some() && gen::skip_reason(i, t, f).is_none())
        .filter(|&i| i != id("BC_only_condbranch"))
        .collect()
}

#[test]
fn branch_campaigns_agree_with_qemu() {
    let t = table();
    let f = implemented_features(&t);
    let dir = scratch("branches");
    let single = Settings {
        cases: 100,
        seed: 3,
        ..Settings::default()
    };
    // Sequences mix branches with flag-setting and register-writing instructions.
    let mixed = Settings {
        cases: 100,
        max_len: 4,
        seed: 5,
        ..Settings::default()
    };
    let singles = branches(&t, &f);
    assert!(singles.len() >= 12, "{singles:?}");
    let mut all = singles.clone();
    all.extend([id("ADDS_64_addsub_shift"), id("SUBS_32S_addsub_imm")]);
    let runs = singles
        .iter()
        .map(|&i| (i.name(), vec![i], &single))
        .chain([("branch-mix", all, &mixed)]);
    let mut bad = Vec::new();
    for (name, ids, settings) in runs {
        let out = campaign::run(name, &ids, settings, &mut Qemu(&dir), &t, &f)
            .unwrap_or_else(|e| panic!("{e}"));
        if out.status != "pass" || out.passed < settings.cases / 2 {
            bad.push(format!(
                "{name}: {} {:?} ({} passed, {} trapped)\n{}",
                out.status,
                out.reason,
                out.passed,
                out.trapped,
                out.failure.map(|f| f.render()).unwrap_or_default()
            ));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// B.cond with the condition inverted (the low bit of `cond` flipped; AL stays AL).
fn inverted_b_cond(m: &mut Interp, w: u32) -> Result<(), Stop> {
    armature_extensions::base::branch::branch_cond(m, w ^ 1)
}

/// BL that links to the instruction after the next one.
fn bl_wrong_link(m: &mut Interp, w: u32) -> Result<(), Stop> {
    armature_extensions::base::branch::branch_imm(m, w)?;
    m.cpu.x[30] = m.cpu.x[30].wrapping_add(4);
    Ok(())
}

/// B without the sign extension of its offset: a backward branch goes far forward.
fn b_unsigned_offset(m: &mut Interp, w: u32) -> Result<(), Stop> {
    let f = fields::B_only_branch_imm::from_word(w);
    let target = m.cpu.pc.wrapping_add(u64::from(f.imm26) << 2);
    m.branch(target);
    Ok(())
}

/// A campaign over `ids` with `broken` as the semantics of `ids[0]` fails, shrinks to one
/// instruction of `ids[0]` whose report names `register`, and passes with the real semantics.
/// Gives the shrunk word.
fn check_caught_and_shrunk(
    ids: &[EncodingId],
    broken: fn(&mut Interp, u32) -> Result<(), Stop>,
    register: &str,
) -> u32 {
    let mut t = table();
    t.set(ids[0], broken);
    let f = implemented_features(&t);
    let settings = Settings {
        cases: 60,
        max_len: 4,
        seed: 7,
        ..Settings::default()
    };
    let name = ids[0].name();
    let dir = scratch(name);
    let out = campaign::run(name, ids, &settings, &mut Qemu(&dir), &t, &f)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status, "fail", "{out:?}");
    let failure = out.failure.expect("the failure is reported");
    println!("{}", failure.render());
    assert_eq!(failure.case.words.len(), 1, "{}", failure.render());
    assert_eq!(
        decode(failure.case.words[0], &FeatureSet::all()),
        Decoded::Insn(ids[0])
    );
    assert!(failure.report.contains(register), "{}", failure.report);
    let good = table();
    let out = campaign::run(name, ids, &settings, &mut Qemu(&dir), &good, &f).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status, "pass", "{:?}", out.failure.map(|f| f.render()));
    failure.case.words[0]
}

#[test]
fn a_broken_branch_is_caught_and_shrunk_to_one_instruction() {
    let b_cond = [
        id("B_only_condbranch"),
        id("ADDS_64_addsub_shift"),
        id("SUBS_64_addsub_shift"),
    ];
    check_caught_and_shrunk(&b_cond, inverted_b_cond, "PC");
    let bl = [id("BL_only_branch_imm"), id("ADD_64_addsub_imm")];
    check_caught_and_shrunk(&bl, bl_wrong_link, "X30");
    // Only backward branches show this one.
    let b = [id("B_only_branch_imm"), id("ADD_64_addsub_imm")];
    let w = check_caught_and_shrunk(&b, b_unsigned_offset, "armature stopped");
    let (_, offset) = gen::branch_field(w).expect("an immediate branch");
    assert!(offset < 0, "{w:#010x} branches forward");
}

/// SVC that does not call but for `svc #0` (which the program's exit sequence uses): a NOP.
fn svc_as_nop(m: &mut Interp, w: u32) -> Result<(), Stop> {
    match w >> 5 & 0xffff {
        0 => armature_extensions::base::system::svc(m, w),
        _ => Ok(()),
    }
}

#[test]
fn system_calls_agree_with_qemu() {
    let t = table();
    let f = implemented_features(&t);
    let cases: Vec<Case> = gen::SYSCALLS
        .iter()
        .map(|&(_, nr)| {
            let mut c = Case {
                words: vec![0xd400_0021], // svc #1
                state: State::default(),
            };
            c.state.x[0] = 0x5555;
            c.state.x[8] = nr;
            c
        })
        .collect();
    let mut prepared = cases.clone();
    gen::prepare_all(&mut prepared);
    // The number survives the preparation.
    for (c, &(name, nr)) in prepared.iter().zip(gen::SYSCALLS) {
        assert_eq!(c.state.x[8], nr, "{name}");
    }
    let dir = scratch("svc");
    let mut broken = table();
    broken.set(id("SVC_EX_exception"), svc_as_nop);
    for (t, want_pass) in [(&t, true), (&broken, false)] {
        let v = check_batch(&prepared, &mut Qemu(&dir), t, &f).unwrap_or_else(|e| panic!("{e}"));
        for (v, (name, _)) in v.iter().zip(gen::SYSCALLS) {
            match v {
                Verdict::Pass => assert!(want_pass, "{name}: an SVC that does nothing passed"),
                Verdict::Mismatch(m) => {
                    assert!(!want_pass, "{name}: {m}");
                    assert!(m.to_string().contains("X0: "), "{name}: {m}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn exception_campaigns_agree_with_qemu() {
    let t = table();
    let f = implemented_features(&t);
    let dir = scratch("exceptions");
    let settings = Settings {
        cases: 40,
        seed: 11,
        ..Settings::default()
    };
    let mut bad = Vec::new();
    // Whether the cases pass (SVC) or trap in both (SIGTRAP for BRK, SIGILL for the rest).
    for (name, passes) in [
        ("SVC_EX_exception", true),
        ("BRK_EX_exception", false),
        ("UDF_only_perm_undef", false),
        ("HVC_EX_exception", false),
        ("SMC_EX_exception", false),
        ("HLT_EX_exception", false),
        ("ERET_64E_branch_reg", false),
        ("DRPS_64E_branch_reg", false),
        ("DCPS1_DC_exception", false),
    ] {
        let i = id(name);
        assert_eq!(gen::skip_reason(i, &t, &f), None, "{name}");
        let out = campaign::run(name, &[i], &settings, &mut Qemu(&dir), &t, &f)
            .unwrap_or_else(|e| panic!("{e}"));
        let (want, got) = if passes {
            (settings.cases, out.passed)
        } else {
            (settings.cases, out.trapped)
        };
        if out.status != "pass" || got != want {
            bad.push(format!(
                "{name}: {} ({} passed, {} trapped, {} undefined in qemu)\n{}",
                out.status,
                out.passed,
                out.trapped,
                out.reference_undefined,
                out.failure.map(|f| f.render()).unwrap_or_default()
            ));
        }
    }
    // Sequences of SVCs and other instructions.
    let mixed = Settings {
        cases: 40,
        max_len: 4,
        seed: 13,
        ..Settings::default()
    };
    let ids = [id("SVC_EX_exception"), id("ADD_64_addsub_imm")];
    let out = campaign::run("svc-mix", &ids, &mixed, &mut Qemu(&dir), &t, &f)
        .unwrap_or_else(|e| panic!("{e}"));
    if out.status != "pass" || out.passed != mixed.cases {
        bad.push(format!("svc-mix: {out:?}"));
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
