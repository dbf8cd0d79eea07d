//! Golden vectors: the encodings and payout selections frozen in `tests/data/vectors.json`
//! (the same vectors are printed in `docs/protocol.md`). Run with `P2SHARE_BLESS=1` to
//! regenerate the file after an intentional format change — and say so in the commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use std::path::PathBuf;
use std::str::FromStr;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use p2share_consensus::builder::genesis_share;
use p2share_consensus::hash::q_selector_hash;
use p2share_consensus::params::ChainParams;
use p2share_consensus::payout::select_with_selector;
use p2share_consensus::pow::asert_next_bits;
use p2share_consensus::share::{Share, ShareHead, ShareHeader};
use p2share_consensus::utxo::{Coin, UtxoSet};
use p2share_consensus::{ChainState, ShareHash};
use p2share_testkit::{genesis_spendables, spend, test_params, Kind, TestChain, TestKey};
use serde_json::{json, Value};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn genesis_vectors() -> Value {
    let nets = [
        ChainParams::main(),
        ChainParams::testnet4(),
        ChainParams::signet(),
        ChainParams::regtest(),
    ];
    Value::Array(
        nets.iter()
            .map(|p| {
                let g = genesis_share(p);
                json!({
                    "network": p.name,
                    "hash": g.hash().to_string(),
                    "share_header_hex": hex(&g.head.header.to_bytes()),
                    "selector_hex": hex(&g.head.selector_bytes()),
                    "q_selector_hash_hex": hex(g.head.q_selector().as_byte_array()),
                    "commitment_hex": hex(g.head.header.commitment().as_byte_array()),
                    "share_hex": hex(&g.encode()),
                })
            })
            .collect(),
    )
}

fn header_vector() -> Value {
    let h = ShareHeader {
        version: 1,
        prev_share: ShareHash::from_byte_array([0x11; 32]),
        height: 0x0102_0304,
        tx_root: bitcoin::TxMerkleNode::from_byte_array([0x22; 32]),
        time: 0x6955_b900,
        bits: 0x207f_ffff,
    };
    json!({
        "version": h.version,
        "prev_share": h.prev_share.to_string(),
        "height": h.height,
        "tx_root_internal_hex": hex(h.tx_root.as_byte_array()),
        "time": h.time,
        "bits": format!("{:#010x}", h.bits),
        "hex": hex(&h.to_bytes()),
        "commitment_hex": hex(h.commitment().as_byte_array()),
    })
}

/// A selection over a small hand-made set of eligible coins, with the regtest genesis header as
/// share i = 0's selector input. Every coin has height 0 and no sharebase flag, so all six are
/// eligible in any state (§6.5); the set stands in for `S_i` and is not regtest's real `S_0`
/// (which is empty: regtest has no genesis allocation).
fn selection_vector() -> Value {
    let g = genesis_share(&ChainParams::regtest());
    let selector = g.head.selector_bytes();
    let entries: Vec<(Txid, u32, u64, ScriptBuf, u32, bool)> = (0u8..6)
        .map(|i| {
            let mut txid = [0u8; 32];
            txid[0] = 0xf0 - i * 0x20; // canonical order is by these bytes, not by display order
            txid[31] = i;
            let key = TestKey::from_seed(u64::from(i) + 100);
            (
                Txid::from_byte_array(txid),
                u32::from(i % 3),
                100_000_000 * (u64::from(i) + 1),
                key.script(Kind::P2wpkh),
                0,
                false,
            )
        })
        .collect();
    let coins = entries
        .iter()
        .map(|(txid, vout, value, script, height, sb)| {
            (
                OutPoint {
                    txid: *txid,
                    vout: *vout,
                },
                Coin {
                    output: TxOut {
                        value: Amount::from_sat(*value),
                        script_pubkey: script.clone(),
                    },
                    height: *height,
                    is_sharebase: *sb,
                },
            )
        });
    let utxo = UtxoSet::from_coins(ChainParams::regtest().maturity, 0, coins).unwrap();
    let total: u64 = entries.iter().map(|e| e.2).sum();
    assert_eq!(
        utxo.eligible_total().to_units(),
        total,
        "every coin is eligible"
    );
    let p = select_with_selector(&utxo, &q_selector_hash(&selector)).unwrap();
    let utxos: Vec<Value> = entries
        .iter()
        .map(|(txid, vout, value, script, height, sb)| {
            json!({"txid": txid.to_string(), "vout": vout, "value": value, "script_pubkey": script.to_hex_string(), "height": height, "sharebase": sb})
        })
        .collect();
    json!({
        "network": "regtest",
        "height": 0,
        "header_hex": hex(&selector),
        "utxos": utxos,
        "expected": {
            "q": p.q.to_string(),
            "n": p.n.to_units(),
            "txid": p.outpoint.txid.to_string(),
            "vout": p.outpoint.vout,
            "script_pubkey": p.script_pubkey.to_hex_string(),
            "value": p.value.to_units(),
            "range_start": p.start,
        }
    })
}

fn asert_vectors() -> Value {
    let mut out = Vec::new();
    for p in [ChainParams::main(), ChainParams::regtest()] {
        let a = p.asert().unwrap();
        let s = p.target_spacing;
        for (height, offset) in [
            (0u32, 0i64),
            (10, 0),
            (10, -(i64::from(s) * 5)),
            (100, i64::from(p.asert_half_life)),
            (100, -i64::from(p.asert_half_life)),
        ] {
            let time =
                (i64::from(p.genesis_time) + i64::from(height) * i64::from(s) + offset) as u32;
            out.push(json!({"network": p.name, "tip_height": height, "tip_time": time, "next_bits": format!("{:#010x}", asert_next_bits(&a, height, time))}));
        }
    }
    Value::Array(out)
}

/// A mined share with a P2WPKH spend on the testkit network (maturity 2, three allocations).
fn mined_share_vector() -> Value {
    let alloc = [(100_000_000u64, 1u64), (300_000_000, 2), (600_000_000, 3)];
    let mut t = TestChain::new(test_params(2, &alloc)).unwrap();
    let coins = genesis_spendables(&t.chain, &alloc);
    let tx = spend(
        &coins[..1],
        vec![TxOut {
            value: Amount::from_sat(99_990_000),
            script_pubkey: TestKey::from_seed(9).script(Kind::P2tr),
        }],
    );
    let (share, _) = t
        .mine(&TestKey::from_seed(99).script(Kind::P2wpkh), vec![tx])
        .unwrap();
    json!({"network": "testkit (test_params(2, [(1e8,1),(3e8,2),(6e8,3)]))", "hash": share.hash().to_string(), "hex": hex(&share.encode())})
}

fn all_vectors() -> Value {
    json!({
        "comment": "p2share v1 golden vectors; see docs/protocol.md §15. Hashes in display (reversed) order unless named _hex or _internal_hex.",
        "genesis": genesis_vectors(),
        "share_header": header_vector(),
        "selection": selection_vector(),
        "asert": asert_vectors(),
        "mined_share": mined_share_vector(),
    })
}

#[test]
fn golden_vectors_match() {
    let path = data_dir().join("vectors.json");
    let current = all_vectors();
    if std::env::var_os("P2SHARE_BLESS").is_some() {
        std::fs::create_dir_all(data_dir()).unwrap();
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&current).unwrap() + "\n",
        )
        .unwrap();
        let sel = &current["selection"];
        std::fs::write(
            data_dir().join("selection-utxos.json"),
            serde_json::to_string_pretty(&sel["utxos"]).unwrap() + "\n",
        )
        .unwrap();
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        stored, current,
        "encodings or selection changed; bless only for an intentional format change"
    );
}

#[test]
fn golden_bytes_decode_and_reencode() {
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(data_dir().join("vectors.json")).unwrap())
            .unwrap();
    let unhex = |s: &str| p2share_consensus::params::hex_decode(s).unwrap();
    for g in stored["genesis"].as_array().unwrap() {
        let bytes = unhex(g["share_hex"].as_str().unwrap());
        let share = Share::decode(&bytes).unwrap();
        assert_eq!(share.encode(), bytes);
        assert_eq!(share.hash().to_string(), g["hash"].as_str().unwrap());
        let chain =
            ChainState::new(ChainParams::by_name(g["network"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(
            chain.genesis_hash(),
            ShareHash::from_str(g["hash"].as_str().unwrap()).unwrap()
        );
        let head = ShareHead::decode(&bytes[..share.head.encode().len()]).unwrap();
        assert_eq!(head, share.head);
    }
    let mined = unhex(stored["mined_share"]["hex"].as_str().unwrap());
    assert_eq!(Share::decode(&mined).unwrap().encode(), mined);
    let h = unhex(stored["share_header"]["hex"].as_str().unwrap());
    assert_eq!(ShareHeader::decode(&h).unwrap().to_bytes().to_vec(), h);
}
