import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { adminApi, adminPage, expectAccessible, shot, signIn } from "./helpers";

// Patch jobs through the UI, stopping before anything would run: the run's sshd target
// overlays /etc only, so a patch job that ran apt there would change this machine. The
// hosts here answer on no port (127.0.0.1:1), and no job ever reaches them: the admin
// makes this file's environment need approval (Settings, Changes), creates a job there
// that waits pending approval, cannot approve it (four eyes), and a second admin rejects
// it; a job on a host with no maintenance window waits for one and is cancelled.
test.describe.configure({ mode: "serial" });

const run = randomUUID().slice(0, 8);
const approveEnv = `e2e-jobs-approve-${run}`;
const windowEnv = `e2e-jobs-window-${run}`;
const approverName = `e2e-patch-approver-${run}`;
const approverPassword = `approver-${run}-0123456789`;
let page: Page;
let admin: APIRequestContext;
const hostIds: string[] = [];
let userId = "";
let settingsBefore: { approval_environments: string[]; remediation_requires_approval: boolean } | undefined;

async function addHost(hostname: string, environment: string): Promise<void> {
  const res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: "127.0.0.1", port: 1, environment, username: "e2e" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostIds.push(((await res.json()) as { id: string }).id);
}

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  await addHost(`e2e-patch-approve-${run}`, approveEnv);
  await addHost(`e2e-patch-window-${run}`, windowEnv);
  const res = await admin.post("/api/v1/users", {
    data: { username: approverName, email: `${approverName}@example.com`, password: approverPassword, role: "admin" },
  });
  expect(res.status(), await res.text()).toBe(201);
  userId = ((await res.json()) as { id: string }).id;
  const s = (await (await admin.get("/api/v1/system/changes/config")).json()) as typeof settingsBefore;
  settingsBefore = s && { approval_environments: s.approval_environments, remediation_requires_approval: s.remediation_requires_approval };
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  // Nothing of this file's is left in force: the settings go back to what they were and
  // any job still open is cancelled before its hosts go.
  if (settingsBefore) await admin.put("/api/v1/system/changes/config", { data: settingsBefore });
  const jobs = (await (await admin.get("/api/v1/jobs?limit=200")).json()) as { items: { id: string; name: string; status: string }[] };
  for (const j of jobs.items ?? []) {
    if (j.name.includes(run) && ["pending_approval", "approved", "running", "halted"].includes(j.status)) {
      await admin.post(`/api/v1/jobs/${j.id}:cancel`, { data: {} });
    }
  }
  if (userId) await admin.delete(`/api/v1/users/${userId}`);
  for (const id of hostIds) await admin.delete(`/api/v1/hosts/${id}`);
});

test("the Changes settings make an environment need approval", async ({}, testInfo) => {
  await page.goto("/settings?tab=changes");
  const card = page.getByRole("region", { name: "Changes" });
  const envs = card.getByLabel("Environments whose patch jobs need approval");
  await envs.fill(approveEnv);
  await envs.press("Enter");
  await expectAccessible(page, testInfo, "settings-changes");
  await shot(page, "settings-changes");
  await card.getByRole("button", { name: "Save change settings" }).click();
  await expect(page.getByText("Change settings saved.")).toBeVisible();
  const s = (await (await admin.get("/api/v1/system/changes/config")).json()) as { approval_environments: string[] };
  expect(s.approval_environments).toContain(approveEnv);
});

async function newJob(name: string, pick: (dialog: ReturnType<Page["getByRole"]>) => Promise<void>): Promise<void> {
  await page.goto("/jobs");
  await page.getByRole("button", { name: "New patch job" }).click();
  const dialog = page.getByRole("dialog", { name: "New patch job" });
  await pick(dialog);
  await dialog.getByLabel("Name", { exact: true }).fill(name);
  await dialog.getByLabel("Reason", { exact: true }).fill(`e2e ${run}`);
  await dialog.getByRole("button", { name: "Create patch job" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { level: 1, name: `Patch job: ${name}` })).toBeVisible();
}

test("a job on an environment that needs approval waits; the requester cannot approve it, a second person rejects it", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const name = `e2e-patch-approve-${run}`;
  await page.goto("/jobs");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("group", { name: "Changes" }).getByRole("link", { name: "Patch jobs" })).toBeVisible();
  await page.getByRole("button", { name: "New patch job" }).click();
  const dialog = page.getByRole("dialog", { name: "New patch job" });
  // Checked before asking: chosen hosts need at least one host; named packages need one.
  await dialog.getByText("Named packages").click();
  await dialog.getByRole("button", { name: "Create patch job" }).click();
  await expect(dialog.getByText("Add at least one package operation.")).toBeVisible();
  await dialog.getByRole("button", { name: "Add package operation" }).click();
  await dialog.getByRole("textbox", { name: /^Package/ }).fill("openssl");
  await dialog.getByRole("textbox", { name: /^Version/ }).fill("3.0.15-1~deb12u1");
  await expect(dialog.getByText("Add at least one package operation.")).toHaveCount(0);
  await expect(dialog.getByLabel("Ignore maintenance windows")).toBeVisible();
  await expect(dialog.getByLabel(/^Health checks/)).toBeVisible();
  await expectAccessible(page, testInfo, "patch-job-new");
  await shot(page, "patch-job-new");
  await page.keyboard.press("Escape");

  await newJob(name, async (d) => {
    await d.getByLabel(/^Hosts/).fill(name);
    await page.getByRole("option", { name: new RegExp(name) }).click();
  });
  await expect(page.getByTestId("change-status")).toHaveText("pending approval");
  await expect(page.getByTestId("change-what")).toHaveText("Security updates");
  await expect(page.getByTestId("change-hosts").getByTestId("host-status")).toHaveText("pending");
  await expect(page.getByTestId("wave-0")).toContainText(name);
  const jobUrl = page.url();
  await expectAccessible(page, testInfo, "patch-job-pending");
  await shot(page, "patch-job-pending");

  // The requester's approval is refused: another person must approve.
  await page.getByTestId("change-approve").click();
  const confirm = page.getByRole("dialog", { name: /^Approve/ });
  await expect(confirm.getByTestId("four-eyes-note")).toBeVisible();
  await confirm.getByTestId("change-confirm").click();
  await expect(confirm.getByText("A reason is required.")).toBeVisible();
  await confirm.getByTestId("change-reason").fill("mine");
  await confirm.getByTestId("change-confirm").click();
  await expect(confirm.getByTestId("change-action-error")).toContainText("another person must approve");
  await expectAccessible(page, testInfo, "patch-job-four-eyes");
  await page.keyboard.press("Escape");

  // A second person rejects it, with a reason.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/sign-in");
  await signIn(other, approverName, approverPassword);
  await expect(other.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await other.goto(jobUrl);
  await other.getByTestId("change-reject").click();
  const reject = other.getByRole("dialog", { name: /^Reject/ });
  await reject.getByTestId("change-reason").fill("not this month");
  await reject.getByTestId("change-confirm").click();
  await expect(reject).toBeHidden();
  await expect(other.getByTestId("change-status")).toHaveText("rejected");
  await other.context().close();

  // The requester's page follows by itself (the event stream), with the decision.
  await expect(page.getByTestId("change-status")).toHaveText("rejected", { timeout: 30_000 });
  await expect(page.getByTestId("change-decision")).toContainText("not this month");
  await expect(page.getByTestId("change-approve")).toHaveCount(0);

  await page.goto("/jobs?status=rejected");
  const row = page.getByRole("table", { name: "Patch jobs" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("rejected");
  await expect(row).toContainText("admin");
  await expectAccessible(page, testInfo, "patch-jobs");
  await shot(page, "patch-jobs");
});

test("a job on a host with no maintenance window waits for one and is cancelled", async ({}, testInfo) => {
  test.setTimeout(120_000);
  const name = `e2e-patch-window-${run}`;
  await newJob(name, async (d) => {
    await d.getByText("An environment or filter").click();
    await d.getByRole("textbox", { name: "Environment" }).fill(windowEnv);
  });
  await expect(page.getByTestId("change-status")).toHaveText("running");
  const host = page.getByTestId("change-hosts");
  await expect(host.getByTestId("host-status")).toHaveText("waiting window", { timeout: 60_000 });
  await expect(host.getByTestId("host-next-window")).toHaveText("no window");
  await expect(page.getByTestId("wave-0")).toHaveAttribute("data-current", "true");
  await host.getByTestId("host-expand").click();
  await expectAccessible(page, testInfo, "patch-job-waiting");
  await shot(page, "patch-job-waiting");

  await page.getByTestId("change-cancel").click();
  const confirm = page.getByRole("dialog", { name: /^Cancel/ });
  await confirm.getByRole("button", { name: "Back" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("change-status")).toHaveText("running");
  await page.getByTestId("change-cancel").click();
  await confirm.getByTestId("change-reason").fill("e2e: no window");
  await confirm.getByTestId("change-confirm").click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("change-status")).toHaveText("cancelled");
  await expect(host.getByTestId("host-status")).toHaveText("cancelled", { timeout: 30_000 });
  // A cancelled job that changed nothing can still be rolled back (it restores no host).
  await expect(page.getByTestId("change-rollback")).toBeVisible();
  await shot(page, "patch-job-cancelled");
});
