//! # p2share-rpc
//!
//! A JSON-RPC server over HTTP that behaves like Bitcoin Core's: HTTP Basic authentication with a
//! `.cookie` file (or a configured user and password), JSON-RPC 1.0-style replies for legacy
//! clients and JSON-RPC 2.0 replies for `"jsonrpc": "2.0"` requests, batches, Core's error codes
//! and HTTP statuses, and a body size limit. Services register methods; the server does the rest.
//!
//! Misbehaving clients get a clear error and the server keeps serving: malformed JSON
//! (`-32700`), a request that is not an object (`-32600`), an unknown method (`-32601`, HTTP
//! 404), missing or wrong credentials (HTTP 401), an oversized body (HTTP 413).

pub mod auth;
pub mod server;

pub use auth::{CookieFile, Credentials};
pub use server::{to_raw, Authorizer, Dispatcher, Handler, RawHandler, RpcError, RpcServer};
