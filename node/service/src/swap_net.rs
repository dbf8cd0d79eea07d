//! The wallets' swap traffic on the node's network: signed offers gossiped on the `offers`
//! topic, and the swap protocol between two nodes over request-response. The node only carries
//! the bytes; the wallet's swap engine ([`SwapPeer`]) decodes, verifies and answers them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use p2share_p2p::{PeerId, Request, Response, Topic, Verdict};

use crate::sync::Net;

/// How long a peer's swap request waits for the engine's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// The wallet's side of swap traffic.
pub trait SwapPeer: Send + Sync + 'static {
    /// A gossiped offer from `from` (the peer that propagated it): `true` when it decodes,
    /// verifies and is current (then it is relayed on), `false` to drop it.
    fn offer(&self, from: PeerId, data: &[u8]) -> bool;
    /// A swap-protocol request from `from`; the future yields the answer's bytes.
    fn request(&self, from: PeerId, data: Vec<u8>) -> BoxFuture<'static, Vec<u8>>;
}

impl Net {
    /// Routes offers and swap requests to `peer` from now on.
    pub fn set_swap_peer(&self, peer: Arc<dyn SwapPeer>) {
        *self
            .swap
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(peer);
    }

    fn swap_peer(&self) -> Option<Arc<dyn SwapPeer>> {
        self.swap
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// This node's peer id (what offers name as their maker).
    pub fn local_peer_id(&self) -> PeerId {
        self.p2p.local_peer_id()
    }

    /// Sends a swap-protocol message to `peer` and returns its answer.
    ///
    /// # Errors
    /// The transport's failure or the peer's refusal, as text.
    pub async fn swap_request(&self, peer: PeerId, data: Vec<u8>) -> Result<Vec<u8>, String> {
        match self.request(peer, Request::Swap(data)).await {
            Ok(Response::Swap(answer)) => Ok(answer),
            Ok(Response::Error { code, message }) => {
                Err(format!("{peer} refused: {code} {message}"))
            }
            Ok(_) => Err(format!("{peer} answered with something else")),
            Err(e) => Err(format!("swap request to {peer}: {e}")),
        }
    }

    /// Gossips an offer.
    ///
    /// # Errors
    /// When no peer is subscribed or the message is a duplicate, as text.
    pub async fn publish_offer(&self, data: Vec<u8>) -> Result<(), String> {
        self.p2p
            .publish(Topic::Offers, data)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub(crate) fn on_gossip_offer(&self, from: PeerId, data: &[u8]) -> Verdict {
        match self.swap_peer() {
            Some(p) if p.offer(from, data) => Verdict::Accept,
            Some(_) => Verdict::Reject,
            None => Verdict::Ignore,
        }
    }

    pub(crate) async fn answer_swap(&self, from: PeerId, data: Vec<u8>) -> Response {
        let Some(peer) = self.swap_peer() else {
            return Response::Error {
                code: p2share_p2p::wire::ERROR_UNAVAILABLE,
                message: "this node takes no swaps".into(),
            };
        };
        match tokio::time::timeout(ANSWER_TIMEOUT, peer.request(from, data)).await {
            Ok(answer) => Response::Swap(answer),
            Err(_) => Response::Error {
                code: p2share_p2p::wire::ERROR_UNAVAILABLE,
                message: "the swap engine did not answer in time".into(),
            },
        }
    }
}
