//! `getblocktemplate` over HTTP from the embedded regtest mainchain with 5,000 mempool
//! transactions, as a miner sees it: request, template selection, Core's JSON, HTTP, and the
//! client's parse (`raw_json`: to a JSON value; `decoded`: every transaction decoded and its
//! ids checked, what `p2share-mainchain`'s `block_template` returns).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, Criterion};
use p2share_app::embedded::{Config, RegtestMainchain};
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mainchain::Mainchain;
use p2share_regtest::Policy;
use serde_json::json;

fn bench_gbt(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let service = runtime
        .block_on(RegtestMainchain::start(Config {
            datadir: dir.path().to_path_buf(),
            rpc_bind: any,
            esplora_bind: any,
            policy: Policy::default(),
        }))
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    p2share_regtest::testutil::fill_mempool(service.node(), 200, 25, now).unwrap();
    assert_eq!(service.node().mempool().len(), 5_000);
    let rpc = BitcoindRpc::new(RpcConfig::new(
        service.rpc_url(),
        Auth::CookieFile(service.cookie_path().to_path_buf()),
    ))
    .unwrap();
    let mut g = c.benchmark_group("rpc_getblocktemplate_5000_mempool_txs");
    g.sample_size(20);
    g.bench_function("raw_json", |b| {
        b.iter(|| {
            runtime
                .block_on(rpc.call("getblocktemplate", json!([{"rules": ["segwit"]}])))
                .unwrap()
        })
    });
    g.bench_function("decoded", |b| {
        b.iter(|| runtime.block_on(rpc.block_template(None)).unwrap())
    });
    g.finish();
    let t = runtime.block_on(rpc.block_template(None)).unwrap();
    assert_eq!(t.transactions.len(), 5_000);
    runtime.block_on(service.shutdown());
}

criterion_group!(benches, bench_gbt);
criterion_main!(benches);
