import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Notification channels through the UI: a webhook channel pointing at a receiver this
// spec runs on 127.0.0.1 gets a test message whose signature the receiver verifies; a
// channel whose receiver is gone shows the failure. Names are unique per run.
test.describe.configure({ mode: "serial" });

const run = randomUUID().slice(0, 8);
const secret = `e2e-secret-${run}`;
let page: Page;
let admin: APIRequestContext;
let receiver: Server;
let receiverURL = "";
const received: { valid: boolean; body: string }[] = [];
const channelIds: string[] = [];

// verify checks X-OpenWatch-Signature the way the API document tells receivers to.
function verify(req: IncomingMessage, body: string): boolean {
  const header = String(req.headers["x-openwatch-signature"] ?? "");
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!parts.v1 || !Number.isFinite(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const want = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest();
  const got = Buffer.from(parts.v1, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ valid: verify(req, body), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const addr = receiver.address();
  receiverURL = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/hook`;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  await new Promise((r) => receiver.close(r));
  const res = await admin.get("/api/v1/notifications/channels?limit=200");
  const { channels } = (await res.json()) as { channels: { id: string; name: string }[] };
  for (const c of channels.filter((c) => c.name.includes(run))) channelIds.push(c.id);
  for (const id of new Set(channelIds)) await admin.delete(`/api/v1/notifications/channels/${id}`);
});

test("create a webhook channel, send a test and see it signed", async ({}, testInfo) => {
  await page.goto("/notifications");
  await page.getByRole("link", { name: "Notifications" }).first().waitFor();
  await expect(page.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await page.getByTestId("add-channel").click();
  const dialog = page.getByRole("dialog", { name: "Add notification channel" });
  await dialog.getByLabel("Name").fill(`e2e-hook-${run}`);
  await dialog.getByLabel("URL").fill("not a url");
  await dialog.getByLabel("Signing secret").fill(secret);
  await dialog.getByRole("button", { name: "Create channel" }).click();
  await expect(dialog.getByText("The URL must be an absolute http or https URL.")).toBeVisible();
  await dialog.getByLabel("URL").fill(receiverURL);
  await expectAccessible(page, testInfo, "notification-channel-edit");
  await shot(page, "notification-channel-edit");
  await dialog.getByRole("button", { name: "Create channel" }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByRole("row").filter({ hasText: `e2e-hook-${run}` });
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: /Send test/ }).click();
  const outcome = page.getByTestId("test-outcome");
  await expect(outcome).toContainText(`Test message to e2e-hook-${run}: delivered`);
  expect(received.length).toBe(1);
  expect(received[0]?.valid).toBe(true);
  expect(JSON.parse(received[0]?.body ?? "{}")).toMatchObject({ transition: "test" });
  await expectAccessible(page, testInfo, "notifications");
  await shot(page, "notifications");
});

test("a channel whose receiver is gone shows the failure; edit keeps the secret", async () => {
  const res = await admin.post("/api/v1/notifications/channels", {
    data: { name: `e2e-gone-${run}`, type: "slack", config: { url: "http://127.0.0.1:9/none" } },
  });
  expect(res.status(), await res.text()).toBe(201);
  channelIds.push(((await res.json()) as { id: string }).id);
  await page.goto("/notifications");
  const row = page.getByRole("row").filter({ hasText: `e2e-gone-${run}` });
  await row.getByRole("button", { name: /Send test/ }).click();
  await expect(page.getByTestId("test-outcome")).toContainText("failed");

  const hook = page.getByRole("row").filter({ hasText: `e2e-hook-${run}` });
  await hook.getByRole("button", { name: /Edit/ }).click();
  const dialog = page.getByRole("dialog", { name: `Edit channel e2e-hook-${run}` });
  await expect(dialog.getByText("A secret is stored; leave blank to keep it.")).toBeVisible();
  await dialog.getByLabel("Minimum severity").click();
  await page.getByRole("option", { name: "high" }).click();
  await dialog.getByRole("button", { name: "Save channel" }).click();
  await expect(dialog).toBeHidden();
  await hook.getByRole("button", { name: /Send test/ }).click();
  await expect(page.getByTestId("test-outcome")).toContainText("delivered");
  expect(received.at(-1)?.valid).toBe(true);
});

test("deliveries list with a status filter", async ({}, testInfo) => {
  await page.goto("/notifications?tab=deliveries");
  await expect(page.getByRole("table", { name: "Notification deliveries" })).toBeVisible();
  await page.getByRole("combobox", { name: "Status" }).click();
  await page.getByRole("option", { name: "dead" }).click();
  await expect(page).toHaveURL(/status=dead/);
  await expectAccessible(page, testInfo, "notification-deliveries");
  await shot(page, "notification-deliveries");
});

test("delete a channel after confirming", async () => {
  await page.goto("/notifications");
  const row = page.getByRole("row").filter({ hasText: `e2e-gone-${run}` });
  await row.getByRole("button", { name: /Delete/ }).click();
  const dialog = page.getByRole("dialog", { name: `Delete channel e2e-gone-${run}?` });
  await dialog.getByRole("button", { name: "Delete channel" }).click();
  await expect(row).toBeHidden();
});
