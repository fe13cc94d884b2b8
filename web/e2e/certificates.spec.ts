import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// SSH host certificates through the UI, on a host of the run's sshd target (scripts/e2e.sh)
// whose key was pinned by a discovery: the host's Certificates tab issues, renews, revokes
// with a reason and reissues; once the host has a certificate it is verified against the
// host CA, so a connection to the target (which presents a plain key) fails closed; the
// fleet page filters by status and expiry and offers the KRL; Settings → SSH CA rotates.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const hostname = `e2e-cert-${run}`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";

async function discover(): Promise<{ status: number; body: string }> {
  const res = await admin.post(`/api/v1/hosts/${hostId}/discovery:run`, { headers: { "Idempotency-Key": randomUUID() } });
  return { status: res.status(), body: await res.text() };
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-certificates", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: hostname, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  const first = await discover();
  expect(first.status, first.body).toBe(200);
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  // The admin API context is shared by the whole run: not disposed here.
  if (hostId) await admin?.delete(`/api/v1/hosts/${hostId}`);
});

test("certificates: issue, renew, revoke with a reason and reissue on the host's tab; the host then fails closed", async ({}, testInfo) => {
  await page.goto(`/hosts/${hostId}?tab=certificates`);
  await expect(page.getByRole("tab", { name: "Certificates" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByText("verified by the key trusted on first use")).toBeVisible();
  await page.getByRole("button", { name: "Issue certificate" }).click();
  const table = page.getByRole("table", { name: "Host certificates" });
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table.getByText("issued", { exact: true })).toBeVisible();
  await expect(table.getByText("127.0.0.1").first()).toBeVisible();
  await expect(page.getByText("verified against the OpenWatch host CA")).toBeVisible();

  await table.getByRole("button", { name: "Renew" }).click();
  await expect(table.getByRole("row")).toHaveCount(3);

  // Revoke the newest with a reason.
  await table.getByRole("button", { name: "Revoke" }).first().click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Reason").fill("decommissioned key");
  await dialog.getByRole("button", { name: "Revoke certificate" }).click();
  await expect(dialog).toBeHidden();
  await expect(table.getByText("decommissioned key")).toBeVisible();

  // Reissue: a new one, the remaining issued one revoked as reissued.
  await page.getByRole("button", { name: "Reissue" }).click();
  await expect(table.getByRole("row")).toHaveCount(4);
  await expect(table.getByText("reissued", { exact: true })).toBeVisible();
  await expect(table.getByText("issued", { exact: true })).toHaveCount(1);
  await expectAccessible(page, testInfo, "host-certificates");
  await shot(page, "host-certificates");

  // The target presents a plain key, and the host is now CA-verified: refused, no TOFU.
  const again = await discover();
  expect(again.status, again.body).toBe(502);
  const err = (JSON.parse(again.body) as { error: { code: string; detail?: { reason?: string } } }).error;
  expect(err.code).toBe("host.certificate_invalid");
  expect(err.detail?.reason).toBe("no_certificate");
});

test("certificates: the fleet page filters by status and expiry and offers the KRL", async ({}, testInfo) => {
  await page.goto("/certificates");
  await expect(page.getByRole("heading", { level: 1, name: "Certificates" })).toBeVisible();
  const table = page.getByRole("table", { name: "Certificates" });
  const ours = table.getByRole("row").filter({ hasText: hostname });
  await expect(ours).toHaveCount(3);
  // The status filter's choices are labels (the table also has an "Issued" column).
  const choice = (name: string) => page.locator("label").filter({ hasText: new RegExp(`^${name}$`) });
  await choice("Revoked").click();
  await expect(ours).toHaveCount(2);
  await choice("Issued").click();
  await expect(ours).toHaveCount(1);
  await page.getByLabel("Expiring within 14 days").check();
  await expect(ours).toHaveCount(0);
  await page.getByLabel("Expiring within 14 days").uncheck();
  await expect(ours).toHaveCount(1);
  await expect(page.getByRole("link", { name: "Download KRL" })).toHaveAttribute("href", "/api/v1/ssh-ca/krl");
  const krl = await admin.get("/api/v1/ssh-ca/krl");
  expect(krl.status()).toBe(200);
  expect((await krl.body()).subarray(0, 6).toString()).toBe("SSHKRL");
  await expectAccessible(page, testInfo, "certificates");
  await shot(page, "certificates");
});

test("certificates: Settings → SSH CA rotates the user CA with an overlap", async ({}, testInfo) => {
  await page.goto("/settings?tab=ssh-ca");
  const card = page.getByRole("region", { name: "User CA" });
  const rows = card.getByRole("table").getByRole("row");
  await expect(rows.nth(1)).toBeVisible(); // loaded: the header and the active key at least
  const before = await rows.count();
  await card.getByRole("button", { name: "Rotate User CA" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Overlap (hours)").fill("1");
  await dialog.getByRole("button", { name: "Rotate", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(rows).toHaveCount(before + 1);
  await expect(card.getByText("previous").first()).toBeVisible();
  await expect(page.getByRole("region", { name: "Host CA" }).getByRole("link", { name: "Download KRL" })).toBeVisible();
  // Expiry settings: saved through the API, and back to the defaults afterwards.
  const expiry = page.getByRole("region", { name: "Certificate expiry" });
  await expiry.getByLabel("Alert when a certificate expires within (days)").fill("21");
  await expiry.getByRole("button", { name: "Save expiry settings" }).click();
  await expect(page.getByText("Certificate expiry settings saved.")).toBeVisible();
  const cfg = (await (await admin.get("/api/v1/system/ssh-certificates/config")).json()) as { config: { warn_days: number } };
  expect(cfg.config.warn_days).toBe(21);
  const reset = await admin.put("/api/v1/system/ssh-certificates/config", { data: { warn_days: 14, auto_renew: false } });
  expect(reset.status(), await reset.text()).toBe(200);
  await expectAccessible(page, testInfo, "settings-ssh-ca-rotate");
});
