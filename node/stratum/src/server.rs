//! The tokio side: a listener, one task per connection driving a [`Session`], the work watch
//! fanned out to every connection, connection caps, statistics and events.
//!
//! Each connection task reads, hands the bytes to its session, carries out the actions in order
//! (solutions to the handler at once, events to subscribers, lines into one write), and waits
//! again on the socket, the work watch, the session's next deadline and the stop signal.
//! Connections over the per-IP or total cap are closed as soon as they are accepted, without a
//! word. A connection closed for bad input (not JSON, not UTF-8, too long, too many malformed
//! requests) gets its error line, then the server stops writing and drains its input for up to
//! 0.5 s so the device can read that line. Dropping the [`StratumServer`] stops it.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::config::StratumConfig;
pub use crate::session::AddressParser;
use crate::session::{Action, CloseReason, Session, SessionParams};
use crate::stats::{StratumEvent, WorkerStats};
use crate::work::{SolutionHandler, WorkSource};

/// The work watch the server follows: `None` until the job core has work.
pub type WorkWatch = watch::Receiver<Option<Arc<dyn WorkSource>>>;

/// Events kept for slow subscribers before they lag.
const EVENT_CAPACITY: usize = 4096;
/// Pending connections the kernel queues for `accept`.
const BACKLOG: u32 = 1024;
/// Bytes read from a socket at once.
const READ_CHUNK: usize = 4096;
/// How long a connection closed for misbehaving is drained before the socket goes.
const LINGER: Duration = Duration::from_millis(500);
/// The most bytes drained then.
const LINGER_BYTES: usize = 256 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Inner {
    config: Arc<StratumConfig>,
    handler: Arc<dyn SolutionHandler>,
    address: AddressParser,
    events: broadcast::Sender<StratumEvent>,
    sessions: Mutex<HashMap<u64, Arc<Mutex<Session>>>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    connections: AtomicUsize,
    next_id: AtomicU64,
    en1_seed: u32,
    en1_count: AtomicU32,
    job_ids: Arc<AtomicU64>,
}

impl Inner {
    /// A slot for a connection from `ip`, or `None` over the caps.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut per_ip = lock(&self.per_ip);
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.config.max_per_ip
            || self.connections.load(Ordering::Relaxed) >= self.config.max_connections
        {
            if *n == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *n += 1;
        self.connections.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            inner: self.clone(),
            ip,
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }

    /// A fresh extranonce1: the seed plus the connection count times an odd constant, which is
    /// a bijection on 32 bits, so unique for 2³² connections of one run.
    fn extranonce1(&self) -> [u8; 4] {
        let n = self.en1_count.fetch_add(1, Ordering::Relaxed);
        self.en1_seed
            .wrapping_add(n.wrapping_mul(0x9e37_79b1))
            .to_be_bytes()
    }
}

/// A connection's place under the caps; released (and its session unregistered) on drop.
struct Slot {
    inner: Arc<Inner>,
    ip: IpAddr,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.inner.sessions).remove(&self.id);
        let mut per_ip = lock(&self.inner.per_ip);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.inner.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A running Stratum v1 server. Dropping it (or [`StratumServer::stop`]) stops it.
pub struct StratumServer {
    inner: Arc<Inner>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    done: watch::Receiver<bool>,
}

impl std::fmt::Debug for StratumServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StratumServer")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

impl StratumServer {
    /// Binds `config.bind` and serves on the current tokio runtime: every connection gets
    /// `work_for(its payout)` from the watched source, and its solutions go to `handler`.
    /// `address` turns the address part of an authorize user string into a payout script.
    ///
    /// # Errors
    /// `InvalidInput` for settings out of range ([`StratumConfig::validate`]); the bind error,
    /// with the address, when the port cannot be taken.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn`).
    pub fn start(
        config: StratumConfig,
        work: WorkWatch,
        handler: Arc<dyn SolutionHandler>,
        address: AddressParser,
    ) -> io::Result<StratumServer> {
        config
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let bind = config.bind;
        let with_addr = |e: io::Error| io::Error::new(e.kind(), format!("stratum on {bind}: {e}"));
        let socket = if bind.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(with_addr)?;
        socket.set_reuseaddr(true).map_err(with_addr)?;
        socket.bind(bind).map_err(with_addr)?;
        let listener = socket.listen(BACKLOG).map_err(with_addr)?;
        let local_addr = listener.local_addr()?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(16))
            .unwrap_or(0);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let inner = Arc::new(Inner {
            config: Arc::new(config),
            handler,
            address,
            events,
            sessions: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            en1_seed: seed,
            en1_count: AtomicU32::new(0),
            job_ids: Arc::new(AtomicU64::new(0)),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (done_tx, done) = watch::channel(false);
        tracing::info!(%local_addr, "stratum server listening");
        tokio::spawn(accept_loop(
            listener,
            inner.clone(),
            work,
            shutdown_rx,
            done_tx,
        ));
        Ok(StratumServer {
            inner,
            local_addr,
            shutdown,
            done,
        })
    }

    /// The address actually bound (port 0 in the config picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Statistics of every open connection, by id.
    pub fn workers(&self) -> Vec<WorkerStats> {
        let sessions: Vec<Arc<Mutex<Session>>> =
            lock(&self.inner.sessions).values().cloned().collect();
        let now = Instant::now();
        let mut v: Vec<WorkerStats> = sessions.iter().map(|s| lock(s).stats(now)).collect();
        v.sort_by_key(|w| w.id);
        v
    }

    /// Events from now on (connected, authorized, shares, difficulty, disconnected). A
    /// subscriber that falls more than 4096 events behind misses the oldest.
    pub fn subscribe(&self) -> broadcast::Receiver<StratumEvent> {
        self.inner.events.subscribe()
    }

    /// Stops accepting and closes every connection; [`StratumServer::stopped`] resolves when
    /// all are closed.
    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once the server has stopped.
    pub async fn stopped(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    inner: Arc<Inner>,
    work: WorkWatch,
    mut shutdown: watch::Receiver<bool>,
    done: watch::Sender<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            biased;
            r = shutdown.changed() => {
                if r.is_err() {
                    break;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            r = listener.accept() => match r {
                Ok((stream, remote)) => match inner.admit(remote.ip()) {
                    Some(slot) => {
                        tasks.spawn(connection(
                            stream,
                            remote,
                            slot,
                            work.clone(),
                            shutdown.clone(),
                        ));
                    }
                    None => {
                        tracing::debug!(%remote, "stratum connection refused: over the caps");
                        drop(stream);
                    }
                },
                Err(e) => {
                    // Out of descriptors and the like: do not spin.
                    tracing::warn!("stratum accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
    tracing::info!("stratum server stopped");
    done.send_replace(true);
}

/// Whether a close answers bad input (whose error line the device should still get).
fn closed_for_input(r: &CloseReason) -> bool {
    matches!(
        r,
        CloseReason::LineTooLong { .. }
            | CloseReason::NotUtf8
            | CloseReason::NotJson
            | CloseReason::TooManyErrors(_)
    )
}

/// Carries out a session's actions; returns the close reason if one came.
fn carry_out(actions: Vec<Action>, inner: &Inner, out: &mut Vec<u8>) -> Option<CloseReason> {
    let mut close = None;
    for a in actions {
        match a {
            Action::Send(line) => out.extend_from_slice(line.as_bytes()),
            Action::Solution(s) => inner.handler.solution(*s),
            Action::Event(e) => {
                let _ = inner.events.send(e);
            }
            Action::Close(r) => close = Some(r),
        }
    }
    close
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    slot: Slot,
    mut work: WorkWatch,
    mut shutdown: watch::Receiver<bool>,
) {
    let inner = slot.inner.clone();
    let id = slot.id;
    let _ = stream.set_nodelay(true);
    let session = Arc::new(Mutex::new(Session::new(SessionParams {
        config: inner.config.clone(),
        id,
        extranonce1: inner.extranonce1(),
        job_ids: inner.job_ids.clone(),
        address: inner.address.clone(),
        remote: remote.to_string(),
        now: Instant::now(),
        unix_now: unix_now(),
    })));
    lock(&inner.sessions).insert(id, session.clone());
    let _ = inner.events.send(StratumEvent::Connected {
        id,
        remote: remote.to_string(),
    });
    tracing::debug!(connection = id, %remote, "stratum connection");

    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut watching = true;
    let first = work.borrow_and_update().clone();
    let mut actions = lock(&session).work_changed(first, Instant::now());
    let write_timeout = inner.config.write_timeout;
    let reason = loop {
        let close = carry_out(actions, &inner, &mut out);
        if !out.is_empty() {
            match tokio::time::timeout(write_timeout, wr.write_all(&out)).await {
                Ok(Ok(())) => out.clear(),
                Ok(Err(e)) => break format!("write failed: {e}"),
                Err(_) => break format!("write timed out after {write_timeout:?}"),
            }
        }
        if let Some(r) = close {
            if !closed_for_input(&r) {
                break r.to_string();
            }
            // Let the device read the last error: stop writing, then drain what it still
            // sends for a moment (closing with unread input would reset the connection).
            let _ = tokio::time::timeout(Duration::from_secs(1), wr.shutdown()).await;
            let _ = tokio::time::timeout(LINGER, async {
                let mut drained = 0usize;
                while drained < LINGER_BYTES {
                    match rd.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => drained += n,
                    }
                }
            })
            .await;
            break r.to_string();
        }
        if *shutdown.borrow() {
            break "server stopped".to_owned();
        }
        let deadline = lock(&session).next_deadline();
        actions = tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) => break "closed by the device".to_owned(),
                Ok(n) => lock(&session).receive(&buf[..n], Instant::now()),
                Err(e) => break format!("read failed: {e}"),
            },
            r = work.changed(), if watching => match r {
                Ok(()) => {
                    let source = work.borrow_and_update().clone();
                    lock(&session).work_changed(source, Instant::now())
                }
                Err(_) => {
                    watching = false;
                    Vec::new()
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => lock(&session).tick(Instant::now()),
            _ = shutdown.changed() => break "server stopped".to_owned(),
        };
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), wr.shutdown()).await;
    tracing::debug!(connection = id, %remote, "stratum connection closed: {reason}");
    // Free the slot first: whoever sees the event sees the connection gone (workers, counts,
    // the per-IP cap).
    drop(slot);
    let _ = inner.events.send(StratumEvent::Disconnected { id, reason });
}
