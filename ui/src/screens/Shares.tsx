// My share outputs: where they lie on [0, n), which are eligible, when the others will be.
import { useNode } from "../api/node";
import { useRpc } from "../api/hooks";
import { eligibleRanges, inRanges } from "../api/derived";
import type { RangeOutput, ShareRanges } from "../bindings";
import { Card, ScreenHeader, Stat } from "../components/Card";
import { ErrorNote, Loading, Note, Rpc } from "../components/Status";
import { RangeBar } from "../components/RangeBar";
import { ProgressBar } from "../components/ProgressBar";
import { Tip } from "../components/Tip";
import { formatCount, formatDuration, formatNumber, formatPercent, formatShares, formatUnits8, formatUnitsShort, shortHash } from "../format";

export default function Shares() {
  const { info } = useNode();
  if (info.error && !info.data) return <ErrorNote error={info.error} what="Node info" />;
  if (!info.data) return <Loading />;
  const address = info.data.mining_address;
  return (
    <div className="screen" data-testid="shares">
      <ScreenHeader title="Your shares">{address && <span className="mono muted small">{address}</span>}</ScreenHeader>
      {address === null ? (
        <Note tone="warn">This node has no mining address, so it holds no shares of its own.</Note>
      ) : (
        <SharesBody address={address} />
      )}
    </div>
  );
}

function SharesBody({ address }: { address: string }) {
  const ranges = useRpc("getshareranges", [address], { refreshOn: ["tip"] });
  const { params } = useNode();
  const spacing = params.data?.target_spacing ?? null;
  return (
    <Rpc state={ranges} what="Share ranges">
      {(r) => <SharesView r={r} spacing={spacing} />}
    </Rpc>
  );
}

function SharesView({ r, spacing }: { r: ShareRanges; spacing: number | null }) {
  const mine = eligibleRanges(r.outputs);
  const immature = r.outputs.filter((o) => !o.eligible).reduce((a, o) => a + o.value, 0);
  const total = r.outputs.reduce((a, o) => a + o.value, 0);
  const outputs = [...r.outputs].sort((a, b) => b.height - a.height || a.vout - b.vout);
  return (
    <div className="grid">
      <Card title="Summary" className="span-12">
        <div className="stats">
          <Stat label="Eligible (v)" testId="shares-v" value={formatShares(r.v, -1)} sub={`${formatPercent(r.n ? r.v / r.n : 0)} of n`} />
          <Stat label="All eligible (n)" value={formatShares(r.n, -1)} sub={`at share ${formatCount(r.height)}`} />
          <Stat label="Maturing" value={formatShares(immature, -1)} sub={`${r.outputs.filter((o) => !o.eligible).length} outputs`} />
          <Stat label="Total held" value={formatShares(total, -1)} sub={`${r.outputs.length} outputs`} />
        </div>
      </Card>
      <Card
        title={
          <>
            Your place in the draw{" "}
            <Tip label="About the bar">
              Every eligible output owns a range of [0, n) in a fixed order; a Bitcoin block pays the output whose
              range contains q, a number drawn from the parent share's header. Marks show where recent q fell.
            </Tip>
          </>
        }
        className="span-12"
      >
        <RangeBar n={r.n} ranges={mine} selections={r.recent_selections} />
      </Card>
      <Card title="Outputs" className="span-8">
        {outputs.length === 0 ? (
          <p className="muted">No outputs yet: mine a share and it shows up here.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="outputs">
              <thead>
                <tr>
                  <th scope="col">Output</th>
                  <th scope="col" className="num">Value</th>
                  <th scope="col" className="num">Height</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {outputs.map((o) => (
                  <OutputRow key={`${o.txid}:${o.vout}`} o={o} maturity={r.maturity} spacing={spacing} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title="Recent selections" className="span-4">
        {r.recent_selections.length === 0 ? (
          <p className="muted">No selections in the reorg window yet.</p>
        ) : (
          <div className="table-wrap table-scroll">
            <table className="table small" data-testid="selections">
              <thead>
                <tr>
                  <th scope="col" className="num">Share</th>
                  <th scope="col" className="num">q / n</th>
                  <th scope="col">
                    <span className="offscreen">Yours</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.recent_selections.map((s) => {
                  const hit = s.n === r.n && inRanges(s.q, mine);
                  return (
                    <tr key={s.share} className={hit ? "row-mine" : ""}>
                      <td className="num">{formatCount(s.share_height)}</td>
                      <td className="num mono">{((s.q / s.n) * 100).toFixed(1)}%</td>
                      <td>{hit && <span className="pill pill-good">yours</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

function OutputRow({ o, maturity, spacing }: { o: RangeOutput; maturity: number; spacing: number | null }) {
  let status;
  if (o.eligible) {
    status = (
      <span>
        <span className="pill pill-good">eligible</span>{" "}
        <span className="muted small mono nowrap" title={`range starts at ${formatUnits8(o.range_start)} shares`}>
          from {formatUnitsShort(o.range_start)}
        </span>
      </span>
    );
  } else if (o.shares_to_eligible > 0) {
    const done = Math.max(0, maturity - o.shares_to_eligible);
    status = (
      <div className="maturity">
        <span className="nowrap">
          eligible in {formatCount(o.shares_to_eligible)} {o.shares_to_eligible === 1 ? "share" : "shares"}
          {spacing !== null && <span className="muted"> · ≈ {formatDuration(o.shares_to_eligible * spacing)}</span>}
        </span>
        <ProgressBar value={maturity > 0 ? done / maturity : 0} label={`Maturity ${done} of ${maturity}`} />
      </div>
    );
  } else {
    status = <span className="pill">not eligible{o.value === 0 ? " (zero value)" : ""}</span>;
  }
  return (
    <tr className={o.eligible ? "" : "row-dim"}>
      <td className="mono nowrap">
        {shortHash(o.txid)}:{o.vout} {o.sharebase && <span className="pill pill-muted">sharebase</span>}
      </td>
      <td className="num mono">{formatUnits8(o.value)}</td>
      <td className="num">{formatNumber(o.height, 0)}</td>
      <td>{status}</td>
    </tr>
  );
}
