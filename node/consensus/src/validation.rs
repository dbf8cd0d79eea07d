//! Share and transaction validation.
//!
//! Three layers, each a pure function:
//! - [`check_head`]: context-free checks of a share head (version, proof of work, the Bitcoin
//!   work's merkle link, the share commitment, the coinbase shape) — enough for headers-first sync;
//! - [`check_share`]: context-free checks of a whole share (transactions, sharebase, merkle root,
//!   weight);
//! - [`check_head_in_context`] and [`connect_transactions`]: checks against the parent and the
//!   UTXO set `S_i` (height, difficulty, time, the payout rule, inputs, maturity, locktimes,
//!   sequence locks, sigops, scripts through `bitcoinkernel`, the sharebase amount).
//!
//! Every failure is a [`ValidationError`] with a stable [`Rule`] code (like Bitcoin Core's
//! reject reasons) and the [`Location`] of the offending item.

use std::collections::{HashMap, HashSet};
use std::fmt;

use bitcoin::hashes::Hash;
use bitcoin::script::Builder;
use bitcoin::{OutPoint, Transaction, TxMerkleNode, TxOut, Txid};

use crate::amount::ShareAmount;
use crate::params::ChainParams;
use crate::payout::Payout;
use crate::pow::{check_proof_of_work, decode_compact};
use crate::script::{PreparedTransaction, ScriptError};
use crate::share::{
    Share, ShareHead, MAX_COINBASE_SIZE, MAX_MERKLE_BRANCH, MAX_SHARE_SIZE, SHARE_VERSION,
};
use crate::utxo::{is_unspendable, Coin, ShareUndo, UtxoSet};

/// The consensus rules, each with a short stable reason code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `bad-version`: share header version is not 1.
    BadVersion,
    /// `bad-diffbits`: bits malformed, above the pow limit, or not the ASERT value.
    BadDiffBits,
    /// `high-hash`: the Bitcoin header's hash is above the share target.
    HighHash,
    /// `bad-cb-missing`: the Bitcoin work's coinbase is not a coinbase.
    BadCoinbaseMissing,
    /// `bad-cb-length`: Bitcoin coinbase scriptSig not 2–100 bytes.
    BadCoinbaseLength,
    /// `bad-work-merkle`: the coinbase and branch do not give the Bitcoin header's merkle root.
    BadWorkMerkle,
    /// `bad-commitment-missing`: no share commitment output.
    CommitmentMissing,
    /// `bad-commitment-multiple`: more than one share commitment output.
    CommitmentMultiple,
    /// `bad-commitment`: the commitment does not match the share header, or carries value.
    CommitmentMismatch,
    /// `bad-cb-payout-count`: the coinbase does not have exactly one output of non-zero value.
    PayoutCount,
    /// `bad-cb-payee`: the coinbase pays another script than the selected share's.
    BadPayee,
    /// `bad-blk-length`: a share with no transactions.
    NoTransactions,
    /// `bad-sb-missing`: the first transaction is not a sharebase.
    SharebaseMissing,
    /// `bad-sb-multiple`: a later transaction is sharebase-shaped.
    SharebaseMultiple,
    /// `bad-sb-length`: sharebase scriptSig not 2–100 bytes.
    SharebaseLength,
    /// `bad-sb-height`: sharebase scriptSig does not start with the height push.
    SharebaseHeight,
    /// `bad-sb-amount`: sharebase pays more than subsidy plus fees.
    SharebaseAmount,
    /// `bad-txnmrklroot`: `tx_root` does not match the transactions.
    BadTxRoot,
    /// `bad-txns-duplicate`: two transactions with one txid.
    DuplicateTx,
    /// `bad-blk-weight`: transactions weigh more than the network allows.
    Weight,
    /// `bad-blk-sigops`: transactions exceed the sigop cost limit.
    Sigops,
    /// `bad-txns-vin-empty`.
    NoInputs,
    /// `bad-txns-vout-empty`.
    NoOutputs,
    /// `bad-txns-vout-toolarge`: an output above the maximum amount.
    OutputTooLarge,
    /// `bad-txns-txouttotal-toolarge`: outputs sum above the maximum amount.
    OutputTotalTooLarge,
    /// `bad-txns-inputs-duplicate`: one outpoint spent twice in a transaction.
    DuplicateInputs,
    /// `bad-txns-prevout-null`: a null prevout outside the sharebase.
    NullPrevout,
    /// `bad-txns-inputs-missingorspent`.
    MissingInputs,
    /// `bad-txns-premature-spend-of-sharebase`.
    PrematureSpend,
    /// `bad-txns-inputvalues-outofrange`.
    InputValuesOutOfRange,
    /// `bad-txns-in-belowout`.
    InBelowOut,
    /// `bad-txns-nonfinal`: locktime not reached.
    NonFinal,
    /// `bad-txns-sequence-lock`: a BIP-68 relative lock not reached.
    SequenceLock,
    /// `bad-txns-BIP30`: an output that already exists unspent.
    OverwriteOutput,
    /// `bad-txns-script-failed`: Bitcoin Core's interpreter rejects an input.
    ScriptFailed,
    /// `bad-height`: height is not the parent's plus one.
    BadHeight,
    /// `time-too-old`: time not above the median of the last 11 shares.
    TimeTooOld,
    /// `time-too-new`: time too far past the validating node's clock.
    TimeTooNew,
    /// `bad-prevshare`: the parent is unknown or invalid.
    BadPrevShare,
    /// `bad-work-size`: the Bitcoin coinbase or merkle branch exceeds the encoding limits.
    WorkTooLarge,
    /// `bad-share-size`: the encoded share exceeds `MAX_SHARE_SIZE`.
    ShareTooLarge,
    /// `bad-txns-size-64`: a transaction whose non-witness serialization is 64 bytes, which
    /// could pass for an inner node of the merkle tree.
    Tx64Bytes,
}

impl Rule {
    /// Every rule, in declaration order.
    pub const ALL: [Rule; 42] = [
        Rule::BadVersion,
        Rule::BadDiffBits,
        Rule::HighHash,
        Rule::BadCoinbaseMissing,
        Rule::BadCoinbaseLength,
        Rule::BadWorkMerkle,
        Rule::CommitmentMissing,
        Rule::CommitmentMultiple,
        Rule::CommitmentMismatch,
        Rule::PayoutCount,
        Rule::BadPayee,
        Rule::NoTransactions,
        Rule::SharebaseMissing,
        Rule::SharebaseMultiple,
        Rule::SharebaseLength,
        Rule::SharebaseHeight,
        Rule::SharebaseAmount,
        Rule::BadTxRoot,
        Rule::DuplicateTx,
        Rule::Weight,
        Rule::Sigops,
        Rule::NoInputs,
        Rule::NoOutputs,
        Rule::OutputTooLarge,
        Rule::OutputTotalTooLarge,
        Rule::DuplicateInputs,
        Rule::NullPrevout,
        Rule::MissingInputs,
        Rule::PrematureSpend,
        Rule::InputValuesOutOfRange,
        Rule::InBelowOut,
        Rule::NonFinal,
        Rule::SequenceLock,
        Rule::OverwriteOutput,
        Rule::ScriptFailed,
        Rule::BadHeight,
        Rule::TimeTooOld,
        Rule::TimeTooNew,
        Rule::BadPrevShare,
        Rule::WorkTooLarge,
        Rule::ShareTooLarge,
        Rule::Tx64Bytes,
    ];

    /// The stable reason code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BadVersion => "bad-version",
            Rule::BadDiffBits => "bad-diffbits",
            Rule::HighHash => "high-hash",
            Rule::BadCoinbaseMissing => "bad-cb-missing",
            Rule::BadCoinbaseLength => "bad-cb-length",
            Rule::BadWorkMerkle => "bad-work-merkle",
            Rule::CommitmentMissing => "bad-commitment-missing",
            Rule::CommitmentMultiple => "bad-commitment-multiple",
            Rule::CommitmentMismatch => "bad-commitment",
            Rule::PayoutCount => "bad-cb-payout-count",
            Rule::BadPayee => "bad-cb-payee",
            Rule::NoTransactions => "bad-blk-length",
            Rule::SharebaseMissing => "bad-sb-missing",
            Rule::SharebaseMultiple => "bad-sb-multiple",
            Rule::SharebaseLength => "bad-sb-length",
            Rule::SharebaseHeight => "bad-sb-height",
            Rule::SharebaseAmount => "bad-sb-amount",
            Rule::BadTxRoot => "bad-txnmrklroot",
            Rule::DuplicateTx => "bad-txns-duplicate",
            Rule::Weight => "bad-blk-weight",
            Rule::Sigops => "bad-blk-sigops",
            Rule::NoInputs => "bad-txns-vin-empty",
            Rule::NoOutputs => "bad-txns-vout-empty",
            Rule::OutputTooLarge => "bad-txns-vout-toolarge",
            Rule::OutputTotalTooLarge => "bad-txns-txouttotal-toolarge",
            Rule::DuplicateInputs => "bad-txns-inputs-duplicate",
            Rule::NullPrevout => "bad-txns-prevout-null",
            Rule::MissingInputs => "bad-txns-inputs-missingorspent",
            Rule::PrematureSpend => "bad-txns-premature-spend-of-sharebase",
            Rule::InputValuesOutOfRange => "bad-txns-inputvalues-outofrange",
            Rule::InBelowOut => "bad-txns-in-belowout",
            Rule::NonFinal => "bad-txns-nonfinal",
            Rule::SequenceLock => "bad-txns-sequence-lock",
            Rule::OverwriteOutput => "bad-txns-BIP30",
            Rule::ScriptFailed => "bad-txns-script-failed",
            Rule::BadHeight => "bad-height",
            Rule::TimeTooOld => "time-too-old",
            Rule::TimeTooNew => "time-too-new",
            Rule::BadPrevShare => "bad-prevshare",
            Rule::WorkTooLarge => "bad-work-size",
            Rule::ShareTooLarge => "bad-share-size",
            Rule::Tx64Bytes => "bad-txns-size-64",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where in a share a rule failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The share header.
    Header,
    /// The Bitcoin work (header, coinbase, branch).
    Work,
    /// An output of the Bitcoin coinbase.
    CoinbaseOutput(usize),
    /// The share as a whole.
    Share,
    /// A sharechain transaction, by position and txid.
    Tx {
        /// Position in the share.
        index: usize,
        /// Its txid.
        txid: Txid,
    },
    /// An input of a sharechain transaction.
    Input {
        /// Position of the transaction in the share.
        index: usize,
        /// Its txid.
        txid: Txid,
        /// Input index.
        input: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Header => f.write_str("share header"),
            Location::Work => f.write_str("bitcoin work"),
            Location::CoinbaseOutput(i) => write!(f, "bitcoin coinbase output {i}"),
            Location::Share => f.write_str("share"),
            Location::Tx { index, txid } => write!(f, "transaction {index} ({txid})"),
            Location::Input { index, txid, input } => {
                write!(f, "transaction {index} ({txid}) input {input}")
            }
        }
    }
}

/// A consensus failure: the rule, where, and the specifics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {at}: {detail}")]
pub struct ValidationError {
    /// The rule broken.
    pub rule: Rule,
    /// Where.
    pub at: Location,
    /// Human-readable specifics (amounts, expected values).
    pub detail: String,
}

fn fail<T>(rule: Rule, at: Location, detail: impl Into<String>) -> Result<T, ValidationError> {
    Err(ValidationError {
        rule,
        at,
        detail: detail.into(),
    })
}

/// Script prefix of the share commitment output: `OP_RETURN PUSH36 <magic>`.
pub fn commitment_prefix(magic: [u8; 4]) -> [u8; 6] {
    [0x6a, 0x24, magic[0], magic[1], magic[2], magic[3]]
}

/// The full 38-byte commitment script for a share header.
pub fn commitment_script(magic: [u8; 4], head: &crate::share::ShareHeader) -> bitcoin::ScriptBuf {
    let mut s = Vec::with_capacity(38);
    s.extend_from_slice(&commitment_prefix(magic));
    s.extend_from_slice(head.commitment().as_byte_array());
    bitcoin::ScriptBuf::from_bytes(s)
}

/// The scriptSig prefix a sharebase at `height` must start with (BIP-34 style).
pub fn height_push(height: u32) -> bitcoin::ScriptBuf {
    Builder::new().push_int(i64::from(height)).into_script()
}

/// Context-free checks of a share head.
///
/// # Errors
/// The first rule broken.
pub fn check_head(params: &ChainParams, head: &ShareHead) -> Result<(), ValidationError> {
    let h = &head.header;
    if h.version != SHARE_VERSION {
        return fail(
            Rule::BadVersion,
            Location::Header,
            format!("version {}", h.version),
        );
    }
    // What validates must also decode: the decoder's limits are consensus limits.
    let cb_size = head.work.coinbase.total_size();
    if cb_size > MAX_COINBASE_SIZE || head.work.merkle_branch.len() > MAX_MERKLE_BRANCH {
        return fail(
            Rule::WorkTooLarge,
            Location::Work,
            format!(
                "coinbase {cb_size} bytes (limit {MAX_COINBASE_SIZE}), branch {} hashes (limit {MAX_MERKLE_BRANCH})",
                head.work.merkle_branch.len()
            ),
        );
    }
    let target = decode_compact(h.bits).map_err(|e| ValidationError {
        rule: Rule::BadDiffBits,
        at: Location::Header,
        detail: e.to_string(),
    })?;
    let limit = decode_compact(params.pow_limit_bits).map_err(|e| ValidationError {
        rule: Rule::BadDiffBits,
        at: Location::Header,
        detail: e.to_string(),
    })?;
    if target > limit {
        return fail(
            Rule::BadDiffBits,
            Location::Header,
            format!("bits {:#010x} above the pow limit", h.bits),
        );
    }
    let block_hash = head.work.header.block_hash();
    if !check_proof_of_work(&block_hash, &target) {
        return fail(
            Rule::HighHash,
            Location::Work,
            format!("hash {block_hash} above target {:#010x}", h.bits),
        );
    }
    let cb = &head.work.coinbase;
    if !cb.is_coinbase() {
        return fail(
            Rule::BadCoinbaseMissing,
            Location::Work,
            "first input is not a null prevout",
        );
    }
    let sig_len = cb.input.first().map(|i| i.script_sig.len()).unwrap_or(0);
    if !(2..=100).contains(&sig_len) {
        return fail(
            Rule::BadCoinbaseLength,
            Location::Work,
            format!("scriptSig is {sig_len} bytes"),
        );
    }
    if head.work.computed_merkle_root() != head.work.header.merkle_root {
        return fail(
            Rule::BadWorkMerkle,
            Location::Work,
            "coinbase and branch do not fold to the header's merkle root",
        );
    }
    let prefix = commitment_prefix(params.magic);
    let mut commitment = None;
    let mut payouts = 0usize;
    for (i, out) in cb.output.iter().enumerate() {
        if out.script_pubkey.as_bytes().starts_with(&prefix) {
            if commitment.is_some() {
                return fail(
                    Rule::CommitmentMultiple,
                    Location::CoinbaseOutput(i),
                    "second commitment",
                );
            }
            commitment = Some((i, out));
        }
        if out.value.to_sat() > 0 {
            payouts += 1;
        }
    }
    let Some((ci, cout)) = commitment else {
        return fail(
            Rule::CommitmentMissing,
            Location::Work,
            "no output starts with OP_RETURN PUSH36 <magic>",
        );
    };
    let expected = commitment_script(params.magic, h);
    if cout.script_pubkey != expected || cout.value.to_sat() != 0 {
        return fail(
            Rule::CommitmentMismatch,
            Location::CoinbaseOutput(ci),
            "commitment does not match the share header or carries value",
        );
    }
    if payouts != 1 {
        return fail(
            Rule::PayoutCount,
            Location::Work,
            format!("{payouts} outputs of non-zero value"),
        );
    }
    Ok(())
}

/// The script the coinbase pays (its only non-zero-value output), after [`check_head`].
pub fn coinbase_payee(head: &ShareHead) -> Option<(usize, &TxOut)> {
    head.work
        .coinbase
        .output
        .iter()
        .enumerate()
        .find(|(_, o)| o.value.to_sat() > 0)
}

/// Context-free checks of a single transaction at position `index` of a share (Bitcoin Core's
/// `CheckTransaction`, §5.2 rules 2–7; rule 1 and the txid uniqueness are share-level checks).
///
/// # Errors
/// The first rule broken.
pub fn check_transaction(
    tx: &Transaction,
    index: usize,
    txid: Txid,
) -> Result<(), ValidationError> {
    let at = || Location::Tx { index, txid };
    if tx.base_size() == 64 {
        return fail(
            Rule::Tx64Bytes,
            at(),
            "64-byte transactions are ambiguous with merkle inner nodes",
        );
    }
    if tx.input.is_empty() {
        return fail(Rule::NoInputs, at(), "no inputs");
    }
    if tx.output.is_empty() {
        return fail(Rule::NoOutputs, at(), "no outputs");
    }
    let mut total = ShareAmount::ZERO;
    for (i, out) in tx.output.iter().enumerate() {
        let v = ShareAmount::from_output_value(out.value).map_err(|e| ValidationError {
            rule: Rule::OutputTooLarge,
            at: at(),
            detail: format!("output {i}: {e}"),
        })?;
        total = total.checked_add(v).ok_or_else(|| ValidationError {
            rule: Rule::OutputTotalTooLarge,
            at: at(),
            detail: "outputs sum above the maximum amount".into(),
        })?;
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    for (i, input) in tx.input.iter().enumerate() {
        if !seen.insert(input.previous_output) {
            return fail(
                Rule::DuplicateInputs,
                Location::Input {
                    index,
                    txid,
                    input: i,
                },
                format!("{} spent twice", input.previous_output),
            );
        }
    }
    if index > 0 && tx.input.iter().any(|i| i.previous_output.is_null()) {
        return fail(Rule::NullPrevout, at(), "null prevout");
    }
    Ok(())
}

/// Context-free checks of a whole share: [`check_head`], then its transactions.
///
/// # Errors
/// The first rule broken.
pub fn check_share(params: &ChainParams, share: &Share) -> Result<(), ValidationError> {
    check_head(params, &share.head)?;
    let size = share.encoded_size();
    if size > MAX_SHARE_SIZE {
        return fail(
            Rule::ShareTooLarge,
            Location::Share,
            format!("{size} bytes encoded, limit {MAX_SHARE_SIZE}"),
        );
    }
    let Some(sharebase) = share.txs.first() else {
        return fail(Rule::NoTransactions, Location::Share, "no transactions");
    };
    let sb_txid = sharebase.compute_txid();
    if !sharebase.is_coinbase() {
        return fail(
            Rule::SharebaseMissing,
            Location::Tx {
                index: 0,
                txid: sb_txid,
            },
            "first transaction is not a sharebase",
        );
    }
    let sig = sharebase
        .input
        .first()
        .map(|i| i.script_sig.as_bytes())
        .unwrap_or(&[]);
    if !(2..=100).contains(&sig.len()) {
        return fail(
            Rule::SharebaseLength,
            Location::Tx {
                index: 0,
                txid: sb_txid,
            },
            format!("scriptSig is {} bytes", sig.len()),
        );
    }
    let height = share.head.header.height;
    if !sig.starts_with(height_push(height).as_bytes()) {
        return fail(
            Rule::SharebaseHeight,
            Location::Tx {
                index: 0,
                txid: sb_txid,
            },
            format!("scriptSig does not start with the push of height {height}"),
        );
    }
    let mut txids = HashSet::with_capacity(share.txs.len());
    let mut weight: u64 = 0;
    for (index, tx) in share.txs.iter().enumerate() {
        let txid = if index == 0 {
            sb_txid
        } else {
            tx.compute_txid()
        };
        if index > 0 && tx.is_coinbase() {
            return fail(
                Rule::SharebaseMultiple,
                Location::Tx { index, txid },
                "sharebase-shaped transaction after the first",
            );
        }
        check_transaction(tx, index, txid)?;
        if !txids.insert(txid) {
            return fail(
                Rule::DuplicateTx,
                Location::Tx { index, txid },
                "txid repeats an earlier transaction",
            );
        }
        weight = weight.saturating_add(tx.weight().to_wu());
    }
    if weight > params.max_share_weight {
        return fail(
            Rule::Weight,
            Location::Share,
            format!("weight {weight} above {}", params.max_share_weight),
        );
    }
    if tx_root(&share.txs) != share.head.header.tx_root {
        return fail(
            Rule::BadTxRoot,
            Location::Header,
            "tx_root does not match the transactions' wtxids",
        );
    }
    Ok(())
}

/// The merkle root over the wtxids of `txs` (Bitcoin's algorithm; sharebase included by its
/// real wtxid).
pub fn tx_root(txs: &[Transaction]) -> TxMerkleNode {
    let leaves = txs
        .iter()
        .map(|t| TxMerkleNode::from_byte_array(t.compute_wtxid().to_byte_array()));
    bitcoin::merkle_tree::calculate_root(leaves)
        .unwrap_or_else(|| TxMerkleNode::from_byte_array([0; 32]))
}

/// What a share is checked against: its parent and the validating node's clock.
#[derive(Clone, Copy, Debug)]
pub struct HeadContext {
    /// Parent height.
    pub parent_height: u32,
    /// Bits the ASERT rule requires of this share.
    pub expected_bits: u32,
    /// Median time of the parent and its ten predecessors.
    pub median_time_past: u32,
    /// The validating node's clock (Unix seconds).
    pub now: u64,
}

/// Checks a head against its parent.
///
/// # Errors
/// [`Rule::BadHeight`], [`Rule::BadDiffBits`], [`Rule::TimeTooOld`], [`Rule::TimeTooNew`].
pub fn check_head_in_context(
    params: &ChainParams,
    head: &ShareHead,
    ctx: &HeadContext,
) -> Result<(), ValidationError> {
    let h = &head.header;
    if u64::from(h.height) != u64::from(ctx.parent_height) + 1 {
        return fail(
            Rule::BadHeight,
            Location::Header,
            format!("height {} after parent {}", h.height, ctx.parent_height),
        );
    }
    if h.bits != ctx.expected_bits {
        return fail(
            Rule::BadDiffBits,
            Location::Header,
            format!(
                "bits {:#010x}, expected {:#010x}",
                h.bits, ctx.expected_bits
            ),
        );
    }
    if h.time <= ctx.median_time_past {
        return fail(
            Rule::TimeTooOld,
            Location::Header,
            format!(
                "time {} not above median time past {}",
                h.time, ctx.median_time_past
            ),
        );
    }
    if u64::from(h.time) > ctx.now.saturating_add(u64::from(params.max_future_time)) {
        return fail(
            Rule::TimeTooNew,
            Location::Header,
            format!(
                "time {} more than {} s past the clock {}",
                h.time, params.max_future_time, ctx.now
            ),
        );
    }
    Ok(())
}

/// Chain facts transaction checks need: median times past by height.
pub trait ChainTimes {
    /// Median time of the share at `height` and its ten predecessors (on the branch being
    /// validated).
    fn median_time_past(&self, height: u32) -> u32;
}

/// Validates a share's transactions against `S_i` and returns the change connecting it makes.
/// `parent` is share `i` and `payout` its selection (`None` while `n = 0`). Call after
/// [`check_share`] and [`check_head_in_context`].
///
/// # Errors
/// The first rule broken; nothing is modified.
pub fn connect_transactions(
    params: &ChainParams,
    share: &Share,
    utxo: &UtxoSet,
    payout: Option<&Payout>,
    times: &dyn ChainTimes,
) -> Result<ShareUndo, ValidationError> {
    let height = share.head.header.height;
    let state = utxo.height();
    let mtp = times.median_time_past(state);
    let Some(sharebase) = share.txs.first() else {
        return fail(Rule::NoTransactions, Location::Share, "no transactions");
    };

    // The payout rule.
    let expected_payee = match payout {
        Some(p) => p.script_pubkey.clone(),
        None => match sharebase.output.first() {
            Some(o) => o.script_pubkey.clone(),
            None => {
                return fail(
                    Rule::NoOutputs,
                    Location::Tx {
                        index: 0,
                        txid: sharebase.compute_txid(),
                    },
                    "no outputs",
                )
            }
        },
    };
    match coinbase_payee(&share.head) {
        Some((_, out)) if out.script_pubkey == expected_payee => {}
        Some((i, out)) => {
            return fail(
                Rule::BadPayee,
                Location::CoinbaseOutput(i),
                format!(
                    "pays {}, the selected script is {}",
                    out.script_pubkey.to_hex_string(),
                    expected_payee.to_hex_string()
                ),
            )
        }
        None => {
            return fail(
                Rule::PayoutCount,
                Location::Work,
                "no output of non-zero value",
            )
        }
    }

    let mut created: Vec<Option<(OutPoint, Coin)>> = Vec::new();
    let mut created_at: HashMap<OutPoint, usize> = HashMap::new();
    let mut spent: Vec<(OutPoint, Coin)> = Vec::new();
    let mut spent_set: HashSet<OutPoint> = HashSet::new();
    let mut fees = ShareAmount::ZERO;
    let mut sigops: u64 = 0;

    for (index, tx) in share.txs.iter().enumerate() {
        let txid = tx.compute_txid();
        let at_tx = || Location::Tx { index, txid };
        if index > 0 {
            let ctx = TxContext {
                params,
                height,
                state_height: state,
                median_time_past: mtp,
                times,
                index,
                fees_before: fees,
                sigops_before: sigops,
                verify_scripts: true,
            };
            let checked = check_tx_in_context(&ctx, tx, txid, |op| {
                if spent_set.contains(op) {
                    None
                } else if let Some(&pos) = created_at.get(op) {
                    created
                        .get(pos)
                        .and_then(|c| c.as_ref())
                        .map(|(_, c)| c.clone())
                } else {
                    utxo.get(op).cloned()
                }
            })?;
            fees = checked.fees_after;
            sigops = checked.sigops_after;
            let coins = checked.spent;
            for (op, coin) in coins {
                spent_set.insert(op);
                if let Some(pos) = created_at.remove(&op) {
                    if let Some(slot) = created.get_mut(pos) {
                        *slot = None;
                    }
                } else {
                    spent.push((op, coin));
                }
            }
        } else {
            // The sharebase is held to finality and counts toward the sigop limit, as Bitcoin's
            // coinbase is, even when it is the share's only transaction.
            check_final(tx, height, mtp, at_tx)?;
            sigops = sigops.saturating_add(tx.total_sigop_cost(|_| None) as u64);
            check_sigops(params, sigops, at_tx)?;
        }
        for (vout, out) in tx.output.iter().enumerate() {
            if is_unspendable(out) {
                continue;
            }
            let op = OutPoint {
                txid,
                vout: vout as u32,
            };
            if utxo.get(&op).is_some() || created_at.contains_key(&op) {
                return fail(
                    Rule::OverwriteOutput,
                    at_tx(),
                    format!("output {op} already exists"),
                );
            }
            created_at.insert(op, created.len());
            created.push(Some((
                op,
                Coin {
                    output: out.clone(),
                    height,
                    is_sharebase: index == 0,
                },
            )));
        }
    }

    let limit = params.subsidy(height).checked_add(fees);
    let sb_out = sharebase
        .output
        .iter()
        .try_fold(ShareAmount::ZERO, |acc, o| {
            ShareAmount::from_output_value(o.value)
                .ok()
                .and_then(|v| acc.checked_add(v))
        });
    match (sb_out, limit) {
        (Some(out), Some(limit)) if out <= limit => {}
        _ => {
            return fail(
                Rule::SharebaseAmount,
                Location::Tx {
                    index: 0,
                    txid: sharebase.compute_txid(),
                },
                format!(
                    "sharebase pays more than subsidy {} plus fees {fees}",
                    params.subsidy(height)
                ),
            )
        }
    }
    Ok(ShareUndo {
        height,
        spent,
        created: created.into_iter().flatten().collect(),
    })
}

/// The context a single non-sharebase transaction is checked in by [`check_tx_in_context`]:
/// the share it would be part of and the running totals of the transactions before it.
#[derive(Clone, Copy)]
pub struct TxContext<'a> {
    /// The network.
    pub params: &'a ChainParams,
    /// Height `H` of the share the transaction is (or would be) in.
    pub height: u32,
    /// Height `i` of the state `S_i` the coins come from (`H − 1` on a consistent chain):
    /// sharebase maturity is judged against it.
    pub state_height: u32,
    /// Median time past of the share's parent (`M`, §5.5).
    pub median_time_past: u32,
    /// Median times past of the branch, for BIP-68 time locks.
    pub times: &'a dyn ChainTimes,
    /// Position of the transaction in the share (`k > 0`), for error locations.
    pub index: usize,
    /// Fees of the share's transactions before this one (zero for a lone transaction).
    pub fees_before: ShareAmount,
    /// Sigop cost of the share's transactions before this one, the sharebase included (zero for
    /// a lone transaction).
    pub sigops_before: u64,
    /// Whether to run the scripts through the interpreter. Only a caller that has already
    /// verified them against the same spent outputs (a mempool re-checking after a reorg) may
    /// pass `false`: script validity depends only on the transaction and the spent outputs.
    pub verify_scripts: bool,
}

impl fmt::Debug for TxContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxContext")
            .field("network", &self.params.name)
            .field("height", &self.height)
            .field("state_height", &self.state_height)
            .field("median_time_past", &self.median_time_past)
            .field("index", &self.index)
            .field("fees_before", &self.fees_before)
            .field("sigops_before", &self.sigops_before)
            .field("verify_scripts", &self.verify_scripts)
            .finish()
    }
}

/// What [`check_tx_in_context`] found about a valid transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedTx {
    /// Its fee (`value_in − value_out`).
    pub fee: ShareAmount,
    /// Its own sigop cost (§5.7).
    pub sigops: u64,
    /// The share's running fee total with this transaction.
    pub fees_after: ShareAmount,
    /// The share's running sigop cost with this transaction.
    pub sigops_after: u64,
    /// The coins it spends, in input order.
    pub spent: Vec<(OutPoint, Coin)>,
}

/// Checks one non-sharebase transaction against a view of spendable coins: inputs present
/// (§5.3), sharebase maturity (§6.4), amounts and fees (§5.4), finality (§5.5), relative locks
/// (§5.6), sigops (§5.7) and scripts (§5.9), in that order — exactly the per-transaction checks
/// of [`connect_transactions`], which calls this. `coin` looks an outpoint up in the working
/// set (`S_i` plus outputs created earlier in the share, minus outputs already spent); a coin
/// created in the share itself must carry height `H`. The context-free checks
/// ([`check_transaction`]) are not repeated.
///
/// # Errors
/// The first rule broken: [`Rule::MissingInputs`], [`Rule::PrematureSpend`],
/// [`Rule::InputValuesOutOfRange`], [`Rule::OutputTotalTooLarge`], [`Rule::InBelowOut`],
/// [`Rule::NonFinal`], [`Rule::SequenceLock`], [`Rule::Sigops`], [`Rule::ScriptFailed`].
pub fn check_tx_in_context(
    ctx: &TxContext<'_>,
    tx: &Transaction,
    txid: Txid,
    coin: impl Fn(&OutPoint) -> Option<Coin>,
) -> Result<CheckedTx, ValidationError> {
    let TxContext {
        params,
        height,
        state_height: state,
        median_time_past: mtp,
        times,
        index,
        ..
    } = *ctx;
    let at_tx = || Location::Tx { index, txid };
    let mut spent_outs = Vec::with_capacity(tx.input.len());
    let mut coins = Vec::with_capacity(tx.input.len());
    let mut value_in = ShareAmount::ZERO;
    for (i, input) in tx.input.iter().enumerate() {
        let op = input.previous_output;
        let at_in = Location::Input {
            index,
            txid,
            input: i,
        };
        let Some(coin) = coin(&op) else {
            return fail(
                Rule::MissingInputs,
                at_in,
                format!("{op} is missing or spent"),
            );
        };
        if !coin.is_mature(state, params.maturity) {
            return fail(
                Rule::PrematureSpend,
                at_in,
                format!(
                    "sharebase output from height {} spent at height {height}, maturity {}",
                    coin.height, params.maturity
                ),
            );
        }
        let v = ShareAmount::from_output_value(coin.output.value).ok();
        value_in = match v.and_then(|v| value_in.checked_add(v)) {
            Some(t) => t,
            None => {
                return fail(
                    Rule::InputValuesOutOfRange,
                    at_in,
                    "input values out of range",
                )
            }
        };
        spent_outs.push(coin.output.clone());
        coins.push((op, coin));
    }
    let value_out = tx.output.iter().try_fold(ShareAmount::ZERO, |acc, o| {
        ShareAmount::from_output_value(o.value)
            .ok()
            .and_then(|v| acc.checked_add(v))
    });
    let Some(value_out) = value_out else {
        return fail(
            Rule::OutputTotalTooLarge,
            at_tx(),
            "outputs sum above the maximum amount",
        );
    };
    let Some(fee) = value_in.checked_sub(value_out) else {
        return fail(
            Rule::InBelowOut,
            at_tx(),
            format!("inputs {value_in} below outputs {value_out}"),
        );
    };
    let fees_after = match ctx.fees_before.checked_add(fee) {
        Some(f) => f,
        None => return fail(Rule::InputValuesOutOfRange, at_tx(), "fees out of range"),
    };
    check_final(tx, height, mtp, at_tx)?;
    if let Some(input) = sequence_lock_violation(tx, &coins, height, mtp, times) {
        return fail(
            Rule::SequenceLock,
            Location::Input { index, txid, input },
            "relative lock not reached",
        );
    }
    let by_op: HashMap<OutPoint, &TxOut> = coins.iter().map(|(op, c)| (*op, &c.output)).collect();
    let own_sigops = tx.total_sigop_cost(|op| by_op.get(op).map(|o| (*o).clone())) as u64;
    let sigops_after = ctx.sigops_before.saturating_add(own_sigops);
    check_sigops(params, sigops_after, at_tx)?;
    if ctx.verify_scripts {
        let prepared =
            PreparedTransaction::new(tx, &spent_outs).map_err(|e| script_error(e, index, txid))?;
        prepared
            .verify_all()
            .map_err(|e| script_error(e, index, txid))?;
    }
    Ok(CheckedTx {
        fee,
        sigops: own_sigops,
        fees_after,
        sigops_after,
        spent: coins,
    })
}

/// [`Rule::NonFinal`] unless `tx` is final at `height` and median time past `mtp`.
fn check_final(
    tx: &Transaction,
    height: u32,
    mtp: u32,
    at: impl Fn() -> Location,
) -> Result<(), ValidationError> {
    if is_final(tx, height, mtp) {
        return Ok(());
    }
    fail(
        Rule::NonFinal,
        at(),
        format!(
            "locktime {} not reached at height {height}, median time {mtp}",
            tx.lock_time
        ),
    )
}

/// [`Rule::Sigops`] if the running sigop cost is above the network's limit.
fn check_sigops(
    params: &ChainParams,
    sigops: u64,
    at: impl Fn() -> Location,
) -> Result<(), ValidationError> {
    if sigops <= params.max_share_sigops_cost {
        return Ok(());
    }
    fail(
        Rule::Sigops,
        at(),
        format!("sigop cost {sigops} above {}", params.max_share_sigops_cost),
    )
}

fn script_error(e: ScriptError, index: usize, txid: Txid) -> ValidationError {
    let input = match e {
        ScriptError::Invalid { input } | ScriptError::Kernel { input, .. } => input,
        _ => 0,
    };
    ValidationError {
        rule: Rule::ScriptFailed,
        at: Location::Input { index, txid, input },
        detail: e.to_string(),
    }
}

/// Bitcoin's `IsFinalTx` with sharechain heights and median time past (BIP-113).
pub fn is_final(tx: &Transaction, height: u32, median_time_past: u32) -> bool {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return true;
    }
    let reached = if lock < 500_000_000 {
        lock < height
    } else {
        lock < median_time_past
    };
    reached || tx.input.iter().all(|i| i.sequence.0 == u32::MAX)
}

/// BIP-68 relative locks in sharechain terms; returns the first input whose lock is not reached.
fn sequence_lock_violation(
    tx: &Transaction,
    coins: &[(OutPoint, Coin)],
    height: u32,
    mtp: u32,
    times: &dyn ChainTimes,
) -> Option<usize> {
    // Bitcoin Core reads the version as unsigned here (as its CSV opcode does): a negative
    // version is a large one, and large versions are subject to BIP-68.
    if (tx.version.0 as u32) < 2 {
        return None;
    }
    for (i, (input, (_, coin))) in tx.input.iter().zip(coins).enumerate() {
        let seq = input.sequence.0;
        if seq & (1 << 31) != 0 {
            continue;
        }
        let value = i64::from(seq & 0xffff);
        if seq & (1 << 22) != 0 {
            let coin_time = i64::from(times.median_time_past(coin.height.saturating_sub(1)));
            let min_time = coin_time + (value << 9) - 1;
            if min_time >= i64::from(mtp) {
                return Some(i);
            }
        } else {
            let min_height = i64::from(coin.height) + value - 1;
            if min_height >= i64::from(height) {
                return Some(i);
            }
        }
    }
    None
}
