//! The swap HTLC: one P2WSH script, the same on the sharechain and on the mainchain.
//!
//! ```text
//! OP_IF
//!     OP_SIZE <32> OP_EQUALVERIFY OP_SHA256 <hash> OP_EQUALVERIFY <recipient>
//! OP_ELSE
//!     <timeout> OP_CHECKLOCKTIMEVERIFY OP_DROP <sender>
//! OP_ENDIF
//! OP_CHECKSIG
//! ```
//!
//! Policy `or(and(pk(R),sha256(H)),and(pk(S),after(T)))`: the recipient spends with the
//! 32-byte secret whose SHA-256 is `hash`; the sender spends once the chain's height reaches
//! `timeout` (heights only: `1 ≤ T < 500,000,000`). Keys are compressed, pushes minimal, so the
//! script of given parameters has exactly one encoding and a counterparty's can be rebuilt and
//! compared byte for byte ([`Htlc::parse`] accepts nothing else).
//!
//! Claims and refunds are version-2 transactions with one input (sequence `0xfffffffd`: RBF, and
//! nLockTime enforced) and one output; they are signed with BIP-143 `SIGHASH_ALL` ECDSA (low R).
//! Values are [`bitcoin::Amount`]s: satoshis on the mainchain, share units on the sharechain —
//! both serialize as the same u64 in a `TxOut`.

use bitcoin::absolute::LockTime;
use bitcoin::blockdata::script::Builder;
use bitcoin::ecdsa;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::key::Keypair;
use bitcoin::opcodes::all::{
    OP_CHECKSIG, OP_CLTV, OP_DROP, OP_ELSE, OP_ENDIF, OP_EQUALVERIFY, OP_IF, OP_SHA256, OP_SIZE,
};
use bitcoin::opcodes::{Class, ClassifyContext, Opcode};
use bitcoin::script::Instruction;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Weight, Witness,
};

use crate::fees::dust_limit;

/// Why an HTLC could not be built, parsed or spent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HtlcError {
    /// A timeout that is not a block height (0, or a timestamp ≥ 500,000,000).
    #[error("htlc timeout {timeout} is not a block height (1 ..= 499,999,999)")]
    Timeout {
        /// The timeout found or given.
        timeout: i64,
    },
    /// The script departs from the template at instruction `at` (counting from 0).
    #[error("not the swap htlc: instruction {at} should be {expected}")]
    NotHtlc {
        /// The instruction's position.
        at: usize,
        /// What the template has there.
        expected: &'static str,
    },
    /// A key push that is not a valid compressed public key.
    #[error("the htlc's {role} key is not a valid compressed public key")]
    BadKey {
        /// `"recipient"` or `"sender"`.
        role: &'static str,
    },
    /// The fields are right but the bytes are not the canonical encoding (a non-minimal push).
    #[error("the htlc script is not canonically encoded")]
    NotCanonical,
    /// The preimage's SHA-256 is not the HTLC's hash.
    #[error("the preimage does not hash to the htlc's hash")]
    WrongPreimage,
    /// The signing key is not the HTLC's key for this path.
    #[error("the key given is not the htlc's {role} key")]
    WrongKey {
        /// `"recipient"` (claim) or `"sender"` (refund).
        role: &'static str,
    },
    /// The fee is larger than the HTLC's value.
    #[error("fee {fee} exceeds the htlc's value {value}")]
    FeeAboveValue {
        /// The HTLC's value.
        value: Amount,
        /// The fee asked for.
        fee: Amount,
    },
    /// What is left after the fee would be dust at the destination.
    #[error("{left} left after the fee is below the destination's dust limit {dust}")]
    BelowDust {
        /// Value minus fee.
        left: Amount,
        /// The destination's dust limit.
        dust: Amount,
    },
    /// The signature hash could not be computed (never, for the one-input transactions built here).
    #[error("signature hash of input 0 failed: {0}")]
    Sighash(String),
}

/// An HTLC's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Htlc {
    hash: [u8; 32],
    recipient: PublicKey,
    sender: PublicKey,
    timeout: u32,
}

/// The longest witness script: a 4-byte timeout push.
pub const MAX_SCRIPT_LEN: usize = 118;
/// The longest DER signature with its sighash byte (high R, low S).
const MAX_SIG_LEN: usize = 72;

/// One instruction of the template, for [`Htlc::parse`].
enum Step {
    Op(Opcode, &'static str),
    SizeConstant,
    Hash,
    Recipient,
    Sender,
    Timeout,
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Op(_, name) => name,
            Step::SizeConstant => "<32>",
            Step::Hash => "a 32-byte hash",
            Step::Recipient => "a 33-byte recipient key",
            Step::Sender => "a 33-byte sender key",
            Step::Timeout => "a timeout",
        }
    }
}

/// The HTLC's instructions, in order.
const TEMPLATE: [Step; 15] = [
    Step::Op(OP_IF, "OP_IF"),
    Step::Op(OP_SIZE, "OP_SIZE"),
    Step::SizeConstant,
    Step::Op(OP_EQUALVERIFY, "OP_EQUALVERIFY"),
    Step::Op(OP_SHA256, "OP_SHA256"),
    Step::Hash,
    Step::Op(OP_EQUALVERIFY, "OP_EQUALVERIFY"),
    Step::Recipient,
    Step::Op(OP_ELSE, "OP_ELSE"),
    Step::Timeout,
    Step::Op(OP_CLTV, "OP_CHECKLOCKTIMEVERIFY"),
    Step::Op(OP_DROP, "OP_DROP"),
    Step::Sender,
    Step::Op(OP_ENDIF, "OP_ENDIF"),
    Step::Op(OP_CHECKSIG, "OP_CHECKSIG"),
];

impl Htlc {
    /// The highest timeout (a height; 500,000,000 and above are timestamps).
    pub const MAX_TIMEOUT: u32 = 499_999_999;

    /// An HTLC paying `recipient` against the preimage of `hash`, or `sender` from height
    /// `timeout` on.
    ///
    /// # Errors
    /// [`HtlcError::Timeout`] unless `1 ≤ timeout ≤ MAX_TIMEOUT`.
    pub fn new(
        hash: [u8; 32],
        recipient: PublicKey,
        sender: PublicKey,
        timeout: u32,
    ) -> Result<Htlc, HtlcError> {
        if timeout == 0 || timeout > Self::MAX_TIMEOUT {
            return Err(HtlcError::Timeout {
                timeout: i64::from(timeout),
            });
        }
        Ok(Htlc {
            hash,
            recipient,
            sender,
            timeout,
        })
    }

    /// The SHA-256 the recipient's secret must hash to.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The key that claims with the secret.
    pub fn recipient(&self) -> PublicKey {
        self.recipient
    }

    /// The key that refunds after the timeout.
    pub fn sender(&self) -> PublicKey {
        self.sender
    }

    /// The height from which the sender may refund.
    pub fn timeout(&self) -> u32 {
        self.timeout
    }

    /// The witness script.
    pub fn script(&self) -> ScriptBuf {
        Builder::new()
            .push_opcode(OP_IF)
            .push_opcode(OP_SIZE)
            .push_int(32)
            .push_opcode(OP_EQUALVERIFY)
            .push_opcode(OP_SHA256)
            .push_slice(self.hash)
            .push_opcode(OP_EQUALVERIFY)
            .push_slice(self.recipient.serialize())
            .push_opcode(OP_ELSE)
            .push_int(i64::from(self.timeout))
            .push_opcode(OP_CLTV)
            .push_opcode(OP_DROP)
            .push_slice(self.sender.serialize())
            .push_opcode(OP_ENDIF)
            .push_opcode(OP_CHECKSIG)
            .into_script()
    }

    /// The output script that locks to this HTLC: P2WSH of [`Htlc::script`].
    pub fn script_pubkey(&self) -> ScriptBuf {
        ScriptBuf::new_p2wsh(&self.script().wscript_hash())
    }

    /// Reads an HTLC from its witness script, accepting only the exact template with minimal
    /// pushes and compressed keys: `Htlc::parse(s)?.script() == s` always holds.
    ///
    /// # Errors
    /// [`HtlcError::NotHtlc`] naming the first instruction that differs, [`HtlcError::BadKey`],
    /// [`HtlcError::Timeout`], [`HtlcError::NotCanonical`].
    pub fn parse(script: &Script) -> Result<Htlc, HtlcError> {
        let mut found = Vec::with_capacity(TEMPLATE.len());
        for (at, instruction) in script.instructions().enumerate() {
            let expected = TEMPLATE
                .get(at)
                .map_or("the end of the script", |s| s.name());
            match instruction {
                Ok(i) if at < TEMPLATE.len() => found.push(i),
                _ => return Err(HtlcError::NotHtlc { at, expected }),
            }
        }
        let mut hash = [0u8; 32];
        let mut recipient = None;
        let mut sender = None;
        let mut timeout = None;
        for (at, step) in TEMPLATE.iter().enumerate() {
            let not_htlc = HtlcError::NotHtlc {
                at,
                expected: step.name(),
            };
            let Some(instruction) = found.get(at) else {
                return Err(not_htlc);
            };
            match (step, instruction) {
                (Step::Op(want, _), Instruction::Op(op)) if op == want => {}
                (Step::SizeConstant, Instruction::PushBytes(b)) if b.as_bytes() == [32] => {}
                (Step::Hash, Instruction::PushBytes(b)) if b.len() == 32 => {
                    hash.copy_from_slice(b.as_bytes());
                }
                (Step::Recipient, Instruction::PushBytes(b)) if b.len() == 33 => {
                    recipient = Some(
                        PublicKey::from_slice(b.as_bytes())
                            .map_err(|_| HtlcError::BadKey { role: "recipient" })?,
                    );
                }
                (Step::Sender, Instruction::PushBytes(b)) if b.len() == 33 => {
                    sender = Some(
                        PublicKey::from_slice(b.as_bytes())
                            .map_err(|_| HtlcError::BadKey { role: "sender" })?,
                    );
                }
                (Step::Timeout, Instruction::Op(op)) => {
                    match op.classify(ClassifyContext::Legacy) {
                        Class::PushNum(n) => timeout = Some(i64::from(n)),
                        _ => return Err(not_htlc),
                    }
                }
                (Step::Timeout, Instruction::PushBytes(b)) => {
                    timeout = Some(
                        bitcoin::script::read_scriptint(b.as_bytes())
                            .map_err(|_| HtlcError::NotCanonical)?,
                    );
                }
                _ => return Err(not_htlc),
            }
        }
        let (Some(recipient), Some(sender), Some(timeout)) = (recipient, sender, timeout) else {
            return Err(HtlcError::NotHtlc {
                at: 0,
                expected: "OP_IF",
            });
        };
        let timeout = u32::try_from(timeout).map_err(|_| HtlcError::Timeout { timeout })?;
        let htlc = Htlc::new(hash, recipient, sender, timeout)?;
        if htlc.script().as_script() != script {
            return Err(HtlcError::NotCanonical);
        }
        Ok(htlc)
    }

    /// The weight of a claim to `destination`, with the largest possible signature: a fee
    /// computed from it is never short.
    pub fn claim_weight(&self, destination: &Script) -> Weight {
        spend_weight(destination, &[MAX_SIG_LEN, 32, 1, self.script().len()])
    }

    /// The weight of a refund to `destination`, with the largest possible signature.
    pub fn refund_weight(&self, destination: &Script) -> Weight {
        spend_weight(destination, &[MAX_SIG_LEN, 0, self.script().len()])
    }
}

/// The largest weight of a claim of any HTLC to `destination` (for fee estimates before the
/// HTLC exists).
pub fn max_claim_weight(destination: &Script) -> Weight {
    spend_weight(destination, &[MAX_SIG_LEN, 32, 1, MAX_SCRIPT_LEN])
}

/// The largest weight of a refund of any HTLC to `destination`.
pub fn max_refund_weight(destination: &Script) -> Weight {
    spend_weight(destination, &[MAX_SIG_LEN, 0, MAX_SCRIPT_LEN])
}

/// The weight of a one-input, one-output spend whose witness items have these lengths.
fn spend_weight(destination: &Script, witness_items: &[usize]) -> Weight {
    let witness: Vec<Vec<u8>> = witness_items.iter().map(|&n| vec![0u8; n]).collect();
    let mut tx = unsigned_spend(
        OutPoint::null(),
        Amount::ZERO,
        destination.to_owned(),
        LockTime::ZERO,
    );
    if let Some(input) = tx.input.first_mut() {
        input.witness = Witness::from_slice(&witness);
    }
    tx.weight()
}

/// SHA-256 of `preimage`: the hash an HTLC for it carries.
pub fn payment_hash(preimage: &[u8; 32]) -> [u8; 32] {
    sha256::Hash::hash(preimage).to_byte_array()
}

fn unsigned_spend(
    outpoint: OutPoint,
    value: Amount,
    destination: ScriptBuf,
    lock_time: LockTime,
) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time,
        input: vec![TxIn {
            previous_output: outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value,
            script_pubkey: destination,
        }],
    }
}

/// Value minus fee, checked against the destination's dust limit.
fn output_value(value: Amount, fee: Amount, destination: &Script) -> Result<Amount, HtlcError> {
    let left = value
        .checked_sub(fee)
        .ok_or(HtlcError::FeeAboveValue { value, fee })?;
    let dust = dust_limit(destination);
    if left < dust {
        return Err(HtlcError::BelowDust { left, dust });
    }
    Ok(left)
}

/// The BIP-143 `SIGHASH_ALL` signature of input 0 of `tx`, spending `value` locked by `htlc`.
fn sign(
    tx: &Transaction,
    htlc: &Htlc,
    value: Amount,
    key: &Keypair,
) -> Result<ecdsa::Signature, HtlcError> {
    let sighash = SighashCache::new(tx)
        .p2wsh_signature_hash(0, &htlc.script(), value, EcdsaSighashType::All)
        .map_err(|e| HtlcError::Sighash(e.to_string()))?;
    let message = Message::from_digest(sighash.to_byte_array());
    let signature = Secp256k1::signing_only().sign_ecdsa_low_r(&message, &key.secret_key());
    Ok(ecdsa::Signature {
        signature,
        sighash_type: EcdsaSighashType::All,
    })
}

/// The recipient's claim: spends `outpoint` (worth `value`, locked by `htlc`) to `destination`,
/// paying `fee`, revealing `preimage`. Lock time 0, sequence `0xfffffffd`.
///
/// # Errors
/// [`HtlcError::WrongPreimage`], [`HtlcError::WrongKey`], [`HtlcError::FeeAboveValue`],
/// [`HtlcError::BelowDust`].
pub fn claim_tx(
    htlc: &Htlc,
    outpoint: OutPoint,
    value: Amount,
    preimage: &[u8; 32],
    recipient_key: &Keypair,
    destination: ScriptBuf,
    fee: Amount,
) -> Result<Transaction, HtlcError> {
    if payment_hash(preimage) != htlc.hash {
        return Err(HtlcError::WrongPreimage);
    }
    if recipient_key.public_key() != htlc.recipient {
        return Err(HtlcError::WrongKey { role: "recipient" });
    }
    let left = output_value(value, fee, &destination)?;
    let mut tx = unsigned_spend(outpoint, left, destination, LockTime::ZERO);
    let signature = sign(&tx, htlc, value, recipient_key)?;
    let script = htlc.script();
    let mut witness = Witness::new();
    witness.push(signature.serialize());
    witness.push(preimage);
    witness.push([1u8]);
    witness.push(script.as_bytes());
    if let Some(input) = tx.input.first_mut() {
        input.witness = witness;
    }
    Ok(tx)
}

/// The sender's refund: spends `outpoint` (worth `value`, locked by `htlc`) to `destination`,
/// paying `fee`. Lock time = the HTLC's timeout (a height), sequence `0xfffffffd`, so it is
/// valid in the block at that height and can be fee-bumped.
///
/// # Errors
/// [`HtlcError::WrongKey`], [`HtlcError::FeeAboveValue`], [`HtlcError::BelowDust`].
pub fn refund_tx(
    htlc: &Htlc,
    outpoint: OutPoint,
    value: Amount,
    sender_key: &Keypair,
    destination: ScriptBuf,
    fee: Amount,
) -> Result<Transaction, HtlcError> {
    if sender_key.public_key() != htlc.sender {
        return Err(HtlcError::WrongKey { role: "sender" });
    }
    let left = output_value(value, fee, &destination)?;
    let lock_time = LockTime::from_height(htlc.timeout).map_err(|_| HtlcError::Timeout {
        timeout: i64::from(htlc.timeout),
    })?;
    let mut tx = unsigned_spend(outpoint, left, destination, lock_time);
    let signature = sign(&tx, htlc, value, sender_key)?;
    let script = htlc.script();
    let mut witness = Witness::new();
    witness.push(signature.serialize());
    witness.push([]);
    witness.push(script.as_bytes());
    if let Some(input) = tx.input.first_mut() {
        input.witness = witness;
    }
    Ok(tx)
}

/// The secret revealed by `tx`, if any of its inputs carries a 32-byte witness item whose
/// SHA-256 is the HTLC's hash (a claim of this HTLC, or of any other with the same hash).
pub fn extract_preimage(tx: &Transaction, htlc: &Htlc) -> Option<[u8; 32]> {
    tx.input.iter().find_map(|input| {
        input.witness.iter().find_map(|item| {
            let candidate: [u8; 32] = item.try_into().ok()?;
            (payment_hash(&candidate) == htlc.hash).then_some(candidate)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fees::fee_for_weight;
    use bitcoin::secp256k1::SecretKey;
    use bitcoin::{FeeRate, Txid};
    use p2share_consensus::script::verify_transaction;
    use proptest::prelude::*;

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(
            &Secp256k1::new(),
            &SecretKey::from_slice(&[byte; 32]).unwrap(),
        )
    }

    const SECRET: [u8; 32] = [7u8; 32];

    fn htlc(timeout: u32) -> Htlc {
        Htlc::new(
            payment_hash(&SECRET),
            keypair(1).public_key(),
            keypair(2).public_key(),
            timeout,
        )
        .unwrap()
    }

    fn outpoint() -> OutPoint {
        OutPoint {
            txid: Txid::from_byte_array([9; 32]),
            vout: 1,
        }
    }

    fn p2tr_destination() -> ScriptBuf {
        ScriptBuf::from_hex("5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c")
            .unwrap()
    }

    fn spent(h: &Htlc, value: Amount) -> Vec<TxOut> {
        vec![TxOut {
            value,
            script_pubkey: h.script_pubkey(),
        }]
    }

    const VALUE: Amount = Amount::from_sat(100_000);
    const FEE: Amount = Amount::from_sat(500);

    #[test]
    fn script_matches_the_template() {
        let h = htlc(1_000);
        let asm = h.script().to_asm_string();
        assert!(
            asm.starts_with(
                "OP_IF OP_SIZE OP_PUSHBYTES_1 20 OP_EQUALVERIFY OP_SHA256 OP_PUSHBYTES_32"
            ),
            "{asm}"
        );
        assert!(
            asm.contains("OP_ELSE OP_PUSHBYTES_2 e803 OP_CLTV OP_DROP OP_PUSHBYTES_33"),
            "{asm}"
        );
        assert!(asm.ends_with("OP_ENDIF OP_CHECKSIG"), "{asm}");
        assert!(h.script_pubkey().is_p2wsh());
        assert_eq!(htlc(499_999_999).script().len(), MAX_SCRIPT_LEN);
        assert_eq!(htlc(16).script().len(), MAX_SCRIPT_LEN - 4);
    }

    #[test]
    fn timeouts_are_heights() {
        for bad in [0, 500_000_000, u32::MAX] {
            assert!(matches!(
                Htlc::new(
                    [0; 32],
                    keypair(1).public_key(),
                    keypair(2).public_key(),
                    bad
                ),
                Err(HtlcError::Timeout { .. })
            ));
        }
    }

    #[test]
    fn claim_verifies_with_the_real_interpreter() {
        for timeout in [1, 16, 17, 127, 128, 255, 256, 65_535, 840_000, 499_999_999] {
            let h = htlc(timeout);
            let tx = claim_tx(
                &h,
                outpoint(),
                VALUE,
                &SECRET,
                &keypair(1),
                p2tr_destination(),
                FEE,
            )
            .unwrap();
            verify_transaction(&tx, &spent(&h, VALUE)).unwrap();
            assert_eq!(tx.output[0].value, VALUE - FEE);
            assert_eq!(tx.input[0].sequence.0, 0xffff_fffd);
            assert_eq!(tx.lock_time, LockTime::ZERO);
            assert_eq!(extract_preimage(&tx, &h), Some(SECRET));
            assert!(tx.weight() <= h.claim_weight(&p2tr_destination()));
            assert!(tx.weight() <= max_claim_weight(&p2tr_destination()));
        }
    }

    #[test]
    fn refund_verifies_with_the_real_interpreter() {
        for timeout in [1, 17, 840_000, 499_999_999] {
            let h = htlc(timeout);
            let tx =
                refund_tx(&h, outpoint(), VALUE, &keypair(2), p2tr_destination(), FEE).unwrap();
            verify_transaction(&tx, &spent(&h, VALUE)).unwrap();
            assert_eq!(tx.lock_time, LockTime::from_height(timeout).unwrap());
            assert_eq!(tx.input[0].sequence.0, 0xffff_fffd);
            assert_eq!(extract_preimage(&tx, &h), None);
            assert!(tx.weight() <= h.refund_weight(&p2tr_destination()));
            assert!(tx.weight() <= max_refund_weight(&p2tr_destination()));
        }
    }

    /// Re-signs input 0 of `tx` with `key` and replaces the witness's signature.
    fn resign(tx: &mut Transaction, h: &Htlc, key: &Keypair) {
        let sig = sign(tx, h, VALUE, key).unwrap();
        let mut items: Vec<Vec<u8>> = tx.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        items[0] = sig.serialize().to_vec();
        tx.input[0].witness = Witness::from_slice(&items);
    }

    #[test]
    fn refund_before_the_timeout_fails() {
        let h = htlc(1_000);
        let mut tx =
            refund_tx(&h, outpoint(), VALUE, &keypair(2), p2tr_destination(), FEE).unwrap();
        tx.lock_time = LockTime::from_height(999).unwrap();
        resign(&mut tx, &h, &keypair(2));
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());
        // A final sequence disables the lock time, and CLTV with it.
        let mut tx =
            refund_tx(&h, outpoint(), VALUE, &keypair(2), p2tr_destination(), FEE).unwrap();
        tx.input[0].sequence = Sequence::MAX;
        resign(&mut tx, &h, &keypair(2));
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());
        // A timestamp lock time does not satisfy a height timeout.
        let mut tx =
            refund_tx(&h, outpoint(), VALUE, &keypair(2), p2tr_destination(), FEE).unwrap();
        tx.lock_time = LockTime::from_consensus(1_700_000_000);
        resign(&mut tx, &h, &keypair(2));
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());
    }

    #[test]
    fn bad_claims_fail_verification() {
        let h = htlc(1_000);
        let good = claim_tx(
            &h,
            outpoint(),
            VALUE,
            &SECRET,
            &keypair(1),
            p2tr_destination(),
            FEE,
        )
        .unwrap();
        let with_items = |f: &dyn Fn(&mut Vec<Vec<u8>>)| {
            let mut tx = good.clone();
            let mut items: Vec<Vec<u8>> = tx.input[0].witness.iter().map(<[u8]>::to_vec).collect();
            f(&mut items);
            tx.input[0].witness = Witness::from_slice(&items);
            tx
        };
        // A wrong preimage.
        let tx = with_items(&|items| items[1] = vec![8u8; 32]);
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());
        // The sender's key on the claim path.
        let mut tx = good.clone();
        resign(&mut tx, &h, &keypair(2));
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());
        // A signature over another value.
        assert!(verify_transaction(&good, &spent(&h, VALUE + Amount::from_sat(1))).is_err());
        // The refund path, without the lock time it needs.
        let tx = with_items(&|items| {
            items.remove(1);
            items[1] = vec![];
        });
        assert!(verify_transaction(&tx, &spent(&h, VALUE)).is_err());

        // A 33-byte preimage fails OP_SIZE even when its hash is the HTLC's.
        let long = [7u8; 33];
        let h33 = Htlc::new(
            sha256::Hash::hash(&long).to_byte_array(),
            keypair(1).public_key(),
            keypair(2).public_key(),
            1_000,
        )
        .unwrap();
        let mut tx = good.clone();
        let mut items: Vec<Vec<u8>> = tx.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        items[1] = long.to_vec();
        items[3] = h33.script().to_bytes();
        tx.input[0].witness = Witness::from_slice(&items);
        resign(&mut tx, &h33, &keypair(1));
        assert!(verify_transaction(&tx, &spent(&h33, VALUE)).is_err());
        // The same transaction with a 32-byte preimage verifies (the check above is OP_SIZE's).
        let mut ok = tx.clone();
        let h32 = htlc(1_000);
        let mut items: Vec<Vec<u8>> = ok.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        items[1] = SECRET.to_vec();
        items[3] = h32.script().to_bytes();
        ok.input[0].witness = Witness::from_slice(&items);
        resign(&mut ok, &h32, &keypair(1));
        verify_transaction(&ok, &spent(&h32, VALUE)).unwrap();
    }

    #[test]
    fn builders_check_their_inputs() {
        let h = htlc(1_000);
        let d = p2tr_destination();
        assert_eq!(
            claim_tx(&h, outpoint(), VALUE, &[8; 32], &keypair(1), d.clone(), FEE),
            Err(HtlcError::WrongPreimage)
        );
        assert_eq!(
            claim_tx(&h, outpoint(), VALUE, &SECRET, &keypair(2), d.clone(), FEE),
            Err(HtlcError::WrongKey { role: "recipient" })
        );
        assert_eq!(
            refund_tx(&h, outpoint(), VALUE, &keypair(1), d.clone(), FEE),
            Err(HtlcError::WrongKey { role: "sender" })
        );
        assert!(matches!(
            claim_tx(
                &h,
                outpoint(),
                VALUE,
                &SECRET,
                &keypair(1),
                d.clone(),
                VALUE + FEE
            ),
            Err(HtlcError::FeeAboveValue { .. })
        ));
        // 330 is P2TR's dust limit: 329 left is refused, 330 accepted.
        assert_eq!(
            refund_tx(
                &h,
                outpoint(),
                Amount::from_sat(829),
                &keypair(2),
                d.clone(),
                FEE
            ),
            Err(HtlcError::BelowDust {
                left: Amount::from_sat(329),
                dust: Amount::from_sat(330)
            })
        );
        assert!(refund_tx(&h, outpoint(), Amount::from_sat(830), &keypair(2), d, FEE).is_ok());
    }

    #[test]
    fn fee_estimates_cover_real_transactions() {
        let rate = FeeRate::from_sat_per_vb_u32(7);
        let h = htlc(499_999_999);
        let d = p2tr_destination();
        let claim = claim_tx(&h, outpoint(), VALUE, &SECRET, &keypair(1), d.clone(), FEE).unwrap();
        let refund = refund_tx(&h, outpoint(), VALUE, &keypair(2), d.clone(), FEE).unwrap();
        assert!(fee_for_weight(rate, claim.weight()) <= fee_for_weight(rate, max_claim_weight(&d)));
        assert!(
            fee_for_weight(rate, refund.weight()) <= fee_for_weight(rate, max_refund_weight(&d))
        );
        // The estimate is tight: at most one byte of signature slack.
        assert!(max_claim_weight(&d).to_wu() - claim.weight().to_wu() <= 1);
        assert_eq!(max_claim_weight(&d).to_vbytes_ceil(), 152);
        assert_eq!(max_refund_weight(&d).to_vbytes_ceil(), 143);
    }

    #[test]
    fn preimage_is_found_among_other_inputs() {
        let h = htlc(1_000);
        let mut tx = claim_tx(
            &h,
            outpoint(),
            VALUE,
            &SECRET,
            &keypair(1),
            p2tr_destination(),
            FEE,
        )
        .unwrap();
        let claim_input = tx.input[0].clone();
        let mut other = claim_input.clone();
        other.witness = Witness::from_slice(&[vec![1u8; 64]]);
        tx.input = vec![other, claim_input];
        assert_eq!(extract_preimage(&tx, &h), Some(SECRET));
        let unrelated = htlc(1_000);
        let different = Htlc::new([3; 32], unrelated.recipient(), unrelated.sender(), 5).unwrap();
        assert_eq!(extract_preimage(&tx, &different), None);
    }

    #[test]
    fn parse_round_trips() {
        for timeout in [
            1,
            2,
            16,
            17,
            127,
            128,
            255,
            256,
            32_767,
            32_768,
            8_388_608,
            499_999_999,
        ] {
            let h = htlc(timeout);
            assert_eq!(Htlc::parse(&h.script()), Ok(h));
        }
    }

    #[test]
    fn parse_rejects_variants() {
        let h = htlc(1_000);
        let script = h.script();
        // A non-minimal timeout push: same meaning, other bytes.
        let mut non_minimal = Builder::new()
            .push_opcode(OP_IF)
            .push_opcode(OP_SIZE)
            .push_int(32)
            .push_opcode(OP_EQUALVERIFY)
            .push_opcode(OP_SHA256)
            .push_slice(h.hash())
            .push_opcode(OP_EQUALVERIFY)
            .push_slice(h.recipient().serialize())
            .push_opcode(OP_ELSE)
            .push_slice(bitcoin::script::PushBytesBuf::try_from(vec![0xe8, 0x03, 0x00]).unwrap())
            .push_opcode(OP_CLTV)
            .push_opcode(OP_DROP)
            .push_slice(h.sender().serialize())
            .push_opcode(OP_ENDIF)
            .push_opcode(OP_CHECKSIG)
            .into_script();
        assert_eq!(Htlc::parse(&non_minimal), Err(HtlcError::NotCanonical));
        // An extra opcode at the end.
        non_minimal = script.clone();
        non_minimal.push_opcode(OP_DROP);
        assert!(matches!(
            Htlc::parse(&non_minimal),
            Err(HtlcError::NotHtlc { at: 15, .. })
        ));
        // An uncompressed key.
        let uncompressed = Builder::new()
            .push_opcode(OP_IF)
            .push_opcode(OP_SIZE)
            .push_int(32)
            .push_opcode(OP_EQUALVERIFY)
            .push_opcode(OP_SHA256)
            .push_slice(h.hash())
            .push_opcode(OP_EQUALVERIFY)
            .push_slice(h.recipient().serialize_uncompressed())
            .into_script();
        assert!(matches!(
            Htlc::parse(&uncompressed),
            Err(HtlcError::NotHtlc { at: 7, .. })
        ));
        // A key that is not on the curve.
        let mut bytes = script.to_bytes();
        bytes[41] = 0x05; // the recipient key's prefix byte
        assert_eq!(
            Htlc::parse(Script::from_bytes(&bytes)),
            Err(HtlcError::BadKey { role: "recipient" })
        );
        // Truncated anywhere.
        for len in 0..script.len() {
            assert!(Htlc::parse(Script::from_bytes(&script.as_bytes()[..len])).is_err());
        }
        // A timestamp timeout, and a zero one.
        let mut ts = script.to_bytes();
        // 1,000 is pushed as `02 e8 03` at offset 75; make it 4 bytes ≥ 500,000,000 instead.
        ts.splice(75..78, [0x04, 0x00, 0x65, 0xcd, 0x1d]);
        assert!(matches!(
            Htlc::parse(Script::from_bytes(&ts)),
            Err(HtlcError::Timeout { .. })
        ));
        let mut zero = script.to_bytes();
        zero.splice(75..78, [0x00]);
        assert!(matches!(
            Htlc::parse(Script::from_bytes(&zero)),
            Err(HtlcError::Timeout { timeout: 0 })
        ));
    }

    proptest! {
        /// Whatever one byte is changed, inserted or removed, parse either refuses the script or
        /// returns an HTLC whose script is exactly those bytes: never a lenient reading.
        #[test]
        fn parse_is_exact(at in 0usize..200, value in any::<u8>(), kind in 0u8..3, timeout in 1u32..=499_999_999) {
            let h = htlc(timeout);
            let mut bytes = h.script().to_bytes();
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = value,
                1 => bytes.insert(at, value),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.push(value),
            }
            match Htlc::parse(Script::from_bytes(&bytes)) {
                Ok(parsed) => prop_assert_eq!(parsed.script().to_bytes(), bytes),
                Err(_) => prop_assert_ne!(bytes, h.script().to_bytes()),
            }
        }

        #[test]
        fn round_trip(timeout in 1u32..=499_999_999, hash in any::<[u8; 32]>()) {
            let h = Htlc::new(hash, keypair(3).public_key(), keypair(4).public_key(), timeout).unwrap();
            prop_assert_eq!(Htlc::parse(&h.script()), Ok(h));
        }
    }
}
