//! p2share hashers.
//!
//! Now: the native CPU SHA256d hasher for 80-byte Bitcoin block headers. A [`Job`] (header
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
//! Later: the OpenCL kernel (DESIGN §5), behind the same [`Hasher`] trait.

mod backend;
mod hasher;
mod miner;
mod sha256;

pub use backend::{available_backends, best_backend, Backend, UnavailableBackend};
pub use hasher::{
    Candidate, CpuHasher, HashError, Hasher, Job, NonceRange, ScanReport, StopSignal, Target,
    CHUNK, NONCE_OFFSET,
};
pub use miner::{CpuMiner, CpuMinerConfig, MinerError};
pub use sha256::reference_sha256d;
