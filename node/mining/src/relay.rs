//! The block relay: a share a peer gossips whose work meets Bitcoin's target is submitted to
//! this node's Bitcoin node too (as P2Pool did), so the block reaches Bitcoin even when its
//! finder's own connection fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::{Block, TxMerkleNode};
use p2share_consensus::ShareHead;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::{BlockTemplate, Mainchain, SubmitResult};
use p2share_service::Net;
use tokio::sync::mpsc;

use crate::job::coinbase_branch;

/// Heads waiting for the relay (more are dropped: a flood of them is no honest peer's).
const QUEUE: usize = 64;
/// How long a fetched template is trusted for the policy target and the transactions.
const TEMPLATE_TTL: Duration = Duration::from_secs(10);

/// What the relay did with a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relayed {
    /// Submitted; the Bitcoin node's answer.
    Submitted(SubmitResult),
    /// Not on Bitcoin's tip (stale, or a chain this Bitcoin node does not have).
    NotOnTip,
    /// Its hash does not meet the template's target (the devnet's policy is harder than
    /// `bits`).
    NotABlock,
    /// Its merkle branch is not the template's: the block's transactions are unknown here.
    UnknownTransactions,
    /// No template (the Bitcoin node did not answer).
    NoTemplate(String),
}

/// Starts relaying `net`'s gossiped Bitcoin blocks to `mainchain`; ends with the node.
pub fn start_relay(net: &Net, mainchain: BitcoindRpc) {
    let (tx, mut rx) = mpsc::channel::<ShareHead>(QUEUE);
    net.set_block_relay(tx);
    let mainchain = Arc::new(mainchain);
    tokio::spawn(async move {
        let mut cached: Option<(BlockTemplate, Instant)> = None;
        while let Some(head) = rx.recv().await {
            let hash = head.work.header.block_hash();
            let outcome = relay(&mainchain, &head, &mut cached).await;
            match &outcome {
                Relayed::Submitted(answer) => tracing::info!(
                    block = %hash,
                    ?answer,
                    "Bitcoin block from a peer's share submitted to our Bitcoin node"
                ),
                Relayed::UnknownTransactions => tracing::warn!(
                    block = %hash,
                    "a peer's share is a Bitcoin block whose transactions we do not have: not relayed"
                ),
                other => tracing::debug!(block = %hash, ?other, "peer share not relayed"),
            }
        }
    });
}

/// Relays one head: checks it against a fresh template (tip, policy target, transactions)
/// and submits the block.
pub async fn relay(
    mainchain: &BitcoindRpc,
    head: &ShareHead,
    cached: &mut Option<(BlockTemplate, Instant)>,
) -> Relayed {
    let header = head.work.header;
    // A head on another parent refetches at most once a second (shares downloaded while
    // syncing are mostly old).
    let stale = cached.as_ref().is_none_or(|(t, at)| {
        at.elapsed() > TEMPLATE_TTL
            || (t.previous_block_hash != header.prev_blockhash
                && at.elapsed() > Duration::from_secs(1))
    });
    if stale {
        match mainchain.block_template(None).await {
            Ok(t) => *cached = Some((t, Instant::now())),
            Err(e) => return Relayed::NoTemplate(e.to_string()),
        }
    }
    let Some((template, _)) = cached.as_ref() else {
        return Relayed::NoTemplate("none fetched".into());
    };
    if template.previous_block_hash != header.prev_blockhash {
        return Relayed::NotOnTip;
    }
    if !template.target.is_met_by(header.block_hash()) {
        return Relayed::NotABlock;
    }
    let mut txdata = vec![head.work.coinbase.clone()];
    if !head.work.merkle_branch.is_empty() {
        let ids: Vec<TxMerkleNode> = template
            .transactions
            .iter()
            .map(|t| TxMerkleNode::from_byte_array(t.txid.to_byte_array()))
            .collect();
        if coinbase_branch(&ids) != head.work.merkle_branch {
            return Relayed::UnknownTransactions;
        }
        txdata.extend(template.transactions.iter().map(|t| t.tx.clone()));
    }
    let block = Block { header, txdata };
    match mainchain.submit_block(&block).await {
        Ok(answer) => Relayed::Submitted(answer),
        Err(e) => Relayed::Submitted(SubmitResult::Rejected(format!("error: {e}"))),
    }
}
