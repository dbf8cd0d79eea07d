//! Misbehaving connections against a real listener: each is answered with the right error or
//! cut off, while an honest miner on another connection keeps getting shares accepted. Also
//! the caps, timeouts, invalid addresses, work changes, events, and stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::Target;
use common::{address, start, test_config, Client, TestSource};
use p2share_stratum::header::difficulty_to_target;
use p2share_stratum::{RejectReason, StratumEvent, WorkSource};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Mines on its own connection until told to stop; counts accepted shares.
fn honest_miner(
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (a, _) = address("honest");
        let worker = format!("{a}.honest");
        let mut c = Client::connect(addr).await;
        c.handshake(&worker).await;
        let mut id = 100u64;
        while !stop.load(Ordering::Relaxed) {
            let f = c.mine(0);
            id += 1;
            c.send(Client::submit_msg(json!(id), &worker, &f, false, true))
                .await;
            let r = c.reply(json!(id)).await;
            // A clean work change between mining and submitting makes the share stale.
            if r["result"] == true {
                accepted.fetch_add(1, Ordering::Relaxed);
            } else {
                assert_eq!(r["error"][0], 21, "{r}");
            }
        }
    })
}

async fn wait_for(accepted: &AtomicUsize, n: usize) {
    let t = tokio::time::Instant::now();
    while accepted.load(Ordering::Relaxed) < n {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "honest miner stalled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_answered_while_an_honest_miner_keeps_mining() {
    let h = start(test_config());
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let honest = honest_miner(h.addr, stop.clone(), accepted.clone());
    wait_for(&accepted, 2).await;

    // Not JSON: error 20, then closed.
    let mut c = Client::connect(h.addr).await;
    c.send_raw(b"this is not json\n").await;
    let lines = c.until_closed().await;
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("[20,"), "{}", lines[0]);

    // Oversize line (no newline in 10 KB): error, then closed.
    let mut c = Client::connect(h.addr).await;
    c.send_raw(&vec![b'x'; 10_000]).await;
    let lines = c.until_closed().await;
    assert!(lines[0].contains("longer than 8192 bytes"), "{lines:?}");

    // A share-level faulty miner: wrong job, duplicate, low difficulty, bad params.
    let (a, _) = address("faulty");
    let worker = format!("{a}.faulty");
    let mut c = Client::connect(h.addr).await;
    c.handshake(&worker).await;
    let f = c.mine(0);
    let mut wrong = f.clone();
    wrong.job_id = "deadbeef".to_owned();
    c.send(Client::submit_msg(json!(10), &worker, &wrong, false, true))
        .await;
    assert_eq!(c.reply(json!(10)).await["error"][0], 21);
    c.send(Client::submit_msg(json!(11), &worker, &f, false, true))
        .await;
    assert_eq!(c.reply(json!(11)).await["result"], true);
    c.send(Client::submit_msg(json!(12), &worker, &f, false, false))
        .await;
    let r = c.reply(json!(12)).await;
    assert_eq!(r["error"][0], 22, "{r}");
    let en2 = c.next_en2();
    let low = c.job().grind(&c.en1, &en2, 0, 0, true);
    c.send(Client::submit_msg(json!(13), &worker, &low, false, true))
        .await;
    assert_eq!(c.reply(json!(13)).await["error"][0], 23);
    c.send(
        json!({"id": 14, "method": "mining.submit", "params": [worker, f.job_id, "00", "0", "0"]}),
    )
    .await;
    assert_eq!(c.reply(json!(14)).await["error"][0], 20);
    c.send(json!({"id": 15, "method": "mining.bogus", "params": []}))
        .await;
    assert_eq!(c.reply(json!(15)).await["error"][0], 20);

    // Stale: a clean work change, then a share of the old job.
    let f = c.mine(0);
    h.work.send_replace(Some(TestSource::at(2, true, 1e-6)));
    while c.job().id == f.job_id {
        c.line().await;
    }
    assert!(c.job().clean);
    c.send(Client::submit_msg(json!(16), &worker, &f, false, true))
        .await;
    let r = c.reply(json!(16)).await;
    assert_eq!(r["error"][0], 21);
    assert!(r["error"][1].as_str().unwrap().contains("stale"));

    // Floods: malformed requests are cut off; valid ones are answered; the server lives on.
    let mut c2 = Client::connect(h.addr).await;
    c2.send_raw(&b"{\"id\":1,\"method\":\"x\"}\n".repeat(5000))
        .await;
    let lines = c2.until_closed().await;
    assert!(lines.len() <= 101, "{}", lines.len());
    let stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let (r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let flood = b"{\"id\":7,\"method\":\"mining.subscribe\",\"params\":[]}\n".repeat(20_000);
        w.write_all(&flood).await.unwrap();
        w
    });
    let mut lines = tokio::io::BufReader::new(r).lines();
    for _ in 0..20_000 {
        let l = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(l.starts_with("{\"id\":7,\"result\":[[["), "{l}");
    }
    drop(writer.await.unwrap());

    let before = accepted.load(Ordering::Relaxed);
    wait_for(&accepted, before + 3).await;
    stop.store(true, Ordering::Relaxed);
    honest.await.unwrap();
    let w = h.server.workers();
    let faulty = w.iter().find(|w| w.name == "faulty").unwrap();
    assert_eq!(faulty.accepted, 1);
    assert_eq!(faulty.rejected.bad_job, 1);
    assert_eq!(faulty.rejected.duplicate, 1);
    assert_eq!(faulty.rejected.low_difficulty, 1);
    assert_eq!(faulty.rejected.stale, 1);
    assert_eq!(faulty.rejected.other, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_share_that_is_a_bitcoin_block_is_still_handed_over() {
    let h = start(test_config());
    // Every hash is a Bitcoin block in this generation.
    let every = Target::from_le_bytes([0xff; 32]);
    h.work.send_replace(Some(
        Arc::new(TestSource::new(5, true, difficulty_to_target(1e-6), every))
            as Arc<dyn WorkSource>,
    ));
    let (a, script) = address("lucky");
    let worker = format!("{a}.lucky");
    let mut c = Client::connect(h.addr).await;
    c.handshake(&worker).await;
    let f = c.mine(0);
    h.work.send_replace(Some(TestSource::at(6, true, 1e-6)));
    while c.job().id == f.job_id {
        c.line().await;
    }
    c.send(Client::submit_msg(json!(9), &worker, &f, false, true))
        .await;
    assert_eq!(c.reply(json!(9)).await["error"][0], 21);
    let sols = h.handler.solutions.lock().unwrap();
    assert_eq!(sols.len(), 1);
    assert!(sols[0].meets_bitcoin && sols[0].stale && !sols[0].meets_share);
    assert_eq!(sols[0].payout, script);
    assert_eq!(sols[0].work.payload.downcast_ref::<u64>(), Some(&5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_changes_reach_every_authorized_miner_clean_as_the_source_says() {
    let h = start(test_config());
    let mut miners = Vec::new();
    for i in 0..3 {
        let (a, _) = address(&format!("m{i}"));
        let mut c = Client::connect(h.addr).await;
        c.handshake(&format!("{a}.m{i}")).await;
        miners.push(c);
    }
    h.work.send_replace(Some(TestSource::at(2, false, 1e-6)));
    for c in &mut miners {
        let n = c.line().await;
        assert_eq!(n["method"], "mining.notify");
        assert_eq!(n["params"][8], false);
        assert_eq!(c.jobs.len(), 2);
    }
    h.work.send_replace(Some(TestSource::at(3, true, 1e-6)));
    for c in &mut miners {
        let n = c.line().await;
        assert_eq!(n["params"][8], true);
        assert_eq!(c.jobs.len(), 1);
    }
    // Each miner's coinbase pays its own address: different coinb2.
    assert_ne!(miners[0].job().coinb2, miners[1].job().coinb2);
    for (i, c) in miners.iter_mut().enumerate() {
        let (a, _) = address(&format!("m{i}"));
        c.mine_accepted(&format!("{a}.m{i}"), 1, 50).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_address_at_authorize_is_24_and_the_miner_can_retry() {
    let h = start(test_config());
    let mut c = Client::connect(h.addr).await;
    c.send(json!({"id": 1, "method": "mining.subscribe", "params": []}))
        .await;
    let r = c.reply(json!(1)).await;
    c.take_subscribe(&r);
    c.send(json!({"id": 2, "method": "mining.authorize", "params": ["bc1notanaddress.rig1", "x"]}))
        .await;
    let r = c.reply(json!(2)).await;
    assert!(r["result"].is_null());
    assert_eq!(r["error"][0], 24);
    let msg = r["error"][1].as_str().unwrap();
    assert!(msg.contains("'bc1notanaddress'"), "{msg}");
    // A mainnet address on a regtest server: named, with why.
    c.send(json!({"id": 3, "method": "mining.authorize", "params": ["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "x"]}))
        .await;
    let r = c.reply(json!(3)).await;
    assert_eq!(r["error"][0], 24);
    assert!(r["error"][1]
        .as_str()
        .unwrap()
        .contains("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
    let (a, _) = address("retry");
    c.send(json!({"id": 4, "method": "mining.authorize", "params": [format!("{a}.rig1"), "x"]}))
        .await;
    assert_eq!(c.reply(json!(4)).await["result"], true);
    c.mine_accepted(&format!("{a}.rig1"), 1, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_cap_refuses_extra_connections_and_frees_slots() {
    let mut cfg = test_config();
    cfg.max_per_ip = 3;
    let h = start(cfg);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = Client::connect(h.addr).await;
        c.send(json!({"id": 1, "method": "mining.subscribe", "params": []}))
            .await;
        c.reply(json!(1)).await;
        held.push(c);
    }
    let mut extra = Client::connect(h.addr).await;
    extra
        .send(json!({"id": 1, "method": "mining.subscribe", "params": []}))
        .await;
    assert!(extra.until_closed().await.is_empty());
    assert_eq!(h.server.connections(), 3);
    drop(held.pop());
    let t = tokio::time::Instant::now();
    while h.server.connections() > 2 {
        assert!(t.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut again = Client::connect(h.addr).await;
    again
        .send(json!({"id": 1, "method": "mining.subscribe", "params": []}))
        .await;
    assert_eq!(again.reply(json!(1)).await["id"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_idle_timeouts_close_connections() {
    let mut cfg = test_config();
    cfg.handshake_timeout = Duration::from_millis(300);
    cfg.idle_timeout = Duration::from_millis(900);
    let h = start(cfg);
    // Lower bounds: no timeout fires early. Upper bounds only prove each one fires at all (a
    // loaded 2-core CI machine can be seconds late).
    let t = tokio::time::Instant::now();
    let mut silent = Client::connect(h.addr).await;
    assert!(silent.until_closed().await.is_empty());
    let e = t.elapsed();
    assert!(
        e >= Duration::from_millis(250) && e < Duration::from_secs(5),
        "{e:?}"
    );

    let (a, _) = address("idle");
    let mut idle = Client::connect(h.addr).await;
    idle.handshake(&format!("{a}.idle")).await;
    let t = tokio::time::Instant::now();
    idle.until_closed().await;
    let e = t.elapsed();
    assert!(
        e >= Duration::from_millis(700) && e < Duration::from_secs(8),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_worker_stats_follow_the_connection() {
    let h = start(test_config());
    let mut events = h.server.subscribe();
    let (a, _) = address("ev");
    let worker = format!("{a}.ev");
    let mut c = Client::connect(h.addr).await;
    c.handshake(&worker).await;
    c.mine_accepted(&worker, 2, 10).await;
    c.send(json!({"id": 20, "method": "mining.submit", "params": [worker, "ffff", "00000000", "0", "0"]}))
        .await;
    c.reply(json!(20)).await;
    c.send(json!({"id": 21, "method": "mining.suggest_difficulty", "params": [3e-6]}))
        .await;
    c.line().await; // set_difficulty
    let w = h.server.workers();
    assert_eq!(w.len(), 1);
    let s = &w[0];
    assert_eq!(
        (s.worker.as_str(), s.address.as_str(), s.name.as_str()),
        (worker.as_str(), a.as_str(), "ev")
    );
    assert_eq!((s.accepted, s.rejected.bad_job, s.solutions), (2, 1, 2));
    assert!(s.hashrate_1m > 0.0 && s.hashrate_1h > 0.0 && s.best_difficulty >= 1e-6);
    assert!(s.remote.starts_with("127.0.0.1:"));
    assert!(s.connected_at > 1_600_000_000 && s.last_seen >= s.connected_at);
    let json = serde_json::to_value(s).unwrap();
    assert!(json["rejected"]["low_difficulty"].is_u64());
    drop(c);
    let mut kinds = Vec::new();
    let t = tokio::time::Instant::now();
    while !kinds.contains(&"disconnected") {
        assert!(t.elapsed() < Duration::from_secs(5), "{kinds:?}");
        let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(serde_json::to_value(&e).unwrap()["event"].is_string());
        kinds.push(match e {
            StratumEvent::Connected { .. } => "connected",
            StratumEvent::Authorized { .. } => "authorized",
            StratumEvent::ShareAccepted { solution: true, .. } => "accepted",
            StratumEvent::ShareRejected {
                reason: RejectReason::BadJob,
                ..
            } => "rejected",
            StratumEvent::DifficultyChanged {
                difficulty: 3e-6, ..
            } => "difficulty",
            StratumEvent::Disconnected { .. } => "disconnected",
            _ => "other",
        });
    }
    for k in [
        "connected",
        "authorized",
        "accepted",
        "rejected",
        "difficulty",
        "disconnected",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(h.server.workers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_closes_every_connection() {
    let h = start(test_config());
    let (a, _) = address("stop");
    let mut c = Client::connect(h.addr).await;
    c.handshake(&format!("{a}.x")).await;
    h.server.stop();
    tokio::time::timeout(Duration::from_secs(5), h.server.stopped())
        .await
        .unwrap();
    assert!(c.until_closed().await.is_empty());
    assert!(tokio::net::TcpStream::connect(h.addr).await.is_err());
}
