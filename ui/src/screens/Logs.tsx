// The node's log: recent lines, then live `log` events; filter by level and text.
import { useEffect, useMemo, useRef, useState } from "react";
import type { LogLine } from "../bindings";
import { useNodeEvent, useRpc } from "../api/hooks";
import { Card, ScreenHeader } from "../components/Card";
import { Rpc } from "../components/Status";
import { formatClockMs, formatCount } from "../format";

const LEVELS: LogLine["level"][] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
const MAX_LINES = 5000;

/** Lines at `min` or more severe, containing `text` (any case) in target or message. */
export function filterLines(lines: LogLine[], min: LogLine["level"], text: string): LogLine[] {
  const rank = LEVELS.indexOf(min);
  const needle = text.trim().toLowerCase();
  return lines.filter(
    (l) =>
      LEVELS.indexOf(l.level) <= rank &&
      (!needle || l.message.toLowerCase().includes(needle) || l.target.toLowerCase().includes(needle)),
  );
}

export default function Logs() {
  const initial = useRpc("getlogs", [500]);
  const [live, setLive] = useState<LogLine[]>([]);
  useNodeEvent(["log"], (e) => {
    const { type: _type, ...line } = e;
    setLive((l) => (l.length >= MAX_LINES ? [...l.slice(l.length - MAX_LINES + 1), line] : [...l, line]));
  });
  // A resync re-reads getlogs, which then contains the live lines so far.
  useEffect(() => setLive([]), [initial.data]);
  return (
    <div className="screen screen-fill" data-testid="logs">
      <ScreenHeader title="Logs" />
      <Rpc state={initial} what="Logs">
        {(lines) => <LogView lines={lines} live={live} />}
      </Rpc>
    </div>
  );
}

function LogView({ lines, live }: { lines: LogLine[]; live: LogLine[] }) {
  const [level, setLevel] = useState<LogLine["level"]>("INFO");
  const [text, setText] = useState("");
  const [follow, setFollow] = useState(true);
  const boxRef = useRef<HTMLDivElement>(null);
  const all = useMemo(() => {
    const merged = [...lines, ...live];
    return merged.length > MAX_LINES ? merged.slice(merged.length - MAX_LINES) : merged;
  }, [lines, live]);
  const shown = useMemo(() => filterLines(all, level, text), [all, level, text]);

  useEffect(() => {
    const box = boxRef.current;
    if (follow && box) box.scrollTop = box.scrollHeight;
  }, [shown, follow]);

  return (
    <Card
      title={`${formatCount(shown.length)} of ${formatCount(all.length)} lines`}
      className="card-fill"
      actions={
        <div className="log-controls">
          <label className="field field-inline">
            <span>Level</span>
            <select value={level} onChange={(e) => setLevel(e.target.value as LogLine["level"])} aria-label="Minimum level">
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l === "ERROR" ? "errors" : `${l.toLowerCase()} and above`}
                </option>
              ))}
            </select>
          </label>
          <input type="search" placeholder="Filter text" aria-label="Filter text" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="button" className="btn btn-small" aria-pressed={!follow} onClick={() => setFollow((f) => !f)}>
            {follow ? "Pause scrolling" : "Resume scrolling"}
          </button>
        </div>
      }
    >
      <div
        ref={boxRef}
        className="log-box"
        role="log"
        aria-live="off"
        tabIndex={0}
        data-testid="log-box"
        onScroll={(e) => {
          const b = e.currentTarget;
          const atBottom = b.scrollHeight - b.scrollTop - b.clientHeight < 24;
          if (!atBottom && follow) setFollow(false);
        }}
      >
        {shown.length === 0 ? (
          <p className="muted">No lines match.</p>
        ) : (
          shown.map((l, i) => (
            <div key={i} className={`log-line log-${l.level.toLowerCase()}`} data-testid="log-line">
              <span className="log-time">{formatClockMs(l.time)}</span>
              <span className="log-level">{l.level}</span>
              <span className="log-target">{l.target}</span>
              <span className="log-msg">{l.message}</span>
            </div>
          ))
        )}
      </div>
    </Card>
  );
}
