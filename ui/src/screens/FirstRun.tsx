// First run: start a devnet, join one, or pick a network with a Bitcoin Core; then wait for the
// node to come back and start mining; then create or restore its wallet, which the node's miners
// pay from then on.
import { useEffect, useRef, useState } from "react";
import type { SetupRequest } from "../bindings";
import { useNodeEvent, useTransport } from "../api/hooks";
import { isRpcError, ErrorCode } from "../api/transport";
import { WalletSetup } from "../components/WalletSetup";
import { navigate } from "../router";
import { Card, ScreenHeader } from "../components/Card";
import { ErrorNote, Note } from "../components/Status";
import { DesktopOptions } from "../components/DesktopOptions";
import { BitcoinConnectionForm, draftComplete, emptyDraft, toConnection, type ConnectionDraft } from "../components/BitcoinConnectionForm";

type Choice = "devnet" | "join" | "network";
type Net = "main" | "testnet4" | "signet" | "custom";

const CORE_DEFAULTS: Record<Net, [url: string, cookie: string]> = {
  main: ["http://127.0.0.1:8332", "~/.bitcoin/.cookie"],
  testnet4: ["http://127.0.0.1:48332", "~/.bitcoin/testnet4/.cookie"],
  signet: ["http://127.0.0.1:38332", "~/.bitcoin/signet/.cookie"],
  custom: ["http://127.0.0.1:18443", "~/.bitcoin/regtest/.cookie"],
};

/** `onDone`: called once the node mines after setup (default: open the dashboard). */
export default function FirstRun({ onDone = () => navigate("/") }: { onDone?: () => void }) {
  const transport = useTransport();
  const [choice, setChoice] = useState<Choice>("devnet");
  const [devnetId, setDevnetId] = useState("");
  const [peer, setPeer] = useState("");
  const [net, setNet] = useState<Net>("main");
  const [toml, setToml] = useState("");
  const [conn, setConn] = useState<ConnectionDraft>(() => emptyDraft(...CORE_DEFAULTS.main));
  // waiting: for the restarted node to mine; wallet: it mines, and has no wallet yet.
  const [phase, setPhase] = useState<"form" | "sending" | "waiting" | "wallet" | "mining">("form");
  const [error, setError] = useState<Error | null>(null);
  const onDoneRef = useRef(onDone);
  onDoneRef.current = onDone;

  const pickNet = (n: Net) => {
    setNet(n);
    setConn((c) => ({ ...c, url: CORE_DEFAULTS[n][0], cookieFile: CORE_DEFAULTS[n][1] }));
  };

  const request = (): SetupRequest | null => {
    if (choice === "devnet") return { kind: "devnet" };
    if (choice === "join") return devnetId.trim() && peer.trim() ? { kind: "join", devnet_id: devnetId.trim(), peer: peer.trim() } : null;
    const network = net === "custom" ? toml : net;
    return network.trim() && draftComplete(conn) ? { kind: "network", network, bitcoin: toConnection(conn) } : null;
  };
  const req = request();

  const submit = async () => {
    if (!req) return;
    setPhase("sending");
    setError(null);
    try {
      await transport.call("setup", [req]);
      setPhase("waiting");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      setPhase("form");
    }
  };

  // The wallet lives in the data directory of the network just set up: it can only be made once
  // the node restarted on it, which its mining shows (the unconfigured node does not mine). Then:
  // a wallet step if that directory has no wallet yet.
  const mined = useRef(false);
  const checkWallet = () => {
    if (mined.current) return;
    mined.current = true;
    transport.call("getwalletinfo").then(
      (w) => setPhase(w.exists ? "mining" : "wallet"),
      (e: unknown) => {
        // A node without a wallet (or older than wallets) skips the step; one that does not
        // answer yet is asked again on the next look.
        if (isRpcError(e) && e.code !== ErrorCode.TRANSPORT && e.code !== ErrorCode.UNAUTHORIZED) setPhase("mining");
        else mined.current = false;
      },
    );
  };

  // While waiting: poll until the restarted node mines (its `mining` event may come first).
  useNodeEvent(["mining"], (e) => {
    if (phase === "waiting" && e.mining) checkWallet();
  });
  useEffect(() => {
    if (phase !== "waiting") return;
    const id = setInterval(() => {
      transport
        .call("getmininginfo")
        .then((m) => m.mining && checkWallet())
        .catch(() => {
          // Restarting: not answering yet.
        });
    }, 2000);
    return () => clearInterval(id);
    // checkWallet reads only refs, the transport and a state setter.
  }, [phase, transport]);
  useEffect(() => {
    if (phase !== "mining") return;
    const id = setTimeout(() => onDoneRef.current(), 1200);
    return () => clearTimeout(id);
  }, [phase]);

  if (phase === "wallet") {
    return (
      <div className="screen narrow" data-testid="firstrun">
        <ScreenHeader title="Your wallet">
          <span className="muted small">Step 2 of 2</span>
        </ScreenHeader>
        <p className="lead">
          The node is mining. Now make the wallet its shares pay: every share it mines, and every Bitcoin block those
          shares win, goes to this wallet from the moment it exists.
        </p>
        <WalletSetup onDone={() => setPhase("mining")} />
      </div>
    );
  }

  if (phase === "waiting" || phase === "mining") {
    return (
      <div className="screen narrow" data-testid="firstrun">
        <ScreenHeader title="Setting up" />
        <Card title={phase === "mining" ? "Mining started" : "Waiting for the node"}>
          {phase === "mining" ? (
            <Note tone="good">The node is mining. Opening your odds…</Note>
          ) : (
            <div className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              The node restarts on the new setting, then starts mining. This page reconnects by itself.
            </div>
          )}
        </Card>
      </div>
    );
  }

  return (
    <div className="screen narrow" data-testid="firstrun">
      <ScreenHeader title="Welcome to p2share">
        <span className="muted small">Step 1 of 2: where to run · then your wallet</span>
      </ScreenHeader>
      <p className="lead">
        Every Bitcoin block the network finds pays its whole reward to one share, drawn at random. Mine shares to hold
        more of the draw. Pick where this node runs:
      </p>
      <div className="choices" role="radiogroup" aria-label="Where to run">
        <ChoiceCard value="devnet" current={choice} onPick={setChoice} title="Start a devnet" text="A private test network on this machine, with its own regtest Bitcoin. Nothing to install." />
        <ChoiceCard value="join" current={choice} onPick={setChoice} title="Join a devnet" text="Someone started a devnet: join it with its id and a peer address." />
        <ChoiceCard value="network" current={choice} onPick={setChoice} title="Choose a network" text="Mine for real on main, testnet4 or signet (or a custom network) with your Bitcoin Core." />
      </div>

      <Card title={choice === "devnet" ? "Start a devnet" : choice === "join" ? "Join a devnet" : "Network and Bitcoin Core"}>
        {choice === "devnet" && <p>The node creates a new devnet, starts an embedded Bitcoin (regtest) and mines at once.</p>}
        {choice === "join" && (
          <div className="form">
            <label className="field">
              <span>Devnet id</span>
              <input className="mono" value={devnetId} onChange={(e) => setDevnetId(e.target.value)} placeholder="1795628914-1d3ff266" />
            </label>
            <label className="field">
              <span>Peer multiaddr</span>
              <input className="mono" value={peer} onChange={(e) => setPeer(e.target.value)} placeholder="/ip4/192.168.1.20/tcp/29333/p2p/12D3KooW…" />
            </label>
          </div>
        )}
        {choice === "network" && (
          <div className="form">
            <div className="segmented" role="radiogroup" aria-label="Network">
              {(["main", "testnet4", "signet", "custom"] as const).map((n) => (
                <button key={n} type="button" role="radio" aria-checked={net === n} onClick={() => pickNet(n)}>
                  {n === "custom" ? "custom TOML" : n}
                </button>
              ))}
            </div>
            {net === "custom" && (
              <label className="field">
                <span>Network TOML (docs/protocol.md §11.3)</span>
                <textarea rows={8} className="mono" value={toml} onChange={(e) => setToml(e.target.value)} placeholder={'name = "mynet"\nmagic = "7032730a"\nmainchain = "regtest"\n…'} />
              </label>
            )}
            <BitcoinConnectionForm value={conn} onChange={setConn} />
          </div>
        )}
        <div className="form-actions">
          <button type="button" className="btn btn-primary" disabled={!req || phase === "sending"} onClick={submit} data-testid="setup-submit">
            {phase === "sending" ? "Setting up…" : choice === "devnet" ? "Start the devnet" : choice === "join" ? "Join" : "Use this network"}
          </button>
        </div>
        {error && <ErrorNote error={error} what="Setup" />}
      </Card>
      <DesktopOptions
        title="On this computer (optional)"
        className="card-gap"
        options={["start_with_system", "start_minimized", "close_to_tray"]}
        intro={<p className="muted small">Change these any time in Settings.</p>}
      />
    </div>
  );
}

function ChoiceCard({ value, current, onPick, title, text }: { value: Choice; current: Choice; onPick: (c: Choice) => void; title: string; text: string }) {
  const on = value === current;
  return (
    <button type="button" role="radio" aria-checked={on} className={`choice ${on ? "choice-on" : ""}`} onClick={() => onPick(value)}>
      <strong>{title}</strong>
      <span>{text}</span>
    </button>
  );
}
