import AxeBuilder from "@axe-core/playwright";
import { expect, request, type APIRequestContext, type Browser, type BrowserContextOptions, type Page, type TestInfo } from "@playwright/test";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const baseURL = process.env.OPENWATCH_URL ?? "https://localhost:8443";
export const adminPassword = process.env.OPENWATCH_PASSWORD ?? "";

// Screenshots go to one folder under the test output, named by page, so a person can look
// through them after a run.
export const shotDir = join(process.env.E2E_OUTPUT ?? "test-results", "screenshots");
mkdirSync(shotDir, { recursive: true });

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shotDir, `${name}.png`), fullPage: false });
}

// expectAccessible runs axe on the page and fails on serious or critical violations,
// listing them (rule, impact, the first offending elements) so the failure says what to fix.
export async function expectAccessible(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  await testInfo.attach(`axe-${name}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: "application/json",
  });
  const summary = bad.map(
    (v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(" ")} ${n.html.slice(0, 160)}`)
        .join(" | ")}`,
  );
  expect(summary, `axe on ${name}`).toEqual([]);
}

// The API contexts run in Node, not Chromium. The server certificate was verified against
// the server's CA by e2e/pin.mjs before the suite started, so they skip that check.
async function anonymous(): Promise<APIRequestContext> {
  return request.newContext({ baseURL, ignoreHTTPSErrors: true });
}

// apiAs returns an API request context carrying a bearer token of the given user.
export async function apiAs(username: string, password: string): Promise<APIRequestContext> {
  const anon = await anonymous();
  const res = await anon.post("/api/v1/auth/login", { data: { username, password } });
  expect(res.status(), await res.text()).toBe(200);
  const { access_token: token } = (await res.json()) as { access_token: string };
  await anon.dispose();
  return request.newContext({
    baseURL,
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
}

// adminApi is one admin API context for the whole run: every sign-in counts against the
// server's per-address sign-in rate limit.
let admin: Promise<APIRequestContext> | undefined;
export function adminApi(): Promise<APIRequestContext> {
  admin ??= apiAs("admin", adminPassword);
  return admin;
}

// signIn fills the sign-in form; the page must be on /sign-in.
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// adminPage signs the admin in, in a new browser context, and returns the page on the
// dashboard: each spec file works in its own signed-in page.
export async function adminPage(browser: Browser, options?: BrowserContextOptions): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto("/sign-in");
  await signIn(page, "admin", adminPassword);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  return page;
}

// totp computes the RFC 6238 code (SHA-1, 6 digits, 30 s steps) of a base32 secret.
export function totp(secret: string, step: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, "0");
}

export const currentStep = (): number => Math.floor(Date.now() / 1000 / 30);
