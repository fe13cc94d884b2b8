import { expect, test, type Page } from "@playwright/test";
import { adminApi, adminPassword, currentStep, expectAccessible, shot, signIn, totp } from "./helpers";

// One signed-in admin page for the whole file: the specs run in order against one server.
test.describe.configure({ mode: "serial" });

let page: Page;
let hostId = "";

test.beforeAll(async ({ browser }) => {
  page = await (await browser.newContext()).newPage();
});

test.afterAll(async () => {
  await page.context().close();
});

async function visit(path: string, heading: string | RegExp) {
  await page.goto(path);
  await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
}

test("sign-in page is accessible and signs the admin in", async ({}, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByLabel("Username")).toBeFocused();
  await expectAccessible(page, testInfo, "sign-in");
  await shot(page, "sign-in");

  await signIn(page, "admin", "wrong-password-1");
  await expect(page.getByRole("alert")).toContainText(/./);

  await page.getByLabel("Password", { exact: true }).fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("live-status")).toHaveText("Live");
});

test("dashboard", async ({}, testInfo) => {
  await visit("/", "Dashboard");
  await expect(page.getByTestId("panel-score")).toBeVisible();
  await expect(page.getByTestId("panel-liveness")).toBeVisible();
  // The running build, from GET /version, at the foot of the navigation.
  await expect(page.getByTestId("version")).toContainText(/OpenWatch \S+ · rules \S+/);
  await expectAccessible(page, testInfo, "dashboard");
  await shot(page, "dashboard-1280");
});

test("hosts: add host maps the server's 400 onto the field, then adds", async ({}, testInfo) => {
  await visit("/hosts", "Hosts");
  await page.getByTestId("add-host").click();
  const dialog = page.getByRole("dialog", { name: "Add host" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Hostname").fill("bad host name!");
  await dialog.getByLabel("IP address").fill("127.0.0.1");
  await dialog.getByRole("button", { name: "Add host" }).click();
  // The server names the field; the form shows its message under Hostname.
  await expect(dialog.getByLabel("Hostname")).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page, testInfo, "hosts-add-invalid");
  await shot(page, "hosts-add-400");

  await dialog.getByLabel("Hostname").fill("e2e-web-1");
  await dialog.getByLabel("Tags").fill("e2e");
  await dialog.getByLabel("Tags").press("Enter");
  await dialog.getByRole("button", { name: "Add host" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "e2e-web-1" })).toBeVisible();
  hostId = new URL(page.url()).pathname.split("/").pop() ?? "";
  expect(hostId).toMatch(/^[0-9a-f-]{36}$/);
});

test("hosts list with filters in the URL", async ({}, testInfo) => {
  await visit("/hosts?q=e2e-web", "Hosts");
  const table = page.getByRole("table", { name: "Hosts" });
  await expect(table.getByRole("link", { name: "e2e-web-1" })).toBeVisible();
  await expect(page.getByLabel("Search")).toHaveValue("e2e-web");
  await expectAccessible(page, testInfo, "hosts");
  await shot(page, "hosts-1280");

  await page.getByLabel("Search").fill("no-such-host-xyz");
  await expect(page).toHaveURL(/q=no-such-host-xyz/);
  await expect(page.getByText("No host matches these filters.")).toBeVisible();
});

test("host detail: overview and compliance tabs", async ({}, testInfo) => {
  await visit(`/hosts/${hostId}`, "e2e-web-1");
  await expect(page.getByRole("tab", { name: "Overview" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("region", { name: "Liveness history" })).toBeVisible();
  await page.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit e2e-web-1" });
  await edit.getByLabel("Tags").fill("edited");
  await edit.getByLabel("Tags").press("Enter");
  await edit.getByRole("button", { name: "Save host" }).click();
  await expect(edit).toBeHidden();
  await expect(page.getByRole("table", { name: "Host facts" }).getByRole("row", { name: /Tags/ })).toContainText("e2e, edited");
  await expectAccessible(page, testInfo, "host-overview");
  await shot(page, "host-overview");
  await page.getByRole("tab", { name: "Compliance" }).click();
  await expect(page).toHaveURL(/tab=compliance/);
  await expect(page.getByRole("table", { name: "Rule results" })).toBeVisible();
  await expectAccessible(page, testInfo, "host-compliance");
  await shot(page, "host-compliance");
  await page.getByRole("tab", { name: "Scans" }).click();
  await expect(page).toHaveURL(/tab=scans/);
});

test("scan now queues a scan and its page shows how it ends", async ({}, testInfo) => {
  await visit(`/hosts/${hostId}`, "e2e-web-1");
  await page.getByTestId("scan-now").click();
  await expect(page).toHaveURL(/\/scans\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: "Scan of e2e-web-1" })).toBeVisible();
  // The page neither reloads nor polls: a status that changes after the page loaded can
  // only come through the event stream. The host has no credential, so the scan fails.
  await expect(page.getByTestId("scan-status")).toHaveText(/failed|completed/, { timeout: 45_000 });
  await expectAccessible(page, testInfo, "scan-detail");
  await shot(page, "scan-detail");
});

test("the dashboard shows live events from the stream", async () => {
  await visit("/", "Dashboard");
  await expect(page.getByTestId("live-status")).toHaveText("Live");
  await expect(page.getByTestId("panel-live")).toContainText("events appear here");
  // A scan started elsewhere (here through the API) reaches this tab over SSE.
  const res = await (await adminApi()).post(`/api/v1/hosts/${hostId}/scans`);
  expect(res.status(), await res.text()).toBe(202);
  const live = page.getByRole("table", { name: "Live events" });
  await expect(live.getByText("scan.finished").first()).toBeVisible({ timeout: 30_000 });
  await expect(live.getByRole("link", { name: "e2e-web-1" }).first()).toBeVisible();
  await shot(page, "dashboard-live");
});

test("scans list", async ({}, testInfo) => {
  await visit("/scans", "Scans");
  await expect(page.getByRole("table", { name: "Scans" }).getByRole("link", { name: "e2e-web-1" })).toHaveCount(2);
  await expectAccessible(page, testInfo, "scans");
  await shot(page, "scans");
});

test("rules browser and a rule page", async ({}, testInfo) => {
  await visit("/rules", "Rules");
  const table = page.getByRole("table", { name: "Rules" });
  const first = table.getByRole("link").first();
  await expect(first).toBeVisible({ timeout: 20_000 });
  await expectAccessible(page, testInfo, "rules");
  await shot(page, "rules");

  await page.getByLabel("Severity").first().click();
  await page.getByRole("option", { name: "critical" }).click();
  await expect(page).toHaveURL(/severity=critical/);
  await expect(table.getByText("critical").first()).toBeVisible();

  await table.getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: "Implementations" })).toBeVisible();
  await expectAccessible(page, testInfo, "rule");
  await shot(page, "rule");
});

test("activity, audit log, administration, account", async ({}, testInfo) => {
  await visit("/activity", "Activity");
  await expectAccessible(page, testInfo, "activity");
  await shot(page, "activity");

  await visit("/audit", "Audit log");
  await expect(page.getByRole("table", { name: "Audit events" }).getByText("host.created").first()).toBeVisible();
  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByText(/The chain is intact/)).toBeVisible();
  // Export is a licensed feature; without the license the buttons say so instead of
  // failing with a 402.
  const license = await (await adminApi()).get("/api/v1/license");
  const { features = [] } = (await license.json()) as { features?: string[] };
  if (features.includes("audit_export")) {
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    expect((await download).suggestedFilename()).toBe("openwatch-audit.csv");
  } else {
    await expect(page.getByRole("button", { name: "Export CSV" })).toBeDisabled();
    await expect(page.getByText("Export needs an OpenWatch Plus or Enterprise license.")).toBeVisible();
  }
  await expectAccessible(page, testInfo, "audit");
  await shot(page, "audit");

  await visit("/admin", "Administration");
  await expect(page.getByRole("table", { name: "Users" }).getByRole("cell", { name: "admin", exact: true }).first()).toBeVisible();
  await expectAccessible(page, testInfo, "admin");
  await shot(page, "admin");

  // A custom role from the permission catalogue.
  await visit("/admin?tab=roles", "Administration");
  await page.getByRole("button", { name: "Add custom role" }).click();
  const roleDialog = page.getByRole("dialog", { name: "Add custom role" });
  await roleDialog.getByLabel("Role id").fill("e2e_reader");
  await roleDialog.getByRole("textbox", { name: /^Description/ }).fill("Reads hosts and scans.");
  await roleDialog.getByRole("checkbox", { name: /^host:read/ }).check();
  await roleDialog.getByRole("checkbox", { name: /^scan:read/ }).check();
  await expectAccessible(page, testInfo, "admin-role-picker");
  await shot(page, "admin-role-picker");
  await roleDialog.getByRole("button", { name: "Create role" }).click();
  await expect(roleDialog).toBeHidden();
  await expect(page.getByRole("region", { name: "Role e2e_reader" })).toContainText("host:read");
  await page.getByRole("tab", { name: "Users" }).click();
  await page.getByRole("button", { name: "Change admin" }).click();
  await page.getByRole("menuitem", { name: "Give e2e_reader" }).click();
  const adminRow = page.getByRole("table", { name: "Users" }).getByRole("row", { name: /^admin / });
  await expect(adminRow).toContainText("e2e_reader");
  await page.getByRole("button", { name: "Change admin" }).click();
  await page.getByRole("menuitem", { name: "Remove e2e_reader" }).click();
  await expect(adminRow).not.toContainText("e2e_reader");

  // A service account and a token shown once.
  await visit("/admin?tab=service-accounts", "Administration");
  await page.getByRole("button", { name: "Add service account" }).click();
  const saDialog = page.getByRole("dialog", { name: "Add service account" });
  await saDialog.getByLabel("Name").fill("e2e-ci");
  await saDialog.getByRole("button", { name: "Create service account" }).click();
  await expect(saDialog).toBeHidden();
  const sa = page.getByRole("region", { name: "Service account e2e-ci" });
  await sa.getByRole("button", { name: "New token" }).click();
  const tokenDialog = page.getByRole("dialog", { name: "New token for e2e-ci" });
  await tokenDialog.getByLabel("Token name").fill("ci");
  await tokenDialog.getByRole("button", { name: "Create token" }).click();
  await expect(tokenDialog.getByTestId("new-token")).not.toBeEmpty();
  await expect(tokenDialog.getByRole("button", { name: "Copy token" })).toBeVisible();
  await expectAccessible(page, testInfo, "admin-token-once");
  await shot(page, "admin-token-once");
  await tokenDialog.getByRole("button", { name: "Done" }).click();
  await expect(sa.getByRole("table", { name: "Tokens of e2e-ci" }).getByRole("cell", { name: "ci", exact: true })).toBeVisible();
  await expectAccessible(page, testInfo, "admin-service-accounts");
  await shot(page, "admin-service-accounts");

  await visit("/account", "Account and security");
  await expectAccessible(page, testInfo, "account");
  await shot(page, "account");
});

test("settings: a value the server refuses is shown on its field", async ({}, testInfo) => {
  await visit("/settings", "Settings");
  const section = page.getByRole("region", { name: "Connectivity settings" });
  const timeout = section.getByLabel("Timeout (seconds)");
  await expect(timeout).not.toHaveValue("");
  await timeout.fill("0");
  await section.getByRole("button", { name: "Save connectivity settings" }).click();
  await expect(timeout).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page, testInfo, "settings-invalid");
  await shot(page, "settings-400");
  await timeout.fill("7");
  await section.getByRole("button", { name: "Save connectivity settings" }).click();
  await expect(page.getByText("Connectivity settings saved.")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("region", { name: "Connectivity settings" }).getByLabel("Timeout (seconds)")).toHaveValue("7");

  await page.getByRole("tab", { name: "Security policy" }).click();
  await expect(page.getByRole("region", { name: "Security policy settings" }).getByLabel("Require MFA")).toBeVisible();
  await expectAccessible(page, testInfo, "settings-security");
  await page.getByRole("tab", { name: "License" }).click();
  await expect(page.getByRole("table", { name: "License" })).toBeVisible();
  await shot(page, "settings-license");
});

test("dark mode and 1920x1080", async ({}, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await visit("/", "Dashboard");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expectAccessible(page, testInfo, "dashboard-dark");
  await shot(page, "dashboard-dark-1920");
  await visit("/hosts", "Hosts");
  await expectAccessible(page, testInfo, "hosts-dark");
  await shot(page, "hosts-dark-1920");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("keyboard: skip link and navigation", async () => {
  await visit("/", "Dashboard");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Rules" })).toBeVisible();
  await expect(page.locator("#main")).toBeFocused();
});

test("an expired session sends the user to sign in and back, or renews itself", async () => {
  // Without a session, opening a page asks to sign in, then returns to the same page with
  // its filters.
  await page.context().clearCookies();
  await page.goto("/hosts?q=e2e-web");
  await expect(page).toHaveURL(/\/sign-in\?redirect=/);
  await signIn(page, "admin", adminPassword);
  await expect(page).toHaveURL(/\/hosts\?q=e2e-web/);
  await expect(page.getByRole("table", { name: "Hosts" }).getByRole("link", { name: "e2e-web-1" })).toBeVisible();

  // The cookie goes away while the tab is open: the refresh token this sign-in left in
  // memory renews the session and the failed request is repeated with the new token.
  await page.context().clearCookies();
  const refreshed = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/refresh") && r.status() === 200);
  // A search nobody made before, so the list must come from the server.
  await page.getByLabel("Search").fill("e2e-web-1");
  await refreshed;
  await expect(page).toHaveURL(/\/hosts\?q=e2e-web-1/);
  await expect(page.getByRole("table", { name: "Hosts" }).getByRole("link", { name: "e2e-web-1" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Hosts" })).toBeVisible();
});

test("a viewer sees no write controls and 403 names the permission", async ({ browser }, testInfo) => {
  const created = await (await adminApi()).post("/api/v1/users", {
    data: { username: "e2e-viewer", email: "e2e-viewer@example.com", password: "viewer-password-1", role: "viewer" },
  });
  expect(created.status(), await created.text()).toBe(201);

  const ctx = await browser.newContext();
  const viewer = await ctx.newPage();
  await viewer.goto("/sign-in");
  await signIn(viewer, "e2e-viewer", "viewer-password-1");
  await expect(viewer.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  const nav = viewer.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Hosts" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Administration" })).toHaveCount(0);

  await viewer.goto("/hosts");
  await expect(viewer.getByRole("table", { name: "Hosts" }).getByRole("link", { name: "e2e-web-1" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Add host" })).toHaveCount(0);
  await viewer.goto(`/hosts/${hostId}`);
  await expect(viewer.getByRole("heading", { level: 1, name: "e2e-web-1" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Scan now" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Check connectivity" })).toHaveCount(0);
  await expectAccessible(viewer, testInfo, "viewer-host");
  await shot(viewer, "viewer-host");
  await viewer.goto("/settings");
  await expect(viewer.getByText("changing them needs permission system:write")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Save connectivity settings" })).toHaveCount(0);
  await expect(viewer.getByRole("tab", { name: "Security policy" })).toHaveCount(0);
  await expectAccessible(viewer, testInfo, "viewer-settings");
  await shot(viewer, "viewer-settings");

  // Typing the address of a page it may not use: the API's 403 names the permission.
  await viewer.goto("/admin");
  await expect(viewer.getByRole("alert")).toContainText("You lack permission user:read");
  await expect(viewer.getByRole("button", { name: "Add user" })).toHaveCount(0);
  await shot(viewer, "viewer-admin-403");
  await ctx.close();
});

test("MFA: enrol with the QR page, then sign in with a one-time code and with a recovery code", async ({ browser }, testInfo) => {
  const created = await (await adminApi()).post("/api/v1/users", {
    data: { username: "e2e-mfa", email: "e2e-mfa@example.com", password: "mfa-password-123", role: "auditor" },
  });
  expect(created.status(), await created.text()).toBe(201);

  // Enrolment in the UI: the QR code and secret, a first code, then the recovery codes.
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto("/sign-in");
  await signIn(p, "e2e-mfa", "mfa-password-123");
  await expect(p.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await p.getByTestId("account-menu").click();
  await p.getByRole("menuitem", { name: "Account and security" }).click();
  await p.getByRole("button", { name: "Set up authenticator" }).click();
  await expect(p.getByRole("img", { name: "Authenticator QR code" })).toBeVisible();
  const secret = (await p.getByTestId("mfa-secret").textContent()) ?? "";
  const step = currentStep();
  await p.getByLabel("Code from the app").fill(totp(secret, step));
  await p.getByRole("button", { name: "Confirm" }).click();
  const codesBlock = p.getByTestId("recovery-codes");
  await expect(codesBlock).toBeVisible();
  const codes = ((await codesBlock.textContent()) ?? "").split(/\s+/).filter(Boolean);
  expect(codes.length).toBeGreaterThanOrEqual(8);
  await expectAccessible(p, testInfo, "account-mfa-enrolled");
  await shot(p, "account-mfa-enrolled");
  await p.getByTestId("account-menu").click();
  await p.getByRole("menuitem", { name: "Sign out" }).click();
  await expect(p).toHaveURL(/\/sign-in/);

  // The second step asks for the code. The code of the step just used is refused as a
  // replay; the next step is within the server's allowed clock skew.
  await signIn(p, "e2e-mfa", "mfa-password-123");
  const code = p.getByLabel("One-time code");
  await expect(code).toBeFocused();
  await expectAccessible(p, testInfo, "sign-in-otp");
  await shot(p, "sign-in-otp");
  await code.fill(totp(secret, step + 1));
  await p.getByRole("button", { name: "Verify" }).click();
  await expect(p.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await ctx.close();

  const ctx2 = await browser.newContext();
  const p2 = await ctx2.newPage();
  await p2.goto("/sign-in");
  await signIn(p2, "e2e-mfa", "mfa-password-123");
  await p2.getByRole("button", { name: "Use a recovery code instead" }).click();
  await p2.getByLabel("Recovery code").fill(codes[0] ?? "");
  await p2.getByRole("button", { name: "Verify" }).click();
  await expect(p2.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await ctx2.close();
});
