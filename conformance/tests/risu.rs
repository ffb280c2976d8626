//! risu traces: a risugen-style test image is built here, its trace is recorded with
//! qemu-aarch64 standing in for risu's master (which must be installed: these tests fail
//! without it), and the replay must pass on it and report a changed record as a divergence.
//! The stored pair in `conformance/fixtures/risu/` replays without qemu.
//!
//! qemu-aarch64 cannot catch the image's SIGILLs as risu does, so the recording runs a copy of
//! the image in which every checkpoint word is a NOP and logs the state before each one (the
//! state risu records at the SIGILL). A COMPAREMEM's memory block comes from a second run in
//! which that checkpoint branches to a stub, past the end of the image, that writes the block
//! to standard output and exits. The copy runs at another address than the replay's, as risu
//! maps images wherever the host puts them.

use std::path::{Path, PathBuf};

use armature_conformance::campaign::{self, Settings};
use armature_conformance::program::{elf, enc, Segment, SegmentPerms, State};
use armature_conformance::qemu;
use armature_conformance::risu::{
    self, Image, Op, Payload, Record, RegInfo, RisuError, MEMBLOCK_LEN,
};
use armature_core::interp::Interp;
use armature_core::isa::{EncodingId, FeatureSet};
use armature_core::linux::implemented_features;
use armature_core::sem::SemTable;

fn table() -> SemTable<Interp> {
    let mut t = SemTable::default();
    armature_extensions::register_all(&mut t);
    t
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("armature-risu-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where the recording runs the image (the replay maps it at `risu::IMAGE_BASE`).
const QEMU_BASE: u64 = 0x50_0000;

/// A test image and where its checkpoints are.
struct TestImage {
    words: Vec<u32>,
    /// Word index and op of each checkpoint word.
    sites: Vec<(usize, Op)>,
    /// The word index of the memory block.
    memblock: usize,
    /// The word index of the test instructions.
    tests: Vec<usize>,
}

impl TestImage {
    fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// The image risugen would write for these instructions: set-up (FPSR, FPCR, the memory
/// block, NZCV, then V0-V31 and X0-X30 from data in the image) and a COMPARE, then each
/// instruction and a COMPARE; a memory access (`(word, base register)`) is framed as risugen
/// frames it (base register pointed into the block with ADR, turned back into an offset
/// afterwards, COMPAREMEM). Data follows the code: the registers, then the 64-byte aligned
/// memory block.
fn build(tests: &[(u32, Option<u32>)], state: &State) -> TestImage {
    let mut w: Vec<u32> = Vec::new();
    let mut sites = Vec::new();
    // ADRs to patch once the data is placed: word index, register, which data, offset.
    let mut adrs: Vec<(usize, u32, bool, i32)> = Vec::new();
    let op = |w: &mut Vec<u32>, sites: &mut Vec<(usize, Op)>, op: Op| {
        sites.push((w.len(), op));
        w.push(op.word().unwrap_or(0));
    };
    w.push(enc::msr_fpsr(31));
    w.push(enc::movz(0, state.fpcr as u16, 0));
    w.push(enc::movk(0, (state.fpcr >> 16) as u16, 1));
    w.push(enc::msr_fpcr(0));
    adrs.push((w.len(), 0, true, 0));
    w.push(0);
    op(&mut w, &mut sites, Op::SetMemBlock);
    w.push(enc::msr_nzcv(31));
    adrs.push((w.len(), 0, false, 0));
    w.push(0);
    for k in 0..16 {
        w.push(enc::ldp_q(2 * k, 2 * k + 1, 0, 32 * k));
    }
    w.push(enc::add_imm(0, 0, 512));
    for k in 0..15 {
        w.push(enc::ldp_x(2 * k + 1, 2 * k + 2, 0, 8 * (2 * k + 1)));
    }
    w.push(enc::ldr_x(0, 0, 0));
    op(&mut w, &mut sites, Op::Compare);
    let mut at = Vec::new();
    for &(word, base) in tests {
        match base {
            None => {
                at.push(w.len());
                w.push(word);
            }
            Some(rn) => {
                adrs.push((w.len(), rn, true, 0x100));
                w.push(0);
                at.push(w.len());
                w.push(word);
                adrs.push((w.len(), 0, true, 0));
                w.push(0);
                w.push(enc::sub_reg(rn, rn, 0));
                w.push(enc::movz(0, 0, 0));
                op(&mut w, &mut sites, Op::CompareMem);
            }
        }
        if word == 0 {
            // An UNDEFINED word is a SIGILL checkpoint of its own (risu goes on after it).
            sites.push((w.len() - 1, Op::Sigill));
        }
        op(&mut w, &mut sites, Op::Compare);
    }
    op(&mut w, &mut sites, Op::TestEnd);
    while !w.len().is_multiple_of(4) {
        w.push(0);
    }
    let regs = w.len();
    for v in &state.v {
        let b = v.to_le_bytes();
        w.extend(
            b.chunks(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap())),
        );
    }
    for x in &state.x {
        w.extend([*x as u32, (*x >> 32) as u32]);
    }
    while !w.len().is_multiple_of(16) {
        w.push(0);
    }
    let memblock = w.len();
    let mut r = armature_conformance::SplitMix64(0x6d65_6d62);
    w.extend((0..MEMBLOCK_LEN / 4).map(|_| r.next_u32()));
    for (i, rd, to_block, add) in adrs {
        let target = if to_block { memblock } else { regs };
        w[i] = enc::adr(rd, 4 * (target as i32 - i as i32) + add);
    }
    TestImage {
        words: w,
        sites,
        memblock,
        tests: at,
    }
}

/// The trace risu's master would write for `img`, recorded with qemu-aarch64.
fn record(img: &TestImage, dir: &Path) -> Vec<Record> {
    // The copy for qemu: checkpoints are NOPs, `stop` branches to the stub after the image.
    let run = |stop: usize| {
        let mut w = img.words.clone();
        for &(i, _) in &img.sites {
            w[i] = enc::NOP;
        }
        let stub = w.len();
        w[stop] = enc::b(4 * (stub as i32 - stop as i32));
        w.push(enc::adr(1, 4 * (img.memblock as i32 - w.len() as i32)));
        w.extend([enc::movz(0, 1, 0), enc::movz(2, MEMBLOCK_LEN as u16, 0)]);
        w.extend([enc::movz(8, 64, 0), enc::SVC0, enc::movz(0, 0, 0)]);
        w.extend([enc::movz(8, 93, 0), enc::SVC0]);
        let bytes: Vec<u8> = w.iter().flat_map(|w| w.to_le_bytes()).collect();
        let file = elf(
            QEMU_BASE,
            &[Segment {
                addr: QEMU_BASE,
                perms: SegmentPerms::RWX,
                bytes: &bytes,
            }],
        );
        let ranges: Vec<(u64, u64)> = img
            .sites
            .iter()
            .map(|&(i, _)| (QEMU_BASE + 4 * i as u64, 4))
            .collect();
        let t = qemu::run_elf(&file, &ranges, dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.signal, None, "the qemu copy of the image raised a signal");
        t
    };
    let end = img.sites.last().expect("a TESTEND").0;
    let full = run(end);
    assert_eq!(
        full.states.len(),
        img.sites.len(),
        "one state per checkpoint"
    );
    full.states
        .iter()
        .map(|s| {
            let off = s.pc - QEMU_BASE;
            let &(i, op) = img
                .sites
                .iter()
                .find(|&&(i, _)| 4 * i as u64 == off)
                .expect("a logged state is at a checkpoint");
            let payload = match op {
                Op::CompareMem => Payload::Memory(run(i).stdout),
                Op::SetMemBlock | Op::GetMemBlock => Payload::None,
                _ => Payload::Regs(Box::new(RegInfo::from_state(s, off, img.words[i]))),
            };
            Record {
                op,
                pc: off,
                payload,
            }
        })
        .collect()
}

/// Instructions of several classes: generated words of register-only encodings, loads and
/// stores through a base register (one with writeback), and an UNDEFINED word.
fn program(features: &FeatureSet) -> (TestImage, Vec<EncodingId>) {
    let settings = Settings {
        cases: 1,
        seed: 4,
        ..Settings::default()
    };
    let ids: Vec<EncodingId> = [
        "ADDS_64_addsub_shift",
        "ADCS_32_addsub_carry",
        "CSEL_64_condsel",
        "MADD_64A_dp_3src",
        "EXTR_64_extract",
        "FADD_D_floatdp2",
        "FMUL_S_floatdp2",
        "ADD_asimdsame_only",
    ]
    .iter()
    .map(|n| EncodingId::from_name(n).unwrap_or_else(|| panic!("no encoding {n}")))
    .collect();
    let mut state = State::default();
    let mut tests = Vec::new();
    for &id in &ids {
        let case = campaign::generate(id, &settings, features).unwrap_or_else(|e| panic!("{e}"));
        tests.push((case[0].words[0], None));
        state = case[0].state.clone();
    }
    tests.insert(2, (0xf900_0422, Some(1))); // str x2, [x1, #8]
    tests.insert(5, (0xa9bf_14c4, Some(6))); // stp x4, x5, [x6, #-16]!
    tests.insert(7, (0x0000_0000, None)); // udf #0: a SIGILL checkpoint
    tests.push((0xf940_0823, Some(1))); // ldr x3, [x1, #16]
    (build(&tests, &state), ids)
}

fn replay(records: &[Record], image: &[u8]) -> Result<risu::Replay, RisuError> {
    let t = table();
    let image = Image::new(image.to_vec()).unwrap_or_else(|e| panic!("{e}"));
    risu::replay(records, &image, &t, &implemented_features(&t))
}

/// The stored pair (re-recorded by `ARMATURE_RECORD_RISU=1 cargo test -p
/// armature-conformance --test risu`).
fn fixture() -> (PathBuf, PathBuf) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/risu"));
    (dir.join("image.bin"), dir.join("trace.bin"))
}

/// One changed trace and what its replay must say.
struct Change {
    what: &'static str,
    /// Changes the records, given the image offsets of the test instructions.
    change: fn(&mut Vec<Record>, &[u64]),
    /// Texts the report must contain: the encoding under test, the register.
    report: Vec<String>,
}

fn check(records: &[Record], img: &TestImage, c: &Change) {
    let mut changed = records.to_vec();
    let at: Vec<u64> = img.tests.iter().map(|&i| 4 * i as u64).collect();
    (c.change)(&mut changed, &at);
    let image = img.bytes();
    let r = replay(&changed, &image).unwrap_or_else(|e| panic!("{}: {e}", c.what));
    let d = r
        .divergence
        .unwrap_or_else(|| panic!("{}: the replay found no divergence", c.what));
    let text = d.to_string();
    for want in &c.report {
        assert!(
            text.contains(want.as_str()),
            "{}: {want:?} not in\n{text}",
            c.what
        );
    }
    assert!(!text.contains("panicked"), "{text}");
}

/// The first register record after the test instruction at image offset `at`.
fn after(records: &mut [Record], at: u64) -> &mut RegInfo {
    let r = records
        .iter_mut()
        .find(|r| r.pc > at && r.regs().is_some())
        .expect("a register record after each test instruction");
    match &mut r.payload {
        Payload::Regs(ri) => ri,
        _ => unreachable!("the record has registers"),
    }
}

#[test]
fn qemu_recorded_trace_replays_and_changes_are_caught() {
    let t = table();
    let f = implemented_features(&t);
    let (img, ids) = program(&f);
    let dir = scratch("record");
    let records = record(&img, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = risu::write(&records);
    let image = img.bytes();
    assert_eq!(risu::parse(&bytes).unwrap(), records);
    if std::env::var_os("ARMATURE_RECORD_RISU").is_some() {
        let (i, tr) = fixture();
        std::fs::create_dir_all(i.parent().unwrap()).unwrap();
        std::fs::write(&i, &image).unwrap();
        std::fs::write(&tr, &bytes).unwrap();
    }

    let r = replay(&records, &image).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.divergence.is_none(), "{}", r.divergence.unwrap());
    assert_eq!(r.checkpoints, records.len());
    assert!(r.complete);
    assert!(r.instructions as usize > img.tests.len());

    // The test instructions: ADDS, ADCS, str, CSEL, MADD, stp, EXTR, udf, FADD, FMUL,
    // ADD (vector), ldr; `ids` has the generated ones in their order without the others.
    let name = |i: usize| ids[i].name().to_string();
    let changes = [
        Change {
            what: "X7 after ADDS",
            change: |r, at| after(r, at[0]).x[7] ^= 1 << 40,
            report: vec![name(0), "X7: ".into(), "risu trace record".into()],
        },
        Change {
            what: "NZCV after ADCS",
            change: |r, at| after(r, at[1]).flags ^= 0x2000_0000,
            report: vec![name(1), "NZCV: ".into()],
        },
        Change {
            what: "V3 after FMUL",
            change: |r, at| after(r, at[9]).v[3] ^= 1,
            report: vec![name(6), "V3: ".into()],
        },
        Change {
            what: "FPSR after FADD",
            change: |r, at| after(r, at[8]).fpsr ^= 0x10,
            report: vec![name(5), "FPSR: ".into()],
        },
        Change {
            what: "X1 after the store",
            change: |r, at| after(r, at[2]).x[1] += 8,
            report: vec!["STR_64_ldst_pos".into(), "X1: ".into()],
        },
        Change {
            what: "a byte of the memory block after the pair store",
            change: |r, _| {
                let m = r.iter_mut().filter(|r| r.op == Op::CompareMem).nth(1);
                match &mut m.expect("a COMPAREMEM").payload {
                    Payload::Memory(b) => b[0xf8] ^= 0x80,
                    _ => unreachable!("COMPAREMEM carries memory"),
                }
            },
            report: vec!["STP_64_ldstpair_pre".into(), "memory block +0xf8".into()],
        },
        Change {
            what: "no SIGILL record",
            change: |r, _| r.retain(|r| r.op != Op::Sigill),
            report: vec![
                "armature reached SIGILL".into(),
                "the trace has COMPARE".into(),
            ],
        },
    ];
    for c in &changes {
        check(&records, &img, c);
    }

    // A trace replayed on another image is an error, not a divergence.
    let mut other = image.clone();
    let site = 4 * img.sites[3].0;
    other[site..site + 4].copy_from_slice(&enc::NOP.to_le_bytes());
    let e = replay(&records, &other).expect_err("a wrong image");
    assert!(
        e.to_string().contains("does not belong to this image"),
        "{e}"
    );
}

#[test]
fn stored_trace_replays_without_qemu() {
    let (i, t) = fixture();
    let image = std::fs::read(&i).unwrap_or_else(|e| panic!("{}: {e}", i.display()));
    let bytes = std::fs::read(&t).unwrap_or_else(|e| panic!("{}: {e}", t.display()));
    let records = risu::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let r = replay(&records, &image).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.divergence.is_none(), "{}", r.divergence.unwrap());
    assert_eq!(r.checkpoints, records.len());
    assert!(r.complete);

    // Damaged copies are clean errors.
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("cut", bytes[..bytes.len() - 100].to_vec(), "truncated"),
        ("magic", [&[0u8; 4][..], &bytes[4..]].concat(), "bad magic"),
        (
            "op",
            [&bytes[..8], &7u32.to_le_bytes()[..], &bytes[12..]].concat(),
            "unknown risu op 0x7",
        ),
    ];
    for (what, b, want) in cases {
        let e = risu::parse(&b).expect_err(what).to_string();
        assert!(e.contains(want), "{what}: {e}");
    }
}
