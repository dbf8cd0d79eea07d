//! Test and benchmark helpers (feature `test-util`): filling a node's mempool with real, signed
//! transactions. Nothing here weakens validation; every transaction goes through the mempool.

use bitcoin::{Amount, OutPoint, TxOut};
use p2share_testkit::{spend, Kind, Spendable, SplitMix64, TestKey};

use crate::node::{NodeError, RegtestNode};

/// Mines `chains + 100` blocks to a test key, then sends `chains` chains of `len` P2WPKH spends
/// (each from a matured coinbase, 1 to 30 sat/vB) to the mempool. Returns the key.
///
/// # Errors
/// [`NodeError`] if mining fails. A refused transaction stops the filling (callers check the
/// mempool's size).
pub fn fill_mempool(
    node: &RegtestNode,
    chains: usize,
    len: usize,
    now: u64,
) -> Result<TestKey, NodeError> {
    let key = TestKey::from_seed(1);
    let script = key.script(Kind::P2wpkh);
    let hashes = node.generate_to_script(chains + 100, &script, now)?;
    let mut rng = SplitMix64(42);
    for hash in hashes.iter().take(chains) {
        let Some(block) = node.chain().block(hash) else {
            continue;
        };
        let Some(cb) = block.txdata.first() else {
            continue;
        };
        let Some(first) = cb.output.first() else {
            continue;
        };
        let mut coin = Spendable {
            outpoint: OutPoint::new(cb.compute_txid(), 0),
            output: first.clone(),
            key: key.clone(),
            kind: Kind::P2wpkh,
        };
        for _ in 0..len {
            let fee = 110 + rng.next_u64() % 3_200;
            let Some(value) = coin.output.value.checked_sub(Amount::from_sat(fee)) else {
                break;
            };
            let tx = spend(
                std::slice::from_ref(&coin),
                vec![TxOut {
                    value,
                    script_pubkey: script.clone(),
                }],
            );
            let Ok(txid) = node.send_raw_transaction(tx.clone()) else {
                return Ok(key);
            };
            let Some(out) = tx.output.first() else { break };
            coin = Spendable {
                outpoint: OutPoint::new(txid, 0),
                output: out.clone(),
                key: key.clone(),
                kind: Kind::P2wpkh,
            };
        }
    }
    Ok(key)
}
