//! The `p2share-node` daemon: resolves the config, installs the loggers, builds the runtime,
//! starts the [`App`] and waits for SIGINT, SIGTERM or the API's `stop`. A new setup from the
//! dashboard (`setup`, `setsettings`) restarts it on the launcher's config.

use std::sync::Arc;

use p2share_app::config::{default_data_root, resolve, Flags};
use p2share_app::logging::init_logging;
use p2share_app::supervise::{launcher_for, supervise};
use p2share_app::AppError;

use crate::signals::until_stopped;

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
    let _guard = init_logging(&first.log, &first.node.datadir, &first.logs, "p2share-node")?;
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
    let announce = |app: &p2share_app::App, config: &p2share_app::AppConfig| {
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
        if let Some(bound) = app.stratum_addr {
            let address = config.mining.script.as_ref().and_then(|s| {
                bitcoin::Address::from_script(s, p2share_api::address_network(&config.node.params))
                    .ok()
                    .map(|a| a.to_string())
            });
            eprintln!(
                "  Stratum: {}",
                p2share_app::stratum::stratum_line(bound, address.as_deref())
            );
        }
    };
    let result = runtime
        .block_on(supervise(first, launcher, announce, until_stopped))
        .map_err(|e| e.to_string());
    // A long-polling `getblocktemplate` may still wait on a blocking thread.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
