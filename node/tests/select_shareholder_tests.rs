//! The `select-shareholder` audit tool, run as a user runs it: the real binary, real files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers: a failure is a failed test

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data("vectors.json")).unwrap()).unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_p2share-node"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_utxos(dir: &tempfile::TempDir, value: &Value) -> String {
    let path = dir.path().join("utxos.json");
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_golden_selection_is_reproduced_by_the_cli() {
    let v = vectors();
    let sel = &v["selection"];
    let utxos = data("selection-utxos.json");
    let (code, stdout, stderr) = run(&[
        "select-shareholder",
        "--network",
        "regtest",
        "--height",
        "0",
        "--header",
        sel["header_hex"].as_str().unwrap(),
        "--utxos",
        utxos.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let got: Value = serde_json::from_str(stdout.trim()).unwrap();
    for field in ["q", "n", "txid", "vout", "script_pubkey"] {
        assert_eq!(got[field], sel["expected"][field], "{field}");
    }
}

#[test]
fn the_order_of_the_utxo_file_does_not_matter() {
    let v = vectors();
    let sel = &v["selection"];
    let mut utxos = sel["utxos"].as_array().unwrap().clone();
    utxos.reverse();
    let dir = tempfile::tempdir().unwrap();
    let path = write_utxos(&dir, &Value::Array(utxos));
    let (code, stdout, _) = run(&[
        "select-shareholder",
        "--network",
        "regtest",
        "--height",
        "0",
        "--header",
        sel["header_hex"].as_str().unwrap(),
        "--utxos",
        &path,
    ]);
    assert_eq!(code, 0);
    let got: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(got["txid"], sel["expected"]["txid"]);
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let v = vectors();
    let sel = &v["selection"];
    let header = sel["header_hex"].as_str().unwrap().to_string();
    let good = sel["utxos"].as_array().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();

    let mut dup = good.clone();
    dup.push(good[0].clone());
    let mut zero = good.clone();
    zero[1]["value"] = 0.into();
    let mut badhex = good.clone();
    badhex[2]["script_pubkey"] = "00zz".into();
    let mut badtxid = good.clone();
    badtxid[0]["txid"] = "1234".into();
    let mut future = good.clone();
    future[0]["height"] = 5.into();
    let mut extra = good.clone();
    extra[0]["colour"] = "red".into();

    let cases: Vec<(Value, &str)> = vec![
        (Value::Array(dup), "duplicate outpoint"),
        (Value::Array(zero), "value is zero"),
        (Value::Array(badhex), "bad script_pubkey hex"),
        (Value::Array(badtxid), "bad txid"),
        (Value::Array(future), "after share 0"),
        (Value::Array(extra), "unknown field"),
        (
            serde_json::json!({"not": "a list"}),
            "not a valid UTXO list",
        ),
    ];
    for (utxos, message) in cases {
        let path = write_utxos(&dir, &utxos);
        let (code, _, stderr) = run(&[
            "select-shareholder",
            "--network",
            "regtest",
            "--height",
            "0",
            "--header",
            &header,
            "--utxos",
            &path,
        ]);
        assert_ne!(code, 0, "{message}");
        assert!(
            stderr.contains(message),
            "expected {message:?} in {stderr:?}"
        );
    }

    let path = write_utxos(&dir, &Value::Array(good));
    let header_cases = [(&header[..100], "expected 160"), ("zz", "not valid hex")];
    for (h, message) in header_cases {
        let (code, _, stderr) = run(&[
            "select-shareholder",
            "--network",
            "regtest",
            "--height",
            "0",
            "--header",
            h,
            "--utxos",
            &path,
        ]);
        assert_ne!(code, 0);
        assert!(
            stderr.contains(message),
            "expected {message:?} in {stderr:?}"
        );
    }
    let (code, _, stderr) = run(&[
        "select-shareholder",
        "--network",
        "regtest",
        "--height",
        "3",
        "--header",
        &header,
        "--utxos",
        &path,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--header is for height 0"), "{stderr}");
    let (code, _, stderr) = run(&[
        "select-shareholder",
        "--network",
        "moonnet",
        "--height",
        "0",
        "--header",
        &header,
        "--utxos",
        &path,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown network"), "{stderr}");
}

#[test]
fn an_empty_set_selects_nothing_and_says_why() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let path = write_utxos(&dir, &Value::Array(vec![]));
    let (code, stdout, stderr) = run(&[
        "select-shareholder",
        "--network",
        "regtest",
        "--height",
        "0",
        "--header",
        v["selection"]["header_hex"].as_str().unwrap(),
        "--utxos",
        &path,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let got: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(got["n"], 0);
    assert!(got["q"].is_null());
}
