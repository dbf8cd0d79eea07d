//! The wallet's figures, each beside a baseline measured in the same run:
//! - **share history sync** of `N` entries (a restored wallet scanning `N` shares whose
//!   sharebases paid it) against reading the same `N` share bodies from the node;
//! - **BTC history sync** of `N` entries (`N` coinbases paying the wallet, applied block by block
//!   through `bdk_wallet`) against fetching the same `N` blocks over JSON-RPC;
//! - **the wallet answering during those rescans**: `balances` while both run, against the
//!   same call once they are done (the syncs hold the wallet a chunk at a time);
//! - **send → seen in a peer's mempool**: `sendshares` on one node until the transaction is in
//!   a connected peer's mempool, against gossiping an already-signed transaction.
//!
//! `cargo bench -p p2share-node --bench wallet` (`WALLET_BENCH_N` entries, default 10,000).
//! Under `cargo test` it runs a short smoke version (200 entries).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)] // a bench binary

#[path = "../tests/netkit/mod.rs"]
mod netkit;

use std::time::{Duration, Instant};

use bitcoin::{Address, Network};
use netkit::{p2p_addr, start_embedded, wait_for};
use p2share_consensus::ChainParams;
use p2share_service::Origin;
use p2share_testkit::TestChain;

fn params() -> ChainParams {
    let mut p = ChainParams::regtest();
    p.maturity = 2;
    p
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: u32 = if bench {
        std::env::var("WALLET_BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000)
    } else {
        200
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(n));
}

async fn run(n: u32) {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // A wallet made on one node; its words restore it on another after the chains grew.
    let a = start_embedded(params(), dirs[0].path(), vec![], None).await;
    let words = a.wallet.create("bench").await.unwrap().join(" ");
    let mining = a.wallet.status().await.mining_address.unwrap();
    let script = Address::from_str_regtest(&mining);
    a.shutdown().await;

    let b = start_embedded(params(), dirs[1].path(), vec![], None).await;
    eprintln!("wallet bench: {n} shares and {n} Bitcoin blocks paying the wallet…");
    let mut miner = TestChain::new(params()).unwrap();
    let mut batch = Vec::with_capacity(500);
    for _ in 0..n {
        batch.push(miner.mine(&script, vec![]).unwrap().0);
        if batch.len() == 500 {
            b.node
                .submit_shares(std::mem::take(&mut batch), Origin::Local)
                .await
                .unwrap();
        }
    }
    if !batch.is_empty() {
        b.node.submit_shares(batch, Origin::Local).await.unwrap();
    }
    let rpc = b.mainchain.as_ref().unwrap().rpc_client().unwrap();
    let mut left = n;
    while left > 0 {
        let k = left.min(1_000);
        rpc.call("generatetoaddress", serde_json::json!([k, mining]))
            .await
            .unwrap();
        left -= k;
    }

    // Baselines: the bodies and blocks any scan must read.
    let t = Instant::now();
    for h in 1..=n {
        assert!(b.node.share_at(h).await.unwrap().unwrap().share.is_some());
    }
    let read_shares = t.elapsed();
    let t = Instant::now();
    for h in 1..=n {
        let hash = rpc.block_hash(h).await.unwrap();
        rpc.block(&hash).await.unwrap();
    }
    let read_blocks = t.elapsed();

    // The restored wallet's syncs.
    let t = Instant::now();
    b.wallet.restore(&words, "bench").await.unwrap();
    let restore = t.elapsed();
    // From the restore until each history is whole (the wallet's own follower and a direct
    // call race for it; the wall time is what a user waits).
    let t = Instant::now();
    let syncing = std::sync::atomic::AtomicBool::new(true);
    let (shares_done, btc_done, during) = tokio::join!(
        async {
            b.wallet.sync_shares().await;
            loop {
                if b.wallet.share_history(0, 1).await.unwrap().1 == u64::from(n) {
                    return t.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        },
        async {
            b.wallet.sync_btc().await;
            loop {
                if b.wallet.btc_history().await.unwrap().len() == n as usize {
                    syncing.store(false, std::sync::atomic::Ordering::Relaxed);
                    return t.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        },
        // What the Wallet screen waits for while the rescans run: `balances` every 20 ms.
        async {
            let mut ms = Vec::new();
            while syncing.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                b.wallet.balances().await.unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ms
        }
    );
    let mut during = during;
    let mut idle = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        b.wallet.balances().await.unwrap();
        idle.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (share_sync, btc_sync) = (shares_done, btc_done);
    eprintln!(
        "restore (Argon2id + keys + database): {:.2} s",
        restore.as_secs_f64()
    );
    eprintln!(
        "share history sync, {n} entries: {:.2} s; reading the {n} share bodies: {:.2} s; ratio {:.2}",
        share_sync.as_secs_f64(),
        read_shares.as_secs_f64(),
        share_sync.as_secs_f64() / read_shares.as_secs_f64()
    );
    eprintln!(
        "BTC history sync, {n} entries: {:.2} s; fetching the {n} blocks over JSON-RPC: {:.2} s; ratio {:.2}",
        btc_sync.as_secs_f64(),
        read_blocks.as_secs_f64(),
        btc_sync.as_secs_f64() / read_blocks.as_secs_f64()
    );
    eprintln!(
        "balances while both rescans run: median {:.1} ms, max {:.1} ms ({} calls); idle after: median {:.1} ms",
        percentile(&mut during, 0.5),
        percentile(&mut during, 1.0),
        during.len(),
        percentile(&mut idle, 0.5)
    );

    // Send → seen in a peer's mempool.
    let c = start_embedded(params(), dirs[2].path(), vec![p2p_addr(&b).await], None).await;
    wait_for(30, "c is synced", || async { c.node.tip().await.1 == n }).await;
    let to = p2share_testkit::TestKey::from_seed(3).script(p2share_testkit::Kind::P2tr);
    let rounds = 20;
    let mut wallet_ms = Vec::new();
    let mut raw_ms = Vec::new();
    for i in 0..rounds {
        let t = Instant::now();
        let txid = b
            .wallet
            .send_shares(to.clone(), 100_000 + i, None)
            .await
            .unwrap();
        while c.node.mempool_txs(&[txid]).await.is_empty() {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        wallet_ms.push(t.elapsed().as_secs_f64() * 1e3);
        // Baseline: an already-signed transaction through the same gossip.
        let (tx, _) = b
            .wallet
            .build_share_payment(to.clone(), 200_000 + i, None)
            .await
            .unwrap();
        let txid = tx.compute_txid();
        let t = Instant::now();
        b.net.submit_local_transaction(tx).await.unwrap();
        while c.node.mempool_txs(&[txid]).await.is_empty() {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        raw_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    eprintln!(
        "sendshares → in a peer's mempool: median {:.1} ms, p95 {:.1} ms; a signed transaction's gossip alone: median {:.1} ms, p95 {:.1} ms ({rounds} each)",
        percentile(&mut wallet_ms.clone(), 0.5),
        percentile(&mut wallet_ms, 0.95),
        percentile(&mut raw_ms.clone(), 0.5),
        percentile(&mut raw_ms, 0.95),
    );
    for app in [b, c] {
        app.shutdown().await;
    }
}

trait FromStrRegtest {
    fn from_str_regtest(s: &str) -> bitcoin::ScriptBuf;
}

impl FromStrRegtest for Address {
    fn from_str_regtest(s: &str) -> bitcoin::ScriptBuf {
        use std::str::FromStr;
        Address::from_str(s)
            .unwrap()
            .require_network(Network::Regtest)
            .unwrap()
            .script_pubkey()
    }
}
