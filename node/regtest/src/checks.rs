//! Bitcoin Core's block checks, re-done only to *name* the reason a block fails.
//!
//! The kernel judges every block but exposes only a result category, not Core's reject reason.
//! These functions mirror `CheckBlock`, `ContextualCheckBlockHeader`, `ContextualCheckBlock`
//! and the input/amount part of `ConnectBlock` (in that order, regtest parameters) and return
//! Core's reason string for the first failure. They never make a block valid: a block that
//! passes them still has to be connected by the kernel.

use std::collections::{HashMap, HashSet};

use bitcoin::blockdata::constants::COINBASE_MATURITY;
use bitcoin::consensus::encode::VarInt;
use bitcoin::hashes::{sha256d, Hash, HashEngine};
use bitcoin::script::Builder;
use bitcoin::{Amount, Block, CompactTarget, OutPoint, Target, Transaction, TxMerkleNode, Txid};

use crate::blockbuilder::{block_subsidy, regtest_bits, regtest_target};
use crate::index::{is_unspendable, Coin};

/// Core's `MAX_BLOCK_WEIGHT`.
pub(crate) const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
/// Core's `MAX_BLOCK_SIGOPS_COST`.
const MAX_BLOCK_SIGOPS_COST: u64 = 80_000;
/// Core's `WITNESS_SCALE_FACTOR`.
const WITNESS_SCALE_FACTOR: u64 = 4;
/// Core's `MAX_FUTURE_BLOCK_TIME` (two hours).
const MAX_FUTURE_BLOCK_TIME: u64 = 2 * 60 * 60;
/// Core's `MAX_MONEY` in satoshis.
const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

/// A reject reason, exactly as Bitcoin Core's `BlockValidationState::GetRejectReason` has it.
pub(crate) type Reason = String;

fn reject<T>(reason: &str) -> Result<T, Reason> {
    Err(reason.to_owned())
}

/// Decodes compact `bits` like Core's `DeriveTarget`: `None` when negative, zero, overflowing
/// or above regtest's pow limit.
fn derive_target(bits: CompactTarget) -> Option<Target> {
    let bits = bits.to_consensus();
    let size = bits >> 24;
    let word = bits & 0x007f_ffff;
    let negative = word != 0 && (bits & 0x0080_0000) != 0;
    let overflow =
        word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    let target = Target::from_compact(CompactTarget::from_consensus(bits));
    let limit = regtest_target();
    if negative || overflow || target == Target::ZERO || target > limit {
        return None;
    }
    Some(target)
}

/// Core's `ComputeMerkleRoot`, with its mutation flag (two identical siblings at any level).
fn merkle_root(mut hashes: Vec<[u8; 32]>) -> ([u8; 32], bool) {
    let mut mutated = false;
    if hashes.is_empty() {
        return ([0; 32], false);
    }
    while hashes.len() > 1 {
        for pair in hashes.chunks_exact(2) {
            if pair[0] == pair[1] {
                mutated = true;
            }
        }
        if hashes.len() % 2 == 1 {
            if let Some(last) = hashes.last().copied() {
                hashes.push(last);
            }
        }
        hashes = hashes
            .chunks_exact(2)
            .map(|pair| {
                let mut engine = sha256d::Hash::engine();
                engine.input(&pair[0]);
                engine.input(&pair[1]);
                sha256d::Hash::from_engine(engine).to_byte_array()
            })
            .collect();
    }
    (hashes[0], mutated)
}

/// Core's `CheckTransaction`.
fn check_transaction(tx: &Transaction) -> Result<(), Reason> {
    if tx.input.is_empty() {
        return reject("bad-txns-vin-empty");
    }
    if tx.output.is_empty() {
        return reject("bad-txns-vout-empty");
    }
    if (tx.base_size() as u64) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT {
        return reject("bad-txns-oversize");
    }
    let mut total: u64 = 0;
    for out in &tx.output {
        let value = out.value.to_sat();
        if value > i64::MAX as u64 {
            return reject("bad-txns-vout-negative");
        }
        if value > MAX_MONEY {
            return reject("bad-txns-vout-toolarge");
        }
        total = total.saturating_add(value);
        if total > MAX_MONEY {
            return reject("bad-txns-txouttotal-toolarge");
        }
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    for input in &tx.input {
        if !seen.insert(input.previous_output) {
            return reject("bad-txns-inputs-duplicate");
        }
    }
    if tx.is_coinbase() {
        let len = tx.input[0].script_sig.len();
        if !(2..=100).contains(&len) {
            return reject("bad-cb-length");
        }
    } else if tx.input.iter().any(|i| i.previous_output.is_null()) {
        return reject("bad-txns-prevout-null");
    }
    Ok(())
}

fn legacy_sigops(tx: &Transaction) -> u64 {
    let inputs: usize = tx
        .input
        .iter()
        .map(|i| i.script_sig.count_sigops_legacy())
        .sum();
    let outputs: usize = tx
        .output
        .iter()
        .map(|o| o.script_pubkey.count_sigops_legacy())
        .sum();
    (inputs + outputs) as u64
}

/// Core's `CheckBlock` (context-free), with the devnet `policy_target` checked right after
/// the header's own proof of work.
pub(crate) fn check_block(block: &Block, policy_target: Option<Target>) -> Result<(), Reason> {
    let hash = block.block_hash();
    match derive_target(block.header.bits) {
        Some(target) if target.is_met_by(hash) => {}
        _ => return reject("high-hash"),
    }
    if let Some(policy) = policy_target {
        if !policy.is_met_by(hash) {
            return reject("high-hash");
        }
    }
    let txids: Vec<[u8; 32]> = block
        .txdata
        .iter()
        .map(|tx| tx.compute_txid().to_byte_array())
        .collect();
    let (root, mutated) = merkle_root(txids);
    if TxMerkleNode::from_byte_array(root) != block.header.merkle_root {
        return reject("bad-txnmrklroot");
    }
    if mutated {
        return reject("bad-txns-duplicate");
    }
    let n = block.txdata.len() as u64;
    let stripped: u64 = 80
        + VarInt(n).size() as u64
        + block
            .txdata
            .iter()
            .map(|tx| tx.base_size() as u64)
            .sum::<u64>();
    if n == 0
        || n * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
        || stripped * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
    {
        return reject("bad-blk-length");
    }
    if !block.txdata[0].is_coinbase() {
        return reject("bad-cb-missing");
    }
    if block.txdata.iter().skip(1).any(Transaction::is_coinbase) {
        return reject("bad-cb-multiple");
    }
    for tx in &block.txdata {
        check_transaction(tx)?;
    }
    let sigops: u64 = block.txdata.iter().map(legacy_sigops).sum();
    if sigops * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST {
        return reject("bad-blk-sigops");
    }
    Ok(())
}

/// What the contextual checks need to know about the block's place in the chain.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockContext {
    /// Height the block would have.
    pub height: u32,
    /// Median time past of its parent.
    pub prev_mtp: u32,
    /// The current time (unix seconds).
    pub now: u64,
}

/// Index of the witness commitment output (Core's `GetWitnessCommitmentIndex`).
pub(crate) fn witness_commitment_index(coinbase: &Transaction) -> Option<usize> {
    coinbase.output.iter().rposition(|o| {
        let s = o.script_pubkey.as_bytes();
        s.len() >= 38 && s[..6] == [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]
    })
}

/// Core's `ContextualCheckBlockHeader` then `ContextualCheckBlock`, regtest parameters
/// (BIP34/65/66, CSV and segwit active from height 1, no retargeting).
pub(crate) fn contextual_check(block: &Block, ctx: &BlockContext) -> Result<(), Reason> {
    let header = &block.header;
    if header.bits != regtest_bits() {
        return reject("bad-diffbits");
    }
    if header.time <= ctx.prev_mtp {
        return reject("time-too-old");
    }
    if u64::from(header.time) > ctx.now.saturating_add(MAX_FUTURE_BLOCK_TIME) {
        return reject("time-too-new");
    }
    let version = header.version.to_consensus();
    if ctx.height >= 1 && version < 4 {
        return Err(format!("bad-version(0x{:08x})", version));
    }
    for tx in &block.txdata {
        if !p2share_consensus::validation::is_final(tx, ctx.height, ctx.prev_mtp) {
            return reject("bad-txns-nonfinal");
        }
    }
    let expect = Builder::new().push_int(i64::from(ctx.height)).into_script();
    let script_sig = block.txdata[0].input[0].script_sig.as_bytes();
    if !script_sig.starts_with(expect.as_bytes()) {
        return reject("bad-cb-height");
    }
    let coinbase = &block.txdata[0];
    match witness_commitment_index(coinbase) {
        Some(pos) => {
            let witness = &coinbase.input[0].witness;
            let nonce = match witness.nth(0) {
                Some(n) if witness.len() == 1 && n.len() == 32 => n,
                _ => return reject("bad-witness-nonce-size"),
            };
            let Some(root) = block.witness_root() else {
                return reject("bad-witness-merkle-match");
            };
            let mut engine = sha256d::Hash::engine();
            engine.input(root.as_byte_array());
            engine.input(nonce);
            let commitment = sha256d::Hash::from_engine(engine);
            if coinbase.output[pos].script_pubkey.as_bytes()[6..38] != commitment[..] {
                return reject("bad-witness-merkle-match");
            }
        }
        None => {
            if block
                .txdata
                .iter()
                .any(|tx| tx.input.iter().any(|i| !i.witness.is_empty()))
            {
                return reject("unexpected-witness");
            }
        }
    }
    if block.weight().to_wu() > MAX_BLOCK_WEIGHT {
        return reject("bad-blk-weight");
    }
    Ok(())
}

/// A UTXO view: a base set plus overlaid changes (spent → `None`, added → `Some`).
pub(crate) struct View<'a> {
    base: &'a HashMap<OutPoint, Coin>,
    overlay: HashMap<OutPoint, Option<Coin>>,
}

impl<'a> View<'a> {
    /// A view of `base`, unchanged.
    pub(crate) fn new(base: &'a HashMap<OutPoint, Coin>) -> View<'a> {
        View {
            base,
            overlay: HashMap::new(),
        }
    }

    /// The coin at `op`, if unspent in this view.
    pub(crate) fn get(&self, op: &OutPoint) -> Option<&Coin> {
        match self.overlay.get(op) {
            Some(entry) => entry.as_ref(),
            None => self.base.get(op),
        }
    }

    /// Marks `op` spent.
    pub(crate) fn remove(&mut self, op: OutPoint) {
        self.overlay.insert(op, None);
    }

    /// Adds (or restores) a coin.
    pub(crate) fn add(&mut self, op: OutPoint, coin: Coin) {
        self.overlay.insert(op, Some(coin));
    }

    /// Applies a block's coin changes (like Core's `UpdateCoins`), returning whether every
    /// input was present.
    pub(crate) fn apply(&mut self, block: &Block, height: u32) -> bool {
        for tx in &block.txdata {
            if !self.apply_tx(tx, tx.compute_txid(), height) {
                return false;
            }
        }
        true
    }

    /// Applies one transaction's coin changes; `false` (view partly changed) if an input is
    /// missing.
    pub(crate) fn apply_tx(&mut self, tx: &Transaction, txid: Txid, height: u32) -> bool {
        let is_coinbase = tx.is_coinbase();
        if !is_coinbase {
            for input in &tx.input {
                if self.get(&input.previous_output).is_none() {
                    return false;
                }
                self.remove(input.previous_output);
            }
        }
        for (vout, out) in tx.output.iter().enumerate() {
            if !is_unspendable(&out.script_pubkey) {
                self.add(
                    OutPoint::new(txid, vout as u32),
                    Coin {
                        output: out.clone(),
                        height,
                        is_coinbase,
                    },
                );
            }
        }
        true
    }
}

/// The input and amount checks of Core's `ConnectBlock` (`CheckTxInputs` per transaction,
/// then the coinbase amount), against `view` positioned at the block's parent.
pub(crate) fn connect_check(block: &Block, height: u32, view: &mut View<'_>) -> Result<(), Reason> {
    let mut fees: u64 = 0;
    for tx in &block.txdata {
        let txid = tx.compute_txid();
        if !tx.is_coinbase() {
            if tx
                .input
                .iter()
                .any(|i| view.get(&i.previous_output).is_none())
            {
                return reject("bad-txns-inputs-missingorspent");
            }
            let mut value_in: u64 = 0;
            for input in &tx.input {
                let Some(coin) = view.get(&input.previous_output) else {
                    return reject("bad-txns-inputs-missingorspent");
                };
                if coin.is_coinbase && height.saturating_sub(coin.height) < COINBASE_MATURITY {
                    return reject("bad-txns-premature-spend-of-coinbase");
                }
                value_in = value_in.saturating_add(coin.output.value.to_sat());
                if coin.output.value.to_sat() > MAX_MONEY || value_in > MAX_MONEY {
                    return reject("bad-txns-inputvalues-outofrange");
                }
            }
            let value_out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
            if value_in < value_out {
                return reject("bad-txns-in-belowout");
            }
            fees = fees.saturating_add(value_in - value_out);
            if fees > MAX_MONEY {
                return reject("bad-txns-accumulated-fee-outofrange");
            }
        }
        if !view.apply_tx(tx, txid, height) {
            return reject("bad-txns-inputs-missingorspent");
        }
    }
    let reward = block_subsidy(height)
        .checked_add(Amount::from_sat(fees))
        .unwrap_or(Amount::MAX_MONEY);
    let coinbase_out: u64 = block.txdata[0]
        .output
        .iter()
        .map(|o| o.value.to_sat())
        .sum();
    if Amount::from_sat(coinbase_out) > reward {
        return reject("bad-cb-amount");
    }
    Ok(())
}

/// Whether every input of `tx` passes Bitcoin Core's script interpreter (all consensus flags)
/// against `spent` (one output per input). `None` when the kernel refuses the data.
pub(crate) fn scripts_pass(tx: &Transaction, spent: &[bitcoin::TxOut]) -> Option<bool> {
    use bitcoinkernel::{
        verify, KernelError, PrecomputedTransactionData, ScriptPubkey, Transaction as KTx,
        TxOut as KTxOut, VERIFY_ALL,
    };
    let ktx = KTx::new(&bitcoin::consensus::encode::serialize(tx)).ok()?;
    let mut scripts = Vec::with_capacity(spent.len());
    for out in spent {
        let script = ScriptPubkey::new(out.script_pubkey.as_bytes()).ok()?;
        let value = i64::try_from(out.value.to_sat()).ok()?;
        scripts.push((script, value));
    }
    let outs: Vec<KTxOut> = scripts.iter().map(|(s, v)| KTxOut::new(s, *v)).collect();
    let data = PrecomputedTransactionData::new(&ktx, &outs).ok()?;
    for (i, (script, value)) in scripts.iter().enumerate() {
        match verify(script, Some(*value), &ktx, i, Some(VERIFY_ALL), &data) {
            Ok(()) => {}
            Err(KernelError::ScriptVerify(_)) => return Some(false),
            Err(_) => return None,
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_target_refuses_bad_compacts() {
        assert!(derive_target(regtest_bits()).is_some());
        assert!(derive_target(CompactTarget::from_consensus(0x1d00_ffff)).is_some());
        // Above the regtest pow limit.
        assert!(derive_target(CompactTarget::from_consensus(0x2100_ffff)).is_none());
        // Negative.
        assert!(derive_target(CompactTarget::from_consensus(0x1d80_ffff)).is_none());
        // Zero.
        assert!(derive_target(CompactTarget::from_consensus(0x1d00_0000)).is_none());
    }

    #[test]
    fn merkle_root_flags_duplicated_siblings() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let c = [3u8; 32];
        let (r3, m3) = merkle_root(vec![a, b, c]);
        let (r4, m4) = merkle_root(vec![a, b, c, c]);
        assert_eq!(r3, r4, "CVE-2012-2459: both lists have the same root");
        assert!(!m3);
        assert!(m4);
    }
}
