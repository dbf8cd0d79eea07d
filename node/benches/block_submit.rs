//! Solution → `submitblock` sent: how fast a solution that meets Bitcoin's target leaves for
//! Bitcoin, measured at a loopback proxy in front of the embedded mainchain's RPC port (the
//! moment the request's bytes arrive there). Side by side, in the same run: the time the node
//! takes to accept the same kind of share (validation, store, fsync) — what used to come before
//! the submit. Goal: p99 ≤ 5 ms.
//!
//! `cargo bench -p p2share-node --bench block_submit` (`BLOCK_SUBMIT_BENCH_N` blocks, default
//! 200). Under `cargo test` it runs a short smoke version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)] // a bench binary

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use p2share_app::embedded::{Config, RegtestMainchain};
use p2share_app::{App, AppConfig};
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mining::{Finder, JobService, MiningStats, Rolled, EXTRANONCE_SIZE};
use p2share_regtest::Policy;
use p2share_testkit::{Kind, TestKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// Copies bytes both ways between a client and `upstream`, reporting the instant each chunk
/// from the client that holds `submitblock` arrives.
async fn proxy(listener: TcpListener, upstream: SocketAddr, seen: mpsc::UnboundedSender<Instant>) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let up = async {
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let at = Instant::now();
                    if buf[..n].windows(11).any(|w| w == b"submitblock") {
                        let _ = seen.send(at);
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            };
            let down = async {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            };
            tokio::join!(up, down);
        });
    }
}

fn quantiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), v[v.len() - 1])
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("BLOCK_SUBMIT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 200 } else { 10 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(n));
}

async fn run(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    // Every second hash is a Bitcoin block and a share: the grind is instant.
    let mut params = ChainParams::devnet(now() - 100_000, ChainParams::regtest().pow_limit_bits);
    params.max_future_time = 1_000_000;
    let mainchain = RegtestMainchain::start(Config {
        datadir: dir.path().join("btc"),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy { block_target: None },
    })
    .await
    .unwrap();
    let upstream: SocketAddr = mainchain
        .rpc_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let listener = TcpListener::bind(any).await.unwrap();
    let proxied = listener.local_addr().unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(proxy(listener, upstream, seen_tx));
    let node = App::start(AppConfig::loopback(
        params,
        &dir.path().join("node"),
        vec![],
    ))
    .await
    .unwrap();
    let rpc = BitcoindRpc::new(RpcConfig::new(
        format!("http://{proxied}"),
        Auth::CookieFile(mainchain.cookie_path().to_path_buf()),
    ))
    .unwrap();
    let script = TestKey::from_seed(1).script(Kind::P2wpkh);
    let stats = Arc::new(Mutex::new(MiningStats::default()));
    let service = JobService::start(node.net.clone(), rpc, script.clone(), stats.clone());
    let sink = service.sink();
    let mut generation = service.generation();
    let mut submit_ms = Vec::with_capacity(n);
    let mut share_ms = Vec::with_capacity(n);
    let mut last_parent = None;
    for i in 0..n {
        // Work on Bitcoin's new tip (each block moves it).
        let g = tokio::time::timeout(
            Duration::from_secs(20),
            generation.wait_for(|g| {
                g.as_ref().is_some_and(|g| {
                    Some(g.base.share.head.work.header.prev_blockhash) != last_parent
                })
            }),
        )
        .await
        .expect("no work on the new Bitcoin tip")
        .unwrap()
        .clone()
        .unwrap();
        let job = g.job_for(&script).unwrap();
        last_parent = Some(job.share.head.work.header.prev_blockhash);
        let mut extranonce = [0u8; EXTRANONCE_SIZE];
        extranonce[4..].copy_from_slice(&(i as u32).to_be_bytes());
        let header = job.share.head.work.header;
        let rolled = (0u32..)
            .map(|nonce| Rolled {
                extranonce,
                version: header.version.to_consensus(),
                time: header.time,
                nonce,
            })
            .find(|r| {
                let h = job.solved(r).0.block_hash();
                job.bitcoin_target.is_met_by(h) && job.share_target.is_met_by(h)
            })
            .unwrap();
        let started = Instant::now();
        sink.offer(job.clone(), &rolled, Finder::Cpu);
        let sent = tokio::time::timeout(Duration::from_secs(10), seen.recv())
            .await
            .expect("no submitblock")
            .unwrap();
        submit_ms.push(sent.duration_since(started).as_secs_f64() * 1e3);
        // The share path runs beside it: the node validating, storing and fsyncing the share
        // (what the block used to wait for).
        let wait_share = Instant::now();
        let want = (i + 1) as u64;
        while stats.lock().await.shares_found < want {
            tokio::time::sleep(Duration::from_micros(200)).await;
            if wait_share.elapsed() > Duration::from_secs(10) {
                panic!("the share was not accepted");
            }
        }
        share_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (s50, s99, smax) = quantiles(submit_ms);
    let (a50, a99, amax) = quantiles(share_ms);
    eprintln!("block submit: {n} Bitcoin blocks, each solution → submitblock request at the Bitcoin node's port");
    eprintln!("  solution → submitblock sent: p50 {s50:.3} ms, p99 {s99:.3} ms, max {smax:.3} ms (goal p99 ≤ 5 ms)");
    eprintln!("  solution → share accepted by the node (what came first before): p50 {a50:.3} ms, p99 {a99:.3} ms, max {amax:.3} ms");
    eprintln!(
        "  ratio share-accepted ÷ submit-sent at p50: {:.1}×",
        a50 / s50.max(1e-9)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while stats.lock().await.blocks.len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let blocks = stats.lock().await.blocks.clone();
    let accepted = blocks.iter().filter(|b| b.outcome == "accepted").count();
    eprintln!(
        "  blocks accepted by the embedded mainchain: {accepted} of {}",
        blocks.len()
    );
    assert_eq!(accepted, n, "every block accepted");
    service.stop();
    service.stopped().await;
    node.shutdown().await;
    mainchain.shutdown().await;
}
