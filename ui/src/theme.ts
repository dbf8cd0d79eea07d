// Light/dark: CSS follows prefers-color-scheme unless the user picked one (saved locally).
export type ThemePref = "system" | "light" | "dark";
const KEY = "p2share.theme";

export function loadTheme(): ThemePref {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(pref: ThemePref): void {
  const root = document.documentElement;
  if (pref === "system") delete root.dataset.theme;
  else root.dataset.theme = pref;
  try {
    if (pref === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, pref);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  window.dispatchEvent(new Event("p2share-theme"));
}

/** Whether the page shows dark colors now. */
export function isDark(): boolean {
  const t = document.documentElement.dataset.theme;
  if (t === "dark") return true;
  if (t === "light") return false;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

export function nextTheme(pref: ThemePref): ThemePref {
  return pref === "system" ? (isDark() ? "light" : "dark") : pref === "dark" ? "light" : "dark";
}
