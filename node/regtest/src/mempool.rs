//! A Bitcoin Core-like mempool over the regtest chain's UTXO index.
//!
//! [`Mempool::accept`] runs Core's `AcceptToMemoryPool` checks in Core's order and answers with
//! Core's reject reason strings ([`MempoolReject::reason`]):
//!
//! 1. context-free (`CheckTransaction`): `bad-txns-vin-empty`, `bad-txns-vout-empty`,
//!    `bad-txns-oversize`, value ranges, `bad-txns-inputs-duplicate`, `bad-txns-prevout-null`;
//!    a coinbase is refused (`coinbase`); size policy (`tx-size` above 400,000 WU,
//!    `tx-size-small` below 65 non-witness bytes);
//! 2. finality for the next block (height tip+1, the tip's median time past): `non-final`;
//! 3. `txn-already-in-mempool`, `txn-same-nonwitness-data-in-mempool`;
//! 4. conflicts with mempool transactions (full RBF by default; `txn-mempool-conflict` when
//!    [`MempoolConfig::full_rbf`] is off and the conflict does not signal BIP-125);
//! 5. inputs from the chain's UTXO set or from mempool outputs:
//!    `bad-txns-inputs-missingorspent` (`missing-inputs` in `testmempoolaccept`, see
//!    [`MempoolReject::test_accept_reason`]), `txn-already-known`;
//! 6. BIP-68 sequence locks: `non-BIP68-final`;
//! 7. amounts (`CheckTxInputs`): `bad-txns-premature-spend-of-coinbase`,
//!    `bad-txns-inputvalues-outofrange`, `bad-txns-in-belowout`;
//! 8. `bad-txns-too-many-sigops` (sigop cost above 16,000);
//! 9. fees: `mempool min fee not met` (after evictions), `min relay fee not met` (1 sat/vB);
//! 10. package limits (25 ancestors/descendants, 101 kvB): `too-long-mempool-chain`;
//! 11. replacement (BIP-125 rules 2–6 as Core applies them to full RBF):
//!     `too many potential replacements`, `bad-txns-spends-conflicting-tx`,
//!     `replacement-adds-unconfirmed`, `insufficient fee`;
//! 12. scripts, by Bitcoin Core's interpreter (bitcoinkernel) with every consensus flag and
//!     every spent output: `mandatory-script-verify-flag-failed (input N)`;
//! 13. the size bound: packages with the lowest descendant feerate are evicted; if the new
//!     transaction itself goes, `mempool full`.
//!
//! Non-goals: Core's standardness rules beyond size and sigops (regtest Core runs with
//! `-acceptnonstdtxn`), fee estimation, package relay, orphan handling, persistence
//! (`mempool.dat`).
//!
//! Keeping in step with the chain ([`Mempool::sync`]): when blocks connect on top of the
//! mempool's tip, their transactions leave the pool, and so does everything that now conflicts
//! with them (with descendants). Finality, maturity and sequence locks only loosen as the chain
//! grows, so nothing else needs re-checking. After a reorg the pool is rebuilt: the
//! disconnected blocks' transactions (coinbases excepted), oldest first, then the previous pool
//! in arrival order, each re-checked against the new tip; those that no longer validate are
//! dropped. Scripts are not re-run there: script validity depends only on the transaction and
//! the outputs it spends, which its outpoints fix.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use bitcoin::blockdata::constants::COINBASE_MATURITY;
use bitcoin::script::Instruction;
use bitcoin::{Amount, Block, BlockHash, OutPoint, Script, Transaction, TxOut, Txid, Wtxid};
use p2share_consensus::script::{PreparedTransaction, ScriptError};

use crate::chain::RegtestChain;
use crate::index::{ChainIndex, ScriptHash};

/// Core's `MAX_STANDARD_TX_WEIGHT`.
pub const MAX_STANDARD_TX_WEIGHT: u64 = 400_000;
/// Core's `MIN_STANDARD_TX_NONWITNESS_SIZE`.
pub const MIN_STANDARD_TX_NONWITNESS_SIZE: u64 = 65;
/// Core's `MAX_STANDARD_TX_SIGOPS_COST`.
pub const MAX_STANDARD_TX_SIGOPS_COST: u64 = 16_000;
/// Core's `MAX_REPLACEMENT_CANDIDATES` (BIP-125 rule 5).
pub const MAX_REPLACEMENT_CANDIDATES: usize = 100;
/// Core's default `-maxmempool` (300 MB).
pub const DEFAULT_MAX_MEMPOOL_BYTES: u64 = 300_000_000;
/// Estimated memory of one mempool entry beyond its serialized transaction (index nodes,
/// maps, aggregates), counted in [`Mempool::usage`].
pub const ENTRY_OVERHEAD_BYTES: u64 = 400;

const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
const WITNESS_SCALE_FACTOR: u64 = 4;
const MAX_MONEY: u64 = 21_000_000 * 100_000_000;
const DEFAULT_BYTES_PER_SIGOP: u64 = 20;
const SEQUENCE_LOCKTIME_DISABLE_FLAG: u32 = 1 << 31;
const SEQUENCE_LOCKTIME_TYPE_FLAG: u32 = 1 << 22;
const SEQUENCE_LOCKTIME_MASK: u32 = 0x0000_ffff;
const SEQUENCE_LOCKTIME_GRANULARITY: u32 = 9;
/// BIP-125: a sequence below this signals replaceability.
const MAX_BIP125_RBF_SEQUENCE: u32 = 0xffff_fffd;

/// Mempool policy (Core's defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Size bound on [`Mempool::usage`] (`-maxmempool`), bytes.
    pub max_bytes: u64,
    /// Minimum relay feerate (`-minrelaytxfee`), satoshis per 1,000 vbytes.
    pub min_relay_feerate: u64,
    /// Incremental relay feerate (`-incrementalrelayfee`), satoshis per 1,000 vbytes: what a
    /// replacement must add for its own size, and the step of the mempool minimum fee.
    pub incremental_relay_feerate: u64,
    /// Full replace-by-fee (`-mempoolfullrbf`, Core's default since v28): any conflicting
    /// transaction may be replaced. When off, only transactions that signal BIP-125 (or whose
    /// mempool ancestors do) can be; others give `txn-mempool-conflict`.
    pub full_rbf: bool,
    /// Most in-mempool ancestors, the transaction included (`-limitancestorcount`).
    pub ancestor_limit: usize,
    /// Most in-mempool descendants of any ancestor, itself included (`-limitdescendantcount`).
    pub descendant_limit: usize,
    /// Largest vsize of a transaction with its ancestors (`-limitancestorsize`), vbytes.
    pub ancestor_size_limit: u64,
    /// Largest vsize of an ancestor with its descendants (`-limitdescendantsize`), vbytes.
    pub descendant_size_limit: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_bytes: DEFAULT_MAX_MEMPOOL_BYTES,
            min_relay_feerate: 1_000,
            incremental_relay_feerate: 1_000,
            full_rbf: true,
            ancestor_limit: 25,
            descendant_limit: 25,
            ancestor_size_limit: 101_000,
            descendant_size_limit: 101_000,
        }
    }
}

/// Why a transaction was refused: Bitcoin Core's reject reason and a human-readable detail
/// (Core's debug message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
pub struct MempoolReject {
    /// Core's reject reason (`bad-txns-inputs-missingorspent`, `insufficient fee`, …).
    pub reason: String,
    /// Details: amounts, the offending input or transaction.
    pub detail: String,
}

impl MempoolReject {
    fn new(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        MempoolReject {
            reason: reason.into(),
            detail: detail.into(),
        }
    }

    /// The reason as `testmempoolaccept` reports it: Core answers `missing-inputs` there
    /// for what `sendrawtransaction` reports as `bad-txns-inputs-missingorspent`.
    pub fn test_accept_reason(&self) -> &str {
        if self.reason == "bad-txns-inputs-missingorspent" {
            "missing-inputs"
        } else {
            &self.reason
        }
    }
}

fn reject<T>(reason: &str, detail: impl Into<String>) -> Result<T, MempoolReject> {
    Err(MempoolReject::new(reason, detail))
}

/// What acceptance found (also `testmempoolaccept`'s answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The transaction's id.
    pub txid: Txid,
    /// Its witness id.
    pub wtxid: Wtxid,
    /// Its virtual size (sigop-adjusted, as Core counts it).
    pub vsize: u64,
    /// The fee it pays.
    pub fee: Amount,
    /// Transactions it replaced (or would replace), descendants included.
    pub replaced: Vec<Txid>,
}

/// Summed size, fee and sigops of a set of transactions (a transaction with its ancestors or
/// with its descendants).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Agg {
    pub(crate) count: u64,
    pub(crate) vsize: u64,
    pub(crate) weight: u64,
    pub(crate) fee: u64,
    pub(crate) sigops: u64,
}

impl Agg {
    fn add(&mut self, o: &Agg) {
        self.count += o.count;
        self.vsize += o.vsize;
        self.weight += o.weight;
        self.fee += o.fee;
        self.sigops += o.sigops;
    }

    pub(crate) fn sub(&mut self, o: &Agg) {
        self.count = self.count.saturating_sub(o.count);
        self.vsize = self.vsize.saturating_sub(o.vsize);
        self.weight = self.weight.saturating_sub(o.weight);
        self.fee = self.fee.saturating_sub(o.fee);
        self.sigops = self.sigops.saturating_sub(o.sigops);
    }
}

/// `a` has a higher feerate (fee per vsize) than `b`.
pub(crate) fn feerate_gt(a_fee: u64, a_vsize: u64, b_fee: u64, b_vsize: u64) -> bool {
    u128::from(a_fee) * u128::from(b_vsize.max(1)) > u128::from(b_fee) * u128::from(a_vsize.max(1))
}

/// Fee due at `rate` (satoshis per 1,000 vbytes) for `vsize`, rounded up like Core's
/// `CFeeRate::GetFee`.
fn fee_at(rate: u64, vsize: u64) -> u64 {
    (u128::from(rate) * u128::from(vsize)).div_ceil(1000) as u64
}

/// One mempool transaction.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) tx: Arc<Transaction>,
    pub(crate) txid: Txid,
    pub(crate) wtxid: Wtxid,
    /// The outputs its inputs spend, in input order.
    pub(crate) prevouts: Vec<TxOut>,
    /// Serialized size with witness.
    pub(crate) size: u64,
    /// Arrival order.
    pub(crate) seq: u64,
    /// Itself alone (count 1).
    pub(crate) own: Agg,
    /// Itself with all its in-mempool ancestors.
    pub(crate) anc: Agg,
    /// Itself with all its in-mempool descendants.
    pub(crate) desc: Agg,
    /// Slots of in-mempool transactions it spends from.
    pub(crate) parents: Vec<usize>,
    /// Slots of in-mempool transactions spending from it.
    pub(crate) children: Vec<usize>,
    /// Script hashes of its outputs and of the outputs it spends.
    scripts: Vec<ScriptHash>,
}

/// A mempool transaction as the queries report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolEntry {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Its id.
    pub txid: Txid,
    /// Its witness id.
    pub wtxid: Wtxid,
    /// The fee it pays.
    pub fee: Amount,
    /// Virtual size (sigop-adjusted).
    pub vsize: u64,
    /// Weight units.
    pub weight: u64,
    /// Sigop cost.
    pub sigops: u64,
    /// The outputs it spends, in input order.
    pub prevouts: Vec<TxOut>,
    /// Arrival order in this mempool (larger is later).
    pub sequence: u64,
    /// In-mempool ancestors, itself included.
    pub ancestor_count: u64,
    /// Their vsize.
    pub ancestor_vsize: u64,
    /// Their fees.
    pub ancestor_fees: Amount,
    /// In-mempool descendants, itself included.
    pub descendant_count: u64,
    /// Their vsize.
    pub descendant_vsize: u64,
    /// Their fees.
    pub descendant_fees: Amount,
    /// In-mempool transactions it spends from.
    pub depends: Vec<Txid>,
    /// In-mempool transactions spending from it.
    pub spent_by: Vec<Txid>,
}

/// The chain position the mempool is valid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolTip {
    /// The tip block.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
    /// Its median time past (the next block's locktime cutoff).
    pub median_time_past: u32,
}

/// What [`Mempool::sync`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Blocks disconnected (a reorg) since the last sync.
    pub disconnected: usize,
    /// Blocks connected since the last sync.
    pub connected: usize,
    /// Transactions that left the pool because a block confirmed them.
    pub confirmed: usize,
    /// Transactions dropped: conflicts with a block, or no longer valid after a reorg.
    pub dropped: Vec<Txid>,
    /// Disconnected transactions re-admitted after a reorg.
    pub readmitted: usize,
}

/// How an acceptance runs.
#[derive(Clone, Copy, Debug, Default)]
struct Mode {
    /// Check only (`testmempoolaccept`).
    test_only: bool,
    /// Scripts are known valid (re-admission after a reorg).
    skip_scripts: bool,
    /// No fee floors, no size trimming (re-admission after a reorg).
    bypass_limits: bool,
    /// Conflicts are refused, never replaced.
    no_replace: bool,
}

/// One input's spent coin.
struct InputCoin {
    output: TxOut,
    height: u32,
    is_coinbase: bool,
    /// The in-mempool parent holding it.
    parent: Option<usize>,
}

/// A transaction that passed every check, ready to insert.
struct Checked {
    tx: Arc<Transaction>,
    txid: Txid,
    wtxid: Wtxid,
    prevouts: Vec<TxOut>,
    size: u64,
    own: Agg,
    parents: Vec<usize>,
    ancestors: Vec<usize>,
    replaced: Vec<usize>,
}

/// The mempool (see the module docs).
#[derive(Clone, Debug)]
pub struct Mempool {
    config: MempoolConfig,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_txid: HashMap<Txid, usize>,
    by_wtxid: HashMap<Wtxid, usize>,
    spent_by: HashMap<OutPoint, usize>,
    by_script: HashMap<ScriptHash, HashSet<usize>>,
    tip: Option<MempoolTip>,
    total_vsize: u64,
    total_size: u64,
    total_fee: u64,
    next_seq: u64,
    sequence: u64,
    /// Rolling minimum feerate after evictions, satoshis per 1,000 vbytes.
    min_feerate: u64,
}

/// Core's `CheckTransaction` (context-free), then the coinbase and size policies.
fn check_transaction(tx: &Transaction) -> Result<(), MempoolReject> {
    if tx.input.is_empty() {
        return reject("bad-txns-vin-empty", "");
    }
    if tx.output.is_empty() {
        return reject("bad-txns-vout-empty", "");
    }
    if (tx.base_size() as u64) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT {
        return reject("bad-txns-oversize", "");
    }
    let mut total: u64 = 0;
    for out in &tx.output {
        let value = out.value.to_sat();
        if value > i64::MAX as u64 {
            return reject("bad-txns-vout-negative", "");
        }
        if value > MAX_MONEY {
            return reject("bad-txns-vout-toolarge", "");
        }
        total = total.saturating_add(value);
        if total > MAX_MONEY {
            return reject("bad-txns-txouttotal-toolarge", "");
        }
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    for input in &tx.input {
        if !seen.insert(input.previous_output) {
            return reject("bad-txns-inputs-duplicate", "");
        }
    }
    if tx.is_coinbase() {
        return reject("coinbase", "coinbase transactions are only valid in blocks");
    }
    if tx.input.iter().any(|i| i.previous_output.is_null()) {
        return reject("bad-txns-prevout-null", "");
    }
    let weight = tx.weight().to_wu();
    if weight > MAX_STANDARD_TX_WEIGHT {
        return reject(
            "tx-size",
            format!("weight {weight} > {MAX_STANDARD_TX_WEIGHT}"),
        );
    }
    if (tx.base_size() as u64) < MIN_STANDARD_TX_NONWITNESS_SIZE {
        return reject("tx-size-small", "");
    }
    Ok(())
}

/// The last data push of a scriptSig (a P2SH redeem script).
fn last_push(script: &Script) -> Option<&[u8]> {
    let mut last = None;
    for ins in script.instructions() {
        if let Ok(Instruction::PushBytes(bytes)) = ins {
            last = Some(bytes.as_bytes());
        }
    }
    last
}

fn witness_sigops(program: &Script, witness: &bitcoin::Witness) -> u64 {
    if program.is_p2wpkh() {
        1
    } else if program.is_p2wsh() {
        witness
            .last()
            .map(|s| Script::from_bytes(s).count_sigops() as u64)
            .unwrap_or(0)
    } else {
        0
    }
}

/// Core's `GetTransactionSigOpCost`: legacy sigops ×4, P2SH sigops ×4, witness sigops.
pub(crate) fn sigop_cost(tx: &Transaction, prevouts: &[TxOut]) -> u64 {
    let legacy: usize = tx
        .input
        .iter()
        .map(|i| i.script_sig.count_sigops_legacy())
        .chain(
            tx.output
                .iter()
                .map(|o| o.script_pubkey.count_sigops_legacy()),
        )
        .sum();
    let mut cost = legacy as u64 * WITNESS_SCALE_FACTOR;
    for (input, prev) in tx.input.iter().zip(prevouts) {
        let spk = prev.script_pubkey.as_script();
        if spk.is_p2sh() {
            if let Some(redeem) = last_push(&input.script_sig) {
                let redeem = Script::from_bytes(redeem);
                cost += redeem.count_sigops() as u64 * WITNESS_SCALE_FACTOR;
                if redeem.is_witness_program() {
                    cost += witness_sigops(redeem, &input.witness);
                }
            }
        } else if spk.is_witness_program() {
            cost += witness_sigops(spk, &input.witness);
        }
    }
    cost
}

impl Default for Mempool {
    fn default() -> Self {
        Mempool::new(MempoolConfig::default())
    }
}

impl Mempool {
    /// An empty mempool with `config`. It attaches to a chain's tip at the first
    /// [`Mempool::sync`] (every call that takes the chain syncs first).
    pub fn new(config: MempoolConfig) -> Mempool {
        Mempool {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_txid: HashMap::new(),
            by_wtxid: HashMap::new(),
            spent_by: HashMap::new(),
            by_script: HashMap::new(),
            tip: None,
            total_vsize: 0,
            total_size: 0,
            total_fee: 0,
            next_seq: 0,
            sequence: 0,
            min_feerate: 0,
        }
    }

    /// The policy in force.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// The chain tip the pool is valid for (`None` before the first sync).
    pub fn tip(&self) -> Option<MempoolTip> {
        self.tip
    }

    pub(crate) fn slot(&self, s: usize) -> Option<&Entry> {
        self.slots.get(s).and_then(Option::as_ref)
    }

    fn slot_mut(&mut self, s: usize) -> Option<&mut Entry> {
        self.slots.get_mut(s).and_then(Option::as_mut)
    }

    /// All occupied slots (for the template builder).
    pub(crate) fn slots(&self) -> &[Option<Entry>] {
        &self.slots
    }

    // ---- queries ----

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.by_txid.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_txid.is_empty()
    }

    /// Whether `txid` is in the pool.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.by_txid.contains_key(txid)
    }

    /// The transaction `txid`, if in the pool.
    pub fn get(&self, txid: &Txid) -> Option<Arc<Transaction>> {
        self.by_txid
            .get(txid)
            .and_then(|s| self.slot(*s))
            .map(|e| Arc::clone(&e.tx))
    }

    /// The fee `txid` pays, if in the pool.
    pub fn fee(&self, txid: &Txid) -> Option<Amount> {
        self.by_txid
            .get(txid)
            .and_then(|s| self.slot(*s))
            .map(|e| Amount::from_sat(e.own.fee))
    }

    /// Everything known about `txid`, if in the pool (`getmempoolentry`).
    pub fn entry(&self, txid: &Txid) -> Option<MempoolEntry> {
        let e = self.by_txid.get(txid).and_then(|s| self.slot(*s))?;
        let txids = |slots: &[usize]| -> Vec<Txid> {
            slots
                .iter()
                .filter_map(|s| self.slot(*s).map(|e| e.txid))
                .collect()
        };
        Some(MempoolEntry {
            tx: Arc::clone(&e.tx),
            txid: e.txid,
            wtxid: e.wtxid,
            fee: Amount::from_sat(e.own.fee),
            vsize: e.own.vsize,
            weight: e.own.weight,
            sigops: e.own.sigops,
            prevouts: e.prevouts.clone(),
            sequence: e.seq,
            ancestor_count: e.anc.count,
            ancestor_vsize: e.anc.vsize,
            ancestor_fees: Amount::from_sat(e.anc.fee),
            descendant_count: e.desc.count,
            descendant_vsize: e.desc.vsize,
            descendant_fees: Amount::from_sat(e.desc.fee),
            depends: txids(&e.parents),
            spent_by: txids(&e.children),
        })
    }

    /// Txids in arrival order (`getrawmempool`).
    pub fn txids(&self) -> Vec<Txid> {
        let mut v: Vec<(u64, Txid)> = self.entries().map(|e| (e.seq, e.txid)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, t)| t).collect()
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().filter_map(Option::as_ref)
    }

    /// Sum of virtual sizes (`getmempoolinfo`'s `bytes`).
    pub fn total_vsize(&self) -> u64 {
        self.total_vsize
    }

    /// Sum of serialized sizes.
    pub fn total_bytes(&self) -> u64 {
        self.total_size
    }

    /// Estimated memory use: serialized sizes plus [`ENTRY_OVERHEAD_BYTES`] per entry. This
    /// is what [`MempoolConfig::max_bytes`] bounds.
    pub fn usage(&self) -> u64 {
        self.total_size + ENTRY_OVERHEAD_BYTES * self.len() as u64
    }

    /// Sum of fees.
    pub fn total_fee(&self) -> Amount {
        Amount::from_sat(self.total_fee)
    }

    /// The feerate a new transaction must pay (satoshis per 1,000 vbytes): the larger of the
    /// minimum relay feerate and the rolling minimum set by evictions (`mempoolminfee`).
    pub fn min_feerate(&self) -> u64 {
        self.min_feerate.max(self.config.min_relay_feerate)
    }

    /// A counter that increases on every change to the pool (longpoll ids).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The mempool transaction spending `outpoint`, and the input index.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<(Txid, u32)> {
        let e = self.spent_by.get(outpoint).and_then(|s| self.slot(*s))?;
        let vin =
            e.tx.input
                .iter()
                .position(|i| i.previous_output == *outpoint)?;
        Some((e.txid, vin as u32))
    }

    /// The output `outpoint` of a mempool transaction (spent in the pool or not).
    pub fn output(&self, outpoint: &OutPoint) -> Option<TxOut> {
        let e = self
            .by_txid
            .get(&outpoint.txid)
            .and_then(|s| self.slot(*s))?;
        e.tx.output
            .get(usize::try_from(outpoint.vout).ok()?)
            .cloned()
    }

    /// Mempool transactions paying to or spending from the script with Esplora hash `script`,
    /// in arrival order.
    pub fn txs_touching(&self, script: &ScriptHash) -> Vec<Txid> {
        let Some(set) = self.by_script.get(script) else {
            return Vec::new();
        };
        let mut v: Vec<(u64, Txid)> = set
            .iter()
            .filter_map(|s| self.slot(*s).map(|e| (e.seq, e.txid)))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, t)| t).collect()
    }

    /// Outputs of mempool transactions paying to the script with Esplora hash `script` that no
    /// mempool transaction spends.
    pub fn unspent_outputs_to(&self, script: &ScriptHash) -> Vec<(OutPoint, TxOut)> {
        let mut out = Vec::new();
        for txid in self.txs_touching(script) {
            let Some(e) = self.by_txid.get(&txid).and_then(|s| self.slot(*s)) else {
                continue;
            };
            for (vout, o) in e.tx.output.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if ScriptHash::of(&o.script_pubkey) == *script && !self.spent_by.contains_key(&op) {
                    out.push((op, o.clone()));
                }
            }
        }
        out
    }

    // ---- acceptance ----

    /// `sendrawtransaction`: checks `tx` against the chain's tip (see the module docs) and
    /// adds it, replacing conflicts where the replacement rules allow.
    ///
    /// # Errors
    /// [`MempoolReject`] with Core's reason.
    pub fn accept(
        &mut self,
        chain: &RegtestChain,
        tx: Transaction,
    ) -> Result<Accepted, MempoolReject> {
        self.sync(chain);
        self.accept_mode(chain, Arc::new(tx), Mode::default())
    }

    /// `testmempoolaccept`: every check of [`Mempool::accept`] (except the size bound), no
    /// change.
    ///
    /// # Errors
    /// [`MempoolReject`] with Core's reason.
    pub fn test_accept(
        &mut self,
        chain: &RegtestChain,
        tx: &Transaction,
    ) -> Result<Accepted, MempoolReject> {
        self.sync(chain);
        self.accept_mode(
            chain,
            Arc::new(tx.clone()),
            Mode {
                test_only: true,
                ..Mode::default()
            },
        )
    }

    fn accept_mode(
        &mut self,
        chain: &RegtestChain,
        tx: Arc<Transaction>,
        mode: Mode,
    ) -> Result<Accepted, MempoolReject> {
        let checked = chain.read_index(|index| self.check(chain, index, tx, mode))?;
        let accepted = Accepted {
            txid: checked.txid,
            wtxid: checked.wtxid,
            vsize: checked.own.vsize,
            fee: Amount::from_sat(checked.own.fee),
            replaced: checked
                .replaced
                .iter()
                .filter_map(|s| self.slot(*s).map(|e| e.txid))
                .collect(),
        };
        if mode.test_only {
            return Ok(accepted);
        }
        let txid = checked.txid;
        self.insert(checked);
        if !mode.bypass_limits {
            self.trim();
            if !self.contains(&txid) {
                return reject("mempool full", "");
            }
        }
        Ok(accepted)
    }

    /// In-mempool ancestors of `start` (the slots themselves excluded unless reachable).
    fn ancestors_of(&self, start: &[usize]) -> Vec<usize> {
        let mut seen: HashSet<usize> = HashSet::new();
        let mut queue: VecDeque<usize> = start.iter().copied().collect();
        let mut out = Vec::new();
        for s in start {
            seen.insert(*s);
            out.push(*s);
        }
        while let Some(s) = queue.pop_front() {
            if let Some(e) = self.slot(s) {
                for p in &e.parents {
                    if seen.insert(*p) {
                        out.push(*p);
                        queue.push_back(*p);
                    }
                }
            }
        }
        out
    }

    /// `start` and all their in-mempool descendants.
    pub(crate) fn descendants_of(&self, start: &[usize]) -> Vec<usize> {
        let mut seen: HashSet<usize> = HashSet::new();
        let mut queue: VecDeque<usize> = VecDeque::new();
        let mut out = Vec::new();
        for s in start {
            if seen.insert(*s) {
                out.push(*s);
                queue.push_back(*s);
            }
        }
        while let Some(s) = queue.pop_front() {
            if let Some(e) = self.slot(s) {
                for c in &e.children {
                    if seen.insert(*c) {
                        out.push(*c);
                        queue.push_back(*c);
                    }
                }
            }
        }
        out
    }

    /// Whether `slot` or one of its in-mempool ancestors signals BIP-125.
    fn signals_rbf(&self, slot: usize) -> bool {
        self.ancestors_of(&[slot]).iter().any(|s| {
            self.slot(*s).is_some_and(|e| {
                e.tx.input
                    .iter()
                    .any(|i| i.sequence.0 <= MAX_BIP125_RBF_SEQUENCE)
            })
        })
    }

    /// Median time past of the active block at `height`.
    fn mtp_at(&self, chain: &RegtestChain, tip: &MempoolTip, height: u32) -> Option<u32> {
        if height == tip.height {
            return Some(tip.median_time_past);
        }
        let hash = chain.block_hash(height)?;
        chain.header(&hash).map(|h| h.median_time_past)
    }

    #[allow(clippy::too_many_lines)] // Core's PreChecks, in Core's order, reads best as one
    fn check(
        &self,
        chain: &RegtestChain,
        index: &ChainIndex,
        tx: Arc<Transaction>,
        mode: Mode,
    ) -> Result<Checked, MempoolReject> {
        check_transaction(&tx)?;
        let Some(tip) = self.tip else {
            return reject("chain-not-synced", "the mempool has no chain tip");
        };
        if index.tip_hash() != Some(tip.hash) {
            return reject(
                "chain-not-synced",
                "the chain moved during the check; retry",
            );
        }
        let next_height = tip.height.saturating_add(1);
        if !p2share_consensus::validation::is_final(&tx, next_height, tip.median_time_past) {
            return reject("non-final", "");
        }
        let txid = tx.compute_txid();
        let wtxid = tx.compute_wtxid();
        if self.by_wtxid.contains_key(&wtxid) {
            return reject("txn-already-in-mempool", "");
        }
        if self.by_txid.contains_key(&txid) {
            return reject("txn-same-nonwitness-data-in-mempool", "");
        }

        // Conflicts.
        let mut direct: Vec<usize> = Vec::new();
        for input in &tx.input {
            if let Some(s) = self.spent_by.get(&input.previous_output) {
                if !direct.contains(s) {
                    direct.push(*s);
                }
            }
        }
        if !direct.is_empty() {
            let replaceable = !mode.no_replace
                && (self.config.full_rbf || direct.iter().all(|s| self.signals_rbf(*s)));
            if !replaceable {
                let other = direct
                    .first()
                    .and_then(|s| self.slot(*s))
                    .map(|e| e.txid.to_string())
                    .unwrap_or_default();
                return reject("txn-mempool-conflict", format!("conflicts with {other}"));
            }
        }

        // Inputs.
        let mut coins: Vec<InputCoin> = Vec::with_capacity(tx.input.len());
        for input in &tx.input {
            let op = input.previous_output;
            if let Some(coin) = index.utxo(&op) {
                coins.push(InputCoin {
                    output: coin.output.clone(),
                    height: coin.height,
                    is_coinbase: coin.is_coinbase,
                    parent: None,
                });
                continue;
            }
            let from_pool = self.by_txid.get(&op.txid).and_then(|s| {
                let e = self.slot(*s)?;
                let out = e.tx.output.get(usize::try_from(op.vout).ok()?)?;
                Some((*s, out.clone()))
            });
            match from_pool {
                Some((s, output)) => coins.push(InputCoin {
                    output,
                    height: next_height,
                    is_coinbase: false,
                    parent: Some(s),
                }),
                None => {
                    let known = (0..tx.output.len())
                        .any(|v| index.utxo(&OutPoint::new(txid, v as u32)).is_some());
                    if known {
                        return reject("txn-already-known", "");
                    }
                    return reject(
                        "bad-txns-inputs-missingorspent",
                        format!("input {op} is missing or spent"),
                    );
                }
            }
        }

        // BIP-68 sequence locks (Core's CheckSequenceLocksAtTip).
        if tx.version.0 >= 2 {
            let mut min_height: i64 = -1;
            let mut min_time: i64 = -1;
            for (input, coin) in tx.input.iter().zip(&coins) {
                let seq = input.sequence.0;
                if seq & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
                    continue;
                }
                let value = i64::from(seq & SEQUENCE_LOCKTIME_MASK);
                if seq & SEQUENCE_LOCKTIME_TYPE_FLAG != 0 {
                    let at = coin.height.saturating_sub(1);
                    let Some(coin_time) = self.mtp_at(chain, &tip, at) else {
                        return reject("non-BIP68-final", format!("no block at height {at}"));
                    };
                    min_time = min_time
                        .max(i64::from(coin_time) + (value << SEQUENCE_LOCKTIME_GRANULARITY) - 1);
                } else {
                    min_height = min_height.max(i64::from(coin.height) + value - 1);
                }
            }
            if min_height >= i64::from(next_height) || min_time >= i64::from(tip.median_time_past) {
                return reject("non-BIP68-final", "");
            }
        }

        // Amounts (Core's CheckTxInputs).
        let mut value_in: u64 = 0;
        for coin in &coins {
            if coin.is_coinbase && next_height.saturating_sub(coin.height) < COINBASE_MATURITY {
                return reject(
                    "bad-txns-premature-spend-of-coinbase",
                    format!(
                        "tried to spend coinbase at depth {}",
                        next_height.saturating_sub(coin.height)
                    ),
                );
            }
            let v = coin.output.value.to_sat();
            value_in = value_in.saturating_add(v);
            if v > MAX_MONEY || value_in > MAX_MONEY {
                return reject("bad-txns-inputvalues-outofrange", "");
            }
        }
        let value_out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        if value_in < value_out {
            return reject(
                "bad-txns-in-belowout",
                format!(
                    "value in ({}) < value out ({})",
                    Amount::from_sat(value_in),
                    Amount::from_sat(value_out)
                ),
            );
        }
        let fee = value_in - value_out;
        let prevouts: Vec<TxOut> = coins.iter().map(|c| c.output.clone()).collect();

        // Sizes and sigops.
        let sigops = sigop_cost(&tx, &prevouts);
        if sigops > MAX_STANDARD_TX_SIGOPS_COST {
            return reject("bad-txns-too-many-sigops", format!("{sigops}"));
        }
        let weight = tx.weight().to_wu();
        let vsize = weight
            .max(sigops * DEFAULT_BYTES_PER_SIGOP)
            .div_ceil(WITNESS_SCALE_FACTOR);
        let size = tx.total_size() as u64;

        // Fees.
        if !mode.bypass_limits {
            let pool_min = fee_at(self.min_feerate, vsize);
            if self.min_feerate > 0 && fee < pool_min {
                return reject("mempool min fee not met", format!("{fee} < {pool_min}"));
            }
            let relay_min = fee_at(self.config.min_relay_feerate, vsize);
            if fee < relay_min {
                return reject("min relay fee not met", format!("{fee} < {relay_min}"));
            }
        }

        // Package limits.
        let mut parents: Vec<usize> = Vec::new();
        for c in &coins {
            if let Some(p) = c.parent {
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
        }
        let ancestors = self.ancestors_of(&parents);
        let mut anc_vsize = vsize;
        for a in &ancestors {
            if let Some(e) = self.slot(*a) {
                anc_vsize += e.own.vsize;
            }
        }
        if ancestors.len() + 1 > self.config.ancestor_limit {
            return reject(
                "too-long-mempool-chain",
                format!(
                    "too many unconfirmed ancestors [limit: {}]",
                    self.config.ancestor_limit
                ),
            );
        }
        if anc_vsize > self.config.ancestor_size_limit {
            return reject(
                "too-long-mempool-chain",
                format!(
                    "exceeds ancestor size limit [limit: {}]",
                    self.config.ancestor_size_limit
                ),
            );
        }
        for a in &ancestors {
            if let Some(e) = self.slot(*a) {
                if e.desc.count as usize + 1 > self.config.descendant_limit {
                    return reject(
                        "too-long-mempool-chain",
                        format!(
                            "too many descendants for tx {} [limit: {}]",
                            e.txid, self.config.descendant_limit
                        ),
                    );
                }
                if e.desc.vsize + vsize > self.config.descendant_size_limit {
                    return reject(
                        "too-long-mempool-chain",
                        format!(
                            "exceeds descendant size limit for tx {} [limit: {}]",
                            e.txid, self.config.descendant_size_limit
                        ),
                    );
                }
            }
        }

        // Replacement (Core's ReplacementChecks).
        let mut replaced: Vec<usize> = Vec::new();
        if !direct.is_empty() {
            replaced = self.descendants_of(&direct);
            if replaced.len() > MAX_REPLACEMENT_CANDIDATES {
                return reject(
                    "too many potential replacements",
                    format!(
                        "rejecting replacement {txid}; too many potential replacements ({} > {MAX_REPLACEMENT_CANDIDATES})",
                        replaced.len()
                    ),
                );
            }
            let replaced_set: HashSet<usize> = replaced.iter().copied().collect();
            if ancestors.iter().any(|a| replaced_set.contains(a)) {
                return reject(
                    "bad-txns-spends-conflicting-tx",
                    format!("{txid} spends conflicting transaction"),
                );
            }
            // Rule 2: no new unconfirmed inputs.
            let mut conflict_parents: HashSet<Txid> = HashSet::new();
            for s in &direct {
                if let Some(e) = self.slot(*s) {
                    for i in &e.tx.input {
                        conflict_parents.insert(i.previous_output.txid);
                    }
                }
            }
            for (input, coin) in tx.input.iter().zip(&coins) {
                if coin.parent.is_some() && !conflict_parents.contains(&input.previous_output.txid)
                {
                    return reject(
                        "replacement-adds-unconfirmed",
                        format!(
                            "replacement {txid} adds unconfirmed input, idx {}",
                            input.previous_output
                        ),
                    );
                }
            }
            // Rule 6: a higher feerate than every directly replaced transaction.
            for s in &direct {
                if let Some(e) = self.slot(*s) {
                    if !feerate_gt(fee, vsize, e.own.fee, e.own.vsize) {
                        return reject(
                            "insufficient fee",
                            format!(
                                "rejecting replacement {txid}; new feerate {} sat/kvB <= old feerate {} sat/kvB",
                                fee * 1000 / vsize.max(1),
                                e.own.fee * 1000 / e.own.vsize.max(1)
                            ),
                        );
                    }
                }
            }
            // Rules 3 and 4: pays for what it replaces, and for its own bandwidth.
            let replaced_fees: u64 = replaced
                .iter()
                .filter_map(|s| self.slot(*s).map(|e| e.own.fee))
                .sum();
            if fee < replaced_fees {
                return reject(
                    "insufficient fee",
                    format!(
                        "rejecting replacement {txid}, less fees than conflicting txs; {fee} < {replaced_fees}"
                    ),
                );
            }
            let additional = fee - replaced_fees;
            let relay = fee_at(self.config.incremental_relay_feerate, vsize);
            if additional < relay {
                return reject(
                    "insufficient fee",
                    format!(
                        "rejecting replacement {txid}, not enough additional fees to relay; {additional} < {relay}"
                    ),
                );
            }
        }

        // Scripts, by Bitcoin Core's interpreter.
        if !mode.skip_scripts {
            let verdict = PreparedTransaction::new(&tx, &prevouts).and_then(|p| p.verify_all());
            match verdict {
                Ok(()) => {}
                Err(ScriptError::Invalid { input }) => {
                    return reject(
                        &format!("mandatory-script-verify-flag-failed (input {input})"),
                        format!("input {input} of {txid} fails script verification"),
                    )
                }
                Err(e) => {
                    let input = match &e {
                        ScriptError::Kernel { input, .. } => *input,
                        _ => 0,
                    };
                    return reject(
                        &format!("mandatory-script-verify-flag-failed (input {input})"),
                        e.to_string(),
                    );
                }
            }
        }

        Ok(Checked {
            tx,
            txid,
            wtxid,
            prevouts,
            size,
            own: Agg {
                count: 1,
                vsize,
                weight,
                fee,
                sigops,
            },
            parents,
            ancestors,
            replaced,
        })
    }

    fn insert(&mut self, c: Checked) {
        self.remove_set(&c.replaced);
        let mut anc = c.own;
        for a in &c.ancestors {
            if let Some(e) = self.slot_mut(*a) {
                anc.add(&e.own);
                e.desc.add(&c.own);
            }
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        for p in &c.parents {
            if let Some(e) = self.slot_mut(*p) {
                e.children.push(slot);
            }
        }
        let mut scripts: Vec<ScriptHash> =
            c.tx.output
                .iter()
                .chain(c.prevouts.iter())
                .map(|o| ScriptHash::of(&o.script_pubkey))
                .collect();
        scripts.sort_unstable();
        scripts.dedup();
        for sh in &scripts {
            self.by_script.entry(*sh).or_default().insert(slot);
        }
        for input in &c.tx.input {
            self.spent_by.insert(input.previous_output, slot);
        }
        self.by_txid.insert(c.txid, slot);
        self.by_wtxid.insert(c.wtxid, slot);
        self.total_vsize += c.own.vsize;
        self.total_size += c.size;
        self.total_fee += c.own.fee;
        let entry = Entry {
            tx: c.tx,
            txid: c.txid,
            wtxid: c.wtxid,
            prevouts: c.prevouts,
            size: c.size,
            seq: self.next_seq,
            own: c.own,
            anc,
            desc: c.own,
            parents: c.parents,
            children: Vec::new(),
            scripts,
        };
        self.next_seq += 1;
        self.sequence += 1;
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(entry);
        }
    }

    /// Removes the slots in `set`, keeping the aggregates of what stays exact.
    fn remove_set(&mut self, set: &[usize]) {
        if set.is_empty() {
            return;
        }
        let members: HashSet<usize> = set.iter().copied().collect();
        // Aggregates first, while the links are intact.
        for s in set {
            let Some(own) = self.slot(*s).map(|e| e.own) else {
                continue;
            };
            for a in self.ancestors_of(&[*s]) {
                if a != *s && !members.contains(&a) {
                    if let Some(e) = self.slot_mut(a) {
                        e.desc.sub(&own);
                    }
                }
            }
            for d in self.descendants_of(&[*s]) {
                if d != *s && !members.contains(&d) {
                    if let Some(e) = self.slot_mut(d) {
                        e.anc.sub(&own);
                    }
                }
            }
        }
        for s in set {
            let Some(entry) = self.slots.get_mut(*s).and_then(Option::take) else {
                continue;
            };
            for p in &entry.parents {
                if let Some(e) = self.slot_mut(*p) {
                    e.children.retain(|c| c != s);
                }
            }
            for c in &entry.children {
                if let Some(e) = self.slot_mut(*c) {
                    e.parents.retain(|p| p != s);
                }
            }
            for input in &entry.tx.input {
                if self.spent_by.get(&input.previous_output) == Some(s) {
                    self.spent_by.remove(&input.previous_output);
                }
            }
            for sh in &entry.scripts {
                if let Some(slots) = self.by_script.get_mut(sh) {
                    slots.remove(s);
                    if slots.is_empty() {
                        self.by_script.remove(sh);
                    }
                }
            }
            self.by_txid.remove(&entry.txid);
            self.by_wtxid.remove(&entry.wtxid);
            self.total_vsize = self.total_vsize.saturating_sub(entry.own.vsize);
            self.total_size = self.total_size.saturating_sub(entry.size);
            self.total_fee = self.total_fee.saturating_sub(entry.own.fee);
            self.free.push(*s);
        }
        self.sequence += 1;
    }

    /// Evicts the packages with the lowest descendant score (the larger of a transaction's
    /// own feerate and its descendant package's) until [`Mempool::usage`] fits the bound,
    /// raising the rolling minimum feerate above each evicted package's. Returns the evicted
    /// txids.
    fn trim(&mut self) -> Vec<Txid> {
        let mut evicted = Vec::new();
        while self.usage() > self.config.max_bytes {
            let worst = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(s, e)| e.as_ref().map(|e| (s, e)))
                .map(|(s, e)| {
                    let (fee, vsize) =
                        if feerate_gt(e.desc.fee, e.desc.vsize, e.own.fee, e.own.vsize) {
                            (e.desc.fee, e.desc.vsize)
                        } else {
                            (e.own.fee, e.own.vsize)
                        };
                    (s, fee, vsize, e.seq)
                })
                .min_by(|a, b| {
                    let ab = u128::from(a.1) * u128::from(b.2.max(1));
                    let ba = u128::from(b.1) * u128::from(a.2.max(1));
                    ab.cmp(&ba).then(b.3.cmp(&a.3))
                });
            let Some((slot, fee, vsize, _)) = worst else {
                break;
            };
            let rate = (u128::from(fee) * 1000 / u128::from(vsize.max(1))) as u64;
            self.min_feerate = self
                .min_feerate
                .max(rate + self.config.incremental_relay_feerate);
            let package = self.descendants_of(&[slot]);
            evicted.extend(package.iter().filter_map(|s| self.slot(*s).map(|e| e.txid)));
            self.remove_set(&package);
        }
        evicted
    }

    // ---- following the chain ----

    /// Brings the pool in step with the chain's active tip (see the module docs). Called by
    /// every method that takes the chain; call it after submitting blocks directly to the
    /// chain.
    pub fn sync(&mut self, chain: &RegtestChain) -> SyncReport {
        let now = chain.tip();
        let new_tip = MempoolTip {
            hash: now.hash,
            height: now.height,
            median_time_past: now.median_time_past,
        };
        let mut report = SyncReport::default();
        let Some(old) = self.tip else {
            self.tip = Some(new_tip);
            return report;
        };
        if old.hash == new_tip.hash {
            return report;
        }
        // Walk the old tip back to the active chain.
        let mut disconnected: Vec<BlockHash> = Vec::new();
        let mut cursor = old.hash;
        let fork_height = loop {
            match chain.header(&cursor) {
                Some(info) if info.in_active_chain => break Some(info.height),
                Some(info) => {
                    disconnected.push(cursor);
                    cursor = info.header.prev_blockhash;
                }
                None => break None,
            }
        };
        let connected: Option<Vec<Block>> = fork_height.and_then(|f| {
            (f.saturating_add(1)..=new_tip.height)
                .map(|h| chain.block_hash(h).and_then(|hash| chain.block(&hash)))
                .collect()
        });
        report.disconnected = disconnected.len();
        report.connected = connected.as_ref().map_or(0, Vec::len);
        self.tip = Some(new_tip);
        self.min_feerate /= 2;
        if self.min_feerate < self.config.incremental_relay_feerate / 2 {
            self.min_feerate = 0;
        }
        match connected {
            Some(blocks) if disconnected.is_empty() => {
                for block in &blocks {
                    self.remove_for_block(block, &mut report);
                }
            }
            _ => self.rebuild(chain, &disconnected, &mut report),
        }
        self.sequence += 1;
        report
    }

    /// Removes a connected block's transactions, then everything conflicting with it.
    fn remove_for_block(&mut self, block: &Block, report: &mut SyncReport) {
        let mut mined: Vec<usize> = Vec::new();
        let mut block_txids: HashSet<Txid> = HashSet::new();
        for tx in &block.txdata {
            let txid = tx.compute_txid();
            block_txids.insert(txid);
            if let Some(s) = self.by_txid.get(&txid) {
                mined.push(*s);
            }
        }
        report.confirmed += mined.len();
        self.remove_set(&mined);
        let mut conflicts: Vec<usize> = Vec::new();
        for tx in block.txdata.iter().filter(|t| !t.is_coinbase()) {
            for input in &tx.input {
                if let Some(s) = self.spent_by.get(&input.previous_output) {
                    if self
                        .slot(*s)
                        .is_some_and(|e| !block_txids.contains(&e.txid))
                    {
                        conflicts.push(*s);
                    }
                }
            }
        }
        let doomed = self.descendants_of(&conflicts);
        report
            .dropped
            .extend(doomed.iter().filter_map(|s| self.slot(*s).map(|e| e.txid)));
        self.remove_set(&doomed);
    }

    /// Rebuilds the pool after a reorg: disconnected transactions first (oldest block
    /// first), then the previous pool in arrival order.
    fn rebuild(
        &mut self,
        chain: &RegtestChain,
        disconnected: &[BlockHash],
        report: &mut SyncReport,
    ) {
        let mut old: Vec<(u64, Arc<Transaction>)> =
            self.entries().map(|e| (e.seq, Arc::clone(&e.tx))).collect();
        old.sort_unstable_by_key(|(seq, _)| *seq);
        let mut resurrected: Vec<Arc<Transaction>> = Vec::new();
        for hash in disconnected.iter().rev() {
            if let Some(block) = chain.block(hash) {
                resurrected.extend(
                    block
                        .txdata
                        .into_iter()
                        .filter(|t| !t.is_coinbase())
                        .map(Arc::new),
                );
            }
        }
        self.slots.clear();
        self.free.clear();
        self.by_txid.clear();
        self.by_wtxid.clear();
        self.spent_by.clear();
        self.by_script.clear();
        self.total_vsize = 0;
        self.total_size = 0;
        self.total_fee = 0;
        let mode = Mode {
            test_only: false,
            skip_scripts: true,
            bypass_limits: true,
            no_replace: true,
        };
        for tx in resurrected {
            if self.accept_mode(chain, tx, mode).is_ok() {
                report.readmitted += 1;
            }
        }
        for (_, tx) in old {
            let txid = tx.compute_txid();
            if self.contains(&txid) {
                continue;
            }
            if self.accept_mode(chain, tx, mode).is_err() {
                report.dropped.push(txid);
            }
        }
        report.dropped.extend(self.trim());
    }
}

impl fmt::Display for MempoolTip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at height {}", self.hash, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_up_like_core() {
        assert_eq!(fee_at(1000, 141), 141);
        assert_eq!(fee_at(1500, 141), 212);
        assert_eq!(fee_at(0, 141), 0);
    }

    #[test]
    fn feerate_comparison_is_exact() {
        assert!(feerate_gt(201, 200, 100, 100));
        assert!(!feerate_gt(200, 200, 100, 100));
    }

    #[test]
    fn missing_inputs_read_as_core_test_accept() {
        let r = MempoolReject::new("bad-txns-inputs-missingorspent", "");
        assert_eq!(r.test_accept_reason(), "missing-inputs");
        assert_eq!(r.to_string(), "bad-txns-inputs-missingorspent");
    }
}
