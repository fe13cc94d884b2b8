import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, expectAccessible, shot, signIn } from "./helpers";

// Remediation through the UI, on the run's sshd target (scripts/e2e.sh), whose /etc is a
// throwaway overlay in its own mount namespace: the one rule changed here is fixed by a
// config_set in /etc/login.defs (never sysctl, modules, mounts or packages on this
// machine). From the host's failing rule the admin requests its remediation, a second
// person approves it, the dry run shows the diff and changes nothing, the execution fixes
// the host and links a passing re-scan, and the rollback restores the file and links a
// failing one.
test.describe.configure({ mode: "serial" });

const run = randomUUID().slice(0, 8);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const rule = "login-defs-pass-max-days";
const backup = `/etc/login.defs.e2e-rem-${run}`;
const approverName = `e2e-rem-approver-${run}`;
const approverPassword = `approver-${run}-0123456789`;
const hostname = `e2e-rem-${run}`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";
let userId = "";
let settingsBefore: { approval_environments: string[]; remediation_requires_approval: boolean } | undefined;

// onTarget runs a shell command as root on the target, inside its overlay, and returns
// its output.
function onTarget(cmd: string): string {
  return execFileSync("ssh", ["-i", keyFile, "-p", String(sshdPort), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@127.0.0.1", cmd], { timeout: 30_000 }).toString();
}

const maxDays = () => onTarget("awk '$1 == \"PASS_MAX_DAYS\" {print $2}' /etc/login.defs").trim();

async function scanRule(): Promise<void> {
  const res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: { rule_ids: [rule] }, headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(202);
  const id = ((await res.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await admin.get(`/api/v1/scans/${id}`)).json()) as { status: string }).status, { timeout: 240_000 })
    .toBe("completed");
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: "127.0.0.1", port: sshdPort, environment: `e2e-remediation-${run}`, username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-rem-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/users", {
    data: { username: approverName, email: `${approverName}@example.com`, password: approverPassword, role: "admin" },
  });
  expect(res.status(), await res.text()).toBe(201);
  userId = ((await res.json()) as { id: string }).id;
  // Remediation waits for a second person here, whatever the installation says.
  const s = (await (await admin.get("/api/v1/system/changes/config")).json()) as NonNullable<typeof settingsBefore>;
  settingsBefore = { approval_environments: s.approval_environments, remediation_requires_approval: s.remediation_requires_approval };
  res = await admin.put("/api/v1/system/changes/config", { data: { ...settingsBefore, remediation_requires_approval: true } });
  expect(res.status(), await res.text()).toBe(200);
  // The rule fails on the target: its stock file allows 99999 days.
  onTarget(`cp -p /etc/login.defs ${backup}`);
  onTarget("sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs");
  expect(maxDays()).toBe("99999");
  await scanRule();
  res = await admin.get(`/api/v1/hosts/${hostId}/compliance?status=fail&limit=50`);
  const failing = (await res.json()) as { items: { rule_id: string }[] };
  expect(failing.items.map((r) => r.rule_id), "the rule fails on the target").toContain(rule);
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  // The other specs scan the same target: give it back its file.
  if (sshdPort > 0) onTarget(`mv ${backup} /etc/login.defs`);
  if (settingsBefore) await admin.put("/api/v1/system/changes/config", { data: settingsBefore });
  if (userId) await admin.delete(`/api/v1/users/${userId}`);
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

test("request from the failing rule, approve as another person, dry run, execute, re-scan, roll back", async ({ browser }, testInfo) => {
  test.setTimeout(600_000);
  const name = `e2e-rem-${run}`;

  // The host's failing rule offers "Remediate".
  await page.goto(`/hosts/${hostId}?tab=compliance&status=fail`);
  // Several failing rules at once: the form offers the host's failing rules to choose.
  await page.getByTestId("remediate-failing").click();
  const many = page.getByRole("dialog", { name: "Request remediation" });
  await many.getByRole("button", { name: "Request remediation" }).click();
  await expect(many.getByText("Name at least one rule.")).toBeVisible();
  await many.getByLabel(/^Failing rules/).click();
  await expect(page.getByRole("option", { name: new RegExp(rule) })).toBeVisible();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await expect(many).toBeHidden();
  const ruleRow = page.getByRole("table", { name: "Rule results" }).getByRole("row", { name: new RegExp(rule) });
  await ruleRow.getByTestId("request-remediation").click();
  const form = page.getByRole("dialog", { name: "Request remediation" });
  await expect(form.getByText(new RegExp(`\\(${rule}\\)`))).toBeVisible();
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByLabel("Reason", { exact: true }).fill(`e2e ${run}: passwords must expire`);
  // The target has no maintenance window: the execution overrides them, with a reason.
  await form.getByLabel("Ignore maintenance windows").check();
  await form.getByRole("button", { name: "Request remediation" }).click();
  await expect(form.getByRole("textbox", { name: /^Override reason/ })).toHaveAttribute("aria-invalid", "true");
  await form.getByRole("textbox", { name: /^Override reason/ }).fill("e2e target: no window");
  await expectAccessible(page, testInfo, "remediation-request");
  await shot(page, "remediation-request");
  await form.getByRole("button", { name: "Request remediation" }).click();
  await expect(form).toBeHidden();
  await expect(page.getByRole("heading", { level: 1, name: `Remediation request: ${name}` })).toBeVisible();
  const url = page.url();
  const status = page.getByTestId("change-status");
  await expect(status).toHaveText("pending approval");
  const planRule = page.getByTestId(`plan-rule-${rule}`);
  await expect(planRule.getByTestId("plan-rule-mode")).toHaveText("automatic");
  await expect(planRule).toContainText("config_set");
  await expect(page.getByTestId("change-windows")).toContainText("overridden");
  await expectAccessible(page, testInfo, "remediation-pending");
  await shot(page, "remediation-pending");

  // A second person approves it.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/sign-in");
  await signIn(other, approverName, approverPassword);
  await expect(other.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await other.goto(url);
  await other.getByTestId("change-approve").click();
  const approve = other.getByRole("dialog", { name: /^Approve/ });
  await approve.getByTestId("change-reason").fill("reviewed: the site policy allows 60 days");
  await approve.getByTestId("change-confirm").click();
  await expect(approve).toBeHidden();
  await expect(other.getByTestId("change-status")).toHaveText("approved");
  await other.context().close();
  await expect(status).toHaveText("approved", { timeout: 30_000 });

  // The dry run shows the diff and changes nothing.
  await page.getByTestId("change-dry-run").click();
  await page.getByRole("dialog", { name: /^Dry run/ }).getByTestId("change-confirm").click();
  const hostRow = page.getByTestId(`change-host-${hostname}`);
  await hostRow.getByTestId("host-expand").click();
  const diff = page.getByTestId("step-diff").first();
  await expect(diff).toBeVisible({ timeout: 120_000 });
  await expect(diff.locator('[data-diff="del"]')).toContainText("PASS_MAX_DAYS");
  await expect(diff.locator('[data-diff="add"]')).toContainText("PASS_MAX_DAYS");
  await expect(page.getByTestId("host-actions")).toContainText("/etc/login.defs");
  expect(maxDays()).toBe("99999");
  await expectAccessible(page, testInfo, "remediation-dry-run");
  await shot(page, "remediation-dry-run");

  // Executed, the host is fixed and the re-scan linked, passing.
  await page.getByTestId("change-execute").click();
  await page.getByRole("dialog", { name: /^Execute/ }).getByTestId("change-confirm").click();
  await expect(status).toHaveText("completed", { timeout: 240_000 });
  await expect(hostRow.getByTestId("host-status")).toHaveText("succeeded");
  const rescan = hostRow.getByTestId("host-rescan");
  await expect(rescan).toBeVisible({ timeout: 120_000 });
  expect(Number(maxDays())).toBeLessThanOrEqual(60);
  await expectAccessible(page, testInfo, "remediation-completed");
  await shot(page, "remediation-completed");
  await rescan.click();
  await expect(page.getByTestId("scan-status")).toHaveText("completed", { timeout: 120_000 });
  await expect(page.getByRole("table", { name: "Scan results" }).getByRole("row", { name: new RegExp(rule) })).toContainText("pass");
  await page.goBack();

  // Rolled back, the file is as it was and the rule fails again in the linked re-scan.
  await page.getByTestId("change-rollback").click();
  const rollback = page.getByRole("dialog", { name: /^Roll back/ });
  await rollback.getByTestId("change-reason").fill("e2e: undo");
  await rollback.getByTestId("change-confirm").click();
  await expect(status).toHaveText("rolled back", { timeout: 240_000 });
  await expect(hostRow.getByTestId("host-status")).toHaveText("rolled back");
  expect(maxDays()).toBe("99999");
  const after = hostRow.getByTestId("host-rollback-scan");
  await expect(after).toBeVisible({ timeout: 120_000 });
  await expectAccessible(page, testInfo, "remediation-rolled-back");
  await shot(page, "remediation-rolled-back");
  // The steps, the diff and the badges read well in dark mode too.
  await hostRow.getByTestId("host-expand").click();
  await expect(page.getByTestId("step-diff").first()).toBeVisible();
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expectAccessible(page, testInfo, "remediation-dark");
  await shot(page, "remediation-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
  await after.click();
  await expect(page.getByTestId("scan-status")).toHaveText("completed", { timeout: 120_000 });
  await expect(page.getByRole("table", { name: "Scan results" }).getByRole("row", { name: new RegExp(rule) })).toContainText("fail");

  // The list shows it rolled back.
  await page.goto("/remediation?status=rolled_back");
  const row = page.getByRole("table", { name: "Remediation requests" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText(hostname);
  await expectAccessible(page, testInfo, "remediation-list");
  await shot(page, "remediation-list");

  // From the list, hosts and rule ids are both chosen in the form.
  await page.getByRole("button", { name: "Request remediation" }).click();
  const fromList = page.getByRole("dialog", { name: "Request remediation" });
  await fromList.getByRole("button", { name: "Request remediation" }).click();
  await expect(fromList.getByText("Choose at least one host.")).toBeVisible();
  await expect(fromList.getByText("Name at least one rule.")).toBeVisible();
  await expectAccessible(page, testInfo, "remediation-new");
  await shot(page, "remediation-new");
  await page.keyboard.press("Escape");
});
