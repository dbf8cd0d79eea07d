// Every hasher of this node: the CPU miner, OpenCL devices (graphics cards), and the mining
// devices (Bitaxe, NerdMiner, …) on its Stratum server, with where to point one.
import { useEffect, useState, type FormEvent } from "react";
import type { CpuDevice, Devices as DevicesInfo, OpenClDeviceInfo, OpenClInfo, StratumInfo, WalletInfo, WorkerInfo } from "../bindings";
import { useRpc, useTransport } from "../api/hooks";
import { useNode } from "../api/node";
import type { Params } from "../api/transport";
import { rejectedReasons, rejectedTotal, sameAddress, workerName } from "../api/derived";
import { Card, ScreenHeader, Stat } from "../components/Card";
import { CopyButton } from "../components/CopyButton";
import { ErrorNote, Note, Rpc } from "../components/Status";
import { Tip } from "../components/Tip";
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDifficulty,
  formatDuration,
  formatHashrate,
  formatNumber,
  formatTime,
  shortHash,
} from "../format";

/** How often the screen asks again while it is open (device figures come with no event). */
const POLL_MS = 3_000;

export default function Devices() {
  // Stratum devices connecting, authorizing or leaving and mining on/off refetch at once.
  const devices = useRpc("getdevices", [], { refreshOn: ["stratum", "mining"], pollMs: POLL_MS });
  return (
    <div className="screen" data-testid="devices">
      <ScreenHeader title="Devices" />
      <Rpc state={devices} what="Devices">
        {(d) => <DevicesView d={d} onChanged={devices.setData} />}
      </Rpc>
    </div>
  );
}

function DevicesView({ d, onChanged }: { d: DevicesInfo; onChanged: (d: DevicesInfo) => void }) {
  return (
    <div className="grid">
      <CpuCard cpu={d.cpu} />
      <OpenClCard opencl={d.opencl} onChanged={onChanged} />
      <ConnectCard stratum={d.stratum} />
      <WorkersCard stratum={d.stratum} />
    </div>
  );
}

function CpuCard({ cpu }: { cpu: CpuDevice }) {
  return (
    <Card title="CPU" className="span-4">
      <div className="miner-state">
        <span className={`dot ${cpu.mining ? "dot-good" : "dot-off"}`} aria-hidden="true" />
        <strong data-testid="cpu-state">{cpu.mining ? "Mining" : "Stopped"}</strong>
        {cpu.backend && <span className="muted">backend {cpu.backend}</span>}
      </div>
      <div className="stats card-gap">
        <Stat label="Hashrate" testId="cpu-hashrate" value={formatHashrate(cpu.hashrate)} />
        <Stat label="Threads" testId="cpu-threads" value={formatCount(cpu.threads)} sub={`up to ${formatCount(cpu.max_threads)}`} />
      </div>
      <p className="muted small">
        Start, stop or change threads on the <a href="#/mining">Mining screen</a>. Mining on or off counts for the CPU
        and every graphics card turned on below.
      </p>
    </Card>
  );
}

const KINDS: Record<string, string> = { gpu: "GPU", cpu: "CPU", accelerator: "accelerator" };

function OpenClCard({ opencl, onChanged }: { opencl: OpenClInfo; onChanged: (d: DevicesInfo) => void }) {
  return (
    <Card title="Graphics cards (OpenCL)" className="span-8">
      {!opencl.available ? (
        <div data-testid="opencl-unavailable">
          <p>No OpenCL driver found — GPUs can't mine; the CPU miner works.</p>
          <p className="muted small">
            To mine on a graphics card, install its maker's OpenCL driver and restart p2share.
          </p>
          {opencl.error && (
            <details className="muted small">
              <summary>Details</summary>
              <span className="mono wrap">{opencl.error}</span>
            </details>
          )}
        </div>
      ) : opencl.devices.length === 0 ? (
        <p className="muted" data-testid="opencl-none">
          OpenCL works on this machine, but it lists no device to mine on.
        </p>
      ) : (
        <ul className="plain device-list">
          {opencl.devices.map((dev) => (
            <OpenClDevice key={dev.id} dev={dev} range={opencl.intensity_range} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </Card>
  );
}

function OpenClDevice({
  dev,
  range,
  onChanged,
}: {
  dev: OpenClDeviceInfo;
  range: [number, number];
  onChanged: (d: DevicesInfo) => void;
}) {
  const transport = useTransport();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  // The slider's value until applied; follows the node's when that changes.
  const [intensity, setIntensity] = useState(dev.intensity);
  useEffect(() => setIntensity(dev.intensity), [dev.intensity]);
  const [lo, hi] = range;

  const set = async (params: Params<"setdevice">) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await transport.call("setdevice", params));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const applyIntensity = (e: FormEvent) => {
    e.preventDefault();
    void set([dev.id, undefined, intensity]);
  };

  const state = dev.mining ? "mining" : dev.enabled ? "on, waits for mining" : "off";
  return (
    <li className="device" data-testid="opencl-device">
      <div className="device-head">
        <strong className="wrap">{dev.name}</strong>
        <span className="pill">{KINDS[dev.kind] ?? dev.kind}</span>
        <span className={`pill ${dev.mining ? "pill-good" : ""}`} data-testid="opencl-state">
          {state}
        </span>
        <span className="device-rate mono" data-testid="opencl-hashrate">
          {formatHashrate(dev.hashrate)}
        </span>
      </div>
      <div className="muted small">
        {dev.vendor} · {dev.platform} · id <span className="mono">{dev.id}</span>
      </div>
      <dl className="kv small">
        <dt>Compute units</dt>
        <dd>
          {formatCount(dev.compute_units)}
          {dev.max_clock_mhz > 0 && ` at ${formatCount(dev.max_clock_mhz)} MHz`}
        </dd>
        <dt>Vector width</dt>
        <dd>{formatCount(dev.vector_width)} nonces per work item</dd>
        <dt>Memory</dt>
        <dd>{formatBytes(dev.global_memory)}</dd>
      </dl>
      <div className="device-controls">
        <label className="check">
          <input
            type="checkbox"
            checked={dev.enabled}
            disabled={busy}
            onChange={(e) => void set([dev.id, e.target.checked])}
            data-testid="opencl-enabled"
          />
          <span>
            <strong>Mine on this device</strong>
            <span className="muted small">while mining is on</span>
          </span>
        </label>
        <form className="inline-form" onSubmit={applyIntensity}>
          <label className="field field-inline">
            <span>Intensity</span>
            <input
              type="range"
              min={lo}
              max={hi}
              step={1}
              value={intensity}
              disabled={busy}
              onChange={(e) => setIntensity(Number(e.target.value))}
              aria-valuetext={`${intensity}: up to 2^${intensity} nonces per launch`}
              data-testid="opencl-intensity"
            />
            <output className="mono">{intensity}</output>
          </label>
          <button type="submit" className="btn btn-small" disabled={busy || intensity === dev.intensity}>
            Apply
          </button>
          <Tip label="About intensity">
            Each launch on the device tries at most 2^intensity nonces ({lo}–{hi}); launches are tuned to about
            0.1 s below that. Lower it if the screen stutters while the card that drives it mines.
          </Tip>
        </form>
      </div>
      {dev.error && <Note tone="warn">This device stopped: {dev.error}</Note>}
      {error && <ErrorNote error={error} what="The device setting" />}
    </li>
  );
}

/** `stratum+tcp://192.168.1.20:3333` → host and port, for devices that ask for them apart. */
function hostPort(url: string): { host: string; port: string } | null {
  const m = /^[a-z+]+:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/i.exec(url);
  return m ? { host: m[1]!, port: m[2]! } : null;
}

/**
 * The wallet's mining address to put in a device's user name, with a copy button; without a
 * wallet, the way to make one (the node's own key pays until then).
 */
function WalletAddress({ wallet }: { wallet: WalletInfo | undefined }) {
  if (!wallet) return null;
  if (!wallet.exists) {
    return (
      <div className="note note-info small connect-wallet" data-testid="stratum-no-wallet">
        No wallet yet: until there is one, a device paying this node's address pays a key the node keeps in its data
        directory. <a href="#/setup/wallet" data-testid="stratum-create-wallet">Create a wallet</a> and use its mining
        address here.
      </div>
    );
  }
  if (!wallet.mining_address) return null;
  return (
    <div className="connect-wallet">
      <div className="connect-label card-gap">Your wallet's mining address</div>
      <div className="copy-row">
        <code className="wrap" data-testid="wallet-mining-address">
          {wallet.mining_address}
        </code>
        <CopyButton text={wallet.mining_address} label="Copy the wallet's mining address" />
      </div>
    </div>
  );
}

function ConnectCard({ stratum }: { stratum: StratumInfo }) {
  const [worker, setWorker] = useState("rig1");
  // Whether the user name can name the wallet (an older node without the method: the node's address).
  const wallet = useRpc("getwalletinfo").data;
  if (!stratum.enabled) {
    return (
      <Card title="Point a miner at this node" className="span-12">
        <div data-testid="stratum-off">
          <p>The server for mining devices (Bitaxe, NerdMiner and other Stratum miners) is off.</p>
          <p className="muted">
            It runs whenever this node has a Bitcoin node behind it. To turn it on, start the node with{" "}
            <code>--stratum-bind 0.0.0.0:3333</code>, or put <code>bind = "0.0.0.0:3333"</code> under{" "}
            <code>[stratum]</code> in <code>p2share.toml</code>.
          </p>
        </div>
      </Card>
    );
  }
  const [main, ...others] = stratum.urls;
  const hp = main ? hostPort(main) : null;
  const name = worker.trim().replace(/\s+/g, "-") || "rig1";
  // The wallet's mining address when there is a wallet; the node's own otherwise.
  const walletAddress = wallet?.exists ? wallet.mining_address : null;
  const payee = walletAddress ? "wallet" : "node";
  const address = walletAddress ?? stratum.user;
  const user = address ? `${address}.${name}` : null;
  return (
    <Card title="Point a miner at this node" className="span-12">
      <div className="connect" data-testid="stratum">
        <div>
          <div className="connect-label">Pool URL</div>
          {main ? (
            <div className="copy-row connect-url">
              <code className="wrap" data-testid="stratum-url">
                {main}
              </code>
              <CopyButton text={main} label="Copy the pool URL" />
            </div>
          ) : (
            <p className="muted">Listening on {stratum.bind ?? "—"}; no address of this machine is known.</p>
          )}
          {hp && (
            <p className="muted small">
              If the device asks for them apart: host <code>{hp.host}</code>, port <code>{hp.port}</code>.
            </p>
          )}
          {others.length > 0 && (
            <>
              <p className="muted small">Also reachable at:</p>
              <ul className="plain addr-list small" data-testid="stratum-other-urls">
                {others.map((u) => (
                  <li key={u} className="copy-row">
                    <code className="wrap">{u}</code>
                    <CopyButton text={u} />
                  </li>
                ))}
              </ul>
            </>
          )}

          <div className="connect-label card-gap">User</div>
          {user ? (
            <div className="copy-row">
              <code className="wrap" data-testid="stratum-user">
                {user}
              </code>
              <CopyButton text={user} label="Copy the user name" />
            </div>
          ) : (
            <p>
              <code>&lt;address&gt;.{name}</code>
            </p>
          )}
          <label className="field field-inline connect-worker">
            <span>Worker name</span>
            <input type="text" value={worker} onChange={(e) => setWorker(e.target.value)} maxLength={40} spellCheck={false} />
          </label>
          <WalletAddress wallet={wallet} />
          <p className="muted small">
            {payee === "wallet"
              ? "The first part is your wallet's mining address. "
              : stratum.user
                ? "The first part is this node's address. "
                : "This node has no mining address of its own. "}
            Any address of this network works there: that device's shares pay it. The part after the dot names the
            device on this screen. Password: anything (for example <code>x</code>).
          </p>
        </div>
        <div>
          <div className="connect-label">Difficulty</div>
          <dl className="kv" data-testid="stratum-difficulty">
            <dt>A new device starts at</dt>
            <dd>{formatDifficulty(stratum.start_difficulty)}</dd>
            <dt>Lowest</dt>
            <dd>{formatDifficulty(stratum.min_difficulty)}</dd>
            <dt>Highest</dt>
            <dd>{formatDifficulty(stratum.max_difficulty)}</dd>
            <dt>Aims at</dt>
            <dd>
              {stratum.share_interval_secs === null
                ? "—"
                : `one share every ${formatNumber(stratum.share_interval_secs, 1)} s per device`}
            </dd>
          </dl>
          <p className="muted small">
            Each device's difficulty follows its speed, so a NerdMiner and a Bitaxe both send a share every few
            seconds. A device may ask for its own starting difficulty.
          </p>
        </div>
      </div>
    </Card>
  );
}

function WorkersCard({ stratum }: { stratum: StratumInfo }) {
  const me = useNode().info.data?.mining_address ?? null;
  const workers = stratum.workers;
  const now = Date.now() / 1000;
  const together = workers.reduce((a, w) => a + w.hashrate_1m, 0);
  return (
    <Card
      title={`Connected devices (${formatCount(workers.length)})`}
      className="span-12"
      actions={
        workers.length > 0 && (
          <span className="muted small" data-testid="workers-total">
            {formatHashrate(together)} together over the last minute
          </span>
        )
      }
    >
      {workers.length === 0 ? (
        <div data-testid="workers-empty">
          <p>
            <strong>No device connected yet</strong>
          </p>
          <p className="muted">
            {stratum.enabled && stratum.urls[0]
              ? `Point a Bitaxe, NerdMiner or other miner at ${stratum.urls[0]} with user <address>.<worker name> and any password.`
              : "Turn on the server for mining devices (above), then point a miner at this node."}
          </p>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="table small" data-testid="workers-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Pays</th>
                <th scope="col" className="num">Difficulty</th>
                <th scope="col" className="num">Hashrate 1 min</th>
                <th scope="col" className="num">15 min</th>
                <th scope="col" className="num">1 h</th>
                <th scope="col" className="num">Accepted</th>
                <th scope="col" className="num">Rejected</th>
                <th scope="col" className="num">Best</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <WorkerRow key={w.id} w={w} now={now} mine={sameAddress(w.address, me)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function WorkerRow({ w, now, mine }: { w: WorkerInfo; now: number; mine: boolean }) {
  const rejected = rejectedTotal(w.rejected);
  return (
    <tr data-testid="worker-row">
      <td title={`connected ${formatDuration(now - w.connected_at)} ago, ${formatTime(w.connected_at)}`}>
        <strong>{workerName(w)}</strong>
        <div className="muted">
          <span className="mono">{w.remote}</span>
          {w.user_agent && ` · ${w.user_agent}`}
        </div>
      </td>
      <td className="mono nowrap">
        <span title={w.address || undefined}>{w.address ? shortHash(w.address, 6) : "—"}</span>
        {mine && <span className="pill pill-good">you</span>}
      </td>
      <td className="num">{formatDifficulty(w.difficulty)}</td>
      <td className="num" data-testid="worker-rate">
        {formatHashrate(w.hashrate_1m)}
      </td>
      <td className="num">{formatHashrate(w.hashrate_15m)}</td>
      <td className="num">{formatHashrate(w.hashrate_1h)}</td>
      <td className="num">{formatCount(w.accepted)}</td>
      <td className="num">
        <span
          className={rejected > 0 ? "has-title" : undefined}
          title={`Rejected: ${rejectedReasons(w.rejected)}`}
          data-testid="worker-rejected"
        >
          {formatCount(rejected)}
        </span>
      </td>
      <td className="num">{formatDifficulty(w.best_difficulty)}</td>
      <td className="nowrap" title={formatTime(w.last_seen)}>
        {formatAgo(now - w.last_seen)}
      </td>
    </tr>
  );
}
