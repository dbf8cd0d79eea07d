//! The job builder: a Bitcoin template, the sharechain tip and the mempool's selection → an
//! unmined share whose Bitcoin coinbase pays the share the payout rule selects.

use std::time::Instant;

use bitcoin::block::Header as BitcoinHeader;
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{Block, ScriptBuf, Target, Transaction, TxMerkleNode, Witness};
use p2share_consensus::builder::{build_share, BuildError, WorkTemplate};
use p2share_consensus::chain::ChainState;
use p2share_consensus::pow::decode_compact;
use p2share_consensus::validation::height_push;
use p2share_consensus::Share;
use p2share_mainchain::BlockTemplate;
use p2share_service::unix_now;

/// Bytes of extranonce in the Bitcoin coinbase scriptSig: 4 for the node, 4 for a Stratum
/// client later (extranonce1 ‖ extranonce2).
pub const EXTRANONCE_SIZE: usize = 8;

/// A unit of work: an unmined share (nonce 0) and the Bitcoin template it was built from.
#[derive(Clone, Debug)]
pub struct MiningJob {
    /// Job id (increasing).
    pub id: u64,
    /// The share, Bitcoin nonce still to find.
    pub share: Share,
    /// The Bitcoin transactions after the coinbase, for a block.
    pub bitcoin_txs: Vec<Transaction>,
    /// The target a share must meet.
    pub share_target: Target,
    /// The target a Bitcoin block must meet (the template's, which may be a devnet policy).
    pub bitcoin_target: Target,
    /// The extranonce in the coinbase.
    pub extranonce: u64,
    /// Bitcoin height of the template.
    pub bitcoin_height: u32,
    /// When it was built.
    pub built: Instant,
}

/// The merkle branch of the first leaf (the coinbase) over `txids` of the other transactions.
pub fn coinbase_branch(others: &[TxMerkleNode]) -> Vec<TxMerkleNode> {
    let mut branch = Vec::new();
    // Level 0: [coinbase placeholder, others...]; the placeholder is never read.
    let mut level: Vec<Option<TxMerkleNode>> = std::iter::once(None)
        .chain(others.iter().copied().map(Some))
        .collect();
    while level.len() > 1 {
        let sibling = level.get(1).copied().flatten().or(level[0]);
        if let Some(s) = sibling {
            branch.push(s);
        }
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            let left = pair[0];
            let right = pair.get(1).copied().unwrap_or(left);
            next.push(match (left, right) {
                (Some(l), Some(r)) => {
                    let mut buf = [0u8; 64];
                    buf[..32].copy_from_slice(l.as_byte_array());
                    buf[32..].copy_from_slice(r.as_byte_array());
                    Some(TxMerkleNode::hash(&buf))
                }
                _ => None, // the path of the coinbase
            });
        }
        level = next;
    }
    branch
}

fn coinbase_script_sig(bitcoin_height: u32, extranonce: u64) -> ScriptBuf {
    let mut sig = height_push(bitcoin_height).into_bytes();
    let extra = PushBytesBuf::from(extranonce.to_be_bytes());
    sig.extend_from_slice(
        Builder::new()
            .push_slice(extra)
            .push_slice(b"/p2share/")
            .as_bytes(),
    );
    ScriptBuf::from_bytes(sig)
}

/// Builds a job on the chain's tip from a Bitcoin template: the coinbase carries the BIP-34
/// height, the extranonce, the single payout output (to the selected share's script), the
/// share commitment, and Bitcoin's witness commitment when the template needs one.
///
/// # Errors
/// [`BuildError`] from the consensus builder.
pub fn build_job(
    chain: &ChainState,
    template: &BlockTemplate,
    sharebase_script: &ScriptBuf,
    share_txs: Vec<Transaction>,
    extranonce: u64,
    id: u64,
) -> Result<MiningJob, BuildError> {
    let others: Vec<TxMerkleNode> = template
        .transactions
        .iter()
        .map(|t| TxMerkleNode::from_byte_array(t.txid.to_byte_array()))
        .collect();
    let work = WorkTemplate {
        version: bitcoin::block::Version::from_consensus(template.version),
        prev_blockhash: template.previous_block_hash,
        bits: template.bits,
        time: template.cur_time.max(template.min_time),
        coinbase_value: template.coinbase_value,
        merkle_branch: coinbase_branch(&others),
        coinbase_script_sig: coinbase_script_sig(template.height, extranonce),
    };
    let now = u32::try_from(unix_now()).unwrap_or(u32::MAX);
    let mut share = build_share(
        chain,
        sharebase_script.clone(),
        share_txs,
        now,
        &extranonce.to_be_bytes(),
        &work,
    )?;
    if let Some(commitment) = &template.default_witness_commitment {
        let cb = &mut share.head.work.coinbase;
        cb.output.push(bitcoin::TxOut {
            value: bitcoin::Amount::ZERO,
            script_pubkey: commitment.clone(),
        });
        if let Some(input) = cb.input.first_mut() {
            input.witness = Witness::from_slice(&[[0u8; 32]]);
        }
        share.head.work.header.merkle_root = share.head.work.computed_merkle_root();
    }
    let share_target = decode_compact(share.head.header.bits).unwrap_or(Target::ZERO);
    Ok(MiningJob {
        id,
        share,
        bitcoin_txs: template.transactions.iter().map(|t| t.tx.clone()).collect(),
        share_target,
        bitcoin_target: template.target,
        extranonce,
        bitcoin_height: template.height,
        built: Instant::now(),
    })
}

/// The Bitcoin block of a mined job.
pub fn assemble_block(header: BitcoinHeader, job: &MiningJob) -> Block {
    let mut txdata = Vec::with_capacity(job.bitcoin_txs.len() + 1);
    txdata.push(job.share.head.work.coinbase.clone());
    txdata.extend(job.bitcoin_txs.iter().cloned());
    Block { header, txdata }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The coinbase branch folds to the same root as Bitcoin's merkle tree over the whole block,
    /// for every block size up to 17 transactions (odd levels duplicate their last node).
    #[test]
    fn coinbase_branch_folds_to_the_block_merkle_root() {
        let leaf = |i: u8| TxMerkleNode::hash(&[i; 7]);
        for others in 0..17u8 {
            let coinbase = leaf(200);
            let rest: Vec<TxMerkleNode> = (0..others).map(leaf).collect();
            let all: Vec<TxMerkleNode> = std::iter::once(coinbase).chain(rest.clone()).collect();
            let expected = bitcoin::merkle_tree::calculate_root(all.into_iter()).unwrap();
            let mut acc = coinbase;
            for node in coinbase_branch(&rest) {
                let mut buf = [0u8; 64];
                buf[..32].copy_from_slice(acc.as_byte_array());
                buf[32..].copy_from_slice(node.as_byte_array());
                acc = TxMerkleNode::hash(&buf);
            }
            assert_eq!(acc, expected, "{others} other transactions");
        }
    }
}
