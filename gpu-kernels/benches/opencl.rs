//! SHA256d throughput of the OpenCL miner on each device against the native CPU miner on the
//! same number of threads as the OpenCL CPU device (PoCL) has compute units, measured in
//! alternating rounds in one run, with the ratio OpenCL ÷ CPU (goal on PoCL: ≥ 0.9×).
//!
//! `cargo bench -p p2share-gpu-kernels --bench opencl`; `P2SHARE_BENCH_SECS` sets each
//! measurement's length (default 3 s), `P2SHARE_BENCH_ROUNDS` the rounds (default 3). Run
//! without `--bench` (as `cargo test --benches` does) it makes one short round, as a smoke test.

use std::thread;
use std::time::{Duration, Instant};

use p2share_gpu_kernels::{
    best_backend, opencl_devices, CpuMiner, CpuMinerConfig, Job, OpenClConfig, OpenClDevice,
    OpenClDeviceKind, OpenClMiner, Target,
};

fn header() -> [u8; 80] {
    let mut h = [0u8; 80];
    for (i, b) in h.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    h
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// This process's CPU time (user + system, all threads) in seconds, from `/proc/self/stat`
/// (Linux; clock ticks taken as 1/100 s, which cancels out of every ratio).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A throughput figure: hashes per wall-clock second, and per CPU second this process used
/// (the fairer figure while other work shares the cores).
#[derive(Clone, Copy, Default)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// The rate of a counter that moves in steps (one per completed launch or chunk): hashes
/// between its first and last step within `secs` after `warmup`, over the time between them.
fn rate(hashes: impl Fn() -> u64, warmup: Duration, secs: f64) -> Rate {
    // Polled, not slept through: a caller may refresh its job on the way.
    let t = Instant::now();
    while t.elapsed() < warmup {
        hashes();
        thread::sleep(Duration::from_millis(1));
    }
    let wait_step = |from: u64| {
        let t = Instant::now();
        loop {
            let h = hashes();
            if h != from || t.elapsed() > Duration::from_secs(10) {
                return (h, Instant::now());
            }
            thread::sleep(Duration::from_micros(200));
        }
    };
    let (h0, t0) = wait_step(hashes());
    let c0 = cpu_seconds();
    let (mut h1, mut t1, mut c1) = (h0, t0, c0);
    while t0.elapsed().as_secs_f64() < secs {
        let (h, t) = wait_step(h1);
        (h1, t1, c1) = (h, t, cpu_seconds());
    }
    let per = |d: f64| if d > 0.0 { (h1 - h0) as f64 / d } else { 0.0 };
    Rate {
        wall: per((t1 - t0).as_secs_f64()),
        cpu: c0.zip(c1).map_or(0.0, |(a, b)| per(b - a)),
    }
}

/// Hashes per second of the CPU miner with `threads` threads on the best backend.
fn cpu(threads: usize, secs: f64) -> Rate {
    let config = CpuMinerConfig {
        threads,
        backend: best_backend(),
    };
    let Ok((miner, _rx)) = CpuMiner::start(config) else {
        return Rate::default();
    };
    miner.set_job(Job::new(1, header(), Target::ZERO));
    let r = rate(|| miner.hashes(), Duration::from_millis(300), secs);
    miner.stop();
    r
}

/// Hashes per second of the OpenCL miner on `device`, after the launch size has settled.
fn opencl(device: &OpenClDevice, secs: f64) -> Result<Rate, String> {
    let (miner, _rx) =
        OpenClMiner::start(OpenClConfig::new(device.id.clone())).map_err(|e| e.to_string())?;
    // A GPU hashes all 2^32 nonces in under a second: a new header (as a pool's extranonce
    // would give) every 2^31 hashes keeps it busy; launches of the old job in flight still
    // count.
    let next = std::cell::Cell::new((0u64, 0u64));
    let hashes = || {
        let h = miner.hashes();
        let (job, at) = next.get();
        if job == 0 || h >= at {
            let mut header = header();
            header[..8].copy_from_slice(&job.to_le_bytes());
            miner.set_job(Job::new(job + 2, header, Target::ZERO));
            next.set((job + 1, h + (1 << 31)));
        }
        h
    };
    let r = rate(hashes, Duration::from_millis(800), secs);
    let error = miner.take_error();
    miner.stop();
    match error {
        Some(e) => Err(e.to_string()),
        None => Ok(r),
    }
}

fn mhs(x: f64) -> String {
    format!("{:8.2} MH/s", x / 1e6)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (secs, rounds) = if bench {
        (
            env_or("P2SHARE_BENCH_SECS", 3.0f64),
            env_or("P2SHARE_BENCH_ROUNDS", 3usize),
        )
    } else {
        (0.3, 1)
    };
    let devices = match opencl_devices() {
        Ok(d) if !d.is_empty() => d,
        Ok(_) => {
            println!("no OpenCL device: nothing to compare");
            return;
        }
        Err(e) => {
            println!("OpenCL unavailable: {e}");
            return;
        }
    };
    let threads = devices
        .iter()
        .find(|d| d.kind == OpenClDeviceKind::Cpu)
        .map(|d| d.compute_units as usize)
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
    println!(
        "SHA256d of an 80-byte header, {secs} s per figure, {rounds} round(s); CPU miner: \
         {threads} thread(s) on {}",
        best_backend()
    );
    for d in &devices {
        println!(
            "  OpenCL {d}: vector width {} (preferred {}), {} MHz, {} MiB",
            d.kernel_vector_width(),
            d.preferred_vector_width,
            d.max_clock_mhz,
            d.global_memory >> 20
        );
    }
    let mut cpu_total = Rate::default();
    let mut ocl_total = vec![Rate::default(); devices.len()];
    for round in 1..=rounds {
        let c = cpu(threads, secs);
        cpu_total.wall += c.wall;
        cpu_total.cpu += c.cpu;
        let mut line = format!(
            "round {round}: cpu {} ({} per cpu-s)",
            mhs(c.wall),
            mhs(c.cpu)
        );
        for (i, d) in devices.iter().enumerate() {
            match opencl(d, secs) {
                Ok(r) => {
                    ocl_total[i].wall += r.wall;
                    ocl_total[i].cpu += r.cpu;
                    line += &format!(
                        " | opencl {} {} ({} per cpu-s) = {:.2}x wall, {:.2}x per cpu-s",
                        d.id,
                        mhs(r.wall),
                        mhs(r.cpu),
                        r.wall / c.wall,
                        r.cpu / c.cpu
                    );
                }
                Err(e) => line += &format!(" | opencl {} failed: {e}", d.id),
            }
        }
        println!("{line}");
    }
    let n = rounds as f64;
    println!(
        "mean: cpu {} ({} per cpu-s), {threads} thread(s)",
        mhs(cpu_total.wall / n),
        mhs(cpu_total.cpu / n)
    );
    for (d, total) in devices.iter().zip(&ocl_total) {
        println!(
            "mean: opencl {} {} ({} per cpu-s) = {:.3}x cpu wall-clock, {:.3}x per cpu-s  \
             [{} per compute unit]",
            d.id,
            mhs(total.wall / n),
            mhs(total.cpu / n),
            total.wall / cpu_total.wall,
            total.cpu / cpu_total.cpu,
            mhs(total.wall / n / f64::from(d.compute_units.max(1)))
        );
    }
    println!("goal on PoCL: opencl / cpu >= 0.9x");
}
