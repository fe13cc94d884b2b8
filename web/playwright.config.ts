import { defineConfig } from "@playwright/test";

// End-to-end tests drive the real binary that scripts/e2e.sh starts (one server for the
// whole suite) in Debian's Chromium: Playwright's own browser download is not reachable.
// scripts/e2e.sh sets:
//   OPENWATCH_URL       https://localhost:PORT (loopback only)
//   OPENWATCH_PASSWORD  the initial admin password the server printed
//   OPENWATCH_SPKI_PIN  the verified server key (e2e/pin.mjs)
//   E2E_OUTPUT          where screenshots and failure traces go
const url = process.env.OPENWATCH_URL ?? "https://localhost:8443";
const pin = process.env.OPENWATCH_SPKI_PIN;
const host = new URL(url).hostname;
if (!["localhost", "127.0.0.1", "[::1]"].includes(host) && !host.startsWith("127.")) {
  throw new Error(`refusing ${url}: end-to-end tests only talk to loopback`);
}

export default defineConfig({
  testDir: "./e2e",
  testMatch: /.*\.spec\.ts$/,
  outputDir: process.env.E2E_OUTPUT ? `${process.env.E2E_OUTPUT}/results` : "test-results",
  // The specs share one server and build on each other's data (the viewer, the host).
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: url,
    viewport: { width: 1280, height: 800 },
    // No fade-ins: axe would measure the contrast of half-transparent text.
    reducedMotion: "reduce",
    ignoreHTTPSErrors: false,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium tries to reach Google's hosts,
      // which this network refuses.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        ...(pin ? [`--ignore-certificate-errors-spki-list=${pin}`] : []),
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});
