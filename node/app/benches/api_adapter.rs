//! The JSON-RPC adapter's overhead over the typed request layer, side by side in one process:
//! `getmininginfo` answered by `Api::mining_info` (the typed layer, what the desktop app's IPC
//! calls), by the same plus writing the answer as JSON text (what any transport sends), and as
//! a request in JSON bytes through the JSON-RPC dispatcher (request parsed, the same typed call,
//! the answer written as text), on a node holding 150 shares. Rounds
//! alternate the two so that drift on a shared machine hits both alike. Goal: ratio ≤ 1.2.
//!
//! `cargo bench -p p2share-app --bench api_adapter`; under `cargo test` a short smoke run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    missing_docs
)] // a bench binary

use std::time::{Duration, Instant};

use bitcoin::hex::DisplayHex;
use p2share_app::{App, AppConfig};
use p2share_consensus::ChainParams;
use p2share_testkit::{Kind, TestChain, TestKey};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 40 } else { 3 };
    let per_round = if full { 500 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let params = ChainParams::regtest();
        let app = App::start(AppConfig::loopback(params.clone(), dir.path(), vec![]))
            .await
            .unwrap();
        let mut chain = TestChain::new(params).unwrap();
        let script = TestKey::from_seed(9).script(Kind::P2wpkh);
        for _ in 0..150 {
            let (share, _) = chain.mine(&script, vec![]).unwrap();
            app.api
                .submit_share(&share.encode().to_lower_hex_string())
                .await
                .unwrap();
        }
        let dispatcher =
            p2share_api::rpc::rpc_server(app.api.clone(), app.credentials.clone()).dispatcher();
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"getmininginfo","params":[]}"#;
        // Same answer both ways.
        let typed = serde_json::to_value(app.api.mining_info().await.unwrap()).unwrap();
        let reply: serde_json::Value =
            serde_json::from_str(&dispatcher.call(body).await.unwrap()).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&typed.to_string()).unwrap(),
            reply["result"]
        );
        let (mut t_typed, mut t_text, mut t_rpc) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..per_round {
                std::hint::black_box(app.api.mining_info().await.unwrap());
            }
            t_typed += start.elapsed();
            let start = Instant::now();
            for _ in 0..per_round {
                let info = app.api.mining_info().await.unwrap();
                std::hint::black_box(serde_json::to_string(&info).unwrap());
            }
            t_text += start.elapsed();
            let start = Instant::now();
            for _ in 0..per_round {
                std::hint::black_box(dispatcher.call(body).await);
            }
            t_rpc += start.elapsed();
        }
        let n = f64::from(rounds * per_round);
        let typed_us = t_typed.as_secs_f64() * 1e6 / n;
        let text_us = t_text.as_secs_f64() * 1e6 / n;
        let rpc_us = t_rpc.as_secs_f64() * 1e6 / n;
        eprintln!(
            "getmininginfo: typed layer {typed_us:.1} µs; typed + JSON text (what any transport, \
             IPC included, sends) {text_us:.1} µs; JSON-RPC adapter (request parsed, dispatched, \
             answer written) {rpc_us:.1} µs; adapter / typed {:.3}, adapter / typed + text {:.3} \
             (goal ≤ 1.2)",
            rpc_us / typed_us,
            rpc_us / text_us
        );
        app.shutdown().await;
    });
}
