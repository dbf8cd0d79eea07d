//! Real devices' message orders replayed against a real listener on 127.0.0.1, each getting
//! shares accepted: Bitaxe, NerdQAxe++, NerdMiner, cgminer (Gekko / Avalon Nano firmware).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{address, start, test_config, Client};
use serde_json::{json, Value};

/// No line in the client's log answers `id` (suggest_difficulty is never answered).
fn never_answered(c: &Client, id: &Value) {
    for v in &c.log {
        assert!(
            !(v.get("method").is_none() && &v["id"] == id),
            "suggest_difficulty (id {id}) was answered: {v}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitaxe_pipelines_configure_subscribe_authorize_and_rolls_versions() {
    let h = start(test_config());
    let (addr, script) = address("bitaxe");
    let worker = format!("{addr}.bitaxe");
    let mut c = Client::connect(h.addr).await;
    // One write: configure, subscribe, authorize (ESP-Miner does not wait for replies).
    let batch = format!(
        "{}\n{}\n{}\n",
        json!({"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "ffffffff"}]}),
        json!({"id": 2, "method": "mining.subscribe", "params": ["bitaxe/BM1370/v2.6.0"]}),
        json!({"id": 3, "method": "mining.authorize", "params": [worker, "x"]}),
    );
    c.send_raw(batch.as_bytes()).await;
    let r = c.line().await;
    assert_eq!(r["id"], 1);
    assert_eq!(
        r["result"],
        json!({"version-rolling": true, "version-rolling.mask": "1fffe000"})
    );
    let r = c.line().await;
    assert_eq!(r["id"], 2);
    c.take_subscribe(&r);
    let r = c.line().await;
    assert_eq!(
        (r["id"].clone(), r["result"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(c.line().await["method"], "mining.set_difficulty");
    let n = c.line().await;
    assert_eq!(n["method"], "mining.notify");
    assert_eq!(n["params"][8], true);
    // After authorize: suggest 1000 → clamped to the max, a fresh notify, no reply.
    c.send(json!({"id": 4, "method": "mining.suggest_difficulty", "params": [1000]}))
        .await;
    let d = c.line().await;
    assert_eq!(d["method"], "mining.set_difficulty");
    assert_eq!(d["params"][0], 4e-6);
    let n = c.line().await;
    assert_eq!(n["method"], "mining.notify");
    assert_eq!(c.job().difficulty, 4e-6);
    // 6-param submits with rolled version bits.
    for k in 1..=3u32 {
        let bits = (k << 13) & 0x1fff_e000;
        let f = c.mine(bits);
        let id = json!(10 + k);
        c.send(Client::submit_msg(id.clone(), &worker, &f, true, true))
            .await;
        let r = c.reply(id).await;
        assert_eq!(r["result"], true, "{r}");
    }
    never_answered(&c, &json!(4));
    let sols = h.handler.solutions.lock().unwrap();
    assert_eq!(sols.len(), 3);
    for (k, s) in sols.iter().enumerate() {
        let bits = ((k as u32 + 1) << 13) & 0x1fff_e000;
        assert_eq!(s.header.version.to_consensus() as u32, 0x2000_0000 | bits);
        assert_eq!(s.payout, script);
        assert_eq!(s.worker, worker);
        assert_eq!(s.extranonce1, c.en1);
        assert!(s.meets_share && !s.meets_bitcoin);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nerdqaxe_sends_everything_before_reading_replies() {
    let h = start(test_config());
    let (addr, _) = address("nerdqaxe");
    let worker = format!("{addr}.nq1");
    let mut c = Client::connect(h.addr).await;
    c.send(json!({"id": 1, "method": "mining.subscribe", "params": ["NerdQAxe++/1.0.30"]}))
        .await;
    c.send(json!({"id": 2, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000"}]}))
        .await;
    c.send(json!({"id": 3, "method": "mining.authorize", "params": [worker, "x"]}))
        .await;
    c.send(json!({"id": 4, "method": "mining.suggest_difficulty", "params": [2000]}))
        .await;
    let r = c.reply(json!(1)).await;
    c.take_subscribe(&r);
    let r = c.reply(json!(2)).await;
    assert_eq!(r["result"]["version-rolling.mask"], "1fffe000");
    assert_eq!(c.reply(json!(3)).await["result"], true);
    // The suggestion arrives with or after authorize: either way a notify at the clamp.
    while c.jobs.last().is_none_or(|j| j.difficulty != 4e-6) {
        c.line().await;
    }
    for k in 0..3u32 {
        let f = c.mine(k << 13);
        let id = json!(format!("s{k}"));
        c.send(Client::submit_msg(id.clone(), &worker, &f, true, true))
            .await;
        assert_eq!(c.reply(id).await["result"], true);
    }
    never_answered(&c, &json!(4));
    assert_eq!(h.handler.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nerdminer_reads_one_line_for_subscribe_and_keeps_alive_with_suggestions() {
    let h = start(test_config());
    let (addr, _) = address("nerdminer");
    let worker = format!("{addr}.nerd");
    let mut c = Client::connect(h.addr).await;
    c.send(json!({"id": 1, "method": "mining.subscribe", "params": ["NerdMinerV2/1.6.3"]}))
        .await;
    // Exactly one line, and it is the subscribe reply.
    let l = c.raw_line().await.unwrap();
    let r: Value = serde_json::from_str(&l).unwrap();
    assert_eq!(r["id"], 1);
    c.take_subscribe(&r);
    c.send(json!({"id": 2, "method": "mining.authorize", "params": [worker, "x"]}))
        .await;
    c.send(json!({"id": 3, "method": "mining.suggest_difficulty", "params": [0.00015]}))
        .await;
    assert_eq!(c.reply(json!(2)).await["result"], true);
    while c.jobs.last().is_none_or(|j| j.difficulty != 4e-6) {
        c.line().await;
    }
    let mut unpadded = 0;
    for k in 0..3u64 {
        // The keep-alive: the same suggestion again, never answered, changes nothing — so the
        // next line read is the submit's reply.
        c.send(json!({"id": 3, "method": "mining.suggest_difficulty", "params": [0.00015]}))
            .await;
        let f = c.mine(0);
        if format!("{:x}", f.nonce).len() < 8 {
            unpadded += 1;
        }
        let id = json!(100 + k);
        c.send(Client::submit_msg(id.clone(), &worker, &f, false, false))
            .await;
        let r = c.line().await;
        assert_eq!(
            (r["id"].clone(), r["result"].clone()),
            (id, json!(true)),
            "{r}"
        );
    }
    assert!(unpadded > 0, "the test should send unpadded nonces");
    never_answered(&c, &json!(3));
    assert_eq!(h.handler.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cgminer_waits_for_each_reply_with_integer_ids() {
    let h = start(test_config());
    let (addr, _) = address("gekko");
    let worker = format!("{addr}.compac");
    let mut c = Client::connect(h.addr).await;
    // The line after configure is read as its reply: it must be.
    c.send(json!({"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2}]}))
        .await;
    let r = c.line().await;
    assert_eq!(r["id"], 1);
    assert_eq!(r["result"]["version-rolling"], true);
    let mask =
        u32::from_str_radix(r["result"]["version-rolling.mask"].as_str().unwrap(), 16).unwrap();
    assert_ne!(mask, 0);
    c.send(json!({"id": 2, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}))
        .await;
    let r = c.line().await;
    assert_eq!(r["id"], 2);
    c.take_subscribe(&r);
    c.send(json!({"id": 3, "method": "mining.authorize", "params": [worker, "x"]}))
        .await;
    let r = c.line().await;
    assert_eq!(
        (r["id"].clone(), r["result"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(c.line().await["method"], "mining.set_difficulty");
    assert_eq!(c.line().await["method"], "mining.notify");
    for k in 0..3u64 {
        let f = c.mine(((k as u32) << 14) & mask);
        let id = json!(4 + k);
        c.send(Client::submit_msg(id.clone(), &worker, &f, true, true))
            .await;
        assert_eq!(c.reply(id).await["result"], true);
    }
    assert_eq!(h.handler.count(), 3);
    let w = h.server.workers();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].accepted, 3);
    assert_eq!(w[0].user_agent, "cgminer/4.11.1");
    assert_eq!(w[0].name, "compac");
    assert_eq!(w[0].address, addr);
}
