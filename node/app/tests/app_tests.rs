//! The node as a library: it starts, serves, restarts on the same store and shuts down cleanly;
//! its errors are typed; the JSON-RPC adapter answers as the typed layer does; mining starts,
//! stops and re-threads at run time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bitcoin::hex::DisplayHex;
use p2share_app::config::{AppConfig, BitcoinConfig};
use p2share_app::devnet::{block_target, fitted_bits, measure_hashrate};
use p2share_app::embedded;
use p2share_app::{App, AppError};
use p2share_consensus::ChainParams;
use p2share_regtest::Policy;
use p2share_service::NodeEvent;
use p2share_testkit::{Kind, TestChain, TestKey};
use serde_json::{json, Value};

async fn rpc(app: &App, method: &str, params: Value) -> Value {
    let reply: Value = reqwest::Client::new()
        .post(format!("http://{}/", app.api_addr.unwrap()))
        .basic_auth(app.credentials.user(), Some(app.credentials.password()))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply["error"].is_null(), "{method}: {reply}");
    reply["result"].clone()
}

async fn wait_until<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_starts_serves_restarts_on_the_same_store_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let params = ChainParams::regtest();
    let mut miner = TestChain::new(params.clone()).unwrap();
    let script = TestKey::from_seed(1).script(Kind::P2wpkh);
    let app = App::start(AppConfig::loopback(params.clone(), dir.path(), vec![]))
        .await
        .unwrap();
    let mut events = app.subscribe();
    for _ in 0..5 {
        let (share, _) = miner.mine(&script, vec![]).unwrap();
        let reply = app
            .api
            .submit_share(&share.encode().to_lower_hex_string())
            .await
            .unwrap();
        assert_eq!(reply.outcome, "extended");
    }
    // The events say so, typed.
    let mut tips = 0;
    while tips < 5 {
        if let NodeEvent::Tip { height, .. } = events.recv().await.unwrap() {
            tips = height;
        }
    }
    let info = app.api.chain_info().await;
    assert_eq!(info.height, 5);
    let tip = info.tip.clone();
    // Served over HTTP too.
    assert_eq!(
        rpc(&app, "getsharechaininfo", json!([])).await["tip"],
        json!(tip)
    );
    app.shutdown().await;
    // The cookie is gone, the store is consistent: a new App starts at the same tip.
    assert!(!dir.path().join(".cookie").exists());
    let again = App::start(AppConfig::loopback(params, dir.path(), vec![]))
        .await
        .unwrap();
    assert_eq!(again.api.chain_info().await.tip, tip);
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors_tell_a_port_in_use_from_a_data_directory_of_another_network() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut config = AppConfig::loopback(ChainParams::regtest(), dir.path(), vec![]);
    config.api.as_mut().unwrap().bind = addr;
    match App::start(config).await {
        Err(AppError::PortInUse {
            what: "API",
            addr: a,
        }) => assert_eq!(a, addr),
        other => panic!("expected PortInUse, got {other:?}"),
    }
    // The failed start closed its store: the same directory opens again.
    let app = App::start(AppConfig::loopback(
        ChainParams::regtest(),
        dir.path(),
        vec![],
    ))
    .await
    .unwrap();
    app.shutdown().await;
    let other = ChainParams::devnet(1_795_628_914, 0x207f_ffff);
    match App::start(AppConfig::loopback(other, dir.path(), vec![])).await {
        Err(e @ AppError::OtherNetwork { .. }) => {
            assert!(e.to_string().contains("belongs to the network"), "{e}")
        }
        other => panic!("expected OtherNetwork, got {other:?}"),
    }
}

/// Every read-only method answers the same over JSON-RPC as the typed layer serialized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_rpc_adapter_and_the_typed_layer_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let params = ChainParams::regtest();
    let mut miner = TestChain::new(params.clone()).unwrap();
    let script = TestKey::from_seed(2).script(Kind::P2wpkh);
    let app = App::start(AppConfig::loopback(params, dir.path(), vec![]))
        .await
        .unwrap();
    for _ in 0..3 {
        let (share, _) = miner.mine(&script, vec![]).unwrap();
        app.api
            .submit_share(&share.encode().to_lower_hex_string())
            .await
            .unwrap();
    }
    let api = &app.api;
    let hex = script.to_hex_string();
    let tip: p2share_consensus::ShareHash = api.chain_info().await.tip.parse().unwrap();
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "getsharechaininfo",
            json!([]),
            json!(api.chain_info().await),
        ),
        (
            "getshare",
            json!([tip.to_string()]),
            json!(api.share(&tip).await.unwrap()),
        ),
        (
            "getsharebyheight",
            json!([2]),
            json!(api.share_at(2).await.unwrap()),
        ),
        (
            "getselectedshare",
            json!([]),
            json!(api.next_payout().await),
        ),
        (
            "listunspent",
            json!([hex]),
            json!(api.unspent(&script).await),
        ),
        (
            "getbalance",
            json!([hex]),
            json!(api.balance(&script).await),
        ),
        (
            "getshareranges",
            json!([hex]),
            json!(api.share_ranges(&script).await),
        ),
        (
            "listbitcoinblocks",
            json!([]),
            json!(api.bitcoin_blocks(50).await.unwrap()),
        ),
        ("getmempoolinfo", json!([]), json!(api.mempool_info().await)),
        ("getrawmempool", json!([]), json!(api.raw_mempool().await)),
        (
            "getstoreinfo",
            json!([]),
            json!(api.store_info().await.unwrap()),
        ),
        (
            "getmininginfo",
            json!([]),
            json!(api.mining_info().await.unwrap()),
        ),
        ("getodds", json!([hex]), json!(api.odds(&script).await)),
        (
            "getnetworkparams",
            json!([]),
            json!(api.network_params().await),
        ),
        ("getsyncstatus", json!([]), json!(api.sync_status())),
    ];
    for (method, params, typed) in cases {
        // Through the same JSON text parser on both sides (floats' last digit).
        let typed: Value = serde_json::from_str(&typed.to_string()).unwrap();
        assert_eq!(rpc(&app, method, params).await, typed, "{method}");
    }
    let info = rpc(&app, "getnodeinfo", json!([])).await;
    assert_eq!(info["network"], "regtest");
    assert_eq!(info["bitcoin"]["kind"], "none");
    assert_eq!(info["api_bind"], json!(app.api_addr.unwrap().to_string()));
    app.shutdown().await;
}

/// A devnet node whose miner is started, re-threaded and stopped over the API while it mines on
/// the embedded regtest chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mining_starts_rethreads_and_stops_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    // About five shares a second for one thread.
    let params = ChainParams::devnet(now, fitted_bits(measure_hashrate(1, 100) / 5.0, 1));
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = AppConfig::loopback(params.clone(), &dir.path().join("node"), vec![]);
    config.bitcoin = BitcoinConfig::Embedded(embedded::Config {
        datadir: dir.path().join("mainchain"),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy {
            block_target: block_target(&params, 3),
        },
    });
    let script = TestKey::from_seed(3).script(Kind::P2wpkh);
    config.mining.script = Some(script.clone());
    let app = App::start(config).await.unwrap();
    let mut events = app.subscribe();
    assert!(!app.api.mining_info().await.unwrap().mining);
    let state = rpc(&app, "setmining", json!([true, 1])).await;
    assert_eq!(
        (state["mining"].clone(), state["threads"].clone()),
        (json!(true), json!(1))
    );
    // A found share and a hashrate event arrive.
    let (mut found, mut rate) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(found && rate) {
        assert!(
            Instant::now() < deadline,
            "no found share or hashrate event"
        );
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Ok(NodeEvent::FoundShare { .. })) => found = true,
            Ok(Ok(NodeEvent::Hashrate(h))) => rate |= h.hashrate > 0.0,
            _ => {}
        }
    }
    // Re-threaded: the counters carry over.
    let before = app.api.mining_info().await.unwrap().shares_found.unwrap();
    let state = app.api.set_mining(true, Some(2)).await.unwrap();
    assert!(state.mining && state.threads == 2);
    wait_until(30, "the re-threaded miner's per-thread rates", || async {
        let info = app.api.mining_info().await.unwrap();
        info.hashers.unwrap()[0].thread_hashrates.len() == 2 && info.shares_found.unwrap() > before
    })
    .await;
    // Stopped: the hasher threads are joined and the state says so.
    let state = app.api.set_mining(false, None).await.unwrap();
    assert!(!state.mining);
    let info = app.api.mining_info().await.unwrap();
    assert!(!info.mining && info.hashrate == 0.0);
    // The Bitcoin blocks listed are exactly those the embedded chain accepted: shares that meet
    // its devnet policy target, not every share meeting regtest's header bits.
    let listed: std::collections::HashSet<String> = app
        .api
        .bitcoin_blocks(1_000)
        .await
        .unwrap()
        .iter()
        .map(|b| b.bitcoin_hash.clone())
        .collect();
    let accepted: std::collections::HashSet<String> = info
        .blocks
        .unwrap_or_default()
        .iter()
        .filter(|b| b.outcome == "accepted")
        .map(|b| b.block_hash.clone())
        .collect();
    assert_eq!(listed, accepted);
    assert!(
        listed.len() < info.height as usize,
        "not every share is a block"
    );
    // Bad thread counts are refused with the limit named.
    let e = app.api.set_mining(true, Some(0)).await.unwrap_err();
    assert!(e.to_string().contains("threads must be between 1"), "{e}");
    // The shares pay the configured script.
    let v = app.api.balance(&script).await;
    assert!(v.total > 0);
    app.shutdown().await;
}

/// The dashboard is behind the login; the login hands out a session that opens the API, the
/// WebSocket origin check and `/metrics`; a 30 MB body is refused with 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_login_metrics_and_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(AppConfig::loopback(
        ChainParams::regtest(),
        dir.path(),
        vec![],
    ))
    .await
    .unwrap();
    let base = format!("http://{}", app.api_addr.unwrap());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Without credentials: the page redirects to the login, the API and metrics refuse.
    let r = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    assert_eq!(
        client
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "getsyncstatus"});
    assert_eq!(
        client
            .post(format!("{base}/"))
            .json(&call)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // A wrong password is refused; the cookie line pasted whole is accepted.
    let bad = client
        .post(format!("{base}/login"))
        .json(&json!({"user": "__cookie__", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let line = format!("{}:{}", app.credentials.user(), app.credentials.password());
    let ok = client
        .post(format!("{base}/login"))
        .json(&json!({"user": "", "password": line}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    // With the session: JSON-RPC (JSON only), metrics, the page.
    let r = client
        .post(format!("{base}/"))
        .header("cookie", &session)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let form = client
        .post(format!("{base}/"))
        .header("cookie", &session)
        .header("content-type", "text/plain")
        .body(call.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        form.status(),
        401,
        "a cross-site form cannot ride on the session"
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for m in [
        "p2share_peers 0",
        "p2share_height{of=\"node\"} 0",
        "# TYPE p2share_odds gauge",
    ] {
        assert!(metrics.contains(m), "{m} missing from:\n{metrics}");
    }
    let page = client
        .get(format!("{base}/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    // The one-click link.
    let r = client
        .get(format!("{base}/login?token={}", app.credentials.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers().contains_key("set-cookie"));
    // Logged out: the session no longer opens anything.
    client
        .post(format!("{base}/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let r = client
        .get(format!("{base}/metrics"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // 30 MB: 413, not a parse error.
    let big = vec![b' '; 30 * 1024 * 1024];
    let r = client
        .post(format!("{base}/"))
        .basic_auth(app.credentials.user(), Some(app.credentials.password()))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.shutdown().await;
}
