//! Helpers of the p2p scenario tests: real nodes on 127.0.0.1, a node loop that serves a fixed
//! chain, and a deliberately broken libp2p peer.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::io;
use std::time::Duration;

use async_trait::async_trait;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, StreamProtocol};
use p2share_consensus::builder::genesis_share;
use p2share_consensus::Share;
use p2share_p2p::codec::sync_protocol_name;
use p2share_p2p::{
    Keypair, Multiaddr, P2p, P2pConfig, P2pEvent, P2pHandle, PeerId, Request, Response,
};
use p2share_testkit::{test_params, Kind, SplitMix64, TestChain, TestKey};
use tokio::sync::mpsc;

pub const NET: &str = "p2ptest";

/// A started node.
pub struct TestNode {
    pub handle: P2pHandle,
    pub events: mpsc::Receiver<P2pEvent>,
    /// Its first listen address with `/p2p/<peer id>`.
    pub addr: Multiaddr,
    pub peer: PeerId,
}

/// Starts a node on 127.0.0.1 with Kademlia and NAT helpers off (so that tests control the
/// topology), after letting `tweak` adjust the configuration.
pub async fn start_node(tweak: impl FnOnce(&mut P2pConfig)) -> TestNode {
    let mut config = P2pConfig::new(NET, Keypair::generate_ed25519());
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.enable_kademlia = false;
    config.enable_nat = false;
    config.request_timeout = Duration::from_secs(5);
    tweak(&mut config);
    let (handle, events) = P2p::start(config).await.unwrap();
    let peer = handle.local_peer_id();
    let listen = handle.listen_addrs().await.unwrap();
    assert!(!listen.is_empty(), "no listen address after start");
    let addr = listen[0]
        .clone()
        .with(libp2p::multiaddr::Protocol::P2p(peer));
    TestNode {
        handle,
        events,
        addr,
        peer,
    }
}

/// Waits (at most `within`) for an event that `pick` maps to `Some`.
pub async fn wait_for<T>(
    events: &mut mpsc::Receiver<P2pEvent>,
    within: Duration,
    mut pick: impl FnMut(&P2pEvent) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(within, async {
        while let Some(ev) = events.recv().await {
            if let Some(t) = pick(&ev) {
                return Some(t);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

/// Waits until `handle` has at least `n` connected peers.
pub async fn wait_peers(handle: &P2pHandle, n: usize) {
    for _ in 0..100 {
        if handle.peers().await.unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never reached {n} peers");
}

/// A genesis share and `n` mined shares on it.
pub fn chain(n: usize) -> Vec<Share> {
    let params = test_params(2, &[(100_000_000, 1)]);
    let mut shares = vec![genesis_share(&params)];
    let mut t = TestChain::new(params).unwrap();
    let script = TestKey::from_seed(11).script(Kind::P2wpkh);
    for _ in 0..n {
        shares.push(t.mine(&script, vec![]).unwrap().0);
    }
    shares
}

/// The answer of a node holding `shares` (in chain order) to `request`.
pub fn answer(shares: &[Share], request: &Request) -> Response {
    match request {
        Request::GetHeads { locator, max } => {
            let start = locator
                .iter()
                .find_map(|h| shares.iter().position(|s| s.hash() == *h))
                .map_or(0, |i| i + 1);
            Response::Heads(
                shares
                    .iter()
                    .skip(start)
                    .take(*max as usize)
                    .map(|s| s.head.clone())
                    .collect(),
            )
        }
        Request::GetShares(ids) => Response::Shares(
            shares
                .iter()
                .filter(|s| ids.contains(&s.hash()))
                .cloned()
                .collect(),
        ),
        Request::GetTxs(_) => Response::Txs(vec![]),
        Request::GetBitcoinBlocks { .. } => Response::BitcoinBlocks(vec![]),
        Request::Swap(_) => Response::Swap(vec![]),
        Request::Status => {
            let tip = shares.last().unwrap();
            Response::Status {
                genesis: shares[0].hash(),
                tip: tip.hash(),
                height: tip.head.header.height,
                chain_work: [0; 32],
            }
        }
    }
}

/// Runs the node side of `node`: answers every inbound request from `shares` and forwards
/// every event (requests included, after answering) to the returned receiver.
pub fn serve(
    node: TestNode,
    shares: Vec<Share>,
) -> (P2pHandle, mpsc::Receiver<P2pEvent>, Multiaddr) {
    let TestNode {
        handle,
        mut events,
        addr,
        ..
    } = node;
    let (tx, rx) = mpsc::channel(1024);
    let h = handle.clone();
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let P2pEvent::InboundRequest {
                request, channel, ..
            } = &ev
            {
                let _ = h.respond(*channel, answer(&shares, request)).await;
            }
            let _ = tx.send(ev).await;
        }
    });
    (handle, rx, addr)
}

/// What a broken peer writes as its request.
#[derive(Clone, Copy, Debug)]
pub enum BrokenMode {
    /// A frame of plausible length holding random bytes.
    Garbage,
    /// A length prefix far above the request limit.
    Oversized,
}

/// A request-response codec on the sync protocol name that writes nonsense.
#[derive(Clone)]
pub struct BrokenCodec {
    mode: BrokenMode,
    rng: u64,
}

#[async_trait]
impl request_response::Codec for BrokenCodec {
    type Protocol = StreamProtocol;
    type Request = ();
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::other("the broken peer serves nothing"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut out = Vec::new();
        io.read_to_end(&mut out).await?;
        Ok(out)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, _: ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.rng += 1;
        let mut rng = SplitMix64(self.rng);
        let mut frame = Vec::new();
        match self.mode {
            BrokenMode::Garbage => {
                frame.extend_from_slice(&200u32.to_le_bytes());
                for _ in 0..25 {
                    frame.extend_from_slice(&rng.next_u64().to_le_bytes());
                }
                frame[4] = 0xee; // never a valid version byte
            }
            BrokenMode::Oversized => {
                frame.extend_from_slice(&u32::MAX.to_le_bytes());
                frame.extend_from_slice(&[0u8; 1024]);
            }
        }
        io.write_all(&frame).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::other("the broken peer serves nothing"))
    }
}

/// What the broken peer saw.
#[derive(Debug)]
pub enum BrokenEvent {
    Connected(PeerId),
    Closed(PeerId),
    DialFailed(String),
    RequestFailed(String),
}

/// Commands to the broken peer.
pub enum BrokenCommand {
    Dial(Multiaddr),
    Send(PeerId),
}

/// Starts a bare libp2p peer (TCP, Noise, Yamux, request-response only) that speaks the sync
/// protocol name with [`BrokenCodec`].
pub fn start_broken_peer(
    mode: BrokenMode,
) -> (
    mpsc::Sender<BrokenCommand>,
    mpsc::Receiver<BrokenEvent>,
    PeerId,
) {
    let proto = StreamProtocol::try_from_owned(sync_protocol_name(NET)).unwrap();
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                BrokenCodec { mode, rng: 1 },
                [(proto, ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(3)),
            )
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build();
    let peer = *swarm.local_peer_id();
    let (cmd_tx, mut cmd_rx) = mpsc::channel(16);
    let (ev_tx, ev_rx) = mpsc::channel(256);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    Some(BrokenCommand::Dial(addr)) => {
                        if let Err(e) = swarm.dial(addr) {
                            let _ = ev_tx.send(BrokenEvent::DialFailed(e.to_string())).await;
                        }
                    }
                    Some(BrokenCommand::Send(peer)) => {
                        swarm.behaviour_mut().send_request(&peer, ());
                    }
                    None => break,
                },
                ev = swarm.select_next_some() => {
                    let out = match ev {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => Some(BrokenEvent::Connected(peer_id)),
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => Some(BrokenEvent::Closed(peer_id)),
                        SwarmEvent::OutgoingConnectionError { error, .. } => Some(BrokenEvent::DialFailed(error.to_string())),
                        SwarmEvent::Behaviour(request_response::Event::OutboundFailure { error, .. }) => Some(BrokenEvent::RequestFailed(error.to_string())),
                        _ => None,
                    };
                    if let Some(out) = out {
                        let _ = ev_tx.send(out).await;
                    }
                }
            }
        }
    });
    (cmd_tx, ev_rx, peer)
}
