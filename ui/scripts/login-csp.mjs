// Prints the Content-Security-Policy that lets login.html's one inline <script> and <style> run
// (the node's pages otherwise carry `default-src 'self'`, which blocks inline code).
// Usage: npm run login-csp [-- path/to/login.html]   (default: dist/login.html, else public/login.html)
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

const here = (p) => new URL(`../${p}`, import.meta.url).pathname;
const file = process.argv[2] ?? (existsSync(here("dist/login.html")) ? here("dist/login.html") : here("public/login.html"));
const html = readFileSync(file, "utf8");
const hashes = (tag) =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map(
    (m) => `'sha256-${createHash("sha256").update(m[1], "utf8").digest("base64")}'`,
  );
const scripts = hashes("script");
const styles = hashes("style");
if (scripts.length !== 1 || styles.length !== 1) {
  console.error(`expected one inline <script> and one <style> in ${file}, found ${scripts.length} and ${styles.length}`);
  process.exit(1);
}
console.log(`default-src 'self'; script-src ${scripts[0]}; style-src ${styles[0]}; frame-ancestors 'none'`);
