//! Shared set-up of the node crate's integration tests.

use std::net::SocketAddr;

use p2share_app::embedded::{Config, RegtestMainchain};
use p2share_regtest::Policy;

/// Starts the embedded regtest mainchain in `dir` on free loopback ports.
pub async fn start(dir: &tempfile::TempDir) -> RegtestMainchain {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    RegtestMainchain::start(Config {
        datadir: dir.path().to_path_buf(),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy::default(),
    })
    .await
    .unwrap()
}
