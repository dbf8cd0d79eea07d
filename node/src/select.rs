//! `select-shareholder`: the payout rule as a command-line audit.
//!
//! Input: the network, share `i`'s height and serialized header (the 160 bytes the selector
//! hashes — share header ‖ Bitcoin header — or a whole encoded share head), and the UTXO set
//! `S_i` as JSON. Output: one JSON object with `q`, `n` and the selected output.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use p2share_consensus::hash::q_selector_hash;
use p2share_consensus::params::{hex_decode, ChainParams};
use p2share_consensus::payout::select_with_selector;
use p2share_consensus::share::{ShareHead, ShareHeader};
use p2share_consensus::utxo::{Coin, UtxoSet};
use p2share_consensus::ShareAmount;
use serde::Deserialize;

/// Arguments of `select-shareholder`.
#[derive(clap::Args)]
pub struct Args {
    /// Network: main, testnet4, signet, regtest, or a path to a custom network TOML file.
    #[arg(long)]
    network: String,
    /// Height `i` of the share whose header is given.
    #[arg(long)]
    height: u32,
    /// Share i's serialized header in hex: 160 bytes (share header ‖ Bitcoin header), or a
    /// whole encoded share head.
    #[arg(long)]
    header: String,
    /// JSON file with the UTXO set after share i: an array of
    /// {"txid","vout","value","script_pubkey","height","sharebase"}.
    #[arg(long)]
    utxos: PathBuf,
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

fn parse_selector(hex: &str, height: u32) -> Result<[u8; 160]> {
    let bytes = hex_decode(hex.trim())
        .map_err(anyhow::Error::msg)
        .context("--header is not valid hex")?;
    let selector: [u8; 160] = if bytes.len() == 160 {
        let mut a = [0u8; 160];
        a.copy_from_slice(&bytes);
        bitcoin::consensus::deserialize::<bitcoin::block::Header>(&a[80..])
            .context("--header: bytes 80..160 are not a Bitcoin header")?;
        a
    } else if bytes.len() > 160 {
        ShareHead::decode(&bytes)
            .context("--header is neither 160 bytes nor a share head")?
            .selector_bytes()
    } else {
        bail!(
            "--header is {} bytes; expected 160 (share header ‖ Bitcoin header) or a share head",
            bytes.len()
        );
    };
    let mut h = [0u8; 80];
    h.copy_from_slice(&selector[..80]);
    let header = ShareHeader::from_bytes(&h);
    if header.height != height {
        bail!(
            "--header is for height {}, but --height is {height}",
            header.height
        );
    }
    Ok(selector)
}

fn load_utxos(path: &PathBuf, height: u32, maturity: u32) -> Result<UtxoSet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let entries: Vec<UtxoEntry> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid UTXO list", path.display()))?;
    let mut seen = HashSet::with_capacity(entries.len());
    let mut coins = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let at = || format!("{} entry {i}", path.display());
        let txid =
            Txid::from_str(&e.txid).with_context(|| format!("{}: bad txid {:?}", at(), e.txid))?;
        let outpoint = OutPoint { txid, vout: e.vout };
        if !seen.insert(outpoint) {
            bail!("{}: duplicate outpoint {outpoint}", at());
        }
        if e.value == 0 {
            bail!("{}: value is zero; only outputs with value count", at());
        }
        ShareAmount::from_units(e.value).with_context(at)?;
        if e.height > height {
            bail!(
                "{}: created at height {} after share {height}",
                at(),
                e.height
            );
        }
        let script = hex_decode(&e.script_pubkey)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("{}: bad script_pubkey hex", at()))?;
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
    UtxoSet::from_coins(maturity, height, coins).context("cannot build the UTXO set")
}

/// Runs the audit and returns the JSON line to print.
pub fn run(args: &Args) -> Result<String> {
    let params = ChainParams::resolve(&args.network).context("--network")?;
    let selector = parse_selector(&args.header, args.height)?;
    let utxo = load_utxos(&args.utxos, args.height, params.maturity)?;
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
