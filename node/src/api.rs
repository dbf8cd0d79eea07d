//! The node API: JSON-RPC 2.0 over HTTP (`POST /`) and a WebSocket of events (`GET /ws`), both
//! behind the same credentials (the data directory's `.cookie` by default). The dashboard, the
//! CLI and the tests all use this one surface; `docs/api.md` is its reference.

use std::str::FromStr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::hex::DisplayHex;
use bitcoin::{Address, ScriptBuf, Transaction};
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::payout::Payout;
use p2share_consensus::validation::coinbase_payee;
use p2share_consensus::{Share, ShareHash};
use p2share_rpc::server::codes;
use p2share_rpc::{Credentials, RpcError, RpcServer};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::service::{Node, NodeError, NodeEvent, Origin, ShareRecord};
use crate::sync::Net;

/// What the API serves from.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// The node core.
    pub node: Node,
    /// The network side.
    pub net: Net,
    /// Set to `true` by the `stop` method.
    pub stop: Arc<watch::Sender<bool>>,
    /// The local miner, once one runs.
    pub miner: Arc<tokio::sync::OnceCell<crate::mining::Miner>>,
}

/// Estimated network hashrate from the last `window` shares' work and time span.
fn network_hashrate(c: &p2share_consensus::chain::ChainState, window: u32) -> f64 {
    let tip = c.height();
    let from = tip.saturating_sub(window);
    if tip == from {
        return 0.0;
    }
    let header = |h: u32| {
        c.hash_at(h)
            .and_then(|hash| c.header(&hash))
            .map(|(hd, _)| hd)
    };
    let (Some(first), Some(last)) = (header(from), header(tip)) else {
        return 0.0;
    };
    let mut hashes = 0.0;
    for h in from + 1..=tip {
        if let Some(hd) = header(h) {
            if let Ok(t) = p2share_consensus::pow::decode_compact(hd.bits) {
                hashes += crate::mining::hashes_for(&t);
            }
        }
    }
    let span = f64::from(last.time.saturating_sub(first.time).max(1));
    hashes / span
}

fn required<T: serde::de::DeserializeOwned>(
    p: &Value,
    i: usize,
    name: &str,
) -> Result<T, RpcError> {
    RpcError::required(p, i, name)
}

fn not_found(what: String) -> RpcError {
    RpcError::new(codes::INVALID_ADDRESS_OR_KEY, format!("{what} not found"))
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::new(codes::INTERNAL_ERROR, e.to_string())
}

fn share_hash(p: &Value, i: usize, name: &str) -> Result<ShareHash, RpcError> {
    let s: String = required(p, i, name)?;
    ShareHash::from_str(&s).map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be a 64-character hex share id, not {s:?}"),
        )
    })
}

/// The HRP-bearing network addresses of this sharechain use (`bcrt` on regtest, `tb` on the
/// test networks, `bc` on main).
fn address_network(network: &str) -> bitcoin::Network {
    match network {
        "main" => bitcoin::Network::Bitcoin,
        "testnet4" => bitcoin::Network::Testnet4,
        "signet" => bitcoin::Network::Signet,
        _ => bitcoin::Network::Regtest,
    }
}

/// A script given as hex, or an address of the node's network.
fn script_param(p: &Value, i: usize, network: &str) -> Result<ScriptBuf, RpcError> {
    let s: String = required(p, i, "script_or_address")?;
    if let Ok(addr) = Address::from_str(&s) {
        let net = address_network(network);
        return addr
            .require_network(net)
            .map(|a| a.script_pubkey())
            .map_err(|_| {
                RpcError::new(
                    codes::INVALID_ADDRESS_OR_KEY,
                    format!("address {s} is not for network {network} (expected {net} addresses)"),
                )
            });
    }
    ScriptBuf::from_hex(&s).map_err(|_| {
        RpcError::new(
            codes::INVALID_ADDRESS_OR_KEY,
            format!("{s:?} is neither an address of {network} nor a hex script"),
        )
    })
}

fn payout_json(p: &Payout) -> Value {
    json!({
        "q": p.q,
        "n": p.n.to_units(),
        "txid": p.outpoint.txid.to_string(),
        "vout": p.outpoint.vout,
        "script_pubkey": p.script_pubkey.to_hex_string(),
        "value": p.value.to_units(),
        "range_start": p.start,
    })
}

fn share_json(r: &ShareRecord, payout: Option<&Payout>, network: &str) -> Value {
    let h = &r.head.header;
    let w = &r.head.work;
    let payee = coinbase_payee(&r.head).map(|(i, out)| {
        json!({
            "vout": i,
            "script_pubkey": out.script_pubkey.to_hex_string(),
            "address": Address::from_script(&out.script_pubkey, address_network(network))
                .ok().map(|a| a.to_string()),
            "value_sat": out.value.to_sat(),
        })
    });
    let txs = r.share.as_ref().map(|s| {
        s.txs
            .iter()
            .map(|tx| {
                json!({
                    "txid": tx.compute_txid().to_string(),
                    "hex": serialize_hex(tx),
                })
            })
            .collect::<Vec<_>>()
    });
    json!({
        "hash": r.head.hash().to_string(),
        "height": r.height,
        "active": r.active,
        "version": h.version,
        "prev_share": h.prev_share.to_string(),
        "tx_root": h.tx_root.to_string(),
        "time": h.time,
        "bits": format!("{:08x}", h.bits),
        "bitcoin": {
            "block_hash": w.header.block_hash().to_string(),
            "prev_block": w.header.prev_blockhash.to_string(),
            "time": w.header.time,
            "bits": format!("{:08x}", w.header.bits.to_consensus()),
            "nonce": w.header.nonce,
            "coinbase_txid": w.coinbase.compute_txid().to_string(),
            "payee": payee,
        },
        "payout": payout.map(payout_json),
        "pruned": r.share.is_none(),
        "tx": txs,
        "hex": r.share.as_ref().map(|s| s.encode().to_lower_hex_string()),
    })
}

async fn share_reply(
    node: &Node,
    record: Option<ShareRecord>,
    what: String,
) -> Result<Value, RpcError> {
    let Some(record) = record else {
        return Err(not_found(what));
    };
    let hash = record.head.hash();
    let payout = match node.with_chain(|c| c.payout_of(&hash).cloned()).await {
        Some(p) => Some(p),
        None => node.store().payout(&hash).await.map_err(internal)?,
    };
    Ok(share_json(&record, payout.as_ref(), &node.params().name))
}

fn node_error(e: NodeError) -> RpcError {
    match e {
        NodeError::Chain(c) => RpcError::new(codes::VERIFY_REJECTED, c.to_string()),
        NodeError::Mempool(m) => RpcError::new(codes::VERIFY_REJECTED, m.to_string()),
        NodeError::Store(s) => internal(s),
    }
}

/// Builds the JSON-RPC method table.
pub fn rpc_server(state: ApiState, credentials: Credentials) -> RpcServer {
    let s = state;
    let mut server = RpcServer::new(credentials);
    macro_rules! method {
        ($name:literal, |$st:ident, $p:ident| $body:expr) => {{
            let st = s.clone();
            server = server.method($name, move |$p: Value| {
                let $st = st.clone();
                async move { $body }
            });
        }};
    }
    method!("getsharechaininfo", |st, _p| {
        let summary = st.node.summary().await;
        let mempool = st.node.mempool_info().await;
        let mut v = serde_json::to_value(summary).map_err(internal)?;
        v["sync"] = serde_json::to_value(st.net.sync_status()).map_err(internal)?;
        v["mempool_size"] = json!(mempool.count);
        Ok(v)
    });
    method!("getshare", |st, p| {
        let hash = share_hash(&p, 0, "hash")?;
        let record = st.node.share(&hash).await.map_err(node_error)?;
        share_reply(&st.node, record, format!("share {hash}")).await
    });
    method!("getsharebyheight", |st, p| {
        let height: u32 = required(&p, 0, "height")?;
        let record = st.node.share_at(height).await.map_err(node_error)?;
        share_reply(&st.node, record, format!("active share at height {height}")).await
    });
    method!("getselectedshare", |st, p| {
        let hash: Option<String> = RpcError::param(&p, 0, "hash")?;
        if hash.is_none() {
            // The payout of the next Bitcoin block: selected from S_tip with the tip's header.
            let (tip, height, payout, eligible) = st
                .node
                .with_chain(|c| {
                    (
                        c.tip_hash(),
                        c.height(),
                        c.next_payout(),
                        c.utxo().eligible_total().to_units(),
                    )
                })
                .await;
            let mut v = match &payout {
                Some(p) => payout_json(p),
                None => {
                    json!({ "n": eligible, "note": "n = 0: the next share pays its own sharebase" })
                }
            };
            v["tip"] = json!(tip.to_string());
            v["height"] = json!(height);
            return Ok(v);
        }
        let hash = share_hash(&p, 0, "hash")?;
        let record = st.node.share(&hash).await.map_err(node_error)?;
        share_reply(&st.node, record, format!("share {hash}"))
            .await
            .map(|v| json!({ "hash": v["hash"], "height": v["height"], "payout": v["payout"], "payee": v["bitcoin"]["payee"] }))
    });
    method!("listunspent", |st, p| {
        let script = script_param(&p, 0, &st.node.params().name)?;
        let (height, maturity) = st
            .node
            .with_chain(|c| (c.height(), c.params().maturity))
            .await;
        let coins = st.node.unspent_for(&script).await;
        Ok(Value::Array(
            coins
                .iter()
                .map(|(op, coin)| {
                    json!({
                        "txid": op.txid.to_string(),
                        "vout": op.vout,
                        "value": coin.output.value.to_sat(),
                        "height": coin.height,
                        "sharebase": coin.is_sharebase,
                        "mature": coin.is_mature(height, maturity),
                        "eligible": coin.is_eligible(height, maturity),
                    })
                })
                .collect(),
        ))
    });
    method!("getbalance", |st, p| {
        let script = script_param(&p, 0, &st.node.params().name)?;
        let (height, maturity, n) = st
            .node
            .with_chain(|c| {
                (
                    c.height(),
                    c.params().maturity,
                    c.utxo().eligible_total().to_units(),
                )
            })
            .await;
        let coins = st.node.unspent_for(&script).await;
        let total: u64 = coins.iter().map(|(_, c)| c.output.value.to_sat()).sum();
        let eligible: u64 = coins
            .iter()
            .filter(|(_, c)| c.is_eligible(height, maturity))
            .map(|(_, c)| c.output.value.to_sat())
            .sum();
        Ok(json!({
            "total": total,
            "eligible": eligible,
            "immature": total - eligible,
            "outputs": coins.len(),
            "n": n,
            "chance_next_block": if n == 0 { 0.0 } else { eligible as f64 / n as f64 },
        }))
    });
    method!("sendrawtransaction", |st, p| {
        let hex: String = required(&p, 0, "hexstring")?;
        let tx: Transaction = deserialize_hex(&hex).map_err(|e| {
            RpcError::new(
                codes::DESERIALIZATION_ERROR,
                format!("transaction decode failed: {e}"),
            )
        })?;
        let accepted = st
            .net
            .submit_local_transaction(tx)
            .await
            .map_err(node_error)?;
        Ok(json!(accepted.txid.to_string()))
    });
    method!("submitshare", |st, p| {
        let hex: String = required(&p, 0, "hexstring")?;
        let bytes = hex_bytes(&hex)?;
        let share = Share::decode(&bytes).map_err(|e| {
            RpcError::new(
                codes::DESERIALIZATION_ERROR,
                format!("share decode failed: {e}"),
            )
        })?;
        let hash = share.hash();
        let outcome = match st.net.submit_local_share(share, Origin::Api).await {
            Ok(o) => o,
            // Held until its parent arrives (by gossip, sync or another submitshare).
            Err(NodeError::Chain(p2share_consensus::ChainError::Orphan { prev, .. })) => {
                return Ok(json!({
                    "hash": hash.to_string(),
                    "outcome": "orphan",
                    "missing_parent": prev.to_string(),
                    "reorg_depth": 0,
                }));
            }
            Err(e) => return Err(node_error(e)),
        };
        let (name, depth) = match &outcome {
            AcceptOutcome::AlreadyKnown => ("already_known", 0),
            AcceptOutcome::SideBranch => ("side_branch", 0),
            AcceptOutcome::Extended => ("extended", 0),
            AcceptOutcome::Reorganized { disconnected, .. } => ("reorganized", disconnected.len()),
        };
        Ok(json!({ "hash": hash.to_string(), "outcome": name, "reorg_depth": depth }))
    });
    method!("getmempoolinfo", |st, _p| {
        let i = st.node.mempool_info().await;
        Ok(json!({
            "size": i.count,
            "vsize_bytes": i.vsize_bytes,
            "total_fee": i.total_fee.to_units(),
            "min_fee_rate": i.min_fee_rate.to_string(),
            "max_vsize": i.max_vsize,
        }))
    });
    method!("getrawmempool", |st, _p| {
        Ok(json!(
            st.node
                .with_mempool(|m| m.iter().map(|e| e.txid.to_string()).collect::<Vec<_>>())
                .await
        ))
    });
    method!("getpeerinfo", |st, _p| {
        let peers = st.net.p2p().peers().await.map_err(internal)?;
        let heights = st.net.peer_heights().await;
        Ok(Value::Array(
            peers
                .iter()
                .map(|p| {
                    json!({
                        "peer_id": p.peer_id.to_string(),
                        "addrs": p.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                        "inbound": matches!(p.direction, p2share_p2p::Direction::Inbound),
                        "agent": p.agent,
                        "score": p.score,
                        "connected_since": p.connected_since
                            .duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
                        "latency_ms": p.latency.map(|l| l.as_secs_f64() * 1e3),
                        "height": heights.get(&p.peer_id),
                    })
                })
                .collect(),
        ))
    });
    method!("getnetworkinfo", |st, _p| {
        let p2p = st.net.p2p();
        let addrs = p2p.listen_addrs().await.map_err(internal)?;
        let peers = p2p.peers().await.map_err(internal)?;
        let banned = p2p.banned().await.map_err(internal)?;
        let nat = p2p.nat_status().await.map_err(internal)?;
        Ok(json!({
            "network": st.node.params().name,
            "peer_id": p2p.local_peer_id().to_string(),
            "listen_addrs": addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "connections": peers.len(),
            "nat": format!("{nat:?}"),
            "banned": banned.iter().map(|(p, left)| json!({"peer_id": p.to_string(), "seconds_left": left.as_secs()})).collect::<Vec<_>>(),
        }))
    });
    method!("addpeer", |st, p| {
        let addr: String = required(&p, 0, "multiaddr")?;
        let addr: p2share_p2p::Multiaddr = addr.parse().map_err(|e| {
            RpcError::new(
                codes::INVALID_PARAMETER,
                format!("bad multiaddr {addr:?}: {e}"),
            )
        })?;
        st.net.p2p().dial(addr).await.map_err(internal)?;
        Ok(Value::Null)
    });
    method!("getsyncstatus", |st, _p| {
        serde_json::to_value(st.net.sync_status()).map_err(internal)
    });
    method!("getstoreinfo", |st, _p| {
        let stats = st.node.store_stats().await.map_err(node_error)?;
        Ok(json!({
            "shares": stats.shares,
            "bodies": stats.bodies,
            "utxos": stats.utxos,
            "undo": stats.undo,
            "file_bytes": stats.file_bytes,
        }))
    });
    method!("getmininginfo", |st, _p| {
        let stats = match st.miner.get() {
            Some(m) => Some(m.stats().await),
            None => None,
        };
        let (height, bits, net_rate) = st
            .node
            .with_chain(|c| (c.height(), c.next_bits(), network_hashrate(c, 120)))
            .await;
        let share_target = p2share_consensus::pow::decode_compact(bits).map_err(internal)?;
        let per_share = crate::mining::hashes_for(&share_target);
        let local = stats.as_ref().map(|s| s.hashrate).unwrap_or(0.0);
        let secs = |rate: f64| (rate > 0.0).then(|| per_share / rate);
        let bitcoin_secs = stats
            .as_ref()
            .and_then(|s| s.bitcoin_block_hashes)
            .and_then(|h| (net_rate > 0.0).then(|| h / net_rate));
        Ok(json!({
            "mining": stats.is_some(),
            "height": height,
            "share_bits": format!("{bits:08x}"),
            "share_target": format!("{share_target:x}"),
            "hashes_per_share": per_share,
            "hashrate": local,
            "hashers": stats.as_ref().map(|s| json!([{ "backend": s.backend, "threads": s.threads, "hashrate": s.hashrate, "hashes": s.hashes, "thread_hashrates": s.thread_hashrates }])),
            "network_hashrate": net_rate,
            "expected_seconds_to_share": { "node": secs(local), "network": secs(net_rate) },
            "bitcoin_target": stats.as_ref().and_then(|s| s.bitcoin_target.clone()),
            "expected_seconds_to_bitcoin_block": bitcoin_secs,
            "shares_found": stats.as_ref().map(|s| s.shares_found),
            "stale": stats.as_ref().map(|s| s.stale),
            "rejected": stats.as_ref().map(|s| s.rejected),
            "last_reject": stats.as_ref().and_then(|s| s.last_reject.clone()),
            "last_job_ms": stats.as_ref().map(|s| s.last_job_ms),
            "tip_refresh_ms": stats.as_ref().map(|s| json!({ "p50": s.tip_refresh_p50_ms, "p99": s.tip_refresh_p99_ms, "max": s.tip_refresh_max_ms, "tips": s.tip_refreshes })),
            "blocks": stats.as_ref().map(|s| s.blocks.clone()),
        }))
    });
    method!("getodds", |st, p| {
        let script = script_param(&p, 0, &st.node.params().name)?;
        let net_rate = st.node.with_chain(|c| network_hashrate(c, 120)).await;
        let (v, n) = st.node.eligible_of(&script).await;
        let chance = if n == 0 { 0.0 } else { v as f64 / n as f64 };
        let stats = match st.miner.get() {
            Some(m) => Some(m.stats().await),
            None => None,
        };
        let blocks_per_day = stats
            .as_ref()
            .and_then(|s| s.bitcoin_block_hashes)
            .map(|h| net_rate * 86_400.0 / h);
        let reward = stats.as_ref().map(|s| s.bitcoin_reward_sat).unwrap_or(0);
        Ok(json!({
            "v": v,
            "n": n,
            "chance_next_block": chance,
            "network_hashrate": net_rate,
            "bitcoin_blocks_per_day": blocks_per_day,
            "expected_btc_per_day": blocks_per_day.map(|b| b * chance * reward as f64 / 1e8),
        }))
    });
    method!("stop", |st, _p| {
        let _ = st.stop.send(true);
        Ok(json!("p2share node stopping"))
    });
    server
}

fn hex_bytes(hex: &str) -> Result<Vec<u8>, RpcError> {
    use bitcoin::hex::FromHex;
    Vec::<u8>::from_hex(hex)
        .map_err(|e| RpcError::new(codes::DESERIALIZATION_ERROR, format!("bad hex: {e}")))
}

#[derive(Clone)]
struct WsState {
    node: Node,
    credentials: Credentials,
}

#[derive(Deserialize)]
struct WsQuery {
    /// `user:password` for clients that cannot set headers (browsers).
    auth: Option<String>,
}

/// The full router: JSON-RPC at `/`, events at `/ws`.
pub fn router(state: ApiState, credentials: Credentials) -> Router {
    let ws = Router::new()
        .route("/ws", get(ws_upgrade))
        .with_state(WsState {
            node: state.node.clone(),
            credentials: credentials.clone(),
        });
    rpc_server(state, credentials).router().merge(ws)
}

async fn ws_upgrade(
    State(st): State<WsState>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let from_query = q.auth.map(|a| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(a)
        )
    });
    if !st.credentials.accepts(header.as_deref()) && !st.credentials.accepts(from_query.as_deref())
    {
        return (StatusCode::UNAUTHORIZED, "bad or missing credentials").into_response();
    }
    upgrade.on_upgrade(move |socket| ws_session(socket, st.node))
}

fn event_kind(e: &NodeEvent) -> &'static str {
    match e {
        NodeEvent::Tip { .. } => "tip",
        NodeEvent::Share { .. } => "share",
        NodeEvent::Transaction { .. } => "transaction",
        NodeEvent::Sync(_) => "sync",
        NodeEvent::Peers { .. } => "peers",
    }
}

/// One WebSocket client: every event as a JSON-RPC notification `{"method":"event"}`, filtered
/// by an optional `subscribe` call naming the kinds wanted.
async fn ws_session(mut socket: WebSocket, node: Node) {
    let mut events = node.subscribe();
    let mut wanted: Option<Vec<String>> = None;
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { return };
                let Message::Text(text) = msg else { continue };
                let reply = match serde_json::from_str::<Value>(text.as_str()) {
                    Ok(v) if v["method"] == "subscribe" => {
                        let kinds: Vec<String> = v["params"].as_array().map(|a| {
                            a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect()
                        }).unwrap_or_default();
                        let unknown: Vec<&String> = kinds.iter()
                            .filter(|k| !["tip", "share", "transaction", "sync", "peers"].contains(&k.as_str()))
                            .collect();
                        if unknown.is_empty() {
                            let r = json!({"jsonrpc": "2.0", "result": kinds, "id": v["id"]});
                            // An empty list means every kind, as before any subscribe.
                            wanted = (!kinds.is_empty()).then_some(kinds);
                            r
                        } else {
                            json!({"jsonrpc": "2.0", "error": {"code": codes::INVALID_PARAMS,
                                "message": format!("unknown event kinds {unknown:?}; known: tip, share, transaction, sync, peers")}, "id": v["id"]})
                        }
                    }
                    Ok(v) => json!({"jsonrpc": "2.0", "error": {"code": codes::METHOD_NOT_FOUND,
                        "message": "the WebSocket only takes \"subscribe\"; call other methods over HTTP"}, "id": v["id"]}),
                    Err(e) => json!({"jsonrpc": "2.0", "error": {"code": codes::PARSE_ERROR,
                        "message": format!("not JSON: {e}")}, "id": null}),
                };
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                    return;
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        let note = json!({"jsonrpc": "2.0", "method": "lagged", "params": {"missed": n}});
                        if socket.send(Message::Text(note.to_string().into())).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(_) => return,
                };
                if let Some(w) = &wanted {
                    if !w.iter().any(|k| k == event_kind(&event)) {
                        continue;
                    }
                }
                let Ok(params) = serde_json::to_value(&event) else { continue };
                let note = json!({"jsonrpc": "2.0", "method": "event", "params": params});
                if socket.send(Message::Text(note.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
