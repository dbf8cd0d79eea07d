//! Peers that misbehave are banned, cannot come back until the ban expires, and do not
//! disturb honest peers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{
    chain, serve, start_broken_peer, start_node, wait_for, wait_peers, BrokenCommand, BrokenEvent,
    BrokenMode,
};
use p2share_p2p::{Misbehavior, P2pEvent, PeerId, Request, Response};
use p2share_testkit::SplitMix64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const BAN: Duration = Duration::from_secs(3);

async fn broken_event(
    events: &mut mpsc::Receiver<BrokenEvent>,
    within: Duration,
    mut pick: impl FnMut(&BrokenEvent) -> bool,
) -> bool {
    tokio::time::timeout(within, async {
        while let Some(ev) = events.recv().await {
            if pick(&ev) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

async fn banned_for(events: &mut mpsc::Receiver<P2pEvent>, who: PeerId) -> Misbehavior {
    wait_for(events, Duration::from_secs(5), |e| match e {
        P2pEvent::PeerBanned { peer, reason } if *peer == who => Some(*reason),
        _ => None,
    })
    .await
    .expect("the peer was never banned")
}

async fn broken_peer_is_banned_then_readmitted(mode: BrokenMode) {
    let shares = chain(2);
    let target = start_node(|c| c.ban_duration = BAN).await;
    let target_peer = target.peer;
    let (handle, mut events, addr) = serve(target, shares.clone());
    let honest = start_node(|_| {}).await;
    honest.handle.dial(addr.clone()).await.unwrap();
    wait_peers(&honest.handle, 1).await;
    assert!(matches!(
        honest
            .handle
            .request(target_peer, Request::Status)
            .await
            .unwrap(),
        Response::Status { .. }
    ));

    let (cmd, mut seen, broken) = start_broken_peer(mode);
    cmd.send(BrokenCommand::Dial(addr.clone())).await.unwrap();
    assert!(
        broken_event(&mut seen, Duration::from_secs(5), |e| matches!(
            e,
            BrokenEvent::Connected(_)
        ))
        .await,
        "the broken peer could not connect"
    );
    cmd.send(BrokenCommand::Send(target_peer)).await.unwrap();
    assert_eq!(
        banned_for(&mut events, broken).await,
        Misbehavior::Malformed
    );
    let banned_at = Instant::now();
    assert!(
        broken_event(&mut seen, Duration::from_secs(5), |e| matches!(
            e,
            BrokenEvent::Closed(_)
        ))
        .await,
        "the banned peer was not disconnected"
    );
    assert_eq!(handle.banned().await.unwrap()[0].0, broken);

    // While banned it cannot reconnect: the target never admits it.
    cmd.send(BrokenCommand::Dial(addr.clone())).await.unwrap();
    let admitted = wait_for(&mut events, Duration::from_millis(1000), |e| match e {
        P2pEvent::PeerConnected { peer, .. } if *peer == broken => Some(()),
        _ => None,
    })
    .await;
    assert!(admitted.is_none(), "a banned peer was let back in");
    assert!(handle
        .peers()
        .await
        .unwrap()
        .iter()
        .all(|p| p.peer_id != broken));

    // The honest peer is served throughout.
    for _ in 0..3 {
        let resp = honest
            .handle
            .request(
                target_peer,
                Request::GetHeads {
                    locator: vec![],
                    max: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            resp,
            Response::Heads(shares.iter().map(|s| s.head.clone()).collect())
        );
    }

    // After the ban it may come back.
    tokio::time::sleep(
        (banned_at + BAN + Duration::from_millis(400)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert!(
        handle.banned().await.unwrap().is_empty(),
        "the ban did not expire"
    );
    cmd.send(BrokenCommand::Dial(addr)).await.unwrap();
    let back = wait_for(&mut events, Duration::from_secs(5), |e| match e {
        P2pEvent::PeerConnected { peer, .. } if *peer == broken => Some(()),
        _ => None,
    })
    .await;
    assert!(
        back.is_some(),
        "the peer could not reconnect after its ban expired"
    );
}

/// A peer on the sync protocol whose request frame holds random bytes is banned as
/// `Malformed`, disconnected, refused until the ban expires, then admitted again; an honest
/// peer keeps getting answers all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_request_stream_gets_the_sender_banned_until_expiry() {
    broken_peer_is_banned_then_readmitted(BrokenMode::Garbage).await;
}

/// A length prefix above the request limit is refused before any body is read, and bans the
/// sender as `Malformed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_length_prefix_gets_the_sender_banned() {
    broken_peer_is_banned_then_readmitted(BrokenMode::Oversized).await;
}

/// A peer over the request rate gets error 429 for each excess request and, after ten of
/// them (10 points each), a `Flood` ban; another peer is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_peer_gets_429_then_a_ban() {
    let shares = chain(1);
    let target = start_node(|c| {
        c.max_requests_per_second = 2;
        c.ban_duration = BAN;
    })
    .await;
    let target_peer = target.peer;
    let (handle, mut events, addr) = serve(target, shares);
    let flooder = start_node(|_| {}).await;
    let honest = start_node(|_| {}).await;
    flooder.handle.dial(addr.clone()).await.unwrap();
    honest.handle.dial(addr).await.unwrap();
    wait_peers(&handle, 2).await;

    // Back-to-back requests: the burst (2) is served, then every request is answered 429 and
    // costs 10 points, until the tenth excess request bans the flooder and cuts it off.
    let (mut ok, mut limited, mut sent) = (0, 0, 0);
    while sent < 40 {
        sent += 1;
        match flooder.handle.request(target_peer, Request::Status).await {
            Ok(Response::Status { .. }) => ok += 1,
            Ok(Response::Error { code: 429, .. }) => limited += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break, // cut off by the ban
        }
    }
    // Slack above the burst: tokens refill at 2/s while the requests run.
    assert!(
        (2..=6).contains(&ok),
        "{ok} requests were served (burst is 2)"
    );
    assert!(
        (5..=10).contains(&limited),
        "{limited} requests were answered 429"
    );
    assert!(sent < 40, "the flooder was never cut off");
    assert_eq!(
        banned_for(&mut events, flooder.peer).await,
        Misbehavior::Flood
    );
    assert!(flooder
        .handle
        .request(target_peer, Request::Status)
        .await
        .is_err());
    assert!(matches!(
        honest
            .handle
            .request(target_peer, Request::Status)
            .await
            .unwrap(),
        Response::Status { .. }
    ));
}

/// A raw TCP client that writes 64 KiB of random bytes instead of a Noise handshake is simply
/// dropped; the node keeps serving an honest peer that connects afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_tcp_garbage_is_dropped_and_honest_peers_still_work() {
    let shares = chain(1);
    let target = start_node(|_| {}).await;
    let target_peer = target.peer;
    let (handle, _events, addr) = serve(target, shares);
    let port = addr
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .unwrap();

    let mut rng = SplitMix64(99);
    let garbage: Vec<u8> = (0..8192)
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .collect();
    assert_eq!(garbage.len(), 64 * 1024);
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(3), sock.write_all(&garbage)).await;
    // The node closes the socket (EOF or reset) rather than leaving it hanging.
    let mut buf = vec![0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the node kept the garbage connection open");
    assert!(handle.peers().await.unwrap().is_empty());

    let honest = start_node(|_| {}).await;
    honest.handle.dial(addr).await.unwrap();
    wait_peers(&honest.handle, 1).await;
    assert!(matches!(
        honest
            .handle
            .request(target_peer, Request::Status)
            .await
            .unwrap(),
        Response::Status { .. }
    ));
}
