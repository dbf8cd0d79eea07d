//! The p2p service: one tokio task owns the libp2p [`Swarm`]; the node drives it through a
//! [`P2pHandle`] and receives [`P2pEvent`]s.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use bitcoin::hashes::{sha256, Hash};
use libp2p::core::transport::ListenerId;
use libp2p::core::ConnectedPoint;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, autonat, connection_limits, dcutr, identify, kad, noise, ping, relay, tcp,
    yamux, Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::codec::{sync_protocol_name, CodecRequest, SyncCodec};
use crate::config::P2pConfig;
use crate::error::P2pError;
use crate::peers::{Misbehavior, PeerBook, PenaltyOutcome};
use crate::wire::{Request, Response, ERROR_RATE_LIMITED, ERROR_UNAVAILABLE};

/// Largest gossip message, in bytes: a maximal share (4 MB) plus the gossipsub envelope.
pub const MAX_GOSSIP_SIZE: usize = 4 * 1024 * 1024 + 64 * 1024;
/// How long [`P2p::start`] waits for its listeners to bind.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How many gossip message ids are remembered (for the topic of a later verdict).
const GOSSIP_MEMORY: usize = 16_384;
/// Agent string sent with identify.
const AGENT: &str = concat!("p2share/", env!("CARGO_PKG_VERSION"));

/// A gossip topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// New shares: `/p2share/<network>/shares/1`; data is an encoded `Share`.
    Shares,
    /// New sharechain transactions: `/p2share/<network>/txs/1`; data is a consensus-encoded
    /// transaction.
    Txs,
    /// New blocks of the devnet's shared Bitcoin chain (the embedded regtest mainchains of its
    /// nodes): `/p2share/<network>/btc-blocks/1`; data is a consensus-encoded Bitcoin block.
    BtcBlocks,
    /// New transactions of the devnet's shared Bitcoin chain: `/p2share/<network>/btc-txs/1`;
    /// data is a consensus-encoded Bitcoin transaction.
    BtcTxs,
    /// Signed swap offers: `/p2share/<network>/offers/1`; data is an encoded offer (the
    /// wallet's swap engine decodes and verifies it).
    Offers,
}

impl Topic {
    /// The topic's name on a network.
    pub fn name(self, network: &str) -> String {
        match self {
            Topic::Shares => format!("/p2share/{network}/shares/1"),
            Topic::Txs => format!("/p2share/{network}/txs/1"),
            Topic::BtcBlocks => format!("/p2share/{network}/btc-blocks/1"),
            Topic::BtcTxs => format!("/p2share/{network}/btc-txs/1"),
            Topic::Offers => offers_topic_name(network),
        }
    }

    /// What a rejected message on this topic is penalized as.
    pub fn misbehavior(self) -> Misbehavior {
        match self {
            Topic::Shares => Misbehavior::InvalidShare,
            Topic::Txs => Misbehavior::InvalidTx,
            Topic::BtcBlocks => Misbehavior::InvalidBitcoinBlock,
            Topic::BtcTxs => Misbehavior::InvalidTx,
            Topic::Offers => Misbehavior::Malformed,
        }
    }

    /// Every topic, each subscribed at start.
    pub const ALL: [Topic; 5] = [
        Topic::Shares,
        Topic::Txs,
        Topic::BtcBlocks,
        Topic::BtcTxs,
        Topic::Offers,
    ];
}

/// The topic name of signed swap offers, `/p2share/<network>/offers/1` ([`Topic::Offers`]).
pub fn offers_topic_name(network: &str) -> String {
    format!("/p2share/{network}/offers/1")
}

/// The node's verdict on a gossip message (see [`P2pHandle::report_gossip`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it to our mesh peers.
    Accept,
    /// Invalid: do not forward, and penalize the propagation source.
    Reject,
    /// Not invalid but not worth forwarding (e.g. already known): drop without penalty.
    Ignore,
}

/// Opaque id of an inbound request's reply channel; pass it to [`P2pHandle::respond`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResponseChannelId(pub u64);

impl fmt::Display for ResponseChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The peer dialed us.
    Inbound,
    /// We dialed the peer.
    Outbound,
}

/// A connected peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer.
    pub peer_id: PeerId,
    /// Remote addresses of its connections.
    pub addrs: Vec<Multiaddr>,
    /// Direction of its first connection.
    pub direction: Direction,
    /// Its identify agent string, once known.
    pub agent: Option<String>,
    /// Its penalty score (0 = clean; banned at [`crate::BAN_SCORE`]).
    pub score: u32,
    /// When its first connection was established.
    pub connected_since: SystemTime,
    /// Last ping round trip, once measured.
    pub latency: Option<Duration>,
}

/// The node's reachability as AutoNAT sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NatStatus {
    /// AutoNAT is off (`enable_nat = false`).
    Disabled,
    /// Not determined yet.
    Unknown,
    /// Reachable from outside at this address.
    Public(Multiaddr),
    /// Not reachable from outside.
    Private,
}

/// Events for the node.
#[derive(Debug)]
pub enum P2pEvent {
    /// A peer's first connection was established.
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// Its remote address.
        addr: Multiaddr,
    },
    /// A peer's last connection closed.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A peer asks something; answer with [`P2pHandle::respond`] within the request timeout.
    InboundRequest {
        /// The requester.
        peer: PeerId,
        /// The request.
        request: Request,
        /// Where the answer goes.
        channel: ResponseChannelId,
    },
    /// A gossip message to validate; report the verdict with [`P2pHandle::report_gossip`].
    Gossip {
        /// The peer that forwarded it to us (the propagation source).
        peer: PeerId,
        /// The message id (a hash of the data).
        msg_id: MessageId,
        /// Its topic.
        topic: Topic,
        /// The payload.
        data: Vec<u8>,
    },
    /// A peer was banned (and disconnected).
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: Misbehavior,
    },
    /// The reachability changed.
    NatStatusChanged(NatStatus),
    /// A new listen address (after binding, e.g. the real port of a `/tcp/0` listener).
    ListenAddr(Multiaddr),
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    limits: connection_limits::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
    gossip: gossipsub::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    autonat: Toggle<autonat::Behaviour>,
    relay: relay::client::Behaviour,
    dcutr: Toggle<dcutr::Behaviour>,
}

type Reply<T> = oneshot::Sender<Result<T, P2pError>>;

enum Command {
    ListenAddrs(Reply<Vec<Multiaddr>>),
    Dial(Multiaddr, Reply<()>),
    Request(PeerId, Request, Reply<Response>),
    Respond(ResponseChannelId, Response, Reply<()>),
    Publish(Topic, Vec<u8>, Reply<MessageId>),
    ReportGossip(MessageId, PeerId, Verdict, Reply<()>),
    Penalize(PeerId, Misbehavior, Reply<()>),
    Peers(Reply<Vec<PeerInfo>>),
    Banned(Reply<Vec<(PeerId, Duration)>>),
    NatStatus(Reply<NatStatus>),
    Shutdown(Reply<()>),
}

/// Handle to a running p2p service; cheap to clone. Every method fails with
/// [`P2pError::Stopped`] once the service has stopped.
#[derive(Clone, Debug)]
pub struct P2pHandle {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Command::ListenAddrs(_) => "ListenAddrs",
            Command::Dial(..) => "Dial",
            Command::Request(..) => "Request",
            Command::Respond(..) => "Respond",
            Command::Publish(..) => "Publish",
            Command::ReportGossip(..) => "ReportGossip",
            Command::Penalize(..) => "Penalize",
            Command::Peers(_) => "Peers",
            Command::Banned(_) => "Banned",
            Command::NatStatus(_) => "NatStatus",
            Command::Shutdown(_) => "Shutdown",
        })
    }
}

impl P2pHandle {
    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, P2pError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| P2pError::Stopped)?;
        rx.await.map_err(|_| P2pError::Stopped)?
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses the node listens on (with real ports after binding port 0).
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, P2pError> {
        self.call(Command::ListenAddrs).await
    }

    /// Dials an address (with or without `/p2p/<peer id>`). Success means the dial started;
    /// [`P2pEvent::PeerConnected`] reports the connection.
    ///
    /// # Errors
    /// [`P2pError::Dial`] if the dial cannot start (e.g. the peer is banned or the connection
    /// limit is reached).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), P2pError> {
        self.call(|r| Command::Dial(addr, r)).await
    }

    /// Sends a sync request and waits for the response (at most the configured request
    /// timeout). A timeout penalizes the peer as [`Misbehavior::Unresponsive`], an undecodable
    /// response as [`Misbehavior::Malformed`].
    ///
    /// # Errors
    /// [`P2pError::Encode`] if the request is over a wire limit, [`P2pError::Banned`] if the
    /// peer is banned, [`P2pError::Request`] if the request failed.
    pub async fn request(&self, peer: PeerId, request: Request) -> Result<Response, P2pError> {
        request.encode()?;
        self.call(|r| Command::Request(peer, request, r)).await
    }

    /// Answers an inbound request.
    ///
    /// # Errors
    /// [`P2pError::Encode`] if the response is over a wire limit (nothing is sent; the channel
    /// stays usable for a smaller answer), [`P2pError::ChannelClosed`] if the request is gone.
    pub async fn respond(
        &self,
        channel: ResponseChannelId,
        response: Response,
    ) -> Result<(), P2pError> {
        response.encode()?;
        self.call(|r| Command::Respond(channel, response, r)).await
    }

    /// Publishes a gossip message (flood-published to every subscribed peer).
    ///
    /// # Errors
    /// [`P2pError::Publish`] if no peer is subscribed, the message is a duplicate or too large.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<MessageId, P2pError> {
        self.call(|r| Command::Publish(topic, data, r)).await
    }

    /// Reports the verdict on a [`P2pEvent::Gossip`] message: `Accept` forwards it, `Ignore`
    /// drops it, `Reject` drops it **and** penalizes the propagation source as
    /// [`Misbehavior::InvalidShare`] / [`Misbehavior::InvalidTx`] (by topic), which bans it.
    /// This is the one path for bad gossip: do not also call [`P2pHandle::penalize`] for it.
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn report_gossip(
        &self,
        msg_id: MessageId,
        propagation_source: PeerId,
        verdict: Verdict,
    ) -> Result<(), P2pError> {
        self.call(|r| Command::ReportGossip(msg_id, propagation_source, verdict, r))
            .await
    }

    /// Penalizes a peer; at [`crate::BAN_SCORE`] it is banned: disconnected, refused until the
    /// ban expires, and reported with [`P2pEvent::PeerBanned`].
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn penalize(&self, peer: PeerId, what: Misbehavior) -> Result<(), P2pError> {
        self.call(|r| Command::Penalize(peer, what, r)).await
    }

    /// The connected peers.
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, P2pError> {
        self.call(Command::Peers).await
    }

    /// The banned peers with the time left on each ban, soonest expiry first.
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn banned(&self) -> Result<Vec<(PeerId, Duration)>, P2pError> {
        self.call(Command::Banned).await
    }

    /// The reachability as AutoNAT sees it.
    ///
    /// # Errors
    /// [`P2pError::Stopped`].
    pub async fn nat_status(&self) -> Result<NatStatus, P2pError> {
        self.call(Command::NatStatus).await
    }

    /// Stops the service: closes every connection and ends the task. The event receiver then
    /// yields `None`.
    ///
    /// # Errors
    /// [`P2pError::Stopped`] if it had already stopped.
    pub async fn shutdown(&self) -> Result<(), P2pError> {
        self.call(Command::Shutdown).await
    }
}

/// The p2p service.
#[derive(Debug)]
pub struct P2p;

impl P2p {
    /// Builds the libp2p stack, binds the listen addresses (waiting until each reported its
    /// address, so [`P2pHandle::listen_addrs`] is complete on return), dials the bootstrap
    /// peers, and spawns the service task on the current tokio runtime.
    ///
    /// The task stops on [`P2pHandle::shutdown`] or when every handle is dropped.
    ///
    /// # Errors
    /// [`P2pError::Config`], [`P2pError::Setup`] or [`P2pError::Listen`].
    pub async fn start(
        config: P2pConfig,
    ) -> Result<(P2pHandle, mpsc::Receiver<P2pEvent>), P2pError> {
        config.validate()?;
        let swarm = build_swarm(&config)?;
        let local_peer_id = *swarm.local_peer_id();
        let (cmd_tx, cmd_rx) = mpsc::channel(256);
        let (ev_tx, ev_rx) = mpsc::channel(config.event_buffer);
        let mut runner = Runner {
            swarm,
            commands: cmd_rx,
            events: ev_tx,
            network: config.network.clone(),
            book: PeerBook::new(config.max_requests_per_second, config.ban_duration),
            peers: HashMap::new(),
            pending: HashMap::new(),
            channels: HashMap::new(),
            next_channel: 0,
            gossip_topics: HashMap::new(),
            gossip_order: VecDeque::new(),
            nat: if config.enable_nat {
                NatStatus::Unknown
            } else {
                NatStatus::Disabled
            },
            kad_protocol: kad_protocol(&config.network)?,
            id_protocol: format!("/p2share/{}/id/1", config.network),
        };
        for topic in Topic::ALL {
            runner
                .swarm
                .behaviour_mut()
                .gossip
                .subscribe(&IdentTopic::new(topic.name(&config.network)))
                .map_err(|e| P2pError::Setup(format!("cannot subscribe to {topic:?}: {e}")))?;
        }
        let mut listeners = HashMap::new();
        for addr in &config.listen {
            ensure_port_free(addr)?;
            let id = runner
                .swarm
                .listen_on(addr.clone())
                .map_err(|e| P2pError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
            listeners.insert(id, addr.clone());
        }
        runner.bootstrap(&config.bootstrap);
        runner.await_listeners(listeners).await?;
        info!(peer_id = %local_peer_id, network = %config.network, "p2p service started");
        tokio::spawn(runner.run());
        Ok((
            P2pHandle {
                commands: cmd_tx,
                local_peer_id,
            },
            ev_rx,
        ))
    }
}

/// libp2p's TCP listeners set `SO_REUSEPORT`, so a second node on a taken port would bind
/// silently and share the port's connections with the first. Probing with a plain socket (no
/// `SO_REUSEPORT`) turns that into a clear error. Port 0 and non-TCP addresses pass.
fn ensure_port_free(addr: &Multiaddr) -> Result<(), P2pError> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|e| P2pError::Listen {
                addr: addr.clone(),
                reason: format!("the port is not free: {e}"),
            }),
        _ => Ok(()),
    }
}

fn kad_protocol(network: &str) -> Result<StreamProtocol, P2pError> {
    StreamProtocol::try_from_owned(format!("/p2share/{network}/kad/1"))
        .map_err(|e| P2pError::Config(format!("kademlia protocol name: {e}")))
}

fn build_swarm(config: &P2pConfig) -> Result<Swarm<Behaviour>, P2pError> {
    let setup = |what: &str, e: &dyn fmt::Display| P2pError::Setup(format!("{what}: {e}"));
    let sync_protocol = StreamProtocol::try_from_owned(sync_protocol_name(&config.network))
        .map_err(|e| P2pError::Config(format!("sync protocol name: {e}")))?;
    let kad_protocol = kad_protocol(&config.network)?;
    let id_protocol = format!("/p2share/{}/id/1", config.network);
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(config.max_connections))
        .with_max_established_per_peer(Some(config.max_connections_per_peer))
        .with_max_pending_incoming(Some(config.max_connections));
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| {
            MessageId::from(sha256::Hash::hash(&m.data).to_byte_array().to_vec())
        })
        .max_transmit_size(MAX_GOSSIP_SIZE)
        .flood_publish(true)
        .build()
        .map_err(|e| setup("gossipsub config", &e))?;
    let request_timeout = config.request_timeout;
    let enable_kad = config.enable_kademlia;
    let enable_nat = config.enable_nat;
    let swarm = SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| setup("tcp transport", &e))?
        .with_dns()
        .map_err(|e| setup("dns transport", &e))?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| setup("relay client transport", &e))?
        .with_behaviour(|key, relay| {
            let peer_id = key.public().to_peer_id();
            let gossip = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossip_config,
            )?;
            let kad = enable_kad.then(|| {
                kad::Behaviour::with_config(
                    peer_id,
                    kad::store::MemoryStore::new(peer_id),
                    kad::Config::new(kad_protocol),
                )
            });
            Ok(Behaviour {
                blocked: allow_block_list::Behaviour::default(),
                limits: connection_limits::Behaviour::new(limits),
                sync: request_response::Behaviour::with_codec(
                    SyncCodec,
                    [(sync_protocol, request_response::ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(request_timeout),
                ),
                gossip,
                identify: identify::Behaviour::new(
                    identify::Config::new(id_protocol, key.public())
                        .with_agent_version(AGENT.into()),
                ),
                ping: ping::Behaviour::new(ping::Config::new()),
                kad: Toggle::from(kad),
                autonat: Toggle::from(
                    enable_nat
                        .then(|| autonat::Behaviour::new(peer_id, autonat::Config::default())),
                ),
                relay,
                dcutr: Toggle::from(enable_nat.then(|| dcutr::Behaviour::new(peer_id))),
            })
        })
        .map_err(|e| setup("behaviour", &e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout))
        .build();
    Ok(swarm)
}

struct PeerState {
    addrs: Vec<Multiaddr>,
    direction: Direction,
    agent: Option<String>,
    connected_since: SystemTime,
    latency: Option<Duration>,
}

struct Runner {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<P2pEvent>,
    network: String,
    book: PeerBook,
    peers: HashMap<PeerId, PeerState>,
    pending: HashMap<OutboundRequestId, (PeerId, Reply<Response>)>,
    channels: HashMap<u64, (PeerId, request_response::ResponseChannel<Response>)>,
    next_channel: u64,
    gossip_topics: HashMap<MessageId, Topic>,
    gossip_order: VecDeque<MessageId>,
    nat: NatStatus,
    kad_protocol: StreamProtocol,
    id_protocol: String,
}

impl Runner {
    fn bootstrap(&mut self, peers: &[Multiaddr]) {
        for addr in peers {
            let peer = addr.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            });
            match peer {
                Some(peer) => {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&peer, addr.clone());
                    }
                }
                None => warn!(%addr, "bootstrap address has no /p2p/<peer id>; dialing it anyway"),
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                warn!(%addr, error = %e, "cannot dial bootstrap peer");
            }
        }
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            if let Err(e) = kad.bootstrap() {
                debug!(error = %e, "kademlia bootstrap not started");
            }
        }
    }

    async fn await_listeners(
        &mut self,
        mut waiting: HashMap<ListenerId, Multiaddr>,
    ) -> Result<(), P2pError> {
        let deadline = tokio::time::Instant::now() + LISTEN_TIMEOUT;
        while !waiting.is_empty() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| {
                    let addr = waiting
                        .values()
                        .next()
                        .cloned()
                        .unwrap_or_else(Multiaddr::empty);
                    P2pError::Listen {
                        addr,
                        reason: format!("no address reported within {LISTEN_TIMEOUT:?}"),
                    }
                })?;
            match &event {
                SwarmEvent::NewListenAddr { listener_id, .. } => {
                    waiting.remove(listener_id);
                }
                SwarmEvent::ListenerClosed {
                    listener_id,
                    reason,
                    ..
                } => {
                    if let Some(addr) = waiting.remove(listener_id) {
                        return Err(P2pError::Listen {
                            addr,
                            reason: match reason {
                                Ok(()) => "listener closed".into(),
                                Err(e) => e.to_string(),
                            },
                        });
                    }
                }
                SwarmEvent::ListenerError { listener_id, error } => {
                    if let Some(addr) = waiting.remove(listener_id) {
                        return Err(P2pError::Listen {
                            addr,
                            reason: error.to_string(),
                        });
                    }
                }
                _ => {}
            }
            self.on_swarm_event(event);
        }
        Ok(())
    }

    async fn run(mut self) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown(reply)) => {
                        info!("p2p service shutting down");
                        let _ = reply.send(Ok(()));
                        break;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        info!("every p2p handle dropped; service stopping");
                        break;
                    }
                },
                _ = tick.tick() => self.on_tick(),
            }
        }
        for (_, (_, reply)) in self.pending.drain() {
            let _ = reply.send(Err(P2pError::Stopped));
        }
    }

    /// Hands an event to the node without ever blocking the swarm; see
    /// [`P2pConfig::event_buffer`] for what happens when the channel is full.
    fn emit(&mut self, event: P2pEvent) {
        let event = match self.events.try_send(event) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Closed(_)) => return,
            Err(mpsc::error::TrySendError::Full(event)) => event,
        };
        warn!("p2p event channel full; the node is not keeping up");
        match event {
            P2pEvent::InboundRequest { channel, .. } => {
                if let Some((_, ch)) = self.channels.remove(&channel.0) {
                    let busy = Response::Error {
                        code: ERROR_UNAVAILABLE,
                        message: "busy".into(),
                    };
                    let _ = self.swarm.behaviour_mut().sync.send_response(ch, busy);
                }
            }
            P2pEvent::Gossip { peer, msg_id, .. } => {
                self.swarm
                    .behaviour_mut()
                    .gossip
                    .report_message_validation_result(&msg_id, &peer, MessageAcceptance::Ignore);
            }
            other => debug!(event = ?other, "p2p event dropped"),
        }
    }

    fn penalize(&mut self, peer: PeerId, what: Misbehavior) {
        match self.book.penalize(peer, what, Instant::now()) {
            PenaltyOutcome::Scored(score) => {
                debug!(%peer, %what, score, "peer penalized");
            }
            PenaltyOutcome::AlreadyBanned => {
                debug!(%peer, %what, "misbehavior of an already banned peer");
            }
            PenaltyOutcome::Banned(until) => {
                let secs = until.saturating_duration_since(Instant::now()).as_secs();
                info!(%peer, reason = %what, ban_secs = secs, "peer banned");
                // Blocking closes every connection to the peer and refuses new ones.
                self.swarm.behaviour_mut().blocked.block_peer(peer);
                let _ = self.swarm.disconnect_peer_id(peer);
                self.channels.retain(|_, (p, _)| *p != peer);
                self.emit(P2pEvent::PeerBanned { peer, reason: what });
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        for peer in self.book.expire(now) {
            info!(%peer, "ban expired");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        self.channels.retain(|_, (_, ch)| ch.is_open());
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::ListenAddrs(reply) => {
                let _ = reply.send(Ok(self.swarm.listeners().cloned().collect()));
            }
            Command::Dial(addr, reply) => {
                let result = self.swarm.dial(addr.clone()).map_err(|e| P2pError::Dial {
                    addr,
                    reason: e.to_string(),
                });
                let _ = reply.send(result);
            }
            Command::Request(peer, request, reply) => {
                if self.book.is_banned(&peer) {
                    let _ = reply.send(Err(P2pError::Banned(peer)));
                    return;
                }
                debug!(%peer, ?request, "sending request");
                let id = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_request(&peer, Ok(request));
                self.pending.insert(id, (peer, reply));
            }
            Command::Respond(channel, response, reply) => {
                let result = match self.channels.remove(&channel.0) {
                    Some((peer, ch)) => {
                        debug!(%peer, %channel, "sending response");
                        self.swarm
                            .behaviour_mut()
                            .sync
                            .send_response(ch, response)
                            .map_err(|_| P2pError::ChannelClosed(channel.0))
                    }
                    None => Err(P2pError::ChannelClosed(channel.0)),
                };
                let _ = reply.send(result);
            }
            Command::Publish(topic, data, reply) => {
                let name = topic.name(&self.network);
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .publish(IdentTopic::new(name.clone()), data)
                    .map_err(|e| P2pError::Publish {
                        topic: name,
                        reason: e.to_string(),
                    });
                let _ = reply.send(result);
            }
            Command::ReportGossip(msg_id, source, verdict, reply) => {
                let acceptance = match verdict {
                    Verdict::Accept => MessageAcceptance::Accept,
                    Verdict::Reject => MessageAcceptance::Reject,
                    Verdict::Ignore => MessageAcceptance::Ignore,
                };
                let known = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .report_message_validation_result(&msg_id, &source, acceptance);
                if !known {
                    debug!(%msg_id, "verdict on a gossip message no longer in the cache");
                }
                let topic = self.gossip_topics.remove(&msg_id);
                if verdict == Verdict::Reject {
                    let what = topic.map_or(Misbehavior::InvalidShare, Topic::misbehavior);
                    self.penalize(source, what);
                }
                let _ = reply.send(Ok(()));
            }
            Command::Penalize(peer, what, reply) => {
                self.penalize(peer, what);
                let _ = reply.send(Ok(()));
            }
            Command::Peers(reply) => {
                let now = Instant::now();
                let mut peers: Vec<PeerInfo> = self
                    .peers
                    .iter()
                    .map(|(peer, s)| PeerInfo {
                        peer_id: *peer,
                        addrs: s.addrs.clone(),
                        direction: s.direction,
                        agent: s.agent.clone(),
                        score: self.book.score(peer, now),
                        connected_since: s.connected_since,
                        latency: s.latency,
                    })
                    .collect();
                peers.sort_by_key(|p| p.peer_id);
                let _ = reply.send(Ok(peers));
            }
            Command::Banned(reply) => {
                let _ = reply.send(Ok(self.book.banned(Instant::now())));
            }
            Command::NatStatus(reply) => {
                let _ = reply.send(Ok(self.nat.clone()));
            }
            Command::Shutdown(reply) => {
                // Handled by the loop; unreachable here but harmless.
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                self.emit(P2pEvent::ListenAddr(address));
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                if self.book.is_banned(&peer_id) {
                    debug!(peer = %peer_id, "connection of a banned peer; closing");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                let direction = match endpoint {
                    ConnectedPoint::Dialer { .. } => Direction::Outbound,
                    ConnectedPoint::Listener { .. } => Direction::Inbound,
                };
                let state = self.peers.entry(peer_id).or_insert_with(|| PeerState {
                    addrs: Vec::new(),
                    direction,
                    agent: None,
                    connected_since: SystemTime::now(),
                    latency: None,
                });
                if !state.addrs.contains(&addr) {
                    state.addrs.push(addr.clone());
                }
                if num_established.get() == 1 {
                    info!(peer = %peer_id, %addr, ?direction, "peer connected");
                    self.emit(P2pEvent::PeerConnected {
                        peer: peer_id,
                        addr,
                    });
                } else {
                    debug!(peer = %peer_id, %addr, "another connection to a peer");
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                endpoint,
                num_established,
                cause,
                ..
            } => {
                let addr = endpoint.get_remote_address();
                if num_established == 0 {
                    let was_known = self.peers.remove(&peer_id).is_some();
                    self.book.disconnected(&peer_id);
                    if was_known {
                        info!(peer = %peer_id, cause = ?cause, "peer disconnected");
                        self.emit(P2pEvent::PeerDisconnected { peer: peer_id });
                    }
                } else if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.addrs.retain(|a| a != addr);
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                debug!(from = %send_back_addr, %error, "inbound connection failed");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "outbound connection failed");
            }
            SwarmEvent::ListenerError { error, .. } => {
                warn!(%error, "listener error");
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                debug!(%address, "listen address expired");
            }
            SwarmEvent::ExternalAddrConfirmed { address } => {
                info!(%address, "external address confirmed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            other => debug!(event = ?other, "swarm event"),
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            BehaviourEvent::Gossip(event) => self.on_gossip_event(event),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                debug!(peer = %peer_id, agent = %info.agent_version, "identified");
                if info.protocol_version != self.id_protocol {
                    info!(
                        peer = %peer_id,
                        theirs = %info.protocol_version,
                        ours = %self.id_protocol,
                        "peer is on another network or protocol; disconnecting"
                    );
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.agent = Some(info.agent_version.clone());
                }
                if info.protocols.contains(&self.kad_protocol) {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        for addr in info.listen_addrs {
                            kad.add_address(&peer_id, addr);
                        }
                    }
                }
            }
            BehaviourEvent::Identify(event) => debug!(?event, "identify"),
            BehaviourEvent::Ping(ping::Event { peer, result, .. }) => match result {
                Ok(rtt) => {
                    if let Some(state) = self.peers.get_mut(&peer) {
                        state.latency = Some(rtt);
                    }
                }
                Err(e) => debug!(%peer, error = %e, "ping failed"),
            },
            BehaviourEvent::Autonat(autonat::Event::StatusChanged { old, new }) => {
                let status = match new {
                    autonat::NatStatus::Public(addr) => NatStatus::Public(addr),
                    autonat::NatStatus::Private => NatStatus::Private,
                    autonat::NatStatus::Unknown => NatStatus::Unknown,
                };
                info!(?old, new = ?status, "NAT status changed");
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    if matches!(status, NatStatus::Public(_)) {
                        kad.set_mode(Some(kad::Mode::Server));
                    } else {
                        kad.set_mode(None);
                    }
                }
                self.nat = status.clone();
                self.emit(P2pEvent::NatStatusChanged(status));
            }
            BehaviourEvent::Autonat(event) => debug!(?event, "autonat"),
            BehaviourEvent::Kad(event) => debug!(?event, "kademlia"),
            BehaviourEvent::Relay(event) => debug!(?event, "relay client"),
            BehaviourEvent::Dcutr(event) => debug!(?event, "dcutr"),
            BehaviourEvent::Blocked(never) | BehaviourEvent::Limits(never) => match never {},
        }
    }

    fn on_sync_event(&mut self, event: request_response::Event<CodecRequest, Response>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request: Ok(request),
                    channel,
                    ..
                } => self.on_inbound_request(peer, request, channel),
                request_response::Message::Request {
                    request: Err(malformed),
                    ..
                } => {
                    // Dropping the channel closes the stream; the ban closes the connection.
                    debug!(%peer, reason = %malformed.0, "malformed inbound request");
                    self.penalize(peer, Misbehavior::Malformed);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((_, reply)) = self.pending.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, %error, "outbound request failed");
                match &error {
                    OutboundFailure::Timeout => self.penalize(peer, Misbehavior::Unresponsive),
                    OutboundFailure::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                        self.penalize(peer, Misbehavior::Malformed);
                    }
                    _ => {}
                }
                if let Some((_, reply)) = self.pending.remove(&request_id) {
                    let _ = reply.send(Err(P2pError::Request {
                        peer,
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { peer, .. } => {
                debug!(%peer, "response sent");
            }
        }
    }

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        request: Request,
        channel: request_response::ResponseChannel<Response>,
    ) {
        if self.book.is_banned(&peer) {
            debug!(%peer, "request from a banned peer dropped");
            return;
        }
        if !self.book.allow_request(peer, Instant::now()) {
            debug!(%peer, "request over the rate limit");
            let busy = Response::Error {
                code: ERROR_RATE_LIMITED,
                message: "request rate limit exceeded".into(),
            };
            let _ = self.swarm.behaviour_mut().sync.send_response(channel, busy);
            self.penalize(peer, Misbehavior::Flood);
            return;
        }
        let id = self.next_channel;
        self.next_channel += 1;
        debug!(%peer, ?request, channel = id, "inbound request");
        self.channels.insert(id, (peer, channel));
        self.emit(P2pEvent::InboundRequest {
            peer,
            request,
            channel: ResponseChannelId(id),
        });
    }

    fn on_gossip_event(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let topic = Topic::ALL
                    .into_iter()
                    .find(|t| IdentTopic::new(t.name(&self.network)).hash() == message.topic);
                let gossip = &mut self.swarm.behaviour_mut().gossip;
                let Some(topic) = topic else {
                    debug!(topic = %message.topic, "gossip on an unknown topic ignored");
                    gossip.report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Ignore,
                    );
                    return;
                };
                if self.book.is_banned(&propagation_source) {
                    gossip.report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Ignore,
                    );
                    return;
                }
                debug!(peer = %propagation_source, %message_id, ?topic, size = message.data.len(), "gossip received");
                self.remember_gossip(message_id.clone(), topic);
                self.emit(P2pEvent::Gossip {
                    peer: propagation_source,
                    msg_id: message_id,
                    topic,
                    data: message.data,
                });
            }
            other => debug!(event = ?other, "gossipsub"),
        }
    }

    fn remember_gossip(&mut self, id: MessageId, topic: Topic) {
        if self.gossip_topics.insert(id.clone(), topic).is_none() {
            self.gossip_order.push_back(id);
        }
        while self.gossip_order.len() > GOSSIP_MEMORY {
            if let Some(old) = self.gossip_order.pop_front() {
                self.gossip_topics.remove(&old);
            }
        }
        // Ids reported already were removed from the map; drop them from the order lazily.
        if self.gossip_order.len() > 2 * self.gossip_topics.len() + 64 {
            let live: HashSet<&MessageId> = self.gossip_topics.keys().collect();
            self.gossip_order.retain(|id| live.contains(id));
        }
    }
}
