//! Mining devices on a devnet: an independent Stratum client (Python's hashlib, no p2share
//! code: `tests/clients/stratum_client.py`) points at a real node with the embedded mainchain,
//! hashes at a tiny difficulty, gets its shares accepted, and its work becomes shares paying
//! its own address and Bitcoin blocks that pay the selected share.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::net::SocketAddr;
use std::process::Stdio;

use netkit::{loopback_config, wait_for};
use p2share_app::config::BitcoinConfig;
use p2share_app::devnet;
use p2share_app::embedded::Config;
use p2share_app::App;
use p2share_consensus::ChainParams;
use p2share_regtest::Policy;
use p2share_stratum::StratumConfig;
use p2share_testkit::{Kind, TestKey};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// A devnet node whose only hasher is the Stratum port: shares at regtest's limit, Bitcoin
/// blocks 4 times harder, the node's own CPU miner off.
async fn node(dir: &std::path::Path) -> App {
    let mut params = ChainParams::devnet(now() - 1_000, ChainParams::regtest().pow_limit_bits);
    params.maturity = 2;
    params.max_future_time = 100_000;
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = loopback_config(params.clone(), &dir.join("node"), vec![], 2000, None);
    config.bitcoin = BitcoinConfig::Embedded(Config {
        datadir: dir.join("btc"),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy {
            block_target: devnet::block_target(&params, 4),
        },
    });
    config.mining.script = Some(TestKey::from_seed(1).script(Kind::P2wpkh));
    config.mining.start = false;
    config.mining.stratum = Some(StratumConfig {
        bind: any,
        ..StratumConfig::devnet()
    });
    App::start(config).await.unwrap()
}

fn address(script: &bitcoin::ScriptBuf) -> String {
    bitcoin::Address::from_script(script, bitcoin::Network::Regtest)
        .unwrap()
        .to_string()
}

/// Runs the Python client until it has `shares` accepted; returns its output lines.
async fn python_client(port: u16, user: &str, shares: u32) -> Vec<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/stratum_client.py"
    );
    let mut child = tokio::process::Command::new("python3")
        .args([
            script,
            "127.0.0.1",
            &port.to_string(),
            user,
            "--shares",
            &shares.to_string(),
            "--timeout",
            "90",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 (installed by scripts/deps --test)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        out.push(serde_json::from_str(&line).unwrap());
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "the client failed: {out:?}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_stratum_client_gets_shares_accepted_and_a_bitcoin_block_paying_the_selected_share(
) {
    let dir = tempfile::tempdir().unwrap();
    let app = node(dir.path()).await;
    let port = app.stratum_addr.unwrap().port();
    let miner = TestKey::from_seed(42).script(Kind::P2wpkh);
    let user = format!("{}.pyminer", address(&miner));
    let out = python_client(port, &user, 12).await;
    assert_eq!(out.last().unwrap()["accepted"], json!(12), "{out:?}");
    // Its device shares became sharechain shares paying its address…
    wait_for(20, "shares paying the device's address", || async {
        app.node.unspent_for(&miner).await.len() >= 2
    })
    .await;
    // …and Bitcoin blocks, accepted by the embedded mainchain, each paying the share the
    // payout rule selected (the node's own check at job time; recomputed here from the chain).
    let btc = app.mainchain.as_ref().unwrap().rpc_client().unwrap();
    wait_for(20, "a Bitcoin block from the device", || async {
        app.mining
            .stats()
            .await
            .blocks
            .iter()
            .any(|b| b.outcome == "accepted")
    })
    .await;
    let blocks = app.mining.stats().await.blocks;
    let mut checked = 0;
    for b in blocks.iter().filter(|b| b.outcome == "accepted") {
        assert_eq!(
            b.finder.as_deref(),
            Some(format!("stratum:{user}").as_str())
        );
        let hash: bitcoin::BlockHash = b.block_hash.parse().unwrap();
        let block = btc.block(&hash).await.unwrap();
        let paid = block.txdata[0]
            .output
            .iter()
            .find(|o| o.value.to_sat() > 0)
            .unwrap()
            .script_pubkey
            .to_hex_string();
        assert_eq!(paid, b.paid_script);
        let parent = b.parent_share.unwrap();
        let expected = app
            .node
            .with_chain(|c| {
                // The payout selected on top of the parent: the chain's record for the share
                // when it is active, else recomputed from the parent's successor set.
                c.payout_of(&b.share)
                    .map(|p| p.script_pubkey.to_hex_string())
            })
            .await;
        match (&b.selected, expected) {
            (Some(_), Some(script)) => assert_eq!(script, b.paid_script, "block {hash}"),
            // n = 0 when the block was found: the device's own sharebase script.
            (None, _) => assert_eq!(b.paid_script, miner.to_hex_string()),
            // A block whose share is not on the chain (a side branch): its parent is known.
            (Some(_), None) => assert!(app.node.with_chain(|c| c.header(&parent).is_some()).await),
        }
        checked += 1;
    }
    assert!(checked >= 1);
    app.shutdown().await;
}
