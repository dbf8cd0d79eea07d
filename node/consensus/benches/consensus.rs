//! Consensus benchmarks. Figures are reported as ratios against a baseline measured in the same
//! run (the machine is shared and noisy; absolute times drift).
//!
//! - `index/*`: the order-statistic index alone (see `index_bench.rs`);
//! - `payout/select_payout_1e6`: the full selection (hash, `mod n`, descent, script lookup) over
//!   a UTXO set of 10⁶ eligible coins;
//! - `utxo/connect_1000_spent_1000_created`: the UTXO set with 10⁶ coins applying a share's change;
//! - `connect/*` vs `kernel/*`: connecting a share of 1,000 P2WPKH spends through the whole
//!   validation path, against `bitcoinkernel` verifying the same 1,000 inputs alone.

#![allow(missing_docs)] // criterion's macros generate undocumented items
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench aborts on setup failure

mod index_bench;

use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use p2share_consensus::builder::{build_share, grind, WorkTemplate};
use p2share_consensus::hash::q_selector_hash;
use p2share_consensus::payout::select_with_selector;
use p2share_consensus::script::PreparedTransaction;
use p2share_consensus::utxo::{Coin, ShareUndo, UtxoSet};
use p2share_consensus::{ChainState, Share};
use p2share_testkit::{genesis_spendables, spend, test_params, Kind, SplitMix64, TestKey};

fn utxo_update(c: &mut Criterion) {
    let mut rng = SplitMix64(7);
    let mut next = move || rng.next_u64();
    let txid_bytes = |n: &mut dyn FnMut() -> u64| {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&n().to_le_bytes());
        }
        Txid::from_byte_array(b)
    };
    let coin = |v: u64, h: u32| Coin {
        output: TxOut {
            value: Amount::from_sat(v),
            script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
        },
        height: h,
        is_sharebase: false,
    };
    let coins: Vec<(OutPoint, Coin)> = (0..1_000_000)
        .map(|_| {
            (
                OutPoint {
                    txid: txid_bytes(&mut next),
                    vout: 0,
                },
                coin(1 + next() % 1_000_000_000, 0),
            )
        })
        .collect();
    let mut set = UtxoSet::from_coins(100, 0, coins.clone()).unwrap();
    // The whole payout computation a node does per share: tagged hash of the 160-byte selector
    // input, reduction mod n, index descent, and the coin lookup for the script.
    let mut header = [0u8; 160];
    c.bench_function("payout/select_payout_1e6", |b| {
        b.iter(|| {
            header[..8].copy_from_slice(&next().to_le_bytes());
            std::hint::black_box(select_with_selector(&set, &q_selector_hash(&header)))
        })
    });
    let height = 0u32;
    c.bench_function("utxo/connect_1000_spent_1000_created", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = (next() % (coins.len() as u64 - 1000)) as usize;
                let undo = ShareUndo {
                    height: height + 1,
                    spent: coins[start..start + 1000].to_vec(),
                    created: (0..1000)
                        .map(|_| {
                            (
                                OutPoint {
                                    txid: txid_bytes(&mut next),
                                    vout: 1,
                                },
                                coin(1 + next() % 1_000_000, height + 1),
                            )
                        })
                        .collect(),
                };
                let t = Instant::now();
                set.connect(&undo).unwrap();
                total += t.elapsed();
                set.disconnect(&undo).unwrap();
            }
            total
        })
    });
}

/// A chain whose genesis allocates 1,000 P2WPKH outputs, and a share spending all of them in
/// `txs` transactions of `1000 / txs` inputs each.
fn thousand_spends(txs: usize) -> (ChainState, Share, Vec<(PreparedTransaction, usize)>) {
    let alloc: Vec<(u64, u64)> = (0..1000).map(|i| (1_000_000 + i, 1 + i % 50)).collect();
    let chain = ChainState::new(test_params(100, &alloc)).unwrap();
    let coins = genesis_spendables(&chain, &alloc);
    let per = 1000 / txs;
    let out_key = TestKey::from_seed(4242);
    let transactions: Vec<bitcoin::Transaction> = coins
        .chunks(per)
        .map(|inputs| {
            let total: u64 = inputs.iter().map(|c| c.output.value.to_sat()).sum();
            spend(
                inputs,
                vec![TxOut {
                    value: Amount::from_sat(total - 1000),
                    script_pubkey: out_key.script(Kind::P2wpkh),
                }],
            )
        })
        .collect();
    // Baseline inputs: the same transactions prepared for the kernel ahead of time.
    let prepared: Vec<(PreparedTransaction, usize)> = transactions
        .iter()
        .zip(coins.chunks(per))
        .map(|(tx, inputs)| {
            let spent: Vec<TxOut> = inputs.iter().map(|c| c.output.clone()).collect();
            (PreparedTransaction::new(tx, &spent).unwrap(), inputs.len())
        })
        .collect();
    let time = chain.params().genesis_time + 2;
    let work = WorkTemplate::standalone(
        bitcoin::BlockHash::all_zeros(),
        time,
        Amount::from_sat(312_500_000),
    );
    let mut share = build_share(
        &chain,
        out_key.script(Kind::P2wpkh),
        transactions,
        time,
        b"bench",
        &work,
    )
    .unwrap();
    assert!(grind(&mut share, 1 << 24));
    (chain, share, prepared)
}

fn connect_vs_kernel(c: &mut Criterion) {
    for txs in [1000usize, 100] {
        let (chain, share, prepared) = thousand_spends(txs);
        let now = u64::from(share.head.header.time);
        // Sanity: the share connects.
        chain.clone().accept_share(share.clone(), now).unwrap();
        let mut g = c.benchmark_group(format!("p2wpkh_1000_inputs_in_{txs}_txs"));
        g.sample_size(20);
        g.bench_function("kernel_verify_only", |b| {
            b.iter(|| {
                for (tx, inputs) in &prepared {
                    for i in 0..*inputs {
                        tx.verify_input(i).unwrap();
                    }
                }
            })
        });
        g.bench_function("connect_share", |b| {
            b.iter_batched(
                || (chain.clone(), share.clone()),
                |(mut chain, share)| chain.accept_share(share, now).unwrap(),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(
    benches,
    index_bench::benches,
    utxo_update,
    connect_vs_kernel
);
criterion_main!(benches);
