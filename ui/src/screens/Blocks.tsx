// Bitcoin blocks the network found, and a local check of each payout.
import { useState } from "react";
import type { BitcoinBlock } from "../bindings";
import { useRpc } from "../api/hooks";
import { hasherLabel } from "../api/derived";
import { Card, ScreenHeader } from "../components/Card";
import { Rpc } from "../components/Status";
import { Tip } from "../components/Tip";
import { formatAgo, formatCount, formatSats, formatTime, shortHash } from "../format";
import { verifyBlock, type VerifyResult } from "../lib/verify";
import { scriptToAddress } from "../lib/address";
import { useNode } from "../api/node";

export default function Blocks() {
  // `tip` events are frequent on a devnet: coalesce them over a second.
  const blocks = useRpc("listbitcoinblocks", [50], { refreshOn: ["bitcoin_block", "tip"], batchMs: 1000 });
  // Which hasher found the blocks found here (the miner's records): a detail, left out if unknown.
  const mining = useRpc("getmininginfo", [], { refreshOn: ["bitcoin_block"], batchMs: 1000 });
  const finders = new Map((mining.data?.blocks ?? []).map((b) => [b.block_hash, b.finder]));
  return (
    <div className="screen" data-testid="blocks">
      <ScreenHeader title="Bitcoin blocks" />
      <Rpc state={blocks} what="Bitcoin blocks">
        {(list) => <BlocksTable list={list} finders={finders} />}
      </Rpc>
    </div>
  );
}

function BlocksTable({ list, finders }: { list: BitcoinBlock[]; finders: Map<string, string | null> }) {
  const won = list.filter((b) => b.mine).length;
  const now = Date.now() / 1000;
  return (
    <Card
      title={
        <>
          {formatCount(list.length)} found recently, {formatCount(won)} paid you{" "}
          <Tip label="About Verify">
            Verify recomputes the draw in your browser: q = int_be(TaggedHash("p2share/q-selector", parent header)) mod n,
            then checks that the selected output's range contains q and that the block paid that output's script. It trusts
            the node only for n and the ranges, not for q.
          </Tip>
        </>
      }
      wide
    >
      {list.length === 0 ? (
        <p className="muted">The network has not found a Bitcoin block in the recent window yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="blocks-table">
            <thead>
              <tr>
                <th scope="col" className="num">Share</th>
                <th scope="col">Time</th>
                <th scope="col">Bitcoin block</th>
                <th scope="col">Selected output</th>
                <th scope="col">Paid to</th>
                <th scope="col" className="num">Reward</th>
                <th scope="col">
                  <span className="offscreen">Verify</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((b) => (
                <BlockRow key={b.share} b={b} now={now} finder={finders.get(b.bitcoin_hash) ?? null} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function BlockRow({ b, now, finder }: { b: BitcoinBlock; now: number; finder: string | null }) {
  const hrp = useNode().params.data?.address_hrp;
  const paidTo = b.paid_address ?? (hrp ? scriptToAddress(b.paid_script, hrp) : null);
  const [result, setResult] = useState<VerifyResult | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    try {
      setResult(await verifyBlock(b));
    } catch (e) {
      setResult({ status: "error", summary: `Could not verify: ${String(e)}`, checks: [], q: null, h: null });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <tr className={b.mine ? "row-mine" : ""} data-testid="block-row">
        <td className="num">{formatCount(b.share_height)}</td>
        <td title={formatTime(b.time)}>{formatAgo(now - b.time)}</td>
        <td className="mono">
          {shortHash(b.bitcoin_hash)}
          {b.found_here && (
            <span className="pill pill-accent" title={finder ? `found by ${finder}` : undefined} data-testid="found-here">
              {finder ? `found here by ${hasherLabel(finder)}` : "found here"}
            </span>
          )}
          {b.outcome && b.outcome !== "accepted" && <span className="pill pill-bad">{b.outcome}</span>}
        </td>
        <td className="mono">
          {b.payout ? (
            <>
              {shortHash(b.payout.txid)}:{b.payout.vout}
            </>
          ) : (
            <span className="muted">own sharebase (n = 0)</span>
          )}
        </td>
        <td className="mono">
          <span title={paidTo ?? b.paid_script}>{paidTo ? shortHash(paidTo, 10) : shortHash(b.paid_script, 10)}</span>
          {b.mine && <span className="pill pill-good">you</span>}
        </td>
        <td className="num">{formatSats(b.value_sat)}</td>
        <td>
          <button type="button" className="btn btn-small" onClick={verify} disabled={busy} aria-label={`Verify block at share ${b.share_height}`}>
            {busy ? "Verifying…" : "Verify"}
          </button>
        </td>
      </tr>
      {result && (
        <tr className="verify-row">
          <td colSpan={7}>
            <VerifyPanel result={result} />
          </td>
        </tr>
      )}
    </>
  );
}

function VerifyPanel({ result }: { result: VerifyResult }) {
  const tone = result.status === "match" ? "good" : result.status === "not-applicable" ? "info" : "bad";
  return (
    <div className={`verify verify-${tone}`} role="status" data-testid="verify-result" data-status={result.status}>
      <strong>
        {result.status === "match" ? "✓ " : result.status === "not-applicable" ? "" : "✗ "}
        {result.summary}
      </strong>
      {result.checks.length > 0 && (
        <ul className="checks">
          {result.checks.map((c) => (
            <li key={c.label} className={c.ok ? "ok" : "fail"}>
              <span aria-hidden="true">{c.ok ? "✓" : "✗"}</span> {c.label}: <span className="mono">{c.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {result.h && (
        <p className="small muted mono wrap">
          h = {result.h}
        </p>
      )}
    </div>
  );
}
