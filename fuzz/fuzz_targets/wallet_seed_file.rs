//! Any bytes as a seed file: refused with an error or opened, never a panic, and never an
//! absurd allocation (the header's Argon2 parameters are bounded before any work).
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_wallet::seed::SeedFile;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = SeedFile::params(data) else {
        return;
    };
    // Decryption costs what the header asks; only cheap headers are run to the end here.
    if params.memory_kib <= 64 && params.iterations <= 2 && params.parallelism <= 2 {
        let _ = SeedFile::decrypt(data, "fuzz");
    }
});
