//! One Bitcoin chain per devnet: the embedded regtest mainchains of a devnet's nodes relay
//! blocks and transactions to each other over libp2p, each validating with bitcoinkernel.
//! Real apps (store, libp2p on loopback, embedded mainchain over HTTP) in one process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::net::SocketAddr;
use std::path::Path;

use bitcoin::{Address, Amount, BlockHash, Network, OutPoint, TxOut};
use netkit::{loopback_config, p2p_addr, wait_for};
use p2share_app::config::BitcoinConfig;
use p2share_app::embedded::{self, RegtestMainchain};
use p2share_app::App;
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::Mainchain;
use p2share_p2p::Multiaddr;
use p2share_regtest::Policy;
use p2share_testkit::{spend, Kind, Spendable, TestKey};
use serde_json::json;

/// A devnet node with its own embedded mainchain in `dir/bitcoin`.
async fn start(dir: &Path, peers: Vec<Multiaddr>) -> App {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = loopback_config(ChainParams::regtest(), dir, peers, 2000, None);
    config.bitcoin = BitcoinConfig::Embedded(embedded::Config {
        datadir: dir.join("bitcoin"),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy::default(),
    });
    App::start(config).await.unwrap()
}

fn mainchain(app: &App) -> &RegtestMainchain {
    app.mainchain.as_ref().unwrap()
}

fn btc(app: &App) -> BitcoindRpc {
    mainchain(app).rpc_client().unwrap()
}

fn address(seed: u64) -> (bitcoin::ScriptBuf, String) {
    let script = TestKey::from_seed(seed).script(Kind::P2wpkh);
    let a = Address::from_script(&script, Network::Regtest).unwrap();
    (script, a.to_string())
}

/// Mines `n` blocks on `app`'s own mainchain paying test key `seed` (the way the miner's
/// `submitblock` lands a block) and returns their hashes.
async fn generate(app: &App, n: u32, seed: u64) -> Vec<BlockHash> {
    let hashes = btc(app)
        .call("generatetoaddress", json!([n, address(seed).1]))
        .await
        .unwrap();
    serde_json::from_value(hashes).unwrap()
}

async fn tip(app: &App) -> (BlockHash, u32) {
    let t = btc(app).tip().await.unwrap();
    (t.hash, t.height)
}

async fn active(app: &App, hash: &BlockHash) -> bool {
    mainchain(app)
        .node()
        .chain()
        .header(hash)
        .is_some_and(|h| h.in_active_chain)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_found_by_three_devnet_nodes_extend_one_bitcoin_chain() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), vec![]).await;
    // The founder's chain exists before anyone joins: a joiner adopts it.
    let founder_blocks = generate(&a, 5, 1).await;
    let b = start(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    wait_for(30, "the joiner adopts the founder's chain", || async {
        tip(&b).await == tip(&a).await
    })
    .await;
    let c = start(dirs[2].path(), vec![p2p_addr(&a).await, p2p_addr(&b).await]).await;
    wait_for(30, "the second joiner adopts it too", || async {
        tip(&c).await == tip(&a).await
    })
    .await;

    // Each node finds blocks in turn; every node ends on one chain holding all of them.
    let mut found = founder_blocks;
    for (i, node) in [&b, &c, &a, &c, &b].into_iter().enumerate() {
        let before = tip(node).await.1;
        let hashes = generate(node, 2, 10 + i as u64).await;
        found.extend(hashes.iter().copied());
        let want = (*hashes.last().unwrap(), before + 2);
        wait_for(30, "every node follows the new blocks", || async {
            tip(&a).await == want && tip(&b).await == want && tip(&c).await == want
        })
        .await;
    }
    assert_eq!(tip(&a).await.1, 15);
    for node in [&a, &b, &c] {
        for hash in &found {
            assert!(
                active(node, hash).await,
                "{hash} is on every node's active chain"
            );
        }
    }
    for app in [a, b, c] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_broadcast_on_one_node_is_mined_in_a_block_found_by_another() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), vec![]).await;
    let b = start(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    wait_for(20, "peers connected", || async {
        a.net.p2p().peers().await.unwrap().len() == 1
    })
    .await;
    // A mature coinbase for key 1, on the shared chain.
    let first = generate(&a, 1, 1).await[0];
    generate(&a, 100, 2).await;
    wait_for(30, "b follows a", || async {
        tip(&b).await == tip(&a).await
    })
    .await;
    let block = btc(&a).block(&first).await.unwrap();
    let coinbase = &block.txdata[0];
    let coin = Spendable {
        outpoint: OutPoint {
            txid: coinbase.compute_txid(),
            vout: 0,
        },
        output: coinbase.output[0].clone(),
        key: TestKey::from_seed(1),
        kind: Kind::P2wpkh,
    };
    let tx = spend(
        &[coin],
        vec![TxOut {
            value: coinbase.output[0].value - Amount::from_sat(5_000),
            script_pubkey: address(3).0,
        }],
    );
    let txid = btc(&a).send_raw_transaction(&tx).await.unwrap();
    wait_for(20, "the transaction reaches b's mempool", || async {
        mainchain(&b).node().mempool().get(&txid).is_some()
    })
    .await;
    let mined = generate(&b, 1, 4).await[0];
    wait_for(20, "a follows b's block", || async {
        tip(&a).await.0 == mined
    })
    .await;
    let block = btc(&a).block(&mined).await.unwrap();
    assert!(
        block.txdata.iter().any(|t| t.compute_txid() == txid),
        "b's block carries a's transaction"
    );
    assert!(mainchain(&a).node().mempool().get(&txid).is_none());
    for app in [a, b] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partitioned_node_reorganizes_onto_the_longer_chain() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), vec![]).await;
    let b = start(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    generate(&a, 2, 1).await;
    wait_for(30, "b follows a", || async {
        tip(&b).await == tip(&a).await
    })
    .await;
    let common = tip(&a).await;

    // The partition: b goes down and comes back with no peers; both mine on their own.
    b.shutdown().await;
    let b = start(dirs[1].path(), vec![]).await;
    assert_eq!(
        tip(&b).await,
        common,
        "b kept the shared blocks across its restart"
    );
    let a_only = generate(&a, 3, 2).await;
    let b_only = generate(&b, 6, 3).await;
    assert_eq!(tip(&a).await.1, common.1 + 3);
    assert_eq!(tip(&b).await.1, common.1 + 6);

    // The partition heals: a reorganizes onto b's longer branch.
    b.net.p2p().dial(p2p_addr(&a).await).await.unwrap();
    let want = (*b_only.last().unwrap(), common.1 + 6);
    wait_for(30, "a reorganizes onto the longer chain", || async {
        tip(&a).await == want
    })
    .await;
    for hash in &a_only {
        assert!(
            !active(&a, hash).await,
            "a's own branch left its active chain"
        );
    }
    for hash in &b_only {
        assert!(active(&a, hash).await);
    }
    // A block found on a after the reorg extends the one chain at b too.
    let next = generate(&a, 1, 4).await[0];
    wait_for(30, "b follows", || async { tip(&b).await.0 == next }).await;
    for app in [a, b] {
        app.shutdown().await;
    }
}
