//! The node core: the chain state in memory, the SQLite store that mirrors it, the mempool, and
//! the events everyone else (relay, API, miner) listens to.
//!
//! Every change goes through [`Node::submit_share`] or [`Node::submit_transaction`]. A share is
//! validated by the consensus crate, then the store is brought to the same active chain in one
//! SQLite transaction ([`Store::reorg`]); if writing fails, the in-memory chain is reloaded from
//! the store, so memory never runs ahead of disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::{OutPoint, Transaction, Txid};
use p2share_consensus::chain::{AcceptOutcome, ChainState};
use p2share_consensus::payout::Payout;
use p2share_consensus::utxo::Coin;
use p2share_consensus::{ChainError, ChainParams, Share, ShareHash, ShareHead};
use p2share_mempool::{AcceptedTx, Mempool, MempoolConfig, MempoolError, MempoolInfo};
use p2share_store::{Store, StoreError, StoreStats};
use serde::Serialize;
use tokio::sync::{broadcast, RwLock};

use crate::events::{NodeEvent, Origin};

/// How many shares below the tip a node keeps whole (bodies and undo data): the deepest
/// reorganization it follows. About 17 hours of shares at a 30-second spacing.
pub const DEFAULT_WINDOW: u32 = 2_000;

/// Most orphan shares (parent unknown) held while their ancestors are fetched.
const MAX_ORPHANS: usize = 512;

/// Why the node refused something, or could not do it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The share was refused by the chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The transaction was refused by the mempool.
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The active chain in a few numbers.
#[derive(Clone, Debug, Serialize)]
pub struct ChainSummary {
    /// Network name.
    pub network: String,
    /// Genesis share id.
    pub genesis: ShareHash,
    /// Tip id.
    pub tip: ShareHash,
    /// Tip height.
    pub height: u32,
    /// Cumulative work, hex (big-endian).
    pub chain_work: String,
    /// Compact target the next share must meet.
    pub next_bits: String,
    /// Difficulty of the next share relative to the network's pow limit.
    pub difficulty: f64,
    /// Median time past at the tip.
    pub median_time_past: u32,
    /// Tip time.
    pub tip_time: u32,
    /// Number of unspent outputs.
    pub utxos: usize,
    /// Eligible share units (`n`).
    pub eligible_total: u64,
    /// Reorg window (shares kept whole).
    pub window: u32,
}

struct Core {
    chain: ChainState,
    mempool: Mempool,
    orphans: HashMap<ShareHash, Share>,
    connected_since_prune: u32,
}

/// A handle on the node core; cheap to clone.
#[derive(Clone)]
pub struct Node {
    core: Arc<RwLock<Core>>,
    store: Store,
    params: Arc<ChainParams>,
    events: broadcast::Sender<NodeEvent>,
    /// The latest tip and when it was written (the moment work on the old one turned stale).
    tip_changed: Arc<std::sync::Mutex<(ShareHash, std::time::Instant)>>,
    datadir: PathBuf,
    prune_depth: Option<u32>,
    closed: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("network", &self.params.name)
            .field("datadir", &self.datadir)
            .finish()
    }
}

/// Unix time now, in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Node {
    /// Opens the node's store in `datadir` (`chain.sqlite`) and rebuilds the chain from it
    /// without re-validating, keeping `window` shares whole in memory (and their undo data on
    /// disk). With `prune_depth`, share bodies deeper than that are dropped from disk too (a
    /// pruned node cannot serve them to syncing peers); without, every body is kept.
    ///
    /// # Errors
    /// Store errors (wrong network, corruption).
    pub async fn open(
        params: ChainParams,
        datadir: &Path,
        window: u32,
        prune_depth: Option<u32>,
        mempool: MempoolConfig,
    ) -> Result<Node, NodeError> {
        std::fs::create_dir_all(datadir).map_err(|source| StoreError::Io {
            op: "create data directory",
            source,
        })?;
        let store = Store::open(datadir.join("chain.sqlite"), &params).await?;
        let started = std::time::Instant::now();
        let chain = store.load_chain(&params, window).await?;
        tracing::info!(
            network = %params.name,
            height = chain.height(),
            tip = %chain.tip_hash(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "chain loaded from the store"
        );
        let (events, _) = broadcast::channel(1024);
        let tip_changed = Arc::new(std::sync::Mutex::new((
            chain.tip_hash(),
            std::time::Instant::now(),
        )));
        Ok(Node {
            core: Arc::new(RwLock::new(Core {
                chain,
                mempool: Mempool::new(mempool),
                orphans: HashMap::new(),
                connected_since_prune: 0,
            })),
            store,
            params: Arc::new(params),
            events,
            tip_changed,
            datadir: datadir.to_path_buf(),
            prune_depth,
            closed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The data directory.
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Subscribes to node events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// The active tip and the moment it became the tip (written to the store).
    pub fn tip_changed_at(&self) -> (ShareHash, std::time::Instant) {
        *self
            .tip_changed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends an event to every listener (none listening is fine).
    pub fn emit(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }

    /// Runs `f` with read access to the chain.
    pub async fn with_chain<R>(&self, f: impl FnOnce(&ChainState) -> R) -> R {
        let core = self.core.read().await;
        f(&core.chain)
    }

    /// Runs `f` with read access to the mempool.
    pub async fn with_mempool<R>(&self, f: impl FnOnce(&Mempool) -> R) -> R {
        let core = self.core.read().await;
        f(&core.mempool)
    }

    /// Tip id and height.
    pub async fn tip(&self) -> (ShareHash, u32) {
        self.with_chain(|c| (c.tip_hash(), c.height())).await
    }

    /// The active chain in numbers.
    pub async fn summary(&self) -> ChainSummary {
        let pow_limit = p2share_consensus::pow::decode_compact(self.params.pow_limit_bits).ok();
        let network = self.params.name.clone();
        self.with_chain(|c| {
            let next_bits = c.next_bits();
            let difficulty = match (
                pow_limit,
                p2share_consensus::pow::decode_compact(next_bits).ok(),
            ) {
                // limit ÷ target: 1 at the pow limit, growing as shares get harder.
                (Some(limit), Some(t)) => t.difficulty_float() / limit.difficulty_float(),
                _ => 1.0,
            };
            ChainSummary {
                network,
                genesis: c.genesis_hash(),
                tip: c.tip_hash(),
                height: c.height(),
                chain_work: format!("{:x}", c.tip_work()),
                next_bits: format!("{next_bits:08x}"),
                difficulty,
                median_time_past: c.median_time_past(),
                tip_time: c.tip().map(|t| t.head.header.time).unwrap_or(0),
                utxos: c.utxo().len(),
                eligible_total: c.utxo().eligible_total().to_units(),
                window: c.window(),
            }
        })
        .await
    }

    /// Validates `share` and, if it is new and valid, stores it and moves the tip as the
    /// most-work rule says. Children waiting for it (orphans) are connected after it.
    ///
    /// # Errors
    /// [`NodeError::Chain`] when refused (an [`ChainError::Orphan`] share is held until its
    /// parent arrives); [`NodeError::Store`] when writing failed (the chain is reloaded).
    pub async fn submit_share(
        &self,
        share: Share,
        origin: Origin,
    ) -> Result<AcceptOutcome, NodeError> {
        let mut results = self.submit_shares(vec![share], origin).await?;
        results
            .pop()
            .unwrap_or(Ok(AcceptOutcome::AlreadyKnown))
            .map_err(NodeError::from)
    }

    /// Validates and connects `shares` in order under one lock and writes the resulting chain
    /// in one store transaction (sync uses this: one fsync per batch, not per share). Returns
    /// each share's outcome; orphans waiting for them are connected too.
    ///
    /// # Errors
    /// [`NodeError::Store`] when writing failed (the chain is then reloaded from the store).
    pub async fn submit_shares(
        &self,
        shares: Vec<Share>,
        origin: Origin,
    ) -> Result<Vec<Result<AcceptOutcome, ChainError>>, NodeError> {
        let mut core = self.core.write().await;
        // Write at least every quarter window, so nothing connected leaves the window (and
        // memory) before it is on disk.
        let per_batch = (core.chain.window() / 4).clamp(1, 256) as usize;
        let mut results = Vec::with_capacity(shares.len());
        let mut shares = shares.into_iter().peekable();
        while shares.peek().is_some() {
            let batch: Vec<Share> = shares.by_ref().take(per_batch).collect();
            results.extend(self.submit_batch_locked(&mut core, batch, origin).await?);
        }
        Ok(results)
    }

    async fn submit_batch_locked(
        &self,
        core: &mut Core,
        shares: Vec<Share>,
        origin: Origin,
    ) -> Result<Vec<Result<AcceptOutcome, ChainError>>, NodeError> {
        let old_tip = core.chain.tip_hash();
        let old_height = core.chain.height();
        let mut results = Vec::with_capacity(shares.len());
        let mut side = Vec::new();
        let mut reorg_depth = 0u32;
        for share in shares {
            let accepted_any =
                self.accept_in_memory(core, share, origin, &mut side, &mut reorg_depth);
            let ok = accepted_any.is_ok();
            results.push(accepted_any);
            if ok {
                self.connect_orphans(core, &mut side, &mut reorg_depth);
            }
        }
        if core.chain.tip_hash() != old_tip {
            if let Err(e) = self.persist_active(core, &old_tip, old_height).await {
                tracing::error!(error = %e, "writing the chain failed; reloading it from the store");
                match self
                    .store
                    .load_chain(&self.params, core.chain.window())
                    .await
                {
                    Ok(chain) => core.chain = chain,
                    Err(e2) => tracing::error!(error = %e2, "reloading the chain failed"),
                }
                return Err(e.into());
            }
            if reorg_depth > 0 {
                tracing::info!(
                    depth = reorg_depth,
                    from = old_height,
                    to = core.chain.height(),
                    "reorganized"
                );
            }
            *self
                .tip_changed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                (core.chain.tip_hash(), std::time::Instant::now());
            self.emit(NodeEvent::Tip {
                hash: core.chain.tip_hash(),
                height: core.chain.height(),
                reorg_depth,
            });
        }
        for share in side {
            if !core.chain.is_active(&share.hash()) {
                self.store.store_side_share(&share).await?;
            }
        }
        Ok(results)
    }

    fn connect_orphans(&self, core: &mut Core, side: &mut Vec<Share>, reorg_depth: &mut u32) {
        let mut ready: Vec<ShareHash> = core
            .orphans
            .iter()
            .filter(|(_, s)| core.chain.contains(&s.head.header.prev_share))
            .map(|(h, _)| *h)
            .collect();
        while let Some(hash) = ready.pop() {
            let Some(orphan) = core.orphans.remove(&hash) else {
                continue;
            };
            if self
                .accept_in_memory(core, orphan, Origin::Sync, side, reorg_depth)
                .is_ok()
            {
                ready.extend(
                    core.orphans
                        .iter()
                        .filter(|(_, s)| s.head.header.prev_share == hash)
                        .map(|(h, _)| *h),
                );
            }
        }
    }

    /// Accepts one share into the in-memory chain and mempool (not yet the store).
    fn accept_in_memory(
        &self,
        core: &mut Core,
        share: Share,
        origin: Origin,
        side: &mut Vec<Share>,
        reorg_depth: &mut u32,
    ) -> Result<AcceptOutcome, ChainError> {
        let hash = share.hash();
        let height = share.head.header.height;
        let kept = share.clone();
        let result = core.chain.accept_share(share, unix_now());
        match &result {
            Err(ChainError::Orphan { .. }) => {
                if core.orphans.len() >= MAX_ORPHANS {
                    // Drop the lowest orphan: the furthest from being connectable.
                    if let Some(low) = core
                        .orphans
                        .iter()
                        .min_by_key(|(_, s)| s.head.header.height)
                        .map(|(h, _)| *h)
                    {
                        core.orphans.remove(&low);
                    }
                }
                core.orphans.insert(hash, kept);
            }
            Ok(AcceptOutcome::SideBranch) => side.push(kept),
            Ok(AcceptOutcome::Extended) => {
                let Core { chain, mempool, .. } = core;
                mempool.share_connected(&kept, chain);
            }
            Ok(AcceptOutcome::Reorganized {
                disconnected,
                connected,
            }) => {
                *reorg_depth = (*reorg_depth).max(disconnected.len() as u32);
                let gone: Vec<Share> = disconnected
                    .iter()
                    .filter_map(|h| core.chain.share(h).cloned())
                    .collect();
                let new: Vec<Share> = connected
                    .iter()
                    .filter_map(|h| core.chain.share(h).cloned())
                    .collect();
                let Core { chain, mempool, .. } = core;
                mempool.reorganized(&gone, &new, chain, unix_now());
            }
            _ => {}
        }
        if let Ok(outcome) = &result {
            if *outcome != AcceptOutcome::AlreadyKnown {
                self.emit(NodeEvent::Share {
                    hash,
                    height,
                    active: core.chain.is_active(&hash),
                    origin,
                });
                tracing::debug!(%hash, height, ?origin, ?outcome, "share accepted");
            }
        }
        result
    }

    /// Brings the store's active chain to the in-memory one in one transaction.
    async fn persist_active(
        &self,
        core: &mut Core,
        old_tip: &ShareHash,
        old_height: u32,
    ) -> Result<(), StoreError> {
        let chain = &core.chain;
        // Walk down the new active chain to a share the store has active.
        let mut connect = Vec::new();
        let mut h = chain.height();
        while let Some(hash) = chain.hash_at(h) {
            if h <= old_height {
                let on_store = if h == old_height {
                    hash == *old_tip
                } else {
                    self.store
                        .share_at(h)
                        .await?
                        .is_some_and(|s| s.hash == hash)
                };
                if on_store {
                    break;
                }
            }
            connect.push(hash);
            if h == 0 {
                break;
            }
            h -= 1;
        }
        let fork = h;
        let mut disconnect = Vec::new();
        for height in (fork + 1..=old_height).rev() {
            let Some(stored) = self.store.share_at(height).await? else {
                continue;
            };
            let Some(undo) = self.store.undo(&stored.hash).await? else {
                return Err(StoreError::Inconsistent {
                    op: "reorg",
                    reason: format!("no undo data for {} at {height}", stored.hash),
                });
            };
            disconnect.push((stored.hash, undo));
        }
        let mut shares = Vec::with_capacity(connect.len());
        for hash in connect.iter().rev() {
            let (Some(share), Some(undo)) = (chain.share(hash), chain.undo_of(hash)) else {
                return Err(StoreError::Inconsistent {
                    op: "reorg",
                    reason: format!("share {hash} is active but not held whole"),
                });
            };
            shares.push((share, undo, chain.payout_of(hash)));
        }
        self.store.reorg_with_payouts(&disconnect, &shares).await?;
        core.connected_since_prune += shares.len() as u32;
        if core.connected_since_prune >= 64 {
            core.connected_since_prune = 0;
            let window = core.chain.window();
            self.store.prune(window, self.prune_depth).await?;
        }
        Ok(())
    }

    /// Validates a sharechain transaction and adds it to the mempool.
    ///
    /// # Errors
    /// [`NodeError::Mempool`] with the rule or policy broken.
    pub async fn submit_transaction(&self, tx: Transaction) -> Result<AcceptedTx, NodeError> {
        let mut core = self.core.write().await;
        let Core { chain, mempool, .. } = &mut *core;
        let accepted = mempool.accept(tx, chain, unix_now())?;
        self.emit(NodeEvent::Transaction {
            txid: accepted.txid,
        });
        Ok(accepted)
    }

    /// Mempool figures.
    pub async fn mempool_info(&self) -> MempoolInfo {
        self.with_mempool(|m| m.info()).await
    }

    /// Pool transactions by id (those known).
    pub async fn mempool_txs(&self, txids: &[Txid]) -> Vec<Transaction> {
        self.with_mempool(|m| txids.iter().filter_map(|t| m.get(t).cloned()).collect())
            .await
    }

    /// Whether the share is known (held in memory, active or side).
    pub async fn knows_share(&self, hash: &ShareHash) -> bool {
        let core = self.core.read().await;
        core.chain.contains(hash) || core.orphans.contains_key(hash)
    }

    /// A share by id: from memory inside the window, else from the store (`txs` empty and
    /// `pruned` true when its body was pruned).
    ///
    /// # Errors
    /// Store errors.
    pub async fn share(&self, hash: &ShareHash) -> Result<Option<ShareRecord>, NodeError> {
        let in_memory = self
            .with_chain(|c| {
                c.share(hash).map(|s| ShareRecord {
                    height: s.head.header.height,
                    active: c.is_active(hash),
                    share: Some(s.clone()),
                    head: s.head.clone(),
                })
            })
            .await;
        if in_memory.is_some() {
            return Ok(in_memory);
        }
        let stored = self.store.share(hash).await?;
        Ok(stored.map(|s| ShareRecord {
            height: s.height,
            active: s.on_active,
            share: s.share(),
            head: s.head,
        }))
    }

    /// The active share at `height` (see [`Node::share`]).
    ///
    /// # Errors
    /// Store errors.
    pub async fn share_at(&self, height: u32) -> Result<Option<ShareRecord>, NodeError> {
        match self.with_chain(|c| c.hash_at(height)).await {
            Some(hash) => self.share(&hash).await,
            None => Ok(None),
        }
    }

    /// Up to `max` heads of the active chain after the first locator entry on it (the answer to
    /// a peer's headers request). An unknown locator starts after genesis.
    ///
    /// # Errors
    /// Store errors.
    pub async fn heads_after(
        &self,
        locator: &[ShareHash],
        max: u32,
    ) -> Result<Vec<ShareHead>, NodeError> {
        let (from, tip_height, in_memory) = self
            .with_chain(|c| {
                let fork = locator
                    .iter()
                    .find_map(|h| c.is_active(h).then(|| c.header(h).map(|(hd, _)| hd.height)))
                    .flatten()
                    .unwrap_or(0);
                let from = fork + 1;
                // Whole shares in memory cover the window; read older heads from the store.
                let heads: Option<Vec<ShareHead>> = if from >= c.window_start() {
                    (from..=c.height())
                        .take(max as usize)
                        .map(|h| c.head_at(h).cloned())
                        .collect()
                } else {
                    None
                };
                (from, c.height(), heads)
            })
            .await;
        if from > tip_height {
            return Ok(Vec::new());
        }
        match in_memory {
            Some(heads) => Ok(heads),
            None => Ok(self.store.active_heads(from, max).await?),
        }
    }

    /// Whole shares by id, in the order asked, skipping those not held (or pruned).
    ///
    /// # Errors
    /// Store errors.
    pub async fn shares(&self, hashes: &[ShareHash]) -> Result<Vec<Share>, NodeError> {
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            if let Some(share) = self.with_chain(|c| c.share(hash).cloned()).await {
                out.push(share);
            } else if let Some(share) = self.store.share(hash).await?.and_then(|s| s.share()) {
                out.push(share);
            }
        }
        Ok(out)
    }

    /// The payout of the Bitcoin block built on the tip (`None` while `n = 0`).
    pub async fn next_payout(&self) -> Option<Payout> {
        self.with_chain(|c| c.next_payout()).await
    }

    /// Unspent outputs paying `script`, with their coins.
    pub async fn unspent_for(&self, script: &bitcoin::Script) -> Vec<(OutPoint, Coin)> {
        self.with_chain(|c| {
            c.utxo()
                .iter()
                .filter(|(_, coin)| coin.output.script_pubkey.as_script() == script)
                .map(|(op, coin)| (*op, coin.clone()))
                .collect()
        })
        .await
    }

    /// The payout odds of `script`: `(v, n)`, the eligible value it holds and the eligible total
    /// (the next Bitcoin block pays it with probability `v / n`).
    pub async fn eligible_of(&self, script: &bitcoin::Script) -> (u64, u64) {
        self.with_chain(|c| {
            let (height, maturity) = (c.height(), c.params().maturity);
            let v = c
                .utxo()
                .iter()
                .filter(|(_, coin)| {
                    coin.output.script_pubkey.as_script() == script
                        && coin.is_eligible(height, maturity)
                })
                .map(|(_, coin)| coin.output.value.to_sat())
                .sum();
            (v, c.utxo().eligible_total().to_units())
        })
        .await
    }

    /// Store row counts and size.
    ///
    /// # Errors
    /// Store errors.
    pub async fn store_stats(&self) -> Result<StoreStats, NodeError> {
        Ok(self.store.stats().await?)
    }

    /// Closes the store (checkpointing the WAL).
    pub async fn close(self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.store.close().await;
    }

    /// Whether [`Node::close`] was called (background tasks holding a clone end then).
    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A share as the node holds it.
#[derive(Clone, Debug)]
pub struct ShareRecord {
    /// Height.
    pub height: u32,
    /// On the active chain.
    pub active: bool,
    /// Head (always kept).
    pub head: ShareHead,
    /// The whole share, unless its body was pruned.
    pub share: Option<Share>,
}
