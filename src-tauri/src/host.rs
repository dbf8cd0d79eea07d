//! The node inside the desktop app: the [`Host`] holds the running node's typed request layer
//! for the commands, says where the node stands ([`NodeRunState`]), and carries the app's quit
//! to the run loop ([`run_node`]), which shuts the node down completely before the app exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use p2share_api::{Api, ApiError};
use p2share_app::supervise::{api_stop, supervise, Stopped};
use p2share_app::{App, AppConfig, AppError, Launcher};
use serde::Serialize;
use tokio::sync::watch;
use ts_rs::TS;

use crate::settings::{SettingsError, SettingsStore};

/// A failed command as the UI receives it: the JSON-RPC code of the failure (docs/api.md §3)
/// and its message. Never carries a secret: messages are the API's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpcError {
    /// The JSON-RPC code; [`IpcError::NOT_RUNNING`] while the node is not running.
    pub code: i64,
    /// What failed.
    pub message: String,
}

impl IpcError {
    /// The UI's transport code: the node cannot be reached (starting, restarting, failed).
    pub const NOT_RUNNING: i64 = -100;
    /// Bitcoin Core's "misc error": the desktop side failed (a settings file, autostart).
    pub const MISC: i64 = -1;

    /// A desktop-side failure.
    pub fn misc(message: impl Into<String>) -> IpcError {
        IpcError {
            code: IpcError::MISC,
            message: message.into(),
        }
    }
}

impl From<ApiError> for IpcError {
    fn from(e: ApiError) -> IpcError {
        IpcError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<SettingsError> for IpcError {
    fn from(e: SettingsError) -> IpcError {
        IpcError::misc(e.to_string())
    }
}

/// Where the node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Starting (the first start).
    Starting,
    /// Running: commands reach it.
    Running,
    /// Shutting down to start again on a new setup.
    Restarting,
    /// Stopped (quitting, or stopped over the API).
    Stopped,
    /// It could not start; `error` says why.
    Failed,
}

/// Where the in-process node stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct NodeRunState {
    /// The state.
    #[ts(type = "\"starting\" | \"running\" | \"restarting\" | \"stopped\" | \"failed\"")]
    pub state: RunState,
    /// Why it failed (only with `failed`).
    pub error: Option<String>,
}

impl NodeRunState {
    fn of(state: RunState) -> NodeRunState {
        NodeRunState { state, error: None }
    }
}

struct Inner {
    api: RwLock<Option<Api>>,
    state: watch::Sender<NodeRunState>,
    quit: watch::Sender<bool>,
    settings: SettingsStore,
    launched: Instant,
    painted: OnceLock<Duration>,
    shut_down: AtomicBool,
}

/// The node as the desktop app sees it; cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl Host {
    /// A host with no node yet (state `starting`); `launched` is when the process started.
    pub fn new(settings: SettingsStore, launched: Instant) -> Host {
        Host {
            inner: Arc::new(Inner {
                api: RwLock::new(None),
                state: watch::Sender::new(NodeRunState::of(RunState::Starting)),
                quit: watch::Sender::new(false),
                settings,
                launched,
                painted: OnceLock::new(),
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    /// The running node's request layer.
    ///
    /// # Errors
    /// [`IpcError::NOT_RUNNING`] while it is starting, restarting, stopped or failed.
    pub fn api(&self) -> Result<Api, IpcError> {
        let api = self.inner.api.read().unwrap_or_else(|p| p.into_inner());
        api.clone().ok_or_else(|| {
            let s = self.state();
            IpcError {
                code: IpcError::NOT_RUNNING,
                message: match s.error {
                    Some(e) => format!("the node failed to start: {e}"),
                    None => format!("the node is not running ({})", label(s.state)),
                },
            }
        })
    }

    /// Where the node stands.
    pub fn state(&self) -> NodeRunState {
        self.inner.state.borrow().clone()
    }

    /// Follows the state.
    pub fn watch_state(&self) -> watch::Receiver<NodeRunState> {
        self.inner.state.subscribe()
    }

    /// The node is running with `api` (`Some`), or not (`None`) in `state`.
    pub fn set(&self, api: Option<Api>, state: NodeRunState) {
        *self.inner.api.write().unwrap_or_else(|p| p.into_inner()) = api;
        self.inner.state.send_replace(state);
    }

    /// The node could not even be configured: `failed` with `error`, and nothing left to shut
    /// down.
    pub fn fail(&self, error: String) {
        self.set(
            None,
            NodeRunState {
                state: RunState::Failed,
                error: Some(error),
            },
        );
        self.inner.shut_down.store(true, Ordering::SeqCst);
    }

    /// Asks the run loop to shut the node down for good (the app is quitting).
    pub fn request_quit(&self) {
        self.inner.quit.send_replace(true);
    }

    /// Whether a quit was asked for.
    pub fn quitting(&self) -> bool {
        *self.inner.quit.borrow()
    }

    /// Resolves once a quit is asked for.
    pub async fn quit_requested(&self) {
        let mut rx = self.inner.quit.subscribe();
        if rx.wait_for(|q| *q).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Whether the node has shut down completely (the app may exit).
    pub fn shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::SeqCst)
    }

    /// The desktop settings.
    pub fn settings(&self) -> &SettingsStore {
        &self.inner.settings
    }

    /// Records the dashboard's first paint; returns the time from launch to it the first time.
    pub fn first_paint(&self) -> Option<Duration> {
        let elapsed = self.inner.launched.elapsed();
        let mut first = false;
        self.inner.painted.get_or_init(|| {
            first = true;
            elapsed
        });
        first.then_some(elapsed)
    }
}

fn label(s: RunState) -> &'static str {
    match s {
        RunState::Starting => "starting",
        RunState::Running => "running",
        RunState::Restarting => "restarting",
        RunState::Stopped => "stopped",
        RunState::Failed => "failed",
    }
}

/// Runs the node of `first` (then the launcher's after each new setup) until the app quits or
/// the API's `stop`, keeping `host` current; `started` hears each run once it is up. Returns
/// when the node has shut down completely.
///
/// # Errors
/// The run that failed to start; `host` says `failed` with the reason.
pub async fn run_node(
    host: Host,
    first: AppConfig,
    launcher: Arc<Launcher>,
    mut started: impl FnMut(&App),
) -> Result<(), AppError> {
    host.inner.shut_down.store(false, Ordering::SeqCst);
    host.set(None, NodeRunState::of(RunState::Starting));
    let on_start = {
        let host = host.clone();
        move |app: &App, _: &AppConfig| {
            host.set(Some(app.api.clone()), NodeRunState::of(RunState::Running));
            started(app);
        }
    };
    let until = {
        let host = host.clone();
        move |stop| {
            let host = host.clone();
            async move {
                let why = tokio::select! {
                    s = api_stop(stop) => s,
                    () = host.quit_requested() => Stopped::Signal("quit"),
                };
                let next = if why == Stopped::Restart {
                    RunState::Restarting
                } else {
                    RunState::Stopped
                };
                host.set(None, NodeRunState::of(next));
                why
            }
        }
    };
    let result = supervise(first, launcher, on_start, until).await;
    match &result {
        Ok(()) => {
            host.set(None, NodeRunState::of(RunState::Stopped));
            host.inner.shut_down.store(true, Ordering::SeqCst);
        }
        Err(e) => host.fail(e.to_string()),
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn host() -> (Host, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let settings = SettingsStore::open(SettingsStore::path_in(dir.path())).unwrap();
        (Host::new(settings, Instant::now()), dir)
    }

    #[test]
    fn without_a_node_commands_get_the_not_running_code_and_the_state() {
        let (host, _dir) = host();
        let e = host.api().err().unwrap();
        assert_eq!(e.code, IpcError::NOT_RUNNING);
        assert!(e.message.contains("starting"), "{}", e.message);
        host.set(
            None,
            NodeRunState {
                state: RunState::Failed,
                error: Some("API: 127.0.0.1:1 is in use".into()),
            },
        );
        let e = host.api().err().unwrap();
        assert!(e.message.contains("is in use"), "{}", e.message);
    }

    #[test]
    fn a_node_that_cannot_be_configured_fails_and_lets_the_app_exit() {
        let (host, _dir) = host();
        assert!(!host.shut_down(), "a starting node holds the exit");
        host.fail("--devnet \"x\": not a devnet id".into());
        assert_eq!(host.state().state, RunState::Failed);
        assert!(host.shut_down(), "nothing runs: quitting may exit at once");
        assert!(host
            .api()
            .err()
            .unwrap()
            .message
            .contains("not a devnet id"));
    }

    #[test]
    fn the_first_paint_is_recorded_once() {
        let (host, _dir) = host();
        assert!(host.first_paint().is_some());
        assert!(host.first_paint().is_none());
    }

    #[test]
    fn the_state_serializes_as_the_ui_expects() {
        let s = serde_json::to_value(NodeRunState::of(RunState::Restarting)).unwrap();
        assert_eq!(s, serde_json::json!({"state": "restarting", "error": null}));
    }
}
