//! First run and settings. What a node runs on is decided outside the API (by whoever started
//! it: the daemon, the desktop app); a [`Supervisor`] they hand in keeps the choice and the API
//! asks for a restart to apply it.

use super::{Api, ApiError, Shutdown};
use crate::types::{Settings, SettingsResult, SettingsUpdate, Setup, SetupRequest};

/// Keeps the node's setup and settings (files), for the API. Implemented by the app layer.
pub trait Supervisor: Send + Sync + 'static {
    /// What runs now and whether mining is set up.
    fn setup_state(&self) -> Setup;
    /// Checks and keeps a new setup (applied at the restart that follows).
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] saying what is wrong with it.
    fn setup(&self, request: &SetupRequest) -> Result<(), ApiError>;
    /// The settings now.
    fn settings(&self) -> Settings;
    /// Checks and keeps changed settings; says whether a restart applies them.
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] naming the setting.
    fn update_settings(&self, update: &SettingsUpdate) -> Result<SettingsResult, ApiError>;
}

impl Api {
    fn supervisor(&self) -> Result<&dyn Supervisor, ApiError> {
        self.supervisor.as_deref().ok_or_else(|| {
            ApiError::Unavailable("this node's setup is fixed by whoever started it".into())
        })
    }

    /// `getsetup`.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] for a node without a supervisor.
    pub fn setup_state(&self) -> Result<Setup, ApiError> {
        Ok(self.supervisor()?.setup_state())
    }

    /// `setup`: keeps the new setup and restarts the node on it.
    ///
    /// # Errors
    /// What is wrong with the request; [`ApiError::Unavailable`] without a supervisor.
    pub fn setup(&self, request: &SetupRequest) -> Result<SettingsResult, ApiError> {
        self.supervisor()?.setup(request)?;
        let _ = self.shutdown.send(Shutdown::Restart);
        Ok(SettingsResult {
            restart_required: true,
        })
    }

    /// `getsettings`.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] without a supervisor.
    pub fn settings(&self) -> Result<Settings, ApiError> {
        Ok(self.supervisor()?.settings())
    }

    /// `setsettings`: keeps the changes; the thread count applies at once to a running miner,
    /// the rest at a restart the node does now.
    ///
    /// # Errors
    /// What is wrong with the update; [`ApiError::Unavailable`] without a supervisor.
    pub async fn update_settings(
        &self,
        update: &SettingsUpdate,
    ) -> Result<SettingsResult, ApiError> {
        let result = self.supervisor()?.update_settings(update)?;
        if let Some(t) = update.threads {
            if self.mining.state().await.mining {
                self.set_mining(true, Some(t)).await?;
            }
        }
        if result.restart_required {
            let _ = self.shutdown.send(Shutdown::Restart);
        }
        Ok(result)
    }
}
