//! The embedded regtest mainchain over real HTTP on loopback, driven by the production clients
//! (`p2share-mainchain`), as the node and wallet will use it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod common;
use common::start;

use bitcoin::{Address, Amount, Network, OutPoint, TxOut};
use p2share_app::embedded::RegtestMainchain;
use p2share_mainchain::esplora::EsploraClient;
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mainchain::{ErrorKind, Mainchain, SubmitResult};
use p2share_regtest::blockbuilder::{grind, BlockAssembler};
use p2share_testkit::{spend, Kind, Spendable, TestKey};
use serde_json::{json, Value};

fn rpc_client(service: &RegtestMainchain) -> BitcoindRpc {
    BitcoindRpc::new(RpcConfig::new(
        service.rpc_url(),
        Auth::CookieFile(service.cookie_path().to_path_buf()),
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_clients_mine_spend_and_follow_the_embedded_chain() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(&dir).await;
    let rpc = rpc_client(&service);
    let esplora = EsploraClient::new(service.esplora_url()).unwrap();
    let key = TestKey::from_seed(1);
    let script = key.script(Kind::P2wpkh);
    let address = Address::from_script(&script, Network::Regtest).unwrap();

    assert_eq!(rpc.tip().await.unwrap().height, 0);
    let hashes = rpc
        .call("generatetoaddress", json!([101, address.to_string()]))
        .await
        .unwrap();
    assert_eq!(hashes.as_array().unwrap().len(), 101);
    assert_eq!(esplora.tip_height().await.unwrap(), 101);
    assert_eq!(
        esplora.tip_hash().await.unwrap(),
        rpc.best_block_hash().await.unwrap()
    );

    // Spend the first (now mature) coinbase through Esplora's broadcast.
    let first = rpc.block_hash(1).await.unwrap();
    let block1 = rpc.block(&first).await.unwrap();
    let coinbase = &block1.txdata[0];
    let coin = Spendable {
        outpoint: OutPoint {
            txid: coinbase.compute_txid(),
            vout: 0,
        },
        output: coinbase.output[0].clone(),
        key: key.clone(),
        kind: Kind::P2wpkh,
    };
    let pay_to = TestKey::from_seed(2).script(Kind::P2tr);
    let tx = spend(
        &[coin],
        vec![TxOut {
            value: coinbase.output[0].value - Amount::from_sat(10_000),
            script_pubkey: pay_to.clone(),
        }],
    );
    let txid = esplora.broadcast(&tx).await.unwrap();
    assert_eq!(txid, tx.compute_txid());
    assert!(!esplora.tx_status(&txid).await.unwrap().unwrap().confirmed);
    let outspends = esplora
        .outspends(&coinbase.compute_txid())
        .await
        .unwrap()
        .unwrap();
    assert!(outspends[0].spent && outspends[0].txid == Some(txid));

    // A template carries it; a block built from the template by the test is accepted.
    let template = rpc.block_template(None).await.unwrap();
    assert_eq!(template.height, 102);
    assert_eq!(template.transactions.len(), 1);
    assert_eq!(template.fees(), Amount::from_sat(10_000));
    let mut assembler = BlockAssembler::new(
        template.previous_block_hash,
        template.height,
        template.cur_time,
        script.clone(),
    );
    assembler.coinbase_value = template.coinbase_value;
    let mut block =
        assembler.assemble(template.transactions.iter().map(|t| t.tx.clone()).collect());
    assert!(grind(&mut block, template.target, 1 << 20));
    assert_eq!(
        rpc.submit_block(&block).await.unwrap(),
        SubmitResult::Accepted
    );
    assert_eq!(
        rpc.submit_block(&block).await.unwrap(),
        SubmitResult::Duplicate
    );
    let status = esplora.tx_status(&txid).await.unwrap().unwrap();
    assert!(status.confirmed && status.block_height == Some(102));

    // Esplora's script views follow.
    let history = esplora.script_history(&pay_to).await.unwrap();
    assert_eq!(history.len(), 1);
    let utxos = esplora.script_utxos(&pay_to).await.unwrap();
    assert_eq!(utxos.len(), 1);
    assert_eq!(utxos[0].value, tx.output[0].value.to_sat());
    assert!(!esplora.fee_estimates().await.unwrap().is_empty());
    assert!(rpc.estimate_smart_fee(6).await.unwrap().is_some());
    let header = esplora
        .block_header(&block.block_hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header, block.header);
    assert!(
        esplora
            .block_status(&block.block_hash())
            .await
            .unwrap()
            .unwrap()
            .in_best_chain
    );
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitblock_answers_with_cores_reason_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(&dir).await;
    let rpc = rpc_client(&service);
    let tip = rpc.tip().await.unwrap();
    let header = rpc.block_header(&tip.hash).await.unwrap();
    let mut block = BlockAssembler::new(
        tip.hash,
        1,
        header.time + 1,
        TestKey::from_seed(3).script(Kind::P2wpkh),
    )
    .assemble(vec![]);
    block.header.merkle_root =
        bitcoin::TxMerkleNode::from_raw_hash(bitcoin::hashes::Hash::all_zeros());
    assert!(grind(
        &mut block,
        bitcoin::pow::Target::MAX_ATTAINABLE_REGTEST,
        1 << 20
    ));
    assert_eq!(
        rpc.submit_block(&block).await.unwrap(),
        SubmitResult::Rejected("bad-txnmrklroot".into())
    );
    assert_eq!(rpc.tip().await.unwrap(), tip);
}

async fn raw(url: &str, cookie: Option<(&str, &str)>, body: &str) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.post(url).body(body.to_string());
    if let Some((u, p)) = cookie {
        req = req.basic_auth(u, Some(p));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_the_servers_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(&dir).await;
    let cookie = std::fs::read_to_string(service.cookie_path()).unwrap();
    let (user, pass) = cookie.split_once(':').unwrap();
    let url = service.rpc_url();
    let auth = Some((user, pass));

    assert_eq!(raw(&url, None, "{}").await.0, 401);
    assert_eq!(raw(&url, Some((user, "nope")), "{}").await.0, 401);
    let (s, v) = raw(&url, auth, "{not json").await;
    assert_eq!((s, v["error"]["code"].clone()), (500, json!(-32700)));
    let (s, v) = raw(&url, auth, r#"{"id":1,"method":"getwalletinfo"}"#).await;
    assert_eq!((s, v["error"]["code"].clone()), (404, json!(-32601)));
    let (_, v) = raw(
        &url,
        auth,
        r#"{"id":1,"method":"getblockhash","params":["ten"]}"#,
    )
    .await;
    assert_eq!(v["error"]["code"], -3);
    let (_, v) = raw(
        &url,
        auth,
        r#"{"id":1,"method":"getblockhash","params":[99]}"#,
    )
    .await;
    assert_eq!(v["error"]["message"], "Block height out of range");
    let (_, v) = raw(
        &url,
        auth,
        r#"{"id":1,"method":"sendrawtransaction","params":["zz"]}"#,
    )
    .await;
    assert_eq!(v["error"]["code"], -22);
    let (_, v) = raw(
        &url,
        auth,
        r#"{"id":1,"method":"getblocktemplate","params":[{}]}"#,
    )
    .await;
    assert_eq!(v["error"]["code"], -8);
    let (_, v) = raw(
        &url,
        auth,
        r#"{"id":1,"method":"generatetoaddress","params":[1,"not-an-address"]}"#,
    )
    .await;
    assert_eq!(v["error"]["code"], -5);
    let big = format!(
        r#"{{"id":1,"method":"submitblock","params":["{}"]}}"#,
        "00".repeat(20 * 1024 * 1024)
    );
    // The server answers 413 as soon as the declared length is too big and closes the
    // connection; a client still sending its body may see that as a reset instead.
    match reqwest::Client::new()
        .post(&url)
        .basic_auth(user, Some(pass))
        .body(big)
        .send()
        .await
    {
        Ok(resp) => assert_eq!(resp.status().as_u16(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }

    let esplora = service.esplora_url();
    let get = |path: &str| {
        let u = format!("{esplora}{path}");
        async move {
            let r = reqwest::get(u).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/tx/xyz").await.0, 400);
    assert_eq!(get(&format!("/tx/{}", "ab".repeat(32))).await.0, 404);
    assert_eq!(get("/block-height/abc").await.0, 400);
    assert_eq!(get("/block-height/5000").await.0, 404);
    assert_eq!(get("/scripthash/00/utxo").await.0, 400);
    let r = reqwest::Client::new()
        .post(format!("{esplora}/tx"))
        .body("deadbeef")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("TX decode failed"));

    // Both still serve.
    let rpc = rpc_client(&service);
    assert_eq!(rpc.block_count().await.unwrap(), 0);
    assert_eq!(get("/blocks/tip/height").await, (200, "0".to_string()));
    let e = rpc.call("getblockheader", json!(["00"])).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Rpc { code: -8, .. }), "{e}");
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_mainchain_resumes_at_the_same_tip() {
    let dir = tempfile::tempdir().unwrap();
    let address = Address::from_script(
        &TestKey::from_seed(4).script(Kind::P2wpkh),
        Network::Regtest,
    )
    .unwrap();
    let tip = {
        let service = start(&dir).await;
        let rpc = rpc_client(&service);
        rpc.call("generatetoaddress", json!([5, address.to_string()]))
            .await
            .unwrap();
        let tip = rpc.tip().await.unwrap();
        service.shutdown().await;
        tip
    };
    let service = start(&dir).await;
    assert_eq!(rpc_client(&service).tip().await.unwrap(), tip);
    service.shutdown().await;
}

/// A long-polling `getblocktemplate` returns as soon as the template changes (here: a new
/// block), with the new template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_returns_when_the_template_changes() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(&dir).await;
    let rpc = std::sync::Arc::new(rpc_client(&service));
    let first = rpc.block_template(None).await.unwrap();
    let id = first.longpoll_id.clone().unwrap();
    let poller = {
        let rpc = rpc.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let t = rpc.block_template(Some(&id)).await.unwrap();
            (t, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !poller.is_finished(),
        "the long poll must wait while nothing changes"
    );
    let address = Address::from_script(
        &TestKey::from_seed(5).script(Kind::P2wpkh),
        Network::Regtest,
    )
    .unwrap();
    rpc.call("generatetoaddress", json!([1, address.to_string()]))
        .await
        .unwrap();
    let (next, waited) = tokio::time::timeout(std::time::Duration::from_secs(20), poller)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.height, first.height + 1);
    assert_ne!(next.longpoll_id, first.longpoll_id);
    assert!(waited < std::time::Duration::from_secs(10));
    service.shutdown().await;
}
