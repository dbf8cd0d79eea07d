//! One Bitcoin chain per devnet: the embedded regtest mainchains of a devnet's nodes relay
//! Bitcoin blocks and transactions to each other over the devnet's libp2p connections.
//!
//! Each node still validates every block with its own chain (Bitcoin Core's consensus through
//! `bitcoinkernel`); most work wins and reorgs are followed by that chain. This module only
//! moves data:
//! - **Gossip**: the tip block whenever the local tip changes, and every new mempool
//!   transaction, on the `btc-blocks` and `btc-txs` topics. A block whose parent is unknown
//!   starts a catch-up from the peer that sent it.
//! - **Catch-up**: on every new connection, `GetBitcoinBlocks` with our locator, in rounds of
//!   up to 64 blocks, until the peer has nothing more; a joiner adopts the founder's chain
//!   this way and a partitioned node moves to the branch with more work when it reconnects.
//!
//! The chain itself is behind [`SharedBitcoinChain`] (the app implements it over its embedded
//! regtest node); its calls are synchronous and run on the blocking pool.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{Block, BlockHash, Transaction, Txid};
use p2share_p2p::wire::MAX_BITCOIN_BLOCKS;
use p2share_p2p::{Misbehavior, PeerId, Request, Response, Topic, Verdict};

use crate::sync::Net;

/// Most bytes of blocks in one `BitcoinBlocks` response (under the 8 MiB frame limit).
const MAX_BLOCKS_RESPONSE_BYTES: usize = 7 * 1024 * 1024;
/// Most catch-up rounds from one peer in a row (64 blocks each): a long chain continues on the
/// next trigger.
const MAX_CATCH_UP_ROUNDS: usize = 1_000;
/// How long the announcer waits for a change before it looks again whether the node stopped.
const ANNOUNCE_POLL: Duration = Duration::from_millis(500);

/// What a chain made of a block from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockVerdict {
    /// Stored (on the active chain or a side branch).
    Accepted,
    /// Already known.
    Known,
    /// Its parent is unknown: catch up from the sender.
    MissingParent,
    /// Not acted on for a reason that does not make the block invalid (a timestamp too far in
    /// the future, a policy difference).
    Ignored(String),
    /// Invalid under Bitcoin's consensus rules (or the devnet's block target): the sender is
    /// cut off.
    Invalid(String),
}

/// What a chain made of a transaction from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxVerdict {
    /// Entered the mempool.
    Accepted,
    /// Not entered (already known, missing inputs, below the fee floor, a conflict…): mempools
    /// differ, so this never penalizes the sender.
    Refused(String),
}

/// The Bitcoin chain a node shares with its devnet peers. Calls may block (they validate
/// blocks); the relay runs them on the blocking pool.
pub trait SharedBitcoinChain: Send + Sync + 'static {
    /// A block locator of the active chain: hashes newest first, dense near the tip, then
    /// exponentially sparser, ending with genesis.
    fn locator(&self) -> Vec<BlockHash>;
    /// Up to `max` active-chain blocks after the first `locator` hash on the active chain (after
    /// genesis when none is), in order.
    fn blocks_after(&self, locator: &[BlockHash], max: usize) -> Vec<Block>;
    /// The active tip's hash.
    fn tip_hash(&self) -> BlockHash;
    /// A stored block.
    fn block(&self, hash: &BlockHash) -> Option<Block>;
    /// Validates and stores a block received from a peer.
    fn submit_block(&self, block: &Block) -> BlockVerdict;
    /// Offers a transaction received from a peer to the mempool.
    fn submit_transaction(&self, tx: Transaction) -> TxVerdict;
    /// The mempool's transactions.
    fn mempool_transactions(&self) -> Vec<Transaction>;
    /// A counter that changes whenever the tip or the mempool changes.
    fn change_generation(&self) -> u64;
    /// Blocks until [`SharedBitcoinChain::change_generation`] differs from `seen` or `timeout`
    /// passes; returns the counter.
    fn wait_for_change(&self, seen: u64, timeout: Duration) -> u64;
}

/// Runs `f` on the blocking pool with the chain.
async fn blocking<T: Send + 'static>(
    chain: &Arc<dyn SharedBitcoinChain>,
    f: impl FnOnce(&dyn SharedBitcoinChain) -> T + Send + 'static,
) -> Option<T> {
    let chain = Arc::clone(chain);
    tokio::task::spawn_blocking(move || f(chain.as_ref()))
        .await
        .ok()
}

impl Net {
    /// Shares `chain` with the devnet's peers from now on: answers their `GetBitcoinBlocks`,
    /// takes their gossiped blocks and transactions, gossips local changes and catches up from
    /// every connected peer. Call once, after [`Net::start`].
    pub fn share_bitcoin_chain(&self, chain: Arc<dyn SharedBitcoinChain>) {
        *self
            .bitcoin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&chain));
        tokio::spawn(self.clone().announce_loop(chain));
        let net = self.clone();
        tokio::spawn(async move {
            if let Ok(peers) = net.p2p.peers().await {
                for peer in peers {
                    net.spawn_bitcoin_catch_up(peer.peer_id);
                }
            }
        });
    }

    pub(crate) fn bitcoin_chain(&self) -> Option<Arc<dyn SharedBitcoinChain>> {
        self.bitcoin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Starts a catch-up from `peer`; if one from it is running, it makes one more pass when it
    /// ends (the blocks that prompted this call may have come after its last request).
    pub(crate) fn spawn_bitcoin_catch_up(&self, peer: PeerId) {
        if self.bitcoin_chain().is_none() {
            return;
        }
        {
            let mut running = self
                .bitcoin_catch_ups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(again) = running.get_mut(&peer) {
                *again = true;
                return;
            }
            running.insert(peer, false);
        }
        let net = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = net.bitcoin_catch_up(peer).await {
                    tracing::debug!(%peer, error = %e, "Bitcoin catch-up stopped");
                }
                let mut running = net
                    .bitcoin_catch_ups
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match running.get_mut(&peer) {
                    Some(again) if *again => *again = false,
                    _ => {
                        running.remove(&peer);
                        return;
                    }
                }
            }
        });
    }

    async fn bitcoin_catch_up(&self, peer: PeerId) -> Result<(), String> {
        let Some(chain) = self.bitcoin_chain() else {
            return Ok(());
        };
        for _ in 0..MAX_CATCH_UP_ROUNDS {
            let locator = blocking(&chain, |c| c.locator())
                .await
                .ok_or("the chain's task failed")?;
            let request = Request::GetBitcoinBlocks {
                locator,
                max: MAX_BITCOIN_BLOCKS as u32,
            };
            let blocks = match self.request(peer, request).await {
                Ok(Response::BitcoinBlocks(blocks)) => blocks,
                Ok(Response::Error { code, message }) => {
                    return Err(format!("refused: {code} {message}"))
                }
                Ok(_) => return Err("answered with something else".into()),
                Err(e) => return Err(e.to_string()),
            };
            if blocks.is_empty() {
                return Ok(());
            }
            let full = blocks.len() >= MAX_BITCOIN_BLOCKS;
            let verdicts = blocking(&chain, move |c| {
                let mut out = Vec::with_capacity(blocks.len());
                for block in &blocks {
                    let v = c.submit_block(block);
                    let stop = matches!(v, BlockVerdict::Invalid(_) | BlockVerdict::MissingParent);
                    out.push((block.block_hash(), v));
                    if stop {
                        break;
                    }
                }
                out
            })
            .await
            .ok_or("the chain's task failed")?;
            let mut progress = false;
            for (hash, verdict) in &verdicts {
                match verdict {
                    BlockVerdict::Accepted => progress = true,
                    BlockVerdict::Invalid(reason) => {
                        tracing::warn!(%peer, %hash, %reason, "peer sent an invalid Bitcoin block");
                        let _ = self
                            .p2p
                            .penalize(peer, Misbehavior::InvalidBitcoinBlock)
                            .await;
                        return Err(format!("invalid block {hash}: {reason}"));
                    }
                    BlockVerdict::MissingParent => {
                        // Blocks in chain order after our locator cannot miss a parent.
                        let _ = self.p2p.penalize(peer, Misbehavior::UselessData).await;
                        return Err(format!("block {hash} does not follow the blocks before it"));
                    }
                    BlockVerdict::Known | BlockVerdict::Ignored(_) => {}
                }
            }
            if let (true, Some((last, _))) = (progress, verdicts.last()) {
                tracing::info!(
                    %peer,
                    blocks = verdicts.len(),
                    last = %last,
                    "Bitcoin blocks caught up from a peer"
                );
            }
            if !full || !progress {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Answers a peer's `GetBitcoinBlocks`.
    pub(crate) async fn answer_bitcoin_blocks(
        &self,
        locator: Vec<BlockHash>,
        max: u32,
    ) -> Response {
        let Some(chain) = self.bitcoin_chain() else {
            return Response::Error {
                code: p2share_p2p::wire::ERROR_UNAVAILABLE,
                message: "this node shares no Bitcoin chain".into(),
            };
        };
        let max = (max as usize).min(MAX_BITCOIN_BLOCKS);
        let blocks = blocking(&chain, move |c| c.blocks_after(&locator, max))
            .await
            .unwrap_or_default();
        let mut bytes = 0usize;
        let mut out = Vec::with_capacity(blocks.len());
        for block in blocks {
            bytes += block.total_size();
            if bytes > MAX_BLOCKS_RESPONSE_BYTES && !out.is_empty() {
                break;
            }
            out.push(block);
        }
        Response::BitcoinBlocks(out)
    }

    /// A gossiped Bitcoin block.
    pub(crate) async fn on_gossip_bitcoin_block(&self, peer: PeerId, data: &[u8]) -> Verdict {
        let Some(chain) = self.bitcoin_chain() else {
            return Verdict::Ignore;
        };
        let Ok(block) = deserialize::<Block>(data) else {
            return Verdict::Reject;
        };
        let hash = block.block_hash();
        let verdict = blocking(&chain, move |c| c.submit_block(&block)).await;
        match verdict {
            Some(BlockVerdict::Accepted) => {
                tracing::debug!(%peer, %hash, "Bitcoin block from a peer stored");
                Verdict::Accept
            }
            Some(BlockVerdict::Known) | None => Verdict::Ignore,
            Some(BlockVerdict::MissingParent) => {
                self.spawn_bitcoin_catch_up(peer);
                Verdict::Ignore
            }
            Some(BlockVerdict::Ignored(reason)) => {
                tracing::debug!(%peer, %hash, %reason, "Bitcoin block from a peer not taken");
                Verdict::Ignore
            }
            Some(BlockVerdict::Invalid(reason)) => {
                tracing::warn!(%peer, %hash, %reason, "peer gossiped an invalid Bitcoin block");
                Verdict::Reject
            }
        }
    }

    /// A gossiped Bitcoin transaction.
    pub(crate) async fn on_gossip_bitcoin_tx(&self, data: &[u8]) -> Verdict {
        let Some(chain) = self.bitcoin_chain() else {
            return Verdict::Ignore;
        };
        let Ok(tx) = deserialize::<Transaction>(data) else {
            return Verdict::Reject;
        };
        match blocking(&chain, move |c| c.submit_transaction(tx)).await {
            Some(TxVerdict::Accepted) => Verdict::Accept,
            Some(TxVerdict::Refused(reason)) => {
                tracing::debug!(%reason, "Bitcoin transaction from a peer not taken");
                Verdict::Ignore
            }
            None => Verdict::Ignore,
        }
    }

    /// Gossips the tip block whenever the tip changes and every new mempool transaction, until
    /// the node's network side stops.
    async fn announce_loop(self, chain: Arc<dyn SharedBitcoinChain>) {
        let mut seen = u64::MAX;
        let mut last_tip: Option<BlockHash> = None;
        let mut announced: HashSet<Txid> = HashSet::new();
        let stopped: Arc<AtomicBool> = Arc::clone(&self.stopped);
        while !stopped.load(Ordering::Relaxed) {
            let Some(generation) =
                blocking(&chain, move |c| c.wait_for_change(seen, ANNOUNCE_POLL)).await
            else {
                return;
            };
            if generation == seen {
                continue;
            }
            seen = generation;
            let Some((tip, block, txs)) = blocking(&chain, move |c| {
                let tip = c.tip_hash();
                let block = if last_tip == Some(tip) {
                    None
                } else {
                    c.block(&tip)
                };
                (tip, block, c.mempool_transactions())
            })
            .await
            else {
                return;
            };
            if let Some(block) = block {
                // A block taken from a peer is a duplicate to gossipsub: harmless.
                if let Err(e) = self.p2p.publish(Topic::BtcBlocks, serialize(&block)).await {
                    tracing::debug!(error = %e, "Bitcoin block not gossiped");
                }
            }
            last_tip = Some(tip);
            let current: HashSet<Txid> = txs.iter().map(Transaction::compute_txid).collect();
            for tx in txs {
                let txid = tx.compute_txid();
                if announced.contains(&txid) {
                    continue;
                }
                if let Err(e) = self.p2p.publish(Topic::BtcTxs, serialize(&tx)).await {
                    tracing::debug!(error = %e, %txid, "Bitcoin transaction not gossiped");
                }
            }
            announced = current;
        }
    }
}
