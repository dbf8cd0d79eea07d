//! Atomic swaps of shares for BTC between two devnet nodes on one Bitcoin chain: real apps
//! (store, libp2p on loopback, embedded mainchains relayed to one chain, the wallets' swap
//! engines). The test mines: a share (with every mempool transaction) and a Bitcoin block per
//! round, and waits for what the nodes hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use bitcoin::{Address, Network, ScriptBuf};
use netkit::{p2p_addr, start_embedded, wait_for};
use p2share_app::config::SwapOptions;
use p2share_app::App;
use p2share_consensus::ChainParams;
use p2share_p2p::Multiaddr;
use p2share_service::Origin;
use p2share_testkit::TestChain;
use p2share_walletd::swap::{Asset, OfferTimelocks, Phase, SwapMsg, SwapRecord};
use serde_json::json;

const SHARE: u64 = 100_000_000;

fn params() -> ChainParams {
    let mut p = ChainParams::regtest();
    p.maturity = 2;
    p
}

fn swap_options() -> SwapOptions {
    SwapOptions {
        timelocks_blocks: Some(OfferTimelocks {
            maker_lock: 16,
            taker_lock: 34,
            taker_claim_margin: 3,
            maker_min_taker_remaining: 22,
            taker_min_maker_remaining: 8,
        }),
        btc_confirmations: Some(1),
        share_confirmations: 2,
        ..SwapOptions::default()
    }
}

async fn node(dir: &Path, peers: Vec<Multiaddr>) -> App {
    start_embedded(params(), dir, peers, Some(swap_options())).await
}

fn script(address: &str) -> ScriptBuf {
    Address::from_str(address)
        .unwrap()
        .require_network(Network::Regtest)
        .unwrap()
        .script_pubkey()
}

async fn mining_script(app: &App) -> ScriptBuf {
    script(&app.wallet.status().await.mining_address.unwrap())
}

/// The test's miner: one share per call on its own copy of the chain, with every transaction
/// of `apps`' mempools it can include, submitted to each app.
struct Miner {
    chain: TestChain,
    pay: ScriptBuf,
}

impl Miner {
    async fn share(&mut self, apps: &[&App]) {
        let mut txs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for app in apps {
            let txids: Vec<bitcoin::Txid> = app
                .node
                .with_mempool(|m| m.iter().map(|e| e.txid).collect())
                .await;
            for tx in app.node.mempool_txs(&txids).await {
                if seen.insert(tx.compute_txid()) {
                    txs.push(tx);
                }
            }
        }
        // Parents before children (a mempool lists them in any order).
        let mut ordered = Vec::with_capacity(txs.len());
        let mut left = txs;
        while !left.is_empty() {
            let ids: std::collections::HashSet<bitcoin::Txid> =
                left.iter().map(|t| t.compute_txid()).collect();
            let (ready, rest): (Vec<_>, Vec<_>) = left.into_iter().partition(|t| {
                t.input
                    .iter()
                    .all(|i| !ids.contains(&i.previous_output.txid))
            });
            if ready.is_empty() {
                break;
            }
            ordered.extend(ready);
            left = rest;
        }
        let share = match self.chain.mine(&self.pay, ordered) {
            Ok((s, _)) => s,
            Err(e) => panic!("the test miner could not include the mempool: {e}"),
        };
        for app in apps {
            let _ = app
                .net
                .submit_local_share(share.clone(), Origin::Local)
                .await;
        }
    }
}

/// A Bitcoin block on `app`'s chain (relayed to the other node), paying nobody in the swap.
async fn btc_block(app: &App) {
    let rpc = app.mainchain.as_ref().unwrap().rpc_client().unwrap();
    let other = p2share_testkit::TestKey::from_seed(77).script(p2share_testkit::Kind::P2wpkh);
    let addr = Address::from_script(&other, Network::Regtest).unwrap();
    rpc.call("generatetoaddress", json!([1, addr.to_string()]))
        .await
        .unwrap();
}

async fn swap(app: &App, id: &str) -> SwapRecord {
    app.wallet
        .swap_list()
        .await
        .into_iter()
        .find(|s| s.id == id)
        .unwrap()
}

/// Rounds of one share and one Bitcoin block until `done` holds (at most `rounds`).
async fn mine_until<F, Fut>(
    miner: &mut Miner,
    apps: &[&App],
    rounds: usize,
    what: &str,
    mut done: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..rounds {
        if done().await {
            return;
        }
        miner.share(apps).await;
        btc_block(apps[0]).await;
        // Let the watchers see the new tips (they act on tip events and a 2 s poll).
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if done().await {
                return;
            }
        }
    }
    assert!(done().await, "not reached after {rounds} rounds: {what}");
}

/// Two nodes with wallets: `a` holds mature shares, `b` mature BTC.
async fn setup(dirs: &[tempfile::TempDir]) -> (App, App, Miner) {
    let a = node(dirs[0].path(), vec![]).await;
    let b = node(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    wait_for(20, "peers", || async {
        a.net.p2p().peers().await.unwrap().len() == 1
    })
    .await;
    a.wallet.create("pass a").await.unwrap();
    b.wallet.create("pass b").await.unwrap();
    let mut miner = Miner {
        chain: TestChain::new(params()).unwrap(),
        pay: mining_script(&a).await,
    };
    for _ in 0..4 {
        miner.share(&[&a, &b]).await;
    }
    miner.pay = p2share_testkit::TestKey::from_seed(78).script(p2share_testkit::Kind::P2wpkh);
    for _ in 0..3 {
        miner.share(&[&a, &b]).await;
    }
    let rpc = b.mainchain.as_ref().unwrap().rpc_client().unwrap();
    let b_addr = b.wallet.status().await.mining_address.unwrap();
    rpc.call("generatetoaddress", json!([2, b_addr]))
        .await
        .unwrap();
    rpc.call(
        "generatetoaddress",
        json!([
            100,
            Address::from_script(&miner.pay, Network::Regtest)
                .unwrap()
                .to_string()
        ]),
    )
    .await
    .unwrap();
    wait_for(30, "a holds shares, b holds BTC", || async {
        let ba = a.wallet.balances().await.unwrap();
        let bb = b.wallet.balances().await.unwrap();
        ba.shares.spendable >= 4 * 50 * SHARE && bb.btc.confirmed >= 100 * SHARE
    })
    .await;
    (a, b, miner)
}

async fn offer_seen(app: &App, id: &str) -> bool {
    app.wallet.offers().await.iter().any(|(o, _)| o.id() == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_swap_in_both_directions_between_two_nodes() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, mut miner) = setup(&dirs).await;
    let started = std::time::Instant::now();

    // 1. a sells shares for BTC; b takes 5 shares at 100,000 sats per share.
    let offer = a
        .wallet
        .make_offer(Asset::Shares, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id = offer.id();
    wait_for(20, "b sees a's offer", || offer_seen(&b, &id)).await;
    let shares_before_b = b.wallet.balances().await.unwrap().shares.spendable;
    let take_started = std::time::Instant::now();
    let taken = b.wallet.take_offer(&id, 5 * SHARE).await.unwrap();
    let take_ms = take_started.elapsed().as_millis();
    assert_eq!(taken.sats, 500_000);
    let sid = taken.id.clone();
    // The figures: when each side's record shows each step (polled every 25 ms).
    let steps = std::sync::Arc::new(std::sync::Mutex::new(
        Vec::<(u128, &'static str, String)>::new(),
    ));
    let tracker = {
        let (wa, wb, sid, steps) = (
            a.wallet.clone(),
            b.wallet.clone(),
            sid.clone(),
            steps.clone(),
        );
        tokio::spawn(async move {
            let mut last: [Option<String>; 2] = [None, None];
            loop {
                for (i, (w, who)) in [(&wa, "maker"), (&wb, "taker")].into_iter().enumerate() {
                    if let Some(r) = w.swap_list().await.into_iter().find(|r| r.id == sid) {
                        let state = format!(
                            "{:?}{}{}{}",
                            r.phase,
                            if r.my_lock.is_some() {
                                " +own lock"
                            } else {
                                ""
                            },
                            if r.their_lock.as_ref().is_some_and(|l| l.height.is_some()) {
                                " +their lock confirmed"
                            } else {
                                ""
                            },
                            if r.spend.is_some() { " +spend" } else { "" },
                        );
                        if last[i].as_ref() != Some(&state) {
                            steps.lock().unwrap().push((
                                take_started.elapsed().as_millis(),
                                who,
                                state.clone(),
                            ));
                            last[i] = Some(state);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    mine_until(&mut miner, &[&a, &b], 40, "both sides complete", || async {
        swap(&a, &sid).await.phase == Phase::Completed
            && swap(&b, &sid).await.phase == Phase::Completed
    })
    .await;
    let took = started.elapsed();
    wait_for(20, "b's wallet holds the shares", || async {
        b.wallet.balances().await.unwrap().shares.spendable >= shares_before_b + 5 * SHARE - 100_000
    })
    .await;
    let b_rec = swap(&b, &sid).await;
    let a_rec = swap(&a, &sid).await;
    assert!(b_rec.preimage.is_some() && a_rec.preimage == b_rec.preimage);
    tracker.abort();
    println!("swap 1 (shares → BTC): {took:?} from take to both completed; take (negotiation) {take_ms} ms");
    for (ms, who, state) in steps.lock().unwrap().iter() {
        println!("  {ms:>6} ms  {who}: {state}");
    }

    // 2. b sells BTC for shares (b is the maker); a takes: a locks shares first.
    let offer = b
        .wallet
        .make_offer(Asset::Btc, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id2 = offer.id();
    wait_for(20, "a sees b's offer", || offer_seen(&a, &id2)).await;
    let taken = a.wallet.take_offer(&id2, 2 * SHARE).await.unwrap();
    let sid2 = taken.id.clone();
    mine_until(
        &mut miner,
        &[&a, &b],
        40,
        "the second swap completes",
        || async {
            swap(&a, &sid2).await.phase == Phase::Completed
                && swap(&b, &sid2).await.phase == Phase::Completed
        },
    )
    .await;
    for app in [a, b] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_taker_refunds_when_the_maker_vanishes_after_the_takers_lock() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, mut miner) = setup(&dirs).await;
    let offer = a
        .wallet
        .make_offer(Asset::Shares, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id = offer.id();
    wait_for(20, "b sees the offer", || offer_seen(&b, &id)).await;
    let sid = b.wallet.take_offer(&id, 3 * SHARE).await.unwrap().id;
    wait_for(20, "b's lock is broadcast", || async {
        swap(&b, &sid).await.my_lock.is_some()
    })
    .await;
    // The maker vanishes before locking.
    a.shutdown().await;
    let btc_before = b.wallet.balances().await.unwrap().btc;
    mine_until(&mut miner, &[&b], 60, "b refunds", || async {
        swap(&b, &sid).await.phase == Phase::Refunded
    })
    .await;
    let rec = swap(&b, &sid).await;
    assert!(rec.spend.is_some());
    // b's BTC is back (less the lock's and the refund's fees).
    wait_for(20, "the refund is in b's BTC balance", || async {
        let now = b.wallet.balances().await.unwrap().btc;
        now.confirmed + now.pending + 300_000
            >= btc_before.confirmed + btc_before.pending + 300_000 - 10_000
    })
    .await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_maker_refunds_when_the_taker_vanishes_and_the_takers_late_claim_fails() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, mut miner) = setup(&dirs).await;
    let offer = a
        .wallet
        .make_offer(Asset::Shares, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id = offer.id();
    wait_for(20, "b sees the offer", || offer_seen(&b, &id)).await;
    let sid = b.wallet.take_offer(&id, 3 * SHARE).await.unwrap().id;
    // Mine until the maker has locked, then the taker vanishes before claiming (its claim
    // needs two confirmations of the maker's lock).
    mine_until(&mut miner, &[&a, &b], 20, "a locks", || async {
        swap(&a, &sid).await.my_lock.is_some()
    })
    .await;
    b.shutdown().await;
    mine_until(&mut miner, &[&a], 60, "a refunds", || async {
        swap(&a, &sid).await.phase == Phase::Refunded
    })
    .await;
    // The taker comes back after the maker's timeout: its claim is no longer possible (past
    // the deadline, and the output is spent); it refunds its own lock instead.
    let b = node(dirs[1].path(), vec![p2p_addr(&a).await]).await;
    b.wallet.unlock("pass b").await.unwrap();
    mine_until(&mut miner, &[&a, &b], 60, "b refunds too", || async {
        swap(&b, &sid).await.phase == Phase::Refunded
    })
    .await;
    assert_ne!(swap(&b, &sid).await.phase, Phase::Completed);
    assert_ne!(swap(&a, &sid).await.phase, Phase::Completed);
    for app in [a, b] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swap_survives_a_restart_of_either_node_at_every_phase() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, mut miner) = setup(&dirs).await;
    let offer = a
        .wallet
        .make_offer(Asset::Shares, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id = offer.id();
    wait_for(20, "b sees the offer", || offer_seen(&b, &id)).await;
    let sid = b.wallet.take_offer(&id, 4 * SHARE).await.unwrap().id;
    let mut nodes = [Some(a), Some(b)];
    let passes = ["pass a", "pass b"];
    let mut seen: Vec<(usize, Phase)> = Vec::new();
    for _ in 0..60 {
        let (a, b) = (nodes[0].as_ref().unwrap(), nodes[1].as_ref().unwrap());
        if swap(a, &sid).await.phase == Phase::Completed
            && swap(b, &sid).await.phase == Phase::Completed
        {
            break;
        }
        // Restart each node once in every phase it reaches.
        for i in 0..2 {
            let phase = swap(nodes[i].as_ref().unwrap(), &sid).await.phase;
            if !seen.contains(&(i, phase.clone())) {
                seen.push((i, phase));
                let app = nodes[i].take().unwrap();
                app.shutdown().await;
                let peers = match &nodes[1 - i] {
                    Some(other) => vec![p2p_addr(other).await],
                    None => vec![],
                };
                let app = node(dirs[i].path(), peers).await;
                app.wallet.unlock(passes[i]).await.unwrap();
                nodes[i] = Some(app);
            }
        }
        let (a, b) = (nodes[0].as_ref().unwrap(), nodes[1].as_ref().unwrap());
        miner.share(&[a, b]).await;
        btc_block(a).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    let (a, b) = (nodes[0].take().unwrap(), nodes[1].take().unwrap());
    assert_eq!(
        swap(&a, &sid).await.phase,
        Phase::Completed,
        "{:?}",
        swap(&a, &sid).await
    );
    assert_eq!(
        swap(&b, &sid).await.phase,
        Phase::Completed,
        "{:?}",
        swap(&b, &sid).await
    );
    assert!(seen.len() >= 4, "restarts in several phases: {seen:?}");
    for app in [a, b] {
        app.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cheating_taker_is_refused_before_anything_is_locked() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, _miner) = setup(&dirs).await;
    let offer = a
        .wallet
        .make_offer(Asset::Shares, SHARE, 10 * SHARE, 100_000, 3_600)
        .await
        .unwrap();
    let id = offer.id();
    let peer = a.net.local_peer_id();
    let shares_h = a.node.tip().await.1;
    let btc_h = a.mainchain.as_ref().unwrap().node().chain().tip().height;
    let key = bitcoin::secp256k1::Keypair::from_seckey_slice(
        &bitcoin::secp256k1::Secp256k1::new(),
        &[5; 32],
    )
    .unwrap()
    .public_key()
    .to_string();
    let take = |swap: &str, shares: u64, hash: &str, taker_timeout: u32, maker_timeout: u32| {
        SwapMsg::Take {
            offer: id.clone(),
            swap: swap.into(),
            shares,
            hash: hash.into(),
            taker_key: key.clone(),
            taker_timeout,
            maker_timeout,
        }
    };
    let ask = |m: SwapMsg| {
        let net = b.net.clone();
        async move { SwapMsg::decode(&net.swap_request(peer, m.encode()).await.unwrap()).unwrap() }
    };
    let refused = |m: SwapMsg, what: &str| match m {
        SwapMsg::Refuse { reason, .. } => {
            assert!(reason.contains(what), "{reason} (wanted {what})")
        }
        other => panic!("not refused ({what}): {other:?}"),
    };
    let h1 = "11".repeat(32);
    // The taker's lock is on Bitcoin (a sells shares): T_i = 34 blocks there, T_p = 16 shares.
    refused(
        ask(take("s1", 5 * SHARE, &h1, btc_h + 10, shares_h + 16)).await,
        "short of",
    );
    refused(
        ask(take("s2", 50 * SHARE, &h1, btc_h + 34, shares_h + 16)).await,
        "outside",
    );
    refused(
        ask(take("s3", 5 * SHARE, &h1, btc_h + 34, shares_h + 2)).await,
        "maker's timelock",
    );
    refused(
        ask(take("s4", 5 * SHARE, "zz", btc_h + 34, shares_h + 16)).await,
        "hash",
    );
    // A good one is accepted; the same hash again is refused as reused.
    match ask(take("s5", 5 * SHARE, &h1, btc_h + 34, shares_h + 16)).await {
        SwapMsg::Accept { .. } => {}
        other => panic!("refused: {other:?}"),
    }
    refused(
        ask(take("s6", 5 * SHARE, &h1, btc_h + 34, shares_h + 16)).await,
        "used by another swap",
    );
    // Nothing of a's is locked by any of it.
    for s in a.wallet.swap_list().await {
        assert!(s.my_lock.is_none(), "{s:?}");
    }
    for app in [a, b] {
        app.shutdown().await;
    }
}
