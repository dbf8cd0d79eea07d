//! Client errors: which call failed, and why.

use std::time::Duration;

/// A failed call to a mainchain server.
#[derive(Debug, thiserror::Error)]
#[error("{call}: {kind}")]
pub struct ClientError {
    /// The RPC method or REST endpoint, e.g. `getblocktemplate` or `GET /tx/{txid}`.
    pub call: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server could not be reached, or the connection broke (retried before reported).
    #[error("cannot reach {url} after {attempts} attempt(s): {message}")]
    Transport {
        /// Server URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        message: String,
    },
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server refused the credentials (HTTP 401/403).
    #[error(
        "authentication refused (HTTP {status}); check the cookie file or rpcuser/rpcpassword"
    )]
    Auth {
        /// HTTP status.
        status: u16,
    },
    /// The server answered with an HTTP error.
    #[error("HTTP {status}: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The response body (truncated), usually the server's message.
        body: String,
    },
    /// Bitcoin Core answered with a JSON-RPC error.
    #[error("error {code}: {message}")]
    Rpc {
        /// JSON-RPC error code (Bitcoin Core's `RPC_*` codes).
        code: i64,
        /// The server's message.
        message: String,
    },
    /// The answer could not be understood.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The cookie file could not be read or is malformed.
    #[error("cookie file {path}: {message}")]
    Cookie {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ClientError {
    /// An error for `call`.
    pub fn new(call: impl Into<String>, kind: ErrorKind) -> ClientError {
        ClientError {
            call: call.into(),
            kind,
        }
    }

    /// Whether this is a JSON-RPC error with `code`.
    pub fn is_rpc_code(&self, code: i64) -> bool {
        matches!(self.kind, ErrorKind::Rpc { code: c, .. } if c == code)
    }
}

/// The HTTP client both clients use: a 10 s connect timeout; request timeouts are per call.
pub(crate) fn http_client(url: &str) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| {
            ClientError::new(
                "connect",
                ErrorKind::Transport {
                    url: url.to_string(),
                    attempts: 0,
                    message: e.to_string(),
                },
            )
        })
}

/// Keeps an error body readable in logs: at most `max` characters.
pub(crate) fn truncate(body: &str, max: usize) -> String {
    if body.chars().count() <= max {
        body.trim().to_string()
    } else {
        let cut: String = body.chars().take(max).collect();
        format!("{}…", cut.trim())
    }
}

/// Retry schedule for transport failures: exponential back-off from `base`, at most `retries`
/// retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First delay; doubled after each retry.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            retries: 3,
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The delay before retry number `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            retries: 5,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (0..6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn errors_name_the_call_and_the_server_message() {
        let e = ClientError::new(
            "sendrawtransaction",
            ErrorKind::Rpc {
                code: -26,
                message: "txn-mempool-conflict".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "sendrawtransaction: error -26: txn-mempool-conflict"
        );
        assert!(e.is_rpc_code(-26));
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate(" ok ", 10), "ok");
    }
}
