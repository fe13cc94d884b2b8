import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Alerts through the UI. Hosts at a closed loopback port fail their connectivity checks;
// the third failure marks them down and the liveness poller's source raises a
// host_unreachable alert, which the page then acknowledges, silences and resolves. A
// second alert, dismissed behind the page's back, shows the server's 409 message.
test.describe.configure({ mode: "serial" });

const run = randomUUID().slice(0, 8);
let page: Page;
let admin: APIRequestContext;
const hostIds: string[] = [];

type Alert = { id: string; state: string; title: string; severity: string };

async function addHost(hostname: string, ip: string): Promise<string> {
  const res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: ip, port: 1, environment: `e2e-alerts-${run}` },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  const body = (await res.json()) as { id?: string; host?: { id: string } };
  const id = body.id ?? body.host?.id ?? "";
  hostIds.push(id);
  return id;
}

async function activeAlert(hostId: string): Promise<Alert | undefined> {
  const res = await admin.get(`/api/v1/alerts?host_id=${hostId}&state=active`);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { items: Alert[] }).items[0];
}

// bringDown checks the host's connectivity until it is down and its alert is raised.
async function bringDown(hostId: string): Promise<Alert> {
  for (let i = 0; i < 10; i++) {
    const a = await activeAlert(hostId);
    if (a) return a;
    const res = await admin.post(`/api/v1/hosts/${hostId}/connectivity:check`, { headers: { "Idempotency-Key": randomUUID() } });
    expect([200, 409], await res.text()).toContain(res.status());
  }
  const a = await activeAlert(hostId);
  expect(a, "the host_unreachable alert").toBeDefined();
  return a as Alert;
}

let first: Alert;
let second: Alert;
let firstHost = "";

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  firstHost = await addHost(`e2e-alerts-${run}-1`, "127.0.0.61");
  const secondHost = await addHost(`e2e-alerts-${run}-2`, "127.0.0.62");
  first = await bringDown(firstHost);
  second = await bringDown(secondHost);
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  for (const id of hostIds) await admin.delete(`/api/v1/hosts/${id}`);
});

test("the host page links to its alerts, filtered in the URL", async ({}, testInfo) => {
  await page.goto(`/hosts/${firstHost}`);
  await page.getByTestId("host-alerts").click();
  await expect(page).toHaveURL(new RegExp(`/alerts\\?host_id=${firstHost}`));
  await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();
  const table = page.getByRole("table", { name: "Alerts" });
  await expect(table.getByRole("link", { name: first.title })).toBeVisible();
  await expect(table.getByRole("link", { name: second.title })).toHaveCount(0);
  // The state filter goes into the URL too.
  await page.getByRole("combobox", { name: "State" }).click();
  await page.getByRole("option", { name: "active" }).click();
  await expect(page).toHaveURL(/state=active/);
  await expect(table.getByRole("link", { name: first.title })).toBeVisible();
  await page.mouse.move(0, 0);
  await expectAccessible(page, testInfo, "alerts");
  await shot(page, "alerts");
});

test("the dashboard counts active alerts by severity, linking to the filtered list", async ({}, testInfo) => {
  await page.goto("/");
  const panel = page.getByTestId("panel-alerts");
  await expect(panel.getByRole("table", { name: "Active alerts by severity" })).toBeVisible();
  const link = panel.getByTestId(`alerts-${first.severity}`);
  await expect(link).not.toHaveText("…");
  await expect(link).not.toHaveText("0");
  await page.mouse.move(0, 0);
  await expectAccessible(page, testInfo, "dashboard-alerts");
  await shot(page, "dashboard-alerts");
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/alerts\\?.*severity=${first.severity}`));
  await expect(page).toHaveURL(/state=active/);
  await expect(page.getByRole("table", { name: "Alerts" }).getByRole("link", { name: first.title })).toBeVisible();
});

test("the bell shows the raised alert, follows it to its drawer and marks it read", async ({}, testInfo) => {
  await page.goto("/");
  await expect(page.getByTestId("feed-bell")).toHaveAttribute("aria-label", /unread/);
  await page.getByTestId("feed-bell").click();
  const dropdown = page.getByTestId("feed-dropdown");
  const item = dropdown.getByTestId("feed-item").filter({ hasText: first.title });
  await expect(item).toBeVisible();
  await expectAccessible(page, testInfo, "feed-bell");
  await shot(page, "feed-bell");
  await item.click();
  await expect(page).toHaveURL(new RegExp(`/alerts\\?alert=${first.id}`));
  await expect(page.getByRole("dialog", { name: "Alert" }).getByTestId("alert-state")).toHaveText("active");
  await page.keyboard.press("Escape");
  await page.getByTestId("feed-bell").click();
  await expect(dropdown.getByTestId("feed-item").filter({ hasText: first.title })).toHaveAttribute("data-unread", "false");
  await dropdown.getByTestId("feed-read-all").click();
  await expect(dropdown.getByTestId("feed-item").first()).toHaveAttribute("data-unread", "false");
  await expect(page.getByTestId("feed-bell")).toHaveAttribute("aria-label", "Notifications, none unread");
  await page.keyboard.press("Escape");
});

test("acknowledge, silence and resolve an alert in its drawer, with its history", async ({}, testInfo) => {
  await page.goto(`/alerts?host_id=${firstHost}`);
  await page.getByRole("link", { name: first.title }).click();
  const drawer = page.getByRole("dialog", { name: "Alert" });
  await expect(drawer.getByTestId("alert-state")).toHaveText("active");
  await drawer.getByTestId("alert-reason").fill("looking into it");
  await drawer.getByTestId("alert-acknowledge").click();
  await expect(drawer.getByTestId("alert-state")).toHaveText("acknowledged");
  await expect(drawer.getByTestId("alert-acknowledge")).toHaveCount(0);

  // A time in the past is refused on the field, before asking.
  await drawer.getByLabel("Silence until").fill("2020-01-01T00:00");
  await drawer.getByTestId("alert-silence").click();
  await expect(drawer.getByLabel("Silence until")).toHaveAttribute("aria-invalid", "true");
  const later = new Date(Date.now() + 2 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  await drawer
    .getByLabel("Silence until")
    .fill(`${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T${pad(later.getHours())}:${pad(later.getMinutes())}`);
  await drawer.getByTestId("alert-silence").click();
  await expect(drawer.getByTestId("alert-state")).toHaveText("silenced");
  await expect(drawer.getByText("Silenced until")).toBeVisible();
  const history = drawer.getByRole("table", { name: "Alert history" });
  await expect(history.getByText("Raised", { exact: true })).toBeVisible();
  await expect(history.getByText("Silenced", { exact: true })).toBeVisible();
  await expect(history.getByRole("row").filter({ hasText: "Acknowledged" })).toContainText("looking into it");
  await expectAccessible(page, testInfo, "alert-detail");
  await shot(page, "alert-detail");

  await drawer.getByTestId("alert-resolve").click();
  const confirm = page.getByRole("dialog", { name: "Resolve this alert?" });
  await confirm.getByTestId("alert-confirm-reason").fill("the host is back");
  await confirm.getByTestId("alert-confirm").click();
  await expect(drawer.getByTestId("alert-state")).toHaveText("resolved");
  await expect(history.getByRole("row").filter({ hasText: "Resolved" })).toContainText("the host is back");
  await expect(drawer.getByRole("region", { name: "Actions" })).toHaveCount(0);
});

test("a move another user made first shows the server's 409 message", async () => {
  await page.goto(`/alerts?alert=${second.id}`);
  const drawer = page.getByRole("dialog", { name: "Alert" });
  await expect(drawer.getByTestId("alert-state")).toHaveText("active");
  const res = await admin.post(`/api/v1/alerts/${second.id}:dismiss`, { data: {} });
  expect(res.status(), await res.text()).toBe(200);
  await drawer.getByTestId("alert-acknowledge").click();
  await expect(drawer.getByRole("alert")).toContainText("An alert that is dismissed cannot be acknowledged.");
  await expect(drawer.getByTestId("alert-state")).toHaveText("dismissed");
});

test("a host's scans failing three times in a row raise scan_failing, listed on the Alerts page", async () => {
  // No credential: each scan of this host fails at once, without a packet sent.
  const hostId = await addHost(`e2e-alerts-${run}-3`, "127.0.0.63");
  for (let i = 0; i < 3; i++) {
    const res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: {}, headers: { "Idempotency-Key": randomUUID() } });
    expect(res.status(), await res.text()).toBe(202);
    const scan = (await res.json()) as { id: string };
    await expect
      .poll(async () => ((await (await admin.get(`/api/v1/scans/${scan.id}`)).json()) as { status: string }).status, { timeout: 30_000 })
      .toBe("failed");
  }
  const res = await admin.get(`/api/v1/alerts?host_id=${hostId}`);
  const failing = ((await res.json()) as { items: (Alert & { alert_type: string; severity: string })[] }).items.find(
    (a) => a.alert_type === "scan_failing",
  );
  expect(failing, "the scan_failing alert").toBeDefined();
  expect(failing?.severity).toBe("high");
  await page.goto(`/alerts?host_id=${hostId}`);
  const table = page.getByRole("table", { name: "Alerts" });
  await expect(table.getByRole("link", { name: "Scans of the host failed 3 times in a row" })).toBeVisible();
});

test("the alert thresholds on the Settings page refuse a value out of bounds on its field", async ({}, testInfo) => {
  await page.goto("/settings?tab=alerts");
  const card = page.getByRole("region", { name: "Alerts settings" });
  const field = card.getByLabel("Score drop points", { exact: true });
  await expect(field).toHaveValue(/\d+/);
  await expect(card.getByLabel("Scan failures", { exact: true })).toBeVisible();
  await field.fill("0");
  await card.getByRole("button", { name: "Save alerts settings" }).click();
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await page.mouse.move(0, 0);
  await expectAccessible(page, testInfo, "settings-alerts");
  await shot(page, "settings-alerts");
  // Nothing was stored: a reload shows the thresholds in force.
  await page.reload();
  await expect(page.getByRole("region", { name: "Alerts settings" }).getByLabel("Score drop points", { exact: true })).not.toHaveValue("0");
});

test("the audit log says when the periodic check last verified the chain", async ({}, testInfo) => {
  // The check runs when the server starts, then every alerts.audit_verify_interval.
  await page.goto("/audit");
  await expect(page.getByTestId("audit-chain-status")).toContainText(/Chain last verified .*: intact \(\d+ events\)\./);
  await page.mouse.move(0, 0);
  await expectAccessible(page, testInfo, "audit-chain-status");
  await shot(page, "audit-chain-status");
});
