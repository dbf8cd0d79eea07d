//! Running a node across restarts, the same way for every front end: start the config, wait
//! until the front end's stop (a signal, the tray's Quit, the API's `stop`) or a new setup from
//! the dashboard, shut down, and start the launcher's config after a restart.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use p2share_api::Shutdown;
use tokio::sync::watch;

use crate::{App, AppConfig, AppError, LaunchDefaults, Launcher};

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The front end's own stop: a signal (`SIGINT`, `SIGTERM`), the tray's Quit.
    Signal(&'static str),
    /// The API's `stop`.
    Api,
    /// A new setup or settings: start again.
    Restart,
}

impl Stopped {
    /// What `stop` asked for: [`Stopped::Restart`] or [`Stopped::Api`]; `None` while it asks
    /// nothing.
    pub fn from_shutdown(s: Shutdown) -> Option<Stopped> {
        match s {
            Shutdown::None => None,
            Shutdown::Restart => Some(Stopped::Restart),
            Shutdown::Stop => Some(Stopped::Api),
        }
    }
}

/// Resolves when the API's `stop` asks for a stop or a restart (never, once its sender is gone).
pub async fn api_stop(mut stop: watch::Receiver<Shutdown>) -> Stopped {
    // The watch's guard must not live across an await (it is not `Send`): copy the value out.
    let asked = stop.wait_for(|s| *s != Shutdown::None).await.map(|s| *s);
    match asked {
        Ok(s) => Stopped::from_shutdown(s).unwrap_or(Stopped::Api),
        Err(_) => std::future::pending::<Stopped>().await,
    }
}

/// The launcher of the nodes under `root`, with `first`'s addresses and threads as defaults.
pub fn launcher_for(root: &Path, first: &AppConfig) -> Launcher {
    let any = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Launcher::new(
        root,
        LaunchDefaults {
            api_bind: first.api.as_ref().map(|a| a.bind),
            listen: first.node.listen.first().cloned().unwrap_or_else(|| {
                p2share_p2p::Multiaddr::from(std::net::Ipv4Addr::UNSPECIFIED)
                    .with(p2share_p2p::Protocol::Tcp(29333))
            }),
            threads: first.mining.threads,
            stratum_bind: first.mining.stratum.as_ref().map(|s| s.bind),
            bitcoin_rpc_bind: any(18443),
            esplora_bind: any(3002),
            block_target_ratio: 30,
            log: first.log.clone(),
            devnet_datadir: None,
        },
    )
}

/// Starts `first`, then whatever the launcher's setup says after each restart, until `until`
/// (given the run's API stop) resolves to anything but [`Stopped::Restart`]. `started` hears
/// each run once it is up; every run shuts down completely before the next starts.
///
/// # Errors
/// The [`AppError`] of a run that failed to start.
pub async fn supervise<U, F>(
    first: AppConfig,
    launcher: Arc<Launcher>,
    mut started: impl FnMut(&App, &AppConfig),
    mut until: U,
) -> Result<(), AppError>
where
    U: FnMut(watch::Receiver<Shutdown>) -> F,
    F: Future<Output = Stopped>,
{
    // One set of browser sessions for every run: a dashboard stays logged in across restarts.
    let sessions = first.sessions.clone().unwrap_or_default();
    let mut next = Some(first.clone());
    loop {
        let mut config = match next.take() {
            Some(c) => c,
            None => launcher
                .config(first.logs.clone())?
                .unwrap_or_else(|| first.clone()),
        };
        config.sessions = Some(sessions.clone());
        launcher.set_current(&config);
        let app = App::start_supervised(config.clone(), Some(launcher.clone())).await?;
        started(&app, &config);
        let why = until(app.shutdown_requested()).await;
        match why {
            Stopped::Signal(name) => tracing::info!("{name}: shutting down"),
            Stopped::Api => tracing::info!("stop requested over the API"),
            Stopped::Restart => tracing::info!("restarting on the new setup"),
        }
        app.shutdown().await;
        if why != Stopped::Restart {
            return Ok(());
        }
    }
}
