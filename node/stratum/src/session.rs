//! One Stratum v1 connection as a sans-IO state machine: bytes, work changes and the passing of
//! time go in ([`Session::receive`], [`Session::work_changed`], [`Session::tick`]); lines to
//! write, solutions, events and a close come out as [`Action`]s, in the order they must be
//! carried out. No sockets, tasks or clock reads: time is an argument.
//!
//! Within one call the lines are answered in order; the first work after authorize
//! (`set_difficulty`, then a clean `notify`) follows the replies of that call, so a difficulty
//! suggested in the same read as `authorize` (NerdQAxe++) is the first one sent.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::{ScriptBuf, Target};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::config::StratumConfig;
use crate::header::{
    coinbase_bytes, difficulty_to_target, fold_branch, from_hex, hash_difficulty, header, hex,
    notify_prevhash, parse_hex_u32, rolled_version, target_to_difficulty, CoinbasePrefix,
};
use crate::protocol::{self, reply_error, reply_ok, ErrorCode, Message, Notify, ParseError};
use crate::stats::{HashrateMeter, RejectReason, Rejections, StratumEvent, WorkerStats};
use crate::vardiff::Vardiff;
use crate::work::{Solution, Work, WorkSource};

/// Jobs kept per connection; a share for an older one is "job not found" (21).
pub const MAX_JOBS: usize = 32;
/// Malformed requests (error 20 outside `mining.submit`, invalid addresses) a connection may
/// send before it is closed.
pub const MAX_PROTOCOL_ERRORS: u32 = 100;
/// Distinct shares remembered per job (for duplicates); past this, shares of that job are
/// refused with error 20 until the next job.
pub const MAX_SHARES_PER_JOB: usize = 1 << 20;
/// How far past the job's time a device may roll ntime (seconds).
pub const NTIME_ROLL: u32 = 7200;
/// Longest text of a device (method names, user agents, params) repeated in replies and stats.
const CLIP: usize = 64;
/// Longest authorize user string kept (`address.worker`); longer ones are cut.
const USER_CLIP: usize = 256;

/// Turns the address part of an authorize user string into a payout script, or says why not.
pub type AddressParser = Arc<dyn Fn(&str) -> Result<ScriptBuf, String> + Send + Sync>;

/// What a [`Session`] needs to start.
#[derive(Clone)]
pub struct SessionParams {
    /// Server settings.
    pub config: Arc<StratumConfig>,
    /// Connection id (unique per server run).
    pub id: u64,
    /// The connection's extranonce1 (unique per server run).
    pub extranonce1: [u8; 4],
    /// The server's job id counter (ids are unique and increasing across connections).
    pub job_ids: Arc<AtomicU64>,
    /// The address parser for `mining.authorize`.
    pub address: AddressParser,
    /// The peer, for stats.
    pub remote: String,
    /// When the connection came.
    pub now: Instant,
    /// The same moment in unix seconds, for stats.
    pub unix_now: u64,
}

/// What the driver must do, in order.
#[derive(Debug)]
pub enum Action {
    /// Write this line (it ends with `\n`).
    Send(String),
    /// Hand this solution to the [`crate::SolutionHandler`] now (before writing what follows).
    Solution(Box<Solution>),
    /// Publish this event.
    Event(StratumEvent),
    /// Write what came before, then close the connection.
    Close(CloseReason),
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseReason {
    /// A line (or an unfinished one) longer than the cap.
    #[error("line longer than {max} bytes")]
    LineTooLong {
        /// The cap.
        max: usize,
    },
    /// A line that is not UTF-8.
    #[error("line is not UTF-8")]
    NotUtf8,
    /// A line that is not JSON.
    #[error("line is not JSON")]
    NotJson,
    /// Too many malformed requests.
    #[error("more than {0} malformed requests")]
    TooManyErrors(u32),
    /// No complete line for the idle timeout.
    #[error("no request for {0:?}")]
    Idle(Duration),
    /// Not subscribed and authorized within the handshake timeout.
    #[error("not subscribed and authorized within {0:?}")]
    Handshake(Duration),
}

/// A `mining.submit`, fields as the device sent them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Submit<'a> {
    /// The worker name (not checked: a connection has one payout).
    pub worker: &'a str,
    /// Job id (hex).
    pub job_id: &'a str,
    /// extranonce2 (hex, exactly the configured size).
    pub extranonce2: &'a str,
    /// ntime (1–8 hex digits, big-endian).
    pub ntime: &'a str,
    /// nonce (1–8 hex digits, big-endian; unpadded accepted).
    pub nonce: &'a str,
    /// BIP 310 version bits (the 6th param), if sent.
    pub version_bits: Option<&'a str>,
}

/// The verdict on one device share.
#[derive(Debug)]
pub enum ShareOutcome {
    /// Meets its job's difficulty.
    Accepted {
        /// The job's difficulty (what the share is credited with).
        job_difficulty: f64,
        /// The share's own difficulty.
        share_difficulty: f64,
        /// Present when the share meets the work's share or Bitcoin target.
        solution: Option<Box<Solution>>,
    },
    /// Refused.
    Rejected {
        /// Why, for stats.
        reason: RejectReason,
        /// The error code to answer with.
        code: ErrorCode,
        /// The error message to answer with.
        message: String,
        /// Present when the share still meets a target that must not be lost (a stale share
        /// meeting Bitcoin's target, or a low one meeting the share target).
        solution: Option<Box<Solution>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ShareKey {
    en2: [u8; 16],
    ntime: u32,
    nonce: u32,
    version: u32,
}

struct Job {
    id: u64,
    work: Arc<Work>,
    difficulty: f64,
    target: Target,
    stale: bool,
    prefix: CoinbasePrefix,
    seen: HashSet<ShareKey>,
}

struct Auth {
    worker: String,
    address: String,
    name: String,
    payout: ScriptBuf,
}

/// One connection's protocol state.
pub struct Session {
    config: Arc<StratumConfig>,
    id: u64,
    en1: [u8; 4],
    en2_size: usize,
    job_ids: Arc<AtomicU64>,
    address: AddressParser,
    remote: String,
    source: Option<Arc<dyn WorkSource>>,
    buf: Vec<u8>,
    subscribed: bool,
    user_agent: String,
    auth: Option<Auth>,
    mask: u32,
    difficulty: f64,
    sent_difficulty: Option<f64>,
    suggested: Option<f64>,
    work: Option<Arc<Work>>,
    jobs: VecDeque<Job>,
    vardiff: Vardiff,
    meter: HashrateMeter,
    accepted: u64,
    rejected: Rejections,
    best: f64,
    solutions: u64,
    created: Instant,
    created_unix: u64,
    last_line: Instant,
    errors: u32,
    work_pending: bool,
    closed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("extranonce1", &hex(&self.en1))
            .field("subscribed", &self.subscribed)
            .field("worker", &self.auth.as_ref().map(|a| &a.worker))
            .field("difficulty", &self.difficulty)
            .field("jobs", &self.jobs.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// The text of a JSON string value, borrowed when it has no escapes.
fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let s = raw.get();
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
        _ => serde_json::from_str::<String>(s).ok().map(Cow::Owned),
    }
}

/// At most [`CLIP`] characters of a device's text.
fn clip(s: &str) -> &str {
    clip_to(s, CLIP)
}

/// At most `n` characters of `s`.
fn clip_to(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn params_array(params: Option<&RawValue>) -> Option<Vec<Value>> {
    match params {
        None => Some(Vec::new()),
        Some(p) => serde_json::from_str::<Vec<Value>>(p.get()).ok(),
    }
}

/// A positive finite number, or a string holding one.
fn number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    (n.is_finite() && n > 0.0).then_some(n)
}

/// `t + d`, or as far as an `Instant` goes (a timeout too long to matter).
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(t)
}

fn parse_job_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

impl Session {
    /// A fresh connection: nothing is sent until the device speaks.
    pub fn new(p: SessionParams) -> Session {
        let start = p
            .config
            .start_difficulty
            .clamp(p.config.min_difficulty, p.config.max_difficulty);
        Session {
            en2_size: p.config.extranonce2_size.clamp(1, 16),
            vardiff: Vardiff::new(p.config.share_interval, p.now),
            config: p.config,
            id: p.id,
            en1: p.extranonce1,
            job_ids: p.job_ids,
            address: p.address,
            remote: p.remote,
            source: None,
            buf: Vec::new(),
            subscribed: false,
            user_agent: String::new(),
            auth: None,
            mask: 0,
            difficulty: start,
            sent_difficulty: None,
            suggested: None,
            work: None,
            jobs: VecDeque::new(),
            meter: HashrateMeter::new(p.now),
            accepted: 0,
            rejected: Rejections::default(),
            best: 0.0,
            solutions: 0,
            created: p.now,
            created_unix: p.unix_now,
            last_line: p.now,
            errors: 0,
            work_pending: false,
            closed: false,
        }
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The connection's extranonce1.
    pub fn extranonce1(&self) -> [u8; 4] {
        self.en1
    }

    /// The current difficulty (of the next job).
    pub fn difficulty(&self) -> f64 {
        self.difficulty
    }

    /// Whether the session has ended (after an [`Action::Close`]).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the device has subscribed and authorized.
    pub fn is_ready(&self) -> bool {
        self.subscribed && self.auth.is_some()
    }

    /// The id (hex, as sent) of the newest job, if any was sent.
    pub fn last_job_id(&self) -> Option<String> {
        self.jobs.back().map(|j| format!("{:x}", j.id))
    }

    /// Bytes from the device. Complete lines are answered in order; an unfinished line is kept
    /// for the next call.
    pub fn receive(&mut self, data: &[u8], now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        let max = self.config.max_line_bytes;
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(data);
        let mut start = 0;
        while !self.closed {
            let rest = &buf[start..];
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = &rest[..i];
                    start += i + 1;
                    if line.len() > max {
                        self.line_too_long(&mut out);
                    } else {
                        self.line(line, now, &mut out);
                    }
                }
                None => {
                    if rest.len() > max {
                        self.line_too_long(&mut out);
                    }
                    break;
                }
            }
        }
        if !self.closed {
            buf.drain(..start);
            self.buf = buf;
            if self.work_pending {
                self.work_pending = false;
                self.refresh(true, now, &mut out);
            }
        }
        out
    }

    /// The work source changed (a new generation): authorized connections get
    /// `work_for(payout)` in a notify, clean as the source says. The first work after
    /// authorize is always clean.
    pub fn work_changed(
        &mut self,
        source: Option<Arc<dyn WorkSource>>,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        self.source = source;
        let clean = self.source.as_ref().is_some_and(|s| s.clean());
        self.refresh(clean, now, &mut out);
        out
    }

    /// Time passed: closes idle or never-authorized connections, and retargets when a whole
    /// vardiff period passed.
    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        if !self.is_ready() && now >= later(self.created, self.config.handshake_timeout) {
            self.close(
                CloseReason::Handshake(self.config.handshake_timeout),
                &mut out,
            );
        } else if now >= later(self.last_line, self.config.idle_timeout) {
            self.close(CloseReason::Idle(self.config.idle_timeout), &mut out);
        } else if !self.jobs.is_empty() {
            self.retarget(now, &mut out);
        }
        out
    }

    /// When [`Session::tick`] next has something to do.
    pub fn next_deadline(&self) -> Instant {
        let mut d = later(self.last_line, self.config.idle_timeout);
        if !self.is_ready() {
            d = d.min(later(self.created, self.config.handshake_timeout));
        }
        if !self.jobs.is_empty() {
            d = d.min(self.vardiff.deadline());
        }
        d
    }

    /// The connection's statistics at `now`.
    pub fn stats(&self, now: Instant) -> WorkerStats {
        let (worker, address, name) = match &self.auth {
            Some(a) => (a.worker.clone(), a.address.clone(), a.name.clone()),
            None => Default::default(),
        };
        let since = |t: Instant| t.saturating_duration_since(self.created).as_secs();
        WorkerStats {
            id: self.id,
            worker,
            address,
            name,
            user_agent: self.user_agent.clone(),
            remote: self.remote.clone(),
            connected_at: self.created_unix,
            last_seen: self.created_unix + since(self.last_line),
            difficulty: self.difficulty,
            hashrate_1m: self.meter.rate(Duration::from_secs(60), now),
            hashrate_15m: self.meter.rate(Duration::from_secs(900), now),
            hashrate_1h: self.meter.rate(Duration::from_secs(3600), now),
            accepted: self.accepted,
            rejected: self.rejected,
            best_difficulty: self.best,
            solutions: self.solutions,
        }
    }

    fn close(&mut self, reason: CloseReason, out: &mut Vec<Action>) {
        self.closed = true;
        self.buf = Vec::new();
        out.push(Action::Close(reason));
    }

    fn line_too_long(&mut self, out: &mut Vec<Action>) {
        let max = self.config.max_line_bytes;
        out.push(Action::Send(reply_error(
            "null",
            ErrorCode::Other,
            &format!("line longer than {max} bytes"),
        )));
        self.close(CloseReason::LineTooLong { max }, out);
    }

    fn protocol_error(&mut self, id: &str, message: &str, out: &mut Vec<Action>) {
        out.push(Action::Send(reply_error(id, ErrorCode::Other, message)));
        self.errors += 1;
        if self.errors > MAX_PROTOCOL_ERRORS {
            self.close(CloseReason::TooManyErrors(MAX_PROTOCOL_ERRORS), out);
        }
    }

    fn line(&mut self, raw: &[u8], now: Instant, out: &mut Vec<Action>) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.last_line = now;
        let Ok(text) = std::str::from_utf8(raw) else {
            out.push(Action::Send(reply_error(
                "null",
                ErrorCode::Other,
                "line is not UTF-8",
            )));
            self.close(CloseReason::NotUtf8, out);
            return;
        };
        match protocol::parse_line(text) {
            Ok(Message::Request { id, method, params }) => {
                self.request(id, &method, params, now, out);
            }
            Ok(Message::Response) => {}
            Err(ParseError::NotARequest { id, why }) => {
                let id = id.unwrap_or_else(|| "null".to_owned());
                self.protocol_error(&id, &format!("not a Stratum request: {why}"), out);
            }
            Err(ParseError::NotJson(why)) => {
                out.push(Action::Send(reply_error(
                    "null",
                    ErrorCode::Other,
                    &format!("line is not JSON: {why}"),
                )));
                self.close(CloseReason::NotJson, out);
            }
        }
    }

    fn request(
        &mut self,
        id: &str,
        method: &str,
        params: Option<&RawValue>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        match method {
            "mining.submit" => self.submit_line(id, params, now, out),
            "mining.subscribe" => self.subscribe(id, params, out),
            "mining.authorize" => self.authorize(id, params, now, out),
            "mining.configure" => self.configure(id, params, out),
            // Never answered: cgminer counts a reply it does not expect as a share result.
            "mining.suggest_difficulty" => {
                if let Some(d) = params_array(params).and_then(|p| p.first().and_then(number)) {
                    self.suggest(d, now, out);
                }
            }
            "mining.suggest_target" => {
                let target = params_array(params)
                    .and_then(|p| p.first().and_then(|v| v.as_str().map(str::to_owned)))
                    .and_then(|s| {
                        let padded = format!("{s:0>64}");
                        from_hex(&padded).and_then(|b| <[u8; 32]>::try_from(b).ok())
                    });
                if let Some(t) = target {
                    let d = target_to_difficulty(Target::from_be_bytes(t));
                    if d.is_finite() && d > 0.0 {
                        self.suggest(d, now, out);
                    }
                }
            }
            "mining.extranonce.subscribe" => out.push(Action::Send(reply_ok(id, "true"))),
            other => {
                self.protocol_error(id, &format!("unknown method '{}'", clip(other)), out);
            }
        }
    }

    fn subscribe(&mut self, id: &str, params: Option<&RawValue>, out: &mut Vec<Action>) {
        let Some(p) = params_array(params) else {
            self.protocol_error(id, "mining.subscribe params must be an array", out);
            return;
        };
        if let Some(agent) = p.first().and_then(Value::as_str) {
            self.user_agent = clip(agent).to_owned();
        }
        self.subscribed = true;
        let sid = hex(&self.en1);
        let result = format!(
            "[[[\"mining.set_difficulty\",\"{sid}\"],[\"mining.notify\",\"{sid}\"]],\"{sid}\",{}]",
            self.en2_size
        );
        out.push(Action::Send(reply_ok(id, &result)));
        if self.auth.is_some() && self.jobs.is_empty() {
            self.work_pending = true;
        }
    }

    fn authorize(
        &mut self,
        id: &str,
        params: Option<&RawValue>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let p = params_array(params).unwrap_or_default();
        let Some(user) = p.first().and_then(Value::as_str) else {
            self.protocol_error(
                id,
                "mining.authorize params must be [\"<address>.<worker>\", \"<password>\"]",
                out,
            );
            return;
        };
        let (address, name) = user.split_once('.').unwrap_or((user, ""));
        match (self.address)(address) {
            Err(why) => {
                out.push(Action::Send(reply_error(
                    id,
                    ErrorCode::Unauthorized,
                    &format!(
                        "invalid payout address '{}' in worker '{}': {why}",
                        clip_to(address, USER_CLIP),
                        clip_to(user, USER_CLIP)
                    ),
                )));
                self.errors += 1;
                if self.errors > MAX_PROTOCOL_ERRORS {
                    self.close(CloseReason::TooManyErrors(MAX_PROTOCOL_ERRORS), out);
                }
            }
            Ok(payout) => {
                out.push(Action::Send(reply_ok(id, "true")));
                if self.auth.is_some() {
                    return;
                }
                let worker = clip_to(user, USER_CLIP).to_owned();
                self.auth = Some(Auth {
                    worker: worker.clone(),
                    address: address.to_owned(),
                    name: clip_to(name, USER_CLIP).to_owned(),
                    payout,
                });
                out.push(Action::Event(StratumEvent::Authorized {
                    id: self.id,
                    worker,
                }));
                // A password "d=<difficulty>" (ckpool style) is a suggestion.
                let suggested = p
                    .get(1)
                    .and_then(Value::as_str)
                    .and_then(|pw| pw.split(',').find_map(|kv| kv.trim().strip_prefix("d=")))
                    .and_then(|d| d.parse::<f64>().ok())
                    .filter(|d| d.is_finite() && *d > 0.0);
                if let Some(d) = suggested {
                    self.suggest(d, now, out);
                }
                if self.subscribed {
                    self.work_pending = true;
                }
            }
        }
    }

    fn configure(&mut self, id: &str, params: Option<&RawValue>, out: &mut Vec<Action>) {
        let p = params_array(params).unwrap_or_default();
        let Some(exts) = p.first().and_then(Value::as_array) else {
            self.protocol_error(
                id,
                "mining.configure params must be [[extensions], {parameters}]",
                out,
            );
            return;
        };
        let opts = p.get(1).and_then(Value::as_object);
        let mut result = serde_json::Map::new();
        let old_mask = self.mask;
        for ext in exts.iter().filter_map(Value::as_str).take(16) {
            if ext == "version-rolling" {
                let theirs = opts
                    .and_then(|o| o.get("version-rolling.mask"))
                    .and_then(Value::as_str)
                    .and_then(parse_hex_u32)
                    .unwrap_or(u32::MAX);
                let mask = self.config.version_mask & theirs;
                self.mask = mask;
                result.insert("version-rolling".to_owned(), Value::Bool(mask != 0));
                if mask != 0 {
                    result.insert(
                        "version-rolling.mask".to_owned(),
                        Value::String(format!("{mask:08x}")),
                    );
                }
            } else {
                // minimum-difficulty, subscribe-extranonce, info, ...: not supported.
                result.insert(clip(ext).to_owned(), Value::Bool(false));
            }
        }
        let body = Value::Object(result).to_string();
        out.push(Action::Send(reply_ok(id, &body)));
        if self.mask != old_mask && !self.jobs.is_empty() {
            out.push(Action::Send(protocol::set_version_mask(self.mask)));
        }
    }

    /// A difficulty suggestion: applied within the clamps unless it repeats the last one.
    fn suggest(&mut self, d: f64, now: Instant, out: &mut Vec<Action>) {
        if self.suggested == Some(d) {
            return;
        }
        self.suggested = Some(d);
        let new = d.clamp(self.config.min_difficulty, self.config.max_difficulty);
        self.vardiff.reset(now);
        self.change_difficulty(new, out);
    }

    fn change_difficulty(&mut self, new: f64, out: &mut Vec<Action>) {
        if new == self.difficulty {
            return;
        }
        self.difficulty = new;
        out.push(Action::Event(StratumEvent::DifficultyChanged {
            id: self.id,
            difficulty: new,
        }));
        // Devices take a new difficulty at the next notify: send one with the same work.
        if let Some(work) = self.work.clone() {
            if !self.jobs.is_empty() {
                self.issue_job(work, false, out);
            }
        }
    }

    fn retarget(&mut self, now: Instant, out: &mut Vec<Action>) {
        let (min, max) = (self.config.min_difficulty, self.config.max_difficulty);
        if let Some(new) = self.vardiff.retarget(self.difficulty, min, max, now) {
            self.change_difficulty(new, out);
        }
    }

    /// Sends the source's work for this payout if the device is ready and the work is new
    /// (always when no job was sent yet, then clean).
    fn refresh(&mut self, clean: bool, now: Instant, out: &mut Vec<Action>) {
        if !self.subscribed {
            return;
        }
        let (Some(source), Some(auth)) = (&self.source, &self.auth) else {
            return;
        };
        match source.work_for(&auth.payout) {
            Ok(work) => {
                let first = self.jobs.is_empty();
                if !first && self.work.as_ref().is_some_and(|w| Arc::ptr_eq(w, &work)) {
                    return;
                }
                if first {
                    self.vardiff.reset(now);
                }
                self.issue_job(work, clean || first, out);
            }
            Err(why) => {
                tracing::warn!(connection = self.id, worker = %auth.worker, "no work for this payout: {why}");
            }
        }
    }

    fn issue_job(&mut self, work: Arc<Work>, clean: bool, out: &mut Vec<Action>) {
        if clean {
            for j in &mut self.jobs {
                j.stale = true;
            }
        }
        if self.sent_difficulty != Some(self.difficulty) {
            out.push(Action::Send(protocol::set_difficulty(self.difficulty)));
            self.sent_difficulty = Some(self.difficulty);
        }
        let id = self.job_ids.fetch_add(1, Ordering::Relaxed) + 1;
        let prevhash = notify_prevhash(&work.prev_hash);
        out.push(Action::Send(protocol::notify(&Notify {
            job_id: id,
            prevhash: &prevhash,
            coinb1: &work.coinb1,
            coinb2: &work.coinb2,
            branch: &work.merkle_branch,
            version: work.version,
            bits: work.bits,
            time: work.time,
            clean,
        })));
        self.jobs.push_back(Job {
            id,
            prefix: CoinbasePrefix::new(&work.coinb1, &self.en1),
            difficulty: self.difficulty,
            target: difficulty_to_target(self.difficulty),
            stale: false,
            seen: HashSet::new(),
            work: work.clone(),
        });
        while self.jobs.len() > MAX_JOBS {
            self.jobs.pop_front();
        }
        self.work = Some(work);
    }

    fn submit_line(
        &mut self,
        id: &str,
        params: Option<&RawValue>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let raw: Vec<&RawValue> = params
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default();
        let fields: Option<Vec<Cow<'_, str>>> = raw.iter().map(|r| json_str(r)).collect();
        let fields = fields.filter(|f| f.len() == 5 || f.len() == 6);
        let outcome = match fields {
            Some(f) => {
                let submit = Submit {
                    worker: &f[0],
                    job_id: &f[1],
                    extranonce2: &f[2],
                    ntime: &f[3],
                    nonce: &f[4],
                    version_bits: f.get(5).map(|v| &**v),
                };
                self.check_share(&submit, now)
            }
            // Not subscribed or authorized comes before malformed params (25, 24).
            None if !self.is_ready() => self.check_share(&Submit::default(), now),
            None => {
                self.rejected.add(RejectReason::Other);
                ShareOutcome::Rejected {
                    reason: RejectReason::Other,
                    code: ErrorCode::Other,
                    message: "mining.submit params must be 5 or 6 strings: [worker, job_id, \
                              extranonce2, ntime, nonce, (version_bits)]"
                        .to_owned(),
                    solution: None,
                }
            }
        };
        match outcome {
            ShareOutcome::Accepted {
                job_difficulty,
                share_difficulty,
                solution,
            } => {
                let handed = solution.is_some();
                if let Some(s) = solution {
                    out.push(Action::Solution(s));
                }
                out.push(Action::Send(reply_ok(id, "true")));
                out.push(Action::Event(StratumEvent::ShareAccepted {
                    id: self.id,
                    difficulty: job_difficulty,
                    share_difficulty,
                    solution: handed,
                }));
                self.retarget(now, out);
            }
            ShareOutcome::Rejected {
                reason,
                code,
                message,
                solution,
            } => {
                if let Some(s) = solution {
                    out.push(Action::Solution(s));
                }
                out.push(Action::Send(reply_error(id, code, &message)));
                out.push(Action::Event(StratumEvent::ShareRejected {
                    id: self.id,
                    reason,
                }));
            }
        }
    }

    /// Checks one device share against its job and counts it: the coinbase with this
    /// connection's extranonce1 and the device's extranonce2, the branch folded, the header
    /// with the rolled version, its hash against the job's difficulty, the work's share target
    /// and Bitcoin's.
    pub fn check_share(&mut self, s: &Submit<'_>, now: Instant) -> ShareOutcome {
        let outcome = self.check(s);
        match &outcome {
            ShareOutcome::Accepted {
                job_difficulty,
                share_difficulty,
                solution,
            } => {
                self.accepted += 1;
                self.best = self.best.max(*share_difficulty);
                self.meter.add(*job_difficulty, now);
                self.vardiff.record(*job_difficulty);
                if solution.is_some() {
                    self.solutions += 1;
                }
            }
            ShareOutcome::Rejected {
                reason, solution, ..
            } => {
                self.rejected.add(*reason);
                if solution.is_some() {
                    self.solutions += 1;
                }
            }
        }
        outcome
    }

    fn check(&mut self, s: &Submit<'_>) -> ShareOutcome {
        let reject = |reason, code, message: String| ShareOutcome::Rejected {
            reason,
            code,
            message,
            solution: None,
        };
        let other = |message: String| reject(RejectReason::Other, ErrorCode::Other, message);
        if !self.subscribed {
            return reject(
                RejectReason::Other,
                ErrorCode::NotSubscribed,
                "not subscribed: send mining.subscribe first".to_owned(),
            );
        }
        let Some(auth) = &self.auth else {
            return reject(
                RejectReason::Other,
                ErrorCode::Unauthorized,
                "not authorized: send mining.authorize first".to_owned(),
            );
        };
        let Some(job) =
            parse_job_id(s.job_id).and_then(|jid| self.jobs.iter_mut().rev().find(|j| j.id == jid))
        else {
            return reject(
                RejectReason::BadJob,
                ErrorCode::JobNotFound,
                format!("job '{}' not found", clip(s.job_id)),
            );
        };
        let Some(en2) = from_hex(s.extranonce2).filter(|e| e.len() == self.en2_size) else {
            return other(format!(
                "extranonce2 '{}' must be {} bytes of hex",
                clip(s.extranonce2),
                self.en2_size
            ));
        };
        let Some(ntime) = parse_hex_u32(s.ntime) else {
            return other(format!("ntime '{}' is not 1-8 hex digits", clip(s.ntime)));
        };
        let Some(nonce) = parse_hex_u32(s.nonce) else {
            return other(format!("nonce '{}' is not 1-8 hex digits", clip(s.nonce)));
        };
        let bits = match s.version_bits {
            None => 0,
            Some(v) => match parse_hex_u32(v) {
                Some(b) => b,
                None => return other(format!("version bits '{}' are not hex", clip(v))),
            },
        };
        let mask = self.mask & job.work.version_mask;
        if bits & !mask != 0 {
            return other(format!(
                "version bits {bits:08x} outside the negotiated mask {mask:08x}"
            ));
        }
        let earliest = job.work.time;
        let latest = earliest.saturating_add(NTIME_ROLL);
        if !(earliest..=latest).contains(&ntime) {
            return other(format!(
                "ntime {ntime:08x} outside the job's range {earliest:08x}..={latest:08x}"
            ));
        }
        let version = rolled_version(job.work.version, bits, mask);
        let mut key_en2 = [0u8; 16];
        key_en2[..en2.len()].copy_from_slice(&en2);
        let key = ShareKey {
            en2: key_en2,
            ntime,
            nonce,
            version,
        };
        if job.seen.contains(&key) {
            return reject(
                RejectReason::Duplicate,
                ErrorCode::Duplicate,
                "duplicate share".to_owned(),
            );
        }
        if job.seen.len() >= MAX_SHARES_PER_JOB {
            return other(format!(
                "more than {MAX_SHARES_PER_JOB} shares for job {:x}; wait for the next job",
                job.id
            ));
        }
        job.seen.insert(key);

        let work = &job.work;
        let root = fold_branch(job.prefix.txid(&en2, &work.coinb2), &work.merkle_branch);
        let hdr = header(work.prev_hash, root, version, work.bits, ntime, nonce);
        let hash = hdr.block_hash();
        let meets_bitcoin = work.bitcoin_target.is_met_by(hash);
        let meets_share = !job.stale && work.share_target.is_met_by(hash);
        let solution = (meets_bitcoin || meets_share).then(|| {
            Box::new(Solution {
                work: work.clone(),
                header: hdr,
                coinbase: coinbase_bytes(&work.coinb1, &self.en1, &en2, &work.coinb2),
                extranonce1: self.en1.to_vec(),
                extranonce2: en2.clone(),
                meets_share,
                meets_bitcoin,
                stale: job.stale,
                worker: auth.worker.clone(),
                payout: auth.payout.clone(),
            })
        });
        if job.stale {
            return ShareOutcome::Rejected {
                reason: RejectReason::Stale,
                code: ErrorCode::JobNotFound,
                message: format!("job {:x} is stale (issued before a clean notify)", job.id),
                solution,
            };
        }
        let share_difficulty = hash_difficulty(&hash);
        if !job.target.is_met_by(hash) {
            return ShareOutcome::Rejected {
                reason: RejectReason::LowDifficulty,
                code: ErrorCode::LowDifficulty,
                message: format!(
                    "low difficulty share: {share_difficulty:.6} below the job's {}",
                    protocol::format_difficulty(job.difficulty)
                ),
                solution,
            };
        }
        ShareOutcome::Accepted {
            job_difficulty: job.difficulty,
            share_difficulty,
            solution,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bitcoin::hashes::Hash;
    use bitcoin::{BlockHash, TxMerkleNode};
    use proptest::prelude::*;
    use std::sync::Mutex;

    const EASY: f64 = 1e-12;

    fn target_every_hash() -> Target {
        Target::from_le_bytes([0xff; 32])
    }

    fn work(time: u32, share: Target, bitcoin: Target) -> Work {
        Work {
            prev_hash: BlockHash::from_byte_array([7; 32]),
            coinb1: vec![1, 0, 0, 0, 1, 0xaa, 0xbb],
            coinb2: vec![0xcc, 0xdd, 0, 0, 0, 0],
            merkle_branch: vec![
                TxMerkleNode::from_byte_array([1; 32]),
                TxMerkleNode::from_byte_array([2; 32]),
            ],
            version: 0x2000_0000,
            version_mask: 0x1fff_e000,
            bits: 0x1d00_ffff,
            time,
            share_target: share,
            bitcoin_target: bitcoin,
            payload: Arc::new(time),
        }
    }

    /// One work for every payout (cached), clean as told.
    struct Source {
        work: Arc<Work>,
        clean: bool,
        calls: Mutex<u32>,
    }

    impl WorkSource for Source {
        fn work_for(&self, _payout: &ScriptBuf) -> Result<Arc<Work>, String> {
            *self.calls.lock().unwrap() += 1;
            Ok(self.work.clone())
        }
        fn clean(&self) -> bool {
            self.clean
        }
    }

    fn source(w: Work, clean: bool) -> Option<Arc<dyn WorkSource>> {
        Some(Arc::new(Source {
            work: Arc::new(w),
            clean,
            calls: Mutex::new(0),
        }))
    }

    fn config() -> StratumConfig {
        StratumConfig {
            start_difficulty: EASY,
            min_difficulty: EASY,
            max_difficulty: 1e12,
            idle_timeout: Duration::from_secs(600),
            handshake_timeout: Duration::from_secs(60),
            ..StratumConfig::default()
        }
    }

    fn address() -> AddressParser {
        Arc::new(|a: &str| {
            if a.starts_with("bc1") {
                Ok(ScriptBuf::from_bytes(a.as_bytes().to_vec()))
            } else {
                Err("not a bc1 address".to_owned())
            }
        })
    }

    fn session_with(config: StratumConfig, job_ids: Arc<AtomicU64>, t0: Instant) -> Session {
        Session::new(SessionParams {
            config: Arc::new(config),
            id: 1,
            extranonce1: [0xde, 0xad, 0xbe, 0xef],
            job_ids,
            address: address(),
            remote: "127.0.0.1:1".to_owned(),
            now: t0,
            unix_now: 1_700_000_000,
        })
    }

    fn lines(actions: &[Action]) -> Vec<Value> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(l) => {
                    assert!(l.ends_with('\n') && !l[..l.len() - 1].contains('\n'), "{l}");
                    Some(serde_json::from_str(l).unwrap())
                }
                _ => None,
            })
            .collect()
    }

    fn closed(actions: &[Action]) -> bool {
        matches!(actions.last(), Some(Action::Close(_)))
    }

    fn solutions(actions: &[Action]) -> Vec<&Solution> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Solution(s) => Some(&**s),
                _ => None,
            })
            .collect()
    }

    /// A subscribed and authorized session with work (every hash meets the share target,
    /// none Bitcoin's); returns it and the job id of its first notify.
    fn ready(t0: Instant) -> (Session, String) {
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        s.work_changed(
            source(work(1000, target_every_hash(), Target::ZERO), true),
            t0,
        );
        let a = s.receive(
            b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"test/1\"]}\n\
              {\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"bc1qtest.rig\",\"x\"]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(l.len(), 4, "{l:?}");
        let job = l[3]["params"][0].as_str().unwrap().to_owned();
        (s, job)
    }

    fn submit(
        id: u32,
        job: &str,
        en2: &str,
        ntime: &str,
        nonce: &str,
        vb: Option<&str>,
    ) -> Vec<u8> {
        let mut p = vec![
            "bc1qtest.rig".to_owned(),
            job.to_owned(),
            en2.to_owned(),
            ntime.to_owned(),
            nonce.to_owned(),
        ];
        if let Some(v) = vb {
            p.push(v.to_owned());
        }
        let mut l =
            serde_json::json!({"id": id, "method": "mining.submit", "params": p}).to_string();
        l.push('\n');
        l.into_bytes()
    }

    fn error_code(v: &Value) -> Option<u64> {
        v["error"][0].as_u64()
    }

    #[test]
    fn nothing_before_the_subscribe_reply_then_difficulty_and_clean_notify_after_authorize() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        assert!(s
            .work_changed(source(work(1000, Target::ZERO, Target::ZERO), false), t0)
            .is_empty());
        let a = s.receive(
            b"{\"id\":\"s1\",\"method\":\"mining.subscribe\",\"params\":[]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0]["id"], "s1");
        assert_eq!(
            l[0]["result"],
            serde_json::json!([
                [
                    ["mining.set_difficulty", "deadbeef"],
                    ["mining.notify", "deadbeef"]
                ],
                "deadbeef",
                4
            ])
        );
        let a = s.receive(
            b"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"bc1qx.w\",\"x\"]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(l.len(), 3);
        assert_eq!(
            (l[0]["id"].clone(), l[0]["result"].clone()),
            (2.into(), true.into())
        );
        assert_eq!(l[1]["method"], "mining.set_difficulty");
        assert_eq!(l[2]["method"], "mining.notify");
        let p = &l[2]["params"];
        assert_eq!(p[1], "0".repeat(0) + &"07".repeat(32));
        assert_eq!(p[2], "01000000".to_owned() + "01aabb");
        assert_eq!(p[5], "20000000");
        assert_eq!(p[7], "000003e8");
        assert_eq!(p[8], true, "the first notify is clean");
        assert!(a
            .iter()
            .any(|x| matches!(x, Action::Event(StratumEvent::Authorized { .. }))));
    }

    #[test]
    fn bitaxe_pipelined_configure_subscribe_authorize_are_answered_in_order() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        s.work_changed(source(work(1000, Target::ZERO, Target::ZERO), true), t0);
        let a = s.receive(
            b"{\"id\":1,\"method\":\"mining.configure\",\"params\":[[\"version-rolling\"],{\"version-rolling.mask\":\"ffffffff\"}]}\n\
              {\"id\":2,\"method\":\"mining.subscribe\",\"params\":[\"bitaxe/BM1370/v2.4.0\"]}\n\
              {\"id\":3,\"method\":\"mining.authorize\",\"params\":[\"bc1qx.bitaxe\",\"x\"]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(l.len(), 5, "{l:?}");
        assert_eq!(
            l[0]["result"],
            serde_json::json!({"version-rolling": true, "version-rolling.mask": "1fffe000"})
        );
        assert_eq!(l[1]["id"], 2);
        assert_eq!(l[2]["result"], true);
        assert_eq!(l[3]["method"], "mining.set_difficulty");
        assert_eq!(l[4]["method"], "mining.notify");
        assert_eq!(s.stats(t0).user_agent, "bitaxe/BM1370/v2.4.0");
        assert_eq!(s.stats(t0).name, "bitaxe");
    }

    #[test]
    fn configure_ands_the_masks_and_refuses_other_extensions() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        let a = s.receive(
            b"{\"id\":9,\"method\":\"mining.configure\",\"params\":[[\"version-rolling\",\"minimum-difficulty\",\"subscribe-extranonce\"],{\"version-rolling.mask\":\"00ffe000\",\"minimum-difficulty.value\":2048}]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(
            l[0]["result"],
            serde_json::json!({"version-rolling": true, "version-rolling.mask": "00ffe000",
                "minimum-difficulty": false, "subscribe-extranonce": false})
        );
        let a = s.receive(
            b"{\"id\":10,\"method\":\"mining.configure\",\"params\":[[\"version-rolling\"],{\"version-rolling.mask\":\"00000001\"}]}\n",
            t0,
        );
        assert_eq!(
            lines(&a)[0]["result"],
            serde_json::json!({"version-rolling": false})
        );
    }

    #[test]
    fn suggest_difficulty_is_never_answered_and_a_repeat_is_only_a_keepalive() {
        let t0 = Instant::now();
        let (mut s, job1) = ready(t0);
        let a = s.receive(
            b"{\"id\":5,\"method\":\"mining.suggest_difficulty\",\"params\":[0.5]}\n",
            t0,
        );
        let l = lines(&a);
        assert!(l.iter().all(|v| v["id"].is_null()), "never a reply: {l:?}");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0]["params"][0], 0.5);
        assert_eq!(l[1]["method"], "mining.notify");
        let job2 = l[1]["params"][0].as_str().unwrap();
        assert!(u64::from_str_radix(job2, 16).unwrap() > u64::from_str_radix(&job1, 16).unwrap());
        assert_eq!(l[1]["params"][8], false);
        // NerdMiner's keep-alive: the same value again changes nothing.
        let a = s.receive(
            b"{\"id\":6,\"method\":\"mining.suggest_difficulty\",\"params\":[0.5]}\n",
            t0,
        );
        assert!(a.is_empty(), "{a:?}");
        // Clamped to the max; malformed suggestions are ignored silently too.
        let a = s.receive(b"{\"id\":7,\"method\":\"mining.suggest_difficulty\",\"params\":[1e30]}\n{\"id\":8,\"method\":\"mining.suggest_difficulty\",\"params\":[\"x\"]}\n{\"id\":8,\"method\":\"mining.suggest_difficulty\"}\n", t0);
        let l = lines(&a);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0]["params"][0], 1e12);
        assert_eq!(s.difficulty(), 1e12);
    }

    #[test]
    fn nerdqaxe_suggestion_in_the_same_read_as_authorize_is_the_first_difficulty() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        s.work_changed(source(work(1000, Target::ZERO, Target::ZERO), true), t0);
        let a = s.receive(
            b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"NerdQAxe++\"]}\n\
              {\"id\":2,\"method\":\"mining.configure\",\"params\":[[\"version-rolling\"],{\"version-rolling.mask\":\"1fffe000\"}]}\n\
              {\"id\":3,\"method\":\"mining.authorize\",\"params\":[\"bc1qx.nq\",\"x\"]}\n\
              {\"id\":4,\"method\":\"mining.suggest_difficulty\",\"params\":[2048]}\n",
            t0,
        );
        let l = lines(&a);
        let ids: Vec<Value> = l.iter().map(|v| v["id"].clone()).collect();
        assert_eq!(
            ids,
            vec![1.into(), 2.into(), 3.into(), Value::Null, Value::Null]
        );
        assert_eq!(l[3]["params"][0], 2048);
        assert_eq!(l[4]["params"][8], true);
    }

    #[test]
    fn shares_are_accepted_and_each_fault_gets_its_code() {
        let t0 = Instant::now();
        let (mut s, job) = ready(t0);
        // 5 params, unpadded nonce: accepted, and the solution comes before the reply.
        let a = s.receive(&submit(10, &job, "00000001", "3e8", "1a2b", None), t0);
        assert!(matches!(a[0], Action::Solution(_)), "{a:?}");
        let l = lines(&a);
        assert_eq!(
            (l[0]["id"].clone(), l[0]["result"].clone()),
            (10.into(), true.into())
        );
        let sol = solutions(&a)[0];
        assert_eq!(sol.header.nonce, 0x1a2b);
        assert_eq!(sol.header.time, 1000);
        assert_eq!(sol.extranonce1, vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            sol.coinbase,
            [
                &[1u8, 0, 0, 0, 1, 0xaa, 0xbb][..],
                &[0xde, 0xad, 0xbe, 0xef],
                &[0, 0, 0, 1],
                &[0xcc, 0xdd, 0, 0, 0, 0]
            ]
            .concat()
        );
        assert_eq!(
            sol.header.merkle_root,
            fold_branch(
                crate::header::coinbase_txid(&sol.coinbase),
                &sol.work.merkle_branch
            )
        );
        assert!(sol.meets_share && !sol.meets_bitcoin && !sol.stale);
        assert_eq!(sol.worker, "bc1qtest.rig");
        let code = |s: &mut Session, line: Vec<u8>| error_code(&lines(&s.receive(&line, t0))[0]);
        assert_eq!(
            code(
                &mut s,
                submit(11, &job, "00000001", "3e8", "00001a2b", None)
            ),
            Some(22)
        );
        assert_eq!(
            code(&mut s, submit(12, "ffff", "00000001", "3e8", "1", None)),
            Some(21)
        );
        assert_eq!(
            code(&mut s, submit(13, "zz", "00000001", "3e8", "1", None)),
            Some(21)
        );
        assert_eq!(
            code(&mut s, submit(14, &job, "000001", "3e8", "1", None)),
            Some(20)
        );
        assert_eq!(
            code(&mut s, submit(15, &job, "00000001", "3e7", "1", None)),
            Some(20)
        );
        assert_eq!(
            code(&mut s, submit(16, &job, "00000001", "2009", "1", None)),
            Some(20)
        );
        assert_eq!(
            code(&mut s, submit(17, &job, "00000001", "2008", "1", None)),
            None
        );
        assert_eq!(
            code(
                &mut s,
                submit(18, &job, "00000001", "3e8", "123456789", None)
            ),
            Some(20)
        );
        // No version rolling negotiated: any rolled bit is outside the mask.
        assert_eq!(
            code(
                &mut s,
                submit(19, &job, "00000001", "3e8", "2", Some("2000"))
            ),
            Some(20)
        );
        assert_eq!(
            code(&mut s, submit(20, &job, "00000001", "3e8", "2", Some("0"))),
            None
        );
        let l = lines(&s.receive(
            b"{\"id\":21,\"method\":\"mining.submit\",\"params\":[\"w\",\"1\"]}\n",
            t0,
        ));
        assert_eq!(error_code(&l[0]), Some(20));
        let st = s.stats(t0);
        assert_eq!(st.accepted, 3);
        assert_eq!(
            (
                st.rejected.duplicate,
                st.rejected.bad_job,
                st.rejected.other
            ),
            (1, 2, 6)
        );
        assert_eq!(st.solutions, 3);
        assert!(st.hashrate_1m > 0.0 && st.best_difficulty > 0.0);
    }

    #[test]
    fn submit_before_subscribe_or_authorize_is_25_or_24() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        let l = lines(&s.receive(&submit(1, "1", "00000000", "0", "0", None), t0));
        assert_eq!(error_code(&l[0]), Some(25));
        s.receive(
            b"{\"id\":2,\"method\":\"mining.subscribe\",\"params\":[]}\n",
            t0,
        );
        let l = lines(&s.receive(&submit(3, "1", "00000000", "0", "0", None), t0));
        assert_eq!(error_code(&l[0]), Some(24));
        let l = lines(&s.receive(
            b"{\"id\":4,\"method\":\"mining.submit\",\"params\":[]}\n",
            t0,
        ));
        assert_eq!(error_code(&l[0]), Some(24));
    }

    #[test]
    fn rolled_version_bits_within_the_negotiated_mask_are_in_the_header() {
        let t0 = Instant::now();
        let (mut s, job) = ready(t0);
        s.receive(b"{\"id\":1,\"method\":\"mining.configure\",\"params\":[[\"version-rolling\"],{\"version-rolling.mask\":\"ffffffff\"}]}\n", t0);
        let a = s.receive(
            &submit(2, &job, "00000000", "3e8", "5", Some("00002000")),
            t0,
        );
        assert_eq!(lines(&a)[0]["result"], true);
        assert_eq!(solutions(&a)[0].header.version.to_consensus(), 0x2000_2000);
        // Same nonce, other version bits: not a duplicate.
        let a = s.receive(
            &submit(3, &job, "00000000", "3e8", "5", Some("00004000")),
            t0,
        );
        assert_eq!(lines(&a)[0]["result"], true);
        let a = s.receive(
            &submit(4, &job, "00000000", "3e8", "5", Some("e0000000")),
            t0,
        );
        assert_eq!(error_code(&lines(&a)[0]), Some(20));
    }

    #[test]
    fn low_difficulty_is_23_and_older_jobs_keep_their_difficulty() {
        let t0 = Instant::now();
        let (mut s, old) = ready(t0);
        let a = s.receive(
            b"{\"id\":1,\"method\":\"mining.suggest_difficulty\",\"params\":[1e9]}\n",
            t0,
        );
        let new = lines(&a)[1]["params"][0].as_str().unwrap().to_owned();
        let l = lines(&s.receive(&submit(2, &new, "00000000", "3e8", "1", None), t0));
        assert_eq!(error_code(&l[0]), Some(23));
        assert!(l[0]["error"][1]
            .as_str()
            .unwrap()
            .contains("below the job's 1000000000"));
        let l = lines(&s.receive(&submit(3, &old, "00000000", "3e8", "1", None), t0));
        assert_eq!(l[0]["result"], true);
        assert_eq!(s.stats(t0).rejected.low_difficulty, 1);
    }

    #[test]
    fn stale_jobs_are_21_but_a_bitcoin_block_is_still_handed_over() {
        let t0 = Instant::now();
        let (mut s, old) = ready(t0);
        // Same work, not clean: the old job stays valid.
        let a = s.work_changed(
            source(work(1000, target_every_hash(), Target::ZERO), false),
            t0,
        );
        let l = lines(&a);
        assert_eq!(l[0]["params"][8], false);
        let l = lines(&s.receive(&submit(1, &old, "00000000", "3e8", "1", None), t0));
        assert_eq!(l[0]["result"], true);
        // A clean change: the old jobs are stale; no solution unless Bitcoin's target is met.
        let a = s.work_changed(
            source(work(2000, target_every_hash(), target_every_hash()), true),
            t0,
        );
        let l = lines(&a);
        assert_eq!(l[0]["params"][8], true);
        let mid = l[0]["params"][0].as_str().unwrap().to_owned();
        let a = s.receive(&submit(2, &old, "00000000", "3e8", "2", None), t0);
        assert!(solutions(&a).is_empty());
        assert_eq!(error_code(&lines(&a)[0]), Some(21));
        s.work_changed(
            source(work(3000, target_every_hash(), Target::ZERO), true),
            t0,
        );
        let a = s.receive(&submit(3, &mid, "00000000", "7d0", "2", None), t0);
        let sols = solutions(&a);
        assert_eq!(sols.len(), 1);
        assert!(sols[0].meets_bitcoin && sols[0].stale && !sols[0].meets_share);
        let l = lines(&a);
        assert_eq!(error_code(&l[0]), Some(21));
        assert!(l[0]["error"][1].as_str().unwrap().contains("stale"));
        let st = s.stats(t0);
        assert_eq!((st.rejected.stale, st.solutions), (2, 2));
    }

    #[test]
    fn unchanged_work_sends_nothing_and_job_ids_increase_across_sessions() {
        let t0 = Instant::now();
        let ids = Arc::new(AtomicU64::new(0));
        let src = source(work(1000, Target::ZERO, Target::ZERO), true);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let mut s = session_with(config(), ids.clone(), t0);
            s.work_changed(src.clone(), t0);
            s.receive(b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"bc1q\",\"\"]}\n", t0);
            seen.push(u64::from_str_radix(&s.last_job_id().unwrap(), 16).unwrap());
            assert!(s.work_changed(src.clone(), t0).is_empty());
        }
        assert!(seen[1] > seen[0]);
    }

    #[test]
    fn invalid_address_is_24_and_the_connection_may_retry_then_keeps_its_first_payout() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        s.work_changed(
            source(work(1000, target_every_hash(), Target::ZERO), true),
            t0,
        );
        s.receive(
            b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n",
            t0,
        );
        let a = s.receive(
            b"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"1BadAddr.rig\",\"x\"]}\n",
            t0,
        );
        assert!(!closed(&a));
        let l = lines(&a);
        assert_eq!(l.len(), 1);
        assert_eq!(error_code(&l[0]), Some(24));
        assert!(l[0]["result"].is_null());
        let msg = l[0]["error"][1].as_str().unwrap();
        assert!(
            msg.contains("'1BadAddr'") && msg.contains("not a bc1 address"),
            "{msg}"
        );
        let a = s.receive(
            b"{\"id\":3,\"method\":\"mining.authorize\",\"params\":[\"bc1qfirst.a\",\"x\"]}\n",
            t0,
        );
        let l = lines(&a);
        assert_eq!(l[0]["result"], true);
        let job = l[2]["params"][0].as_str().unwrap().to_owned();
        let a = s.receive(
            b"{\"id\":4,\"method\":\"mining.authorize\",\"params\":[\"bc1qsecond.b\",\"x\"]}\n",
            t0,
        );
        assert_eq!(lines(&a).len(), 1);
        let a = s.receive(&submit(5, &job, "00000000", "3e8", "1", None), t0);
        assert_eq!(solutions(&a)[0].payout.as_bytes(), b"bc1qfirst");
        assert_eq!(s.stats(t0).worker, "bc1qfirst.a");
    }

    #[test]
    fn bad_lines_close_or_are_answered() {
        let t0 = Instant::now();
        let mk = || session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        // Not JSON: error then close; later input is ignored.
        let mut s = mk();
        let a = s.receive(b"GET / HTTP/1.1\r\n", t0);
        assert!(closed(&a));
        assert_eq!(error_code(&lines(&a)[0]), Some(20));
        assert!(s
            .receive(b"{\"id\":1,\"method\":\"mining.subscribe\"}\n", t0)
            .is_empty());
        // Not UTF-8.
        let a = mk().receive(b"{\"id\":1,\xff}\n", t0);
        assert!(matches!(
            a.last(),
            Some(Action::Close(CloseReason::NotUtf8))
        ));
        // Over the cap, whole or unfinished.
        let big = vec![b' '; 9000];
        let a = mk().receive(&big, t0);
        assert!(matches!(
            a.last(),
            Some(Action::Close(CloseReason::LineTooLong { .. }))
        ));
        assert_eq!(error_code(&lines(&a)[0]), Some(20));
        let mut long = b"{\"id\":1,\"method\":\"".to_vec();
        long.extend(vec![b'a'; 8200]);
        long.extend(b"\"}\n");
        assert!(closed(&mk().receive(&long, t0)));
        // Unknown method, wrong shapes: error 20, stays open; replies and blank lines: nothing.
        let mut s = mk();
        let a = s.receive(b"{\"id\":\"u\",\"method\":\"mining.nope\",\"params\":[]}\n\r\n  \n{\"id\":5,\"result\":true,\"error\":null}\n[1,2]\n{\"id\":6,\"method\":\"mining.authorize\",\"params\":{}}\n", t0);
        assert!(!closed(&a));
        let l = lines(&a);
        assert_eq!(l.len(), 3);
        assert_eq!(
            (l[0]["id"].clone(), error_code(&l[0])),
            ("u".into(), Some(20))
        );
        assert!(l[0]["error"][1].as_str().unwrap().contains("mining.nope"));
        assert_eq!(
            (l[2]["id"].clone(), error_code(&l[2])),
            (6.into(), Some(20))
        );
        // A flood of malformed requests is cut off.
        let flood = b"{\"id\":1,\"method\":\"x\"}\n".repeat(200);
        let a = s.receive(&flood, t0);
        assert!(matches!(
            a.last(),
            Some(Action::Close(CloseReason::TooManyErrors(_)))
        ));
        assert!(lines(&a).len() <= 100);
        // A line split over reads is joined.
        let mut s = mk();
        assert!(s
            .receive(b"{\"id\":1,\"method\":\"mining.sub", t0)
            .is_empty());
        assert_eq!(lines(&s.receive(b"scribe\",\"params\":[]}\n", t0)).len(), 1);
    }

    #[test]
    fn handshake_and_idle_timeouts_close() {
        let t0 = Instant::now();
        let mut s = session_with(config(), Arc::new(AtomicU64::new(0)), t0);
        assert_eq!(s.next_deadline(), t0 + Duration::from_secs(60));
        assert!(s.tick(t0 + Duration::from_secs(59)).is_empty());
        let a = s.tick(t0 + Duration::from_secs(60));
        assert!(matches!(
            a.last(),
            Some(Action::Close(CloseReason::Handshake(_)))
        ));

        let (mut s, _) = ready(t0);
        let t1 = t0 + Duration::from_secs(30);
        s.receive(
            b"{\"id\":1,\"method\":\"mining.suggest_difficulty\",\"params\":[1]}\n",
            t1,
        );
        // Vardiff's first deadline comes first; past it, only retargets happen.
        assert!(s.next_deadline() <= t1 + Duration::from_secs(600));
        let a = s.tick(t1 + Duration::from_secs(599));
        assert!(!closed(&a));
        let a = s.tick(t1 + Duration::from_secs(600));
        assert!(matches!(
            a.last(),
            Some(Action::Close(CloseReason::Idle(_)))
        ));
    }

    #[test]
    fn huge_timeouts_do_not_overflow() {
        let t0 = Instant::now();
        let mut c = config();
        c.idle_timeout = Duration::MAX;
        c.handshake_timeout = Duration::MAX;
        c.share_interval = Duration::MAX;
        let mut s = session_with(c, Arc::new(AtomicU64::new(0)), t0);
        assert!(s.next_deadline() > t0 + Duration::from_secs(86_400));
        assert!(s.tick(t0 + Duration::from_secs(86_400)).is_empty());
    }

    #[test]
    fn vardiff_raises_after_fast_shares_with_a_fresh_notify() {
        let t0 = Instant::now();
        let mut c = config();
        c.min_difficulty = 1e-12;
        c.start_difficulty = 1e-12;
        let mut s = session_with(c, Arc::new(AtomicU64::new(0)), t0);
        s.work_changed(
            source(work(1000, target_every_hash(), Target::ZERO), true),
            t0,
        );
        let a = s.receive(b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"bc1q\",\"\"]}\n", t0);
        let job = lines(&a)[3]["params"][0].as_str().unwrap().to_owned();
        let mut changed = None;
        for n in 0..20u32 {
            let a = s.receive(
                &submit(n, &job, "00000000", "3e8", &format!("{n:x}"), None),
                t0 + Duration::from_millis(u64::from(n)),
            );
            let l = lines(&a);
            assert_eq!(l[0]["result"], true);
            if l.len() > 1 {
                changed = Some(l);
            }
        }
        let l = changed.expect("a retarget after 20 quick shares");
        assert_eq!(l[1]["method"], "mining.set_difficulty");
        let d = l[1]["params"][0].as_f64().unwrap();
        assert!(d > 1e-12 && d <= 16e-12, "{d}");
        assert_eq!(l[2]["method"], "mining.notify");
        assert_eq!(s.difficulty(), d);
        assert!(s.stats(t0).hashrate_1m > 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any byte soup: no panic; every line that is not JSON (or not UTF-8, or too long)
        /// ends the session with a close, and a closed session stays silent.
        #[test]
        fn byte_soup_never_panics_and_junk_closes(
            chunks in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..64),
                    Just(b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n".to_vec()),
                    Just(b"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"bc1q.x\",\"\"]}\n".to_vec()),
                    Just(b"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"a\",\"1\",\"00\",\"0\",\"0\"]}\n".to_vec()),
                    Just(b"\n".to_vec()),
                ],
                0..12,
            )
        ) {
            let t0 = Instant::now();
            let mut c = config();
            c.max_line_bytes = 300;
            let mut s = session_with(c, Arc::new(AtomicU64::new(0)), t0);
            s.work_changed(source(work(1000, target_every_hash(), target_every_hash()), true), t0);
            let mut pending: Vec<u8> = Vec::new();
            for chunk in &chunks {
                let was_closed = s.is_closed();
                let a = s.receive(chunk, t0);
                if was_closed {
                    prop_assert!(a.is_empty());
                    continue;
                }
                pending.extend_from_slice(chunk);
                let mut junk = false;
                while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    let line = &line[..line.len() - 1];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let json = std::str::from_utf8(line)
                        .ok()
                        .is_some_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
                    junk |= !json || line.len() > 300;
                }
                junk |= pending.len() > 300;
                if junk {
                    prop_assert!(s.is_closed() && closed(&a), "{:?}", a);
                }
                if s.is_closed() {
                    prop_assert!(closed(&a));
                }
            }
        }
    }
}
