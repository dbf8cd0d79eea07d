//! Requests about mining and the odds: figures, start/stop, hashrate history, log lines.

use bitcoin::ScriptBuf;
use p2share_consensus::chain::ChainState;
use p2share_mining::{hashes_for, MiningError};
use p2share_service::{LogLine, MiningState};

use super::{Api, ApiError};
use crate::types::{
    CpuDevice, Devices, ExpectedSeconds, HasherInfo, HashrateHistory, HashrateSeries, MiningInfo,
    Odds, OpenClDeviceInfo, OpenClInfo, SetDevice, StratumInfo, TipRefresh, WorkerInfo,
    WorkerRejections,
};
use p2share_gpu_kernels::OpenClConfig;
use p2share_mining::control::OpenClDevices;

/// Points per hasher in a hashrate history at most.
pub const HISTORY_POINTS: u64 = 360;
/// The longest history asked for (a week, what the store keeps).
pub const HISTORY_MAX_SECS: u32 = 7 * 86_400;

/// Estimated network hashrate from the last `window` shares' targets and time span.
pub fn network_hashrate(c: &ChainState, window: u32) -> f64 {
    let tip = c.height();
    let from = tip.saturating_sub(window);
    if tip == from {
        return 0.0;
    }
    let header = |h: u32| {
        c.hash_at(h)
            .and_then(|hash| c.header(&hash))
            .map(|(hd, _)| hd)
    };
    let (Some(first), Some(last)) = (header(from), header(tip)) else {
        return 0.0;
    };
    let mut hashes = 0.0;
    for h in from + 1..=tip {
        if let Some(hd) = header(h) {
            if let Ok(t) = p2share_consensus::pow::decode_compact(hd.bits) {
                hashes += hashes_for(&t);
            }
        }
    }
    let span = f64::from(last.time.saturating_sub(first.time).max(1));
    hashes / span
}

fn mining_error(e: MiningError) -> ApiError {
    match e {
        MiningError::Threads { .. } => ApiError::InvalidParameter(e.to_string()),
        MiningError::Hasher(_) => ApiError::Internal(e.to_string()),
        _ => ApiError::Unavailable(e.to_string()),
    }
}

impl Api {
    /// `getmininginfo`.
    ///
    /// # Errors
    /// An undecodable next target (an internal error).
    pub async fn mining_info(&self) -> Result<MiningInfo, ApiError> {
        let state = self.mining.state().await;
        let s = self.mining.stats().await;
        // A miner that never ran and found nothing has no figures.
        let ran = !s.backend.is_empty() || !s.blocks.is_empty();
        let (height, bits, net_rate) = self
            .node
            .with_chain(|c| (c.height(), c.next_bits(), network_hashrate(c, 120)))
            .await;
        let share_target =
            p2share_consensus::pow::decode_compact(bits).map_err(ApiError::internal)?;
        let per_share = hashes_for(&share_target);
        let local = if state.mining { s.hashrate } else { 0.0 };
        let secs = |rate: f64| (rate > 0.0).then(|| per_share / rate);
        let bitcoin_secs = s
            .bitcoin_block_hashes
            .and_then(|h| (net_rate > 0.0).then(|| h / net_rate));
        Ok(MiningInfo {
            mining: state.mining,
            threads: state.threads,
            height,
            share_bits: format!("{bits:08x}"),
            share_target: format!("{share_target:x}"),
            hashes_per_share: per_share,
            hashrate: local,
            hashers: ran.then(|| {
                vec![HasherInfo {
                    name: "cpu".into(),
                    backend: s.backend.clone(),
                    threads: u32::try_from(s.threads).unwrap_or(u32::MAX),
                    hashrate: local,
                    hashes: s.hashes,
                    thread_hashrates: s.thread_hashrates.clone(),
                }]
            }),
            network_hashrate: net_rate,
            expected_seconds_to_share: ExpectedSeconds {
                node: secs(local),
                network: secs(net_rate),
            },
            bitcoin_target: s.bitcoin_target.clone(),
            expected_seconds_to_bitcoin_block: bitcoin_secs,
            shares_found: ran.then_some(s.shares_found),
            stale: ran.then_some(s.stale),
            rejected: ran.then_some(s.rejected),
            last_reject: s.last_reject.clone(),
            last_job_ms: ran.then_some(s.last_job_ms),
            tip_refresh_ms: ran.then_some(TipRefresh {
                p50: s.tip_refresh_p50_ms,
                p99: s.tip_refresh_p99_ms,
                max: s.tip_refresh_max_ms,
                tips: s.tip_refreshes,
            }),
            blocks: ran.then(|| s.blocks.clone()),
        })
    }

    /// `getodds`: a holder's `v`, `n` and what they are worth.
    pub async fn odds(&self, script: &ScriptBuf) -> Odds {
        let net_rate = self.node.with_chain(|c| network_hashrate(c, 120)).await;
        let (v, n) = self.node.eligible_of(script).await;
        let chance = if n == 0 { 0.0 } else { v as f64 / n as f64 };
        let s = self.mining.stats().await;
        let blocks_per_day = s.bitcoin_block_hashes.map(|h| net_rate * 86_400.0 / h);
        Odds {
            v,
            n,
            chance_next_block: chance,
            network_hashrate: net_rate,
            bitcoin_blocks_per_day: blocks_per_day,
            expected_btc_per_day: blocks_per_day
                .map(|b| b * chance * s.bitcoin_reward_sat as f64 / 1e8),
        }
    }

    /// `setmining`: starts, stops or re-threads the node's miner.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] without a Bitcoin node or mining address,
    /// [`ApiError::InvalidParameter`] for a bad thread count.
    pub async fn set_mining(
        &self,
        enabled: bool,
        threads: Option<u32>,
    ) -> Result<MiningState, ApiError> {
        if enabled {
            self.mining
                .start(threads.map(|t| t as usize))
                .await
                .map_err(mining_error)
        } else {
            Ok(self.mining.stop().await)
        }
    }

    /// `gethashratehistory`: the local hashers' rates over the last `range_secs` seconds, at
    /// most [`HISTORY_POINTS`] points per hasher (averaged per step).
    ///
    /// # Errors
    /// A range of 0 or over a week; storage errors.
    pub async fn hashrate_history(&self, range_secs: u32) -> Result<HashrateHistory, ApiError> {
        if range_secs == 0 || range_secs > HISTORY_MAX_SECS {
            return Err(ApiError::InvalidParameter(format!(
                "range_secs must be between 1 and {HISTORY_MAX_SECS}, not {range_secs}"
            )));
        }
        let now = p2share_service::unix_now();
        let since = now.saturating_sub(u64::from(range_secs));
        let rows = self
            .node
            .store()
            .hashrate_samples(since)
            .await
            .map_err(ApiError::internal)?;
        let step = (u64::from(range_secs) / HISTORY_POINTS)
            .max(p2share_mining::control::HASHRATE_SAMPLE_SECS);
        Ok(HashrateHistory {
            step_secs: step,
            hashers: bucket(&rows, since, step),
        })
    }

    /// `getlogs`: the last `count` log lines, oldest first.
    pub fn logs(&self, count: usize) -> Vec<LogLine> {
        self.logs.last(count)
    }
}

/// Averages `(time, hasher, rate)` rows into buckets of `step` seconds from `since`, one series
/// per hasher (in the order first seen), each point at its bucket's start.
pub fn bucket(rows: &[(u64, String, f64)], since: u64, step: u64) -> Vec<HashrateSeries> {
    /// Per bucket start: sum of rates and samples.
    type Buckets = std::collections::BTreeMap<u64, (f64, u32)>;
    let mut series: Vec<(String, Buckets)> = Vec::new();
    for (time, name, rate) in rows {
        let slot = since + (time.saturating_sub(since) / step.max(1)) * step.max(1);
        let i = match series.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                series.push((name.clone(), Default::default()));
                series.len() - 1
            }
        };
        let e = series[i].1.entry(slot).or_insert((0.0, 0));
        e.0 += rate;
        e.1 += 1;
    }
    series
        .into_iter()
        .map(|(name, points)| HashrateSeries {
            name,
            points: points
                .into_iter()
                .map(|(t, (sum, k))| (t as f64, sum / f64::from(k.max(1))))
                .collect(),
        })
        .collect()
}

fn worker_info(w: p2share_stratum::WorkerStats) -> WorkerInfo {
    WorkerInfo {
        id: w.id,
        worker: w.worker,
        address: w.address,
        name: w.name,
        user_agent: w.user_agent,
        remote: w.remote,
        connected_at: w.connected_at,
        last_seen: w.last_seen,
        difficulty: w.difficulty,
        hashrate_1m: w.hashrate_1m,
        hashrate_15m: w.hashrate_15m,
        hashrate_1h: w.hashrate_1h,
        accepted: w.accepted,
        rejected: WorkerRejections {
            stale: w.rejected.stale,
            duplicate: w.rejected.duplicate,
            low_difficulty: w.rejected.low_difficulty,
            bad_job: w.rejected.bad_job,
            other: w.rejected.other,
        },
        best_difficulty: w.best_difficulty,
        solutions: w.solutions,
    }
}

impl Api {
    /// `getdevices`: the CPU miner, the OpenCL devices, the Stratum server and its workers.
    pub async fn devices(&self) -> Devices {
        let state = self.mining.state().await;
        let stats = self.mining.stats().await;
        let settings = self.mining.device_settings().await;
        let (available, error, listed) = match self.mining.opencl_devices().await {
            OpenClDevices::Listed(d) => (true, None, d),
            OpenClDevices::Unavailable(e) => (false, Some(e), Vec::new()),
        };
        let devices = listed
            .into_iter()
            .map(|d| {
                let setting = settings.get(&d.id).copied().unwrap_or_default();
                let figures = stats.opencl.get(&d.id);
                let hashrate = figures.map_or(0.0, |f| f.hashrate);
                OpenClDeviceInfo {
                    vector_width: d.kernel_vector_width(),
                    kind: d.kind.to_string(),
                    enabled: setting.enabled,
                    intensity: setting.intensity,
                    mining: state.mining
                        && setting.enabled
                        && figures.is_some_and(|f| f.error.is_none()),
                    hashrate,
                    error: figures.and_then(|f| f.error.clone()),
                    id: d.id,
                    name: d.name,
                    vendor: d.vendor,
                    platform: d.platform,
                    compute_units: d.compute_units,
                    max_clock_mhz: d.max_clock_mhz,
                    global_memory: d.global_memory,
                }
            })
            .collect();
        let stratum = self.mining.stratum().await;
        let workers = self
            .mining
            .workers()
            .await
            .into_iter()
            .map(worker_info)
            .collect();
        let user = self.mining.script().await.and_then(|s| {
            bitcoin::Address::from_script(&s, self.address_network())
                .ok()
                .map(|a| a.to_string())
        });
        Devices {
            cpu: CpuDevice {
                mining: state.mining,
                threads: state.threads,
                max_threads: u32::try_from(p2share_mining::control::max_threads())
                    .unwrap_or(u32::MAX),
                backend: state.backend,
                hashrate: if state.mining { stats.hashrate } else { 0.0 },
            },
            opencl: OpenClInfo {
                available,
                error,
                intensity_range: [
                    *OpenClConfig::INTENSITIES.start(),
                    *OpenClConfig::INTENSITIES.end(),
                ],
                devices,
            },
            stratum: StratumInfo {
                enabled: stratum.is_some(),
                bind: stratum.as_ref().map(|(a, _)| a.to_string()),
                urls: stratum
                    .as_ref()
                    .map(|(a, _)| crate::stratum::stratum_urls(*a))
                    .unwrap_or_default(),
                user,
                min_difficulty: stratum.as_ref().map(|(_, c)| c.min_difficulty),
                max_difficulty: stratum.as_ref().map(|(_, c)| c.max_difficulty),
                start_difficulty: stratum.as_ref().map(|(_, c)| c.start_difficulty),
                share_interval_secs: stratum
                    .as_ref()
                    .map(|(_, c)| c.share_interval.as_secs_f64()),
                workers,
            },
        }
    }

    /// `setdevice`: enables or disables an OpenCL device or sets its intensity (saved).
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] for an unknown device or intensity.
    pub async fn set_device(&self, set: &SetDevice) -> Result<Devices, ApiError> {
        self.mining
            .set_device(&set.id, set.enabled, set.intensity)
            .await
            .map_err(|e| ApiError::InvalidParameter(e.to_string()))?;
        Ok(self.devices().await)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn history_points_are_averaged_per_step_and_hasher() {
        let rows = vec![
            (100, "cpu".to_string(), 10.0),
            (105, "cpu".to_string(), 20.0),
            (105, "gpu0".to_string(), 5.0),
            (131, "cpu".to_string(), 40.0),
        ];
        let s = bucket(&rows, 100, 30);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "cpu");
        assert_eq!(s[0].points, vec![(100.0, 15.0), (130.0, 40.0)]);
        assert_eq!(s[1].points, vec![(100.0, 5.0)]);
        assert!(bucket(&[], 0, 10).is_empty());
    }
}
