//! Scenario tests of chain state: mining, payouts, spends, disconnects and reorgs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use bitcoin::{Amount, OutPoint, TxOut};
use p2share_consensus::chain::{AcceptOutcome, ChainState};
use p2share_consensus::params::ChainParams;
use p2share_consensus::payout::select_payout;
use p2share_consensus::share::{Share, ShareHeader};
use p2share_consensus::utxo::ShareUndo;
use p2share_consensus::validation::{coinbase_payee, Rule};
use p2share_consensus::ShareHash;
use p2share_consensus::{ChainError, ShareAmount};
use p2share_testkit::{
    genesis_spendables, spend, test_params, Kind, Spendable, TestChain, TestKey,
};

const ALLOC: &[(u64, u64)] = &[(100_000_000, 1), (300_000_000, 2), (600_000_000, 3)];

fn miner() -> bitcoin::ScriptBuf {
    TestKey::from_seed(99).script(Kind::P2wpkh)
}

#[test]
fn mining_pays_the_miner_while_no_share_is_eligible() {
    let mut t = TestChain::new(ChainParams::regtest()).unwrap();
    for h in 1..=5 {
        assert!(t.chain.next_payout().is_none(), "n = 0 before maturity");
        let (share, outcome) = t.mine(&miner(), vec![]).unwrap();
        assert_eq!(outcome, AcceptOutcome::Extended);
        assert_eq!(t.chain.height(), h);
        let (_, payee) = coinbase_payee(&share.head).unwrap();
        assert_eq!(payee.script_pubkey, miner());
    }
    assert_eq!(t.chain.utxo().len(), 5);
    assert_eq!(t.chain.utxo().eligible_total(), ShareAmount::ZERO);
}

#[test]
fn every_share_pays_the_selected_output() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    for _ in 0..20 {
        let expected = t
            .chain
            .next_payout()
            .expect("genesis allocation is eligible");
        let (share, _) = t.mine(&miner(), vec![]).unwrap();
        let (_, payee) = coinbase_payee(&share.head).unwrap();
        assert_eq!(payee.script_pubkey, expected.script_pubkey);
        assert!(
            expected.q >= expected.start && expected.q < expected.start + expected.value.to_units()
        );
    }
    // Sharebase outputs matured and joined n: 1e9 allocation plus all but the newest share.
    let n = t.chain.utxo().eligible_total().to_units();
    assert_eq!(n, 1_000_000_000 + 19 * 5_000_000_000);
}

#[test]
fn a_coinbase_paying_anyone_else_is_refused() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    let mut share = t.make_share(&miner(), vec![]).unwrap();
    // Redirect the payout to the miner and re-grind: the commitment still matches the header.
    share.head.work.coinbase.output[0].script_pubkey = miner();
    share.head.work.header.merkle_root = share.head.work.computed_merkle_root();
    assert!(p2share_consensus::builder::grind(&mut share, 1 << 20));
    match t.chain.accept_share(share, t.now) {
        Err(ChainError::Invalid { error, .. }) => assert_eq!(error.rule, Rule::BadPayee),
        other => panic!("expected bad-cb-payee, got {other:?}"),
    }
    assert_eq!(t.chain.height(), 0);
}

#[test]
fn p2wpkh_and_p2tr_spends_connect_through_the_kernel() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    let coins = genesis_spendables(&t.chain, ALLOC);
    let taproot = TestKey::from_seed(7);
    let tx1 = spend(
        &coins[..2],
        vec![TxOut {
            value: Amount::from_sat(399_990_000),
            script_pubkey: taproot.script(Kind::P2tr),
        }],
    );
    let (share, _) = t.mine(&miner(), vec![tx1.clone()]).unwrap();
    // The fee went to the sharebase.
    assert_eq!(
        share.txs[0].output[0].value.to_sat(),
        5_000_000_000 + 10_000
    );
    let tr = Spendable {
        outpoint: OutPoint {
            txid: tx1.compute_txid(),
            vout: 0,
        },
        output: tx1.output[0].clone(),
        key: taproot.clone(),
        kind: Kind::P2tr,
    };
    let tx2 = spend(
        &[tr],
        vec![TxOut {
            value: Amount::from_sat(399_980_000),
            script_pubkey: miner(),
        }],
    );
    t.mine(&miner(), vec![tx2.clone()]).unwrap();
    assert!(t
        .chain
        .utxo()
        .get(&OutPoint {
            txid: tx2.compute_txid(),
            vout: 0
        })
        .is_some());
    assert!(t.chain.utxo().get(&coins[0].outpoint).is_none());
}

#[test]
fn a_bad_signature_fails_in_the_interpreter() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    let coins = genesis_spendables(&t.chain, ALLOC);
    let mut tx = spend(
        &coins[..1],
        vec![TxOut {
            value: Amount::from_sat(99_000_000),
            script_pubkey: miner(),
        }],
    );
    // Change the output after signing: the signature no longer commits to it.
    tx.output[0].value = Amount::from_sat(98_000_000);
    let share = t.make_share(&miner(), vec![tx]).unwrap();
    match t.chain.accept_share(share, t.now) {
        Err(ChainError::Invalid { error, .. }) => {
            assert_eq!(error.rule, Rule::ScriptFailed);
            assert!(error.to_string().contains("input 0"), "{error}");
        }
        other => panic!("expected a script failure, got {other:?}"),
    }
}

#[test]
fn connect_then_disconnect_restores_the_exact_utxo_set() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    let coins = genesis_spendables(&t.chain, ALLOC);
    t.mine(&miner(), vec![]).unwrap();
    let before = t.chain.utxo().snapshot();
    let payout_before = t.chain.next_payout();
    let tx = spend(
        &coins[2..3],
        vec![TxOut {
            value: Amount::from_sat(500_000_000),
            script_pubkey: miner(),
        }],
    );
    t.mine(&miner(), vec![tx]).unwrap();
    t.mine(&miner(), vec![]).unwrap();
    t.chain.disconnect_tip().unwrap();
    t.chain.disconnect_tip().unwrap();
    assert_eq!(t.chain.utxo().snapshot(), before);
    assert_eq!(t.chain.next_payout(), payout_before);
}

#[test]
fn reorg_to_more_work_equals_direct_application() {
    let params = test_params(3, ALLOC);
    let mut a = TestChain::new(params.clone()).unwrap();
    let mut b = TestChain::new(params).unwrap();
    let coins = genesis_spendables(&a.chain, ALLOC);
    // A spends allocation 0; B spends allocation 1 and then mines a longer branch.
    let ta = spend(
        &coins[..1],
        vec![TxOut {
            value: Amount::from_sat(90_000_000),
            script_pubkey: miner(),
        }],
    );
    a.mine(&miner(), vec![ta]).unwrap();
    a.mine(&miner(), vec![]).unwrap();
    let tb = spend(
        &coins[1..2],
        vec![TxOut {
            value: Amount::from_sat(290_000_000),
            script_pubkey: miner(),
        }],
    );
    b.now += 1; // different time: a different branch
    let mut b_shares = vec![
        b.mine(&TestKey::from_seed(5).script(Kind::P2wpkh), vec![tb])
            .unwrap()
            .0,
    ];
    for _ in 0..3 {
        b_shares.push(
            b.mine(&TestKey::from_seed(5).script(Kind::P2wpkh), vec![])
                .unwrap()
                .0,
        );
    }
    let mut outcomes = Vec::new();
    for s in b_shares {
        outcomes.push(a.accept(s).unwrap());
    }
    assert_eq!(outcomes[0], AcceptOutcome::SideBranch);
    assert_eq!(
        outcomes[1],
        AcceptOutcome::SideBranch,
        "equal work keeps the first-seen tip"
    );
    assert!(
        matches!(&outcomes[2], AcceptOutcome::Reorganized { disconnected, connected }
        if disconnected.len() == 2 && connected.len() == 3)
    );
    assert_eq!(outcomes[3], AcceptOutcome::Extended);
    assert_eq!(a.chain.tip_hash(), b.chain.tip_hash());
    assert_eq!(a.chain.utxo().snapshot(), b.chain.utxo().snapshot());
    assert_eq!(a.chain.next_payout(), b.chain.next_payout());
}

#[test]
fn a_failed_reorg_restores_the_old_chain() {
    let params = test_params(2, ALLOC);
    let mut a = TestChain::new(params.clone()).unwrap();
    let mut b = TestChain::new(params).unwrap();
    a.mine(&miner(), vec![]).unwrap();
    a.mine(&miner(), vec![]).unwrap();
    let before = a.chain.utxo().snapshot();
    let tip = a.chain.tip_hash();
    b.now += 1;
    let other = TestKey::from_seed(5).script(Kind::P2wpkh);
    let b1 = b.mine(&other, vec![]).unwrap().0;
    let b2 = b.mine(&other, vec![]).unwrap().0;
    let mut b3 = b.make_share(&other, vec![]).unwrap();
    b3.head.work.coinbase.output[0].script_pubkey = miner();
    b3.head.work.header.merkle_root = b3.head.work.computed_merkle_root();
    assert!(p2share_consensus::builder::grind(&mut b3, 1 << 20));
    assert_eq!(a.accept(b1).unwrap(), AcceptOutcome::SideBranch);
    assert_eq!(a.accept(b2).unwrap(), AcceptOutcome::SideBranch);
    let b3_hash = b3.hash();
    match a.accept(b3.clone()) {
        Err(ChainError::Invalid { hash, error }) => {
            assert_eq!(hash, b3_hash);
            assert_eq!(error.rule, Rule::BadPayee);
        }
        other => panic!("expected the reorg to fail, got {other:?}"),
    }
    assert_eq!(a.chain.tip_hash(), tip);
    assert_eq!(a.chain.utxo().snapshot(), before);
    assert!(matches!(a.accept(b3), Err(ChainError::KnownInvalid(_))));
}

#[test]
fn select_payout_matches_the_chain_view() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    t.mine(&miner(), vec![]).unwrap();
    let tip = t.chain.tip().unwrap().head.clone();
    assert_eq!(select_payout(t.chain.utxo(), &tip), t.chain.next_payout());
}

/// Moves a ground share onto another parent: rewrites the header, the commitment and the
/// Bitcoin merkle root, and grinds again.
fn reparent(
    share: &mut p2share_consensus::Share,
    prev: p2share_consensus::ShareHash,
    magic: [u8; 4],
) {
    share.head.header.prev_share = prev;
    let script = p2share_consensus::validation::commitment_script(magic, &share.head.header);
    let prefix = p2share_consensus::validation::commitment_prefix(magic);
    for out in &mut share.head.work.coinbase.output {
        if out.script_pubkey.as_bytes().starts_with(&prefix) {
            out.script_pubkey = script.clone();
        }
    }
    share.head.work.header.merkle_root = share.head.work.computed_merkle_root();
    share.head.work.header.nonce = 0;
    assert!(p2share_consensus::builder::grind(share, 1 << 20));
}

/// Shares stored on a side branch below a share that later proves invalid are invalid too: a
/// descendant arriving afterwards is refused as `bad-prevshare`, not left dangling as an orphan.
#[test]
fn descendants_of_a_share_found_invalid_are_refused() {
    let params = test_params(2, ALLOC);
    let magic = params.magic;
    let mut a = TestChain::new(params.clone()).unwrap();
    let mut b = TestChain::new(params).unwrap();
    for _ in 0..3 {
        a.mine(&miner(), vec![]).unwrap();
    }
    let tip = a.chain.tip_hash();
    b.now += 1;
    let other = TestKey::from_seed(5).script(Kind::P2wpkh);
    let b1 = b.mine(&other, vec![]).unwrap().0;
    // b2_bad: pays the wrong script (found only when its branch is connected).
    let mut b2_bad = b.clone().make_share(&other, vec![]).unwrap();
    b2_bad.head.work.coinbase.output[0].script_pubkey = miner();
    b2_bad.head.work.header.merkle_root = b2_bad.head.work.computed_merkle_root();
    assert!(p2share_consensus::builder::grind(&mut b2_bad, 1 << 20));
    // Two children of b2_bad, and a grandchild through the first.
    b.mine(&other, vec![]).unwrap();
    let mut b3 = b.clone().make_share(&other, vec![]).unwrap();
    reparent(&mut b3, b2_bad.hash(), magic);
    let mut b3_alt = b
        .clone()
        .make_share(&TestKey::from_seed(6).script(Kind::P2wpkh), vec![])
        .unwrap();
    reparent(&mut b3_alt, b2_bad.hash(), magic);
    b.mine(&other, vec![]).unwrap();
    let mut b4 = b.clone().make_share(&other, vec![]).unwrap();
    reparent(&mut b4, b3.hash(), magic);
    let mut b4_alt = b
        .clone()
        .make_share(&TestKey::from_seed(6).script(Kind::P2wpkh), vec![])
        .unwrap();
    reparent(&mut b4_alt, b3_alt.hash(), magic);

    for s in [b1, b2_bad.clone(), b3, b3_alt] {
        assert_eq!(a.accept(s).unwrap(), AcceptOutcome::SideBranch);
    }
    match a.accept(b4) {
        Err(ChainError::Invalid { error, .. }) => assert_eq!(error.rule, Rule::BadPayee),
        other => panic!("expected the branch to fail at b2, got {other:?}"),
    }
    assert_eq!(a.chain.tip_hash(), tip);
    match a.accept(b4_alt) {
        Err(ChainError::Invalid { error, .. }) => assert_eq!(error.rule, Rule::BadPrevShare),
        other => panic!("expected bad-prevshare, got {other:?}"),
    }
    assert_eq!(a.chain.tip_hash(), tip);
    assert!(matches!(a.accept(b2_bad), Err(ChainError::KnownInvalid(_))));
}

/// A network may start harder than its pow limit: genesis carries `genesis_bits`, ASERT is
/// anchored there, and a slow chain eases toward (never past) the limit.
#[test]
fn a_network_starts_at_its_genesis_difficulty() {
    let mut params = test_params(2, ALLOC);
    params.genesis_bits = 0x1f0f_ffff;
    let limit = p2share_consensus::pow::decode_compact(params.pow_limit_bits).unwrap();
    let anchor = p2share_consensus::pow::decode_compact(params.genesis_bits).unwrap();
    let mut t = TestChain::new(params.clone()).unwrap();
    assert_eq!(t.chain.share_at(0).unwrap().head.header.bits, 0x1f0f_ffff);
    assert_eq!(
        t.chain.next_bits(),
        0x1f0f_ffff,
        "on schedule the anchor holds"
    );
    // Far behind schedule: the target eases, bounded by the limit.
    t.now += 20 * u64::from(params.asert_half_life);
    let (share, _) = t.mine(&miner(), vec![]).unwrap();
    assert_eq!(share.head.header.bits, 0x1f0f_ffff);
    let next = p2share_consensus::pow::decode_compact(t.chain.next_bits()).unwrap();
    assert!(next > anchor && next <= limit);
    let mut too_easy = params;
    too_easy.genesis_bits = 0x2100_ffff;
    assert!(TestChain::new(too_easy).is_err());
}

type ActiveHeaders = Vec<(ShareHash, ShareHeader)>;
type RecentShares = Vec<(Share, Option<ShareUndo>)>;

/// Everything `ChainState::restore` needs, taken from a live chain as a store would hold it.
fn stored_parts(chain: &ChainState, side: &[Share]) -> (ActiveHeaders, RecentShares) {
    let mut active = Vec::new();
    let mut recent = Vec::new();
    for h in 0..=chain.height() {
        let hash = chain.hash_at(h).unwrap();
        active.push((hash, chain.header(&hash).unwrap().0));
        if let Some(share) = chain.share_at(h) {
            recent.push((share.clone(), chain.undo_of(&hash).cloned()));
        }
    }
    for s in side {
        recent.push((s.clone(), None));
    }
    (active, recent)
}

#[test]
fn a_window_prunes_memory_and_refuses_reorgs_below_it() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    t.chain.set_window(5);
    let mut fork = t.clone();
    fork.chain.set_window(u32::MAX);
    for _ in 0..12 {
        t.mine(&miner(), vec![]).unwrap();
    }
    assert_eq!(t.chain.height(), 12);
    assert_eq!(t.chain.window_start(), 7);
    assert!(
        t.chain.share_at(6).is_none(),
        "body below the window pruned"
    );
    assert!(t.chain.share_at(7).is_some(), "window start keeps its body");
    assert!(t.chain.undo_of(&t.chain.hash_at(6).unwrap()).is_none());
    assert!(t.chain.header(&t.chain.hash_at(3).unwrap()).is_some());
    // A longer branch forking at genesis is below the window: refused, tip unchanged.
    let tip = t.chain.tip_hash();
    let other = TestKey::from_seed(5).script(Kind::P2wpkh);
    let mut refused = 0;
    for _ in 0..14 {
        let (share, _) = fork.mine(&other, vec![]).unwrap();
        if let Err(ChainError::BelowWindow { .. }) = t.accept(share) {
            refused += 1;
        }
    }
    assert!(refused > 0);
    assert_eq!(t.chain.tip_hash(), tip);
}

#[test]
fn a_reorg_inside_the_window_still_works_after_pruning() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params).unwrap();
    t.chain.set_window(6);
    for _ in 0..10 {
        t.mine(&miner(), vec![]).unwrap();
    }
    let mut fork = t.clone();
    t.mine(&miner(), vec![]).unwrap();
    t.mine(&miner(), vec![]).unwrap();
    let other = TestKey::from_seed(6).script(Kind::P2wpkh);
    let mut last = None;
    for _ in 0..3 {
        let (share, _) = fork.mine(&other, vec![]).unwrap();
        last = Some(t.accept(share));
    }
    assert!(matches!(last, Some(Ok(AcceptOutcome::Reorganized { .. }))));
    assert_eq!(t.chain.tip_hash(), fork.chain.tip_hash());
    assert_eq!(t.chain.utxo().snapshot(), fork.chain.utxo().snapshot());
}

#[test]
fn restore_from_stored_parts_equals_the_live_chain() {
    let params = test_params(2, ALLOC);
    let mut t = TestChain::new(params.clone()).unwrap();
    t.chain.set_window(4);
    let mut side = Vec::new();
    for i in 0..15 {
        let mut f = t.clone();
        t.mine(&miner(), vec![]).unwrap();
        if i == 12 {
            // A side share inside the window, as much work as the tip.
            let (s, _) = f
                .mine(&TestKey::from_seed(7).script(Kind::P2wpkh), vec![])
                .unwrap();
            assert_eq!(t.accept(s.clone()).unwrap(), AcceptOutcome::SideBranch);
            side.push(s);
        }
    }
    let (active, recent) = stored_parts(&t.chain, &side);
    let utxo = t.chain.utxo().clone();
    let restored = ChainState::restore(params.clone(), active, recent, utxo, 4).unwrap();
    assert_eq!(restored.tip_hash(), t.chain.tip_hash());
    assert_eq!(restored.tip_work(), t.chain.tip_work());
    assert_eq!(restored.median_time_past(), t.chain.median_time_past());
    assert_eq!(restored.next_bits(), t.chain.next_bits());
    assert_eq!(restored.next_payout(), t.chain.next_payout());
    assert_eq!(restored.locator(), t.chain.locator());
    assert!(
        restored.share(&side[0].hash()).is_some(),
        "side share restored"
    );
    assert!(
        restored.share_at(restored.height() - 5).is_none(),
        "below the window"
    );
    // Both accept the same next share the same way.
    let mut a = t.clone();
    let mut b = TestChain {
        chain: restored,
        now: t.now,
        nonce_space: t.nonce_space,
    };
    let (share, outcome) = a.mine(&miner(), vec![]).unwrap();
    assert_eq!(b.accept(share).unwrap(), outcome);
    assert_eq!(a.chain.utxo().snapshot(), b.chain.utxo().snapshot());

    // Inconsistent parts are refused with the reason.
    let (mut active, recent) = stored_parts(&t.chain, &side);
    active.swap(3, 4);
    let err = ChainState::restore(params, active, recent, t.chain.utxo().clone(), 4).unwrap_err();
    assert!(err.to_string().contains("height"), "{err}");
}
