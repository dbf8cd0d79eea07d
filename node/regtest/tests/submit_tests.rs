//! `submitblock`: blocks the test assembles itself are accepted; invalid ones are refused with
//! Bitcoin Core's reason, the tip stays, and the kernel alone refuses them too.

mod common;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, Block, BlockHash, OutPoint, Target, TxOut};
use common::{pay, regrind, Harness};
use p2share_regtest::blockbuilder::{
    block_subsidy, grind, grind_above, regtest_target, update_merkle_root,
};
use p2share_regtest::{Policy, ScriptHash, SubmitOutcome};
use p2share_testkit::{spend, Kind, Spendable, TestKey};

fn rejected(reason: &str) -> SubmitOutcome {
    SubmitOutcome::Rejected {
        reason: reason.to_owned(),
    }
}

/// Submits `block`, expecting `reason`; checks the tip did not move, and that the kernel
/// alone (no pre-checks) refuses it as well.
fn assert_refused(h: &Harness, block: &Block, reason: &str) {
    let tip = h.chain.tip();
    assert_eq!(
        h.chain.submit_block(block),
        rejected(reason),
        "expected {reason}"
    );
    assert_eq!(h.chain.tip(), tip, "tip moved on {reason}");
    let kernel = h.chain.submit_block_kernel_only(block);
    assert!(
        matches!(kernel, SubmitOutcome::Rejected { .. }),
        "the kernel alone accepted a {reason} block: {kernel:?}"
    );
    assert_eq!(h.chain.tip(), tip, "tip moved on {reason} (kernel only)");
}

#[test]
fn block_assembled_by_the_test_is_accepted_and_the_tip_moves() {
    let h = Harness::new();
    assert_eq!(h.chain.tip().height, 0);
    let coin = h.mature_coin();
    assert_eq!(h.chain.tip().height, 101);

    // A segwit spend: the block needs a witness commitment.
    let recipient = TestKey::from_seed(2);
    let tx = spend(
        std::slice::from_ref(&coin),
        vec![
            pay(&recipient, Amount::from_sat(30 * 100_000_000)),
            pay(&h.key, Amount::from_sat(1_999_990_000)),
        ],
    );
    let txid = tx.compute_txid();
    let block = h.next_block(vec![tx]);
    assert!(
        block.txdata[0].output.len() == 2,
        "witness commitment output"
    );
    // Fee of 10,000 sat goes to the coinbase.
    assert_eq!(
        block.txdata[0].output[0].value,
        block_subsidy(102) + Amount::from_sat(10_000)
    );
    let outcome = h.chain.submit_block(&block);
    assert_eq!(outcome, SubmitOutcome::Accepted { new_tip: true });
    let tip = h.chain.tip();
    assert_eq!(tip.hash, block.block_hash());
    assert_eq!(tip.height, 102);
    assert_eq!(h.chain.block_hash(102), Some(block.block_hash()));
    assert_eq!(h.chain.block(&block.block_hash()), Some(block.clone()));
    let info = h.chain.header(&block.block_hash()).unwrap();
    assert!(info.in_active_chain);
    assert_eq!(info.confirmations, 1);

    // The index saw it.
    let loc = h.chain.tx_location(&txid).unwrap();
    assert_eq!(
        (loc.block_hash, loc.height, loc.position),
        (block.block_hash(), 102, 1)
    );
    assert_eq!(h.chain.confirmations(&txid), Some(1));
    let spender = h.chain.spender(&coin.outpoint).unwrap();
    assert_eq!((spender.txid, spender.vin), (txid, 0));
    assert!(h.chain.utxo(&coin.outpoint).is_none());
    let to_recipient = ScriptHash::of(&recipient.script(Kind::P2wpkh));
    assert_eq!(h.chain.script_history(&to_recipient).len(), 1);
    let utxos = h.chain.script_utxos(&to_recipient);
    assert_eq!(utxos.len(), 1);
    assert_eq!(utxos[0].0, OutPoint::new(txid, 0));
    // Esplora's script hash is the plain SHA256 of the script, shown forward.
    assert_eq!(
        to_recipient.to_string(),
        bitcoin::hashes::sha256::Hash::hash(recipient.script(Kind::P2wpkh).as_bytes()).to_string()
    );

    h.mine_empty(1);
    assert_eq!(h.chain.confirmations(&txid), Some(2));
    assert_eq!(
        h.chain.header(&block.block_hash()).unwrap().confirmations,
        2
    );
}

#[test]
fn invalid_blocks_are_refused_with_cores_reason_and_the_tip_stays() {
    let h = Harness::new();
    let coin = h.mature_coin();

    // high-hash: the header misses its own target.
    let mut b = h.next_block(Vec::new());
    assert!(grind_above(&mut b, regtest_target(), 1_000));
    assert_refused(&h, &b, "high-hash");

    // bad-txnmrklroot: the header commits to other transactions.
    let mut b = h.next_block(Vec::new());
    b.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    regrind(&mut b);
    assert_refused(&h, &b, "bad-txnmrklroot");

    // bad-cb-amount: the coinbase claims one satoshi more than subsidy + fees.
    let mut a = h.assembler(&[]);
    a.coinbase_value += Amount::from_sat(1);
    let mut b = a.assemble(Vec::new());
    regrind(&mut b);
    assert_refused(&h, &b, "bad-cb-amount");

    // bad-cb-height: the coinbase commits to the wrong height (BIP34).
    let mut a = h.assembler(&[]);
    a.height += 1;
    a.coinbase_value = block_subsidy(h.chain.tip().height + 1);
    let mut b = a.assemble(Vec::new());
    regrind(&mut b);
    assert_refused(&h, &b, "bad-cb-height");

    // time-too-old: not after the parent's median time past.
    let mut a = h.assembler(&[]);
    a.time = h.chain.tip().median_time_past;
    let mut b = a.assemble(Vec::new());
    regrind(&mut b);
    assert_refused(&h, &b, "time-too-old");

    // bad-diffbits: a harder target than regtest's (met anyway, by grinding).
    let mut a = h.assembler(&[]);
    a.bits = bitcoin::CompactTarget::from_consensus(0x2000_ffff);
    let mut b = a.assemble(Vec::new());
    assert!(grind(&mut b, Target::from_compact(a.bits), 100_000));
    assert_refused(&h, &b, "bad-diffbits");

    // bad-txns-inputs-missingorspent: spends an output that never existed.
    let ghost = Spendable {
        outpoint: OutPoint::new(bitcoin::Txid::from_byte_array([9; 32]), 0),
        ..coin.clone()
    };
    let tx = spend(&[ghost], vec![pay(&h.key, Amount::from_sat(1_000))]);
    let b = h.next_block(vec![tx]);
    assert_refused(&h, &b, "bad-txns-inputs-missingorspent");

    // bad-txns-premature-spend-of-coinbase: the tip's own coinbase is immature.
    let fresh = h.coinbase_spendable(&h.chain.block(&h.chain.tip().hash).unwrap());
    let tx = spend(&[fresh], vec![pay(&h.key, Amount::from_sat(1_000))]);
    let b = h.next_block(vec![tx]);
    assert_refused(&h, &b, "bad-txns-premature-spend-of-coinbase");

    // bad-witness-merkle-match: the witness commitment does not match.
    let tx = spend(
        std::slice::from_ref(&coin),
        vec![pay(&h.key, Amount::from_sat(1_000))],
    );
    let mut b = h.next_block(vec![tx]);
    let commitment = &mut b.txdata[0].output[1].script_pubkey;
    let mut bytes = commitment.to_bytes();
    bytes[37] ^= 1;
    *commitment = bitcoin::ScriptBuf::from_bytes(bytes);
    update_merkle_root(&mut b);
    regrind(&mut b);
    assert_refused(&h, &b, "bad-witness-merkle-match");

    // bad-txns-duplicate: the same transaction twice (CVE-2012-2459 mutation).
    let mut b = h.next_block(Vec::new());
    let twin = b.txdata[0].clone();
    b.txdata.push(twin);
    update_merkle_root(&mut b);
    regrind(&mut b);
    assert_refused(&h, &b, "bad-txns-duplicate");

    // bad-cb-multiple: a second (different) coinbase.
    let mut b = h.next_block(Vec::new());
    let mut extra = b.txdata[0].clone();
    extra.input[0].script_sig = bitcoin::ScriptBuf::from_bytes(vec![0x51, 0x51, 0x51]);
    b.txdata.push(extra);
    update_merkle_root(&mut b);
    regrind(&mut b);
    assert_refused(&h, &b, "bad-cb-multiple");

    // prev-blk-not-found: the parent is unknown.
    let mut a = h.assembler(&[]);
    a.prev_blockhash = BlockHash::from_byte_array([7; 32]);
    let mut b = a.assemble(Vec::new());
    regrind(&mut b);
    assert_refused(&h, &b, "prev-blk-not-found");

    // The valid spend, then a block double-spending it.
    let tx = spend(
        std::slice::from_ref(&coin),
        vec![pay(&h.key, Amount::from_sat(1_000))],
    );
    h.mine(vec![tx]);
    let again = spend(
        std::slice::from_ref(&coin),
        vec![pay(&h.key, Amount::from_sat(2_000))],
    );
    let b = h.next_block(vec![again]);
    assert_refused(&h, &b, "bad-txns-inputs-missingorspent");

    // duplicate: a block already on the chain.
    let tip = h.chain.tip();
    let block = h.chain.block(&tip.hash).unwrap();
    assert_eq!(h.chain.submit_block(&block), SubmitOutcome::Duplicate);
    assert_eq!(h.chain.tip(), tip);

    // And after all that, a valid block is still accepted.
    h.mine(Vec::new());
}

#[test]
fn a_block_failing_only_in_connect_is_refused_even_though_the_kernel_stores_it() {
    // The kernel answers "new block" for a block that then fails ConnectBlock; the outcome
    // must still be a rejection, and the tip must not move.
    let h = Harness::new();
    h.mine_empty(1);
    let mut a = h.assembler(&[]);
    a.coinbase_value += Amount::from_sat(1);
    let mut b = a.assemble(Vec::new());
    regrind(&mut b);
    let tip = h.chain.tip();
    assert_eq!(
        h.chain.submit_block_kernel_only(&b),
        rejected("consensus-invalid")
    );
    assert_eq!(h.chain.tip(), tip);
    // Resubmitting a block the kernel holds as invalid.
    assert_eq!(h.chain.submit_block(&b), rejected("duplicate-invalid"));
}

#[test]
fn the_stricter_policy_target_refuses_a_block_the_kernel_alone_accepts() {
    // 2^-4 of regtest's target: about one regtest-valid hash in 16 meets it.
    let policy_target = Target::from_be_bytes({
        let mut t = [0u8; 32];
        t[0] = 0x07;
        t[1] = 0xff;
        t[2] = 0xff;
        t
    });
    let h = Harness::with_policy(Policy {
        block_target: Some(policy_target),
    });
    // A block meeting regtest's target but not the policy's.
    let mut b = h.next_block(Vec::new());
    loop {
        assert!(grind(&mut b, regtest_target(), 1_000));
        if !policy_target.is_met_by(b.block_hash()) {
            break;
        }
        b.header.nonce += 1;
    }
    assert_eq!(h.chain.submit_block(&b), rejected("high-hash"));
    assert_eq!(h.chain.tip().height, 0);
    // The kernel alone would take it.
    assert_eq!(
        h.chain.submit_block_kernel_only(&b),
        SubmitOutcome::Accepted { new_tip: true }
    );
    assert_eq!(h.chain.tip().hash, b.block_hash());

    // A block meeting the policy target is accepted through the normal path.
    let mut b = h.next_block(Vec::new());
    assert!(grind(&mut b, policy_target, 10_000));
    assert_eq!(
        h.chain.submit_block(&b),
        SubmitOutcome::Accepted { new_tip: true }
    );
    assert_eq!(h.chain.tip().height, 2);
}

#[test]
fn a_segwit_spend_in_the_same_block_as_its_funding_is_accepted() {
    let h = Harness::new();
    let coin = h.mature_coin();
    let mid = TestKey::from_seed(3);
    let tx1 = spend(&[coin], vec![pay(&mid, Amount::from_sat(40 * 100_000_000))]);
    let s = Spendable {
        outpoint: OutPoint::new(tx1.compute_txid(), 0),
        output: TxOut {
            value: Amount::from_sat(40 * 100_000_000),
            script_pubkey: mid.script(Kind::P2wpkh),
        },
        key: mid.clone(),
        kind: Kind::P2wpkh,
    };
    let tx2 = spend(&[s], vec![pay(&h.key, Amount::from_sat(39 * 100_000_000))]);
    let block = h.mine(vec![tx1, tx2.clone()]);
    assert_eq!(
        h.chain.tx_location(&tx2.compute_txid()).unwrap().position,
        2
    );
    // Fees of both (10 BTC + 1 BTC) went to the coinbase.
    assert_eq!(
        block.txdata[0].output[0].value,
        block_subsidy(102) + Amount::from_sat(11 * 100_000_000)
    );
}
