// The frame: left nav, header (network, sync, connection, theme), and the screen.
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { routes } from "./routes";
import { Link } from "./router";
import { Icon } from "./components/Icon";
import { useConnectionState, useNodeEvent, useRpc } from "./api/hooks";
import { useNode } from "./api/node";
import { applyTheme, isDark, loadTheme, nextTheme, type ThemePref } from "./theme";
import { formatPercent } from "./format";

export function Layout({ path, children }: { path: string; children: ReactNode }) {
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  // Move focus to the new screen on navigation (not on first load), for keyboard and screen readers.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
    mainRef.current?.scrollTo?.(0, 0);
  }, [path]);
  return (
    <div className="app">
      <a className="skip" href="#content" onClick={(e) => (e.preventDefault(), mainRef.current?.focus())}>
        Skip to content
      </a>
      <Nav path={path} />
      <div className="main-col">
        <Header />
        <main id="content" ref={mainRef} tabIndex={-1} className="content">
          {children}
        </main>
      </div>
    </div>
  );
}

function Nav({ path }: { path: string }) {
  const items = routes.filter((r) => r.nav);
  // Up/Down/Home/End move between the links (Tab still works as usual).
  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const links = Array.from(e.currentTarget.querySelectorAll<HTMLAnchorElement>("a"));
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (i < 0) return;
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: links.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    links[(to + links.length) % links.length]?.focus();
  };
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          p2
        </span>
        <span>p2share</span>
      </div>
      <ul onKeyDown={onKeyDown}>
        {items.map((r) => (
          <li key={r.path}>
            <Link to={r.path} aria-current={r.path === path ? "page" : undefined} className="nav-link">
              <Icon name={r.icon} />
              <span>{r.title}</span>
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Header() {
  const { info } = useNode();
  const conn = useConnectionState();
  const sync = useRpc("getsyncstatus");
  useNodeEvent(["sync"], (e) => {
    const { type: _type, ...s } = e;
    sync.setData(s);
  });
  const s = sync.data;
  const syncText = !s
    ? "…"
    : s.state === "synced"
      ? "synced"
      : s.state === "idle"
        ? "waiting for peers"
        : `syncing ${formatPercent(s.progress)}`;
  return (
    <header className="topbar">
      <div className="topbar-left">
        <span className="pill pill-accent" data-testid="network-name" title="Network">
          {info.data?.network ?? "…"}
        </span>
        <span className={`pill ${s?.state === "synced" ? "pill-good" : "pill-warn"}`} data-testid="sync-state">
          {syncText}
        </span>
        {info.data?.mining_address && (
          <span className="muted small mono hide-narrow" title="Mining address (you)">
            {info.data.mining_address}
          </span>
        )}
      </div>
      <div className="topbar-right">
        <span className={`conn conn-${conn}`} role="status" aria-label={`Live updates: ${conn}`} data-testid="conn">
          <span className="dot" aria-hidden="true" />
          {conn === "open" ? "live" : conn === "connecting" ? "connecting…" : "offline"}
        </span>
        <ThemeToggle />
      </div>
    </header>
  );
}

function ThemeToggle() {
  const [pref, setPref] = useState<ThemePref>(loadTheme);
  const [dark, setDark] = useState(isDark);
  useEffect(() => {
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    const on = () => setDark(isDark());
    mq?.addEventListener?.("change", on);
    window.addEventListener("p2share-theme", on);
    return () => {
      mq?.removeEventListener?.("change", on);
      window.removeEventListener("p2share-theme", on);
    };
  }, []);
  const toggle = () => {
    const n = nextTheme(pref);
    setPref(n);
    applyTheme(n);
  };
  return (
    <button type="button" className="btn btn-ghost btn-icon" onClick={toggle} aria-label={dark ? "Switch to light theme" : "Switch to dark theme"} title={dark ? "Light theme" : "Dark theme"}>
      <Icon name={dark ? "sun" : "moon"} />
    </button>
  );
}
