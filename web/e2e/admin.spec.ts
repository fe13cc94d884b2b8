import { createHmac, randomUUID } from "node:crypto";
import { expect, request, test, type Page } from "@playwright/test";
import { adminApi, adminPage, apiAs, baseURL, currentStep, expectAccessible, shot, signIn, totp } from "./helpers";

// Administration: users, the caller's own password, service accounts and their tokens,
// credentials and custom roles. Everything this file makes has a name of its own (the
// suffix) and is deleted again; the main admin's password and global settings stay as
// they are, since the other spec files use them.
test.describe.configure({ mode: "serial" });

const sfx = Date.now().toString(36).slice(-6);
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await adminPage(browser, { permissions: ["clipboard-read", "clipboard-write"] });
});

test.afterAll(async () => {
  await page.context().close();
});

async function visit(path: string, heading: string | RegExp) {
  await page.goto(path);
  await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
}

// canSignIn tries the API's sign-in with a fresh, cookie-less context.
async function signInStatus(username: string, password: string): Promise<number> {
  const anon = await request.newContext({ baseURL, ignoreHTTPSErrors: true });
  const res = await anon.post("/api/v1/auth/login", { data: { username, password } });
  await anon.dispose();
  return res.status();
}

test("user: detail page, edit email, roles, password reset, sign-in with it, delete", async ({ browser }, testInfo) => {
  const username = `e2e-user-${sfx}`;
  await visit("/admin", "Administration");
  await page.getByTestId("add-user").click();
  const add = page.getByRole("dialog", { name: "Add user" });
  await add.getByLabel("Username").fill(username);
  await add.getByLabel("Email").fill(`${username}@example.com`);
  await add.getByLabel("Initial password").fill("first-password-123");
  await add.getByRole("button", { name: "Create user" }).click();
  await expect(add).toBeHidden();

  // The users table links to the detail page.
  await page.getByRole("table", { name: "Users" }).getByRole("link", { name: username, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: username })).toBeVisible();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  const profile = page.getByRole("region", { name: "Profile" });

  // A malformed email comes back as the server's 400 on the field.
  await profile.getByLabel("Email").fill("not-an-email");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(profile.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await profile.getByLabel("Email").fill(`${username}@new.example.com`);
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText(`User ${username} saved.`)).toBeVisible();
  await page.reload();
  await expect(page.getByRole("region", { name: "Profile" }).getByLabel("Email")).toHaveValue(`${username}@new.example.com`);

  // Roles: give auditor, then take viewer away; the page shows what the server holds.
  const roles = page.getByRole("region", { name: "Roles" });
  await expect(roles.getByRole("checkbox", { name: "viewer", exact: true })).toBeChecked();
  await roles.getByRole("checkbox", { name: "auditor", exact: true }).click();
  await expect(roles.getByRole("checkbox", { name: "auditor", exact: true })).toBeChecked();
  await roles.getByRole("checkbox", { name: "viewer", exact: true }).click();
  await expect(roles.getByRole("checkbox", { name: "viewer", exact: true })).not.toBeChecked();
  await expect(roles.getByRole("checkbox", { name: "auditor", exact: true })).toBeChecked();

  // Administrator password reset: mismatched repeat is caught here, a weak one by the server.
  const reset = page.getByRole("region", { name: "Reset password" });
  await reset.getByRole("textbox", { name: "New password", exact: true }).fill("short");
  await reset.getByLabel("Repeat the new password").fill("short");
  await reset.getByRole("button", { name: "Reset password" }).click();
  // Mantine's password input marks itself with data-invalid and describes itself by the error.
  await expect(reset.getByRole("textbox", { name: "New password", exact: true })).toHaveAttribute("data-invalid", "true");
  await expect(reset.getByText(/at least 8 characters/)).toBeVisible();
  await reset.getByRole("textbox", { name: "New password", exact: true }).fill("reset-password-456");
  await reset.getByLabel("Repeat the new password").fill("reset-password-45");
  await reset.getByRole("button", { name: "Reset password" }).click();
  await expect(reset.getByText("The passwords do not match.")).toBeVisible();
  await reset.getByLabel("Repeat the new password").fill("reset-password-456");
  await reset.getByRole("button", { name: "Reset password" }).click();
  await expect(page.getByText(/signed out everywhere/)).toBeVisible();
  await expectAccessible(page, testInfo, "user-detail");
  await shot(page, "user-detail");

  // The API has no forced change after a reset: the user signs in with the new password.
  expect(await signInStatus(username, "first-password-123")).toBe(401);
  const ctx = await browser.newContext();
  const them = await ctx.newPage();
  await them.goto("/sign-in");
  await signIn(them, username, "reset-password-456");
  await expect(them.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await ctx.close();

  // Sign-in off and on again.
  await page.getByRole("button", { name: "Disable sign-in" }).click();
  await expect(page.getByRole("button", { name: "Enable sign-in" })).toBeVisible();
  await expect(page.getByText("disabled", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Enable sign-in" }).click();
  await expect(page.getByRole("button", { name: "Disable sign-in" })).toBeVisible();

  // Delete asks first.
  await page.getByRole("button", { name: "Delete user" }).click();
  const confirm = page.getByRole("dialog", { name: `Delete ${username}?` });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole("heading", { level: 1, name: username })).toBeVisible();
  await page.getByRole("button", { name: "Delete user" }).click();
  await confirm.getByRole("button", { name: "Delete user" }).click();
  await expect(page).toHaveURL(/\/admin\?tab=users/);
  await expect(page.getByText(`User ${username} deleted.`)).toBeVisible();
  await expect(page.getByRole("table", { name: "Users" }).getByRole("link", { name: username, exact: true })).toHaveCount(0);
  expect(await signInStatus(username, "reset-password-456")).toBe(401);
});

test("user: sign out everywhere and reset MFA, each with a reason", async ({ browser }, testInfo) => {
  const username = `e2e-acct-${sfx}`;
  const password = "acct-password-123";
  const admin = await adminApi();
  const created = await admin.post("/api/v1/users", { data: { username, email: `${username}@example.com`, password } });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  // The user is signed in twice: in a browser and with a token that enrols MFA.
  const ctx = await browser.newContext();
  const them = await ctx.newPage();
  await them.goto("/sign-in");
  await signIn(them, username, password);
  await expect(them.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  const theirApi = await apiAs(username, password);
  const enrol = await theirApi.post("/api/v1/auth/mfa:enroll");
  expect(enrol.status(), await enrol.text()).toBe(200);
  const { secret } = (await enrol.json()) as { secret: string };
  const verify = await theirApi.post("/api/v1/auth/mfa:verify", { data: { otp: totp(secret, currentStep()) } });
  expect(verify.status(), await verify.text()).toBe(200);

  await visit(`/admin/users/${id}`, username);
  const facts = page.getByRole("table", { name: "Account facts" });
  await expect(facts.getByRole("row", { name: /Second factor/ })).toContainText("enrolled");

  // Sign out everywhere: a reason is required, then both sessions end.
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  const out = page.getByRole("dialog", { name: `Sign out everywhere: ${username}?` });
  await out.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(out.getByText("Give a reason: it goes to the audit trail.")).toBeVisible();
  await out.getByLabel("Reason").fill("e2e: laptop reported stolen");
  await expectAccessible(page, testInfo, "user-sign-out-everywhere");
  await shot(page, "user-sign-out-everywhere");
  await out.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(out).toBeHidden();
  await expect(page.getByText("2 sessions ended.")).toBeVisible();
  expect((await theirApi.get("/api/v1/auth/me")).status()).toBe(401);
  await them.reload();
  await expect(them).toHaveURL(/\/sign-in/);
  await ctx.close();
  await theirApi.dispose();

  // Reset MFA: the second factor is gone and the password alone signs in again.
  await page.getByRole("button", { name: "Reset MFA" }).click();
  const reset = page.getByRole("dialog", { name: `Reset MFA: ${username}?` });
  await reset.getByLabel("Reason").fill("e2e: lost phone");
  await reset.getByRole("button", { name: "Reset MFA" }).click();
  await expect(reset).toBeHidden();
  await expect(page.getByText("MFA removed; their sessions ended.")).toBeVisible();
  await expect(facts.getByRole("row", { name: /Second factor/ })).toContainText("none");
  await expectAccessible(page, testInfo, "user-mfa-reset");
  await shot(page, "user-mfa-reset");
  expect(await signInStatus(username, password)).toBe(200);

  const audit = await admin.get(`/api/v1/audit/events?resource_type=user&resource_id=${id}`);
  expect(audit.status()).toBe(200);
  const events = await audit.text();
  expect(events).toContain("user.sessions_revoked");
  expect(events).toContain("user.mfa_reset");
  expect((await admin.delete(`/api/v1/users/${id}`)).status()).toBe(204);
});

test("user: the server's refusal is shown (nobody disables or deletes their own account)", async ({}, testInfo) => {
  await visit("/admin", "Administration");
  await page.getByRole("table", { name: "Users" }).getByRole("link", { name: "admin", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "admin" })).toBeVisible();
  await page.getByRole("button", { name: "Disable sign-in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "You cannot disable your own account." })).toBeVisible();
  await page.getByRole("button", { name: "Delete user" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete admin?" });
  await confirm.getByRole("button", { name: "Delete user" }).click();
  await expect(confirm.getByRole("alert")).toContainText("You cannot delete your own account.");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();

  // The same page in dark mode.
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await expectAccessible(page, testInfo, "user-detail-dark");
  await shot(page, "user-detail-dark");
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "light");
});

test("account: a throwaway admin changes their own password", async ({ browser }, testInfo) => {
  const username = `e2e-self-${sfx}`;
  const api = await adminApi();
  const created = await api.post("/api/v1/users", {
    data: { username, email: `${username}@example.com`, password: "self-password-111", role: "admin" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  const ctx = await browser.newContext();
  const me = await ctx.newPage();
  await me.goto("/sign-in");
  await signIn(me, username, "self-password-111");
  await expect(me.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await me.goto("/account");
  await expect(me.getByRole("heading", { level: 1, name: "Account and security" })).toBeVisible();
  const section = me.getByRole("region", { name: "Password" });
  const current = section.getByLabel("Current password");
  const next = section.getByRole("textbox", { name: "New password", exact: true });
  const repeat = section.getByLabel("Repeat the new password");

  // A wrong current password is the server's 401 on that field, and the session goes on.
  await current.fill("not-my-password");
  await next.fill("self-password-222");
  await repeat.fill("self-password-222");
  await section.getByRole("button", { name: "Change password" }).click();
  await expect(current).toHaveAttribute("data-invalid", "true");
  await expect(section.getByText("The current password is incorrect.")).toBeVisible();
  await expect(me).toHaveURL(/\/account$/);

  // A new password the policy refuses lands on its field.
  await current.fill("self-password-111");
  await next.fill(username);
  await repeat.fill(username);
  await section.getByRole("button", { name: "Change password" }).click();
  await expect(next).toHaveAttribute("data-invalid", "true");
  await expect(section.getByText(/must not be the username/)).toBeVisible();

  await next.fill("self-password-222");
  await repeat.fill("self-password-2222");
  await section.getByRole("button", { name: "Change password" }).click();
  await expect(section.getByText("The passwords do not match.")).toBeVisible();

  await repeat.fill("self-password-222");
  await section.getByRole("button", { name: "Change password" }).click();
  await expect(section.getByRole("status")).toContainText("You stay signed in here");
  await expect(current).toHaveValue("");
  await expectAccessible(me, testInfo, "account-password");
  await shot(me, "account-password");

  // This session goes on; the old password no longer signs in, the new one does.
  await me.reload();
  await expect(me.getByRole("heading", { level: 1, name: "Account and security" })).toBeVisible();
  expect(await signInStatus(username, "self-password-111")).toBe(401);
  expect(await signInStatus(username, "self-password-222")).toBe(200);
  await ctx.close();

  const deleted = await api.delete(`/api/v1/users/${id}`);
  expect(deleted.status(), await deleted.text()).toBe(204);
});

test("service account: page, edit, a token shown once with a copy button, revoke, delete", async ({}, testInfo) => {
  const name = `e2e-sa-${sfx}`;
  await visit("/admin?tab=service-accounts", "Administration");
  await page.getByRole("button", { name: "Add service account" }).click();
  const add = page.getByRole("dialog", { name: "Add service account" });
  await add.getByLabel("Name").fill(name);
  await add.getByRole("button", { name: "Create service account" }).click();
  await expect(add).toBeHidden();
  await page.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page).toHaveURL(/\/admin\/service-accounts\/[0-9a-f-]{36}$/);

  const settings = page.getByRole("region", { name: "Settings" });
  await settings.getByLabel("Description").fill("Nightly export job");
  await settings.getByRole("button", { name: "Save service account" }).click();
  await expect(page.getByText(`Service account ${name} saved.`)).toBeVisible();
  await expect(page.getByText("Nightly export job")).toBeVisible();

  const tokens = page.getByRole("region", { name: "Tokens" });
  await tokens.getByRole("button", { name: "New token" }).click();
  const dialog = page.getByRole("dialog", { name: `New token for ${name}` });
  await dialog.getByLabel("Token name").fill("export");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const shown = dialog.getByTestId("new-token");
  await expect(shown).not.toBeEmpty();
  const token = (await shown.textContent())?.trim() ?? "";
  expect(token.length).toBeGreaterThan(20);
  await dialog.getByRole("button", { name: "Copy token" }).click();
  await expect(dialog.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();

  // The token works, is listed without its secret, and is never shown again.
  const bearer = await request.newContext({ baseURL, ignoreHTTPSErrors: true, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
  expect((await bearer.get("/api/v1/auth/me/permissions")).status()).toBe(200);
  const table = page.getByRole("table", { name: `Tokens of ${name}` });
  await expect(table.getByRole("row", { name: /export/ })).toContainText("active");
  await expect(page.getByText(token)).toHaveCount(0);

  // A signing key, shown once with a copy button, signs a request without the secret.
  await table.getByRole("button", { name: "Signing key of token export" }).click();
  const keyDialog = page.getByRole("dialog", { name: "Signing key for export" });
  await keyDialog.getByRole("button", { name: "Create signing key" }).click();
  const keyShown = keyDialog.getByTestId("new-signing-key");
  await expect(keyShown).not.toBeEmpty();
  const signingKey = (await keyShown.textContent())?.trim() ?? "";
  await keyDialog.getByRole("button", { name: "Copy signing key" }).click();
  await expect(keyDialog.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(signingKey);
  await keyDialog.getByRole("button", { name: "Done" }).click();
  await expect(keyDialog).toBeHidden();
  await expect(table.getByRole("row", { name: /export/ })).toContainText("since");
  await expect(page.getByText(signingKey)).toHaveCount(0);
  const tokenId = token.slice(4, token.indexOf("."));
  const tokenUUID = `${tokenId.slice(0, 8)}-${tokenId.slice(8, 12)}-${tokenId.slice(12, 16)}-${tokenId.slice(16, 20)}-${tokenId.slice(20)}`;
  const path = "/api/v1/auth/me/permissions";
  const params = `("@method" "@path");created=${Math.floor(Date.now() / 1000)};keyid="${tokenUUID}";nonce="${randomUUID()}";alg="hmac-sha256"`;
  const sig = createHmac("sha256", Buffer.from(signingKey, "base64"))
    .update(`"@method": GET\n"@path": ${path}\n"@signature-params": ${params}`)
    .digest("base64");
  const signedCtx = await request.newContext({ baseURL, ignoreHTTPSErrors: true });
  const headers = { "Signature-Input": `ow=${params}`, Signature: `ow=:${sig}:` };
  expect((await signedCtx.get(path, { headers })).status()).toBe(200);
  const replay = await signedCtx.get(path, { headers });
  expect(replay.status()).toBe(401);
  expect(await replay.text()).toContain("nonce");
  await signedCtx.dispose();

  await table.getByRole("button", { name: "Revoke token export" }).click();
  const revoke = page.getByRole("dialog", { name: "Revoke token export?" });
  await revoke.getByRole("button", { name: "Revoke token" }).click();
  await expect(revoke).toBeHidden();
  await expect(table.getByRole("row", { name: /export/ })).toContainText("revoked");
  await expect(table.getByRole("button", { name: "Revoke token export" })).toHaveCount(0);
  expect((await bearer.get("/api/v1/auth/me/permissions")).status()).toBe(401);
  await bearer.dispose();
  await expectAccessible(page, testInfo, "service-account");
  await shot(page, "service-account");

  await page.getByRole("button", { name: "Delete service account" }).click();
  const confirm = page.getByRole("dialog", { name: `Delete ${name}?` });
  await confirm.getByRole("button", { name: "Delete service account" }).click();
  await expect(page).toHaveURL(/\/admin\?tab=service-accounts/);
  await expect(page.getByRole("region", { name: `Service account ${name}` })).toContainText("disabled");
});

test("credentials: edit (secrets write-only), clone, delete", async ({}, testInfo) => {
  const name = `e2e-cred-${sfx}`;
  const api = await adminApi();
  const created = await api.post("/api/v1/credentials", {
    data: { scope: "system", name, username: "deploy", auth_method: "password", password: "cred-secret-111" },
  });
  expect(created.status(), await created.text()).toBe(201);

  await visit("/admin?tab=credentials", "Administration");
  const table = page.getByRole("table", { name: "Credentials" });
  await table.getByRole("button", { name: `Edit credential ${name}` }).click();
  const edit = page.getByRole("dialog", { name: `Edit credential ${name}` });
  await expect(edit.getByLabel("SSH user")).toHaveValue("deploy");
  // The stored password is never sent to the browser: the field starts empty.
  await expect(edit.getByLabel("Replace password")).toHaveValue("");
  await expect(edit.getByRole("button", { name: "Save credential" })).toBeDisabled();
  await edit.getByLabel("SSH user").fill("ops");
  await edit.getByLabel("Replace password").fill("cred-secret-222");
  await edit.getByLabel("Description").fill("Rotated by e2e");
  await expectAccessible(page, testInfo, "credential-edit");
  await shot(page, "credential-edit");
  await edit.getByRole("button", { name: "Save credential" }).click();
  await expect(edit).toBeHidden();
  await expect(page.getByText(`Credential ${name} saved.`)).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`^${name} `) })).toContainText("ops");
  const listed = await (await api.get("/api/v1/credentials?limit=200")).text();
  expect(listed).not.toContain("cred-secret-222");

  await table.getByRole("button", { name: `Clone credential ${name}` }).click();
  const clone = page.getByRole("dialog", { name: `Clone credential ${name}` });
  await clone.getByLabel("Name of the copy").fill(`${name}-copy`);
  await clone.getByRole("button", { name: "Clone credential" }).click();
  await expect(clone).toBeHidden();
  await expect(table.getByRole("row", { name: new RegExp(`^${name}-copy `) })).toContainText("ops");

  for (const n of [`${name}-copy`, name]) {
    await table.getByRole("button", { name: `Delete credential ${n}` }).click();
    const confirm = page.getByRole("dialog", { name: `Delete credential ${n}?` });
    await confirm.getByRole("button", { name: "Delete credential" }).click();
    await expect(confirm).toBeHidden();
    await expect(table.getByRole("button", { name: `Delete credential ${n}`, exact: true })).toHaveCount(0);
  }
});

test("custom role: create, edit permissions with the picker, delete refused while held", async ({}, testInfo) => {
  const id = `e2e_role_${sfx.replace(/[^a-z0-9]/g, "")}`;
  await visit("/admin?tab=roles", "Administration");
  await page.getByRole("button", { name: "Add custom role" }).click();
  const add = page.getByRole("dialog", { name: "Add custom role" });
  await add.getByLabel("Role id").fill(id);
  await add.getByRole("textbox", { name: /^Description/ }).fill("Reads hosts.");
  await add.getByRole("checkbox", { name: /^host:read/ }).check();
  await add.getByRole("button", { name: "Create role" }).click();
  await expect(add).toBeHidden();
  const section = page.getByRole("region", { name: `Role ${id}` });
  await expect(section).toContainText("host:read");
  await expect(page.getByRole("region", { name: "Role admin" }).getByRole("button", { name: /Edit|Delete/ })).toHaveCount(0);

  await section.getByRole("button", { name: `Edit role ${id}` }).click();
  const edit = page.getByRole("dialog", { name: `Edit role ${id}` });
  await expect(edit.getByRole("checkbox", { name: /^host:read/ })).toBeChecked();
  await expect(edit.getByLabel("Role id")).toHaveValue(id);
  await edit.getByRole("textbox", { name: /^Description/ }).fill("Reads hosts and scans.");
  await edit.getByRole("checkbox", { name: /^scan:read/ }).check();
  await expectAccessible(page, testInfo, "role-edit");
  await shot(page, "role-edit");
  await edit.getByRole("button", { name: "Save role" }).click();
  await expect(edit).toBeHidden();
  await expect(section).toContainText("scan:read");
  await expect(section).toContainText("Reads hosts and scans.");

  // Held by a user: the server refuses and says by how many; the dialog shows it.
  const api = await adminApi();
  const holder = await api.post("/api/v1/users", {
    data: { username: `e2e-holder-${sfx}`, email: `e2e-holder-${sfx}@example.com`, password: "holder-password-1", role: id },
  });
  expect(holder.status(), await holder.text()).toBe(201);
  await section.getByRole("button", { name: `Delete role ${id}` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete role ${id}?` });
  await confirm.getByRole("button", { name: "Delete role" }).click();
  await expect(confirm.getByRole("alert")).toContainText("held by 1 user");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(section).toBeVisible();

  const { id: holderId } = (await holder.json()) as { id: string };
  expect((await api.delete(`/api/v1/users/${holderId}`)).status()).toBe(204);
  await section.getByRole("button", { name: `Delete role ${id}` }).click();
  await confirm.getByRole("button", { name: "Delete role" }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByText(`Role ${id} deleted.`)).toBeVisible();
  await expect(section).toHaveCount(0);
});
