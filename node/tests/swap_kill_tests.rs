//! A swap survives SIGKILL of either real node in every phase it reaches: two `p2share-node run`
//! devnet processes (one Bitcoin chain, relayed between them) trade 2 shares for BTC through the
//! JSON-RPC API, and each node is killed (SIGKILL, no clean shutdown) and restarted on its data
//! directory the first time it is seen in each phase of its role. The swap must complete on both,
//! with the BTC in the seller's wallet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SHARE: u64 = 100_000_000;

/// A running `p2share-node run` and what it printed at start.
struct Node {
    name: &'static str,
    child: Child,
    datadir: PathBuf,
    api: String,
    token: String,
    /// `<genesis time>-<bits>`, for a joiner.
    devnet: String,
    /// Its dial address, `/ip4/…/tcp/…/p2p/<id>`.
    peer: String,
    http: reqwest::Client,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Node {
    /// Starts (or restarts) a devnet node on `datadir`; `join` names the devnet and a peer.
    async fn start(
        name: &'static str,
        datadir: &Path,
        join: Option<(&str, &str)>,
        mine: bool,
    ) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2share-node"));
        cmd.arg("run").arg("--datadir").arg(datadir).args([
            "--threads",
            "1",
            "--api-bind",
            "127.0.0.1:0",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--bitcoin-rpc-bind",
            "127.0.0.1:0",
            "--esplora-bind",
            "127.0.0.1:0",
            "--stratum-bind",
            "off",
            // Every share is a Bitcoin block: A's first coinbase matures 100 shares later.
            "--block-target-ratio",
            "1",
            "--progress-secs",
            "3600",
            "--no-log-file",
        ]);
        if let Some((devnet, peer)) = join {
            cmd.args(["--devnet", devnet, "--peer", peer]);
        }
        if !mine {
            cmd.arg("--no-mining");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn p2share-node run");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        {
            let lines = lines.clone();
            // Drains stdout for the life of the process (a full pipe would stall it).
            tokio::spawn(async move {
                let mut reader = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let (api, token, devnet, peer) = loop {
            if let Some(found) = started(&lines.lock().unwrap()) {
                break found;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "node {name} exited at start ({status}): {:?}",
                    lines.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "node {name} did not start: {:?}",
                lines.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Node {
            name,
            child,
            datadir: datadir.to_path_buf(),
            api,
            token,
            devnet,
            peer,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            lines,
        }
    }

    /// A call to the node's API; `Err` carries the node's error message.
    async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        let reply: Value = self
            .http
            .post(&self.api)
            .basic_auth("__cookie__", Some(&self.token))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .map_err(|e| format!("{method}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{method}: {e}"))?;
        match reply.get("error") {
            Some(e) if !e.is_null() => Err(format!("{method}: {e}")),
            _ => Ok(reply["result"].clone()),
        }
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params)
            .await
            .unwrap_or_else(|e| panic!("node {}: {e}", self.name))
    }

    /// This node's record of swap `id`.
    async fn swap(&self, id: &str) -> Value {
        let swaps = self.ok("listswaps", json!([])).await;
        swaps
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("node {} has no swap {id}: {swaps}", self.name))
    }

    async fn phase(&self, id: &str) -> String {
        self.swap(id).await["phase"].as_str().unwrap().to_string()
    }

    /// The last lines it printed (for a failure message).
    fn tail(&self) -> String {
        let lines = self.lines.lock().unwrap();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGKILL, reaped: no shutdown code runs.
    async fn kill(mut self) -> PathBuf {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reap");
        self.datadir.clone()
    }
}

/// (API URL, token, devnet, peer) once all are printed.
fn started(lines: &[String]) -> Option<(String, String, String, String)> {
    let text = lines.join("\n");
    let after = |key: &str| -> Option<&str> { text.split(key).nth(1)?.split_whitespace().next() };
    let dash = after("dashboard: ")?;
    let (base, token) = dash.split_once("/login?token=")?;
    let devnet = after("join it: p2share-node run --devnet ")?;
    let peer = after(&format!("--devnet {devnet} --peer "))?;
    Some((
        format!("{base}/"),
        token.to_string(),
        devnet.to_string(),
        peer.to_string(),
    ))
}

/// Polls `check` every 250 ms until it holds, for at most `secs`.
async fn wait_for<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swap_completes_though_either_node_is_killed_in_every_phase() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    // A founds the devnet and mines; B joins it and only trades (no miner: the machine's cores go
    // to A and to the restarts).
    let a = Node::start("a", dirs[0].path(), None, true).await;
    let b = Node::start("b", dirs[1].path(), Some((&a.devnet, &a.peer)), false).await;
    a.ok("createwallet", json!(["pass a"])).await;
    b.ok("createwallet", json!(["pass b"])).await;
    wait_for(240, "10 spendable shares in A's wallet", || async {
        a.ok("getwalletbalances", json!([])).await["shares"]["spendable"]
            .as_u64()
            .unwrap()
            >= 10 * SHARE
    })
    .await;
    // A's BTC: every share is a Bitcoin block here and A is the only miner, so every coinbase
    // pays A's wallet; the first matures 100 blocks later.
    wait_for(400, "spendable BTC in A's wallet", || async {
        a.ok("getwalletbalances", json!([])).await["btc"]["confirmed"]
            .as_u64()
            .unwrap()
            >= 10_000_000
    })
    .await;
    // B's shares: 3 from A.
    let to = b.ok("getnewaddress", json!([])).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    a.ok("sendshares", json!([to, "3"])).await;
    wait_for(120, "3 spendable shares in B's wallet", || async {
        b.ok("getwalletbalances", json!([])).await["shares"]["spendable"]
            .as_u64()
            .unwrap()
            >= 3 * SHARE
    })
    .await;
    let btc_before = b.ok("getwalletbalances", json!([])).await["btc"]["confirmed"]
        .as_u64()
        .unwrap();

    // A buys shares at 100,000 sat each; B sells it 2 (B, the taker, locks its shares first).
    let offer = a
        .ok("makeoffer", json!(["btc", "1", "5", 100_000, 3_600]))
        .await;
    let offer_id = offer["id"].as_str().unwrap().to_string();
    wait_for(60, "B's order book to hold A's offer", || async {
        let book = b.ok("listoffers", json!([])).await;
        book.as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == offer_id.as_str())
    })
    .await;
    let taken = b.ok("takeoffer", json!([offer_id, "2"])).await;
    let sid = taken["id"].as_str().unwrap().to_string();

    let mut nodes = [Some(a), Some(b)];
    let passes = ["pass a", "pass b"];
    // (node, phase) pairs a kill was injected in.
    let mut killed: Vec<(&str, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let phases = [
            nodes[0].as_ref().unwrap().phase(&sid).await,
            nodes[1].as_ref().unwrap().phase(&sid).await,
        ];
        if phases.iter().all(|p| p == "completed") {
            break;
        }
        assert!(
            phases
                .iter()
                .all(|p| p != "refunding" && p != "refunded" && p != "cancelled"),
            "the swap left the happy path: {phases:?} after kills in {killed:?}"
        );
        assert!(
            Instant::now() < deadline,
            "the swap did not complete in 300 s: {phases:?}; A {}; B {}\nA printed:\n{}\nB printed:\n{}",
            nodes[0].as_ref().unwrap().swap(&sid).await,
            nodes[1].as_ref().unwrap().swap(&sid).await,
            nodes[0].as_ref().unwrap().tail(),
            nodes[1].as_ref().unwrap().tail()
        );
        // Kill each node the first time it is seen in a phase, then restart it.
        for i in 0..2 {
            let name = nodes[i].as_ref().unwrap().name;
            if killed.contains(&(name, phases[i].clone())) {
                continue;
            }
            killed.push((name, phases[i].clone()));
            let datadir = nodes[i].take().unwrap().kill().await;
            let other = nodes[1 - i].as_ref().unwrap();
            let (devnet, peer) = (other.devnet.clone(), other.peer.clone());
            // The founder comes back on its own devnet and dials the joiner; the joiner as it
            // joined.
            let node = Node::start(name, &datadir, Some((&devnet, &peer)), i == 0).await;
            node.ok("unlockwallet", json!([passes[i]])).await;
            nodes[i] = Some(node);
        }
        // Blocks of both chains come from A's miner (every share is a Bitcoin block).
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let (a, b) = (nodes[0].take().unwrap(), nodes[1].take().unwrap());
    let kills_a = killed.iter().filter(|(n, _)| *n == "a").count();
    let kills_b = killed.iter().filter(|(n, _)| *n == "b").count();
    assert!(
        kills_a >= 2 && kills_b >= 2 && killed.len() >= 4,
        "kills in several phases of both roles: {killed:?}"
    );
    // B holds the 200,000 sat (less its claim's fee) once its claim has confirmed.
    wait_for(120, "B's 0.002 BTC to confirm", || async {
        let btc = b.ok("getwalletbalances", json!([])).await["btc"]["confirmed"]
            .as_u64()
            .unwrap();
        btc > btc_before + 190_000
    })
    .await;
    eprintln!("swap {sid} completed; SIGKILL injected in {killed:?}");
    for n in [a, b] {
        n.kill().await;
    }
    let _ = dirs;
}
