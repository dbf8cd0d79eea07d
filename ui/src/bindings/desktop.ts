// Generated from the desktop app's Rust types by ts-rs (src-tauri/src/bindings.rs). Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p p2share-desktop --lib bindings` after changing them.

/**
 * The desktop app's own settings (kept in `desktop.json` in the data root).
 */
export type DesktopSettings = { 
/**
 * Start with the window hidden (in the tray).
 */
start_minimized: boolean, 
/**
 * Closing the window hides it to the tray; Quit in the tray ends the app.
 */
close_to_tray: boolean, 
/**
 * Start the app when the user logs in.
 */
start_with_system: boolean, 
/**
 * Desktop notifications: a share found, a Bitcoin block found, a block won, peers lost.
 */
notifications: boolean, };

/**
 * `set_desktop_settings`: only the fields present change.
 */
export type DesktopSettingsUpdate = { 
/**
 * Start with the window hidden.
 */
start_minimized?: boolean, 
/**
 * Close to the tray.
 */
close_to_tray?: boolean, 
/**
 * Start with the system.
 */
start_with_system?: boolean, 
/**
 * Desktop notifications.
 */
notifications?: boolean, };

/**
 * Where the in-process node stands.
 */
export type NodeRunState = { 
/**
 * The state.
 */
state: "starting" | "running" | "restarting" | "stopped" | "failed", 
/**
 * Why it failed (only with `failed`).
 */
error: string | null, };
