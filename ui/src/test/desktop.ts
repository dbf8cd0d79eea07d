import { vi } from "vitest";
import type { DesktopSettings, DesktopSettingsUpdate } from "../bindings";
import type { Desktop } from "../api/tauri";

/** A desktop app's extras that keep their settings in memory and record every call. */
export function fakeDesktop(initial: Partial<DesktopSettings> = {}) {
  let settings: DesktopSettings = {
    start_minimized: false,
    close_to_tray: true,
    start_with_system: false,
    notifications: true,
    ...initial,
  };
  const desktop = {
    settings: vi.fn(async () => settings),
    setSettings: vi.fn(async (u: DesktopSettingsUpdate) => {
      settings = { ...settings, ...u };
      return settings;
    }),
    uiReady: vi.fn(async () => {}),
  } satisfies Desktop;
  return desktop;
}
