//! End-to-end tests of the `armature` command line.

use std::io::Write;
use std::process::{Command, Stdio};

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
