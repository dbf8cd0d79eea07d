//! The embedded regtest mainchain survives SIGKILL: a block is durable once `submitblock` has
//! answered (the real binary, `p2share-node regtest-mainchain`, killed right after the answer).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bitcoin::{Address, Network};
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mainchain::{Mainchain, SubmitResult};
use p2share_regtest::blockbuilder::{grind, BlockAssembler};
use p2share_testkit::{Kind, TestKey};
use serde_json::json;

struct Standalone {
    child: Child,
    rpc: BitcoindRpc,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the standalone mainchain on `datadir` and waits for its start-up line.
fn start(datadir: &Path) -> Standalone {
    let mut child = Command::new(env!("CARGO_BIN_EXE_p2share-node"))
        .arg("regtest-mainchain")
        .arg("--datadir")
        .arg(datadir)
        .args(["--rpc-bind", "127.0.0.1:0", "--esplora-bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn p2share-node regtest-mainchain");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("JSON-RPC ").nth(1) {
                let url = rest.split_whitespace().next().unwrap_or_default();
                let _ = tx.send(url.to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the mainchain printed its JSON-RPC address");
    let rpc = BitcoindRpc::new(RpcConfig::new(
        url,
        Auth::CookieFile(datadir.join(".cookie")),
    ))
    .unwrap();
    Standalone { child, rpc }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_accepted_before_sigkill_is_in_the_active_chain_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::from_seed(7);
    let script = key.script(Kind::P2wpkh);
    let address = Address::from_script(&script, Network::Regtest).unwrap();
    let mut expected_height = 0;
    // Several kills in a row: blocks replayed from the log after one kill must survive the next.
    for cycle in 0..3u32 {
        let mut chain = start(dir.path());
        let tip = chain.rpc.tip().await.unwrap();
        assert_eq!(
            tip.height, expected_height,
            "cycle {cycle}: height after restart"
        );
        chain
            .rpc
            .call("generatetoaddress", json!([2, address.to_string()]))
            .await
            .unwrap();
        // One more through `submitblock`, the way a miner submits.
        let tip = chain.rpc.tip().await.unwrap();
        let header = chain.rpc.block_header(&tip.hash).await.unwrap();
        let mut block =
            BlockAssembler::new(tip.hash, tip.height + 1, header.time + 1, script.clone())
                .assemble(Vec::new());
        assert!(grind(
            &mut block,
            p2share_regtest::blockbuilder::regtest_target(),
            1 << 20
        ));
        assert_eq!(
            chain.rpc.submit_block(&block).await.unwrap(),
            SubmitResult::Accepted
        );
        // SIGKILL at once: nothing gets a chance to flush.
        chain.child.kill().unwrap();
        chain.child.wait().unwrap();
        drop(chain);
        expected_height += 3;

        let restarted = start(dir.path());
        let tip = restarted.rpc.tip().await.unwrap();
        assert_eq!(
            tip.height, expected_height,
            "cycle {cycle}: height after SIGKILL"
        );
        assert_eq!(
            tip.hash,
            block.block_hash(),
            "cycle {cycle}: the submitted block is the tip"
        );
        let info = restarted.rpc.block_header(&block.block_hash()).await;
        assert!(info.is_ok(), "cycle {cycle}: the block's header is known");
        drop(restarted); // SIGKILL again, before anything else is accepted
    }
}
