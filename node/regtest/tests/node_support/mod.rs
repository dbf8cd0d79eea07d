//! Scenario support for node tests: a [`RegtestNode`] in a temp dir, a key its coinbases pay,
//! and helpers that mine (through templates, like `generatetoaddress`) and spend.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // test support: a failing unwrap is a failing test

use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::{Amount, BlockHash, Transaction, TxOut};
use p2share_regtest::{MempoolConfig, MempoolReject, Policy, RegtestNode};
use p2share_testkit::{spend, Kind, Spendable, TestKey};

/// A node in its own temp dir, and the key its coinbases pay.
pub struct NodeHarness {
    pub dir: tempfile::TempDir,
    pub node: RegtestNode,
    pub key: TestKey,
}

/// Unix time now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl NodeHarness {
    pub fn new() -> NodeHarness {
        NodeHarness::with(Policy::default(), MempoolConfig::default())
    }

    pub fn with(policy: Policy, config: MempoolConfig) -> NodeHarness {
        let dir = tempfile::tempdir().unwrap();
        let node = RegtestNode::open_with(dir.path(), policy, config).unwrap();
        NodeHarness {
            dir,
            node,
            key: TestKey::from_seed(1),
        }
    }

    /// Mines `n` blocks from templates (they confirm the mempool), paying the key.
    pub fn mine(&self, n: usize) -> Vec<BlockHash> {
        self.node
            .generate_to_script(n, &self.key.script(Kind::P2wpkh), now())
            .unwrap()
    }

    /// The coinbase output of block `hash`, spendable by the key.
    pub fn coinbase_coin(&self, hash: &BlockHash) -> Spendable {
        let block = self.node.chain().block(hash).unwrap();
        let cb = &block.txdata[0];
        Spendable::output_of(cb, 0, &self.key, Kind::P2wpkh).unwrap()
    }

    /// Mines `100 + k` blocks; the coinbases of the first `k` are then mature.
    pub fn mature_coins(&self, k: usize) -> Vec<Spendable> {
        let hashes = self.mine(100 + k);
        hashes[..k].iter().map(|h| self.coinbase_coin(h)).collect()
    }

    pub fn send(&self, tx: &Transaction) -> Result<bitcoin::Txid, MempoolReject> {
        self.node.send_raw_transaction(tx.clone())
    }

    /// Expects `tx` refused with `reason` by both `sendrawtransaction` and
    /// `testmempoolaccept`, and the mempool unchanged.
    pub fn assert_refused(&self, tx: &Transaction, reason: &str) {
        let before = self.node.mempool().txids();
        let test = self.node.test_mempool_accept(tx).unwrap_err();
        assert_eq!(test.reason, reason, "testmempoolaccept: {test}");
        let err = self.send(tx).unwrap_err();
        assert_eq!(err.reason, reason, "sendrawtransaction: {err}");
        assert_eq!(
            self.node.mempool().txids(),
            before,
            "mempool changed on {reason}"
        );
    }
}

/// An output of `value` paying `key`'s P2WPKH script.
pub fn pay(key: &TestKey, value: Amount) -> TxOut {
    TxOut {
        value,
        script_pubkey: key.script(Kind::P2wpkh),
    }
}

/// Spends `coin` whole to `to`, paying `fee`.
pub fn spend_fee(coin: &Spendable, to: &TestKey, fee: u64) -> Transaction {
    spend(
        std::slice::from_ref(coin),
        vec![pay(to, coin.output.value - Amount::from_sat(fee))],
    )
}

/// Output `vout` of `tx` as spendable by `key` (P2WPKH).
pub fn output_coin(tx: &Transaction, vout: u32, key: &TestKey) -> Spendable {
    Spendable::output_of(tx, vout, key, Kind::P2wpkh).unwrap()
}
