//! Chain state: the tree of known shares, the active chain, its UTXO set, and most-work fork
//! choice with reorgs.
//!
//! [`ChainState::accept_share`] validates a share (context-free, against its parent, and — when
//! it would become part of the most-work chain — against the UTXO set) and reorganizes to the
//! branch with the most cumulative work. A reorg disconnects to the fork point with undo data and
//! connects the new branch; if a share on it fails, the old chain is restored, so the UTXO set is
//! always exactly that of applying the active chain from genesis.

use std::collections::{HashMap, HashSet};

use bitcoin::pow::Work;

use crate::builder::genesis_share;
use crate::params::{ChainParams, ParamsError};
use crate::payout::{select_payout, Payout};
use crate::pow::{asert_next_bits, decode_compact, AsertParams};
use crate::share::{Share, ShareHead};
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
    share: Share,
    height: u32,
    chain_work: Work,
    /// Median time of this share and its ten predecessors.
    mtp: u32,
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
    invalid: HashSet<ShareHash>,
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
            mtp: genesis.head.header.time,
            share: genesis,
            height: 0,
            chain_work: target.to_work(),
        };
        let mut entries = HashMap::new();
        entries.insert(hash, entry);
        Ok(ChainState {
            params,
            asert,
            entries,
            active: vec![hash],
            utxo,
            undo: HashMap::new(),
            invalid: HashSet::new(),
        })
    }

    /// The undo data of a share on the active chain (what connecting it changed), for storage.
    pub fn undo_of(&self, hash: &ShareHash) -> Option<&ShareUndo> {
        self.undo.get(hash)
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
        self.tip_entry().map(|e| &e.share)
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

    /// The share at `height` on the active chain.
    pub fn share_at(&self, height: u32) -> Option<&Share> {
        self.active
            .get(height as usize)
            .and_then(|h| self.entries.get(h))
            .map(|e| &e.share)
    }

    /// Any stored share by id.
    pub fn share(&self, hash: &ShareHash) -> Option<&Share> {
        self.entries.get(hash).map(|e| &e.share)
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
            Some(e) => asert_next_bits(&self.asert, e.height, e.share.head.header.time),
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
        let Some(parent) = self.entries.get(&prev) else {
            return Err(ChainError::Orphan { hash, prev });
        };
        let ctx = HeadContext {
            parent_height: parent.height,
            expected_bits: asert_next_bits(
                &self.asert,
                parent.height,
                parent.share.head.header.time,
            ),
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
                share,
                height,
                chain_work,
                mtp,
            },
        );
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
            times.push(e.share.head.header.time);
            if e.height == 0 {
                break;
            }
            prev = e.share.head.header.prev_share;
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
            cursor = e.share.head.header.prev_share;
        }
        branch.reverse();
        let fork_height = self.entries.get(&cursor).map(|e| e.height).unwrap_or(0);
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
        let Some(entry) = self.entries.get(&hash) else {
            return Err(ChainError::KnownInvalid(hash));
        };
        let payout = self.tip().and_then(|t| select_payout(&self.utxo, &t.head));
        let times = ActiveTimes {
            entries: &self.entries,
            active: &self.active,
        };
        let undo = connect_transactions(
            &self.params,
            &entry.share,
            &self.utxo,
            payout.as_ref(),
            &times,
        )
        .map_err(|error| ChainError::Invalid { hash, error })?;
        self.utxo.connect(&undo)?;
        self.undo.insert(hash, undo);
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
        self.active.pop();
        Ok(hash)
    }

    /// The head of the active share at `height`.
    pub fn head_at(&self, height: u32) -> Option<&ShareHead> {
        self.share_at(height).map(|s| &s.head)
    }
}
