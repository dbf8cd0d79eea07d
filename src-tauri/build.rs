//! Tauri's build step, with the app's ACL manifest: only the commands in
//! `src/command_names.rs` exist for the webview, each behind its own permission, and the
//! capability in `capabilities/main.json` grants them to the main window alone.
//!
//! The window shows the built dashboard (`ui/dist`, embedded). Without a build, a page saying
//! how to make one stands in, so that `cargo build` works in a fresh clone.

include!("src/command_names.rs");

fn main() {
    let manifest =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").exists() {
        println!("cargo:warning=ui/dist is not built: the app shows a page saying so (run scripts/ui-build)");
        let page = "<!doctype html><meta charset=utf-8><title>p2share</title>\
            <p>The dashboard was not built. Run <code>scripts/ui-build</code>, then build the app again.</p>\n";
        if let Err(e) = std::fs::create_dir_all(&dist)
            .and_then(|()| std::fs::write(dist.join("index.html"), page))
        {
            eprintln!("cannot write {}: {e}", dist.display());
            std::process::exit(1);
        }
    }
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports by printing and exiting non-zero.
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
