//! The regtest chain: a `bitcoinkernel` ChainstateManager on regtest, plus the index.
//!
//! [`RegtestChain::submit_block`] is `submitblock`: it names Core's reject reason for the
//! common failures (by re-running Core's checks, in Core's order, before the kernel sees the
//! block), hands everything else to the kernel, and reports what the kernel did — accepted and
//! connected, stored on a side branch, or refused — by looking at the active chain afterwards
//! and at the kernel's `block_checked` callback, not at `process_block`'s answer alone.
//!
//! The index follows the kernel's active chain: after every submission (and at
//! [`RegtestChain::open`]) the chain compares the index's blocks with the kernel's active chain,
//! disconnects the index down to the fork point and connects the kernel's blocks from there.
//! This does not depend on which thread the kernel runs its callbacks on, and it also covers
//! reorgs the kernel makes on its own (at load).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::block::Header;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, Target};
use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    BlockTreeEntry, BlockValidationResult, BlockValidationStateRef, ChainType, ChainstateManager,
    Context, ContextBuilder, KernelError, ProcessBlockResult, ValidationMode,
};

use crate::blocklog::BlockLog;
use crate::checks::{self, BlockContext, View};
use crate::index::{ChainIndex, IndexError};

/// Devnet policy on top of Core's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// An optional block target *stricter* than the header's own: blocks whose hash does not
    /// meet it are refused with `high-hash` before the kernel sees them. With it, only some
    /// shares are Bitcoin blocks, as on mainnet. `None`: Core's rules alone.
    pub block_target: Option<Target>,
}

/// The active chain's tip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its hash.
    pub hash: BlockHash,
    /// Its height (0 is genesis).
    pub height: u32,
    /// Its header.
    pub header: Header,
    /// Median time past of the tip (the median of the last 11 block times); the next block's
    /// time must exceed it.
    pub median_time_past: u32,
}

/// A block header the kernel knows, and its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// The header.
    pub header: Header,
    /// Its height.
    pub height: u32,
    /// Whether the block is on the active chain.
    pub in_active_chain: bool,
    /// Confirmations as Core's `getblockheader` counts them: 1 for the tip, −1 when not on
    /// the active chain.
    pub confirmations: i64,
    /// The block's median time past.
    pub median_time_past: u32,
}

/// What became of a submitted block (`submitblock`'s answer).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitOutcome {
    /// The kernel accepted and stored the block.
    Accepted {
        /// Whether the active tip moved (the block, or a branch ending in it, was connected).
        /// `false`: stored on a side branch with no more work than the tip (Core's
        /// `submitblock` answers `"inconclusive"` there).
        new_tip: bool,
    },
    /// The block was already known and valid.
    Duplicate,
    /// The block is invalid; `reason` is Bitcoin Core's reject reason where it could be named
    /// (`high-hash`, `bad-cb-amount`, …), otherwise a name for the kernel's result category
    /// (`consensus-invalid`, `bad-prevblk`, `mutated`, …).
    Rejected {
        /// The reject reason.
        reason: String,
    },
}

/// Errors opening the chain or keeping the index in step with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegtestError {
    /// A data directory could not be created.
    #[error("cannot create directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The data directory is not valid UTF-8 (the kernel takes UTF-8 paths).
    #[error("data directory {0} is not valid utf-8")]
    NonUtf8Path(PathBuf),
    /// The kernel failed (creating the chainstate, reading a block).
    #[error("kernel: {0}")]
    Kernel(#[from] KernelError),
    /// A block read from the kernel's store did not decode.
    #[error("block at height {height} from the kernel's store does not decode: {message}")]
    Decode {
        /// Its height.
        height: u32,
        /// The decoder's message.
        message: String,
    },
    /// The active chain has no block at a height below its tip.
    #[error("the kernel's active chain has no block at height {0}")]
    MissingHeight(u32),
    /// The index could not follow the kernel's chain.
    #[error("index: {0}")]
    Index(#[from] IndexError),
}

/// What the kernel's `block_checked` callback reported, per block hash (internal byte order).
type CheckedStates = Arc<Mutex<HashMap<[u8; 32], (ValidationMode, BlockValidationResult)>>>;

/// Longest side branch [`RegtestChain::submit_block`] replays to name an input/amount reason
/// for a block that does not build on the tip; deeper branches get the kernel's category.
const MAX_SIDE_BRANCH_REPLAY: usize = 1_000;

/// The durable log of accepted blocks in the data directory: every accepted block is appended
/// and synced before `submitblock` answers, replayed at open, emptied after a clean close.
pub const BLOCK_LOG: &str = "accepted-blocks.log";

/// An embedded Bitcoin regtest chain validated by Bitcoin Core's consensus code, with an
/// index of its active chain.
///
/// Safe to share between threads: submissions are serialised; reads take a shared lock on the
/// index for as long as a single call (or a [`RegtestChain::read_index`] closure) runs.
pub struct RegtestChain {
    // Field order is drop order: the chainstate manager before its context.
    chainman: ChainstateManager,
    _context: Context,
    // After the kernel: emptied only once the kernel has been dropped (flushed).
    log: BlockLog,
    checked: CheckedStates,
    index: RwLock<ChainIndex>,
    submit_lock: Mutex<()>,
    policy: Policy,
}

impl std::fmt::Debug for RegtestChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegtestChain")
            .field("tip", &self.tip().hash)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn kernel_hash(hash: &BlockHash) -> bitcoinkernel::BlockHash {
    bitcoinkernel::BlockHash::from(hash.to_byte_array())
}

fn entry_hash(entry: &BlockTreeEntry<'_>) -> BlockHash {
    BlockHash::from_byte_array(entry.block_hash().to_bytes())
}

fn entry_header(entry: &BlockTreeEntry<'_>) -> Option<Header> {
    let bytes = entry.header().consensus_encode().ok()?;
    deserialize(&bytes).ok()
}

fn entry_height(entry: &BlockTreeEntry<'_>) -> u32 {
    u32::try_from(entry.height()).unwrap_or(0)
}

/// Median of the last 11 block times ending at `entry` (Core's `GetMedianTimePast`).
fn median_time_past(entry: &BlockTreeEntry<'_>) -> u32 {
    let mut times = Vec::with_capacity(11);
    let mut cursor = Some(*entry);
    while let Some(e) = cursor {
        if times.len() == 11 {
            break;
        }
        times.push(e.header().timestamp());
        cursor = e.prev();
    }
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or(0)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A name for the kernel's result category, for failures not named by the pre-checks.
fn category_reason(result: BlockValidationResult) -> &'static str {
    match result {
        BlockValidationResult::Consensus => "consensus-invalid",
        BlockValidationResult::CachedInvalid => "duplicate-invalid",
        BlockValidationResult::InvalidHeader => "invalid-header",
        BlockValidationResult::Mutated => "mutated",
        BlockValidationResult::MissingPrev => "prev-blk-not-found",
        BlockValidationResult::InvalidPrev => "bad-prevblk",
        BlockValidationResult::TimeFuture => "time-too-new",
        BlockValidationResult::HeaderLowWork => "too-little-chainwork",
        BlockValidationResult::Unset => "rejected",
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_kernel_block(block: &Block) -> Result<bitcoinkernel::Block, KernelError> {
    bitcoinkernel::Block::new(&serialize(block))
}

impl RegtestChain {
    /// Opens the chain in `datadir`, creating it (with regtest's genesis block) if empty or
    /// resuming it. The kernel keeps its databases in `datadir/kernel` and block files in
    /// `datadir/blocks`; blocks accepted since the kernel last flushed are replayed from the
    /// block log ([`BLOCK_LOG`]); the index is rebuilt by replaying the active chain from genesis.
    ///
    /// Rebuild cost, measured (debug build of this crate, dependencies and the kernel at
    /// `opt-level = 2`, shared 2-core machine): about 0.05 s per 1,000 coinbase-only blocks,
    /// reopen included (`figures_submit_and_rebuild_1000_blocks` in `tests/reload_tests.rs`
    /// prints it). It grows linearly with the number of transactions replayed.
    ///
    /// # Errors
    /// [`RegtestError`] if a directory cannot be created, the kernel cannot load its state, or
    /// a stored block cannot be read back.
    pub fn open(datadir: &Path, policy: Policy) -> Result<RegtestChain, RegtestError> {
        let kernel_dir = datadir.join("kernel");
        let blocks_dir = datadir.join("blocks");
        for dir in [&kernel_dir, &blocks_dir] {
            std::fs::create_dir_all(dir).map_err(|source| RegtestError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let kernel_str = kernel_dir
            .to_str()
            .ok_or_else(|| RegtestError::NonUtf8Path(kernel_dir.clone()))?;
        let blocks_str = blocks_dir
            .to_str()
            .ok_or_else(|| RegtestError::NonUtf8Path(blocks_dir.clone()))?;

        let checked: CheckedStates = Arc::new(Mutex::new(HashMap::new()));
        let sink = Arc::clone(&checked);
        let context = ContextBuilder::new()
            .chain_type(ChainType::Regtest)
            .with_block_checked_validation(
                move |block: bitcoinkernel::Block, state: BlockValidationStateRef<'_>| {
                    let hash = block.hash().to_bytes();
                    lock(&sink).insert(hash, (state.mode(), state.result()));
                },
            )
            .build()?;
        let chainman = ChainstateManager::new(&context, kernel_str, blocks_str)?;
        let log_path = datadir.join(BLOCK_LOG);
        let (log, logged) = BlockLog::open(&log_path).map_err(|source| RegtestError::Io {
            path: log_path.clone(),
            source,
        })?;
        // Blocks accepted before a kill that the kernel never flushed; known ones are
        // duplicates, and the kernel picks the most-work branch among them as it goes.
        for block in &logged {
            if let Ok(kblock) = to_kernel_block(block) {
                let _ = chainman.process_block(&kblock);
            }
        }
        log.clear_on_drop();
        let chain = RegtestChain {
            chainman,
            _context: context,
            log,
            checked,
            index: RwLock::new(ChainIndex::new()),
            submit_lock: Mutex::new(()),
            policy,
        };
        chain.sync_index()?;
        Ok(chain)
    }

    /// The devnet policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The active chain's tip.
    pub fn tip(&self) -> Tip {
        let chain = self.chainman.active_chain();
        let entry = chain.tip();
        Tip {
            hash: entry_hash(&entry),
            height: entry_height(&entry),
            header: entry_header(&entry).unwrap_or_else(|| {
                bitcoin::constants::genesis_block(bitcoin::Network::Regtest).header
            }),
            median_time_past: median_time_past(&entry),
        }
    }

    /// Hash of the active block at `height`.
    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        let entry = self
            .chainman
            .active_chain()
            .at_height(usize::try_from(height).ok()?)?;
        Some(entry_hash(&entry))
    }

    /// The header of block `hash` (active or not) and its place, if the kernel knows it.
    pub fn header(&self, hash: &BlockHash) -> Option<HeaderInfo> {
        let entry = self.chainman.get_block_tree_entry(&kernel_hash(hash))?;
        let chain = self.chainman.active_chain();
        let in_active_chain = chain.contains(&entry);
        let height = entry_height(&entry);
        let confirmations = if in_active_chain {
            i64::from(chain.height()) - i64::from(height) + 1
        } else {
            -1
        };
        Some(HeaderInfo {
            header: entry_header(&entry)?,
            height,
            in_active_chain,
            confirmations,
            median_time_past: median_time_past(&entry),
        })
    }

    /// The full block `hash`, if the kernel has its data (active or side branch).
    pub fn block(&self, hash: &BlockHash) -> Option<Block> {
        let entry = self.chainman.get_block_tree_entry(&kernel_hash(hash))?;
        let kblock = self.chainman.read_block_data(&entry).ok()?;
        deserialize(&kblock.consensus_encode().ok()?).ok()
    }

    /// Runs `f` with a consistent view of the index (shared lock held while it runs).
    pub fn read_index<R>(&self, f: impl FnOnce(&ChainIndex) -> R) -> R {
        f(&self.read())
    }

    fn read(&self) -> RwLockReadGuard<'_, ChainIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the confirmed transaction `txid` is.
    pub fn tx_location(&self, txid: &bitcoin::Txid) -> Option<crate::TxLocation> {
        self.read().tx_location(txid)
    }

    /// The confirmed transaction `txid` and where it is.
    pub fn transaction(
        &self,
        txid: &bitcoin::Txid,
    ) -> Option<(bitcoin::Transaction, crate::TxLocation)> {
        let loc = self.tx_location(txid)?;
        let block = self.block(&loc.block_hash)?;
        let tx = block
            .txdata
            .into_iter()
            .nth(usize::try_from(loc.position).ok()?)?;
        Some((tx, loc))
    }

    /// Confirmations of `txid` (1 in the tip block), `None` when not confirmed.
    pub fn confirmations(&self, txid: &bitcoin::Txid) -> Option<u32> {
        self.read().confirmations(txid)
    }

    /// The confirmed input spending `outpoint`.
    pub fn spender(&self, outpoint: &bitcoin::OutPoint) -> Option<crate::Spender> {
        self.read().spender(outpoint)
    }

    /// Confirmed history of the script with Esplora hash `script`, oldest first.
    pub fn script_history(&self, script: &crate::ScriptHash) -> Vec<crate::HistoryEntry> {
        self.read().history(script).to_vec()
    }

    /// The unspent output at `outpoint`.
    pub fn utxo(&self, outpoint: &bitcoin::OutPoint) -> Option<crate::Coin> {
        self.read().utxo(outpoint).cloned()
    }

    /// Unspent outputs paying to the script with Esplora hash `script`.
    pub fn script_utxos(
        &self,
        script: &crate::ScriptHash,
    ) -> Vec<(bitcoin::OutPoint, crate::Coin)> {
        self.read()
            .script_utxos(script)
            .into_iter()
            .map(|(op, c)| (op, c.clone()))
            .collect()
    }

    /// Brings the index in step with the kernel's active chain (disconnect to the fork point,
    /// connect the kernel's blocks from there).
    fn sync_index(&self) -> Result<(), RegtestError> {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        let chain = self.chainman.active_chain();
        let kernel_height = i64::from(chain.height());
        let mut fork = (index.len() as i64 - 1).min(kernel_height);
        while fork >= 0 {
            let h = fork as usize;
            let same = match (chain.at_height(h), index.block_hash(fork as u32)) {
                (Some(e), Some(ih)) => entry_hash(&e) == ih,
                _ => false,
            };
            if same {
                break;
            }
            fork -= 1;
        }
        while (index.len() as i64 - 1) > fork {
            index.disconnect_tip();
        }
        let mut height = fork + 1;
        while height <= kernel_height {
            let h = height as u32;
            let entry = chain
                .at_height(height as usize)
                .ok_or(RegtestError::MissingHeight(h))?;
            let kblock = self.chainman.read_block_data(&entry)?;
            let bytes = kblock.consensus_encode()?;
            let block: Block = deserialize(&bytes).map_err(|e| RegtestError::Decode {
                height: h,
                message: e.to_string(),
            })?;
            index.connect(entry_hash(&entry), &block)?;
            height += 1;
        }
        Ok(())
    }

    /// A UTXO view positioned after `parent` (which may be on a side branch), or `None` when
    /// it cannot be built (a branch block without data, an invalid branch, a too-deep fork).
    fn view_at<'a>(&self, index: &'a ChainIndex, parent: &BlockTreeEntry<'_>) -> Option<View<'a>> {
        let mut side = Vec::new();
        let mut cursor = *parent;
        let fork = loop {
            let h = entry_height(&cursor);
            if index.block_hash(h) == Some(entry_hash(&cursor)) {
                break h;
            }
            if side.len() >= MAX_SIDE_BRANCH_REPLAY {
                return None;
            }
            side.push(cursor);
            cursor = cursor.prev()?;
        };
        let mut view = View::new(index.utxos());
        let tip = index.tip_height()?;
        let mut h = tip;
        while h > fork {
            let (spent, created) = index.undo_at(h as usize)?;
            for op in created {
                view.remove(*op);
            }
            for (op, coin) in spent {
                view.add(*op, coin.clone());
            }
            h -= 1;
        }
        for entry in side.iter().rev() {
            let kblock = self.chainman.read_block_data(entry).ok()?;
            let block: Block = deserialize(&kblock.consensus_encode().ok()?).ok()?;
            if !view.apply(&block, entry_height(entry)) {
                return None;
            }
        }
        Some(view)
    }

    /// Core's checks, in Core's order, to name the reason a block would be refused.
    fn precheck(&self, block: &Block) -> Result<(), checks::Reason> {
        checks::check_block(block, self.policy.block_target)?;
        let Some(parent) = self
            .chainman
            .get_block_tree_entry(&kernel_hash(&block.header.prev_blockhash))
        else {
            return Err("prev-blk-not-found".to_owned());
        };
        let ctx = BlockContext {
            height: entry_height(&parent).saturating_add(1),
            prev_mtp: median_time_past(&parent),
            now: now_secs(),
        };
        checks::contextual_check(block, &ctx)?;
        let index = self.read();
        if let Some(mut view) = self.view_at(&index, &parent) {
            checks::connect_check(block, ctx.height, &mut view)?;
        }
        Ok(())
    }

    /// Names a consensus failure the pre-checks passed: a failing input script
    /// (`block-script-verify-flag-failed`, without Core's parenthesised script error, which
    /// the kernel does not expose). `None` when scripts pass or cannot be checked.
    fn diagnose_consensus(&self, block: &Block) -> Option<String> {
        let parent = self
            .chainman
            .get_block_tree_entry(&kernel_hash(&block.header.prev_blockhash))?;
        let height = entry_height(&parent).saturating_add(1);
        let index = self.read();
        let mut view = self.view_at(&index, &parent)?;
        for tx in &block.txdata {
            if !tx.is_coinbase() {
                let spent = tx
                    .input
                    .iter()
                    .map(|i| view.get(&i.previous_output).map(|c| c.output.clone()))
                    .collect::<Option<Vec<_>>>()?;
                if !checks::scripts_pass(tx, &spent)? {
                    return Some("block-script-verify-flag-failed".to_owned());
                }
            }
            if !view.apply_tx(tx, tx.compute_txid(), height) {
                return None;
            }
        }
        None
    }

    /// The reason for a kernel rejection in category `result`.
    fn kernel_reason(&self, block: &Block, result: BlockValidationResult) -> String {
        if result == BlockValidationResult::Consensus {
            if let Some(reason) = self.diagnose_consensus(block) {
                return reason;
            }
        }
        category_reason(result).to_owned()
    }

    /// `submitblock`: validates `block` with Bitcoin Core's consensus code and, if valid,
    /// stores it and moves the tip to the branch with the most work.
    ///
    /// The answer is the real outcome: [`SubmitOutcome::Accepted`] only when the kernel
    /// accepted the block (and, if it had more work, connected it); otherwise
    /// [`SubmitOutcome::Rejected`] with Core's reason. The devnet [`Policy::block_target`]
    /// refuses blocks above it with `high-hash` before the kernel sees them. A block already on
    /// the active chain (or stored valid on a side branch) is [`SubmitOutcome::Duplicate`].
    ///
    /// A block that fails the pre-checks is not handed to the kernel, so resubmitting it gives
    /// the same reason again (Core would answer `duplicate-invalid` for the contextual ones).
    pub fn submit_block(&self, block: &Block) -> SubmitOutcome {
        self.submit(block, true)
    }

    /// The kernel's verdict alone: like [`RegtestChain::submit_block`] but without the
    /// pre-checks that name reasons (and without the devnet policy), so reasons are the
    /// kernel's category names. For tests that check the kernel agrees with the pre-checks.
    #[cfg(feature = "test-util")]
    pub fn submit_block_kernel_only(&self, block: &Block) -> SubmitOutcome {
        self.submit(block, false)
    }

    fn submit(&self, block: &Block, precheck: bool) -> SubmitOutcome {
        let _serial = lock(&self.submit_lock);
        let outcome = self.submit_serialised(block, precheck);
        if matches!(outcome, SubmitOutcome::Accepted { .. }) {
            // Durable before `submitblock` answers: the kernel flushes only when it decides to.
            if let Err(e) = self.log.append(block) {
                return SubmitOutcome::Rejected {
                    reason: format!("not-durable: the block log cannot be written: {e}"),
                };
            }
        }
        outcome
    }

    fn submit_serialised(&self, block: &Block, precheck: bool) -> SubmitOutcome {
        let hash = block.block_hash();
        let khash = kernel_hash(&hash);
        let known = match self.chainman.get_block_tree_entry(&khash) {
            Some(entry) => {
                if self.chainman.active_chain().contains(&entry) {
                    return SubmitOutcome::Duplicate;
                }
                true
            }
            None => false,
        };
        if precheck && !known {
            if let Err(reason) = self.precheck(block) {
                return SubmitOutcome::Rejected { reason };
            }
        }
        let kblock = match to_kernel_block(block) {
            Ok(b) => b,
            Err(_) => {
                return SubmitOutcome::Rejected {
                    reason: "block-decode-failed".to_owned(),
                }
            }
        };
        lock(&self.checked).clear();
        let tip_before = entry_hash(&self.chainman.active_chain().tip());
        let result = self.chainman.process_block(&kblock);
        // Follow whatever the kernel did, even on rejection (a reorg may have started).
        // An index failure cannot change the kernel's verdict; the next sync retries it.
        let _ = self.sync_index();
        let states = std::mem::take(&mut *lock(&self.checked));
        let own_state = states.get(&hash.to_byte_array()).copied();
        match result {
            ProcessBlockResult::Rejected => SubmitOutcome::Rejected {
                reason: self.kernel_reason(
                    block,
                    own_state
                        .map(|(_, r)| r)
                        .unwrap_or(BlockValidationResult::Unset),
                ),
            },
            ProcessBlockResult::Duplicate => SubmitOutcome::Duplicate,
            ProcessBlockResult::NewBlock => {
                let chain = self.chainman.active_chain();
                let on_active = self
                    .chainman
                    .get_block_tree_entry(&khash)
                    .is_some_and(|e| chain.contains(&e));
                if on_active {
                    let moved = entry_hash(&chain.tip()) != tip_before;
                    return SubmitOutcome::Accepted { new_tip: moved };
                }
                if let Some((ValidationMode::Invalid, r)) = own_state {
                    return SubmitOutcome::Rejected {
                        reason: self.kernel_reason(block, r),
                    };
                }
                if states
                    .values()
                    .any(|(mode, _)| *mode == ValidationMode::Invalid)
                {
                    // An ancestor on this branch failed to connect.
                    return SubmitOutcome::Rejected {
                        reason: "bad-prevblk".to_owned(),
                    };
                }
                SubmitOutcome::Accepted { new_tip: false }
            }
        }
    }
}
