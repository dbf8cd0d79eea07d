//! # p2share-desktop
//!
//! The desktop app: the node library ([`p2share_app`]) started in-process — on a devnet by
//! default, mining within a minute of the first launch, with no external node — and the
//! dashboard (`ui/dist`, embedded) in a Tauri 2 window that talks to it over IPC: the commands
//! are one-line calls into the typed request layer ([`commands`]), the events one bridge
//! ([`bridge`]). Around it: a tray with the hashrate, the odds, start/stop mining and quit;
//! desktop notifications; one instance at a time; the window's size and position remembered;
//! start with the system, start minimized and close to the tray ([`settings`]). Quitting shuts
//! the node down completely before the process exits.

pub mod bindings;
pub mod bridge;
pub mod commands;
pub mod host;
pub mod notices;
pub mod settings;
pub mod shell;
mod start;

include!("command_names.rs");

pub use host::{Host, IpcError, NodeRunState, RunState};
pub use start::{run, Args};
