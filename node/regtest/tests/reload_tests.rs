//! A restart resumes at the same tip with the same index; figures for submission and index
//! rebuild speed.

mod common;

use std::time::Instant;

use bitcoin::Amount;
use common::{pay, Harness};
use p2share_testkit::spend;

#[test]
fn a_restart_resumes_at_the_same_tip_with_the_same_index() {
    let h = Harness::new();
    let coin = h.mature_coin();
    let tx = spend(
        &[coin],
        vec![pay(&h.key, Amount::from_sat(40 * 100_000_000))],
    );
    h.mine(vec![tx.clone()]);
    h.mine_empty(3);
    let tip = h.chain.tip();
    let index = h.chain.read_index(|i| i.clone());

    let h = h.reopen();
    assert_eq!(h.chain.tip(), tip);
    assert_eq!(h.chain.read_index(|i| i.clone()), index);
    assert_eq!(h.chain.confirmations(&tx.compute_txid()), Some(4));

    // And it keeps going from there.
    h.mine_empty(1);
    assert_eq!(h.chain.tip().height, tip.height + 1);
}

#[test]
fn figures_submit_and_rebuild_1000_blocks() {
    let h = Harness::new();
    let start = Instant::now();
    h.mine_empty(1_000);
    let submit = start.elapsed();
    let tip = h.chain.tip();
    let index = h.chain.read_index(|i| i.clone());

    let start = Instant::now();
    let h = h.reopen();
    let reopen = start.elapsed();
    assert_eq!(h.chain.tip(), tip);
    assert_eq!(h.chain.read_index(|i| i.clone()), index);
    println!(
        "1,000 coinbase-only blocks: assembled+submitted in {:.3} s ({:.0} blocks/s); \
         reopen incl. index rebuild {:.3} s",
        submit.as_secs_f64(),
        1_000.0 / submit.as_secs_f64(),
        reopen.as_secs_f64()
    );
}
