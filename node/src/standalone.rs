//! `p2share-node regtest-mainchain`: the embedded regtest mainchain as a standalone daemon.

use std::net::SocketAddr;
use std::path::PathBuf;

use bitcoin::pow::Target;
use p2share_regtest::Policy;

use p2share_app::devnet::divide_target;
use p2share_app::embedded::{Config, RegtestMainchain};

/// Arguments of `regtest-mainchain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Data directory (created if missing; the chain resumes from it).
    #[arg(long)]
    pub datadir: PathBuf,
    /// JSON-RPC listen address (Bitcoin Core's subset, cookie in the data directory).
    #[arg(long, default_value = "127.0.0.1:18443")]
    pub rpc_bind: SocketAddr,
    /// Esplora REST listen address.
    #[arg(long, default_value = "127.0.0.1:3002")]
    pub esplora_bind: SocketAddr,
    /// Devnet policy: blocks must meet the regtest target divided by this ratio (1 = Core's
    /// rules alone). With shares at regtest difficulty, about one share in R is a block.
    #[arg(long, default_value_t = 1)]
    pub block_target_ratio: u64,
}

/// Runs until SIGINT or SIGTERM.
///
/// # Errors
/// A message for any start-up failure.
pub fn run(args: &Args) -> Result<(), String> {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    if args.block_target_ratio == 0 {
        return Err("--block-target-ratio must be at least 1".into());
    }
    std::fs::create_dir_all(&args.datadir)
        .map_err(|e| format!("cannot create {}: {e}", args.datadir.display()))?;
    let policy = Policy {
        block_target: (args.block_target_ratio > 1)
            .then(|| divide_target(Target::MAX_ATTAINABLE_REGTEST, args.block_target_ratio)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async {
        let service = RegtestMainchain::start(Config {
            datadir: args.datadir.clone(),
            rpc_bind: args.rpc_bind,
            esplora_bind: args.esplora_bind,
            policy,
        })
        .await
        .map_err(|e| e.to_string())?;
        println!(
            "regtest mainchain at height {}: JSON-RPC {} (cookie {}), Esplora {}",
            service.node().chain().tip().height,
            service.rpc_url(),
            service.cookie_path().display(),
            service.esplora_url()
        );
        wait_for_signal().await;
        tracing::info!("shutting down");
        service.shutdown().await;
        Ok(())
    });
    // A long-polling `getblocktemplate` may still wait on a blocking thread: do not let it hold
    // the process past Ctrl-C.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
