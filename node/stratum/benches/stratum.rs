//! Stratum server benchmarks, printed as plain lines:
//! 1. concurrent miners held on loopback, each subscribed and authorized and submitting a
//!    share about once a second (goal ≥ 5,000 connections): how many were held, accepted/s;
//! 2. device-share checks per second through `Session::check_share`, single thread
//!    (goal ≥ 200,000/s);
//! 3. work change → `mining.notify` read by 1,000 miners, p50/p99 from the watch send to the
//!    line read at the client (goal p99 ≤ 20 ms).
//!
//! `cargo bench -p p2share-stratum` runs the full sizes; `cargo test --benches` runs small ones.
//! Each miner takes two descriptors (client and server side): the miner count is capped by
//! the soft `RLIMIT_NOFILE` with a printed note — raise it with `ulimit -n 65536` first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::Target;
use common::{address, address_parser, Client, Collector, TestSource};
use p2share_stratum::{Session, SessionParams, StratumConfig, StratumServer, Submit, WorkSource};
use serde_json::json;
use tokio::sync::{mpsc, watch, Semaphore};

const EVERY_HASH: f64 = 1e-12;

fn nofile_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn bench_config(connections: usize) -> StratumConfig {
    StratumConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        // Every hash is a share: clients need not grind, the server checks every submit.
        start_difficulty: EVERY_HASH,
        min_difficulty: EVERY_HASH,
        max_difficulty: EVERY_HASH,
        max_per_ip: connections + 16,
        max_connections: connections + 16,
        ..StratumConfig::default()
    }
}

fn source(generation: u64) -> Arc<TestSource> {
    // No device share is a sharechain share or a block: the handler stays idle.
    Arc::new(TestSource::new(
        generation,
        true,
        Target::ZERO,
        Target::ZERO,
    ))
}

/// (2) Share checks per second, one thread, through the session's check.
fn bench_checks(quick: bool) {
    for branch_len in [12usize, 0] {
        let t0 = Instant::now();
        let mut s = Session::new(SessionParams {
            config: Arc::new(bench_config(1)),
            id: 1,
            extranonce1: [1, 2, 3, 4],
            job_ids: Arc::new(AtomicU64::new(0)),
            address: address_parser(),
            remote: "bench".to_owned(),
            now: t0,
            unix_now: 0,
        });
        let mut generation = 0;
        let mut new_job = |s: &mut Session| {
            generation += 1;
            let mut src = TestSource::new(generation, true, Target::ZERO, Target::ZERO);
            src.branch_len = branch_len;
            s.work_changed(Some(Arc::new(src) as Arc<dyn WorkSource>), t0);
            s.last_job_id().unwrap()
        };
        let (a, _) = address("checks");
        s.receive(
            format!(
                "{}\n{}\n",
                json!({"id": 1, "method": "mining.subscribe", "params": []}),
                json!({"id": 2, "method": "mining.authorize", "params": [a, ""]})
            )
            .as_bytes(),
            t0,
        );
        let mut job = new_job(&mut s);
        let budget = Duration::from_millis(if quick { 200 } else { 2000 });
        let start = Instant::now();
        let mut n: u64 = 0;
        let mut accepted: u64 = 0;
        let now = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..1000 {
                n += 1;
                if n.is_multiple_of(500_000) {
                    job = new_job(&mut s);
                }
                let nonce = format!("{:x}", n as u32);
                let out = s.check_share(
                    &Submit {
                        worker: "",
                        job_id: &job,
                        extranonce2: "00000000",
                        ntime: "6553f100",
                        nonce: &nonce,
                        version_bits: None,
                    },
                    now,
                );
                if matches!(out, p2share_stratum::ShareOutcome::Accepted { .. }) {
                    accepted += 1;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(
            accepted, n,
            "every check should accept at difficulty {EVERY_HASH}"
        );
        println!(
            "stratum bench: share checks, {branch_len}-node merkle branch, one thread: {:.0} checks/s ({n} in {secs:.2} s)",
            n as f64 / secs
        );
    }
}

/// (3, server side) The sans-IO cost of a work change: `Session::work_changed` producing the
/// notify line for `n` ready sessions, one thread, no sockets.
fn bench_notify_build(n: usize) {
    let t0 = Instant::now();
    let ids = Arc::new(AtomicU64::new(0));
    let first = source(1);
    let mut sessions: Vec<Session> = (0..n)
        .map(|i| {
            let mut s = Session::new(SessionParams {
                config: Arc::new(bench_config(n)),
                id: i as u64,
                extranonce1: (i as u32).to_be_bytes(),
                job_ids: ids.clone(),
                address: address_parser(),
                remote: "bench".to_owned(),
                now: t0,
                unix_now: 0,
            });
            s.work_changed(Some(first.clone() as Arc<dyn WorkSource>), t0);
            let (a, _) = address(&format!("b{i}"));
            s.receive(
                format!(
                    "{}\n{}\n",
                    json!({"id": 1, "method": "mining.subscribe", "params": []}),
                    json!({"id": 2, "method": "mining.authorize", "params": [a, ""]})
                )
                .as_bytes(),
                t0,
            );
            s
        })
        .collect();
    let next = source(2);
    for i in 0..n {
        let (_, script) = address(&format!("b{i}"));
        next.work_for(&script).unwrap();
    }
    let start = Instant::now();
    let mut bytes = 0;
    for s in &mut sessions {
        for a in s.work_changed(Some(next.clone() as Arc<dyn WorkSource>), t0) {
            if let p2share_stratum::Action::Send(l) = a {
                bytes += l.len();
            }
        }
    }
    let e = start.elapsed();
    println!(
        "stratum bench: work change in {n} sessions (sans-IO, one thread): {:.2} ms, {:.1} us and {} bytes of notify per miner",
        e.as_secs_f64() * 1e3,
        e.as_secs_f64() * 1e6 / n as f64,
        bytes / n
    );
}

/// (1) Concurrent miners held with share traffic.
async fn bench_miners(want: usize, seconds: u64) {
    let mut n = want;
    if let Some(limit) = nofile_limit() {
        let fit = limit.saturating_sub(256) / 2;
        if fit < want {
            println!(
                "stratum bench: note: RLIMIT_NOFILE soft limit {limit} caps the miners at {fit} of {want}; run `ulimit -n 65536` first"
            );
            n = fit;
        }
    }
    let (tx, rx) = watch::channel(Some(source(1) as Arc<dyn WorkSource>));
    let handler = Arc::new(Collector::default());
    let server = StratumServer::start(bench_config(n), rx, handler, address_parser()).unwrap();
    let addr = server.local_addr();
    let ready = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let gate = Arc::new(Semaphore::new(256));
    let t_connect = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (ready, accepted, rejected, counting, stop, gate) = (
            ready.clone(),
            accepted.clone(),
            rejected.clone(),
            counting.clone(),
            stop.clone(),
            gate.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (a, _) = address(&format!("miner{i}"));
            let worker = format!("{a}.m{i}");
            let mut c = {
                let _permit = gate.acquire().await.unwrap();
                let mut c = Client::connect(addr).await;
                c.handshake(&worker).await;
                c
            };
            ready.fetch_add(1, Ordering::Relaxed);
            // About one share a second, spread out.
            let period = Duration::from_millis(1000);
            tokio::time::sleep(Duration::from_millis((i as u64 * 7919) % 1000)).await;
            let mut id = 10u64;
            while !stop.load(Ordering::Relaxed) {
                let f = c.mine(0);
                id += 1;
                c.send(Client::submit_msg(json!(id), &worker, &f, false, true))
                    .await;
                let r = c.reply(json!(id)).await;
                if counting.load(Ordering::Relaxed) {
                    if r["result"] == true {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    } else {
                        rejected.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(period).await;
            }
        }));
    }
    while ready.load(Ordering::Relaxed) < n {
        assert!(
            t_connect.elapsed() < Duration::from_secs(120),
            "only {} of {n} miners connected",
            ready.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = t_connect.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    counting.store(true, Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let secs = t.elapsed().as_secs_f64();
    let held = server.connections();
    let authorized = server
        .workers()
        .iter()
        .filter(|w| !w.worker.is_empty())
        .count();
    stop.store(true, Ordering::Relaxed);
    let acc = accepted.load(Ordering::Relaxed);
    println!(
        "stratum bench: concurrent miners: {held} connections held ({authorized} authorized) of {n}, all connected in {connect_secs:.1} s; {:.0} shares accepted/s over {secs:.1} s, {} rejected",
        acc as f64 / secs,
        rejected.load(Ordering::Relaxed)
    );
    for t in &tasks {
        t.abort();
    }
    // Wait for the clients to be gone before the server closes their sockets.
    for t in tasks {
        let _ = t.await;
    }
    server.stop();
    server.stopped().await;
    drop(tx);
}

/// (3) Work change → notify read at every client.
async fn bench_notify(miners: usize, rounds: usize) {
    let first = source(1);
    let (tx, rx) = watch::channel(Some(first as Arc<dyn WorkSource>));
    let handler = Arc::new(Collector::default());
    let server = StratumServer::start(bench_config(miners), rx, handler, address_parser()).unwrap();
    let addr = server.local_addr();
    let base = Instant::now();
    let sent_at = Arc::new(AtomicU64::new(0));
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Duration>();
    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::new();
    let mut payouts = Vec::new();
    for i in 0..miners {
        let (a, script) = address(&format!("n{i}"));
        payouts.push(script);
        let (sent_at, lat_tx, ready, gate) =
            (sent_at.clone(), lat_tx.clone(), ready.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = {
                let _permit = gate.acquire().await.unwrap();
                let mut c = Client::connect(addr).await;
                c.handshake(&format!("{a}.n{i}")).await;
                c
            };
            ready.fetch_add(1, Ordering::Relaxed);
            // Lines are only framed, not parsed: the time is when the notify line is read.
            while let Some(l) = c.raw_line().await {
                if l.contains("\"mining.notify\"") {
                    let at = base + Duration::from_nanos(sent_at.load(Ordering::Acquire));
                    if lat_tx.send(at.elapsed()).is_err() {
                        break;
                    }
                }
            }
        }));
    }
    while ready.load(Ordering::Relaxed) < miners {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut all = Vec::new();
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The job core caches work per payout: build it before the change, as it would.
        let next = source(2 + round as u64);
        for p in &payouts {
            next.work_for(p).unwrap();
        }
        sent_at.store(base.elapsed().as_nanos() as u64, Ordering::Release);
        tx.send_replace(Some(next as Arc<dyn WorkSource>));
        for _ in 0..miners {
            let d = tokio::time::timeout(Duration::from_secs(30), lat_rx.recv())
                .await
                .expect("a miner got no notify")
                .unwrap();
            all.push(d);
        }
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "stratum bench: work change to mining.notify read at {miners} miners: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({rounds} rounds)",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );
    for t in &tasks {
        t.abort();
    }
    // Wait for the clients to be gone before the server closes their sockets.
    for t in tasks {
        let _ = t.await;
    }
    server.stop();
    server.stopped().await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = !args.iter().any(|a| a == "--bench");
    // `cargo bench -p p2share-stratum -- notify` runs only the sections whose name has "notify".
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let run = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if quick {
        println!(
            "stratum bench: quick mode (cargo test --benches); `cargo bench` for the full sizes"
        );
    }
    if run("checks") {
        bench_checks(quick);
    }
    if run("notify_build") {
        bench_notify_build(if quick { 100 } else { 1000 });
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    println!("stratum bench: tokio runtime with {threads} worker threads (server and clients share them)");
    let (miners, seconds, notified, rounds) = if quick {
        (100, 1, 100, 2)
    } else {
        (5000, 10, 1000, 5)
    };
    if run("miners") {
        rt.block_on(bench_miners(miners, seconds));
    }
    if run("notify_latency") {
        rt.block_on(bench_notify(notified, rounds));
    }
}
