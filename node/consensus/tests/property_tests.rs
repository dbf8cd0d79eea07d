//! Property tests of the invariants the payout rule and chain state stand on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use std::collections::BTreeMap;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use p2share_consensus::hash::{q_selector_hash, QSelectorHash};
use p2share_consensus::index::EligibleIndex;
use p2share_consensus::payout::select_with_selector;
use p2share_consensus::utxo::{key_outpoint, outpoint_key, Coin, UtxoSet};
use p2share_consensus::AcceptOutcome;
use p2share_testkit::{
    genesis_spendables, spend, test_params, Kind, Spendable, SplitMix64, TestChain, TestKey,
};
use proptest::prelude::*;

fn coin(value: u64) -> Coin {
    Coin {
        output: TxOut {
            value: Amount::from_sat(value),
            script_pubkey: ScriptBuf::new(),
        },
        height: 0,
        is_sharebase: false,
    }
}

/// Over many distinct share headers, each output is selected in proportion to its value:
/// Pearson's chi-square with 7 degrees of freedom stays below the 0.1% critical value 24.32.
#[test]
fn selection_frequency_matches_value_share() {
    let values = [1u64, 2, 3, 5, 8, 13, 21, 47];
    let n: u64 = values.iter().sum();
    let mut rng = SplitMix64(42);
    let coins: Vec<(OutPoint, Coin)> = values
        .iter()
        .map(|v| {
            (
                OutPoint {
                    txid: Txid::from_byte_array(rng.bytes()),
                    vout: (rng.next_u64() % 4) as u32,
                },
                coin(*v * 1_000_000),
            )
        })
        .collect();
    let utxo = UtxoSet::from_coins(100, 0, coins.clone()).unwrap();
    let trials = 40_000u64;
    let mut counts: BTreeMap<OutPoint, u64> = BTreeMap::new();
    for _ in 0..trials {
        let header: [u8; 160] = rng.bytes();
        let p = select_with_selector(&utxo, &q_selector_hash(&header)).unwrap();
        *counts.entry(p.outpoint).or_default() += 1;
    }
    let mut chi2 = 0.0;
    for (op, c) in &coins {
        let expected = trials as f64 * (c.output.value.to_sat() / 1_000_000) as f64 / n as f64;
        let observed = *counts.get(op).unwrap_or(&0) as f64;
        chi2 += (observed - expected).powi(2) / expected;
    }
    assert!(chi2 < 24.32, "chi-square {chi2} over the 0.1% bound");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The index's order and selections depend only on the set, not on insertion order, and
    /// equal a linear walk in (txid bytes, vout) order.
    #[test]
    fn canonical_order_is_independent_of_insertion_order(
        entries in proptest::collection::btree_map(
            (proptest::array::uniform32(any::<u8>()), 0u32..5),
            1u64..1_000_000,
            1..60,
        ),
        seed in any::<u64>(),
    ) {
        let list: Vec<(OutPoint, u64)> = entries
            .iter()
            .map(|((t, v), value)| (OutPoint { txid: Txid::from_byte_array(*t), vout: *v }, *value))
            .collect();
        let mut shuffled = list.clone();
        let mut rng = SplitMix64(seed);
        for i in (1..shuffled.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let mut a = EligibleIndex::new();
        let mut b = EligibleIndex::new();
        for (op, v) in &list { a.insert(outpoint_key(op), *v).unwrap(); }
        for (op, v) in &shuffled { b.insert(outpoint_key(op), *v).unwrap(); }
        let order_a: Vec<_> = a.iter().map(|(k, v)| (key_outpoint(k), v)).collect();
        let order_b: Vec<_> = b.iter().map(|(k, v)| (key_outpoint(k), v)).collect();
        prop_assert_eq!(&order_a, &order_b);
        // The reference order: txid's serialized bytes, then vout as an integer.
        let mut reference = list.clone();
        reference.sort_by(|x, y| x.0.txid.as_byte_array().cmp(y.0.txid.as_byte_array()).then(x.0.vout.cmp(&y.0.vout)));
        prop_assert_eq!(&order_a, &reference);
        let total: u64 = list.iter().map(|(_, v)| v).sum();
        for _ in 0..20 {
            let q = rng.next_u64() % total;
            let mut start = 0;
            let expected = reference.iter().find(|(_, v)| { let hit = q < start + v; if !hit { start += v; } hit }).unwrap();
            let sa = a.select(q).unwrap();
            prop_assert_eq!(key_outpoint(&sa.key), expected.0);
            prop_assert_eq!(b.select(q).unwrap(), sa);
        }
        // The selection through the UTXO set agrees for real selector hashes too.
        let utxo_a = UtxoSet::from_coins(1, 0, list.iter().map(|(o, v)| (*o, coin(*v)))).unwrap();
        let utxo_b = UtxoSet::from_coins(1, 0, shuffled.iter().map(|(o, v)| (*o, coin(*v)))).unwrap();
        let h = QSelectorHash::from_byte_array(rng.bytes());
        prop_assert_eq!(select_with_selector(&utxo_a, &h), select_with_selector(&utxo_b, &h));
    }
}

const ALLOC: &[(u64, u64)] = &[
    (100_000_000, 1),
    (200_000_000, 2),
    (300_000_000, 3),
    (400_000_000, 4),
];

/// A wallet that mines and spends at random, tracking what it can spend.
struct Actor {
    key: TestKey,
    coins: Vec<Spendable>,
    rng: SplitMix64,
    calls: u64,
}

impl Actor {
    fn new(t: &TestChain, seed: u64) -> Actor {
        Actor {
            key: TestKey::from_seed(1000 + seed),
            coins: genesis_spendables(&t.chain, ALLOC),
            rng: SplitMix64(seed),
            calls: 0,
        }
    }

    /// Random transactions spending some of the tracked coins (ones in the chain's UTXO set).
    fn random_txs(&mut self, t: &TestChain) -> Vec<bitcoin::Transaction> {
        self.coins
            .retain(|c| t.chain.utxo().get(&c.outpoint).is_some());
        let mut txs = Vec::new();
        // The first call always transacts, so every run exercises spends.
        let count = if self.calls == 0 {
            1
        } else {
            self.rng.next_u64() % 3
        };
        self.calls += 1;
        for _ in 0..count {
            if self.coins.is_empty() {
                break;
            }
            let take = 1 + (self.rng.next_u64() % 2) as usize;
            let mut inputs = Vec::new();
            for _ in 0..take.min(self.coins.len()) {
                let i = (self.rng.next_u64() % self.coins.len() as u64) as usize;
                inputs.push(self.coins.swap_remove(i));
            }
            let total: u64 = inputs.iter().map(|c| c.output.value.to_sat()).sum();
            let outs = 1 + self.rng.next_u64() % 3;
            let kind = if self.rng.next_u64().is_multiple_of(2) {
                Kind::P2wpkh
            } else {
                Kind::P2tr
            };
            let each = (total - 1_000) / outs;
            let outputs: Vec<TxOut> = (0..outs)
                .map(|_| TxOut {
                    value: Amount::from_sat(each),
                    script_pubkey: self.key.script(kind),
                })
                .collect();
            let tx = spend(&inputs, outputs);
            let txid = tx.compute_txid();
            for (vout, out) in tx.output.iter().enumerate() {
                self.coins.push(Spendable {
                    outpoint: OutPoint {
                        txid,
                        vout: vout as u32,
                    },
                    output: out.clone(),
                    key: self.key.clone(),
                    kind,
                });
            }
            txs.push(tx);
        }
        txs
    }
}

fn mine_random(
    t: &mut TestChain,
    actor: &mut Actor,
    shares: usize,
) -> Vec<p2share_consensus::Share> {
    let mut out = Vec::new();
    for _ in 0..shares {
        let txs = actor.random_txs(t);
        let script = actor.key.script(Kind::P2wpkh);
        let (share, _) = t.mine(&script, txs).unwrap();
        out.push(share);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Connecting shares and disconnecting them again restores every earlier UTXO set exactly.
    #[test]
    fn connect_then_disconnect_restores_the_exact_utxo_set(seed in any::<u64>(), len in 1usize..12) {
        let mut t = TestChain::new(test_params(2, ALLOC)).unwrap();
        let mut actor = Actor::new(&t, seed);
        let mut snapshots = vec![t.chain.utxo().snapshot()];
        for _ in 0..len {
            mine_random(&mut t, &mut actor, 1);
            snapshots.push(t.chain.utxo().snapshot());
        }
        // The random actor really transacted: its spends left the allocation partly spent.
        let spent_alloc = genesis_spendables(&t.chain, ALLOC).iter().filter(|c| t.chain.utxo().get(&c.outpoint).is_none()).count();
        prop_assert!(spent_alloc > 0, "no allocation output was ever spent");
        snapshots.pop();
        while let Some(expected) = snapshots.pop() {
            t.chain.disconnect_tip().unwrap();
            prop_assert_eq!(&t.chain.utxo().snapshot(), &expected);
        }
    }

    /// Whatever order two competing branches arrive in, the node ends on the most-work branch
    /// with exactly the UTXO set of applying that branch directly.
    #[test]
    fn reorg_equals_direct_application(seed in any::<u64>(), common in 0usize..4, len_a in 1usize..6, len_b in 1usize..6, interleave in any::<u64>()) {
        let mut base = TestChain::new(test_params(2, ALLOC)).unwrap();
        let mut actor = Actor::new(&base, seed);
        let prefix = mine_random(&mut base, &mut actor, common);
        let mut a = base.clone();
        let mut b = base.clone();
        let mut actor_b = Actor { key: TestKey::from_seed(seed ^ 0x55), coins: actor.coins.clone(), rng: SplitMix64(seed ^ 0xaa), calls: 0 };
        b.now += 1;
        let branch_a = mine_random(&mut a, &mut actor, len_a);
        let branch_b = mine_random(&mut b, &mut actor_b, len_b);
        // A third node receives the prefix, then both branches interleaved.
        let mut node = TestChain::new(test_params(2, ALLOC)).unwrap();
        for s in prefix { node.accept(s).unwrap(); }
        let (mut ia, mut ib) = (branch_a.iter(), branch_b.iter());
        let mut bits = interleave;
        loop {
            let pick_a = bits & 1 == 0;
            bits = bits.rotate_right(1);
            let next = if pick_a { ia.next().or_else(|| ib.next()) } else { ib.next().or_else(|| ia.next()) };
            let Some(s) = next else { break };
            let outcome = node.accept(s.clone()).unwrap();
            prop_assert!(outcome != AcceptOutcome::AlreadyKnown);
        }
        let winner = if b.chain.tip_work() > a.chain.tip_work() { &b } else if a.chain.tip_work() > b.chain.tip_work() { &a } else {
            // Equal work: the first-seen tip stays; check it is one of the two.
            prop_assert!(node.chain.tip_hash() == a.chain.tip_hash() || node.chain.tip_hash() == b.chain.tip_hash());
            if node.chain.tip_hash() == a.chain.tip_hash() { &a } else { &b }
        };
        prop_assert_eq!(node.chain.tip_hash(), winner.chain.tip_hash());
        prop_assert_eq!(node.chain.utxo().snapshot(), winner.chain.utxo().snapshot());
        prop_assert_eq!(node.chain.next_payout(), winner.chain.next_payout());
    }
}
