//! The desktop app's own settings, kept in `desktop.json` in the data root beside the node's
//! `setup.toml`: written to a temporary file and renamed, so a crash never leaves half a file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The desktop app's own settings (kept in `desktop.json` in the data root).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct DesktopSettings {
    /// Start with the window hidden (in the tray).
    pub start_minimized: bool,
    /// Closing the window hides it to the tray; Quit in the tray ends the app.
    pub close_to_tray: bool,
    /// Start the app when the user logs in.
    pub start_with_system: bool,
    /// Desktop notifications: a share found, a Bitcoin block found, a block won, peers lost.
    pub notifications: bool,
}

impl Default for DesktopSettings {
    fn default() -> DesktopSettings {
        DesktopSettings {
            start_minimized: false,
            close_to_tray: true,
            start_with_system: false,
            notifications: true,
        }
    }
}

/// `set_desktop_settings`: only the fields present change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DesktopSettingsUpdate {
    /// Start with the window hidden.
    #[ts(optional)]
    pub start_minimized: Option<bool>,
    /// Close to the tray.
    #[ts(optional)]
    pub close_to_tray: Option<bool>,
    /// Start with the system.
    #[ts(optional)]
    pub start_with_system: Option<bool>,
    /// Desktop notifications.
    #[ts(optional)]
    pub notifications: Option<bool>,
}

impl DesktopSettings {
    /// These settings with `update`'s fields applied.
    pub fn with(&self, update: &DesktopSettingsUpdate) -> DesktopSettings {
        DesktopSettings {
            start_minimized: update.start_minimized.unwrap_or(self.start_minimized),
            close_to_tray: update.close_to_tray.unwrap_or(self.close_to_tray),
            start_with_system: update.start_with_system.unwrap_or(self.start_with_system),
            notifications: update.notifications.unwrap_or(self.notifications),
        }
    }
}

/// Why the settings file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Reading or writing failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The file is not valid settings.
    #[error("{path}: {reason} (fix or delete the file)")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and column.
        reason: String,
    },
}

/// The settings file and the settings in force.
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    current: Mutex<DesktopSettings>,
}

impl SettingsStore {
    /// The file under `root` (`<root>/desktop.json`).
    pub fn path_in(root: &Path) -> PathBuf {
        root.join("desktop.json")
    }

    /// Reads `path`; a missing file gives the defaults.
    ///
    /// # Errors
    /// An unreadable file, or one that is not valid settings (named, with where it is wrong).
    pub fn open(path: PathBuf) -> Result<SettingsStore, SettingsError> {
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| SettingsError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DesktopSettings::default(),
            Err(e) => {
                return Err(SettingsError::Io {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        Ok(SettingsStore {
            path,
            current: Mutex::new(current),
        })
    }

    /// The settings in force.
    pub fn get(&self) -> DesktopSettings {
        self.current
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Applies `update`, writes the file, and returns the new settings; on a failed write the
    /// settings in force stay as they were.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn update(&self, update: &DesktopSettingsUpdate) -> Result<DesktopSettings, SettingsError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let next = current.with(update);
        self.write(&next)?;
        *current = next.clone();
        Ok(next)
    }

    fn write(&self, settings: &DesktopSettings) -> Result<(), SettingsError> {
        let io = |e: std::io::Error| SettingsError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(settings).map_err(|e| SettingsError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let tmp = self.path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_missing_file_gives_the_defaults_and_an_update_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = SettingsStore::path_in(dir.path());
        let store = SettingsStore::open(path.clone()).unwrap();
        assert_eq!(store.get(), DesktopSettings::default());
        let next = store
            .update(&DesktopSettingsUpdate {
                start_minimized: Some(true),
                ..Default::default()
            })
            .unwrap();
        assert!(next.start_minimized);
        assert!(
            next.close_to_tray,
            "fields not in the update keep their value"
        );
        assert_eq!(SettingsStore::open(path).unwrap().get(), next);
    }

    #[test]
    fn a_broken_file_is_refused_with_its_path_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = SettingsStore::path_in(dir.path());
        std::fs::write(&path, "{\"close_to_tray\": maybe}").unwrap();
        let e = SettingsStore::open(path.clone()).unwrap_err().to_string();
        assert!(e.contains("desktop.json") && e.contains("line 1"), "{e}");
        std::fs::write(&path, "{\"close_to_tary\": true}").unwrap();
        let e = SettingsStore::open(path).unwrap_err().to_string();
        assert!(e.contains("close_to_tary"), "{e}");
    }

    #[test]
    fn a_failed_write_keeps_the_settings_in_force() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename fails.
        let path = dir.path().join("desktop.json");
        std::fs::create_dir_all(path.join("x")).unwrap();
        let store = SettingsStore {
            path,
            current: Mutex::new(DesktopSettings::default()),
        };
        let update = DesktopSettingsUpdate {
            notifications: Some(false),
            ..Default::default()
        };
        assert!(store.update(&update).is_err());
        assert!(store.get().notifications);
    }
}
