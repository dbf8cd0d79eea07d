// The interval [0, n) drawn as a bar: the holder's ranges highlighted, recent selections marked.
import type { Selection } from "../bindings";
import type { Range } from "../api/derived";
import { formatPercent, formatUnits8, formatUnitsShort } from "../format";

const W = 1000;
const H = 56;
const BAR_Y = 14;
const BAR_H = 28;

export function RangeBar({
  n,
  ranges,
  selections,
}: {
  n: number;
  ranges: Range[];
  selections: Selection[];
}) {
  if (n <= 0) {
    return <p className="muted">Nothing is eligible yet (n = 0): no range to draw.</p>;
  }
  const mine = ranges.reduce((a, r) => a + (r.end - r.start), 0);
  const x = (u: number) => (u / n) * W;
  const label = `The interval from 0 to n = ${formatUnits8(n)} shares. Your ${ranges.length} ranges cover ${formatPercent(mine / n)}. ${selections.length} recent selections marked.`;
  return (
    <figure className="rangebar">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label} data-testid="rangebar">
        <rect className="rb-all" x={0} y={BAR_Y} width={W} height={BAR_H} rx={3} />
        {ranges.map((r) => (
          <rect
            key={`${r.output.txid}:${r.output.vout}`}
            className="rb-mine"
            data-testid="rb-mine"
            x={x(r.start)}
            y={BAR_Y}
            // At least ~1 px so that a small holding stays visible.
            width={Math.max(x(r.end) - x(r.start), 1.2)}
            height={BAR_H}
          >
            <title>{`Yours: [${formatUnits8(r.start)}, ${formatUnits8(r.end)}) shares`}</title>
          </rect>
        ))}
        {selections.map((s, i) => {
          // A selection drew q from its own n; place it by its fraction of that n.
          const px = (s.q / s.n) * W;
          const hit = s.n === n && ranges.some((r) => r.start <= s.q && s.q < r.end);
          return (
            <g key={`${s.share}-${i}`} className={`rb-q ${i === 0 ? "rb-q-latest" : ""} ${hit ? "rb-q-hit" : ""}`} data-testid="rb-q">
              <line x1={px} x2={px} y1={BAR_Y - 6} y2={BAR_Y + BAR_H + 6} />
              {i === 0 && <path d={`M${px - 6},2 L${px + 6},2 L${px},${BAR_Y - 4} Z`} />}
              <title>{`Share ${s.share_height}: q = ${s.q} of n = ${s.n}${hit ? " (yours)" : ""}`}</title>
            </g>
          );
        })}
      </svg>
      <figcaption className="rb-legend">
        <span>
          <i className="swatch swatch-mine" aria-hidden="true" /> your eligible ranges ({formatPercent(mine / n)} of n)
        </span>
        <span>
          <i className="swatch swatch-q" aria-hidden="true" /> recent selections q (▼ latest)
        </span>
        <span className="muted" title={`n = ${formatUnits8(n)} shares`}>
          0 … n = {formatUnitsShort(n)} shares
        </span>
      </figcaption>
    </figure>
  );
}
