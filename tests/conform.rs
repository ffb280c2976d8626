//! End-to-end tests of `armature conform`: the stored traces, JSON results, shards, risu
//! replays, bad options, and a small live campaign against qemu-aarch64 (which must be
//! installed: that test fails without it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use armature_conformance::risu::{self, Payload};
use armature_core::isa::EncodingId;

/// Runs `armature conform ARGS` in the package directory; returns (exit code, stdout, stderr).
fn conform(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_armature"))
        .arg("conform")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("armature runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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

/// One bad invocation and a text its error must contain.
fn check_error(args: &[&str], message: &str) {
    let (code, out, err) = conform(args);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    assert!(
        err.contains(message),
        "{args:?}: {message:?} not in {err:?}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn bad_options_are_clear_errors() {
    let image = fixtures().join("risu/image.bin");
    let image = image.to_str().unwrap();
    let cases: [(&[&str], &str); 9] = [
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
        (&["--risu", image], "--image"),
        (
            &["--against", "fixtures", "--fixtures", "/no/such/dir"],
            "cannot read the fixtures directory",
        ),
    ];
    for (args, message) in cases {
        check_error(args, message);
    }
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
    let qemu = Command::new(armature_conformance::qemu::QEMU)
        .arg("--version")
        .output();
    assert!(
        qemu.is_ok_and(|o| o.status.success()),
        "{} is not installed; this test needs it",
        armature_conformance::qemu::QEMU
    );
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
