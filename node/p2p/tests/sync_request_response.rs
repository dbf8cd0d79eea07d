//! Two real nodes on 127.0.0.1 exchange sync requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod common;

use std::time::Duration;

use common::{chain, serve, start_node, wait_for, wait_peers};
use p2share_p2p::{
    Direction, Keypair, NatStatus, P2p, P2pConfig, P2pError, P2pEvent, Request, Response,
};

/// B connects to A and asks for heads with a locator at A's genesis: A's node loop answers
/// with the real share heads that follow it, which B receives intact. Status works too, and
/// both sides see each other in `peers()` with the right direction and identify agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_exchange_heads_and_status() {
    let shares = chain(4);
    // Kademlia and the NAT helpers run here, to show they do not get in the way.
    let a = start_node(|c| {
        c.enable_kademlia = true;
        c.enable_nat = true;
    })
    .await;
    let a_peer = a.peer;
    let (a_handle, mut a_events, a_addr) = serve(a, shares.clone());
    let b = start_node(|c| {
        c.enable_kademlia = true;
        c.enable_nat = true;
    })
    .await;
    b.handle.dial(a_addr).await.unwrap();
    wait_peers(&b.handle, 1).await;

    let resp = b
        .handle
        .request(
            a_peer,
            Request::GetHeads {
                locator: vec![shares[0].hash()],
                max: 2000,
            },
        )
        .await
        .unwrap();
    let expected: Vec<_> = shares[1..].iter().map(|s| s.head.clone()).collect();
    assert_eq!(resp, Response::Heads(expected));
    let Response::Heads(heads) = resp else {
        unreachable!()
    };
    assert_eq!(heads.last().unwrap().hash(), shares[4].hash());

    let status = b.handle.request(a_peer, Request::Status).await.unwrap();
    assert_eq!(
        status,
        Response::Status {
            genesis: shares[0].hash(),
            tip: shares[4].hash(),
            height: 4,
            chain_work: [0; 32],
        }
    );
    let got = b
        .handle
        .request(a_peer, Request::GetShares(vec![shares[2].hash()]))
        .await
        .unwrap();
    assert_eq!(got, Response::Shares(vec![shares[2].clone()]));

    // A saw the requests, and sees B as an inbound peer.
    let seen = wait_for(&mut a_events, Duration::from_secs(2), |e| match e {
        P2pEvent::InboundRequest { peer, .. } => Some(*peer),
        _ => None,
    })
    .await;
    assert_eq!(seen, Some(b.peer));
    let peers = a_handle.peers().await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer_id, b.peer);
    assert_eq!(peers[0].direction, Direction::Inbound);
    assert_eq!(peers[0].score, 0);
    // Identify arrives shortly after the connection.
    for _ in 0..40 {
        if b.handle.peers().await.unwrap()[0].agent.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b_view = b.handle.peers().await.unwrap();
    assert!(b_view[0].agent.as_deref().unwrap().starts_with("p2share/"));
    assert_eq!(b_view[0].direction, Direction::Outbound);

    assert_ne!(b.handle.nat_status().await.unwrap(), NatStatus::Disabled);
    b.handle.shutdown().await.unwrap();
    assert!(
        b.handle.peers().await.is_err(),
        "a stopped service answers Stopped"
    );
    a_handle.shutdown().await.unwrap();
}

/// A response channel answers once; an unknown channel and an over-limit response are clear
/// errors, and the requester still gets the later valid answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_errors_are_reported_to_the_node() {
    let mut a = start_node(|_| {}).await;
    let b = start_node(|_| {}).await;
    b.handle.dial(a.addr.clone()).await.unwrap();
    wait_peers(&b.handle, 1).await;
    let a_peer = a.peer;
    let b_handle = b.handle.clone();
    let asked = tokio::spawn(async move { b_handle.request(a_peer, Request::Status).await });
    let channel = wait_for(&mut a.events, Duration::from_secs(5), |e| match e {
        P2pEvent::InboundRequest { channel, .. } => Some(*channel),
        _ => None,
    })
    .await
    .unwrap();
    let too_long = Response::Error {
        code: 1,
        message: "x".repeat(300),
    };
    assert!(a.handle.respond(channel, too_long).await.is_err());
    let fine = Response::Error {
        code: 404,
        message: "nothing here".into(),
    };
    a.handle.respond(channel, fine.clone()).await.unwrap();
    assert!(a.handle.respond(channel, fine.clone()).await.is_err());
    assert_eq!(asked.await.unwrap().unwrap(), fine);
}

/// A node whose consumer does not keep up never blocks: with the event channel full (here
/// holding the startup `ListenAddr`), an inbound request is answered 503 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_event_channel_answers_busy_instead_of_blocking() {
    let a = start_node(|c| c.event_buffer = 1).await;
    let b = start_node(|_| {}).await;
    b.handle.dial(a.addr.clone()).await.unwrap();
    wait_peers(&b.handle, 1).await;
    let resp = b.handle.request(a.peer, Request::Status).await.unwrap();
    assert!(
        matches!(resp, Response::Error { code: 503, .. }),
        "{resp:?}"
    );
    // The service itself still answers commands.
    assert_eq!(a.handle.peers().await.unwrap().len(), 1);
}

/// Binding a port that is taken fails `start` with an error naming the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_listen_port_is_a_clear_start_error() {
    let a = start_node(|_| {}).await;
    let taken = a.handle.listen_addrs().await.unwrap()[0].clone();
    let mut config = P2pConfig::new(common::NET, Keypair::generate_ed25519());
    config.listen = vec![taken.clone()];
    let err = P2p::start(config).await.map(|_| ()).unwrap_err();
    assert!(
        matches!(err, P2pError::Listen { ref addr, .. } if *addr == taken),
        "{err}"
    );
    assert!(err.to_string().contains(&taken.to_string()), "{err}");
}
