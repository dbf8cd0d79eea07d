//! The `p2share-node` daemon: resolves the config, installs the loggers, builds the runtime,
//! starts the [`App`] and waits for SIGINT, SIGTERM or the API's `stop`. A new setup from the
//! dashboard (`setup`, `setsettings`) restarts it on the launcher's config.

use std::sync::Arc;

use p2share_app::config::{default_data_root, resolve, AppConfig, Flags};
use p2share_app::{App, AppError, LaunchDefaults, Launcher};

use crate::logging::init_logging;
use crate::signals::{until_stopped, Stopped};

/// The launcher of the nodes under `root`, with `first`'s addresses and threads as defaults.
pub fn launcher_for(root: &std::path::Path, first: &AppConfig) -> Launcher {
    let any = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Launcher::new(
        root,
        LaunchDefaults {
            api_bind: first.api.as_ref().map_or(any(29332), |a| a.bind),
            listen: first.node.listen.first().cloned().unwrap_or_else(|| {
                p2share_p2p::Multiaddr::from(std::net::Ipv4Addr::UNSPECIFIED)
                    .with(p2share_p2p::Protocol::Tcp(29333))
            }),
            threads: first.mining.threads,
            bitcoin_rpc_bind: any(18443),
            esplora_bind: any(3002),
            block_target_ratio: 30,
            log: first.log.clone(),
            devnet_datadir: None,
        },
    )
}

/// Starts `first`, then whatever the launcher's setup says after each restart, until a stop.
///
/// # Errors
/// A message naming what failed.
pub async fn supervise(
    first: AppConfig,
    launcher: Arc<Launcher>,
    announce: impl Fn(&App, &AppConfig),
) -> Result<(), String> {
    // One set of browser sessions for every run: a dashboard stays logged in across restarts.
    let sessions = first.sessions.clone().unwrap_or_default();
    let mut next = Some(first.clone());
    loop {
        let mut config = match next.take() {
            Some(c) => c,
            None => launcher
                .config(first.logs.clone())
                .map_err(|e| e.to_string())?
                .unwrap_or_else(|| first.clone()),
        };
        config.sessions = Some(sessions.clone());
        launcher.set_current(&config);
        let app = App::start_supervised(config.clone(), Some(launcher.clone()))
            .await
            .map_err(|e| e.to_string())?;
        announce(&app, &config);
        let why = until_stopped(app.shutdown_requested()).await;
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

/// Runs the daemon.
///
/// # Errors
/// A message naming what failed.
pub fn run(flags: &Flags) -> Result<(), String> {
    let first = resolve(flags).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&first.node.datadir).map_err(|e| {
        AppError::DataDir {
            path: first.node.datadir.clone(),
            reason: e.to_string(),
        }
        .to_string()
    })?;
    let _guard = init_logging(&first.log, &first.node.datadir, &first.logs)?;
    let root = flags.datadir.clone().unwrap_or_else(default_data_root);
    let launcher = Arc::new(launcher_for(&root, &first));
    // A setup made from the dashboard before wins over the flags' defaults, unless the
    // command line names a network or a config file.
    let first = if flags.network.is_none() && flags.config.is_none() {
        launcher
            .config(first.logs.clone())
            .map_err(|e| e.to_string())?
            .unwrap_or(first)
    } else {
        first
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(supervise(first, launcher, |app, config| {
        let datadir = &config.node.datadir;
        let auth = match config.api.as_ref().and_then(|a| a.credentials.as_ref()) {
            Some((user, _)) => format!("user {user}"),
            None => format!("cookie {}", datadir.join(".cookie").display()),
        };
        let network = &config.node.params.name;
        match app.api_addr {
            Some(addr) => eprintln!(
                "p2share node on {network} — dashboard and API http://{addr} ({auth}), data {}",
                datadir.display()
            ),
            None => eprintln!(
                "p2share node on {network} — no API, data {}",
                datadir.display()
            ),
        }
    }));
    // A long-polling `getblocktemplate` may still wait on a blocking thread.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
