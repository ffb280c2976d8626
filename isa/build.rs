//! Generates the decoder, field structs, metadata, disassembler tables and semantic stubs from
//! Arm's A64 ISA XML into OUT_DIR.
//!
//! The XML is found through `ARMATURE_SPEC_DIR`, else `../shared/arm-a64-xml` beside the
//! project. Set `ARMATURE_DUMP_GENERATED=DIR` to also write the generated sources to DIR.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let dir = armature_spec::spec_dir();
    println!("cargo:rerun-if-env-changed=ARMATURE_SPEC_DIR");
    println!("cargo:rerun-if-env-changed=ARMATURE_DUMP_GENERATED");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");
    if !dir.is_dir() {
        anyhow::bail!(
            "the Arm A64 ISA XML is not at {}.\n\
             Download a release of the 'A64 ISA XML' (2022-12 or later) from \
             https://developer.arm.com/downloads/-/exploration-tools, unpack it, and either place its \
             *.xml files in ../shared/arm-a64-xml beside the project or set ARMATURE_SPEC_DIR to \
             their directory.",
            dir.display()
        );
    }
    let start = Instant::now();
    let spec = armature_spec::load(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parsed = start.elapsed();
    let files = armature_codegen::generate(&spec)?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    armature_codegen::write(&files, &out_dir)?;
    if let Some(dump) = std::env::var_os("ARMATURE_DUMP_GENERATED").filter(|d| !d.is_empty()) {
        armature_codegen::write(&files, &PathBuf::from(dump))?;
    }
    println!(
        "cargo:warning=armature-codegen: {} encodings from {} files: parsed in {:.2?}, generated in {:.2?}",
        spec.encodings.len(),
        spec.sections.len(),
        parsed,
        start.elapsed() - parsed
    );
    println!(
        "cargo:rustc-env=ARMATURE_SPEC_ENCODINGS={}",
        spec.encodings.len()
    );
    Ok(())
}
