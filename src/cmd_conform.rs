//! `armature conform`: random instruction tests against qemu-aarch64 (or the stored traces).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use armature_conformance::campaign::{self, Outcome, Settings};
use armature_conformance::check::Verdict;
use armature_conformance::fixtures;
use armature_conformance::gen;
use armature_conformance::risu;
use armature_core::interp::Interp;
use armature_core::isa::{EncodingId, FeatureSet};
use armature_core::linux::implemented_features;
use armature_core::sem::SemTable;

/// Options of `armature conform`.
#[derive(clap::Args)]
pub struct ConformArgs {
    /// The reference: `qemu` runs qemu-aarch64; `fixtures` replays the stored traces of
    /// --fixtures (no qemu needed).
    #[arg(long, default_value = "qemu", value_parser = ["qemu", "fixtures"])]
    against: String,
    /// The encodings: a glob over encoding ids (`ADD_*`, `*`), or `class:NAME` for an
    /// instr-class (`general`, `float`, `advsimd`); several separated by commas.
    #[arg(long, value_name = "GLOB", default_value = "*")]
    filter: String,
    /// The encodings of one feature, e.g. FEAT_FP16 (instead of --filter).
    #[arg(long, value_name = "FEAT")]
    feature: Option<String>,
    /// Random cases per encoding.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// The seed of the case generator (the same seed gives the same cases).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Encodings checked in parallel (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Write per-encoding results to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Check only shard K of N of the selected encodings (K from 1), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Instructions per case: 1 to this many, of the same encoding.
    #[arg(long, default_value_t = 1)]
    max_insns: usize,
    /// Record reference traces with qemu-aarch64 into DIR (one JSON file per encoding)
    /// instead of checking.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Check one case, as a failure prints it (JSON), against qemu-aarch64 instead of a campaign.
    #[arg(long, value_name = "JSON")]
    case: Option<String>,
    /// The stored traces for --against fixtures.
    #[arg(long, value_name = "DIR", default_value = "conformance/fixtures")]
    fixtures: PathBuf,
    /// Replay a risu trace (written by `risu --master -t TRACE` on aarch64, plain or gzip)
    /// against armature instead of a campaign; needs --image.
    #[arg(long, value_name = "TRACE", requires = "image")]
    risu: Option<PathBuf>,
    /// The test image risu ran for --risu (risugen's raw or ELF output).
    #[arg(long, value_name = "BIN", requires = "risu")]
    image: Option<PathBuf>,
}

/// Splits `ids` into `n` interleaved shards and keeps shard `k` (1-based).
pub fn shard(ids: Vec<EncodingId>, spec: &str) -> Result<Vec<EncodingId>> {
    let parsed = spec
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
    let Some((k, n)) = parsed.filter(|&(k, n)| k >= 1 && k <= n) else {
        bail!("--shard wants K/N with 1 <= K <= N, e.g. 1/4; got {spec:?}");
    };
    Ok(ids
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, id)| id)
        .collect())
}

/// Runs the command; exits 1 when any encoding fails.
pub fn run(args: ConformArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut table = SemTable::<Interp>::default();
    armature_extensions::register_all(&mut table);
    let features = implemented_features(&table);
    if let (Some(trace), Some(image)) = (&args.risu, &args.image) {
        return risu(trace, image, &table, &features, out);
    }
    let selector = args.feature.as_deref().unwrap_or(&args.filter);
    let mut ids = gen::select_encodings(selector);
    if ids.is_empty() {
        bail!("no encoding matches {selector:?}");
    }
    if let Some(spec) = &args.shard {
        ids = shard(ids, spec)?;
    }
    if args.against == "fixtures" {
        return replay(
            &args.fixtures,
            &ids,
            args.json.as_deref(),
            &table,
            &features,
            out,
        );
    }
    if let Some(json) = &args.case {
        return one_case(json, &table, &features, out);
    }
    let settings = Settings {
        cases: args.cases,
        seed: args.seed,
        max_len: args.max_insns.max(1),
        ..Settings::default()
    };
    let dir = std::env::temp_dir().join(format!("armature-conform-{}", std::process::id()));
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.jobs {
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    if let Some(rec) = &args.record {
        let lines = pool.install(|| record(&ids, &settings, rec, &dir, &table, &features));
        let _ = std::fs::remove_dir_all(&dir);
        for line in lines? {
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bar = indicatif::ProgressBar::new(ids.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} encodings {elapsed} (eta {eta}) {msg}",
        )
        .expect("the template is valid"),
    );
    let progress = |o: &Outcome| {
        bar.inc(1);
        if o.status == "fail" {
            bar.println(format!("FAIL {}", o.encoding));
        }
    };
    let result =
        pool.install(|| campaign::run_all(&ids, &settings, &dir, &table, &features, &progress));
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&dir);
    let outcomes = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let details: Vec<Option<String>> = outcomes
        .iter()
        .map(|o| o.failure.as_ref().map(|f| f.render()))
        .collect();
    report(&outcomes, &details, args.json.as_deref(), out)
}

/// Prints a line per encoding (and its `details` indented below it) and a summary, and writes
/// the outcomes to `json`; exits 1 when any encoding fails.
fn report(
    outcomes: &[Outcome],
    details: &[Option<String>],
    json: Option<&Path>,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (o, detail) in outcomes.iter().zip(details) {
        *counts.entry(o.status).or_default() += 1;
        match o.status {
            "skip" => writeln!(
                out,
                "skip {}: {}",
                o.encoding,
                o.reason.as_deref().unwrap_or("")
            )?,
            status => writeln!(
                out,
                "{status} {}: {} passed, {} trapped in both, {} undefined in qemu, {} failed{}{}",
                o.encoding,
                o.passed,
                o.trapped,
                o.reference_undefined,
                o.failed,
                if o.known > 0 {
                    format!(", {} known", o.known)
                } else {
                    String::new()
                },
                o.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )?,
        }
        for line in detail.iter().flat_map(|d| d.lines()) {
            writeln!(out, "    {line}")?;
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    match summary.is_empty() {
        true => writeln!(out, "0 encodings")?,
        false => writeln!(out, "{} encodings: {}", outcomes.len(), summary.join(", "))?,
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(outcomes)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if counts.contains_key("fail") {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks one case given as JSON against qemu-aarch64.
fn one_case(
    json: &str,
    table: &SemTable<Interp>,
    features: &FeatureSet,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let case: armature_conformance::program::Case =
        serde_json::from_str(json).context("--case wants a case as a failure prints it")?;
    let dir = std::env::temp_dir().join(format!("armature-conform-{}", std::process::id()));
    let v = armature_conformance::check::check_batch(
        &[case],
        &mut armature_conformance::check::Qemu(&dir),
        table,
        features,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let v = v.map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = match &v[0] {
        Verdict::Pass => {
            writeln!(out, "pass")?;
            ExitCode::SUCCESS
        }
        Verdict::Trapped { signal } => {
            writeln!(out, "pass (both raise signal {signal})")?;
            ExitCode::SUCCESS
        }
        Verdict::ReferenceUndefined(m) | Verdict::Mismatch(m) => {
            writeln!(out, "fail\n{m}")?;
            ExitCode::from(1)
        }
    };
    Ok(code)
}

/// Records one fixture file per testable encoding of `ids`; one line of report each.
fn record(
    ids: &[EncodingId],
    settings: &Settings,
    dest: &std::path::Path,
    dir: &std::path::Path,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Vec<String>> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    ids.par_iter()
        .map(|&id| {
            if let Some(why) = gen::skip_reason(id, table, features) {
                return Ok(format!("skip {}: {why}", id.name()));
            }
            let cases =
                campaign::generate(id, settings, features).map_err(|e| anyhow::anyhow!("{e}"))?;
            let sub = dir.join(id.name());
            let f = fixtures::record(id.name(), cases, &sub).map_err(|e| anyhow::anyhow!("{e}"))?;
            let _ = std::fs::remove_dir_all(&sub);
            let path = dest.join(format!("{}.json", id.name()));
            std::fs::write(&path, f.to_text())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(format!(
                "recorded {} cases in {}",
                f.cases.len(),
                path.display()
            ))
        })
        .collect()
}

/// Checks armature against the stored traces in `dir` of the encodings `ids`.
fn replay(
    dir: &Path,
    ids: &[EncodingId],
    json: Option<&Path>,
    table: &SemTable<Interp>,
    features: &FeatureSet,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let names: HashSet<&str> = ids.iter().map(|id| id.name()).collect();
    let results = fixtures::check_dir(dir, &|name| names.contains(name), table, features)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut outcomes = Vec::new();
    let mut details = Vec::new();
    for (name, verdicts) in results {
        let count = |f: fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
        let failed = count(Verdict::is_failure);
        outcomes.push(Outcome {
            encoding: name,
            status: if failed == 0 { "pass" } else { "fail" },
            reason: None,
            passed: count(|v| matches!(v, Verdict::Pass)),
            trapped: count(|v| matches!(v, Verdict::Trapped { .. })),
            reference_undefined: count(|v| matches!(v, Verdict::ReferenceUndefined(_))),
            failed,
            // Stored traces hold no declared differences: they are recorded to pass.
            known: 0,
            failure: None,
        });
        details.push(verdicts.iter().find_map(|v| match v {
            Verdict::Mismatch(m) => Some(m.to_string()),
            _ => None,
        }));
    }
    report(&outcomes, &details, json, out)
}

/// Replays a risu trace of `image`; exits 1 when armature diverges.
fn risu(
    trace: &Path,
    image: &Path,
    table: &SemTable<Interp>,
    features: &FeatureSet,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let bytes = std::fs::read(trace)
        .with_context(|| format!("cannot read the risu trace {}", trace.display()))?;
    let records =
        risu::parse(&bytes).with_context(|| format!("{} is not a risu trace", trace.display()))?;
    let img = std::fs::read(image)
        .with_context(|| format!("cannot read the test image {}", image.display()))?;
    let img = risu::Image::new(img)
        .with_context(|| format!("{} is not a risu test image", image.display()))?;
    let r = risu::replay(&records, &img, table, features)
        .with_context(|| format!("cannot replay {}", trace.display()))?;
    let end = if r.complete {
        "the trace ends with TESTEND"
    } else {
        "the trace ends without TESTEND (risu's master stopped early), so only its checkpoints \
         were compared"
    };
    let Some(d) = &r.divergence else {
        writeln!(
            out,
            "pass {}: {} checkpoints agree ({} instructions run); {end}",
            trace.display(),
            r.checkpoints,
            r.instructions
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    writeln!(
        out,
        "fail {}: {} of {} checkpoints agree, then",
        trace.display(),
        r.checkpoints,
        records.len()
    )?;
    for line in d.to_string().lines() {
        writeln!(out, "    {line}")?;
    }
    Ok(ExitCode::from(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_list() {
        let ids = gen::select_encodings("ADD_*");
        let a = shard(ids.clone(), "1/2").unwrap();
        let b = shard(ids.clone(), "2/2").unwrap();
        assert_eq!(a.len() + b.len(), ids.len());
        assert!(a.iter().all(|id| !b.contains(id)));
        assert!(shard(ids.clone(), "0/2").is_err());
        assert!(shard(ids, "3/2").is_err());
    }
}
