//! A P2WSH hash-time-locked output, claimed with the preimage; its CLTV refund is refused
//! before the lock height and accepted after — all judged in blocks by Bitcoin Core's code.

#![allow(clippy::unwrap_used)] // helpers of a test: a failing unwrap is a failing test

mod common;

use bitcoin::absolute::LockTime;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::opcodes::all::{
    OP_CHECKSIG, OP_CLTV, OP_DROP, OP_ELSE, OP_ENDIF, OP_EQUALVERIFY, OP_IF, OP_SHA256,
};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};
use common::{pay, Harness};
use p2share_regtest::SubmitOutcome;
use p2share_testkit::spend;

struct Htlc {
    script: ScriptBuf,
    receiver: SecretKey,
    sender: SecretKey,
}

fn htlc(hash: sha256::Hash, lock_height: u32) -> Htlc {
    let secp = Secp256k1::new();
    let receiver = SecretKey::from_slice(&[0x11; 32]).unwrap();
    let sender = SecretKey::from_slice(&[0x22; 32]).unwrap();
    let pk = |k: &SecretKey| bitcoin::PublicKey::new(PublicKey::from_secret_key(&secp, k));
    let script = Builder::new()
        .push_opcode(OP_IF)
        .push_opcode(OP_SHA256)
        .push_slice(hash.to_byte_array())
        .push_opcode(OP_EQUALVERIFY)
        .push_key(&pk(&receiver))
        .push_opcode(OP_ELSE)
        .push_int(i64::from(lock_height))
        .push_opcode(OP_CLTV)
        .push_opcode(OP_DROP)
        .push_key(&pk(&sender))
        .push_opcode(OP_ENDIF)
        .push_opcode(OP_CHECKSIG)
        .into_script();
    Htlc {
        script,
        receiver,
        sender,
    }
}

/// A transaction spending `prevout` (a P2WSH output of `value` with witness script
/// `script`) to `to`, signed by `key`; `branch` is pushed between signature and script.
fn spend_p2wsh(
    prevout: OutPoint,
    value: Amount,
    script: &ScriptBuf,
    key: &SecretKey,
    branch: Vec<Vec<u8>>,
    lock_time: u32,
    to: TxOut,
) -> Transaction {
    let mut tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: LockTime::from_consensus(lock_time),
        input: vec![TxIn {
            previous_output: prevout,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_LOCKTIME_NO_RBF,
            witness: Witness::new(),
        }],
        output: vec![to],
    };
    let sighash = SighashCache::new(&tx)
        .p2wsh_signature_hash(0, script, value, EcdsaSighashType::All)
        .unwrap();
    let secp = Secp256k1::new();
    let sig = bitcoin::ecdsa::Signature {
        signature: secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), key),
        sighash_type: EcdsaSighashType::All,
    };
    let mut witness = Witness::new();
    witness.push(sig.to_vec());
    for item in branch {
        witness.push(item);
    }
    witness.push(script.as_bytes());
    tx.input[0].witness = witness;
    tx
}

fn refused(h: &Harness, tx: Transaction, reason: &str) {
    let tip = h.chain.tip();
    let block = h.next_block(vec![tx]);
    assert_eq!(
        h.chain.submit_block(&block),
        SubmitOutcome::Rejected {
            reason: reason.into()
        },
        "at height {}",
        tip.height + 1
    );
    assert_eq!(h.chain.tip(), tip);
    assert!(matches!(
        h.chain.submit_block_kernel_only(&block),
        SubmitOutcome::Rejected { .. }
    ));
}

#[test]
fn a_p2wsh_htlc_is_claimed_with_the_preimage_and_refunded_only_after_its_lock_height() {
    let h = Harness::new();
    let coin = h.mature_coin();
    let preimage = [0x42u8; 32];
    let lock_height = h.chain.tip().height + 6;
    let contract = htlc(sha256::Hash::hash(&preimage), lock_height);
    let spk = ScriptBuf::new_p2wsh(&contract.script.wscript_hash());

    // Fund two HTLC outputs: one to claim, one to refund.
    let value = Amount::from_sat(10 * 100_000_000);
    let fund = spend(
        &[coin],
        vec![
            TxOut {
                value,
                script_pubkey: spk.clone(),
            },
            TxOut {
                value,
                script_pubkey: spk.clone(),
            },
            pay(&h.key, Amount::from_sat(29 * 100_000_000)),
        ],
    );
    h.mine(vec![fund.clone()]);
    let claim_out = OutPoint::new(fund.compute_txid(), 0);
    let refund_out = OutPoint::new(fund.compute_txid(), 1);
    assert_eq!(h.chain.utxo(&claim_out).unwrap().output.script_pubkey, spk);
    let payout = pay(&h.key, Amount::from_sat(9 * 100_000_000));

    // A wrong preimage fails the script.
    let wrong = spend_p2wsh(
        claim_out,
        value,
        &contract.script,
        &contract.receiver,
        vec![vec![0x43; 32], vec![1]],
        0,
        payout.clone(),
    );
    refused(&h, wrong, "block-script-verify-flag-failed");

    // The preimage claims it.
    let claim = spend_p2wsh(
        claim_out,
        value,
        &contract.script,
        &contract.receiver,
        vec![preimage.to_vec(), vec![1]],
        0,
        payout.clone(),
    );
    h.mine(vec![claim.clone()]);
    assert_eq!(
        h.chain.spender(&claim_out).unwrap().txid,
        claim.compute_txid()
    );

    // The refund, time-locked at the lock height, is not final before it...
    let refund = spend_p2wsh(
        refund_out,
        value,
        &contract.script,
        &contract.sender,
        vec![Vec::new()],
        lock_height,
        payout.clone(),
    );
    while h.chain.tip().height < lock_height {
        refused(&h, refund.clone(), "bad-txns-nonfinal");
        h.mine(Vec::new());
    }
    // ...and a refund with an earlier nLockTime (final) fails CHECKLOCKTIMEVERIFY.
    let early = spend_p2wsh(
        refund_out,
        value,
        &contract.script,
        &contract.sender,
        vec![Vec::new()],
        lock_height - 1,
        payout.clone(),
    );
    refused(&h, early, "block-script-verify-flag-failed");
    // The receiver's key cannot take the refund branch.
    let thief = spend_p2wsh(
        refund_out,
        value,
        &contract.script,
        &contract.receiver,
        vec![Vec::new()],
        lock_height,
        payout.clone(),
    );
    refused(&h, thief, "block-script-verify-flag-failed");

    // After the lock height, the refund is accepted.
    assert_eq!(h.chain.tip().height + 1, lock_height + 1);
    h.mine(vec![refund.clone()]);
    assert_eq!(
        h.chain.spender(&refund_out).unwrap().txid,
        refund.compute_txid()
    );
    assert!(h.chain.utxo(&refund_out).is_none());
}
