//! Block templates with `getblocktemplate` semantics (BIP-22/23, BIP-141/145).
//!
//! [`BlockTemplate::build`] selects mempool transactions the way Bitcoin Core's
//! `BlockAssembler::addPackageTxs` does: by ancestor feerate, so a high-fee child pulls its
//! low-fee parents in (CPFP); a package enters whole, parents before children; the block's
//! weight (8,000 WU reserved for the coinbase) and sigop cost (400 reserved) stay within
//! consensus limits. When a package is chosen, the ancestor aggregates of its in-mempool
//! descendants are corrected in a lazily-invalidated heap, so the whole selection costs
//! O(n log n + n·d) for n transactions with at most d descendants each — no re-sorting per
//! package.
//!
//! [`BlockTemplate::to_json`] gives Bitcoin Core's `getblocktemplate` result, field for field.
//!
//! The devnet [`crate::Policy::block_target`], when set, is the template's `target` (stricter
//! than what `bits` encodes): a block must meet it to be accepted. `bits` stays regtest's
//! `0x207fffff`, which consensus requires.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, ScriptBuf, Target, Transaction, Txid, Wtxid,
};
use serde_json::{json, Value};

use crate::blockbuilder::{
    block_subsidy, regtest_bits, regtest_target, BlockAssembler, BLOCK_VERSION,
};
use crate::chain::RegtestChain;
use crate::mempool::{Agg, Mempool};

/// Core's `MAX_BLOCK_WEIGHT` (`weightlimit`).
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
/// Core's `MAX_BLOCK_SERIALIZED_SIZE` (`sizelimit`).
pub const MAX_BLOCK_SERIALIZED_SIZE: u64 = 4_000_000;
/// Core's `MAX_BLOCK_SIGOPS_COST` (`sigoplimit`).
pub const MAX_BLOCK_SIGOPS_COST: u64 = 80_000;
/// Weight kept free for the coinbase transaction.
pub const COINBASE_RESERVED_WEIGHT: u64 = 8_000;
/// Sigop cost kept free for the coinbase transaction (Core's miner reserves 400).
pub const COINBASE_RESERVED_SIGOPS: u64 = 400;
/// Core gives up filling a nearly full block after this many packages in a row do not fit.
const MAX_CONSECUTIVE_FAILURES: u32 = 1_000;

/// One transaction of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateTransaction {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Its id (`txid`).
    pub txid: Txid,
    /// Its witness id (`hash`).
    pub wtxid: Wtxid,
    /// The fee it pays (`fee`).
    pub fee: Amount,
    /// Its weight (`weight`).
    pub weight: u64,
    /// Its sigop cost (`sigops`).
    pub sigops: u64,
    /// 1-based positions in the template's list of the transactions it spends from
    /// (`depends`).
    pub depends: Vec<usize>,
}

/// A block template (`getblocktemplate`'s answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// Block version (`0x20000000`).
    pub version: i32,
    /// The block to build on.
    pub previous_block_hash: BlockHash,
    /// The selected transactions, parents before children.
    pub transactions: Vec<TemplateTransaction>,
    /// What the coinbase may pay: subsidy plus the transactions' fees.
    pub coinbase_value: Amount,
    /// The witness commitment output script for these transactions, when any has witness
    /// data (the coinbase then carries a zero witness reserved value).
    pub default_witness_commitment: Option<ScriptBuf>,
    /// The target the block hash must meet: the devnet policy target when set (stricter
    /// than `bits`), otherwise what `bits` encodes.
    pub target: Target,
    /// The header's compact target (regtest's `0x207fffff`).
    pub bits: CompactTarget,
    /// The header time to use: the later of now and `mintime`.
    pub cur_time: u32,
    /// The earliest valid header time (median time past of the tip, plus one).
    pub min_time: u32,
    /// The new block's height.
    pub height: u32,
    /// Long-poll id: the tip hash and the mempool's change counter.
    pub longpollid: String,
    /// `sigoplimit`.
    pub sigop_limit: u64,
    /// `sizelimit`.
    pub size_limit: u64,
    /// `weightlimit`.
    pub weight_limit: u64,
}

/// A heap key: a slot's modified ancestor package, best feerate first, then earliest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    fee: u64,
    vsize: u64,
    seq: u64,
    slot: usize,
    version: u32,
}

impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> Ordering {
        let a = u128::from(self.fee) * u128::from(o.vsize.max(1));
        let b = u128::from(o.fee) * u128::from(self.vsize.max(1));
        a.cmp(&b).then_with(|| o.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Chooses mempool slots for a block, in block order (see the module docs).
fn select(mempool: &Mempool, min_feerate: u64) -> Vec<usize> {
    let slots = mempool.slots();
    let n = slots.len();
    let mut in_block = vec![false; n];
    let mut failed = vec![false; n];
    let mut modified: Vec<Option<Agg>> = vec![None; n];
    let mut version = vec![0u32; n];
    let mut stamp = vec![0u32; n];
    let mut cur_stamp = 0u32;

    let mut order: Vec<usize> = (0..n).filter(|s| slots[*s].is_some()).collect();
    order.sort_by(|a, b| match (&slots[*a], &slots[*b]) {
        (Some(x), Some(y)) => {
            let ka = Candidate {
                fee: x.anc.fee,
                vsize: x.anc.vsize,
                seq: x.seq,
                slot: *a,
                version: 0,
            };
            let kb = Candidate {
                fee: y.anc.fee,
                vsize: y.anc.vsize,
                seq: y.seq,
                slot: *b,
                version: 0,
            };
            kb.cmp(&ka)
        }
        _ => Ordering::Equal,
    });

    let mut heap: BinaryHeap<Candidate> = BinaryHeap::new();
    let mut selected: Vec<usize> = Vec::new();
    let mut weight = COINBASE_RESERVED_WEIGHT;
    let mut sigops = COINBASE_RESERVED_SIGOPS;
    let mut cursor = 0usize;
    let mut failures = 0u32;
    let mut package: Vec<usize> = Vec::new();
    let mut queue: Vec<usize> = Vec::new();

    loop {
        while cursor < order.len() {
            let s = order[cursor];
            if in_block[s] || failed[s] || modified[s].is_some() {
                cursor += 1;
            } else {
                break;
            }
        }
        while let Some(top) = heap.peek() {
            let stale = in_block[top.slot]
                || failed[top.slot]
                || modified[top.slot].is_none()
                || version[top.slot] != top.version;
            if stale {
                heap.pop();
            } else {
                break;
            }
        }
        let from_static = order.get(cursor).and_then(|s| {
            slots[*s].as_ref().map(|e| Candidate {
                fee: e.anc.fee,
                vsize: e.anc.vsize,
                seq: e.seq,
                slot: *s,
                version: 0,
            })
        });
        let from_heap = heap.peek().copied();
        let (cand, agg, is_heap) = match (from_static, from_heap) {
            (None, None) => break,
            (Some(s), None) => (s, slots[s.slot].as_ref().map(|e| e.anc), false),
            (None, Some(h)) => (h, modified[h.slot], true),
            (Some(s), Some(h)) => {
                if h > s {
                    (h, modified[h.slot], true)
                } else {
                    (s, slots[s.slot].as_ref().map(|e| e.anc), false)
                }
            }
        };
        if is_heap {
            heap.pop();
            modified[cand.slot] = None;
        } else {
            cursor += 1;
        }
        let Some(agg) = agg else {
            continue;
        };
        // Sorted by feerate: nothing after this pays the block minimum.
        if agg.fee < (u128::from(min_feerate) * u128::from(agg.vsize)).div_ceil(1000) as u64 {
            break;
        }
        if weight + agg.weight > MAX_BLOCK_WEIGHT || sigops + agg.sigops > MAX_BLOCK_SIGOPS_COST {
            if is_heap {
                failed[cand.slot] = true;
            }
            failures += 1;
            if failures > MAX_CONSECUTIVE_FAILURES
                && weight > MAX_BLOCK_WEIGHT - COINBASE_RESERVED_WEIGHT / 2
            {
                break;
            }
            continue;
        }
        failures = 0;

        // The package: the candidate and its ancestors not yet in the block.
        cur_stamp = cur_stamp.wrapping_add(1);
        package.clear();
        queue.clear();
        queue.push(cand.slot);
        stamp[cand.slot] = cur_stamp;
        while let Some(s) = queue.pop() {
            package.push(s);
            if let Some(e) = &slots[s] {
                for p in &e.parents {
                    if !in_block[*p] && stamp[*p] != cur_stamp {
                        stamp[*p] = cur_stamp;
                        queue.push(*p);
                    }
                }
            }
        }
        // Fewer ancestors first is a topological order.
        package.sort_by_key(|s| slots[*s].as_ref().map_or((0, 0), |e| (e.anc.count, e.seq)));
        for s in &package {
            in_block[*s] = true;
            selected.push(*s);
            if let Some(e) = &slots[*s] {
                weight += e.own.weight;
                sigops += e.own.sigops;
            }
        }
        // Correct the ancestor aggregates of what descends from the package.
        for s in &package {
            let Some(own) = slots[*s].as_ref().map(|e| e.own) else {
                continue;
            };
            cur_stamp = cur_stamp.wrapping_add(1);
            queue.clear();
            queue.push(*s);
            stamp[*s] = cur_stamp;
            while let Some(x) = queue.pop() {
                let Some(e) = &slots[x] else {
                    continue;
                };
                for c in &e.children {
                    if stamp[*c] == cur_stamp {
                        continue;
                    }
                    stamp[*c] = cur_stamp;
                    queue.push(*c);
                    if in_block[*c] {
                        continue;
                    }
                    let Some(ce) = &slots[*c] else {
                        continue;
                    };
                    let m = modified[*c].get_or_insert(ce.anc);
                    m.sub(&own);
                    version[*c] = version[*c].wrapping_add(1);
                    if !failed[*c] {
                        heap.push(Candidate {
                            fee: m.fee,
                            vsize: m.vsize,
                            seq: ce.seq,
                            slot: *c,
                            version: version[*c],
                        });
                    }
                }
            }
        }
    }
    selected
}

impl BlockTemplate {
    /// The template for the block after the chain's tip, from `mempool`, at time `now` (unix
    /// seconds).
    ///
    /// The mempool should be in step with the chain ([`Mempool::sync`]); if its tip differs
    /// from the chain's, the template carries no transactions rather than ones that may no
    /// longer be valid.
    pub fn build(chain: &RegtestChain, mempool: &Mempool, now: u64) -> BlockTemplate {
        let tip = chain.tip();
        let height = tip.height.saturating_add(1);
        let min_time = tip.median_time_past.saturating_add(1);
        let cur_time = u32::try_from(now).unwrap_or(u32::MAX).max(min_time);
        let synced = mempool.tip().is_some_and(|t| t.hash == tip.hash);
        let chosen = if synced {
            select(mempool, mempool.config().min_relay_feerate)
        } else {
            Vec::new()
        };
        let slots = mempool.slots();
        let position: HashMap<usize, usize> = chosen
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i + 1))
            .collect();
        let mut transactions = Vec::with_capacity(chosen.len());
        let mut fees = Amount::ZERO;
        let mut witness = false;
        for s in &chosen {
            let Some(e) = slots.get(*s).and_then(Option::as_ref) else {
                continue;
            };
            let mut depends: Vec<usize> = e
                .parents
                .iter()
                .filter_map(|p| position.get(p).copied())
                .collect();
            depends.sort_unstable();
            fees = fees
                .checked_add(Amount::from_sat(e.own.fee))
                .unwrap_or(fees);
            witness |= e.tx.input.iter().any(|i| !i.witness.is_empty());
            transactions.push(TemplateTransaction {
                tx: Arc::clone(&e.tx),
                txid: e.txid,
                wtxid: e.wtxid,
                fee: Amount::from_sat(e.own.fee),
                weight: e.own.weight,
                sigops: e.own.sigops,
                depends,
            });
        }
        let default_witness_commitment = if witness {
            Some(crate::blockbuilder::witness_commitment_script(
                transactions.iter().map(|t| t.wtxid),
            ))
        } else {
            None
        };
        let target = chain.policy().block_target.unwrap_or_else(regtest_target);
        BlockTemplate {
            version: BLOCK_VERSION.to_consensus(),
            previous_block_hash: tip.hash,
            transactions,
            coinbase_value: block_subsidy(height)
                .checked_add(fees)
                .unwrap_or(Amount::MAX_MONEY),
            default_witness_commitment,
            target,
            bits: regtest_bits(),
            cur_time,
            min_time,
            height,
            longpollid: format!("{}{}", tip.hash, mempool.sequence()),
            sigop_limit: MAX_BLOCK_SIGOPS_COST,
            size_limit: MAX_BLOCK_SERIALIZED_SIZE,
            weight_limit: MAX_BLOCK_WEIGHT,
        }
    }

    /// The total fees of the template's transactions.
    pub fn fees(&self) -> Amount {
        self.transactions
            .iter()
            .map(|t| t.fee)
            .fold(Amount::ZERO, |a, f| a.checked_add(f).unwrap_or(a))
    }

    /// A [`BlockAssembler`] for this template paying `coinbasevalue` to `payout_script`, at
    /// `curtime`.
    pub fn assembler(&self, payout_script: ScriptBuf) -> BlockAssembler {
        let mut a = BlockAssembler::new(
            self.previous_block_hash,
            self.height,
            self.cur_time,
            payout_script,
        );
        a.coinbase_value = self.coinbase_value;
        a.bits = self.bits;
        a
    }

    /// The template's transactions, in order.
    pub fn transaction_list(&self) -> Vec<Transaction> {
        self.transactions.iter().map(|t| (*t.tx).clone()).collect()
    }

    /// The block of this template paying `payout_script`, with `coinbase_extra` after the
    /// height in the coinbase; the nonce is 0 (grind it next).
    pub fn block(&self, payout_script: ScriptBuf, coinbase_extra: &[u8]) -> Block {
        let mut a = self.assembler(payout_script);
        a.coinbase_extra = coinbase_extra.to_vec();
        a.assemble(self.transaction_list())
    }

    /// Bitcoin Core's `getblocktemplate` result.
    pub fn to_json(&self) -> Value {
        let txs: Vec<Value> = self
            .transactions
            .iter()
            .map(|t| {
                json!({
                    "data": serialize_hex(&*t.tx),
                    "txid": t.txid.to_string(),
                    "hash": t.wtxid.to_string(),
                    "depends": t.depends,
                    "fee": t.fee.to_sat(),
                    "sigops": t.sigops,
                    "weight": t.weight,
                })
            })
            .collect();
        let mut v = json!({
            "capabilities": ["proposal"],
            "version": self.version,
            "rules": ["csv", "!segwit", "taproot"],
            "vbavailable": {},
            "vbrequired": 0,
            "previousblockhash": self.previous_block_hash.to_string(),
            "transactions": txs,
            "coinbaseaux": {},
            "coinbasevalue": self.coinbase_value.to_sat(),
            "longpollid": self.longpollid,
            "target": target_hex(self.target),
            "mintime": self.min_time,
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "00000000ffffffff",
            "sigoplimit": self.sigop_limit,
            "sizelimit": self.size_limit,
            "weightlimit": self.weight_limit,
            "curtime": self.cur_time,
            "bits": format!("{:08x}", self.bits.to_consensus()),
            "height": self.height,
        });
        if let (Some(commitment), Some(obj)) = (&self.default_witness_commitment, v.as_object_mut())
        {
            obj.insert(
                "default_witness_commitment".to_owned(),
                Value::String(hex(commitment.as_bytes())),
            );
        }
        v
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A target as 64 hex digits, most significant first (`getblocktemplate`'s `target`).
pub fn target_hex(target: Target) -> String {
    hex(&target.to_be_bytes())
}
