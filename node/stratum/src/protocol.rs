//! Stratum v1 JSON lines: requests parsed without copying, replies and notifications written
//! as devices expect them (ids echoed verbatim, errors as `[code,"msg",null]`).

use std::borrow::Cow;
use std::fmt::Write as _;

use bitcoin::hashes::Hash;
use bitcoin::TxMerkleNode;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::header::push_hex;

/// Stratum v1 error codes, as the reply's `error[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 20: other, or malformed params.
    Other,
    /// 21: job not found, or stale.
    JobNotFound,
    /// 22: duplicate share.
    Duplicate,
    /// 23: share below the job's difficulty.
    LowDifficulty,
    /// 24: unauthorized worker (also: an invalid payout address at authorize).
    Unauthorized,
    /// 25: not subscribed.
    NotSubscribed,
}

impl ErrorCode {
    /// The numeric code on the wire.
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::Other => 20,
            ErrorCode::JobNotFound => 21,
            ErrorCode::Duplicate => 22,
            ErrorCode::LowDifficulty => 23,
            ErrorCode::Unauthorized => 24,
            ErrorCode::NotSubscribed => 25,
        }
    }
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// One parsed line.
#[derive(Debug)]
pub enum Message<'a> {
    /// A request (or notification) from the device.
    Request {
        /// The id as its raw JSON text (`null` when absent), echoed verbatim in the reply.
        id: &'a str,
        /// The method name.
        method: Cow<'a, str>,
        /// The raw params (`None` when absent or null).
        params: Option<&'a RawValue>,
    },
    /// A reply from the device (to nothing this server asks; ignored).
    Response,
}

/// Why a line is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The line is not JSON at all.
    #[error("line is not JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not an object with a string `method` (or a reply); the id if one could
    /// be read.
    #[error("not a Stratum request (needs an object with a string \"method\"): {why}")]
    NotARequest {
        /// The raw id, when the line had one.
        id: Option<String>,
        /// What was wrong.
        why: String,
    },
}

/// Parses one line (without its newline).
///
/// # Errors
/// [`ParseError::NotJson`] for anything that is not JSON, [`ParseError::NotARequest`] for JSON
/// that is neither a request nor a reply.
pub fn parse_line(line: &str) -> Result<Message<'_>, ParseError> {
    match serde_json::from_str::<Wire<'_>>(line) {
        Ok(w) => {
            let id = w.id.map_or("null", RawValue::get);
            match w.method {
                Some(method) => Ok(Message::Request {
                    id,
                    method,
                    params: w.params.filter(|p| p.get() != "null"),
                }),
                None if w.result.is_some() || w.error.is_some() => Ok(Message::Response),
                None => Err(ParseError::NotARequest {
                    id: w.id.map(|i| i.get().to_owned()),
                    why: "no \"method\"".to_owned(),
                }),
            }
        }
        Err(e) => match serde_json::from_str::<serde::de::IgnoredAny>(line) {
            Ok(_) => Err(ParseError::NotARequest {
                id: id_of_object(line),
                why: e.to_string(),
            }),
            Err(e) => Err(ParseError::NotJson(e.to_string())),
        },
    }
}

/// The raw id of a JSON object line whose other fields did not parse as a request.
fn id_of_object(line: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    serde_json::from_str::<IdOnly<'_>>(line)
        .ok()
        .and_then(|i| i.id.map(|r| r.get().to_owned()))
}

/// A success reply: `{"id":<id>,"result":<result>,"error":null}` and a newline.
pub fn reply_ok(id: &str, result: &str) -> String {
    format!("{{\"id\":{id},\"result\":{result},\"error\":null}}\n")
}

/// An error reply: `{"id":<id>,"result":null,"error":[code,"message",null]}` and a newline.
pub fn reply_error(id: &str, code: ErrorCode, message: &str) -> String {
    let msg = serde_json::to_string(message).unwrap_or_else(|_| "\"error\"".to_owned());
    format!(
        "{{\"id\":{id},\"result\":null,\"error\":[{},{msg},null]}}\n",
        code.code()
    )
}

/// A difficulty as a JSON number in plain decimal (no exponent: some device JSON parsers are
/// small), e.g. `0.0001`, `1000`.
pub fn format_difficulty(d: f64) -> String {
    if d.is_finite() && d > 0.0 {
        format!("{d}")
    } else {
        "1".to_owned()
    }
}

/// `mining.set_difficulty` and a newline.
pub fn set_difficulty(d: f64) -> String {
    format!(
        "{{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[{}]}}\n",
        format_difficulty(d)
    )
}

/// `mining.set_version_mask` and a newline.
pub fn set_version_mask(mask: u32) -> String {
    format!("{{\"id\":null,\"method\":\"mining.set_version_mask\",\"params\":[\"{mask:08x}\"]}}\n")
}

/// The fields of a `mining.notify`.
#[derive(Debug, Clone, Copy)]
pub struct Notify<'a> {
    /// The job id (sent as lower-case hex).
    pub job_id: u64,
    /// The prevhash, already word-swapped ([`crate::header::notify_prevhash`]).
    pub prevhash: &'a str,
    /// Coinbase before the extranonces.
    pub coinb1: &'a [u8],
    /// Coinbase after the extranonces.
    pub coinb2: &'a [u8],
    /// Merkle branch, internal byte order.
    pub branch: &'a [TxMerkleNode],
    /// Version (mask bits clear).
    pub version: u32,
    /// nBits.
    pub bits: u32,
    /// nTime.
    pub time: u32,
    /// clean_jobs.
    pub clean: bool,
}

/// `mining.notify` and a newline:
/// `[job_id, prevhash, coinb1, coinb2, [branch], version, nbits, ntime, clean_jobs]`.
pub fn notify(n: &Notify<'_>) -> String {
    let mut s = String::with_capacity(
        160 + n.prevhash.len() + 2 * (n.coinb1.len() + n.coinb2.len()) + 67 * n.branch.len(),
    );
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "{{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"{:x}\",\"{}\",\"",
        n.job_id, n.prevhash
    );
    push_hex(&mut s, n.coinb1);
    s.push_str("\",\"");
    push_hex(&mut s, n.coinb2);
    s.push_str("\",[");
    for (i, node) in n.branch.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        push_hex(&mut s, node.as_byte_array());
        s.push('"');
    }
    let _ = write!(
        s,
        "],\"{:08x}\",\"{:08x}\",\"{:08x}\",{}]}}",
        n.version, n.bits, n.time, n.clean
    );
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn ids_are_echoed_verbatim_string_or_integer() {
        for (line, id) in [
            (
                r#"{"id": 7, "method": "mining.subscribe", "params": []}"#,
                "7",
            ),
            (
                r#"{"id":"abc","method":"mining.subscribe","params":[]}"#,
                "\"abc\"",
            ),
            (r#"{"method":"mining.subscribe","params":[]}"#, "null"),
            (r#"{"id":null,"method":"mining.subscribe"}"#, "null"),
        ] {
            match parse_line(line).unwrap() {
                Message::Request {
                    id: got, method, ..
                } => {
                    assert_eq!(got, id);
                    assert_eq!(method, "mining.subscribe");
                }
                Message::Response => panic!("{line}"),
            }
        }
    }

    #[test]
    fn replies_non_requests_and_junk_are_told_apart() {
        assert!(matches!(
            parse_line(r#"{"id":1,"result":true,"error":null}"#),
            Ok(Message::Response)
        ));
        assert!(matches!(
            parse_line(r#"{"id":3,"method":5}"#),
            Err(ParseError::NotARequest { id: Some(ref i), .. }) if i == "3"
        ));
        assert!(matches!(
            parse_line("[1,2]"),
            Err(ParseError::NotARequest { id: None, .. })
        ));
        assert!(matches!(
            parse_line("GET / HTTP/1.1"),
            Err(ParseError::NotJson(_))
        ));
    }

    #[test]
    fn error_and_ok_replies_have_the_stratum_shape() {
        assert_eq!(
            reply_error("\"x\"", ErrorCode::Duplicate, "duplicate \"share\""),
            "{\"id\":\"x\",\"result\":null,\"error\":[22,\"duplicate \\\"share\\\"\",null]}\n"
        );
        assert_eq!(
            reply_ok("4", "true"),
            "{\"id\":4,\"result\":true,\"error\":null}\n"
        );
        assert_eq!(
            set_difficulty(0.000001),
            "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[0.000001]}\n"
        );
        assert_eq!(format_difficulty(1000.0), "1000");
    }

    proptest::proptest! {
        /// The decoder never panics, whatever the line.
        #[test]
        fn any_line_parses_or_errors(line in ".{0,200}", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_line(&line);
            let _ = parse_line(&String::from_utf8_lossy(&bytes));
            let q = serde_json::to_string(&line).unwrap();
            let framed = format!("{{\"id\":{q},\"method\":{q},\"params\":[{q}]}}");
            let is_request = matches!(parse_line(&framed), Ok(Message::Request { .. }));
            proptest::prop_assert!(is_request);
        }
    }

    #[test]
    fn notify_fields_are_hex_in_order() {
        let node = TxMerkleNode::from_byte_array([0xab; 32]);
        let line = notify(&Notify {
            job_id: 0x1f,
            prevhash: "00",
            coinb1: &[1, 2],
            coinb2: &[3],
            branch: &[node, node],
            version: 0x2000_0000,
            bits: 0x1d00_ffff,
            time: 0x5,
            clean: true,
        });
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let p = &v["params"];
        assert_eq!(p[0], "1f");
        assert_eq!(p[2], "0102");
        assert_eq!(p[3], "03");
        assert_eq!(p[4][1], "ab".repeat(32));
        assert_eq!(p[5], "20000000");
        assert_eq!(p[6], "1d00ffff");
        assert_eq!(p[7], "00000005");
        assert_eq!(p[8], true);
        assert!(line.ends_with("]}\n"));
    }
}
