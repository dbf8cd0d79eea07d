//! Requests about the p2p network, the running network's parameters, the node itself and a
//! Bitcoin Core to connect to.

use std::path::PathBuf;
use std::time::Duration;

use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_p2p::{Direction, Multiaddr, NatStatus, Protocol};
use p2share_service::SyncStatus;

use super::{address_network, mainchain_name, Api, ApiError};
use crate::types::{
    AllocationOutput, BannedPeer, BitcoinCoreConnection, BitcoinCoreTest, NetworkInfo,
    NetworkParams, NodeInfo, PeerInfo, Ports,
};

impl Api {
    /// `getpeerinfo`.
    ///
    /// # Errors
    /// When the p2p service has stopped.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, ApiError> {
        let peers = self.net.p2p().peers().await.map_err(ApiError::internal)?;
        let heights = self.net.peer_heights().await;
        Ok(peers
            .iter()
            .map(|p| PeerInfo {
                peer_id: p.peer_id.to_string(),
                addrs: p.addrs.iter().map(ToString::to_string).collect(),
                inbound: matches!(p.direction, Direction::Inbound),
                agent: p.agent.clone(),
                score: p.score,
                connected_since: p
                    .connected_since
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                latency_ms: p.latency.map(|l| l.as_secs_f64() * 1e3),
                height: heights.get(&p.peer_id).copied(),
            })
            .collect())
    }

    /// `getnetworkinfo`.
    ///
    /// # Errors
    /// When the p2p service has stopped.
    pub async fn network_info(&self) -> Result<NetworkInfo, ApiError> {
        let p2p = self.net.p2p();
        let addrs = p2p.listen_addrs().await.map_err(ApiError::internal)?;
        let peers = p2p.peers().await.map_err(ApiError::internal)?;
        let banned = p2p.banned().await.map_err(ApiError::internal)?;
        let nat = p2p.nat_status().await.map_err(ApiError::internal)?;
        Ok(NetworkInfo {
            network: self.node.params().name.clone(),
            peer_id: p2p.local_peer_id().to_string(),
            listen_addrs: addrs.iter().map(ToString::to_string).collect(),
            connections: peers.len() as u64,
            nat: match nat {
                NatStatus::Disabled => "Disabled".into(),
                NatStatus::Unknown => "Unknown".into(),
                NatStatus::Private => "Private".into(),
                NatStatus::Public(a) => format!("Public({a})"),
            },
            banned: banned
                .iter()
                .map(|(p, left)| BannedPeer {
                    peer_id: p.to_string(),
                    seconds_left: left.as_secs(),
                })
                .collect(),
        })
    }

    /// `addpeer`: dials a multiaddr.
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] for a malformed address.
    pub async fn add_peer(&self, addr: &str) -> Result<(), ApiError> {
        let parsed: Multiaddr = addr
            .parse()
            .map_err(|e| ApiError::InvalidParameter(format!("bad multiaddr {addr:?}: {e}")))?;
        self.net
            .p2p()
            .dial(parsed)
            .await
            .map_err(ApiError::internal)
    }

    /// `getsyncstatus`.
    pub fn sync_status(&self) -> SyncStatus {
        self.net.sync_status()
    }

    /// The addresses other nodes dial this one at: each listen address with `/p2p/<id>`.
    pub async fn dial_addrs(&self) -> Vec<Multiaddr> {
        let p2p = self.net.p2p();
        let id = p2p.local_peer_id();
        p2p.listen_addrs()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.with(Protocol::P2p(id)))
            .collect()
    }

    /// `getnetworkparams`: the running network's parameters.
    pub async fn network_params(&self) -> NetworkParams {
        let p = self.node.params();
        let genesis = self.node.with_chain(|c| c.genesis_hash()).await;
        let (p2p, api) = self.facts.default_ports;
        NetworkParams {
            name: p.name.clone(),
            devnet_id: self.facts.devnet_id.clone(),
            magic: p.magic.iter().map(|b| format!("{b:02x}")).collect(),
            mainchain: mainchain_name(p).into(),
            address_hrp: match address_network(p) {
                bitcoin::Network::Bitcoin => "bc",
                bitcoin::Network::Regtest => "bcrt",
                _ => "tb",
            }
            .into(),
            genesis_hash: genesis.to_string(),
            genesis_time: p.genesis_time,
            pow_limit_bits: format!("{:08x}", p.pow_limit_bits),
            genesis_bits: format!("{:08x}", p.genesis_bits),
            target_spacing: p.target_spacing,
            asert_half_life: p.asert_half_life,
            initial_subsidy: p.initial_subsidy.to_units(),
            halving_interval: p.halving_interval,
            maturity: p.maturity,
            max_future_time: p.max_future_time,
            max_share_weight: p.max_share_weight,
            max_share_sigops_cost: p.max_share_sigops_cost,
            default_ports: Ports { p2p, api },
            genesis_allocation: p
                .genesis_allocation
                .iter()
                .map(|o| AllocationOutput {
                    script_pubkey: o.script_pubkey.to_hex_string(),
                    value: o.value.to_units(),
                })
                .collect(),
        }
    }

    /// `getnodeinfo`: this node at a glance.
    pub async fn node_info(&self) -> NodeInfo {
        let script = self.mining.script().await;
        NodeInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            network: self.node.params().name.clone(),
            devnet_id: self.facts.devnet_id.clone(),
            datadir: self.node.datadir().display().to_string(),
            api_bind: self.facts.api_bind.clone(),
            mining_address: script.as_ref().and_then(|s| self.address_of(s)),
            mining_script: script.as_ref().map(|s| s.to_hex_string()),
            bitcoin: self.facts.bitcoin.clone(),
            peer_id: self.net.p2p().local_peer_id().to_string(),
            dial_addrs: self
                .dial_addrs()
                .await
                .iter()
                .map(ToString::to_string)
                .collect(),
            started_at: self.facts.started_at,
        }
    }

    /// `testbitcoincore`: connects to a Bitcoin Core and says whether the node can mine with
    /// it, and exactly what is wrong if not (unreachable, refused credentials, wrong chain for
    /// this network, still in initial block download).
    pub async fn test_bitcoin_core(&self, conn: &BitcoinCoreConnection) -> BitcoinCoreTest {
        let fail = |error: String| BitcoinCoreTest {
            ok: false,
            chain: None,
            blocks: None,
            error: Some(error),
        };
        let auth =
            match (&conn.cookie_file, &conn.user, &conn.password) {
                (Some(path), None, None) => Auth::CookieFile(PathBuf::from(path)),
                (None, Some(user), Some(password)) => Auth::UserPass {
                    user: user.clone(),
                    password: password.clone(),
                },
                _ => return fail(
                    "give either a cookie file or a user and a password (not both, not neither)"
                        .into(),
                ),
            };
        let mut config = RpcConfig::new(conn.url.clone(), auth);
        config.timeout = Duration::from_secs(5);
        let client = match BitcoindRpc::new(config) {
            Ok(c) => c,
            Err(e) => return fail(e.to_string()),
        };
        let info = match client.blockchain_info().await {
            Ok(i) => i,
            Err(e) => return fail(e.to_string()),
        };
        let chain = info["chain"].as_str().unwrap_or("").to_string();
        let blocks = info["blocks"].as_u64().and_then(|b| u32::try_from(b).ok());
        let want = match mainchain_name(self.node.params()) {
            "main" => "main",
            "testnet4" => "testnet4",
            "signet" => "signet",
            _ => "regtest",
        };
        let mut result = BitcoinCoreTest {
            ok: true,
            chain: Some(chain.clone()),
            blocks,
            error: None,
        };
        if chain != want {
            result.ok = false;
            result.error = Some(format!(
                "this Bitcoin Core is on {chain:?}, but network {} mines on {want:?}",
                self.node.params().name
            ));
        } else if info["initialblockdownload"].as_bool() == Some(true) && want != "regtest" {
            result.ok = false;
            result.error = Some(
                "this Bitcoin Core is still in initial block download: mining waits until it is synced"
                    .into(),
            );
        }
        result
    }
}
