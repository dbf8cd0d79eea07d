//! p2share peer-to-peer networking on libp2p.
//!
//! - [`wire`]: the sync protocol's requests and responses with a strict binary encoding.
//! - [`codec`]: the request-response codec (`/p2share/<network>/sync/1`, length-prefixed
//!   frames, size limits checked before reading a body).
//! - [`P2p::start`]: the service task owning the libp2p swarm (request-response, gossipsub,
//!   identify, ping, Kademlia, AutoNAT, relay client, DCUtR, connection limits, bans), driven
//!   through a [`P2pHandle`] and reporting [`P2pEvent`]s.
//! - Peer scoring: [`Misbehavior`] penalties, bans at [`BAN_SCORE`] that expire after
//!   [`P2pConfig::ban_duration`].

pub mod codec;
mod config;
mod error;
mod peers;
mod service;
pub mod wire;

pub use config::{load_or_create_keypair, P2pConfig};
pub use error::P2pError;
pub use libp2p::gossipsub::MessageId;
pub use libp2p::identity::Keypair;
pub use libp2p::multiaddr::Protocol;
pub use libp2p::{Multiaddr, PeerId};
pub use peers::{Misbehavior, BAN_SCORE, SCORE_DECAY_INTERVAL};
pub use service::{
    offers_topic_name, Direction, NatStatus, P2p, P2pEvent, P2pHandle, PeerInfo, ResponseChannelId,
    Topic, Verdict, MAX_GOSSIP_SIZE,
};
pub use wire::{Request, Response, WireError, WireErrorKind};
