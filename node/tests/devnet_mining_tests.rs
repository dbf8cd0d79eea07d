//! Mining end to end on loopback: real nodes (store, chain, mempool, libp2p, API), the real CPU
//! hasher, and one embedded regtest mainchain (Bitcoin Core's consensus through bitcoinkernel)
//! that every node submits its Bitcoin blocks to.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::collections::HashMap;
use std::net::SocketAddr;

use netkit::{p2p_addr, rpc, start_miner_node, start_on, tip, wait_for};
use p2share_app::devnet;
use p2share_app::embedded::{Config, RegtestMainchain};
use p2share_app::App;
use p2share_consensus::payout::reduce_selector;
use p2share_consensus::validation::coinbase_payee;
use p2share_consensus::{ChainParams, ChainState, Payout, Share, ShareHash};
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::Mainchain;
use p2share_mining::{build_job, start_miner, FoundBlock, MiningControl};
use p2share_p2p::Topic;
use p2share_regtest::Policy;
use p2share_service::Origin;
use p2share_testkit::{Kind, TestKey};
use serde_json::{json, Value};

/// Bitcoin blocks are this many times harder than the devnet's starting shares.
const RATIO: u64 = 4;

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

async fn start_mainchain(dir: &std::path::Path, params: &ChainParams) -> RegtestMainchain {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    RegtestMainchain::start(Config {
        datadir: dir.to_path_buf(),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy {
            block_target: devnet::block_target(params, RATIO),
        },
    })
    .await
    .unwrap()
}

fn client(m: &RegtestMainchain) -> BitcoindRpc {
    m.rpc_client().unwrap()
}

/// A share as the API serves it (its wire encoding in `hex`).
async fn api_share(d: &App, hash: &ShareHash) -> Option<Share> {
    let v = rpc(d, "getshare", json!([hash.to_string()])).await.ok()?;
    let hex = v["hex"].as_str()?;
    let bytes = bitcoin::hex::FromHex::from_hex(hex)
        .ok()
        .map(|b: Vec<u8>| b)?;
    Some(Share::decode(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_devnet_nodes_mine_converge_and_every_bitcoin_block_pays_the_selected_share() {
    // A devnet born now, at a difficulty where three one-thread hashers on this machine find
    // about four shares a second (on at most this many cores); maturity 5 so that payouts start
    // after a few seconds, a long half-life so the difficulty holds for the test.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(3));
    let rate = devnet::measure_hashrate(cores, 200);
    let mut params = ChainParams::devnet(now(), devnet::fitted_bits(rate / 4.0, 1));
    params.maturity = 5;
    params.asert_half_life = 3_600;
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mainchain = start_mainchain(dirs[3].path(), &params).await;
    let scripts: Vec<_> = (0..3u64)
        .map(|i| TestKey::from_seed(100 + i).script(Kind::P2wpkh))
        .collect();
    let a = start_miner_node(
        params.clone(),
        dirs[0].path(),
        vec![],
        &mainchain,
        scripts[0].clone(),
    )
    .await;
    let a_addr = p2p_addr(&a).await;
    let b = start_miner_node(
        params.clone(),
        dirs[1].path(),
        vec![a_addr.clone()],
        &mainchain,
        scripts[1].clone(),
    )
    .await;
    let b_addr = p2p_addr(&b).await;
    let c = start_miner_node(
        params.clone(),
        dirs[2].path(),
        vec![a_addr, b_addr],
        &mainchain,
        scripts[2].clone(),
    )
    .await;
    let nodes = [&a, &b, &c];
    wait_for(20, "peers connected", || async {
        a.net.p2p().peers().await.unwrap().len() == 2
            && c.net.p2p().peers().await.unwrap().len() == 2
    })
    .await;
    let miners: Vec<MiningControl> = nodes.iter().map(|d| d.mining.clone()).collect();
    for m in &miners {
        m.start(None).await.unwrap();
    }

    // Mine until there are Bitcoin blocks both before and after shares matured. Counted on the
    // Bitcoin chain itself: the miners' found-block records also hold blocks that lost a race
    // for their height (two nodes finding a block on one parent), which the chain does not.
    let btc = client(&mainchain);
    let enough = async || {
        let blocks = btc.block_count().await.unwrap_or(0);
        blocks >= 16 && a.node.tip().await.1 >= params.maturity + 40
    };
    wait_for(240, "16 Bitcoin blocks and matured shares", enough).await;
    // The API shows the mining side.
    let info = rpc(&a, "getmininginfo", json!([])).await.unwrap();
    assert_eq!(info["mining"], json!(true), "{info}");
    assert!(info["hashrate"].as_f64().unwrap() > 0.0, "{info}");
    assert!(info["network_hashrate"].as_f64().unwrap() > 0.0, "{info}");
    assert!(info["shares_found"].as_u64().unwrap() > 0, "{info}");
    assert!(
        info["tip_refresh_ms"]["tips"].as_u64().unwrap() > 0,
        "{info}"
    );
    assert_eq!(
        info["hashers"][0]["thread_hashrates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let chain = rpc(&a, "getsharechaininfo", json!([])).await.unwrap();
    if chain["height"] == info["height"] {
        assert_eq!(chain["next_bits"], info["share_bits"], "{info}");
    }
    let odds = rpc(&a, "getodds", json!([scripts[0].to_hex_string()]))
        .await
        .unwrap();
    assert!(odds["n"].as_u64().unwrap() > 0, "{odds}");
    for m in &miners {
        m.stop().await;
    }

    // The sharechain converges.
    wait_for(60, "one tip on all three nodes", || async {
        let t = tip(&a).await;
        tip(&b).await == t && tip(&c).await == t
    })
    .await;
    let (_, height) = tip(&a).await;

    // Everything the miners submitted, by Bitcoin block hash.
    let mut records: HashMap<String, FoundBlock> = HashMap::new();
    for m in &miners {
        for r in m.stats().await.blocks {
            records.insert(r.block_hash.clone(), r);
        }
    }

    // Replay the sharechain from the API's data with a fresh chain state, noting for every
    // active share the payout any child of it must make.
    let mut replay = ChainState::new(params.clone()).unwrap();
    let mut next_payout: HashMap<ShareHash, Option<Payout>> = HashMap::new();
    next_payout.insert(replay.tip_hash(), replay.next_payout());
    for h in 1..=height {
        let v = rpc(&a, "getsharebyheight", json!([h])).await.unwrap();
        let hash: ShareHash = v["hash"].as_str().unwrap().parse().unwrap();
        let share = api_share(&a, &hash).await.unwrap();
        replay.accept_share(share, u64::from(now())).unwrap();
        assert_eq!(replay.tip_hash(), hash);
        next_payout.insert(hash, replay.next_payout());
    }

    // The odds the API gives each miner are the replayed chain's `v / n`.
    let n = replay.utxo().eligible_total().to_units();
    let mut total_v = 0;
    for script in &scripts {
        let v: u64 = replay
            .utxo()
            .iter()
            .filter(|(_, c)| {
                c.output.script_pubkey == *script && c.is_eligible(height, params.maturity)
            })
            .map(|(_, c)| c.output.value.to_sat())
            .sum();
        let odds = rpc(&b, "getodds", json!([script.to_hex_string()]))
            .await
            .unwrap();
        assert_eq!(odds["v"], json!(v), "{odds}");
        assert_eq!(odds["n"], json!(n), "{odds}");
        let chance = odds["chance_next_block"].as_f64().unwrap();
        assert!((chance - v as f64 / n as f64).abs() < 1e-12, "{odds}");
        total_v += v;
    }
    assert_eq!(total_v, n, "the three miners hold every eligible share");

    // Every Bitcoin block on the mainchain came from a miner, and pays exactly the share the
    // payout rule selects from its parent share: recomputed here, not read from the node.
    let bitcoin_height = btc.block_count().await.unwrap();
    assert!(bitcoin_height >= 16, "{bitcoin_height} Bitcoin blocks");
    let (mut selected, mut own_sharebase) = (0, 0);
    for bh in 1..=bitcoin_height {
        let block = btc.block(&btc.block_hash(bh).await.unwrap()).await.unwrap();
        let record = records
            .get(&block.block_hash().to_string())
            .unwrap_or_else(|| panic!("Bitcoin block {bh} was not found by a miner"));
        // The block went to Bitcoin before its share to the sharechain: the share may be
        // unknown (a spare solution, refused, stale). Its parent is in the record.
        let mut share = None;
        for d in nodes {
            share = api_share(d, &record.share).await;
            if share.is_some() {
                break;
            }
        }
        if let Some(share) = &share {
            assert_eq!(
                block.txdata[0], share.head.work.coinbase,
                "the block is the share's work"
            );
            assert_eq!(Some(share.head.header.prev_share), record.parent_share);
        }
        let paid = block.txdata[0]
            .output
            .iter()
            .find(|o| o.value.to_sat() > 0)
            .unwrap()
            .script_pubkey
            .clone();
        let parent = record.parent_share.unwrap();
        let expected = next_payout
            .get(&parent)
            .unwrap_or_else(|| panic!("the parent of block {bh}'s share is not on the chain"));
        match expected {
            Some(p) => {
                let parent_head = replay.head_at(record.share_height - 1).unwrap();
                assert_eq!(parent_head.hash(), parent);
                let q = reduce_selector(&parent_head.q_selector(), p.n.to_units());
                assert_eq!(q, Some(p.q), "q of block {bh}");
                assert_eq!(paid, p.script_pubkey, "block {bh} pays the selected share");
                if replay.is_active(&record.share) {
                    let api = rpc(&a, "getselectedshare", json!([record.share.to_string()]))
                        .await
                        .unwrap();
                    assert_eq!(api["payout"]["q"], json!(p.q), "{api}");
                    assert_eq!(
                        api["payout"]["script_pubkey"],
                        json!(p.script_pubkey.to_hex_string())
                    );
                }
                selected += 1;
            }
            None => {
                // n = 0: the finder's own sharebase script.
                match &share {
                    Some(share) => assert_eq!(
                        paid, share.txs[0].output[0].script_pubkey,
                        "n = 0 at block {bh}"
                    ),
                    None => assert!(scripts.contains(&paid), "n = 0 at block {bh}"),
                }
                own_sharebase += 1;
            }
        }
    }
    eprintln!(
        "{height} shares, {bitcoin_height} Bitcoin blocks: {selected} paid a selected share, \
         {own_sharebase} their own sharebase (n = 0)"
    );
    assert!(selected >= 3, "{selected} blocks paid a selected share");

    // Found blocks are kept in each node's store; a new miner shows them again.
    for (d, m) in nodes.iter().zip(&miners) {
        let kept = d.node.store().found_blocks(1_000).await.unwrap();
        assert_eq!(kept.len(), m.stats().await.blocks.len());
    }
    let before = miners[0].stats().await.blocks;
    let again = start_miner(a.net.clone(), client(&mainchain), scripts[0].clone(), 1).unwrap();
    wait_for(10, "the found blocks reloaded", || async {
        again.stats().await.blocks.len() >= before.len()
    })
    .await;
    let reloaded = again.stats().await.blocks;
    again.stop();
    for (x, y) in before.iter().zip(&reloaded) {
        assert_eq!(
            (&x.block_hash, &x.outcome, x.share),
            (&y.block_hash, &y.outcome, y.share)
        );
    }

    for d in [a, b, c] {
        d.shutdown().await;
    }
    mainchain.shutdown().await;
}

/// Mines `job`'s share: grinds the Bitcoin nonce until the share target is met.
fn grind(mut share: Share, target: &bitcoin::pow::Target) -> Share {
    for nonce in 0.. {
        share.head.work.header.nonce = nonce;
        if target.is_met_by(share.head.work.header.block_hash()) {
            return share;
        }
    }
    unreachable!("no nonce meets the target")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_template_paying_anyone_but_the_selected_share_is_refused_by_the_node_and_by_peers() {
    let mut params = ChainParams::devnet(now(), ChainParams::regtest().pow_limit_bits);
    params.maturity = 3;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mainchain = start_mainchain(dirs[2].path(), &params).await;
    let btc = client(&mainchain);
    let a = start_on(params.clone(), dirs[0].path(), vec![], 2000, None).await;
    let b = start_on(
        params.clone(),
        dirs[1].path(),
        vec![p2p_addr(&a).await],
        2000,
        None,
    )
    .await;
    wait_for(20, "b connected", || async {
        b.net.p2p().peers().await.unwrap().len() == 1
    })
    .await;
    let template = btc.block_template(None).await.unwrap();
    // Honest shares through the job builder until shares are eligible (n > 0).
    for i in 0..6u64 {
        let script = TestKey::from_seed(i % 2).script(Kind::P2wpkh);
        let job = a
            .node
            .with_chain(|c| build_job(c, &template, &script, vec![], i, i))
            .await
            .unwrap();
        let share = grind(job.share.clone(), &job.share_target);
        a.net
            .submit_local_share(share, Origin::Local)
            .await
            .unwrap();
    }
    let want = tip(&a).await;
    wait_for(20, "b synced", || async { tip(&b).await == want }).await;
    let selected = a.node.with_chain(|c| c.next_payout()).await.unwrap();

    // The same job with its payout output redirected to someone else.
    let thief = TestKey::from_seed(666).script(Kind::P2wpkh);
    assert_ne!(thief, selected.script_pubkey);
    let job = a
        .node
        .with_chain(|c| build_job(c, &template, &thief, vec![], 99, 99))
        .await
        .unwrap();
    let honest_payee = coinbase_payee(&job.share.head).unwrap();
    assert_eq!(
        honest_payee.1.script_pubkey, selected.script_pubkey,
        "the job builder pays the selected share, not the miner"
    );
    let mut bad = job.share.clone();
    let vout = honest_payee.0;
    bad.head.work.coinbase.output[vout].script_pubkey = thief.clone();
    bad.head.work.header.merkle_root = bad.head.work.computed_merkle_root();
    let bad = grind(bad, &job.share_target);

    // The node's own check.
    let err = a
        .net
        .submit_local_share(bad.clone(), Origin::Local)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bad-cb-payee"), "{err}");
    // Over the API of the peer.
    let refused = rpc(
        &b,
        "submitshare",
        json!([bitcoin::hex::DisplayHex::to_lower_hex_string(
            &bad.encode()[..]
        )]),
    )
    .await
    .unwrap_err();
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("bad-cb-payee"),
        "{refused}"
    );
    // Gossiped by a node that skips its own check: the peer refuses it and bans the sender.
    let a_id = a.net.p2p().local_peer_id();
    wait_for(20, "gossip mesh", || async {
        a.net
            .p2p()
            .publish(Topic::Shares, bad.encode())
            .await
            .is_ok()
    })
    .await;
    wait_for(20, "the sender banned", || async {
        b.net
            .p2p()
            .banned()
            .await
            .unwrap()
            .iter()
            .any(|(p, _)| *p == a_id)
    })
    .await;
    assert_eq!(tip(&b).await, want, "the thief's share changed nothing");
    let v: Value = rpc(&b, "getsharechaininfo", json!([])).await.unwrap();
    assert_eq!(v["height"], json!(want.1));

    a.shutdown().await;
    b.shutdown().await;
    mainchain.shutdown().await;
}
