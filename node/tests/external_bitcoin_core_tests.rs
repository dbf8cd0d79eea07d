//! The daemon mining a custom network against a Bitcoin node it does not embed: a separate
//! `p2share-node regtest-mainchain` process (Bitcoin Core's consensus through bitcoinkernel,
//! Bitcoin Core's JSON-RPC and cookie) configured as its Bitcoin Core with a URL and a cookie
//! file. The blocks are accepted there and each pays the share the payout rule selects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use p2share_app::devnet::{fitted_bits, measure_hashrate};
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_testkit::{Kind, TestKey};
use serde_json::{json, Value};

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `args` and returns the first line of `stream` containing `marker`, the rest after
/// it up to whitespace.
fn spawn_until(args: &[String], marker: &str, stdout: bool) -> (Proc, String, String) {
    let (p, word, line, _) = spawn_watching(args, marker, stdout);
    (p, word, line)
}

/// [`spawn_until`], and the receiver of the later lines with `marker`.
fn spawn_watching(
    args: &[String],
    marker: &str,
    stdout: bool,
) -> (Proc, String, String, mpsc::Receiver<(String, String)>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2share-node"));
    cmd.args(args).stdin(Stdio::null());
    if stdout {
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    let stream: Box<dyn Read + Send> = if stdout {
        Box::new(child.stdout.take().unwrap())
    } else {
        Box::new(child.stderr.take().unwrap())
    };
    let (tx, rx) = mpsc::channel();
    let wanted = marker.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split(&wanted).nth(1) {
                let word = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send((word, line.clone()));
            }
        }
    });
    let (word, line) = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("no line with {marker:?} from {args:?}: {e}"));
    (Proc(child), word, line, rx)
}

/// A `regtest-mainchain` process in `dir/bitcoin`: (process, JSON-RPC URL, cookie file).
fn start_bitcoin(dir: &std::path::Path) -> (Proc, String, PathBuf) {
    start_bitcoin_with(dir, 1)
}

/// [`start_bitcoin`] whose blocks must be `ratio` times harder than regtest's limit.
fn start_bitcoin_with(dir: &std::path::Path, ratio: u64) -> (Proc, String, PathBuf) {
    let datadir = dir.join("bitcoin");
    let (p, url, _) = spawn_until(
        &[
            "regtest-mainchain".into(),
            "--datadir".into(),
            datadir.display().to_string(),
            "--rpc-bind".into(),
            "127.0.0.1:0".into(),
            "--esplora-bind".into(),
            "127.0.0.1:0".into(),
            "--block-target-ratio".into(),
            ratio.to_string(),
        ],
        "JSON-RPC ",
        true,
    );
    (p, url, datadir.join(".cookie"))
}

async fn call(url: &str, cookie: &str, method: &str, params: Value) -> Value {
    let reply = try_call(url, cookie, method, params).await;
    assert!(reply["error"].is_null(), "{method}: {reply}");
    reply["result"].clone()
}

/// The whole JSON-RPC reply (result or error).
async fn try_call(url: &str, cookie: &str, method: &str, params: Value) -> Value {
    let (user, password) = cookie.trim().split_once(':').unwrap();
    let reply: Value = reqwest::Client::new()
        .post(url)
        .basic_auth(user, Some(password))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_mines_a_custom_network_on_a_separate_bitcoin_node_paying_the_selected_shares() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p).display().to_string();
    // A custom network (a file, as a user would write one) on Bitcoin regtest, about five shares
    // a second for one thread, maturity 5 so that selected shares are paid within seconds.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let rate = measure_hashrate(1, 100);
    let mut params = ChainParams::devnet(now, fitted_bits(rate / 5.0, 1));
    // The Bitcoin node: its own process, its own data directory and cookie; its blocks harder
    // than the network's shares, as on any real network (regtest's own limit is met by every
    // second hash: a node that submits whatever meets Bitcoin's target would flood it).
    let (_bitcoin, rpc_url, cookie_file) =
        start_bitcoin_with(dir.path(), (rate / 5.0).max(2.0) as u64);
    params.name = "extpool".into();
    params.maturity = 5;
    params.asert_half_life = 3_600;
    params.validate().unwrap();
    std::fs::write(path("extpool.toml"), params.to_toml()).unwrap();
    let address = bitcoin::Address::from_script(
        &TestKey::from_seed(77).script(Kind::P2wpkh),
        bitcoin::Network::Regtest,
    )
    .unwrap()
    .to_string();
    let (mut daemon, api, _) = spawn_until(
        &[
            "--network".into(),
            path("extpool.toml"),
            "--datadir".into(),
            path("node"),
            "--listen".into(),
            "/ip4/127.0.0.1/tcp/0".into(),
            "--api-bind".into(),
            "127.0.0.1:0".into(),
            "--no-nat".into(),
            "--no-kademlia".into(),
            "--no-log-file".into(),
            "--bitcoin-rpc-url".into(),
            rpc_url.clone(),
            "--bitcoin-rpc-cookie".into(),
            cookie_file.display().to_string(),
            "--mine-to".into(),
            address.clone(),
            "--threads".into(),
            "1".into(),
        ],
        "API http://",
        false,
    );
    let api = format!("http://{api}/");
    let node_cookie = std::fs::read_to_string(PathBuf::from(path("node")).join(".cookie")).unwrap();
    let bitcoin = BitcoindRpc::new(RpcConfig::new(
        rpc_url.clone(),
        Auth::CookieFile(cookie_file.clone()),
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let blocks = bitcoin.block_count().await.unwrap();
        let odds = call(&api, &node_cookie, "getodds", json!([address])).await;
        let shares = call(&api, &node_cookie, "getmininginfo", json!([])).await["shares_found"]
            .as_u64()
            .unwrap_or(0);
        if blocks >= 20 && shares >= 20 && odds["n"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {blocks} Bitcoin blocks and {shares} shares: {odds}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let info = call(&api, &node_cookie, "getnodeinfo", json!([])).await;
    assert_eq!(info["bitcoin"]["kind"], "core");
    assert_eq!(info["bitcoin"]["rpc_url"], json!(rpc_url));
    assert_eq!(info["mining_address"], json!(address));
    let mining = call(&api, &node_cookie, "getmininginfo", json!([])).await;
    assert_eq!(mining["mining"], true, "{mining}");
    // Every block on the Bitcoin node pays what the payout rule selected (its own sharebase
    // while n was 0). Regtest's blocks are easier than this network's shares, and a solution
    // that meets Bitcoin's target goes to Bitcoin first: most blocks are no share. Those are
    // checked against the share that did follow their parent on the chain.
    let height = bitcoin.block_count().await.unwrap();
    let found = call(&api, &node_cookie, "getmininginfo", json!([])).await["blocks"]
        .as_array()
        .cloned()
        .unwrap();
    let mut selected = 0;
    let mut not_shares = 0;
    for h in 1..=height {
        let block = bitcoin
            .block(&bitcoin.block_hash(h).await.unwrap())
            .await
            .unwrap();
        let hash = block.block_hash().to_string();
        let reply = try_call(&api, &node_cookie, "getselectedshare", json!([hash])).await;
        if !reply["error"].is_null() {
            // `getmininginfo` lists the last 1,000 found blocks; older ones are only in the store.
            let Some(record) = found.iter().find(|b| b["block_hash"] == json!(hash)) else {
                assert!(found.len() >= 1_000, "block {h} was not found by the node");
                continue;
            };
            let paid = block.txdata[0].output[0].script_pubkey.to_hex_string();
            assert_eq!(record["paid_script"], json!(paid), "block {h}");
            // The share at the same height on the chain, if it builds on the same parent,
            // paid what this block had to pay.
            let sibling = call(
                &api,
                &node_cookie,
                "getsharebyheight",
                json!([record["share_height"]]),
            )
            .await;
            if sibling["prev_share"] == record["parent_share"] {
                let s = call(
                    &api,
                    &node_cookie,
                    "getselectedshare",
                    json!([sibling["hash"]]),
                )
                .await;
                let expected = match s["payout"]["script_pubkey"].as_str() {
                    Some(script) => script.to_string(),
                    // n = 0: the finder's own sharebase, the mining address.
                    None => TestKey::from_seed(77).script(Kind::P2wpkh).to_hex_string(),
                };
                assert_eq!(paid, expected, "block {h} pays the selected share");
            }
            not_shares += 1;
            continue;
        }
        let share = reply["result"].clone();
        let paid = &share["payee"]["script_pubkey"];
        assert_eq!(
            paid,
            &json!(block.txdata[0].output[0].script_pubkey.to_hex_string()),
            "block {h}"
        );
        if share["payout"].is_null() {
            continue;
        }
        assert_eq!(
            paid, &share["payout"]["script_pubkey"],
            "block {h} pays the selected share"
        );
        selected += 1;
    }
    assert!(
        selected >= 5,
        "{selected} of {height} blocks paid a selected share ({not_shares} were no share)"
    );
    // A clean stop over the API.
    call(&api, &node_cookie, "stop", json!([])).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while daemon.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(daemon.0.wait().unwrap().success());
}

/// First run from the dashboard's point of view: a daemon with nothing set up says so, takes a
/// `setup` naming a custom network (its TOML text) and a Bitcoin Core (URL + cookie), restarts
/// on it by itself and mines there; the setup survives a restart of the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_setup_over_the_api_restarts_the_daemon_mining_on_the_chosen_network() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p).display().to_string();
    let (_bitcoin, rpc_url, cookie_file) = start_bitcoin(dir.path());
    let daemon_args: Vec<String> = [
        "--datadir",
        &path("root"),
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--api-bind",
        "127.0.0.1:0",
        "--no-nat",
        "--no-kademlia",
        "--no-log-file",
        "--threads",
        "1",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let (daemon, api, _, later) = spawn_watching(&daemon_args, "API http://", false);
    let url = format!("http://{api}/");
    let cookie = || std::fs::read_to_string(PathBuf::from(path("root")).join(".cookie"));
    let setup = call(&url, &cookie().unwrap(), "getsetup", json!([])).await;
    assert_eq!(setup["configured"], false, "{setup}");
    // A malformed choice is refused with what is wrong, and nothing changes.
    let bad: Value = reqwest::Client::new()
        .post(&url)
        .basic_auth(
            "__cookie__",
            Some(cookie().unwrap().trim().split_once(':').unwrap().1),
        )
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "setup",
            "params": [{"kind": "join", "devnet_id": "nonsense", "peer": "x"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["error"]["code"], -8, "{bad}");
    assert!(!PathBuf::from(path("root")).join("setup.toml").exists());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let mut params = ChainParams::devnet(now, fitted_bits(measure_hashrate(1, 100) / 5.0, 1));
    params.name = "firstrun".into();
    // A browser logged in before the setup stays logged in after the restart.
    let password = cookie()
        .unwrap()
        .trim()
        .split_once(':')
        .unwrap()
        .1
        .to_string();
    let login = reqwest::Client::new()
        .post(format!("{url}login"))
        .json(&json!({"user": "__cookie__", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 204);
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let reply = call(
        &url,
        &cookie().unwrap(),
        "setup",
        json!([{"kind": "network", "network": params.to_toml(),
                "bitcoin": {"url": rpc_url, "cookie_file": cookie_file.display().to_string()}}]),
    )
    .await;
    assert_eq!(reply["restart_required"], true);
    // The daemon comes back on the new setup (a fresh port: the flags asked for any).
    let (api, _) = later.recv_timeout(Duration::from_secs(60)).unwrap();
    let url = format!("http://{api}/");
    let node_dir = PathBuf::from(path("root")).join("firstrun");
    let node_cookie = std::fs::read_to_string(node_dir.join(".cookie")).unwrap();
    let by_session: Value = reqwest::Client::new()
        .post(&url)
        .header("cookie", &session)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "getsetup"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_session["result"]["network"], "firstrun", "{by_session}");
    let setup = call(&url, &node_cookie, "getsetup", json!([])).await;
    assert_eq!(
        (
            setup["configured"].clone(),
            setup["network"].clone(),
            setup["bitcoin"].clone()
        ),
        (json!(true), json!("firstrun"), json!("core"))
    );
    let bitcoin = BitcoindRpc::new(RpcConfig::new(
        rpc_url.clone(),
        Auth::CookieFile(cookie_file),
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while bitcoin.block_count().await.unwrap() < 3 {
        assert!(
            Instant::now() < deadline,
            "no Bitcoin blocks from the new setup"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settings = call(&url, &node_cookie, "getsettings", json!([])).await;
    assert_eq!(settings["bitcoin"]["auth"], "cookie");
    assert!(settings.to_string().contains(&rpc_url));
    drop(daemon);
    // A new process starts on the kept setup.
    let (_again, api, _) = spawn_until(&daemon_args, "API http://", false);
    let node_cookie = std::fs::read_to_string(node_dir.join(".cookie")).unwrap();
    let info = call(
        &format!("http://{api}/"),
        &node_cookie,
        "getnodeinfo",
        json!([]),
    )
    .await;
    assert_eq!(info["network"], "firstrun");
}
