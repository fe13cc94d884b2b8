import { expect, test, type APIRequestContext } from "@playwright/test";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// The system status page against the run's server (scripts/e2e.sh: the managed database,
// serve working jobs in-process, metrics on a loopback port): every readiness check passes,
// and the page shows the managed database, the running worker and the metrics listener,
// the same address GET /ready and Prometheus use.
let admin: APIRequestContext;

test.beforeAll(async () => {
  admin = await adminApi();
});

test("the system status page shows readiness, the database, workers and the metrics listener", async ({ browser }, testInfo) => {
  // The worker heartbeat is River's leader lease: a fresh server is ready once elected.
  await expect
    .poll(async () => (await admin.get("/api/v1/ready")).status(), { timeout: 30_000, message: "GET /ready answers 200" })
    .toBe(200);
  const res = await admin.get("/api/v1/system/status");
  expect(res.status(), await res.text()).toBe(200);
  const status = (await res.json()) as { metrics: { enabled: boolean; listen: string } };

  const page = await adminPage(browser);
  await page.goto("/");
  await expect(page.getByRole("navigation").getByRole("link", { name: "System status" })).toBeVisible();
  await page.goto("/system");
  await expect(page.getByRole("heading", { level: 1, name: "System status" })).toBeVisible();
  await expect(page.getByTestId("readiness")).toHaveText("ready");
  const checks = page.getByRole("table", { name: "Readiness checks" });
  for (const name of ["Database reachable", "Schema up to date", "Worker heartbeat", "Managed database running"]) {
    await expect(checks.getByRole("row", { name: new RegExp(name) })).toContainText("ok");
  }
  await expect(page.getByTestId("database-kind")).toHaveText("Managed (local cluster)");
  await expect(page.getByTestId("workers-alive")).toHaveText("running");
  if (status.metrics.enabled) {
    await expect(page.getByTestId("metrics-listener")).toContainText(`${status.metrics.listen}/metrics`);
  }
  await shot(page, "system-status");
  await expectAccessible(page, testInfo, "system status");
  await page.context().close();
});
