//! Logging for front ends (the daemon, the desktop app): console, daily-rotated files, and the
//! API's log buffer. The library never installs a logger itself; a front end calls
//! [`init_logging`] once.

use std::path::Path;

use crate::{LogBuffer, LogConfig};

/// The log filter for `level`: as given, plus quieting Kademlia's warning about an empty routing
/// table (a node without peers yet, every few minutes) unless the filter names `libp2p_kad`.
pub fn log_directives(level: &str) -> String {
    if level.contains("libp2p_kad") {
        level.to_string()
    } else {
        format!("{level},libp2p_kad=error")
    }
}

/// Installs the console logger, the rotating-file logger (optionally) and the layer that feeds
/// `logs` (the API's `getlogs` and `log` events; INFO and above). Keep the guard alive.
///
/// # Errors
/// A bad filter or an unwritable log directory.
pub fn init_logging(
    config: &LogConfig,
    datadir: &Path,
    logs: &LogBuffer,
    file_prefix: &str,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter, Layer};
    let filter = |level: &str| {
        EnvFilter::try_new(log_directives(level)).map_err(|e| format!("log level {level:?}: {e}"))
    };
    use std::io::IsTerminal;
    let console = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter(&config.level)?);
    let (file_layer, guard) = if config.file {
        let dir = datadir.join("logs");
        // The appender prunes old files at start and complains about a missing directory.
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("log directory {}: {e}", dir.display()))?;
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(file_prefix)
            .filename_suffix("log")
            .max_log_files(config.keep.max(1))
            .build(&dir)
            .map_err(|e| format!("log directory {}: {e}", dir.display()))?;
        let (writer, guard) = tracing_appender::non_blocking(appender);
        let layer = fmt::layer()
            .with_writer(writer)
            .with_ansi(false)
            .with_filter(filter(&config.level)?);
        (Some(layer), Some(guard))
    } else {
        (None, None)
    };
    // A second init (tests run several nodes in one process) keeps the first subscriber.
    let ui = logs
        .layer(tracing::Level::INFO)
        .with_filter(filter(&config.level)?);
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(file_layer)
        .with(ui)
        .try_init();
    Ok(guard)
}
