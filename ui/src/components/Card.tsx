import { useId, type ReactNode } from "react";

/** A titled panel. */
export function Card({
  title,
  children,
  actions,
  className = "",
  wide = false,
}: {
  title: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  className?: string;
  wide?: boolean;
}) {
  const id = useId();
  return (
    <section className={`card ${wide ? "card-wide" : ""} ${className}`} aria-labelledby={id}>
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

/** One figure: a label, a big value and a line under it. */
export function Stat({
  label,
  value,
  sub,
  testId,
  tone,
}: {
  label: ReactNode;
  value: ReactNode;
  sub?: ReactNode;
  testId?: string;
  tone?: "good" | "bad" | "accent";
}) {
  return (
    <div className={`stat ${tone ? `tone-${tone}` : ""}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
      {sub !== undefined && <div className="stat-sub">{sub}</div>}
    </div>
  );
}

/** A screen's title row. */
export function ScreenHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="screen-head">
      <h1>{title}</h1>
      {children && <div className="screen-head-extra">{children}</div>}
    </div>
  );
}
