//! Known-answer tests on two real Bitcoin headers, and the miner end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use p2share_gpu_kernels::{
    available_backends, reference_sha256d, CpuHasher, CpuMiner, CpuMinerConfig, Hasher, Job,
    NonceRange, StopSignal, Target,
};

mod support;
use support::{block_125552, genesis, internal, template};

#[test]
fn reference_hashes_match_the_published_ones_and_meet_their_targets() {
    for k in [genesis(), block_125552()] {
        let hash = reference_sha256d(&template(&k), k.nonce);
        assert_eq!(hash, internal(k.hash));
        let target = Target::from_compact(k.bits).unwrap();
        assert!(target.is_met_by(&hash));
        assert!(!target.is_met_by(&reference_sha256d(&k.header, k.nonce ^ 1)));
    }
}

#[test]
fn compact_targets_decode() {
    let t = Target::from_compact(0x1d00_ffff).unwrap().to_le_bytes();
    let mut expected = [0u8; 32];
    expected[26] = 0xff;
    expected[27] = 0xff;
    assert_eq!(t, expected);
    let t = Target::from_compact(0x0300_1234).unwrap().to_le_bytes();
    assert_eq!(&t[..3], &[0x34, 0x12, 0x00]);
    let t = Target::from_compact(0x0112_3456).unwrap().to_le_bytes();
    assert_eq!(t[0], 0x12);
    assert_eq!(Target::from_compact(0x0480_0001), None); // negative
    assert_eq!(Target::from_compact(0x2201_0000), None); // above 2^256
    assert!(Target::from_compact(0x2100_ffff).is_some());
}

#[test]
fn every_backend_finds_the_known_nonces_in_a_range_around_them() {
    for k in [genesis(), block_125552()] {
        let target = Target::from_compact(k.bits).unwrap();
        let job =
            Job::new(7, template(&k), target).with_nonces(NonceRange::around(k.nonce, 40_000));
        for backend in available_backends() {
            let mut hasher = CpuHasher::new(backend).unwrap();
            let found = hasher.find(&job).unwrap();
            assert_eq!(found.len(), 1, "{backend}: {found:?}");
            assert_eq!(found[0].nonce, k.nonce, "{backend}");
            assert_eq!(found[0].job_id, 7);
            assert_eq!(found[0].hash, internal(k.hash));
            assert_eq!(hasher.hashes(), 80_001);
            assert!(hasher.hashrate() > 0.0);
        }
    }
}

#[test]
fn an_easy_target_reports_exactly_the_reference_set() {
    // Top byte at most 0x0f: about one nonce in sixteen.
    let mut t = [0xffu8; 32];
    t[31] = 0x0f;
    let target = Target::from_le_bytes(t);
    let header = template(&genesis());
    let range = NonceRange::new(1_000, 3_001).unwrap();
    let expected: Vec<u32> = (1_000..3_001u32)
        .filter(|n| target.is_met_by(&reference_sha256d(&header, *n)))
        .collect();
    assert!(expected.len() > 50);
    for backend in available_backends() {
        let found = CpuHasher::new(backend)
            .unwrap()
            .find(&Job::new(1, header, target).with_nonces(range))
            .unwrap();
        let nonces: Vec<u32> = found.iter().map(|c| c.nonce).collect();
        assert_eq!(nonces, expected, "{backend}");
    }
}

#[test]
fn a_raised_flag_stops_a_scan() {
    let flag = Arc::new(AtomicBool::new(true));
    let stop = StopSignal::from_flag(Arc::clone(&flag));
    let mut hasher = CpuHasher::best();
    let report = hasher
        .scan(&Job::new(1, [0; 80], Target::MAX), &stop, &mut |_| {})
        .unwrap();
    assert!(!report.completed);
    assert_eq!(report.hashes, 0);
    flag.store(false, Ordering::Relaxed);
    let job = Job::new(1, [0; 80], Target::ZERO).with_nonces(NonceRange::new(0, 10).unwrap());
    let report = hasher.scan(&job, &stop, &mut |_| {}).unwrap();
    assert!(report.completed);
    assert_eq!(report.hashes, 10);
}

#[test]
fn nonce_ranges_split_into_disjoint_covering_parts() {
    let r = NonceRange::FULL;
    let parts: Vec<_> = (0..3).map(|i| r.part(i, 3)).collect();
    assert_eq!(parts[0].start(), 0);
    assert_eq!(parts[2].end(), NonceRange::LIMIT);
    assert_eq!(parts[0].end(), parts[1].start());
    assert_eq!(parts[1].end(), parts[2].start());
    assert_eq!(
        parts.iter().map(|p| p.len()).sum::<u64>(),
        NonceRange::LIMIT
    );
    assert!(r.part(3, 3).is_empty());
    assert_eq!(NonceRange::around(5, 10), NonceRange::new(0, 16).unwrap());
    assert_eq!(NonceRange::around(u32::MAX, 1).end(), NonceRange::LIMIT);
    assert_eq!(NonceRange::new(2, 1), None);
    assert_eq!(NonceRange::new(0, NonceRange::LIMIT + 1), None);
}

#[test]
fn the_miner_finds_both_nonces_on_two_threads_and_new_work_replaces_old() {
    for backend in available_backends() {
        let (miner, rx) = CpuMiner::start(CpuMinerConfig {
            threads: 2,
            backend,
        })
        .unwrap();
        for (id, k) in [(1u64, genesis()), (2, block_125552())] {
            let target = Target::from_compact(k.bits).unwrap();
            // The nonce sits in the second thread's half.
            let range = NonceRange::new(u64::from(k.nonce) - 30_000, u64::from(k.nonce) + 10_000);
            miner.set_job(Job::new(id, template(&k), target).with_nonces(range.unwrap()));
            let c = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!((c.job_id, c.nonce), (id, k.nonce), "{backend}");
            assert_eq!(c.hash, internal(k.hash));
        }
        // A job over all nonces with an impossible target, then an easy job replacing it:
        // candidates of the new job arrive at once, not after the old one's 2^32 nonces.
        miner.set_job(Job::new(3, [0; 80], Target::ZERO));
        std::thread::sleep(Duration::from_millis(50));
        miner.set_job(Job::new(4, [0; 80], Target::MAX));
        let c = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(c.job_id, 4);
        miner.clear_job();
        let before = miner.hashes();
        assert!(before > 0);
        assert_eq!(miner.thread_hashes().len(), 2);
        assert!(miner.hashrate() > 0.0);
        miner.stop();
    }
}

/// Interrupted at any moment — here from inside its own callback after the k-th candidate, as a
/// new job would — a scan has still reported every solution among the nonces it hashed: the
/// reported set is exactly the reference set of the prefix `[start, next)`.
#[test]
fn an_interrupted_scan_loses_no_solution_it_hashed() {
    // About one nonce in 256.
    let mut t = [0xffu8; 32];
    t[31] = 0x00;
    let target = Target::from_le_bytes(t);
    let header = template(&block_125552());
    let start = 7_777u64;
    let range = NonceRange::new(start, start + 4 * u64::from(p2share_gpu_kernels::CHUNK)).unwrap();
    for backend in available_backends() {
        for k in [1usize, 200, 300, 700] {
            let flag = Arc::new(AtomicBool::new(false));
            let stop = StopSignal::from_flag(Arc::clone(&flag));
            let mut found = Vec::new();
            let report = CpuHasher::new(backend)
                .unwrap()
                .scan(
                    &Job::new(9, header, target).with_nonces(range),
                    &stop,
                    &mut |c| {
                        found.push(c.nonce);
                        if found.len() == k {
                            flag.store(true, Ordering::Relaxed);
                        }
                    },
                )
                .unwrap();
            assert!(!report.completed, "{backend} k={k}: the flag stopped it");
            assert!(report.next < range.end(), "{backend} k={k}");
            assert!(report.hashes >= report.next - start, "{backend} k={k}");
            let end = report.next;
            let expected: Vec<u32> = (start..end)
                .map(|n| n as u32)
                .filter(|n| target.is_met_by(&reference_sha256d(&header, *n)))
                .collect();
            assert!(expected.len() >= k, "{backend} k={k}");
            assert_eq!(
                found, expected,
                "{backend} k={k}: a solution in the hashed prefix was lost"
            );
        }
    }
}
