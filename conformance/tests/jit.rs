//! The JIT against the interpreter on the conformance generator's cases: for each implemented
//! encoding that the campaign generates, a program of its cases runs on the interpreter alone
//! (the reference, one `step` at a time) and on the JIT, which compiles every block at once
//! (`hot` 0). After every block the JIT ran, the machine must equal the reference after the
//! same number of instructions (registers, NZCV, FPCR/FPSR, V, PC); the stop that ends the
//! program (the exit's system call, or a fault) and the scratch memory must match too. One pass
//! single-steps the JIT (blocks of one instruction), one uses full blocks that each return, and
//! one lets blocks continue into each other (chained: the state is compared when the chain
//! returns).
//!
//! CI runs every `JIT_STRIDE`-th encoding (default 7, and all of them with
//! `JIT_STRIDE=1 cargo test --release -p armature-conformance --test jit`).
//!
//! The pre-decoded interpreter (`armature_core::uop`, `--engine interp`) is checked the same
//! way on every encoding (`UOP_STRIDE`, default 1): single steps, blocks, and blocks run one
//! after the other as `armature run` runs them.

use std::sync::Arc;

use armature_conformance::armature::{load, snapshot};
use armature_conformance::campaign::{generate, Settings};
use armature_conformance::gen;
use armature_conformance::program::{region_mid, Case, Program, State, DATA_BASE};
use armature_core::interp::{Accelerated, Accelerator, Interp};
use armature_core::isa::{EncodingId, FeatureSet};
use armature_core::linux::implemented_features;
use armature_core::sem::{SemTable, Stop};
use armature_core::uop::Predecoded;
use armature_jit::ir::{Op, Recorder};
use armature_jit::{Jit, BLOCK_MAX};

/// How a run ended: the stop, and the machine state and scratch memory then.
#[derive(Debug, PartialEq)]
struct End {
    stop: Stop,
    state: State,
    scratch: Vec<u8>,
}

fn end(m: &Interp, p: &Program, stop: Stop) -> End {
    let mut scratch = vec![0u8; p.scratch.1 as usize];
    m.mem
        .read(p.scratch.0, &mut scratch)
        .expect("the scratch memory stays mapped");
    End {
        stop,
        state: snapshot(m),
        scratch,
    }
}

/// The reference: the state before each instruction, by instruction count, and the end.
fn interpret(p: &Program, table: &SemTable<Interp>, features: &FeatureSet) -> (Vec<State>, End) {
    let mut m = load(p, p.entry);
    let mut states = vec![snapshot(&m)];
    // Cases run straight through, or loop a few times.
    let limit = 5 * (p.code.len() / 4) + 16;
    for _ in 0..limit {
        match m.step(table, features) {
            Ok(()) => states.push(snapshot(&m)),
            Err(stop) => return (states, end(&m, p, stop)),
        }
    }
    panic!("the program does not end within {limit} steps");
}

/// An engine's run, checked against `states` after every block; gives its end.
fn jit(
    p: &Program,
    jit: &mut dyn Accelerator,
    table: &SemTable<Interp>,
    features: &FeatureSet,
    states: &[State],
    what: &str,
) -> End {
    let mut m = load(p, p.entry);
    loop {
        let before = m.instructions;
        let stop = match jit.execute(&mut m, features) {
            Accelerated::Ran => None,
            Accelerated::Stopped(stop) => Some(stop),
            Accelerated::Interpret => m.step(table, features).err(),
        };
        if let Some(stop) = stop {
            return end(&m, p, stop);
        }
        let n = m.instructions as usize;
        assert!(
            n > before as usize,
            "{what}: no progress at {:#x}",
            m.cpu.pc
        );
        let want = states
            .get(n)
            .unwrap_or_else(|| panic!("{what}: ran past the reference ({n} instructions)"));
        let got = snapshot(&m);
        assert!(
            got == *want,
            "{what}: after {n} instructions (block ending at {:#x}): {}",
            m.cpu.pc,
            want.diff(&got).join(", ")
        );
    }
}

/// Checks that an engine's run ended as the reference's: the same stop, state and scratch
/// memory.
fn check_end(got: &End, reference: &End, what: &str) {
    assert_eq!(got.stop, reference.stop, "{what}: the stop");
    assert!(
        got.state == reference.state,
        "{what}: at the stop: {}",
        reference.state.diff(&got.state).join(", ")
    );
    assert!(got.scratch == reference.scratch, "{what}: scratch memory");
}

/// The engines' tables and the features the cases may use.
struct Engines {
    table: SemTable<Interp>,
    interp: Arc<SemTable<Interp>>,
    recorded: Arc<SemTable<Recorder>>,
    features: FeatureSet,
}

fn engines() -> Engines {
    let mut table = SemTable::<Interp>::default();
    armature_extensions::register_all(&mut table);
    let mut recorded = SemTable::<Recorder>::default();
    armature_extensions::register_all(&mut recorded);
    let features = implemented_features(&table);
    let mut interp = SemTable::<Interp>::default();
    armature_extensions::register_all(&mut interp);
    Engines {
        table,
        interp: Arc::new(interp),
        recorded: Arc::new(recorded),
        features,
    }
}

/// Runs the generated cases of `id` on the interpreter and on the JIT (single steps, blocks,
/// chains) and checks that they agree; false when the generator skips the encoding.
fn check(e: &Engines, id: EncodingId) -> bool {
    let (table, features) = (&e.table, &e.features);
    if gen::skip_reason(id, table, features).is_some() {
        return false;
    }
    let settings = Settings {
        cases: 6,
        ..Settings::default()
    };
    let cases = generate(id, &settings, features).expect("cases");
    check_cases(e, cases, id.name(), ALL_MODES);
    true
}

/// The ways the JIT runs a program: blocks of up to this many instructions, and whether they
/// chain (the last is how `armature run` runs it).
const ALL_MODES: &[(usize, bool)] = &[(1, false), (64, false), (BLOCK_MAX, true)];

/// Runs `cases` as one program on the interpreter and on the JIT in each of `modes` and
/// checks that they agree and that Cranelift took every region; gives the JIT's `--stats`
/// line of each mode.
fn check_cases(
    e: &Engines,
    mut cases: Vec<Case>,
    name: &str,
    modes: &[(usize, bool)],
) -> Vec<String> {
    let (table, features) = (&e.table, &e.features);
    gen::prepare_all(&mut cases);
    let p = Program::build(&cases);
    let (states, reference) = interpret(&p, table, features);
    let mut stats = Vec::new();
    for &(block_max, chain) in modes {
        let mut j = Jit::new(Arc::clone(&e.recorded)).expect("the host runs Cranelift");
        j.hot = 0;
        j.block_max = block_max;
        j.chain = chain;
        let what = format!("{name} (blocks of up to {block_max}, chained {chain})");
        let got = jit(&p, &mut j, table, features, &states, &what);
        check_end(&got, &reference, &what);
        // A region Cranelift rejects runs in the interpreter and would pass unseen.
        let line = j.stats();
        assert!(line.contains(", 0 failed;"), "{what}: {line}");
        stats.push(line);
    }
    stats
}

#[test]
fn jit_matches_the_interpreter_on_generated_cases() {
    let e = engines();
    let stride: usize = std::env::var("JIT_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut checked = 0;
    for id in e.table.implemented().step_by(stride.max(1)) {
        checked += usize::from(check(&e, id));
    }
    assert!(
        checked > 100 / stride.max(1),
        "only {checked} encodings checked"
    );
}

/// Runs the generated cases of `id` on the interpreter and on the pre-decoded interpreter
/// (single steps, blocks, blocks one after the other) and checks that they agree; whether
/// the encoding's words select into uops (rather than running their semantics function
/// whole), or `None` when the generator skips the encoding.
fn check_predecoded(e: &Engines, id: EncodingId) -> Option<bool> {
    let (table, features) = (&e.table, &e.features);
    if gen::skip_reason(id, table, features).is_some() {
        return None;
    }
    let settings = Settings {
        cases: 6,
        ..Settings::default()
    };
    let cases = generate(id, &settings, features).expect("cases");
    let selected = cases.iter().all(|c| {
        c.words
            .iter()
            .all(|&w| armature_core::uop::selects(&e.recorded, id, w) != Some(false))
    });
    check_predecoded_cases(e, cases, id.name(), PREDECODED_MODES);
    Some(selected)
}

/// The ways the pre-decoded interpreter runs a program in the tests: single steps, blocks,
/// and blocks one after the other.
const PREDECODED_MODES: &[(usize, bool)] = &[
    (1, false),
    (armature_core::uop::BLOCK_MAX, false),
    (armature_core::uop::BLOCK_MAX, true),
];

/// Runs `cases` as one program on the interpreter and on the pre-decoded interpreter in each
/// of `modes` and checks that they agree.
fn check_predecoded_cases(e: &Engines, mut cases: Vec<Case>, name: &str, modes: &[(usize, bool)]) {
    let (table, features) = (&e.table, &e.features);
    gen::prepare_all(&mut cases);
    let p = Program::build(&cases);
    let (states, reference) = interpret(&p, table, features);
    for &(block_max, chain) in modes {
        let mut u = Predecoded::new(Arc::clone(&e.interp), Arc::clone(&e.recorded));
        u.block_max = block_max;
        u.chain = chain;
        let what = format!("{name} (pre-decoded, blocks of up to {block_max}, chained {chain})");
        let got = jit(&p, &mut u, table, features, &states, &what);
        check_end(&got, &reference, &what);
    }
}

/// The pre-decoded interpreter's flags of a compare, left lazy (the operands of the
/// subtraction) until a condition, a flag-reading instruction or the end of the run reads
/// them, and a block's closing compare and branch, which it fuses: every condition at both
/// widths, register and immediate, on operands at the signed and unsigned edges (with junk in
/// the upper half for 32 bits), read in the compare's block, in the next block, and by the
/// fused branch, against the interpreter.
#[test]
fn predecoded_conditions_after_a_compare_match_the_interpreter() {
    let e = engines();
    let edges = &COMPARE_EDGES;
    for (form, compare) in COMPARES.into_iter().chain([
        ("subs x3, x0, x1", 0xeb01_0003),
        ("subs w3, w0, #5", 0x7100_1403),
        ("cmn x0, #5", 0xb100_141f),
        ("cmp x0, x1; ccmp x1, x0, #nzcv, cond", 0),
    ]) {
        let mut cases = Vec::new();
        for (i, &a) in edges.iter().enumerate() {
            for (j, &b) in edges.iter().enumerate() {
                for cond in 0..16 {
                    let nzcv = ((i * 7 + j * 3 + cond as usize) % 16) as u32;
                    let compare = compare_words(compare, cond, nzcv);
                    // b.cond +8; movz x16, #1; nop: the compare and branch fuse.
                    let fused = [0x5400_0040 | cond, 0xd280_0030, 0xd503_201f];
                    // cset x2, cond and adc x4, x1, x0 in the block (lazy flags read),
                    // b +4 and the same in the next block, then mrs x5, nzcv.
                    let cset = (0x9a9f_07e2 | ((cond ^ 1) << 12)) * u32::from(cond < 14);
                    let reads = [cset, 0x9a00_0024, 0x1400_0001, cset, 0xd53b_4205];
                    for words in [
                        compare.iter().chain(&fused).copied().collect::<Vec<_>>(),
                        compare.iter().chain(&reads).copied().collect(),
                    ] {
                        let words = words
                            .into_iter()
                            .map(|w| if w == 0 { 0xd503_201f } else { w });
                        let mut state = State::default();
                        state.x[0] = a;
                        state.x[1] = b;
                        cases.push(Case {
                            words: words.collect(),
                            state,
                        });
                    }
                }
            }
        }
        check_predecoded_cases(&e, cases, form, PREDECODED_MODES);
    }
}

/// The pre-decoded interpreter's selections that join the uops of one instruction: CSET
/// (CSINC of XZR and XZR) as its condition, an EOR with a rotated W register as one uop,
/// BIC, ADD with an extended register, and SBFIZ/UBFIZ as two shifts, each at the edges of its
/// fields and operands, against the
/// interpreter; with the near misses they must leave alone (CSINC with AL and NV, CSETM, CINC,
/// a 64-bit rotate, the bitfield forms that are not an insertion).
#[test]
fn predecoded_fused_instructions_match_the_interpreter() {
    let e = engines();
    let mut forms: Vec<(String, Vec<u32>)> = Vec::new();
    for cond in 0..16u32 {
        forms.push((
            format!("cmp x0, x1; cset x2, w3, csetm x4, cinc x5 (cond {cond})"),
            vec![
                0xeb01_001f,                    // cmp x0, x1
                0x9a9f_07e2 | (cond ^ 1) << 12, // cset x2, cond (csinc x2, xzr, xzr, !cond)
                0x1a9f_07e3 | (cond ^ 1) << 12, // cset w3, cond
                0xda9f_03e4 | (cond ^ 1) << 12, // csetm x4, cond
                0x9a81_0425 | (cond ^ 1) << 12, // cinc x5, x1, cond
                0x1a9f_07e6 | cond << 12,       // csinc w6, wzr, wzr, cond (AL and NV too)
            ],
        ));
    }
    for k in 1..32u32 {
        forms.push((
            format!("eor with a rotated register (#{k})"),
            vec![
                0x4ac0_00a4 | k << 10, // eor w4, w5, w0, ror #k
                0x4ac0_0000 | k << 10, // eor w0, w0, w0, ror #k
                0x4ac4_00a3 | k << 10, // eor w3, w5, w4, ror #k
                0xcac0_00a6 | k << 10, // eor x6, x5, x0, ror #k
                0x4ac0_00a7 | k << 10, // eor w7, w5, w0, ror #k
                0x4a87_00e7 | k << 10, // eor w7, w7, w7, asr #k
            ],
        ));
    }
    forms.push((
        "bic and bics".into(),
        vec![
            0x0a20_00a4, // bic w4, w5, w0
            0x8a20_00a6, // bic x6, x5, x0
            0x0a20_0000, // bic w0, w0, w0
            0x6a21_00a7, // bics w7, w5, w1
            0xea21_00a3, // bics x3, x5, x1
            0x9a9f_17e2, // cset x2, eq
        ],
    ));
    // ADD with each extension and shift; SUB and 32 bits are left alone.
    for option in 0..8u32 {
        for imm3 in 0..5u32 {
            let ext = option << 13 | imm3 << 10;
            forms.push((
                format!("add and sub with an extended register (option {option}, #{imm3})"),
                vec![
                    0x8b20_00a6 | ext, // add x6, x5, w0/x0, <ext> #imm3
                    0x8b20_00a0 | ext, // add x0, x5, w0/x0, <ext> #imm3
                    0x8b21_0021 | ext, // add x1, x1, w1/x1, <ext> #imm3
                    0x8b20_03e7 | ext, // add x7, sp, w0/x0, <ext> #imm3
                    0x0b20_00a4 | ext, // add w4, w5, w0, <ext> #imm3
                    0xcb20_00a3 | ext, // sub x3, x5, w0/x0, <ext> #imm3
                ],
            ));
        }
    }
    // SBFM and UBFM at both widths for immr/imms pairs on either side of imms < immr (the
    // insertions SBFIZ and UBFIZ), then a shift of the result.
    for (sf, immrs) in [
        (
            0u32,
            &[
                (1u32, 0u32),
                (29, 0),
                (29, 15),
                (30, 29),
                (31, 30),
                (0, 31),
                (3, 2),
                (16, 15),
            ][..],
        ),
        (
            1,
            &[
                (61, 31),
                (63, 0),
                (60, 31),
                (33, 31),
                (32, 31),
                (63, 62),
                (1, 0),
                (3, 7),
                (32, 15),
            ][..],
        ),
    ] {
        for &(immr, imms) in immrs {
            let bf = |opc: u32, d: u32| {
                sf << 31 | opc << 29 | 0x1300_0000 | sf << 22 | immr << 16 | imms << 10 | d
            };
            forms.push((
                format!("sbfm and ubfm (sf {sf}, immr {immr}, imms {imms})"),
                vec![
                    bf(0, 9 | 3 << 5),  // sbfm x9, x3, #immr, #imms
                    bf(2, 10 | 3 << 5), // ubfm x10, x3, #immr, #imms
                    bf(0, 3 | 3 << 5),  // sbfm x3, x3, #immr, #imms
                    0xd37d_f12b,        // lsl x11, x9, #3
                ],
            ));
        }
    }
    for (name, words) in forms {
        let cases = COMPARE_EDGES
            .iter()
            .zip(COMPARE_EDGES.iter().rev())
            .map(|(&a, &b)| {
                let mut state = State::default();
                state.x[0] = a;
                state.x[1] = b;
                state.x[3] = a.rotate_left(13) ^ b;
                state.x[4] = b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                state.x[5] = 0xffff_0000_5a5a_a5a5 ^ a;
                state.x[7] = b;
                Case {
                    words: words.clone(),
                    state,
                }
            })
            .collect();
        check_predecoded_cases(&e, cases, &name, PREDECODED_MODES);
    }
}

/// The pre-decoded interpreter's traces: a block goes on at the target of B and BL (up to a
/// limit, and not into itself), so its instructions are not consecutive words. Calls and
/// returns, a chain of branches longer than the limit, a loop back to the block's start, a
/// compare whose branch comes after a B, a store after a branch, and the stops that need each
/// instruction's own PC (a load and a store that fault, a branch to a target that cannot be
/// fetched, BR to `u64::MAX`), against the interpreter.
#[test]
fn predecoded_traces_through_branches_match_the_interpreter() {
    const NOP: u32 = 0xd503_201f;
    let e = engines();
    let hops: Vec<u32> = (0..12).flat_map(|_| [0x1400_0002, 0x0000_0000]).collect();
    let programs: [(&str, Vec<Vec<u32>>); 5] = [
        (
            "calls, hops, loops and compares through B and BL",
            vec![
                vec![
                    0x9400_0003, // bl +12 (the add and ret)
                    0xd280_0022, // movz x2, #1
                    0x1400_0003, // b +12 (the str)
                    0x9100_0463, // add x3, x3, #1
                    0xd65f_03c0, // ret
                    0xf900_00c3, // str x3, [x6]
                    0x8b01_0003, // add x3, x0, x1
                ],
                // Twelve hops over a UDF, more than a block goes through.
                hops.iter()
                    .copied()
                    .chain([0x8b01_0003, 0xf900_00c3])
                    .collect(),
                vec![
                    0x9100_0463, // add x3, x3, #1
                    0xf100_107f, // cmp x3, #4
                    0x5400_0040, // b.eq +8
                    0x17ff_fffd, // b -12 (the add)
                    0xd280_0022, // movz x2, #1
                ],
                vec![
                    0xeb01_001f, // cmp x0, x1
                    0x1400_0002, // b +8
                    0x0000_0000, // udf
                    0x5400_0040, // b.eq +8
                    0xd280_0022, // movz x2, #1
                    0x9a9f_17e4, // cset x4, eq
                ],
            ],
        ),
        (
            "a load that faults after B",
            vec![vec![0x1400_0002, 0x0000_0000, 0xf940_00e4]], // b +8; udf; ldr x4, [x7]
        ),
        (
            "a store that faults after BL",
            vec![vec![0x9400_0002, 0x0000_0000, 0xf900_00e4]], // bl +8; udf; str x4, [x7]
        ),
        (
            "B to a target that cannot be fetched",
            vec![vec![0xd280_0022, 0x1404_0000, NOP]], // movz x2, #1; b +1 MiB; nop
        ),
        (
            // The table in front of the block map once took this PC for its empty entry's
            // and ran the first block again, forever.
            "BR to the last address",
            vec![vec![0x9280_0001, 0xd61f_0020]], // movn x1, #0; br x1
        ),
    ];
    for (name, words) in programs {
        let cases = words
            .into_iter()
            .enumerate()
            .map(|(i, words)| {
                let mut state = State::default();
                state.x[0] = COMPARE_EDGES[i % COMPARE_EDGES.len()];
                state.x[1] = COMPARE_EDGES[(i + 2) % COMPARE_EDGES.len()];
                state.x[4] = 0x1234_5678_9abc_def0;
                state.x[6] = region_mid(i);
                // Unmapped, so that an access there faults.
                state.x[7] = 0x10;
                Case { words, state }
            })
            .collect();
        check_predecoded_cases(&e, cases, name, PREDECODED_MODES);
    }
}

/// The pre-decoded interpreter's joins of two neighbouring instructions into one uop: a
/// compare with an immediate and two conditional branches on its flags (a `switch`'s compare
/// tree), every first condition with two second ones, at both widths and on operands at the
/// edges, a second branch back to the block's start (a loop), and the immediate too large to
/// join; two register-offset loads of one size with every extension, the first writing the
/// second's base, a fault in either, and loads of two sizes that stay apart; against the
/// interpreter.
#[test]
fn predecoded_joined_instructions_match_the_interpreter() {
    let e = engines();
    let mut cases = Vec::new();
    for cond in 0..16u32 {
        for cond2 in [cond ^ 1, (cond * 5 + 3) % 16] {
            for compare in [
                0xf100_001f, // cmp x0, #0
                0xf100_141f, // cmp x0, #5
                0xf13f_fc1f, // cmp x0, #0xfff
                0x7100_141f, // cmp w0, #5
                0xf17f_fc1f, // cmp x0, #0xfff, lsl #12 (not joined)
            ] {
                for (i, &a) in COMPARE_EDGES.iter().enumerate() {
                    let mut state = State::default();
                    state.x[0] = a;
                    state.x[1] = COMPARE_EDGES[(i + 3) % COMPARE_EDGES.len()];
                    cases.push(Case {
                        words: vec![
                            compare,
                            0x5400_0060 | cond,  // b.cond +12 (the movz x3)
                            0x5400_0060 | cond2, // b.cond2 +12 (the movz x4)
                            0xd280_0022,         // movz x2, #1
                            0xd280_0023,         // movz x3, #1
                            0xd280_0024,         // movz x4, #1
                        ],
                        state,
                    });
                }
            }
        }
    }
    cases.push(Case {
        words: vec![
            0x9100_0463, // add x3, x3, #1
            0xf100_107f, // cmp x3, #4
            0x5400_0040, // b.eq +8
            0x54ff_ffa1, // b.ne -12 (the add)
            0xd280_0022, // movz x2, #1
        ],
        state: State::default(),
    });
    check_predecoded_cases(&e, cases, "compare trees", PREDECODED_MODES);

    let loads: [(&str, [u32; 2]); 6] = [
        (
            "ldr w4, [x6, x0, lsl #2]; ldr w3, [x6, w1, sxtw #2]",
            [0xb860_78c4, 0xb861_d8c3],
        ),
        (
            "ldr x4, [x6, x0]; ldr x5, [x6, w1, uxtw #3]",
            [0xf860_68c4, 0xf861_58c5],
        ),
        (
            "ldr x6, [x6, x0, lsl #3]; ldr x5, [x6, x1]",
            [0xf860_78c6, 0xf861_68c5],
        ),
        (
            "ldr w4, [x7, x0]; ldr w5, [x6, x1]",
            [0xb860_68e4, 0xb861_68c5],
        ),
        (
            "ldr w4, [x6, x0, lsl #2]; ldr w5, [x7, x1]",
            [0xb860_78c4, 0xb861_68e5],
        ),
        (
            "ldr x4, [x6, x0]; ldr w5, [x6, x1, lsl #2]",
            [0xf860_68c4, 0xb861_78c5],
        ),
    ];
    let indices: [(u64, u64); 4] = [
        (0, 8),
        (16, (-4i64) as u64),
        ((-8i64) as u64, 0xffff_ffff_0000_0004),
        (24, 4),
    ];
    // Each its own program, since a fault ends one.
    for (name, words) in loads {
        for (i, &(x0, x1)) in indices.iter().enumerate() {
            let mut state = State::default();
            state.x[0] = x0;
            state.x[1] = x1;
            state.x[6] = region_mid(i);
            // Unmapped, so that an access there faults.
            state.x[7] = 0x10;
            let case = Case {
                words: vec![words[0], words[1], 0x8b05_0088], // add x8, x4, x5
                state,
            };
            let name = format!("{name} (x0 {x0:#x}, x1 {x1:#x})");
            check_predecoded_cases(&e, vec![case], &name, PREDECODED_MODES);
        }
    }
}

#[test]
fn predecoded_matches_the_interpreter_on_generated_cases() {
    let e = engines();
    let stride: usize = std::env::var("UOP_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (mut checked, mut selected) = (0, 0);
    for id in e.table.implemented().step_by(stride.max(1)) {
        if let Some(ok) = check_predecoded(&e, id) {
            checked += 1;
            selected += usize::from(ok);
            if !ok {
                eprintln!("{}: runs its semantics function whole", id.name());
            }
        }
    }
    assert!(
        checked > 500 / stride.max(1),
        "only {checked} encodings checked"
    );
    // Most encodings select into uops rather than running their semantics function whole
    // (a selection that stopped taking some operation would still pass the comparison): all
    // but exclusives, atomics, compare-and-swap, barriers (and the release stores, which
    // record one) and the AdvSIMD forms with more operations than the frame has temporaries
    // (TBL, TBX, LD3/LD4 with writeback, ...): 1322 of 1537 on 2026-12-06.
    eprintln!("{selected} of {checked} encodings select into uops");
    assert!(
        selected * 100 > checked * 85,
        "only {selected} of {checked} encodings select into uops"
    );
}

/// Whether the semantics of `id`, recorded on `word` (a word of the encoding), record an
/// operation that `wanted` picks.
fn records(e: &Engines, id: EncodingId, word: u32, wanted: impl Fn(&Op) -> bool) -> bool {
    let Some(f) = e.recorded.get(id) else {
        return false;
    };
    let mut rec = Recorder::default();
    rec.begin(0x1000, word);
    // Semantics that stop on these bits (UNDEFINED guards) record nothing to look at.
    if f(&mut rec, word).is_err() {
        return false;
    }
    rec.ops.iter().any(wanted)
}

/// Whether the semantics of `id`, recorded on its encoding's fixed bits, use a flag
/// primitive (`Sem::add_with_carry`, `logical_flags`, `condition_holds`), which the JIT
/// defines in its own way.
fn uses_flag_primitives(e: &Engines, id: EncodingId) -> bool {
    records(e, id, id.info().value, |op| {
        matches!(
            op,
            Op::AddWithCarry(..) | Op::LogicalFlags(..) | Op::Cond(..)
        )
    })
}

#[test]
fn jit_flags_match_the_interpreter_on_every_flag_encoding() {
    let e = engines();
    let ids: Vec<EncodingId> = e
        .table
        .implemented()
        .filter(|&id| uses_flag_primitives(&e, id))
        .collect();
    // ADDS/SUBS/ADCS/SBCS in their forms, ANDS/BICS, CCMP/CCMN, CSEL & co, B.cond, FCSEL,
    // FCCMP: 65 encodings when this was written.
    assert!(ids.len() > 30, "only {} flag encodings", ids.len());
    let checked = ids.into_iter().filter(|&id| check(&e, id)).count();
    assert!(checked > 30, "only {checked} flag encodings checked");
}

/// Every encoding whose semantics use `Sem::lanes` (CMEQ, ADDP, UMAXP, ... which the JIT
/// does in host vector instructions): its generated cases on both engines. The element size
/// is a field of most of them, so each is recorded with every value of `size` (bits 23..22)
/// to find those that use it with some size.
#[test]
fn jit_lane_operations_match_the_interpreter() {
    let e = engines();
    let ids: Vec<EncodingId> = e
        .table
        .implemented()
        .filter(|&id| {
            let fixed = id.info().value;
            (0..4).any(|size| records(&e, id, fixed | size << 22, |op| matches!(op, Op::Lanes(..))))
        })
        .collect();
    // ADD, SUB, CMEQ, CMTST, CMHS, CMHI, CMGE, CMGT, UMAX, UMIN (vector), ADDP, UMAXP,
    // UMINP, the compares with zero and friends: 14 when this was written.
    assert!(ids.len() > 10, "only {} lane encodings", ids.len());
    let checked = ids.into_iter().filter(|&id| check(&e, id)).count();
    assert!(checked > 10, "only {checked} lane encodings checked");
}

/// Operands of the compare tests: the signed and unsigned edges, with junk in the upper half
/// for 32 bits.
const COMPARE_EDGES: [u64; 7] = [
    0,
    5,
    u64::MAX,
    0x8000_0000,
    0xdead_beef_0000_0005,
    i64::MIN as u64,
    0x7fff_ffff,
];

/// CMP at both widths, with a register and with an immediate.
const COMPARES: [(&str, u32); 4] = [
    ("cmp x0, x1", 0xeb01_001f),
    ("cmp w0, w1", 0x6b01_001f),
    ("cmp x0, #5", 0xf100_141f),
    ("cmp w0, #5", 0x7100_141f),
];

/// A compare and the conditions read after it in the same block, which the JIT evaluates as
/// comparisons of the operands (qemu's `CC_OP_SUB`): every condition but AL and NV (CSET into
/// X2..X15, and a B.cond) at both widths, on operands at the signed and unsigned edges (with
/// junk in the upper half for 32 bits), against the interpreter.
#[test]
fn jit_conditions_after_a_compare_match_the_interpreter() {
    let e = engines();
    // Few, as every case's set-up code is compiled too.
    let edges = &COMPARE_EDGES[..6];
    for (form, compare) in COMPARES.into_iter().chain([
        // Flags chosen between a compare's and an immediate's, on the flags of a compare.
        ("cmp x0, x1; ccmp x1, x0, #nzcv, cond", 0),
        ("cmp w0, w1; ccmp w1, #3, #nzcv, cond", 1),
    ]) {
        let mut cases = Vec::new();
        for (i, &a) in edges.iter().enumerate() {
            for (j, &b) in edges.iter().enumerate() {
                let cond = ((i * edges.len() + j) % 14) as u32;
                let nzcv = ((i * 7 + j * 3) % 16) as u32;
                let mut words = compare_words(compare, cond, nzcv);
                // cset x(2 + c), c for every condition c.
                words.extend((0..14).map(|c| (0x9a9f_07e2 + c) | ((c ^ 1) << 12)));
                // b.cond +8; movz x16, #1; nop.
                words.extend([0x5400_0040 | cond, 0xd280_0030, 0xd503_201f]);
                let mut state = State::default();
                state.x[0] = a;
                state.x[1] = b;
                cases.push(Case { words, state });
            }
        }
        // Single steps would put the compare and the conditions in different blocks.
        check_cases(&e, cases, form, &ALL_MODES[1..]);
    }
}

/// The compares of the flag tests that run in loops: each alone, and each as the flags a
/// CCMP chooses from (the JIT holds those as a compare's or as an immediate's, chosen at
/// run time).
const FLAG_COMPARES: [(&str, u32); 4] = [
    ("cmp x0, x1", 0xeb01_001f),
    ("cmp w0, w1", 0x6b01_001f),
    ("cmp x0, x1; ccmp x1, x0, #nzcv, cond", 0),
    ("cmp w0, w1; ccmp w1, #3, #nzcv, cond", 1),
];

/// The words of a compare for the flag tests: `cmp x0, x1; ccmp x1, x0, #nzcv, cond` (0),
/// `cmp w0, w1; ccmp w1, #3, #nzcv, cond` (1), or the one instruction `form`.
fn compare_words(form: u32, cond: u32, nzcv: u32) -> Vec<u32> {
    match form {
        0 => vec![0xeb01_001f, 0xfa40_0020 | cond << 12 | nzcv],
        1 => vec![0x6b01_001f, 0x7a43_0820 | cond << 12 | nzcv],
        _ => vec![form],
    }
}

/// `cbnz x16` to `back` instructions before it.
fn cbnz_x16_back(back: u32) -> u32 {
    0xb500_0010 | (back.wrapping_neg() & 0x7ffff) << 5
}

/// A case of a loop that runs four times (X16 counts the passes down; X17 is added to X0 in
/// each), entered with NZCV `nzcv << 28` and X0 and X1 at the edges `nzcv` picks.
fn loop_case(words: Vec<u32>, nzcv: u64) -> Case {
    const EDGES: [u64; 4] = [0, u64::MAX, 0x8000_0000, i64::MIN as u64];
    let mut state = State {
        nzcv: nzcv << 28,
        ..State::default()
    };
    state.x[0] = EDGES[nzcv as usize % EDGES.len()];
    state.x[1] = EDGES[(nzcv as usize / EDGES.len()) % EDGES.len()];
    // Four passes (`gen::prepare` zeroes a branch register that is a multiple of 3).
    state.x[16] = 4;
    state.x[17] = 0x7fff_ffff_8000_0001;
    Case { words, state }
}

/// Conditions read at the head of a loop whose flags come from the CPU state on the first
/// pass and from a compare at the end of the body on the next ones: the JIT holds the flags
/// in two ways that meet there (a subtraction's operands, or N, Z, C and V themselves), so it
/// picks at run time, for the conditions, for MRS of NZCV and for the NZCV a conditional exit
/// writes back. Every initial NZCV, compares at both widths on operands at the edges (alone
/// and under a CCMP), against the interpreter.
#[test]
fn jit_conditions_where_flag_kinds_meet_match_the_interpreter() {
    let e = engines();
    for (form, compare) in FLAG_COMPARES {
        for nzcv in 0..16u64 {
            // cset x(2 + c), c for every condition c, at the loop head.
            let mut words: Vec<u32> = (0..14)
                .map(|c| (0x9a9f_07e2 + c) | ((c ^ 1) << 12))
                .collect();
            let cond = (nzcv % 14) as u32;
            let compare = compare_words(compare, 13 - cond, 15 - nzcv as u32);
            let len = compare.len() as u32;
            words.extend([
                0xd53b_4212, // mrs x18, nzcv
                // b.cond out of the loop (to the nop), with the flags written back
                0x5400_0000 | (len + 4) << 5 | cond,
                0xd100_0610, // sub x16, x16, #1
            ]);
            words.extend(compare);
            words.extend([
                0x8b11_0000,             // add x0, x0, x17
                cbnz_x16_back(len + 18), // the head
                0xd503_201f,             // nop, where b.cond goes
            ]);
            // One case a program: its set-up code and loop fit in the first region, which
            // then holds the loop.
            check_cases(&e, vec![loop_case(words, nzcv)], form, ALL_MODES);
        }
    }
}

/// Flags that a compare sets in one block and the next block reads, in a loop through a
/// computed branch: chained, the first block leaves them as the compare's operands in the
/// chain's context and the second computes every condition and MRS of NZCV from them; on
/// the first pass, and without chaining, they come through the CPU state. Both blocks are
/// once without inner jumps, once with a conditional branch inside each (then a block stores
/// the flags as they are set). Every initial NZCV, compares at both widths on operands at the
/// edges (alone and under a CCMP), against the interpreter.
#[test]
fn jit_flags_left_between_blocks_match_the_interpreter() {
    let e = engines();
    for (form, compare) in FLAG_COMPARES {
        for inner_jump in [false, true] {
            for nzcv in 0..16u64 {
                let cond = (nzcv % 14) as u32;
                let mut words = compare_words(compare, 13 - cond, 15 - nzcv as u32);
                let len = words.len() as u32;
                if inner_jump {
                    // b.cond over a nop.
                    words.extend([0x5400_0040 | cond, 0xd503_201f]);
                }
                words.extend([
                    0x1000_0053, // adr x19, the cset below
                    0xd61f_0260, // br x19
                ]);
                // cset x(2 + c), c for every condition c.
                words.extend((0..14).map(|c| (0x9a9f_07e2 + c) | ((c ^ 1) << 12)));
                words.push(0xd53b_4212); // mrs x18, nzcv
                if inner_jump {
                    words.push(0x5400_0080 | cond); // b.cond to the nop
                }
                words.extend([
                    0xd100_0610, // sub x16, x16, #1
                    0x8b11_0000, // add x0, x0, x17
                    // cbnz x16, the compare
                    cbnz_x16_back(len + if inner_jump { 22 } else { 19 }),
                    0xd503_201f, // nop
                ]);
                // Four passes: the chain goes through both blocks once they are compiled.
                check_cases(&e, vec![loop_case(words, nzcv)], form, ALL_MODES);
            }
        }
    }
}

/// A compare whose flags a conditional branch out of a loop reads, followed by a second
/// compare: in a loop the JIT stores flags as they are set, and drops a store that a later one
/// overwrites with nothing between them that could see it; the branch between these two can
/// leave with the first compare's flags. Every initial NZCV, compares at both widths on
/// operands at the edges (alone and under a CCMP), against the interpreter.
#[test]
fn jit_flags_of_a_compare_before_an_exit_match_the_interpreter() {
    let e = engines();
    for (form, compare) in FLAG_COMPARES {
        for nzcv in 0..16u64 {
            let cond = (nzcv % 14) as u32;
            let mut words = compare_words(compare, 13 - cond, 15 - nzcv as u32);
            let len = words.len() as u32;
            words.extend([
                0x5400_0000 | 5 << 5 | cond, // b.cond out of the loop (to the nop)
                0xeb00_003f,                 // cmp x1, x0
                0xd100_0610,                 // sub x16, x16, #1
                0x8b11_0000,                 // add x0, x0, x17
                cbnz_x16_back(len + 4),      // the compare
                0xd503_201f,                 // nop
            ]);
            check_cases(&e, vec![loop_case(words, nzcv)], form, ALL_MODES);
        }
    }
}

/// Calls that the JIT follows into the callee (BL, and BLR to the address its register held
/// when the region was recorded), inside loops: the callee's RET goes on in the region when
/// it returns where the call was, else it leaves as a computed branch does. Here a BLR's
/// register alternates between two functions, a callee sometimes returns elsewhere (it sets
/// X30), calls nest three deep (the third is not followed) and a callee too long to follow
/// is a region of its own; against the interpreter, and the JIT must have followed calls.
/// BLR XZR, whose target register is none, as well.
#[test]
fn jit_calls_followed_into_the_callee_match_the_interpreter() {
    let e = engines();
    let alternating = vec![
        0x1000_0193, // adr x19, f
        0x1000_01f5, // adr x21, f2
        0xca15_0274, // eor x20, x19, x21
        0xd63f_0260, // blr x19 (f is compiled as a region of its own)
        0xd280_00d0, // movz x16, #6
        0xd63f_0260, // loop: blr x19 (f then, followed)
        0x9100_0400, // add x0, x0, #1
        0x3608_0050, // tbz w16, #1, same
        0xca14_0273, // eor x19, x19, x20 (f <-> f2)
        0xd100_0610, // same: sub x16, x16, #1
        0xb5ff_ff70, // cbnz x16, loop
        0x1400_0009, // b end
        0x8b00_0021, // f: add x1, x1, x0
        0x3600_0050, // tbz w16, #0, back
        0x1000_009e, // adr x30, g
        0xd65f_03c0, // back: ret
        0x9100_1c63, // f2: add x3, x3, #7
        0xd65f_03c0, // ret
        0x9100_0442, // g: add x2, x2, #1
        0x17ff_fff6, // b same
        0xd503_201f, // end: nop
    ];
    let mut nested = vec![
        0xd280_0090, // movz x16, #4
        0x9400_0005, // loop: bl f
        0x9400_0010, // bl long
        0xd100_0610, // sub x16, x16, #1
        0xb5ff_ffb0, // cbnz x16, loop
        0x1400_0036, // b end
        0xa9bf_7bfd, // f: stp x29, x30, [sp, #-16]!
        0x9400_0004, // bl h
        0xa8c1_7bfd, // ldp x29, x30, [sp], #16
        0x9100_0400, // add x0, x0, #1
        0xd65f_03c0, // ret
        0xa9bf_7bfd, // h: stp x29, x30, [sp, #-16]!
        0x9400_0004, // bl k
        0xa8c1_7bfd, // ldp x29, x30, [sp], #16
        0x8b00_0021, // add x1, x1, x0
        0xd65f_03c0, // ret
        0x9100_0c42, // k: add x2, x2, #3
        0xd65f_03c0, // ret
    ];
    // long: 40 times add x3, x3, #1, then ret; end: nop.
    nested.extend([0x9100_0463; 40]);
    nested.extend([0xd65f_03c0, 0xd503_201f]);
    // BLR XZR goes to 0, where the program faults; nothing to follow.
    let to_zero = vec![0xd63f_03e0];
    for (what, words, follows) in [
        ("alternating callees", alternating, true),
        ("nested calls", nested, true),
        ("blr xzr", to_zero, false),
    ] {
        let state = State {
            x: std::array::from_fn(|i| i as u64 * 0x0101_0101),
            ..State::default()
        };
        let stats = check_cases(&e, vec![Case { words, state }], what, ALL_MODES);
        // The chained pass follows calls (the others return after every block).
        let chained = stats.last().expect("a chained pass");
        assert!(
            !follows || !chained.contains(" 0 calls followed"),
            "{what}: no call followed: {chained}"
        );
    }
}

/// 32-bit rotates by every amount, which the JIT does as one host rotate where the semantics
/// shift a zero-extended value both ways and OR: ROR (EXTR with `Rn == Rm`) and logical
/// operations on an operand rotated by ROR, beside EXTR of two registers, which is no rotate,
/// on operands with junk in their upper halves, against the interpreter.
#[test]
fn jit_rotates_match_the_interpreter() {
    let e = engines();
    let cases = (1..32u32)
        .map(|k| {
            let words = vec![
                0x1380_0002 | k << 10, // ror w2, w0, #k
                0x1381_0003 | k << 10, // extr w3, w0, w1, #k
                0x4ac0_00a4 | k << 10, // eor w4, w5, w0, ror #k
                0x2ac1_03e7 | k << 10, // orr w7, wzr, w1, ror #k
                0x0ae1_00a8 | k << 10, // bic w8, w5, w1, ror #k
            ];
            let mut state = State::default();
            state.x[0] = 0xdead_beef_1234_5678_u64.rotate_left(k);
            state.x[1] = 0x0123_4567_89ab_cdef_u64.rotate_right(k);
            state.x[5] = 0xffff_0000_5a5a_a5a5;
            Case { words, state }
        })
        .collect();
    check_cases(&e, cases, "32-bit rotates", ALL_MODES);
}

/// Misaligned loads and stores of every size (1..16 bytes, single and pair), inside a page and
/// across a page boundary, which the JIT does inline when the access stays in one page and
/// leaves to the runtime when it crosses: the values read and the scratch memory written
/// against the interpreter.
#[test]
fn jit_misaligned_accesses_match_the_interpreter() {
    let e = engines();
    let words = vec![
        0x8b25_63e6, // add x6, sp, x5
        0xf940_00c2, // ldr x2, [x6]
        0xb840_10c3, // ldur w3, [x6, #1]
        0x7840_30c4, // ldurh w4, [x6, #3]
        0xb880_20ce, // ldursw x14, [x6, #2]
        0xa940_20c7, // ldp x7, x8, [x6]
        0x2940_c0cf, // ldp w15, w16, [x6, #4]
        0xf900_00c9, // str x9, [x6]
        0xb800_60c9, // stur w9, [x6, #6]
        0x7800_30c9, // sturh w9, [x6, #3]
        0xa900_acca, // stp x10, x11, [x6, #8]
        0x2901_acca, // stp w10, w11, [x6, #12]
        0xf940_00cc, // ldr x12, [x6]
        0xf840_70cd, // ldur x13, [x6, #7]
        0xf940_04d1, // ldr x17, [x6, #8]
        0x3dc0_00c0, // ldr q0, [x6]
        0x3d80_04c1, // str q1, [x6, #16]
        0xf940_08d2, // ldr x18, [x6, #16]
    ];
    // SP is 128 bytes below the middle of the case's scratch region, which is 0x800 bytes
    // below a page boundary (`gen::prepare`): X6 = SP + X5 lands this far from the boundary.
    let from_boundary: [i64; 14] = [
        -2000, -1001, -33, -31, -24, -17, -15, -13, -9, -7, -3, -1, 1, 3,
    ];
    let cases = from_boundary
        .iter()
        .map(|&d| {
            let mut state = State::default();
            state.x[5] = (0x880 + d) as u64;
            state.x[9] = 0x0102_0304_0506_0708;
            state.x[10] = 0x1112_1314_1516_1718;
            state.x[11] = 0x2122_2324_2526_2728;
            state.v[1] = 0x3132_3334_3536_3738_393a_3b3c_3d3e_3f40;
            Case {
                words: words.clone(),
                state,
            }
        })
        .collect();
    check_cases(&e, cases, "misaligned accesses", ALL_MODES);
    // An access that starts on the data segment's last page and runs past its end faults (in
    // the JIT only once the runtime found the second page unmapped), as a load and as a store.
    for (access, name) in [(0xf940_00c2, "ldr x2, [x6]"), (0xf900_00c9, "str x9, [x6]")] {
        let mut case = Case {
            words: vec![words[0], access],
            state: State::default(),
        };
        let probe = Program::build(std::slice::from_ref(&case));
        let end = (DATA_BASE + probe.data.len() as u64).next_multiple_of(4096);
        // X6 = SP + X5 = the segment's end - 4 (SP as above).
        case.state.x[5] = end - 4 - (region_mid(0) - 128);
        check_cases(&e, vec![case], name, ALL_MODES);
    }
}

/// Loads that run off the end of the data segment, which the JIT does without testing the
/// permission table where its resume point holds: the host faults, the chain is abandoned,
/// and the interpreter resumes from the resume point into the guest fault. A loop of loads
/// with a condition at its head (the flags of the resume point come from the copy the region
/// made at its entry, as the loop stores them as it sets them), the same loop with a store in
/// it (its loads then test the table), and a straight run with a store, a register write and
/// then the load (a resume point made just before it); both loops again with a register that
/// the region does not load at its entry, as every way writes it before reading it; each
/// faulting on the first pass or a later one, against the interpreter.
#[test]
fn jit_loads_that_fault_in_the_host_match_the_interpreter() {
    let e = engines();
    let add_x6 = 0x8b25_63e6; // add x6, sp, x5
    let head = 0x9a84_1063; // csel x3, x3, x4, ne
    let load = 0xf840_84c2; // ldr x2, [x6], #8
    let body = [
        0x8b02_0084, // add x4, x4, x2
        0xf100_0610, // subs x16, x16, #1
    ];
    let store = 0xf900_03e4; // str x4, [sp]
                             // Each with whether its load must take the host's way (the loop of loads, whose region's
                             // entry is its resume point everywhere).
    let write_x9 = 0x9100_0489; // add x9, x4, #1
    let read_x9 = 0x8b02_0129; // add x9, x9, x2
    let programs: [(&str, bool, Vec<u32>); 5] = [
        (
            "a loop of loads",
            true,
            [vec![add_x6, head, load], body.to_vec(), vec![0x54ff_ff81]].concat(),
        ),
        (
            "a loop of loads and a store",
            false,
            [
                vec![add_x6, head, store, load],
                body.to_vec(),
                vec![0x54ff_ff61],
            ]
            .concat(),
        ),
        // X9 is written before the loop and first thing in it, so the region does not load it
        // at its entry, and a stop stores it from its own exit.
        (
            "a loop of loads that writes a register before it reads it",
            true,
            [
                vec![add_x6, write_x9, head, read_x9, load],
                body.to_vec(),
                vec![0x54ff_ff61],
            ]
            .concat(),
        ),
        (
            "that loop with a store",
            false,
            [
                vec![add_x6, write_x9, head, read_x9, 0xf900_03e9, load], // str x9, [sp]
                body.to_vec(),
                vec![0x54ff_ff41],
            ]
            .concat(),
        ),
        (
            "a store, then a load",
            false,
            vec![
                add_x6,
                0xeb01_009f, // cmp x4, x1
                store,
                0x9100_0421, // add x1, x1, #1
                0xf940_00c2, // ldr x2, [x6]
            ],
        ),
    ];
    for (name, host_fault, words) in programs {
        for passes in [0u64, 1, 5] {
            let mut case = Case {
                words: words.clone(),
                state: State::default(),
            };
            let probe = Program::build(std::slice::from_ref(&case));
            let end = (DATA_BASE + probe.data.len() as u64).next_multiple_of(4096);
            // X6 = SP + X5 = `passes` loads before the segment's end (SP as above).
            case.state.x[5] = end - 8 * passes - (region_mid(0) - 128);
            case.state.x[1] = 7;
            case.state.x[4] = 0x1234;
            case.state.x[16] = 1000;
            case.state.nzcv = 0x4000_0000;
            let stats = check_cases(&e, vec![case], name, ALL_MODES);
            // Where the host takes the faults, the loop of loads took one there.
            if cfg!(all(target_arch = "x86_64", target_os = "linux")) && host_fault {
                assert!(
                    stats
                        .iter()
                        .any(|s| !s.ends_with("; 0 loads left to the interpreter")),
                    "{name}: {stats:?}"
                );
            }
        }
    }
}

/// A join that branches on (B) before it sets the flags again, as a loop that enters its
/// body through a B does (busybox's sha256 rounds): its ways store no flags, and the flags of
/// the compare before the last exit are the last compare's. Against the interpreter.
#[test]
fn jit_flags_set_after_a_branch_from_a_join_match_the_interpreter() {
    let e = engines();
    let words = vec![
        0xf100_0a1f, // loop: cmp x16, #2
        0x1400_0002, // join: b over
        0xd503_201f, // nop
        0xd100_0610, // over: sub x16, x16, #1
        0xf100_0e1f, // cmp x16, #3
        0xb400_0090, // cbz x16, end
        0x3607_ff70, // tbz w16, #0, join
        0x17ff_fff9, // b loop
        0xd503_201f, // nop
        0xd503_201f, // end: nop
    ];
    for passes in [3, 4, 8, 9] {
        let mut state = State::default();
        state.x[16] = passes;
        let case = Case {
            words: words.clone(),
            state,
        };
        check_cases(&e, vec![case], "b from a join before a compare", ALL_MODES);
    }
}

/// A tagged address (top-byte-ignore) in a loop whose loads leave their faults to the host:
/// such a load leaves the chain for the resume point at the region's entry, as a host fault
/// does, and the interpreter does it. The loop's head is a load, and its flags are set again
/// before anything else sees them, so its way back stores none; a CSEL before the loop reads
/// the flags the region was entered with, which the interpreter must find again when it
/// resumes there. The tag comes on the second pass (EOR of bit 60 each pass), as a single
/// load and as the pair of an LDP. Against the interpreter, and with the chain left that way.
#[test]
fn jit_tagged_loads_in_a_loop_without_stored_flags_match_the_interpreter() {
    let e = engines();
    let before = [
        0x8b25_63e6, // add x6, sp, x5
        0x9a84_1063, // csel x3, x3, x4, ne
    ];
    let after = [
        0x8b02_0084, // add x4, x4, x2
        0xca08_00c6, // eor x6, x6, x8
        0xf100_0610, // subs x16, x16, #1
    ];
    for (name, load) in [
        ("ldr x2, [x6]", 0xf940_00c2),
        ("ldp x2, x11, [x6]", 0xa940_2cc2),
    ] {
        let words = [
            before.to_vec(),
            vec![load],
            after.to_vec(),
            vec![0x54ff_ff81], // b.ne loop
        ]
        .concat();
        for passes in [1u64, 2, 6] {
            let mut state = State::default();
            state.x[3] = 3;
            state.x[4] = 4;
            state.x[8] = 1 << 60;
            state.x[16] = passes;
            state.nzcv = 0x4000_0000;
            let case = Case {
                words: words.clone(),
                state,
            };
            let what = format!("a loop of {name} through a tagged address");
            let stats = check_cases(&e, vec![case], &what, ALL_MODES);
            if cfg!(all(target_arch = "x86_64", target_os = "linux")) && passes > 1 {
                assert!(
                    stats
                        .iter()
                        .any(|s| !s.ends_with("; 0 loads left to the interpreter")),
                    "{what}: {stats:?}"
                );
            }
        }
    }
}

/// Flags set and not stored yet where an instruction that calls the runtime stops: in a loop
/// (a region with inner jumps, which stores flags only where something can see them), a
/// compare, then an LDAR whose address is misaligned on one pass. The alignment fault leaves
/// through the region's stop exit, which must store the compare's flags, not those of the
/// SUBS of the pass before or the entry's. Faults on the first pass and on the second, each
/// entry NZCV, against the interpreter.
#[test]
fn jit_flags_set_before_a_stop_match_the_interpreter() {
    let e = engines();
    let words = vec![
        0x9100_03e9, // mov x9, sp
        0xeb01_009f, // loop: cmp x4, x1
        0x8b10_0926, // add x6, x9, x16, lsl #2
        0xc8df_fcc2, // ldar x2, [x6] (misaligned when X16 is odd)
        0x8b02_0021, // add x1, x1, x2
        0xf100_0610, // subs x16, x16, #1
        0x54ff_ff61, // b.ne loop
    ];
    for passes in [0u64, 1] {
        for nzcv in 0..16u64 {
            let mut state = State {
                nzcv: nzcv << 28,
                ..State::default()
            };
            // X16 is odd on pass `passes`.
            state.x[16] = passes + 1;
            state.x[4] = if nzcv & 1 == 0 { 5 } else { u64::MAX };
            state.x[1] = nzcv;
            let case = Case {
                words: words.clone(),
                state,
            };
            check_cases(&e, vec![case], "cmp; ldar", ALL_MODES);
        }
    }
}

/// Flags set just before a join, reached on one way by going on from the compare and on the
/// other by a branch past it: the way that goes on must store them, as the join starts with
/// none pending, and an exit after it stores none of its own. The loop compares X16 with 2,
/// then (from the join) counts X16 down; on even counts it goes back to the join, past the
/// compare, and it leaves after the compare of its last pass, whose flags (1 < 2) differ from
/// those of every compare before it. Against the interpreter.
#[test]
fn jit_flags_set_before_a_join_match_the_interpreter() {
    let e = engines();
    let words = vec![
        0xf100_0a1f, // loop: cmp x16, #2
        0xd100_0610, // join: sub x16, x16, #1
        0xb400_0070, // cbz x16, end
        0x3607_ffd0, // tbz w16, #0, join
        0x17ff_fffc, // b loop
        0xd503_201f, // end: nop
    ];
    for passes in [4, 8] {
        let mut state = State::default();
        state.x[16] = passes;
        let case = Case {
            words: words.clone(),
            state,
        };
        check_cases(&e, vec![case], "cmp x16, #2 before a join", ALL_MODES);
    }
}
