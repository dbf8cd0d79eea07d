//! Bitcoin Core's JSON-RPC over HTTP.
//!
//! Authentication by cookie file (re-read after a 401, since Bitcoin Core writes a new cookie
//! at every start) or by user and password. Transport failures are retried with exponential
//! back-off; JSON-RPC errors (the server's verdict) are returned at once with the method name,
//! code and message.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Block, BlockHash, FeeRate, Transaction, Txid};
use serde_json::{json, Value};
use tokio::sync::RwLock;

use crate::error::{truncate, Backoff, ClientError, ErrorKind};
use crate::template::{BlockTemplate, SubmitResult};
use crate::{ChainTip, Mainchain};

/// How to authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Bitcoin Core's `.cookie` file (`__cookie__:<hex>`).
    CookieFile(PathBuf),
    /// `rpcuser` / `rpcpassword`.
    UserPass {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// Server URL, e.g. `http://127.0.0.1:8332`.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Timeout of an ordinary call.
    pub timeout: Duration,
    /// Timeout of a long-polling `getblocktemplate`.
    pub longpoll_timeout: Duration,
    /// Retry schedule for transport failures.
    pub backoff: Backoff,
}

impl RpcConfig {
    /// Defaults: 30 s calls, 10 min long polls, 3 retries from 200 ms.
    pub fn new(url: impl Into<String>, auth: Auth) -> RpcConfig {
        RpcConfig {
            url: url.into(),
            auth,
            timeout: Duration::from_secs(30),
            longpoll_timeout: Duration::from_secs(600),
            backoff: Backoff::default(),
        }
    }
}

/// Reads a cookie file into `(user, password)`.
///
/// # Errors
/// [`ErrorKind::Cookie`] for a missing or malformed file.
pub fn read_cookie(path: &std::path::Path) -> Result<(String, String), ClientError> {
    let err = |message: String| {
        ClientError::new(
            "cookie",
            ErrorKind::Cookie {
                path: path.display().to_string(),
                message,
            },
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let line = text.lines().next().unwrap_or("").trim();
    match line.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => {
            Ok((user.to_string(), password.to_string()))
        }
        _ => Err(err("expected one line `user:password`".into())),
    }
}

/// A Bitcoin Core JSON-RPC client.
#[derive(Debug)]
pub struct BitcoindRpc {
    config: RpcConfig,
    http: reqwest::Client,
    credentials: RwLock<Option<(String, String)>>,
    next_id: AtomicU64,
}

impl BitcoindRpc {
    /// A client for `config`. Credentials are read on first use.
    ///
    /// # Errors
    /// [`ErrorKind::Transport`] if the HTTP client cannot be built.
    pub fn new(config: RpcConfig) -> Result<BitcoindRpc, ClientError> {
        let http = crate::error::http_client(&config.url)?;
        Ok(BitcoindRpc {
            config,
            http,
            credentials: RwLock::new(None),
            next_id: AtomicU64::new(1),
        })
    }

    async fn credentials(&self, refresh: bool) -> Result<(String, String), ClientError> {
        if !refresh {
            if let Some(c) = self.credentials.read().await.clone() {
                return Ok(c);
            }
        }
        let creds = match &self.config.auth {
            Auth::CookieFile(path) => read_cookie(path)?,
            Auth::UserPass { user, password } => (user.clone(), password.clone()),
        };
        *self.credentials.write().await = Some(creds.clone());
        Ok(creds)
    }

    /// Calls `method` with `params` and returns its `result`.
    ///
    /// # Errors
    /// [`ClientError`] naming `method`: transport (after retries), timeout, authentication, HTTP,
    /// JSON-RPC error with the server's code and message, or an undecodable answer.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.call_with_timeout(method, params, self.config.timeout)
            .await
    }

    async fn call_with_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params});
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            let (user, password) = self.credentials(false).await?;
            let sent = self
                .http
                .post(&self.config.url)
                .basic_auth(&user, Some(&password))
                .timeout(timeout)
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    return Err(ClientError::new(method, ErrorKind::Timeout(timeout)))
                }
                Err(e) => {
                    if attempt < self.config.backoff.retries {
                        let delay = self.config.backoff.delay(attempt);
                        tracing::warn!(method, attempt, ?delay, error = %e, "mainchain RPC transport error; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ClientError::new(
                        method,
                        ErrorKind::Transport {
                            url: self.config.url.clone(),
                            attempts: attempt + 1,
                            message: e.to_string(),
                        },
                    ));
                }
            };
            let status = response.status().as_u16();
            if status == 401 || status == 403 {
                if !refreshed && matches!(self.config.auth, Auth::CookieFile(_)) {
                    // Bitcoin Core writes a new cookie when it restarts.
                    refreshed = true;
                    self.credentials(true).await?;
                    continue;
                }
                return Err(ClientError::new(method, ErrorKind::Auth { status }));
            }
            let text = response.text().await.map_err(|e| {
                ClientError::new(method, ErrorKind::Decode(format!("reading the body: {e}")))
            })?;
            // Bitcoin Core answers RPC errors with HTTP 500 (or 404 for unknown methods) and a
            // JSON body; read the body first.
            let parsed: Result<Value, _> = serde_json::from_str(&text);
            let Ok(mut reply) = parsed else {
                if (500..600).contains(&status) && attempt < self.config.backoff.retries {
                    tokio::time::sleep(self.config.backoff.delay(attempt)).await;
                    attempt += 1;
                    continue;
                }
                return Err(ClientError::new(
                    method,
                    ErrorKind::Http {
                        status,
                        body: truncate(&text, 300),
                    },
                ));
            };
            if let Some(err) = reply.get("error").filter(|e| !e.is_null()) {
                let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                return Err(ClientError::new(method, ErrorKind::Rpc { code, message }));
            }
            return match reply.get_mut("result") {
                Some(result) => Ok(result.take()),
                None => Err(ClientError::new(
                    method,
                    ErrorKind::Decode("no result field".into()),
                )),
            };
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(
        method: &str,
        value: Value,
    ) -> Result<T, ClientError> {
        serde_json::from_value(value)
            .map_err(|e| ClientError::new(method, ErrorKind::Decode(e.to_string())))
    }

    /// `getblockchaininfo`, as JSON.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn blockchain_info(&self) -> Result<Value, ClientError> {
        self.call("getblockchaininfo", json!([])).await
    }

    /// `getbestblockhash`.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn best_block_hash(&self) -> Result<BlockHash, ClientError> {
        let v = self.call("getbestblockhash", json!([])).await?;
        Self::decode("getbestblockhash", v)
    }

    /// `getblockcount`.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn block_count(&self) -> Result<u32, ClientError> {
        let v = self.call("getblockcount", json!([])).await?;
        Self::decode("getblockcount", v)
    }

    /// `getblockhash`.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn block_hash(&self, height: u32) -> Result<BlockHash, ClientError> {
        let v = self.call("getblockhash", json!([height])).await?;
        Self::decode("getblockhash", v)
    }

    /// `getblockheader <hash> false`: the raw header.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn block_header(
        &self,
        hash: &BlockHash,
    ) -> Result<bitcoin::block::Header, ClientError> {
        let v = self.call("getblockheader", json!([hash, false])).await?;
        let hex: String = Self::decode("getblockheader", v)?;
        deserialize_hex(&hex)
            .map_err(|e| ClientError::new("getblockheader", ErrorKind::Decode(e.to_string())))
    }

    /// `getblock <hash> 0`: the raw block.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn block(&self, hash: &BlockHash) -> Result<Block, ClientError> {
        let v = self.call("getblock", json!([hash, 0])).await?;
        let hex: String = Self::decode("getblock", v)?;
        deserialize_hex(&hex)
            .map_err(|e| ClientError::new("getblock", ErrorKind::Decode(e.to_string())))
    }

    /// `sendrawtransaction`.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`]; a refused transaction is [`ErrorKind::Rpc`] with Core's reason.
    pub async fn send_raw_transaction(&self, tx: &Transaction) -> Result<Txid, ClientError> {
        let v = self
            .call("sendrawtransaction", json!([serialize_hex(tx)]))
            .await?;
        Self::decode("sendrawtransaction", v)
    }

    /// `getrawtransaction <txid> false`; `None` if the server does not know it (code -5).
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn raw_transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ClientError> {
        match self.call("getrawtransaction", json!([txid, false])).await {
            Ok(v) => {
                let hex: String = Self::decode("getrawtransaction", v)?;
                deserialize_hex(&hex).map(Some).map_err(|e| {
                    ClientError::new("getrawtransaction", ErrorKind::Decode(e.to_string()))
                })
            }
            Err(e) if e.is_rpc_code(-5) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `estimatesmartfee <blocks>`; `None` when the server has no estimate yet.
    ///
    /// # Errors
    /// See [`BitcoindRpc::call`].
    pub async fn estimate_smart_fee(&self, blocks: u16) -> Result<Option<FeeRate>, ClientError> {
        let v = self.call("estimatesmartfee", json!([blocks])).await?;
        // `feerate` is BTC per kvB.
        Ok(v.get("feerate")
            .and_then(Value::as_f64)
            .and_then(|btc_per_kvb| {
                let sat_per_kvb = (btc_per_kvb * 100_000_000.0).round();
                (sat_per_kvb.is_finite() && sat_per_kvb >= 0.0)
                    .then(|| FeeRate::from_sat_per_kwu((sat_per_kvb as u64) / 4))
            }))
    }
}

impl Mainchain for BitcoindRpc {
    async fn tip(&self) -> Result<ChainTip, ClientError> {
        let info = self.blockchain_info().await?;
        let hash = info
            .get("bestblockhash")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                ClientError::new(
                    "getblockchaininfo",
                    ErrorKind::Decode("no bestblockhash".into()),
                )
            })?;
        let height = info
            .get("blocks")
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok())
            .ok_or_else(|| {
                ClientError::new("getblockchaininfo", ErrorKind::Decode("no blocks".into()))
            })?;
        Ok(ChainTip { hash, height })
    }

    async fn block_template(
        &self,
        longpoll_id: Option<&str>,
    ) -> Result<BlockTemplate, ClientError> {
        let mut request = json!({"rules": ["segwit"]});
        let timeout = match longpoll_id {
            Some(id) => {
                request["longpollid"] = json!(id);
                self.config.longpoll_timeout
            }
            None => self.config.timeout,
        };
        let v = self
            .call_with_timeout("getblocktemplate", json!([request]), timeout)
            .await?;
        BlockTemplate::from_json(v)
    }

    async fn submit_block(&self, block: &Block) -> Result<SubmitResult, ClientError> {
        let v = self
            .call("submitblock", json!([serialize_hex(block)]))
            .await?;
        SubmitResult::from_json(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("p2share-cookie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".cookie");
        std::fs::write(&path, "__cookie__:abc123\n").unwrap();
        assert_eq!(
            read_cookie(&path).unwrap(),
            ("__cookie__".into(), "abc123".into())
        );
        std::fs::write(&path, "nocolon").unwrap();
        let e = read_cookie(&path).unwrap_err();
        assert!(e.to_string().contains("expected one line"), "{e}");
        let e = read_cookie(&dir.join("missing")).unwrap_err();
        assert!(e.to_string().starts_with("cookie: cookie file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Nothing listens on the port: the call is retried, then reported with the method name.
    #[tokio::test]
    async fn an_unreachable_server_is_retried_then_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut config = RpcConfig::new(
            format!("http://127.0.0.1:{port}"),
            Auth::UserPass {
                user: "u".into(),
                password: "p".into(),
            },
        );
        config.backoff = Backoff {
            retries: 2,
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
        };
        let rpc = BitcoindRpc::new(config).unwrap();
        let e = rpc.best_block_hash().await.unwrap_err();
        assert_eq!(e.call, "getbestblockhash");
        assert!(
            matches!(e.kind, ErrorKind::Transport { attempts: 3, .. }),
            "{e}"
        );
    }
}
