import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, expectAccessible, shot, signIn } from "./helpers";

// Exceptions through the UI, on a host of the run's sshd target (scripts/e2e.sh): the
// admin requests an exception for a rule failing there from the host's results, cannot
// approve it (four eyes), a second user with security_admin approves it, the host's
// result shows excepted with a link to the exception and its score changes, and revoking
// it turns the result back to fail.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const approverName = `e2e-approver-${run}`;
const approverPassword = `approver-${run}-0123456789`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";
let userId = "";
let ruleId = "";

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-exc-${run}`, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-exceptions", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-exc-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: {} });
  expect(res.status(), await res.text()).toBe(202);
  const scanId = ((await res.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await admin.get(`/api/v1/scans/${scanId}`)).json()) as { status: string }).status, { timeout: 240_000 })
    .toBe("completed");
  res = await admin.get(`/api/v1/hosts/${hostId}/compliance?status=fail&limit=1`);
  const failing = (await res.json()) as { items: { rule_id: string }[] };
  expect(failing.items.length, "a rule fails on the target").toBeGreaterThan(0);
  ruleId = failing.items[0]?.rule_id ?? "";
  res = await admin.post("/api/v1/users", {
    data: { username: approverName, email: `${approverName}@example.com`, password: approverPassword, role: "security_admin" },
  });
  expect(res.status(), await res.text()).toBe(201);
  userId = ((await res.json()) as { id: string }).id;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  if (userId) await admin.delete(`/api/v1/users/${userId}`);
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

test("request, four eyes, approve by another person, excepted result and score, revoke", async ({ browser }, testInfo) => {
  test.setTimeout(180_000);
  const summary = page.getByTestId("host-compliance-summary");
  const ruleRow = () => page.getByRole("table", { name: "Rule results" }).getByRole("row", { name: new RegExp(ruleId) });

  // The failing rule on the host's results offers "Request exception".
  await page.goto(`/hosts/${hostId}?tab=compliance`);
  await expect(ruleRow()).toBeVisible();
  const scoreBefore = (await summary.textContent()) ?? "";
  await ruleRow().getByTestId("request-exception").click();
  const form = page.getByRole("dialog", { name: "Request an exception" });
  await form.getByLabel("Reason").fill(`e2e ${run}: compensating control`);
  await expectAccessible(page, testInfo, "exception-request");
  await shot(page, "exception-request");
  await form.getByTestId("exception-submit").click();
  await expect(form).toBeHidden();

  const list = (await (await admin.get(`/api/v1/hosts/${hostId}/exceptions?status=pending`)).json()) as { items: { id: string }[] };
  expect(list.items).toHaveLength(1);
  const id = list.items[0]?.id ?? "";

  // The requester cannot approve: the UI says why, and the API refuses it.
  await page.goto(`/exceptions?exception=${id}`);
  const detail = page.getByTestId("exception-detail");
  await expect(detail.getByTestId("exception-status")).toHaveText("pending");
  await expect(detail.getByTestId("four-eyes-note")).toHaveText("You requested this exception; another person must approve it.");
  await expect(detail.getByTestId("exception-approve")).toBeDisabled();
  await expectAccessible(page, testInfo, "exception-pending");
  await shot(page, "exception-pending");
  const refused = await admin.post(`/api/v1/exceptions/${id}:approve`, { data: { reason: "mine" } });
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { human_message: string } }).error.human_message).toContain(
    "You requested this exception; another person must approve it.",
  );

  // A second person approves it in the UI.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/sign-in");
  await signIn(other, approverName, approverPassword);
  await expect(other.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await other.goto(`/exceptions?exception=${id}`);
  const otherDetail = other.getByTestId("exception-detail");
  await otherDetail.getByTestId("exception-approve").click();
  await expect(otherDetail.getByText("A reason is required.")).toBeVisible();
  await otherDetail.getByTestId("decision-reason").fill("reviewed: accepted until the fix ships");
  await otherDetail.getByTestId("exception-approve").click();
  await expect(otherDetail.getByTestId("exception-status")).toHaveText("approved");
  await other.context().close();

  // The exceptions list shows it approved.
  await page.goto("/exceptions?status=approved");
  await expect(page.getByRole("table", { name: "Exceptions" }).getByRole("link", { name: /.+/ }).first()).toBeVisible();
  await expectAccessible(page, testInfo, "exceptions");
  await shot(page, "exceptions");

  // The host's result is excepted, linking to the exception, and its score changed.
  await page.goto(`/hosts/${hostId}?tab=compliance`);
  await expect(ruleRow().getByTestId("excepted-link")).toBeVisible();
  await expect(summary).not.toHaveText(scoreBefore);
  await expect(summary).toContainText("1 excepted");
  await expectAccessible(page, testInfo, "host-excepted");
  await shot(page, "host-excepted");
  await ruleRow().getByTestId("excepted-link").click();
  await expect(page.getByTestId("exception-detail").getByTestId("exception-status")).toHaveText("approved");

  // Revoking it turns the result back to fail.
  const d = page.getByTestId("exception-detail");
  await d.getByTestId("decision-reason").fill("control removed");
  await d.getByTestId("exception-revoke").click();
  await expect(d.getByTestId("exception-status")).toHaveText("revoked");
  await page.goto(`/hosts/${hostId}?tab=compliance`);
  await expect(ruleRow().getByTestId("request-exception")).toBeVisible();
  await expect(summary).toHaveText(scoreBefore);
});
