#!/usr/bin/env node
// Screenshots of the Swaps screen in Debian's Chromium (playwright-core only): the order book,
// a take at its approval step, the swaps in progress with their deadlines, the make-offer form
// (with a refusal from the node), the locked wallet's banner, and the Devices screen's wallet
// mining address.
//
//   npm run build && npm run mock &                        # a node with a wallet, on :29400
//   P2SHARE_URL=http://127.0.0.1:29400 P2SHARE_TOKEN=devtoken npm run e2e:swaps
//
// Env: ARTIFACTS (default e2e/artifacts), WALLET_PASSPHRASE (the mock's: p2share-mock), CHROMIUM.
// Console errors, page errors and CSP violations fail the run. Nothing is approved: no take locks.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, reportProblems } from "./chromium.mjs";

const BASE = (process.env.P2SHARE_URL ?? "").replace(/\/$/, "");
const TOKEN = process.env.P2SHARE_TOKEN ?? "";
const PASSPHRASE = process.env.WALLET_PASSPHRASE ?? "p2share-mock";
const ARTIFACTS = process.env.ARTIFACTS ?? fileURLToPath(new URL("./artifacts", import.meta.url));

if (!BASE || !TOKEN) {
  console.error("set P2SHARE_URL and P2SHARE_TOKEN");
  process.exit(2);
}

mkdirSync(ARTIFACTS, { recursive: true });
const problems = [];
const shot = async (target, name, opts = {}) => {
  const path = join(ARTIFACTS, `${name}.png`);
  await target.screenshot({ path, ...opts });
  console.log(`wrote ${path}`);
};

const { page, close } = await launchBrowser({ problems });

try {

  await page.goto(`${BASE}/login?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15_000 });
  await page.waitForSelector('[data-testid="dashboard"]', { timeout: 20_000 });

  // ---- the order book and the swaps, light and dark
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    await page.click('nav a.nav-link:has-text("Swaps")');
    await page.waitForSelector('[data-testid="book-buy"]', { timeout: 15_000 });
    await page.waitForSelector('[data-testid="swap-item"]', { timeout: 15_000 });
    await page.waitForTimeout(400);
    await shot(page, `swaps-1280x800-${colorScheme}`);
    await shot(page, `swaps-full-1280-${colorScheme}`, { fullPage: true });
    await page.click('nav a.nav-link:has-text("Odds")');
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.click('nav a.nav-link:has-text("Swaps")');
  await page.waitForSelector('[data-testid="book-buy"]');

  // ---- the swaps in progress: deadlines (one close), locks, an error line, the events
  const urgent = page.locator(".swap-item.swap-urgent").first();
  await urgent.locator('[data-testid="swap-events"] summary').click();
  await shot(urgent, "swaps-progress-urgent-light");
  await shot(page.locator('section:has([data-testid="swap-item"])'), "swaps-my-swaps-light");

  // ---- take: an amount out of range, then a valid one, then the approval step
  await page.locator('[data-testid="book-buy"] [data-testid="offer-take"]').first().click();
  await page.waitForSelector('[data-testid="take-card"]');
  await page.fill('[data-testid="take-amount"]', "0.1");
  await page.locator('[data-testid="take-amount"]').blur();
  await shot(page.locator('section:has([data-testid="take-card"])'), "swaps-take-invalid-light");
  await page.fill('[data-testid="take-amount"]', "4");
  await shot(page.locator('section:has([data-testid="take-card"])'), "swaps-take-form-light");
  await page.click('[data-testid="take-review"]');
  await page.waitForSelector('[data-testid="take-approval"]');
  await shot(page.locator('section:has([data-testid="take-approval"])'), "swaps-take-approval-light");
  await page.locator('[data-testid="take-approval"]').scrollIntoViewIfNeeded();
  await shot(page, "swaps-take-approval-1280x800-light");
  await page.click('[data-testid="take-close"]');

  // ---- make an offer: a refusal from the node (below the minimum swap), then a valid form
  const make = page.locator('section:has([data-testid="make-form"])');
  await page.click('[data-testid="make-buy"]');
  await page.fill('[data-testid="make-min"]', "0.01");
  await page.fill('[data-testid="make-max"]', "2");
  await page.fill('[data-testid="make-price"]', "38100");
  await page.click('[data-testid="make-submit"]');
  await page.waitForSelector('[data-testid="make-error"]');
  await make.scrollIntoViewIfNeeded();
  await shot(make, "swaps-make-refused-light");
  await page.click('[data-testid="make-sell"]');
  await page.fill('[data-testid="make-min"]', "1");
  await page.fill('[data-testid="make-max"]', "20");
  await page.fill('[data-testid="make-price"]', "43500");
  await page.selectOption('[data-testid="make-ttl"]', "21600");
  await shot(make, "swaps-make-form-light");

  // ---- a narrow window
  await page.setViewportSize({ width: 760, height: 1000 });
  await page.waitForTimeout(300);
  await shot(page, "swaps-760-full-light", { fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- the Devices screen: the wallet's mining address for a device's user name
  await page.click('nav a.nav-link:has-text("Devices")');
  await page.waitForSelector('[data-testid="wallet-mining-address"]', { timeout: 15_000 });
  await shot(page.locator('section:has([data-testid="stratum"])'), "devices-wallet-address-light");

  // ---- locked: the banner with its unlock field (then unlocked again)
  await page.click('nav a.nav-link:has-text("Wallet")');
  await page.click('[data-testid="lock"]');
  await page.waitForSelector('[data-testid="unlock-form"]');
  await page.click('nav a.nav-link:has-text("Swaps")');
  await page.waitForSelector('[data-testid="unlock-form"]');
  await page.waitForSelector('[data-testid="swap-item"]');
  await page.evaluate(() => document.getElementById("content")?.scrollTo(0, 0));
  await shot(page, "swaps-locked-1280x800-light");
  await page.fill('[data-testid="unlock-passphrase"]', PASSPHRASE);
  await page.click('[data-testid="unlock"]');
  await page.waitForSelector('[data-testid="unlock-form"]', { state: "detached" });
} finally {
  await close();
}

await reportProblems(problems, join(ARTIFACTS, "console-swaps.txt"));
