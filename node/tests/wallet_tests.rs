//! The node's wallet through its JSON-RPC API over real HTTP: created and restored from one seed,
//! encrypted at rest, watching both chains (a share script's Bitcoin coinbase lands in the BTC
//! wallet), sending shares to another node's wallet over libp2p, and refusing bad input with a
//! clear error and nothing changed. Devnet nodes with embedded mainchains on one Bitcoin chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use bitcoin::{Address, Network, ScriptBuf};
use netkit::{loopback_config, p2p_addr, rpc, wait_for};
use p2share_app::config::BitcoinConfig;
use p2share_app::embedded;
use p2share_app::App;
use p2share_consensus::ChainParams;
use p2share_p2p::Multiaddr;
use p2share_regtest::Policy;
use p2share_service::Origin;
use p2share_testkit::TestChain;
use serde_json::{json, Value};

const PASS: &str = "correct horse battery staple";

fn params() -> ChainParams {
    let mut p = ChainParams::regtest();
    p.maturity = 3;
    p
}

async fn start(dir: &Path, peers: Vec<Multiaddr>) -> App {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = loopback_config(params(), dir, peers, 2000, None);
    config.bitcoin = BitcoinConfig::Embedded(embedded::Config {
        datadir: dir.join("bitcoin"),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy::default(),
    });
    App::start(config).await.unwrap()
}

async fn ok(app: &App, method: &str, params: Value) -> Value {
    match rpc(app, method, params.clone()).await {
        Ok(v) => v,
        Err(e) => panic!("{method} {params}: {e}"),
    }
}

async fn err(app: &App, method: &str, params: Value) -> String {
    match rpc(app, method, params.clone()).await {
        Ok(v) => panic!("{method} {params} succeeded: {v}"),
        Err(e) => e["message"].as_str().unwrap().to_string(),
    }
}

fn script(address: &str) -> ScriptBuf {
    Address::from_str(address)
        .unwrap()
        .require_network(Network::Regtest)
        .unwrap()
        .script_pubkey()
}

/// Mines `n` shares paying `pay` (with `txs` in the first) on a test miner following `app`'s
/// chain, and submits them.
async fn mine(
    app: &App,
    miner: &mut TestChain,
    pay: &ScriptBuf,
    n: usize,
    txs: Vec<bitcoin::Transaction>,
) {
    let mut txs = Some(txs);
    for _ in 0..n {
        let (share, _) = miner.mine(pay, txs.take().unwrap_or_default()).unwrap();
        app.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wallet_mines_receives_and_sends_shares_to_another_nodes_wallet() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), vec![]).await;
    let b = start(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    // The Bitcoin chain is older than the wallet: its BTC side starts at its birthday, past
    // genesis (and must still connect its first block to the chain it knows).
    a.mainchain
        .as_ref()
        .unwrap()
        .rpc_client()
        .unwrap()
        .call(
            "generatetoaddress",
            json!([5, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]),
        )
        .await
        .unwrap();

    let info = ok(&a, "getwalletinfo", json!([])).await;
    assert_eq!(info["exists"], json!(false), "{info}");
    let created = ok(&a, "createwallet", json!([PASS])).await;
    assert_eq!(created["words"].as_array().unwrap().len(), 24);
    let info = ok(&a, "getwalletinfo", json!([])).await;
    assert_eq!(
        (info["exists"].clone(), info["unlocked"].clone()),
        (json!(true), json!(true))
    );
    let mining = info["mining_address"].as_str().unwrap().to_string();
    assert!(
        mining.starts_with("bcrt1p"),
        "a BIP-86 taproot address: {mining}"
    );
    // The node's own miner now pays the wallet.
    assert_eq!(a.mining.script().await, Some(script(&mining)));
    ok(&b, "createwallet", json!(["another passphrase"])).await;

    // Shares mined to the wallet: immature, then spendable.
    let mut miner = TestChain::new(params()).unwrap();
    mine(&a, &mut miner, &script(&mining), 2, vec![]).await;
    let other = p2share_testkit::TestKey::from_seed(9).script(p2share_testkit::Kind::P2wpkh);
    wait_for(10, "the wallet sees its sharebases", || async {
        let b = ok(&a, "getwalletbalances", json!([])).await;
        b["shares"]["immature"].as_u64().unwrap() > 0
    })
    .await;
    mine(&a, &mut miner, &other, 4, vec![]).await;
    let balances = ok(&a, "getwalletbalances", json!([])).await;
    let spendable = balances["shares"]["spendable"].as_u64().unwrap();
    assert_eq!(spendable, 2 * 50 * 100_000_000, "{balances}");
    assert!(balances["shares"]["eligible"].as_u64().unwrap() > 0);

    // Bad input: clear errors, nothing changed.
    let to_b = ok(&b, "getnewaddress", json!([])).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    let e = err(&a, "sendshares", json!(["bc1qnotanaddress", "1"])).await;
    assert!(e.contains("neither an address"), "{e}");
    let e = err(&a, "sendshares", json!([to_b, "1000"])).await;
    assert!(e.to_lowercase().contains("insufficient"), "{e}");
    let e = err(&a, "sendshares", json!([to_b, "1.123456789"])).await;
    assert!(e.contains("8 decimal places"), "{e}");
    let e = err(&a, "unlockwallet", json!(["wrong"])).await;
    assert!(e.contains("wrong passphrase"), "{e}");
    ok(&a, "lockwallet", json!([])).await;
    let e = err(&a, "sendshares", json!([to_b, "1"])).await;
    assert!(e.contains("locked"), "{e}");
    assert_eq!(
        ok(&a, "getwalletbalances", json!([])).await,
        balances,
        "nothing changed"
    );
    ok(&a, "unlockwallet", json!([PASS])).await;

    // Send 30 shares to b's wallet: it reaches b's mempool over libp2p, then a share confirms it.
    let sent = ok(&a, "sendshares", json!([to_b, "30"])).await;
    let txid = sent["txid"].as_str().unwrap().to_string();
    wait_for(10, "b's wallet sees the incoming shares", || async {
        let bal = ok(&b, "getwalletbalances", json!([])).await;
        bal["shares"]["incoming"].as_u64().unwrap() == 30 * 100_000_000
    })
    .await;
    let tx = a
        .node
        .mempool_txs(&[bitcoin::Txid::from_str(&txid).unwrap()])
        .await
        .remove(0);
    mine(&a, &mut miner, &other, 1, vec![tx]).await;
    wait_for(10, "b's wallet holds them", || async {
        let bal = ok(&b, "getwalletbalances", json!([])).await;
        bal["shares"]["spendable"].as_u64().unwrap() == 30 * 100_000_000
    })
    .await;
    let history = ok(&a, "listwallettransactions", json!([])).await;
    let entry = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["txid"] == json!(txid))
        .unwrap()
        .clone();
    assert!(entry["confirmations"].as_u64().unwrap() >= 1, "{entry}");
    assert!(entry["fee"].as_u64().unwrap() > 0, "{entry}");
    assert_eq!(
        history["total"],
        json!(3),
        "two sharebases and the send: {history}"
    );
    let left = ok(&a, "getwalletbalances", json!([])).await["shares"]["spendable"]
        .as_u64()
        .unwrap();
    assert_eq!(
        left,
        spendable - 30 * 100_000_000 - entry["fee"].as_u64().unwrap()
    );

    // A Bitcoin coinbase paying the wallet's share script lands in its BTC wallet as a payout.
    let btc = a.mainchain.as_ref().unwrap().rpc_client().unwrap();
    btc.call("generatetoaddress", json!([1, mining]))
        .await
        .unwrap();
    wait_for(15, "the payout appears", || async {
        let p = ok(&a, "listpayouts", json!([])).await;
        p.as_array().unwrap().len() == 1
    })
    .await;
    let payouts = ok(&a, "listpayouts", json!([])).await;
    assert_eq!(
        payouts[0]["amount"],
        json!(50 * 100_000_000u64),
        "{payouts}"
    );
    assert_eq!(payouts[0]["blocks_to_maturity"], json!(99), "{payouts}");
    let bal = ok(&a, "getwalletbalances", json!([])).await;
    assert_eq!(bal["btc"]["immature"], json!(50 * 100_000_000u64), "{bal}");

    // Once the payout is spendable, `createpsbt` gives a hardware wallet an unsigned payment,
    // with the wallet locked: it spends the payout, pays the address and names each input's
    // coin and taproot key origin for the signer.
    btc.call(
        "generatetoaddress",
        json!([100, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]),
    )
    .await
    .unwrap();
    wait_for(30, "the payout matures", || async {
        let b = ok(&a, "getwalletbalances", json!([])).await;
        b["btc"]["confirmed"] == json!(50 * 100_000_000u64)
    })
    .await;
    ok(&a, "lockwallet", json!([])).await;
    let e = err(&a, "sendbtc", json!([to_b, "1.5"])).await;
    assert!(e.contains("locked"), "{e}");
    let psbt = ok(&a, "createpsbt", json!([to_b, "1.5"])).await["psbt"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine as _;
    let psbt = bitcoin::Psbt::deserialize(
        &base64::engine::general_purpose::STANDARD
            .decode(&psbt)
            .unwrap(),
    )
    .unwrap();
    let tx = &psbt.unsigned_tx;
    assert!(tx
        .output
        .iter()
        .any(|o| o.script_pubkey == script(&to_b) && o.value.to_sat() == 150_000_000));
    assert!(tx.input.iter().all(|i| i.witness.is_empty()), "unsigned");
    assert!(tx.is_explicitly_rbf());
    for input in &psbt.inputs {
        assert!(input.witness_utxo.is_some(), "{input:?}");
        assert!(input.tap_internal_key.is_some(), "{input:?}");
        assert!(!input.tap_key_origins.is_empty(), "{input:?}");
    }
    let e = err(&a, "createpsbt", json!([to_b, "100"])).await;
    assert!(e.to_lowercase().contains("insufficient"), "{e}");
    for app in [a, b] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_wallet_finds_its_coins_and_bad_seeds_are_refused() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), vec![]).await;
    let words = ok(&a, "createwallet", json!([PASS])).await["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let e = err(&a, "createwallet", json!([PASS])).await;
    assert!(e.contains("already exists"), "{e}");
    let mining = ok(&a, "getwalletinfo", json!([])).await["mining_address"]
        .as_str()
        .unwrap()
        .to_string();
    let mut miner = TestChain::new(params()).unwrap();
    mine(&a, &mut miner, &script(&mining), 1, vec![]).await;
    let before = ok(&a, "getwalletbalances", json!([])).await;
    a.shutdown().await;

    // A corrupt seed file: a clear error at unlock, nothing else changes.
    let seed = dirs[0].path().join("wallet.seed");
    let good = std::fs::read(&seed).unwrap();
    let mut bad = good.clone();
    bad[80] ^= 1;
    std::fs::write(&seed, &bad).unwrap();
    let a = start(dirs[0].path(), vec![]).await;
    let info = ok(&a, "getwalletinfo", json!([])).await;
    assert_eq!(
        (info["exists"].clone(), info["unlocked"].clone()),
        (json!(true), json!(false))
    );
    let e = err(&a, "unlockwallet", json!([PASS])).await;
    assert!(
        e.contains("wrong passphrase") || e.contains("corrupt"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&seed).unwrap(),
        bad,
        "the file is left as it was"
    );
    std::fs::write(&seed, &good).unwrap();
    ok(&a, "unlockwallet", json!([PASS])).await;
    assert_eq!(
        ok(&a, "getwalletbalances", json!([])).await,
        before,
        "still watched"
    );
    a.shutdown().await;

    // Restore on another node: bad words are named; the right ones give the same addresses.
    let b = start(dirs[1].path(), vec![]).await;
    let mut typo = words.clone();
    typo[4] = "zzzz".into();
    let e = err(&b, "restorewallet", json!([typo.join(" "), PASS])).await;
    assert!(e.contains("word 5"), "{e}");
    let mut swapped = words.clone();
    swapped.swap(0, 1);
    if swapped != words {
        let e = err(&b, "restorewallet", json!([swapped.join(" "), PASS])).await;
        assert!(e.contains("checksum"), "{e}");
    }
    assert_eq!(
        ok(&b, "getwalletinfo", json!([])).await["exists"],
        json!(false)
    );
    ok(&b, "restorewallet", json!([words.join(" "), "new pass"])).await;
    assert_eq!(
        ok(&b, "getwalletinfo", json!([])).await["mining_address"],
        json!(mining)
    );
    b.shutdown().await;
}
