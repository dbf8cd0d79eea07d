// The locked wallet's card: why it matters here (the caller's words) and the passphrase field.
// A wrong passphrase is refused inline; the new wallet info goes to `onInfo`.
import { useState, type FormEvent, type ReactNode } from "react";
import type { WalletInfo } from "../bindings";
import { useTransport } from "../api/hooks";
import { Card } from "./Card";
import { Refusal } from "./Status";

export function UnlockCard({
  onInfo,
  title = "Locked",
  children,
}: {
  onInfo: (w: WalletInfo) => void;
  title?: string;
  /** What the lock stops on this screen. */
  children: ReactNode;
}) {
  const transport = useTransport();
  const [pass, setPass] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const unlock = async (e: FormEvent) => {
    e.preventDefault();
    if (!pass || busy) return;
    setBusy(true);
    setError(null);
    try {
      const info = await transport.call("unlockwallet", [pass]);
      setPass("");
      onInfo(info);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={title} className="span-12 card-locked">
      <form className="unlock" onSubmit={unlock} data-testid="unlock-form">
        <p>{children}</p>
        <div className="inline-form">
          <label className="field field-inline">
            <span>Passphrase</span>
            <input
              type="password"
              autoComplete="current-password"
              value={pass}
              onChange={(e) => {
                setPass(e.target.value);
                setError(null);
              }}
              data-testid="unlock-passphrase"
            />
          </label>
          <button type="submit" className="btn btn-primary" disabled={!pass || busy} data-testid="unlock">
            {busy ? "Unlocking…" : "Unlock"}
          </button>
        </div>
        {error && <Refusal error={error} title="Still locked" testId="unlock-error" />}
      </form>
    </Card>
  );
}
