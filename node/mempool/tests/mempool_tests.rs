//! Mempool behaviour on real chains: shares mined by `TestChain` (every consensus rule applied),
//! transactions signed with real keys and verified by Bitcoin Core's interpreter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use std::collections::HashSet;

use bitcoin::{Amount, OutPoint, Transaction, TxOut, Txid};
use p2share_consensus::{AcceptOutcome, Rule};
use p2share_mempool::{FeeRate, Mempool, MempoolConfig, MempoolError, PolicyReason, Selection};
use p2share_testkit::{
    genesis_spendables, spend, test_params, Kind, Spendable, TestChain, TestKey,
};
use proptest::prelude::*;

const ALLOC: &[(u64, u64)] = &[
    (10_000_000, 1),
    (10_000_000, 2),
    (10_000_000, 3),
    (10_000_000, 4),
    (10_000_000, 5),
    (10_000_000, 6),
];

fn setup(maturity: u32) -> (TestChain, Vec<Spendable>) {
    let t = TestChain::new(test_params(maturity, ALLOC)).unwrap();
    let sp = genesis_spendables(&t.chain, ALLOC);
    (t, sp)
}

fn out(seed: u64, value: u64, kind: Kind) -> TxOut {
    TxOut {
        value: Amount::from_sat(value),
        script_pubkey: TestKey::from_seed(seed).script(kind),
    }
}

/// Spends `s` to one output of `seed` (kind `kind`) paying `fee`.
fn pay(s: &Spendable, fee: u64, seed: u64, kind: Kind) -> (Transaction, Spendable) {
    let tx = spend(
        std::slice::from_ref(s),
        vec![out(seed, s.output.value.to_sat() - fee, kind)],
    );
    let next = Spendable::output_of(&tx, 0, &TestKey::from_seed(seed), kind).unwrap();
    (tx, next)
}

fn pay1(s: &Spendable, fee: u64, seed: u64) -> (Transaction, Spendable) {
    pay(s, fee, seed, Kind::P2wpkh)
}

fn miner() -> bitcoin::ScriptBuf {
    TestKey::from_seed(99).script(Kind::P2wpkh)
}

fn policy_of(e: &MempoolError) -> Option<PolicyReason> {
    e.policy()
}

/// Every transaction of a selection comes after the selected transactions it spends from.
fn assert_topological(sel: &Selection) {
    let mut seen: HashSet<Txid> = HashSet::new();
    let all: HashSet<Txid> = sel.txs.iter().map(|t| t.compute_txid()).collect();
    for tx in &sel.txs {
        for i in &tx.input {
            if all.contains(&i.previous_output.txid) {
                assert!(
                    seen.contains(&i.previous_output.txid),
                    "child before parent"
                );
            }
        }
        seen.insert(tx.compute_txid());
    }
}

#[test]
fn accepts_valid_spends_and_unconfirmed_chains_with_taproot() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::default();
    let (a, a_out) = pay(&sp[0], 1_000, 10, Kind::P2tr);
    let acc = pool.accept(a.clone(), &t.chain, t.now).unwrap();
    assert_eq!(acc.txid, a.compute_txid());
    assert_eq!(acc.wtxid, a.compute_wtxid());
    assert_eq!(acc.fee.to_units(), 1_000);
    assert_eq!(acc.vsize, a.weight().to_wu().div_ceil(4));
    assert!(acc.replaced.is_empty());
    // A P2TR child of the unconfirmed parent: the kernel checks the taproot signature, which
    // commits to the spent output taken from the pool.
    let (b, _) = pay1(&a_out, 2_000, 11);
    pool.accept(b.clone(), &t.chain, t.now).unwrap();
    assert_eq!(pool.len(), 2);
    assert!(pool.contains(&b.compute_txid()));
    assert_eq!(pool.get(&a.compute_txid()), Some(&a));
    assert_eq!(pool.spender_of(&sp[0].outpoint), Some(a.compute_txid()));
    assert_eq!(pool.spender_of(&a_out.outpoint), Some(b.compute_txid()));
    let info = pool.info();
    assert_eq!(info.count, 2);
    assert_eq!(info.total_fee.to_units(), 3_000);
    assert_eq!(info.min_fee_rate, FeeRate::from_per_vbyte(1));
    let e = pool.entry(&b.compute_txid()).unwrap();
    assert_eq!(
        (e.ancestor_count, e.descendant_count, e.time),
        (2, 1, t.now)
    );
    let order: Vec<Txid> = pool.iter().map(|e| e.txid).collect();
    assert_eq!(order, vec![a.compute_txid(), b.compute_txid()]);
    pool.check_consistency(&t.chain).unwrap();
    // Accepting again is refused.
    let again = pool.accept(a, &t.chain, t.now).unwrap_err();
    assert_eq!(again.reason(), "txn-already-in-mempool");
}

#[test]
fn rejects_bad_signature_missing_input_and_sharebase() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::default();
    // Signed by the wrong key.
    let mut wrong = sp[0].clone();
    wrong.key = TestKey::from_seed(77);
    let (bad, _) = pay1(&wrong, 1_000, 10);
    let e = pool.accept(bad, &t.chain, t.now).unwrap_err();
    assert_eq!(e.rule(), Some(Rule::ScriptFailed));
    assert_eq!(e.reason(), "bad-txns-script-failed");
    // A spend of an output that does not exist.
    let mut ghost = sp[1].clone();
    ghost.outpoint = OutPoint {
        txid: sp[1].outpoint.txid,
        vout: 500,
    };
    let (missing, _) = pay1(&ghost, 1_000, 10);
    let e = pool.accept(missing, &t.chain, t.now).unwrap_err();
    assert_eq!(e.rule(), Some(Rule::MissingInputs));
    assert_eq!(e.reason(), "bad-txns-inputs-missingorspent");
    // A sharebase-shaped transaction.
    let sb = t.chain.share_at(0).unwrap().txs[0].clone();
    let e = pool.accept(sb, &t.chain, t.now).unwrap_err();
    assert_eq!(e.rule(), Some(Rule::SharebaseMultiple));
    // Outputs above inputs.
    let (over, _) = pay1(&sp[2], 0, 10);
    let mut over = over;
    over.output[0].value = Amount::from_sat(20_000_000);
    let e = pool.accept(over, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "bad-txns-in-belowout");
    // Zero fee: below the relay minimum.
    let (free, _) = pay1(&sp[3], 0, 10);
    let e = pool.accept(free, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "min relay fee not met");
    assert!(pool.is_empty());
    pool.check_consistency(&t.chain).unwrap();
}

#[test]
fn immature_sharebase_spend_waits_for_maturity() {
    let (mut t, _) = setup(3);
    let key = TestKey::from_seed(50);
    let (share, _) = t.mine(&key.script(Kind::P2wpkh), vec![]).unwrap();
    let sb_out = Spendable::output_of(&share.txs[0], 0, &key, Kind::P2wpkh).unwrap();
    let mut pool = Mempool::default();
    let (tx, _) = pay1(&sb_out, 1_000, 51);
    let e = pool.accept(tx.clone(), &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "bad-txns-premature-spend-of-sharebase");
    t.mine(&miner(), vec![]).unwrap();
    let e = pool.accept(tx.clone(), &t.chain, t.now).unwrap_err();
    assert_eq!(e.rule(), Some(Rule::PrematureSpend));
    // Tip 3: the next share (height 4) may spend an output of height 1 with maturity 3.
    t.mine(&miner(), vec![]).unwrap();
    pool.accept(tx.clone(), &t.chain, t.now).unwrap();
    // And the chain agrees: a share with it connects.
    let sel = pool.select(u64::MAX, None);
    let (s, outcome) = t.mine(&miner(), sel.txs).unwrap();
    assert_eq!(outcome, AcceptOutcome::Extended);
    let report = pool.share_connected(&s, &t.chain);
    assert_eq!(report.included, vec![tx.compute_txid()]);
    assert!(pool.is_empty());
}

#[test]
fn double_spend_needs_more_fee_or_is_a_conflict() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::default();
    let (a, _) = pay1(&sp[0], 1_000, 10);
    pool.accept(a.clone(), &t.chain, t.now).unwrap();
    // Same fee: not a better replacement.
    let (b, _) = pay1(&sp[0], 1_000, 11);
    let e = pool.accept(b, &t.chain, t.now).unwrap_err();
    assert_eq!(policy_of(&e), Some(PolicyReason::InsufficientFee));
    assert_eq!(e.reason(), "insufficient fee");
    // A higher rate but not enough extra to pay for its own relay (1 unit/vB × ~110 vB).
    let (c, _) = pay1(&sp[0], 1_050, 12);
    let e = pool.accept(c, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "insufficient fee");
    // Without full RBF, any conflict is refused.
    let mut strict = Mempool::new(MempoolConfig {
        full_rbf: false,
        ..MempoolConfig::default()
    });
    strict.accept(a.clone(), &t.chain, t.now).unwrap();
    let (d, _) = pay1(&sp[0], 50_000, 13);
    let e = strict.accept(d, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "txn-mempool-conflict");
    assert!(pool.contains(&a.compute_txid()));
    pool.check_consistency(&t.chain).unwrap();
}

#[test]
fn replacement_evicts_conflicts_and_their_descendants() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::default();
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (a1, a1_out) = pay1(&a_out, 1_000, 11);
    let (a2, _) = pay1(&a1_out, 1_000, 12);
    for tx in [&a, &a1, &a2] {
        pool.accept(tx.clone(), &t.chain, t.now).unwrap();
    }
    // Higher rate than `a` but less than the 3,000 it would evict.
    let (low, _) = pay1(&sp[0], 2_500, 20);
    let e = pool.accept(low, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "insufficient fee");
    // A replacement spending the output of what it replaces is incoherent.
    let two_in = spend(
        &[sp[0].clone(), a_out.clone()],
        vec![out(21, 19_000_000, Kind::P2wpkh)],
    );
    let e = pool.accept(two_in, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "bad-txns-spends-conflicting-tx");
    let (r, _) = pay1(&sp[0], 3_500, 22);
    let acc = pool.accept(r.clone(), &t.chain, t.now).unwrap();
    let mut replaced = acc.replaced.clone();
    replaced.sort();
    let mut expected = vec![a.compute_txid(), a1.compute_txid(), a2.compute_txid()];
    expected.sort();
    assert_eq!(replaced, expected);
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.spender_of(&sp[0].outpoint), Some(r.compute_txid()));
    assert_eq!(pool.spender_of(&a_out.outpoint), None);
    pool.check_consistency(&t.chain).unwrap();
}

#[test]
fn too_many_replacements_are_refused() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::new(MempoolConfig {
        max_replacements: 2,
        ..MempoolConfig::default()
    });
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (a1, a1_out) = pay1(&a_out, 1_000, 11);
    let (a2, _) = pay1(&a1_out, 1_000, 12);
    for tx in [a, a1, a2] {
        pool.accept(tx, &t.chain, t.now).unwrap();
    }
    let (r, _) = pay1(&sp[0], 100_000, 22);
    let e = pool.accept(r, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "too many potential replacements");
}

#[test]
fn ancestor_and_descendant_limits() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::new(MempoolConfig {
        max_ancestors: 3,
        max_descendants: 3,
        ..MempoolConfig::default()
    });
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (b, b_out) = pay1(&a_out, 1_000, 11);
    let (c, c_out) = pay1(&b_out, 1_000, 12);
    for tx in [a, b, c] {
        pool.accept(tx, &t.chain, t.now).unwrap();
    }
    let (d, _) = pay1(&c_out, 1_000, 13);
    let e = pool.accept(d, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "too-long-mempool-chain");
    // Descendants: a parent with two outputs, three children would make four.
    let split = spend(
        std::slice::from_ref(&sp[1]),
        (0..3)
            .map(|i| out(30 + i, 3_000_000, Kind::P2wpkh))
            .collect(),
    );
    pool.accept(split.clone(), &t.chain, t.now).unwrap();
    let kids: Vec<Spendable> = (0..3)
        .map(|i| {
            Spendable::output_of(&split, i as u32, &TestKey::from_seed(30 + i), Kind::P2wpkh)
                .unwrap()
        })
        .collect();
    pool.accept(pay1(&kids[0], 1_000, 40).0, &t.chain, t.now)
        .unwrap();
    pool.accept(pay1(&kids[1], 1_000, 41).0, &t.chain, t.now)
        .unwrap();
    let e = pool
        .accept(pay1(&kids[2], 1_000, 42).0, &t.chain, t.now)
        .unwrap_err();
    assert_eq!(e.reason(), "too-long-mempool-chain");
    pool.check_consistency(&t.chain).unwrap();
}

#[test]
fn selection_is_by_ancestor_fee_rate_with_cpfp() {
    let (mut t, sp) = setup(2);
    let mut pool = Mempool::default();
    // A cheap parent, a child paying for both, and an unrelated middling transaction.
    let (parent, p_out) = pay1(&sp[0], 200, 10);
    let (child, _) = pay1(&p_out, 20_000, 11);
    let (middle, _) = pay1(&sp[1], 2_000, 12);
    for tx in [&parent, &middle, &child] {
        pool.accept(tx.clone(), &t.chain, t.now).unwrap();
    }
    let sel = pool.select(u64::MAX, None);
    let ids: Vec<Txid> = sel.txs.iter().map(|t| t.compute_txid()).collect();
    assert_eq!(
        ids,
        vec![
            parent.compute_txid(),
            child.compute_txid(),
            middle.compute_txid()
        ]
    );
    assert_eq!(sel.fees.to_units(), 22_200);
    assert_eq!(
        sel.weight,
        [&parent, &child, &middle]
            .iter()
            .map(|t| t.weight().to_wu())
            .sum::<u64>()
    );
    assert_topological(&sel);
    // Room for one package only: the parent and child, not the middling one.
    let package = parent.weight().to_wu() + child.weight().to_wu();
    let sel = pool.select(package, None);
    assert_eq!(sel.txs.len(), 2);
    assert_eq!(sel.fees.to_units(), 20_200);
    // Room for less than the package: only the middling one fits.
    let sel = pool.select(middle.weight().to_wu(), None);
    assert_eq!(sel.txs, vec![middle.clone()]);
    // The full selection makes a valid share.
    let sel = pool.select(u64::MAX, None);
    let (s, outcome) = t.mine(&miner(), sel.txs).unwrap();
    assert_eq!(outcome, AcceptOutcome::Extended);
    pool.share_connected(&s, &t.chain);
    assert!(pool.is_empty());
}

#[test]
fn a_full_pool_evicts_the_cheapest_and_raises_its_minimum_fee() {
    let (mut t, sp) = setup(2);
    let (probe, _) = pay1(&sp[0], 1_000, 10);
    let vsize = probe.weight().to_wu().div_ceil(4);
    let mut pool = Mempool::new(MempoolConfig {
        max_vsize: 3 * vsize,
        ..MempoolConfig::default()
    });
    let mut txs = Vec::new();
    for (i, rate) in [2u64, 4, 6].iter().enumerate() {
        let (tx, _) = pay1(&sp[i], rate * vsize, 10 + i as u64);
        pool.accept(tx.clone(), &t.chain, t.now).unwrap();
        txs.push(tx);
    }
    assert_eq!(pool.info().min_fee_rate, FeeRate::from_per_vbyte(1));
    let (rich, _) = pay1(&sp[3], 8 * vsize, 13);
    pool.accept(rich, &t.chain, t.now).unwrap();
    assert_eq!(pool.len(), 3);
    assert!(!pool.contains(&txs[0].compute_txid()), "cheapest evicted");
    // Rolling minimum: the evicted rate (2/vB) plus the incremental rate (1/vB).
    assert_eq!(pool.info().min_fee_rate, FeeRate::from_per_vbyte(3));
    let (cheap, _) = pay1(&sp[4], 2 * vsize, 14);
    let e = pool.accept(cheap, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "mempool min fee not met");
    // Above the minimum but below everything held: accepted, then evicted.
    let (low, _) = pay1(&sp[4], 3 * vsize + vsize / 2, 15);
    let e = pool.accept(low, &t.chain, t.now).unwrap_err();
    assert_eq!(e.reason(), "mempool full");
    assert_eq!(pool.len(), 3);
    assert!(pool.info().min_fee_rate > FeeRate::from_per_vbyte(3));
    pool.check_consistency(&t.chain).unwrap();
    // Once a share arrives, the minimum decays over time.
    let (s, _) = t.mine(&miner(), vec![]).unwrap();
    pool.share_connected(&s, &t.chain);
    let later = t.now + 3 * 24 * 3600;
    let (cheap, _) = pay1(&sp[5], 2 * vsize, 16);
    let before = pool.info().min_fee_rate;
    let acc = pool.accept(cheap, &t.chain, later);
    assert!(pool.info().min_fee_rate < before);
    // It may still be evicted (the pool is full of better transactions), but not refused by
    // the floor.
    if let Err(e) = acc {
        assert_eq!(e.reason(), "mempool full");
    }
}

#[test]
fn expired_transactions_leave_with_their_descendants() {
    let (t, sp) = setup(2);
    let mut pool = Mempool::default();
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (b, _) = pay1(&a_out, 1_000, 11);
    pool.accept(a, &t.chain, t.now).unwrap();
    pool.accept(b, &t.chain, t.now + 100).unwrap();
    let removed = pool.expire(t.now + pool.config().expiry_secs);
    assert_eq!(removed.len(), 2);
    assert!(pool.is_empty());
}

#[test]
fn a_connected_share_removes_included_and_conflicting_transactions() {
    let (mut t, sp) = setup(2);
    let mut pool = Mempool::default();
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (a1, _) = pay1(&a_out, 1_000, 11);
    let (b, b_out) = pay1(&sp[1], 1_000, 12);
    let (b1, _) = pay1(&b_out, 1_000, 13);
    let (c, _) = pay1(&sp[2], 1_000, 14);
    for tx in [&a, &a1, &b, &b1, &c] {
        pool.accept(tx.clone(), &t.chain, t.now).unwrap();
    }
    // The share confirms `a` and a different spend of `b`'s input.
    let (b_other, _) = pay1(&sp[1], 5_000, 20);
    let (s, _) = t.mine(&miner(), vec![a.clone(), b_other]).unwrap();
    let report = pool.share_connected(&s, &t.chain);
    assert_eq!(report.included, vec![a.compute_txid()]);
    let mut conflicts = report.conflicts.clone();
    conflicts.sort();
    let mut expected = vec![b.compute_txid(), b1.compute_txid()];
    expected.sort();
    assert_eq!(conflicts, expected);
    assert!(report.invalid.is_empty());
    // `a1` now spends a confirmed output; `c` is untouched.
    assert!(pool.contains(&a1.compute_txid()));
    assert!(pool.contains(&c.compute_txid()));
    assert_eq!(pool.entry(&a1.compute_txid()).unwrap().ancestor_count, 1);
    pool.check_consistency(&t.chain).unwrap();
    // What is left still makes a valid share.
    let sel = pool.select(u64::MAX, None);
    assert_eq!(sel.txs.len(), 2);
    let (s, _) = t.mine(&miner(), sel.txs).unwrap();
    pool.share_connected(&s, &t.chain);
    assert!(pool.is_empty());
}

#[test]
fn a_reorg_readmits_disconnected_transactions_and_drops_conflicts() {
    let (mut t, sp) = setup(2);
    let mut pool = Mempool::default();
    let fork_base = t.clone();
    let (a, a_out) = pay1(&sp[0], 1_000, 10);
    let (e, _) = pay1(&sp[2], 1_000, 14);
    let (s1, _) = t.mine(&miner(), vec![a.clone(), e.clone()]).unwrap();
    pool.share_connected(&s1, &t.chain);
    // Pool: a child of the confirmed `a`, and `b`.
    let (a1, _) = pay1(&a_out, 1_000, 11);
    let (b, _) = pay1(&sp[1], 1_000, 12);
    pool.accept(a1.clone(), &t.chain, t.now).unwrap();
    pool.accept(b.clone(), &t.chain, t.now).unwrap();
    // A competing branch spends `b`'s and `e`'s inputs differently.
    let mut f = fork_base;
    let (b_other, _) = pay1(&sp[1], 3_000, 20);
    let (e_other, _) = pay1(&sp[2], 3_000, 21);
    let (f1, _) = f.mine(&miner(), vec![b_other, e_other]).unwrap();
    let (f2, _) = f.mine(&miner(), vec![]).unwrap();
    assert_eq!(t.accept(f1.clone()).unwrap(), AcceptOutcome::SideBranch);
    assert!(matches!(
        t.accept(f2.clone()).unwrap(),
        AcceptOutcome::Reorganized { .. }
    ));
    let report = pool.reorganized(&[s1], &[f1, f2], &t.chain, t.now);
    assert_eq!(report.readmitted, vec![a.compute_txid()]);
    assert_eq!(report.readmit_failed, 1, "`e` conflicts with the new chain");
    assert_eq!(report.dropped, vec![b.compute_txid()]);
    assert!(pool.contains(&a.compute_txid()));
    assert!(pool.contains(&a1.compute_txid()));
    assert!(!pool.contains(&b.compute_txid()));
    assert_eq!(pool.entry(&a1.compute_txid()).unwrap().ancestor_count, 2);
    pool.check_consistency(&t.chain).unwrap();
    let sel = pool.select(u64::MAX, None);
    assert_topological(&sel);
    let (s, outcome) = t.mine(&miner(), sel.txs).unwrap();
    assert_eq!(outcome, AcceptOutcome::Extended);
    pool.share_connected(&s, &t.chain);
    assert!(pool.is_empty());
}

#[derive(Clone, Debug)]
enum Op {
    /// Spend candidate `pick` (modulo the list) paying `fee`.
    Spend { pick: usize, fee: u64 },
    /// Spend two candidates into one output.
    Merge { a: usize, b: usize, fee: u64 },
    /// Mine a share from the pool's selection (with a weight cap) and connect it.
    Mine { cap: u64 },
    /// Mine a share with a transaction the pool does not know, spending a candidate.
    MineConflict { pick: usize },
    /// Replace the tip by a two-share branch whose first share may spend a candidate.
    Reorg { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), 150u64..5_000).prop_map(|(pick, fee)| Op::Spend { pick, fee }),
        1 => (any::<usize>(), any::<usize>(), 300u64..5_000)
            .prop_map(|(a, b, fee)| Op::Merge { a, b, fee }),
        1 => (1_000u64..5_000).prop_map(|cap| Op::Mine { cap }),
        1 => any::<usize>().prop_map(|pick| Op::MineConflict { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Reorg { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_pool_stays_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        let (mut t, sp) = setup(2);
        let mut pool = Mempool::new(MempoolConfig {
            max_ancestors: 6,
            max_descendants: 6,
            max_replacements: 8,
            ..MempoolConfig::default()
        });
        let mut candidates: Vec<Spendable> = sp;
        let mut seed = 1_000u64;
        let mut last = None;
        for op in ops {
            seed += 1;
            match op {
                Op::Spend { pick, fee } => {
                    let s = candidates[pick % candidates.len()].clone();
                    if s.output.value.to_sat() <= fee + 1_000 {
                        continue;
                    }
                    let (tx, next) = pay1(&s, fee, seed);
                    if pool.accept(tx, &t.chain, t.now).is_ok() {
                        candidates.push(next);
                    }
                }
                Op::Merge { a, b, fee } => {
                    let x = candidates[a % candidates.len()].clone();
                    let y = candidates[b % candidates.len()].clone();
                    if x.outpoint == y.outpoint {
                        continue;
                    }
                    let total = x.output.value.to_sat() + y.output.value.to_sat();
                    let tx = spend(&[x, y], vec![out(seed, total - fee, Kind::P2wpkh)]);
                    let next = Spendable::output_of(&tx, 0, &TestKey::from_seed(seed), Kind::P2wpkh)
                        .unwrap();
                    if pool.accept(tx, &t.chain, t.now).is_ok() {
                        candidates.push(next);
                    }
                }
                Op::Mine { cap } => {
                    let sel = pool.select(cap, None);
                    assert_topological(&sel);
                    let n = sel.txs.len();
                    let (s, outcome) = t.mine(&miner(), sel.txs).unwrap();
                    prop_assert_eq!(outcome, AcceptOutcome::Extended);
                    let report = pool.share_connected(&s, &t.chain);
                    prop_assert_eq!(report.included.len(), n);
                    last = Some(s);
                }
                Op::MineConflict { pick } => {
                    let s = candidates[pick % candidates.len()].clone();
                    // Only confirmed outputs can be spent by a share on its own.
                    if t.chain.utxo().get(&s.outpoint).is_none() {
                        continue;
                    }
                    let (tx, next) = pay1(&s, 7_777, seed);
                    let (share, _) = t.mine(&miner(), vec![tx]).unwrap();
                    pool.share_connected(&share, &t.chain);
                    candidates.push(next);
                    last = Some(share);
                }
                Op::Reorg { pick } => {
                    let Some(old_tip) = last.take() else {
                        continue;
                    };
                    let mut f = t.clone();
                    f.chain.disconnect_tip().unwrap();
                    let s = candidates[pick % candidates.len()].clone();
                    let mut txs = Vec::new();
                    if f.chain.utxo().get(&s.outpoint).is_some() {
                        let (tx, next) = pay1(&s, 6_666, seed);
                        txs.push(tx);
                        candidates.push(next);
                    }
                    let (f1, _) = f.mine(&miner(), txs).unwrap();
                    let (f2, _) = f.mine(&miner(), vec![]).unwrap();
                    t.accept(f1.clone()).unwrap();
                    let outcome = t.accept(f2.clone()).unwrap();
                    let reorganized = matches!(outcome, AcceptOutcome::Reorganized { .. });
                    prop_assert!(reorganized);
                    pool.reorganized(&[old_tip], &[f1, f2.clone()], &t.chain, t.now);
                    last = Some(f2);
                }
            }
            if let Err(e) = pool.check_consistency(&t.chain) {
                prop_assert!(false, "inconsistent: {}", e);
            }
            let sel = pool.select(u64::MAX, None);
            prop_assert_eq!(sel.txs.len(), pool.len());
            assert_topological(&sel);
        }
        if std::env::var_os("MEMPOOL_PROPTEST_TRACE").is_some() {
            eprintln!("height {} pool {} candidates {}", t.chain.height(), pool.len(), candidates.len());
        }
        // Everything left is minable.
        let sel = pool.select(u64::MAX, None);
        let (s, outcome) = t.mine(&miner(), sel.txs).unwrap();
        prop_assert_eq!(outcome, AcceptOutcome::Extended);
        pool.share_connected(&s, &t.chain);
        prop_assert!(pool.is_empty());
    }
}
