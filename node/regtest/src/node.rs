//! [`RegtestNode`]: the chain, its mempool and block templates behind one synchronous facade —
//! what the JSON-RPC and Esplora servers call.
//!
//! Locking: the mempool's mutex is always taken before the chain's own locks, and every call
//! that reads the mempool first brings it in step with the chain's tip (so blocks submitted
//! straight to [`RegtestNode::chain`] are followed too). Waiters for a new template
//! (`getblocktemplate` long polls) use [`RegtestNode::wait_for_change`], which wakes on every
//! change to the tip or the mempool; no async runtime is involved.

use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bitcoin::{Amount, Block, BlockHash, ScriptBuf, Transaction, Txid};

use crate::blockbuilder::grind;
use crate::chain::{Policy, RegtestChain, RegtestError, SubmitOutcome};
use crate::mempool::{Accepted, Mempool, MempoolConfig, MempoolReject};
use crate::template::BlockTemplate;

/// Errors of [`RegtestNode`] operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Opening the chain failed.
    #[error(transparent)]
    Chain(#[from] RegtestError),
    /// A block built from a template was refused (a bug, or a concurrent change).
    #[error("generated block {hash} refused: {reason}")]
    GeneratedBlockRefused {
        /// The block.
        hash: BlockHash,
        /// Core's reason.
        reason: String,
    },
}

/// `getmempoolinfo`'s figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolInfo {
    /// Number of transactions (`size`).
    pub size: usize,
    /// Sum of virtual sizes (`bytes`).
    pub bytes: u64,
    /// Estimated memory use (`usage`).
    pub usage: u64,
    /// Sum of fees (`total_fee`).
    pub total_fee: Amount,
    /// The size bound (`maxmempool`).
    pub max_mempool: u64,
    /// The feerate a new transaction must pay, per 1,000 vbytes (`mempoolminfee`).
    pub mempool_min_fee: Amount,
    /// The minimum relay feerate, per 1,000 vbytes (`minrelaytxfee`).
    pub min_relay_tx_fee: Amount,
    /// The incremental relay feerate, per 1,000 vbytes (`incrementalrelayfee`).
    pub incremental_relay_fee: Amount,
    /// Whether full RBF is on (`fullrbf`).
    pub full_rbf: bool,
}

/// A change counter with a condition variable, for long polls.
#[derive(Debug, Default)]
struct Changes {
    generation: Mutex<u64>,
    cond: Condvar,
}

impl Changes {
    fn bump(&self) {
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *g = g.wrapping_add(1);
        self.cond.notify_all();
    }

    fn current(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *g == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            g = match self.cond.wait_timeout(g, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        *g
    }
}

/// The embedded regtest node: chain, mempool, templates, mining (see the module docs).
#[derive(Debug)]
pub struct RegtestNode {
    chain: RegtestChain,
    mempool: Mutex<Mempool>,
    changes: Changes,
}

impl RegtestNode {
    /// Opens (or creates) the chain in `datadir` with `policy`, with an empty mempool of
    /// Core's default policy.
    ///
    /// # Errors
    /// [`NodeError::Chain`] if the chain cannot be opened.
    pub fn open(datadir: &Path, policy: Policy) -> Result<RegtestNode, NodeError> {
        RegtestNode::open_with(datadir, policy, MempoolConfig::default())
    }

    /// Like [`RegtestNode::open`], with a mempool policy.
    ///
    /// # Errors
    /// [`NodeError::Chain`] if the chain cannot be opened.
    pub fn open_with(
        datadir: &Path,
        policy: Policy,
        mempool: MempoolConfig,
    ) -> Result<RegtestNode, NodeError> {
        let chain = RegtestChain::open(datadir, policy)?;
        let mut pool = Mempool::new(mempool);
        pool.sync(&chain);
        Ok(RegtestNode {
            chain,
            mempool: Mutex::new(pool),
            changes: Changes::default(),
        })
    }

    /// The chain.
    pub fn chain(&self) -> &RegtestChain {
        &self.chain
    }

    /// The mempool, locked and in step with the chain's tip. Hold the guard briefly: every
    /// node operation waits for it.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        let mut pool = self.mempool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.tip().map(|t| t.hash) != Some(self.chain.tip().hash) {
            pool.sync(&self.chain);
            self.changes.bump();
        }
        pool
    }

    /// `submitblock`: validates and stores `block` (see [`RegtestChain::submit_block`]), then
    /// brings the mempool in step (confirmed and conflicting transactions leave; after a
    /// reorg the disconnected transactions come back).
    pub fn submit_block(&self, block: &Block) -> SubmitOutcome {
        let mut pool = self.mempool.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = self.chain.submit_block(block);
        if pool.tip().map(|t| t.hash) != Some(self.chain.tip().hash) {
            pool.sync(&self.chain);
            drop(pool);
            self.changes.bump();
        }
        outcome
    }

    /// `sendrawtransaction`.
    ///
    /// # Errors
    /// [`MempoolReject`] with Core's reason.
    pub fn send_raw_transaction(&self, tx: Transaction) -> Result<Txid, MempoolReject> {
        let accepted = self.mempool().accept(&self.chain, tx)?;
        self.changes.bump();
        Ok(accepted.txid)
    }

    /// `testmempoolaccept` for one transaction.
    ///
    /// # Errors
    /// [`MempoolReject`] with Core's reason (see [`MempoolReject::test_accept_reason`]).
    pub fn test_mempool_accept(&self, tx: &Transaction) -> Result<Accepted, MempoolReject> {
        self.mempool().test_accept(&self.chain, tx)
    }

    /// `getblocktemplate` at time `now` (unix seconds).
    pub fn block_template(&self, now: u64) -> BlockTemplate {
        let pool = self.mempool();
        BlockTemplate::build(&self.chain, &pool, now)
    }

    /// The current long-poll id (what [`RegtestNode::block_template`] would carry).
    pub fn longpollid(&self) -> String {
        let pool = self.mempool();
        format!("{}{}", self.chain.tip().hash, pool.sequence())
    }

    /// `getmempoolinfo`.
    pub fn mempool_info(&self) -> MempoolInfo {
        let pool = self.mempool();
        let per_kvb = Amount::from_sat;
        MempoolInfo {
            size: pool.len(),
            bytes: pool.total_vsize(),
            usage: pool.usage(),
            total_fee: pool.total_fee(),
            max_mempool: pool.config().max_bytes,
            mempool_min_fee: per_kvb(pool.min_feerate()),
            min_relay_tx_fee: per_kvb(pool.config().min_relay_feerate),
            incremental_relay_fee: per_kvb(pool.config().incremental_relay_feerate),
            full_rbf: pool.config().full_rbf,
        }
    }

    /// `generatetoaddress`: mines `n` blocks on the tip paying `script`, each from a fresh
    /// template (so they confirm the mempool), ground against the policy target. Header times
    /// are the templates' `curtime` for `now`.
    ///
    /// # Errors
    /// [`NodeError::GeneratedBlockRefused`] if the chain refuses a block (the blocks before
    /// it stay).
    pub fn generate_to_script(
        &self,
        n: usize,
        script: &ScriptBuf,
        now: u64,
    ) -> Result<Vec<BlockHash>, NodeError> {
        let mut hashes = Vec::with_capacity(n);
        for _ in 0..n {
            let template = self.block_template(now);
            let mut extra_nonce: u64 = 0;
            let block = loop {
                let mut block = template.block(script.clone(), &extra_nonce.to_le_bytes());
                if grind(&mut block, template.target, u64::from(u32::MAX)) {
                    break block;
                }
                extra_nonce += 1;
            };
            let hash = block.block_hash();
            match self.submit_block(&block) {
                SubmitOutcome::Accepted { .. } => hashes.push(hash),
                SubmitOutcome::Duplicate => hashes.push(hash),
                SubmitOutcome::Rejected { reason } => {
                    return Err(NodeError::GeneratedBlockRefused { hash, reason })
                }
            }
        }
        Ok(hashes)
    }

    /// A counter that changes whenever the tip or the mempool changes.
    pub fn change_generation(&self) -> u64 {
        self.changes.current()
    }

    /// Blocks until the change counter differs from `seen` or `timeout` passes; returns the
    /// counter. For long polls: read [`RegtestNode::change_generation`], build the template,
    /// then wait with the value read.
    pub fn wait_for_change(&self, seen: u64, timeout: Duration) -> u64 {
        self.changes.wait(seen, timeout)
    }
}
