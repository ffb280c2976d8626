//! The SVE registers of qemu-aarch64's log (`-cpu max,sve-default-vector-length=N`): a tiny
//! program written by the conformance ELF writer sets Z, P and FFR with SVE instructions, and
//! the parsed state must hold what they compute for each vector length. The logs stored in
//! `conformance/fixtures/qemu-logs/` are checked without qemu; the live test (which needs
//! qemu-aarch64) checks more vector lengths and re-records the stored logs when
//! `ARMATURE_RECORD=1`.

use std::path::{Path, PathBuf};

use armature_conformance::program::{Case, Program, State};
use armature_conformance::qemu::{self, parse_log};

/// `ptrue p0.b; index z2.d, #1, #1; setffr; ptrue p3.s; mov z5.b, #-1`.
const WORDS: [u32; 5] = [
    0x2518_e3e0,
    0x04e1_4022,
    0x252c_9000,
    0x2598_e3e3,
    0x2538_dfe5,
];

/// The vector lengths (bytes) of the stored logs.
const STORED: [usize; 3] = [16, 32, 64];

fn program() -> Program {
    let mut case = Case {
        words: WORDS.to_vec(),
        state: State::default(),
    };
    case.state.v[3] = 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00;
    case.state.v[5] = 0x5555;
    Program::build(&[case])
}

/// The range logged: the last instruction and the one after it.
fn range(p: &Program) -> (u64, u64) {
    (p.test_end[0] - 4, 8)
}

fn stored(vl: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/qemu-logs/sve-vl{vl}.log"))
}

/// Checks the two states of `log` (before and after `mov z5.b, #-1`) for vector length `vl`.
fn check(vl: usize, log: &str) {
    let p = program();
    let states = parse_log(log).unwrap_or_else(|e| panic!("VL {vl}: {e}"));
    assert_eq!(states.len(), 2, "VL {vl}");
    let (before, after) = (&states[0], &states[1]);
    assert_eq!(before.pc, p.test_end[0] - 4);
    assert_eq!(after.pc, p.test_end[0]);
    let limbs = vl / 8;
    // A predicate has one bit per byte: `pl` bits, in 64-bit limbs.
    let pl = vl;
    let ones = |bits: usize, every: usize| -> Vec<u64> {
        (0..bits.div_ceil(64))
            .map(|i| {
                (0..64.min(bits - 64 * i))
                    .filter(|b| b % every == 0)
                    .fold(0u64, |a, b| a | 1 << b)
            })
            .collect()
    };
    for (s, z5) in [(before, 0u64), (after, u64::MAX)] {
        let sve = s
            .sve
            .as_ref()
            .unwrap_or_else(|| panic!("VL {vl}: no SVE state"));
        assert_eq!(sve.vl, vl);
        assert_eq!(sve.z.len(), 32);
        assert!(sve.z.iter().all(|z| z.len() == limbs), "VL {vl}");
        assert_eq!(sve.p.len(), 16);
        assert_eq!(sve.p[0], ones(pl, 1), "VL {vl}: P0 after ptrue p0.b");
        assert_eq!(sve.p[3], ones(pl, 4), "VL {vl}: P3 after ptrue p3.s");
        assert_eq!(sve.p[1], vec![0; pl.div_ceil(64)], "VL {vl}: P1");
        assert_eq!(sve.ffr, ones(pl, 1), "VL {vl}: FFR after setffr");
        let index: Vec<u64> = (1..=limbs as u64).collect();
        assert_eq!(sve.z[2], index, "VL {vl}: Z2 after index z2.d, #1, #1");
        // Z3 is V3 (set up by LDP Q, which zeroes the bits above 128).
        let mut z3 = vec![0; limbs];
        z3[..2].copy_from_slice(&[0x99aa_bbcc_ddee_ff00, 0x1122_3344_5566_7788]);
        assert_eq!(sve.z[3], z3, "VL {vl}: Z3");
        assert_eq!(s.v[3], 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00);
        let mut z5_before = vec![0; limbs];
        z5_before[0] = 0x5555;
        let want = if z5 == 0 { z5_before } else { vec![z5; limbs] };
        assert_eq!(sve.z[5], want, "VL {vl}: Z5");
        assert_eq!(s.v[5], (want[1] as u128) << 64 | want[0] as u128);
    }
    // Only Z5 changed, and the diff says so.
    let d = before.diff(after);
    assert_eq!(d.len(), 3, "{d:?}"); // PC, V5 and Z5.
    assert!(d.iter().any(|l| l.starts_with("Z5: ")), "{d:?}");
}

#[test]
fn stored_sve_logs_parse() {
    for vl in STORED {
        let path = stored(vl);
        let log =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(vl, &log);
    }
}

#[test]
fn live_sve_logs_parse() {
    let p = program();
    let dir = std::env::temp_dir().join(format!("armature-sve-log-{}", std::process::id()));
    for vl in [16, 32, 64, 128, 256] {
        let cpu = format!("max,sve-default-vector-length={vl}");
        let t = qemu::run_elf_cpu(&p.to_elf(), &[range(&p)], &dir, &cpu)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.signal, None);
        let log = std::fs::read_to_string(dir.join("qemu.log")).unwrap();
        check(vl, &log);
        if std::env::var_os("ARMATURE_RECORD").is_some() && STORED.contains(&vl) {
            std::fs::write(stored(vl), &log).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
