//! Crash test: a child process connects shares to a store until it is killed with SIGKILL; the
//! reopened store must be exactly a prefix of the chain the child mined.
//!
//! The test re-executes its own binary: with `P2SHARE_KILL_CHILD=<dir>` set, the child test
//! [`child_connects_shares_until_killed`] mines and connects shares in `<dir>` forever; without
//! it, that test returns at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitcoin::{Amount, OutPoint, TxOut};
use p2share_consensus::params::ChainParams;
use p2share_consensus::utxo::UtxoSet;
use p2share_store::Store;
use p2share_testkit::{
    genesis_spendables, spend, test_params, Kind, Spendable, SplitMix64, TestChain, TestKey,
};

const ENV: &str = "P2SHARE_KILL_CHILD";
const CHILD: &str = "child_connects_shares_until_killed";
const ALLOC: &[(u64, u64)] = &[(100_000_000, 1), (300_000_000, 2), (600_000_000, 3)];
const STORE: &str = "chain.sqlite";
const READY: &str = "ready";

fn params() -> ChainParams {
    test_params(2, ALLOC)
}

/// Child mode only: mines shares (each spending the previous share's payment, so every share
/// spends and creates coins) and connects them to the store in `$P2SHARE_KILL_CHILD` forever.
#[tokio::test]
async fn child_connects_shares_until_killed() {
    let Some(dir) = std::env::var_os(ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let params = params();
    let store = Store::open(dir.join(STORE), &params).await.unwrap();
    std::fs::write(dir.join(READY), b"").unwrap();
    let mut t = TestChain::new(params).unwrap();
    let key = TestKey::from_seed(5);
    let miner = TestKey::from_seed(99).script(Kind::P2wpkh);
    let mut coins = genesis_spendables(&t.chain, ALLOC);
    loop {
        let value = coins.iter().map(|c| c.output.value.to_sat()).sum::<u64>() - 1_000;
        let tx = spend(
            &coins,
            vec![TxOut {
                value: Amount::from_sat(value),
                script_pubkey: key.script(Kind::P2wpkh),
            }],
        );
        coins = vec![Spendable {
            outpoint: OutPoint {
                txid: tx.compute_txid(),
                vout: 0,
            },
            output: tx.output[0].clone(),
            key: key.clone(),
            kind: Kind::P2wpkh,
        }];
        let (share, _) = t.mine(&miner, vec![tx]).unwrap();
        let undo = t.chain.undo_of(&share.hash()).unwrap();
        store.connect(&share, undo).await.unwrap();
    }
}

/// Replays the store's active chain into a fresh chain state and checks the stored UTXO set and
/// tip against it. Returns the tip height.
async fn check_consistent(path: &Path) -> u32 {
    let params = params();
    let store = Store::open(path, &params).await.unwrap();
    let tip = store.tip().await.unwrap();
    let mut t = TestChain::new(params).unwrap();
    for h in 1..=tip.height {
        let stored = store.share_at(h).await.unwrap().unwrap();
        let share = stored.share().unwrap();
        t.accept(share).unwrap();
        assert_eq!(
            store.undo(&stored.hash).await.unwrap().as_ref(),
            t.chain.undo_of(&stored.hash),
            "undo at height {h}"
        );
    }
    assert!(store.share_at(tip.height + 1).await.unwrap().is_none());
    assert_eq!(t.chain.tip_hash(), tip.hash);
    let utxos = UtxoSet::from_coins(
        store.maturity(),
        tip.height,
        store.load_utxos().await.unwrap(),
    )
    .unwrap();
    assert_eq!(utxos.snapshot(), t.chain.utxo().snapshot());
    assert_eq!(store.stats().await.unwrap().undo, u64::from(tip.height));
    store.close().await;
    tip.height
}

#[tokio::test]
async fn a_sigkilled_writer_leaves_a_consistent_store() {
    if std::env::var_os(ENV).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = SplitMix64(seed);
    let mut heights = Vec::new();
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args(["--exact", CHILD, "--nocapture", "--test-threads=1"])
            .env(ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !dir.path().join(READY).exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("round {round}: child exited early: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "round {round}: child never opened the store"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ms = 200 + rng.next_u64() % 601;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if let Some(status) = child.try_wait().unwrap() {
            panic!("round {round}: child exited before the kill: {status}");
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "round {round}: {status}");
        let height = check_consistent(&dir.path().join(STORE)).await;
        eprintln!("round {round}: killed after {ms} ms at height {height}");
        heights.push(height);
    }
    assert!(
        heights.iter().any(|&h| h > 0),
        "the child never connected a share: {heights:?}"
    );
}
