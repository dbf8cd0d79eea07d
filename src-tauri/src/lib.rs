//! # p2share-desktop
//!
//! The desktop app: the node library ([`p2share_app`]) started in-process — on a devnet by
//! default, mining within a minute of the first launch, with no external node — and the
//! dashboard (`ui/dist`, embedded) in a Tauri 2 window that talks to it over IPC: the commands
//! are one-line calls into the typed request layer ([`commands`]), the events one bridge
//! ([`bridge`]). Around it: a tray with the hashrate, the odds, start/stop mining and quit;
//! desktop notifications; one instance at a time; the window's size and position remembered;
//! start with the system, start minimized and close to the tray ([`settings`]). Quitting shuts
//! the node down completely before the process exits.

pub mod bindings;
pub mod bridge;
pub mod commands;
pub mod host;
pub mod notices;
pub mod settings;
pub mod shell;
mod start;

include!("command_names.rs");

pub use host::{Host, IpcError, NodeRunState, RunState};
pub use start::{run, Args};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    fn json(file: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_capability_grants_exactly_the_commands_and_event_listening() {
        let cap = json("capabilities/main.json");
        assert_eq!(cap["windows"], serde_json::json!(["main"]));
        assert_eq!(cap["local"], serde_json::json!(true));
        assert!(cap.get("remote").is_none(), "no remote content may call in");
        let granted: BTreeSet<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let mut want: BTreeSet<String> = super::COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        want.insert("core:event:allow-listen".into());
        want.insert("core:event:allow-unlisten".into());
        assert_eq!(granted, want);
    }

    #[test]
    fn every_command_is_an_api_method_or_one_of_the_desktop_s_own() {
        // The two lists are kept apart on purpose (the window gets a subset of the API), so a
        // command renamed or misspelt on one side must show here.
        const DESKTOP_ONLY: &[&str] = &[
            "desktop_settings",
            "set_desktop_settings",
            "node_state",
            "ui_ready",
        ];
        let strays: Vec<&str> = super::COMMANDS
            .iter()
            .copied()
            .filter(|c| !p2share_api::rpc::METHODS.contains(c) && !DESKTOP_ONLY.contains(c))
            .collect();
        assert!(
            strays.is_empty(),
            "neither an API method nor desktop-only: {strays:?}"
        );
    }

    #[test]
    fn the_csp_allows_no_inline_code_and_no_remote_origin() {
        let conf = json("tauri.conf.json");
        let csp = &conf["app"]["security"]["csp"];
        for directive in ["default-src", "script-src", "style-src"] {
            assert_eq!(csp[directive], serde_json::json!("'self'"), "{directive}");
        }
        assert_eq!(
            csp["connect-src"],
            serde_json::json!("ipc: http://ipc.localhost")
        );
        assert_eq!(csp["object-src"], serde_json::json!("'none'"));
        let text = csp.to_string();
        assert!(
            !text.contains("unsafe") && !text.contains("https:"),
            "{text}"
        );
        assert_eq!(conf["app"]["withGlobalTauri"], serde_json::json!(false));
        assert_eq!(
            conf["app"]["security"]["freezePrototype"],
            serde_json::json!(true)
        );
    }
}
