//! p2share hashers.
//!
//! SHA256d of 80-byte Bitcoin block headers, on the CPU and through OpenCL. A [`Job`] (header
//! template, 256-bit [`Target`], nonce range, id) goes in; every nonce whose SHA256d meets the
//! target comes out as a [`Candidate`], re-checked with the reference SHA256d (the `sha2`
//! crate) first; hashes are counted for a hashrate.
//!
//! Each hash starts from the job's midstate (the first 64 header bytes are compressed once per
//! job), skips the nonce-free rounds, and the second SHA-256 stops after round 60, where the
//! hash's most significant word is known; only nonces passing that word are hashed in full.
//!
//! Backends ([`Backend`]), picked at run time with `is_x86_feature_detected!`: SHA-NI (4 nonces
//! interleaved), AVX-512 (16 lanes), AVX2 (8 lanes) and a portable scalar one. [`CpuMiner`]
//! runs one thread per core over disjoint nonce ranges and sends candidates on a channel.
//!
//! OpenCL (DESIGN §5): [`opencl_devices`] lists every GPU, CPU and accelerator device of every
//! platform, and [`OpenClMiner`] runs `kernels/sha256d.cl` on one of them, with the same
//! shape as [`CpuMiner`] (jobs in; candidates, hash counts and a hashrate out). The kernel does
//! what the CPU backends do (midstate, rounds 0–2 and the nonce-free schedule words
//! precomputed on the host, early exit after round 60 on the hash's top word), one nonce per
//! vector lane at the device's preferred width (16 on PoCL with AVX-512, 1 on NVIDIA). The
//! host thread keeps two launches in flight, tunes them to about 100 ms each, re-runs a launch
//! whose result buffer overflowed, and re-checks every nonce with the reference SHA256d.
//! `opencl3` loads `libOpenCL.so.1` at run time (docs/adr/0018): without it, or without a
//! device, [`opencl_devices`] says so and the CPU hasher works as before.
//!
//! Non-goals: CUDA or other GPU APIs, multi-device scheduling (one [`OpenClMiner`] per device;
//! the caller splits nonce ranges between them).

mod backend;
mod hasher;
mod miner;
mod opencl;
mod sha256;
mod slot;

pub use backend::{available_backends, best_backend, Backend, UnavailableBackend};
pub use hasher::{
    Candidate, CpuHasher, HashError, Hasher, Job, NonceRange, ScanReport, StopSignal, Target,
    CHUNK, NONCE_OFFSET,
};
pub use miner::{CpuMiner, CpuMinerConfig, MinerError};
pub use opencl::{
    opencl_devices, OpenClConfig, OpenClDevice, OpenClDeviceKind, OpenClError, OpenClMiner,
    LAUNCH_TARGET,
};
pub use sha256::reference_sha256d;
