//! Decode throughput of armature's generated decoder beside yaxpeax-arm on the same 1M random
//! words. Run with `cargo bench -p armature-benches --bench decode`; the last line printed is
//! the ratio of the two speeds.

use std::hint::black_box;
use std::time::Instant;

use armature_benches::random_words;
use armature_core::isa::{decode, Decoded, FeatureSet};
use criterion::{criterion_group, Criterion, Throughput};
use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction};

const WORDS: usize = 1_000_000;
const SEED: u64 = 0x4152_4d41_5455_5245;

/// Decodes every word with armature; returns how many are allocated.
fn run_armature(words: &[u32], features: &FeatureSet) -> usize {
    words
        .iter()
        .filter(|&&w| matches!(decode(black_box(w), features), Decoded::Insn(_)))
        .count()
}

/// Decodes every word with yaxpeax-arm into one reused instruction; returns how many decode.
fn run_yaxpeax(bytes: &[u8]) -> usize {
    let decoder = InstDecoder::default();
    let mut inst = Instruction::default();
    bytes
        .chunks_exact(4)
        .filter(|chunk| {
            decoder
                .decode_into(&mut inst, &mut U8Reader::new(black_box(chunk)))
                .is_ok()
        })
        .count()
}

fn decode_random(c: &mut Criterion) {
    let words = random_words(WORDS, SEED);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let features = FeatureSet::all();
    let mut group = c.benchmark_group("decode_1M_random_words");
    group.throughput(Throughput::Elements(WORDS as u64));
    group.sample_size(20);
    group.bench_function("armature", |b| b.iter(|| run_armature(&words, &features)));
    group.bench_function("yaxpeax-arm", |b| b.iter(|| run_yaxpeax(&bytes)));
    group.finish();
}

/// The best of several timed runs of `f`, in seconds.
fn best_of(mut f: impl FnMut() -> usize) -> f64 {
    (0..7)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Prints both speeds and their ratio, measured in one run on the same words.
fn ratio() {
    let words = random_words(WORDS, SEED);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let features = FeatureSet::all();
    let ours = best_of(|| run_armature(&words, &features));
    let theirs = best_of(|| run_yaxpeax(&bytes));
    println!(
        "decode 1M random words: armature {:.1} Mwords/s ({} allocated), yaxpeax-arm {:.1} Mwords/s ({} decoded); \
         speed ratio armature/yaxpeax-arm = {:.2}",
        WORDS as f64 / ours / 1e6,
        run_armature(&words, &features),
        WORDS as f64 / theirs / 1e6,
        run_yaxpeax(&bytes),
        theirs / ours
    );
}

criterion_group!(benches, decode_random);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
