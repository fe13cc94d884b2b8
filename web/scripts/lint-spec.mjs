// Lints the served API document (the bundle in gen/api) with Redocly's recommended rules
// and fails on any problem, warnings included: Redocly itself exits 0 on warnings, but SDK
// generators and conformance tools read the served document, so it must lint clean.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve("@redocly/cli/package.json")), "bin", "cli.js");
const spec = join(here, "..", "..", "gen", "api", "openapi.yaml");
const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
const run = (format) =>
  spawnSync(process.execPath, [cli, "lint", "--extends=recommended", `--format=${format}`, "--max-problems=1000", spec], {
    env,
    encoding: "utf8",
  });

const res = run("json");
if (res.error) throw res.error;
const start = res.stdout.indexOf("{");
if (start < 0) {
  console.error(res.stdout, res.stderr);
  console.error("lint-spec: redocly printed no report");
  process.exit(1);
}
const { totals } = JSON.parse(res.stdout.slice(start));
if (totals.errors > 0 || totals.warnings > 0) {
  console.error(run("stylish").stdout);
  console.error(`lint-spec: ${totals.errors} errors and ${totals.warnings} warnings in the served API document`);
  process.exit(1);
}
console.log("lint-spec: the served API document passes Redocly's recommended rules (0 errors, 0 warnings)");
