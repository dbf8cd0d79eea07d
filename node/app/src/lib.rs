//! # p2share-app
//!
//! One node, started the same way by every front end — the `p2share-node` daemon, `run` (the
//! devnet) and the desktop app: an [`AppConfig`] in ([`config`]: typed, resolved from the TOML
//! file and flags), an [`App`] out — the node service, p2p, the miner under run-time control, the
//! optional API server and the optional embedded Bitcoin regtest chain ([`embedded`]) — with
//! the typed request layer ([`p2share_api::Api`]), one typed event stream, and a shutdown that
//! returns when everything is closed. Errors are typed ([`AppError`]). The library installs no
//! logger, builds no runtime, catches no signal and prints nothing; front ends share the run
//! loop across restarts ([`supervise`]) and the logger they install ([`logging`]).

pub mod app;
pub mod config;
pub mod devnet;
pub mod embedded;
pub mod error;
pub mod launcher;
pub mod logging;
pub mod stratum;
pub mod supervise;

pub use app::App;
pub use config::{ApiConfig, AppConfig, BitcoinConfig, LogConfig, MiningConfig, NodeConfig};
pub use error::AppError;
pub use launcher::{LaunchDefaults, Launcher};
pub use p2share_api::{Api, ApiError, LogBuffer};
