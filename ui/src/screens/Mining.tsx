// The node's own miner: start/stop, threads, per-thread hashrate, what it found.
import { useEffect, useState } from "react";
import type { MiningInfo } from "../bindings";
import { useNodeEvent, useRpc, useTransport } from "../api/hooks";
import { hasherLabel } from "../api/derived";
import { Card, ScreenHeader, Stat } from "../components/Card";
import { ErrorNote, Rpc } from "../components/Status";
import { DesktopOptions } from "../components/DesktopOptions";
import { formatCount, formatHashrate, formatIn, formatMs, formatNumber, formatSats, formatTime, shortHash } from "../format";

export default function Mining() {
  const info = useRpc("getmininginfo", [], { refreshOn: ["mining", "found_share", "bitcoin_block"], pollMs: 5_000 });
  // Live figures between polls (per-thread figures come with the poll). `getmininginfo` is about
  // the CPU miner: the event's total also counts GPUs and Stratum devices, so take the CPU's.
  useNodeEvent(["hashrate"], (e) =>
    info.setData((m) =>
      m
        ? {
            ...m,
            hashrate: e.hashers.find((h) => h.name === "cpu")?.hashrate ?? m.hashrate,
            hashers:
              m.hashers?.map((h) => {
                const live = e.hashers.find((x) => x.name === h.name);
                return live ? { ...h, hashrate: live.hashrate, threads: live.threads, backend: live.backend } : h;
              }) ?? null,
          }
        : m,
    ),
  );
  useNodeEvent(["mining"], (e) => info.setData((m) => (m ? { ...m, mining: e.mining, threads: e.threads } : m)));
  return (
    <div className="screen" data-testid="mining">
      <ScreenHeader title="Mining" />
      <Rpc state={info} what="Mining info">
        {(m) => <MiningView m={m} onChanged={info.refetch} />}
      </Rpc>
    </div>
  );
}

function MiningView({ m, onChanged }: { m: MiningInfo; onChanged: () => void }) {
  const blocks = m.blocks ?? [];
  const transport = useTransport();
  // The field's text, so that it can be cleared while typing; parsed on use.
  const [threadsText, setThreadsText] = useState(String(m.threads));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => setThreadsText(String(m.threads)), [m.threads]);
  const parsed = Number(threadsText);
  const threads = Number.isInteger(parsed) && parsed >= 1 ? parsed : null;

  const act = async (enabled: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await transport.call("setmining", enabled ? (threads === null ? [true] : [true, threads]) : [false]);
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };

  const backend = m.hashers?.map((h) => h.backend).join(", ") || "—";
  return (
    <div className="grid">
      <Card title="Miner" className="span-4">
        <div className="miner-state">
          <span className={`dot ${m.mining ? "dot-good" : "dot-off"}`} aria-hidden="true" />
          <strong data-testid="mining-state">{m.mining ? "Mining" : "Stopped"}</strong>
          <span className="muted">backend {backend}</span>
        </div>
        <form
          className="miner-controls"
          onSubmit={(e) => {
            e.preventDefault();
            void act(true);
          }}
        >
          <label className="field field-inline">
            <span>Threads</span>
            <input
              type="number"
              min={1}
              max={1024}
              step={1}
              value={threadsText}
              onChange={(e) => setThreadsText(e.target.value)}
              aria-describedby="threads-help"
              aria-invalid={threads === null}
            />
          </label>
          {m.mining ? (
            <>
              <button type="submit" className="btn" disabled={busy || threads === null || threads === m.threads}>
                Apply threads
              </button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={() => act(false)}>
                Stop mining
              </button>
            </>
          ) : (
            <button type="submit" className="btn btn-primary" disabled={busy || threads === null}>
              Start mining
            </button>
          )}
        </form>
        <p id="threads-help" className="muted small">
          At most 4 per CPU core. Re-threading keeps the counters and found blocks.
        </p>
        <p className="muted small">
          Graphics cards and mining devices (Bitaxe, NerdMiner, …) are on the <a href="#/devices">Devices</a> screen;
          graphics cards mine while mining is on here.
        </p>
        {error && <ErrorNote error={error} what="The miner" />}
      </Card>
      <Card title="Counters" className="span-8">
        <div className="stats">
          <Stat label="Hashrate" testId="hashrate" value={formatHashrate(m.hashrate)} sub={`network ${formatHashrate(m.network_hashrate)}`} />
          <Stat label="Shares found" testId="shares-found" value={formatCount(m.shares_found)} sub={`next share ${formatIn(m.expected_seconds_to_share.node ?? Infinity)}`} />
          <Stat label="Stale" value={formatCount(m.stale)} sub="work the chain moved past" />
          <Stat
            label="Rejected"
            testId="rejected"
            tone={(m.rejected ?? 0) > 0 ? "bad" : undefined}
            value={formatCount(m.rejected)}
            sub={m.last_reject ? `last: ${m.last_reject}` : "none"}
          />
        </div>
      </Card>
      <Card title="Per thread" className="span-7">
        {!m.hashers || m.hashers.length === 0 ? (
          <p className="muted">No miner has run yet.</p>
        ) : (
          m.hashers.map((h) => <ThreadBars key={h.name} name={h.name} backend={h.backend} rates={h.thread_hashrates} />)
        )}
      </Card>
      <Card title="Work" className="span-5">
        <dl className="kv">
          <dt>Share target</dt>
          <dd className="mono">{m.share_bits}</dd>
          <dt>Hashes per share</dt>
          <dd>{formatNumber(m.hashes_per_share, 0)}</dd>
          <dt>Job build time</dt>
          <dd>{formatMs(m.last_job_ms)}</dd>
          <dt>Tip → hashers</dt>
          <dd>
            {m.tip_refresh_ms ? `p50 ${formatMs(m.tip_refresh_ms.p50)} · p99 ${formatMs(m.tip_refresh_ms.p99)} · max ${formatMs(m.tip_refresh_ms.max)}` : "—"}
          </dd>
          <dt>Network's next Bitcoin block</dt>
          <dd>{formatIn(m.expected_seconds_to_bitcoin_block ?? Infinity)}</dd>
        </dl>
      </Card>
      <DesktopOptions
        title="Mine unattended"
        className="span-12"
        options={["start_with_system", "start_minimized"]}
      />
      <Card title={`Bitcoin blocks this node found (${formatCount(blocks.length)})`} className="span-12">
        {blocks.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <div className="table-wrap table-scroll">
            <table className="table small">
              <thead>
                <tr>
                  <th scope="col" className="num">Bitcoin height</th>
                  <th scope="col">Time</th>
                  <th scope="col">Block</th>
                  <th scope="col">Selected</th>
                  <th scope="col" className="num">Value</th>
                  <th scope="col">Found by</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {[...blocks].reverse().map((b) => (
                  <tr key={b.block_hash}>
                    <td className="num">{formatCount(b.bitcoin_height)}</td>
                    <td>{formatTime(b.time)}</td>
                    <td className="mono">{shortHash(b.block_hash)}</td>
                    <td className="mono">{b.selected ? shortHash(b.selected, 8) : "own sharebase"}</td>
                    <td className="num">{formatSats(b.value_sat)}</td>
                    <td data-testid="finder" title={b.finder ?? undefined}>
                      {b.finder ? hasherLabel(b.finder) : <span className="muted">—</span>}
                    </td>
                    <td>
                      <span className={`pill ${b.outcome === "accepted" ? "pill-good" : "pill-bad"}`}>{b.outcome}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

function ThreadBars({ name, backend, rates }: { name: string; backend: string; rates: number[] }) {
  const max = Math.max(...rates, 1);
  return (
    <div className="threads">
      <div className="muted small">
        {name} · {backend} · {rates.length} threads
      </div>
      <ul className="bars" aria-label={`${name} per-thread hashrate`}>
        {rates.map((r, i) => (
          <li key={i}>
            <span className="bar-label">#{i}</span>
            <span className="bar">
              <span className="bar-fill" style={{ width: `${(r / max) * 100}%` }} />
            </span>
            <span className="bar-value mono" data-testid="thread-rate">
              {formatHashrate(r)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
