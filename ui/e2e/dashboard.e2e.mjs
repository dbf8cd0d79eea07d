#!/usr/bin/env node
// Screenshots of the dashboard in Debian's Chromium (playwright-core only, no bundled browser).
//
//   P2SHARE_URL=http://127.0.0.1:29332 P2SHARE_TOKEN=<cookie password> npm run e2e
//   (against the mock: npm run build && npm run mock, then P2SHARE_URL=http://127.0.0.1:29400 P2SHARE_TOKEN=devtoken)
//
// Logs in with /login?token=, waits for the odds, then for 1280×800 and 1920×1080 in light and
// dark takes a screenshot of the login page and of every screen into $ARTIFACTS (default
// e2e/artifacts). Console errors, page errors and CSP violations are written to
// $ARTIFACTS/console.txt and make the run fail.
// Env: E2E_SCREENS=dashboard (only the dashboard), E2E_FULLPAGE=1 (whole pages), CHROMIUM (path).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, FREEZE_PROTOTYPE } from "./chromium.mjs";

const BASE = (process.env.P2SHARE_URL ?? "").replace(/\/$/, "");
const TOKEN = process.env.P2SHARE_TOKEN ?? "";
const ARTIFACTS = process.env.ARTIFACTS ?? fileURLToPath(new URL("./artifacts", import.meta.url));
const ONLY_DASHBOARD = process.env.E2E_SCREENS === "dashboard";
const FULL_PAGE = process.env.E2E_FULLPAGE === "1";

if (!BASE || !TOKEN) {
  console.error("set P2SHARE_URL (e.g. http://127.0.0.1:29332) and P2SHARE_TOKEN (the API password, e.g. the cookie's)");
  process.exit(2);
}

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];
const SCHEMES = /** @type {const} */ (["light", "dark"]);
/** Hash path, file name, what shows that the screen has its data. */
const SCREENS = [
  { path: "/", name: "dashboard", ready: '[data-testid="odds-pct"], [data-testid="dashboard"] .note' },
  { path: "/wallet", name: "wallet", ready: '[data-testid="bal-spendable"], [data-testid="no-wallet"], [data-testid="wallet"] .note' },
  { path: "/swaps", name: "swaps", ready: '[data-testid="book-buy"], [data-testid="book-buy-empty"], [data-testid="no-wallet"], [data-testid="swaps"] .note' },
  { path: "/shares", name: "shares", ready: '[data-testid="rangebar"], [data-testid="shares"] .note' },
  { path: "/blocks", name: "blocks", ready: '[data-testid="blocks-table"], [data-testid="blocks"] .card', verify: true },
  { path: "/mining", name: "mining", ready: '[data-testid="mining-state"]' },
  { path: "/devices", name: "devices", ready: '[data-testid="cpu-state"]' },
  { path: "/network", name: "network", ready: '[data-testid="params"]' },
  { path: "/logs", name: "logs", ready: '[data-testid="log-line"], [data-testid="logs"] .muted' },
  { path: "/settings", name: "settings", ready: '[data-testid="datadir"]' },
  { path: "/setup", name: "setup", ready: '[data-testid="firstrun"]' },
];

mkdirSync(ARTIFACTS, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), "p2share-e2e-"));
const problems = [];

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: SIZES[0],
});

try {
  await context.addInitScript(FREEZE_PROTOTYPE);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`[console] ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`[pageerror] ${page.url()}: ${e.message}`));

  // The login page, before logging in.
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    await page.setViewportSize(SIZES[0]);
    await page.goto(`${BASE}/login`);
    await page.waitForSelector("#password");
    await page.screenshot({ path: join(ARTIFACTS, `login-${SIZES[0].width}x${SIZES[0].height}-${colorScheme}.png`) });
  }

  // One-click login: sets the session cookie and redirects to the dashboard.
  await page.goto(`${BASE}/login?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15_000 });
  await page.waitForSelector('[data-testid="dashboard"], [data-testid="firstrun"]', { timeout: 20_000 });
  console.log(`logged in at ${page.url()}`);

  for (const size of SIZES) {
    for (const colorScheme of SCHEMES) {
      await page.setViewportSize(size);
      await page.emulateMedia({ colorScheme });
      for (const s of ONLY_DASHBOARD ? SCREENS.slice(0, 1) : SCREENS) {
        await page.goto(`${BASE}/#${s.path}`);
        await page.waitForSelector(s.ready, { timeout: 15_000 }).catch(() => problems.push(`[timeout] ${s.name}: ${s.ready} did not appear`));
        if (s.verify) {
          const button = page.getByRole("button", { name: /^Verify block/ }).first();
          if (await button.count()) {
            await button.click();
            await page.waitForSelector('[data-testid="verify-result"]', { timeout: 10_000 });
          }
        }
        // Let the chart and the live events settle.
        await page.waitForTimeout(600);
        const file = join(ARTIFACTS, `${s.name}-${size.width}x${size.height}-${colorScheme}.png`);
        await page.screenshot({ path: file, fullPage: FULL_PAGE });
        console.log(`wrote ${file}`);
      }
    }
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

writeFileSync(join(ARTIFACTS, "console.txt"), problems.join("\n") + (problems.length ? "\n" : ""));
if (problems.length) {
  console.error(`${problems.length} problem(s):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("no console errors");
