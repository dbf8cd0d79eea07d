//! The hasher interface (jobs in; candidates and hash counts out) and the CPU hasher.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{best_backend, Backend, UnavailableBackend};
use crate::sha256::{reference_sha256d, Precomputed};

/// Offset of the little-endian nonce field in an 80-byte block header.
pub const NONCE_OFFSET: usize = 76;

/// Nonces a CPU hasher hashes between two looks at its [`StopSignal`] (a few milliseconds).
pub const CHUNK: u32 = 1 << 16;

/// Nonces in the first chunk of each scan.
const FIRST_CHUNK: u32 = 1 << 12;

/// A 256-bit proof-of-work target; a hash meets it when, read as a little-endian number
/// (Bitcoin's internal byte order), it is at most the target.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target([u8; 32]);

impl Target {
    /// The largest target: every hash meets it.
    pub const MAX: Target = Target([0xff; 32]);
    /// The zero target: only the all-zero hash meets it (in practice, none).
    pub const ZERO: Target = Target([0; 32]);

    /// A target from its 32 little-endian bytes.
    pub const fn from_le_bytes(bytes: [u8; 32]) -> Self {
        Target(bytes)
    }

    /// The target's 32 little-endian bytes.
    pub const fn to_le_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Decodes a block header's compact `bits`; `None` when negative or above 2²⁵⁶ − 1.
    pub fn from_compact(bits: u32) -> Option<Self> {
        let exponent = (bits >> 24) as usize;
        let mantissa = bits & 0x007f_ffff;
        if bits & 0x0080_0000 != 0 && mantissa != 0 {
            return None;
        }
        let mut out = [0u8; 32];
        if exponent <= 3 {
            let value = mantissa >> (8 * (3 - exponent));
            out[..4].copy_from_slice(&value.to_le_bytes());
            return Some(Target(out));
        }
        // Byte i of the mantissa lands at byte i + exponent - 3 of the number.
        for (i, byte) in mantissa.to_le_bytes().iter().take(3).enumerate() {
            let position = i + exponent - 3;
            if position < 32 {
                out[position] = *byte;
            } else if *byte != 0 {
                return None;
            }
        }
        Some(Target(out))
    }

    /// Whether `hash` (little-endian, as [`reference_sha256d`] returns it) is at most the target.
    pub fn is_met_by(&self, hash: &[u8; 32]) -> bool {
        for i in (0..32).rev() {
            if hash[i] != self.0[i] {
                return hash[i] < self.0[i];
            }
        }
        true
    }

    /// The most significant 32 bits.
    pub(crate) fn top_word(&self) -> u32 {
        u32::from_le_bytes([self.0[28], self.0[29], self.0[30], self.0[31]])
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Target(")?;
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A half-open range of nonces `start..end` inside `0..=u32::MAX` (`end` ≤ 2³²).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NonceRange {
    start: u64,
    end: u64,
}

impl NonceRange {
    /// One past the largest nonce.
    pub const LIMIT: u64 = 1 << 32;

    /// Every nonce.
    pub const FULL: NonceRange = NonceRange {
        start: 0,
        end: Self::LIMIT,
    };

    /// `start..end`; `None` unless `start ≤ end ≤ 2³²`.
    pub fn new(start: u64, end: u64) -> Option<Self> {
        (start <= end && end <= Self::LIMIT).then_some(NonceRange { start, end })
    }

    /// The nonces within `radius` of `center`, clipped to the nonce space.
    pub fn around(center: u32, radius: u32) -> Self {
        let c = u64::from(center);
        NonceRange {
            start: c.saturating_sub(u64::from(radius)),
            end: (c + u64::from(radius) + 1).min(Self::LIMIT),
        }
    }

    /// The first nonce.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last nonce.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// How many nonces.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range holds no nonce.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `nonce` is in the range.
    pub fn contains(&self, nonce: u32) -> bool {
        (self.start..self.end).contains(&u64::from(nonce))
    }

    /// Part `index` of `parts` disjoint, contiguous parts covering the range (sizes differ by
    /// at most one); an empty range when `index ≥ parts`.
    pub fn part(&self, index: usize, parts: usize) -> NonceRange {
        if index >= parts {
            return NonceRange {
                start: self.end,
                end: self.end,
            };
        }
        let (i, n) = (index as u128, parts as u128);
        let len = u128::from(self.len());
        let lo = self.start + (len * i / n) as u64;
        let hi = self.start + (len * (i + 1) / n) as u64;
        NonceRange { start: lo, end: hi }
    }
}

/// Work for a hasher: a header template whose nonce field varies, and a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The caller's identifier, copied into every [`Candidate`].
    pub id: u64,
    /// The 80-byte block header; its nonce field (bytes 76..80) is ignored.
    pub header: [u8; 80],
    /// Nonces whose SHA256d is at most this target are reported.
    pub target: Target,
    /// The nonces to try.
    pub nonces: NonceRange,
}

impl Job {
    /// A job over every nonce.
    pub fn new(id: u64, header: [u8; 80], target: Target) -> Self {
        Job {
            id,
            header,
            target,
            nonces: NonceRange::FULL,
        }
    }

    /// The same job over `nonces` only.
    pub fn with_nonces(mut self, nonces: NonceRange) -> Self {
        self.nonces = nonces;
        self
    }
}

/// A nonce whose SHA256d meets the job's target, verified with the reference SHA256d.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The [`Job::id`] of the job it solves.
    pub job_id: u64,
    /// The nonce, as written (little-endian) in the header's nonce field.
    pub nonce: u32,
    /// The header's SHA256d with this nonce, little-endian (Bitcoin's internal byte order).
    pub hash: [u8; 32],
}

/// Tells a running scan to give up: a shared stop flag, and optionally a generation counter
/// that invalidates the scan as soon as it moves past the generation the scan started with
/// (how new work replaces old at once).
#[derive(Clone, Debug)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    generation: Option<(Arc<AtomicU64>, u64)>,
}

impl StopSignal {
    /// A signal that stops when `flag` becomes true.
    pub fn from_flag(flag: Arc<AtomicBool>) -> Self {
        StopSignal {
            flag,
            generation: None,
        }
    }

    /// A signal that stops when `flag` becomes true or `generation` differs from `expected`.
    pub fn with_generation(
        flag: Arc<AtomicBool>,
        generation: Arc<AtomicU64>,
        expected: u64,
    ) -> Self {
        StopSignal {
            flag,
            generation: Some((generation, expected)),
        }
    }

    /// A signal nothing else holds: it stops only through [`StopSignal::stop`] on a clone.
    pub fn never() -> Self {
        Self::from_flag(Arc::new(AtomicBool::new(false)))
    }

    /// Raises the flag.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether the scan should stop.
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
            || self
                .generation
                .as_ref()
                .is_some_and(|(g, expected)| g.load(Ordering::Relaxed) != *expected)
    }
}

/// Why a hasher could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashError {
    /// The CPU lacks the backend's instructions.
    Unavailable(UnavailableBackend),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::Unavailable(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HashError {}

impl From<UnavailableBackend> for HashError {
    fn from(e: UnavailableBackend) -> Self {
        HashError::Unavailable(e)
    }
}

/// How a scan ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanReport {
    /// Hashes computed.
    pub hashes: u64,
    /// True when every nonce of the job's range was hashed; false when stopped early.
    pub completed: bool,
    /// The first nonce (as a position in the range, up to 2³²) not covered: every solution
    /// below it was reported. The range's end when completed.
    pub next: u64,
}

/// A SHA256d hasher: takes a job, reports every nonce of the job's range whose hash meets the
/// target (re-checked with the reference SHA256d), and counts its hashes.
pub trait Hasher {
    /// Hashes `job.nonces` in order, calling `found` for each verified candidate, until the
    /// range is done or `stop` says to give up.
    fn scan(
        &mut self,
        job: &Job,
        stop: &StopSignal,
        found: &mut dyn FnMut(Candidate),
    ) -> Result<ScanReport, HashError>;

    /// Hashes computed so far.
    fn hashes(&self) -> u64;

    /// Hashes per second over the time spent scanning.
    fn hashrate(&self) -> f64;

    /// Scans the whole range of `job` and returns the candidates.
    fn find(&mut self, job: &Job) -> Result<Vec<Candidate>, HashError> {
        let mut out = Vec::new();
        self.scan(job, &StopSignal::never(), &mut |c| out.push(c))?;
        Ok(out)
    }
}

/// The native CPU hasher: one thread's worth of hashing with one [`Backend`].
#[derive(Debug)]
pub struct CpuHasher {
    backend: Backend,
    counter: Arc<AtomicU64>,
    busy: Duration,
}

impl CpuHasher {
    /// A hasher on `backend`, if this CPU runs it.
    pub fn new(backend: Backend) -> Result<Self, UnavailableBackend> {
        if !backend.is_available() {
            return Err(UnavailableBackend(backend));
        }
        Ok(CpuHasher {
            backend,
            counter: Arc::new(AtomicU64::new(0)),
            busy: Duration::ZERO,
        })
    }

    /// A hasher on [`best_backend`].
    pub fn best() -> Self {
        CpuHasher {
            backend: best_backend(),
            counter: Arc::new(AtomicU64::new(0)),
            busy: Duration::ZERO,
        }
    }

    /// The backend it runs.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The live hash counter, updated every [`CHUNK`] nonces (for rate displays elsewhere).
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.counter)
    }
}

impl Hasher for CpuHasher {
    fn scan(
        &mut self,
        job: &Job,
        stop: &StopSignal,
        found: &mut dyn FnMut(Candidate),
    ) -> Result<ScanReport, HashError> {
        let started = Instant::now();
        let p = Precomputed::new(&job.header, job.target.top_word());
        let mut passed = Vec::new();
        let mut pos = job.nonces.start();
        let end = job.nonces.end();
        let mut hashes = 0u64;
        let mut completed = true;
        while pos < end {
            if stop.is_stopped() {
                completed = false;
                break;
            }
            // A short first chunk: at an easy target the first solution comes at once, and a
            // new job's first results are not held behind a full chunk.
            let chunk = if pos == job.nonces.start() {
                FIRST_CHUNK
            } else {
                CHUNK
            };
            let n = (end - pos).min(u64::from(chunk)) as u32;
            self.backend.prefilter(&p, pos as u32, n, &mut passed)?;
            hashes += u64::from(n);
            self.counter.fetch_add(u64::from(n), Ordering::Relaxed);
            let mut cut = None;
            for nonce in passed.drain(..) {
                let hash = reference_sha256d(&job.header, nonce);
                if job.target.is_met_by(&hash) {
                    found(Candidate {
                        job_id: job.id,
                        nonce,
                        hash,
                    });
                    // At an easy target a chunk holds thousands of solutions: a new job must
                    // not wait for them all to be re-checked.
                    if stop.is_stopped() {
                        cut = Some(u64::from(nonce) + 1);
                        break;
                    }
                }
            }
            if let Some(next) = cut {
                passed.clear();
                pos = next;
                completed = false;
                break;
            }
            pos += u64::from(n);
        }
        self.busy += started.elapsed();
        Ok(ScanReport {
            hashes,
            completed,
            next: pos,
        })
    }

    fn hashes(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }

    fn hashrate(&self) -> f64 {
        let secs = self.busy.as_secs_f64();
        if secs > 0.0 {
            self.hashes() as f64 / secs
        } else {
            0.0
        }
    }
}
