//! The desktop IPC's own TypeScript types, generated with ts-rs into
//! `ui/src/bindings/desktop.ts` (the node's types are in `generated.ts`). The test fails when
//! the file is stale; `UPDATE_BINDINGS=1 cargo test -p p2share-desktop --lib bindings` writes it.

use p2share_api::bindings::decl;
use ts_rs::Config;

use crate::host::NodeRunState;
use crate::settings::{DesktopSettings, DesktopSettingsUpdate};

/// Where the generated file lives, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/desktop.ts";

/// The whole generated file.
pub fn typescript() -> String {
    let cfg = Config::new();
    let mut out = String::from(
        "// Generated from the desktop app's Rust types by ts-rs (src-tauri/src/bindings.rs). Do not edit:\n\
         // run `UPDATE_BINDINGS=1 cargo test -p p2share-desktop --lib bindings` after changing them.\n\n",
    );
    decl::<DesktopSettings>(&cfg, &mut out);
    decl::<DesktopSettingsUpdate>(&cfg, &mut out);
    decl::<NodeRunState>(&cfg, &mut out);
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(BINDINGS_PATH);
        let update = "UPDATE_BINDINGS=1 cargo test -p p2share-desktop --lib bindings";
        if let Err(e) = p2share_api::bindings::check_generated(&path, &typescript(), update) {
            panic!("{e}");
        }
    }
}
