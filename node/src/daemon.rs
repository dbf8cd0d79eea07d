//! The `p2share-node` daemon: resolves the config, installs the loggers, builds the runtime,
//! starts the [`App`] and waits for SIGINT, SIGTERM or the API's `stop`.

use p2share_app::config::{resolve, Flags};
use p2share_app::{App, AppError};

use crate::logging::init_logging;
use crate::signals::{until_stopped, Stopped};

/// Runs the daemon.
///
/// # Errors
/// A message naming what failed.
pub fn run(flags: &Flags) -> Result<(), String> {
    let config = resolve(flags).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&config.node.datadir).map_err(|e| {
        AppError::DataDir {
            path: config.node.datadir.clone(),
            reason: e.to_string(),
        }
        .to_string()
    })?;
    let _guard = init_logging(&config.log, &config.node.datadir, &config.logs)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async {
        let datadir = config.node.datadir.clone();
        let api_credentials = config.api.as_ref().and_then(|a| a.credentials.clone());
        let network = config.node.params.name.clone();
        let app = App::start(config).await.map_err(|e| e.to_string())?;
        let auth = match &api_credentials {
            Some((user, _)) => format!("user {user}"),
            None => format!("cookie {}", datadir.join(".cookie").display()),
        };
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
        match until_stopped(app.shutdown_requested()).await {
            Stopped::Signal(name) => tracing::info!("{name}: shutting down"),
            Stopped::Api => tracing::info!("stop requested over the API"),
        }
        app.shutdown().await;
        Ok(())
    });
    // A long-polling `getblocktemplate` may still wait on a blocking thread.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
