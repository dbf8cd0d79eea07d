import { useId, useState, type ReactNode } from "react";
import { Icon } from "./Icon";

/** An "i" button that shows an explanation on hover, focus or click. */
export function Tip({ label, children }: { label: string; children: ReactNode }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  return (
    <span className="tip" onMouseEnter={() => setOpen(true)} onMouseLeave={() => setOpen(false)}>
      <button
        type="button"
        className="tip-button"
        aria-label={label}
        aria-describedby={id}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
      >
        <Icon name="info" size={14} />
      </button>
      <span id={id} role="tooltip" className={`tip-body ${open ? "open" : ""}`}>
        {children}
      </span>
    </span>
  );
}
