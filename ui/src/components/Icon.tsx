// Inline SVG icons (no icon font, no external asset: the node's CSP is `default-src 'self'`).
export type IconName =
  | "odds"
  | "shares"
  | "wallet"
  | "swaps"
  | "blocks"
  | "mining"
  | "devices"
  | "network"
  | "settings"
  | "logs"
  | "setup"
  | "sun"
  | "moon"
  | "copy"
  | "check"
  | "info";

const PATHS: Record<IconName, string> = {
  odds: "M12 3a9 9 0 1 0 9 9h-9z M14 1.5v8.5h8.5A8.5 8.5 0 0 0 14 1.5z",
  shares: "M3 7h18v4H3z M3 13h11v4H3z M16 13h5v4h-5z",
  wallet: "M16 7V4H5a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h14a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1H5a2 2 0 0 1-2-2 M16 12h4v4h-4a2 2 0 0 1 0-4z",
  swaps: "M4 8h15 M15 4l4 4-4 4 M20 16H5 M9 12l-4 4 4 4",
  blocks: "M4 4h7v7H4z M13 4h7v7h-7z M4 13h7v7H4z M13 13h7v7h-7z",
  mining: "M14 3l7 7-3 1-5-5z M12.5 7.5l4 4L7 21l-4-4z",
  devices: "M7 7h10v10H7z M10.5 10.5h3v3h-3z M10 3v4 M14 3v4 M10 17v4 M14 17v4 M3 10h4 M3 14h4 M17 10h4 M17 14h4",
  network: "M5 5a2 2 0 1 0 .01 0z M19 5a2 2 0 1 0 .01 0z M12 17a2 2 0 1 0 .01 0z M5 5l7 12 7-12z",
  settings:
    "M12 8a4 4 0 1 0 .01 0z M11 1h2l.5 3 2 .8 2.5-1.8 1.4 1.4-1.8 2.5.8 2 3 .5v2l-3 .5-.8 2 1.8 2.5-1.4 1.4-2.5-1.8-2 .8-.5 3h-2l-.5-3-2-.8-2.5 1.8-1.4-1.4 1.8-2.5-.8-2-3-.5v-2l3-.5.8-2L4.6 4.4 6 3l2.5 1.8 2-.8z",
  logs: "M4 5h16v2H4z M4 9h10v2H4z M4 13h16v2H4z M4 17h12v2H4z",
  setup: "M12 2l9 5v10l-9 5-9-5V7z M12 7v10 M7 9.5l5 2.5 5-2.5",
  sun: "M12 7a5 5 0 1 0 .01 0z M12 1v3 M12 20v3 M1 12h3 M20 12h3 M4.2 4.2l2.1 2.1 M17.7 17.7l2.1 2.1 M4.2 19.8l2.1-2.1 M17.7 6.3l2.1-2.1",
  moon: "M20 14.5A8.5 8.5 0 0 1 9.5 4 8.5 8.5 0 1 0 20 14.5z",
  copy: "M8 8h12v12H8z M4 4h12v2H6v10H4z",
  check: "M4 12l5 5L20 6",
  info: "M12 2a10 10 0 1 0 .01 0z M11 10h2v7h-2z M11 6h2v2h-2z",
};

const STROKED = new Set<IconName>(["sun", "check", "network", "setup", "devices", "wallet", "swaps"]);

export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  const stroked = STROKED.has(name);
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      className="icon"
      fill={stroked ? "none" : "currentColor"}
      stroke={stroked ? "currentColor" : "none"}
      strokeWidth={stroked ? 2 : 0}
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
