//! `p2share`: the desktop app (see the `p2share_desktop` library).

// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    // A dashboard needs no GPU compositing: WebKitGTK's GL path (Mesa's software rasterizer where
    // there is no GPU) costs its web process about 110 MB. The user's own setting wins. Set
    // before any thread or the webview exists, so every WebKit process inherits it.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let args = p2share_desktop::Args::parse();
    match p2share_desktop::run(args, launched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
