#!/usr/bin/env node
// Screenshots of the wallet in Debian's Chromium (playwright-core only): the Wallet screen
// (balances, receive QR, a send at its confirm step, locked), and the first run's wallet step
// (create: passphrase, the words, the check).
//
//   npm run build
//   npm run mock &                                         # a node with a wallet, on :29400
//   PORT=29401 MOCK_UNCONFIGURED=1 npm run mock &          # a node on its first run, on :29401
//   P2SHARE_URL=http://127.0.0.1:29400 P2SHARE_FIRSTRUN_URL=http://127.0.0.1:29401 \
//     P2SHARE_TOKEN=devtoken npm run e2e:wallet
//
// Env: ARTIFACTS (default e2e/artifacts), WALLET_PASSPHRASE (the mock's: p2share-mock), CHROMIUM.
// Without P2SHARE_FIRSTRUN_URL the first-run shots are skipped. Console errors, page errors and
// CSP violations fail the run. The send is reviewed, never sent.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, reportProblems } from "./chromium.mjs";

const BASE = (process.env.P2SHARE_URL ?? "").replace(/\/$/, "");
const FIRSTRUN = (process.env.P2SHARE_FIRSTRUN_URL ?? "").replace(/\/$/, "");
const TOKEN = process.env.P2SHARE_TOKEN ?? "";
const PASSPHRASE = process.env.WALLET_PASSPHRASE ?? "p2share-mock";
const ARTIFACTS = process.env.ARTIFACTS ?? fileURLToPath(new URL("./artifacts", import.meta.url));
/** A taproot address of a regtest devnet that is not the wallet's. */
const PAY_TO = "bcrt1pehjg2d729s5qsnl4vzpx6rnr3zmu27j3f9axedt089egnef07sdsu0jnzr";

if (!BASE || !TOKEN) {
  console.error("set P2SHARE_URL and P2SHARE_TOKEN (and P2SHARE_FIRSTRUN_URL for the first-run shots)");
  process.exit(2);
}

mkdirSync(ARTIFACTS, { recursive: true });
const problems = [];
const shot = async (target, name, opts = {}) => {
  const path = join(ARTIFACTS, `${name}.png`);
  await target.screenshot({ path, ...opts });
  console.log(`wrote ${path}`);
};

const { context, page, close } = await launchBrowser({ problems });

async function login(page, base) {
  await page.goto(`${base}/login?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15_000 });
}

try {

  // ---- the Wallet screen
  await login(page, BASE);
  await page.waitForSelector('[data-testid="dashboard"]', { timeout: 20_000 });
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    await page.click('nav a.nav-link:has-text("Wallet")');
    await page.waitForSelector('[data-testid="bal-spendable"]', { timeout: 15_000 });
    await page.waitForSelector('[data-testid="share-tx"]', { timeout: 15_000 });
    await page.waitForTimeout(400);
    await shot(page, `wallet-1280x800-${colorScheme}`);
    await shot(page, `wallet-full-1280-${colorScheme}`, { fullPage: true });
    await shot(page.locator('section:has([data-testid="receive"])'), `wallet-receive-${colorScheme}`);
    // Back to another screen so that the next round starts fresh.
    await page.click('nav a.nav-link:has-text("Odds")');
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.click('nav a.nav-link:has-text("Wallet")');
  await page.waitForSelector('[data-testid="send-address"]');

  // A send, validated, at its confirm step.
  await page.fill('[data-testid="send-address"]', "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr");
  await page.fill('[data-testid="send-amount"]', "9999");
  await page.locator('[data-testid="send-amount"]').blur();
  await shot(page.locator('section:has([data-testid="send-form-shares"])'), "wallet-send-invalid-light");
  await page.fill('[data-testid="send-address"]', PAY_TO);
  await page.fill('[data-testid="send-amount"]', "12.5");
  await page.click('[data-testid="fee-priority"]');
  await shot(page.locator('section:has([data-testid="send-form-shares"])'), "wallet-send-form-light");
  await page.click('[data-testid="send-review"]');
  await page.waitForSelector('[data-testid="send-confirm"]');
  await shot(page.locator('section:has([data-testid="send-confirm"])'), "wallet-send-confirm-light");
  await page.locator('[data-testid="send-confirm"]').scrollIntoViewIfNeeded();
  await shot(page, "wallet-send-confirm-1280x800-light");
  await page.click('[data-testid="send-confirm"] button:has-text("Back")');

  // Export PSBT.
  await page.click('[role="tab"]:has-text("Export PSBT")');
  await page.fill('[data-testid="send-address"]', PAY_TO);
  await page.fill('[data-testid="send-amount"]', "0.25");
  await page.click('[data-testid="send-review"]');
  await page.click('[data-testid="send-now"]');
  await page.waitForSelector('[data-testid="psbt"]');
  await shot(page.locator('section:has([data-testid="psbt-result"])'), "wallet-psbt-light");

  // Locked, then unlocked again.
  await page.click('[data-testid="lock"]');
  await page.waitForSelector('[data-testid="unlock-form"]');
  await page.evaluate(() => document.getElementById("content")?.scrollTo(0, 0));
  await shot(page, "wallet-locked-1280x800-light");
  await page.fill('[data-testid="unlock-passphrase"]', "not it");
  await page.click('[data-testid="unlock"]');
  await page.waitForSelector('[data-testid="unlock-error"]');
  await shot(page.locator('section:has([data-testid="unlock-form"])'), "wallet-unlock-error-light");
  await page.fill('[data-testid="unlock-passphrase"]', PASSPHRASE);
  await page.click('[data-testid="unlock"]');
  await page.waitForSelector('[data-testid="lock"]');

  // History: the BTC tab, and the payouts.
  await page.click('[role="tab"]:has-text("Bitcoin")');
  await page.waitForSelector('[data-testid="btc-tx"]');
  await shot(page.locator('section:has([data-testid="btc-history"])'), "wallet-btc-history-light");
  await shot(page.locator('section:has([data-testid="payouts"])'), "wallet-payouts-light");

  // A narrow window.
  await page.setViewportSize({ width: 760, height: 1000 });
  await page.waitForTimeout(300);
  await shot(page, "wallet-760-full-light", { fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- the first run's wallet step
  if (FIRSTRUN) {
    await context.clearCookies();
    await login(page, FIRSTRUN);
    await page.waitForSelector('[data-testid="firstrun"]', { timeout: 20_000 });
    await page.click('[data-testid="setup-submit"]');
    // The mock restarts and mines after 3 s; the wallet step follows.
    await page.waitForSelector('[data-testid="wallet-setup"]', { timeout: 20_000 });
    await page.fill('[data-testid="passphrase"]', "orbit lantern quietly 47 maple");
    await page.fill('[data-testid="passphrase-repeat"]', "orbit lantern quietly 47 maple");
    await shot(page, "firstrun-wallet-create-light", { fullPage: true });
    await page.click('[role="radio"]:has-text("Restore a wallet")');
    await page.fill('[data-testid="restore-words"]', "void come effort suffer camp surv3y warrior heavy shoot primary clutch crush");
    await page.fill('[data-testid="passphrase"]', "x");
    await page.fill('[data-testid="passphrase-repeat"]', "x");
    await page.click('[data-testid="restore-wallet"]');
    await page.waitForSelector('[data-testid="wallet-setup-error"]');
    await shot(page, "firstrun-wallet-restore-error-light", { fullPage: true });
    await page.click('[role="radio"]:has-text("Create a new wallet")');
    await page.fill('[data-testid="passphrase"]', "orbit lantern quietly 47 maple");
    await page.fill('[data-testid="passphrase-repeat"]', "orbit lantern quietly 47 maple");
    await page.click('[data-testid="create-wallet"]');
    await page.waitForSelector('[data-testid="seed-words"]');
    for (const colorScheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme });
      await shot(page, `firstrun-wallet-words-${colorScheme}`, { fullPage: true });
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.click('text="I wrote the 24 words down, in order"');
    await page.click('[data-testid="words-next"]');
    await page.waitForSelector('[data-testid="confirm-step"]');
    const inputs = page.locator('[data-testid="confirm-step"] input');
    for (let i = 0; i < 3; i++) await inputs.nth(i).fill("wrong");
    await page.click('[data-testid="confirm-words"]');
    await page.waitForSelector('[data-testid="confirm-error"]');
    await shot(page, "firstrun-wallet-confirm-light", { fullPage: true });
  }
} finally {
  await close();
}

await reportProblems(problems, join(ARTIFACTS, "console-wallet.txt"));
