// A Bitcoin Core connection (URL + cookie file, or user + password) with "Test connection",
// which shows `testbitcoincore`'s answer word for word.
import { useId, useState } from "react";
import type { BitcoinCoreConnection, BitcoinCoreTest } from "../bindings";
import { useTransport } from "../api/hooks";
import { ErrorNote } from "./Status";

export interface ConnectionDraft {
  url: string;
  auth: "cookie" | "user";
  cookieFile: string;
  user: string;
  password: string;
}

export function emptyDraft(url = "http://127.0.0.1:8332", cookieFile = "~/.bitcoin/.cookie"): ConnectionDraft {
  return { url, auth: "cookie", cookieFile, user: "", password: "" };
}

export function toConnection(d: ConnectionDraft): BitcoinCoreConnection {
  return d.auth === "cookie"
    ? { url: d.url.trim(), cookie_file: d.cookieFile.trim() }
    : { url: d.url.trim(), user: d.user, password: d.password };
}

export function draftComplete(d: ConnectionDraft): boolean {
  if (!d.url.trim()) return false;
  return d.auth === "cookie" ? d.cookieFile.trim() !== "" : d.user !== "" && d.password !== "";
}

export function BitcoinConnectionForm({
  value,
  onChange,
  legend = "Bitcoin Core connection",
}: {
  value: ConnectionDraft;
  onChange: (d: ConnectionDraft) => void;
  legend?: string;
}) {
  const transport = useTransport();
  const id = useId();
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<BitcoinCoreTest | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const set = (patch: Partial<ConnectionDraft>) => {
    setResult(null);
    onChange({ ...value, ...patch });
  };

  const test = async () => {
    setTesting(true);
    setResult(null);
    setError(null);
    try {
      setResult(await transport.call("testbitcoincore", [toConnection(value)]));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setTesting(false);
    }
  };

  return (
    <fieldset className="fieldset">
      <legend>{legend}</legend>
      <label className="field">
        <span>RPC URL</span>
        <input type="url" value={value.url} onChange={(e) => set({ url: e.target.value })} placeholder="http://127.0.0.1:8332" required />
      </label>
      <div className="radio-row" role="radiogroup" aria-label="Authentication">
        <label>
          <input type="radio" name={`${id}-auth`} checked={value.auth === "cookie"} onChange={() => set({ auth: "cookie" })} />
          Cookie file
        </label>
        <label>
          <input type="radio" name={`${id}-auth`} checked={value.auth === "user"} onChange={() => set({ auth: "user" })} />
          User and password
        </label>
      </div>
      {value.auth === "cookie" ? (
        <label className="field">
          <span>Cookie file (on the node's machine)</span>
          <input value={value.cookieFile} onChange={(e) => set({ cookieFile: e.target.value })} placeholder="/home/me/.bitcoin/.cookie" />
        </label>
      ) : (
        <div className="field-row">
          <label className="field">
            <span>RPC user</span>
            <input value={value.user} autoComplete="off" onChange={(e) => set({ user: e.target.value })} />
          </label>
          <label className="field">
            <span>RPC password</span>
            <input type="password" value={value.password} autoComplete="off" onChange={(e) => set({ password: e.target.value })} />
          </label>
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="btn" onClick={test} disabled={testing || !draftComplete(value)}>
          {testing ? "Testing…" : "Test connection"}
        </button>
        <span aria-live="polite" className="test-result">
          {result &&
            (result.ok ? (
              <span className="pill pill-good" data-testid="test-ok">
                Connected: chain {result.chain ?? "?"}, {result.blocks ?? "?"} blocks
              </span>
            ) : (
              <span className="test-error" data-testid="test-error">
                {result.error ?? "the node could not use this Bitcoin Core"}
              </span>
            ))}
        </span>
      </div>
      {error && <ErrorNote error={error} what="The connection test" />}
    </fieldset>
  );
}
