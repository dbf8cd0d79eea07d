//! # p2share-api
//!
//! The node's API: a typed request layer ([`Api`]: one async method per request, typed
//! responses in [`types`], typed errors [`ApiError`]) and its adapters — JSON-RPC 2.0 over HTTP
//! ([`rpc`]), a WebSocket of events ([`ws`]), the dashboard and its login, and Prometheus
//! metrics, all on one port ([`http::router`]). `docs/api.md` is the reference; the dashboard's
//! TypeScript types are generated from [`types`] ([`bindings`]).

pub mod bindings;
pub mod handle;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod rpc;
pub mod stratum;
pub mod types;
pub mod ws;

pub use handle::{
    address_network, mainchain_name, Api, ApiError, NodeFacts, Shutdown, Supervisor,
    MAX_BITCOIN_BLOCKS,
};
pub use logs::{LogBuffer, LogLayer};
