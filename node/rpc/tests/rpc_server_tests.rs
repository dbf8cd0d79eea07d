//! The JSON-RPC server on real loopback HTTP: good calls, and every kind of bad call answered
//! clearly while the server keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use p2share_rpc::{CookieFile, RpcError, RpcServer};
use serde_json::{json, Value};

struct Running {
    url: String,
    user: String,
    password: String,
    _cookie: CookieFile,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let cookie = CookieFile::create(&dir.path().join(".cookie")).unwrap();
    let server = RpcServer::new(cookie.credentials().clone())
        .max_body(64 * 1024)
        .method("echo", |params: Value| async move { Ok(params) })
        .method("add", |params: Value| async move {
            let a: i64 = RpcError::required(&params, 0, "a")?;
            let b: i64 = RpcError::required(&params, 1, "b")?;
            Ok(json!(a + b))
        })
        .method("fail", |_params: Value| async move {
            Err(RpcError::new(-26, "txn-mempool-conflict"))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(server.serve(listener, async move {
        let _ = rx.await;
    }));
    Running {
        url,
        user: cookie.credentials().user().to_string(),
        password: cookie.credentials().password().to_string(),
        _cookie: cookie,
        _dir: dir,
        stop: Some(tx),
    }
}

async fn post(
    r: &Running,
    body: impl Into<reqwest::Body>,
    auth: Option<(&str, &str)>,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client.post(&r.url).body(body);
    if let Some((u, p)) = auth {
        req = req.basic_auth(u, Some(p));
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn call(r: &Running, body: Value) -> (u16, Value) {
    let (status, text) = post(r, body.to_string(), Some((&r.user, &r.password))).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn good_calls_get_results_in_either_dialect() {
    let r = start().await;
    let (s, v) = call(
        &r,
        json!({"jsonrpc": "1.0", "id": "x", "method": "add", "params": [2, 3]}),
    )
    .await;
    assert_eq!(
        (s, v),
        (200, json!({"result": 5, "error": null, "id": "x"}))
    );
    let (s, v) = call(
        &r,
        json!({"jsonrpc": "2.0", "id": 7, "method": "add", "params": {"a": 1, "b": 1}}),
    )
    .await;
    assert_eq!(
        (s, v),
        (200, json!({"jsonrpc": "2.0", "result": 2, "id": 7}))
    );
    let (s, v) = call(
        &r,
        json!([{"id": 1, "method": "add", "params": [1, 2]}, {"id": 2, "method": "nope"}]),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["result"], 3);
    assert_eq!(v[1]["error"]["code"], -32601);
    // A 2.0 notification gets no body.
    let (s, text) = post(
        &r,
        json!({"jsonrpc": "2.0", "method": "echo"}).to_string(),
        Some((&r.user, &r.password)),
    )
    .await;
    assert_eq!((s, text.as_str()), (204, ""));
}

#[tokio::test]
async fn bad_calls_are_answered_clearly_and_the_server_keeps_serving() {
    let r = start().await;
    // Credentials.
    let (s, _) = post(&r, "{}", None).await;
    assert_eq!(s, 401);
    let (s, _) = post(&r, "{}", Some((&r.user, "wrong"))).await;
    assert_eq!(s, 401);
    // Malformed JSON.
    let (s, text) = post(&r, "{\"method\": ", Some((&r.user, &r.password))).await;
    assert_eq!(s, 500);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], -32700);
    // Not an object; method not a string; params of the wrong shape.
    let (s, v) = call(&r, json!(42)).await;
    assert_eq!((s, v["error"]["code"].clone()), (500, json!(-32600)));
    let (_, v) = call(&r, json!({"id": 1, "method": 5})).await;
    assert_eq!(v["error"]["code"], -32600);
    let (_, v) = call(&r, json!({"id": 1, "method": "add", "params": "2,3"})).await;
    assert_eq!(v["error"]["code"], -32600);
    // Unknown method: 404 for legacy clients, 200 + error for 2.0.
    let (s, v) = call(&r, json!({"id": 1, "method": "getnothing"})).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["message"], "method not found: getnothing");
    let (s, v) = call(
        &r,
        json!({"jsonrpc": "2.0", "id": 1, "method": "getnothing"}),
    )
    .await;
    assert_eq!((s, v["error"]["code"].clone()), (200, json!(-32601)));
    // Wrong types and missing parameters.
    let (_, v) = call(&r, json!({"id": 1, "method": "add", "params": ["two", 3]})).await;
    assert_eq!(v["error"]["code"], -3);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("parameter a"));
    let (_, v) = call(&r, json!({"id": 1, "method": "add", "params": [1]})).await;
    assert_eq!(v["error"]["code"], -32602);
    // A method's own error keeps its code and message.
    let (s, v) = call(&r, json!({"id": 1, "method": "fail"})).await;
    assert_eq!(
        (s, v["error"].clone()),
        (500, json!({"code": -26, "message": "txn-mempool-conflict"}))
    );
    // Oversized body.
    let big = format!(
        "{{\"id\":1,\"method\":\"echo\",\"params\":[\"{}\"]}}",
        "a".repeat(70 * 1024)
    );
    let (s, _) = post(&r, big, Some((&r.user, &r.password))).await;
    assert_eq!(s, 413);
    // Still serving.
    let (s, v) = call(&r, json!({"id": 9, "method": "add", "params": [40, 2]})).await;
    assert_eq!((s, v["result"].clone()), (200, json!(42)));
}
