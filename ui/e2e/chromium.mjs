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

/**
 * The desktop window's realm, in Chromium: Tauri (`freezePrototype` in tauri.conf.json) freezes
 * `Object.prototype` before the page runs, and a dependency that assigns, say, `exports.toString`
 * then throws while the bundle loads and the window stays blank. Every browser test runs under
 * the same freeze (`context.addInitScript(FREEZE_PROTOTYPE)`), so such a dependency fails there.
 */
export const FREEZE_PROTOTYPE = "Object.freeze(Object.prototype);";

/**
 * Debian's Chromium with a fresh profile of its own (the session cookie is per host, so each node
 * logged into needs one), under the desktop's frozen prototype, with console errors and page
 * errors collected into `problems` (prefixed with `who`). `close()` ends it and deletes the
 * profile.
 */
export async function launchBrowser({ problems, who = "", viewport = { width: 1280, height: 800 }, colorScheme } = {}) {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { chromium } = await import("playwright-core");
  const userDataDir = mkdtempSync(join(tmpdir(), "p2share-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    ...(colorScheme ? { colorScheme } : {}),
  });
  await context.addInitScript(FREEZE_PROTOTYPE);
  const page = context.pages()[0] ?? (await context.newPage());
  const tag = who ? ` ${who}` : "";
  page.on("console", (m) => {
    if (m.type() === "error") problems?.push(`[console${tag}] ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems?.push(`[pageerror${tag}] ${page.url()}: ${e.message}`));
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, page, close };
}

/** Writes the collected problems to `file` and exits 1 if there are any. */
export async function reportProblems(problems, file) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, problems.join("\n") + (problems.length ? "\n" : ""));
  if (problems.length) {
    console.error(`${problems.length} problem(s):\n${problems.join("\n")}`);
    process.exit(1);
  }
  console.log("no console errors");
}
