//! Crash consistency of the real daemon binary: SIGKILL it while shares are being connected
//! over the API, restart it on the same data directory, and check that nothing acknowledged was
//! lost, nothing unsent appeared, and the restored chain state (UTXO set included) still
//! validates the rest of the chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use p2share_consensus::ChainParams;
use p2share_testkit::{Kind, SplitMix64, TestChain, TestKey};
use serde_json::{json, Value};

/// Shares mined up front; share `i` of the list is at height `i + 1`.
const SHARES: usize = 300;
/// Kill/restart cycles.
const CYCLES: usize = 3;

/// A running daemon process.
struct Daemon {
    child: Child,
    url: String,
    user: String,
    password: String,
    datadir: PathBuf,
    /// Everything it wrote to stderr (shown when a check fails).
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts the binary on `datadir` and waits for its start-up line.
    fn start(datadir: &Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_p2share-node"))
            .args(["--network", "regtest", "--datadir"])
            .arg(datadir)
            .args([
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--api-bind",
                "127.0.0.1:0",
                "--no-nat",
                "--no-kademlia",
                "--no-log-file",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn p2share-node");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            // Drains stderr for the life of the process (a full pipe would stall the daemon).
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("API http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or_default();
                        let _ = tx.send(addr.to_string());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(e) => {
                let status = child.try_wait();
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "daemon did not start ({e}; exit {status:?}); stderr:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        let cookie = std::fs::read_to_string(datadir.join(".cookie")).expect("read .cookie");
        let (user, password) = cookie
            .trim()
            .split_once(':')
            .expect("cookie is user:password");
        Daemon {
            child,
            url: format!("http://{addr}/"),
            user: user.to_string(),
            password: password.to_string(),
            datadir: datadir.to_path_buf(),
            log,
        }
    }

    fn api(&self) -> Api {
        Api {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            url: self.url.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
        }
    }

    fn stderr(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL the daemon");
        self.child.wait().unwrap();
    }

    /// Waits up to `secs` for the process to exit.
    fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "daemon did not exit in {secs} s; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failed check must not leave the process behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A JSON-RPC client of one daemon.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    url: String,
    user: String,
    password: String,
}

/// Why a call failed: the transport (expected once the process is killed) or the node.
#[derive(Debug)]
#[allow(dead_code)] // the payloads are read through `Debug`, in failure messages
enum CallError {
    Transport(String),
    Rpc(Value),
}

impl Api {
    async fn call(&self, method: &str, params: Value) -> Result<Value, CallError> {
        let reply = self
            .client
            .post(&self.url)
            .basic_auth(&self.user, Some(&self.password))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let reply: Value = reply
            .json()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        match reply.get("error") {
            Some(e) if !e.is_null() => Err(CallError::Rpc(e.clone())),
            _ => Ok(reply["result"].clone()),
        }
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e:?}"))
    }

    /// (tip hash, height).
    async fn tip(&self) -> (String, usize) {
        let info = self.ok("getsharechaininfo", json!([])).await;
        let height = usize::try_from(info["height"].as_u64().expect("height")).unwrap();
        (info["tip"].as_str().expect("tip").to_string(), height)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Submits `shares[from..]` one after another; `sent` is the number of shares whose
/// submission has begun (an upper bound of the chain the node can hold), `acked` the height of
/// the last share the API confirmed as connected. Ends at the first failure.
async fn submit_all(
    api: Api,
    shares: Arc<Vec<String>>,
    from: usize,
    sent: Arc<AtomicUsize>,
    acked: Arc<AtomicUsize>,
) -> Result<(), CallError> {
    for (i, hex) in shares.iter().enumerate().skip(from) {
        sent.store(i + 1, Ordering::SeqCst);
        let r = api.call("submitshare", json!([hex])).await?;
        // `extended` (older builds of the API spelled it `Extended`).
        let outcome = r["outcome"].as_str().unwrap_or_default();
        if !outcome.eq_ignore_ascii_case("extended") {
            return Err(CallError::Rpc(json!({"unexpected": r, "height": i + 1})));
        }
        acked.store(i + 1, Ordering::SeqCst);
    }
    Ok(())
}

/// Checks a restarted node against what it was told before the kill and returns its height.
async fn check_restored(d: &Daemon, t: &TestChain, acked: usize, sent: usize) -> usize {
    let api = d.api();
    let info = api.ok("getsharechaininfo", json!([])).await;
    let (tip, height) = api.tip().await;
    assert!(
        height >= acked && height <= sent,
        "restored height {height} outside [acked {acked}, sent {sent}]; stderr:\n{}",
        d.stderr()
    );
    let expected = t.chain.hash_at(u32::try_from(height).unwrap()).unwrap();
    assert_eq!(tip, expected.to_string(), "restored tip at height {height}");
    // The store answers too (and its share count covers the active chain and genesis).
    let store = api.ok("getstoreinfo", json!([])).await;
    let stored = usize::try_from(store["shares"].as_u64().expect("shares")).unwrap();
    assert!(
        stored > height,
        "store holds {stored} shares at height {height}"
    );
    assert_eq!(
        store["utxos"], info["utxos"],
        "UTXOs in the store and in memory"
    );
    height
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_while_connecting_shares_restarts_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("node");
    let mut t = TestChain::new(ChainParams::regtest()).unwrap();
    let script = TestKey::from_seed(7).script(Kind::P2wpkh);
    let shares: Arc<Vec<String>> = Arc::new(
        (0..SHARES)
            .map(|_| to_hex(&t.mine(&script, vec![]).unwrap().0.encode()))
            .collect(),
    );
    assert_eq!(t.chain.height() as usize, SHARES);

    let mut rng = SplitMix64(0x5eed_d1e5);
    // What the last process acknowledged (lower bound) and was sent (upper bound).
    let (mut acked, mut sent) = (0usize, 0usize);
    for cycle in 0..CYCLES {
        let d = Daemon::start(&datadir);
        let height = check_restored(&d, &t, acked, sent).await;
        let sent_n = Arc::new(AtomicUsize::new(height));
        let acked_n = Arc::new(AtomicUsize::new(height));
        let task = tokio::spawn(submit_all(
            d.api(),
            shares.clone(),
            height,
            sent_n.clone(),
            acked_n.clone(),
        ));
        // Kill at a pseudo-random moment: once 5 to 74 more shares are in, plus 0–2 ms, which
        // lands anywhere in the next submission (a debug build connects one in about a
        // millisecond): decoding, validation, the store's commit, or the reply.
        let target = height + 5 + usize::try_from(rng.next_u64() % 70).unwrap();
        let jitter = Duration::from_micros(rng.next_u64() % 2000);
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked_n.load(Ordering::SeqCst) < target && !task.is_finished() {
            assert!(
                Instant::now() < deadline,
                "cycle {cycle}: stuck at height {}; stderr:\n{}",
                acked_n.load(Ordering::SeqCst),
                d.stderr()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        while start.elapsed() < jitter {
            std::hint::spin_loop();
        }
        assert!(
            !task.is_finished(),
            "cycle {cycle}: the submitter stopped before the kill: {:?}; stderr:\n{}",
            task.await.unwrap(),
            d.stderr()
        );
        d.kill();
        match task.await.unwrap() {
            Err(CallError::Transport(_)) => {}
            other => panic!("cycle {cycle}: submitter after the kill: {other:?}"),
        }
        acked = acked_n.load(Ordering::SeqCst);
        sent = sent_n.load(Ordering::SeqCst);
        assert!(
            sent < SHARES,
            "cycle {cycle}: every share was sent before the kill"
        );
    }

    // The last restart: consistent, and the restored chain state validates the rest.
    let mut d = Daemon::start(&datadir);
    let height = check_restored(&d, &t, acked, sent).await;
    let done = Arc::new(AtomicUsize::new(0));
    submit_all(d.api(), shares.clone(), height, done.clone(), done.clone())
        .await
        .unwrap_or_else(|e| panic!("submitting the rest from {height}: {e:?}"));
    let api = d.api();
    assert_eq!(
        api.tip().await,
        (t.chain.tip_hash().to_string(), SHARES),
        "full chain"
    );
    api.ok("stop", json!([])).await;
    let status = d.wait_exit(20);
    assert!(status.success(), "exit {status:?}; stderr:\n{}", d.stderr());
    assert!(
        !d.datadir.join(".cookie").exists(),
        "the cookie outlived a clean stop"
    );
}
