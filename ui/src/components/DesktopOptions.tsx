// The desktop app's own options (start with the system, start minimized, close to tray,
// notifications): each checkbox applies at once and shows what the app saved. Renders nothing
// in the browser.
import { useEffect, useState, type ReactNode } from "react";
import type { DesktopSettings } from "../bindings";
import { useDesktop } from "../api/context";
import { Card } from "./Card";
import { ErrorNote, Loading } from "./Status";

/** An option of the desktop app. */
export type DesktopOption = "start_with_system" | "start_minimized" | "close_to_tray" | "notifications";

const LABELS: Record<DesktopOption, { label: string; help: string }> = {
  start_with_system: {
    label: "Start with the system",
    help: "p2share starts when you log in, so the miner runs without you opening it.",
  },
  start_minimized: {
    label: "Start minimized",
    help: "Open in the tray, without the window.",
  },
  close_to_tray: {
    label: "Close to tray",
    help: "Closing the window keeps p2share mining in the tray; quit from the tray's menu.",
  },
  notifications: {
    label: "Desktop notifications",
    help: "A share found, a Bitcoin block found, a block won, all peers lost.",
  },
};

/** The desktop options in a card; `null` outside the desktop app. */
export function DesktopOptions({
  options,
  title = "Desktop",
  className = "span-6",
  intro,
}: {
  options: readonly DesktopOption[];
  title?: string;
  className?: string;
  intro?: ReactNode;
}) {
  const desktop = useDesktop();
  const [settings, setSettings] = useState<DesktopSettings | null>(null);
  const [busy, setBusy] = useState<DesktopOption | null>(null);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    if (!desktop) return;
    let live = true;
    desktop.settings().then(
      (s) => live && setSettings(s),
      (e: unknown) => live && setError(e instanceof Error ? e : new Error(String(e))),
    );
    return () => {
      live = false;
    };
  }, [desktop]);

  if (!desktop) return null;

  const change = async (option: DesktopOption, value: boolean) => {
    setBusy(option);
    setError(null);
    try {
      setSettings(await desktop.setSettings({ [option]: value }));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card title={title} className={className}>
      <div data-testid="desktop-settings">
        {intro}
        {settings === null && error === null && <Loading />}
        {settings !== null &&
          options.map((o) => (
            <label key={o} className="check">
              <input
                type="checkbox"
                checked={settings[o]}
                disabled={busy !== null}
                onChange={(e) => void change(o, e.target.checked)}
                data-testid={`desktop-${o}`}
              />
              <span>
                <strong>{LABELS[o].label}</strong>
                <span className="muted small">{LABELS[o].help}</span>
              </span>
            </label>
          ))}
        {error && <ErrorNote error={error} what="Desktop settings" />}
      </div>
    </Card>
  );
}
