//! Starting the desktop app: the command line, the first config (the saved setup, else a
//! devnet), the Tauri app with its plugins, window, tray and bridges, and an exit that waits
//! for the node to shut down.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use p2share_app::config::{default_data_root, LogConfig};
use p2share_app::devnet::{devnet_config, DevnetOptions};
use p2share_app::supervise::launcher_for;
use p2share_app::{AppConfig, AppError, Launcher, LogBuffer};
use p2share_p2p::Multiaddr;
use tauri::{Manager, RunEvent, WindowEvent};

use crate::bridge;
use crate::host::{run_node, Host};
use crate::settings::SettingsStore;
use crate::shell::{show_main, Desktop, Shell, Tray, MAIN_WINDOW};

/// The desktop app's command line (all optional: a plain launch mines on a devnet).
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "p2share",
    version,
    about = "p2share: mine shares, hold them, watch your odds"
)]
pub struct Args {
    /// Data root (default: $XDG_DATA_HOME/p2share or ~/.local/share/p2share).
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Hasher threads (default: half the cores, so the desktop stays responsive).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Start without mining.
    #[arg(long)]
    pub no_mining: bool,
    /// Start hidden in the tray, whatever the settings say.
    #[arg(long)]
    pub minimized: bool,
    /// Sharechain listen address (a port in use falls back to any free port).
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/29333")]
    pub listen: String,
    /// Another devnet node to join (repeatable).
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// The devnet to join: `<genesis time>-<genesis bits in hex>`.
    #[arg(long)]
    pub devnet: Option<String>,
    /// Also serve the browser dashboard and the JSON-RPC API on this address (off by default).
    #[arg(long)]
    pub api_bind: Option<SocketAddr>,
    /// Stratum server for mining devices: an address, or `off` (a port in use falls back to
    /// any free port).
    #[arg(long, default_value = "0.0.0.0:3333")]
    pub stratum_bind: String,
    /// Log filter.
    #[arg(long, default_value = "info")]
    pub log_level: String,
}

/// The devnet the desktop starts on without a saved setup; `free_ports` puts every local
/// listener on a free port (when the usual ones are taken).
fn devnet_options(
    args: &Args,
    root: &std::path::Path,
    free_ports: bool,
) -> Result<DevnetOptions, AppError> {
    let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], if free_ports { 0 } else { port }));
    let listen: Multiaddr = if free_ports {
        "/ip4/0.0.0.0/tcp/0".parse()
    } else {
        args.listen.parse()
    }
    .map_err(|e| AppError::config("--listen", e))?;
    let half = p2share_app::config::default_threads().div_ceil(2);
    Ok(DevnetOptions {
        datadir: root.join("devnet"),
        threads: args.threads.unwrap_or(half).max(1),
        peers: args
            .peers
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|e| AppError::config("--peer", format!("{p:?}: {e}")))
            })
            .collect::<Result<_, _>>()?,
        join: args.devnet.clone(),
        listen,
        api_bind: args.api_bind,
        bitcoin_rpc_bind: local(18443),
        esplora_bind: local(3002),
        block_target_ratio: 30,
        mine: !args.no_mining,
        stratum_bind: p2share_app::config::parse_stratum_bind(
            "--stratum-bind",
            &args.stratum_bind,
        )?
        .map(|b| {
            if free_ports {
                SocketAddr::new(b.ip(), 0)
            } else {
                b
            }
        }),
        log: LogConfig {
            level: args.log_level.clone(),
            file: true,
            keep: 7,
        },
    })
}

/// The first config (the saved setup, else the devnet) and the launcher for restarts.
fn first_config(
    args: &Args,
    root: &std::path::Path,
    logs: &LogBuffer,
    free_ports: bool,
) -> Result<(AppConfig, Arc<Launcher>), AppError> {
    let (devnet, _) = devnet_config(&devnet_options(args, root, free_ports)?, logs.clone())?;
    let launcher = Arc::new(launcher_for(root, &devnet));
    let first = match launcher.config(logs.clone())? {
        Some(saved) if args.devnet.is_none() && args.peers.is_empty() => saved,
        _ => devnet,
    };
    Ok((first, launcher))
}

/// Runs the desktop app until Quit; `launched` is when the process started.
///
/// # Errors
/// What kept the app from starting (a broken settings file, no display, a bad flag).
pub fn run(args: Args, launched: Instant) -> Result<(), String> {
    let root = args.datadir.clone().unwrap_or_else(default_data_root);
    std::fs::create_dir_all(&root).map_err(|e| format!("data root {}: {e}", root.display()))?;
    let settings = SettingsStore::open(SettingsStore::path_in(&root)).map_err(|e| e.to_string())?;
    let logs = LogBuffer::new();
    let log = devnet_options(&args, &root, false)
        .map_err(|e| e.to_string())?
        .log;
    let _guard = p2share_app::logging::init_logging(&log, &root, &logs, "p2share-desktop")?;
    let start_hidden = args.minimized || settings.get().start_minimized;
    let host = Host::new(settings, launched);

    let app = tauri::Builder::default()
        // First: a second launch only brings this one's window up.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| show_main(app)))
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::Builder::new().build())
        .manage(host.clone())
        .invoke_handler(crate::commands::handler())
        .setup(move |app| {
            let config = app
                .config()
                .app
                .windows
                .iter()
                .find(|w| w.label == MAIN_WINDOW)
                .cloned()
                .ok_or("tauri.conf.json has no main window")?;
            let window = tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
            if !start_hidden {
                window.show()?;
            }
            let handle = app.handle().clone();
            let tray = match Tray::build(&handle, host.clone()) {
                Ok(t) => Some(t),
                Err(e) => {
                    // No tray (no status notifier): the window stays the way to quit.
                    tracing::warn!("no tray icon: {e}");
                    None
                }
            };
            let shell: Arc<dyn Shell> = Arc::new(Desktop::new(handle.clone(), host.clone(), tray));
            tauri::async_runtime::spawn(bridge::forward_state(handle.clone(), host.clone(), shell.clone()));
            // The node's config is made here, after the single-instance check: a second launch
            // leaves before it creates anything.
            let start = Start {
                args: args.clone(),
                root: root.clone(),
                logs: logs.clone(),
            };
            tauri::async_runtime::spawn(node_loop(handle, host.clone(), shell, start));
            tauri::async_runtime::spawn(quit_on_signal(host.clone()));
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let host = window.state::<Host>();
                if host.settings().get().close_to_tray && !host.quitting() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!())
        .map_err(|e| format!("cannot start the desktop app: {e}"))?;
    app.run(|handle, event| {
        if let RunEvent::ExitRequested { api, .. } = event {
            let host = handle.state::<Host>();
            if !host.shut_down() {
                // Quit (the last window closed, the tray): the node shuts down first; the
                // loop exits the app once it has.
                api.prevent_exit();
                host.request_quit();
            }
        }
    });
    Ok(())
}

/// What the node's config is made from.
struct Start {
    args: Args,
    root: PathBuf,
    logs: LogBuffer,
}

impl Start {
    /// [`first_config`] off the async threads (a new devnet measures this machine's hashrate).
    async fn config(&self, free_ports: bool) -> Result<(AppConfig, Arc<Launcher>), AppError> {
        let (args, root, logs) = (self.args.clone(), self.root.clone(), self.logs.clone());
        tauri::async_runtime::spawn_blocking(move || first_config(&args, &root, &logs, free_ports))
            .await
            .map_err(|e| AppError::config("startup", e))?
    }
}

/// Makes the config and runs the node until Quit, then exits the app. A devnet whose usual
/// ports are taken starts again on free ones; any failure stays on screen (state `failed`)
/// until Quit.
async fn node_loop<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    host: Host,
    shell: Arc<dyn Shell>,
    start: Start,
) {
    let forward = |app: &tauri::AppHandle<R>, host: &Host, shell: &Arc<dyn Shell>| {
        let (app, host, shell) = (app.clone(), host.clone(), shell.clone());
        move |node: &p2share_app::App| {
            let events = node.subscribe();
            tauri::async_runtime::spawn(bridge::forward_events(
                app.clone(),
                node.api.clone(),
                events,
                host.clone(),
                shell.clone(),
            ));
        }
    };
    let mut result = match start.config(false).await {
        Ok((first, launcher)) => {
            let embedded = matches!(first.bitcoin, p2share_app::BitcoinConfig::Embedded(_));
            let r = run_node(host.clone(), first, launcher, forward(&app, &host, &shell)).await;
            (r, embedded)
        }
        Err(e) => {
            host.fail(e.to_string());
            (Err(e), false)
        }
    };
    let taken = match &result {
        (Err(AppError::PortInUse { what, addr }), true) => Some(format!("{what}: {addr}")),
        _ => None,
    };
    if let Some(taken) = taken {
        if !host.quitting() {
            tracing::warn!("{taken} is in use; starting the devnet on free ports");
            result.0 = match start.config(true).await {
                Ok((free, launcher)) => {
                    run_node(host.clone(), free, launcher, forward(&app, &host, &shell)).await
                }
                Err(e) => {
                    host.fail(e.to_string());
                    Err(e)
                }
            };
        }
    }
    if let Err(e) = &result.0 {
        tracing::error!("the node stopped: {e}");
        show_main(&app);
        // Stay up showing the failure until the user quits.
        host.quit_requested().await;
    }
    app.exit(0);
}

/// SIGINT or SIGTERM quits like the tray's Quit: the node shuts down cleanly first.
async fn quit_on_signal(host: Host) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: quitting"),
            _ = int.recv() => tracing::info!("SIGINT: quitting"),
        }
        host.request_quit();
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        host.request_quit();
    }
}
