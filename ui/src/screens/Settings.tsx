// Node settings: Bitcoin Core connection, API bind, threads; the data directory for reference.
import { useState, type FormEvent } from "react";
import type { Settings as SettingsT, SettingsUpdate } from "../bindings";
import { useRpc, useTransport } from "../api/hooks";
import { isLoopbackBind } from "../api/derived";
import { Card, ScreenHeader } from "../components/Card";
import { ErrorNote, Note, Rpc } from "../components/Status";
import { CopyButton } from "../components/CopyButton";
import { DesktopOptions } from "../components/DesktopOptions";
import { useDesktop } from "../api/context";
import { BitcoinConnectionForm, draftComplete, emptyDraft, toConnection } from "../components/BitcoinConnectionForm";

export default function Settings() {
  const settings = useRpc("getsettings");
  return (
    <div className="screen" data-testid="settings">
      <ScreenHeader title="Settings" />
      <Rpc state={settings} what="Settings">
        {(s) => <SettingsForm s={s} onSaved={settings.refetch} />}
      </Rpc>
    </div>
  );
}

function SettingsForm({ s, onSaved }: { s: SettingsT; onSaved: () => void }) {
  const transport = useTransport();
  const desktop = useDesktop();
  const [apiBind, setApiBind] = useState(s.api_bind);
  const [threadsText, setThreadsText] = useState(String(s.threads));
  const parsedThreads = Number(threadsText);
  const threads = Number.isInteger(parsedThreads) && parsedThreads >= 1 ? parsedThreads : null;
  const [editBitcoin, setEditBitcoin] = useState(false);
  const [conn, setConn] = useState(() => {
    const d = emptyDraft(s.bitcoin.url ?? undefined);
    return { ...d, auth: s.bitcoin.auth === "user" ? ("user" as const) : ("cookie" as const) };
  });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<{ restart: boolean } | null>(null);
  const [error, setError] = useState<Error | null>(null);

  const update: SettingsUpdate = {};
  if (apiBind.trim() !== s.api_bind) update.api_bind = apiBind.trim();
  if (threads !== null && threads !== s.threads) update.threads = threads;
  if (editBitcoin && draftComplete(conn)) update.bitcoin = toConnection(conn);
  const dirty = Object.keys(update).length > 0;
  const exposed = apiBind.trim() !== "" && !isLoopbackBind(apiBind.trim());

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const r = await transport.call("setsettings", [update]);
      setSaved({ restart: r.restart_required });
      setEditBitcoin(false);
      onSaved();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="grid" onSubmit={submit}>
      <Card title="Node" className="span-6">
        <dl className="kv">
          <dt>Network</dt>
          <dd>
            {s.network} · <a href="#/setup">change (first-run setup)</a>
          </dd>
          <dt>Data directory</dt>
          <dd className="copy-row">
            <code className="wrap" data-testid="datadir">
              {s.datadir}
            </code>
            <CopyButton text={s.datadir} />
          </dd>
        </dl>
        <label className="field">
          <span>Miner threads</span>
          <input className="input-narrow" type="number" min={1} max={1024} value={threadsText} aria-invalid={threads === null} onChange={(e) => setThreadsText(e.target.value)} />
        </label>
      </Card>
      <Card title="Dashboard and API" className="span-6">
        <label className="field">
          <span>Listen address (ip:port)</span>
          <input className="mono" value={apiBind} onChange={(e) => setApiBind(e.target.value)} aria-describedby="bind-help" />
        </label>
        <p id="bind-help" className="muted small">
          {desktop
            ? "The desktop app needs no server: set an address to also open this dashboard and the JSON-RPC API in a browser (empty: off)."
            : "The address this dashboard and the JSON-RPC API listen on. Default: loopback only."}
        </p>
        {exposed && (
          <Note tone="warn">
            <strong>This exposes the dashboard to your network.</strong> {apiBind.trim() || "This address"} is not a loopback
            address: anyone who can reach it can try to log in, and the traffic (including the password) is plain HTTP. Use it
            only on a network you trust.
          </Note>
        )}
      </Card>
      <DesktopOptions options={["start_with_system", "start_minimized", "close_to_tray", "notifications"]} className="span-12" />
      <Card title="Bitcoin" className="span-12">
        <p>
          {s.bitcoin.kind === "embedded"
            ? "This node runs its own embedded Bitcoin (regtest)."
            : s.bitcoin.kind === "core"
              ? `Bitcoin Core at ${s.bitcoin.url ?? "?"} (${s.bitcoin.auth === "user" ? "user and password" : "cookie file"}).`
              : "No Bitcoin node is configured: the node cannot mine."}
        </p>
        {!editBitcoin ? (
          <button type="button" className="btn" onClick={() => setEditBitcoin(true)}>
            {s.bitcoin.kind === "core" ? "Change Bitcoin Core connection" : "Use Bitcoin Core"}
          </button>
        ) : (
          <>
            <BitcoinConnectionForm value={conn} onChange={setConn} />
            <button type="button" className="btn btn-ghost" onClick={() => setEditBitcoin(false)}>
              Keep the current connection
            </button>
          </>
        )}
      </Card>
      <div className="span-12 form-actions sticky-actions">
        <button type="submit" className="btn btn-primary" disabled={!dirty || busy}>
          {busy ? "Saving…" : "Save settings"}
        </button>
        {saved && (
          <span role="status" className={saved.restart ? "pill pill-warn" : "pill pill-good"} data-testid="saved">
            {saved.restart ? "Saved. Restart the node to apply." : "Saved and applied."}
          </span>
        )}
        {error && <ErrorNote error={error} what="Settings" />}
      </div>
    </form>
  );
}
