#!/usr/bin/env node
// End-to-end: the dashboard in Debian's Chromium against a real two-node devnet.
//
//   P2SHARE_NODE_BIN=/path/to/p2share-node npm run e2e:devnet      (from ui/)
//   P2SHARE_NODE_BIN=/path/to/p2share-node node ui/e2e/devnet.e2e.mjs
//
// The scenario, one step each (a failed step skips the rest, but for 7b, 9 and 10; skipped steps
// count as failed in the summary):
//   1. node A starts a devnet in a temp dir; its dashboard link and join line are read from stdout;
//   2. one-click login (/login?token=); "login to first painted dashboard" is measured in the page:
//      from the navigation start of the login URL (the redirect included) to the animation frame
//      after the odds card's [data-testid="odds-pct"] appears;
//   3. the Mining screen says "Mining" and its "Shares found" figure goes up;
//   4. the odds read 100% once A's shares are eligible (maturity);
//   5. "share event to paint": window.WebSocket is wrapped before the app loads; each incoming
//      `share` event (active) is timestamped, then the animation frame after the Selected card
//      shows that share's height (it refetches on `tip`) ends the sample; p50/max over >= 5 shares;
//   6. node B joins A; A's odds fall below 100% and B's own odds (its API) rise above 0;
//   7. Blocks: a row appears; Verify on the newest block with a payout (else the newest) gives
//      data-status "match" (or "not-applicable" for a block paid while n was 0);
//  7b. every row of listbitcoinblocks is a Bitcoin block: its hash meets the embedded mainchain's
//      block target (getmininginfo.bitcoin_target), and the blocks A found alone are listed as
//      found here (a failure here does not skip the rest);
//  7d. Wallet: node A's wallet is created in the dashboard (passphrase, the 24 words, three of them
//      typed back); A's miner pays it and its shares mature;
//  7e. Wallet: A sends 3 shares to B's wallet from the Send form; B's wallet holds them;
//  7f. Swaps: A makes an offer of shares on the Swaps screen; B's order book holds the signed
//      offer (gossiped); B's take without BTC is refused before anything is locked;
//  7g. Wallet: once a payout of A's is 100 Bitcoin blocks old (every share is a Bitcoin block
//      here), A sends 0.01 BTC to B from the Send form's BTC tab; B's wallet holds it, confirmed;
//  7h. Swaps: in its own browser profile B takes A's offer on its Swaps screen (2 shares, the
//      approval step, approve); the swap completes on both nodes ("take to completed" is a
//      figure);
//   8. the node serves ui/dist's build (a warning otherwise: the binary embeds an older build) and
//      the gzipped size of ui/dist/assets;
//      screenshots at every step at 1280x800, the dashboard also at 1920x1080 and dark;
//   9. both nodes get SIGINT and must exit 0 within 30 s (they are SIGKILLed in any case).
// Console errors, page errors and CSP violations fail the run. Every wait is bounded.
// Output: a line "e2e: N passed, M failed" and a line "figures: ...".
// Env: P2SHARE_NODE_BIN (required), ARTIFACTS (default e2e/artifacts/devnet), CHROMIUM,
//      E2E_KEEP=1 (keep the node data dirs), E2E_SHARE_SAMPLES (default 6).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, FREEZE_PROTOTYPE, launchBrowser } from "./chromium.mjs";
import { WaitError, waitFor } from "./wait.mjs";

const BIN = process.env.P2SHARE_NODE_BIN ?? "";
const ARTIFACTS = process.env.ARTIFACTS ?? fileURLToPath(new URL("./artifacts/devnet", import.meta.url));
const DIST = fileURLToPath(new URL("../dist", import.meta.url));
const SHARE_SAMPLES = Number(process.env.E2E_SHARE_SAMPLES ?? 6);
const KEEP = process.env.E2E_KEEP === "1";
const PAINT_GOAL_MS = 100;

if (!BIN || !existsSync(BIN)) {
  console.error("set P2SHARE_NODE_BIN to a built p2share-node (e.g. /var/tmp/p2share-target/debug/p2share-node)");
  process.exit(2);
}

const T0 = Date.now();
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[${elapsed().padStart(6)}] ${msg}`);

mkdirSync(ARTIFACTS, { recursive: true });
for (const f of readdirSync(ARTIFACTS)) if (f.endsWith(".png")) rmSync(join(ARTIFACTS, f));
const work = mkdtempSync(join(tmpdir(), "p2share-devnet-e2e-"));

// ---------------------------------------------------------------- waits

/** page.waitForFunction with a message naming what it waited for. */
async function pageWait(page, what, fn, arg, timeoutMs) {
  try {
    // Every 50 ms rather than every frame: the nodes' miners share this machine's cores.
    return await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    if (page.isClosed()) throw e;
    throw new WaitError(`timed out after ${timeoutMs / 1000} s waiting for ${what} (${String(e.message ?? e).split("\n")[0]})`);
  }
}

// ---------------------------------------------------------------- nodes

// The independent Stratum client (Python's hashlib, no p2share code) the node tests use too.
const STRATUM_CLIENT = fileURLToPath(new URL("../../node/tests/clients/stratum_client.py", import.meta.url));

const NODE_FLAGS = [
  "--threads", "1",
  "--api-bind", "127.0.0.1:0",
  "--listen", "/ip4/127.0.0.1/tcp/0",
  "--bitcoin-rpc-bind", "127.0.0.1:0",
  "--esplora-bind", "127.0.0.1:0",
  "--stratum-bind", "127.0.0.1:0",
  // Every share is also a Bitcoin block: coinbases mature 100 shares later, so the wallet's
  // BTC side and a whole swap fit in the run.
  "--block-target-ratio", "1",
  "--progress-secs", "3600",
];

/** A running p2share-node: its process, stdout lines, and what it printed at start. */
class Node {
  constructor(name, extra) {
    this.name = name;
    this.datadir = join(work, name);
    mkdirSync(this.datadir);
    this.lines = [];
    this.exit = null;
    const out = createWriteStream(join(ARTIFACTS, `node-${name}.stdout.txt`));
    const err = createWriteStream(join(ARTIFACTS, `node-${name}.stderr.txt`));
    this.proc = spawn(BIN, ["run", "--datadir", this.datadir, ...NODE_FLAGS, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on("error", (e) => {
        this.exit = { code: null, signal: null, error: e };
        resolve(this.exit);
      });
    });
    let buf = "";
    this.proc.stdout.on("data", (d) => {
      out.write(d);
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    this.proc.stderr.on("data", (d) => err.write(d));
    this.proc.on("exit", () => {
      out.end();
      err.end();
    });
  }

  /** Wait for the dashboard, API and join lines. */
  async started() {
    const want = () => {
      if (this.exit) throw new Error(`node ${this.name} exited early (${JSON.stringify(this.exit)}); see node-${this.name}.stderr.txt`);
      const text = this.lines.join("\n");
      const dash = text.match(/dashboard: (http:\/\/[^/\s]+)\/login\?token=([0-9a-f]+)/);
      const join_ = text.match(/join it: p2share-node run --devnet (\S+) --peer (\S+)/);
      return dash && join_ ? { base: dash[1], token: dash[2], devnet: join_[1], peer: join_[2] } : null;
    };
    const got = await waitFor(`node ${this.name} to print its dashboard link and join line`, want, { timeoutMs: 30_000, intervalMs: 100 });
    Object.assign(this, got);
    this.auth = "Basic " + Buffer.from(`__cookie__:${this.token}`).toString("base64");
    return this;
  }

  async rpc(method, params = []) {
    const r = await fetch(`${this.base}/`, {
      method: "POST",
      headers: { authorization: this.auth, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(5_000),
    });
    const body = await r.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }

  /** SIGINT, then the exit status within `ms`; SIGKILL if it hangs. */
  async stop(ms = 30_000) {
    if (this.exit) return { ...this.exit, ms: 0, already: true };
    const t = Date.now();
    this.proc.kill("SIGINT");
    const r = await Promise.race([this.exited, new Promise((res) => setTimeout(() => res(null), ms))]);
    if (!r) {
      this.proc.kill("SIGKILL");
      await this.exited;
      return { code: null, signal: "SIGKILL", ms: Date.now() - t, hung: true };
    }
    return { ...r, ms: Date.now() - t };
  }

  kill() {
    if (!this.exit) this.proc.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------- in-page probes

/** Runs in every document before its scripts: CSP log, first-paint probe, WebSocket timestamps. */
function probe() {
  const E = (window.__e2e = {
    csp: [],
    loginPaint: null,
    nav: null,
    pending: [],
    samples: [],
    events: 0,
  });
  document.addEventListener("securitypolicyviolation", (e) => {
    E.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`);
  });
  const raf = (cb) => requestAnimationFrame(() => cb(performance.now()));

  // The height the Selected card shows: "share 1,234" / "as of share 1,234".
  const shownHeight = () => {
    const el = document.querySelector('[data-testid="dashboard"] [data-testid="selected"]');
    if (!el) return null;
    const m = el.textContent.match(/share\s+(\d[\d,.\s\u00a0\u202f]*)/);
    return m ? Number(m[1].replace(/\D/g, "")) : null;
  };

  const onMutation = () => {
    if (E.loginPaint === null && document.querySelector('[data-testid="dashboard"] [data-testid="odds-pct"]')) {
      E.loginPaint = "pending";
      raf((t) => {
        const n = performance.getEntriesByType("navigation")[0];
        E.nav = n ? { redirectCount: n.redirectCount, redirectStart: n.redirectStart, fetchStart: n.fetchStart, responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd } : null;
        E.loginPaint = t;
        E.loginPaintText = document.querySelector('[data-testid="odds-pct"]')?.textContent ?? null;
      });
    }
    if (E.pending.length) {
      const h = shownHeight();
      if (h === null) return;
      const tDom = performance.now();
      const done = E.pending.filter((p) => p.height <= h);
      if (!done.length) return;
      E.pending = E.pending.filter((p) => p.height > h);
      raf((t) => {
        for (const p of done) E.samples.push({ height: p.height, shown: h, dom: tDom - p.t, paint: t - p.t });
      });
    }
  };
  new MutationObserver(onMutation).observe(document, { childList: true, subtree: true, characterData: true });

  const Orig = window.WebSocket;
  if (!Orig) return;
  class Probed extends Orig {
    constructor(...args) {
      super(...args);
      // Registered before the app sets onmessage, so it runs first.
      this.addEventListener("message", (ev) => {
        const t = performance.now();
        if (typeof ev.data !== "string" || !ev.data.includes('"share"')) return;
        try {
          const m = JSON.parse(ev.data);
          const p = m?.params;
          if (m.method === "event" && p?.type === "share" && p.active) {
            E.events++;
            if (E.measuring) E.pending.push({ height: p.height, t });
          }
        } catch {
          // not ours to judge
        }
      });
    }
  }
  window.WebSocket = Probed;
}

// ---------------------------------------------------------------- helpers

const pctOf = (text) => {
  const m = String(text ?? "").replace(/\s/g, "").match(/^([<>]?)(-?[\d.]+)%$/);
  return m ? Number(m[2]) : null;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

function bundleGzipKb() {
  const dir = join(DIST, "assets");
  let gz = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isFile()) gz += gzipSync(readFileSync(p), { level: 9 }).length;
  }
  return gz / 1024;
}

// ---------------------------------------------------------------- the run

const results = [];
const problems = [];
const figures = { login_to_paint_ms: null, share_event_to_paint_ms_p50: null, max: null, bundle_gzip_kb: null };
const nodes = [];
let context;
let userDataDir;
let failed = false;

/** `always`: runs after an earlier failure; `independent`: its failure does not skip the rest. */
async function step(name, fn, { always = false, independent = false } = {}) {
  if (failed && !always) {
    results.push({ name, status: "skipped" });
    log(`SKIP ${name}`);
    return;
  }
  const t = Date.now();
  log(`---- ${name}`);
  try {
    await fn();
    results.push({ name, status: "passed", ms: Date.now() - t });
    log(`PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    if (!independent) failed = true;
    results.push({ name, status: "failed", ms: Date.now() - t, error: e.message ?? String(e) });
    log(`FAIL ${name}: ${e.message ?? e}`);
    if (!(e instanceof WaitError)) console.error(e.stack);
    if (page && !page.isClosed()) await shot(`FAILED-${name.replace(/\W+/g, "-")}`).catch(() => {});
  }
}

let page;
const shotsTaken = [];
async function shot(name) {
  const vp = page.viewportSize();
  const file = join(ARTIFACTS, `${name}-${vp.width}x${vp.height}.png`);
  await page.screenshot({ path: file });
  shotsTaken.push(file);
  log(`wrote ${file}`);
}

/** Screenshots of the current screen in light and dark at 1280x800 and 1920x1080. */
async function shotAllModes(name) {
  for (const size of [{ width: 1920, height: 1080 }]) {
    await page.setViewportSize(size);
    await settle();
    await shot(`${name}-light`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "dark" });
  await settle();
  await shot(`${name}-dark`);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await settle();
  await shot(`${name}-dark`);
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 800 });
  await settle();
}

/** Two animation frames: the layout after a resize or a colour-scheme change is painted. */
const settle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

async function go(title, ready, what) {
  await page.locator(`nav a.nav-link:has-text("${title}")`).click({ timeout: 5_000 });
  await page.waitForSelector(ready, { timeout: 15_000 }).catch(() => {
    throw new WaitError(`timed out after 15 s waiting for ${what} (${ready})`);
  });
}

const text = (sel) => page.locator(sel).first().textContent({ timeout: 2_000 });

const onSignal = (sig) => {
  for (const n of nodes) n.kill();
  console.error(`\ninterrupted (${sig}); nodes killed`);
  process.exit(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

let A;
let B;
try {
  await step("1. node A starts a devnet", async () => {
    A = new Node("A", []);
    nodes.push(A);
    await A.started();
    log(`node A: ${A.base} devnet ${A.devnet} peer ${A.peer}`);
  });

  await step("2. login with the one-click link; first painted dashboard", async () => {
    userDataDir = mkdtempSync(join(tmpdir(), "p2share-devnet-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      colorScheme: "light",
    });
    await context.addInitScript(FREEZE_PROTOTYPE);
    await context.addInitScript(probe);
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`[console] ${page.url()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`[pageerror] ${page.url()}: ${e.message}`));

    await page.goto(`${A.base}/login`);
    await page.waitForSelector("#password", { timeout: 10_000 });
    await shot("01-login");

    const navAt = Date.now();
    await page.goto(`${A.base}/login?token=${A.token}`, { waitUntil: "commit", timeout: 15_000 });
    await pageWait(page, "the dashboard's odds card ([data-testid=odds-pct]) to be painted", () => typeof window.__e2e?.loginPaint === "number", undefined, 20_000);
    const wallMs = Date.now() - navAt;
    const { loginPaint, loginPaintText, nav } = await page.evaluate(() => window.__e2e);
    if (new URL(page.url()).pathname !== "/") throw new Error(`expected to land on /, at ${page.url()}`);
    if (!nav || nav.redirectCount < 1) log(`note: navigation entry shows no redirect (${JSON.stringify(nav)}); the figure may start at the dashboard document`);
    figures.login_to_paint_ms = Math.round(loginPaint);
    log(`login to first painted dashboard: ${loginPaint.toFixed(1)} ms in the page (Node-side wall ${wallMs} ms); odds showed "${loginPaintText}"; nav ${JSON.stringify(nav)}`);
    await shot("02-dashboard-first-paint");
  });

  await step("3. Mining: mining on, a share is found", async () => {
    await go("Mining", '[data-testid="mining-state"]', "the Mining screen");
    await pageWait(page, 'the miner state to read "Mining"', () => document.querySelector('[data-testid="mining-state"]')?.textContent === "Mining", undefined, 10_000);
    await page.waitForSelector('[data-testid="shares-found"]', { timeout: 10_000 });
    const n0 = Number((await text('[data-testid="shares-found"]')).replace(/\D/g, ""));
    await pageWait(
      page,
      `"Shares found" to go above ${n0}`,
      (n) => Number(document.querySelector('[data-testid="shares-found"]')?.textContent?.replace(/\D/g, "")) > n,
      n0,
      30_000,
    );
    const n1 = (await text('[data-testid="shares-found"]')).trim();
    const rate = (await text('[data-testid="hashrate"]')).trim();
    log(`shares found ${n0} -> ${n1}; hashrate ${rate}`);
    await shot("03-mining");
  });

  await step("4. the odds read 100% once shares are eligible", async () => {
    await go("Odds", '[data-testid="dashboard"]', "the dashboard");
    await pageWait(
      page,
      'the odds ([data-testid="odds-pct"]) to read 100%',
      () => document.querySelector('[data-testid="odds-pct"]')?.textContent?.replace(/\s/g, "") === "100%",
      undefined,
      90_000,
    );
    const frac = await page.locator('[data-testid="odds-fraction"]').getAttribute("title");
    const api = await A.rpc("getodds", [(await A.rpc("getnodeinfo")).mining_address]);
    log(`odds 100% (${frac}); API chance ${api.chance_next_block}`);
    if (api.chance_next_block !== 1) throw new Error(`the API says chance ${api.chance_next_block}, the page 100%`);
    await shot("04-dashboard-100pct-light");
    await shotAllModes("04-dashboard-100pct");
  });

  await step(`5. share event to paint, over ${SHARE_SAMPLES} shares`, async () => {
    await page.evaluate(() => {
      window.__e2e.pending = [];
      window.__e2e.samples = [];
      window.__e2e.measuring = true;
    });
    await pageWait(
      page,
      `${SHARE_SAMPLES} share events to be painted on the dashboard (Selected card showing their height)`,
      (n) => window.__e2e.samples.length >= n,
      SHARE_SAMPLES,
      60_000,
    );
    const { samples } = await page.evaluate(() => {
      window.__e2e.measuring = false;
      return window.__e2e;
    });
    const paints = samples.map((s) => s.paint);
    figures.share_event_to_paint_ms_p50 = Math.round(quantile(paints, 0.5));
    figures.max = Math.round(Math.max(...paints));
    log(`share event -> paint (ms): ${samples.map((s) => `h${s.height}:${s.paint.toFixed(0)}${s.shown !== s.height ? `(shown ${s.shown})` : ""}`).join(" ")}`);
    log(`share event -> DOM (ms):   ${samples.map((s) => s.dom.toFixed(0)).join(" ")}`);
    log(`p50 ${figures.share_event_to_paint_ms_p50} ms, max ${figures.max} ms (goal <= ${PAINT_GOAL_MS} ms: ${figures.max <= PAINT_GOAL_MS ? "met" : "NOT met"})`);
  });

  await step("6. node B joins; A's odds fall below 100%", async () => {
    A.soloHeight = (await A.rpc("getsharechaininfo")).height;
    B = new Node("B", ["--devnet", A.devnet, "--peer", A.peer]);
    nodes.push(B);
    await B.started();
    log(`node B: ${B.base}`);
    const bAddr = (await B.rpc("getnodeinfo")).mining_address;
    await pageWait(page, "the dashboard's Peers figure to reach 1", () => Number(document.querySelector('[data-testid="peers"]')?.textContent) >= 1, undefined, 30_000);
    log(`A's dashboard shows ${(await text('[data-testid="peers"]')).trim()} peer(s)`);
    await pageWait(
      page,
      "A's odds ([data-testid=odds-pct]) to fall below 100%",
      () => {
        const t = document.querySelector('[data-testid="odds-pct"]')?.textContent?.replace(/\s/g, "") ?? "";
        return /^[\d.]+%$/.test(t) && parseFloat(t) < 100;
      },
      undefined,
      120_000,
    );
    const shown = (await text('[data-testid="odds-pct"]')).trim();
    const bOdds = await waitFor("B's own odds (getodds on B) to rise above 0", async () => {
      const o = await B.rpc("getodds", [bAddr]);
      return o.chance_next_block > 0 ? o : null;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    const frac = await page.locator('[data-testid="odds-fraction"]').getAttribute("title");
    log(`A's dashboard: ${shown} (${frac}); B's API: ${(bOdds.chance_next_block * 100).toFixed(2)}% (v ${bOdds.v} of n ${bOdds.n})`);
    const a = pctOf(shown);
    if (a === null || a <= 0) throw new Error(`A's odds read "${shown}"`);
    await shot("06-dashboard-two-nodes-light");
    await shotAllModes("06-dashboard-two-nodes");
  });

  await step("7. Blocks: Verify the newest block with a payout", async () => {
    await go("Blocks", '[data-testid="blocks"]', "the Blocks screen");
    await pageWait(page, "at least one block row", () => document.querySelectorAll('[data-testid="block-row"]').length > 0, undefined, 30_000);
    const list = await A.rpc("listbitcoinblocks", [50]);
    const target = list.find((b) => b.payout !== null) ?? list[0];
    if (!target) throw new Error("the page shows a block row but listbitcoinblocks is empty");
    const expected = target.payout !== null ? "match" : "not-applicable";
    const rows = await page.locator('[data-testid="block-row"]').count();
    log(`${rows} block rows; verifying share ${target.share_height} (${target.payout ? `q ${target.payout.q} of n ${target.payout.n}` : "no payout"}), expecting ${expected}`);
    const button = page.getByRole("button", { name: `Verify block at share ${target.share_height}`, exact: true });
    await button.click({ timeout: 10_000 });
    const result = page.locator('[data-testid="verify-result"]');
    await result.first().waitFor({ timeout: 10_000 }).catch(() => {
      throw new WaitError("timed out after 10 s waiting for [data-testid=verify-result]");
    });
    const status = await result.first().getAttribute("data-status");
    const summary = (await result.first().locator("strong").textContent())?.trim();
    log(`verify: ${status}: ${summary}`);
    if (status !== expected) throw new Error(`Verify said ${status} (${summary}), expected ${expected}`);
    await result.first().scrollIntoViewIfNeeded();
    await shot("07-blocks-verify");
  });

  await step(
    "7b. every listed Bitcoin block meets the mainchain's block target",
    async () => {
      // On a devnet the Bitcoin headers carry regtest's bits (207fffff) while the embedded
      // mainchain takes only hashes under its stricter block target (getmininginfo.bitcoin_target):
      // about 1 share in --block-target-ratio. Blocks (and the dashboard's Luck) must count those only.
      const [list, m] = await Promise.all([A.rpc("listbitcoinblocks", [1000]), A.rpc("getmininginfo")]);
      const target = BigInt(`0x${m.bitcoin_target}`);
      const notBlocks = list.filter((b) => BigInt(`0x${b.bitcoin_hash}`) > target);
      // Blocks A found while alone cannot have been reorganized away.
      const foundHere = new Set((m.blocks ?? []).filter((b) => b.share_height <= (A.soloHeight ?? 0)).map((b) => b.block_hash));
      // A Bitcoin block goes to Bitcoin before its share to the sharechain: a block whose share
      // the chain never took (a spare solution of a finished job) is found but not listed.
      const listed = [];
      for (const h of foundHere) {
        if (list.some((b) => b.bitcoin_hash === h && b.found_here)) continue;
        const rec = m.blocks.find((b) => b.block_hash === h);
        const known = await A.rpc("getshare", [rec.share]).then(() => true, () => false);
        if (known) listed.push(h);
      }
      const missing = listed;
      log(
        `listbitcoinblocks: ${list.length} rows up to share ${m.height}; ${notBlocks.length} do not meet the block target ${m.bitcoin_target.slice(0, 16)}…; ` +
          `A found ${foundHere.size} blocks while alone, ${missing.length} of them not listed as found here`,
      );
      const bad = [];
      if (notBlocks.length) bad.push(`${notBlocks.length} of ${list.length} listed blocks are shares above the block target (e.g. share ${notBlocks[0].share_height}, hash ${notBlocks[0].bitcoin_hash})`);
      if (missing.length) bad.push(`${missing.length} blocks A found are not listed with found_here (e.g. ${missing[0]})`);
      if (bad.length) throw new Error(bad.join("; "));
    },
    { independent: true },
  );

  await step("7c. Devices: an independent Stratum client mines into node A and shows as a worker", async () => {
    const line = A.lines.find((l) => l.includes("point mining devices"));
    const m = line?.match(/stratum\+tcp:\/\/([^:\s]+):(\d+) with user (\S+)\.<worker name>/);
    if (!m) throw new Error(`node A printed no Stratum line (${line})`);
    const [, host, port, address] = m;
    const client = spawn("python3", [STRATUM_CLIENT, host, port, `${address}.e2e`, "--shares", "100000", "--timeout", "120"], { stdio: ["ignore", "pipe", "pipe"] });
    const out = createWriteStream(join(ARTIFACTS, "stratum-client.txt"));
    client.stdout.pipe(out);
    client.stderr.pipe(out);
    try {
      await go("Devices", '[data-testid="devices"]', "the Devices screen");
      await page.waitForSelector('[data-testid="stratum-url"]', { timeout: 10_000 });
      const url = (await text('[data-testid="stratum-url"]')).trim();
      if (url !== `stratum+tcp://${host}:${port}`) throw new Error(`the Devices screen shows ${url}, node A printed stratum+tcp://${host}:${port}`);
      await pageWait(page, "a worker row", () => document.querySelectorAll('[data-testid="worker-row"]').length > 0, undefined, 30_000);
      await pageWait(page, "the worker's hashrate above zero", () => /[1-9]/.test(document.querySelector('[data-testid="worker-rate"]')?.textContent ?? ""), undefined, 30_000);
      const devices = await A.rpc("getdevices");
      const w = devices.stratum.workers.find((x) => x.worker === `${address}.e2e`);
      if (!w || w.accepted < 1) throw new Error(`getdevices shows no accepted shares for the client: ${JSON.stringify(devices.stratum.workers)}`);
      log(`Stratum worker ${w.worker}: ${w.accepted} accepted, difficulty ${w.difficulty}, 1-min ${w.hashrate_1m.toFixed(0)} H/s; OpenCL available ${devices.opencl.available} (${devices.opencl.devices.length} devices)`);
      await shot("07c-devices");
      await page.locator('[data-testid="workers-table"]').scrollIntoViewIfNeeded();
      await shot("07c-devices-workers");
    } finally {
      client.kill("SIGTERM");
    }
  });


  const PASS_A = "e2e passphrase A";
  const PASS_B = "e2e passphrase B";
  const SHARE = 100_000_000;

  await step("7d. Wallet: create A's wallet in the dashboard; the miner pays it", async () => {
    await go("Wallet", '[data-testid="wallet"]', "the Wallet screen");
    await page.click('[data-testid="setup-wallet-link"]');
    await page.waitForSelector('[data-testid="create-form"]', { timeout: 15_000 });
    await page.fill('[data-testid="passphrase"]', PASS_A);
    await page.fill('[data-testid="passphrase-repeat"]', PASS_A);
    await page.click('[data-testid="create-wallet"]');
    await page.waitForSelector('[data-testid="seed-words"]', { timeout: 30_000 });
    const words = await page.locator('[data-testid="seed-words"] .word').allTextContents();
    if (words.length !== 24) throw new Error(`${words.length} words shown`);
    await shot("07d-wallet-words");
    await page.check('[data-testid="words-step"] input[type="checkbox"]');
    await page.click('[data-testid="words-next"]');
    await page.waitForSelector('[data-testid="confirm-step"]');
    const labels = await page.locator('[data-testid="confirm-step"] label span').allTextContents();
    const inputs = page.locator('[data-testid="confirm-step"] input');
    for (let i = 0; i < labels.length; i++) {
      const n = Number(labels[i].replace(/\D/g, ""));
      await inputs.nth(i).fill(words[n - 1]);
    }
    await page.click('[data-testid="confirm-words"]');
    const info = await waitFor("A's wallet to exist and be unlocked", async () => {
      const w = await A.rpc("getwalletinfo");
      return w.exists && w.unlocked ? w : null;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    A.walletAddress = info.mining_address;
    await waitFor("A's miner to pay the wallet's address", async () => (await A.rpc("getnodeinfo")).mining_address === info.mining_address || null, { timeoutMs: 20_000, intervalMs: 250 });
    await waitFor("spendable shares in A's wallet (maturity)", async () => {
      const b = await A.rpc("getwalletbalances");
      return b.shares.spendable >= 10 * SHARE ? b : null;
    }, { timeoutMs: 180_000, intervalMs: 1_000 });
    await go("Wallet", '[data-testid="wallet-balances"]', "the Wallet screen with balances");
    await shot("07d-wallet");
    log(`A's wallet: ${info.mining_address}`);
  });

  await step("7e. Wallet: A sends 3 shares to B's wallet from the Send form", async () => {
    await B.rpc("createwallet", [PASS_B]);
    B.walletAddress = (await B.rpc("getwalletinfo")).mining_address;
    const to = (await B.rpc("getnewaddress")).address;
    await go("Wallet", '[data-testid="send-address"]', "the Send form");
    await page.fill('[data-testid="send-address"]', to);
    await page.fill('[data-testid="send-amount"]', "3");
    await page.click('[data-testid="send-review"]');
    await page.waitForSelector('[data-testid="send-confirm"]', { timeout: 10_000 });
    await shot("07e-send-confirm");
    const sentAt = Date.now();
    await page.click('[data-testid="send-now"]');
    await page.waitForSelector('[data-testid="sent-txid"]', { timeout: 20_000 });
    const txid = (await text('[data-testid="sent-txid"]')).trim();
    await waitFor("the send in B's mempool", async () => (await B.rpc("getrawmempool")).includes(txid) || null, { timeoutMs: 20_000, intervalMs: 50 });
    figures.send_to_peer_mempool_ms = Date.now() - sentAt;
    await waitFor("B's wallet to hold the 3 shares", async () => {
      const b = await B.rpc("getwalletbalances");
      return b.shares.spendable >= 3 * SHARE ? b : null;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
    log(`sent 3 shares A → B: ${txid}`);
  });

  await step("7f. Swaps: A offers shares on the Swaps screen; B's order book holds the signed offer", async () => {
    await go("Swaps", '[data-testid="make-form"]', "the Swaps screen");
    await page.click('[data-testid="make-sell"]');
    await page.fill('[data-testid="make-min"]', "1");
    await page.fill('[data-testid="make-max"]', "20");
    await page.fill('[data-testid="make-price"]', "100000");
    await page.click('[data-testid="make-submit"]');
    await page.waitForSelector('[data-testid="make-done"]', { timeout: 20_000 });
    const mine = (await A.rpc("listoffers")).find((o) => o.mine);
    if (!mine) throw new Error("A's order book has no offer of its own");
    const t = Date.now();
    const seen = await waitFor("B's order book to hold A's offer", async () => (await B.rpc("listoffers")).find((o) => o.id === mine.id) ?? null, { timeoutMs: 60_000, intervalMs: 100 });
    figures.offer_to_peer_book_ms = Date.now() - t;
    if (seen.mine || seen.maker_sells !== "shares" || seen.price !== 100_000 || seen.min_shares !== SHARE || seen.max_shares !== 20 * SHARE) {
      throw new Error(`B sees ${JSON.stringify(seen)}`);
    }
    await pageWait(page, "the offer row marked as A's own", () => document.querySelector('[data-testid="offer-row"]') !== null, undefined, 10_000);
    await shot("07f-swaps-offer");
    // Taking it needs BTC older than 100 Bitcoin blocks (coinbase maturity): minutes on a
    // devnet whose Bitcoin blocks are CPU-mined. B's take is refused with the reason, before
    // anything is locked.
    const refused = await B.rpc("takeoffer", [mine.id, "2"]).then((r) => `accepted: ${JSON.stringify(r)}`, (e) => String(e.message));
    if (!/not enough to lock/.test(refused)) throw new Error(`B's take without BTC: ${refused}`);
    log(`A's offer ${mine.id.slice(0, 16)}… reached B's order book; B's take without BTC: ${refused}`);
    A.offerId = mine.id;
  });

  await step("7g. Wallet: A sends 0.01 BTC (a matured payout) to B from the Send form's BTC tab", async () => {
    await waitFor("spendable BTC in A's wallet (a payout 100 Bitcoin blocks old)", async () => {
      const b = await A.rpc("getwalletbalances");
      return b.btc.confirmed >= 2_000_000 ? b : null;
    }, { timeoutMs: 300_000, intervalMs: 1_000 });
    const to = (await B.rpc("getnewaddress")).address;
    await go("Wallet", '[data-testid="send-address"]', "the Send form");
    await page.locator('section:has([data-testid="send-address"]) [role="tab"]:has-text("BTC")').click();
    await page.fill('[data-testid="send-address"]', to);
    await page.fill('[data-testid="send-amount"]', "0.01");
    await page.click('[data-testid="send-review"]');
    await page.waitForSelector('[data-testid="send-confirm"]', { timeout: 10_000 });
    await shot("07g-send-btc-confirm");
    await page.click('[data-testid="send-now"]');
    await page.waitForSelector('[data-testid="sent-txid"]', { timeout: 20_000 });
    const txid = (await text('[data-testid="sent-txid"]')).trim();
    await waitFor("B's wallet to hold the 0.01 BTC, confirmed", async () => {
      const b = await B.rpc("getwalletbalances");
      return b.btc.confirmed >= 1_000_000 ? b : null;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    log(`sent 0.01 BTC A → B: ${txid}`);
  });

  await step("7h. Swaps: B takes A's offer on its own Swaps screen; 2 shares for 0.002 BTC complete on both nodes", async () => {
    if (!A.offerId) throw new Error("no offer from step 7f");
    // B's dashboard, in its own browser profile (the session cookie is per host, not per port).
    const { page: pb, close } = await launchBrowser({ problems, who: "B", colorScheme: "light" });
    try {
      await pb.goto(`${B.base}/login?token=${B.token}`);
      await pb.locator('nav a.nav-link:has-text("Swaps")').click({ timeout: 15_000 });
      const row = pb.locator(`[data-testid="book-buy"] [data-testid="offer-row"]`).first();
      await row.waitFor({ timeout: 20_000 });
      await row.locator('[data-testid="offer-take"]').click();
      await pb.waitForSelector('[data-testid="take-card"]');
      await pb.fill('[data-testid="take-amount"]', "2");
      await pb.click('[data-testid="take-review"]');
      await pb.waitForSelector('[data-testid="take-approval"]', { timeout: 10_000 });
      await pb.screenshot({ path: join(ARTIFACTS, "07h-take-approval-B-1280x800.png") });
      const t = Date.now();
      await pb.click('[data-testid="take-approve"]');
      await pb.waitForSelector('[data-testid="take-done"]', { timeout: 30_000 });
      // B's only swap; the swap id is the same on both nodes.
      const swapB = await waitFor("B's swap record", async () => (await B.rpc("listswaps"))[0] ?? null, { timeoutMs: 10_000, intervalMs: 100 });
      const done = async (n) => (await n.rpc("listswaps")).find((x) => x.id === swapB.id)?.phase === "completed";
      await waitFor("the swap to complete on both nodes", async () => ((await done(A)) && (await done(B))) || null, { timeoutMs: 240_000, intervalMs: 500 });
      figures.swap_take_to_completed_ms = Date.now() - t;
      // A finished swap moves to the "Finished" list (collapsed): open it, as a user would.
      const finished = async (p, who) => {
        const summary = p.locator('[data-testid="swaps-finished"] > summary');
        await summary.waitFor({ timeout: 15_000 }).catch(async (e) => {
          await p.screenshot({ path: join(ARTIFACTS, `FAILED-7h-finished-${who}.png`) }).catch(() => {});
          throw new WaitError(`waiting for ${who}'s finished swaps: ${String(e.message ?? e).split("\n")[0]}`);
        });
        await summary.click();
        await p.locator('[data-testid="swaps-finished"] [data-testid="swap-item"]').first().scrollIntoViewIfNeeded();
      };
      await finished(pb, "B");
      await pb.screenshot({ path: join(ARTIFACTS, "07h-swap-completed-B-1280x800.png") });
      await go("Swaps", '[data-testid="make-form"]', "A's Swaps screen");
      await finished(page, "A");
      await shot("07h-swap-completed-A");
      log(`swap ${swapB.id.slice(0, 16)}…: B bought 2 shares from A for 0.002 BTC; take → completed on both in ${figures.swap_take_to_completed_ms} ms`);
    } finally {
      await close();
    }
  });

  await step("8. the served bundle is ui/dist; its size", async () => {
    figures.bundle_gzip_kb = Number(bundleGzipKb().toFixed(1));
    // The node embeds ui/dist at build time: warn when it serves another build.
    const served = await page.evaluate(async () => (await fetch("/", { credentials: "same-origin" })).text());
    const local = readFileSync(join(DIST, "index.html"), "utf8");
    const assets = (s) => [...s.matchAll(/\/assets\/[\w.-]+/g)].map((m) => m[0]).sort().join(" ");
    if (assets(served) !== assets(local)) {
      log(`WARNING: the node serves ${assets(served)} but ui/dist has ${assets(local)}: the binary embeds another build (rebuild it)`);
    } else {
      log(`the node serves ui/dist's build (${assets(local)}); gzip ${figures.bundle_gzip_kb} KB`);
    }
  });

  // Close the browser first: a node going away would (rightly) show the page offline.
  const cspFromPage = page ? await page.evaluate(() => window.__e2e?.csp ?? []).catch(() => []) : [];
  for (const c of cspFromPage) problems.push(`[csp] ${c}`);
  await context?.close();
  context = undefined;

  await step("9. both nodes stop cleanly on SIGINT (exit 0 within 30 s)", async () => {
    if (!nodes.length) throw new Error("no node was started");
    const stops = await Promise.all(nodes.map(async (n) => [n.name, await n.stop(30_000)]));
    const bad = [];
    for (const [name, r] of stops) {
      log(`node ${name}: ${r.hung ? "did not exit in 30 s (killed)" : `exit code ${r.code}${r.signal ? ` signal ${r.signal}` : ""}`} after ${r.ms} ms`);
      if (r.code !== 0) bad.push(`node ${name}: ${JSON.stringify(r)}`);
    }
    if (bad.length) throw new Error(`unclean shutdown: ${bad.join("; ")}`);
  }, { always: true });

  await step("10. no console errors, page errors or CSP violations", async () => {
    if (problems.length) throw new Error(`${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  }, { always: true });
} finally {
  await context?.close().catch(() => {});
  for (const n of nodes) n.kill();
  await Promise.all(nodes.map((n) => Promise.race([n.exited, new Promise((r) => setTimeout(r, 5_000))])));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else log(`kept node data in ${work}`);
}

writeFileSync(join(ARTIFACTS, "console.txt"), problems.join("\n") + (problems.length ? "\n" : ""));
const passed = results.filter((r) => r.status === "passed").length;
const nFailed = results.filter((r) => r.status === "failed").length;
const skipped = results.filter((r) => r.status === "skipped").length;
for (const r of results) if (r.status === "failed") console.error(`failed: ${r.name}: ${r.error}`);
const fig = (v) => (v === null ? "n/a" : v);
console.log(
  `figures: login_to_paint_ms=${fig(figures.login_to_paint_ms)} share_event_to_paint_ms_p50=${fig(figures.share_event_to_paint_ms_p50)} max=${fig(figures.max)} bundle_gzip_kb=${fig(figures.bundle_gzip_kb)} send_to_peer_mempool_ms=${fig(figures.send_to_peer_mempool_ms ?? null)} offer_to_peer_book_ms=${fig(figures.offer_to_peer_book_ms ?? null)} swap_take_to_completed_ms=${fig(figures.swap_take_to_completed_ms ?? null)}`,
);
console.log(`e2e: ${passed} passed, ${nFailed + skipped} failed${skipped ? ` (${skipped} skipped after a failure)` : ""} in ${elapsed()}`);
process.exit(nFailed + skipped === 0 ? 0 : 1);
