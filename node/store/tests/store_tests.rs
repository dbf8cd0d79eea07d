//! Scenario tests of the SQLite store over real files, with shares mined by the test kit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, TxOut};
use p2share_consensus::params::ChainParams;
use p2share_consensus::utxo::{ShareUndo, UtxoSet};
use p2share_consensus::{Share, ShareHash};
use p2share_store::{decode_undo, encode_undo, Store, StoreError};
use p2share_testkit::{
    genesis_spendables, spend, test_params, Kind, Spendable, TestChain, TestKey,
};

const ALLOC: &[(u64, u64)] = &[(100_000_000, 1), (300_000_000, 2), (600_000_000, 3)];

fn miner() -> bitcoin::ScriptBuf {
    TestKey::from_seed(99).script(Kind::P2wpkh)
}

/// Mines `n` shares (the first two carry spends) and returns each share with its undo.
fn mine(t: &mut TestChain, n: usize) -> Vec<(Share, ShareUndo)> {
    let coins = genesis_spendables(&t.chain, ALLOC);
    let taproot = TestKey::from_seed(7);
    let tx1 = spend(
        &coins[..2],
        vec![TxOut {
            value: Amount::from_sat(399_990_000),
            script_pubkey: taproot.script(Kind::P2tr),
        }],
    );
    let tr = Spendable {
        outpoint: OutPoint {
            txid: tx1.compute_txid(),
            vout: 0,
        },
        output: tx1.output[0].clone(),
        key: taproot,
        kind: Kind::P2tr,
    };
    let tx2 = spend(
        &[tr],
        vec![TxOut {
            value: Amount::from_sat(399_980_000),
            script_pubkey: miner(),
        }],
    );
    let mut txs = vec![vec![tx1], vec![tx2]].into_iter();
    (0..n)
        .map(|_| {
            let (share, _) = t.mine(&miner(), txs.next().unwrap_or_default()).unwrap();
            let undo = t.chain.undo_of(&share.hash()).unwrap().clone();
            (share, undo)
        })
        .collect()
}

async fn connect_all(store: &Store, shares: &[(Share, ShareUndo)]) {
    for (share, undo) in shares {
        store.connect(share, undo).await.unwrap();
    }
}

async fn rebuilt(store: &Store) -> UtxoSet {
    let tip = store.tip().await.unwrap();
    UtxoSet::from_coins(
        store.maturity(),
        tip.height,
        store.load_utxos().await.unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn connected_shares_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    let shares = mine(&mut t, 8);
    {
        let store = Store::open(&path, &params).await.unwrap();
        assert_eq!(store.tip().await.unwrap().hash, t.chain.genesis_hash());
        connect_all(&store, &shares).await;
        store.close().await;
    }
    let store = Store::open(&path, &params).await.unwrap();
    let tip = store.tip().await.unwrap();
    assert_eq!(tip.hash, t.chain.tip_hash());
    assert_eq!(tip.height, 8);
    assert_eq!(rebuilt(&store).await.snapshot(), t.chain.utxo().snapshot());
    let at3 = store.share_at(3).await.unwrap().unwrap();
    assert_eq!(at3.share().as_ref(), t.chain.share_at(3));
    assert!(at3.on_active);
    let tip_share = store.share(&tip.hash).await.unwrap().unwrap();
    assert_eq!(tip_share.chain_work, Some(t.chain.tip_work()));
    for (share, undo) in &shares {
        assert_eq!(
            store.undo(&share.hash()).await.unwrap().as_ref(),
            Some(undo)
        );
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.shares, 9);
    assert_eq!(stats.undo, 8);
    assert_eq!(stats.utxos as usize, t.chain.utxo().len());
    assert!(stats.file_bytes > 0);
}

#[tokio::test]
async fn disconnect_restores_the_previous_utxo_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    let store = Store::open(&path, &params).await.unwrap();
    let shares = mine(&mut t, 3);
    connect_all(&store, &shares[..2]).await;
    assert!(
        dir.path().join("chain.sqlite-wal").exists(),
        "WAL journal mode"
    );
    let before = rebuilt(&store).await.snapshot();
    let tip_before = store.tip().await.unwrap();
    let (last, last_undo) = &shares[2];
    store.connect(last, last_undo).await.unwrap();
    // Disconnecting a share that is not the tip is refused.
    let err = store.disconnect(&shares[0].0.hash(), &shares[0].1).await;
    assert!(
        matches!(err, Err(StoreError::Inconsistent { .. })),
        "{err:?}"
    );
    store.disconnect(&last.hash(), last_undo).await.unwrap();
    assert_eq!(store.tip().await.unwrap(), tip_before);
    assert_eq!(rebuilt(&store).await.snapshot(), before);
    // The share stays stored as a side share, its undo record is gone.
    let stored = store.share(&last.hash()).await.unwrap().unwrap();
    assert!(!stored.on_active);
    assert!(store.share_at(3).await.unwrap().is_none());
    assert!(store.undo(&last.hash()).await.unwrap().is_none());
    // And it can be connected again.
    store.connect(last, last_undo).await.unwrap();
    assert_eq!(store.tip().await.unwrap().hash, last.hash());
}

#[tokio::test]
async fn another_network_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let store = Store::open(&path, &test_params(2, ALLOC)).await.unwrap();
    store.close().await;
    match Store::open(&path, &ChainParams::regtest()).await {
        Err(e @ StoreError::WrongNetwork { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("regtest"), "{msg}");
            assert!(msg.contains("belongs to the network with genesis"), "{msg}");
        }
        other => panic!("expected WrongNetwork, got {other:?}"),
    }
}

#[tokio::test]
async fn pruning_keeps_the_reorg_window_and_the_chain_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    let store = Store::open(&path, &params).await.unwrap();
    // A side share at height 2 (will fall out of the window) and one at height 9 (stays).
    let mut early = t.clone();
    let shares = mine(&mut t, 10);
    let (side_low, _) = early
        .mine(&TestKey::from_seed(3).script(Kind::P2wpkh), vec![])
        .unwrap();
    let (side_low2, _) = early
        .mine(&TestKey::from_seed(3).script(Kind::P2wpkh), vec![])
        .unwrap();
    connect_all(&store, &shares).await;
    store.store_side_share(&side_low).await.unwrap();
    store.store_side_share(&side_low2).await.unwrap();
    let utxos_before = store.load_utxos().await.unwrap();
    // Keep heights 6..=10: drop the bodies of genesis and 1..=5, their undo, and the side shares.
    assert_eq!(store.prune(4, Some(4)).await.unwrap(), 6 + 2);
    assert_eq!(store.prune(4, Some(4)).await.unwrap(), 0, "idempotent");
    for h in 0..=10u32 {
        let s = store.share_at(h).await.unwrap().unwrap();
        assert_eq!(
            &s.head,
            &t.chain.head_at(h).unwrap().clone(),
            "header kept at {h}"
        );
        assert_eq!(s.txs.is_some(), h >= 6, "body at {h}");
    }
    for (share, undo) in &shares {
        let kept = store.undo(&share.hash()).await.unwrap();
        if share.head.header.height >= 6 {
            assert_eq!(kept.as_ref(), Some(undo));
        } else {
            assert_eq!(kept, None, "undo below the window dropped");
        }
    }
    assert!(store.share(&side_low.hash()).await.unwrap().is_none());
    assert_eq!(store.load_utxos().await.unwrap(), utxos_before);
    assert_eq!(store.tip().await.unwrap().hash, t.chain.tip_hash());
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.shares, stats.bodies, stats.undo), (11, 5, 5));

    // The chain reloads from what is left, equal to the live one, and keeps mining.
    let loaded = store.load_chain(&params, 4).await.unwrap();
    assert_eq!(loaded.tip_hash(), t.chain.tip_hash());
    assert_eq!(loaded.tip_work(), t.chain.tip_work());
    assert_eq!(loaded.next_payout(), t.chain.next_payout());
    assert_eq!(loaded.utxo().snapshot(), t.chain.utxo().snapshot());
    let mut resumed = TestChain {
        chain: loaded,
        now: t.now,
        nonce_space: t.nonce_space,
    };
    let (share, _) = t.mine(&miner(), vec![]).unwrap();
    resumed.accept(share.clone()).unwrap();
    assert_eq!(resumed.chain.utxo().snapshot(), t.chain.utxo().snapshot());
}

#[tokio::test]
async fn a_failing_connect_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    let store = Store::open(&path, &params).await.unwrap();
    let shares = mine(&mut t, 2);
    connect_all(&store, &shares[..1]).await;
    let utxos = store.load_utxos().await.unwrap();
    let tip = store.tip().await.unwrap();
    let stats = store.stats().await.unwrap();
    let (share, undo) = &shares[1];
    // Inject an outpoint that already exists after the real spends and creations: the insert
    // fails midway, after rows were already written inside the transaction.
    let mut bad = undo.clone();
    bad.created.push(utxos[0].clone());
    let err = store.connect(share, &bad).await;
    assert!(matches!(err, Err(StoreError::Sqlite { .. })), "{err:?}");
    assert!(err.unwrap_err().to_string().contains("connect: create"));
    // A spend of a missing coin fails too.
    let mut missing = undo.clone();
    missing.spent.push((
        OutPoint {
            txid: bitcoin::Txid::all_zeros(),
            vout: 7,
        },
        utxos[0].1.clone(),
    ));
    let err = store.connect(share, &missing).await;
    assert!(
        matches!(err, Err(StoreError::Inconsistent { .. })),
        "{err:?}"
    );
    assert_eq!(store.load_utxos().await.unwrap(), utxos);
    assert_eq!(store.tip().await.unwrap(), tip);
    assert_eq!(store.stats().await.unwrap().shares, stats.shares);
    assert!(store.share(&share.hash()).await.unwrap().is_none());
    assert!(store.undo(&share.hash()).await.unwrap().is_none());
    // The real change still applies.
    store.connect(share, undo).await.unwrap();
    assert_eq!(rebuilt(&store).await.snapshot(), t.chain.utxo().snapshot());
}

#[tokio::test]
async fn side_shares_are_stored_off_the_active_chain() {
    let dir = tempfile::tempdir().unwrap();
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    let store = Store::open(dir.path().join("c.sqlite"), &params)
        .await
        .unwrap();
    let side = t.make_share(&miner(), vec![]).unwrap();
    store.store_side_share(&side).await.unwrap();
    store.store_side_share(&side).await.unwrap();
    let s = store.share(&side.hash()).await.unwrap().unwrap();
    assert!(!s.on_active);
    assert_eq!(s.share(), Some(side));
    assert!(s.chain_work.is_some(), "parent (genesis) work is known");
    assert_eq!(store.tip().await.unwrap().height, 0);
    assert!(store
        .share(&ShareHash::from_byte_array([7; 32]))
        .await
        .unwrap()
        .is_none());
}

#[test]
fn undo_encoding_round_trips_and_is_strict() {
    let mut t = TestChain::new(test_params(2, ALLOC)).unwrap();
    for (_, undo) in mine(&mut t, 3) {
        let bytes = encode_undo(&undo);
        assert_eq!(bytes[0], p2share_store::UNDO_VERSION);
        assert_eq!(decode_undo(&bytes).unwrap(), undo);
        assert!(decode_undo(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode_undo(&long).is_err());
        let mut v2 = bytes;
        v2[0] = 2;
        assert!(decode_undo(&v2).unwrap_err().contains("version"));
    }
}

/// Two branches from genesis that spend the same genesis coins: `a` with 3 shares, `b` with 4.
/// Shares with their undo, fork point first.
type Branch = Vec<(Share, ShareUndo)>;

fn two_branches(params: &ChainParams) -> (Branch, Branch) {
    let mut ta = TestChain::new(params.clone()).unwrap();
    let mut tb = ta.clone();
    tb.nonce_space += 1_000;
    let a = mine(&mut ta, 3);
    let b = mine(&mut tb, 4);
    assert_ne!(a[0].0.hash(), b[0].0.hash());
    (a, b)
}

fn disconnects(branch: &[(Share, ShareUndo)]) -> Vec<(ShareHash, ShareUndo)> {
    branch
        .iter()
        .rev()
        .map(|(s, u)| (s.hash(), u.clone()))
        .collect()
}

#[tokio::test]
async fn a_reorg_leaves_the_state_of_the_winning_branch() {
    let dir = tempfile::tempdir().unwrap();
    let params = test_params(2, ALLOC);
    let (a, b) = two_branches(&params);
    let store = Store::open(dir.path().join("r.sqlite"), &params)
        .await
        .unwrap();
    connect_all(&store, &a).await;
    store.reorg(&disconnects(&a), &b).await.unwrap();
    let direct = Store::open(dir.path().join("d.sqlite"), &params)
        .await
        .unwrap();
    connect_all(&direct, &b).await;
    let tip = store.tip().await.unwrap();
    assert_eq!(tip, direct.tip().await.unwrap());
    assert_eq!(tip.hash, b[3].0.hash());
    assert_eq!(
        store.load_utxos().await.unwrap(),
        direct.load_utxos().await.unwrap()
    );
    for (share, _) in &a {
        assert!(!store.share(&share.hash()).await.unwrap().unwrap().on_active);
        assert!(store.undo(&share.hash()).await.unwrap().is_none());
    }
    for (h, (share, undo)) in (1u32..).zip(&b) {
        assert_eq!(store.share_at(h).await.unwrap().unwrap().hash, share.hash());
        assert_eq!(
            store.undo(&share.hash()).await.unwrap().as_ref(),
            Some(undo)
        );
    }
    // And back again, still in one transaction.
    store.reorg(&disconnects(&b), &a).await.unwrap();
    assert_eq!(store.tip().await.unwrap().hash, a[2].0.hash());
    assert_eq!(store.share_at(4).await.unwrap(), None);
}

#[tokio::test]
async fn a_reorg_whose_last_connect_fails_leaves_the_old_tip() {
    let dir = tempfile::tempdir().unwrap();
    let params = test_params(2, ALLOC);
    let (a, mut b) = two_branches(&params);
    let store = Store::open(dir.path().join("r.sqlite"), &params)
        .await
        .unwrap();
    connect_all(&store, &a).await;
    let utxos = store.load_utxos().await.unwrap();
    let tip = store.tip().await.unwrap();
    let stats = store.stats().await.unwrap();
    let last = b.len() - 1;
    let coin = utxos[0].1.clone();
    b[last].1.spent.push((
        OutPoint {
            txid: bitcoin::Txid::all_zeros(),
            vout: 7,
        },
        coin,
    ));
    let err = store.reorg(&disconnects(&a), &b).await;
    assert!(
        matches!(err, Err(StoreError::Inconsistent { .. })),
        "{err:?}"
    );
    assert_eq!(store.tip().await.unwrap(), tip);
    assert_eq!(store.load_utxos().await.unwrap(), utxos);
    assert_eq!(store.stats().await.unwrap().shares, stats.shares);
    assert_eq!(store.stats().await.unwrap().undo, stats.undo);
    for (h, (share, undo)) in (1u32..).zip(&a) {
        assert_eq!(store.share_at(h).await.unwrap().unwrap().hash, share.hash());
        assert_eq!(
            store.undo(&share.hash()).await.unwrap().as_ref(),
            Some(undo)
        );
    }
    for (share, _) in &b {
        assert!(store.share(&share.hash()).await.unwrap().is_none());
    }
    assert_eq!(rebuilt(&store).await.height(), 3);
}

#[tokio::test]
async fn found_blocks_are_kept_across_a_reopen_in_the_order_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    {
        let store = Store::open(&path, &params).await.unwrap();
        for (i, at) in [(1u32, 30u64), (2, 10), (3, 20)] {
            store
                .put_found_block(&format!("{i:064x}"), at, &format!("{{\"n\":{i}}}"))
                .await
                .unwrap();
        }
        // The same block again replaces its record.
        store
            .put_found_block(&format!("{:064x}", 2), 10, "{\"n\":22}")
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&path, &params).await.unwrap();
    // In the order kept (times may tie or even go backwards with the clock).
    assert_eq!(
        store.found_blocks(10).await.unwrap(),
        [r#"{"n":1}"#, r#"{"n":3}"#, r#"{"n":22}"#]
    );
    assert_eq!(
        store.found_blocks(2).await.unwrap(),
        [r#"{"n":3}"#, r#"{"n":22}"#]
    );
    assert!(store.put_found_block("x", u64::MAX, "{}").await.is_err());
}

#[tokio::test]
async fn hashrate_samples_survive_a_reopen_and_old_ones_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let params = test_params(2, ALLOC);
    {
        let store = Store::open(&path, &params).await.unwrap();
        for t in [100u64, 110, 120] {
            let rates = [("cpu".to_string(), t as f64), ("gpu0".to_string(), 2.0)];
            store.put_hashrate_samples(t, &rates, 0).await.unwrap();
        }
        store.close().await;
    }
    let store = Store::open(&path, &params).await.unwrap();
    let all = store.hashrate_samples(0).await.unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].0, 100);
    assert_eq!(store.hashrate_samples(115).await.unwrap().len(), 2);
    // A new sample deletes those before the cut.
    store
        .put_hashrate_samples(130, &[("cpu".to_string(), 1.0)], 111)
        .await
        .unwrap();
    let left: Vec<u64> = store
        .hashrate_samples(0)
        .await
        .unwrap()
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(left, [120, 120, 130]);
    assert!(store
        .put_hashrate_samples(u64::MAX, &[("cpu".to_string(), 1.0)], 0)
        .await
        .is_err());
}
