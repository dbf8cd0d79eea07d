//! Gossip along a line A – B – C (A and C are not connected): B's verdict decides whether a
//! share published by A reaches C.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod common;

use std::time::Duration;

use common::{chain, start_node, wait_for, wait_peers, TestNode};
use p2share_consensus::Share;
use p2share_p2p::{Misbehavior, P2pEvent, Topic, Verdict};

async fn line() -> (TestNode, TestNode, TestNode) {
    let a = start_node(|_| {}).await;
    let b = start_node(|_| {}).await;
    let c = start_node(|_| {}).await;
    b.handle.dial(a.addr.clone()).await.unwrap();
    c.handle.dial(b.addr.clone()).await.unwrap();
    wait_peers(&b.handle, 2).await;
    wait_peers(&a.handle, 1).await;
    wait_peers(&c.handle, 1).await;
    (a, b, c)
}

/// Publishes until some peer is subscribed (subscriptions travel right after connecting).
async fn publish(node: &TestNode, data: Vec<u8>) {
    for _ in 0..100 {
        if node
            .handle
            .publish(Topic::Shares, data.clone())
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("could not publish: no subscribed peer");
}

/// Lets subscriptions and mesh grafts settle (gossipsub exchanges them right after connecting).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}

/// B validates A's share and accepts it: C receives it from B, byte for byte, and it decodes
/// to the same share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_share_reaches_the_third_node_through_the_second() {
    let (a, mut b, mut c) = line().await;
    settle().await;
    let share = chain(1).pop().unwrap();
    publish(&a, share.encode()).await;

    let (msg_id, source, data) = wait_for(&mut b.events, Duration::from_secs(5), |e| match e {
        P2pEvent::Gossip {
            peer,
            msg_id,
            topic: Topic::Shares,
            data,
        } => Some((msg_id.clone(), *peer, data.clone())),
        _ => None,
    })
    .await
    .expect("B never got the share");
    assert_eq!(source, a.peer);
    assert_eq!(Share::decode(&data).unwrap(), share);
    b.handle
        .report_gossip(msg_id, source, Verdict::Accept)
        .await
        .unwrap();

    let (from, data) = wait_for(&mut c.events, Duration::from_secs(5), |e| match e {
        P2pEvent::Gossip { peer, data, .. } => Some((*peer, data.clone())),
        _ => None,
    })
    .await
    .expect("C never got the share B accepted");
    assert_eq!(from, b.peer, "C got it from B, its only peer");
    assert_eq!(Share::decode(&data).unwrap(), share);
    assert!(b.handle.banned().await.unwrap().is_empty());
}

/// B rejects A's share: C never sees it, and B bans A (the one penalty path for bad gossip is
/// the `Reject` verdict, as `InvalidShare`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_share_is_not_forwarded_and_bans_its_source() {
    let (a, mut b, mut c) = line().await;
    settle().await;
    let share = chain(1).pop().unwrap();
    publish(&a, share.encode()).await;

    let (msg_id, source) = wait_for(&mut b.events, Duration::from_secs(5), |e| match e {
        P2pEvent::Gossip { peer, msg_id, .. } => Some((msg_id.clone(), *peer)),
        _ => None,
    })
    .await
    .expect("B never got the share");
    b.handle
        .report_gossip(msg_id, source, Verdict::Reject)
        .await
        .unwrap();
    let banned = wait_for(&mut b.events, Duration::from_secs(2), |e| match e {
        P2pEvent::PeerBanned { peer, reason } => Some((*peer, *reason)),
        _ => None,
    })
    .await;
    assert_eq!(banned, Some((a.peer, Misbehavior::InvalidShare)));

    let leaked = wait_for(&mut c.events, Duration::from_secs(3), |e| match e {
        P2pEvent::Gossip { .. } => Some(()),
        _ => None,
    })
    .await;
    assert!(leaked.is_none(), "C received a share B rejected");
    let bans = b.handle.banned().await.unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].0, a.peer);
    // B still talks to C.
    assert_eq!(b.handle.peers().await.unwrap().len(), 1);
}
