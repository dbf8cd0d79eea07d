//! `/metrics` in Prometheus' text format: hashrate per hasher, shares, stale and refused
//! solutions, Bitcoin blocks found and won, the odds, peers and sync height.

use std::fmt::Write as _;

use crate::handle::{Api, ApiError};

struct Out(String);

impl Out {
    fn metric(&mut self, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            if labels.is_empty() {
                let _ = writeln!(self.0, "{name} {value}");
            } else {
                let _ = writeln!(self.0, "{name}{{{labels}}} {value}");
            }
        }
    }
}

/// The metrics of `api`'s node, as Prometheus scrapes them.
///
/// # Errors
/// When the node cannot answer (the p2p service stopped).
pub async fn render(api: &Api) -> Result<String, ApiError> {
    let mining = api.mining_info().await?;
    let chain = api.chain_info().await;
    let peers = api.peers().await?.len();
    let script = api.mining().script().await;
    let (v, n) = match &script {
        Some(s) => {
            let o = api.odds(s).await;
            (o.v, o.n)
        }
        None => (0, chain.eligible_total),
    };
    let blocks = api
        .bitcoin_blocks(crate::handle::MAX_BITCOIN_BLOCKS)
        .await?;
    let won = blocks.iter().filter(|b| b.mine).count();
    let found = mining.blocks.as_ref().map_or(0, Vec::len);
    let mut out = Out(String::new());
    let hashers: Vec<(String, f64)> = mining
        .hashers
        .iter()
        .flatten()
        .map(|h| {
            (
                format!("hasher=\"{}\",backend=\"{}\"", h.name, h.backend),
                h.hashrate,
            )
        })
        .collect();
    let hasher_samples: Vec<(&str, f64)> = hashers.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    out.metric(
        "p2share_hashrate",
        "gauge",
        "Hashes per second of this node's hashers.",
        &hasher_samples,
    );
    out.metric(
        "p2share_mining",
        "gauge",
        "1 while this node mines.",
        &[("", f64::from(u8::from(mining.mining)))],
    );
    out.metric(
        "p2share_network_hashrate",
        "gauge",
        "Hashes per second of the network, from the last 120 shares.",
        &[("", mining.network_hashrate)],
    );
    let count = |v: Option<u64>| v.unwrap_or(0) as f64;
    out.metric(
        "p2share_shares_found_total",
        "counter",
        "Shares this node's hashers found that the node accepted.",
        &[("", count(mining.shares_found))],
    );
    out.metric(
        "p2share_stale_total",
        "counter",
        "Solutions for work the sharechain had moved past.",
        &[("", count(mining.stale))],
    );
    out.metric(
        "p2share_rejected_total",
        "counter",
        "Own shares the node refused.",
        &[("", count(mining.rejected))],
    );
    out.metric(
        "p2share_bitcoin_blocks_found_total",
        "counter",
        "Bitcoin blocks this node's hashers found (kept across restarts).",
        &[("", found as f64)],
    );
    out.metric(
        "p2share_bitcoin_blocks_won",
        "gauge",
        "Bitcoin blocks in the reorg window that paid this node's mining address.",
        &[("", won as f64)],
    );
    out.metric(
        "p2share_eligible_units",
        "gauge",
        "Eligible share units: this node's mining address (v) and all (n).",
        &[("holder=\"mine\"", v as f64), ("holder=\"all\"", n as f64)],
    );
    out.metric(
        "p2share_odds",
        "gauge",
        "v / n: the chance that the next Bitcoin block pays this node's mining address.",
        &[("", if n == 0 { 0.0 } else { v as f64 / n as f64 })],
    );
    out.metric(
        "p2share_peers",
        "gauge",
        "Connected sharechain peers.",
        &[("", peers as f64)],
    );
    out.metric(
        "p2share_height",
        "gauge",
        "Sharechain height: ours and the best a peer announced.",
        &[
            ("of=\"node\"", f64::from(chain.height)),
            (
                "of=\"best_peer\"",
                f64::from(chain.sync.target_height.max(chain.height)),
            ),
        ],
    );
    Ok(out.0)
}
