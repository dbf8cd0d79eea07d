// Hashrate over time: one line per hasher, and their total (Chart.js, only the parts registered
// below). The lines come from `chartSeries` (api/derived.ts), which names and groups them.
import { useEffect, useRef } from "react";
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from "chart.js";
import { formatHashrate } from "../format";

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Filler, Tooltip, Legend);

export interface Series {
  name: string;
  /** `[unix seconds, hashes per second]`, oldest first. */
  points: Array<[number, number]>;
  /** A hasher's own line (the default), the total, or the hashers summed as "other". */
  kind?: "device" | "total" | "other";
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function clock(t: number, withSeconds: boolean): string {
  const d = new Date(t * 1000);
  const p = (n: number) => n.toString().padStart(2, "0");
  return withSeconds ? `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` : `${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Seconds between x labels for a range. */
function tickStep(rangeSecs: number): number {
  const steps = [60, 300, 600, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400];
  return steps.find((s) => rangeSecs / s <= 7) ?? 86_400;
}

type LineDataset = ChartDataset<"line", Array<{ x: number; y: number }>>;

/**
 * Whether the lines need a logarithmic y axis to all be seen: a Bitaxe at 1 TH/s next to a CPU
 * at 60 MH/s would draw the CPU flat on zero. True when the devices' averages differ 100-fold.
 */
export function needsLogScale(series: Series[]): boolean {
  const averages = series
    .filter((s) => (s.kind ?? "device") !== "total")
    .map((s) => {
      const up = s.points.filter(([, y]) => y > 0);
      return up.length ? up.reduce((a, [, y]) => a + y, 0) / up.length : 0;
    })
    .filter((a) => a > 0);
  return averages.length > 1 && Math.max(...averages) >= 100 * Math.min(...averages);
}

/** The y axis: from zero, or logarithmic with a label per power of ten (of 1000 when many). */
function yScale(log: boolean, text: string, grid: string) {
  const label = (v: number | string) => formatHashrate(Number(v));
  if (!log) {
    return { type: "linear" as const, beginAtZero: true, grid: { color: grid }, ticks: { color: text, maxTicksLimit: 5, callback: label } };
  }
  return {
    type: "logarithmic" as const,
    grid: { color: grid },
    afterBuildTicks: (axis: { min: number; max: number; ticks: Array<{ value: number }> }) => {
      const decades: number[] = [];
      for (let e = Math.ceil(Math.log10(Math.max(axis.min, 1))); 10 ** e <= axis.max; e++) decades.push(e);
      const shown = decades.length > 5 ? decades.filter((e) => e % 3 === 0) : decades;
      if (shown.length > 0) axis.ticks = shown.map((e) => ({ value: 10 ** e }));
    },
    ticks: { color: text, autoSkip: false, callback: label },
  };
}

const PALETTE: Array<[string, string]> = [
  ["--chart-1", "#3b5bdb"],
  ["--chart-2", "#e8590c"],
  ["--chart-3", "#2b8a3e"],
  ["--chart-4", "#9c36b5"],
  ["--chart-5", "#0c8599"],
  ["--chart-6", "#c2255c"],
  ["--chart-7", "#5c940d"],
  ["--chart-8", "#e67700"],
];

function datasets(series: Series[]): LineDataset[] {
  const palette = PALETTE.map(([name, fallback]) => cssVar(name, fallback));
  let next = 0;
  return series.map((s) => {
    const kind = s.kind ?? "device";
    // The total and "other devices" in the text's colours, dashed; each device its own colour.
    const color =
      kind === "total" ? cssVar("--text", "#18202c") : kind === "other" ? cssVar("--text-muted", "#5d6778") : palette[next++ % palette.length]!;
    return {
      label: s.name,
      data: s.points.map(([x, y]) => ({ x, y })),
      borderColor: color,
      backgroundColor: `${color}22`,
      fill: series.length === 1,
      pointRadius: 0,
      borderWidth: kind === "device" ? 2 : 1.5,
      borderDash: kind === "total" ? [6, 4] : kind === "other" ? [2, 3] : [],
      tension: 0.25,
    };
  });
}

export function HashrateChart({
  series,
  rangeSecs,
  now,
}: {
  series: Series[];
  rangeSecs: number;
  /** Right edge of the x axis (unix seconds). */
  now: number;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<"line", Array<{ x: number; y: number }>> | null>(null);
  const latest = useRef({ series, rangeSecs, now });
  latest.current = { series, rangeSecs, now };
  const buildRef = useRef<(() => void) | null>(null);

  // Create once; restyle on theme changes.
  useEffect(() => {
    const canvas = canvasRef.current;
    // jsdom and very old browsers have no 2D context: show only the text summary then.
    if (!canvas || !canvas.getContext?.("2d")) return;
    const build = () => {
      chartRef.current?.destroy();
      const { series: s, rangeSecs: r, now: n } = latest.current;
      const text = cssVar("--text-muted", "#666");
      const grid = cssVar("--border", "#ddd");
      chartRef.current = new Chart<"line", Array<{ x: number; y: number }>>(canvas, {
        type: "line",
        data: { datasets: datasets(s) },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          parsing: false,
          normalized: true,
          interaction: { mode: "nearest", axis: "x", intersect: false },
          scales: {
            x: {
              type: "linear",
              min: n - r,
              max: n,
              grid: { color: grid },
              // Labels at round clock times: every 10 min over an hour, every 4 h over a day.
              afterBuildTicks: (axis) => {
                const step = tickStep(latest.current.rangeSecs);
                const ticks = [];
                for (let v = Math.ceil(axis.min / step) * step; v <= axis.max; v += step) ticks.push({ value: v });
                axis.ticks = ticks;
              },
              ticks: {
                color: text,
                autoSkip: false,
                maxRotation: 0,
                callback: (v) => clock(Number(v), latest.current.rangeSecs <= 600),
              },
            },
            y: yScale(needsLogScale(s), text, grid),
          },
          plugins: {
            legend: { display: s.length > 1, labels: { color: text, boxWidth: 14, boxHeight: 2 } },
            tooltip: {
              callbacks: {
                title: (items) => (items[0] ? clock(items[0].parsed.x ?? 0, true) : ""),
                label: (item) => `${item.dataset.label}: ${formatHashrate(item.parsed.y)}`,
              },
            },
          },
        },
      });
    };
    build();
    buildRef.current = build;
    const rebuild = () => build();
    window.addEventListener("p2share-theme", rebuild);
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    mq?.addEventListener?.("change", rebuild);
    return () => {
      window.removeEventListener("p2share-theme", rebuild);
      mq?.removeEventListener?.("change", rebuild);
      chartRef.current?.destroy();
      chartRef.current = null;
      buildRef.current = null;
    };
  }, []);

  // Update data in place: cheap enough for a point every 2 s.
  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    // A device much faster or slower than the rest came or went: the y axis changes kind.
    if ((chart.options.scales?.y?.type === "logarithmic") !== needsLogScale(series)) {
      buildRef.current?.();
      return;
    }
    const fresh = datasets(series);
    const same =
      chart.data.datasets.length === fresh.length &&
      chart.data.datasets.every((d, i) => d.label === fresh[i]!.label);
    if (same) chart.data.datasets.forEach((d, i) => (d.data = fresh[i]!.data));
    else chart.data.datasets = fresh;
    const x = chart.options.scales?.x;
    if (x) {
      x.min = now - rangeSecs;
      x.max = now;
    }
    if (chart.options.plugins?.legend) chart.options.plugins.legend.display = series.length > 1;
    chart.update("none");
  }, [series, rangeSecs, now]);

  const summary = series
    .map((s) => {
      const last = s.points[s.points.length - 1];
      const avg = s.points.length ? s.points.reduce((a, [, y]) => a + y, 0) / s.points.length : 0;
      return `${s.name}: now ${formatHashrate(last ? last[1] : 0)}, average ${formatHashrate(avg)}`;
    })
    .join("; ");

  return (
    <div className="chart-wrap">
      <canvas ref={canvasRef} role="img" aria-label={`Hashrate chart. ${summary || "No samples yet."}`} />
      <p className="offscreen" data-testid="chart-summary">
        {summary || "No samples yet."}
      </p>
    </div>
  );
}
