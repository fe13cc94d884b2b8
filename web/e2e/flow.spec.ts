import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { adminPassword, expectAccessible, shot, signIn } from "./helpers";

// The operator's first day, through the UI only, against a real sshd on loopback that
// scripts/e2e.sh started (E2E_SSHD_PORT) with a key made for this run (E2E_SSH_KEY):
// add the key as a credential, find the host by network discovery and register it, check
// its connectivity, discover its system, scan it and watch the scan, open the evidence of
// a failing rule, see the score on the dashboard, and find it all in the audit log.
const sshdPort = process.env.E2E_SSHD_PORT ?? "";
const keyFile = process.env.E2E_SSH_KEY ?? "";

// rotateHostKey gives the sshd target a new host key, as a reinstalled host would have:
// sshd re-reads its keys on SIGHUP (E2E_SSHD_PID, E2E_SSHD_HOST_KEY from scripts/e2e.sh).
function rotateHostKey(): void {
  const key = process.env.E2E_SSHD_HOST_KEY ?? "";
  const pid = Number(process.env.E2E_SSHD_PID ?? "0");
  expect(key, "E2E_SSHD_HOST_KEY").not.toBe("");
  expect(pid, "E2E_SSHD_PID").toBeGreaterThan(0);
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "e2e-host-rotated", "-f", key]);
  process.kill(pid, "SIGHUP");
}

test("credential → discovery → host → connectivity → scan → evidence → dashboard → audit log", async ({ browser }, testInfo) => {
  test.setTimeout(300_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").not.toBe("");
  const privateKey = readFileSync(keyFile, "utf8");

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/sign-in");
  await signIn(page, "admin", adminPassword);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();

  // The credential: the secret goes in once and only its fingerprint comes back.
  await page.goto("/admin?tab=credentials");
  await page.getByTestId("add-credential").click();
  const credDialog = page.getByRole("dialog", { name: "Add credential" });
  await credDialog.getByLabel("Name").fill("e2e-root-key");
  await credDialog.getByLabel("SSH user").fill("root");
  await credDialog.getByLabel("Private key").fill(privateKey);
  await credDialog.getByLabel("Use for every host without a credential of its own").check();
  await credDialog.getByRole("button", { name: "Add credential" }).click();
  await expect(credDialog).toBeHidden();
  const credRow = page.getByRole("table", { name: "Credentials" }).getByRole("row", { name: /e2e-root-key/ });
  await expect(credRow).toContainText("SHA256:");
  await expect(page.getByText(privateKey.split("\n")[1] ?? "-----")).toHaveCount(0);
  await expectAccessible(page, testInfo, "admin-credentials");
  await shot(page, "admin-credentials");

  // The host, found by a network discovery of 127.0.0.1 on the sshd's port and registered.
  await page.goto("/hosts");
  await page.getByRole("link", { name: "Discover hosts" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Network discovery" })).toBeVisible();
  await page.getByLabel("Network").fill("127.0.0.1/32");
  const ports = page.getByRole("combobox", { name: "SSH ports" });
  await ports.press("Backspace");
  await ports.fill(sshdPort);
  await ports.press("Enter");
  await page.getByRole("button", { name: "Start discovery" }).click();
  await expect(page).toHaveURL(/scan=/);
  await expect(page.getByTestId("discovery-status")).toHaveText("completed", { timeout: 60_000 });
  const found = page.getByRole("table", { name: "SSH servers found" });
  await expect(found).toContainText(`127.0.0.1:${sshdPort}`);
  await expect(found).toContainText("SSH-2.0-OpenSSH");
  await expectAccessible(page, testInfo, "discovery");
  await shot(page, "discovery");
  await found.getByRole("button", { name: "Add 127.0.0.1" }).click();
  const reg = page.getByRole("dialog", { name: "Add 127.0.0.1 to the inventory" });
  await reg.getByLabel("Hostname").fill("e2e-sshd");
  await reg.getByLabel("SSH user").fill("root");
  await reg.getByRole("button", { name: "Add to inventory" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "e2e-sshd" })).toBeVisible();
  const hostUrl = new URL(page.url()).pathname;

  // Connectivity, then the host's system facts.
  // The poller probes a new host at once; a check asked for while its probe runs waits
  // for it, and one asked while the host is still unreachable is asked again.
  await expect(async () => {
    await page.getByRole("button", { name: "Check connectivity" }).click();
    await expect(page.getByText("Host reachable").first()).toBeVisible({ timeout: 10_000 });
  }).toPass({ timeout: 60_000 });
  await page.getByRole("button", { name: "Discover system" }).click();
  const facts = page.getByRole("table", { name: "Host facts" });
  await expect(facts.getByRole("row", { name: /Platform/ })).not.toContainText("not discovered yet", { timeout: 30_000 });
  await expectAccessible(page, testInfo, "host-discovered");
  await shot(page, "host-discovered");

  // The scan, followed live on its page until it completes.
  await page.getByTestId("scan-now").click();
  await expect(page.getByRole("heading", { level: 1, name: "Scan of e2e-sshd" })).toBeVisible();
  await shot(page, "scan-started");
  await expect(page.getByTestId("scan-status")).toHaveText("completed", { timeout: 240_000 });
  const results = page.getByRole("table", { name: "Scan results" });
  await expect(results.getByRole("link").first()).toBeVisible();
  await expectAccessible(page, testInfo, "scan-completed");
  await shot(page, "scan-completed");

  // The evidence of a failing rule: what ran, what came back, what was expected.
  await page.getByRole("combobox", { name: "Result", exact: true }).first().click();
  await page.getByRole("option", { name: "fail", exact: true }).click();
  await expect(page).toHaveURL(/status=fail/);
  const evidenceLink = results.getByRole("link", { name: / \(evidence\)$/ }).first();
  await expect(evidenceLink).toBeVisible();
  await evidenceLink.click();
  await expect(page).toHaveURL(/evidence=/);
  const drawer = page.getByRole("dialog", { name: /^Evidence: / });
  const evidence = drawer.getByTestId("evidence");
  await expect(evidence).toBeVisible();
  await expect(evidence.getByText("fail", { exact: true }).first()).toBeVisible();
  for (const label of ["Expected", "Actual"]) await expect(evidence.getByText(label, { exact: true }).first()).toBeVisible();
  await expectAccessible(page, testInfo, "evidence");
  await shot(page, "evidence");
  await page.keyboard.press("Escape");
  await expect(page).not.toHaveURL(/evidence=/);

  // The host's Compliance tab, from the real results: a score under each framework that
  // has rules for the host's platform, the trend of the chosen one, and a failing rule's
  // evidence (what ran, what came back, what was expected and found).
  await page.goto(`${hostUrl}?tab=compliance`);
  const scores = page.getByRole("table", { name: "Scores by framework" });
  await expect(scores.getByTestId("score-all")).toHaveText(/^\d+\.\d %$/);
  expect(await scores.getByRole("row").count()).toBeGreaterThan(2);
  // The target is Debian 12: no benchmark written for another release scores it.
  await expect(scores.getByText(/Red Hat Enterprise Linux|Ubuntu/)).toHaveCount(0);
  await expect(page.getByRole("img", { name: "Passing percentage of the host over time" }).locator(".recharts-surface").first()).toBeVisible();
  await expect(page.getByTestId("host-compliance-summary")).toContainText("passing");
  const hostResults = page.getByRole("table", { name: "Rule results" });
  await page.getByRole("combobox", { name: "Result", exact: true }).first().click();
  await page.getByRole("option", { name: "fail", exact: true }).click();
  await expect(page).toHaveURL(/status=fail/);
  await hostResults.getByRole("link", { name: / \(evidence\)$/ }).first().click();
  await expect(page).toHaveURL(/evidence=/);
  const hostEvidence = page.getByRole("dialog", { name: /^Evidence: / }).getByTestId("evidence");
  for (const label of ["Command", "Output", "Expected", "Actual"]) {
    await expect(hostEvidence.getByText(label, { exact: true }).first()).toBeVisible();
  }
  await expectAccessible(page, testInfo, "host-compliance-evidence");
  await shot(page, "host-compliance-evidence");
  await page.keyboard.press("Escape");
  await expect(page).not.toHaveURL(/evidence=/);
  // Another framework's score picks the trend and the results; as of a day before any
  // scan, the host had no result.
  const other = scores.getByRole("button").nth(1);
  const otherName = (await other.textContent()) ?? "";
  await other.click();
  await expect(page).toHaveURL(/framework=/);
  await expect(page.getByRole("combobox", { name: "Framework", exact: true })).toHaveValue(otherName);
  await expectAccessible(page, testInfo, "host-compliance");
  await shot(page, "host-compliance");
  await page.getByLabel("As of").fill("2020-01-02T00:00");
  await expect(page).toHaveURL(/as_of=20(19|20)-/);
  await expect(page.getByText("No results: the host has not been scanned")).toBeVisible();
  await page.getByRole("button", { name: "Back to now" }).click();
  await expect(page).not.toHaveURL(/as_of=/);

  // The scan history: the score of each scan on a chart, and the scans.
  await page.getByRole("tab", { name: "Scans" }).click();
  const hostScans = page.getByRole("table", { name: "Scans of this host" });
  await expect(hostScans.getByText("completed")).toBeVisible();
  await expect(page.getByTestId("scan-history-chart").locator(".recharts-surface").first()).toBeVisible();
  await expectAccessible(page, testInfo, "host-scan-history");
  await shot(page, "host-scan-history");

  // The scan's SSH connection trusted the host's key on first use; intelligence collects
  // the host's facts over the same path.
  await page.getByRole("tab", { name: "Host keys" }).click();
  const keys = page.getByRole("table", { name: "Host keys" });
  await expect(keys.getByText("trusted")).toBeVisible();
  await expect(keys).toContainText("SHA256:");
  await expectAccessible(page, testInfo, "host-keys");
  await shot(page, "host-keys");
  // The host's key changes: connections fail closed and the new key waits, pending, for an
  // operator, who approves it here; then the host is reachable again.
  rotateHostKey();
  await expect(async () => {
    await page.getByRole("button", { name: "Check connectivity" }).click();
    await page.reload();
    await page.getByRole("tab", { name: "Host keys" }).click();
    await expect(keys.getByRole("row", { name: /pending/ })).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  await expectAccessible(page, testInfo, "host-keys-pending");
  await shot(page, "host-keys-pending");
  await keys.getByRole("row", { name: /pending/ }).getByRole("button", { name: "Approve" }).click();
  await expect(keys.getByRole("row", { name: /pending/ })).toHaveCount(0);
  await expect(async () => {
    await page.getByRole("button", { name: "Check connectivity" }).click();
    await expect(page.getByText("Host reachable").first()).toBeVisible({ timeout: 10_000 });
  }).toPass({ timeout: 60_000 });
  // Resetting the trust asks first; the next connection (the collection below) trusts the
  // key again.
  await page.getByRole("button", { name: "Reset trust" }).click();
  const resetDialog = page.getByRole("dialog", { name: "Reset trust in this host's keys?" });
  await resetDialog.getByRole("button", { name: "Reset trust" }).click();
  await expect(resetDialog).toBeHidden();
  await expect(page.getByText("No key seen yet")).toBeVisible();
  await page.getByRole("tab", { name: "Intelligence" }).click();
  await page.getByRole("button", { name: "Collect now" }).click();
  const packages = page.getByRole("table", { name: "Packages" });
  await expect(packages.getByRole("row").nth(1)).toBeVisible({ timeout: 60_000 });
  await page.getByLabel("Search packages").fill("openssh");
  await expect(packages.getByRole("row").nth(1)).toContainText("openssh");
  await page.locator("label", { hasText: /^Ports \(/ }).click();
  await expect(page).toHaveURL(/category=ports/);
  await page.getByLabel("Search ports").fill(sshdPort);
  await expect(page.getByRole("table", { name: "Ports" }).getByRole("row").nth(1)).toContainText(sshdPort);
  await expectAccessible(page, testInfo, "host-intelligence-collected");
  await shot(page, "host-intelligence-collected");
  await page.goto("/");
  await expect(page.getByTestId("fleet-score")).not.toHaveText("0.0 %");
  // The fleet trend chart ends with the live totals: the scan is on it at once, as a dot.
  const trend = page.getByRole("img", { name: /^Compliance score per day over the last 30 days, latest \d+(\.\d)? %/ });
  await expect(trend.locator(".recharts-surface").first()).toBeVisible();
  await expect(trend.locator(".recharts-area-dot, .recharts-dot").first()).toBeVisible();
  await expect(page.getByRole("table", { name: "Rules failing on the most hosts" }).getByRole("row").nth(1)).toBeVisible();
  await expect(page.getByRole("table", { name: "Hosts failing the most rules" }).getByRole("link", { name: "e2e-sshd" }).first()).toBeVisible();
  await expectAccessible(page, testInfo, "dashboard-scanned");
  await shot(page, "dashboard-scanned");

  // All of it in the audit log.
  for (const action of ["credential.created", "host.created", "scan.requested"]) {
    await page.goto(`/audit?action=${action}`);
    await expect(page.getByRole("table", { name: "Audit events" }).getByText(action).first()).toBeVisible();
  }
  await shot(page, "audit-flow");
  await ctx.close();
});
