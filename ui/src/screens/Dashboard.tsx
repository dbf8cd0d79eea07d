// The odds: what share of the draw this node holds, who is selected now, what to expect.
import { useEffect, useMemo, useState } from "react";
import type { HashrateHistory, Odds } from "../bindings";
import { useNode } from "../api/node";
import { useDesktop } from "../api/context";
import type { Desktop } from "../api/tauri";
import { useNodeEvent, useRpc, type RpcState } from "../api/hooks";
import { chartSeries, computeLuck, isSelected, sameScript } from "../api/derived";
import { Card, ScreenHeader, Stat } from "../components/Card";
import { ErrorNote, Loading, Note, Rpc } from "../components/Status";
import { Tip } from "../components/Tip";
import { HashrateChart, type Series } from "../components/HashrateChart";
import { ProgressBar } from "../components/ProgressBar";
import {
  formatBtc,
  formatCount,
  formatDuration,
  formatIn,
  formatNumber,
  formatOneIn,
  formatPercent,
  formatShares,
  formatUnits8,
  formatUnitsShort,
  shortHash,
} from "../format";
import { scriptToAddress } from "../lib/address";

export default function Dashboard() {
  const { info } = useNode();
  if (info.error && !info.data) return <ErrorNote error={info.error} what="Node info" />;
  if (!info.data) return <Loading />;
  return <DashboardBody address={info.data.mining_address} script={info.data.mining_script} />;
}

function DashboardBody({ address, script }: { address: string | null; script: string | null }) {
  // One `getodds` for the whole screen: `share` events (and the `tip` after them) refetch it once.
  const odds = useRpc("getodds", address ? [address] : null, { refreshOn: ["share", "tip"] });
  useFirstPaint(useDesktop(), address === null || odds.data !== undefined);
  return (
    <div className="screen" data-testid="dashboard">
      <ScreenHeader title="Your odds" />
      {address === null && (
        <Note tone="warn">
          This node has no mining address, so it holds no odds of its own. Give it one with{" "}
          <code>--mine-to</code> or run the <a href="#/setup">setup</a>.
        </Note>
      )}
      <div className="grid">
        <OddsCard address={address} odds={odds} />
        <SelectedCard script={script} />
        <ExpectationsCard odds={odds} />
        <HashrateCard />
        <div className="span-4 col">
          <SyncCard />
          <PeersCard />
        </div>
      </div>
    </div>
  );
}

let painted = false;

/**
 * In the desktop app, tells it once per page load when the dashboard has painted with node data
 * (the frame after the render that showed it): the cold-start figure.
 */
function useFirstPaint(desktop: Desktop | null, ready: boolean) {
  useEffect(() => {
    if (!desktop || !ready || painted) return;
    painted = true;
    requestAnimationFrame(() => void desktop.uiReady());
  }, [desktop, ready]);
}

/** For tests: forget that the dashboard has painted. */
export function resetFirstPaint() {
  painted = false;
}

function OddsCard({ address, odds }: { address: string | null; odds: RpcState<Odds> }) {
  return (
    <Card title="Your share of the draw" className="span-7 hero">
      {address === null ? (
        <p className="muted">No mining address.</p>
      ) : (
        <Rpc state={odds} what="Odds">
          {(o) => (
            <div className="hero-body">
              <div
                className="hero-fraction"
                data-testid="odds-fraction"
                title={`v = ${formatUnits8(o.v)} of n = ${formatUnits8(o.n)} eligible shares`}
                aria-label={`${formatUnits8(o.v)} of ${formatUnits8(o.n)} eligible shares`}
              >
                <span className="hero-v">{formatUnitsShort(o.v)}</span>
                <span className="hero-slash">/</span>
                <span className="hero-n">{formatUnitsShort(o.n)}</span>
                <span className="hero-unit">shares</span>
              </div>
              <div className="hero-pct" data-testid="odds-pct">
                {formatPercent(o.chance_next_block)}
              </div>
              <p className="hero-caption">
                chance that the next Bitcoin block the network finds pays you ({formatOneIn(o.chance_next_block)})
                <Tip label="How the odds work">
                  Every Bitcoin block the network finds pays its whole reward to one share unit drawn at
                  random from all n eligible units. You hold v of them, so each block pays you with
                  chance v / n, however your units are split across outputs.
                </Tip>
              </p>
            </div>
          )}
        </Rpc>
      )}
    </Card>
  );
}

function SelectedCard({ script }: { script: string | null }) {
  const sel = useRpc("getselectedshare", [], { refreshOn: ["tip"] });
  const { params } = useNode();
  return (
    <Card title="Selected right now" className="span-5">
      <Rpc state={sel} what="The current selection">
        {(s) => {
          if (!isSelected(s)) {
            return (
              <div data-testid="selected">
                <p className="big-line">Nobody yet</p>
                <p className="muted">{s.note}</p>
                <p className="muted small">as of share {formatCount(s.height)}</p>
              </div>
            );
          }
          const mine = sameScript(s.script_pubkey, script);
          const addr = params.data ? scriptToAddress(s.script_pubkey, params.data.address_hrp) : null;
          return (
            <div data-testid="selected" className={mine ? "selected-mine" : ""}>
              <p className={`big-line ${mine ? "tone-good" : ""}`} data-testid="selected-owner">
                {mine ? "Yours!" : "Someone else's"}
              </p>
              <p className="muted">
                {mine
                  ? "If the next share is a Bitcoin block, its whole reward pays you."
                  : "If the next share is a Bitcoin block, its reward pays:"}
              </p>
              {!mine && <p className="mono wrap">{addr ?? shortHash(s.script_pubkey, 12)}</p>}
              <dl className="kv small">
                <dt>Output</dt>
                <dd className="mono">
                  {shortHash(s.txid)}:{s.vout} ({formatShares(s.value, -1)})
                </dd>
                <dt>q / n</dt>
                <dd className="mono">
                  {formatNumber(s.q, 0)} / {formatNumber(s.n, 0)}
                </dd>
                <dt>Tip</dt>
                <dd>share {formatCount(s.height)}</dd>
              </dl>
            </div>
          );
        }}
      </Rpc>
    </Card>
  );
}

function ExpectationsCard({ odds }: { odds: RpcState<Odds> }) {
  const mining = useRpc("getmininginfo", [], { refreshOn: ["share", "mining", "found_share", "bitcoin_block"], pollMs: 10_000 });
  const blocks = useRpc("listbitcoinblocks", [1000], { refreshOn: ["bitcoin_block"], pollMs: 30_000 });
  const o = odds.data;
  const m = mining.data;
  const perDay = o && o.bitcoin_blocks_per_day !== null ? o.bitcoin_blocks_per_day * o.chance_next_block : null;
  const luck = o && blocks.data ? computeLuck(blocks.data, o.chance_next_block) : null;
  return (
    <Card title="What to expect" className="span-12">
      {mining.error && !m && <ErrorNote error={mining.error} what="Mining info" />}
      <div className="stats">
        <Stat
          label="Bitcoin blocks you win"
          testId="blocks-per-day"
          value={perDay === null ? "—" : `${formatNumber(perDay, perDay < 10 ? 2 : 1)} / day`}
          sub={perDay === null ? "needs a block template" : `${formatNumber(perDay * 7, perDay * 7 < 10 ? 2 : 1)} per week`}
        />
        <Stat label="BTC you earn" testId="btc-per-day" value={o ? `${formatBtc(o.expected_btc_per_day)}` : "—"} sub="per day, expected" />
        <Stat
          label="Your next share"
          testId="next-share"
          value={m ? formatIn(m.expected_seconds_to_share.node ?? Infinity) : "—"}
          sub={m ? (m.mining ? "expected, at your hashrate" : "not mining") : undefined}
        />
        <Stat
          label="Network's next Bitcoin block"
          testId="next-block"
          value={m ? formatIn(m.expected_seconds_to_bitcoin_block ?? Infinity) : "—"}
          sub={o?.bitcoin_blocks_per_day ? `${formatNumber(o.bitcoin_blocks_per_day, 1)} per day at the network's hashrate` : "expected"}
        />
        <Stat
          label={
            <>
              Luck{" "}
              <Tip label="About luck">
                Out of the N Bitcoin blocks the network found in the recent window, you won W. At your chance
                p per block, W is roughly Poisson-distributed with mean λ = N × p; 95 % of the time it lands in
                the band shown. Above the band: lucky; below: unlucky. It assumes today's chance held for the
                whole window, so it drifts when your holding changed a lot.
              </Tip>
            </>
          }
          testId="luck"
          tone={luck?.verdict === "lucky" ? "good" : luck?.verdict === "unlucky" ? "bad" : undefined}
          value={luck ? `${formatCount(luck.won)} won` : blocks.error ? "—" : "…"}
          sub={
            luck
              ? `expected ${formatNumber(luck.expected, 2)} of ${formatCount(luck.drawn)} blocks · 95 % band ${luck.low}–${luck.high}${
                  luck.verdict === "lucky" ? " · lucky" : luck.verdict === "unlucky" ? " · unlucky" : ""
                }`
              : blocks.error
                ? "block list unavailable"
                : undefined
          }
        />
      </div>
    </Card>
  );
}

const RANGES = [
  { secs: 3600, label: "1 h" },
  { secs: 86_400, label: "24 h" },
] as const;

function appendLive(h: HashrateHistory, e: { hashers: Array<{ name: string; hashrate: number }> }, now: number, range: number): HashrateHistory {
  const cutoff = now - range;
  const hashers = h.hashers.map((s) => ({ ...s, points: s.points.filter(([t]) => t >= cutoff) }));
  for (const live of e.hashers) {
    let s = hashers.find((x) => x.name === live.name);
    if (!s) hashers.push((s = { name: live.name, points: [] }));
    s.points.push([now, live.hashrate]);
  }
  return { ...h, hashers };
}

function HashrateCard() {
  const [range, setRange] = useState<number>(3600);
  const hist = useRpc("gethashratehistory", [range]);
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useNodeEvent(["hashrate"], (e) => {
    const t = Date.now() / 1000;
    setNow(Math.floor(t));
    hist.setData((h) => (h ? appendLive(h, e, t, range) : h));
  });
  // One line per hasher (CPU, GPUs, Stratum devices) and their total.
  const series: Series[] = useMemo(() => chartSeries(hist.data?.hashers ?? []), [hist.data]);
  return (
    <Card
      title="Hashrate"
      className="span-8"
      actions={
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.secs} type="button" aria-pressed={range === r.secs} onClick={() => setRange(r.secs)}>
              {r.label}
            </button>
          ))}
        </div>
      }
    >
      <Rpc state={hist} what="Hashrate history">
        {() => <HashrateChart series={series} rangeSecs={range} now={now} />}
      </Rpc>
    </Card>
  );
}

function SyncCard() {
  const sync = useRpc("getsyncstatus");
  useNodeEvent(["sync"], (e) => {
    const { type: _type, ...status } = e;
    sync.setData(status);
  });
  // The node sends `sync` at most every 2 s; while synced (or alone) follow the tip between them,
  // so that "share X of Y" agrees with the Selected card's tip.
  useNodeEvent(["tip"], (e) =>
    sync.setData((s) =>
      s && (s.state === "synced" || s.state === "idle")
        ? { ...s, height: e.height, target_height: Math.max(s.target_height, e.height) }
        : s,
    ),
  );
  return (
    <Card title="Sync">
      <Rpc state={sync} what="Sync status">
        {(s) => (
          <div data-testid="sync">
            <div className="sync-line">
              <strong>{s.state === "synced" ? "Synced" : s.state === "idle" ? "Waiting for peers" : `Syncing ${s.state}`}</strong>
              <span className="muted">{formatPercent(s.state === "synced" ? 1 : s.progress)}</span>
            </div>
            <ProgressBar value={s.state === "synced" ? 1 : s.progress} label="Sync progress" />
            <p className="muted small">
              share {formatCount(s.height)} of {formatCount(Math.max(s.target_height, s.height))}
              {s.state !== "synced" && s.eta_seconds !== null && ` · ${formatDuration(s.eta_seconds)} left`}
              {s.state !== "synced" && s.rate > 0 && ` · ${formatNumber(s.rate, 0)} shares/s`}
            </p>
          </div>
        )}
      </Rpc>
    </Card>
  );
}

function PeersCard() {
  const net = useRpc("getnetworkinfo");
  useNodeEvent(["peers"], (e) => net.setData((n) => (n ? { ...n, connections: e.connected } : n)));
  return (
    <Card title="Peers">
      <Rpc state={net} what="Network info">
        {(n) => (
          <Stat
            label="connected"
            testId="peers"
            value={formatCount(n.connections)}
            sub={<a href="#/network">{n.connections === 0 ? "Add a peer" : "See peers"}</a>}
          />
        )}
      </Rpc>
    </Card>
  );
}
