//! Criterion benchmarks of the eligible-output index (`index/...`).
//!
//! Keys are pseudo-random (splitmix64), values uniform in `1..=5_000_000_000`.

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, SamplingMode};
use p2share_consensus::index::{EligibleIndex, OutPointKey};
use p2share_testkit::SplitMix64;

/// Entries in the benchmarked index.
const N: usize = 1_000_000;
/// Outputs spent and created per update.
const UPDATE: usize = 1_000;

/// Index keys and values from the shared deterministic generator.
struct SplitMix(SplitMix64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn key(&mut self) -> OutPointKey {
        self.0.bytes()
    }

    fn value(&mut self) -> u64 {
        1 + self.next_u64() % 5_000_000_000
    }
}

/// Builds an index of `n` random entries; returns it with its keys.
fn build(rng: &mut SplitMix, n: usize) -> (EligibleIndex, Vec<OutPointKey>) {
    let mut index = EligibleIndex::new();
    let mut keys = Vec::with_capacity(n);
    while keys.len() < n {
        let key = rng.key();
        if index.insert(key, rng.value()).is_ok() {
            keys.push(key);
        }
    }
    (index, keys)
}

/// Registers the `index/*` benchmarks.
pub fn benches(c: &mut Criterion) {
    let mut rng = SplitMix(SplitMix64(0x7032_7368_6172_6531));
    let (mut index, mut present) = build(&mut rng, N);
    let mut group = c.benchmark_group("index");

    group.bench_function("select_1e6", |b| {
        let total = index.total();
        let mut q = SplitMix(SplitMix64(1));
        b.iter(|| black_box(index.select(black_box(q.next_u64() % total))));
    });

    // Each input spends UPDATE distinct present outputs and creates UPDATE new ones; `present`
    // tracks the index contents, so the size stays at N. Input generation is not timed.
    group.bench_function("update_1000_spend_1000_create", |b| {
        b.iter_batched(
            || {
                let mut picked = HashSet::with_capacity(UPDATE);
                let mut spent = Vec::with_capacity(UPDATE);
                let mut created = Vec::with_capacity(UPDATE);
                while spent.len() < UPDATE {
                    let pos = (rng.next_u64() % present.len() as u64) as usize;
                    if picked.insert(pos) {
                        let key = rng.key();
                        spent.push(std::mem::replace(&mut present[pos], key));
                        created.push((key, rng.value()));
                    }
                }
                (spent, created)
            },
            |(spent, created)| {
                for key in &spent {
                    black_box(index.remove(key));
                }
                for (key, value) in created {
                    let _ = black_box(index.insert(key, value));
                }
                spent
            },
            BatchSize::SmallInput,
        );
    });

    let entries: Vec<(OutPointKey, u64)> = (0..N).map(|_| (rng.key(), rng.value())).collect();
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("insert_1e6_build", |b| {
        b.iter_batched(
            || entries.clone(),
            |entries| {
                let mut index = EligibleIndex::new();
                for (key, value) in entries {
                    let _ = index.insert(key, value);
                }
                index
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}
