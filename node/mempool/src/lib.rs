//! # p2share mempool
//!
//! The pool of unconfirmed sharechain transactions a node relays and mines from.
//!
//! Every transaction is validated with the consensus crate's own per-transaction checks
//! ([`check_tx_in_context`]: inputs, sharebase maturity, amounts, finality at the next height and
//! median time past, BIP-68 locks, sigops, and scripts through Bitcoin Core's interpreter) against
//! the chain's UTXO set extended by the outputs of other pool transactions, so chains of
//! unconfirmed transactions are accepted. Relay policy comes on top, modelled on Bitcoin Core's
//! accept-to-memory-pool:
//!
//! - a minimum relay fee rate, and a rolling minimum that rises when the pool is trimmed to its
//!   size limit (evicting the packages with the lowest descendant fee rate) and decays again,
//!   with a half-life, once shares arrive;
//! - full replace-by-fee: a conflicting transaction replaces the ones it conflicts with if it
//!   pays a higher fee rate than each of them and more absolute fee than everything it evicts
//!   (their descendants included) plus its own relay cost at the incremental fee rate; at most
//!   [`MempoolConfig::max_replacements`] transactions are evicted;
//! - ancestor and descendant count limits;
//! - expiry of transactions older than [`MempoolConfig::expiry_secs`].
//!
//! The crate is sans-IO: the chain is read through [`ChainView`] (implemented by
//! [`ChainState`]) and time is always an argument. The node calls [`Mempool::share_connected`]
//! when its tip is extended and [`Mempool::reorganized`] after a reorg; [`Mempool::select`]
//! picks transactions for a share template by ancestor fee rate (child-pays-for-parent).
//!
//! Fee rates are [`FeeRate`]s in share units per 1,000 virtual bytes; fees are share units.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use bitcoin::{OutPoint, Transaction, Txid, Wtxid};
use p2share_consensus::params::ChainParams;
use p2share_consensus::share::Share;
use p2share_consensus::utxo::{is_unspendable, Coin, UtxoSet};
use p2share_consensus::validation::{
    check_transaction, check_tx_in_context, ChainTimes, Location, TxContext,
};
use p2share_consensus::{ChainState, Rule, ShareAmount, ValidationError};

/// Default bound on the summed virtual size of the pool: 50 MB.
pub const DEFAULT_MAX_VSIZE: u64 = 50_000_000;
/// Default expiry age: 14 days.
pub const DEFAULT_EXPIRY_SECS: u64 = 14 * 24 * 60 * 60;
/// Default most transactions one replacement may evict (BIP-125 rule 5's 100).
pub const DEFAULT_MAX_REPLACEMENTS: usize = 100;
/// Default ancestor and descendant count limits (Bitcoin Core's 25).
pub const DEFAULT_CHAIN_LIMIT: usize = 25;
/// Weight charged per sigop cost unit when computing virtual size (Core's `-bytespersigop` 20,
/// in virtual bytes, applied to weight as `sigop_cost × 20`).
pub const BYTES_PER_SIGOP: u64 = 20;
/// Half-life of the rolling minimum fee rate after an eviction (Core's 12 hours).
pub const ROLLING_FEE_HALFLIFE_SECS: u64 = 12 * 60 * 60;
/// Position reported in the [`Location`] of a consensus failure: a pool transaction is checked
/// as if it were the only transaction after the sharebase.
pub const POOL_TX_INDEX: usize = 1;

/// A fee rate in share units per 1,000 virtual bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeeRate(u64);

impl FeeRate {
    /// Zero.
    pub const ZERO: FeeRate = FeeRate(0);

    /// `units` share units per 1,000 virtual bytes.
    pub const fn from_per_kvb(units: u64) -> FeeRate {
        FeeRate(units)
    }

    /// `units` share units per virtual byte.
    pub const fn from_per_vbyte(units: u64) -> FeeRate {
        FeeRate(units.saturating_mul(1000))
    }

    /// Share units per 1,000 virtual bytes.
    pub const fn per_kvb(self) -> u64 {
        self.0
    }

    /// The rate of paying `fee` for `vsize` (rounded down).
    pub fn of(fee: u64, vsize: u64) -> FeeRate {
        let r = u128::from(fee) * 1000 / u128::from(vsize.max(1));
        FeeRate(u64::try_from(r).unwrap_or(u64::MAX))
    }

    /// The fee due at this rate for `vsize` virtual bytes (rounded up).
    pub fn fee_for(self, vsize: u64) -> u64 {
        let f = (u128::from(self.0) * u128::from(vsize)).div_ceil(1000);
        u64::try_from(f).unwrap_or(u64::MAX)
    }

    fn saturating_add(self, other: FeeRate) -> FeeRate {
        FeeRate(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} units/kvB", self.0)
    }
}

/// Mempool policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Bound on the summed virtual size of the pool's transactions.
    pub max_vsize: u64,
    /// Minimum fee rate for acceptance.
    pub min_relay_fee_rate: FeeRate,
    /// What a replacement must pay for its own size on top of what it evicts, and the step the
    /// rolling minimum rises above an evicted package's rate.
    pub incremental_relay_fee_rate: FeeRate,
    /// Most in-pool ancestors of a transaction, itself included.
    pub max_ancestors: usize,
    /// Most in-pool descendants of any transaction, itself included.
    pub max_descendants: usize,
    /// Transactions older than this (seconds) are dropped with their descendants.
    pub expiry_secs: u64,
    /// Full replace-by-fee: any conflicting transaction may be replaced. When off, conflicts
    /// are refused with `txn-mempool-conflict`.
    pub full_rbf: bool,
    /// Most transactions (conflicts and their descendants) one replacement may evict.
    pub max_replacements: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_vsize: DEFAULT_MAX_VSIZE,
            min_relay_fee_rate: FeeRate::from_per_vbyte(1),
            incremental_relay_fee_rate: FeeRate::from_per_vbyte(1),
            max_ancestors: DEFAULT_CHAIN_LIMIT,
            max_descendants: DEFAULT_CHAIN_LIMIT,
            expiry_secs: DEFAULT_EXPIRY_SECS,
            full_rbf: true,
            max_replacements: DEFAULT_MAX_REPLACEMENTS,
        }
    }
}

/// What the pool reads of the chain: the tip's UTXO set, the parameters and median times past.
pub trait ChainView {
    /// The network parameters.
    fn params(&self) -> &ChainParams;
    /// The UTXO set at the tip (`S_tip`); its height is the tip height.
    fn utxo(&self) -> &UtxoSet;
    /// Median time of the active share at `height` and its ten predecessors.
    fn median_time_past_at(&self, height: u32) -> u32;
}

impl ChainView for ChainState {
    fn params(&self) -> &ChainParams {
        ChainState::params(self)
    }

    fn utxo(&self) -> &UtxoSet {
        ChainState::utxo(self)
    }

    fn median_time_past_at(&self, height: u32) -> u32 {
        if height == self.height() {
            return self.median_time_past();
        }
        let mut times: Vec<u32> = (height.saturating_sub(10)..=height)
            .filter_map(|h| self.hash_at(h).and_then(|hash| self.header(&hash)))
            .map(|(header, _)| header.time)
            .collect();
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }
}

struct Times<'a, V: ?Sized>(&'a V);

impl<V: ChainView + ?Sized> ChainTimes for Times<'_, V> {
    fn median_time_past(&self, height: u32) -> u32 {
        self.0.median_time_past_at(height)
    }
}

/// Bitcoin Core-style relay policy reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyReason {
    /// `txn-already-in-mempool`: the same transaction is in the pool.
    AlreadyInMempool,
    /// `txn-same-nonwitness-data-in-mempool`: the same txid with another witness is in the pool.
    SameNonWitnessData,
    /// `txn-already-known`: the transaction's outputs are already in the UTXO set (confirmed).
    AlreadyKnown,
    /// `txn-mempool-conflict`: spends an output a pool transaction spends, and replacement is
    /// not allowed.
    MempoolConflict,
    /// `insufficient fee`: a replacement does not pay enough.
    InsufficientFee,
    /// `too many potential replacements`: a replacement would evict too many transactions.
    TooManyReplacements,
    /// `bad-txns-spends-conflicting-tx`: spends an output of a transaction it would replace.
    SpendsConflictingTx,
    /// `min relay fee not met`: fee below the minimum relay fee rate.
    MinRelayFee,
    /// `mempool min fee not met`: fee below the rolling minimum of a full pool.
    MempoolMinFee,
    /// `mempool full`: accepted, then evicted at once by the size limit.
    MempoolFull,
    /// `too-long-mempool-chain`: ancestor or descendant limit exceeded.
    TooLongChain,
    /// `tx-size`: heavier than a share may be.
    TxSize,
}

impl PolicyReason {
    /// The stable reason string (Bitcoin Core's wording).
    pub fn code(self) -> &'static str {
        match self {
            PolicyReason::AlreadyInMempool => "txn-already-in-mempool",
            PolicyReason::SameNonWitnessData => "txn-same-nonwitness-data-in-mempool",
            PolicyReason::AlreadyKnown => "txn-already-known",
            PolicyReason::MempoolConflict => "txn-mempool-conflict",
            PolicyReason::InsufficientFee => "insufficient fee",
            PolicyReason::TooManyReplacements => "too many potential replacements",
            PolicyReason::SpendsConflictingTx => "bad-txns-spends-conflicting-tx",
            PolicyReason::MinRelayFee => "min relay fee not met",
            PolicyReason::MempoolMinFee => "mempool min fee not met",
            PolicyReason::MempoolFull => "mempool full",
            PolicyReason::TooLongChain => "too-long-mempool-chain",
            PolicyReason::TxSize => "tx-size",
        }
    }
}

impl fmt::Display for PolicyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a transaction was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// It breaks a consensus rule (it could not be in any next share).
    #[error("transaction {txid} rejected: {error}")]
    Consensus {
        /// The transaction.
        txid: Txid,
        /// The rule, where, and specifics.
        error: ValidationError,
    },
    /// It is valid but refused by relay policy.
    #[error("transaction {txid} rejected: {reason}: {detail}")]
    Policy {
        /// The transaction.
        txid: Txid,
        /// The policy reason.
        reason: PolicyReason,
        /// Specifics: fees, rates, the conflicting transaction.
        detail: String,
    },
}

impl MempoolError {
    /// The reject reason: the consensus rule code or the policy reason.
    pub fn reason(&self) -> &'static str {
        match self {
            MempoolError::Consensus { error, .. } => error.rule.code(),
            MempoolError::Policy { reason, .. } => reason.code(),
        }
    }

    /// The consensus rule broken, if any.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            MempoolError::Consensus { error, .. } => Some(error.rule),
            MempoolError::Policy { .. } => None,
        }
    }

    /// The policy reason, if any.
    pub fn policy(&self) -> Option<PolicyReason> {
        match self {
            MempoolError::Policy { reason, .. } => Some(*reason),
            MempoolError::Consensus { .. } => None,
        }
    }
}

fn policy<T>(
    txid: Txid,
    reason: PolicyReason,
    detail: impl Into<String>,
) -> Result<T, MempoolError> {
    Err(MempoolError::Policy {
        txid,
        reason,
        detail: detail.into(),
    })
}

/// What acceptance did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedTx {
    /// The transaction's id.
    pub txid: Txid,
    /// Its witness id.
    pub wtxid: Wtxid,
    /// The fee it pays.
    pub fee: ShareAmount,
    /// Its virtual size (sigop-adjusted).
    pub vsize: u64,
    /// Transactions it replaced, descendants of the conflicts included.
    pub replaced: Vec<Txid>,
}

/// A pool transaction as the queries report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// Its id.
    pub txid: Txid,
    /// Its witness id.
    pub wtxid: Wtxid,
    /// The fee it pays.
    pub fee: ShareAmount,
    /// Virtual size (sigop-adjusted).
    pub vsize: u64,
    /// Weight units.
    pub weight: u64,
    /// Sigop cost.
    pub sigops: u64,
    /// When it entered the pool (the `now` of its acceptance; kept across reorgs).
    pub time: u64,
    /// In-pool ancestors, itself included.
    pub ancestor_count: u64,
    /// In-pool descendants, itself included.
    pub descendant_count: u64,
}

/// A summary of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolInfo {
    /// Number of transactions.
    pub count: usize,
    /// Their summed virtual size.
    pub vsize_bytes: u64,
    /// Their summed fees.
    pub total_fee: ShareAmount,
    /// The fee rate a new transaction must pay now (the larger of the relay minimum and the
    /// rolling minimum).
    pub min_fee_rate: FeeRate,
    /// The size bound.
    pub max_vsize: u64,
}

/// What [`Mempool::share_connected`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectReport {
    /// Pool transactions the share included.
    pub included: Vec<Txid>,
    /// Pool transactions that conflicted with the share's, and their descendants.
    pub conflicts: Vec<Txid>,
    /// Pool transactions that are no longer valid on the new tip, and their descendants.
    pub invalid: Vec<Txid>,
}

/// What [`Mempool::reorganized`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReorgReport {
    /// Transactions of the disconnected shares now back in the pool.
    pub readmitted: Vec<Txid>,
    /// Transactions of the disconnected shares that failed against the new chain (dropped).
    pub readmit_failed: usize,
    /// Pool transactions the connected shares included.
    pub included: Vec<Txid>,
    /// Former pool transactions dropped: conflicting with or invalid on the new chain, or over
    /// a chain limit.
    pub dropped: Vec<Txid>,
    /// Transactions evicted by the size limit after re-admission.
    pub evicted: Vec<Txid>,
}

/// A share template's transactions, in share order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The transactions, parents before children.
    pub txs: Vec<Transaction>,
    /// Their summed fees.
    pub fees: ShareAmount,
    /// Their summed weight.
    pub weight: u64,
    /// Their summed sigop cost.
    pub sigops: u64,
}

/// Summed size, fee and sigops of a set of pool transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Agg {
    count: u64,
    vsize: u64,
    weight: u64,
    fee: u64,
    sigops: u64,
}

impl Agg {
    fn add(&mut self, o: &Agg) {
        self.count = self.count.saturating_add(o.count);
        self.vsize = self.vsize.saturating_add(o.vsize);
        self.weight = self.weight.saturating_add(o.weight);
        self.fee = self.fee.saturating_add(o.fee);
        self.sigops = self.sigops.saturating_add(o.sigops);
    }

    fn sub(&mut self, o: &Agg) {
        self.count = self.count.saturating_sub(o.count);
        self.vsize = self.vsize.saturating_sub(o.vsize);
        self.weight = self.weight.saturating_sub(o.weight);
        self.fee = self.fee.saturating_sub(o.fee);
        self.sigops = self.sigops.saturating_sub(o.sigops);
    }
}

/// `a_fee / a_vsize` compared with `b_fee / b_vsize`, exactly.
fn cmp_rate(a_fee: u64, a_vsize: u64, b_fee: u64, b_vsize: u64) -> Ordering {
    (u128::from(a_fee) * u128::from(b_vsize.max(1)))
        .cmp(&(u128::from(b_fee) * u128::from(a_vsize.max(1))))
}

#[derive(Clone, Debug)]
struct Entry {
    tx: Transaction,
    wtxid: Wtxid,
    own: Agg,
    time: u64,
    /// Arrival order; a parent always has a smaller one than its children.
    seq: u64,
    parents: BTreeSet<Txid>,
    children: BTreeSet<Txid>,
    /// Itself and all its in-pool ancestors.
    anc: Agg,
    /// Itself and all its in-pool descendants.
    desc: Agg,
}

impl Entry {
    fn info(&self, txid: Txid) -> EntryInfo {
        EntryInfo {
            txid,
            wtxid: self.wtxid,
            fee: ShareAmount::from_units(self.own.fee).unwrap_or(ShareAmount::MAX),
            vsize: self.own.vsize,
            weight: self.own.weight,
            sigops: self.own.sigops,
            time: self.time,
            ancestor_count: self.anc.count,
            descendant_count: self.desc.count,
        }
    }
}

/// How an acceptance runs.
#[derive(Clone, Copy, Debug)]
struct Mode {
    /// Fee floors apply (not for re-admission after a reorg).
    fee_floors: bool,
    /// Conflicts may be replaced (else refused).
    replace: bool,
    /// Run the scripts (re-admission skips them: they were verified against the same outputs).
    scripts: bool,
}

const RELAY: Mode = Mode {
    fee_floors: true,
    replace: true,
    scripts: true,
};

const READMIT: Mode = Mode {
    fee_floors: false,
    replace: false,
    scripts: false,
};

/// A transaction that passed every check, ready to insert.
struct Plan {
    txid: Txid,
    wtxid: Wtxid,
    own: Agg,
    parents: BTreeSet<Txid>,
    ancestors: HashSet<Txid>,
    conflicts: BTreeSet<Txid>,
}

/// The sharechain mempool (see the crate docs).
#[derive(Clone, Debug)]
pub struct Mempool {
    config: MempoolConfig,
    entries: HashMap<Txid, Entry>,
    by_wtxid: HashMap<Wtxid, Txid>,
    spenders: HashMap<OutPoint, Txid>,
    total_vsize: u64,
    total_fee: u64,
    next_seq: u64,
    /// Rolling minimum fee rate after evictions.
    rolling_min: FeeRate,
    /// When the rolling minimum was last bumped or decayed.
    rolling_updated: u64,
    /// Whether a share has connected since the last bump (decay waits for one, as in Core).
    share_since_bump: bool,
}

impl Default for Mempool {
    fn default() -> Self {
        Mempool::new(MempoolConfig::default())
    }
}

impl Mempool {
    /// An empty pool with `config`.
    pub fn new(config: MempoolConfig) -> Mempool {
        Mempool {
            config,
            entries: HashMap::new(),
            by_wtxid: HashMap::new(),
            spenders: HashMap::new(),
            total_vsize: 0,
            total_fee: 0,
            next_seq: 0,
            rolling_min: FeeRate::ZERO,
            rolling_updated: 0,
            share_since_bump: false,
        }
    }

    /// The policy.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `txid` is in the pool.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid)
    }

    /// A pool transaction by id.
    pub fn get(&self, txid: &Txid) -> Option<&Transaction> {
        self.entries.get(txid).map(|e| &e.tx)
    }

    /// A pool transaction's facts by id.
    pub fn entry(&self, txid: &Txid) -> Option<EntryInfo> {
        self.entries.get(txid).map(|e| e.info(*txid))
    }

    /// Every pool transaction's facts, in arrival order (parents before children).
    pub fn iter(&self) -> impl Iterator<Item = EntryInfo> + '_ {
        let mut all: Vec<(&Txid, &Entry)> = self.entries.iter().collect();
        all.sort_by_key(|(_, e)| e.seq);
        all.into_iter().map(|(t, e)| e.info(*t))
    }

    /// The pool transaction spending `outpoint`, if any.
    pub fn spender_of(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spenders.get(outpoint).copied()
    }

    /// The fee rate a new transaction must pay now: the relay minimum or, after evictions, the
    /// rolling minimum (whichever is larger).
    pub fn min_fee_rate(&self) -> FeeRate {
        self.rolling_min.max(self.config.min_relay_fee_rate)
    }

    /// A summary of the pool.
    pub fn info(&self) -> MempoolInfo {
        MempoolInfo {
            count: self.entries.len(),
            vsize_bytes: self.total_vsize,
            total_fee: ShareAmount::from_units(self.total_fee).unwrap_or(ShareAmount::MAX),
            min_fee_rate: self.min_fee_rate(),
            max_vsize: self.config.max_vsize,
        }
    }

    /// Validates `tx` against the chain tip and the pool and adds it, replacing the pool
    /// transactions it conflicts with if it pays enough (full RBF). `now` (Unix seconds) stamps
    /// the entry, drives expiry and the rolling minimum fee's decay. Expired transactions are
    /// dropped first; after insertion the pool is trimmed to its size limit.
    ///
    /// # Errors
    /// [`MempoolError::Consensus`] with the consensus rule broken (`bad-txns-…`), or
    /// [`MempoolError::Policy`] with Core's reason (`txn-already-in-mempool`, `insufficient
    /// fee`, `min relay fee not met`, `too-long-mempool-chain`, `mempool full`, …). On error the
    /// pool is unchanged, except for expiry and — for `mempool full` — replaced transactions.
    pub fn accept<V: ChainView + ?Sized>(
        &mut self,
        tx: Transaction,
        view: &V,
        now: u64,
    ) -> Result<AcceptedTx, MempoolError> {
        self.expire(now);
        self.decay_rolling(now);
        let plan = self.check(&tx, view, RELAY)?;
        let txid = plan.txid;
        let wtxid = plan.wtxid;
        let fee = plan.own.fee;
        let vsize = plan.own.vsize;
        let replaced = self.insert(tx, plan, now);
        self.trim(now);
        if !self.entries.contains_key(&txid) {
            return policy(
                txid,
                PolicyReason::MempoolFull,
                format!(
                    "evicted by the size limit; the minimum fee rate is now {}",
                    self.min_fee_rate()
                ),
            );
        }
        Ok(AcceptedTx {
            txid,
            wtxid,
            fee: ShareAmount::from_units(fee).unwrap_or(ShareAmount::MAX),
            vsize,
            replaced,
        })
    }

    /// Removes every transaction that entered the pool `expiry_secs` or more before `now`, with
    /// its descendants. Returns the removed ids.
    pub fn expire(&mut self, now: u64) -> Vec<Txid> {
        let cutoff = now.saturating_sub(self.config.expiry_secs);
        if now < self.config.expiry_secs {
            return Vec::new();
        }
        let old: Vec<Txid> = self
            .entries
            .iter()
            .filter(|(_, e)| e.time <= cutoff)
            .map(|(t, _)| *t)
            .collect();
        let mut removed = Vec::new();
        for txid in old {
            if self.entries.contains_key(&txid) {
                removed.extend(self.remove_with_descendants(&txid));
            }
        }
        removed
    }

    /// Updates the pool for a share that extended the tip: removes the transactions it included,
    /// the pool transactions that conflict with it (and their descendants), and any whose inputs
    /// are gone. `view` is the chain after the share.
    pub fn share_connected<V: ChainView + ?Sized>(
        &mut self,
        share: &Share,
        view: &V,
    ) -> ConnectReport {
        let mut report = ConnectReport::default();
        for tx in share.txs.iter().skip(1) {
            let txid = tx.compute_txid();
            if self.entries.contains_key(&txid) {
                self.remove_one(&txid);
                report.included.push(txid);
                continue;
            }
            for input in &tx.input {
                if let Some(spender) = self.spenders.get(&input.previous_output).copied() {
                    report
                        .conflicts
                        .extend(self.remove_with_descendants(&spender));
                }
            }
        }
        self.share_since_bump = true;
        // Going forward finality, maturity and relative locks only loosen; what can break is an
        // input: spent by the share, or gone with a chain the caller did not report.
        let utxo = view.utxo();
        let broken: Vec<Txid> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.tx.input.iter().any(|i| {
                    let op = i.previous_output;
                    !e.parents.contains(&op.txid) && utxo.get(&op).is_none()
                })
            })
            .map(|(t, _)| *t)
            .collect();
        for txid in broken {
            if self.entries.contains_key(&txid) {
                report.invalid.extend(self.remove_with_descendants(&txid));
            }
        }
        report
    }

    /// Updates the pool after a reorg. `disconnected` are the shares removed from the active
    /// chain (tip first), `connected` those added (fork point first), `view` the new chain and
    /// `now` the time stamped on re-admitted transactions.
    ///
    /// The transactions of the disconnected shares (oldest first) and then the pool's own (in
    /// arrival order, so parents come first) are validated against the new chain — scripts are
    /// not re-run and fee floors do not apply — and re-admitted; those the connected shares
    /// include are removed, those that fail are dropped (counted in the report), descendants of
    /// dropped transactions with them. The pool is then trimmed to its size limit.
    pub fn reorganized<V: ChainView + ?Sized>(
        &mut self,
        disconnected: &[Share],
        connected: &[Share],
        view: &V,
        now: u64,
    ) -> ReorgReport {
        let mut report = ReorgReport::default();
        let confirmed: HashSet<Txid> = connected
            .iter()
            .flat_map(|s| s.txs.iter().skip(1).map(|t| t.compute_txid()))
            .collect();
        let mut old: Vec<(Txid, Entry)> = self.entries.drain().collect();
        old.sort_by_key(|(_, e)| e.seq);
        self.by_wtxid.clear();
        self.spenders.clear();
        self.total_vsize = 0;
        self.total_fee = 0;
        self.share_since_bump = true;

        for share in disconnected.iter().rev() {
            for tx in share.txs.iter().skip(1) {
                let txid = tx.compute_txid();
                if confirmed.contains(&txid) || self.entries.contains_key(&txid) {
                    continue;
                }
                match self.check(tx, view, READMIT) {
                    Ok(plan) => {
                        self.insert(tx.clone(), plan, now);
                        report.readmitted.push(txid);
                    }
                    Err(_) => report.readmit_failed += 1,
                }
            }
        }
        for (txid, entry) in old {
            if confirmed.contains(&txid) {
                report.included.push(txid);
                continue;
            }
            if self.entries.contains_key(&txid) {
                continue;
            }
            match self.check(&entry.tx, view, READMIT) {
                Ok(plan) => {
                    self.insert(entry.tx, plan, entry.time);
                }
                Err(_) => report.dropped.push(txid),
            }
        }
        report.evicted = self.trim(now);
        report
    }

    /// Picks transactions for a share template: packages (a transaction with its unselected
    /// ancestors) in decreasing ancestor fee rate, so a child paying for its parent lifts both
    /// (child-pays-for-parent), parents always before children, within `max_weight` and, if
    /// given, `max_sigops`. The caller leaves room for the sharebase.
    pub fn select(&self, max_weight: u64, max_sigops: Option<u64>) -> Selection {
        #[derive(PartialEq, Eq)]
        struct Key {
            fee: u64,
            vsize: u64,
            seq: u64,
            txid: Txid,
        }
        impl Ord for Key {
            fn cmp(&self, other: &Self) -> Ordering {
                // Highest rate first, then earliest arrival.
                cmp_rate(other.fee, other.vsize, self.fee, self.vsize)
                    .then(self.seq.cmp(&other.seq))
                    .then(self.txid.cmp(&other.txid))
            }
        }
        impl PartialOrd for Key {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        let key = |txid: Txid, seq: u64, a: &Agg| Key {
            fee: a.fee,
            vsize: a.vsize,
            seq,
            txid,
        };
        let mut current: HashMap<Txid, Agg> =
            self.entries.iter().map(|(t, e)| (*t, e.anc)).collect();
        let mut queue: BTreeSet<Key> = self
            .entries
            .iter()
            .map(|(t, e)| key(*t, e.seq, &e.anc))
            .collect();
        let mut selected: HashSet<Txid> = HashSet::new();
        let mut out = Selection::default();
        let mut fees: u64 = 0;
        let sigop_limit = max_sigops.unwrap_or(u64::MAX);
        while let Some(best) = queue.pop_first() {
            let Some(agg) = current.get(&best.txid).copied() else {
                continue;
            };
            if out.weight.saturating_add(agg.weight) > max_weight
                || out.sigops.saturating_add(agg.sigops) > sigop_limit
            {
                // Its descendants' packages include it: they will not fit either.
                continue;
            }
            let mut package: Vec<Txid> = self
                .ancestors(&best.txid)
                .into_iter()
                .filter(|a| !selected.contains(a))
                .collect();
            package.push(best.txid);
            package.sort_by_key(|t| self.entries.get(t).map(|e| e.seq).unwrap_or(0));
            for member in &package {
                let Some(e) = self.entries.get(member) else {
                    continue;
                };
                if let Some(a) = current.remove(member) {
                    queue.remove(&key(*member, e.seq, &a));
                }
                selected.insert(*member);
                out.txs.push(e.tx.clone());
                out.weight = out.weight.saturating_add(e.own.weight);
                out.sigops = out.sigops.saturating_add(e.own.sigops);
                fees = fees.saturating_add(e.own.fee);
            }
            for member in &package {
                let Some(e) = self.entries.get(member) else {
                    continue;
                };
                for d in self.descendants(member) {
                    if selected.contains(&d) {
                        continue;
                    }
                    let (Some(de), Some(a)) = (self.entries.get(&d), current.get_mut(&d)) else {
                        continue;
                    };
                    queue.remove(&key(d, de.seq, a));
                    a.sub(&e.own);
                    queue.insert(key(d, de.seq, a));
                }
            }
        }
        out.fees = ShareAmount::from_units(fees).unwrap_or(ShareAmount::MAX);
        out
    }

    /// Checks the pool's internal bookkeeping against a recomputation from scratch, and that
    /// every input is either in `view`'s UTXO set or an output of a pool transaction, and spent
    /// by no other pool transaction. For tests and debugging.
    ///
    /// # Errors
    /// A description of the first inconsistency.
    pub fn check_consistency<V: ChainView + ?Sized>(&self, view: &V) -> Result<(), String> {
        let mut vsize = 0u64;
        let mut fee = 0u64;
        let mut spent: HashMap<OutPoint, Txid> = HashMap::new();
        for (txid, e) in &self.entries {
            vsize += e.own.vsize;
            fee += e.own.fee;
            if self.by_wtxid.get(&e.wtxid) != Some(txid) {
                return Err(format!("{txid}: wtxid index"));
            }
            for input in &e.tx.input {
                let op = input.previous_output;
                if let Some(other) = spent.insert(op, *txid) {
                    return Err(format!("{op} spent by {other} and {txid}"));
                }
                if self.spenders.get(&op) != Some(txid) {
                    return Err(format!("{op}: spender index does not name {txid}"));
                }
                let in_pool = self
                    .entries
                    .get(&op.txid)
                    .and_then(|p| p.tx.output.get(op.vout as usize))
                    .is_some();
                if in_pool != e.parents.contains(&op.txid) {
                    return Err(format!("{txid}: parent set disagrees for {op}"));
                }
                if !in_pool && view.utxo().get(&op).is_none() {
                    return Err(format!(
                        "{txid}: input {op} neither in the chain nor the pool"
                    ));
                }
                if in_pool {
                    let p = self
                        .entries
                        .get(&op.txid)
                        .map(|p| p.seq)
                        .unwrap_or(u64::MAX);
                    if p >= e.seq {
                        return Err(format!("{txid}: parent {} arrived later", op.txid));
                    }
                }
            }
            for c in &e.children {
                if !self
                    .entries
                    .get(c)
                    .is_some_and(|ce| ce.parents.contains(txid))
                {
                    return Err(format!("{txid}: child {c} does not list it as parent"));
                }
            }
            let mut anc = e.own;
            for a in self.ancestors(txid) {
                if let Some(ae) = self.entries.get(&a) {
                    anc.add(&ae.own);
                }
            }
            if anc != e.anc {
                return Err(format!("{txid}: ancestor totals {:?} != {anc:?}", e.anc));
            }
            let mut desc = e.own;
            for d in self.descendants(txid) {
                if let Some(de) = self.entries.get(&d) {
                    desc.add(&de.own);
                }
            }
            if desc != e.desc {
                return Err(format!(
                    "{txid}: descendant totals {:?} != {desc:?}",
                    e.desc
                ));
            }
        }
        if spent.len() != self.spenders.len() {
            return Err("spender index has stale entries".into());
        }
        if self.by_wtxid.len() != self.entries.len() {
            return Err("wtxid index has stale entries".into());
        }
        if vsize != self.total_vsize || fee != self.total_fee {
            return Err(format!(
                "totals: vsize {} (recomputed {vsize}), fee {} (recomputed {fee})",
                self.total_vsize, self.total_fee
            ));
        }
        Ok(())
    }

    /// Every check of acceptance, without changing anything.
    fn check<V: ChainView + ?Sized>(
        &self,
        tx: &Transaction,
        view: &V,
        mode: Mode,
    ) -> Result<Plan, MempoolError> {
        let txid = tx.compute_txid();
        let wtxid = tx.compute_wtxid();
        let consensus = |error: ValidationError| MempoolError::Consensus { txid, error };
        if let Some(e) = self.entries.get(&txid) {
            return if e.wtxid == wtxid {
                policy(txid, PolicyReason::AlreadyInMempool, "already in the pool")
            } else {
                policy(
                    txid,
                    PolicyReason::SameNonWitnessData,
                    format!("the pool holds it with wtxid {}", e.wtxid),
                )
            };
        }
        if tx.is_coinbase() {
            return Err(consensus(ValidationError {
                rule: Rule::SharebaseMultiple,
                at: Location::Tx {
                    index: POOL_TX_INDEX,
                    txid,
                },
                detail: "a sharebase is only valid as a share's first transaction".into(),
            }));
        }
        check_transaction(tx, POOL_TX_INDEX, txid).map_err(consensus)?;
        let params = view.params();
        let weight = tx.weight().to_wu();
        if weight > params.max_share_weight {
            return policy(
                txid,
                PolicyReason::TxSize,
                format!(
                    "weight {weight} above the share limit {}",
                    params.max_share_weight
                ),
            );
        }
        let utxo = view.utxo();
        for vout in 0..tx.output.len() {
            let op = OutPoint {
                txid,
                vout: vout as u32,
            };
            if utxo.get(&op).is_some() {
                return policy(
                    txid,
                    PolicyReason::AlreadyKnown,
                    format!("output {op} is already in the UTXO set"),
                );
            }
        }

        // Conflicts and what replacing them would evict.
        let mut conflicts = BTreeSet::new();
        for input in &tx.input {
            if let Some(spender) = self.spenders.get(&input.previous_output) {
                if !mode.replace || !self.config.full_rbf {
                    return policy(
                        txid,
                        PolicyReason::MempoolConflict,
                        format!(
                            "{} is spent by pool transaction {spender}",
                            input.previous_output
                        ),
                    );
                }
                conflicts.insert(*spender);
            }
        }
        let mut evicted: HashSet<Txid> = HashSet::new();
        for c in &conflicts {
            evicted.insert(*c);
            evicted.extend(self.descendants(c));
        }
        if evicted.len() > self.config.max_replacements {
            return policy(
                txid,
                PolicyReason::TooManyReplacements,
                format!(
                    "would evict {} transactions, limit {}",
                    evicted.len(),
                    self.config.max_replacements
                ),
            );
        }
        let mut parents = BTreeSet::new();
        for input in &tx.input {
            let parent = input.previous_output.txid;
            if self.entries.contains_key(&parent) {
                if evicted.contains(&parent) {
                    return policy(
                        txid,
                        PolicyReason::SpendsConflictingTx,
                        format!("spends {parent}, which it would replace"),
                    );
                }
                parents.insert(parent);
            }
        }

        // Consensus, against the next share.
        let state = utxo.height();
        let height = state.saturating_add(1);
        let times = Times(view);
        let ctx = TxContext {
            params,
            height,
            state_height: state,
            median_time_past: view.median_time_past_at(state),
            times: &times,
            index: POOL_TX_INDEX,
            fees_before: ShareAmount::ZERO,
            sigops_before: 0,
            verify_scripts: mode.scripts,
        };
        let checked = check_tx_in_context(&ctx, tx, txid, |op| match self.entries.get(&op.txid) {
            Some(parent) => parent
                .tx
                .output
                .get(op.vout as usize)
                .filter(|o| !is_unspendable(o))
                .map(|o| Coin {
                    output: o.clone(),
                    height,
                    is_sharebase: false,
                }),
            None => utxo.get(op).cloned(),
        })
        .map_err(consensus)?;
        let fee = checked.fee.to_units();
        let vsize = weight
            .max(checked.sigops.saturating_mul(BYTES_PER_SIGOP))
            .div_ceil(4);
        let own = Agg {
            count: 1,
            vsize,
            weight,
            fee,
            sigops: checked.sigops,
        };

        // Fee floors.
        if mode.fee_floors {
            let relay = self.config.min_relay_fee_rate;
            if fee < relay.fee_for(vsize) {
                return policy(
                    txid,
                    PolicyReason::MinRelayFee,
                    format!(
                        "fee {fee} < {} for {vsize} vB at {relay}",
                        relay.fee_for(vsize)
                    ),
                );
            }
            let floor = self.rolling_min;
            if floor > relay && fee < floor.fee_for(vsize) {
                return policy(
                    txid,
                    PolicyReason::MempoolMinFee,
                    format!(
                        "fee {fee} < {} for {vsize} vB at {floor}",
                        floor.fee_for(vsize)
                    ),
                );
            }
        }

        // Chain limits, counting the pool as it will be after the replacement.
        let ancestors = self.ancestors_of_parents(&parents);
        if ancestors.len() + 1 > self.config.max_ancestors {
            return policy(
                txid,
                PolicyReason::TooLongChain,
                format!(
                    "{} ancestors, limit {}",
                    ancestors.len() + 1,
                    self.config.max_ancestors
                ),
            );
        }
        for a in &ancestors {
            let kept = self
                .descendants(a)
                .into_iter()
                .filter(|d| !evicted.contains(d))
                .count();
            if kept + 2 > self.config.max_descendants {
                return policy(
                    txid,
                    PolicyReason::TooLongChain,
                    format!(
                        "ancestor {a} would have {} descendants, limit {}",
                        kept + 2,
                        self.config.max_descendants
                    ),
                );
            }
        }

        // Replacement fees.
        if !conflicts.is_empty() {
            for c in &conflicts {
                let Some(ce) = self.entries.get(c) else {
                    continue;
                };
                if cmp_rate(fee, vsize, ce.own.fee, ce.own.vsize) != Ordering::Greater {
                    return policy(
                        txid,
                        PolicyReason::InsufficientFee,
                        format!(
                            "replacement fee rate {} not above {} of conflicting {c}",
                            FeeRate::of(fee, vsize),
                            FeeRate::of(ce.own.fee, ce.own.vsize)
                        ),
                    );
                }
            }
            let evicted_fees: u64 = evicted
                .iter()
                .filter_map(|t| self.entries.get(t))
                .fold(0u64, |acc, e| acc.saturating_add(e.own.fee));
            if fee < evicted_fees {
                return policy(
                    txid,
                    PolicyReason::InsufficientFee,
                    format!(
                        "fee {fee} below the {evicted_fees} of the {} replaced",
                        evicted.len()
                    ),
                );
            }
            let relay_cost = self.config.incremental_relay_fee_rate.fee_for(vsize);
            if fee - evicted_fees < relay_cost {
                return policy(
                    txid,
                    PolicyReason::InsufficientFee,
                    format!(
                        "adds {} over the replaced fees, {relay_cost} needed for its own {vsize} vB",
                        fee - evicted_fees
                    ),
                );
            }
        }
        Ok(Plan {
            txid,
            wtxid,
            own,
            parents,
            ancestors,
            conflicts,
        })
    }

    /// Inserts a checked transaction, evicting its conflicts first. Returns the evicted ids.
    fn insert(&mut self, tx: Transaction, plan: Plan, time: u64) -> Vec<Txid> {
        let mut replaced = Vec::new();
        for c in &plan.conflicts {
            if self.entries.contains_key(c) {
                replaced.extend(self.remove_with_descendants(c));
            }
        }
        let txid = plan.txid;
        let mut anc = plan.own;
        for a in &plan.ancestors {
            if let Some(ae) = self.entries.get_mut(a) {
                anc.add(&ae.own);
                ae.desc.add(&plan.own);
            }
        }
        for p in &plan.parents {
            if let Some(pe) = self.entries.get_mut(p) {
                pe.children.insert(txid);
            }
        }
        for input in &tx.input {
            self.spenders.insert(input.previous_output, txid);
        }
        self.by_wtxid.insert(plan.wtxid, txid);
        self.total_vsize = self.total_vsize.saturating_add(plan.own.vsize);
        self.total_fee = self.total_fee.saturating_add(plan.own.fee);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(
            txid,
            Entry {
                tx,
                wtxid: plan.wtxid,
                own: plan.own,
                time,
                seq,
                parents: plan.parents,
                children: BTreeSet::new(),
                anc,
                desc: plan.own,
            },
        );
        replaced
    }

    /// In-pool ancestors of `txid` (not itself).
    fn ancestors(&self, txid: &Txid) -> HashSet<Txid> {
        match self.entries.get(txid) {
            Some(e) => self.ancestors_of_parents(&e.parents),
            None => HashSet::new(),
        }
    }

    fn ancestors_of_parents(&self, parents: &BTreeSet<Txid>) -> HashSet<Txid> {
        let mut seen: HashSet<Txid> = HashSet::new();
        let mut stack: Vec<Txid> = parents.iter().copied().collect();
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            if let Some(e) = self.entries.get(&t) {
                stack.extend(e.parents.iter().copied());
            }
        }
        seen
    }

    /// In-pool descendants of `txid` (not itself).
    fn descendants(&self, txid: &Txid) -> HashSet<Txid> {
        let mut seen: HashSet<Txid> = HashSet::new();
        let mut stack: Vec<Txid> = self
            .entries
            .get(txid)
            .map(|e| e.children.iter().copied().collect())
            .unwrap_or_default();
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            if let Some(e) = self.entries.get(&t) {
                stack.extend(e.children.iter().copied());
            }
        }
        seen
    }

    /// Removes one transaction, keeping its relatives' totals and links right (its children
    /// stay, now spending outputs that are confirmed or gone).
    fn remove_one(&mut self, txid: &Txid) {
        let ancestors = self.ancestors(txid);
        let descendants = self.descendants(txid);
        let Some(entry) = self.entries.remove(txid) else {
            return;
        };
        for a in &ancestors {
            if let Some(ae) = self.entries.get_mut(a) {
                ae.desc.sub(&entry.own);
            }
        }
        for d in &descendants {
            if let Some(de) = self.entries.get_mut(d) {
                de.anc.sub(&entry.own);
            }
        }
        for p in &entry.parents {
            if let Some(pe) = self.entries.get_mut(p) {
                pe.children.remove(txid);
            }
        }
        for c in &entry.children {
            if let Some(ce) = self.entries.get_mut(c) {
                ce.parents.remove(txid);
            }
        }
        for input in &entry.tx.input {
            if self.spenders.get(&input.previous_output) == Some(txid) {
                self.spenders.remove(&input.previous_output);
            }
        }
        if self.by_wtxid.get(&entry.wtxid) == Some(txid) {
            self.by_wtxid.remove(&entry.wtxid);
        }
        self.total_vsize = self.total_vsize.saturating_sub(entry.own.vsize);
        self.total_fee = self.total_fee.saturating_sub(entry.own.fee);
    }

    /// Removes `txid` and all its descendants, children first. Returns the removed ids.
    fn remove_with_descendants(&mut self, txid: &Txid) -> Vec<Txid> {
        let mut all: Vec<(u64, Txid)> = self
            .descendants(txid)
            .into_iter()
            .chain(std::iter::once(*txid))
            .filter_map(|t| self.entries.get(&t).map(|e| (e.seq, t)))
            .collect();
        // Latest arrivals first: a child always arrived after its parents.
        all.sort_unstable_by(|a, b| b.cmp(a));
        let mut removed = Vec::with_capacity(all.len());
        for (_, t) in all {
            self.remove_one(&t);
            removed.push(t);
        }
        removed.reverse();
        removed
    }

    /// Evicts the packages with the lowest descendant fee rate until the pool fits its size
    /// limit, raising the rolling minimum fee rate above each evicted package's rate.
    fn trim(&mut self, now: u64) -> Vec<Txid> {
        let mut evicted = Vec::new();
        while self.total_vsize > self.config.max_vsize {
            // Descendant score: the larger of its own and its package's rate, so a parent is not
            // evicted for a cheap child (the child scores lower and goes first).
            let worst = self
                .entries
                .iter()
                .map(|(t, e)| {
                    let (fee, vsize) = if cmp_rate(e.own.fee, e.own.vsize, e.desc.fee, e.desc.vsize)
                        == Ordering::Greater
                    {
                        (e.own.fee, e.own.vsize)
                    } else {
                        (e.desc.fee, e.desc.vsize)
                    };
                    (fee, vsize, e.seq, *t)
                })
                .min_by(|a, b| cmp_rate(a.0, a.1, b.0, b.1).then(b.2.cmp(&a.2)));
            let Some((fee, vsize, _, txid)) = worst else {
                break;
            };
            let bumped =
                FeeRate::of(fee, vsize).saturating_add(self.config.incremental_relay_fee_rate);
            if bumped > self.rolling_min {
                self.rolling_min = bumped;
            }
            self.rolling_updated = now;
            self.share_since_bump = false;
            evicted.extend(self.remove_with_descendants(&txid));
        }
        evicted
    }

    /// Lets the rolling minimum fee rate decay with a half-life once a share has arrived since
    /// the last bump: 12 hours, a quarter of that when the pool is under a quarter full, half
    /// when under half full (Core's schedule).
    fn decay_rolling(&mut self, now: u64) {
        if self.rolling_min == FeeRate::ZERO || !self.share_since_bump {
            return;
        }
        let elapsed = now.saturating_sub(self.rolling_updated);
        if elapsed < 10 {
            return;
        }
        let mut halflife = ROLLING_FEE_HALFLIFE_SECS;
        if self.total_vsize < self.config.max_vsize / 4 {
            halflife /= 4;
        } else if self.total_vsize < self.config.max_vsize / 2 {
            halflife /= 2;
        }
        let factor = 0.5f64.powf(elapsed as f64 / halflife as f64);
        let decayed = (self.rolling_min.per_kvb() as f64 * factor) as u64;
        self.rolling_min = FeeRate::from_per_kvb(decayed);
        self.rolling_updated = now;
        if decayed < self.config.incremental_relay_fee_rate.per_kvb() / 2 {
            self.rolling_min = FeeRate::ZERO;
        }
    }
}
