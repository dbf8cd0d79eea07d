// Prints the gzipped size of every file in dist/assets and their total; fails over the budget.
// Usage: npm run size   (after npm run build)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 500;
const dir = new URL("../dist/assets/", import.meta.url).pathname;

let files;
try {
  files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
} catch {
  console.error("dist/assets not found: run `npm run build` first");
  process.exit(1);
}

let raw = 0;
let gz = 0;
for (const f of files.sort()) {
  const buf = readFileSync(join(dir, f));
  const z = gzipSync(buf, { level: 9 }).length;
  raw += buf.length;
  gz += z;
  console.log(`${f.padEnd(40)} ${(buf.length / 1024).toFixed(1).padStart(8)} KB  gzip ${(z / 1024).toFixed(1).padStart(7)} KB`);
}
console.log(`${"total dist/assets".padEnd(40)} ${(raw / 1024).toFixed(1).padStart(8)} KB  gzip ${(gz / 1024).toFixed(1).padStart(7)} KB (budget ${BUDGET_KB} KB)`);
if (gz / 1024 > BUDGET_KB) {
  console.error(`over budget by ${(gz / 1024 - BUDGET_KB).toFixed(1)} KB`);
  process.exit(1);
}
