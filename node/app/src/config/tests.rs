#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn flags_with_file(dir: &Path, toml: &str) -> Flags {
    let path = dir.join("p2share.toml");
    std::fs::write(&path, toml).unwrap();
    Flags {
        config: Some(path),
        datadir: Some(dir.join("data")),
        ..Flags::default()
    }
}

fn config_error(flags: &Flags) -> String {
    match resolve(flags) {
        Err(e @ AppError::Config { .. }) => e.to_string(),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn defaults_are_regtest_on_loopback_with_archive_bodies_and_no_miner() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(&Flags {
        datadir: Some(dir.path().to_path_buf()),
        ..Flags::default()
    })
    .unwrap();
    assert_eq!(c.node.params.name, "regtest");
    assert_eq!(c.api.unwrap().bind.to_string(), "127.0.0.1:29332");
    assert_eq!(c.node.listen[0].to_string(), "/ip4/0.0.0.0/tcp/29333");
    assert_eq!((c.node.window, c.node.prune_depth), (DEFAULT_WINDOW, None));
    assert!(c.log.file);
    assert!(matches!(c.bitcoin, BitcoinConfig::None));
    assert!(c.mining.script.is_none() && !c.mining.start);
}

#[test]
fn flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = flags_with_file(
        dir.path(),
        "network = \"regtest\"\n[api]\nbind = \"127.0.0.1:1111\"\n[storage]\nwindow = 500\n",
    );
    flags.api_bind = Some("127.0.0.1:2222".into());
    flags.peers = vec![
        "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGGSPbmGx3VJz4aVmX9pP3kEmQhHym6oykWAJ2CS5qQpb".into(),
    ];
    let c = resolve(&flags).unwrap();
    assert_eq!(c.api.unwrap().bind.to_string(), "127.0.0.1:2222");
    assert_eq!(c.node.window, 500);
    assert_eq!(c.node.peers.len(), 1);
    flags.no_api = true;
    assert!(resolve(&flags).unwrap().api.is_none());
}

#[test]
fn bad_config_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let msg = config_error(&flags_with_file(dir.path(), "[p2p]\nlisten_on = []\n"));
    assert!(msg.contains("listen_on"), "{msg}");
    let msg = config_error(&flags_with_file(dir.path(), "[api]\nbind = \"nowhere\"\n"));
    assert!(msg.contains("api bind: \"nowhere\""), "{msg}");
    let msg = config_error(&flags_with_file(
        dir.path(),
        "[p2p]\npeers = [\"ip4 1.2.3.4\"]\n",
    ));
    assert!(msg.contains("p2p.peers: bad multiaddr"), "{msg}");
    let msg = config_error(&flags_with_file(
        dir.path(),
        "[storage]\nwindow = 100\nprune_depth = 50\n",
    ));
    assert!(msg.contains("50 is below the reorg window 100"), "{msg}");
    let msg = config_error(&flags_with_file(dir.path(), "[api]\nuser = \"alice\"\n"));
    assert!(msg.contains("go together"), "{msg}");
    let msg = config_error(&flags_with_file(dir.path(), "network = \"mainnet\"\n"));
    assert!(msg.contains("unknown network \"mainnet\""), "{msg}");
    let msg = config_error(&Flags {
        config: Some(dir.path().join("missing.toml")),
        ..Flags::default()
    });
    assert!(msg.contains("cannot read"), "{msg}");
    let msg = config_error(&flags_with_file(
        dir.path(),
        "[bitcoin]\nrpc_url = \"127.0.0.1:8332\"\n",
    ));
    assert!(
        msg.contains("bitcoin.rpc_url") && msg.contains("http://"),
        "{msg}"
    );
    let msg = config_error(&flags_with_file(
        dir.path(),
        "[mining]\naddress = \"bcrt1q50g05r84d5r5yflckgcr9jqvmu2628s89re9nn\"\n",
    ));
    assert!(msg.contains("mining needs a Bitcoin node"), "{msg}");
}

#[test]
fn a_custom_network_file_is_a_network() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/custom-network.toml"
    );
    let params = load_network(file).unwrap();
    assert_ne!(params.name, "regtest");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("net.toml");
    std::fs::write(&bad, "name = 5\n").unwrap();
    let msg = match load_network(bad.to_str().unwrap()) {
        Err(e @ AppError::Config { .. }) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(msg.contains("network file"), "{msg}");
}

/// A custom network that mines on Bitcoin main takes `bc1…` addresses (never regtest ones),
/// Bitcoin Core's main port and the main sharechain ports.
#[test]
fn a_custom_network_on_bitcoin_main_gets_main_addresses_and_ports() {
    let dir = tempfile::tempdir().unwrap();
    let mut params = ChainParams::main();
    params.name = "mainpool".into();
    params.magic = [1, 2, 3, 4];
    let net = dir.path().join("mainpool.toml");
    std::fs::write(&net, params.to_toml()).unwrap();
    let mut flags = Flags {
        network: Some(net.display().to_string()),
        datadir: Some(dir.path().join("data")),
        bitcoin_rpc_cookie: Some(dir.path().join("cookie")),
        mine_to: Some("bcrt1q50g05r84d5r5yflckgcr9jqvmu2628s89re9nn".into()),
        ..Flags::default()
    };
    let msg = config_error(&flags);
    assert!(
        msg.contains("--mine-to") && msg.contains("bitcoin addresses"),
        "{msg}"
    );
    flags.mine_to = Some("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4".into());
    let c = resolve(&flags).unwrap();
    assert_eq!(c.api.unwrap().bind.port(), 9332);
    assert!(c.mining.start);
    match c.bitcoin {
        BitcoinConfig::Core { url, auth } => {
            assert_eq!(url, "http://127.0.0.1:8332");
            assert_eq!(auth, Auth::CookieFile(dir.path().join("cookie")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_stratum_server_listens_on_3333_when_a_bitcoin_node_gives_work() {
    let dir = tempfile::tempdir().unwrap();
    let bitcoin =
        "[bitcoin]\nrpc_url = \"http://127.0.0.1:18443\"\nuser = \"u\"\npassword = \"p\"\n";
    // No Bitcoin node: no work, no server (unless asked for, which is an error).
    let c = resolve(&Flags {
        datadir: Some(dir.path().to_path_buf()),
        ..Flags::default()
    })
    .unwrap();
    assert!(c.mining.stratum.is_none());
    let mut flags = Flags {
        datadir: Some(dir.path().to_path_buf()),
        stratum_bind: Some("0.0.0.0:4444".into()),
        ..Flags::default()
    };
    let msg = config_error(&flags);
    assert!(
        msg.contains("--stratum-bind") && msg.contains("Bitcoin node"),
        "{msg}"
    );
    // With one: the default address, a flag's, the file's, or off.
    let mut flags_file = flags_with_file(dir.path(), bitcoin);
    let c = resolve(&flags_file).unwrap();
    assert_eq!(c.mining.stratum.unwrap().bind.to_string(), "0.0.0.0:3333");
    flags_file.stratum_bind = Some("127.0.0.1:4444".into());
    assert_eq!(
        resolve(&flags_file)
            .unwrap()
            .mining
            .stratum
            .unwrap()
            .bind
            .to_string(),
        "127.0.0.1:4444"
    );
    flags_file.stratum_bind = Some("off".into());
    assert!(resolve(&flags_file).unwrap().mining.stratum.is_none());
    let tuned = flags_with_file(
        dir.path(),
        &format!("{bitcoin}[stratum]\nbind = \"127.0.0.1:5555\"\nmin_difficulty = 0.001\nstart_difficulty = 2.0\nshare_interval_secs = 5\n"),
    );
    let s = resolve(&tuned).unwrap().mining.stratum.unwrap();
    assert_eq!(s.bind.to_string(), "127.0.0.1:5555");
    assert_eq!((s.min_difficulty, s.start_difficulty), (0.001, 2.0));
    assert_eq!(s.share_interval, std::time::Duration::from_secs(5));
    // Refused with the key named.
    flags = flags_with_file(dir.path(), bitcoin);
    flags.stratum_bind = Some("everywhere".into());
    let msg = config_error(&flags);
    assert!(
        msg.contains("--stratum-bind") && msg.contains("everywhere"),
        "{msg}"
    );
    let msg = config_error(&flags_with_file(
        dir.path(),
        &format!("{bitcoin}[stratum]\nmin_difficulty = 10.0\nmax_difficulty = 1.0\n"),
    ));
    assert!(msg.contains("stratum"), "{msg}");
    let msg = config_error(&flags_with_file(
        dir.path(),
        &format!("{bitcoin}[stratum]\nport = 3333\n"),
    ));
    assert!(msg.contains("port"), "{msg}");
    let msg = config_error(&flags_with_file(
        dir.path(),
        &format!("{bitcoin}[mining]\nopencl = [\"0:0\"]\nopencl_intensity = 40\n"),
    ));
    assert!(
        msg.contains("mining.opencl_intensity") && msg.contains("40"),
        "{msg}"
    );
}
