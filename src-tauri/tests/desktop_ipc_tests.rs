//! The desktop app's IPC on Tauri's mock runtime, over a real devnet node (embedded Bitcoin
//! regtest chain, store, CPU miner): every command answers what the typed request layer
//! answers, failures carry their JSON-RPC codes, and the one event bridge brings the node's
//! events, lags and state to the webview and its notices to the desktop.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use p2share_app::config::LogConfig;
use p2share_app::devnet::{devnet_config, DevnetOptions};
use p2share_app::{App, LogBuffer};
use p2share_desktop::bridge::{self, LAGGED_EVENT, NODE_EVENT, STATE_EVENT};
use p2share_desktop::notices::{Notice, TrayView};
use p2share_desktop::settings::SettingsStore;
use p2share_desktop::shell::Shell;
use p2share_desktop::{Host, IpcError, NodeRunState, RunState, COMMANDS};
use serde_json::{json, Value};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow};

/// A devnet node in `dir` on free ports, not mining, started on Tauri's runtime (where the
/// commands run).
fn devnet(dir: &std::path::Path) -> App {
    let opts = DevnetOptions {
        datadir: dir.join("devnet"),
        threads: 1,
        peers: vec![],
        join: None,
        listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        api_bind: None,
        bitcoin_rpc_bind: "127.0.0.1:0".parse().unwrap(),
        esplora_bind: "127.0.0.1:0".parse().unwrap(),
        block_target_ratio: 2,
        mine: false,
        stratum_bind: Some("127.0.0.1:0".parse().unwrap()),
        log: LogConfig {
            level: "info".into(),
            file: false,
            keep: 1,
        },
    };
    let (config, _) = devnet_config(&opts, LogBuffer::new()).unwrap();
    tauri::async_runtime::block_on(App::start(config)).unwrap()
}

fn host(dir: &std::path::Path) -> Host {
    Host::new(
        SettingsStore::open(SettingsStore::path_in(dir)).unwrap(),
        Instant::now(),
    )
}

/// `host` now serves `node` (what the run loop does once a node is up).
fn running(host: &Host, node: &App) {
    host.set(
        Some(node.api.clone()),
        NodeRunState {
            state: RunState::Running,
            error: None,
        },
    );
}

fn window(host: &Host) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = mock_builder()
        .manage(host.clone())
        .invoke_handler(p2share_desktop::commands::handler())
        .build(mock_context(noop_assets()))
        .unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, w)
}

/// Invokes `cmd` with `args` as the dashboard does; the reply or the rejection as JSON.
fn invoke(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

fn ok(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    invoke(w, cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// The typed answer as JSON text parsed back, as an IPC answer reaches the test (without
/// serde_json's `float_roundtrip`, a float parsed from text may differ from the value written
/// by one unit in the last place: both sides take the same path).
fn typed<T: serde::Serialize>(f: impl std::future::Future<Output = T>) -> Value {
    let text = serde_json::to_string(&tauri::async_runtime::block_on(f)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_command_answers_what_the_typed_request_layer_answers() {
    let dir = tempfile::tempdir().unwrap();
    let node = devnet(dir.path());
    let host = host(dir.path());
    let (_app, w) = window(&host);
    running(&host, &node);
    let api = node.api.clone();
    // `getnodeinfo` lists the dial addresses, which appear once the listeners are up.
    wait_for("the listeners", 10, || {
        !tauri::async_runtime::block_on(node.dial_addrs()).is_empty()
    });
    let me = tauri::async_runtime::block_on(api.node_info())
        .mining_address
        .unwrap();
    let script = api.script_of(&me).unwrap();

    // Each command against its typed call (the values that cannot move while nothing mines).
    assert_eq!(
        ok(&w, "getsharechaininfo", json!({})),
        typed(api.chain_info())
    );
    assert_eq!(
        ok(&w, "getselectedshare", json!({})),
        typed(api.next_payout())
    );
    assert_eq!(
        ok(&w, "getshareranges", json!({"scriptOrAddress": me})),
        typed(api.share_ranges(&script))
    );
    assert_eq!(
        ok(&w, "listbitcoinblocks", json!({"count": null})),
        typed(async { api.bitcoin_blocks(50).await.unwrap() })
    );
    assert_eq!(ok(&w, "getpeerinfo", json!({})), json!([]));
    assert_eq!(
        ok(&w, "getnetworkinfo", json!({}))["local_peer_id"],
        typed(async { api.network_info().await.unwrap() })["local_peer_id"]
    );
    assert_eq!(
        ok(&w, "getsyncstatus", json!({})),
        typed(async { api.sync_status() })
    );
    assert_eq!(
        ok(&w, "getmininginfo", json!({}))["threads"],
        typed(async { api.mining_info().await.unwrap() })["threads"]
    );
    assert_eq!(
        ok(&w, "gethashratehistory", json!({"rangeSecs": 600})),
        typed(async { api.hashrate_history(600).await.unwrap() })
    );
    assert_eq!(
        ok(&w, "getodds", json!({"scriptOrAddress": me})),
        typed(api.odds(&script))
    );
    assert_eq!(
        ok(&w, "getnetworkparams", json!({})),
        typed(api.network_params())
    );
    assert_eq!(ok(&w, "getnodeinfo", json!({})), typed(api.node_info()));
    let test = ok(
        &w,
        "testbitcoincore",
        json!({"connection": {"url": "http://127.0.0.1:1", "cookie": null, "user": null, "password": null}}),
    );
    assert_eq!(test["ok"], json!(false), "{test}");
    assert!(ok(&w, "getlogs", json!({"count": 5})).is_array());
    // No supervisor in this test: the setup commands say so with their code.
    let e = invoke(&w, "getsetup", json!({})).unwrap_err();
    assert_eq!(e["code"], json!(-1), "{e}");
    let e = invoke(&w, "getsettings", json!({})).unwrap_err();
    assert_eq!(e["code"], json!(-1), "{e}");
    let e = invoke(&w, "setup", json!({"request": {"kind": "devnet"}})).unwrap_err();
    assert_eq!(e["code"], json!(-1), "{e}");
    let e = invoke(&w, "setsettings", json!({"update": {"threads": 2}})).unwrap_err();
    assert_eq!(e["code"], json!(-1), "{e}");
    // Mining starts and stops through the command, as the typed layer reports.
    let started = ok(&w, "setmining", json!({"enabled": true, "threads": 1}));
    assert_eq!(started["mining"], json!(true));
    assert_eq!(typed(api.mining().state())["mining"], json!(true));
    let stopped = ok(&w, "setmining", json!({"enabled": false, "threads": null}));
    assert_eq!(stopped["mining"], json!(false));
    // A peer address that does not parse is the caller's error.
    let e = invoke(&w, "addpeer", json!({"multiaddr": "not an address"})).unwrap_err();
    assert_eq!(e["code"], json!(-8), "{e}");
    // The desktop's own commands.
    assert_eq!(
        ok(&w, "node_state", json!({})),
        json!({"state": "running", "error": null})
    );
    assert_eq!(ok(&w, "ui_ready", json!({})), Value::Null);
    assert!(
        host.first_paint().is_none(),
        "ui_ready recorded the first paint"
    );
    tauri::async_runtime::block_on(node.shutdown());
}

#[test]
fn the_handler_answers_every_command_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let (_app, w) = window(&host);
    for cmd in COMMANDS {
        // Without a node every node command fails with the transport code; none is unknown.
        let reply = invoke(&w, cmd, json!({}));
        if let Err(e) = &reply {
            let text = e.to_string();
            assert!(!text.contains("not found"), "{cmd}: {text}");
        }
    }
    let e = invoke(&w, "getsharechaininfo", json!({})).unwrap_err();
    assert_eq!(e["code"], json!(IpcError::NOT_RUNNING), "{e}");
    assert!(e["message"].as_str().unwrap().contains("starting"), "{e}");
    let e = invoke(&w, "stop", json!({})).unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
}

#[test]
fn bad_arguments_are_refused_with_the_json_rpc_codes() {
    let dir = tempfile::tempdir().unwrap();
    let node = devnet(dir.path());
    let host = host(dir.path());
    let (_app, w) = window(&host);
    running(&host, &node);
    let e = invoke(
        &w,
        "getodds",
        json!({"scriptOrAddress": "bc1qnotthisnetwork"}),
    )
    .unwrap_err();
    assert_eq!(e["code"], json!(-5), "{e}");
    // A missing or mistyped argument is refused before the node sees it.
    assert!(invoke(&w, "getodds", json!({})).is_err());
    assert!(invoke(&w, "setmining", json!({"enabled": "yes"})).is_err());
    // The node kept running.
    assert!(ok(&w, "getsharechaininfo", json!({}))["height"].is_number());
    tauri::async_runtime::block_on(node.shutdown());
}

#[test]
fn desktop_settings_change_persist_and_a_failed_login_entry_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let (_app, w) = window(&host);
    let s = ok(&w, "desktop_settings", json!({}));
    assert_eq!(s["close_to_tray"], json!(true));
    let s = ok(
        &w,
        "set_desktop_settings",
        json!({"update": {"start_minimized": true, "notifications": false}}),
    );
    assert_eq!(s["start_minimized"], json!(true));
    assert_eq!(s["notifications"], json!(false));
    let reopened = SettingsStore::open(SettingsStore::path_in(dir.path())).unwrap();
    assert!(reopened.get().start_minimized && !reopened.get().notifications);
    // No autostart plugin on the mock runtime: refused, and nothing changed.
    let e = invoke(
        &w,
        "set_desktop_settings",
        json!({"update": {"start_with_system": true}}),
    )
    .unwrap_err();
    assert_eq!(e["code"], json!(IpcError::MISC), "{e}");
    assert_eq!(
        ok(&w, "desktop_settings", json!({}))["start_with_system"],
        json!(false)
    );
    // Unknown fields are refused, not ignored.
    assert!(invoke(
        &w,
        "set_desktop_settings",
        json!({"update": {"close_to_tary": true}})
    )
    .is_err());
}

/// A desktop that records what it was told.
#[derive(Default)]
struct Recorder {
    notices: Mutex<Vec<Notice>>,
    views: Mutex<Vec<TrayView>>,
}

impl Shell for Recorder {
    fn notify(&self, notice: &Notice) {
        self.notices.lock().unwrap().push(notice.clone());
    }
    fn show(&self, view: &TrayView) {
        self.views.lock().unwrap().push(view.clone());
    }
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_bridge_brings_events_state_and_notices_from_a_mining_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = devnet(dir.path());
    let host = host(dir.path());
    let (app, _w) = window(&host);
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let states: Arc<Mutex<Vec<Value>>> = Arc::default();
    {
        let seen = seen.clone();
        app.listen_any(NODE_EVENT, move |e| {
            seen.lock()
                .unwrap()
                .push(serde_json::from_str(e.payload()).unwrap());
        });
        let states = states.clone();
        app.listen_any(STATE_EVENT, move |e| {
            states
                .lock()
                .unwrap()
                .push(serde_json::from_str(e.payload()).unwrap());
        });
        app.listen_any(LAGGED_EVENT, |_| {});
    }
    let shell = Arc::new(Recorder::default());
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(bridge::forward_state(
        handle.clone(),
        host.clone(),
        shell.clone(),
    ));
    running(&host, &node);
    let events = node.subscribe();
    tauri::async_runtime::spawn(bridge::forward_events(
        handle,
        node.api.clone(),
        events,
        host.clone(),
        shell.clone(),
    ));
    tauri::async_runtime::block_on(node.api.set_mining(true, Some(1))).unwrap();
    let has = |kind: &str| {
        seen.lock()
            .unwrap()
            .iter()
            .any(|e| e["type"] == json!(kind))
    };
    wait_for("a mining event", 30, || has("mining"));
    wait_for("a share found by this node", 180, || has("found_share"));
    wait_for("a hashrate event", 30, || has("hashrate"));
    wait_for("the share notice", 30, || {
        shell
            .notices
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.title == "Share found")
    });
    wait_for("the tray showing the hashrate", 30, || {
        shell
            .views
            .lock()
            .unwrap()
            .iter()
            .any(|v| v.mining && v.hashrate > 0.0)
    });
    wait_for("the tray showing the odds", 30, || {
        shell
            .views
            .lock()
            .unwrap()
            .iter()
            .any(|v| v.odds.is_some_and(|p| p > 0.0))
    });
    assert!(states
        .lock()
        .unwrap()
        .iter()
        .any(|s| s["state"] == json!("running")));
    // The node stops: the state says so and the bridge lets go.
    host.set(
        None,
        NodeRunState {
            state: RunState::Stopped,
            error: None,
        },
    );
    wait_for("the stopped state", 10, || {
        states
            .lock()
            .unwrap()
            .iter()
            .any(|s| s["state"] == json!("stopped"))
    });
    tauri::async_runtime::block_on(node.shutdown());
}
