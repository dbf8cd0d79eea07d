//! Mining benchmarks, measured side by side in one run:
//!
//! 1. **Shares per second the node accepts from its own hashers** (a devnet at the pow limit,
//!    where a share takes about two hashes, so the figure is the whole find → validate → store →
//!    new job → hash loop) against the same node accepting ready-made shares one at a time (the
//!    validation and store alone). Reported as a ratio.
//! 2. **Job refresh after a new sharechain tip**: two nodes mining the same devnet; from the
//!    moment a tip (a peer's share or our own) is written to the store to the moment the hashers
//!    have work on it, as the miner measures it (`getmininginfo.tip_refresh_ms`). Goal: p99 ≤ 20 ms.
//! 3. **Job refresh after a new Bitcoin tip**: from the `generatetoaddress` call on the embedded
//!    mainchain to the hashers having work on the new block (template long poll, job build).
//!
//! `cargo bench -p p2share-node --bench mining` (`MINING_BENCH_SECS` sets each run's length,
//! default 10). Under `cargo test` it runs a short smoke version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)] // a bench binary

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bitcoin::{Address, Network};
use p2share_app::devnet;
use p2share_app::embedded::{self as regtest_server, RegtestMainchain};
use p2share_app::{App, AppConfig};
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mining::{start_miner, Miner};
use p2share_p2p::Multiaddr;
use p2share_regtest::Policy;
use p2share_service::Origin;
use p2share_testkit::{Kind, TestChain, TestKey};
use serde_json::json;

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

async fn node(params: &ChainParams, dir: &Path, peers: Vec<Multiaddr>) -> App {
    App::start(AppConfig::loopback(params.clone(), dir, peers))
        .await
        .unwrap()
}

/// The embedded mainchain; `block_target` is its stricter devnet target (`None`: regtest's).
async fn mainchain(dir: &Path, block_target: Option<bitcoin::pow::Target>) -> RegtestMainchain {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    RegtestMainchain::start(regtest_server::Config {
        datadir: dir.to_path_buf(),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy { block_target },
    })
    .await
    .unwrap()
}

fn client(m: &RegtestMainchain) -> BitcoindRpc {
    m.rpc_client().unwrap()
}

async fn addr(d: &App) -> Multiaddr {
    d.dial_addrs().await.remove(0)
}

fn quantiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), v[v.len() - 1])
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("MINING_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10.0 } else { 1.5 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(secs, full));
}

async fn run(secs: f64, full: bool) {
    let script = TestKey::from_seed(1).script(Kind::P2wpkh);
    // --- 1. shares per second from the node's own hasher, against ready-made shares ---
    // Genesis well in the past, so ready-made shares (one a second from genesis) are never
    // ahead of the clock and ASERT stays at the pow limit. A share's time must pass the median
    // of the last 11, so hundreds of shares a second run ahead of the clock; the future-time
    // limit is lifted so that the loop, not that rule, is measured.
    let mut easy = ChainParams::devnet(now() - 100_000, ChainParams::regtest().pow_limit_bits);
    easy.max_future_time = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let baseline_shares = if full { 2_000 } else { 100 };
    let ready: Vec<_> = {
        let mut t = TestChain::new(easy.clone()).unwrap();
        (0..baseline_shares)
            .map(|_| t.mine(&script, vec![]).unwrap().0)
            .collect()
    };
    let n0 = node(&easy, &dir.path().join("ready"), vec![]).await;
    let started = Instant::now();
    for share in ready {
        n0.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
    let ready_rate = f64::from(baseline_shares) / started.elapsed().as_secs_f64();
    n0.shutdown().await;

    let m1 = mainchain(&dir.path().join("btc1"), devnet::block_target(&easy, 50)).await;
    let n1 = node(&easy, &dir.path().join("own"), vec![]).await;
    let miner = start_miner(n1.net.clone(), client(&m1), script.clone(), 1).unwrap();
    // Wait for the first share, then count.
    while miner.stats().await.shares_found == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (s0, t0) = (miner.stats().await.shares_found, Instant::now());
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let stats = miner.stats().await;
    let own_rate = (stats.shares_found - s0) as f64 / t0.elapsed().as_secs_f64();
    miner.stop();
    n1.shutdown().await;
    m1.shutdown().await;
    eprintln!("shares accepted per second (1 hasher thread, devnet at the pow limit):");
    eprintln!("  ready-made shares submitted one by one   {ready_rate:9.1} /s  (baseline)");
    eprintln!(
        "  found by the node's own hasher           {own_rate:9.1} /s  ratio {:.2}  ({} Bitcoin blocks, {} stale, {} refused{})",
        own_rate / ready_rate,
        stats.blocks.len(),
        stats.stale,
        stats.rejected,
        stats.last_reject.map(|r| format!(": {r}")).unwrap_or_default()
    );
    eprintln!(
        "  own tips → new work: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} tips",
        stats.tip_refresh_p50_ms.unwrap_or(f64::NAN),
        stats.tip_refresh_p99_ms.unwrap_or(f64::NAN),
        stats.tip_refresh_max_ms.unwrap_or(f64::NAN),
        stats.tip_refreshes
    );

    // --- 2. two nodes mining one devnet: new tips from the peer and from our own hasher ---
    let rate = devnet::measure_hashrate(1, 200);
    // About ten shares a second from each of the two one-thread hashers.
    let mut params = ChainParams::devnet(now(), devnet::fitted_bits(rate / 10.0, 1));
    params.asert_half_life = 3_600;
    let m2 = mainchain(&dir.path().join("btc2"), devnet::block_target(&params, 50)).await;
    let a = node(&params, &dir.path().join("a"), vec![]).await;
    let b = node(&params, &dir.path().join("b"), vec![addr(&a).await]).await;
    while a.net.p2p().peers().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let miner_a: Miner = start_miner(a.net.clone(), client(&m2), script.clone(), 1).unwrap();
    let miner_b = start_miner(
        b.net.clone(),
        client(&m2),
        TestKey::from_seed(2).script(Kind::P2wpkh),
        1,
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs_f64(secs * 2.0)).await;
    let stats_a = miner_a.stats().await;
    let stats_b = miner_b.stats().await;
    miner_a.stop();
    miner_b.stop();
    a.shutdown().await;
    b.shutdown().await;
    m2.shutdown().await;
    eprintln!(
        "job refresh, two nodes mining one devnet ({} + {} shares, {:.1} MH/s + {:.1} MH/s):",
        stats_a.shares_found,
        stats_b.shares_found,
        stats_a.hashrate / 1e6,
        stats_b.hashrate / 1e6
    );
    eprintln!(
        "  new sharechain tip → new work: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} tips (goal p99 ≤ 20 ms)",
        stats_a.tip_refresh_p50_ms.unwrap_or(f64::NAN),
        stats_a.tip_refresh_p99_ms.unwrap_or(f64::NAN),
        stats_a.tip_refresh_max_ms.unwrap_or(f64::NAN),
        stats_a.tip_refreshes
    );

    // --- 3. new Bitcoin blocks from outside while a node mines ---
    // Shares are rare here (one per ten seconds per hasher) and Bitcoin blocks cheap to
    // generate (regtest's own target).
    let mut params = ChainParams::devnet(now(), devnet::fitted_bits(rate * 10.0, 1));
    params.asert_half_life = 3_600;
    let m3 = mainchain(&dir.path().join("btc3"), None).await;
    let btc = client(&m3);
    let c = node(&params, &dir.path().join("c2"), vec![]).await;
    let miner_c = start_miner(c.net.clone(), client(&m3), script.clone(), 1).unwrap();
    let to = Address::from_script(&script, Network::Regtest)
        .unwrap()
        .to_string();
    let mut work = miner_c.work();
    let mut bitcoin_ms = Vec::new();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t0 = Instant::now();
        let hashes = btc.call("generatetoaddress", json!([1, to])).await.unwrap();
        let new: bitcoin::BlockHash = hashes[0].as_str().unwrap().parse().unwrap();
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            work.wait_for(|w| w.is_some_and(|w| w.bitcoin_parent == new)),
        )
        .await;
        if let Ok(Ok(w)) = got {
            let published = w.map(|w| w.published).unwrap();
            bitcoin_ms.push(published.saturating_duration_since(t0).as_secs_f64() * 1e3);
        }
    }
    miner_c.stop();
    c.shutdown().await;
    m3.shutdown().await;
    if bitcoin_ms.is_empty() {
        eprintln!("  new Bitcoin tip → new work: no samples");
    } else {
        let n = bitcoin_ms.len();
        let (p50, p99, max) = quantiles(bitcoin_ms);
        eprintln!(
            "  new Bitcoin tip → new work: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms over {n} blocks (goal p99 ≤ 20 ms; from the generatetoaddress call)"
        );
    }
}
