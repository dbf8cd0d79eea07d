//! The Esplora REST subset served by the embedded regtest mainchain: what `esplora-client`
//! (and so `bdk_esplora`) and p2share's own wallet client use.
//!
//! Shapes follow Esplora's JSON (`txid`, `vin[].prevout`, `status`, …); lookups that find
//! nothing answer 404 with a plain-text reason; malformed path parameters answer 400.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{BlockHash, OutPoint, Transaction, Txid};
use p2share_regtest::{RegtestNode, ScriptHash};

use super::NodeView;
use serde_json::{json, Value};

type Shared = Arc<RegtestNode>;

/// The Esplora routes over `node`.
pub fn router(node: Shared) -> Router {
    Router::new()
        .route("/blocks/tip/height", get(tip_height))
        .route("/blocks/tip/hash", get(tip_hash))
        .route("/blocks", get(recent_blocks))
        .route("/block-height/{height}", get(block_at_height))
        .route("/block/{hash}", get(block_info))
        .route("/block/{hash}/header", get(block_header))
        .route("/block/{hash}/status", get(block_status))
        .route("/block/{hash}/raw", get(block_raw))
        .route("/tx", post(broadcast))
        .route("/tx/{txid}", get(tx_json))
        .route("/tx/{txid}/hex", get(tx_hex))
        .route("/tx/{txid}/raw", get(tx_raw))
        .route("/tx/{txid}/status", get(tx_status))
        .route("/tx/{txid}/outspends", get(outspends))
        .route("/tx/{txid}/outspend/{vout}", get(outspend))
        .route("/scripthash/{hash}/txs", get(script_txs))
        .route(
            "/scripthash/{hash}/txs/chain/{last_seen}",
            get(script_txs_after),
        )
        .route("/scripthash/{hash}/utxo", get(script_utxos))
        .route("/fee-estimates", get(fee_estimates))
        .with_state(node)
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, message.into()).into_response()
}

fn not_found(message: impl Into<String>) -> Response {
    (StatusCode::NOT_FOUND, message.into()).into_response()
}

/// A malformed path parameter: answered with 400 and the reason.
type BadParam = (StatusCode, String);

fn bad_param(message: String) -> BadParam {
    (StatusCode::BAD_REQUEST, message)
}

fn parse_hash(s: &str) -> Result<BlockHash, BadParam> {
    s.parse()
        .map_err(|_| bad_param(format!("invalid block hash {s:?}")))
}

fn parse_txid(s: &str) -> Result<Txid, BadParam> {
    s.parse()
        .map_err(|_| bad_param(format!("invalid txid {s:?}")))
}

fn parse_script_hash(s: &str) -> Result<ScriptHash, BadParam> {
    let bytes: [u8; 32] = bitcoin::hex::FromHex::from_hex(s)
        .map_err(|_| bad_param(format!("invalid script hash {s:?}")))?;
    Ok(ScriptHash::from_byte_array(bytes))
}

async fn tip_height(State(node): State<Shared>) -> String {
    node.chain().tip().height.to_string()
}

async fn tip_hash(State(node): State<Shared>) -> String {
    node.chain().tip().hash.to_string()
}

async fn block_at_height(State(node): State<Shared>, Path(height): Path<String>) -> Response {
    let Ok(h) = height.parse::<u32>() else {
        return bad_request(format!("invalid height {height:?}"));
    };
    match node.chain().block_hash(h) {
        Some(hash) => hash.to_string().into_response(),
        None => not_found("Block not found"),
    }
}

fn block_summary(node: &RegtestNode, hash: &BlockHash) -> Option<Value> {
    let info = node.chain().header(hash)?;
    let block = node.chain().block(hash)?;
    let h = &info.header;
    Some(json!({
        "id": hash,
        "height": info.height,
        "version": h.version.to_consensus(),
        "timestamp": h.time,
        "tx_count": block.txdata.len(),
        "size": block.total_size(),
        "weight": block.weight().to_wu(),
        "merkle_root": h.merkle_root,
        "previousblockhash": if info.height == 0 { Value::Null } else { json!(h.prev_blockhash) },
        "mediantime": info.median_time_past,
        "nonce": h.nonce,
        "bits": h.bits.to_consensus(),
        "difficulty": h.difficulty_float(),
    }))
}

async fn recent_blocks(State(node): State<Shared>) -> Json<Value> {
    let tip = node.chain().tip().height;
    let blocks: Vec<Value> = (0..10u32)
        .filter_map(|i| tip.checked_sub(i))
        .filter_map(|h| node.chain().block_hash(h))
        .filter_map(|hash| block_summary(&node, &hash))
        .collect();
    Json(Value::Array(blocks))
}

async fn block_info(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    match block_summary(&node, &hash) {
        Some(v) => Json(v).into_response(),
        None => not_found("Block not found"),
    }
}

async fn block_header(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    match node.chain().header(&hash) {
        Some(info) => serialize_hex(&info.header).into_response(),
        None => not_found("Block not found"),
    }
}

async fn block_status(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    let Some(info) = node.chain().header(&hash) else {
        return not_found("Block not found");
    };
    let next = info
        .in_active_chain
        .then(|| node.chain().block_hash(info.height + 1))
        .flatten();
    Json(json!({
        "in_best_chain": info.in_active_chain,
        "height": info.in_active_chain.then_some(info.height),
        "next_best": next,
    }))
    .into_response()
}

async fn block_raw(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    match node.chain().block(&hash) {
        Some(b) => bitcoin::consensus::encode::serialize(&b).into_response(),
        None => not_found("Block not found"),
    }
}

/// A transaction known to the node: confirmed (with its block) or in the mempool.
fn lookup_tx(node: &RegtestNode, txid: &Txid) -> Option<(Transaction, Value)> {
    if let Some((tx, loc)) = node.chain().transaction(txid) {
        let time = node
            .chain()
            .header(&loc.block_hash)
            .map(|h| h.header.time)
            .unwrap_or(0);
        let status = json!({"confirmed": true, "block_height": loc.height, "block_hash": loc.block_hash, "block_time": time});
        return Some((tx, status));
    }
    node.mempool_transaction(txid)
        .map(|tx| (tx, json!({"confirmed": false})))
}

/// The output `op` spends, from the chain (spent or not) or the mempool.
fn prevout(node: &RegtestNode, op: &OutPoint) -> Option<bitcoin::TxOut> {
    if let Some(coin) = node.chain().utxo(op) {
        return Some(coin.output);
    }
    let (tx, _) = lookup_tx(node, &op.txid)?;
    tx.output.get(usize::try_from(op.vout).ok()?).cloned()
}

fn esplora_tx(node: &RegtestNode, tx: &Transaction, status: Value) -> Value {
    let coinbase = tx.is_coinbase();
    let mut fee: i64 = 0;
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|input| {
            let prev = if coinbase { None } else { prevout(node, &input.previous_output) };
            if let Some(p) = &prev {
                fee += i64::try_from(p.value.to_sat()).unwrap_or(0);
            }
            json!({
                "txid": input.previous_output.txid,
                "vout": input.previous_output.vout,
                "prevout": prev.map(|p| json!({"scriptpubkey": p.script_pubkey, "value": p.value.to_sat()})),
                "scriptsig": input.script_sig,
                "witness": input.witness,
                "is_coinbase": coinbase,
                "sequence": input.sequence.0,
            })
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .map(|o| {
            fee -= i64::try_from(o.value.to_sat()).unwrap_or(0);
            json!({"scriptpubkey": o.script_pubkey, "value": o.value.to_sat()})
        })
        .collect();
    json!({
        "txid": tx.compute_txid(),
        "version": tx.version.0,
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
        "size": tx.total_size(),
        "weight": tx.weight().to_wu(),
        "fee": if coinbase { 0 } else { fee.max(0) },
        "status": status,
    })
}

async fn tx_json(State(node): State<Shared>, Path(txid): Path<String>) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match lookup_tx(&node, &txid) {
        Some((tx, status)) => Json(esplora_tx(&node, &tx, status)).into_response(),
        None => not_found("Transaction not found"),
    }
}

async fn tx_hex(State(node): State<Shared>, Path(txid): Path<String>) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match lookup_tx(&node, &txid) {
        Some((tx, _)) => serialize_hex(&tx).into_response(),
        None => not_found("Transaction not found"),
    }
}

async fn tx_raw(State(node): State<Shared>, Path(txid): Path<String>) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match lookup_tx(&node, &txid) {
        Some((tx, _)) => bitcoin::consensus::encode::serialize(&tx).into_response(),
        None => not_found("Transaction not found"),
    }
}

async fn tx_status(State(node): State<Shared>, Path(txid): Path<String>) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match lookup_tx(&node, &txid) {
        Some((_, status)) => Json(status).into_response(),
        None => not_found("Transaction not found"),
    }
}

fn outspend_json(node: &RegtestNode, op: &OutPoint) -> Value {
    if let Some(s) = node.chain().spender(op) {
        let status = lookup_tx(node, &s.txid)
            .map(|(_, st)| st)
            .unwrap_or(json!({"confirmed": true}));
        return json!({"spent": true, "txid": s.txid, "vin": s.vin, "status": status});
    }
    if let Some((txid, vin)) = node.mempool_spender(op) {
        return json!({"spent": true, "txid": txid, "vin": vin, "status": {"confirmed": false}});
    }
    json!({"spent": false})
}

async fn outspends(State(node): State<Shared>, Path(txid): Path<String>) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let Some((tx, _)) = lookup_tx(&node, &txid) else {
        return not_found("Transaction not found");
    };
    let list: Vec<Value> = (0..tx.output.len() as u32)
        .map(|vout| outspend_json(&node, &OutPoint { txid, vout }))
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn outspend(
    State(node): State<Shared>,
    Path((txid, vout)): Path<(String, String)>,
) -> Response {
    let txid = match parse_txid(&txid) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let Ok(vout) = vout.parse::<u32>() else {
        return bad_request(format!("invalid vout {vout:?}"));
    };
    let Some((tx, _)) = lookup_tx(&node, &txid) else {
        return not_found("Transaction not found");
    };
    if vout as usize >= tx.output.len() {
        return not_found("Output not found");
    }
    Json(outspend_json(&node, &OutPoint { txid, vout })).into_response()
}

/// Esplora pages: up to 50 mempool transactions, then 25 confirmed per page, newest first.
fn script_page(node: &RegtestNode, hash: &ScriptHash, last_seen: Option<Txid>) -> Vec<Value> {
    let mut out = Vec::new();
    if last_seen.is_none() {
        for txid in node.mempool_script_txids(hash).into_iter().take(50) {
            if let Some((tx, status)) = lookup_tx(node, &txid) {
                out.push(esplora_tx(node, &tx, status));
            }
        }
    }
    let mut history = node.chain().script_history(hash);
    history.reverse();
    history.dedup_by_key(|e| e.txid);
    let start = match last_seen {
        Some(seen) => history
            .iter()
            .position(|e| e.txid == seen)
            .map(|p| p + 1)
            .unwrap_or(history.len()),
        None => 0,
    };
    for entry in history.iter().skip(start).take(25) {
        if let Some((tx, status)) = lookup_tx(node, &entry.txid) {
            out.push(esplora_tx(node, &tx, status));
        }
    }
    out
}

async fn script_txs(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_script_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    Json(Value::Array(script_page(&node, &hash, None))).into_response()
}

async fn script_txs_after(
    State(node): State<Shared>,
    Path((hash, last)): Path<(String, String)>,
) -> Response {
    let hash = match parse_script_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    let last = match parse_txid(&last) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    Json(Value::Array(script_page(&node, &hash, Some(last)))).into_response()
}

async fn script_utxos(State(node): State<Shared>, Path(hash): Path<String>) -> Response {
    let hash = match parse_script_hash(&hash) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    let mut list: Vec<Value> = node
        .chain()
        .script_utxos(&hash)
        .into_iter()
        .filter(|(op, _)| node.mempool_spender(op).is_none())
        .map(|(op, coin)| {
            let block_hash = node.chain().block_hash(coin.height);
            let time = block_hash.and_then(|h| node.chain().header(&h)).map(|h| h.header.time);
            json!({
                "txid": op.txid, "vout": op.vout, "value": coin.output.value.to_sat(),
                "status": {"confirmed": true, "block_height": coin.height, "block_hash": block_hash, "block_time": time},
            })
        })
        .collect();
    for (op, out) in node.mempool_script_outputs(&hash) {
        list.push(json!({"txid": op.txid, "vout": op.vout, "value": out.value.to_sat(), "status": {"confirmed": false}}));
    }
    Json(Value::Array(list)).into_response()
}

async fn broadcast(State(node): State<Shared>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return bad_request("body is not UTF-8 hex");
    };
    let tx: Transaction = match deserialize_hex(text.trim()) {
        Ok(tx) => tx,
        Err(e) => {
            return bad_request(format!(
            "sendrawtransaction RPC error: {{\"code\":-22,\"message\":\"TX decode failed: {e}\"}}"
        ))
        }
    };
    match node.send_raw_transaction(tx) {
        Ok(txid) => txid.to_string().into_response(),
        Err(reject) => bad_request(format!(
            "sendrawtransaction RPC error: {}",
            json!({"code": -26, "message": reject.to_string()})
        )),
    }
}

async fn fee_estimates(State(node): State<Shared>) -> Json<Value> {
    // Regtest has no fee market: the floor is the minimum relay fee, raised by what the mempool
    // holds above it for short targets.
    let floor = node.min_fee_rate_sat_vb();
    let mut map = serde_json::Map::new();
    for target in [1u32, 2, 3, 4, 5, 6, 10, 20, 144, 504, 1008] {
        map.insert(target.to_string(), json!(floor));
    }
    Json(Value::Object(map))
}
