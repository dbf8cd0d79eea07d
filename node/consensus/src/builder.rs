//! Building shares for mining (the genesis share is in [`crate::genesis`]).
//!
//! [`build_share`] assembles a
//! share on the current tip — sharebase, transactions, header, the Bitcoin coinbase paying the
//! selected share and carrying the commitment — from a [`WorkTemplate`] (the Bitcoin side of a
//! job); [`grind`] searches nonces until the Bitcoin header meets the share target.

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header as BitcoinHeader, Version};
use bitcoin::hashes::Hash;
use bitcoin::pow::CompactTarget;
use bitcoin::script::Builder;
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{Amount, BlockHash, OutPoint, ScriptBuf, Transaction, TxMerkleNode, TxOut};

use crate::amount::ShareAmount;
use crate::chain::ChainState;
use crate::pow::{check_proof_of_work, decode_compact};
use crate::share::{BitcoinWork, Share, ShareHead, ShareHeader, SHARE_VERSION};
use crate::validation::{commitment_script, height_push, tx_root};

/// Why a share could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A transaction spends an output that is neither in the UTXO set nor created earlier.
    #[error("transaction {txid} spends unknown output {outpoint}")]
    MissingInput {
        /// The spending transaction.
        txid: bitcoin::Txid,
        /// The missing output.
        outpoint: OutPoint,
    },
    /// Input or output values are out of range, or outputs exceed inputs.
    #[error("transaction {0} has out-of-range or negative fee")]
    BadFee(bitcoin::Txid),
    /// The Bitcoin coinbase scriptSig is not 2–100 bytes.
    #[error("bitcoin coinbase scriptSig is {0} bytes; it must be 2 to 100")]
    CoinbaseScriptSig(usize),
    /// The extra data does not fit a push.
    #[error("sharebase extra data is too long")]
    ExtraTooLong,
}

/// The Bitcoin side of a mining job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkTemplate {
    /// Bitcoin block version.
    pub version: Version,
    /// Previous Bitcoin block.
    pub prev_blockhash: BlockHash,
    /// Bitcoin compact target.
    pub bits: CompactTarget,
    /// Bitcoin block time.
    pub time: u32,
    /// Subsidy plus fees of the Bitcoin block: the value of the single payout output.
    pub coinbase_value: Amount,
    /// Merkle branch of the Bitcoin block's other transactions, for the coinbase at index 0.
    pub merkle_branch: Vec<TxMerkleNode>,
    /// The Bitcoin coinbase scriptSig (BIP-34 height, extranonce space).
    pub coinbase_script_sig: ScriptBuf,
}

impl WorkTemplate {
    /// A template for a Bitcoin block with no other transactions, on top of `prev_blockhash`:
    /// what tests and a node without a mainchain use.
    pub fn standalone(
        prev_blockhash: BlockHash,
        time: u32,
        coinbase_value: Amount,
    ) -> WorkTemplate {
        WorkTemplate {
            version: Version::from_consensus(0x2000_0000),
            prev_blockhash,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            time,
            coinbase_value,
            merkle_branch: Vec::new(),
            coinbase_script_sig: Builder::new().push_slice(b"p2share").into_script(),
        }
    }
}

pub use crate::genesis::genesis_share;
use crate::genesis::{null_input, push};

/// Sums the fees of `txs` against the chain's UTXO set and the outputs of earlier `txs`.
fn total_fees(chain: &ChainState, txs: &[Transaction]) -> Result<ShareAmount, BuildError> {
    let mut created = std::collections::HashMap::new();
    let mut fees = ShareAmount::ZERO;
    for tx in txs {
        let txid = tx.compute_txid();
        let mut value_in = ShareAmount::ZERO;
        for input in &tx.input {
            let op = input.previous_output;
            let value = match created.get(&op) {
                Some(v) => *v,
                None => match chain.utxo().get(&op) {
                    Some(c) => c.output.value,
                    None => return Err(BuildError::MissingInput { txid, outpoint: op }),
                },
            };
            value_in = ShareAmount::from_output_value(value)
                .ok()
                .and_then(|v| value_in.checked_add(v))
                .ok_or(BuildError::BadFee(txid))?;
        }
        let mut value_out = ShareAmount::ZERO;
        for (vout, out) in tx.output.iter().enumerate() {
            created.insert(
                OutPoint {
                    txid,
                    vout: vout as u32,
                },
                out.value,
            );
            value_out = ShareAmount::from_output_value(out.value)
                .ok()
                .and_then(|v| value_out.checked_add(v))
                .ok_or(BuildError::BadFee(txid))?;
        }
        let fee = value_in
            .checked_sub(value_out)
            .ok_or(BuildError::BadFee(txid))?;
        fees = fees.checked_add(fee).ok_or(BuildError::BadFee(txid))?;
    }
    Ok(fees)
}

/// Assembles an unmined share on the chain's tip: the sharebase pays subsidy plus fees to
/// `sharebase_script`, `extra` goes into the sharebase scriptSig, and the Bitcoin coinbase pays
/// the whole `work.coinbase_value` to the selected share's script (to `sharebase_script` while
/// `n = 0`). The share time is raised above the median time past if needed. The Bitcoin header's
/// nonce is 0; see [`grind`].
///
/// # Errors
/// [`BuildError`] for transactions spending unknown outputs or with negative fees, or a bad
/// coinbase scriptSig.
pub fn build_share(
    chain: &ChainState,
    sharebase_script: ScriptBuf,
    txs: Vec<Transaction>,
    time: u32,
    extra: &[u8],
    work: &WorkTemplate,
) -> Result<Share, BuildError> {
    let params = chain.params();
    let height = chain.height() + 1;
    let fees = total_fees(chain, &txs)?;
    let value = params
        .subsidy(height)
        .checked_add(fees)
        .unwrap_or(ShareAmount::MAX);
    let extra = push(extra).ok_or(BuildError::ExtraTooLong)?;
    let mut sb_sig = height_push(height).into_bytes();
    sb_sig.extend_from_slice(Builder::new().push_slice(extra).as_bytes());
    if sb_sig.len() > 100 {
        return Err(BuildError::ExtraTooLong);
    }
    if sb_sig.len() < 2 {
        sb_sig.push(0x00);
    }
    let sharebase = Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: vec![null_input(ScriptBuf::from_bytes(sb_sig))],
        output: vec![TxOut {
            value: Amount::from_sat(value.to_units()),
            script_pubkey: sharebase_script.clone(),
        }],
    };
    let mut all = Vec::with_capacity(txs.len() + 1);
    all.push(sharebase);
    all.extend(txs);
    let header = ShareHeader {
        version: SHARE_VERSION,
        prev_share: chain.tip_hash(),
        height,
        tx_root: tx_root(&all),
        time: time.max(chain.median_time_past().saturating_add(1)),
        bits: chain.next_bits(),
    };
    let sig_len = work.coinbase_script_sig.len();
    if !(2..=100).contains(&sig_len) {
        return Err(BuildError::CoinbaseScriptSig(sig_len));
    }
    let payee = chain
        .next_payout()
        .map(|p| p.script_pubkey)
        .unwrap_or(sharebase_script);
    let coinbase = Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: vec![null_input(work.coinbase_script_sig.clone())],
        output: vec![
            TxOut {
                value: work.coinbase_value,
                script_pubkey: payee,
            },
            TxOut {
                value: Amount::ZERO,
                script_pubkey: commitment_script(params.magic, &header),
            },
        ],
    };
    let mut bw = BitcoinWork {
        header: BitcoinHeader {
            version: work.version,
            prev_blockhash: work.prev_blockhash,
            merkle_root: TxMerkleNode::all_zeros(),
            time: work.time,
            bits: work.bits,
            nonce: 0,
        },
        coinbase,
        merkle_branch: work.merkle_branch.clone(),
    };
    bw.header.merkle_root = bw.computed_merkle_root();
    Ok(Share {
        head: ShareHead { header, work: bw },
        txs: all,
    })
}

/// Searches up to `max_tries` nonces from the current one for a Bitcoin header hash that meets
/// the share target. Returns whether one was found (the share then holds it).
pub fn grind(share: &mut Share, max_tries: u64) -> bool {
    let Ok(target) = decode_compact(share.head.header.bits) else {
        return false;
    };
    for _ in 0..max_tries {
        if check_proof_of_work(&share.head.work.header.block_hash(), &target) {
            return true;
        }
        match share.head.work.header.nonce.checked_add(1) {
            Some(n) => share.head.work.header.nonce = n,
            None => return false,
        }
    }
    false
}
