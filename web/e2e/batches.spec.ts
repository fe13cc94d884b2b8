import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Scan batches through the UI: a batch over hosts nothing answers for (they fail at once)
// runs to its final counts; a batch over hosts that hold the scan (a loopback listener
// that accepts and never speaks) is cancelled while it runs. Every host here has this
// file's own environment, so the batches select only them.
test.describe.configure({ mode: "serial" });

const run = randomUUID().slice(0, 8);
const failEnv = `e2e-batch-fail-${run}`;
const holdEnv = `e2e-batch-hold-${run}`;
let page: Page;
let finishedBatch = "";
let admin: APIRequestContext;
const hostIds: string[] = [];
const credentialIds: string[] = [];
const sockets = new Set<Socket>();
const listeners: Server[] = [];

async function addHost(hostname: string, ip: string, port: number, environment: string): Promise<string> {
  const res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: ip, port, environment, username: "e2e" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  const body = (await res.json()) as { id?: string; host?: { id: string } };
  const id = body.id ?? body.host?.id ?? "";
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  hostIds.push(id);
  return id;
}

// holdListener accepts connections on a loopback address and never answers, so an SSH
// connection to it waits for the server's dial timeout.
function holdListener(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    });
    srv.on("error", reject);
    srv.listen(0, ip, () => {
      listeners.push(srv);
      const addr = srv.address();
      resolve(typeof addr === "object" && addr ? addr.port : 0);
    });
  });
}

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  for (let i = 1; i <= 2; i++) await addHost(`e2e-batch-fail-${run}-${i}`, `127.0.0.${20 + i}`, 1, failEnv);
  const { privateKey } = generateKeyPairSync("ed25519", { privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  for (let i = 1; i <= 3; i++) {
    const ip = `127.0.0.${30 + i}`;
    const id = await addHost(`e2e-batch-hold-${run}-${i}`, ip, await holdListener(ip), holdEnv);
    // A host-scoped credential, so the scan gets as far as dialling the host.
    const res = await admin.post("/api/v1/credentials", {
      data: { name: `e2e-batch-${run}-${i}`, scope: "host", scope_id: id, username: "e2e", auth_method: "ssh_key", private_key: privateKey },
      headers: { "Idempotency-Key": randomUUID() },
    });
    expect(res.status(), await res.text()).toBe(201);
    credentialIds.push(((await res.json()) as { id: string }).id);
  }
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  for (const s of sockets) s.destroy();
  await Promise.all(listeners.map((l) => new Promise((r) => l.close(r))));
  for (const id of hostIds) await admin.delete(`/api/v1/hosts/${id}`);
  for (const id of credentialIds) await admin.delete(`/api/v1/credentials/${id}`);
});

async function startBatch(environment: string, concurrency: number): Promise<string> {
  await page.goto("/scan-batches");
  await expect(page.getByRole("heading", { level: 1, name: "Scan batches" })).toBeVisible();
  await page.getByTestId("start-batch").click();
  const dialog = page.getByRole("dialog", { name: "Start a scan batch" });
  await dialog.getByText("A filter", { exact: true }).click();
  await dialog.getByLabel("Environment").fill(environment);
  await dialog.getByLabel("Concurrency").fill(String(concurrency));
  await dialog.getByRole("button", { name: "Start batch" }).click();
  await expect(page).toHaveURL(/\/scan-batches\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: "Scan batch", exact: true })).toBeVisible();
  // Who started it, by name.
  await expect(page.getByText(/ · started .* by admin$/)).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").pop() ?? "";
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return id;
}

test("the start form shows what the server refuses on the field", async ({}, testInfo) => {
  await page.goto("/scan-batches?start=true");
  const dialog = page.getByRole("dialog", { name: "Start a scan batch" });
  await dialog.getByText("A filter", { exact: true }).click();
  await dialog.getByRole("button", { name: "Start batch" }).click();
  // Checked before asking: a filter needs at least one value.
  await expect(dialog.getByLabel("Search")).toHaveAttribute("aria-invalid", "true");
  await dialog.getByLabel("Environment").fill(failEnv);
  await dialog.getByLabel("Rule ids").fill("no-such-rule-xyz");
  await dialog.getByLabel("Rule ids").press("Enter");
  await dialog.getByRole("button", { name: "Start batch" }).click();
  // The server names rule_ids; the form shows its message there.
  await expect(dialog.getByLabel("Rule ids")).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page, testInfo, "scan-batch-start");
  await shot(page, "scan-batch-start");
  await page.keyboard.press("Escape");
});

test("a batch over unreachable hosts shows its progress and final counts", async ({}, testInfo) => {
  const id = await startBatch(failEnv, 10);
  finishedBatch = id;
  await expect(page.getByTestId("batch-hosts-total")).toHaveText("2");
  await expect(page.getByRole("progressbar", { name: /Batch progress/ })).toBeVisible();
  await expect(page.getByTestId("batch-status")).toHaveText("completed", { timeout: 60_000 });
  await expect(page.getByTestId("batch-done")).toHaveText("2 of 2 scans ended");
  await expect(page.getByTestId("batch-failed")).toHaveText("2");
  const scans = page.getByRole("table", { name: "Scans of this batch" });
  await expect(scans.getByText("failed")).toHaveCount(2);
  await expect(scans.getByRole("link", { name: `e2e-batch-fail-${run}-1` })).toBeVisible();
  // The pointer is left where the dialog's button was: off the table, so no row is hovered.
  await page.mouse.move(0, 0);
  await expectAccessible(page, testInfo, "scan-batch");
  await shot(page, "scan-batch");

  // The list shows it, and the scans list links each scan to its batch.
  await page.goto("/scan-batches");
  const list = page.getByRole("table", { name: "Scan batches" });
  const row = list.getByRole("row").filter({ hasText: `Hosts with environment ${failEnv}` });
  await expect(row).toContainText("completed");
  await expect(row.getByRole("progressbar", { name: "Batch progress: 2 of 2 scans ended" })).toBeVisible();
  await expectAccessible(page, testInfo, "scan-batches");
  await shot(page, "scan-batches");
  await page.goto("/scans");
  await page.getByRole("table", { name: "Scans" }).getByRole("link", { name: new RegExp(`^Batch …${id.slice(-8)}$`) }).first().click();
  await expect(page).toHaveURL(new RegExp(`/scan-batches/${id}$`));
});

test("a running batch is cancelled after confirming", async () => {
  await startBatch(holdEnv, 1);
  await expect(page.getByTestId("batch-hosts-total")).toHaveText("3");
  await expect(page.getByTestId("batch-status")).toHaveText("running");
  // One scan holds on its silent host while the others wait their turn.
  await expect(page.getByTestId("batch-running")).toHaveText("1", { timeout: 30_000 });
  await page.getByRole("button", { name: "Cancel batch" }).click();
  const confirm = page.getByRole("dialog", { name: "Cancel this batch?" });
  await confirm.getByRole("button", { name: "Keep running" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("batch-status")).toHaveText("running");
  await page.getByRole("button", { name: "Cancel batch" }).click();
  await confirm.getByRole("button", { name: "Cancel batch" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("batch-status")).toHaveText("cancelled");
  await expect(page.getByRole("button", { name: "Cancel batch" })).toHaveCount(0);
  await expect(page.getByTestId("batch-cancelled")).not.toHaveText("0", { timeout: 30_000 });
  await expect(page.getByTestId("batch-completed")).toHaveText("0");
  await shot(page, "scan-batch-cancelled");
});

test("the batch pages read well in dark mode", async ({}, testInfo) => {
  await page.goto(`/scan-batches/${finishedBatch}`);
  await expect(page.getByTestId("batch-status")).toHaveText("completed");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expectAccessible(page, testInfo, "scan-batch-dark");
  await shot(page, "scan-batch-dark");
  await page.goto("/scan-batches");
  await expect(page.getByRole("table", { name: "Scan batches" }).getByRole("row").nth(1)).toBeVisible();
  await expectAccessible(page, testInfo, "scan-batches-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
});
