// Prints the gzip size of every built chunk and of the initial load (the entry script, the
// chunks it imports statically, and the stylesheets index.html links), and fails when the
// initial JavaScript exceeds the budget of issue 12 (300 kB gzip). Run after `vite build`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 300;
const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const assets = join(dist, "assets");
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1).padStart(7);

const html = readFileSync(join(dist, "index.html"), "utf8");
const entries = [...html.matchAll(/<script[^>]+src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
const preloads = [...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
const styles = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="\/assets\/([^"]+\.css)"/g)].map((m) => m[1]);

// Static imports (`import … from "./x.js"`, `import "./x.js"`) load with the entry; dynamic
// `import("./x.js")` calls are the per-route chunks and are left out.
const initial = new Set();
const queue = [...entries, ...preloads];
while (queue.length > 0) {
  const name = queue.pop();
  if (initial.has(name)) continue;
  initial.add(name);
  const code = readFileSync(join(assets, name), "utf8");
  for (const m of code.matchAll(/import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']\.\/([^"']+\.js)["']/g)) queue.push(m[1]);
}

const rows = readdirSync(assets)
  .filter((f) => f.endsWith(".js") || f.endsWith(".css"))
  .map((f) => ({ f, raw: readFileSync(join(assets, f)).length, gz: gz(join(assets, f)) }))
  .sort((a, b) => b.gz - a.gz);
console.log("chunk                                     raw kB  gzip kB  initial");
for (const r of rows) {
  const init = initial.has(r.f) || styles.includes(r.f) ? "yes" : "";
  console.log(`${r.f.padEnd(40)} ${kb(r.raw)} ${kb(r.gz)}  ${init}`);
}
const initialJs = rows.filter((r) => initial.has(r.f)).reduce((s, r) => s + r.gz, 0);
const initialCss = rows.filter((r) => styles.includes(r.f)).reduce((s, r) => s + r.gz, 0);
console.log(`initial JavaScript: ${kb(initialJs)} kB gzip (budget ${BUDGET_KB} kB); initial CSS: ${kb(initialCss)} kB gzip`);
if (initialJs / 1024 > BUDGET_KB) {
  console.error(`initial JavaScript is over the ${BUDGET_KB} kB gzip budget`);
  process.exit(1);
}
