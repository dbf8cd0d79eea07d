//! The JSON-RPC server: method registry, dispatch, Bitcoin Core's HTTP conventions.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::auth::Credentials;

/// Bitcoin Core's JSON-RPC error codes used by the server itself.
pub mod codes {
    /// Malformed JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Parameters of the wrong number or type.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal failure.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Bitcoin Core's `RPC_MISC_ERROR`.
    pub const MISC_ERROR: i64 = -1;
    /// Bitcoin Core's `RPC_TYPE_ERROR`.
    pub const TYPE_ERROR: i64 = -3;
    /// Bitcoin Core's `RPC_INVALID_ADDRESS_OR_KEY` (also "not found").
    pub const INVALID_ADDRESS_OR_KEY: i64 = -5;
    /// Bitcoin Core's `RPC_INVALID_PARAMETER`.
    pub const INVALID_PARAMETER: i64 = -8;
    /// Bitcoin Core's `RPC_DESERIALIZATION_ERROR`.
    pub const DESERIALIZATION_ERROR: i64 = -22;
    /// Bitcoin Core's `RPC_VERIFY_REJECTED`.
    pub const VERIFY_REJECTED: i64 = -26;
}

/// An error a method returns: a JSON-RPC code and a message for the caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("error {code}: {message}")]
pub struct RpcError {
    /// JSON-RPC / Bitcoin Core error code.
    pub code: i64,
    /// What was wrong, for the caller.
    pub message: String,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// Parameters of the wrong number or type (`-32602`... Bitcoin Core uses `-1`/`-3`/`-8`
    /// for specific cases; methods choose).
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::INVALID_PARAMS, message)
    }

    /// Reads positional parameter `index` of `params` (an array, or `null` for none).
    ///
    /// # Errors
    /// [`codes::TYPE_ERROR`] when present with the wrong type; `Ok(None)` when absent or null.
    pub fn param<T: serde::de::DeserializeOwned>(
        params: &Value,
        index: usize,
        name: &str,
    ) -> Result<Option<T>, RpcError> {
        let value = match params {
            Value::Array(items) => items.get(index),
            Value::Object(map) => map.get(name),
            _ => None,
        };
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| RpcError::new(codes::TYPE_ERROR, format!("parameter {name}: {e}"))),
        }
    }

    /// Reads a required positional parameter.
    ///
    /// # Errors
    /// [`codes::INVALID_PARAMS`] when missing, [`codes::TYPE_ERROR`] for a wrong type.
    pub fn required<T: serde::de::DeserializeOwned>(
        params: &Value,
        index: usize,
        name: &str,
    ) -> Result<T, RpcError> {
        Self::param(params, index, name)?.ok_or_else(|| {
            RpcError::invalid_params(format!("missing parameter {name} (position {index})"))
        })
    }
}

/// A boxed future answering one call.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// A method implementation: parameters in, result or error out.
pub trait Handler: Send + Sync + 'static {
    /// Handles one call.
    fn call(&self, params: Value) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
{
    fn call(&self, params: Value) -> HandlerFuture {
        Box::pin(self(params))
    }
}

/// A boxed future answering one call with its result already serialized.
pub type RawHandlerFuture = Pin<Box<dyn Future<Output = Result<Box<RawValue>, RpcError>> + Send>>;

/// A method whose result is serialized JSON (a typed answer written once, with no
/// intermediate [`Value`] tree).
pub trait RawHandler: Send + Sync + 'static {
    /// Handles one call.
    fn call(&self, params: Value) -> RawHandlerFuture;
}

impl<F, Fut> RawHandler for F
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<RawValue>, RpcError>> + Send + 'static,
{
    fn call(&self, params: Value) -> RawHandlerFuture {
        Box::pin(self(params))
    }
}

/// A registered method.
#[derive(Clone)]
enum Entry {
    Json(Arc<dyn Handler>),
    Raw(Arc<dyn RawHandler>),
}

/// A method's result: a JSON value, or JSON text.
enum Answer {
    Json(Value),
    Raw(Box<RawValue>),
}

/// Serializes `value` for a [`RawHandler`].
///
/// # Errors
/// [`codes::INTERNAL_ERROR`] when it cannot be serialized.
pub fn to_raw<T: serde::Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, RpcError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))
}

/// Largest request body accepted by default (Bitcoin Core accepts large `submitblock` bodies).
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

/// Another way to authorize a request (a browser session cookie, say), beside the credentials.
pub type Authorizer = Arc<dyn Fn(&HeaderMap) -> bool + Send + Sync>;

/// A JSON-RPC server under construction.
pub struct RpcServer {
    methods: HashMap<String, Entry>,
    credentials: Credentials,
    max_body: usize,
    also: Option<Authorizer>,
}

impl std::fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.methods.keys().collect();
        names.sort();
        f.debug_struct("RpcServer")
            .field("methods", &names)
            .field("max_body", &self.max_body)
            .finish()
    }
}

struct Shared {
    methods: HashMap<String, Entry>,
    credentials: Credentials,
    also: Option<Authorizer>,
}

/// The server's dispatcher without HTTP: JSON request bytes in, JSON reply out, as the HTTP
/// handler does after authentication (for in-process callers and benchmarks).
#[derive(Clone)]
pub struct Dispatcher(Arc<Shared>);

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// Answers one request body: the reply's JSON text (`None` for a notification).
    pub async fn call(&self, body: &[u8]) -> Option<String> {
        let request: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(
                    json!({"result": null, "error": error_object(codes::PARSE_ERROR, &format!("parse error: {e}")), "id": null})
                    .to_string(),
                )
            }
        };
        dispatch(&self.0, request).await.map(|(_, v)| v)
    }
}

impl RpcServer {
    /// A server that accepts requests carrying `credentials`.
    pub fn new(credentials: Credentials) -> RpcServer {
        RpcServer {
            methods: HashMap::new(),
            credentials,
            max_body: DEFAULT_MAX_BODY,
            also: None,
        }
    }

    /// Also accepts requests for which `authorizer` answers `true` (checked after the
    /// credentials).
    pub fn authorize_also(mut self, authorizer: Authorizer) -> RpcServer {
        self.also = Some(authorizer);
        self
    }

    /// The dispatcher, for calls without HTTP.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher(Arc::new(Shared {
            methods: self.methods.clone(),
            credentials: self.credentials.clone(),
            also: self.also.clone(),
        }))
    }

    /// Registers `name`.
    pub fn method(mut self, name: &str, handler: impl Handler) -> RpcServer {
        self.methods
            .insert(name.to_string(), Entry::Json(Arc::new(handler)));
        self
    }

    /// Registers `name` with a handler that answers serialized JSON ([`to_raw`]).
    pub fn method_raw(mut self, name: &str, handler: impl RawHandler) -> RpcServer {
        self.methods
            .insert(name.to_string(), Entry::Raw(Arc::new(handler)));
        self
    }

    /// The registered method names, sorted.
    pub fn method_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.methods.keys().cloned().collect();
        names.sort();
        names
    }

    /// Sets the largest accepted body, in bytes.
    pub fn max_body(mut self, bytes: usize) -> RpcServer {
        self.max_body = bytes;
        self
    }

    /// The HTTP router (`POST /`), to serve or to merge into a larger router.
    pub fn router(self) -> Router {
        let shared = Arc::new(Shared {
            methods: self.methods,
            credentials: self.credentials,
            also: self.also,
        });
        Router::new()
            .route("/", post(handle))
            .layer(DefaultBodyLimit::max(self.max_body))
            .with_state(shared)
    }

    /// Serves on `listener` until `shutdown` completes.
    ///
    /// # Errors
    /// I/O errors of the listener.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn error_object(code: i64, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// One reply's JSON text, and the HTTP status a legacy (JSON-RPC 1.0) client expects for it.
fn reply(version2: bool, id: Value, outcome: Result<Answer, RpcError>) -> (StatusCode, String) {
    match outcome {
        Ok(Answer::Raw(raw)) if version2 => (
            StatusCode::OK,
            format!(r#"{{"jsonrpc":"2.0","result":{},"id":{id}}}"#, raw.get()),
        ),
        Ok(Answer::Raw(raw)) => (
            StatusCode::OK,
            format!(r#"{{"result":{},"error":null,"id":{id}}}"#, raw.get()),
        ),
        Ok(Answer::Json(result)) if version2 => (
            StatusCode::OK,
            json!({"jsonrpc": "2.0", "result": result, "id": id}).to_string(),
        ),
        Ok(Answer::Json(result)) => (
            StatusCode::OK,
            json!({"result": result, "error": null, "id": id}).to_string(),
        ),
        Err(e) => {
            let status = if e.code == codes::METHOD_NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            let error = error_object(e.code, &e.message);
            if version2 {
                (
                    StatusCode::OK,
                    json!({"jsonrpc": "2.0", "error": error, "id": id}).to_string(),
                )
            } else {
                (
                    status,
                    json!({"result": null, "error": error, "id": id}).to_string(),
                )
            }
        }
    }
}

async fn dispatch(shared: &Shared, request: Value) -> Option<(StatusCode, String)> {
    let Value::Object(mut obj) = request else {
        return Some(reply(
            false,
            Value::Null,
            Err(RpcError::new(
                codes::INVALID_REQUEST,
                "request must be a JSON object",
            )),
        ));
    };
    let version2 = obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let is_notification = version2 && !obj.contains_key("id");
    let id = obj.remove("id").unwrap_or(Value::Null);
    let outcome = match obj.remove("method") {
        Some(Value::String(method)) => {
            let params = match obj.remove("params") {
                None | Some(Value::Null) => Value::Array(Vec::new()),
                Some(p @ (Value::Array(_) | Value::Object(_))) => p,
                Some(_) => {
                    return Some(reply(
                        version2,
                        id,
                        Err(RpcError::new(
                            codes::INVALID_REQUEST,
                            "params must be an array or an object",
                        )),
                    ));
                }
            };
            match shared.methods.get(&method) {
                Some(entry) => {
                    let started = std::time::Instant::now();
                    let out = match entry {
                        Entry::Json(h) => h.call(params).await.map(Answer::Json),
                        Entry::Raw(h) => h.call(params).await.map(Answer::Raw),
                    };
                    tracing::debug!(%method, elapsed_ms = started.elapsed().as_millis() as u64, ok = out.is_ok(), "rpc call");
                    out
                }
                None => Err(RpcError::new(
                    codes::METHOD_NOT_FOUND,
                    format!("method not found: {method}"),
                )),
            }
        }
        Some(_) => Err(RpcError::new(
            codes::INVALID_REQUEST,
            "method must be a string",
        )),
        None => Err(RpcError::new(codes::INVALID_REQUEST, "missing method")),
    };
    if is_notification {
        return None;
    }
    Some(reply(version2, id, outcome))
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !shared.credentials.accepts(auth) && !shared.also.as_ref().is_some_and(|f| f(&headers)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"jsonrpc\"")],
            "",
        )
            .into_response();
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let body = json!({"result": null, "error": error_object(codes::PARSE_ERROR, &format!("parse error: {e}")), "id": null});
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        }
    };
    match request {
        Value::Array(items) => {
            if items.is_empty() {
                let body = json!({"result": null, "error": error_object(codes::INVALID_REQUEST, "empty batch"), "id": null});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            let mut replies = Vec::with_capacity(items.len());
            for item in items {
                if let Some((_, r)) = dispatch(&shared, item).await {
                    replies.push(r);
                }
            }
            json_text(StatusCode::OK, format!("[{}]", replies.join(",")))
        }
        single => match dispatch(&shared, single).await {
            Some((status, body)) => json_text(status, body),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    }
}

fn json_text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
