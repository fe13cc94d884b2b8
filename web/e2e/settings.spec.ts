import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// The settings tabs' read-outs and actions: rule variables (edited, then restored), the
// schedule preview, the connectivity worker and fleet breakdown, a discovery sweep, and
// license verification and installation. The server of this suite trusts no license key
// (none is built in and scripts/e2e.sh configures none), so every license here is refused:
// the checks are of the refusals, and the installed state never changes.
test.describe.configure({ mode: "serial" });

let page: Page;
let admin: APIRequestContext;
const VARIABLE = "ssh_max_auth_tries";
let original: string | null = null;

test.beforeAll(async ({ browser }) => {
  admin = await adminApi();
  const res = await admin.get("/api/v1/system/scan/variables");
  expect(res.status()).toBe(200);
  const items = ((await res.json()) as { items: { name: string; value: string | null }[] }).items;
  const v = items.find((i) => i.name === VARIABLE);
  expect(v, `the corpus uses ${VARIABLE}`).toBeTruthy();
  original = v?.value ?? null;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  // Whatever happened above, the variable is left as it was found.
  const res = await admin.put("/api/v1/system/scan/variables", { data: { values: { [VARIABLE]: original } } });
  expect(res.status()).toBe(200);
});

// untrustedLicense is a well-formed EdDSA license signed by a key no server trusts.
function untrustedLicense(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: "EdDSA", kid: "e2e-untrusted", typ: "JWT" });
  const body = b64({ iss: "openwatch-licensing", sub: "e2e", tier: "enterprise", iat: now, nbf: now, exp: now + 86_400 });
  const sig = sign(null, Buffer.from(`${head}.${body}`), privateKey).toString("base64url");
  return `${head}.${body}.${sig}`;
}

test("scanning: rule variables are edited with errors on their row, and restored", async ({}, testInfo) => {
  await page.goto("/settings?tab=scanning");
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  const table = page.getByRole("table", { name: "Rule variables" });
  const input = table.getByLabel(`Value of ${VARIABLE}`);
  await expect(input).toBeVisible();

  // Too long for the server: refused on the row before asking.
  await input.fill("9".repeat(4097));
  await page.getByRole("button", { name: "Save rule variables" }).click();
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId(`variable-${VARIABLE}`)).toContainText("At most 4096 characters.");

  await input.fill("3");
  await expect(input).not.toHaveAttribute("aria-invalid", "true");
  await page.getByRole("button", { name: "Save rule variables" }).click();
  await expect(page.getByText("Rule variables saved.")).toBeVisible();
  await page.reload();
  await expect(table.getByLabel(`Value of ${VARIABLE}`)).toHaveValue("3");

  // Schedule preview: scheduled scans are off on this server (scripts/e2e.sh).
  await expect(page.getByTestId("schedule-enabled")).toHaveText("off");
  await expect(page.getByTestId("schedule-due-now")).toHaveText(/^\d+$/);
  await expect(page.getByRole("table", { name: "Next scheduled scans" })).toBeVisible();
  await page.getByRole("region", { name: "Rule variables" }).scrollIntoViewIfNeeded();
  await expectAccessible(page, testInfo, "settings-scanning");
  await shot(page, "settings-scanning");

  // Restore through the UI: clearing the value (or putting the old one back).
  if (original === null) await table.getByRole("button", { name: `Clear ${VARIABLE}` }).click();
  else await table.getByLabel(`Value of ${VARIABLE}`).fill(original);
  await page.getByRole("button", { name: "Save rule variables" }).click();
  await expect(page.getByText("Rule variables saved.").first()).toBeVisible();
  await page.reload();
  await expect(table.getByLabel(`Value of ${VARIABLE}`)).toHaveValue(original ?? "");
});

test("connectivity: worker status and fleet breakdown", async ({}, testInfo) => {
  await page.goto("/settings?tab=connectivity");
  await expect(page.getByRole("heading", { level: 2, name: "Worker status" })).toBeVisible();
  await expect(page.getByTestId("worker-status")).toHaveText(/worker running|no worker seen/);
  await expect(page.getByTestId("probe-count")).toHaveText(/^[\d,]+$/);
  const breakdown = page.getByRole("table", { name: "Hosts by connectivity state" });
  for (const state of ["Online", "Degraded", "Critical", "Down", "In maintenance", "Never probed"]) {
    await expect(breakdown.getByRole("rowheader", { name: state })).toBeVisible();
  }
  const api = (await (await admin.get("/api/v1/fleet/connectivity/breakdown")).json()) as { down: number };
  await expect(page.getByTestId("breakdown-down").getByRole("cell").first()).toHaveText(api.down.toLocaleString("en-US"));
  await expectAccessible(page, testInfo, "settings-connectivity");
  await shot(page, "settings-connectivity");
});

test("discovery: run a sweep now and see what it queued", async ({}, testInfo) => {
  await page.goto("/settings?tab=discovery");
  await page.getByRole("button", { name: "Run sweep now" }).click();
  await expect(page.getByTestId("sweep-result")).toContainText(/queued/);
  await expectAccessible(page, testInfo, "settings-discovery");
  await shot(page, "settings-discovery");
});

test("license: verify shows why a license is refused; install refuses it and changes nothing", async ({}, testInfo) => {
  const before = await (await admin.get("/api/v1/license")).json();
  await page.goto("/settings?tab=license");
  const tier = page.getByRole("table", { name: "License", exact: true }).getByRole("row", { name: /Tier/ });
  await expect(tier).toContainText(String((before as { tier: string }).tier));
  const field = page.getByLabel("License token");

  await page.getByRole("button", { name: "Verify" }).click();
  await expect(field).toHaveAttribute("aria-invalid", "true");

  await field.fill("not-a-license");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("license-verdict")).toContainText("Not a license");

  // A well-formed license from a key this server does not trust, read from a .jwt file.
  mkdirSync(testInfo.outputDir, { recursive: true });
  const file = join(testInfo.outputDir, "untrusted.jwt");
  writeFileSync(file, `${untrustedLicense()}\n`);
  await page.locator('input[type="file"]').setInputFiles(file);
  await expect(field).toHaveValue(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  await page.getByRole("button", { name: "Verify" }).click();
  const verdict = page.getByTestId("license-verdict");
  await expect(verdict).toContainText("no key this server trusts");
  await expect(verdict).toContainText("e2e-untrusted");

  await page.getByRole("button", { name: "Install license" }).click();
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/The license is invalid \(unknown_kid\)/)).toBeVisible();
  await expectAccessible(page, testInfo, "settings-license");
  await shot(page, "settings-license");
  expect(await (await admin.get("/api/v1/license")).json()).toEqual(before);
});

test("the new settings read well in dark mode", async ({}, testInfo) => {
  await page.goto("/settings?tab=scanning");
  await expect(page.getByRole("table", { name: "Rule variables" })).toBeVisible();
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expect(page.getByRole("table", { name: "Next scheduled scans" })).toBeVisible();
  await expectAccessible(page, testInfo, "settings-scanning-dark");
  await page.goto("/settings?tab=connectivity");
  await expect(page.getByRole("table", { name: "Hosts by connectivity state" })).toBeVisible();
  await expectAccessible(page, testInfo, "settings-connectivity-dark");
  await page.goto("/settings?tab=license");
  await page.getByLabel("License token").fill("not-a-license");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("license-verdict")).toBeVisible();
  await expectAccessible(page, testInfo, "settings-license-dark");
  await shot(page, "settings-license-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
});
