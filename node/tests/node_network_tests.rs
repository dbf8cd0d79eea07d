//! Scenario tests of whole nodes on loopback: libp2p between them, SQLite stores in temp
//! directories, the API over real HTTP and WebSocket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use netkit::{mine, miner, p2p_addr, rpc, start_node, start_pruned, tip, wait_for};
use p2share_p2p::Topic;
use p2share_service::Origin;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_converge_on_one_tip() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start_node(dirs[0].path(), vec![], 2000).await;
    let b = start_node(dirs[1].path(), vec![p2p_addr(&a).await], 2000).await;
    let c = start_node(dirs[2].path(), vec![p2p_addr(&b).await], 2000).await;
    wait_for(10, "peers connected", || async {
        b.net.p2p().peers().await.unwrap().len() == 2
    })
    .await;
    let (mut t, script) = miner(1);
    // Shares arrive at different nodes: over the API at A, locally at C.
    for (i, share) in mine(&mut t, &script, 12).into_iter().enumerate() {
        let parent = share.head.header.prev_share;
        if i % 2 == 0 {
            wait_for(10, "parent relayed to A", || async {
                a.node.knows_share(&parent).await
            })
            .await;
            let hex = bitcoin::hex::DisplayHex::to_lower_hex_string(&share.encode()[..]);
            let r = rpc(&a, "submitshare", json!([hex])).await.unwrap();
            assert_eq!(r["hash"], share.hash().to_string());
        } else {
            // C must have the parent first: wait for it to arrive by gossip.
            wait_for(10, "parent relayed to C", || async {
                c.node.knows_share(&parent).await
            })
            .await;
            c.net
                .submit_local_share(share, Origin::Local)
                .await
                .unwrap();
        }
    }
    let want = t.chain.tip_hash().to_string();
    for (name, d) in [("a", &a), ("b", &b), ("c", &c)] {
        wait_for(15, &format!("{name} at the tip"), || async {
            tip(d).await.0 == want
        })
        .await;
    }
    let info = rpc(&c, "getsharechaininfo", json!([])).await.unwrap();
    assert_eq!(info["height"], 12);
    assert_eq!(info["tip"], want);
    assert_eq!(info["network"], "regtest");
    for d in [a, b, c] {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_joins_late_syncs_ten_thousand_shares() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start_node(dirs[0].path(), vec![], 2000).await;
    let b = start_node(dirs[1].path(), vec![p2p_addr(&a).await], 2000).await;
    let (mut t, script) = miner(2);
    let shares = mine(&mut t, &script, 10_000);
    for chunk in shares.chunks(500) {
        for r in a
            .node
            .submit_shares(chunk.to_vec(), Origin::Local)
            .await
            .unwrap()
        {
            r.unwrap();
        }
    }
    wait_for(120, "b synced from a", || async {
        tip(&b).await.1 == 10_000
    })
    .await;
    // A third node joins both and syncs too, bodies from two peers.
    let c = start_node(
        dirs[2].path(),
        vec![p2p_addr(&a).await, p2p_addr(&b).await],
        2000,
    )
    .await;
    let mut progress_seen = false;
    wait_for(120, "c synced", || {
        let status = c.net.sync_status();
        progress_seen |= status.state == "bodies" && status.target_height == 10_000;
        async { tip(&c).await.1 == 10_000 }
    })
    .await;
    let want = t.chain.tip_hash();
    for d in [&a, &b, &c] {
        assert_eq!(d.node.tip().await.0, want);
    }
    let status = rpc(&c, "getsyncstatus", json!([])).await.unwrap();
    assert_eq!(status["height"], 10_000);
    let snapshot = |d: &p2share_app::App| {
        let n = d.node.clone();
        async move { n.with_chain(|c| c.utxo().snapshot()).await }
    };
    assert_eq!(snapshot(&a).await, snapshot(&c).await);
    let _ = progress_seen; // progress is also logged; the final state is what must hold
    for d in [a, b, c] {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partitions_reorganize_to_the_most_work_with_identical_utxo_sets() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start_node(dirs[0].path(), vec![], 2000).await;
    let b = start_node(dirs[1].path(), vec![p2p_addr(&a).await], 2000).await;
    let c = start_node(dirs[2].path(), vec![], 2000).await;
    // A common start, then a partition: {a, b} and {c}.
    let (mut common, s1) = miner(3);
    let start = mine(&mut common, &s1, 5);
    for share in &start {
        a.net
            .submit_local_share(share.clone(), Origin::Local)
            .await
            .unwrap();
        c.node
            .submit_share(share.clone(), Origin::Local)
            .await
            .unwrap();
    }
    let mut left = common.clone();
    let mut right = common.clone();
    let (_, s2) = miner(4);
    for share in mine(&mut left, &s1, 6) {
        a.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
    for share in mine(&mut right, &s2, 9) {
        c.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
    let left_tip = left.chain.tip_hash();
    wait_for(10, "b follows a", || async {
        b.node.tip().await.0 == left_tip
    })
    .await;
    assert_eq!(tip(&c).await.1, 14);
    // Reconnect: c dials b; everyone moves to c's branch (more work).
    rpc(&c, "addpeer", json!([p2p_addr(&b).await.to_string()]))
        .await
        .unwrap();
    let right_tip = right.chain.tip_hash();
    for (name, d) in [("a", &a), ("b", &b), ("c", &c)] {
        wait_for(20, &format!("{name} on the heavier branch"), || async {
            d.node.tip().await.0 == right_tip
        })
        .await;
    }
    let model = right.chain.utxo().snapshot();
    for d in [&a, &b, &c] {
        assert_eq!(d.node.with_chain(|c| c.utxo().snapshot()).await, model);
        // The store agrees with memory after the reorg.
        let stored = d.node.store().load_utxos().await.unwrap();
        assert_eq!(stored.len(), model.coins.len());
    }
    for d in [a, b, c] {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_sending_garbage_and_invalid_shares_is_banned_while_others_keep_syncing() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start_node(dirs[0].path(), vec![], 2000).await;
    let a_addr = p2p_addr(&a).await;
    let bad = start_node(dirs[1].path(), vec![a_addr.clone()], 2000).await;
    let b = start_node(dirs[2].path(), vec![a_addr.clone()], 2000).await;
    wait_for(10, "both connected to a", || async {
        a.net.p2p().peers().await.unwrap().len() == 2
    })
    .await;

    // Raw TCP garbage at a's port: that connection is dropped, nothing else notices.
    let text = a_addr.to_string();
    let port: u16 = text
        .split("/tcp/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let mut raw = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut rng = p2share_testkit::SplitMix64(7);
    let garbage: Vec<u8> = (0..65_536 / 8)
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .collect();
    let _ = raw.write_all(&garbage).await;
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        use tokio::io::AsyncReadExt;
        let _ = raw.read_to_end(&mut sink).await;
    })
    .await;
    assert!(closed.is_ok(), "a garbage connection must be closed");

    // An undecodable share and an invalid one gossiped by `bad`: a bans it.
    let (mut t, script) = miner(5);
    let mut invalid = mine(&mut t.clone(), &script, 1).remove(0);
    invalid.txs[0].output[0].value = bitcoin::Amount::from_sat(1); // breaks the tx root
    let bad_id = bad.net.p2p().local_peer_id();
    wait_for(10, "gossip mesh", || async {
        bad.net
            .p2p()
            .publish(Topic::Shares, invalid.encode())
            .await
            .is_ok()
    })
    .await;
    wait_for(10, "bad peer banned", || async {
        a.net
            .p2p()
            .banned()
            .await
            .unwrap()
            .iter()
            .any(|(p, _)| *p == bad_id)
    })
    .await;
    assert!(
        a.node.tip().await.1 == 0,
        "the invalid share changed nothing"
    );

    // The honest peer keeps syncing through all of it.
    for share in mine(&mut t, &script, 40) {
        a.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
    let want = t.chain.tip_hash();
    wait_for(20, "b synced", || async { b.node.tip().await.0 == want }).await;
    // While banned, `bad` cannot get back in.
    let _ = bad.net.p2p().dial(a_addr.clone()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!a
        .net
        .p2p()
        .peers()
        .await
        .unwrap()
        .iter()
        .any(|p| p.peer_id == bad_id));
    assert_ne!(
        bad.node.tip().await.0,
        want,
        "nothing reached the banned peer"
    );
    for d in [a, bad, b] {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pruned_node_serves_its_reorg_window() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let p = start_pruned(dirs[0].path(), vec![], 20, Some(40)).await;
    let (mut t, script) = miner(6);
    let shares = mine(&mut t, &script, 150);
    // A follower that saw the first 135 shares, then went offline.
    let q_dir = dirs[1].path().to_path_buf();
    {
        let q = start_node(&q_dir, vec![], 20).await;
        q.node
            .submit_shares(shares[..135].to_vec(), Origin::Local)
            .await
            .unwrap();
        q.shutdown().await;
    }
    p.node
        .submit_shares(shares.clone(), Origin::Local)
        .await
        .unwrap();
    // Old bodies are gone from p, heads stay; the window is whole.
    let old = rpc(&p, "getsharebyheight", json!([40])).await.unwrap();
    assert_eq!(old["pruned"], true);
    assert!(old["tx"].is_null());
    let recent = rpc(&p, "getsharebyheight", json!([140])).await.unwrap();
    assert_eq!(recent["pruned"], false);
    let store = rpc(&p, "getstoreinfo", json!([])).await.unwrap();
    assert!(store["bodies"].as_u64().unwrap() <= 40 + 64, "{store}");
    assert_eq!(store["shares"], 151);
    // The follower comes back and catches up from the pruned node's window.
    let q = start_node(&q_dir, vec![p2p_addr(&p).await], 20).await;
    assert_eq!(
        q.node.tip().await.1,
        135,
        "restart resumes at the stored tip"
    );
    let want = t.chain.tip_hash();
    wait_for(20, "q caught up", || async { q.node.tip().await.0 == want }).await;
    for d in [p, q] {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_answers_refuses_bad_calls_and_streams_events() {
    let dir = tempfile::tempdir().unwrap();
    let a = start_node(dir.path(), vec![], 2000).await;
    // Bad calls: clear errors, JSON-RPC codes.
    let e = rpc(&a, "getshare", json!(["zz"])).await.unwrap_err();
    assert_eq!(e["code"], -8);
    assert!(
        e["message"].as_str().unwrap().contains("hex share id"),
        "{e}"
    );
    let e = rpc(&a, "getshare", json!([])).await.unwrap_err();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("missing parameter hash"),
        "{e}"
    );
    let e = rpc(&a, "getsharebyheight", json!([5])).await.unwrap_err();
    assert_eq!(e["code"], -5);
    let e = rpc(&a, "nosuchmethod", json!([])).await.unwrap_err();
    assert_eq!(e["code"], -32601);
    let e = rpc(&a, "sendrawtransaction", json!(["00"]))
        .await
        .unwrap_err();
    assert_eq!(e["code"], -22);
    let e = rpc(&a, "submitshare", json!(["0011"])).await.unwrap_err();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("share decode failed"),
        "{e}"
    );
    let e = rpc(&a, "getbalance", json!(["not-an-address"]))
        .await
        .unwrap_err();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("neither an address"),
        "{e}"
    );
    // Wrong credentials: 401.
    let status = reqwest::Client::new()
        .post(format!("http://{}/", a.api_addr.unwrap()))
        .basic_auth("__cookie__", Some("wrong"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "getsharechaininfo"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // WebSocket: subscribe to tips, mine, see the event.
    let url = format!(
        "ws://{}/ws?auth={}:{}",
        a.api_addr.unwrap(),
        a.credentials.user(),
        a.credentials.password()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"jsonrpc": "2.0", "id": 7, "method": "subscribe", "params": ["tip"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    let reply: Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply["id"], 7);
    let (mut t, script) = miner(8);
    let share = mine(&mut t, &script, 1).remove(0);
    a.net
        .submit_local_share(share.clone(), Origin::Local)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(event.to_text().unwrap()).unwrap();
    assert_eq!(event["method"], "event");
    assert_eq!(event["params"]["type"], "tip");
    assert_eq!(event["params"]["height"], 1);
    assert_eq!(event["params"]["hash"], share.hash().to_string());

    // Queries on the mined share.
    let got = rpc(&a, "getshare", json!([share.hash().to_string()]))
        .await
        .unwrap();
    assert_eq!(got["height"], 1);
    assert_eq!(got["active"], true);
    let address = bitcoin::Address::from_script(&script, bitcoin::Network::Regtest).unwrap();
    let unspent = rpc(&a, "listunspent", json!([address.to_string()]))
        .await
        .unwrap();
    assert_eq!(unspent.as_array().unwrap().len(), 1);
    let balance = rpc(&a, "getbalance", json!([script.to_hex_string()]))
        .await
        .unwrap();
    assert_eq!(balance["outputs"], 1);
    let selected = rpc(&a, "getselectedshare", json!([])).await.unwrap();
    assert_eq!(selected["height"], 1);
    let info = rpc(&a, "getnetworkinfo", json!([])).await.unwrap();
    assert_eq!(info["network"], "regtest");
    assert!(rpc(&a, "getmempoolinfo", json!([])).await.unwrap()["size"] == 0);

    // A share whose parent is unknown is held, and connects when the parent comes.
    let next = mine(&mut t, &script, 2);
    let hex = |s: &p2share_consensus::Share| {
        bitcoin::hex::DisplayHex::to_lower_hex_string(&s.encode()[..])
    };
    let r = rpc(&a, "submitshare", json!([hex(&next[1])]))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "orphan");
    assert_eq!(r["missing_parent"], next[0].hash().to_string());
    let r = rpc(&a, "submitshare", json!([hex(&next[0])]))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "extended");
    assert_eq!(a.node.tip().await, (next[1].hash(), 3));
    rpc(&a, "stop", json!([])).await.unwrap();
    a.shutdown().await;
}

/// `docs/api.md` lists exactly the methods the node serves: its method table names each one,
/// and each has a section of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_lists_every_method_the_node_serves() {
    let dir = tempfile::tempdir().unwrap();
    let d = start_node(dir.path(), vec![], 2000).await;
    let server = p2share_api::rpc::rpc_server(d.api.clone(), d.credentials.clone());
    let served = server.method_names();
    let mut in_order: Vec<String> = p2share_api::rpc::METHODS
        .iter()
        .map(ToString::to_string)
        .collect();
    in_order.sort();
    assert_eq!(in_order, served, "rpc::METHODS against the server");
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md")).unwrap();
    let table: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| [`"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert_eq!(
        table,
        p2share_api::rpc::METHODS,
        "docs/api.md's table in the order of rpc::METHODS"
    );
    let mut listed = table.clone();
    listed.sort();
    assert_eq!(
        listed, served,
        "docs/api.md's method table against the server"
    );
    for m in &served {
        assert!(
            doc.contains(&format!("\n### {m}\n")),
            "no section for {m} in docs/api.md"
        );
    }
    d.shutdown().await;
}
