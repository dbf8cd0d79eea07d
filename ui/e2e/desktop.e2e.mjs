#!/usr/bin/env node
// End-to-end: the desktop app in a real window — the built binary under X (run this under
// xvfb-run), driven through tauri-driver and Debian's WebKitWebDriver (webkit2gtk-driver).
//
//   P2SHARE_DESKTOP_BIN=/path/to/p2share xvfb-run -a dbus-run-session node ui/e2e/desktop.e2e.mjs
//
// The scenario, one step each (a failed step skips the rest but the quit, which always runs):
//   1. the app starts on a fresh data root (a new devnet: embedded regtest chain, node, miner)
//      and the dashboard renders in its window ([data-testid=dashboard] and the odds card);
//      the app's own log gives "cold start to first painted dashboard" (ui_ready, ms);
//   2. mining runs: the Mining screen says "Mining" and its hashrate is above zero;
//   3. a share appears: "Shares found" goes above 0, and the dashboard's odds card shows a figure;
//   4. the Settings screen has the desktop card (start with the system, minimized, close to tray,
//      notifications); the Mining and first-run screens show theirs (screenshots);
//   5. quit: SIGTERM (as the session's logout does) — the process exits 0 within 30 s, its log
//      says the node shut down, and the store passes SQLite's integrity check with the shares
//      the window showed.
// Screenshots of every step go to ARTIFACTS (default ui/e2e/artifacts/desktop).
// Output: a line "e2e: N passed, M failed" and a line "figures: ...".
// Env: P2SHARE_DESKTOP_BIN (required), TAURI_DRIVER (default: tauri-driver on PATH or in
//      ~/.cargo/bin), WEBKIT_DRIVER (default /usr/bin/WebKitWebDriver), E2E_KEEP=1.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.mjs";

const BIN = process.env.P2SHARE_DESKTOP_BIN ?? "";
const ARTIFACTS = process.env.ARTIFACTS ?? fileURLToPath(new URL("./artifacts/desktop", import.meta.url));
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver";
const KEEP = process.env.E2E_KEEP === "1";
const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const NATIVE_PORT = PORT + 1;

function findDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  const cargo = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "tauri-driver");
  return existsSync(cargo) ? cargo : "tauri-driver";
}

if (!BIN || !existsSync(BIN)) {
  console.error("set P2SHARE_DESKTOP_BIN to a built desktop app (e.g. /var/tmp/p2share-target/release/p2share)");
  process.exit(2);
}
if (!process.env.DISPLAY) {
  console.error("no DISPLAY: run this under xvfb-run");
  process.exit(2);
}

const T0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
mkdirSync(ARTIFACTS, { recursive: true });
for (const f of readdirSync(ARTIFACTS)) if (f.endsWith(".png")) rmSync(join(ARTIFACTS, f));
const work = mkdtempSync(join(tmpdir(), "p2share-desktop-e2e-"));
const root = join(work, "data");
const home = join(work, "home");
mkdirSync(home);

// ---------------------------------------------------------------- WebDriver (W3C, plain HTTP)

const base = `http://127.0.0.1:${PORT}`;
async function wd(method, path, body) {
  const resp = await fetch(`${base}${path}`, {
    // WebKitWebDriver can hold a screenshot of some pages indefinitely: no call waits long.
    signal: AbortSignal.timeout(20_000),
    method,
    headers: body ? { "Content-Type": "application/json" } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(`${method} ${path}: HTTP ${resp.status} ${JSON.stringify(json.value ?? json).slice(0, 300)}`);
  return json.value;
}
let session = null;
const script = (body, args = []) => wd("POST", `/session/${session}/execute/sync`, { script: body, args });
async function shot(name) {
  const file = join(ARTIFACTS, `${name}.png`);
  try {
    const png = await wd("GET", `/session/${session}/screenshot`);
    writeFileSync(file, Buffer.from(png, "base64"));
    log(`screenshot ${name}.png`);
  } catch (e) {
    // The X screen instead, where xwd and ImageMagick are installed (not a test dependency).
    try {
      execFileSync("sh", ["-c", `xwd -root -silent | convert xwd:- "${file}"`]);
      log(`screenshot ${name}.png (of the X screen: WebDriver's failed: ${e.message})`);
    } catch {
      log(`screenshot ${name} failed: ${e.message}`);
    }
  }
}
/** Clicks the sidebar link titled `title`, then waits for `ready` (a CSS selector). */
async function go(title, ready) {
  await script(
    `const a = [...document.querySelectorAll("nav a.nav-link")].find((x) => x.textContent.trim().endsWith(arguments[0]));
     if (!a) throw new Error("no nav link " + arguments[0]); a.click();`,
    [title],
  );
  await waitFor(`${ready} after opening ${title}`, () => script("return document.querySelector(arguments[0]) !== null", [ready]), { timeoutMs: 15_000 });
}
const textOf = (sel) => script("return document.querySelector(arguments[0])?.textContent ?? null", [sel]);

// ---------------------------------------------------------------- the run

const results = [];
const figures = {};
let failed = false;
async function step(name, fn, { always = false } = {}) {
  if (failed && !always) {
    results.push({ name, ok: false, skipped: true });
    log(`SKIP ${name}`);
    return;
  }
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = true;
    results.push({ name, ok: false, error: String(e.message ?? e) });
    log(`FAIL ${name}: ${e.message ?? e}`);
    await shot(`failed-${results.length}`);
  }
}

const logText = () => {
  const dir = join(root, "logs");
  if (!existsSync(dir)) return "";
  return readdirSync(dir)
    .filter((f) => f.startsWith("p2share-desktop"))
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("");
};
const appPids = () => {
  try {
    return execFileSync("pgrep", ["-f", `${BIN} .*--datadir ${root}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

const driverLog = [];
const driver = spawn(findDriver(), ["--port", String(PORT), "--native-port", String(NATIVE_PORT), "--native-driver", WEBKIT_DRIVER], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share") },
});
driver.stdout.on("data", (d) => driverLog.push(d.toString()));
driver.stderr.on("data", (d) => driverLog.push(d.toString()));
let sharesShown = 0;

try {
  await step("1. the app starts and the dashboard renders in its window", async () => {
    await waitFor("tauri-driver to listen", () => fetch(`${base}/status`).then((r) => r.ok), { timeoutMs: 20_000 });
    const launchAt = Date.now();
    session = (
      await wd("POST", "/session", {
        capabilities: {
          alwaysMatch: {
            "tauri:options": {
              application: BIN,
              args: ["--datadir", root, "--listen", "/ip4/127.0.0.1/tcp/0", "--threads", "1"],
            },
          },
        },
      })
    ).sessionId;
    log(`session ${session} (${Date.now() - launchAt} ms to a session)`);
    // A script that hangs fails in seconds, not after WebDriver's default 300 s.
    await wd("POST", `/session/${session}/timeouts`, { script: 10_000 });
    await waitFor(
      "the dashboard and its odds card",
      () => script(`return !!document.querySelector('[data-testid="dashboard"]') && !!document.querySelector('[data-testid="odds-pct"]')`), { timeoutMs: 60_000 });
    const line = await waitFor("the app's first-paint log line", () => /first dashboard paint after launch.*?ms=(\d+)/.exec(logText()), { timeoutMs: 30_000 });
    figures.cold_start_to_paint_ms = Number(line[1]);
    log(`cold start to first painted dashboard: ${line[1]} ms (the app's own clock, from process start)`);
    await shot("01-dashboard");
  });

  await step("2. mining runs", async () => {
    await go("Mining", '[data-testid="mining-state"]');
    await waitFor('the miner state "Mining"', async () => (await textOf('[data-testid="mining-state"]')) === "Mining", { timeoutMs: 60_000 });
    await waitFor("a hashrate above zero", async () => /[1-9]/.test((await textOf('[data-testid="hashrate"]')) ?? ""), { timeoutMs: 30_000 });
    log(`hashrate ${(await textOf('[data-testid="hashrate"]'))?.trim()}`);
    await shot("02-mining");
  });

  await step("3. a share appears", async () => {
    await waitFor(
      '"Shares found" above 0',
      async () => Number(((await textOf('[data-testid="shares-found"]')) ?? "").replace(/\D/g, "")) > 0, { timeoutMs: 180_000, intervalMs: 500 });
    sharesShown = Number(((await textOf('[data-testid="shares-found"]')) ?? "").replace(/\D/g, ""));
    await shot("03-share-found");
    await go("Odds", '[data-testid="dashboard"]');
    const odds = await waitFor("the odds figure", async () => {
      const t = (await textOf('[data-testid="odds-pct"]'))?.trim();
      return t && /\d/.test(t) ? t : null;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    log(`shares found ${sharesShown}; odds ${odds}`);
    await shot("04-dashboard-odds");
  });

  await step("4. Settings has the desktop options", async () => {
    await go("Settings", '[data-testid="desktop-settings"]');
    const wants = ["Start with the system", "Start minimized", "Close to tray", "Desktop notifications"];
    await waitFor(
      `the desktop card to offer ${wants.join(", ")}`,
      async () => {
        const text = await textOf('[data-testid="desktop-settings"]');
        return wants.every((w) => text?.includes(w));
      }, { timeoutMs: 15_000 });
    // Close to tray is on by default; the checkbox says so.
    const checked = await script(`return document.querySelector('[data-testid="desktop-close_to_tray"]')?.checked ?? null`);
    if (checked !== true) throw new Error(`"Close to tray" reads ${checked}, expected on (the default)`);
    await shot("05-settings-desktop");
    // The other screens the desktop options appear on, loaded.
    const loaded = (what) =>
      waitFor(`${what}'s desktop options`, () => script(`return !!document.querySelector('[data-testid="desktop-start_minimized"]')`), { timeoutMs: 15_000 });
    await go("Mining", '[data-testid="mining-state"]');
    await loaded("Mining");
    await script(`document.querySelector('[data-testid="desktop-settings"]').scrollIntoView()`);
    await shot("06-mining-unattended");
    // Deferred: a navigation inside the script would hold WebKitWebDriver until its timeout.
    await script(`setTimeout(() => { location.hash = "#/setup"; }, 0)`);
    await waitFor("the first-run screen", () => script(`return !!document.querySelector('[data-testid="firstrun"]')`), { timeoutMs: 15_000 });
    await loaded("The first-run screen");
    await script(`document.querySelector('[data-testid="desktop-settings"]').scrollIntoView()`);
    await shot("07-first-run-desktop");
  });
} finally {
  await step(
    "5. quit shuts the node down and leaves the store consistent",
    async () => {
      const pids = appPids();
      if (pids.length === 0) throw new Error("the app is not running");
      for (const pid of pids) process.kill(pid, "SIGTERM");
      const quitAt = Date.now();
      await waitFor("the app to exit", () => appPids().length === 0, { timeoutMs: 30_000, intervalMs: 100 });
      figures.quit_ms = Date.now() - quitAt;
      const text = logText();
      if (!/SIGTERM: quitting/.test(text)) throw new Error("the log does not show the quit");
      if (/ERROR/.test(text)) throw new Error(`errors in the app log:\n${text.split("\n").filter((l) => l.includes("ERROR")).join("\n")}`);
      const db = findStore(join(root, "devnet", "node"));
      const check = execFileSync(
        "python3",
        ["-c", `import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("pragma integrity_check").fetchone()[0])
tables = [r[0] for r in c.execute("select name from sqlite_master where type='table'")]
print(",".join(tables))`, db],
        { encoding: "utf8" },
      ).trim().split("\n");
      if (check[0] !== "ok") throw new Error(`integrity check of ${db}: ${check[0]}`);
      log(`quit in ${figures.quit_ms} ms; ${db}: integrity ok (tables ${check[1]})`);
    },
    { always: true },
  );
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  driver.kill("SIGTERM");
  writeFileSync(join(ARTIFACTS, "tauri-driver.log"), driverLog.join(""));
  writeFileSync(join(ARTIFACTS, "app.log"), logText());
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

function findStore(dir) {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (/\.(sqlite|sqlite3|db)$/.test(e.name)) return p;
    }
  }
  throw new Error(`no SQLite store under ${dir}`);
}

const passed = results.filter((r) => r.ok).length;
console.log(`figures: ${JSON.stringify(figures)}`);
console.log(`e2e: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
