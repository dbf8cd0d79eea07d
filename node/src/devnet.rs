//! `p2share-node run`: the devnet in one command — the embedded regtest mainchain (with a
//! stricter block target, so that about one share in `block_target_ratio` is also a Bitcoin
//! block), a node on a devnet sharechain (the `regtest` rules with a genesis made at first start
//! and a difficulty fitted to this machine's hashers: [`ChainParams::devnet`]), and the CPU
//! hasher mining to a key kept in the data directory, with progress printed until Ctrl-C.
//!
//! The devnet's parameters are kept in `<datadir>/devnet.toml`; another machine joins with the
//! devnet's id (`--devnet <genesis time>-<bits>`, printed at start) and `--peer`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Address, CompressedPublicKey, Network, ScriptBuf};
use p2share_consensus::{ChainParams, ShareAmount};
use p2share_p2p::Multiaddr;
use p2share_regtest::Policy;

use crate::daemon::{self, Config, Daemon, DaemonError, P2pSection};
use crate::mining::{start_miner, Miner};
use crate::regtest_server::{self, RegtestMainchain};
use crate::standalone::divide_target;

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
    /// Embedded mainchain JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:18443")]
    pub bitcoin_rpc_bind: String,
    /// Embedded mainchain Esplora address.
    #[arg(long, default_value = "127.0.0.1:3002")]
    pub esplora_bind: String,
    /// Bitcoin blocks are this many times harder than the devnet's starting share difficulty
    /// (one share in about this many is a Bitcoin block).
    #[arg(long, default_value_t = 30)]
    pub block_target_ratio: u64,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10)]
    pub progress_secs: u64,
    /// Log filter.
    #[arg(long, default_value = "info")]
    pub log_level: String,
}

/// The devnet's mining key: 32 random bytes in `miner.key` (hex, mode 0600), created once.
///
/// # Errors
/// I/O errors and a malformed key file, named.
pub fn load_or_create_key(path: &Path) -> Result<SecretKey, String> {
    use bitcoin::hex::{DisplayHex, FromHex};
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = Vec::<u8>::from_hex(text.trim())
            .map_err(|e| format!("{}: not a hex key: {e}", path.display()))?;
        return SecretKey::from_slice(&bytes)
            .map_err(|e| format!("{}: not a secp256k1 key: {e}", path.display()));
    }
    let mut bytes = [0u8; 32];
    let key = loop {
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
        if let Ok(k) = SecretKey::from_slice(&bytes) {
            break k;
        }
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes.to_lower_hex_string())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot protect {}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}

/// The P2WPKH script and regtest address of a key.
pub fn key_script(key: &SecretKey) -> (ScriptBuf, Address) {
    let secp = Secp256k1::signing_only();
    let pk = CompressedPublicKey(key.public_key(&secp));
    let address = Address::p2wpkh(&pk, Network::Regtest);
    (address.script_pubkey(), address)
}

/// The id another machine joins a devnet with: `<genesis time>-<genesis bits, 8 hex digits>`.
pub fn devnet_id(params: &ChainParams) -> String {
    format!("{}-{:08x}", params.genesis_time, params.genesis_bits)
}

/// Parses a devnet id ([`devnet_id`]) into the devnet's parameters.
///
/// # Errors
/// A message saying what is wrong with `id`.
pub fn parse_devnet_id(id: &str) -> Result<ChainParams, String> {
    let bad = |why: &str| {
        format!("--devnet {id:?}: {why} (expected <genesis time>-<8 hex digits>, as the founder's node printed it)")
    };
    let (time, bits) = id.split_once('-').ok_or_else(|| bad("no '-'"))?;
    let time: u32 = time
        .parse()
        .map_err(|_| bad("the genesis time is not a number"))?;
    if bits.len() != 8 {
        return Err(bad("the bits are not 8 hex digits"));
    }
    let bits = u32::from_str_radix(bits, 16).map_err(|_| bad("the bits are not hex"))?;
    let params = ChainParams::devnet(time, bits);
    params.validate().map_err(|e| bad(&e.to_string()))?;
    Ok(params)
}

/// Hashes per second of `threads` CPU hasher threads on this machine, from one thread hashing
/// for about `millis` milliseconds with the best backend.
pub fn measure_hashrate(threads: usize, millis: u64) -> f64 {
    use p2share_gpu_kernels::{CpuHasher, Hasher, Job, NonceRange, Target};
    let mut hasher = CpuHasher::best();
    let started = std::time::Instant::now();
    let mut start = 0u64;
    let mut hashes = 0u64;
    while started.elapsed() < Duration::from_millis(millis) {
        let Some(range) = NonceRange::new(start, start + (1 << 18)) else {
            break;
        };
        let job = Job::new(0, [0x5a; 80], Target::ZERO).with_nonces(range);
        if hasher.find(&job).is_err() {
            break;
        }
        hashes += range.len();
        start = (start + (1 << 18)) % (1 << 32);
    }
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    hashes as f64 / secs * threads.max(1) as f64
}

/// The compact share target at which `hashrate` finds one share per `spacing` seconds, never
/// easier than the regtest pow limit.
pub fn fitted_bits(hashrate: f64, spacing: u32) -> u32 {
    use p2share_consensus::pow::{decode_compact, encode_compact};
    let limit_bits = ChainParams::regtest().pow_limit_bits;
    // The regtest limit is about 2^255: one share in 2 hashes.
    let hashes = (hashrate * f64::from(spacing.max(1)) / 2.0).max(1.0);
    let ratio = if hashes >= u64::MAX as f64 {
        u64::MAX
    } else {
        hashes as u64
    };
    let Ok(limit) = decode_compact(limit_bits) else {
        return limit_bits;
    };
    let target = divide_target(limit, ratio.max(1));
    // Canonical form, as the network file requires.
    match decode_compact(encode_compact(target)) {
        Ok(t) => encode_compact(t),
        Err(_) => limit_bits,
    }
}

/// The devnet of `datadir`: the one saved in `devnet.toml`, the one `--devnet` names (saved
/// there), or a new one born now at a difficulty fitted to `threads` hasher threads.
///
/// # Errors
/// A bad id, an unreadable or invalid file, or a data directory that belongs to another devnet.
pub fn devnet_params(
    datadir: &Path,
    join: Option<&str>,
    threads: usize,
) -> Result<ChainParams, String> {
    let path = datadir.join("devnet.toml");
    let wanted = join.map(parse_devnet_id).transpose()?;
    if path.exists() {
        let saved = ChainParams::resolve(&path.to_string_lossy()).map_err(|e| e.to_string())?;
        if let Some(w) = &wanted {
            if *w != saved {
                return Err(format!(
                    "{} belongs to devnet {}; to join {}, use another --datadir",
                    datadir.display(),
                    devnet_id(&saved),
                    devnet_id(w)
                ));
            }
        }
        return Ok(saved);
    }
    let params = match wanted {
        Some(p) => p,
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let time = u32::try_from(now).map_err(|_| "the clock is past 2106".to_string())?;
            let spacing = ChainParams::devnet(time, 0x207f_ffff).target_spacing;
            ChainParams::devnet(time, fitted_bits(measure_hashrate(threads, 300), spacing))
        }
    };
    params.validate().map_err(|e| e.to_string())?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, params.to_toml())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(params)
}

/// The embedded mainchain's block target: `ratio` times harder than the devnet's starting
/// share target.
pub fn block_target(params: &ChainParams, ratio: u64) -> Option<bitcoin::pow::Target> {
    let share = p2share_consensus::pow::decode_compact(params.genesis_bits).ok()?;
    Some(divide_target(share, ratio.max(1)))
}

/// A running devnet: mainchain, node and miner.
#[derive(Debug)]
pub struct Devnet {
    /// The embedded Bitcoin regtest chain.
    pub mainchain: RegtestMainchain,
    /// The sharechain node.
    pub daemon: Daemon,
    /// The miner.
    pub miner: Miner,
    /// Where the miner is paid.
    pub address: Address,
    /// The devnet's parameters.
    pub params: ChainParams,
}

/// Starts the devnet.
///
/// # Errors
/// A message naming what could not start.
pub async fn start(args: &Args, datadir: &Path) -> Result<Devnet, String> {
    let parse = |what: &str, s: &str| -> Result<std::net::SocketAddr, String> {
        s.parse().map_err(|e| format!("{what} {s:?}: {e}"))
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let params = devnet_params(datadir, args.devnet.as_deref(), threads)?;
    let mainchain = RegtestMainchain::start(regtest_server::Config {
        datadir: datadir.join("mainchain"),
        rpc_bind: parse("--bitcoin-rpc-bind", &args.bitcoin_rpc_bind)?,
        esplora_bind: parse("--esplora-bind", &args.esplora_bind)?,
        policy: Policy {
            block_target: block_target(&params, args.block_target_ratio),
        },
    })
    .await
    .map_err(|e| format!("embedded mainchain: {e}"))?;
    let peers = args
        .peers
        .iter()
        .map(|p| {
            p.parse::<Multiaddr>()
                .map_err(|e| format!("--peer {p:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = Config {
        params: params.clone(),
        datadir: datadir.join("node"),
        listen: vec![args
            .listen
            .parse()
            .map_err(|e| format!("--listen {:?}: {e}", args.listen))?],
        peers,
        api_bind: parse("--api-bind", &args.api_bind)?,
        api_credentials: None,
        window: crate::service::DEFAULT_WINDOW,
        prune_depth: None,
        mempool: p2share_mempool::MempoolConfig::default(),
        log_level: args.log_level.clone(),
        log_file: true,
        log_keep: 7,
        p2p: P2pSection {
            nat: Some(false),
            ..P2pSection::default()
        },
    };
    std::fs::create_dir_all(&config.datadir)
        .map_err(|e| format!("cannot create {}: {e}", config.datadir.display()))?;
    let daemon = Daemon::start(&config)
        .await
        .map_err(|e: DaemonError| e.to_string())?;
    let key = load_or_create_key(&datadir.join("miner.key"))?;
    let (script, address) = key_script(&key);
    let rpc = mainchain
        .rpc_client()
        .map_err(|e| format!("mainchain client: {e}"))?;
    let miner = start_miner(daemon.net.clone(), rpc, script, threads)?;
    daemon.set_miner(miner.clone());
    Ok(Devnet {
        mainchain,
        daemon,
        miner,
        address,
        params,
    })
}

/// Runs `p2share-node run` until Ctrl-C or SIGTERM.
///
/// # Errors
/// A message naming what failed.
pub fn run(args: &Args) -> Result<(), String> {
    let datadir = args
        .datadir
        .clone()
        .unwrap_or_else(|| daemon::default_data_root().join("devnet"));
    std::fs::create_dir_all(&datadir)
        .map_err(|e| format!("cannot create {}: {e}", datadir.display()))?;
    {
        use std::io::IsTerminal;
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_new(daemon::log_directives(&args.log_level))
                    .map_err(|e| format!("--log-level {:?}: {e}", args.log_level))?,
            )
            .try_init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let devnet = start(args, &datadir).await?;
        let p2p = devnet.daemon.net.p2p();
        let addrs = devnet.daemon.dial_addrs().await;
        println!("p2share devnet — data {}", datadir.display());
        println!(
            "  Bitcoin regtest: JSON-RPC {} (cookie {}), Esplora {}",
            devnet.mainchain.rpc_url(),
            devnet.mainchain.cookie_path().display(),
            devnet.mainchain.esplora_url()
        );
        println!(
            "  sharechain node: API http://{} (cookie {}/node/.cookie)",
            devnet.daemon.api_addr,
            datadir.display()
        );
        println!(
            "  devnet {} (genesis {}, one share per {} s, about 1 in {} a Bitcoin block)",
            devnet_id(&devnet.params),
            devnet.params.genesis_time,
            devnet.params.target_spacing,
            args.block_target_ratio
        );
        for a in &addrs {
            println!(
                "  join it: p2share-node run --devnet {} --peer {a}",
                devnet_id(&devnet.params)
            );
        }
        println!("  (a second devnet node on this machine also needs its own --datadir and ports:");
        println!("   --listen /ip4/0.0.0.0/tcp/0 --api-bind 127.0.0.1:0 --bitcoin-rpc-bind 127.0.0.1:0 --esplora-bind 127.0.0.1:0)");
        println!("  mining to {}", devnet.address);
        let mut stop = devnet.daemon.stop_requested();
        let mut tick = tokio::time::interval(Duration::from_secs(args.progress_secs.max(1)));
        tick.tick().await;
        let mut reported_blocks = 0usize;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                () = sigterm() => break,
                _ = stop.wait_for(|s| *s) => break,
                _ = tick.tick() => {
                    let s = devnet.miner.stats().await;
                    let height = devnet.daemon.node.with_chain(|c| c.height()).await;
                    let (v, n) = devnet.daemon.node.eligible_of(&devnet.address.script_pubkey()).await;
                    let peers = p2p.peers().await.map(|p| p.len()).unwrap_or(0);
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
                            script_label(&b.paid_script),
                            b.selected.as_deref().unwrap_or("none (n = 0: the share's own sharebase)"),
                        );
                    }
                    reported_blocks = s.blocks.len();
                }
            }
        }
        println!("stopping…");
        devnet.miner.stop();
        tokio::time::sleep(Duration::from_millis(200)).await;
        devnet.daemon.shutdown().await;
        devnet.mainchain.shutdown().await;
        Ok(())
    })
}

fn script_label(hex: &str) -> String {
    ScriptBuf::from_hex(hex)
        .ok()
        .and_then(|s| Address::from_script(&s, Network::Regtest).ok())
        .map(|a| a.to_string())
        .unwrap_or_else(|| hex.to_string())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn devnet_ids_round_trip_and_bad_ones_are_named() {
        let p = ChainParams::devnet(1_795_628_914, 0x1d3f_f266);
        assert_eq!(devnet_id(&p), "1795628914-1d3ff266");
        assert_eq!(parse_devnet_id(&devnet_id(&p)).unwrap(), p);
        for (bad, why) in [
            ("1795628914", "no '-'"),
            ("x-1d3ff266", "genesis time"),
            ("1795628914-1d3ff2", "8 hex digits"),
            ("1795628914-1d3ff2zz", "not hex"),
            // Easier than the pow limit.
            ("1795628914-2100ffff", "genesis_bits"),
            // Not the canonical encoding.
            ("1795628914-1d000100", "canonical"),
        ] {
            let e = parse_devnet_id(bad).unwrap_err();
            assert!(e.contains(why) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn fitted_targets_are_canonical_and_harder_for_faster_hashers() {
        use p2share_consensus::pow::{decode_compact, encode_compact};
        let limit = ChainParams::regtest().pow_limit_bits;
        assert_eq!(fitted_bits(0.0, 1), limit);
        let mut last = decode_compact(limit).unwrap();
        for rate in [1e3, 1e6, 3e7, 1e9, 1e12, 1e15] {
            let bits = fitted_bits(rate, 1);
            let t = decode_compact(bits).unwrap();
            assert_eq!(encode_compact(t), bits, "canonical at {rate}");
            assert!(t < last, "harder at {rate}");
            // About `rate` hashes per share: 2^256 / target within a few percent.
            let per_share = crate::mining::hashes_for(&t);
            assert!((per_share / rate - 1.0).abs() < 0.05, "{rate}: {per_share}");
            last = t;
        }
        let p = ChainParams::devnet(1_795_628_914, fitted_bits(6e7, 1));
        p.validate().unwrap();
    }

    #[test]
    fn a_devnet_is_saved_reused_and_a_datadir_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let join = "1795628914-1d3ff266";
        let p = devnet_params(dir.path(), Some(join), 1).unwrap();
        assert_eq!(devnet_id(&p), join);
        // Reused without --devnet, and with the same one.
        assert_eq!(devnet_params(dir.path(), None, 1).unwrap(), p);
        assert_eq!(devnet_params(dir.path(), Some(join), 1).unwrap(), p);
        let e = devnet_params(dir.path(), Some("1795628999-1d3ff266"), 1).unwrap_err();
        assert!(e.contains("belongs to devnet 1795628914-1d3ff266"), "{e}");
        // The saved file is a network file the daemon can load.
        let file = dir.path().join("devnet.toml");
        assert_eq!(ChainParams::resolve(file.to_str().unwrap()).unwrap(), p);
        // A new devnet is born now, fitted to this machine.
        let fresh = tempfile::tempdir().unwrap();
        let q = devnet_params(fresh.path(), None, 1).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(u64::from(q.genesis_time).abs_diff(now) < 60);
        assert_ne!(q.genesis_bits, ChainParams::regtest().pow_limit_bits);
        // A corrupt file is refused with its path.
        std::fs::write(fresh.path().join("devnet.toml"), "name = 1").unwrap();
        let e = devnet_params(fresh.path(), None, 1).unwrap_err();
        assert!(e.contains("devnet.toml"), "{e}");
    }
}
