//! Waiting for the end: SIGINT, SIGTERM or the API's `stop`.

use p2share_api::Shutdown;
use tokio::sync::watch;

/// Why the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// A signal (`SIGINT`, `SIGTERM`).
    Signal(&'static str),
    /// The API's `stop`.
    Api,
    /// A new setup or settings: start again.
    Restart,
}

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
pub async fn until_stopped(mut stop: watch::Receiver<Shutdown>) -> Stopped {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Stopped::Signal("SIGINT"),
        () = sigterm() => Stopped::Signal("SIGTERM"),
        r = stop.wait_for(|s| *s != Shutdown::None) => match r.map(|s| *s) {
            Ok(Shutdown::Restart) => Stopped::Restart,
            _ => Stopped::Api,
        },
    }
}
