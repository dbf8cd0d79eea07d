//! Support for the network scenario tests: real daemons (store, chain, mempool, libp2p, API) on
//! loopback in one process, a test miner, and a JSON-RPC client over real HTTP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use p2share_app::config::{AppConfig, BitcoinConfig, P2pSection};
use p2share_app::embedded::RegtestMainchain;
use p2share_app::App;
use p2share_consensus::{ChainParams, Share};
use p2share_p2p::Multiaddr;
use p2share_testkit::{Kind, TestChain, TestKey};
use serde_json::{json, Value};

/// Starts a node on loopback (ephemeral ports, no NAT helpers, 3-second bans).
pub async fn start_node(dir: &Path, peers: Vec<Multiaddr>, window: u32) -> App {
    start_pruned(dir, peers, window, None).await
}

/// [`start_node`] with body pruning.
pub async fn start_pruned(
    dir: &Path,
    peers: Vec<Multiaddr>,
    window: u32,
    prune_depth: Option<u32>,
) -> App {
    start_on(ChainParams::regtest(), dir, peers, window, prune_depth).await
}

/// [`start_pruned`] on any network.
pub async fn start_on(
    params: ChainParams,
    dir: &Path,
    peers: Vec<Multiaddr>,
    window: u32,
    prune_depth: Option<u32>,
) -> App {
    if let Ok(filter) = std::env::var("P2SHARE_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    App::start(loopback_config(params, dir, peers, window, prune_depth))
        .await
        .unwrap()
}

/// The config of [`start_on`].
pub fn loopback_config(
    params: ChainParams,
    dir: &Path,
    peers: Vec<Multiaddr>,
    window: u32,
    prune_depth: Option<u32>,
) -> AppConfig {
    let mut config = AppConfig::loopback(params, dir, peers);
    config.node.window = window;
    config.node.prune_depth = prune_depth;
    config.node.p2p = P2pSection {
        nat: Some(false),
        ban_seconds: Some(3),
        ..P2pSection::default()
    };
    config
}

/// A node on loopback ready to mine with one thread on `mainchain`, paying `script` (start it
/// with `mining.start`).
pub async fn start_miner_node(
    params: ChainParams,
    dir: &Path,
    peers: Vec<Multiaddr>,
    mainchain: &RegtestMainchain,
    script: bitcoin::ScriptBuf,
) -> App {
    let mut config = loopback_config(params, dir, peers, 2000, None);
    config.bitcoin = BitcoinConfig::Core {
        url: mainchain.rpc_url(),
        auth: p2share_mainchain::rpc::Auth::CookieFile(mainchain.cookie_path().to_path_buf()),
    };
    config.mining.script = Some(script);
    config.mining.threads = 1;
    config.mining.start = false;
    App::start(config).await.unwrap()
}

/// The node's dialable address (`…/p2p/<peer id>`).
pub async fn p2p_addr(d: &App) -> Multiaddr {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(a) = d.dial_addrs().await.into_iter().next() {
            return a;
        }
        assert!(Instant::now() < deadline, "no listen address");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One JSON-RPC 2.0 call over HTTP with the node's cookie credentials.
pub async fn rpc(d: &App, method: &str, params: Value) -> Result<Value, Value> {
    let client = reqwest::Client::new();
    let reply: Value = client
        .post(format!("http://{}/", d.api_addr.unwrap()))
        .basic_auth(d.credentials.user(), Some(d.credentials.password()))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match reply.get("error") {
        Some(e) if !e.is_null() => Err(e.clone()),
        _ => Ok(reply["result"].clone()),
    }
}

/// Polls `f` until it is true or `secs` pass.
pub async fn wait_for<F, Fut>(secs: u64, what: &str, mut f: F)
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

/// A miner on the regtest network with its own copy of the chain.
pub fn miner(seed: u64) -> (TestChain, bitcoin::ScriptBuf) {
    (
        TestChain::new(ChainParams::regtest()).unwrap(),
        TestKey::from_seed(seed).script(Kind::P2wpkh),
    )
}

/// Mines `n` shares on the miner's own chain.
pub fn mine(t: &mut TestChain, script: &bitcoin::ScriptBuf, n: usize) -> Vec<Share> {
    (0..n).map(|_| t.mine(script, vec![]).unwrap().0).collect()
}

/// Tip (hash, height) of a node.
pub async fn tip(d: &App) -> (String, u32) {
    let (h, height) = d.node.tip().await;
    (h.to_string(), height)
}

/// A node with its own embedded mainchain (`dir/bitcoin`): devnet nodes relay it to one chain.
pub async fn start_embedded(
    params: ChainParams,
    dir: &Path,
    peers: Vec<Multiaddr>,
    swap: Option<p2share_app::config::SwapOptions>,
) -> App {
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = loopback_config(params, dir, peers, 2000, None);
    config.bitcoin = BitcoinConfig::Embedded(p2share_app::embedded::Config {
        datadir: dir.join("bitcoin"),
        rpc_bind: any,
        esplora_bind: any,
        policy: p2share_regtest::Policy::default(),
    });
    if let Some(s) = swap {
        config.swap = s;
    }
    App::start(config).await.unwrap()
}
