//! SHA256d throughput of the CPU hasher: per backend (one hasher, and the miner with 1 and 2
//! threads), the reference `sha2` crate (digest twice), and OpenSSL's SHA-256 speed measured in
//! the same run, with the ratios between them.
//!
//! `cargo bench -p p2share-gpu-kernels` (`HASHER_BENCH_SECS` sets each measurement's length,
//! default 1.5 s).

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use p2share_gpu_kernels::{
    available_backends, reference_sha256d, Backend, CpuHasher, CpuMiner, CpuMinerConfig, Hasher,
    Job, NonceRange, Target,
};

fn header() -> [u8; 80] {
    let mut h = [0u8; 80];
    for (i, b) in h.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    h
}

/// Hashes per second of one hasher over about `secs`.
fn single(backend: Backend, secs: f64) -> Option<f64> {
    let mut hasher = CpuHasher::new(backend).ok()?;
    let job =
        |n: u64| NonceRange::new(0, n).map(|r| Job::new(1, header(), Target::ZERO).with_nonces(r));
    // Calibrate on a short run, then measure.
    let probe = 1u64 << 16;
    let t = Instant::now();
    hasher.find(&job(probe)?).ok()?;
    let rate = probe as f64 / t.elapsed().as_secs_f64();
    let n = ((rate * secs) as u64).clamp(probe, NonceRange::LIMIT);
    let t = Instant::now();
    hasher.find(&job(n)?).ok()?;
    Some(n as f64 / t.elapsed().as_secs_f64())
}

/// Total hashes per second of a miner with `threads` threads over `secs`.
fn miner(backend: Backend, threads: usize, secs: f64) -> Option<f64> {
    let (miner, _rx) = CpuMiner::start(CpuMinerConfig { threads, backend }).ok()?;
    miner.set_job(Job::new(2, header(), Target::ZERO));
    thread::sleep(Duration::from_millis(200));
    let (h0, t0) = (miner.hashes(), Instant::now());
    thread::sleep(Duration::from_secs_f64(secs));
    let rate = (miner.hashes() - h0) as f64 / t0.elapsed().as_secs_f64();
    miner.stop();
    Some(rate)
}

/// The `sha2` crate hashing the whole header twice per nonce.
fn sha2_baseline(secs: f64) -> f64 {
    let h = header();
    let t = Instant::now();
    let mut n = 0u32;
    let mut acc = 0u8;
    while t.elapsed().as_secs_f64() < secs {
        for _ in 0..4096 {
            acc ^= reference_sha256d(&h, n)[31];
            n = n.wrapping_add(1);
        }
    }
    std::hint::black_box(acc);
    f64::from(n) / t.elapsed().as_secs_f64()
}

/// OpenSSL's SHA-256 bytes/s on `bytes`-byte inputs, or why not.
fn openssl_bytes_per_s(bytes: &str) -> Result<f64, String> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "2", "-evp", "sha256", "-bytes", bytes])
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The result line: "sha256   409723.05k" (thousands of bytes per second).
    text.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("sha256") || l.starts_with("SHA2-256"))
        .filter_map(|l| l.split_whitespace().last())
        .filter_map(|v| v.strip_suffix('k'))
        .filter_map(|v| v.parse::<f64>().ok())
        .next_back()
        .map(|k| k * 1000.0)
        .ok_or_else(|| format!("no sha256 figure in openssl's output: {text:?}"))
}

fn mhs(x: f64) -> String {
    format!("{:8.2} MH/s", x / 1e6)
}

fn main() {
    let secs = std::env::var("HASHER_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.5);
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!("SHA256d of an 80-byte header, {secs} s per figure, {cores} cores visible");

    let openssl = openssl_bytes_per_s("64");
    let implied = match &openssl {
        Ok(bps) => {
            let compressions = bps / 64.0;
            let hashes = compressions / 2.0;
            println!(
                "openssl speed -evp sha256 -bytes 64: {:.1} MB/s = {:.2} M compressions/s \
                 -> implied {} per core",
                bps / 1e6,
                compressions / 1e6,
                mhs(hashes)
            );
            Some(hashes)
        }
        Err(e) => {
            println!("openssl ratio skipped: {e}");
            None
        }
    };
    // A 64-byte message costs OpenSSL two compressions (data + padding block) plus the EVP
    // call overhead, so the figure above understates its compression rate; bulk input shows
    // the raw rate (this is the figure REFERENCES.md's ≈17 MH/s comes from).
    let bulk = openssl_bytes_per_s("16384")
        .ok()
        .map(|bps| bps / 64.0 / 2.0);
    if let Some(b) = bulk {
        println!(
            "openssl speed -evp sha256 -bytes 16384: implied {} per core",
            mhs(b)
        );
    }
    let baseline = sha2_baseline(secs);
    println!(
        "sha2 crate, digest twice per nonce:   {} per core",
        mhs(baseline)
    );
    if let Some(i) = implied {
        println!("  sha2 / openssl-implied = {:.2}x", baseline / i);
    }

    println!();
    println!(
        "{:<9} {:>14} {:>14} {:>14} {:>14} {:>9} {:>9} {:>9}",
        "backend",
        "1 hasher",
        "miner 1 thr",
        "miner 2 thr",
        "2 thr /core",
        "/openssl",
        "/bulk",
        "/sha2"
    );
    for backend in available_backends() {
        let one = single(backend, secs).unwrap_or(0.0);
        let m1 = miner(backend, 1, secs).unwrap_or(0.0);
        let m2 = miner(backend, 2, secs).unwrap_or(0.0);
        let ratio = implied.map_or("n/a".to_string(), |i| format!("{:.2}x", one / i));
        let bulk_ratio = bulk.map_or("n/a".to_string(), |b| format!("{:.2}x", one / b));
        println!(
            "{:<9} {} {} {} {} {:>9} {:>9} {:>8.2}x",
            backend.name(),
            mhs(one),
            mhs(m1),
            mhs(m2),
            mhs(m2 / 2.0),
            ratio,
            bulk_ratio,
            one / baseline
        );
    }
    println!();
    println!(
        "ratios use the single-hasher figure; goal: >= 2.5x the openssl-implied rate per core"
    );
}
