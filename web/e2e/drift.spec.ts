import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Compliance drift through the UI, on the run's sshd target (scripts/e2e.sh), whose /etc
// is a throwaway overlay in its own mount namespace: a rule passing on a host is broken on
// the target, the next scan raises a drift alert whose drawer links to the evidence of the
// scan that found it; fixing the file and scanning again resolves the alert by itself.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const rule = "login-defs-pass-max-days";
const backup = `/etc/login.defs.e2e-${run}`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";

// onTarget runs a shell command as root on the target, inside its overlay.
function onTarget(cmd: string): void {
  execFileSync("ssh", ["-i", keyFile, "-p", String(sshdPort), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@127.0.0.1", cmd], { timeout: 30_000 });
}

function setMaxDays(days: number): void {
  onTarget(`grep -q '^PASS_MAX_DAYS' /etc/login.defs && sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t${days}/' /etc/login.defs || printf 'PASS_MAX_DAYS\t${days}\n' >> /etc/login.defs`);
}

async function scan(): Promise<string> {
  const res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: {}, headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(202);
  const id = ((await res.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await admin.get(`/api/v1/scans/${id}`)).json()) as { status: string }).status, { timeout: 240_000 })
    .toBe("completed");
  return id;
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-drift-${run}`, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-drift", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-drift-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  onTarget(`cp -p /etc/login.defs ${backup}`);
  page = await adminPage(browser);
});

test.afterAll(async () => {
  // The other specs scan the same target: give it back its file.
  if (sshdPort > 0) onTarget(`mv ${backup} /etc/login.defs`);
  await page?.context().close();
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

test("a rule broken on the target raises drift with its evidence; fixed, the alert resolves itself", async ({}, testInfo) => {
  test.setTimeout(600_000);
  setMaxDays(30);
  await scan(); // the baseline: the rule passes
  setMaxDays(99999);
  const brokenScan = await scan();

  await page.goto(`/alerts?host_id=${hostId}`);
  const link = page.getByRole("link", { name: /^Compliance drift: / });
  await expect(link).toHaveCount(1);
  await link.click();
  const drawer = page.getByRole("dialog", { name: "Alert" });
  await expect(drawer.getByTestId("alert-state")).toHaveText("active");
  await expect(drawer.getByRole("link", { name: rule })).toBeVisible();
  await expectAccessible(page, testInfo, "alert-drift");
  await shot(page, "alert-drift");

  // The drawer leads to what the scan found.
  await drawer.getByTestId("alert-evidence").click();
  await expect(page).toHaveURL(new RegExp(`/scans/${brokenScan}\\?evidence=${rule}`));
  const evidence = page.getByRole("dialog", { name: /^Evidence: / }).getByTestId("evidence");
  await expect(evidence).toBeVisible();
  await expect(evidence.getByText("99999").first()).toBeVisible();
  await shot(page, "alert-drift-evidence");

  // Fixed on the target, the next scan resolves the alert by itself.
  setMaxDays(30);
  await scan();
  await page.goto(`/alerts?host_id=${hostId}`);
  await page.getByRole("link", { name: /^Compliance drift: / }).click();
  await expect(page.getByRole("dialog", { name: "Alert" }).getByTestId("alert-state")).toHaveText("resolved");
  await shot(page, "alert-drift-resolved");
});
