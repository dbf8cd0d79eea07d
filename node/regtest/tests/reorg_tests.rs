//! A competing longer branch reorganises the chain, and the index unwinds exactly.

mod common;

use bitcoin::{Amount, OutPoint};
use common::{pay, Harness};
use p2share_regtest::{ScriptHash, SubmitOutcome};
use p2share_testkit::{spend, Kind, TestKey};

#[test]
fn a_competing_longer_branch_reorganizes_and_the_index_unwinds() {
    let h = Harness::new();
    let coin = h.mature_coin();
    let fork = h.chain.tip();
    let before_fork = h.chain.read_index(|i| i.clone());

    // Branch A (2 blocks): pays `alice` from the mature coin.
    let alice = TestKey::from_seed(10);
    let alice_hash = ScriptHash::of(&alice.script(Kind::P2wpkh));
    let key_hash = ScriptHash::of(&h.key.script(Kind::P2wpkh));
    let history_at_fork = h.chain.script_history(&key_hash).len();
    let tx_a = spend(
        std::slice::from_ref(&coin),
        vec![pay(&alice, Amount::from_sat(49 * 100_000_000))],
    );
    let a1 = h.mine(vec![tx_a.clone()]);
    let a2 = h.mine(Vec::new());
    assert!(h.chain.tx_location(&tx_a.compute_txid()).is_some());
    assert_eq!(
        h.chain.spender(&coin.outpoint).unwrap().txid,
        tx_a.compute_txid()
    );
    assert_eq!(h.chain.script_history(&alice_hash).len(), 1);
    // spend of the coin + 2 coinbases
    assert_eq!(h.chain.script_history(&key_hash).len(), history_at_fork + 3);

    // Branch B (3 blocks) from the fork: spends the same coin to `bob` instead.
    let bob = TestKey::from_seed(11);
    let bob_hash = ScriptHash::of(&bob.script(Kind::P2wpkh));
    let tx_b = spend(
        std::slice::from_ref(&coin),
        vec![pay(&bob, Amount::from_sat(48 * 100_000_000))],
    );
    let t = fork.header.time + 1;
    let fee_b = Amount::from_sat(2 * 100_000_000);

    // A side-branch block that overpays its coinbase is named, even off the tip: the
    // pre-checks replay the branch's coins.
    let bad = h.block_on(
        fork.hash,
        fork.height + 1,
        t,
        vec![tx_b.clone()],
        fee_b + Amount::from_sat(1),
        b"B",
    );
    assert_eq!(
        h.chain.submit_block(&bad),
        SubmitOutcome::Rejected {
            reason: "bad-cb-amount".into()
        }
    );

    let b1 = h.block_on(
        fork.hash,
        fork.height + 1,
        t,
        vec![tx_b.clone()],
        fee_b,
        b"B",
    );
    assert_eq!(
        h.chain.submit_block(&b1),
        SubmitOutcome::Accepted { new_tip: false }
    );
    let b2 = h.block_on(
        b1.block_hash(),
        fork.height + 2,
        t + 1,
        Vec::new(),
        Amount::ZERO,
        b"B",
    );
    assert_eq!(
        h.chain.submit_block(&b2),
        SubmitOutcome::Accepted { new_tip: false }
    );
    assert_eq!(
        h.chain.tip().hash,
        a2.block_hash(),
        "equal work: the first seen stays"
    );
    assert!(!h.chain.header(&b2.block_hash()).unwrap().in_active_chain);
    assert_eq!(h.chain.header(&b2.block_hash()).unwrap().confirmations, -1);
    let b3 = h.block_on(
        b2.block_hash(),
        fork.height + 3,
        t + 2,
        Vec::new(),
        Amount::ZERO,
        b"B",
    );
    assert_eq!(
        h.chain.submit_block(&b3),
        SubmitOutcome::Accepted { new_tip: true }
    );

    // The chain moved to B.
    let tip = h.chain.tip();
    assert_eq!((tip.hash, tip.height), (b3.block_hash(), fork.height + 3));
    assert_eq!(h.chain.block_hash(fork.height + 1), Some(b1.block_hash()));
    assert!(!h.chain.header(&a1.block_hash()).unwrap().in_active_chain);

    // The index unwound A: its txids are gone, the coin it spent was unspent and then spent
    // by B, alice's history is empty, the key's history lost A's entries.
    assert!(h.chain.tx_location(&tx_a.compute_txid()).is_none());
    assert!(h.chain.tx_location(&a1.txdata[0].compute_txid()).is_none());
    assert!(h.chain.tx_location(&a2.txdata[0].compute_txid()).is_none());
    assert!(h
        .chain
        .utxo(&OutPoint::new(tx_a.compute_txid(), 0))
        .is_none());
    assert!(h.chain.script_history(&alice_hash).is_empty());
    assert!(h.chain.script_utxos(&alice_hash).is_empty());
    assert_eq!(
        h.chain.spender(&coin.outpoint).unwrap().txid,
        tx_b.compute_txid()
    );
    assert_eq!(h.chain.script_history(&bob_hash).len(), 1);
    assert_eq!(h.chain.script_history(&key_hash).len(), history_at_fork + 4);
    assert_eq!(h.chain.confirmations(&tx_b.compute_txid()), Some(3));

    // Exactly: disconnecting B's blocks from the live index gives the index at the fork.
    let mut unwound = h.chain.read_index(|i| i.clone());
    let replayed_b = unwound.clone();
    for _ in 0..3 {
        assert!(unwound.tip_hash().is_some());
        unwound.disconnect_tip();
    }
    assert_eq!(unwound, before_fork);

    // And a reopened chain (index rebuilt from the kernel) has the same index.
    let h = h.reopen();
    assert_eq!(h.chain.read_index(|i| i.clone()), replayed_b);
    assert_eq!(h.chain.tip().hash, b3.block_hash());

    // Branch A comes back with more work: the coin is spent by A again, B's tx is gone.
    let a3 = h.block_on(
        a2.block_hash(),
        fork.height + 3,
        a2.header.time + 1,
        Vec::new(),
        Amount::ZERO,
        b"A",
    );
    assert_eq!(
        h.chain.submit_block(&a3),
        SubmitOutcome::Accepted { new_tip: false }
    );
    let a4 = h.block_on(
        a3.block_hash(),
        fork.height + 4,
        a2.header.time + 2,
        Vec::new(),
        Amount::ZERO,
        b"A",
    );
    assert_eq!(
        h.chain.submit_block(&a4),
        SubmitOutcome::Accepted { new_tip: true }
    );
    assert_eq!(
        h.chain.spender(&coin.outpoint).unwrap().txid,
        tx_a.compute_txid()
    );
    assert!(h.chain.tx_location(&tx_b.compute_txid()).is_none());
    assert!(h.chain.script_history(&bob_hash).is_empty());
    assert_eq!(h.chain.script_history(&alice_hash).len(), 1);
}
