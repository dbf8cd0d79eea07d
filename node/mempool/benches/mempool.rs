//! Mempool benchmarks. Figures are reported against a baseline measured in the same run (the
//! machine is shared and noisy):
//!
//! - `mempool/accept_1000_p2wpkh`: a fresh pool accepting 1,000 independent signed P2WPKH spends
//!   of chain outputs (every check, scripts through `bitcoinkernel`);
//! - `kernel/verify_1000_p2wpkh`: `bitcoinkernel` verifying the same 1,000 inputs alone.
//! - `mempool/select_1000`: a template selection over the full pool.

#![allow(missing_docs)] // criterion's macros generate undocumented items
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench aborts on setup failure

use std::time::Duration;

use bitcoin::{Amount, Transaction, TxOut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use p2share_consensus::script::verify_transaction;
use p2share_consensus::ChainState;
use p2share_mempool::Mempool;
use p2share_testkit::{genesis_spendables, spend, test_params, Kind, TestKey};

const N: u64 = 1_000;

fn setup() -> (ChainState, Vec<(Transaction, Vec<TxOut>)>) {
    let alloc: Vec<(u64, u64)> = (0..N).map(|i| (1_000_000, 10_000 + i)).collect();
    let chain = ChainState::new(test_params(2, &alloc)).unwrap();
    let txs = genesis_spendables(&chain, &alloc)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let out = TxOut {
                value: Amount::from_sat(1_000_000 - 1_000 - i as u64),
                script_pubkey: TestKey::from_seed(i as u64).script(Kind::P2wpkh),
            };
            let prev = vec![s.output.clone()];
            (spend(&[s], vec![out]), prev)
        })
        .collect();
    (chain, txs)
}

fn bench(c: &mut Criterion) {
    let (chain, txs) = setup();
    let now = u64::from(chain.params().genesis_time);
    let mut g = c.benchmark_group("mempool");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("accept_1000_p2wpkh", |b| {
        b.iter_batched(
            || txs.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
            |batch| {
                let mut pool = Mempool::default();
                for tx in batch {
                    pool.accept(tx, &chain, now).unwrap();
                }
                pool
            },
            BatchSize::PerIteration,
        )
    });
    let mut pool = Mempool::default();
    for (tx, _) in &txs {
        pool.accept(tx.clone(), &chain, now).unwrap();
    }
    g.bench_function("select_1000", |b| {
        b.iter(|| pool.select(u64::MAX, None).txs.len())
    });
    g.finish();
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("verify_1000_p2wpkh", |b| {
        b.iter(|| {
            for (tx, prev) in &txs {
                verify_transaction(tx, prev).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
