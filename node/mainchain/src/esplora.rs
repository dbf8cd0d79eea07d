//! The Esplora REST API: the wallet's chain source.
//!
//! Script hashes are the single SHA256 of the scriptPubKey in plain (not reversed) hex, as
//! Esplora and `esplora-client` use them. 404 answers to lookups become `None`; everything else
//! that is not a success is an error naming the endpoint with the server's message.

use std::collections::BTreeMap;
use std::time::Duration;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::{BlockHash, FeeRate, Script, Transaction, Txid};
use serde::Deserialize;

use crate::error::{truncate, Backoff, ClientError, ErrorKind};

/// Confirmation status of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TxStatus {
    /// Whether it is in a block of the best chain.
    pub confirmed: bool,
    /// Height of that block.
    #[serde(default)]
    pub block_height: Option<u32>,
    /// Hash of that block.
    #[serde(default)]
    pub block_hash: Option<BlockHash>,
    /// Time of that block.
    #[serde(default)]
    pub block_time: Option<u64>,
}

/// Status of a block.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BlockStatus {
    /// Whether it is on the best chain.
    pub in_best_chain: bool,
    /// Its height.
    #[serde(default)]
    pub height: Option<u32>,
    /// The next block on the best chain.
    #[serde(default)]
    pub next_best: Option<BlockHash>,
}

/// Whether an output is spent, and by what.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OutSpend {
    /// Spent or not.
    pub spent: bool,
    /// The spending transaction.
    #[serde(default)]
    pub txid: Option<Txid>,
    /// Its input index.
    #[serde(default)]
    pub vin: Option<u32>,
    /// Its status.
    #[serde(default)]
    pub status: Option<TxStatus>,
}

/// A transaction touching a script, with its status.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ScriptTx {
    /// Its txid.
    pub txid: Txid,
    /// Its status.
    pub status: TxStatus,
}

/// An unspent output of a script.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Utxo {
    /// Funding transaction.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Value in satoshis.
    pub value: u64,
    /// Status of the funding transaction.
    pub status: TxStatus,
}

/// Esplora's script hash of `script`: SHA256 of its bytes, plain hex.
pub fn script_hash(script: &Script) -> String {
    sha256::Hash::hash(script.as_bytes()).to_string()
}

/// An Esplora REST client.
#[derive(Clone, Debug)]
pub struct EsploraClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
    backoff: Backoff,
}

impl EsploraClient {
    /// A client for the API at `base_url` (e.g. `https://blockstream.info/api`).
    ///
    /// # Errors
    /// [`ErrorKind::Transport`] if the HTTP client cannot be built.
    pub fn new(base_url: impl Into<String>) -> Result<EsploraClient, ClientError> {
        let base = base_url.into().trim_end_matches('/').to_string();
        let http = crate::error::http_client(&base)?;
        Ok(EsploraClient {
            base,
            http,
            timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
        })
    }

    /// Sets the per-request timeout and retry schedule.
    pub fn with_limits(mut self, timeout: Duration, backoff: Backoff) -> EsploraClient {
        self.timeout = timeout;
        self.backoff = backoff;
        self
    }

    /// Sends a request, retrying transport failures and 5xx answers; `Ok(None)` for 404.
    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Option<String>, ClientError> {
        let call = format!("{method} {path}");
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0u32;
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .timeout(self.timeout);
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let retry = |attempt: u32| attempt < self.backoff.retries;
            match req.send().await {
                Err(e) if e.is_timeout() => {
                    return Err(ClientError::new(call, ErrorKind::Timeout(self.timeout)))
                }
                Err(e) => {
                    if retry(attempt) {
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ClientError::new(
                        call,
                        ErrorKind::Transport {
                            url,
                            attempts: attempt + 1,
                            message: e.to_string(),
                        },
                    ));
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.map_err(|e| {
                        ClientError::new(call.clone(), ErrorKind::Decode(e.to_string()))
                    })?;
                    match status {
                        200..=299 => return Ok(Some(text)),
                        404 => return Ok(None),
                        500..=599 if retry(attempt) => {
                            tokio::time::sleep(self.backoff.delay(attempt)).await;
                            attempt += 1;
                        }
                        _ => {
                            return Err(ClientError::new(
                                call,
                                ErrorKind::Http {
                                    status,
                                    body: truncate(&text, 300),
                                },
                            ))
                        }
                    }
                }
            }
        }
    }

    async fn get_text(&self, path: &str) -> Result<Option<String>, ClientError> {
        self.request(reqwest::Method::GET, path, None).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ClientError> {
        match self.get_text(path).await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                ClientError::new(format!("GET {path}"), ErrorKind::Decode(e.to_string()))
            }),
        }
    }

    fn required<T>(path: &str, v: Option<T>) -> Result<T, ClientError> {
        v.ok_or_else(|| {
            ClientError::new(
                format!("GET {path}"),
                ErrorKind::Http {
                    status: 404,
                    body: "not found".into(),
                },
            )
        })
    }

    fn parse<T: std::str::FromStr>(path: &str, text: &str) -> Result<T, ClientError>
    where
        T::Err: std::fmt::Display,
    {
        text.trim().parse().map_err(|e: T::Err| {
            ClientError::new(format!("GET {path}"), ErrorKind::Decode(e.to_string()))
        })
    }

    /// Height of the best block.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn tip_height(&self) -> Result<u32, ClientError> {
        let path = "/blocks/tip/height";
        let text = Self::required(path, self.get_text(path).await?)?;
        Self::parse(path, &text)
    }

    /// Hash of the best block.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn tip_hash(&self) -> Result<BlockHash, ClientError> {
        let path = "/blocks/tip/hash";
        let text = Self::required(path, self.get_text(path).await?)?;
        Self::parse(path, &text)
    }

    /// Hash of the best-chain block at `height`, `None` above the tip.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn block_hash(&self, height: u32) -> Result<Option<BlockHash>, ClientError> {
        let path = format!("/block-height/{height}");
        match self.get_text(&path).await? {
            Some(text) => Self::parse(&path, &text).map(Some),
            None => Ok(None),
        }
    }

    /// A block header, `None` if unknown.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn block_header(
        &self,
        hash: &BlockHash,
    ) -> Result<Option<bitcoin::block::Header>, ClientError> {
        let path = format!("/block/{hash}/header");
        match self.get_text(&path).await? {
            Some(hex) => deserialize_hex(hex.trim()).map(Some).map_err(|e| {
                ClientError::new(format!("GET {path}"), ErrorKind::Decode(e.to_string()))
            }),
            None => Ok(None),
        }
    }

    /// A block's status, `None` if unknown.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn block_status(&self, hash: &BlockHash) -> Result<Option<BlockStatus>, ClientError> {
        self.get_json(&format!("/block/{hash}/status")).await
    }

    /// A transaction, `None` if unknown.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ClientError> {
        let path = format!("/tx/{txid}/hex");
        match self.get_text(&path).await? {
            Some(hex) => deserialize_hex(hex.trim()).map(Some).map_err(|e| {
                ClientError::new(format!("GET {path}"), ErrorKind::Decode(e.to_string()))
            }),
            None => Ok(None),
        }
    }

    /// A transaction's status, `None` if unknown.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn tx_status(&self, txid: &Txid) -> Result<Option<TxStatus>, ClientError> {
        self.get_json(&format!("/tx/{txid}/status")).await
    }

    /// The spending status of every output of a transaction, `None` if unknown.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn outspends(&self, txid: &Txid) -> Result<Option<Vec<OutSpend>>, ClientError> {
        self.get_json(&format!("/tx/{txid}/outspends")).await
    }

    /// Transactions touching `script`, newest first (mempool first).
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn script_history(&self, script: &Script) -> Result<Vec<ScriptTx>, ClientError> {
        let path = format!("/scripthash/{}/txs", script_hash(script));
        Ok(self.get_json(&path).await?.unwrap_or_default())
    }

    /// Unspent outputs of `script`.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn script_utxos(&self, script: &Script) -> Result<Vec<Utxo>, ClientError> {
        let path = format!("/scripthash/{}/utxo", script_hash(script));
        Ok(self.get_json(&path).await?.unwrap_or_default())
    }

    /// Broadcasts a transaction; returns its txid.
    ///
    /// # Errors
    /// [`ErrorKind::Http`] with the server's reason for a refused transaction.
    pub async fn broadcast(&self, tx: &Transaction) -> Result<Txid, ClientError> {
        let path = "/tx";
        let text = self
            .request(reqwest::Method::POST, path, Some(serialize_hex(tx)))
            .await?;
        let text = text.ok_or_else(|| {
            ClientError::new(
                "POST /tx",
                ErrorKind::Http {
                    status: 404,
                    body: "not found".into(),
                },
            )
        })?;
        text.trim()
            .parse()
            .map_err(|e: bitcoin::hex::HexToArrayError| {
                ClientError::new("POST /tx", ErrorKind::Decode(e.to_string()))
            })
    }

    /// Fee estimates: confirmation target in blocks → fee rate.
    ///
    /// # Errors
    /// [`ClientError`] naming the endpoint.
    pub async fn fee_estimates(&self) -> Result<BTreeMap<u16, FeeRate>, ClientError> {
        let path = "/fee-estimates";
        let raw: BTreeMap<String, f64> = Self::required(path, self.get_json(path).await?)?;
        Ok(parse_fee_estimates(&raw))
    }
}

/// Converts Esplora's `{"<blocks>": sat/vB}` map, skipping entries that are not numbers.
pub fn parse_fee_estimates(raw: &BTreeMap<String, f64>) -> BTreeMap<u16, FeeRate> {
    raw.iter()
        .filter_map(|(k, v)| {
            let target: u16 = k.parse().ok()?;
            let sat_per_kvb = (v * 1000.0).round();
            (sat_per_kvb.is_finite() && sat_per_kvb >= 0.0)
                .then(|| (target, FeeRate::from_sat_per_kwu(sat_per_kvb as u64 / 4)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_hash_is_plain_sha256() {
        // sha256("") = e3b0c442…
        assert_eq!(
            script_hash(Script::new()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn fee_estimates_convert_from_sat_per_vbyte() {
        let mut raw = BTreeMap::new();
        raw.insert("1".to_string(), 20.0);
        raw.insert("6".to_string(), 2.5);
        raw.insert("x".to_string(), 1.0);
        let fees = parse_fee_estimates(&raw);
        assert_eq!(fees.len(), 2);
        assert_eq!(fees[&1].to_sat_per_vb_floor(), 20);
        assert_eq!(fees[&6].to_sat_per_kwu(), 625);
    }

    #[test]
    fn esplora_json_shapes_parse() {
        let s: TxStatus = serde_json::from_str(r#"{"confirmed":true,"block_height":7,"block_hash":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206","block_time":1296688602}"#).unwrap();
        assert_eq!(s.block_height, Some(7));
        let u: Vec<OutSpend> = serde_json::from_str(r#"[{"spent":false},{"spent":true,"txid":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206","vin":1,"status":{"confirmed":false}}]"#).unwrap();
        assert!(!u[0].spent && u[1].vin == Some(1));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_with_the_endpoint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = EsploraClient::new(format!("http://127.0.0.1:{port}/"))
            .unwrap()
            .with_limits(
                Duration::from_secs(2),
                Backoff {
                    retries: 1,
                    base: Duration::from_millis(1),
                    max: Duration::from_millis(1),
                },
            );
        let e = client.tip_height().await.unwrap_err();
        assert_eq!(e.call, "GET /blocks/tip/height");
        assert!(
            matches!(e.kind, ErrorKind::Transport { attempts: 2, .. }),
            "{e}"
        );
    }
}
