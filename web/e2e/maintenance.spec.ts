import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Maintenance windows through the UI: on a host's Maintenance tab the admin adds a weekly
// Berlin window (a bad start time is refused on the form), previews its next openings,
// disables and deletes it; a window added on the host's group shows in the host's merged
// next openings.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let groupId = "";

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  let res = await admin.post("/api/v1/groups", { data: { name: `e2e-mw-${run}` }, headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(201);
  groupId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-mw-${run}`, ip_address: "127.0.0.1", port: 22, environment: "e2e-maintenance", group_id: groupId },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
  if (groupId) await admin.delete(`/api/v1/groups/${groupId}`);
});

async function addWindow(name: string, start: string): Promise<void> {
  await page.getByRole("button", { name: "Add window" }).click();
  const form = page.getByRole("dialog", { name: "Add maintenance window" });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("combobox", { name: "Time zone" }).fill("Europe/Berlin");
  await page.getByRole("option", { name: "Europe/Berlin", exact: true }).click();
  await form.getByLabel("Start time (HH:MM, local)").fill(start);
  await form.getByRole("button", { name: "Add window" }).click();
}

test("add, preview, disable and delete a host window; group windows merge into the host's openings", async ({}, testInfo) => {
  await page.goto(`/hosts/${hostId}?tab=maintenance`);
  const panel = page.getByTestId("maintenance-windows");
  await expect(panel.getByText("No maintenance windows.")).toBeVisible();

  // A start time that is not HH:MM is refused and the dialog stays open with the error.
  await addWindow(`bad-${run}`, "25:00");
  const form = page.getByRole("dialog", { name: "Add maintenance window" });
  await expect(form.locator('[aria-invalid="true"], [role="alert"]').first()).toBeVisible();
  await expectAccessible(page, testInfo, "maintenance-window-form");
  await shot(page, "maintenance-window-form");
  await form.getByLabel("Start time (HH:MM, local)").fill("02:30");
  await form.getByRole("button", { name: "Add window" }).click();
  await expect(form).toBeHidden();

  const table = panel.getByTestId("mw-table");
  await expect(table.getByRole("row", { name: new RegExp(`bad-${run}`) })).toContainText("Sun at 02:30 for 120 min");
  await expect(panel.getByTestId("mw-openings").getByRole("row", { name: new RegExp(`bad-${run}`) }).first()).toBeVisible();
  await expectAccessible(page, testInfo, "host-maintenance");
  await shot(page, "host-maintenance");

  await page.getByRole("button", { name: `Next openings of bad-${run}` }).click();
  const preview = page.getByRole("dialog", { name: `Next openings of bad-${run}` });
  await expect(preview.getByRole("row")).toHaveCount(11);
  await expectAccessible(page, testInfo, "maintenance-window-preview");
  await page.keyboard.press("Escape");
  await expect(preview).toBeHidden();

  await page.getByRole("button", { name: `Disable bad-${run}` }).click();
  await expect(table.getByRole("row", { name: new RegExp(`bad-${run}`) })).toContainText("disabled");
  await expect(panel.getByText("No upcoming openings.")).toBeVisible();

  // A group window: shown on the group page and merged into the host's next openings.
  await page.goto(`/groups/${groupId}`);
  const groupPanel = page.getByTestId("maintenance-windows");
  await addWindow(`group-${run}`, "23:00");
  await expect(groupPanel.getByTestId("mw-table")).toContainText(`group-${run}`);
  await expectAccessible(page, testInfo, "group-maintenance");
  await shot(page, "group-maintenance");
  await page.goto(`/hosts/${hostId}?tab=maintenance`);
  await expect(panel.getByTestId("mw-openings").getByRole("row", { name: new RegExp(`group-${run}`) }).first()).toBeVisible();

  // Deleting asks first.
  await page.getByRole("button", { name: `Delete bad-${run}` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete window bad-${run}?` });
  await confirm.getByRole("button", { name: "Delete window" }).click();
  await expect(confirm).toBeHidden();
  await expect(panel.getByText("No maintenance windows.")).toBeVisible();
});
