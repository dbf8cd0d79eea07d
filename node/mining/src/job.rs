//! The job builder: a Bitcoin template, the sharechain tip and the mempool's selection → an
//! unmined share whose Bitcoin coinbase pays the share the payout rule selects.

use std::time::Instant;

use bitcoin::block::Header as BitcoinHeader;
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::{Block, ScriptBuf, Target, Transaction, TxMerkleNode, Witness};
use p2share_consensus::builder::{build_share, BuildError, WorkTemplate};
use p2share_consensus::chain::ChainState;
use p2share_consensus::pow::decode_compact;
use p2share_consensus::validation::height_push;
use p2share_consensus::Share;
use p2share_mainchain::BlockTemplate;
use p2share_service::unix_now;

/// Bytes of extranonce in the Bitcoin coinbase scriptSig: extranonce1 (4, one per hasher or
/// Stratum connection) ‖ extranonce2 (4, rolled by the hasher or device).
pub const EXTRANONCE_SIZE: usize = 8;

/// Bytes of extranonce1 (the part the job core hands out per hasher or connection).
pub const EXTRANONCE1_SIZE: usize = 4;

/// The version bits hashers may roll (BIP 320's general-purpose bits 13–28, BIP 310's
/// `version-rolling.mask`); a job's version keeps them clear.
pub const VERSION_ROLLING_MASK: u32 = 0x1fff_e000;

/// A unit of work: an unmined share (nonce 0) and the Bitcoin template it was built from.
#[derive(Clone, Debug)]
pub struct MiningJob {
    /// Job id (increasing).
    pub id: u64,
    /// The share, Bitcoin nonce still to find.
    pub share: Share,
    /// The Bitcoin transactions after the coinbase, for a block.
    pub bitcoin_txs: Vec<Transaction>,
    /// The target a share must meet.
    pub share_target: Target,
    /// The target a Bitcoin block must meet (the template's, which may be a devnet policy).
    pub bitcoin_target: Target,
    /// The extranonce in the coinbase.
    pub extranonce: u64,
    /// Bitcoin height of the template.
    pub bitcoin_height: u32,
    /// When it was built.
    pub built: Instant,
    /// The serialized (non-witness) Bitcoin coinbase before its 8 extranonce bytes.
    pub coinb1: Vec<u8>,
    /// The serialized (non-witness) Bitcoin coinbase after its extranonce.
    pub coinb2: Vec<u8>,
    /// The output the payout rule selected when the job was built (`None` while `n = 0`: the
    /// coinbase then pays the sharebase's own script). The coinbase pays its script: checked
    /// once here, so a solution can go to Bitcoin before the sharechain sees its share.
    pub selected: Option<bitcoin::OutPoint>,
    /// The chain's magic (for the share commitment when the job is re-targeted to a payout).
    pub magic: [u8; 4],
    /// The merkle branch of the sharebase (index 0) over the share's other transactions'
    /// wtxids: re-targeting a job to another payout rehashes one leaf, not the whole tree.
    pub sharebase_branch: Vec<TxMerkleNode>,
}

/// Why a job's coinbase cannot be split around its extranonce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the coinbase scriptSig does not hold the extranonce where the job builder put it")]
pub struct SplitError;

/// Bytes of the height push at the start of a coinbase scriptSig: a data push (its length
/// byte and the data) or, for heights up to 16, one opcode.
fn height_push_len(sig: &[u8]) -> Option<usize> {
    let first = *sig.first()?;
    Some(match first {
        0x01..=0x4b => usize::from(first) + 1,
        _ => 1,
    })
}

/// Offset of the extranonce in a coinbase scriptSig (after its height push and push opcode).
fn extranonce_in_sig(sig: &[u8]) -> Option<usize> {
    let height_len = height_push_len(sig)?;
    (sig.get(height_len) == Some(&(EXTRANONCE_SIZE as u8))).then_some(height_len + 1)
}

/// Offset of the extranonce in the non-witness serialization of a coinbase whose scriptSig is
/// `height push ‖ PUSH8 extranonce ‖ …` (as [`build_job`] writes it).
fn extranonce_offset(coinbase: &Transaction) -> Option<usize> {
    let sig = coinbase.input.first()?.script_sig.as_bytes();
    let in_sig = extranonce_in_sig(sig)?;
    let varint = bitcoin::VarInt(sig.len() as u64).size();
    // version, one input, its previous output, the scriptSig's length, then the scriptSig.
    Some(4 + 1 + 36 + varint + in_sig)
}

/// The coinbase's non-witness serialization cut around its extranonce: (coinb1, coinb2).
///
/// # Errors
/// [`SplitError`] when the scriptSig does not have the builder's layout.
pub fn split_coinbase(coinbase: &Transaction) -> Result<(Vec<u8>, Vec<u8>), SplitError> {
    let mut stripped = coinbase.clone();
    for input in &mut stripped.input {
        input.witness = Witness::new();
    }
    let bytes = serialize(&stripped);
    let at = extranonce_offset(coinbase).ok_or(SplitError)?;
    let end = at + EXTRANONCE_SIZE;
    let sig = coinbase
        .input
        .first()
        .map(|i| i.script_sig.as_bytes())
        .unwrap_or_default();
    let in_sig = extranonce_in_sig(sig).ok_or(SplitError)?;
    match (
        bytes.get(at..end),
        sig.get(in_sig..in_sig + EXTRANONCE_SIZE),
    ) {
        (Some(a), Some(b)) if a == b => Ok((bytes[..at].to_vec(), bytes[end..].to_vec())),
        _ => Err(SplitError),
    }
}

/// The merkle root of a coinbase txid folded with `branch` (coinbase at index 0).
pub fn fold_branch(txid: [u8; 32], branch: &[TxMerkleNode]) -> TxMerkleNode {
    let mut acc = txid;
    let mut buf = [0u8; 64];
    for node in branch {
        buf[..32].copy_from_slice(&acc);
        buf[32..].copy_from_slice(node.as_byte_array());
        acc = bitcoin::hashes::sha256d::Hash::hash(&buf).to_byte_array();
    }
    TxMerkleNode::from_byte_array(acc)
}

/// What a hasher found for a job: the header fields it rolled and the extranonce it used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rolled {
    /// extranonce1 ‖ extranonce2.
    pub extranonce: [u8; EXTRANONCE_SIZE],
    /// The header version (the job's, with rolled bits inside [`VERSION_ROLLING_MASK`]).
    pub version: i32,
    /// The header time.
    pub time: u32,
    /// The nonce.
    pub nonce: u32,
}

impl MiningJob {
    /// The Bitcoin coinbase with `extranonce` in its scriptSig (and the witness reserved value
    /// when the template commits to witnesses).
    pub fn coinbase_with(&self, extranonce: &[u8; EXTRANONCE_SIZE]) -> Transaction {
        let mut cb = self.share.head.work.coinbase.clone();
        if let Some(input) = cb.input.first_mut() {
            let mut sig = input.script_sig.to_bytes();
            if let Some(at) = extranonce_in_sig(&sig) {
                if let Some(slot) = sig.get_mut(at..at + EXTRANONCE_SIZE) {
                    slot.copy_from_slice(extranonce);
                }
            }
            input.script_sig = ScriptBuf::from_bytes(sig);
        }
        cb
    }

    /// The header of the job with `extranonce` in the coinbase (nonce 0, the job's version
    /// and time): what a hasher grinds.
    pub fn header_with(&self, extranonce: &[u8; EXTRANONCE_SIZE]) -> BitcoinHeader {
        let mut header = self.share.head.work.header;
        header.merkle_root = self.merkle_root_with(extranonce);
        header.nonce = 0;
        header
    }

    /// The Bitcoin merkle root with `extranonce` in the coinbase, from the split coinbase (no
    /// transaction is rebuilt: this is what a Stratum device computes).
    pub fn merkle_root_with(&self, extranonce: &[u8; EXTRANONCE_SIZE]) -> TxMerkleNode {
        let mut engine = bitcoin::hashes::sha256d::Hash::engine();
        bitcoin::hashes::HashEngine::input(&mut engine, &self.coinb1);
        bitcoin::hashes::HashEngine::input(&mut engine, extranonce);
        bitcoin::hashes::HashEngine::input(&mut engine, &self.coinb2);
        let txid = bitcoin::hashes::sha256d::Hash::from_engine(engine).to_byte_array();
        fold_branch(txid, &self.share.head.work.merkle_branch)
    }

    /// The solved header and its coinbase.
    pub fn solved(&self, rolled: &Rolled) -> (BitcoinHeader, Transaction) {
        let coinbase = self.coinbase_with(&rolled.extranonce);
        let mut header = self.share.head.work.header;
        header.version = bitcoin::block::Version::from_consensus(rolled.version);
        header.time = rolled.time;
        header.nonce = rolled.nonce;
        header.merkle_root = fold_branch(
            coinbase.compute_txid().to_byte_array(),
            &self.share.head.work.merkle_branch,
        );
        (header, coinbase)
    }

    /// The share of a solution: the job's share with the solved header and coinbase.
    pub fn share_of(&self, header: BitcoinHeader, coinbase: Transaction) -> Share {
        let mut share = self.share.clone();
        share.head.work.header = header;
        share.head.work.coinbase = coinbase;
        share
    }

    /// The easier of the share and Bitcoin targets: what hashers report (a solution may be a
    /// Bitcoin block without being a share, on a chain whose shares are harder than blocks).
    pub fn report_target(&self) -> Target {
        if self.bitcoin_target > self.share_target {
            self.bitcoin_target
        } else {
            self.share_target
        }
    }

    /// The same job paying its sharebase to `script` (a Stratum miner's address): a new
    /// sharebase, share header and commitment, and — while no share is eligible (`n = 0`) —
    /// a Bitcoin coinbase paying `script` too. The chain's state is not needed: everything
    /// else (parent, height, bits, time, the selected payout) is the job's.
    ///
    /// # Errors
    /// [`SplitError`] when the re-targeted coinbase cannot be split (never for built jobs).
    pub fn for_payout(&self, script: &ScriptBuf) -> Result<MiningJob, SplitError> {
        let mut job = self.clone();
        let own = self
            .share
            .txs
            .first()
            .and_then(|sb| sb.output.first())
            .map(|o| o.script_pubkey.clone());
        if own.as_ref() == Some(script) {
            return Ok(job);
        }
        if let Some(out) = job
            .share
            .txs
            .first_mut()
            .and_then(|sb| sb.output.first_mut())
        {
            out.script_pubkey = script.clone();
        }
        let sharebase_id = job
            .share
            .txs
            .first()
            .map(|t| t.compute_wtxid().to_byte_array())
            .unwrap_or_default();
        job.share.head.header.tx_root = fold_branch(sharebase_id, &self.sharebase_branch);
        let commitment =
            p2share_consensus::validation::commitment_script(self.magic, &job.share.head.header);
        let cb = &mut job.share.head.work.coinbase;
        if self.selected.is_none() {
            if let Some(payee) = cb.output.first_mut() {
                payee.script_pubkey = script.clone();
            }
        }
        if let Some(c) = cb.output.get_mut(1) {
            c.script_pubkey = commitment;
        }
        job.share.head.work.header.merkle_root = job.share.head.work.computed_merkle_root();
        (job.coinb1, job.coinb2) = split_coinbase(&job.share.head.work.coinbase)?;
        Ok(job)
    }
}

/// The merkle branch of the first leaf (the coinbase) over `txids` of the other transactions.
pub fn coinbase_branch(others: &[TxMerkleNode]) -> Vec<TxMerkleNode> {
    let mut branch = Vec::new();
    // Level 0: [coinbase placeholder, others...]; the placeholder is never read.
    let mut level: Vec<Option<TxMerkleNode>> = std::iter::once(None)
        .chain(others.iter().copied().map(Some))
        .collect();
    while level.len() > 1 {
        let sibling = level.get(1).copied().flatten().or(level[0]);
        if let Some(s) = sibling {
            branch.push(s);
        }
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            let left = pair[0];
            let right = pair.get(1).copied().unwrap_or(left);
            next.push(match (left, right) {
                (Some(l), Some(r)) => {
                    let mut buf = [0u8; 64];
                    buf[..32].copy_from_slice(l.as_byte_array());
                    buf[32..].copy_from_slice(r.as_byte_array());
                    Some(TxMerkleNode::hash(&buf))
                }
                _ => None, // the path of the coinbase
            });
        }
        level = next;
    }
    branch
}

fn coinbase_script_sig(bitcoin_height: u32, extranonce: u64) -> ScriptBuf {
    let mut sig = height_push(bitcoin_height).into_bytes();
    let extra = PushBytesBuf::from(extranonce.to_be_bytes());
    sig.extend_from_slice(
        Builder::new()
            .push_slice(extra)
            .push_slice(b"/p2share/")
            .as_bytes(),
    );
    ScriptBuf::from_bytes(sig)
}

/// Why a job could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The consensus builder refused.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The coinbase could not be cut around its extranonce.
    #[error(transparent)]
    Split(#[from] SplitError),
}

/// Builds a job on the chain's tip from a Bitcoin template: the coinbase carries the BIP-34
/// height, the extranonce, the single payout output (to the selected share's script), the
/// share commitment, and Bitcoin's witness commitment when the template needs one.
///
/// # Errors
/// [`JobError`]: the consensus builder's refusal.
pub fn build_job(
    chain: &ChainState,
    template: &BlockTemplate,
    sharebase_script: &ScriptBuf,
    share_txs: Vec<Transaction>,
    extranonce: u64,
    id: u64,
) -> Result<MiningJob, JobError> {
    let others: Vec<TxMerkleNode> = template
        .transactions
        .iter()
        .map(|t| TxMerkleNode::from_byte_array(t.txid.to_byte_array()))
        .collect();
    let work = WorkTemplate {
        // Rolled bits come from the hashers: the job's are clear, so OR and XOR agree.
        version: bitcoin::block::Version::from_consensus(
            template.version & !(VERSION_ROLLING_MASK as i32),
        ),
        prev_blockhash: template.previous_block_hash,
        bits: template.bits,
        time: template.cur_time.max(template.min_time),
        coinbase_value: template.coinbase_value,
        merkle_branch: coinbase_branch(&others),
        coinbase_script_sig: coinbase_script_sig(template.height, extranonce),
    };
    let now = u32::try_from(unix_now()).unwrap_or(u32::MAX);
    let mut share = build_share(
        chain,
        sharebase_script.clone(),
        share_txs,
        now,
        &extranonce.to_be_bytes(),
        &work,
    )?;
    if let Some(commitment) = &template.default_witness_commitment {
        let cb = &mut share.head.work.coinbase;
        cb.output.push(bitcoin::TxOut {
            value: bitcoin::Amount::ZERO,
            script_pubkey: commitment.clone(),
        });
        if let Some(input) = cb.input.first_mut() {
            input.witness = Witness::from_slice(&[[0u8; 32]]);
        }
        share.head.work.header.merkle_root = share.head.work.computed_merkle_root();
    }
    let share_target = decode_compact(share.head.header.bits).unwrap_or(Target::ZERO);
    let (coinb1, coinb2) = split_coinbase(&share.head.work.coinbase)?;
    let others: Vec<TxMerkleNode> = share
        .txs
        .iter()
        .skip(1)
        .map(|t| TxMerkleNode::from_byte_array(t.compute_wtxid().to_byte_array()))
        .collect();
    let sharebase_branch = coinbase_branch(&others);
    Ok(MiningJob {
        id,
        share,
        bitcoin_txs: template.transactions.iter().map(|t| t.tx.clone()).collect(),
        share_target,
        bitcoin_target: template.target,
        extranonce,
        bitcoin_height: template.height,
        built: Instant::now(),
        coinb1,
        coinb2,
        selected: chain.next_payout().map(|p| p.outpoint),
        magic: chain.params().magic,
        sharebase_branch,
    })
}

/// The Bitcoin block of a mined job: its solved header and coinbase, then the template's
/// transactions.
pub fn assemble_block(header: BitcoinHeader, job: &MiningJob, coinbase: Transaction) -> Block {
    let mut txdata = Vec::with_capacity(job.bitcoin_txs.len() + 1);
    txdata.push(coinbase);
    txdata.extend(job.bitcoin_txs.iter().cloned());
    Block { header, txdata }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The coinbase branch folds to the same root as Bitcoin's merkle tree over the whole block,
    /// for every block size up to 17 transactions (odd levels duplicate their last node).
    #[test]
    fn coinbase_branch_folds_to_the_block_merkle_root() {
        let leaf = |i: u8| TxMerkleNode::hash(&[i; 7]);
        for others in 0..17u8 {
            let coinbase = leaf(200);
            let rest: Vec<TxMerkleNode> = (0..others).map(leaf).collect();
            let all: Vec<TxMerkleNode> = std::iter::once(coinbase).chain(rest.clone()).collect();
            let expected = bitcoin::merkle_tree::calculate_root(all.into_iter()).unwrap();
            let mut acc = coinbase;
            for node in coinbase_branch(&rest) {
                let mut buf = [0u8; 64];
                buf[..32].copy_from_slice(acc.as_byte_array());
                buf[32..].copy_from_slice(node.as_byte_array());
                acc = TxMerkleNode::hash(&buf);
            }
            assert_eq!(acc, expected, "{others} other transactions");
        }
    }

    /// The coinbase cut around its extranonce joins back to the same transaction, at every
    /// height encoding (small heights are one opcode, larger ones a data push).
    #[test]
    fn coinbases_split_around_the_extranonce_at_every_height_encoding() {
        for height in [
            0u32,
            1,
            16,
            17,
            127,
            128,
            255,
            256,
            65_535,
            1 << 23,
            900_000,
        ] {
            let en = [9u8, 8, 7, 6, 5, 4, 3, 2];
            let sig = coinbase_script_sig(height, u64::from_be_bytes(en));
            let cb = Transaction {
                version: bitcoin::transaction::Version::TWO,
                lock_time: bitcoin::absolute::LockTime::ZERO,
                input: vec![bitcoin::TxIn {
                    script_sig: sig,
                    ..bitcoin::TxIn::default()
                }],
                output: vec![bitcoin::TxOut {
                    value: bitcoin::Amount::from_sat(50),
                    script_pubkey: ScriptBuf::new(),
                }],
            };
            let (c1, c2) = split_coinbase(&cb).unwrap();
            let joined = [c1.as_slice(), &en, c2.as_slice()].concat();
            assert_eq!(joined, serialize(&cb), "height {height}");
        }
    }

    /// A job re-targeted to another payout has the share header and commitment a job built
    /// for that payout from the start has (the sharebase branch stands in for the whole tree).
    #[test]
    fn a_job_for_another_payout_equals_one_built_for_it() {
        use p2share_testkit::{Kind, TestChain, TestKey};
        let mut chain = TestChain::new(p2share_consensus::ChainParams::regtest()).unwrap();
        let a = TestKey::from_seed(1).script(Kind::P2wpkh);
        let b = TestKey::from_seed(2).script(Kind::P2wpkh);
        // Some shares, so that payouts are selected (n > 0) and a spend is possible.
        let mut spendable = Vec::new();
        for _ in 0..6 {
            let (share, _) = chain.mine(&a, vec![]).unwrap();
            spendable.push(share.txs[0].clone());
        }
        let input = p2share_testkit::Spendable::output_of(
            &spendable[0],
            0,
            &TestKey::from_seed(1),
            Kind::P2wpkh,
        )
        .unwrap();
        let value = input.output.value - bitcoin::Amount::from_sat(1_000);
        let spend = p2share_testkit::spend(
            &[input],
            vec![bitcoin::TxOut {
                value,
                script_pubkey: b.clone(),
            }],
        );
        for txs in [vec![], vec![spend]] {
            let template = BlockTemplate {
                version: 0x2000_0000,
                previous_block_hash: bitcoin::BlockHash::all_zeros(),
                height: 1,
                transactions: vec![],
                coinbase_value: bitcoin::Amount::from_sat(5_000_000_000),
                default_witness_commitment: None,
                target: Target::MAX,
                bits: bitcoin::CompactTarget::from_consensus(0x207f_ffff),
                cur_time: 1_700_000_000,
                min_time: 0,
                longpoll_id: None,
                weight_limit: None,
                sigop_limit: None,
                rules: vec![],
            };
            let built_a = build_job(&chain.chain, &template, &a, txs.clone(), 7, 1).unwrap();
            let built_b = build_job(&chain.chain, &template, &b, txs.clone(), 7, 1).unwrap();
            let moved = built_a.for_payout(&b).unwrap();
            assert_eq!(
                moved.share.head.header.tx_root,
                built_b.share.head.header.tx_root
            );
            assert_eq!(moved.share.txs, built_b.share.txs);
            assert_eq!(
                moved.share.head.work.coinbase,
                built_b.share.head.work.coinbase
            );
            assert_eq!(moved.coinb1, built_b.coinb1);
            assert_eq!(moved.coinb2, built_b.coinb2);
        }
    }
}
