//! Keeps `docs/protocol.md` true: its rule-code table lists exactly the implemented rules, and
//! its test vectors are the ones in `tests/data/vectors.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::collections::BTreeSet;
use std::path::PathBuf;

use p2share_consensus::validation::Rule;

fn read(rel: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel),
    )
    .unwrap()
}

#[test]
fn the_spec_lists_every_rule_code_once() {
    let spec = read("docs/protocol.md");
    let start = spec
        .find("### 9.5 Rule codes")
        .expect("the rule-code section exists");
    let end = start + spec[start..].find("\n## ").expect("a section follows");
    let listed: Vec<&str> = spec[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), listed_set.len(), "a code is listed twice");
    let implemented: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(listed_set, implemented);
}

#[test]
fn the_spec_prints_the_golden_vectors() {
    let spec = read("docs/protocol.md");
    let vectors: serde_json::Value =
        serde_json::from_str(&read("tests/data/vectors.json")).unwrap();
    for g in vectors["genesis"].as_array().unwrap() {
        for field in ["hash", "share_hex", "q_selector_hash_hex"] {
            let v = g[field].as_str().unwrap();
            assert!(
                spec.contains(v),
                "{} {field} missing from the spec",
                g["network"]
            );
        }
    }
    for v in [
        &vectors["share_header"]["hex"],
        &vectors["selection"]["header_hex"],
        &vectors["selection"]["expected"]["txid"],
        &vectors["selection"]["expected"]["q"],
        &vectors["mined_share"]["hex"],
    ] {
        assert!(
            spec.contains(v.as_str().unwrap()),
            "{v} missing from the spec"
        );
    }
    for a in vectors["asert"].as_array().unwrap() {
        assert!(spec.contains(a["next_bits"].as_str().unwrap()));
    }
}
