//! The mempool: Core's reject reasons for double spends, immature coinbase spends, non-final
//! transactions and bad scripts; replace-by-fee; CPFP children and template dependencies;
//! eviction under the size bound; following blocks and reorgs.
#![allow(clippy::unwrap_used)]

mod node_support;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, Sequence, Txid};
use node_support::{now, output_coin, pay, spend_fee, NodeHarness};
use p2share_regtest::blockbuilder::{grind, regtest_target, BlockAssembler};
use p2share_regtest::{MempoolConfig, Policy, SubmitOutcome};
use p2share_testkit::{spend, spend_with, Kind, Spendable, TestKey};

#[test]
fn a_double_spend_without_enough_fee_is_refused_and_a_higher_fee_replacement_replaces() {
    let h = NodeHarness::new();
    let coin = h.mature_coins(1).remove(0);
    let alice = TestKey::from_seed(2);
    let bob = TestKey::from_seed(3);

    let first = spend_fee(&coin, &alice, 1_000);
    let first_id = h.send(&first).unwrap();
    assert!(h.node.mempool().contains(&first_id));

    // Same fee: not a higher feerate, not more fee.
    h.assert_refused(&spend_fee(&coin, &bob, 1_000), "insufficient fee");
    // A higher feerate but not enough extra fee to pay for its own relay (rule 4).
    h.assert_refused(&spend_fee(&coin, &bob, 1_050), "insufficient fee");

    let replacement = spend_fee(&coin, &bob, 5_000);
    let accepted = h.node.test_mempool_accept(&replacement).unwrap();
    assert_eq!(accepted.replaced, vec![first_id]);
    let id = h.send(&replacement).unwrap();
    let pool = h.node.mempool();
    assert!(pool.contains(&id));
    assert!(!pool.contains(&first_id));
    assert_eq!(pool.spender(&coin.outpoint).map(|(t, _)| t), Some(id));
    assert_eq!(pool.fee(&id), Some(Amount::from_sat(5_000)));
}

#[test]
fn without_full_rbf_a_non_signalling_conflict_is_refused_as_a_mempool_conflict() {
    let config = MempoolConfig {
        full_rbf: false,
        ..MempoolConfig::default()
    };
    let h = NodeHarness::with(Policy::default(), config);
    let coin = h.mature_coins(1).remove(0);
    let alice = TestKey::from_seed(2);
    let final_seq = [Sequence::MAX.0];
    let out = vec![pay(&alice, coin.output.value - Amount::from_sat(1_000))];
    let first = spend_with(std::slice::from_ref(&coin), out, 2, 0, &final_seq);
    h.send(&first).unwrap();
    let out = vec![pay(&alice, coin.output.value - Amount::from_sat(50_000))];
    let second = spend_with(std::slice::from_ref(&coin), out, 2, 0, &final_seq);
    h.assert_refused(&second, "txn-mempool-conflict");
}

#[test]
fn an_immature_coinbase_spend_is_refused() {
    let h = NodeHarness::new();
    let hashes = h.mine(101);
    // The last block's coinbase has 1 confirmation.
    let young = h.coinbase_coin(hashes.last().unwrap());
    h.assert_refused(
        &spend_fee(&young, &h.key, 1_000),
        "bad-txns-premature-spend-of-coinbase",
    );
    // Block 2's coinbase: the next block (102) is exactly 100 after it.
    let mature = h.coinbase_coin(&hashes[1]);
    h.send(&spend_fee(&mature, &h.key, 1_000)).unwrap();
}

#[test]
fn non_final_and_sequence_locked_transactions_are_refused_until_their_height() {
    let h = NodeHarness::new();
    let coins = h.mature_coins(2);
    let tip = h.node.chain().tip().height;
    let out = |c: &Spendable| vec![pay(&h.key, c.output.value - Amount::from_sat(1_000))];

    // Locktime tip+2: final only in blocks above tip+2 (Core's IsFinalTx: lock < height).
    let locked = spend_with(
        std::slice::from_ref(&coins[0]),
        out(&coins[0]),
        2,
        tip + 2,
        &[Sequence::ENABLE_LOCKTIME_NO_RBF.0],
    );
    h.assert_refused(&locked, "non-final");

    // BIP-68: 10 blocks after its coin's confirmation (the coin is 101 deep: fine); a
    // relative lock of 200 blocks is not.
    let relative = spend_with(
        std::slice::from_ref(&coins[1]),
        out(&coins[1]),
        2,
        0,
        &[200],
    );
    h.assert_refused(&relative, "non-BIP68-final");

    h.mine(1);
    h.assert_refused(&locked, "non-final");
    h.mine(1);
    h.send(&locked).unwrap();
}

#[test]
fn a_bad_script_is_refused_with_the_failing_input() {
    let h = NodeHarness::new();
    let mut coin = h.mature_coins(1).remove(0);
    coin.key = TestKey::from_seed(99); // signs with the wrong key
    h.assert_refused(
        &spend_fee(&coin, &h.key, 1_000),
        "mandatory-script-verify-flag-failed (input 0)",
    );
}

#[test]
fn missing_inputs_overspends_and_fee_floors_have_their_reasons() {
    let h = NodeHarness::new();
    let coin = h.mature_coins(1).remove(0);
    let ghost = Spendable {
        outpoint: OutPoint::new(Txid::from_byte_array([7; 32]), 0),
        ..coin.clone()
    };
    let tx = spend_fee(&ghost, &h.key, 1_000);
    let err = h.node.test_mempool_accept(&tx).unwrap_err();
    assert_eq!(err.test_accept_reason(), "missing-inputs");
    h.assert_refused(&tx, "bad-txns-inputs-missingorspent");

    let over = spend(
        std::slice::from_ref(&coin),
        vec![pay(&h.key, coin.output.value + Amount::from_sat(1))],
    );
    h.assert_refused(&over, "bad-txns-in-belowout");
    h.assert_refused(&spend_fee(&coin, &h.key, 50), "min relay fee not met");

    let ok = spend_fee(&coin, &h.key, 1_000);
    h.send(&ok).unwrap();
    h.assert_refused(&ok, "txn-already-in-mempool");
}

#[test]
fn a_child_of_a_mempool_tx_is_accepted_and_its_template_depends_on_the_parent() {
    let h = NodeHarness::new();
    let coins = h.mature_coins(2);
    let alice = TestKey::from_seed(2);
    // A low-fee parent, a high-fee child (CPFP), and an unrelated middle-fee transaction.
    let parent = spend_fee(&coins[0], &alice, 200);
    let child = spend_fee(&output_coin(&parent, 0, &alice), &h.key, 20_000);
    let other = spend_fee(&coins[1], &h.key, 1_000);
    let parent_id = h.send(&parent).unwrap();
    let child_id = h.send(&child).unwrap();
    let other_id = h.send(&other).unwrap();

    let entry = h.node.mempool().entry(&child_id).unwrap();
    assert_eq!(entry.depends, vec![parent_id]);
    assert_eq!(entry.ancestor_count, 2);
    assert_eq!(entry.ancestor_fees, Amount::from_sat(20_200));

    let template = h.node.block_template(now());
    let order: Vec<Txid> = template.transactions.iter().map(|t| t.txid).collect();
    // The parent+child package pays more per vbyte than `other`: it goes first.
    assert_eq!(order, vec![parent_id, child_id, other_id]);
    assert_eq!(template.transactions[1].depends, vec![1]);
    assert!(template.transactions[0].depends.is_empty());
    let json = template.to_json();
    assert_eq!(json["transactions"][1]["depends"], serde_json::json!([1]));

    // Mining the template confirms all three and empties the pool.
    h.mine(1);
    assert!(h.node.mempool().is_empty());
    for id in [parent_id, child_id, other_id] {
        assert!(h.node.chain().tx_location(&id).is_some());
    }
}

#[test]
fn over_the_size_bound_the_lowest_feerate_is_evicted() {
    // Each 1-in-1-out P2WPKH spend counts about 591 bytes (191 serialized + 400 overhead):
    // three fit in 2,000 bytes, four do not.
    let config = MempoolConfig {
        max_bytes: 2_000,
        ..MempoolConfig::default()
    };
    let h = NodeHarness::with(Policy::default(), config);
    let coins = h.mature_coins(5);
    let fees = [2_000u64, 5_000, 3_000];
    let ids: Vec<Txid> = coins
        .iter()
        .zip(fees)
        .map(|(c, f)| h.send(&spend_fee(c, &h.key, f)).unwrap())
        .collect();
    assert_eq!(h.node.mempool().len(), 3);

    let rich = h.send(&spend_fee(&coins[3], &h.key, 10_000)).unwrap();
    let pool = h.node.mempool();
    assert_eq!(pool.len(), 3);
    assert!(!pool.contains(&ids[0]), "the 2,000-sat tx is evicted");
    assert!(pool.contains(&ids[1]) && pool.contains(&ids[2]) && pool.contains(&rich));
    assert!(pool.usage() <= 2_000);
    // The floor rose above the evicted feerate.
    assert!(pool.min_feerate() > 2_000 * 1000 / 110);
    drop(pool);
    h.assert_refused(
        &spend_fee(&coins[4], &h.key, 1_500),
        "mempool min fee not met",
    );
}

#[test]
fn mining_a_block_removes_its_txs_and_their_conflicts() {
    let h = NodeHarness::new();
    let coins = h.mature_coins(2);
    let alice = TestKey::from_seed(2);
    let a = h.send(&spend_fee(&coins[0], &alice, 1_000)).unwrap();
    let info = h.node.mempool_info();
    assert_eq!(info.size, 1);
    assert_eq!(info.total_fee, Amount::from_sat(1_000));

    // A block mined by someone else confirms a conflicting spend of coins[1] while the pool
    // holds another spend of it (and a child of that).
    let b = spend_fee(&coins[1], &alice, 1_000);
    let b_id = h.send(&b).unwrap();
    let b_child = h
        .send(&spend_fee(&output_coin(&b, 0, &alice), &alice, 1_000))
        .unwrap();
    let rival = spend_fee(&coins[1], &h.key, 3_000);
    let tip = h.node.chain().tip();
    let mut asm = BlockAssembler::new(
        tip.hash,
        tip.height + 1,
        tip.header.time + 1,
        h.key.script(Kind::P2wpkh),
    );
    asm.coinbase_value += Amount::from_sat(3_000);
    let mut block = asm.assemble(vec![rival.clone()]);
    assert!(grind(&mut block, regtest_target(), 1_000));
    assert_eq!(
        h.node.submit_block(&block),
        SubmitOutcome::Accepted { new_tip: true }
    );
    let pool = h.node.mempool();
    assert!(pool.contains(&a));
    assert!(!pool.contains(&b_id) && !pool.contains(&b_child));
    drop(pool);

    // A block from the template confirms `a`.
    h.mine(1);
    assert!(h.node.mempool().is_empty());
    assert!(h.node.chain().tx_location(&a).is_some());
}

#[test]
fn a_reorg_readmits_the_disconnected_txs() {
    let h = NodeHarness::new();
    let coins = h.mature_coins(2);
    let alice = TestKey::from_seed(2);
    let fork = h.node.chain().tip();
    let kept = spend_fee(&coins[0], &alice, 1_000);
    let lost = spend_fee(&coins[1], &alice, 1_000);
    let kept_id = h.send(&kept).unwrap();
    let lost_id = h.send(&lost).unwrap();
    let mined = h.mine(1);
    assert!(h.node.mempool().is_empty());
    assert_eq!(
        h.node.chain().tx_location(&kept_id).unwrap().block_hash,
        mined[0]
    );

    // A longer branch from the fork confirms a rival spend of coins[1].
    let rival = spend_fee(&coins[1], &h.key, 2_000);
    let mut parent = fork.hash;
    for i in 0..2u32 {
        let height = fork.height + 1 + i;
        let mut asm = BlockAssembler::new(
            parent,
            height,
            fork.header.time + 10 + i,
            h.key.script(Kind::P2wpkh),
        );
        asm.coinbase_extra = b"branch".to_vec();
        let txs = if i == 0 {
            vec![rival.clone()]
        } else {
            Vec::new()
        };
        if i == 0 {
            asm.coinbase_value += Amount::from_sat(2_000);
        }
        let mut block = asm.assemble(txs);
        assert!(grind(&mut block, regtest_target(), 1_000));
        let outcome = h.node.submit_block(&block);
        assert!(
            matches!(outcome, SubmitOutcome::Accepted { .. }),
            "{outcome:?}"
        );
        parent = block.block_hash();
    }
    assert_eq!(h.node.chain().tip().hash, parent);
    assert!(h.node.chain().tx_location(&kept_id).is_none());

    let pool = h.node.mempool();
    assert!(pool.contains(&kept_id), "the disconnected tx is back");
    assert!(!pool.contains(&lost_id), "its rival is confirmed: dropped");
    assert_eq!(pool.len(), 1);
    drop(pool);
    let template = h.node.block_template(now());
    assert_eq!(template.transactions.len(), 1);
    assert_eq!(template.transactions[0].txid, kept_id);
}
