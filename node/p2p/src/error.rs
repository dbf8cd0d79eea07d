//! Errors of the p2p service.

use libp2p::{Multiaddr, PeerId};

use crate::wire::WireError;

/// What went wrong in the p2p service, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum P2pError {
    /// The configuration is invalid.
    #[error("invalid p2p configuration: {0}")]
    Config(String),
    /// The node key file could not be used.
    #[error("node key file {path}: {reason}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Building the transport or a behaviour failed.
    #[error("cannot build the p2p stack: {0}")]
    Setup(String),
    /// Listening on an address failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// Dialing an address failed at once.
    #[error("cannot dial {addr}: {reason}")]
    Dial {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// An outbound request failed (dial failure, timeout, closed connection, unsupported
    /// protocol, I/O or an undecodable response).
    #[error("request to {peer} failed: {reason}")]
    Request {
        /// The peer asked.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// The peer is banned.
    #[error("peer {0} is banned")]
    Banned(PeerId),
    /// A response could not be sent on its channel (the requester is gone, the channel was
    /// already used, or the request timed out).
    #[error("cannot respond on channel {0}: the request is gone or already answered")]
    ChannelClosed(u64),
    /// A message is over a wire limit.
    #[error("cannot encode: {0}")]
    Encode(#[from] WireError),
    /// Publishing a gossip message failed (e.g. no peer subscribed, or a duplicate).
    #[error("cannot publish on {topic}: {reason}")]
    Publish {
        /// The topic name.
        topic: String,
        /// Why.
        reason: String,
    },
    /// The service task has stopped.
    #[error("the p2p service has stopped")]
    Stopped,
}
