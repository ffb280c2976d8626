//! End-to-end tests of the `armature` command line. Tests that need a reference tool
//! (llvm-objdump-19 for the ELF listing, qemu-aarch64 for the live `conform` campaign) fail
//! without it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use armature_conformance::risu::{self, Payload};
use armature_core::isa::EncodingId;

/// Runs armature with `args` and `stdin`; returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_armature"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("armature runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("armature finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Expects a clean failure: exit code 2, nothing on stdout but what came before, and an error
/// message containing `message`.
fn check_error(args: &[&str], stdin: &str, message: &str) {
    let (code, _, err) = run(args, stdin);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(err.starts_with("armature: error: "), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected {message:?} in {err:?}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn disas_words_format() {
    let (code, out, err) = run(
        &["disas", "--words", "-"],
        "91000484 0xD65F03C0\n\n  ffffffff 0x8b010020 0",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0], "91000484\tadd\tx4, x4, #1");
    assert_eq!(lines[2], "ffffffff\t<undefined>");
    assert!(lines[1].starts_with("d65f03c0\tret"), "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l.len() > 9 && l.as_bytes()[8] == b'\t'),
        "{out}"
    );
    // The file argument and standard input agree.
    let dir = std::env::temp_dir().join(format!("armature-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("words.txt");
    std::fs::write(&file, "91000484 0xD65F03C0\n\n  ffffffff 0x8b010020 0").expect("write");
    let (code, from_file, _) = run(
        &["disas", "--words", file.to_str().expect("utf-8 path")],
        "",
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!((code, from_file), (0, out));
}

#[test]
fn bad_input_is_a_clear_error() {
    check_error(
        &["disas", "--words"],
        "91000484 xyz",
        "standard input:1: \"xyz\" is not a 32-bit hex word",
    );
    check_error(
        &["disas", "--words"],
        "123456789",
        "is not a 32-bit hex word",
    );
    check_error(
        &["disas", "--words", "/nonexistent/words"],
        "",
        "cannot open /nonexistent/words",
    );
    check_error(&["disas"], "", "disas needs an ELF file");
    check_error(
        &["disas", "Cargo.toml"],
        "",
        "Cargo.toml is not an ELF file",
    );
    check_error(
        &["disas", "/nonexistent/prog"],
        "",
        "cannot read /nonexistent/prog",
    );
    check_error(&["decode", "0xfffffffff"], "", "is not a 32-bit hex word");
    check_error(
        &["decode", "0", "--without", "FEAT_NOPE"],
        "",
        "unknown feature \"FEAT_NOPE\"",
    );
}

#[test]
fn malformed_elf_files_are_rejected() {
    let dir = std::env::temp_dir().join(format!("armature-elf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let elf =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.elf")).expect("example");
    let truncated = dir.join("truncated");
    std::fs::write(&truncated, &elf[..100]).expect("write");
    let mut x86 = elf.clone();
    x86[18..20].copy_from_slice(&62u16.to_le_bytes()); // e_machine = EM_X86_64
    let wrong_machine = dir.join("x86");
    std::fs::write(&wrong_machine, &x86).expect("write");
    let mut bad_sections = elf.clone();
    bad_sections[40..48].copy_from_slice(&u64::MAX.to_le_bytes()); // e_shoff far past the end
    let bad_shoff = dir.join("shoff");
    std::fs::write(&bad_shoff, &bad_sections).expect("write");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    check_error(&["disas", &path(&truncated)], "", "is not an ELF file");
    check_error(&["disas", &path(&wrong_machine)], "", "not aarch64");
    check_error(&["disas", &path(&bad_shoff)], "", "is not an ELF file");
    std::fs::remove_dir_all(&dir).ok();
}

/// The ELF listing matches `llvm-objdump-19 -d --no-print-imm-hex` line for line, comments aside.
#[test]
fn disas_elf_matches_llvm_objdump() {
    let (code, ours, err) = run(&["disas", "examples/hello.elf"], "");
    assert_eq!(code, 0, "{err}");
    let theirs = Command::new("llvm-objdump-19")
        .args([
            "-d",
            "--no-print-imm-hex",
            "--mattr=+all",
            "examples/hello.elf",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("llvm-objdump-19 is missing: install llvm-19 (scripts/test.sh does)");
    assert!(theirs.status.success());
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split("//").next().unwrap_or("").trim_end().to_string())
            .collect()
    };
    assert_eq!(
        strip(&ours),
        strip(&String::from_utf8_lossy(&theirs.stdout))
    );
}

#[test]
fn decode_explains_a_word() {
    let (code, out, err) = run(&["decode", "0x910003e0"], "");
    assert_eq!(code, 0, "{err}");
    for needle in [
        "encoding:    ADD_64_addsub_imm (ADD (immediate) -- A64)",
        "file:        add_addsub_imm.xml",
        "imm12    = 000000000000 (0)",
        "disassembly: mov x0, sp",
        "alias:       MOV_ADD_64_addsub_imm",
        "decode pseudocode:",
        "execute pseudocode:",
    ] {
        assert!(out.contains(needle), "{needle:?} missing in\n{out}");
    }
    let (_, out, _) = run(&["decode", "8bc10020"], "");
    assert!(
        out.contains(
            "result:      UNDEFINED by the decode guard `if shift == '11' then UNDEFINED;`"
        ),
        "{out}"
    );
    let (_, out, _) = run(
        &[
            "decode",
            "04801000",
            "--without",
            "FEAT_SVE",
            "--without",
            "FEAT_SME",
        ],
        "",
    );
    assert!(
        out.contains("result:      feature not enabled: FEAT_SVE"),
        "{out}"
    );
    let (_, out, _) = run(&["decode", "ffffffff"], "");
    assert!(out.contains("unallocated"), "{out}");
}

#[test]
fn spec_stats_json() {
    let (code, out, err) = run(&["spec", "stats", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(v["encodings"].as_u64() > Some(3500), "{v}");
    assert!(v["alias_encodings"].as_u64() > Some(200), "{v}");
    assert!(v["instruction_files"].as_u64() > Some(1800), "{v}");
    assert!(v["features"]["FEAT_SVE"].as_u64() > Some(500), "{v}");
    let (code, table, _) = run(&["spec", "stats"], "");
    assert_eq!(code, 0);
    assert!(table.contains("encodings per feature:"), "{table}");
}

/// Runs `armature conform ARGS`; returns (exit code, stdout, stderr).
fn conform(args: &[&str]) -> (i32, String, String) {
    run(&[&["conform"], args].concat(), "")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("armature-conform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/fixtures")
}

/// The encodings of the stored traces, from their file names.
fn stored_encodings() -> BTreeSet<String> {
    std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "json").then(|| p.file_stem()?.to_str().map(str::to_string))?
        })
        .collect()
}

/// The per-encoding results `--json` wrote, checked for shape: every entry names an encoding
/// and has the counts.
fn results(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    for r in &v {
        let name = r["encoding"].as_str().expect("an encoding name");
        assert!(
            EncodingId::from_name(name).is_some(),
            "{name} is no encoding"
        );
        for count in ["passed", "trapped", "reference_undefined", "failed"] {
            assert!(r[count].is_u64(), "{name} lacks {count}: {r}");
        }
    }
    v
}

fn names(results: &[serde_json::Value]) -> BTreeSet<String> {
    results
        .iter()
        .map(|r| r["encoding"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn stored_traces_pass_and_report_json() {
    let json = scratch("fixtures.json");
    let (code, out, err) = conform(&["--against", "fixtures", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let stored = stored_encodings();
    assert!(stored.len() >= 10, "{stored:?}");
    let r = results(&json);
    assert_eq!(names(&r), stored);
    for e in &r {
        assert_eq!(e["status"], "pass", "{e}");
        assert!(e["passed"].as_u64().unwrap() > 0, "{e}");
        assert_eq!(e["failed"], 0, "{e}");
        let name = e["encoding"].as_str().unwrap();
        assert!(out.contains(&format!("pass {name}: ")), "{out}");
    }
    assert!(
        out.contains(&format!(
            "{} encodings: {} pass",
            stored.len(),
            stored.len()
        )),
        "{out}"
    );
}

#[test]
fn shards_cover_the_encodings_once() {
    let run = |shard: Option<&str>| {
        let json = scratch(&format!(
            "shard-{}.json",
            shard.unwrap_or("all").replace('/', "-")
        ));
        let mut args = vec!["--against", "fixtures", "--json", json.to_str().unwrap()];
        args.extend(shard.map(|s| ["--shard", s]).into_iter().flatten());
        let (code, out, err) = conform(&args);
        assert_eq!(code, 0, "{shard:?}: {out}{err}");
        names(&results(&json))
    };
    let all = run(None);
    let (a, b) = (run(Some("1/2")), run(Some("2/2")));
    assert!(a.is_disjoint(&b), "{a:?} and {b:?} overlap");
    assert_eq!(&a | &b, all);
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
}

#[test]
fn bad_options_are_clear_errors() {
    let image = fixtures().join("risu/image.bin");
    let image = image.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (
            &["--filter", "NO_SUCH_*"],
            "no encoding matches \"NO_SUCH_*\"",
        ),
        (
            &["--against", "fixtures", "--filter", "NO_SUCH_*"],
            "no encoding matches",
        ),
        (&["--shard", "3/2"], "--shard wants K/N"),
        (&["--shard", "0/2"], "--shard wants K/N"),
        (&["--shard", "two"], "--shard wants K/N"),
        (
            &["--risu", "/no/such/trace", "--image", image],
            "cannot read the risu trace /no/such/trace",
        ),
        (
            &["--risu", image, "--image", image],
            "is not a risu trace: record 0 (byte 0): bad magic",
        ),
        (
            &["--against", "fixtures", "--fixtures", "/no/such/dir"],
            "cannot read the fixtures directory",
        ),
    ];
    for (args, message) in cases {
        check_error(&[&["conform"], args].concat(), "", message);
    }
    // An option clap rejects: its own message, the same exit code.
    let (code, _, err) = conform(&["--risu", image]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--image <BIN>"), "{err}");
}

#[test]
fn risu_traces_replay() {
    let dir = fixtures().join("risu");
    let (trace, image) = (dir.join("trace.bin"), dir.join("image.bin"));
    let (t, i) = (trace.to_str().unwrap(), image.to_str().unwrap());
    let (code, out, err) = conform(&["--risu", t, "--image", i]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with(&format!("pass {t}: ")), "{out}");
    assert!(out.contains("the trace ends with TESTEND"), "{out}");
    // The same trace gzip-compressed, as risu built with zlib writes it.
    let gz = scratch("trace.gz");
    let status = Command::new("gzip")
        .arg("-c")
        .arg(&trace)
        .stdout(std::fs::File::create(&gz).unwrap())
        .status()
        .expect("gzip runs");
    assert!(status.success());
    let (code, out, err) = conform(&["--risu", gz.to_str().unwrap(), "--image", i]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("checkpoints agree"), "{out}");

    // The same trace with X7 changed at the second register record (the one after the first
    // instruction under test) fails, naming that instruction and the register.
    let mut records = risu::parse(&std::fs::read(&trace).unwrap()).unwrap();
    let record = records
        .iter_mut()
        .filter(|r| r.regs().is_some())
        .nth(1)
        .expect("register records");
    let pc = record.pc;
    match &mut record.payload {
        Payload::Regs(ri) => ri.x[7] ^= 1,
        _ => unreachable!("the record has registers"),
    }
    let changed = scratch("changed.trace");
    std::fs::write(&changed, risu::write(&records)).unwrap();
    let (code, out, err) = conform(&["--risu", changed.to_str().unwrap(), "--image", i]);
    assert_eq!(code, 1, "{out}{err}");
    let image_bytes = std::fs::read(&image).unwrap();
    let word = |off: u64| {
        let o = off as usize;
        u32::from_le_bytes(image_bytes[o..o + 4].try_into().unwrap())
    };
    let (id, _) = armature_conformance::check::describe(word(pc - 4), 0);
    for want in [id.as_str(), "X7: ", "diverges", "input state"] {
        assert!(out.contains(want), "{want:?} not in {out}");
    }
}

#[test]
fn a_live_campaign_passes_against_qemu() {
    require_qemu();
    let json = scratch("live.json");
    let (code, out, err) = conform(&[
        "--filter",
        "ADD_*",
        "--cases",
        "5",
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let r = results(&json);
    assert!(r.len() >= 4, "{r:?}");
    for e in &r {
        let name = e["encoding"].as_str().unwrap();
        assert!(name.starts_with("ADD_"), "{name}");
        assert_ne!(e["status"], "fail", "{e}");
        if e["status"] == "pass" {
            let n: u64 = ["passed", "trapped", "reference_undefined"]
                .iter()
                .map(|k| e[k].as_u64().unwrap())
                .sum();
            assert_eq!(n, 5, "{e}");
        }
    }
}

/// Checks that qemu-aarch64 runs, for the live tests.
fn require_qemu() {
    let qemu = Command::new(armature_conformance::qemu::QEMU)
        .arg("--version")
        .output();
    assert!(
        qemu.is_ok_and(|o| o.status.success()),
        "{} is not installed; this test needs it",
        armature_conformance::qemu::QEMU
    );
}

/// The one entry of `results` for `name`.
fn entry<'a>(results: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    let found: Vec<&serde_json::Value> = results.iter().filter(|r| r["encoding"] == name).collect();
    assert_eq!(found.len(), 1, "{name} in {results:?}");
    found[0]
}

#[test]
fn a_live_campaign_reports_each_encoding_as_json() {
    require_qemu();
    // (encoding, status, the count that holds all 20 cases); MOPS has no semantics.
    let want = [
        ("ADD_64_addsub_imm", "pass", Some("passed")),
        ("B_only_branch_imm", "pass", Some("passed")),
        ("SVC_EX_exception", "pass", Some("passed")),
        ("BRK_EX_exception", "pass", Some("trapped")),
        ("CPYP_CPY_memcms", "skip", None),
    ];
    let filter: Vec<&str> = want.iter().map(|w| w.0).collect();
    let json = scratch("one.json");
    let (code, out, err) = conform(&[
        "--filter",
        &filter.join(","),
        "--cases",
        "20",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let r = results(&json);
    assert_eq!(r.len(), want.len(), "{r:?}");
    for (name, status, count) in want {
        let e = entry(&r, name);
        assert_eq!(e["status"], status, "{e}");
        match count {
            Some(count) => {
                assert_eq!(e[count], 20, "{e}");
                assert!(out.contains(&format!("pass {name}: ")), "{out}");
            }
            None => {
                let why = e["reason"].as_str().unwrap_or_default();
                assert!(why.contains("no FEAT_MOPS semantics"), "{e}");
                assert!(
                    out.contains(&format!("skip {name}: not implemented")),
                    "{out}"
                );
            }
        }
    }
    assert!(out.contains("5 encodings: 4 pass, 1 skip"), "{out}");
    // A case as a failure prints it: a backward branch to the first pad before it.
    let case = serde_json::json!({
        "words": ["0x17ffffff"],
        "state": armature_conformance::program::State::default(),
    });
    let (code, out, err) = conform(&["--case", &case.to_string()]);
    assert_eq!((code, out.trim()), (0, "pass"), "{err}");
}

#[test]
fn a_stored_trace_that_disagrees_fails_the_run() {
    // A copy of the stored traces with one register of one case changed.
    let dir = scratch("changed-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let name = "ADDS_64_addsub_shift";
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap();
    let mut f: serde_json::Value = serde_json::from_str(&text).unwrap();
    let after = f["cases"][0]["after"].as_object_mut().unwrap();
    let (reg, val) = after
        .iter_mut()
        .find(|(k, _)| k.starts_with('X'))
        .expect("the first case writes an X register");
    let reg = reg.clone();
    let v = u64::from_str_radix(val.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    *val = serde_json::Value::String(format!("{:#x}", v ^ 1));
    std::fs::write(dir.join(format!("{name}.json")), f.to_string()).unwrap();
    let other = "UDIV_64_dp_2src.json";
    std::fs::copy(fixtures().join(other), dir.join(other)).unwrap();
    let json = scratch("changed.json");
    let (code, out, err) = conform(&[
        "--against",
        "fixtures",
        "--fixtures",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let r = results(&json);
    let e = entry(&r, name);
    assert_eq!(e["status"], "fail", "{e}");
    assert_eq!(e["failed"], 1, "{e}");
    assert_eq!(entry(&r, "UDIV_64_dp_2src")["status"], "pass");
    for want in [
        format!("fail {name}: "),
        format!("{reg}: "),
        "diverges".to_string(),
        "2 encodings: 1 fail, 1 pass".to_string(),
    ] {
        assert!(out.contains(&want), "{want:?} not in {out}");
    }
}
