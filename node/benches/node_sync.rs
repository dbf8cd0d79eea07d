//! Node benchmarks, as ratios measured side by side in one run:
//!
//! 1. **Initial sync** of N shares from a loopback peer (libp2p, headers first, bodies in
//!    parallel) against connecting the same shares from a local file with no network, through
//!    the same node code (validation, SQLite store, one write per batch). Goal: ratio ≥ 0.8.
//! 2. **Resident memory** of the daemon process (`p2share-node`) restarted on the synced store
//!    of N shares, and of a daemon process that synced the N shares from the peer (peak).
//! 3. **Relay latency**: a share submitted at A reaches C through B (A–B–C line).
//!
//! `cargo bench -p p2share-node --bench node_sync` (N = 10,000; `P2SHARE_BENCH_SHARES=100000`
//! for the large run). Under `cargo test` it runs a small smoke version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)] // a bench binary

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use p2share_app::{App, AppConfig};
use p2share_consensus::{ChainParams, Share};
use p2share_p2p::Multiaddr;
use p2share_service::{NodeEvent, Origin};
use p2share_testkit::{Kind, TestChain, TestKey};

fn config(dir: &Path, peers: Vec<Multiaddr>) -> AppConfig {
    AppConfig::loopback(ChainParams::regtest(), dir, peers)
}

async fn addr(d: &App) -> Multiaddr {
    d.dial_addrs().await.remove(0)
}

fn generate(n: usize, file: &Path) -> Vec<Share> {
    let mut t = TestChain::new(ChainParams::regtest()).unwrap();
    t.chain.set_window(100);
    let script = TestKey::from_seed(1).script(Kind::P2wpkh);
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    let mut shares = Vec::with_capacity(n);
    for _ in 0..n {
        let (share, _) = t.mine(&script, vec![]).unwrap();
        let bytes = share.encode();
        out.write_all(&(bytes.len() as u32).to_le_bytes()).unwrap();
        out.write_all(&bytes).unwrap();
        shares.push(share);
    }
    out.flush().unwrap();
    shares
}

fn read_file(file: &Path) -> Vec<Share> {
    let mut r = BufReader::new(std::fs::File::open(file).unwrap());
    let mut out = Vec::new();
    let mut len = [0u8; 4];
    while r.read_exact(&mut len).is_ok() {
        let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut buf).unwrap();
        out.push(Share::decode(&buf).unwrap());
    }
    out
}

fn proc_status_kb(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Starts the daemon binary; returns the child and its API base URL and credentials.
fn spawn_daemon(dir: &Path, peer: Option<&Multiaddr>) -> (std::process::Child, String, String) {
    let bin = env!("CARGO_BIN_EXE_p2share-node");
    let mut cmd = Command::new(bin);
    cmd.args(["--network", "regtest", "--datadir"])
        .arg(dir)
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api-bind",
            "127.0.0.1:0",
            "--no-nat",
            "--no-kademlia",
            "--no-log-file",
            "--log-level",
            "warn",
        ]);
    if let Some(p) = peer {
        cmd.args(["--peer", &p.to_string()]);
    }
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("daemon exited").unwrap();
        if let Some(rest) = line.split("API http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let cookie = std::fs::read_to_string(dir.join(".cookie")).unwrap();
    (child, url, cookie)
}

async fn height_of(url: &str, cookie: &str) -> u64 {
    let (user, pass) = cookie.split_once(':').unwrap();
    let v: serde_json::Value = reqwest::Client::new()
        .post(url)
        .basic_auth(user, Some(pass))
        .json(&serde_json::json!({"jsonrpc":"2.0","id":1,"method":"getsharechaininfo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["result"]["height"].as_u64().unwrap_or(0)
}

async fn wait_height(url: &str, cookie: &str, n: u64) {
    while height_of(url, cookie).await < n {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = if bench {
        std::env::var("P2SHARE_BENCH_SHARES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000)
    } else {
        300
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(n, bench));
}

async fn run(n: usize, bench: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("shares.bin");
    let started = Instant::now();
    drop(generate(n, &file));
    eprintln!(
        "generated {n} shares in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 1. Local file into node A (no network), the same batches sync uses.
    let a_dir = tmp.path().join("a");
    let a = App::start(config(&a_dir, vec![])).await.unwrap();
    let started = Instant::now();
    let shares = read_file(&file);
    for chunk in shares.chunks(128) {
        for r in a
            .node
            .submit_shares(chunk.to_vec(), Origin::Sync)
            .await
            .unwrap()
        {
            r.unwrap();
        }
    }
    drop(shares);
    let t_file = started.elapsed().as_secs_f64();
    let file_rate = n as f64 / t_file;
    eprintln!("local file: {n} shares in {t_file:.2} s = {file_rate:.0} shares/s");

    // 2. Node B syncs from A over loopback libp2p (in this process).
    let a_addr = addr(&a).await;
    let b_dir = tmp.path().join("b");
    let started = Instant::now();
    let b = App::start(config(&b_dir, vec![a_addr.clone()]))
        .await
        .unwrap();
    let want = a.node.tip().await.0;
    while b.node.tip().await.0 != want {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t_net = started.elapsed().as_secs_f64();
    let net_rate = n as f64 / t_net;
    eprintln!(
        "loopback sync: {n} shares in {t_net:.2} s = {net_rate:.0} shares/s; ratio to local file {:.2}",
        net_rate / file_rate
    );
    let stats = b.node.store_stats().await.unwrap();
    eprintln!(
        "store at {n} shares: {:.1} MB on disk ({} shares, {} bodies, {} utxos, {} undo records)",
        stats.file_bytes as f64 / 1e6,
        stats.shares,
        stats.bodies,
        stats.utxos,
        stats.undo
    );
    b.shutdown().await;

    // 3. Memory of the daemon process: restarted on B's store, and syncing from A afresh.
    let (mut child, url, cookie) = spawn_daemon(&b_dir, None);
    wait_height(&url, &cookie, n as u64).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = proc_status_kb(child.id(), "VmRSS:");
    eprintln!(
        "daemon restarted at {n} shares: RSS {:.1} MB",
        rss as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
    let c_dir = tmp.path().join("c");
    let started = Instant::now();
    let (mut child, url, cookie) = spawn_daemon(&c_dir, Some(&a_addr));
    wait_height(&url, &cookie, n as u64).await;
    let t_proc = started.elapsed().as_secs_f64();
    let rss = proc_status_kb(child.id(), "VmRSS:");
    let hwm = proc_status_kb(child.id(), "VmHWM:");
    eprintln!(
        "daemon process synced {n} shares in {t_proc:.2} s ({:.0} shares/s, start-up included): RSS {:.1} MB, peak {:.1} MB",
        n as f64 / t_proc,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();

    // 4. Relay latency across a line A – B2 – C2 (fresh nodes following A).
    let b2 = App::start(config(&tmp.path().join("b2"), vec![a_addr.clone()]))
        .await
        .unwrap();
    let c2 = App::start(config(&tmp.path().join("c2"), vec![addr(&b2).await]))
        .await
        .unwrap();
    while c2.node.tip().await.0 != want {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Continue the chain from A's tip with a miner restored from A's store.
    let mut t = TestChain {
        chain: a
            .node
            .store()
            .load_chain(&ChainParams::regtest(), 100)
            .await
            .unwrap(),
        now: u64::from(
            a.node
                .with_chain(|c| c.tip().map(|s| s.head.header.time).unwrap_or(0))
                .await,
        ),
        nonce_space: 1 << 40,
    };
    let script = TestKey::from_seed(2).script(Kind::P2wpkh);
    let rounds = if bench { 100 } else { 5 };
    let mut events = c2.node.subscribe();
    let mut latencies = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (share, _) = t.mine(&script, vec![]).unwrap();
        let hash = share.hash();
        let sent = Instant::now();
        a.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
                Ok(Ok(NodeEvent::Tip { hash: h, .. })) if h == hash => break,
                Ok(_) => {}
                Err(_) => panic!("share {hash} did not reach C"),
            }
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    eprintln!(
        "relay A→B→C over {rounds} shares: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
    for d in [a, b2, c2] {
        d.shutdown().await;
    }
}
