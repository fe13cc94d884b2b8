import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, baseURL, expectAccessible, shot } from "./helpers";

// Health checks through the UI: the admin creates one check of each kind (a port out of
// range is refused on its field), tests them by hand on the run's sshd target
// (scripts/e2e.sh; the checks run there as root), sees a passing and a failing outcome
// with their output, edits one and deletes one after confirming.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const hostname = `e2e-hc-${run}`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";

test.beforeAll(async ({ browser }) => {
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-health", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-hc-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  const list = (await (await admin.get("/api/v1/health-checks?limit=200")).json()) as { checks: { id: string; name: string }[] };
  for (const c of list.checks.filter((c) => c.name.endsWith(run))) await admin.delete(`/api/v1/health-checks/${c.id}`);
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

const dialog = (name: string) => page.getByRole("dialog", { name });
const row = (name: string) => page.getByRole("table", { name: "Health checks" }).getByRole("row", { name: new RegExp(name) });

async function startCheck(name: string, kind: string): Promise<void> {
  await page.getByTestId("new-health-check").click();
  const form = dialog("New health check");
  await form.getByLabel("Name").fill(name);
  await form.getByRole("combobox", { name: "Kind" }).click();
  await page.getByRole("option", { name: kind, exact: true }).click();
}

async function create(): Promise<void> {
  const form = dialog("New health check");
  await form.getByRole("button", { name: "Create check" }).click();
  await expect(form).toBeHidden();
}

async function testOnHost(name: string): Promise<ReturnType<Page["getByTestId"]>> {
  await row(name).getByRole("button", { name: `Test on host: ${name}` }).click();
  const d = dialog(`Test ${name} on a host`);
  await d.getByRole("combobox", { name: "Host" }).fill(hostname);
  await page.getByRole("option", { name: new RegExp(hostname) }).click();
  await d.getByRole("button", { name: "Run test" }).click();
  const outcome = d.getByTestId("hc-outcome");
  await expect(outcome).toBeVisible({ timeout: 60_000 });
  return outcome;
}

test("create each kind, field errors, test pass and fail on a host, edit, delete", async ({}, testInfo) => {
  test.setTimeout(180_000);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health checks" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Health checks" })).toBeVisible();

  // service: the target runs no systemd, so it is checked with service(8).
  await startCheck(`svc-${run}`, "Service is active");
  await dialog("New health check").getByLabel("Unit").fill("ssh.service");
  await create();
  await expect(row(`svc-${run}`)).toContainText("ssh.service");

  // tcp: a port out of range is refused on its field; the dialog stays open.
  await startCheck(`tcp-${run}`, "TCP port accepts connections");
  let form = dialog("New health check");
  await form.getByLabel("Port").fill("70000");
  await form.getByRole("button", { name: "Create check" }).click();
  await expect(form.getByLabel("Port")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByText(/port/i).last()).toBeVisible();
  await expectAccessible(page, testInfo, "health-check-form");
  await shot(page, "health-check-form");
  await form.getByLabel("Port").fill(String(sshdPort));
  await create();
  await expect(row(`tcp-${run}`)).toContainText(`127.0.0.1:${sshdPort}`);

  // http: the OpenWatch server's own health endpoint, fetched on the target.
  await startCheck(`http-${run}`, "HTTP answers");
  form = dialog("New health check");
  await form.getByLabel("URL").fill(`${baseURL}/api/v1/health`);
  await form.getByLabel("Body contains").fill("db_connected");
  await form.getByLabel("Accept any TLS certificate").check();
  await create();

  // command: one that passes and one that fails.
  await startCheck(`cmd-ok-${run}`, "Command succeeds");
  form = dialog("New health check");
  await form.getByLabel("Command").fill(`echo "healthy ${run}"`);
  await form.getByLabel("Expected output").fill("healthy");
  await create();
  await startCheck(`cmd-bad-${run}`, "Command succeeds");
  form = dialog("New health check");
  await form.getByLabel("Command").fill("echo 'disk full' >&2; exit 3");
  await form.getByLabel("Retries").fill("1");
  await create();
  await expect(row(`cmd-bad-${run}`)).toContainText("never");

  // Tested on the target: pass with its output, then fail with the reason.
  let outcome = await testOnHost(`cmd-ok-${run}`);
  await expect(outcome).toContainText("pass");
  await expect(outcome).toContainText("The command exited 0.");
  await expect(outcome.getByTestId("hc-output")).toHaveText(`healthy ${run}`);
  await expectAccessible(page, testInfo, "health-check-test");
  await shot(page, "health-check-test");
  await page.keyboard.press("Escape");

  outcome = await testOnHost(`cmd-bad-${run}`);
  await expect(outcome).toContainText("fail");
  await expect(outcome).toContainText("The command exited 3 (after 2 attempts).");
  await expect(outcome.getByTestId("hc-output")).toHaveText("disk full");
  await page.keyboard.press("Escape");

  outcome = await testOnHost(`tcp-${run}`);
  await expect(outcome).toContainText("accepts connections");
  await page.keyboard.press("Escape");
  outcome = await testOnHost(`http-${run}`);
  await expect(outcome).toContainText("answered HTTP 200");
  await page.keyboard.press("Escape");

  // The list shows each check's last test.
  await expect(row(`cmd-ok-${run}`)).toContainText("pass");
  await expect(row(`cmd-bad-${run}`)).toContainText("fail");
  await expect(row(`cmd-bad-${run}`)).toContainText("The command exited 3");
  await expectAccessible(page, testInfo, "health-checks");
  await shot(page, "health-checks");

  // Edit: the kind is fixed, the rest changes.
  await row(`svc-${run}`).getByRole("button", { name: `Edit svc-${run}` }).click();
  form = dialog(`Edit svc-${run}`);
  await expect(form.getByRole("combobox", { name: "Kind" })).toBeDisabled();
  await form.getByLabel("Unit").fill("cron");
  await form.getByRole("button", { name: "Save check" }).click();
  await expect(form).toBeHidden();
  await expect(row(`svc-${run}`)).toContainText("cron");

  // Delete after confirming.
  await row(`cmd-bad-${run}`).getByRole("button", { name: `Delete cmd-bad-${run}` }).click();
  const confirm = dialog(`Delete health check cmd-bad-${run}?`);
  await confirm.getByRole("button", { name: "Delete check" }).click();
  await expect(confirm).toBeHidden();
  await expect(row(`cmd-bad-${run}`)).toHaveCount(0);
});
