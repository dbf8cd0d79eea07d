//! Shared scenario support: a chain in a temp dir, a key that receives coinbases, and helpers
//! that assemble, grind and submit blocks.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // test support: a failing unwrap is a failing test

use bitcoin::{Amount, Block, OutPoint, Transaction, TxOut};
use p2share_regtest::blockbuilder::{block_subsidy, grind, regtest_target, BlockAssembler};
use p2share_regtest::{Policy, RegtestChain, SubmitOutcome};
use p2share_testkit::{Kind, Spendable, TestKey};

/// A chain in its own temp dir, and the key its coinbases pay.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub chain: RegtestChain,
    pub key: TestKey,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_policy(Policy::default())
    }

    pub fn with_policy(policy: Policy) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let chain = RegtestChain::open(dir.path(), policy).unwrap();
        Harness {
            dir,
            chain,
            key: TestKey::from_seed(1),
        }
    }

    /// Fees paid by `txs` (inputs from the index or from earlier `txs`).
    pub fn fees(&self, txs: &[Transaction]) -> Amount {
        let mut created: Vec<(OutPoint, TxOut)> = Vec::new();
        let mut fees = Amount::ZERO;
        for tx in txs {
            let mut value_in = Amount::ZERO;
            for input in &tx.input {
                let op = input.previous_output;
                let value = self
                    .chain
                    .utxo(&op)
                    .map(|c| c.output.value)
                    .or_else(|| created.iter().find(|(o, _)| *o == op).map(|(_, t)| t.value))
                    .unwrap_or(Amount::ZERO);
                value_in += value;
            }
            let value_out: Amount = tx.output.iter().map(|o| o.value).sum();
            fees += value_in.checked_sub(value_out).unwrap_or(Amount::ZERO);
            let txid = tx.compute_txid();
            for (i, o) in tx.output.iter().enumerate() {
                created.push((OutPoint::new(txid, i as u32), o.clone()));
            }
        }
        fees
    }

    /// An assembler for the next block on the tip, paying subsidy + fees of `txs` to the key.
    pub fn assembler(&self, txs: &[Transaction]) -> BlockAssembler {
        let tip = self.chain.tip();
        let height = tip.height + 1;
        let mut a = BlockAssembler::new(
            tip.hash,
            height,
            tip.header.time.max(tip.median_time_past) + 1,
            self.key.script(Kind::P2wpkh),
        );
        a.coinbase_value = block_subsidy(height) + self.fees(txs);
        a
    }

    /// The next block on the tip holding `txs`, ground against regtest's target.
    pub fn next_block(&self, txs: Vec<Transaction>) -> Block {
        let mut block = self.assembler(&txs).assemble(txs);
        assert!(grind(&mut block, regtest_target(), 1_000));
        block
    }

    /// A block on `parent` (at `height`, with `time`) holding `txs`, its coinbase tagged with
    /// `tag` so that sibling blocks differ; ground against regtest's target.
    pub fn block_on(
        &self,
        parent: bitcoin::BlockHash,
        height: u32,
        time: u32,
        txs: Vec<Transaction>,
        fees: Amount,
        tag: &[u8],
    ) -> Block {
        let mut a = BlockAssembler::new(parent, height, time, self.key.script(Kind::P2wpkh));
        a.coinbase_value = block_subsidy(height) + fees;
        a.coinbase_extra = tag.to_vec();
        let mut block = a.assemble(txs);
        assert!(grind(&mut block, regtest_target(), 1_000));
        block
    }

    /// Drops the chain and opens it again on the same directory.
    pub fn reopen(self) -> Harness {
        let Harness { dir, chain, key } = self;
        let policy = chain.policy().clone();
        drop(chain);
        let chain = RegtestChain::open(dir.path(), policy).unwrap();
        Harness { dir, chain, key }
    }

    /// Mines `txs` in the next block, which must be accepted and become the tip.
    pub fn mine(&self, txs: Vec<Transaction>) -> Block {
        let block = self.next_block(txs);
        let outcome = self.chain.submit_block(&block);
        assert_eq!(outcome, SubmitOutcome::Accepted { new_tip: true });
        assert_eq!(self.chain.tip().hash, block.block_hash());
        block
    }

    /// Mines `n` empty blocks, returning them.
    pub fn mine_empty(&self, n: usize) -> Vec<Block> {
        (0..n).map(|_| self.mine(Vec::new())).collect()
    }

    /// The coinbase output of `block` as something the key can spend.
    pub fn coinbase_spendable(&self, block: &Block) -> Spendable {
        let cb = &block.txdata[0];
        Spendable::output_of(cb, 0, &self.key, Kind::P2wpkh).unwrap()
    }

    /// Mines 101 blocks; the first one's coinbase is then mature. Returns it as spendable.
    pub fn mature_coin(&self) -> Spendable {
        let blocks = self.mine_empty(101);
        self.coinbase_spendable(&blocks[0])
    }
}

/// Re-grinds `block` after its header or transactions were edited (merkle root untouched).
pub fn regrind(block: &mut Block) {
    assert!(grind(block, regtest_target(), 1_000));
}

/// An output of `value` paying `key`'s P2WPKH script.
pub fn pay(key: &TestKey, value: Amount) -> TxOut {
    TxOut {
        value,
        script_pubkey: key.script(Kind::P2wpkh),
    }
}
