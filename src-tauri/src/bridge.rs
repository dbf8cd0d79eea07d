//! The one event bridge: every node event goes to the webview as `node://event` (exactly what
//! the WebSocket's `event` notification carries), a lag as `node://lagged`, the node's state as
//! `node://state`; the same events drive the tray and the notifications through a [`Shell`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use p2share_api::Api;
use p2share_service::NodeEvent;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::host::{Host, RunState};
use crate::notices::{Notices, TrayView};
use crate::shell::Shell;

/// The event carrying each [`NodeEvent`].
pub const NODE_EVENT: &str = "node://event";
/// The event saying how many events the webview missed (re-read state).
pub const LAGGED_EVENT: &str = "node://lagged";
/// The event carrying each [`crate::host::NodeRunState`].
pub const STATE_EVENT: &str = "node://state";

/// How often the tray's odds and the won-block check are refreshed at most.
pub const REFRESH: Duration = Duration::from_secs(5);

#[derive(Clone, Serialize)]
struct Lagged {
    missed: u64,
}

/// Forwards the node's state to the webview and the tray for as long as the app runs.
pub async fn forward_state<R: Runtime>(app: AppHandle<R>, host: Host, shell: Arc<dyn Shell>) {
    let mut rx = host.watch_state();
    loop {
        let state = rx.borrow_and_update().clone();
        let _ = app.emit(STATE_EVENT, &state);
        if state.state == RunState::Failed {
            shell.show(&TrayView {
                failed: state.error.clone(),
                ..TrayView::default()
            });
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Forwards one run's events until the run ends (its events close, or the node leaves
/// `running`), updating the tray and notifying through `shell`.
pub async fn forward_events<R: Runtime>(
    app: AppHandle<R>,
    api: Api,
    mut events: broadcast::Receiver<NodeEvent>,
    host: Host,
    shell: Arc<dyn Shell>,
) {
    let mut state = host.watch_state();
    let mine = api
        .node_info()
        .await
        .mining_address
        .and_then(|a| api.script_of(&a).ok());
    let mut notices = Notices::default();
    let mining = api.mining().state().await;
    let mut view = TrayView {
        mining: mining.mining,
        ..TrayView::default()
    };
    let mut tick = tokio::time::interval(REFRESH);
    // The first tick learns the blocks already there and the odds.
    let mut chain_moved = true;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) => {
                    let _ = app.emit(NODE_EVENT, &e);
                    if let Some(n) = notices.on_event(&e, Instant::now()) {
                        shell.notify(&n);
                    }
                    match &e {
                        NodeEvent::Hashrate(h) => {
                            view.hashrate = h.hashrate;
                            shell.show(&view);
                        }
                        NodeEvent::Mining(m) => {
                            view.mining = m.mining;
                            if !m.mining {
                                view.hashrate = 0.0;
                            }
                            shell.show(&view);
                        }
                        NodeEvent::Tip { .. } => chain_moved = true,
                        _ => {}
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    let _ = app.emit(LAGGED_EVENT, Lagged { missed: n });
                    chain_moved = true;
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                if let Some(n) = notices.flush(Instant::now()) {
                    shell.notify(&n);
                }
                if std::mem::take(&mut chain_moved) {
                    if let Some(script) = &mine {
                        let odds = api.odds(script).await;
                        view.odds = (odds.n > 0).then_some(odds.chance_next_block);
                    }
                    if let Ok(blocks) = api.bitcoin_blocks(20).await {
                        for n in notices.on_blocks(&blocks) {
                            shell.notify(&n);
                        }
                    }
                    shell.show(&view);
                }
            }
            changed = state.changed() => {
                if changed.is_err() || state.borrow().state != RunState::Running {
                    return;
                }
            }
        }
    }
}
