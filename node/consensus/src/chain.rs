//! Chain state: the tree of known shares, the active chain, its UTXO set, and most-work fork
//! choice with reorgs.
//!
//! [`ChainState::accept_share`] validates a share (context-free, against its parent, and — when
//! it would become part of the most-work chain — against the UTXO set) and reorganizes to the
//! branch with the most cumulative work. A reorg disconnects to the fork point with undo data and
//! connects the new branch; if a share on it fails, the old chain is restored, so the UTXO set is
//! always exactly that of applying the active chain from genesis.

use std::collections::{BTreeMap, HashMap, HashSet};

use bitcoin::pow::Work;

use crate::genesis::genesis_share;
use crate::params::{ChainParams, ParamsError};
use crate::payout::{select_payout, Payout};
use crate::pow::{asert_next_bits, decode_compact, AsertParams};
use crate::share::{Share, ShareHead, ShareHeader};
use crate::utxo::{Coin, ShareUndo, UtxoError, UtxoSet};
use crate::validation::{
    check_head_in_context, check_share, connect_transactions, ChainTimes, HeadContext, Location,
    Rule, ValidationError,
};
use crate::ShareHash;

/// Why a share was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The share breaks a consensus rule.
    #[error("invalid share {hash}: {error}")]
    Invalid {
        /// The share id.
        hash: ShareHash,
        /// The rule and where.
        error: ValidationError,
    },
    /// The parent is not known; fetch it first.
    #[error("share {hash} builds on unknown share {prev}")]
    Orphan {
        /// The share id.
        hash: ShareHash,
        /// Its missing parent.
        prev: ShareHash,
    },
    /// The share, or one of its ancestors, was already found invalid.
    #[error("share {0} is known to be invalid")]
    KnownInvalid(ShareHash),
    /// The share forks at or below the start of the reorg window: a pruned node can no longer
    /// reorganize there (not a rule violation; the share is ignored).
    #[error(
        "share {hash} forks at height {height}, below the reorg window starting at {window_start}"
    )]
    BelowWindow {
        /// The share id.
        hash: ShareHash,
        /// The height concerned.
        height: u32,
        /// The lowest height a fork may start at.
        window_start: u32,
    },
    /// Stored state handed to [`ChainState::restore`] is inconsistent.
    #[error("cannot restore the chain: {0}")]
    Restore(String),
    /// Reconnecting the previous chain after a failed reorg failed: a bug, never peer input.
    #[error("cannot restore share {hash} after a failed reorg: {reason}")]
    RestoreFailed {
        /// The share that would not reconnect.
        hash: ShareHash,
        /// Why.
        reason: String,
    },
    /// The chain parameters are unusable.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The UTXO set and the undo data disagree: a bug, never caused by peer input.
    #[error("internal inconsistency: {0}")]
    Internal(#[from] UtxoError),
}

/// What accepting a share did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Already stored; nothing changed.
    AlreadyKnown,
    /// Stored on a side branch with no more work than the tip.
    SideBranch,
    /// Became the new tip on top of the old one.
    Extended,
    /// Became the new tip after a reorganization.
    Reorganized {
        /// Shares removed from the active chain, tip first.
        disconnected: Vec<ShareHash>,
        /// Shares added, fork point first.
        connected: Vec<ShareHash>,
    },
}

#[derive(Clone, Debug)]
struct Entry {
    /// The sharechain header (always kept: times, bits and links for difficulty and MTP).
    header: ShareHeader,
    height: u32,
    chain_work: Work,
    /// Median time of this share and its ten predecessors.
    mtp: u32,
    /// The whole share, while inside the reorg window; `None` once pruned from memory.
    share: Option<Box<Share>>,
}

/// The sharechain as one node sees it.
#[derive(Clone, Debug)]
pub struct ChainState {
    params: ChainParams,
    asert: AsertParams,
    entries: HashMap<ShareHash, Entry>,
    active: Vec<ShareHash>,
    utxo: UtxoSet,
    undo: HashMap<ShareHash, ShareUndo>,
    /// The payout each active share inside the window had to make (absent while `n = 0`).
    payouts: HashMap<ShareHash, Payout>,
    invalid: HashSet<ShareHash>,
    /// How many shares below the tip keep their bodies and undo data (the reorg window).
    window: u32,
    /// Entries that still hold their whole share, by height (for pruning).
    full_by_height: BTreeMap<u32, Vec<ShareHash>>,
}

struct ActiveTimes<'a> {
    entries: &'a HashMap<ShareHash, Entry>,
    active: &'a [ShareHash],
}

impl ChainTimes for ActiveTimes<'_> {
    fn median_time_past(&self, height: u32) -> u32 {
        self.active
            .get(height as usize)
            .and_then(|h| self.entries.get(h))
            .map(|e| e.mtp)
            .unwrap_or(0)
    }
}

impl ChainState {
    /// A chain holding only the genesis share of `params`.
    ///
    /// # Errors
    /// [`ChainError::Params`] for parameters that fail [`ChainParams::validate`].
    pub fn new(params: ChainParams) -> Result<ChainState, ChainError> {
        params.validate()?;
        let asert = params.asert()?;
        let genesis = genesis_share(&params);
        let hash = genesis.hash();
        let target =
            decode_compact(genesis.head.header.bits).map_err(|e| ParamsError::Invalid {
                field: "genesis_bits",
                reason: e.to_string(),
            })?;
        let mut coins = Vec::new();
        if let Some(sb) = genesis.txs.first() {
            let txid = sb.compute_txid();
            for (vout, out) in sb.output.iter().enumerate() {
                if !crate::utxo::is_unspendable(out) {
                    let op = bitcoin::OutPoint {
                        txid,
                        vout: vout as u32,
                    };
                    coins.push((
                        op,
                        Coin {
                            output: out.clone(),
                            height: 0,
                            is_sharebase: false,
                        },
                    ));
                }
            }
        }
        let utxo = UtxoSet::from_coins(params.maturity, 0, coins)?;
        let entry = Entry {
            header: genesis.head.header,
            mtp: genesis.head.header.time,
            share: Some(Box::new(genesis)),
            height: 0,
            chain_work: target.to_work(),
        };
        let mut entries = HashMap::new();
        entries.insert(hash, entry);
        let mut full_by_height = BTreeMap::new();
        full_by_height.insert(0, vec![hash]);
        Ok(ChainState {
            params,
            asert,
            entries,
            active: vec![hash],
            utxo,
            undo: HashMap::new(),
            payouts: HashMap::new(),
            invalid: HashSet::new(),
            window: u32::MAX,
            full_by_height,
        })
    }

    /// Rebuilds a chain from stored state without re-validating it (a node restarting from its
    /// own store, which only ever held validated shares).
    ///
    /// - `active`: the id and header of every active share, genesis first;
    /// - `recent`: whole shares — the active ones inside the window, and side branches — with
    ///   the undo data of each active one;
    /// - `utxo`: the UTXO set at the tip;
    /// - `window`: the reorg window (see [`ChainState::set_window`]).
    ///
    /// The links, heights, genesis, the tip's body and the undo data of the window are checked;
    /// the work and median times are recomputed from the headers.
    ///
    /// # Errors
    /// [`ChainError::Restore`] naming the first inconsistency; [`ChainError::Params`].
    pub fn restore(
        params: ChainParams,
        active: Vec<(ShareHash, ShareHeader)>,
        recent: Vec<(Share, Option<ShareUndo>)>,
        utxo: UtxoSet,
        window: u32,
    ) -> Result<ChainState, ChainError> {
        let fresh = ChainState::new(params)?;
        let bad = |reason: String| ChainError::Restore(reason);
        match active.first() {
            Some((h, _)) if *h == fresh.genesis_hash() => {}
            Some((h, _)) => return Err(bad(format!("first active share {h} is not the genesis"))),
            None => return Err(bad("no active shares".into())),
        }
        let tip_height = active.len() as u32 - 1;
        if utxo.height() != tip_height {
            return Err(bad(format!(
                "UTXO set at height {} but the active chain ends at {tip_height}",
                utxo.height()
            )));
        }
        let mut chain = ChainState {
            utxo,
            active: Vec::with_capacity(active.len()),
            entries: HashMap::with_capacity(active.len()),
            full_by_height: BTreeMap::new(),
            window,
            ..fresh
        };
        let mut times: Vec<u32> = Vec::with_capacity(11);
        let mut work = Work::from_be_bytes([0; 32]);
        for (i, (hash, header)) in active.into_iter().enumerate() {
            let height = i as u32;
            if header.height != height {
                return Err(bad(format!(
                    "share {hash} at active position {height} says height {}",
                    header.height
                )));
            }
            if height > 0 && Some(&header.prev_share) != chain.active.last() {
                return Err(bad(format!(
                    "share {hash} at {height} does not link to its parent"
                )));
            }
            let target = decode_compact(header.bits)
                .map_err(|e| bad(format!("share {hash} has bad bits: {e}")))?;
            work = work + target.to_work();
            if times.len() == 11 {
                times.remove(0);
            }
            times.push(header.time);
            let mut sorted = times.clone();
            sorted.sort_unstable();
            let mtp = sorted[sorted.len() / 2];
            chain.entries.insert(
                hash,
                Entry {
                    header,
                    height,
                    chain_work: work,
                    mtp,
                    share: None,
                },
            );
            chain.active.push(hash);
        }
        // Whole shares: active ones first by height, so side branches find their parents.
        let mut recent = recent;
        recent.sort_by_key(|(s, _)| s.head.header.height);
        for (share, undo) in recent {
            let hash = share.hash();
            if chain.is_active(&hash) {
                if let Some(undo) = undo {
                    chain.undo.insert(hash, undo);
                }
                let height = share.head.header.height;
                if let Some(e) = chain.entries.get_mut(&hash) {
                    e.share = Some(Box::new(share));
                }
                chain.full_by_height.entry(height).or_default().push(hash);
                continue;
            }
            let prev = share.head.header.prev_share;
            if share.head.header.height <= chain.window_start() {
                continue; // forks below the window can never win
            }
            let Some(parent) = chain.entries.get(&prev) else {
                continue; // its branch fell out of the window: useless
            };
            let Ok(target) = decode_compact(share.head.header.bits) else {
                return Err(bad(format!("side share {hash} has bad bits")));
            };
            let height = parent.height + 1;
            let chain_work = parent.chain_work + target.to_work();
            let mtp = chain.median_of(share.head.header.time, prev);
            chain.full_by_height.entry(height).or_default().push(hash);
            chain.entries.insert(
                hash,
                Entry {
                    header: share.head.header,
                    height,
                    chain_work,
                    mtp,
                    share: Some(Box::new(share)),
                },
            );
        }
        let tip = chain.tip_hash();
        if chain.entries.get(&tip).is_none_or(|e| e.share.is_none()) {
            return Err(bad(format!("the body of the tip {tip} is missing")));
        }
        let low = chain.window_start();
        for h in chain.active.iter().skip(low as usize + 1) {
            if !chain.undo.contains_key(h) {
                return Err(bad(format!("undo data of active share {h} is missing")));
            }
        }
        Ok(chain)
    }

    /// Sets the reorg window: shares more than `window` below the tip drop their bodies and undo
    /// data from memory (side branches forking there are forgotten), and a reorganization may
    /// disconnect at most `window` shares. `u32::MAX` (the default) keeps everything.
    pub fn set_window(&mut self, window: u32) {
        self.window = window;
        self.prune();
    }

    /// The reorg window (see [`ChainState::set_window`]).
    pub fn window(&self) -> u32 {
        self.window
    }

    /// The lowest height a reorganization may fork at: the tip height minus the window.
    pub fn window_start(&self) -> u32 {
        self.height().saturating_sub(self.window)
    }

    /// Drops from memory what fell out of the window.
    fn prune(&mut self) {
        let start = self.window_start();
        while let Some(entry) = self.full_by_height.first_entry() {
            if *entry.key() >= start {
                break;
            }
            let hashes = entry.remove();
            for hash in hashes {
                if self.is_active(&hash) {
                    if let Some(e) = self.entries.get_mut(&hash) {
                        e.share = None;
                    }
                    self.undo.remove(&hash);
                    self.payouts.remove(&hash);
                } else {
                    self.entries.remove(&hash);
                }
            }
        }
    }

    /// The undo data of a share on the active chain (what connecting it changed), for storage.
    pub fn undo_of(&self, hash: &ShareHash) -> Option<&ShareUndo> {
        self.undo.get(hash)
    }

    /// The payout the Bitcoin coinbase of an active share inside the window made (selected from
    /// its parent's UTXO set); `None` while `n` was 0, or for shares connected before a restore.
    pub fn payout_of(&self, hash: &ShareHash) -> Option<&Payout> {
        self.payouts.get(hash)
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The genesis share id.
    pub fn genesis_hash(&self) -> ShareHash {
        self.active
            .first()
            .copied()
            .unwrap_or_else(|| genesis_share(&self.params).hash())
    }

    /// Height of the active tip.
    pub fn height(&self) -> u32 {
        self.active.len().saturating_sub(1) as u32
    }

    /// Id of the active tip.
    pub fn tip_hash(&self) -> ShareHash {
        self.active
            .last()
            .copied()
            .unwrap_or_else(|| self.genesis_hash())
    }

    fn tip_entry(&self) -> Option<&Entry> {
        self.active.last().and_then(|h| self.entries.get(h))
    }

    /// The active tip share.
    pub fn tip(&self) -> Option<&Share> {
        self.tip_entry().and_then(|e| e.share.as_deref())
    }

    /// Cumulative work of the active chain.
    pub fn tip_work(&self) -> Work {
        self.tip_entry()
            .map(|e| e.chain_work)
            .unwrap_or(Work::from_be_bytes([0; 32]))
    }

    /// The UTXO set at the tip (`S_tip`).
    pub fn utxo(&self) -> &UtxoSet {
        &self.utxo
    }

    /// The share at `height` on the active chain, while inside the window.
    pub fn share_at(&self, height: u32) -> Option<&Share> {
        self.active
            .get(height as usize)
            .and_then(|h| self.entries.get(h))
            .and_then(|e| e.share.as_deref())
    }

    /// Any share held in memory by id (active shares below the window are not).
    pub fn share(&self, hash: &ShareHash) -> Option<&Share> {
        self.entries.get(hash).and_then(|e| e.share.as_deref())
    }

    /// The id of the active share at `height`.
    pub fn hash_at(&self, height: u32) -> Option<ShareHash> {
        self.active.get(height as usize).copied()
    }

    /// The header, height and cumulative work of any known share (active ones at every height).
    pub fn header(&self, hash: &ShareHash) -> Option<(ShareHeader, Work)> {
        self.entries.get(hash).map(|e| (e.header, e.chain_work))
    }

    /// Whether the share is known (active at any height, or held on a side branch).
    pub fn contains(&self, hash: &ShareHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Whether the share was found invalid.
    pub fn is_known_invalid(&self, hash: &ShareHash) -> bool {
        self.invalid.contains(hash)
    }

    /// The active chain's ids from `height` up, at most `max` of them.
    pub fn active_from(&self, height: u32, max: usize) -> &[ShareHash] {
        let start = (height as usize).min(self.active.len());
        let end = start.saturating_add(max).min(self.active.len());
        &self.active[start..end]
    }

    /// A block locator for the active chain: the tip, then exponentially sparser ancestors,
    /// ending with genesis (as Bitcoin's `getheaders` locators).
    pub fn locator(&self) -> Vec<ShareHash> {
        let mut out = Vec::new();
        let mut step = 1usize;
        let mut i = self.active.len().saturating_sub(1);
        loop {
            out.push(self.active[i]);
            if i == 0 {
                break;
            }
            if out.len() >= 10 {
                step *= 2;
            }
            i = i.saturating_sub(step);
        }
        out
    }

    /// Whether `hash` is on the active chain.
    pub fn is_active(&self, hash: &ShareHash) -> bool {
        self.entries
            .get(hash)
            .is_some_and(|e| self.active.get(e.height as usize) == Some(hash))
    }

    /// Median time past at the tip (the time the next share must exceed).
    pub fn median_time_past(&self) -> u32 {
        self.tip_entry().map(|e| e.mtp).unwrap_or(0)
    }

    /// Bits the next share must carry.
    pub fn next_bits(&self) -> u32 {
        match self.tip_entry() {
            Some(e) => asert_next_bits(&self.asert, e.height, e.header.time),
            None => self.params.pow_limit_bits,
        }
    }

    /// The payout the next share's Bitcoin coinbase must make, or `None` while `n = 0` (then it
    /// pays its own sharebase's first output script).
    pub fn next_payout(&self) -> Option<Payout> {
        self.tip().and_then(|t| select_payout(&self.utxo, &t.head))
    }

    /// Validates and stores a share, reorganizing to it if it makes the most-work chain.
    ///
    /// # Errors
    /// [`ChainError::Invalid`] with the rule broken, [`ChainError::Orphan`] for an unknown parent,
    /// [`ChainError::KnownInvalid`] for a share already rejected. On error the active chain is
    /// unchanged, except when the share completed a branch whose valid prefix has more work than
    /// the old tip: then the chain moves to that prefix (compare [`ChainState::tip_hash`]).
    pub fn accept_share(&mut self, share: Share, now: u64) -> Result<AcceptOutcome, ChainError> {
        let hash = share.hash();
        if self.entries.contains_key(&hash) {
            return Ok(AcceptOutcome::AlreadyKnown);
        }
        if self.invalid.contains(&hash) {
            return Err(ChainError::KnownInvalid(hash));
        }
        check_share(&self.params, &share).map_err(|error| ChainError::Invalid { hash, error })?;
        let prev = share.head.header.prev_share;
        if self.invalid.contains(&prev) {
            self.invalid.insert(hash);
            return Err(ChainError::Invalid {
                hash,
                error: ValidationError {
                    rule: Rule::BadPrevShare,
                    at: Location::Header,
                    detail: format!("parent {prev} is invalid"),
                },
            });
        }
        let height = share.head.header.height;
        if height <= self.window_start() && self.height() > self.window {
            // Forks at or below the window start can never be reorganized to.
            return Err(ChainError::BelowWindow {
                hash,
                height,
                window_start: self.window_start(),
            });
        }
        let Some(parent) = self.entries.get(&prev) else {
            return Err(ChainError::Orphan { hash, prev });
        };
        let ctx = HeadContext {
            parent_height: parent.height,
            expected_bits: asert_next_bits(&self.asert, parent.height, parent.header.time),
            median_time_past: parent.mtp,
            now,
        };
        if let Err(error) = check_head_in_context(&self.params, &share.head, &ctx) {
            // A share only too far ahead of this node's clock may become valid as the clock
            // advances, so it is not remembered as invalid (as Bitcoin Core's
            // `BLOCK_TIME_FUTURE`); every other failure here is permanent.
            if error.rule != Rule::TimeTooNew {
                self.invalid.insert(hash);
            }
            return Err(ChainError::Invalid { hash, error });
        }
        let target = decode_compact(share.head.header.bits).map_err(|e| ChainError::Invalid {
            hash,
            error: ValidationError {
                rule: Rule::BadDiffBits,
                at: Location::Header,
                detail: e.to_string(),
            },
        })?;
        let chain_work = parent.chain_work + target.to_work();
        let height = parent.height + 1;
        let mtp = self.median_of(share.head.header.time, prev);
        self.entries.insert(
            hash,
            Entry {
                header: share.head.header,
                share: Some(Box::new(share)),
                height,
                chain_work,
                mtp,
            },
        );
        self.full_by_height.entry(height).or_default().push(hash);
        if chain_work <= self.tip_work() {
            return Ok(AcceptOutcome::SideBranch);
        }
        self.activate(hash)
    }

    fn median_of(&self, time: u32, mut prev: ShareHash) -> u32 {
        let mut times = Vec::with_capacity(11);
        times.push(time);
        while times.len() < 11 {
            let Some(e) = self.entries.get(&prev) else {
                break;
            };
            times.push(e.header.time);
            if e.height == 0 {
                break;
            }
            prev = e.header.prev_share;
        }
        times.sort_unstable();
        times[times.len() / 2]
    }

    /// Reorganizes to the branch ending at `new_tip` (which has more work than the tip).
    fn activate(&mut self, new_tip: ShareHash) -> Result<AcceptOutcome, ChainError> {
        // Walk back from the new tip to the active chain.
        let mut branch = Vec::new();
        let mut cursor = new_tip;
        while !self.is_active(&cursor) {
            if self.invalid.contains(&cursor) {
                // Stored before an ancestor was found invalid: the whole branch is invalid.
                for bad in &branch {
                    self.invalid.insert(*bad);
                    self.entries.remove(bad);
                }
                return Err(ChainError::Invalid {
                    hash: new_tip,
                    error: ValidationError {
                        rule: Rule::BadPrevShare,
                        at: Location::Header,
                        detail: format!("ancestor {cursor} is invalid"),
                    },
                });
            }
            branch.push(cursor);
            let Some(e) = self.entries.get(&cursor) else {
                return Err(ChainError::Orphan {
                    hash: new_tip,
                    prev: cursor,
                });
            };
            cursor = e.header.prev_share;
        }
        branch.reverse();
        let fork_height = self.entries.get(&cursor).map(|e| e.height).unwrap_or(0);
        if fork_height < self.window_start() {
            return Err(ChainError::BelowWindow {
                hash: new_tip,
                height: fork_height,
                window_start: self.window_start(),
            });
        }
        let mut disconnected = Vec::new();
        while self.height() > fork_height {
            disconnected.push(self.disconnect_tip()?);
        }
        let old_work = match disconnected.first() {
            Some(h) => self
                .entries
                .get(h)
                .map(|e| e.chain_work)
                .unwrap_or(self.tip_work()),
            None => self.tip_work(),
        };
        let mut connected = Vec::new();
        for hash in &branch {
            let Err(error) = self.connect(*hash) else {
                connected.push(*hash);
                continue;
            };
            // The failing share and everything after it on the branch are invalid.
            for bad in &branch[connected.len()..] {
                self.invalid.insert(*bad);
                self.entries.remove(bad);
            }
            // Keep the valid prefix if it has more work than the old chain; else restore.
            if self.tip_work() <= old_work {
                while self.height() > fork_height {
                    self.disconnect_tip()?;
                }
                for old in disconnected.iter().rev() {
                    self.connect(*old).map_err(|e| ChainError::RestoreFailed {
                        hash: *old,
                        reason: e.to_string(),
                    })?;
                }
            }
            return Err(error);
        }
        self.prune();
        if disconnected.is_empty() {
            Ok(AcceptOutcome::Extended)
        } else {
            Ok(AcceptOutcome::Reorganized {
                disconnected,
                connected,
            })
        }
    }

    /// Connects a stored share whose parent is the active tip.
    fn connect(&mut self, hash: ShareHash) -> Result<(), ChainError> {
        let Some(share) = self.entries.get(&hash).and_then(|e| e.share.as_deref()) else {
            return Err(ChainError::KnownInvalid(hash));
        };
        let payout = self.tip().and_then(|t| select_payout(&self.utxo, &t.head));
        let times = ActiveTimes {
            entries: &self.entries,
            active: &self.active,
        };
        let undo = connect_transactions(&self.params, share, &self.utxo, payout.as_ref(), &times)
            .map_err(|error| ChainError::Invalid { hash, error })?;
        self.utxo.connect(&undo)?;
        self.undo.insert(hash, undo);
        if let Some(payout) = payout {
            self.payouts.insert(hash, payout);
        }
        self.active.push(hash);
        Ok(())
    }

    /// Disconnects the active tip, restoring the UTXO set to its parent's state. The share stays
    /// stored as a side branch. Returns its id.
    ///
    /// # Errors
    /// [`ChainError::Internal`] at genesis or if undo data is missing.
    pub fn disconnect_tip(&mut self) -> Result<ShareHash, ChainError> {
        let height = self.height();
        let hash = self.tip_hash();
        if height == 0 {
            return Err(ChainError::Internal(UtxoError::WrongHeight {
                expected: 1,
                got: 0,
            }));
        }
        let Some(undo) = self.undo.remove(&hash) else {
            return Err(ChainError::Internal(UtxoError::WrongHeight {
                expected: height,
                got: 0,
            }));
        };
        self.utxo.disconnect(&undo)?;
        self.payouts.remove(&hash);
        self.active.pop();
        Ok(hash)
    }

    /// The head of the active share at `height`.
    pub fn head_at(&self, height: u32) -> Option<&ShareHead> {
        self.share_at(height).map(|s| &s.head)
    }
}
