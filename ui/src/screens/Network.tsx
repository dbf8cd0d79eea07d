// Peers, our addresses, NAT, the network's parameters, and loading a custom network.
import { useState, type FormEvent } from "react";
import type { NetworkParams } from "../bindings";
import { useNode } from "../api/node";
import { useRpc, useTransport } from "../api/hooks";
import { Card, ScreenHeader } from "../components/Card";
import { ErrorNote, Note, Rpc } from "../components/Status";
import { CopyButton } from "../components/CopyButton";
import { BitcoinConnectionForm, draftComplete, emptyDraft, toConnection } from "../components/BitcoinConnectionForm";
import { formatAgo, formatCount, formatDuration, formatMs, formatNumber, formatShares, shortHash } from "../format";

export default function Network() {
  const peers = useRpc("getpeerinfo", [], { refreshOn: ["peers"], pollMs: 10_000 });
  const net = useRpc("getnetworkinfo", [], { refreshOn: ["peers"] });
  const { info, params } = useNode();
  const now = Date.now() / 1000;
  return (
    <div className="screen" data-testid="network">
      <ScreenHeader title="Network" />
      <div className="grid">
        <Card title={`Peers (${peers.data ? formatCount(peers.data.length) : "…"})`} className="span-12" actions={<AddPeer onAdded={peers.refetch} />}>
          <Rpc state={peers} what="Peers">
            {(list) =>
              list.length === 0 ? (
                <p className="muted">No peers connected. Add one with its multiaddr, or share yours below.</p>
              ) : (
                <div className="table-wrap">
                  <table className="table" data-testid="peers-table">
                    <thead>
                      <tr>
                        <th scope="col">Peer</th>
                        <th scope="col">Address</th>
                        <th scope="col">Direction</th>
                        <th scope="col">Agent</th>
                        <th scope="col" className="num">Height</th>
                        <th scope="col" className="num">Ping</th>
                        <th scope="col" className="num">Score</th>
                        <th scope="col">Connected</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map((p) => (
                        <tr key={p.peer_id}>
                          <td className="mono" title={p.peer_id}>
                            {shortHash(p.peer_id, 8)}
                          </td>
                          <td className="mono small">{p.addrs[0] ?? "—"}</td>
                          <td>{p.inbound ? "inbound" : "outbound"}</td>
                          <td>{p.agent ?? "—"}</td>
                          <td className="num">{p.height === null ? "—" : formatCount(p.height)}</td>
                          <td className="num">{formatMs(p.latency_ms)}</td>
                          <td className={`num ${p.score >= 50 ? "tone-bad" : ""}`}>{p.score}</td>
                          <td>{formatAgo(now - p.connected_since)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )
            }
          </Rpc>
        </Card>
        <Card title="This node" className="span-6">
          <Rpc state={net} what="Network info">
            {(n) => (
              <dl className="kv">
                <dt>Peer id</dt>
                <dd className="mono wrap">{n.peer_id}</dd>
                <dt>NAT</dt>
                <dd>
                  <NatPill nat={n.nat} />
                </dd>
                <dt>Listening on</dt>
                <dd>
                  {n.listen_addrs.length ? (
                    <ul className="plain mono small">
                      {n.listen_addrs.map((a) => (
                        <li key={a}>{a}</li>
                      ))}
                    </ul>
                  ) : (
                    "—"
                  )}
                </dd>
                <dt>Banned</dt>
                <dd>
                  {n.banned.length === 0
                    ? "nobody"
                    : n.banned.map((b) => (
                        <div key={b.peer_id} className="small">
                          <span className="mono">{shortHash(b.peer_id, 8)}</span> for {formatDuration(b.seconds_left)}
                        </div>
                      ))}
                </dd>
              </dl>
            )}
          </Rpc>
        </Card>
        <Card title="Others dial this node at" className="span-6">
          <Rpc state={info} what="Node info">
            {(ni) =>
              ni.dial_addrs.length === 0 ? (
                <p className="muted">No dialable address known yet.</p>
              ) : (
                <ul className="plain addr-list" data-testid="dial-addrs">
                  {ni.dial_addrs.map((a) => (
                    <li key={a} className="copy-row">
                      <code className="wrap">{a}</code>
                      <CopyButton text={a} />
                    </li>
                  ))}
                </ul>
              )
            }
          </Rpc>
        </Card>
        <Card title="Network parameters" className="span-6">
          <Rpc state={params} what="Network parameters">
            {(p) => <ParamsList p={p} />}
          </Rpc>
        </Card>
        <Card title="Load a custom network" className="span-6">
          <CustomNetwork />
        </Card>
      </div>
    </div>
  );
}

function NatPill({ nat }: { nat: string }) {
  const pub = nat.startsWith("Public");
  const tone = pub ? "pill-good" : nat === "Private" ? "pill-warn" : "pill-muted";
  const text = pub ? `public ${nat.replace(/^Public\((.*)\)$/, "$1")}` : nat.toLowerCase();
  return (
    <span className={`pill ${tone}`} title={nat === "Private" ? "Others cannot dial this node; it can still dial them." : undefined}>
      {text}
    </span>
  );
}

function AddPeer({ onAdded }: { onAdded: () => void }) {
  const transport = useTransport();
  const [addr, setAddr] = useState("");
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setMsg(null);
    try {
      await transport.call("addpeer", [addr.trim()]);
      setMsg({ ok: true, text: "Dialing…" });
      setAddr("");
      onAdded();
    } catch (err) {
      setMsg({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label className="offscreen" htmlFor="addpeer">
        Peer multiaddr
      </label>
      <input id="addpeer" className="mono" placeholder="/ip4/1.2.3.4/tcp/29333/p2p/12D3KooW…" value={addr} onChange={(e) => setAddr(e.target.value)} />
      <button className="btn" type="submit" disabled={busy || !addr.trim()}>
        Add peer
      </button>
      {msg && (
        <span role="status" className={msg.ok ? "tone-good small" : "tone-bad small"}>
          {msg.text}
        </span>
      )}
    </form>
  );
}

function ParamsList({ p }: { p: NetworkParams }) {
  const rows: Array<[string, string]> = [
    ["Name", p.name],
    ["Devnet id", p.devnet_id ?? "—"],
    ["Mines on", `Bitcoin ${p.mainchain}`],
    ["Magic", p.magic],
    ["Address prefix", p.address_hrp],
    ["Genesis", shortHash(p.genesis_hash, 10)],
    ["Target spacing", formatDuration(p.target_spacing)],
    ["ASERT half-life", formatDuration(p.asert_half_life)],
    ["Initial subsidy", formatShares(p.initial_subsidy)],
    ["Halving interval", `${formatNumber(p.halving_interval, 0)} shares`],
    ["Maturity", `${formatNumber(p.maturity, 0)} shares`],
    ["Pow limit / genesis bits", `${p.pow_limit_bits} / ${p.genesis_bits}`],
    ["Max future time", formatDuration(p.max_future_time)],
    ["Max share weight", formatNumber(p.max_share_weight, 0)],
    ["Ports", `p2p ${p.default_ports.p2p}, api ${p.default_ports.api}`],
    [
      "Genesis allocation",
      p.genesis_allocation.length === 0
        ? "none"
        : `${p.genesis_allocation.length} outputs, ${formatShares(p.genesis_allocation.reduce((a, o) => a + o.value, 0))}`,
    ],
  ];
  return (
    <dl className="kv" data-testid="params">
      {rows.map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd className={/magic|genesis|bits/i.test(k) ? "mono" : undefined}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function CustomNetwork() {
  const transport = useTransport();
  const [toml, setToml] = useState("");
  const [conn, setConn] = useState(() => emptyDraft("http://127.0.0.1:18443", "~/.bitcoin/regtest/.cookie"));
  const [confirm, setConfirm] = useState(false);
  const [state, setState] = useState<"idle" | "busy" | "restarting">("idle");
  const [error, setError] = useState<Error | null>(null);
  const submit = async () => {
    setState("busy");
    setError(null);
    try {
      await transport.call("setup", [{ kind: "network", network: toml, bitcoin: toConnection(conn) }]);
      setState("restarting");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      setState("idle");
    }
  };
  if (state === "restarting") {
    return <Note tone="good">The node is restarting on the new network; this page reconnects by itself.</Note>;
  }
  return (
    <div className="form">
      <label className="field">
        <span>Network TOML (docs/protocol.md §11.3)</span>
        <textarea rows={6} className="mono" value={toml} onChange={(e) => setToml(e.target.value)} placeholder={'name = "mynet"\nmagic = "7032730a"\nmainchain = "regtest"\n…'} />
      </label>
      <BitcoinConnectionForm value={conn} onChange={setConn} />
      {!confirm ? (
        <button type="button" className="btn" disabled={!toml.trim() || !draftComplete(conn)} onClick={() => setConfirm(true)}>
          Load network…
        </button>
      ) : (
        <div className="confirm">
          <p>The node restarts on this network and leaves the current one. Continue?</p>
          <button type="button" className="btn btn-danger" disabled={state === "busy"} onClick={submit}>
            Restart on this network
          </button>{" "}
          <button type="button" className="btn btn-ghost" onClick={() => setConfirm(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <ErrorNote error={error} what="The network" />}
    </div>
  );
}
