//! The desktop around the node: the main window (shown, hidden to the tray), the tray icon and
//! its menu, desktop notifications and the login entry. [`Shell`] is what the event bridge
//! talks to, so the bridge runs the same with a real desktop and in tests.

use std::sync::{Arc, Mutex};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt as _;

use crate::host::{Host, IpcError};
use crate::notices::{Notice, TrayView};

/// The main window's label.
pub const MAIN_WINDOW: &str = "main";

/// What the event bridge tells the desktop.
pub trait Shell: Send + Sync + 'static {
    /// Shows a notification.
    fn notify(&self, notice: &Notice);
    /// Shows the node's state in the tray.
    fn show(&self, view: &TrayView);
}

/// Brings the main window up (from the tray, or a second launch).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Writes or removes the login entry that starts the app with the system.
///
/// # Errors
/// The entry could not be written or removed (or the plugin is absent).
pub fn set_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) -> Result<(), IpcError> {
    let Some(manager) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() else {
        return Err(IpcError::misc(
            "starting with the system is not available here",
        ));
    };
    let result = if on {
        manager.enable()
    } else {
        manager.disable()
    };
    result.map_err(|e| IpcError::misc(format!("cannot change the login entry: {e}")))
}

/// The tray icon with its menu: status, odds, start/stop mining, show, quit.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    status: MenuItem<R>,
    odds: MenuItem<R>,
    toggle: MenuItem<R>,
    mining: Arc<Mutex<bool>>,
}

impl<R: Runtime> Tray<R> {
    /// Builds the tray of `app`; its menu starts and stops mining on `host`'s node.
    ///
    /// # Errors
    /// The tray or its menu could not be made.
    pub fn build(app: &AppHandle<R>, host: Host) -> tauri::Result<Tray<R>> {
        let view = TrayView::default();
        let status = MenuItem::with_id(app, "status", view.status_line(), false, None::<&str>)?;
        let odds = MenuItem::with_id(app, "odds", view.odds_line(), false, None::<&str>)?;
        let toggle = MenuItem::with_id(app, "toggle", view.toggle_label(), true, None::<&str>)?;
        let show = MenuItem::with_id(app, "show", "Open p2share", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[
                &status,
                &odds,
                &PredefinedMenuItem::separator(app)?,
                &toggle,
                &show,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let mining = Arc::new(Mutex::new(false));
        let is_mining = mining.clone();
        let mut builder = TrayIconBuilder::with_id("p2share")
            .menu(&menu)
            .tooltip("p2share")
            .on_menu_event(move |app, event| match event.id().as_ref() {
                "toggle" => {
                    let start = !*is_mining.lock().unwrap_or_else(|p| p.into_inner());
                    let host = host.clone();
                    tauri::async_runtime::spawn(async move {
                        if let Ok(api) = host.api() {
                            if let Err(e) = api.set_mining(start, None).await {
                                tracing::warn!("tray: cannot change mining: {e}");
                            }
                        }
                    });
                }
                "show" => show_main(app),
                "quit" => host.request_quit(),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        let icon = builder.build(app)?;
        Ok(Tray {
            icon,
            status,
            odds,
            toggle,
            mining,
        })
    }
}

/// The real desktop: the tray, and notifications while the settings allow them.
pub struct Desktop<R: Runtime> {
    app: AppHandle<R>,
    host: Host,
    tray: Option<Tray<R>>,
}

impl<R: Runtime> Desktop<R> {
    /// The desktop of `app`, with `tray` when one could be made.
    pub fn new(app: AppHandle<R>, host: Host, tray: Option<Tray<R>>) -> Desktop<R> {
        Desktop { app, host, tray }
    }
}

impl<R: Runtime> Shell for Desktop<R> {
    fn notify(&self, notice: &Notice) {
        if !self.host.settings().get().notifications {
            return;
        }
        let shown = self
            .app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show();
        if let Err(e) = shown {
            // No notification service (a bare X session): the event is still on the dashboard.
            tracing::debug!("notification not shown: {e}");
        }
    }

    fn show(&self, view: &TrayView) {
        let Some(t) = &self.tray else { return };
        *t.mining.lock().unwrap_or_else(|p| p.into_inner()) = view.mining;
        let _ = t.status.set_text(view.status_line());
        let _ = t.odds.set_text(view.odds_line());
        let _ = t.toggle.set_text(view.toggle_label());
        let _ = t.toggle.set_enabled(view.failed.is_none());
        let _ = t.icon.set_title(Some(view.title()));
        let _ = t
            .icon
            .set_tooltip(Some(format!("p2share — {}", view.status_line())));
    }
}
