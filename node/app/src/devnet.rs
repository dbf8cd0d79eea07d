//! The devnet of `p2share-node run` and of the desktop app's first start: a sharechain of its own
//! (the `regtest` rules with a genesis made at first start and a difficulty fitted to this
//! machine's hashers: [`ChainParams::devnet`], ADR 15) on the embedded regtest mainchain, whose
//! block target is stricter so that about one share in `block_target_ratio` is also a Bitcoin
//! block, and the CPU miner paying a key kept in the data directory.
//!
//! The devnet's parameters are kept in `<datadir>/devnet.toml`; another machine joins with the
//! devnet's id (`<genesis time>-<bits>`) and a peer.

use p2share_stratum::StratumConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bitcoin::pow::Target;
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Address, CompressedPublicKey, ScriptBuf};
use p2share_api::LogBuffer;
use p2share_consensus::ChainParams;
use p2share_p2p::Multiaddr;
use p2share_regtest::Policy;

use crate::config::{
    ApiConfig, AppConfig, BitcoinConfig, LogConfig, MiningConfig, NodeConfig, P2pSection,
};
use crate::embedded;
use crate::error::AppError;

/// `target / ratio`, rounded down (at least 1).
pub fn divide_target(target: Target, ratio: u64) -> Target {
    if ratio <= 1 {
        return target;
    }
    let bytes = target.to_be_bytes();
    let mut out = [0u8; 32];
    let mut rem: u128 = 0;
    for (i, b) in bytes.iter().enumerate() {
        let cur = (rem << 8) | u128::from(*b);
        out[i] = u8::try_from(cur / u128::from(ratio)).unwrap_or(u8::MAX);
        rem = cur % u128::from(ratio);
    }
    if out.iter().all(|b| *b == 0) {
        out[31] = 1;
    }
    Target::from_be_bytes(out)
}

/// What a devnet node is started with.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Data directory of the devnet (mainchain, node, mining key).
    pub datadir: PathBuf,
    /// Hasher threads.
    pub threads: usize,
    /// Devnet nodes to join.
    pub peers: Vec<Multiaddr>,
    /// The devnet to join (its id), or `None` for the one in `datadir` or a new one.
    pub join: Option<String>,
    /// Sharechain listen address.
    pub listen: Multiaddr,
    /// API and dashboard address (`None`: no server).
    pub api_bind: Option<SocketAddr>,
    /// Embedded mainchain JSON-RPC address.
    pub bitcoin_rpc_bind: SocketAddr,
    /// Embedded mainchain Esplora address.
    pub esplora_bind: SocketAddr,
    /// Bitcoin blocks are this many times harder than the starting share target.
    pub block_target_ratio: u64,
    /// Start mining at once.
    pub mine: bool,
    /// The Stratum server's address (`None`: no server). On a devnet its difficulty starts
    /// tiny (1e-4) so that any test client finds shares in seconds.
    pub stratum_bind: Option<SocketAddr>,
    /// Log settings for the binary.
    pub log: LogConfig,
}

/// The [`AppConfig`] of a devnet node, with its mining address: reads or makes the devnet's
/// parameters and the mining key in `datadir`.
///
/// # Errors
/// [`AppError::Config`] for a bad devnet id or a data directory of another devnet,
/// [`AppError::DataDir`] when the directory or the key cannot be written.
pub fn devnet_config(
    opts: &DevnetOptions,
    logs: LogBuffer,
) -> Result<(AppConfig, Address), AppError> {
    std::fs::create_dir_all(&opts.datadir).map_err(|e| AppError::DataDir {
        path: opts.datadir.clone(),
        reason: e.to_string(),
    })?;
    let params = devnet_params(&opts.datadir, opts.join.as_deref(), opts.threads)
        .map_err(|e| AppError::config("--devnet", e))?;
    let key =
        load_or_create_key(&opts.datadir.join("miner.key")).map_err(|e| AppError::DataDir {
            path: opts.datadir.join("miner.key"),
            reason: e,
        })?;
    let (script, address) = key_script(&params, &key);
    let config =
        AppConfig {
            // One Bitcoin block per `ratio` shares: swap timelocks in hours become blocks with it.
            swap: crate::config::SwapOptions {
                btc_spacing_secs: Some(params.target_spacing.max(1).saturating_mul(
                    u32::try_from(opts.block_target_ratio.max(1)).unwrap_or(u32::MAX),
                )),
                ..crate::config::SwapOptions::default()
            },
            node: NodeConfig {
                params: params.clone(),
                datadir: opts.datadir.join("node"),
                listen: vec![opts.listen.clone()],
                peers: opts.peers.clone(),
                window: p2share_service::DEFAULT_WINDOW,
                prune_depth: None,
                mempool: p2share_mempool::MempoolConfig::default(),
                p2p: P2pSection {
                    nat: Some(false),
                    ..P2pSection::default()
                },
            },
            api: opts.api_bind.map(|bind| ApiConfig {
                bind,
                credentials: None,
            }),
            bitcoin: BitcoinConfig::Embedded(embedded::Config {
                datadir: opts.datadir.join("mainchain"),
                rpc_bind: opts.bitcoin_rpc_bind,
                esplora_bind: opts.esplora_bind,
                policy: Policy {
                    block_target: block_target(&params, opts.block_target_ratio),
                },
            }),
            mining: MiningConfig {
                script: Some(script),
                // The devnet's key is a fallback: the wallet, once created, is paid instead.
                wallet_pays: true,
                threads: opts.threads.max(1),
                start: opts.mine,
                stratum: opts.stratum_bind.map(|bind| StratumConfig {
                    bind,
                    ..StratumConfig::devnet()
                }),
                opencl: Vec::new(),
                opencl_intensity: None,
            },
            devnet_id: Some(devnet_id(&params)),
            logs,
            log: opts.log.clone(),
            sessions: None,
        };
    Ok((config, address))
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

/// The P2WPKH script and address of a key on `params`' Bitcoin network.
pub fn key_script(params: &ChainParams, key: &SecretKey) -> (ScriptBuf, Address) {
    let secp = Secp256k1::signing_only();
    let pk = CompressedPublicKey(key.public_key(&secp));
    let address = Address::p2wpkh(&pk, p2share_api::address_network(params));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn ratios_divide_the_target() {
        let t = Target::MAX_ATTAINABLE_REGTEST;
        assert_eq!(divide_target(t, 1), t);
        let half = divide_target(t, 2);
        assert_eq!(half.to_be_bytes()[0], 0x3f);
        assert_eq!(
            divide_target(Target::from_be_bytes([0; 32]), 5).to_be_bytes()[31],
            1
        );
    }

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
            let per_share = p2share_mining::hashes_for(&t);
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
