//! Assembling regtest blocks from a list of transactions: the coinbase (BIP34 height, payout,
//! witness commitment), the merkle root, and nonce grinding.
//!
//! This is what `generatetoaddress` and block templates build on, and what tests use to make
//! blocks. It checks nothing: the chain ([`crate::RegtestChain::submit_block`]) judges.

use bitcoin::blockdata::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{
    absolute::LockTime, transaction, Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf,
    Sequence, Target, Transaction, TxIn, TxMerkleNode, TxOut, Witness,
};

/// Regtest's compact target (`0x207fffff`) in consensus encoding; every regtest block must
/// carry it, as regtest never retargets. About one hash in two meets it.
pub const REGTEST_BITS: u32 = 0x207f_ffff;

/// [`REGTEST_BITS`] as a [`CompactTarget`].
pub fn regtest_bits() -> CompactTarget {
    CompactTarget::from_consensus(REGTEST_BITS)
}

/// The target [`REGTEST_BITS`] encodes (regtest's proof-of-work limit).
pub fn regtest_target() -> Target {
    Target::from_compact(regtest_bits())
}

/// Regtest's subsidy halving interval (`nSubsidyHalvingInterval`).
pub const HALVING_INTERVAL: u32 = 150;

/// The block version this builder uses (BIP9 top bits, no signalling), as Core's miner does.
pub const BLOCK_VERSION: Version = Version::from_consensus(0x2000_0000);

/// The block subsidy at `height` on regtest: 50 BTC halved every 150 blocks.
pub fn block_subsidy(height: u32) -> Amount {
    let halvings = height / HALVING_INTERVAL;
    if halvings >= 64 {
        return Amount::ZERO;
    }
    Amount::from_sat((50 * 100_000_000u64) >> halvings)
}

/// The coinbase scriptSig for `height`: the BIP34 height push, then `extra` (an extra nonce,
/// a tag). Padded with `OP_0` when shorter than the 2 bytes consensus requires (heights 1–16
/// encode as one opcode).
pub fn coinbase_script_sig(height: u32, extra: &[u8]) -> ScriptBuf {
    let mut builder = Builder::new().push_int(i64::from(height));
    if !extra.is_empty() {
        let mut push = PushBytesBuf::new();
        // At most 98 bytes keep the scriptSig within the 100-byte limit.
        let take = &extra[..extra.len().min(90)];
        if push.extend_from_slice(take).is_ok() {
            builder = builder.push_slice(push);
        }
    }
    let mut script = builder.into_script();
    if script.len() < 2 {
        script = Builder::from(script.into_bytes())
            .push_opcode(bitcoin::opcodes::OP_0)
            .into_script();
    }
    script
}

/// The witness commitment script (`OP_RETURN aa21a9ed <commitment>`) for a block whose
/// non-coinbase transactions have `wtxids` (the coinbase counts as zero), with a zero witness
/// reserved value.
pub fn witness_commitment_script(wtxids: impl IntoIterator<Item = bitcoin::Wtxid>) -> ScriptBuf {
    let hashes = std::iter::once(bitcoin::Wtxid::all_zeros())
        .chain(wtxids)
        .map(|w| w.to_raw_hash());
    let root = bitcoin::merkle_tree::calculate_root(hashes)
        .map(bitcoin::WitnessMerkleNode::from_raw_hash)
        .unwrap_or_else(|| bitcoin::WitnessMerkleNode::from_byte_array([0; 32]));
    let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
    let mut bytes = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    bytes.extend_from_slice(commitment.as_byte_array());
    ScriptBuf::from_bytes(bytes)
}

/// The witness commitment output for a block of `txs` (coinbase first).
pub fn witness_commitment_output(txs: &[Transaction]) -> TxOut {
    TxOut {
        value: Amount::ZERO,
        script_pubkey: witness_commitment_script(
            txs.iter().skip(1).map(Transaction::compute_wtxid),
        ),
    }
}

/// Whether any of `txs` carries witness data (then the block needs a witness commitment).
pub fn has_witness(txs: &[Transaction]) -> bool {
    txs.iter()
        .any(|tx| tx.input.iter().any(|i| !i.witness.is_empty()))
}

/// Everything about a block except its transactions: where it goes and who is paid.
#[derive(Clone, Debug)]
pub struct BlockAssembler {
    /// The parent block.
    pub prev_blockhash: BlockHash,
    /// The new block's height (committed in the coinbase, BIP34).
    pub height: u32,
    /// The header time (must exceed the parent's median time past).
    pub time: u32,
    /// The compact target; [`REGTEST_BITS`] on regtest.
    pub bits: CompactTarget,
    /// The header version.
    pub version: Version,
    /// The script the coinbase pays.
    pub payout_script: ScriptBuf,
    /// What the coinbase pays: subsidy plus the transactions' fees.
    pub coinbase_value: Amount,
    /// Extra bytes after the height in the coinbase scriptSig (an extra nonce or tag).
    pub coinbase_extra: Vec<u8>,
}

impl BlockAssembler {
    /// An assembler for the block after `prev_blockhash` at `height`, paying the bare subsidy
    /// to `payout_script` (set [`BlockAssembler::coinbase_value`] to add fees).
    pub fn new(
        prev_blockhash: BlockHash,
        height: u32,
        time: u32,
        payout_script: ScriptBuf,
    ) -> Self {
        BlockAssembler {
            prev_blockhash,
            height,
            time,
            bits: regtest_bits(),
            version: BLOCK_VERSION,
            payout_script,
            coinbase_value: block_subsidy(height),
            coinbase_extra: Vec::new(),
        }
    }

    /// The coinbase transaction (without the witness commitment).
    pub fn coinbase(&self) -> Transaction {
        Transaction {
            version: transaction::Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: coinbase_script_sig(self.height, &self.coinbase_extra),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: self.coinbase_value,
                script_pubkey: self.payout_script.clone(),
            }],
        }
    }

    /// The block of the coinbase followed by `txs`, with a witness commitment (and the
    /// coinbase's zero witness reserved value) when any transaction has witness data, and the
    /// merkle root set. The nonce is 0: call [`grind`] next.
    pub fn assemble(&self, txs: Vec<Transaction>) -> Block {
        let mut coinbase = self.coinbase();
        let segwit = has_witness(&txs);
        let mut all = Vec::with_capacity(txs.len() + 1);
        all.push(coinbase.clone());
        all.extend(txs);
        if segwit {
            let commitment = witness_commitment_output(&all);
            coinbase.output.push(commitment);
            coinbase.input[0].witness = Witness::from_slice(&[[0u8; 32]]);
            all[0] = coinbase;
        }
        let mut block = Block {
            header: Header {
                version: self.version,
                prev_blockhash: self.prev_blockhash,
                merkle_root: TxMerkleNode::all_zeros(),
                time: self.time,
                bits: self.bits,
                nonce: 0,
            },
            txdata: all,
        };
        block.header.merkle_root = block
            .compute_merkle_root()
            .unwrap_or_else(TxMerkleNode::all_zeros);
        block
    }
}

/// Recomputes the header's merkle root from the transactions (after editing them).
pub fn update_merkle_root(block: &mut Block) {
    block.header.merkle_root = block
        .compute_merkle_root()
        .unwrap_or_else(TxMerkleNode::all_zeros);
}

/// Increments the nonce from its current value until the header's hash meets `target`,
/// trying at most `max_tries` nonces. Returns whether it succeeded (on regtest's target about
/// two tries are needed).
pub fn grind(block: &mut Block, target: Target, max_tries: u64) -> bool {
    for _ in 0..max_tries {
        if target.is_met_by(block.block_hash()) {
            return true;
        }
        block.header.nonce = block.header.nonce.wrapping_add(1);
    }
    target.is_met_by(block.block_hash())
}

/// Increments the nonce until the header's hash does *not* meet `target` (for making
/// `high-hash` blocks in tests and benchmarks). Returns whether it succeeded.
pub fn grind_above(block: &mut Block, target: Target, max_tries: u64) -> bool {
    for _ in 0..max_tries {
        if !target.is_met_by(block.block_hash()) {
            return true;
        }
        block.header.nonce = block.header.nonce.wrapping_add(1);
    }
    !target.is_met_by(block.block_hash())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_halves_every_150_blocks() {
        assert_eq!(block_subsidy(0), Amount::from_btc(50.0).unwrap());
        assert_eq!(block_subsidy(149), Amount::from_btc(50.0).unwrap());
        assert_eq!(block_subsidy(150), Amount::from_btc(25.0).unwrap());
        assert_eq!(block_subsidy(150 * 64), Amount::ZERO);
    }

    #[test]
    fn coinbase_script_sig_is_at_least_two_bytes() {
        for h in [0u32, 1, 16, 17, 1000] {
            assert!(coinbase_script_sig(h, &[]).len() >= 2, "height {h}");
        }
        assert_eq!(coinbase_script_sig(1, &[]).as_bytes(), &[0x51, 0x00]);
        assert_eq!(coinbase_script_sig(17, &[]).as_bytes(), &[0x01, 17]);
    }
}
