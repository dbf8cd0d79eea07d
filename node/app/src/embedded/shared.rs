//! The embedded regtest mainchain as the devnet's shared Bitcoin chain: what the node's network
//! side ([`p2share_service::bitcoin_net`]) needs to relay its blocks and transactions to peers.
//!
//! It holds the chain weakly: the network side never keeps a closed mainchain (and the kernel's
//! database locks) alive; once the mainchain is gone every call answers as an empty chain would.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bitcoin::{Block, BlockHash, Transaction};
use p2share_regtest::{RegtestNode, SubmitOutcome};
use p2share_service::{BlockVerdict, SharedBitcoinChain, TxVerdict};

/// Longest a wait for a change holds the chain.
const WAIT_SLICE: Duration = Duration::from_millis(50);
/// Dense hashes at the head of a locator before the steps start doubling.
const LOCATOR_DENSE: u32 = 10;

/// [`SharedBitcoinChain`] over the embedded regtest node.
#[derive(Debug, Clone)]
pub struct EmbeddedShared {
    node: Weak<RegtestNode>,
}

impl EmbeddedShared {
    /// Shares `node` (held weakly).
    pub fn new(node: &Arc<RegtestNode>) -> EmbeddedShared {
        EmbeddedShared {
            node: Arc::downgrade(node),
        }
    }
}

/// Heights of a block locator for a chain whose tip is at `tip`: the last
/// [`LOCATOR_DENSE`] heights, then doubling steps, then genesis.
fn locator_heights(tip: u32) -> Vec<u32> {
    let mut heights = Vec::new();
    let mut h = i64::from(tip);
    let mut step = 1i64;
    while h > 0 {
        heights.push(h as u32);
        if heights.len() as u32 >= LOCATOR_DENSE {
            step *= 2;
        }
        h -= step;
    }
    heights.push(0);
    heights
}

/// Maps `submitblock`'s outcome for a block received from a peer.
fn verdict(block: &Block, outcome: SubmitOutcome) -> BlockVerdict {
    match outcome {
        SubmitOutcome::Accepted { .. } => BlockVerdict::Accepted,
        SubmitOutcome::Duplicate => BlockVerdict::Known,
        SubmitOutcome::Rejected { reason } => match reason.as_str() {
            "prev-blk-not-found" => BlockVerdict::MissingParent,
            // Clocks differ between machines; the block may be fine in a minute.
            "time-too-new" => BlockVerdict::Ignored(reason),
            // Over the devnet's block target but meeting its own bits: a peer with another
            // policy, not an invalid block.
            "high-hash" if block.header.target().is_met_by(block.block_hash()) => {
                BlockVerdict::Ignored(reason)
            }
            r if r.starts_with("not-durable") => BlockVerdict::Ignored(reason),
            _ => BlockVerdict::Invalid(reason),
        },
        _ => BlockVerdict::Ignored("unknown outcome".into()),
    }
}

impl SharedBitcoinChain for EmbeddedShared {
    fn locator(&self) -> Vec<BlockHash> {
        let Some(node) = self.node.upgrade() else {
            return Vec::new();
        };
        let chain = node.chain();
        locator_heights(chain.tip().height)
            .into_iter()
            .filter_map(|h| chain.block_hash(h))
            .collect()
    }

    fn blocks_after(&self, locator: &[BlockHash], max: usize) -> Vec<Block> {
        let Some(node) = self.node.upgrade() else {
            return Vec::new();
        };
        let chain = node.chain();
        let start = locator
            .iter()
            .find_map(|h| chain.header(h).filter(|i| i.in_active_chain))
            .map_or(1, |i| i.height.saturating_add(1));
        let tip = chain.tip().height;
        (start..=tip)
            .take(max)
            .map_while(|h| chain.block_hash(h).and_then(|hash| chain.block(&hash)))
            .collect()
    }

    fn tip_hash(&self) -> BlockHash {
        self.node.upgrade().map_or(
            bitcoin::constants::genesis_block(bitcoin::Network::Regtest).block_hash(),
            |n| n.chain().tip().hash,
        )
    }

    fn block(&self, hash: &BlockHash) -> Option<Block> {
        self.node.upgrade()?.chain().block(hash)
    }

    fn submit_block(&self, block: &Block) -> BlockVerdict {
        let Some(node) = self.node.upgrade() else {
            return BlockVerdict::Ignored("the mainchain is closed".into());
        };
        verdict(block, node.submit_block(block))
    }

    fn submit_transaction(&self, tx: Transaction) -> TxVerdict {
        let Some(node) = self.node.upgrade() else {
            return TxVerdict::Refused("the mainchain is closed".into());
        };
        match node.send_raw_transaction(tx) {
            Ok(_) => TxVerdict::Accepted,
            Err(e) => TxVerdict::Refused(e.to_string()),
        }
    }

    fn mempool_transactions(&self) -> Vec<Transaction> {
        let Some(node) = self.node.upgrade() else {
            return Vec::new();
        };
        let pool = node.mempool();
        pool.txids()
            .iter()
            .filter_map(|txid| pool.get(txid).map(|tx| (*tx).clone()))
            .collect()
    }

    fn change_generation(&self) -> u64 {
        self.node.upgrade().map_or(0, |n| n.change_generation())
    }

    fn wait_for_change(&self, seen: u64, timeout: Duration) -> u64 {
        // In short slices, each with its own strong reference: a closing mainchain waits for
        // its last reference to go (see `RegtestMainchain::shutdown`), never for a whole wait.
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let now = std::time::Instant::now();
            let slice = deadline.saturating_duration_since(now).min(WAIT_SLICE);
            let Some(node) = self.node.upgrade() else {
                std::thread::sleep(slice);
                return seen;
            };
            let generation = node.wait_for_change(seen, slice);
            drop(node);
            if generation != seen || std::time::Instant::now() >= deadline {
                return generation;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_dense_then_sparse_and_end_at_genesis() {
        assert_eq!(locator_heights(0), vec![0]);
        assert_eq!(locator_heights(3), vec![3, 2, 1, 0]);
        let l = locator_heights(1_000);
        assert_eq!(&l[..10], &(991..=1_000).rev().collect::<Vec<_>>()[..]);
        assert_eq!(l.last(), Some(&0));
        assert!(l.len() < 30, "{l:?}");
        assert!(l.windows(2).all(|w| w[0] > w[1]));
    }
}
