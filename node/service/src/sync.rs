//! The node on the network: answers peers' requests, validates gossip, relays new shares and
//! transactions, and syncs — headers first from the best peer, then bodies from several peers
//! in parallel — with progress everyone can see.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::pow::Work;
use bitcoin::Transaction;
use futures::stream::{self, StreamExt};
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::validation::check_head;
use p2share_consensus::{ChainError, Share, ShareHash, ShareHead};
use p2share_p2p::{Misbehavior, P2pEvent, P2pHandle, PeerId, Request, Response, Topic, Verdict};
use tokio::sync::{mpsc, watch, Mutex, Notify};

use crate::bitcoin_net::SharedBitcoinChain;
use crate::events::{NodeEvent, Origin, SyncStatus};
use crate::node::{Node, NodeError};

/// Heads asked for per request.
const HEADS_PER_REQUEST: u32 = 2_000;
/// Shares asked for per body request.
const SHARES_PER_REQUEST: usize = p2share_p2p::wire::MAX_SHARES;
/// Gap between our requests to one peer: 80% of the default rate peers serve (50/s), so a
/// syncing node never trips a peer's flood limit.
const REQUEST_INTERVAL: Duration = Duration::from_millis(25);
/// Most bytes of shares in one response (under the 8 MiB frame limit); the asker re-requests
/// the rest.
const MAX_SHARES_RESPONSE_BYTES: usize = 7 * 1024 * 1024;
/// How often every peer's status is asked even when gossip is quiet.
const STATUS_POLL: Duration = Duration::from_secs(15);
/// Body requests in flight at once (spread over the peers that have them).
const BODY_REQUESTS_IN_FLIGHT: usize = 8;

#[derive(Clone, Debug)]
struct PeerState {
    height: u32,
    work: Work,
}

/// The network side of a node; cheap to clone.
#[derive(Clone)]
pub struct Net {
    node: Node,
    pub(crate) p2p: P2pHandle,
    peers: Arc<Mutex<HashMap<PeerId, PeerState>>>,
    status: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
    pace: Arc<Mutex<HashMap<PeerId, Instant>>>,
    block_relay: Arc<std::sync::Mutex<Option<mpsc::Sender<ShareHead>>>>,
    /// The Bitcoin chain shared with the devnet's peers, if any (see `bitcoin_net`).
    pub(crate) bitcoin: Arc<std::sync::Mutex<Option<Arc<dyn SharedBitcoinChain>>>>,
    /// Peers a Bitcoin catch-up is running from, each with whether another pass is wanted.
    pub(crate) bitcoin_catch_ups: Arc<std::sync::Mutex<HashMap<PeerId, bool>>>,
    /// Set when the p2p event stream ends (the node is shutting down).
    pub(crate) stopped: Arc<AtomicBool>,
    /// The wallet's swap engine, if any (see `swap_net`).
    pub(crate) swap: Arc<std::sync::Mutex<Option<Arc<dyn crate::swap_net::SwapPeer>>>>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net")
            .field("peer_id", &self.p2p.local_peer_id())
            .finish()
    }
}

impl Net {
    /// Starts serving `events` from the p2p service for `node`, and the sync loop.
    pub fn start(node: Node, p2p: P2pHandle, events: mpsc::Receiver<P2pEvent>) -> Net {
        let (status, _) = watch::channel(SyncStatus {
            state: "idle",
            ..SyncStatus::default()
        });
        let net = Net {
            node,
            p2p,
            peers: Arc::new(Mutex::new(HashMap::new())),
            status,
            wake: Arc::new(Notify::new()),
            pace: Arc::new(Mutex::new(HashMap::new())),
            block_relay: Arc::new(std::sync::Mutex::new(None)),
            bitcoin: Arc::new(std::sync::Mutex::new(None)),
            bitcoin_catch_ups: Arc::new(std::sync::Mutex::new(HashMap::new())),
            stopped: Arc::new(AtomicBool::new(false)),
            swap: Arc::new(std::sync::Mutex::new(None)),
        };
        tokio::spawn(net.clone().event_loop(events));
        tokio::spawn(net.clone().sync_loop());
        net
    }

    /// A request to `peer`, spaced by [`REQUEST_INTERVAL`] from our previous ones to it.
    pub(crate) async fn request(
        &self,
        peer: PeerId,
        request: Request,
    ) -> Result<Response, p2share_p2p::P2pError> {
        let slot = {
            let mut pace = self.pace.lock().await;
            let now = Instant::now();
            let slot = pace
                .get(&peer)
                .map_or(now, |last| (*last + REQUEST_INTERVAL).max(now));
            pace.insert(peer, slot);
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
        self.p2p.request(peer, request).await
    }

    /// Fetches whole shares from `peer`, in order; a peer may answer a prefix (size limit), the
    /// rest is asked again.
    async fn fetch_shares(&self, peer: PeerId, hashes: &[ShareHash]) -> Result<Vec<Share>, String> {
        let mut out: Vec<Share> = Vec::with_capacity(hashes.len());
        while out.len() < hashes.len() {
            let rest = &hashes[out.len()..];
            let got = match self.request(peer, Request::GetShares(rest.to_vec())).await {
                Ok(Response::Shares(s)) => s,
                Ok(Response::Error { code, message }) => {
                    return Err(format!("shares refused by {peer}: {code} {message}"))
                }
                Ok(_) => return Err(format!("{peer} answered shares with something else")),
                Err(e) => return Err(format!("shares request to {peer}: {e}")),
            };
            if got.is_empty() {
                return Err(format!("{peer} does not have share {}", rest[0]));
            }
            if got.len() > rest.len() || got.iter().zip(rest).any(|(s, h)| s.hash() != *h) {
                let _ = self.p2p.penalize(peer, Misbehavior::UselessData).await;
                return Err(format!("{peer} sent other shares than asked"));
            }
            out.extend(got);
        }
        Ok(out)
    }

    /// Hands every share gossiped by a peer whose Bitcoin header meets the target of its own
    /// `bits` to `relay`, before the sharechain validates it (as P2Pool did: a Bitcoin block
    /// reaches Bitcoin even when its finder's connection fails). The receiver decides whether
    /// it is a block worth submitting; a full channel drops the head.
    pub fn set_block_relay(&self, relay: mpsc::Sender<ShareHead>) {
        *self
            .block_relay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(relay);
    }

    fn offer_to_relay(&self, head: &ShareHead) {
        let relay = self
            .block_relay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(relay) = relay else { return };
        let header = &head.work.header;
        if header.target().is_met_by(header.block_hash()) {
            let _ = relay.try_send(head.clone());
        }
    }

    /// The node core.
    pub fn node_handle(&self) -> Node {
        self.node.clone()
    }

    /// The p2p handle.
    pub fn p2p(&self) -> &P2pHandle {
        &self.p2p
    }

    /// The latest sync status.
    pub fn sync_status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Connected peers' announced heights.
    pub async fn peer_heights(&self) -> HashMap<PeerId, u32> {
        self.peers
            .lock()
            .await
            .iter()
            .map(|(p, s)| (*p, s.height))
            .collect()
    }

    /// Submits a share mined (or received) locally and gossips it if it became the tip.
    ///
    /// # Errors
    /// The node's refusal.
    pub async fn submit_local_share(
        &self,
        share: Share,
        origin: Origin,
    ) -> Result<AcceptOutcome, NodeError> {
        let data = share.encode();
        let outcome = self.node.submit_share(share, origin).await?;
        if matches!(
            outcome,
            AcceptOutcome::Extended | AcceptOutcome::Reorganized { .. }
        ) {
            if let Err(e) = self.p2p.publish(Topic::Shares, data).await {
                tracing::debug!(error = %e, "share not gossiped (no peers?)");
            }
        }
        Ok(outcome)
    }

    /// Submits a transaction locally and gossips it once accepted.
    ///
    /// # Errors
    /// The mempool's refusal.
    pub async fn submit_local_transaction(
        &self,
        tx: Transaction,
    ) -> Result<p2share_mempool::AcceptedTx, NodeError> {
        let data = serialize(&tx);
        let accepted = self.node.submit_transaction(tx).await?;
        if let Err(e) = self.p2p.publish(Topic::Txs, data).await {
            tracing::debug!(error = %e, "transaction not gossiped (no peers?)");
        }
        Ok(accepted)
    }

    async fn event_loop(self, mut events: mpsc::Receiver<P2pEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                P2pEvent::PeerConnected { peer, addr } => {
                    tracing::info!(%peer, %addr, "peer connected");
                    let net = self.clone();
                    tokio::spawn(async move { net.ask_status(peer).await });
                    self.spawn_bitcoin_catch_up(peer);
                    self.emit_peers().await;
                }
                P2pEvent::PeerDisconnected { peer } => {
                    tracing::info!(%peer, "peer disconnected");
                    self.peers.lock().await.remove(&peer);
                    self.emit_peers().await;
                }
                P2pEvent::PeerBanned { peer, reason } => {
                    tracing::warn!(%peer, ?reason, "peer banned");
                    self.peers.lock().await.remove(&peer);
                }
                P2pEvent::InboundRequest {
                    peer,
                    request,
                    channel,
                } => {
                    let net = self.clone();
                    tokio::spawn(async move {
                        let response = match request {
                            Request::Swap(data) => net.answer_swap(peer, data).await,
                            other => net.answer(other).await,
                        };
                        if let Err(e) = net.p2p.respond(channel, response).await {
                            tracing::debug!(%peer, error = %e, "response not sent");
                        }
                    });
                }
                P2pEvent::Gossip {
                    peer,
                    msg_id,
                    topic,
                    data,
                } => {
                    let verdict = match topic {
                        Topic::Shares => self.on_gossip_share(peer, &data).await,
                        Topic::Txs => self.on_gossip_tx(&data).await,
                        Topic::BtcBlocks => self.on_gossip_bitcoin_block(peer, &data).await,
                        Topic::BtcTxs => self.on_gossip_bitcoin_tx(&data).await,
                        Topic::Offers => self.on_gossip_offer(peer, &data),
                    };
                    if let Err(e) = self.p2p.report_gossip(msg_id, peer, verdict).await {
                        tracing::debug!(error = %e, "gossip verdict not reported");
                    }
                }
                P2pEvent::NatStatusChanged(status) => {
                    tracing::info!(?status, "reachability changed");
                }
                P2pEvent::ListenAddr(addr) => {
                    tracing::info!(%addr, "listening");
                }
            }
        }
        self.stopped.store(true, Ordering::Relaxed);
    }

    async fn emit_peers(&self) {
        if let Ok(peers) = self.p2p.peers().await {
            self.node.emit(NodeEvent::Peers {
                connected: peers.len(),
            });
        }
    }

    async fn answer(&self, request: Request) -> Response {
        let internal = |e: NodeError| Response::Error {
            code: 500,
            message: e.to_string().chars().take(200).collect(),
        };
        match request {
            Request::Status => {
                let (genesis, tip, height, work) = self
                    .node
                    .with_chain(|c| (c.genesis_hash(), c.tip_hash(), c.height(), c.tip_work()))
                    .await;
                Response::Status {
                    genesis,
                    tip,
                    height,
                    chain_work: work.to_be_bytes(),
                }
            }
            Request::GetHeads { locator, max } => {
                match self
                    .node
                    .heads_after(&locator, max.min(HEADS_PER_REQUEST))
                    .await
                {
                    Ok(heads) => Response::Heads(heads),
                    Err(e) => internal(e),
                }
            }
            Request::GetShares(hashes) => match self.node.shares(&hashes).await {
                Ok(shares) => {
                    // Answer the longest prefix that fits one frame (and stop at a gap).
                    let mut bytes = 0usize;
                    let mut out = Vec::with_capacity(shares.len());
                    for (share, want) in shares.into_iter().zip(&hashes) {
                        bytes += share.encoded_size();
                        if share.hash() != *want
                            || (bytes > MAX_SHARES_RESPONSE_BYTES && !out.is_empty())
                        {
                            break;
                        }
                        out.push(share);
                    }
                    Response::Shares(out)
                }
                Err(e) => internal(e),
            },
            Request::GetTxs(txids) => Response::Txs(self.node.mempool_txs(&txids).await),
            Request::GetBitcoinBlocks { locator, max } => {
                self.answer_bitcoin_blocks(locator, max).await
            }
            // Routed before `answer` (it needs the asking peer).
            Request::Swap(_) => Response::Error {
                code: p2share_p2p::wire::ERROR_UNAVAILABLE,
                message: "swap requests are answered by the swap engine".into(),
            },
        }
    }

    async fn on_gossip_share(&self, peer: PeerId, data: &[u8]) -> Verdict {
        let share = match Share::decode(data) {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(%peer, error = %e, "undecodable share gossip");
                return Verdict::Reject;
            }
        };
        self.offer_to_relay(&share.head);
        let height = share.head.header.height;
        let hash = share.hash();
        match self.node.submit_share(share, Origin::Gossip).await {
            Ok(AcceptOutcome::AlreadyKnown) => Verdict::Ignore,
            Ok(outcome) => {
                self.note_peer_height(peer, height).await;
                tracing::debug!(%peer, %hash, height, ?outcome, "gossip share accepted");
                Verdict::Accept
            }
            Err(NodeError::Chain(ChainError::Orphan { .. })) => {
                // We are behind (or it forks): sync from this peer.
                self.note_peer_height(peer, height).await;
                self.ask_status(peer).await;
                Verdict::Ignore
            }
            Err(NodeError::Chain(ChainError::Invalid { error, .. }))
                if error.rule == p2share_consensus::validation::Rule::TimeTooNew =>
            {
                Verdict::Ignore
            }
            Err(NodeError::Chain(
                e @ (ChainError::Invalid { .. } | ChainError::KnownInvalid(_)),
            )) => {
                tracing::warn!(%peer, error = %e, "invalid share gossiped");
                Verdict::Reject
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "gossip share not accepted");
                Verdict::Ignore
            }
        }
    }

    async fn on_gossip_tx(&self, data: &[u8]) -> Verdict {
        let Ok(tx) = deserialize::<Transaction>(data) else {
            return Verdict::Reject;
        };
        let txid = tx.compute_txid();
        if self.node.with_mempool(|m| m.contains(&txid)).await {
            return Verdict::Ignore;
        }
        match self.node.submit_transaction(tx).await {
            Ok(_) => Verdict::Accept,
            Err(NodeError::Mempool(e)) if e.rule().is_some() => Verdict::Reject,
            Err(_) => Verdict::Ignore,
        }
    }

    async fn note_peer_height(&self, peer: PeerId, height: u32) {
        let mut peers = self.peers.lock().await;
        let entry = peers.entry(peer).or_insert(PeerState {
            height: 0,
            work: Work::from_be_bytes([0; 32]),
        });
        entry.height = entry.height.max(height);
    }

    async fn ask_status(&self, peer: PeerId) {
        match self.request(peer, Request::Status).await {
            Ok(Response::Status {
                genesis,
                height,
                chain_work,
                ..
            }) => {
                if genesis != self.node.with_chain(|c| c.genesis_hash()).await {
                    tracing::info!(%peer, "peer is on another network (genesis differs)");
                    let _ = self.p2p.penalize(peer, Misbehavior::UselessData).await;
                    return;
                }
                self.peers.lock().await.insert(
                    peer,
                    PeerState {
                        height,
                        work: Work::from_be_bytes(chain_work),
                    },
                );
                self.wake.notify_one();
            }
            Ok(other) => tracing::debug!(%peer, ?other, "unexpected status answer"),
            Err(e) => tracing::debug!(%peer, error = %e, "status request failed"),
        }
    }

    fn set_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        self.status.send_modify(f);
        let status = self.status.borrow().clone();
        self.node.emit(NodeEvent::Sync(status));
    }

    async fn sync_loop(self) {
        let mut last_poll = Instant::now();
        loop {
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            // A safety net under gossip: ask every peer's status now and then.
            if last_poll.elapsed() >= STATUS_POLL {
                last_poll = Instant::now();
                let peers: Vec<PeerId> = self.peers.lock().await.keys().copied().collect();
                for peer in peers {
                    let net = self.clone();
                    tokio::spawn(async move { net.ask_status(peer).await });
                }
            }
            let (our_work, our_height) = self.node.with_chain(|c| (c.tip_work(), c.height())).await;
            let best = {
                let peers = self.peers.lock().await;
                peers
                    .iter()
                    .filter(|(_, s)| s.work > our_work)
                    .max_by_key(|(_, s)| s.work)
                    .map(|(p, s)| (*p, s.clone()))
            };
            let Some((peer, state)) = best else {
                let (target, connected) = {
                    let peers = self.peers.lock().await;
                    (
                        peers
                            .values()
                            .map(|s| s.height)
                            .max()
                            .unwrap_or(0)
                            .max(our_height),
                        !peers.is_empty(),
                    )
                };
                // "synced" once a peer confirmed we are not behind; "idle" with no peers.
                let state = if connected { "synced" } else { "idle" };
                let current = self.status.borrow().clone();
                if current.state != state || current.height != our_height {
                    self.set_status(|s| {
                        *s = SyncStatus {
                            state,
                            height: our_height,
                            target_height: target,
                            progress: 1.0,
                            ..SyncStatus::default()
                        }
                    });
                }
                continue;
            };
            if let Err(e) = self.sync_from(peer, state.height).await {
                tracing::warn!(%peer, error = %e, "sync from peer stopped");
                // Refresh its status before trying again.
                self.ask_status(peer).await;
            }
        }
    }

    /// Headers first from `peer`, then bodies in parallel from every peer that has them.
    async fn sync_from(&self, peer: PeerId, target: u32) -> Result<(), String> {
        let params = self.node.params().clone();
        let started = Instant::now();
        let (start_tip, start_height) = self.node.tip().await;
        tracing::info!(%peer, from = start_height, to = target, "syncing");
        self.set_status(|s| {
            s.state = "headers";
            s.height = start_height;
            s.target_height = target;
            s.headers = 0;
            s.peer = Some(peer.to_string());
        });
        let mut locator = self.node.with_chain(|c| c.locator()).await;
        let mut headers = 0u32;
        let mut last_log = Instant::now();
        loop {
            let heads = match self
                .request(
                    peer,
                    Request::GetHeads {
                        locator: locator.clone(),
                        max: HEADS_PER_REQUEST,
                    },
                )
                .await
            {
                Ok(Response::Heads(h)) => h,
                Ok(Response::Error { code, message }) => {
                    return Err(format!("heads refused: {code} {message}"))
                }
                Ok(_) => {
                    let _ = self.p2p.penalize(peer, Misbehavior::UselessData).await;
                    return Err("answered heads with something else".into());
                }
                Err(e) => return Err(format!("heads request: {e}")),
            };
            if heads.is_empty() {
                break;
            }
            // Context-free checks (proof of work, commitment) and linkage before any body is
            // fetched: a peer cannot make us download junk.
            let mut prev: Option<&ShareHead> = None;
            for head in &heads {
                if let Err(e) = check_head(&params, head) {
                    let _ = self.p2p.penalize(peer, Misbehavior::InvalidShare).await;
                    return Err(format!("invalid head {}: {e}", head.hash()));
                }
                let linked = match prev {
                    Some(p) => {
                        head.header.prev_share == p.hash()
                            && head.header.height == p.header.height + 1
                    }
                    None => self.node.knows_share(&head.header.prev_share).await,
                };
                if !linked {
                    let _ = self.p2p.penalize(peer, Misbehavior::InvalidShare).await;
                    return Err(format!("head {} does not link", head.hash()));
                }
                prev = Some(head);
            }
            headers += heads.len() as u32;
            let last = heads[heads.len() - 1].clone();
            let target = target.max(last.header.height);
            self.set_status(|s| {
                s.state = "bodies";
                s.headers = headers;
                s.target_height = target;
            });
            let mut wanted = Vec::with_capacity(heads.len());
            for head in &heads {
                let hash = head.hash();
                if !self.node.knows_share(&hash).await {
                    wanted.push((hash, head.header.height));
                }
            }
            self.fetch_bodies(peer, wanted, start_height, started, &mut last_log)
                .await?;
            let full = heads.len() as u32 >= HEADS_PER_REQUEST;
            locator = vec![last.hash()];
            if !full {
                break;
            }
        }
        let (height, tip) = {
            let (tip, height) = self.node.tip().await;
            (height, tip)
        };
        // Announce the new tip: peers on the old branch learn of it (a share they cannot
        // connect makes them ask our status and sync), as a freshly mined share would.
        if height > start_height || tip != start_tip {
            if let Ok(Some(record)) = self.node.share(&tip).await {
                if let Some(share) = record.share {
                    let _ = self.p2p.publish(Topic::Shares, share.encode()).await;
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        tracing::info!(
            height,
            %tip,
            shares = height.saturating_sub(start_height),
            seconds = format!("{secs:.1}"),
            "sync finished"
        );
        self.set_status(|s| {
            s.state = "synced";
            s.height = height;
            s.progress = 1.0;
            s.eta_seconds = Some(0);
        });
        Ok(())
    }

    async fn fetch_bodies(
        &self,
        source: PeerId,
        wanted: Vec<(ShareHash, u32)>,
        start_height: u32,
        started: Instant,
        last_log: &mut Instant,
    ) -> Result<(), String> {
        let peers = self.peers.lock().await.clone();
        let chunks: Vec<Vec<(ShareHash, u32)>> = wanted
            .chunks(SHARES_PER_REQUEST)
            .map(<[_]>::to_vec)
            .collect();
        let mut helpers: Vec<PeerId> = peers
            .iter()
            .filter(|(p, _)| **p != source)
            .map(|(p, _)| *p)
            .collect();
        helpers.sort();
        let requests = chunks.into_iter().enumerate().map(|(i, chunk)| {
            let top = chunk.last().map(|c| c.1).unwrap_or(0);
            // Spread chunks over the source and peers that announced that height.
            let able: Vec<PeerId> = std::iter::once(source)
                .chain(
                    helpers
                        .iter()
                        .copied()
                        .filter(|p| peers.get(p).is_some_and(|s| s.height >= top)),
                )
                .collect();
            let peer = able[i % able.len()];
            let net = self.clone();
            async move {
                let hashes: Vec<ShareHash> = chunk.iter().map(|c| c.0).collect();
                match net.fetch_shares(peer, &hashes).await {
                    Ok(shares) => Ok((peer, shares)),
                    Err(e) if peer != source => {
                        tracing::debug!(error = %e, "retrying the chunk with the sync source");
                        net.fetch_shares(source, &hashes).await.map(|s| (source, s))
                    }
                    Err(e) => Err(e),
                }
            }
        });
        let mut results = stream::iter(requests).buffered(BODY_REQUESTS_IN_FLIGHT);
        while let Some(result) = results.next().await {
            let (peer, shares) = result?;
            // The newest shares of a batch may be blocks on Bitcoin's tip (the relay checks).
            for share in shares.iter().rev().take(4) {
                self.offer_to_relay(&share.head);
            }
            let outcomes = self
                .node
                .submit_shares(shares, Origin::Sync)
                .await
                .map_err(|e| e.to_string())?;
            for outcome in outcomes {
                match outcome {
                    Ok(_) | Err(ChainError::BelowWindow { .. }) => {}
                    Err(e @ (ChainError::Invalid { .. } | ChainError::KnownInvalid(_))) => {
                        let _ = self.p2p.penalize(peer, Misbehavior::InvalidShare).await;
                        return Err(format!("invalid share from {peer}: {e}"));
                    }
                    Err(e) => return Err(format!("share from {peer} not connected: {e}")),
                }
            }
            let height = self.node.tip().await.1;
            let elapsed = started.elapsed().as_secs_f64().max(1e-3);
            let rate = f64::from(height.saturating_sub(start_height)) / elapsed;
            self.set_status(|s| {
                s.height = height;
                s.rate = rate;
                s.progress = if s.target_height == 0 {
                    1.0
                } else {
                    (f64::from(height) / f64::from(s.target_height)).min(1.0)
                };
                s.eta_seconds = (rate > 0.0)
                    .then(|| (f64::from(s.target_height.saturating_sub(height)) / rate) as u64);
            });
            if last_log.elapsed() >= Duration::from_secs(5) {
                *last_log = Instant::now();
                let s = self.sync_status();
                tracing::info!(
                    height = s.height,
                    target = s.target_height,
                    rate = format!("{:.0}/s", s.rate),
                    eta_s = s.eta_seconds.unwrap_or(0),
                    "sync progress {:.1}%",
                    s.progress * 100.0
                );
            }
        }
        Ok(())
    }
}
