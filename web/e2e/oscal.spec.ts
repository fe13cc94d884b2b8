import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// OSCAL downloads, on a host of the run's sshd target (scripts/e2e.sh): the page of a
// completed scan downloads its OSCAL assessment results (the same document the API
// serves, one finding per result), and a result's evidence panel downloads that result's.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";
let scanId = "";
let rulesTotal = 0;

type Doc = {
  "assessment-results": { uuid: string; "import-ap": { href: string }; results: { findings: { target: { "target-id": string } }[] }[] };
};
type Plan = { "assessment-plan": { uuid: string } };

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-oscal-${run}`, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-oscal", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-oscal-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: {} });
  expect(res.status(), await res.text()).toBe(202);
  scanId = ((await res.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await admin.get(`/api/v1/scans/${scanId}`)).json()) as { status: string }).status, { timeout: 240_000 })
    .toBe("completed");
  rulesTotal = ((await (await admin.get(`/api/v1/scans/${scanId}`)).json()) as { rules_total: number }).rules_total;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

async function downloaded<T = Doc>(button: ReturnType<Page["getByRole"]>): Promise<{ name: string; doc: T }> {
  const download = page.waitForEvent("download");
  await button.click();
  const d = await download;
  const path = await d.path();
  return { name: d.suggestedFilename(), doc: JSON.parse(readFileSync(path, "utf8")) as T };
}

test("a scan and one of its results download as OSCAL assessment results", async ({}, testInfo) => {
  await page.goto(`/scans/${scanId}`);
  await expect(page.getByTestId("scan-status")).toHaveText("completed");
  const whole = await downloaded(page.getByRole("button", { name: "Download OSCAL assessment results of this scan" }));
  expect(whole.name).toBe(`openwatch-scan-${scanId}-oscal.json`);
  const api = (await (await admin.get(`/api/v1/scans/${scanId}/oscal`)).json()) as Doc;
  expect(whole.doc["assessment-results"].uuid).toBe(api["assessment-results"].uuid);
  expect(whole.doc["assessment-results"].results[0]?.findings).toHaveLength(rulesTotal);
  await expectAccessible(page, testInfo, "scan-oscal");
  await shot(page, "scan-oscal");

  // The plan the results import: the same document the API serves, naming the scan's rules.
  const planRes = await downloaded<Plan>(page.getByRole("button", { name: "Download the OSCAL plan of this scan" }));
  expect(planRes.name).toBe(`openwatch-scan-${scanId}-assessment-plan.json`);
  const apiPlan = (await (await admin.get(`/api/v1/scans/${scanId}/oscal/assessment-plan`)).json()) as Plan;
  expect(planRes.doc["assessment-plan"].uuid).toBe(apiPlan["assessment-plan"].uuid);
  expect(whole.doc["assessment-results"]["import-ap"].href).toBe(`/api/v1/scans/${scanId}/oscal/assessment-plan`);

  // One result, from its evidence panel.
  const ruleId = whole.doc["assessment-results"].results[0]?.findings[0]?.target["target-id"] ?? "";
  await page.goto(`/scans/${scanId}?evidence=${ruleId}`);
  await expect(page.getByTestId("evidence")).toBeVisible();
  const one = await downloaded(page.getByRole("button", { name: "Download OSCAL assessment results of this result" }));
  expect(one.name).toBe(`openwatch-scan-${scanId}-${ruleId}-oscal.json`);
  expect(one.doc["assessment-results"].uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(one.doc["assessment-results"].uuid).not.toBe(whole.doc["assessment-results"].uuid);
  expect(one.doc["assessment-results"].results[0]?.findings.map((f) => f.target["target-id"])).toEqual([ruleId]);
  await expectAccessible(page, testInfo, "scan-result-oscal");
});
