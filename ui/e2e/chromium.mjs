// Debian's Chromium as the browser tests launch it (playwright-core only; no browser download).
// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// closed network refuses.
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
