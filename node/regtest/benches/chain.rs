//! Block processing through the kernel-backed chain:
//! - `chain/replay_1000_blocks`: a fresh chain accepts 1,000 blocks from another chain (each
//!   block after maturity carries a P2WPKH spend); reported as blocks per second;
//! - `chain/submitblock_2000_txs`: `submit_block` of one block with 2,000 P2WPKH spends (the
//!   chain state before it is restored from a copied data directory, outside the timing).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::{Amount, Block, OutPoint, TxOut};
use criterion::{criterion_group, criterion_main, Criterion};
use p2share_regtest::blockbuilder::{grind, regtest_target, BlockAssembler};
use p2share_regtest::{Policy, RegtestChain, RegtestNode, SubmitOutcome};
use p2share_testkit::{spend, Kind, Spendable, TestKey};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn coinbase_coin(node: &RegtestNode, height: u32, key: &TestKey) -> Spendable {
    let hash = node.chain().block_hash(height).unwrap();
    let cb = node.chain().block(&hash).unwrap().txdata[0].clone();
    Spendable::output_of(&cb, 0, key, Kind::P2wpkh).unwrap()
}

/// 1,000 blocks: 100 to mature, then 900 each spending one matured coinbase.
fn replay_blocks(dir: &Path) -> Vec<Block> {
    let node = RegtestNode::open(dir, Policy::default()).unwrap();
    let key = TestKey::from_seed(1);
    let script = key.script(Kind::P2wpkh);
    node.generate_to_script(100, &script, now()).unwrap();
    for h in 1..=900u32 {
        let coin = coinbase_coin(&node, h, &key);
        let tx = spend(
            std::slice::from_ref(&coin),
            vec![TxOut {
                value: coin.output.value - Amount::from_sat(1_000),
                script_pubkey: script.clone(),
            }],
        );
        node.send_raw_transaction(tx).unwrap();
        node.generate_to_script(1, &script, now()).unwrap();
    }
    let tip = node.chain().tip().height;
    (1..=tip)
        .map(|h| {
            node.chain()
                .block(&node.chain().block_hash(h).unwrap())
                .unwrap()
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A data directory whose tip has 2,000 spendable P2WPKH outputs, and a block spending them all.
fn big_block(dir: &Path) -> Block {
    let key = TestKey::from_seed(2);
    let script = key.script(Kind::P2wpkh);
    let node = RegtestNode::open(dir, Policy::default()).unwrap();
    node.generate_to_script(101, &script, now()).unwrap();
    let coin = coinbase_coin(&node, 1, &key);
    let each = Amount::from_sat(2_000_000);
    let fanout = spend(
        std::slice::from_ref(&coin),
        (0..2000)
            .map(|_| TxOut {
                value: each,
                script_pubkey: script.clone(),
            })
            .collect(),
    );
    let txid = node.send_raw_transaction(fanout.clone()).unwrap();
    node.generate_to_script(1, &script, now()).unwrap();
    let spends: Vec<_> = (0..2000u32)
        .map(|vout| {
            let c = Spendable {
                outpoint: OutPoint::new(txid, vout),
                output: fanout.output[vout as usize].clone(),
                key: key.clone(),
                kind: Kind::P2wpkh,
            };
            spend(
                &[c],
                vec![TxOut {
                    value: each - Amount::from_sat(500),
                    script_pubkey: script.clone(),
                }],
            )
        })
        .collect();
    let tip = node.chain().tip();
    let mut assembler = BlockAssembler::new(
        tip.hash,
        tip.height + 1,
        tip.median_time_past.max(tip.header.time) + 1,
        script,
    );
    assembler.coinbase_value += Amount::from_sat(500 * 2000);
    let mut block = assembler.assemble(spends);
    assert!(grind(&mut block, regtest_target(), 1 << 24));
    block
}

fn bench_chain(c: &mut Criterion) {
    let source = tempfile::tempdir().unwrap();
    let blocks = replay_blocks(source.path());
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("replay_1000_blocks", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let chain = RegtestChain::open(dir.path(), Policy::default()).unwrap();
                let t = Instant::now();
                for block in &blocks {
                    assert!(matches!(
                        chain.submit_block(block),
                        SubmitOutcome::Accepted { new_tip: true }
                    ));
                }
                total += t.elapsed();
            }
            total
        })
    });
    let prepared = tempfile::tempdir().unwrap();
    let block = big_block(prepared.path());
    g.bench_function("submitblock_2000_txs", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                copy_dir(prepared.path(), dir.path());
                let node = RegtestNode::open(dir.path(), Policy::default()).unwrap();
                let t = Instant::now();
                let outcome = node.submit_block(&block);
                total += t.elapsed();
                assert_eq!(outcome, SubmitOutcome::Accepted { new_tip: true });
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench_chain);
criterion_main!(benches);
