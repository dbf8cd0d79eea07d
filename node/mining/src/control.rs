//! Mining under control at run time: start, stop and re-thread the CPU miner, enable OpenCL
//! devices, run the Stratum server for mining devices — all on one job service — with counters
//! (shares and Bitcoin blocks found, stale, refused) kept across those changes, and the hashrate
//! of every hasher reported as events and kept as history.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::ScriptBuf;
use p2share_gpu_kernels::{opencl_devices, OpenClConfig, OpenClDevice};
use p2share_mainchain::rpc::{BitcoindRpc, RpcConfig};
use p2share_service::{HasherRate, HashrateSample, MiningState, Net, NodeEvent, StratumNote};
use p2share_stratum::{AddressParser, StratumConfig, StratumEvent, StratumServer, WorkerStats};
use tokio::sync::{watch, Mutex};

use crate::cpu::HasherWorker;
use crate::miner::MiningStats;
use crate::service::JobService;

/// Seconds between two `hashrate` events while mining.
pub const HASHRATE_EVENT_SECS: u64 = 2;
/// Seconds between two hashrate samples kept in the store.
pub const HASHRATE_SAMPLE_SECS: u64 = 10;
/// Hashrate samples older than this are deleted (seconds).
pub const HASHRATE_KEEP_SECS: u64 = 7 * 86_400;

/// Why mining could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MiningError {
    /// The node has no Bitcoin source to take templates from.
    #[error("no Bitcoin node is configured: mining needs block templates")]
    NoBitcoin,
    /// The node has no address to mine to.
    #[error("no mining address is configured")]
    NoAddress,
    /// A thread count of zero or more than the limit.
    #[error("threads must be between 1 and {max}, not {given}")]
    Threads {
        /// What was asked.
        given: usize,
        /// The most allowed.
        max: usize,
    },
    /// The hasher (or its Bitcoin client) did not start.
    #[error("the miner did not start: {0}")]
    Hasher(String),
    /// An OpenCL device cannot be set so.
    #[error("{0}")]
    Device(String),
    /// The Stratum server's config is wrong.
    #[error("the Stratum server did not start: {0}")]
    Stratum(String),
    /// The Stratum server cannot listen.
    #[error("the Stratum server cannot listen on {addr}: {reason}")]
    StratumBind {
        /// The address.
        addr: SocketAddr,
        /// Whether another program has it.
        in_use: bool,
        /// The system's words.
        reason: String,
    },
}

/// The most hasher threads a miner takes (4 per core, for machines whose core count is
/// misreported; more only slows everything else down).
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        * 4
}

/// What an OpenCL device is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSetting {
    /// Mine on it while mining is on.
    pub enabled: bool,
    /// Its intensity (log2 of the most nonces per launch; see [`OpenClConfig`]).
    pub intensity: u8,
}

impl Default for DeviceSetting {
    fn default() -> Self {
        DeviceSetting {
            enabled: false,
            intensity: OpenClConfig::DEFAULT_INTENSITY,
        }
    }
}

/// The OpenCL devices this machine has, or why none can be used.
#[derive(Clone, Debug)]
pub enum OpenClDevices {
    /// Listed (may be empty: a loader without drivers).
    Listed(Vec<OpenClDevice>),
    /// No OpenCL loader or platform (said once; the CPU path works).
    Unavailable(String),
}

/// The Stratum server while it runs.
struct StratumRun {
    server: StratumServer,
    bridge: tokio::task::JoinHandle<()>,
    config: StratumConfig,
}

struct Inner {
    mainchain: Option<RpcConfig>,
    script: Option<ScriptBuf>,
    threads: usize,
    /// Mining on (the CPU miner and the enabled OpenCL devices).
    mining: bool,
    service: Option<JobService>,
    cpu: Option<HasherWorker>,
    opencl: BTreeMap<String, HasherWorker>,
    settings: BTreeMap<String, DeviceSetting>,
    stratum: Option<StratumRun>,
}

/// The node's own miner — the CPU miner, OpenCL devices and the Stratum server for mining
/// devices, all on one job service — started and stopped at run time; cheap to clone.
#[derive(Clone)]
pub struct MiningControl {
    net: Net,
    inner: Arc<Mutex<Inner>>,
    stats: Arc<Mutex<MiningStats>>,
    devices: Arc<tokio::sync::OnceCell<OpenClDevices>>,
}

impl std::fmt::Debug for MiningControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiningControl").finish_non_exhaustive()
    }
}

impl MiningControl {
    /// A stopped miner for `net`'s node, taking templates from the Bitcoin node `mainchain`
    /// configures and paying `script`
    /// with `threads` hasher threads once started. Starts the hashrate reporter (events every
    /// [`HASHRATE_EVENT_SECS`], samples in the store every [`HASHRATE_SAMPLE_SECS`]), which ends
    /// when the node's event channel closes, and the relay of peers' Bitcoin blocks.
    pub fn new(
        net: Net,
        mainchain: Option<RpcConfig>,
        script: Option<ScriptBuf>,
        threads: usize,
    ) -> MiningControl {
        let relay = mainchain.clone();
        let settings = load_settings(&settings_path(&net));
        let control = MiningControl {
            net,
            inner: Arc::new(Mutex::new(Inner {
                mainchain,
                script,
                threads: threads.max(1),
                mining: false,
                service: None,
                cpu: None,
                opencl: BTreeMap::new(),
                settings,
                stratum: None,
            })),
            stats: Arc::new(Mutex::new(MiningStats::default())),
            devices: Arc::new(tokio::sync::OnceCell::new()),
        };
        tokio::spawn(report_hashrate(control.clone()));
        if let Some(config) = relay {
            match BitcoindRpc::new(config) {
                Ok(rpc) => crate::relay::start_relay(&control.net, rpc),
                Err(e) => tracing::warn!(error = %e, "no relay of peers' Bitcoin blocks"),
            }
        }
        control
    }

    /// The script the miner pays, if one is configured.
    pub async fn script(&self) -> Option<ScriptBuf> {
        self.inner.lock().await.script.clone()
    }

    /// Pays `script` from now on: a running miner (CPU and OpenCL workers) restarts on it;
    /// each worker asks the job service for jobs paying its script, so the service (and the
    /// Stratum server on it) keeps running.
    pub async fn set_script(&self, script: ScriptBuf) {
        let (was_mining, threads) = {
            let mut inner = self.inner.lock().await;
            if inner.script.as_ref() == Some(&script) {
                return;
            }
            inner.script = Some(script);
            (inner.mining, inner.threads)
        };
        if was_mining {
            self.stop().await;
            if let Err(e) = self.start(Some(threads)).await {
                tracing::warn!(error = %e, "mining did not restart on the wallet's address");
            }
        }
    }

    /// The job service, started if it is not running.
    async fn service(&self, inner: &mut Inner) -> Result<JobService, MiningError> {
        if let Some(s) = inner.service.as_ref().filter(|s| s.is_running()) {
            return Ok(s.clone());
        }
        let config = inner.mainchain.clone().ok_or(MiningError::NoBitcoin)?;
        let mainchain = BitcoindRpc::new(config).map_err(|e| MiningError::Hasher(e.to_string()))?;
        // Without an address of its own the node still builds work for Stratum miners, who
        // pay their own; the base job is then never hashed.
        let script = inner.script.clone().unwrap_or_default();
        let service = JobService::start(self.net.clone(), mainchain, script, self.stats.clone());
        inner.service = Some(service.clone());
        Ok(service)
    }

    /// Stops the job service when nothing uses it.
    async fn release_service(inner: &mut Inner) {
        if inner.cpu.is_some() || !inner.opencl.is_empty() || inner.stratum.is_some() {
            return;
        }
        if let Some(s) = inner.service.take() {
            s.stop();
            s.stopped().await;
        }
    }

    /// Starts mining, or re-threads a running miner, with `threads` (default: the last count):
    /// the CPU miner and every enabled OpenCL device.
    ///
    /// # Errors
    /// [`MiningError`] saying what is missing.
    pub async fn start(&self, threads: Option<usize>) -> Result<MiningState, MiningError> {
        let mut inner = self.inner.lock().await;
        let threads = threads.unwrap_or(inner.threads);
        let max = max_threads();
        if threads == 0 || threads > max {
            return Err(MiningError::Threads {
                given: threads,
                max,
            });
        }
        inner.mainchain.clone().ok_or(MiningError::NoBitcoin)?;
        let script = inner.script.clone().ok_or(MiningError::NoAddress)?;
        let running = inner.cpu.as_ref().is_some_and(HasherWorker::is_running);
        if !(running && threads == inner.threads) {
            if let Some(old) = inner.cpu.take() {
                old.stop();
                old.stopped().await;
            }
            let service = self.service(&mut inner).await?;
            let cpu = HasherWorker::start_cpu(&service, script, threads, self.stats.clone())
                .map_err(MiningError::Hasher)?;
            inner.threads = threads;
            inner.cpu = Some(cpu);
        }
        inner.mining = true;
        self.sync_opencl(&mut inner).await;
        let state = self.state_of(&inner).await;
        drop(inner);
        self.net
            .node_handle()
            .emit(NodeEvent::Mining(state.clone()));
        Ok(state)
    }

    /// Stops mining (the CPU miner and the OpenCL devices); returns once their threads are
    /// joined. The Stratum server keeps serving the devices pointed at this node.
    pub async fn stop(&self) -> MiningState {
        let mut inner = self.inner.lock().await;
        inner.mining = false;
        if let Some(old) = inner.cpu.take() {
            old.stop();
            old.stopped().await;
        }
        self.sync_opencl(&mut inner).await;
        Self::release_service(&mut inner).await;
        {
            let mut s = self.stats.lock().await;
            s.hashrate = 0.0;
            s.thread_hashrates.clear();
        }
        let state = self.state_of(&inner).await;
        drop(inner);
        self.net
            .node_handle()
            .emit(NodeEvent::Mining(state.clone()));
        state
    }

    /// Stops everything: mining, the Stratum server, the job service.
    pub async fn shutdown(&self) {
        self.stop().await;
        let mut inner = self.inner.lock().await;
        if let Some(run) = inner.stratum.take() {
            run.server.stop();
            run.server.stopped().await;
            run.bridge.abort();
        }
        Self::release_service(&mut inner).await;
    }

    /// Whether mining runs, with how many threads.
    pub async fn state(&self) -> MiningState {
        let inner = self.inner.lock().await;
        self.state_of(&inner).await
    }

    async fn state_of(&self, inner: &Inner) -> MiningState {
        let mining = inner.cpu.as_ref().is_some_and(HasherWorker::is_running);
        let backend = self.stats.lock().await.backend.clone();
        MiningState {
            mining,
            threads: u32::try_from(inner.threads).unwrap_or(u32::MAX),
            backend: (!backend.is_empty()).then_some(backend),
        }
    }

    /// The job service while anything mines or serves Stratum.
    pub async fn job_service(&self) -> Option<JobService> {
        self.inner
            .lock()
            .await
            .service
            .clone()
            .filter(JobService::is_running)
    }

    /// The figures, kept across restarts of the miner; `None` while mining never ran and no
    /// Bitcoin block was found.
    pub async fn stats(&self) -> MiningStats {
        self.stats.lock().await.clone()
    }

    // --- OpenCL devices ---

    /// The OpenCL devices of this machine (listed once, off the async threads).
    pub async fn opencl_devices(&self) -> OpenClDevices {
        self.devices
            .get_or_init(|| async {
                let listed = tokio::task::spawn_blocking(opencl_devices).await;
                match listed {
                    Ok(Ok(d)) => {
                        tracing::info!(devices = d.len(), "OpenCL devices listed");
                        OpenClDevices::Listed(d)
                    }
                    Ok(Err(e)) => {
                        tracing::info!(reason = %e, "no OpenCL: GPUs will not mine (the CPU miner works)");
                        OpenClDevices::Unavailable(e.to_string())
                    }
                    Err(e) => OpenClDevices::Unavailable(format!("device listing failed: {e}")),
                }
            })
            .await
            .clone()
    }

    /// Each OpenCL device's setting (devices never set are disabled).
    pub async fn device_settings(&self) -> BTreeMap<String, DeviceSetting> {
        self.inner.lock().await.settings.clone()
    }

    /// Enables or disables an OpenCL device, or changes its intensity; applied at once while
    /// mining is on.
    ///
    /// # Errors
    /// [`MiningError::Device`] for an unknown device or an intensity out of range.
    pub async fn set_device(
        &self,
        id: &str,
        enabled: Option<bool>,
        intensity: Option<u8>,
    ) -> Result<DeviceSetting, MiningError> {
        let OpenClDevices::Listed(devices) = self.opencl_devices().await else {
            return Err(MiningError::Device(format!(
                "no OpenCL on this machine: device {id} cannot be set"
            )));
        };
        if !devices.iter().any(|d| d.id == id) {
            let known: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
            return Err(MiningError::Device(format!(
                "no OpenCL device {id:?} (devices: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        if let Some(i) = intensity {
            if !OpenClConfig::INTENSITIES.contains(&i) {
                return Err(MiningError::Device(format!(
                    "intensity {i} is out of range {}–{}",
                    OpenClConfig::INTENSITIES.start(),
                    OpenClConfig::INTENSITIES.end()
                )));
            }
        }
        let mut inner = self.inner.lock().await;
        let setting = inner.settings.entry(id.to_string()).or_default();
        let changed_intensity = intensity.is_some_and(|i| i != setting.intensity);
        if let Some(e) = enabled {
            setting.enabled = e;
        }
        if let Some(i) = intensity {
            setting.intensity = i;
        }
        let setting = *setting;
        save_settings(&settings_path(&self.net), &inner.settings);
        if changed_intensity {
            if let Some(w) = inner.opencl.remove(id) {
                w.stop();
                w.stopped().await;
            }
        }
        self.sync_opencl(&mut inner).await;
        Ok(setting)
    }

    /// Starts the enabled devices while mining is on; stops the others.
    async fn sync_opencl(&self, inner: &mut Inner) {
        let want: Vec<(String, DeviceSetting)> = if inner.mining {
            inner
                .settings
                .iter()
                .filter(|(_, s)| s.enabled)
                .map(|(id, s)| (id.clone(), *s))
                .collect()
        } else {
            Vec::new()
        };
        let stale: Vec<String> = inner
            .opencl
            .iter()
            .filter(|(id, w)| !w.is_running() || !want.iter().any(|(i, _)| i == *id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(w) = inner.opencl.remove(&id) {
                w.stop();
                w.stopped().await;
            }
            if let Some(d) = self.stats.lock().await.opencl.get_mut(&id) {
                d.hashrate = 0.0;
            }
        }
        if want.is_empty() {
            return;
        }
        let Some(script) = inner.script.clone() else {
            return;
        };
        let Ok(service) = self.service(inner).await else {
            return;
        };
        for (index, (id, setting)) in want.into_iter().enumerate() {
            if inner.opencl.contains_key(&id) {
                continue;
            }
            let config = OpenClConfig {
                device: id.clone(),
                intensity: setting.intensity,
            };
            let index = u8::try_from(index).unwrap_or(u8::MAX);
            match HasherWorker::start_opencl(
                &service,
                script.clone(),
                config,
                index,
                self.stats.clone(),
            ) {
                Ok(w) => {
                    self.stats
                        .lock()
                        .await
                        .opencl
                        .entry(id.clone())
                        .or_default()
                        .error = None;
                    inner.opencl.insert(id, w);
                }
                Err(e) => {
                    tracing::warn!(device = %id, error = %e, "OpenCL device not mining");
                    self.stats.lock().await.opencl.entry(id).or_default().error = Some(e);
                }
            }
        }
    }

    // --- Stratum ---

    /// Starts the Stratum server for mining devices on the job service; `address` turns a
    /// miner's user name into the script its shares pay. Returns the bound address.
    ///
    /// # Errors
    /// [`MiningError::Stratum`] for a bad config or a port that cannot be bound,
    /// [`MiningError::NoBitcoin`] without templates.
    pub async fn start_stratum(
        &self,
        config: StratumConfig,
        address: AddressParser,
    ) -> Result<SocketAddr, MiningError> {
        config
            .validate()
            .map_err(|e| MiningError::Stratum(e.to_string()))?;
        let mut inner = self.inner.lock().await;
        if let Some(run) = inner.stratum.take() {
            run.server.stop();
            run.server.stopped().await;
            run.bridge.abort();
        }
        let service = self.service(&mut inner).await?;
        let (work_tx, work_rx) = watch::channel(None);
        let bridge = tokio::spawn(crate::stratum::bridge(service.generation(), work_tx));
        let handler = Arc::new(crate::stratum::StratumSolutions::new(service.sink()));
        let server = match StratumServer::start(config.clone(), work_rx, handler, address) {
            Ok(s) => s,
            Err(e) => {
                bridge.abort();
                Self::release_service(&mut inner).await;
                return Err(MiningError::StratumBind {
                    addr: config.bind,
                    in_use: e.kind() == std::io::ErrorKind::AddrInUse,
                    reason: e.to_string(),
                });
            }
        };
        let bound = server.local_addr();
        tokio::spawn(forward_stratum_events(
            server.subscribe(),
            self.net.node_handle(),
        ));
        inner.stratum = Some(StratumRun {
            server,
            bridge,
            config,
        });
        Ok(bound)
    }

    /// The Stratum server's address and config while it runs.
    pub async fn stratum(&self) -> Option<(SocketAddr, StratumConfig)> {
        let inner = self.inner.lock().await;
        inner
            .stratum
            .as_ref()
            .map(|r| (r.server.local_addr(), r.config.clone()))
    }

    /// The Stratum workers connected now, with their figures.
    pub async fn workers(&self) -> Vec<WorkerStats> {
        let inner = self.inner.lock().await;
        inner
            .stratum
            .as_ref()
            .map(|r| r.server.workers())
            .unwrap_or_default()
    }

    /// The hasher rates now: the CPU miner, each OpenCL device and each Stratum worker
    /// (empty while nothing mines).
    pub async fn sample(&self) -> HashrateSample {
        let (cpu, opencl) = {
            let inner = self.inner.lock().await;
            (
                inner.cpu.as_ref().is_some_and(HasherWorker::is_running),
                inner.opencl.keys().cloned().collect::<Vec<_>>(),
            )
        };
        let workers = self.workers().await;
        let s = self.stats.lock().await;
        let mut hashers = Vec::new();
        if cpu {
            hashers.push(HasherRate {
                name: "cpu".into(),
                backend: s.backend.clone(),
                threads: u32::try_from(s.threads).unwrap_or(u32::MAX),
                hashrate: s.hashrate,
            });
        }
        for id in opencl {
            hashers.push(HasherRate {
                name: format!("opencl:{id}"),
                backend: "opencl".into(),
                threads: 0,
                hashrate: s.opencl.get(&id).map_or(0.0, |d| d.hashrate),
            });
        }
        for w in workers.iter().filter(|w| !w.worker.is_empty()) {
            hashers.push(HasherRate {
                name: format!("stratum:{}", w.worker),
                backend: "stratum".into(),
                threads: 0,
                hashrate: w.hashrate_1m,
            });
        }
        HashrateSample {
            hashrate: hashers.iter().map(|h| h.hashrate).sum(),
            hashers,
        }
    }
}

/// The Stratum server's events as node events (accepted shares are counted, not told one by
/// one). Ends when the server stops.
async fn forward_stratum_events(
    mut events: tokio::sync::broadcast::Receiver<StratumEvent>,
    node: p2share_service::Node,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut names: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    loop {
        let e = match events.recv().await {
            Ok(e) => e,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let name = |id: &u64| names.get(id).cloned().unwrap_or_default();
        let note = match &e {
            StratumEvent::Connected { id, remote } => {
                Some((*id, String::new(), "connected", remote.clone()))
            }
            StratumEvent::Authorized { id, worker } => {
                tracing::info!(%worker, id, "Stratum worker authorized");
                names.insert(*id, worker.clone());
                Some((*id, worker.clone(), "authorized", String::new()))
            }
            StratumEvent::DifficultyChanged { id, difficulty } => {
                Some((*id, name(id), "difficulty", format!("{difficulty}")))
            }
            StratumEvent::ShareRejected { id, reason } => {
                Some((*id, name(id), "rejected", format!("{reason:?}")))
            }
            StratumEvent::Disconnected { id, reason } => {
                let worker = names.remove(id).unwrap_or_default();
                tracing::info!(%worker, id, %reason, "Stratum worker disconnected");
                Some((*id, worker, "disconnected", reason.clone()))
            }
            _ => None,
        };
        if let Some((id, worker, kind, detail)) = note {
            node.emit(NodeEvent::Stratum(StratumNote {
                id,
                worker,
                kind: kind.to_string(),
                detail,
            }));
        }
    }
}

/// `<node datadir>/devices.json`: the OpenCL devices' settings from the Devices screen.
fn settings_path(net: &Net) -> std::path::PathBuf {
    net.node_handle().datadir().join("devices.json")
}

/// The saved device settings (none when the file is missing; a broken file is named in the log
/// and ignored — it is rewritten at the next change).
fn load_settings(path: &std::path::Path) -> BTreeMap<String, DeviceSetting> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the device settings");
            return BTreeMap::new();
        }
    };
    let parsed: Result<BTreeMap<String, (bool, u8)>, _> = serde_json::from_str(&text);
    match parsed {
        Ok(m) => m
            .into_iter()
            .filter(|(_, (_, i))| OpenClConfig::INTENSITIES.contains(i))
            .map(|(id, (enabled, intensity))| (id, DeviceSetting { enabled, intensity }))
            .collect(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "device settings ignored: not valid");
            BTreeMap::new()
        }
    }
}

/// Writes the settings atomically (a temporary file renamed over the old one).
fn save_settings(path: &std::path::Path, settings: &BTreeMap<String, DeviceSetting>) {
    let plain: BTreeMap<&String, (bool, u8)> = settings
        .iter()
        .map(|(id, s)| (id, (s.enabled, s.intensity)))
        .collect();
    let write = || -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&plain).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        tracing::warn!(path = %path.display(), error = %e, "cannot save the device settings");
    }
}

/// Emits `hashrate` events while mining and keeps samples for the history.
async fn report_hashrate(control: MiningControl) {
    let node = control.net.node_handle();
    let mut tick = tokio::time::interval(Duration::from_secs(HASHRATE_EVENT_SECS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_sample = 0u64;
    let mut was_mining = false;
    loop {
        tick.tick().await;
        if node.is_closed() {
            return;
        }
        let sample = control.sample().await;
        let mining = !sample.hashers.is_empty();
        if mining {
            node.emit(NodeEvent::Hashrate(sample.clone()));
        }
        since_sample += HASHRATE_EVENT_SECS;
        // One sample per interval while mining, and one zero when mining stops.
        if since_sample >= HASHRATE_SAMPLE_SECS && (mining || was_mining) {
            since_sample = 0;
            let now = p2share_service::unix_now();
            let rows: Vec<(String, f64)> = if mining {
                sample
                    .hashers
                    .iter()
                    .map(|h| (h.name.clone(), h.hashrate))
                    .collect()
            } else {
                vec![("cpu".to_string(), 0.0)]
            };
            if let Err(e) = node
                .store()
                .put_hashrate_samples(now, &rows, now.saturating_sub(HASHRATE_KEEP_SECS))
                .await
            {
                tracing::warn!(error = %e, "cannot keep a hashrate sample");
            }
            was_mining = mining;
        }
    }
}
