//! The WebSocket of events (`GET /ws`): every [`NodeEvent`] as a JSON-RPC notification, with
//! a `subscribe` call to filter by kind.

use axum::extract::ws::{Message, WebSocket};
use p2share_rpc::server::codes;
use p2share_service::NodeEvent;
use serde_json::{json, Value};

/// The event kinds, as `type` names them.
pub const EVENT_KINDS: &[&str] = &[
    "tip",
    "share",
    "transaction",
    "sync",
    "peers",
    "found_share",
    "bitcoin_block",
    "hashrate",
    "mining",
    "log",
    "stratum",
];

/// The kind of an event, as its `type` field names it.
pub fn event_kind(e: &NodeEvent) -> &'static str {
    match e {
        NodeEvent::Tip { .. } => "tip",
        NodeEvent::Share { .. } => "share",
        NodeEvent::Transaction { .. } => "transaction",
        NodeEvent::Sync(_) => "sync",
        NodeEvent::Peers { .. } => "peers",
        NodeEvent::FoundShare { .. } => "found_share",
        NodeEvent::BitcoinBlock(_) => "bitcoin_block",
        NodeEvent::Hashrate(_) => "hashrate",
        NodeEvent::Mining(_) => "mining",
        NodeEvent::Log(_) => "log",
        NodeEvent::Stratum(_) => "stratum",
    }
}

/// One WebSocket client: every event as a JSON-RPC notification `{"method":"event"}`, filtered
/// by an optional `subscribe` call naming the kinds wanted.
pub(crate) async fn ws_session(
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<NodeEvent>,
) {
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
                            .filter(|k| !EVENT_KINDS.contains(&k.as_str()))
                            .collect();
                        if unknown.is_empty() {
                            let r = json!({"jsonrpc": "2.0", "result": kinds, "id": v["id"]});
                            // An empty list means every kind, as before any subscribe.
                            wanted = (!kinds.is_empty()).then_some(kinds);
                            r
                        } else {
                            json!({"jsonrpc": "2.0", "error": {"code": codes::INVALID_PARAMS,
                                "message": format!("unknown event kinds {unknown:?}; known: {}", EVENT_KINDS.join(", "))}, "id": v["id"]})
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
