//! The Bitcoin Core JSON-RPC subset served by the embedded regtest mainchain.

use std::sync::Arc;
use std::time::Duration;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Address, Block, BlockHash, Transaction, Txid};
use p2share_regtest::{RegtestNode, SubmitOutcome};

use super::NodeView;
use p2share_rpc::server::codes;
use p2share_rpc::{Credentials, RpcError, RpcServer};
use serde_json::{json, Value};

type Shared = Arc<RegtestNode>;

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

fn param<T: serde::de::DeserializeOwned>(
    p: &Value,
    i: usize,
    name: &str,
) -> Result<Option<T>, RpcError> {
    RpcError::param(p, i, name)
}

fn required<T: serde::de::DeserializeOwned>(
    p: &Value,
    i: usize,
    name: &str,
) -> Result<T, RpcError> {
    RpcError::required(p, i, name)
}

fn decode_hex<T: bitcoin::consensus::Decodable>(hex: &str, what: &str) -> Result<T, RpcError> {
    deserialize_hex(hex).map_err(|e| {
        RpcError::new(
            codes::DESERIALIZATION_ERROR,
            format!("{what} decode failed: {e}"),
        )
    })
}

fn block_hash_param(p: &Value, i: usize, name: &str) -> Result<BlockHash, RpcError> {
    let s: String = required(p, i, name)?;
    s.parse().map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be a 64-character hex block hash, not {s:?}"),
        )
    })
}

fn not_found(what: &str) -> RpcError {
    RpcError::new(codes::INVALID_ADDRESS_OR_KEY, format!("{what} not found"))
}

fn header_json(node: &RegtestNode, hash: &BlockHash) -> Option<Value> {
    let info = node.chain().header(hash)?;
    let h = &info.header;
    let next = info
        .in_active_chain
        .then(|| node.chain().block_hash(info.height + 1))
        .flatten();
    Some(json!({
        "hash": hash,
        "confirmations": info.confirmations,
        "height": info.height,
        "version": h.version.to_consensus(),
        "versionHex": format!("{:08x}", h.version.to_consensus()),
        "merkleroot": h.merkle_root,
        "time": h.time,
        "mediantime": info.median_time_past,
        "nonce": h.nonce,
        "bits": format!("{:08x}", h.bits.to_consensus()),
        "difficulty": h.difficulty_float(),
        "previousblockhash": if info.height == 0 { Value::Null } else { json!(h.prev_blockhash) },
        "nextblockhash": next,
    }))
}

/// Builds the RPC server over `node`.
///
/// Long polls (`getblocktemplate` with a `longpollid`) end when the template changes, after ten
/// minutes, or as soon as `stopping` turns true, so that a shutdown never waits on them.
pub fn server(
    node: Shared,
    credentials: Credentials,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> RpcServer {
    let n = node.clone();
    let s = RpcServer::new(credentials)
        .method("getblockchaininfo", {
            let node = n.clone();
            move |_p: Value| {
                let node = node.clone();
                async move {
                    let tip = node.chain().tip();
                    Ok(json!({
                        "chain": "regtest",
                        "blocks": tip.height,
                        "headers": tip.height,
                        "bestblockhash": tip.hash,
                        "difficulty": tip.header.difficulty_float(),
                        "time": tip.header.time,
                        "mediantime": tip.median_time_past,
                        "verificationprogress": 1.0,
                        "initialblockdownload": false,
                        "pruned": false,
                        "warnings": [],
                    }))
                }
            }
        })
        .method("getbestblockhash", {
            let node = n.clone();
            move |_p: Value| {
                let node = node.clone();
                async move { Ok(json!(node.chain().tip().hash)) }
            }
        })
        .method("getblockcount", {
            let node = n.clone();
            move |_p: Value| {
                let node = node.clone();
                async move { Ok(json!(node.chain().tip().height)) }
            }
        })
        .method("getblockhash", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let height: i64 = required(&p, 0, "height")?;
                    let h = u32::try_from(height).map_err(|_| RpcError::new(codes::INVALID_PARAMETER, "Block height out of range"))?;
                    node.chain().block_hash(h).map(|b| json!(b)).ok_or_else(|| RpcError::new(codes::INVALID_PARAMETER, "Block height out of range"))
                }
            }
        })
        .method("getblockheader", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let hash = block_hash_param(&p, 0, "blockhash")?;
                    let verbose: bool = param(&p, 1, "verbose")?.unwrap_or(true);
                    let info = node.chain().header(&hash).ok_or_else(|| not_found("Block"))?;
                    if verbose {
                        header_json(&node, &hash).ok_or_else(|| not_found("Block"))
                    } else {
                        Ok(json!(serialize_hex(&info.header)))
                    }
                }
            }
        })
        .method("getblock", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let hash = block_hash_param(&p, 0, "blockhash")?;
                    let verbosity: i64 = match p.get(1).or_else(|| p.get("verbosity")) {
                        Some(Value::Bool(b)) => i64::from(*b),
                        _ => param(&p, 1, "verbosity")?.unwrap_or(1),
                    };
                    let block = node.chain().block(&hash).ok_or_else(|| not_found("Block"))?;
                    if verbosity == 0 {
                        return Ok(json!(serialize_hex(&block)));
                    }
                    let mut v = header_json(&node, &hash).ok_or_else(|| not_found("Block"))?;
                    v["size"] = json!(block.total_size());
                    v["weight"] = json!(block.weight().to_wu());
                    v["nTx"] = json!(block.txdata.len());
                    v["tx"] = json!(block.txdata.iter().map(|t| t.compute_txid()).collect::<Vec<_>>());
                    Ok(v)
                }
            }
        })
        .method("getrawtransaction", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let s: String = required(&p, 0, "txid")?;
                    let txid: Txid = s.parse().map_err(|_| RpcError::new(codes::INVALID_PARAMETER, format!("txid must be hexadecimal string (not {s:?})")))?;
                    let verbose = match p.get(1).or_else(|| p.get("verbose")) {
                        Some(Value::Bool(b)) => *b,
                        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
                        _ => false,
                    };
                    let (tx, block) = match node.chain().transaction(&txid) {
                        Some((tx, loc)) => (tx, Some(loc)),
                        None => (node.mempool_transaction(&txid).ok_or_else(|| RpcError::new(codes::INVALID_ADDRESS_OR_KEY, "No such mempool or blockchain transaction"))?, None),
                    };
                    if !verbose {
                        return Ok(json!(serialize_hex(&tx)));
                    }
                    let mut v = json!({
                        "txid": txid, "hash": tx.compute_wtxid(), "hex": serialize_hex(&tx),
                        "size": tx.total_size(), "vsize": tx.vsize(), "weight": tx.weight().to_wu(),
                        "version": tx.version.0, "locktime": tx.lock_time.to_consensus_u32(),
                    });
                    if let Some(loc) = block {
                        v["blockhash"] = json!(loc.block_hash);
                        v["confirmations"] = json!(node.chain().confirmations(&txid).unwrap_or(0));
                    }
                    Ok(v)
                }
            }
        })
        .method("sendrawtransaction", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let hex: String = required(&p, 0, "hexstring")?;
                    let tx: Transaction = decode_hex(&hex, "TX")?;
                    node.send_raw_transaction(tx).map(|txid| json!(txid)).map_err(|r| RpcError::new(codes::VERIFY_REJECTED, r.to_string()))
                }
            }
        })
        .method("testmempoolaccept", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let raws: Vec<String> = required(&p, 0, "rawtxs")?;
                    let mut out = Vec::with_capacity(raws.len());
                    for hex in raws {
                        let tx: Transaction = decode_hex(&hex, "TX")?;
                        let txid = tx.compute_txid();
                        let wtxid = tx.compute_wtxid();
                        out.push(match node.accept_test(&tx) {
                            Ok(a) => json!({"txid": txid, "wtxid": wtxid, "allowed": true, "vsize": a.vsize, "fees": {"base": a.fee.to_btc()}}),
                            Err(r) => json!({"txid": txid, "wtxid": wtxid, "allowed": false, "reject-reason": r.test_accept_reason()}),
                        });
                    }
                    Ok(Value::Array(out))
                }
            }
        })
        .method("getmempoolinfo", {
            let node = n.clone();
            move |_p: Value| {
                let node = node.clone();
                async move { Ok(node.mempool_info_json()) }
            }
        })
        .method("getrawmempool", {
            let node = n.clone();
            move |_p: Value| {
                let node = node.clone();
                async move { Ok(json!(node.mempool_txids())) }
            }
        })
        .method("estimatesmartfee", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let target: i64 = required(&p, 0, "conf_target")?;
                    if !(1..=1008).contains(&target) {
                        return Err(RpcError::new(codes::INVALID_PARAMETER, format!("Invalid conf_target, must be between 1 and 1008 (got {target})")));
                    }
                    // BTC per kvB at the node's relay floor: regtest has no fee history.
                    let btc_per_kvb = node.min_fee_rate_sat_vb() * 1000.0 / 100_000_000.0;
                    Ok(json!({"feerate": btc_per_kvb, "blocks": target}))
                }
            }
        })
        .method("getblocktemplate", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                let stopping = stopping.clone();
                async move {
                    let request: Value = param(&p, 0, "template_request")?.unwrap_or(json!({}));
                    let rules = request.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
                    if !rules.iter().any(|r| r == "segwit") {
                        return Err(RpcError::new(codes::INVALID_PARAMETER, "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})"));
                    }
                    if let Some(id) = request.get("longpollid").and_then(Value::as_str) {
                        // Wait (off the async workers, in short slices so that a shutdown is never
                        // held up) until the template would change, at most ten minutes, as
                        // Core's long poll does.
                        let deadline = std::time::Instant::now() + Duration::from_secs(600);
                        while std::time::Instant::now() < deadline && !*stopping.borrow() {
                            let waiter = node.clone();
                            let id = id.to_string();
                            let changed = tokio::task::spawn_blocking(move || waiter.wait_for_template_change(&id, Duration::from_millis(250)))
                                .await
                                .unwrap_or(true);
                            if changed {
                                break;
                            }
                        }
                    }
                    Ok(node.block_template_json(now()))
                }
            }
        })
        .method("submitblock", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let hex: String = required(&p, 0, "hexdata")?;
                    let block: Block = decode_hex(&hex, "Block")?;
                    if block.txdata.first().is_none_or(|cb| !cb.is_coinbase()) {
                        return Err(RpcError::new(codes::DESERIALIZATION_ERROR, "Block does not start with a coinbase"));
                    }
                    let outcome = tokio::task::spawn_blocking(move || node.submit_block(&block))
                        .await
                        .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?;
                    Ok(match outcome {
                        SubmitOutcome::Accepted { new_tip: true } => Value::Null,
                        SubmitOutcome::Accepted { new_tip: false } => json!("inconclusive"),
                        SubmitOutcome::Duplicate => json!("duplicate"),
                        SubmitOutcome::Rejected { reason } => json!(reason),
                        _ => json!("rejected"),
                    })
                }
            }
        })
        .method("generatetoaddress", {
            let node = n.clone();
            move |p: Value| {
                let node = node.clone();
                async move {
                    let count: i64 = required(&p, 0, "nblocks")?;
                    let address: String = required(&p, 1, "address")?;
                    let count = u32::try_from(count).ok().filter(|c| *c <= 10_000).ok_or_else(|| RpcError::new(codes::INVALID_PARAMETER, "nblocks must be 0 to 10000"))?;
                    let addr = address
                        .parse::<Address<bitcoin::address::NetworkUnchecked>>()
                        .ok()
                        .and_then(|a| a.require_network(bitcoin::Network::Regtest).ok())
                        .ok_or_else(|| RpcError::new(codes::INVALID_ADDRESS_OR_KEY, "Error: Invalid address"))?;
                    let script = addr.script_pubkey();
                    let hashes = tokio::task::spawn_blocking(move || node.generate(count, &script, now()))
                        .await
                        .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?
                        .map_err(|e| RpcError::new(codes::MISC_ERROR, e))?;
                    Ok(json!(hashes))
                }
            }
        });
    drop(node);
    s
}
