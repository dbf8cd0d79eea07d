//! `getblocktemplate` latency with 5,000 mempool transactions.
//!
//! The mempool is filled with 200 chains of 25 P2WPKH spends (the ancestor limit), each
//! starting from a matured coinbase, with varied fees so that package selection has work to
//! do. Measured: building the template (selection, dependencies, witness commitment) and
//! building plus rendering Core's JSON (what the RPC server returns). A block assembled from
//! the template is then submitted once, to check that the measured template is valid.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use p2share_regtest::blockbuilder::grind;
use p2share_regtest::{Policy, RegtestNode, SubmitOutcome};
use p2share_testkit::{Kind, TestKey};

const CHAINS: usize = 200;
const CHAIN_LEN: usize = 25;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn filled_node(dir: &std::path::Path) -> (RegtestNode, TestKey) {
    let node = RegtestNode::open(dir, Policy::default()).unwrap();
    let started = Instant::now();
    let key = p2share_regtest::testutil::fill_mempool(&node, CHAINS, CHAIN_LEN, now()).unwrap();
    println!(
        "filled the mempool with {} transactions in {:.2?} (mining, signing, acceptance)",
        node.mempool().len(),
        started.elapsed()
    );
    (node, key)
}

fn bench_template(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (node, key) = filled_node(dir.path());
    assert_eq!(node.mempool().len(), CHAINS * CHAIN_LEN);

    let mut group = c.benchmark_group("getblocktemplate_5000_mempool_txs");
    group.sample_size(20);
    group.bench_function("block_template", |b| b.iter(|| node.block_template(now())));
    group.bench_function("block_template_and_json", |b| {
        b.iter(|| node.block_template(now()).to_json())
    });
    group.finish();

    let t = node.block_template(now());
    assert_eq!(t.transactions.len(), CHAINS * CHAIN_LEN);
    let mut block = t.block(key.script(Kind::P2wpkh), b"bench");
    assert!(grind(&mut block, t.target, 1_000_000));
    let started = Instant::now();
    let outcome = node.submit_block(&block);
    println!(
        "submitblock of the template's block ({} transactions) took {:.2?} (mempool sync included): {outcome:?}",
        block.txdata.len(),
        started.elapsed()
    );
    assert_eq!(outcome, SubmitOutcome::Accepted { new_tip: true });
    assert!(node.mempool().is_empty());
}

criterion_group!(benches, bench_template);
criterion_main!(benches);
