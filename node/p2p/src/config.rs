//! Service configuration and the node key file.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::Multiaddr;

use crate::error::P2pError;

/// Configuration of [`crate::P2p::start`].
#[derive(Clone, Debug)]
pub struct P2pConfig {
    /// Network name (`main`, `testnet4`, `regtest`, …); it is part of every protocol and topic
    /// name, so nodes of different networks never talk. ASCII letters, digits, `-`, `_`, `.`;
    /// 1 to 32 characters.
    pub network: String,
    /// The node's identity (ed25519); see [`load_or_create_keypair`].
    pub keypair: Keypair,
    /// Addresses to listen on, e.g. `/ip4/0.0.0.0/tcp/9333` or `/ip4/127.0.0.1/tcp/0`.
    pub listen: Vec<Multiaddr>,
    /// Peers dialed at start and used to bootstrap Kademlia; each must end in `/p2p/<peer id>`.
    pub bootstrap: Vec<Multiaddr>,
    /// Most established connections in total (default 64).
    pub max_connections: u32,
    /// Most established connections to one peer (default 2).
    pub max_connections_per_peer: u32,
    /// Inbound sync requests a peer may make per second, as a token bucket holding one second's
    /// worth (default 50). Each request over the rate is answered with error 429 and penalized
    /// as [`crate::Misbehavior::Flood`].
    pub max_requests_per_second: u32,
    /// How long a ban lasts (default one hour).
    pub ban_duration: Duration,
    /// Run Kademlia discovery (default on). It switches to server mode when AutoNAT finds the
    /// node publicly reachable.
    pub enable_kademlia: bool,
    /// Run AutoNAT and DCUtR hole punching (default on). The relay client transport is always
    /// present; it is only used when the node is told to listen on a relay circuit address.
    pub enable_nat: bool,
    /// Timeout of one sync request, outbound and inbound (default 30 s).
    pub request_timeout: Duration,
    /// A connection with no open stream is closed after this long (default 60 s).
    pub idle_connection_timeout: Duration,
    /// Capacity of the event channel (default 1024). When it is full, inbound requests are
    /// answered with error 503, gossip is reported as ignored and other events are dropped, so
    /// the service never blocks on a slow consumer.
    pub event_buffer: usize,
}

impl P2pConfig {
    /// A configuration with the defaults listed on each field, no listen addresses and no
    /// bootstrap peers.
    pub fn new(network: impl Into<String>, keypair: Keypair) -> P2pConfig {
        P2pConfig {
            network: network.into(),
            keypair,
            listen: Vec::new(),
            bootstrap: Vec::new(),
            max_connections: 64,
            max_connections_per_peer: 2,
            max_requests_per_second: 50,
            ban_duration: Duration::from_secs(3600),
            enable_kademlia: true,
            enable_nat: true,
            request_timeout: Duration::from_secs(30),
            idle_connection_timeout: Duration::from_secs(60),
            event_buffer: 1024,
        }
    }

    /// Checks the network name and the limits.
    ///
    /// # Errors
    /// [`P2pError::Config`] naming the bad field.
    pub fn validate(&self) -> Result<(), P2pError> {
        let n = &self.network;
        if n.is_empty()
            || n.len() > 32
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(P2pError::Config(format!(
                "network name {n:?} must be 1 to 32 ASCII letters, digits, '-', '_' or '.'"
            )));
        }
        if self.max_connections == 0 || self.max_connections_per_peer == 0 {
            return Err(P2pError::Config(
                "max_connections and max_connections_per_peer must be at least 1".into(),
            ));
        }
        if self.max_requests_per_second == 0 {
            return Err(P2pError::Config(
                "max_requests_per_second must be at least 1".into(),
            ));
        }
        if self.event_buffer == 0 {
            return Err(P2pError::Config("event_buffer must be at least 1".into()));
        }
        if self.request_timeout.is_zero() {
            return Err(P2pError::Config("request_timeout must not be zero".into()));
        }
        Ok(())
    }
}

/// Loads the node's ed25519 key from `path` (libp2p's protobuf key encoding), or creates a new
/// one there with permissions 0600 (on Unix) if the file does not exist.
///
/// # Errors
/// [`P2pError::Key`] with the path if the file cannot be read, written or decoded, or holds a
/// key that is not ed25519.
pub fn load_or_create_keypair(path: &Path) -> Result<Keypair, P2pError> {
    let key_err = |reason: String| P2pError::Key {
        path: path.display().to_string(),
        reason,
    };
    match fs::read(path) {
        Ok(bytes) => {
            let key = Keypair::from_protobuf_encoding(&bytes)
                .map_err(|e| key_err(format!("cannot decode the key: {e}")))?;
            if key.key_type() != libp2p::identity::KeyType::Ed25519 {
                return Err(key_err(format!(
                    "the key is {:?}, expected Ed25519",
                    key.key_type()
                )));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .map_err(|e| key_err(format!("cannot encode the key: {e}")))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)
                    .map_err(|e| key_err(format!("cannot create its directory: {e}")))?;
            }
            // Write a private temporary file, then rename: a crash never leaves half a key.
            let tmp = path.with_extension("tmp");
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut file = opts
                .open(&tmp)
                .map_err(|e| key_err(format!("cannot create {}: {e}", tmp.display())))?;
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| key_err(format!("cannot write {}: {e}", tmp.display())))?;
            fs::rename(&tmp, path).map_err(|e| key_err(format!("cannot rename: {e}")))?;
            Ok(key)
        }
        Err(e) => Err(key_err(format!("cannot read: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_key_is_created_private_and_loaded_back() {
        let dir = std::env::temp_dir().join(format!(
            "p2share-p2p-key-{}-{}",
            std::process::id(),
            libp2p::PeerId::random()
        ));
        let path = dir.join("node.key");
        let a = load_or_create_keypair(&path).unwrap();
        let b = load_or_create_keypair(&path).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(&path, b"garbage").unwrap();
        let err = load_or_create_keypair(&path).unwrap_err();
        assert!(err.to_string().contains("node.key"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_configurations_are_refused() {
        let key = Keypair::generate_ed25519();
        assert!(P2pConfig::new("regtest", key.clone()).validate().is_ok());
        assert!(P2pConfig::new("", key.clone()).validate().is_err());
        assert!(P2pConfig::new("a/b", key.clone()).validate().is_err());
        let mut c = P2pConfig::new("regtest", key);
        c.max_requests_per_second = 0;
        assert!(c.validate().is_err());
    }
}
