import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Benchmarks (web/e2e/bench) are run by scripts/bench-hosts-ui.sh, not by make test.
export default defineConfig({
  ...base,
  testDir: "./e2e/bench",
  testMatch: /.*\.bench\.ts$/,
  timeout: 300_000,
});
