//! Block templates: a block the test assembles from `getblocktemplate`'s answer is accepted and
//! the tip moves; the devnet's stricter target is the template's `target`, and a block meeting
//! only Core's target is refused with `high-hash`.
#![allow(clippy::unwrap_used)]

mod node_support;

use std::time::Duration;

use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute::LockTime, transaction, Amount, Block, OutPoint, Sequence, Target, Transaction, TxIn,
    TxMerkleNode, TxOut, Witness,
};
use node_support::{now, output_coin, spend_fee, NodeHarness};
use p2share_regtest::blockbuilder::{
    block_subsidy, coinbase_script_sig, grind, regtest_target, update_merkle_root,
};
use p2share_regtest::template::target_hex;
use p2share_regtest::{BlockTemplate, MempoolConfig, Policy, SubmitOutcome};
use p2share_testkit::{Kind, TestKey};

/// The block a miner builds from `t` by hand: its own coinbase (BIP34 height, `coinbasevalue`
/// plus `extra`, the witness commitment), the template's transactions, the merkle root.
fn block_from_template(t: &BlockTemplate, key: &TestKey, extra: u64) -> Block {
    let mut output = vec![TxOut {
        value: t.coinbase_value + Amount::from_sat(extra),
        script_pubkey: key.script(Kind::P2wpkh),
    }];
    let mut witness = Witness::new();
    if let Some(commitment) = &t.default_witness_commitment {
        output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: commitment.clone(),
        });
        witness = Witness::from_slice(&[[0u8; 32]]);
    }
    let coinbase = Transaction {
        version: transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: coinbase_script_sig(t.height, b"by hand"),
            sequence: Sequence::MAX,
            witness,
        }],
        output,
    };
    let mut txdata = vec![coinbase];
    txdata.extend(t.transaction_list());
    let mut block = Block {
        header: Header {
            version: Version::from_consensus(t.version),
            prev_blockhash: t.previous_block_hash,
            merkle_root: TxMerkleNode::all_zeros(),
            time: t.cur_time,
            bits: t.bits,
            nonce: 0,
        },
        txdata,
    };
    update_merkle_root(&mut block);
    block
}

#[test]
fn a_block_assembled_from_the_template_is_accepted_and_the_tip_moves() {
    let h = NodeHarness::new();
    let coins = h.mature_coins(2);
    let alice = TestKey::from_seed(2);
    let parent = spend_fee(&coins[0], &alice, 1_000);
    let child = spend_fee(&output_coin(&parent, 0, &alice), &h.key, 4_000);
    let other = spend_fee(&coins[1], &h.key, 2_000);
    let seen = h.node.change_generation();
    for tx in [&parent, &child, &other] {
        h.send(tx).unwrap();
    }
    // Long pollers wake on mempool changes.
    assert_ne!(h.node.wait_for_change(seen, Duration::from_secs(1)), seen);

    let tip = h.node.chain().tip();
    let t = h.node.block_template(now());
    assert_eq!(t.previous_block_hash, tip.hash);
    assert_eq!(t.height, tip.height + 1);
    assert_eq!(t.transactions.len(), 3);
    assert_eq!(
        t.coinbase_value,
        block_subsidy(t.height) + Amount::from_sat(7_000)
    );
    assert_eq!(t.min_time, tip.median_time_past + 1);
    assert!(t.cur_time >= t.min_time);
    assert!(t.default_witness_commitment.is_some());

    let json = t.to_json();
    assert_eq!(json["previousblockhash"], tip.hash.to_string());
    assert_eq!(json["height"], t.height);
    assert_eq!(json["version"], 0x2000_0000);
    assert_eq!(json["bits"], "207fffff");
    assert_eq!(json["target"], target_hex(regtest_target()));
    assert_eq!(json["coinbasevalue"], t.coinbase_value.to_sat());
    assert_eq!(json["weightlimit"], 4_000_000);
    assert_eq!(json["sigoplimit"], 80_000);
    assert_eq!(json["sizelimit"], 4_000_000);
    assert_eq!(json["noncerange"], "00000000ffffffff");
    assert_eq!(json["capabilities"], serde_json::json!(["proposal"]));
    assert_eq!(json["transactions"].as_array().unwrap().len(), 3);
    let first = &json["transactions"][0];
    assert_eq!(first["txid"], parent.compute_txid().to_string());
    assert_eq!(first["hash"], parent.compute_wtxid().to_string());
    assert_eq!(first["fee"], 1_000);
    assert_eq!(
        first["data"],
        bitcoin::consensus::encode::serialize_hex(&parent)
    );
    assert!(json["default_witness_commitment"]
        .as_str()
        .unwrap()
        .starts_with("6a24aa21a9ed"));
    assert!(json["longpollid"]
        .as_str()
        .unwrap()
        .starts_with(&tip.hash.to_string()));

    // A coinbase paying one satoshi more than `coinbasevalue` is refused.
    let mut greedy = block_from_template(&t, &h.key, 1);
    assert!(grind(&mut greedy, t.target, 1_000));
    assert_eq!(
        h.node.submit_block(&greedy),
        SubmitOutcome::Rejected {
            reason: "bad-cb-amount".into()
        }
    );

    let mut block = block_from_template(&t, &h.key, 0);
    assert!(grind(&mut block, t.target, 1_000));
    assert_eq!(
        h.node.submit_block(&block),
        SubmitOutcome::Accepted { new_tip: true }
    );
    assert_eq!(h.node.chain().tip().hash, block.block_hash());
    assert!(h.node.mempool().is_empty());
    // The next template builds on it, and its long-poll id changed.
    let next = h.node.block_template(now());
    assert_eq!(next.previous_block_hash, block.block_hash());
    assert_ne!(next.longpollid, t.longpollid);
    assert!(next.transactions.is_empty());
    assert!(next.default_witness_commitment.is_none());
}

#[test]
fn the_stricter_policy_target_is_in_the_template_and_a_block_meeting_only_cores_is_high_hash() {
    // 256 times harder than regtest's target.
    let mut bytes = [0u8; 32];
    bytes[1..4].copy_from_slice(&[0x7f, 0xff, 0xff]);
    let strict = Target::from_be_bytes(bytes);
    let h = NodeHarness::with(
        Policy {
            block_target: Some(strict),
        },
        MempoolConfig::default(),
    );
    h.mine(3);
    let t = h.node.block_template(now());
    assert_eq!(t.target, strict);
    assert_eq!(t.bits.to_consensus(), 0x207f_ffff);
    assert_eq!(t.to_json()["target"], target_hex(strict));
    assert_eq!(t.to_json()["bits"], "207fffff");

    // A hash meeting Core's target but not the policy's.
    let mut block = block_from_template(&t, &h.key, 0);
    loop {
        let hash = block.block_hash();
        if regtest_target().is_met_by(hash) && !strict.is_met_by(hash) {
            break;
        }
        block.header.nonce += 1;
    }
    let tip = h.node.chain().tip();
    assert_eq!(
        h.node.submit_block(&block),
        SubmitOutcome::Rejected {
            reason: "high-hash".into()
        }
    );
    assert_eq!(h.node.chain().tip(), tip);

    assert!(grind(&mut block, strict, 1_000_000));
    assert_eq!(
        h.node.submit_block(&block),
        SubmitOutcome::Accepted { new_tip: true }
    );
}
