//! The embedded regtest mainchain as a service: Bitcoin Core's JSON-RPC subset and the Esplora
//! REST subset over real HTTP on loopback, with a `.cookie` like Bitcoin Core's.
//!
//! The production clients (`p2share-mainchain`) talk to it unchanged; so does `bdk_esplora`.

pub mod esplora;
pub mod rpc;
pub mod shared;

use std::time::Duration;

use bitcoin::{BlockHash, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use p2share_regtest::mempool::{Accepted, MempoolReject};
use p2share_regtest::ScriptHash;
use serde_json::{json, Value};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use p2share_regtest::{Policy, RegtestNode};
use p2share_rpc::CookieFile;

/// The views of the chain and mempool the two servers answer from.
pub(crate) trait NodeView {
    fn mempool_transaction(&self, txid: &Txid) -> Option<Transaction>;
    fn mempool_spender(&self, op: &OutPoint) -> Option<(Txid, u32)>;
    fn mempool_script_txids(&self, script: &ScriptHash) -> Vec<Txid>;
    fn mempool_script_outputs(&self, script: &ScriptHash) -> Vec<(OutPoint, TxOut)>;
    fn mempool_txids(&self) -> Vec<Txid>;
    fn accept_test(&self, tx: &Transaction) -> Result<Accepted, MempoolReject>;
    /// The relay floor in sat/vB.
    fn min_fee_rate_sat_vb(&self) -> f64;
    fn mempool_info_json(&self) -> Value;
    fn block_template_json(&self, now: u32) -> Value;
    /// Blocks until the template's long-poll id differs from `id`, or `timeout`; returns whether
    /// it differs.
    fn wait_for_template_change(&self, id: &str, timeout: Duration) -> bool;
    fn generate(&self, count: u32, script: &ScriptBuf, now: u32) -> Result<Vec<BlockHash>, String>;
}

impl NodeView for RegtestNode {
    fn mempool_transaction(&self, txid: &Txid) -> Option<Transaction> {
        self.mempool().get(txid).map(|tx| (*tx).clone())
    }

    fn mempool_spender(&self, op: &OutPoint) -> Option<(Txid, u32)> {
        self.mempool().spender(op)
    }

    fn mempool_script_txids(&self, script: &ScriptHash) -> Vec<Txid> {
        self.mempool().txs_touching(script)
    }

    fn mempool_script_outputs(&self, script: &ScriptHash) -> Vec<(OutPoint, TxOut)> {
        self.mempool().unspent_outputs_to(script)
    }

    fn mempool_txids(&self) -> Vec<Txid> {
        self.mempool().txids()
    }

    fn accept_test(&self, tx: &Transaction) -> Result<Accepted, MempoolReject> {
        self.test_mempool_accept(tx)
    }

    fn min_fee_rate_sat_vb(&self) -> f64 {
        self.mempool_info().mempool_min_fee.to_sat() as f64 / 1000.0
    }

    fn mempool_info_json(&self) -> Value {
        let i = self.mempool_info();
        json!({
            "loaded": true,
            "size": i.size,
            "bytes": i.bytes,
            "usage": i.usage,
            "total_fee": i.total_fee.to_btc(),
            "maxmempool": i.max_mempool,
            "mempoolminfee": i.mempool_min_fee.to_btc(),
            "minrelaytxfee": i.min_relay_tx_fee.to_btc(),
            "incrementalrelayfee": i.incremental_relay_fee.to_btc(),
            "unbroadcastcount": 0,
            "fullrbf": i.full_rbf,
        })
    }

    fn block_template_json(&self, now: u32) -> Value {
        self.block_template(u64::from(now)).to_json()
    }

    fn wait_for_template_change(&self, id: &str, timeout: Duration) -> bool {
        let seen = self.change_generation();
        if self.longpollid() != id {
            return true;
        }
        self.wait_for_change(seen, timeout);
        self.longpollid() != id
    }

    fn generate(&self, count: u32, script: &ScriptBuf, now: u32) -> Result<Vec<BlockHash>, String> {
        self.generate_to_script(count as usize, script, u64::from(now))
            .map_err(|e| e.to_string())
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The chain could not be opened.
    #[error("cannot open the regtest chain in {path}: {message}")]
    Open {
        /// Data directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The cookie could not be written.
    #[error(transparent)]
    Cookie(#[from] p2share_rpc::auth::AuthError),
    /// An address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How long [`RegtestMainchain::shutdown`] waits for the chain's other users to let go.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// Data directory (chain, index, `.cookie`).
    pub datadir: PathBuf,
    /// JSON-RPC address (port 0: any free port).
    pub rpc_bind: SocketAddr,
    /// Esplora address (port 0: any free port).
    pub esplora_bind: SocketAddr,
    /// Devnet policy (the stricter block target).
    pub policy: Policy,
}

/// A running embedded mainchain. Dropping it stops both servers and removes the cookie.
pub struct RegtestMainchain {
    node: Arc<RegtestNode>,
    cookie: CookieFile,
    rpc_addr: SocketAddr,
    esplora_addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RegtestMainchain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegtestMainchain")
            .field("rpc", &self.rpc_addr)
            .field("esplora", &self.esplora_addr)
            .finish_non_exhaustive()
    }
}

impl RegtestMainchain {
    /// Opens the chain and starts both servers (inside a tokio runtime).
    ///
    /// # Errors
    /// [`ServiceError`] if the chain, the cookie or a listener fails.
    pub async fn start(config: Config) -> Result<RegtestMainchain, ServiceError> {
        let datadir = config.datadir.clone();
        let policy = config.policy.clone();
        let node = tokio::task::spawn_blocking(move || RegtestNode::open(&datadir, policy))
            .await
            .map_err(|e| ServiceError::Open {
                path: config.datadir.clone(),
                message: e.to_string(),
            })?
            .map_err(|e| ServiceError::Open {
                path: config.datadir.clone(),
                message: e.to_string(),
            })?;
        let node = Arc::new(node);
        let cookie = CookieFile::create(&config.datadir.join(".cookie"))?;
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServiceError::Bind { addr, source })
        };
        let rpc_listener = bind(config.rpc_bind).await?;
        let esplora_listener = bind(config.esplora_bind).await?;
        let rpc_addr = rpc_listener
            .local_addr()
            .map_err(|source| ServiceError::Bind {
                addr: config.rpc_bind,
                source,
            })?;
        let esplora_addr = esplora_listener
            .local_addr()
            .map_err(|source| ServiceError::Bind {
                addr: config.esplora_bind,
                source,
            })?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let rpc = rpc::server(node.clone(), cookie.credentials().clone(), stopped.clone());
        let rpc_task = tokio::spawn({
            let w = wait(stopped.clone());
            async move {
                if let Err(e) = rpc.serve(rpc_listener, w).await {
                    tracing::error!(error = %e, "regtest JSON-RPC server stopped");
                }
            }
        });
        let esplora_router = esplora::router(node.clone());
        let esplora_task = tokio::spawn({
            let w = wait(stopped);
            async move {
                if let Err(e) = axum::serve(esplora_listener, esplora_router)
                    .with_graceful_shutdown(w)
                    .await
                {
                    tracing::error!(error = %e, "regtest Esplora server stopped");
                }
            }
        });
        tracing::info!(%rpc_addr, %esplora_addr, height = node.chain().tip().height, "embedded regtest mainchain serving");
        Ok(RegtestMainchain {
            node,
            cookie,
            rpc_addr,
            esplora_addr,
            stop: Some(stop),
            tasks: vec![rpc_task, esplora_task],
        })
    }

    /// The chain and mempool.
    pub fn node(&self) -> &Arc<RegtestNode> {
        &self.node
    }

    /// JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// Esplora base URL.
    pub fn esplora_url(&self) -> String {
        format!("http://{}", self.esplora_addr)
    }

    /// A JSON-RPC client of this mainchain, authenticated with its cookie.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn rpc_client(
        &self,
    ) -> Result<p2share_mainchain::rpc::BitcoindRpc, p2share_mainchain::ClientError> {
        use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
        BitcoindRpc::new(RpcConfig::new(
            self.rpc_url(),
            Auth::CookieFile(self.cookie_path().to_path_buf()),
        ))
    }

    /// The cookie file clients authenticate with.
    pub fn cookie_path(&self) -> &Path {
        self.cookie.path()
    }

    /// Stops both servers and waits for them: requests in flight get five seconds to finish,
    /// then their connections are dropped. Then closes the chain (the kernel flushes) once the
    /// last user of it is gone, so that the data directory can be opened again at once.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        for mut t in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(Duration::from_secs(5), &mut t)
                .await
                .is_err()
            {
                tracing::warn!("a regtest server did not stop within 5 s; closing its connections");
                t.abort();
            }
        }
        let mut node = Arc::clone(&self.node);
        drop(self);
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        loop {
            match Arc::try_unwrap(node) {
                Ok(n) => {
                    let _ = tokio::task::spawn_blocking(move || drop(n)).await;
                    return;
                }
                Err(shared) if tokio::time::Instant::now() < deadline => {
                    node = shared;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(_) => {
                    tracing::warn!(
                        "the regtest chain is still in use; it closes with its last user"
                    );
                    return;
                }
            }
        }
    }
}

impl Drop for RegtestMainchain {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
    }
}
