// Copies the Swagger UI assets the Go server's /api/docs page loads into dist/swagger/.
// Run after `vite build` (which empties dist/).
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkgJson = require.resolve("swagger-ui-dist/package.json");
const src = dirname(pkgJson);
const out = join(here, "..", "dist", "swagger");

const files = [
  "swagger-ui-bundle.js",
  "swagger-ui.css",
  "favicon-16x16.png",
  "favicon-32x32.png",
  // Apache-2.0: ship the licence and notice with the redistributed files.
  "LICENSE",
  "NOTICE",
];

try {
  statSync(join(here, "..", "dist", "index.html"));
} catch {
  console.error("copy-swagger: dist/index.html is missing; run vite build first");
  process.exit(1);
}

mkdirSync(out, { recursive: true });
for (const f of files) {
  copyFileSync(join(src, f), join(out, f));
}
const { version } = JSON.parse(readFileSync(pkgJson, "utf8"));
console.log(`copy-swagger: swagger-ui-dist ${version} -> dist/swagger/ (${files.length} files)`);
