//! `getdevices` and `setdevice`: every hasher of the node — the CPU miner, the OpenCL devices,
//! the Stratum server and the mining devices pointed at it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The CPU miner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct CpuDevice {
    /// Mining now.
    pub mining: bool,
    /// Hasher threads (the configured count while stopped).
    pub threads: u32,
    /// The most threads `setmining` takes.
    pub max_threads: u32,
    /// `sha-ni`, `avx512`, `avx2` or `portable`, once known.
    pub backend: Option<String>,
    /// Hashes per second.
    pub hashrate: f64,
}

/// One OpenCL device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct OpenClDeviceInfo {
    /// `"<platform>:<device>"`, what `setdevice` and the config take.
    pub id: String,
    /// The device's name.
    pub name: String,
    /// Its vendor.
    pub vendor: String,
    /// Its platform (driver).
    pub platform: String,
    /// `gpu`, `cpu` or `accelerator`.
    pub kind: String,
    /// Compute units.
    pub compute_units: u32,
    /// The most clock, MHz.
    pub max_clock_mhz: u32,
    /// Global memory, bytes.
    #[ts(type = "number")]
    pub global_memory: u64,
    /// Nonces per work item (the kernel's vector width).
    pub vector_width: u32,
    /// Mines while mining is on.
    pub enabled: bool,
    /// Log2 of the most nonces per launch.
    pub intensity: u8,
    /// Mining now.
    pub mining: bool,
    /// Hashes per second.
    pub hashrate: f64,
    /// Why it stopped or did not start.
    pub error: Option<String>,
}

/// The OpenCL side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct OpenClInfo {
    /// An OpenCL loader and platform were found.
    pub available: bool,
    /// Why not, when not.
    pub error: Option<String>,
    /// Intensities `setdevice` takes: `[lowest, highest]`.
    pub intensity_range: [u8; 2],
    /// The devices.
    pub devices: Vec<OpenClDeviceInfo>,
}

/// A Stratum worker's rejected shares by reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct WorkerRejections {
    /// Jobs issued before a clean notify (error 21).
    #[ts(type = "number")]
    pub stale: u64,
    /// Submitted before (error 22).
    #[ts(type = "number")]
    pub duplicate: u64,
    /// Below the job's difficulty (error 23).
    #[ts(type = "number")]
    pub low_difficulty: u64,
    /// Unknown job (error 21).
    #[ts(type = "number")]
    pub bad_job: u64,
    /// Anything else (errors 20, 24, 25).
    #[ts(type = "number")]
    pub other: u64,
}

/// A mining device connected to the Stratum server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct WorkerInfo {
    /// Connection id.
    #[ts(type = "number")]
    pub id: u64,
    /// The user name it authorized with (`address.worker`; empty before authorize).
    pub worker: String,
    /// The address its shares pay.
    pub address: String,
    /// The worker name (after the first `.`).
    pub name: String,
    /// Its user agent (from `mining.subscribe`).
    pub user_agent: String,
    /// Its socket address.
    pub remote: String,
    /// Unix seconds it connected.
    #[ts(type = "number")]
    pub connected_at: u64,
    /// Unix seconds of its last line.
    #[ts(type = "number")]
    pub last_seen: u64,
    /// Its difficulty now.
    pub difficulty: f64,
    /// Hashes per second over the last minute (from accepted difficulty).
    pub hashrate_1m: f64,
    /// … 15 minutes.
    pub hashrate_15m: f64,
    /// … an hour.
    pub hashrate_1h: f64,
    /// Accepted device shares.
    #[ts(type = "number")]
    pub accepted: u64,
    /// Rejected device shares by reason.
    pub rejected: WorkerRejections,
    /// Its best share's difficulty.
    pub best_difficulty: f64,
    /// Shares that met the sharechain's or Bitcoin's target.
    #[ts(type = "number")]
    pub solutions: u64,
}

/// The Stratum server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct StratumInfo {
    /// It listens.
    pub enabled: bool,
    /// Its address.
    pub bind: Option<String>,
    /// Where to point a device (`stratum+tcp://…`), the LAN's first.
    pub urls: Vec<String>,
    /// The node's own address, a ready user name (`<address>.<worker>`); any address of the
    /// network works, and its shares pay it.
    pub user: Option<String>,
    /// Difficulty clamps and the start value.
    pub min_difficulty: Option<f64>,
    /// The highest difficulty.
    pub max_difficulty: Option<f64>,
    /// A new connection's difficulty.
    pub start_difficulty: Option<f64>,
    /// Seconds between a device's shares that vardiff aims at.
    pub share_interval_secs: Option<f64>,
    /// Devices connected now.
    pub workers: Vec<WorkerInfo>,
}

/// `getdevices`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Devices {
    /// The CPU miner.
    pub cpu: CpuDevice,
    /// OpenCL devices.
    pub opencl: OpenClInfo,
    /// The Stratum server and its workers.
    pub stratum: StratumInfo,
}

/// `setdevice` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct SetDevice {
    /// The OpenCL device id.
    pub id: String,
    /// Mine on it while mining is on.
    pub enabled: Option<bool>,
    /// Log2 of the most nonces per launch.
    pub intensity: Option<u8>,
}
