//! `p2share-node`: the p2share sharechain node daemon, the devnet in one command, and tools
//! (payout audit, embedded regtest mainchain). The node is the `p2share-app` library; this
//! binary owns the command line, the loggers, the runtime, the signals and the printing.

mod daemon;
mod devnet;
mod signals;
mod standalone;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use p2share_node::select;

/// The p2share sharechain node.
#[derive(Parser)]
#[command(name = "p2share-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    daemon: p2share_app::config::Flags,
}

#[derive(Subcommand)]
enum Command {
    /// The devnet in one command: the embedded regtest mainchain, a sharechain node and the
    /// CPU miner, with the dashboard on the API port and progress until Ctrl-C.
    Run(devnet::Args),
    /// Recompute which share the Bitcoin block after share `i` must pay, from share i's header
    /// and an exported UTXO set — an independent audit of the payout rule.
    SelectShareholder(select::Args),
    /// Run the embedded regtest mainchain on its own (Bitcoin Core's consensus via
    /// bitcoinkernel), serving JSON-RPC and Esplora like a bitcoind you can poke with curl.
    RegtestMainchain(standalone::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => daemon::run(&cli.daemon).map(|()| String::new()),
        Some(Command::Run(args)) => devnet::run(&args).map(|()| String::new()),
        Some(Command::SelectShareholder(args)) => select::run(&args).map_err(|e| e.to_string()),
        Some(Command::RegtestMainchain(args)) => standalone::run(&args).map(|()| String::new()),
    };
    match result {
        Ok(json) => {
            if !json.is_empty() {
                println!("{json}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
