//! `p2share-node run`: the devnet in one command — the embedded regtest mainchain, a node on a
//! devnet sharechain and the CPU miner (`p2share_app::devnet`), with the dashboard served on
//! the API port and progress printed until Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::{Address, ScriptBuf};
use p2share_app::config::{default_data_root, default_threads, LogConfig};
use p2share_app::devnet::{devnet_config, devnet_id, DevnetOptions};
use p2share_app::{App, LogBuffer};
use p2share_consensus::ShareAmount;
use p2share_p2p::Multiaddr;

use crate::signals::{until_stopped, Stopped};
use p2share_app::logging::init_logging;

/// `--block-target-ratio` unless given.
const DEFAULT_BLOCK_TARGET_RATIO: u64 = 30;

/// Flags of `run`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Data directory of the devnet (mainchain, node, mining key).
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Hasher threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Another devnet node to join (repeatable): `/ip4/…/tcp/…/p2p/<peer id>`.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// The devnet to join, as its founder printed it: `<genesis time>-<genesis bits in hex>`
    /// (default: the one in the data directory, or a new one).
    #[arg(long)]
    pub devnet: Option<String>,
    /// Sharechain listen address.
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/29333")]
    pub listen: String,
    /// API address.
    #[arg(long, default_value = "127.0.0.1:29332")]
    pub api_bind: String,
    /// Stratum server for mining devices (Bitaxe, NerdMiner, …): an address, or `off`.
    #[arg(long, default_value = "0.0.0.0:3333")]
    pub stratum_bind: String,
    /// Embedded mainchain JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:18443")]
    pub bitcoin_rpc_bind: String,
    /// Embedded mainchain Esplora address.
    #[arg(long, default_value = "127.0.0.1:3002")]
    pub esplora_bind: String,
    /// Bitcoin blocks are this many times harder than the devnet's starting share difficulty
    /// (one share in about this many is a Bitcoin block; `1`: every share, so coinbases mature
    /// in minutes, for trying swaps). Every node of a devnet must use the same value.
    #[arg(long, default_value_t = DEFAULT_BLOCK_TARGET_RATIO)]
    pub block_target_ratio: u64,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10)]
    pub progress_secs: u64,
    /// Log filter.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Start without mining (start it from the dashboard).
    #[arg(long)]
    pub no_mining: bool,
    /// Do not write a log file.
    #[arg(long)]
    pub no_log_file: bool,
}

fn parse<T: std::str::FromStr>(flag: &str, s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| format!("{flag} {s:?}: {e}"))
}

/// The devnet options of `args`.
///
/// # Errors
/// A flag that does not parse, named.
pub fn options(args: &Args, datadir: PathBuf) -> Result<DevnetOptions, String> {
    Ok(DevnetOptions {
        datadir,
        threads: args.threads.unwrap_or_else(default_threads),
        peers: args
            .peers
            .iter()
            .map(|p| parse::<Multiaddr>("--peer", p))
            .collect::<Result<_, _>>()?,
        join: args.devnet.clone(),
        listen: parse("--listen", &args.listen)?,
        api_bind: Some(parse("--api-bind", &args.api_bind)?),
        bitcoin_rpc_bind: parse("--bitcoin-rpc-bind", &args.bitcoin_rpc_bind)?,
        esplora_bind: parse("--esplora-bind", &args.esplora_bind)?,
        block_target_ratio: args.block_target_ratio,
        mine: !args.no_mining,
        stratum_bind: p2share_app::config::parse_stratum_bind("--stratum-bind", &args.stratum_bind)
            .map_err(|e| e.to_string())?,
        log: LogConfig {
            level: args.log_level.clone(),
            file: !args.no_log_file,
            keep: 7,
        },
    })
}

/// Runs `p2share-node run` until Ctrl-C, SIGTERM or the API's `stop`.
///
/// # Errors
/// A message naming what failed.
pub fn run(args: &Args) -> Result<(), String> {
    let datadir = args
        .datadir
        .clone()
        .unwrap_or_else(|| default_data_root().join("devnet"));
    let opts = options(args, datadir.clone())?;
    let logs = LogBuffer::new();
    let (config, address) = devnet_config(&opts, logs.clone()).map_err(|e| e.to_string())?;
    let _guard = init_logging(&config.log, &config.node.datadir, &logs, "p2share-node")?;
    let params = config.node.params.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async {
        let launcher = Arc::new(p2share_app::supervise::launcher_for(
            datadir.parent().unwrap_or(&datadir),
            &config,
        ));
        let mut config = config;
        config.sessions = Some(p2share_api::http::Sessions::default());
        launcher.set_current(&config);
        let app = App::start_supervised(config.clone(), Some(launcher.clone()))
            .await
            .map_err(|e| e.to_string())?;
        let addrs = app.dial_addrs().await;
        let mainchain = app.mainchain.as_ref();
        println!("p2share devnet — data {}", datadir.display());
        if let Some(m) = mainchain {
            println!(
                "  Bitcoin regtest: JSON-RPC {} (cookie {}), Esplora {}",
                m.rpc_url(),
                m.cookie_path().display(),
                m.esplora_url()
            );
        }
        if let Some(api) = app.api_addr {
            println!(
                "  dashboard: http://{api}/login?token={} (or log in with user __cookie__ and the password in {}/node/.cookie)",
                app.credentials.password(),
                datadir.display()
            );
            println!("  JSON-RPC API: http://{api}/ (HTTP Basic, the same cookie)");
        }
        println!(
            "  devnet {} (genesis {}, one share per {} s, about 1 in {} a Bitcoin block)",
            devnet_id(&params),
            params.genesis_time,
            params.target_spacing,
            args.block_target_ratio
        );
        // A joiner must use the same Bitcoin block target, or the two chains part.
        let ratio = match args.block_target_ratio {
            DEFAULT_BLOCK_TARGET_RATIO => String::new(),
            r => format!(" --block-target-ratio {r}"),
        };
        for a in &addrs {
            println!(
                "  join it: p2share-node run --devnet {} --peer {a}{ratio}",
                devnet_id(&params)
            );
        }
        println!("  (a second devnet node on this machine also needs its own --datadir and ports:");
        println!("   --listen /ip4/0.0.0.0/tcp/0 --api-bind 127.0.0.1:0 --bitcoin-rpc-bind 127.0.0.1:0 --esplora-bind 127.0.0.1:0 --stratum-bind 0.0.0.0:0)");
        println!("  mining to {address}");
        if let Some(bound) = app.stratum_addr {
            println!(
                "  {}",
                p2share_app::stratum::stratum_line(bound, Some(&address.to_string()))
            );
        }
        let stopped = until_stopped(app.shutdown_requested());
        tokio::pin!(stopped);
        let mut tick = tokio::time::interval(Duration::from_secs(args.progress_secs.max(1)));
        tick.tick().await;
        let mut reported_blocks = 0usize;
        let why = loop {
            tokio::select! {
                why = &mut stopped => {
                    if let Stopped::Signal(name) = why {
                        tracing::info!("{name}: shutting down");
                    }
                    break why;
                }
                _ = tick.tick() => {
                    let s = app.mining.stats().await;
                    let height = app.node.with_chain(|c| c.height()).await;
                    let (v, n) = app.node.eligible_of(&address.script_pubkey()).await;
                    let peers = app.net.p2p().peers().await.map(|p| p.len()).unwrap_or(0);
                    let odds = if n == 0 {
                        "no eligible shares yet".to_string()
                    } else {
                        format!("my odds {:.1}% of {} shares", 100.0 * v as f64 / n as f64, ShareAmount::from_units(n).unwrap_or_default())
                    };
                    println!(
                        "height {height} | my shares {} | {:.2} MH/s | Bitcoin blocks {} | {odds} | peers {peers}",
                        s.shares_found,
                        s.hashrate / 1e6,
                        s.blocks.len(),
                    );
                    for b in s.blocks.iter().skip(reported_blocks) {
                        println!(
                            "  Bitcoin block {} at {} ({}) paid {} sat to {} — selected {}",
                            b.block_hash,
                            b.bitcoin_height,
                            b.outcome,
                            b.value_sat,
                            script_label(&b.paid_script, &address),
                            b.selected.as_deref().unwrap_or("none (n = 0: the share's own sharebase)"),
                        );
                    }
                    reported_blocks = s.blocks.len();
                }
            }
        };
        println!("stopping…");
        app.shutdown().await;
        if why == Stopped::Restart {
            // A new setup from the dashboard: run on it from now on.
            let sessions = config.sessions.clone();
            let mut next = launcher
                .config(config.logs.clone())
                .map_err(|e| e.to_string())?
                .unwrap_or(config);
            next.sessions = sessions;
            let announce = |app: &App, c: &p2share_app::AppConfig| {
                if let Some(addr) = app.api_addr {
                    println!(
                        "p2share node on {} — dashboard http://{addr}/login?token={}",
                        c.node.params.name,
                        app.credentials.password()
                    );
                }
            };
            return p2share_app::supervise::supervise(next, launcher, announce, until_stopped)
                .await
                .map_err(|e| e.to_string());
        }
        Ok::<(), String>(())
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

fn script_label(hex: &str, mine: &Address) -> String {
    match ScriptBuf::from_hex(hex) {
        Ok(s) if s == mine.script_pubkey() => format!("{mine} (me)"),
        _ => hex.to_string(),
    }
}
