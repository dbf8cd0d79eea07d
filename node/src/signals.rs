//! Waiting for the end: SIGINT, SIGTERM or the API's `stop`.

use p2share_api::Shutdown;
pub use p2share_app::supervise::Stopped;
use tokio::sync::watch;

async fn sigterm() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}

/// Resolves at SIGINT, SIGTERM or when `stop` asks for a stop or a restart.
pub async fn until_stopped(stop: watch::Receiver<Shutdown>) -> Stopped {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Stopped::Signal("SIGINT"),
        () = sigterm() => Stopped::Signal("SIGTERM"),
        s = p2share_app::supervise::api_stop(stop) => s,
    }
}
