import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// The host detail page of a host made through the API (no SSH behind it): the overview with
// its system, credential and maintenance mode, the empty state of every tab, the host's
// activity, and the fleet's intelligence events page. Compliance with real results is
// covered by flow.spec.ts, which scans a real sshd.
test.describe.configure({ mode: "serial" });

const suffix = Date.now().toString(36);
const hostname = `e2e-detail-${suffix}`;
const credName = `e2e-detail-cred-${suffix}`;
const credSecret = `e2e-secret-${suffix}-do-not-show`;
let page: Page;
let api: APIRequestContext;
let hostId = "";
let credId = "";

test.beforeAll(async ({ browser }) => {
  api = await adminApi();
  const res = await api.post("/api/v1/hosts", {
    data: { hostname, ip_address: "127.0.0.53", port: 2, environment: "e2e-detail", tags: ["detail"] },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  if (credId) await api.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await api.delete(`/api/v1/hosts/${hostId}`);
});

async function openTab(name: string, param: string) {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`tab=${param}`));
}

test("overview: system, credential and maintenance mode", async ({}, testInfo) => {
  await page.goto(`/hosts/${hostId}`);
  await expect(page.getByRole("heading", { level: 1, name: hostname })).toBeVisible();
  await expect(page.getByRole("tab", { name: "Overview" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("system-info-empty")).toContainText("Not discovered yet");
  await expect(page.getByRole("region", { name: "Credential" })).toBeVisible();

  // A credential of the host's own: the page names it and its scope, never its secret.
  const res = await api.post("/api/v1/credentials", {
    data: { scope: "host", scope_id: hostId, name: credName, username: "auditor", auth_method: "password", password: credSecret },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  await page.reload();
  const cred = page.getByRole("table", { name: "Credential used for this host" });
  await expect(cred.getByRole("row", { name: /Name/ })).toContainText(credName);
  await expect(cred.getByRole("row", { name: /Scope/ })).toContainText("this host");
  await expect(cred.getByRole("row", { name: /SSH user/ })).toContainText("auditor");
  await expect(page.getByText(/active credential of its own/)).toBeVisible();
  await expect(page.getByText(credSecret)).toHaveCount(0);

  // Maintenance mode, from the header: on, shown in the facts, then off again.
  const maintenance = page.getByRole("switch", { name: "Maintenance mode" });
  await expect(maintenance).not.toBeChecked();
  // From the keyboard: the switch sits among the header's buttons.
  const toggle = async () => {
    await maintenance.focus();
    await page.keyboard.press("Space");
  };
  await toggle();
  await expect(page.getByText(/Maintenance mode on/)).toBeVisible();
  const facts = page.getByRole("table", { name: "Host facts" });
  await expect(facts.getByRole("row", { name: /Maintenance/ })).toContainText("yes");
  await expect(maintenance).toBeChecked();
  const got = await api.get(`/api/v1/hosts/${hostId}`);
  expect(((await got.json()) as { host: { maintenance_mode: boolean } }).host.maintenance_mode).toBe(true);
  await expectAccessible(page, testInfo, "host-overview");
  await shot(page, "host-overview");
  await toggle();
  await expect(facts.getByRole("row", { name: /Maintenance/ })).toContainText("no");
  await expect(maintenance).not.toBeChecked();
});

test("every tab's empty state", async ({}, testInfo) => {
  await page.goto(`/hosts/${hostId}`);
  await openTab("Compliance", "compliance");
  await expect(page.getByTestId("score-all")).toHaveText("—");
  await expect(page.getByText("No result in this period")).toBeVisible();
  await expect(page.getByText("No results: the host has not been scanned")).toBeVisible();
  await page.getByRole("combobox", { name: "Interval" }).click();
  await page.getByRole("option", { name: "Weekly, 30 days" }).click();
  await expect(page).toHaveURL(/interval=week/);
  await expectAccessible(page, testInfo, "host-compliance-empty");

  await openTab("Scans", "scans");
  await expect(page.getByText("No scan yet")).toBeVisible();

  await openTab("Intelligence", "intelligence");
  await expect(page.getByTestId("intel-empty")).toHaveText("Nothing collected from this host yet.");
  await expect(page.getByRole("table", { name: "Intelligence events of this host" })).toBeVisible();
  await expect(page.getByText("No event yet")).toBeVisible();
  await expectAccessible(page, testInfo, "host-intelligence");
  await shot(page, "host-intelligence");

  await openTab("Host keys", "keys");
  await expect(page.getByText("No key seen yet")).toBeVisible();
});

test("activity: what happened to the host", async ({}, testInfo) => {
  await page.goto(`/hosts/${hostId}?tab=activity`);
  const activity = page.getByRole("table", { name: "Activity of this host" });
  await expect(activity.getByText("host.created")).toBeVisible();
  await expect(activity.getByText("host.maintenance_changed")).toHaveCount(2);
  await expectAccessible(page, testInfo, "host-activity");
  await shot(page, "host-activity");
});

test("intelligence events: filters in the URL, links to hosts", async ({}, testInfo) => {
  await page.goto("/intelligence");
  await expect(page.getByRole("heading", { level: 1, name: "Intelligence" })).toBeVisible();
  const events = page.getByRole("table", { name: "Intelligence events" });
  await expect(events).toBeVisible();
  await page.getByRole("combobox", { name: "Event type" }).click();
  await page.getByRole("option", { name: "Package installed" }).click();
  await expect(page).toHaveURL(/event_type=package_installed/);
  await page.getByRole("combobox", { name: "Severity", exact: true }).click();
  await page.getByRole("option", { name: "high" }).click();
  await expect(page).toHaveURL(/severity=high/);
  // The host filter finds the host by name and keeps it in the URL.
  await page.getByRole("combobox", { name: "Host", exact: true }).fill(hostname);
  await page.getByRole("option", { name: hostname }).click();
  await expect(page).toHaveURL(new RegExp(`host_id=${hostId}`));
  await expect(page.getByText("No event matches")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("combobox", { name: "Host", exact: true })).toHaveValue(hostname);
  await expect(page.getByRole("combobox", { name: "Event type" })).toHaveValue("Package installed");
  await expectAccessible(page, testInfo, "intelligence-events");
  // Without filters: every host's events, each linking to its host.
  await page.goto("/intelligence");
  await expect(page.getByTestId("intel-events-count")).toBeVisible();
  const first = events.getByRole("link").first();
  if (await first.isVisible()) {
    await expect(first).toHaveAttribute("href", /\/hosts\/[0-9a-f-]+/);
  }
  await shot(page, "intelligence-events");
  // In dark mode too (the choice is this browser's, not a server setting).
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expectAccessible(page, testInfo, "intelligence-events-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
  // The host's Intelligence tab links to its events here.
  await page.goto(`/hosts/${hostId}?tab=intelligence`);
  await page.getByRole("link", { name: "In the fleet's intelligence events" }).click();
  await expect(page).toHaveURL(new RegExp(`/intelligence\\?host_id=${hostId}`));
});
