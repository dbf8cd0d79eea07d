//! The Bitcoin Core RPC client against a JSON-RPC server on loopback that speaks Core's HTTP
//! dialect (p2share-rpc, the server the embedded regtest mainchain uses): cookie rotation on a
//! restart, BIP-22 verdicts, RPC errors with their codes, long-poll parameters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::path::Path;

use bitcoin::hashes::Hash;
use bitcoin::BlockHash;
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mainchain::{ErrorKind, Mainchain, SubmitResult};
use p2share_rpc::{CookieFile, RpcError, RpcServer};
use serde_json::{json, Value};

fn server(cookie: &CookieFile) -> RpcServer {
    RpcServer::new(cookie.credentials().clone())
        .method("getbestblockhash", |_p: Value| async move { Ok(json!(BlockHash::from_byte_array([7; 32]))) })
        .method("getblockchaininfo", |_p: Value| async move {
            Ok(json!({"chain": "regtest", "blocks": 12, "bestblockhash": BlockHash::from_byte_array([7; 32])}))
        })
        .method("submitblock", |p: Value| async move {
            let hex: String = RpcError::required(&p, 0, "hexdata")?;
            // A BIP-22 verdict: `null` accepts; a string would be the reject reason.
            Ok(if hex.is_empty() { json!("bad-blk-length") } else { Value::Null })
        })
        .method("sendrawtransaction", |_p: Value| async move { Err(RpcError::new(-26, "txn-mempool-conflict")) })
        .method("getblocktemplate", |p: Value| async move {
            let req: Value = RpcError::required(&p, 0, "template_request")?;
            if req["rules"] != json!(["segwit"]) {
                return Err(RpcError::new(-8, "getblocktemplate must be called with the segwit rule set"));
            }
            Err(RpcError::new(-10, format!("longpollid={}", req["longpollid"])))
        })
}

async fn start(
    cookie: &CookieFile,
    addr: Option<std::net::SocketAddr>,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener =
        tokio::net::TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
    let local = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server(cookie).serve(listener, async move {
        let _ = rx.await;
    }));
    (local, tx)
}

fn client(addr: std::net::SocketAddr, cookie: &Path) -> BitcoindRpc {
    BitcoindRpc::new(RpcConfig::new(
        format!("http://{addr}"),
        Auth::CookieFile(cookie.to_path_buf()),
    ))
    .unwrap()
}

#[tokio::test]
async fn calls_succeed_and_a_restarted_server_with_a_new_cookie_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".cookie");
    let cookie = CookieFile::create(&path).unwrap();
    let (addr, stop) = start(&cookie, None).await;
    let rpc = client(addr, &path);
    assert_eq!(
        rpc.best_block_hash().await.unwrap(),
        BlockHash::from_byte_array([7; 32])
    );
    let tip = rpc.tip().await.unwrap();
    assert_eq!(tip.height, 12);

    // "Restart": a new cookie at the same path, a new server on the same address.
    stop.send(()).unwrap();
    drop(cookie);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let cookie = CookieFile::create(&path).unwrap();
    let (_, _stop2) = start(&cookie, Some(addr)).await;
    assert_eq!(
        rpc.best_block_hash().await.unwrap(),
        BlockHash::from_byte_array([7; 32])
    );
}

#[tokio::test]
async fn server_verdicts_keep_their_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".cookie");
    let cookie = CookieFile::create(&path).unwrap();
    let (addr, _stop) = start(&cookie, None).await;
    let rpc = client(addr, &path);

    let block = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
    assert_eq!(
        rpc.submit_block(&block).await.unwrap(),
        SubmitResult::Accepted
    );

    let tx = block.txdata[0].clone();
    let e = rpc.send_raw_transaction(&tx).await.unwrap_err();
    assert_eq!(e.call, "sendrawtransaction");
    assert!(
        matches!(e.kind, ErrorKind::Rpc { code: -26, ref message } if message == "txn-mempool-conflict"),
        "{e}"
    );

    let e = rpc.block_template(Some("abc")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "getblocktemplate: error -10: longpollid=\"abc\""
    );

    // Unknown methods and bad credentials are distinguishable.
    let e = rpc.estimate_smart_fee(6).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Rpc { code: -32601, .. }), "{e}");
    let wrong = BitcoindRpc::new(RpcConfig::new(
        format!("http://{addr}"),
        Auth::UserPass {
            user: "u".into(),
            password: "p".into(),
        },
    ))
    .unwrap();
    let e = wrong.block_count().await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Auth { status: 401 }), "{e}");
}
