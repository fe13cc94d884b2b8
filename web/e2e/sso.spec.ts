import { expect, test } from "@playwright/test";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// The identity provider scripts/e2e.sh started (scripts/testop): a real OpenID Provider on
// loopback whose account sso-ops is in the group "ops".
const issuer = process.env.E2E_SSO_ISSUER ?? "";
const providerName = "Test IdP";

// Single sign-on end to end: an admin configures the provider in Settings → Single
// sign-on (discover, client, a mapping ops → security_admin, test), then someone signed out
// clicks the provider's button on the sign-in page, signs in at the provider, and lands in
// the app signed in with the mapped role.
test("sso: configure a provider, sign in through it, land with the mapped role", async ({ browser }, testInfo) => {
  // Three browser sessions and a round trip through the identity provider each.
  test.setTimeout(120_000);
  expect(issuer, "scripts/e2e.sh sets E2E_SSO_ISSUER to the test identity provider").toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const admin = await adminPage(browser);
  try {
    await admin.goto("/settings?tab=sso");
    await expect(admin.getByRole("tab", { name: "Single sign-on" })).toHaveAttribute("aria-selected", "true");
    await admin.getByRole("button", { name: "Add provider" }).click();
    const form = admin.getByRole("region", { name: "Add a provider" });
    await form.getByLabel("Name").fill(providerName);
    await form.getByLabel("Issuer").fill(issuer);
    await form.getByRole("button", { name: "Discover" }).click();
    const discovery = form.getByRole("table", { name: "Discovery document" });
    await expect(discovery.getByRole("cell", { name: issuer, exact: true })).toBeVisible();
    await expect(discovery.getByRole("cell", { name: "S256" })).toBeVisible();
    await form.getByLabel("Client id").fill("openwatch-e2e");
    await form.getByLabel("Client secret").fill("openwatch-e2e-secret");
    await form.getByRole("button", { name: "Add mapping" }).click();
    await form.getByLabel("Group 1").fill("ops");
    await form.getByRole("combobox", { name: "Role 1" }).click();
    await admin.getByRole("option", { name: "security_admin" }).click();
    await expectAccessible(admin, testInfo, "settings-sso-form");
    await shot(admin, "settings-sso-form");
    await form.getByRole("button", { name: "Save provider" }).click();

    const table = admin.getByRole("table", { name: "Single sign-on providers" });
    const row = table.getByRole("row").filter({ hasText: providerName });
    await expect(row).toBeVisible();
    await expect(row.getByLabel("secret set, hidden")).toHaveText("••••••••");
    await expect(row).not.toContainText("openwatch-e2e-secret");
    await expect(row).toContainText("ops → security_admin");
    await row.getByRole("button", { name: `Test ${providerName}` }).click();
    const checks = row.getByRole("list", { name: "Connection test" });
    await expect(checks.getByText("ok", { exact: true })).toHaveCount(5);
    await expectAccessible(admin, testInfo, "settings-sso");
    await shot(admin, "settings-sso");
  } finally {
    await admin.context().close();
  }

  // The secret never leaves the server.
  const api = await adminApi();
  const list = await api.get("/api/v1/sso/providers");
  expect(list.status()).toBe(200);
  expect(await list.text()).not.toContain("openwatch-e2e-secret");

  const page = await (await browser.newContext()).newPage();
  try {
    await page.goto("/sign-in");
    const button = page.getByRole("link", { name: `Sign in with ${providerName}` });
    await expect(button).toBeVisible();
    await expectAccessible(page, testInfo, "sign-in-sso");
    await shot(page, "sign-in-sso");
    await button.click();

    // At the identity provider.
    await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
    expect(page.url().startsWith(issuer)).toBe(true);
    await page.getByLabel("Username").fill("sso-ops");
    await page.getByLabel("Password").fill("sso-ops-password");
    await page.getByRole("button", { name: "Sign in" }).click();

    // Back in OpenWatch, signed in; the handoff code is gone from the address bar.
    await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
    expect(page.url()).not.toContain("handoff");
    // The browser's own session (its cookie) is the mapped role's.
    const me = await page.evaluate(async () => {
      const res = await fetch("/api/v1/auth/me");
      return { status: res.status, body: (await res.json()) as { username: string; role: string } };
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: "sso-ops", role: "security_admin" });
    await shot(page, "sso-signed-in");

    // A handoff code works once: replaying the landing page's exchange fails cleanly.
    await page.goto("/sso/callback?handoff=not-a-real-code");
    await expect(page.getByRole("alert")).toContainText("unknown, expired or already used");
    await expect(page.getByRole("link", { name: "Back to sign-in" })).toBeVisible();
  } finally {
    await page.context().close();
  }

  // An account whose groups map to no role is refused, with the reason on the sign-in page.
  const refused = await (await browser.newContext()).newPage();
  try {
    await refused.goto("/sign-in");
    await refused.getByRole("link", { name: `Sign in with ${providerName}` }).click();
    await refused.getByLabel("Username").fill("sso-contractor");
    await refused.getByLabel("Password").fill("sso-contractor-password");
    await refused.getByRole("button", { name: "Sign in" }).click();
    await expect(refused.getByRole("alert")).toContainText("none of your groups maps to a role");
    expect(new URL(refused.url()).pathname).toBe("/sign-in");
  } finally {
    await refused.context().close();
  }
});
