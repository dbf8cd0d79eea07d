//! `select-shareholder`: the payout rule as a command-line audit.
//!
//! Input: the network, share `i`'s height and serialized header (the 160 bytes the selector
//! hashes — share header ‖ Bitcoin header — or a whole encoded share head), and the UTXO set
//! `S_i` as JSON. Output: one JSON object with `q`, `n` and the selected output.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;

use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use p2share_consensus::hash::q_selector_hash;
use p2share_consensus::params::{hex_decode, ChainParams, ParamsError};
use p2share_consensus::payout::select_with_selector;
use p2share_consensus::share::{DecodeError, ShareHead, ShareHeader};
use p2share_consensus::utxo::{Coin, UtxoError, UtxoSet};
use p2share_consensus::ShareAmount;
use serde::Deserialize;

/// Arguments of `select-shareholder`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Network: main, testnet4, signet, regtest, or a path to a custom network TOML file.
    #[arg(long)]
    pub network: String,
    /// Height `i` of the share whose header is given.
    #[arg(long)]
    pub height: u32,
    /// Share i's serialized header in hex: 160 bytes (share header ‖ Bitcoin header), or a
    /// whole encoded share head.
    #[arg(long)]
    pub header: String,
    /// JSON file with the UTXO set after share i: an array of
    /// {"txid","vout","value","script_pubkey","height","sharebase"}.
    #[arg(long)]
    pub utxos: PathBuf,
}

/// Why the audit could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// `--network` names no network or a bad file.
    #[error("--network: {0}")]
    Network(#[from] ParamsError),
    /// `--header` is not hex.
    #[error("--header is not valid hex: {0}")]
    HeaderHex(String),
    /// `--header` has the wrong length.
    #[error("--header is {0} bytes; expected 160 (share header ‖ Bitcoin header) or a share head")]
    HeaderLength(usize),
    /// `--header`'s second half is not a Bitcoin header.
    #[error("--header: bytes 80..160 are not a Bitcoin header: {0}")]
    HeaderBitcoin(String),
    /// `--header` is longer than 160 bytes and not a share head.
    #[error("--header is neither 160 bytes nor a share head: {0}")]
    HeaderHead(DecodeError),
    /// `--header` is for another height than `--height`.
    #[error("--header is for height {header}, but --height is {given}")]
    HeightMismatch {
        /// Height in the header.
        header: u32,
        /// `--height`.
        given: u32,
    },
    /// The UTXO file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The UTXO file is not a JSON list of entries.
    #[error("{source_name} is not a valid UTXO list: {error}")]
    Json {
        /// Where the text came from.
        source_name: String,
        /// The parser's message, with line and column.
        error: serde_json::Error,
    },
    /// One entry is invalid.
    #[error("{source_name} entry {index}: {reason}")]
    Entry {
        /// Where the text came from.
        source_name: String,
        /// Index in the list.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The set could not be built.
    #[error("cannot build the UTXO set: {0}")]
    Utxo(#[from] UtxoError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UtxoEntry {
    txid: String,
    vout: u32,
    value: u64,
    script_pubkey: String,
    height: u32,
    sharebase: bool,
}

/// Parses `--header`: 160 selector bytes, or a share head whose selector bytes are taken; the
/// share header's height must be `height`.
///
/// # Errors
/// [`AuditError`] naming what is wrong with the header.
pub fn parse_selector(hex: &str, height: u32) -> Result<[u8; 160], AuditError> {
    let bytes = hex_decode(hex.trim()).map_err(AuditError::HeaderHex)?;
    let selector: [u8; 160] = if bytes.len() == 160 {
        let mut a = [0u8; 160];
        a.copy_from_slice(&bytes);
        bitcoin::consensus::deserialize::<bitcoin::block::Header>(&a[80..])
            .map_err(|e| AuditError::HeaderBitcoin(e.to_string()))?;
        a
    } else if bytes.len() > 160 {
        ShareHead::decode(&bytes)
            .map_err(AuditError::HeaderHead)?
            .selector_bytes()
    } else {
        return Err(AuditError::HeaderLength(bytes.len()));
    };
    let mut h = [0u8; 80];
    h.copy_from_slice(&selector[..80]);
    let header = ShareHeader::from_bytes(&h);
    if header.height != height {
        return Err(AuditError::HeightMismatch {
            header: header.height,
            given: height,
        });
    }
    Ok(selector)
}

/// Parses a JSON UTXO list (`source_name` names it in errors) into the set `S_height`.
///
/// # Errors
/// [`AuditError`] for malformed JSON, duplicate outpoints, zero or excessive values, bad hex,
/// and coins created after `height`.
pub fn parse_utxos(
    text: &str,
    source_name: &str,
    height: u32,
    maturity: u32,
) -> Result<UtxoSet, AuditError> {
    let entries: Vec<UtxoEntry> = serde_json::from_str(text).map_err(|error| AuditError::Json {
        source_name: source_name.to_string(),
        error,
    })?;
    let mut seen = HashSet::with_capacity(entries.len());
    let mut coins = Vec::with_capacity(entries.len());
    for (index, e) in entries.into_iter().enumerate() {
        let bad = |reason: String| AuditError::Entry {
            source_name: source_name.to_string(),
            index,
            reason,
        };
        let txid =
            Txid::from_str(&e.txid).map_err(|err| bad(format!("bad txid {:?}: {err}", e.txid)))?;
        let outpoint = OutPoint { txid, vout: e.vout };
        if !seen.insert(outpoint) {
            return Err(bad(format!("duplicate outpoint {outpoint}")));
        }
        if e.value == 0 {
            return Err(bad("value is zero; only outputs with value count".into()));
        }
        ShareAmount::from_units(e.value).map_err(|err| bad(err.to_string()))?;
        if e.height > height {
            return Err(bad(format!(
                "created at height {} after share {height}",
                e.height
            )));
        }
        let script = hex_decode(&e.script_pubkey)
            .map_err(|err| bad(format!("bad script_pubkey hex: {err}")))?;
        coins.push((
            outpoint,
            Coin {
                output: TxOut {
                    value: Amount::from_sat(e.value),
                    script_pubkey: ScriptBuf::from_bytes(script),
                },
                height: e.height,
                // The genesis allocation (height 0) counts as mature.
                is_sharebase: e.sharebase && e.height > 0,
            },
        ));
    }
    Ok(UtxoSet::from_coins(maturity, height, coins)?)
}

/// Runs the audit and returns the JSON line to print.
///
/// # Errors
/// [`AuditError`] for any bad argument or file.
pub fn run(args: &Args) -> Result<String, AuditError> {
    let params = ChainParams::resolve(&args.network)?;
    let selector = parse_selector(&args.header, args.height)?;
    let path = args.utxos.display().to_string();
    let text = std::fs::read_to_string(&args.utxos).map_err(|source| AuditError::Read {
        path: path.clone(),
        source,
    })?;
    let utxo = parse_utxos(&text, &path, args.height, params.maturity)?;
    let json = match select_with_selector(&utxo, &q_selector_hash(&selector)) {
        Some(p) => serde_json::json!({
            "q": p.q.to_string(),
            "n": p.n.to_units(),
            "txid": p.outpoint.txid.to_string(),
            "vout": p.outpoint.vout,
            "script_pubkey": p.script_pubkey.to_hex_string(),
            "value": p.value.to_units(),
            "range_start": p.start,
        }),
        None => serde_json::json!({
            "q": null,
            "n": 0,
            "txid": null,
            "vout": null,
            "script_pubkey": null,
            "note": "no eligible output: the next share's coinbase pays its own sharebase output 0",
        }),
    };
    Ok(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_with_their_index() {
        let ok = r#"[{"txid":"0400000000000000000000000000000000000000000000000000000000000070","vout":1,"value":5,"script_pubkey":"51","height":0,"sharebase":false}]"#;
        let set = parse_utxos(ok, "x.json", 0, 100).unwrap();
        assert_eq!(set.eligible_total().to_units(), 5);
        let err =
            parse_utxos(&ok.replace("\"value\":5", "\"value\":0"), "x.json", 0, 100).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.json entry 0: value is zero; only outputs with value count"
        );
        // An immature sharebase output is in the set but not eligible.
        let sb = ok.replace(
            "\"height\":0,\"sharebase\":false",
            "\"height\":3,\"sharebase\":true",
        );
        assert_eq!(
            parse_utxos(&sb, "x.json", 5, 100)
                .unwrap()
                .eligible_total()
                .to_units(),
            0
        );
        assert_eq!(
            parse_utxos(&sb, "x.json", 102, 100)
                .unwrap()
                .eligible_total()
                .to_units(),
            5
        );
    }
}
