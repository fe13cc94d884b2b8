// End-to-end check of the sign-in flow in a real browser (Debian chromium + playwright-core).
//
//   OPENWATCH_URL=https://127.0.0.1:18443 OPENWATCH_USER=admin OPENWATCH_PASSWORD=... \
//   OPENWATCH_CA=ca.pem [OPENWATCH_SCREENSHOT=signed-in.png] [CHROMIUM=/path/to/chromium] \
//   npm run e2e
//
// Only loopback URLs are accepted (127.0.0.0/8, ::1, localhost). The last line printed is
// always "e2e: N passed, M failed"; the exit status is non-zero on any failure.
//
// TLS trust: Chromium on Linux takes extra roots only from an NSS database, which needs
// certutil and a private HOME. Instead, this script first connects with Node's TLS stack and
// verifies the server's certificate chain and IP/host name against OPENWATCH_CA (nothing is
// skipped). It then pins exactly that verified leaf key in Chromium with
// --ignore-certificate-errors-spki-list, so Chromium accepts this one server key and still
// rejects any other certificate. ignoreHTTPSErrors stays false. The CA's own key is
// deliberately not pinned: the flag matches any certificate the server *presents*, and a CA
// certificate is public.
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { chromium } from "playwright-core";

const TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 120_000;

let passed = 0;
let failed = 0;

function finish() {
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

function abort(message, planned) {
  console.error(`e2e: ${message}`);
  failed += planned;
  finish();
}

const TESTS = 3;

// ---- configuration -------------------------------------------------------------------

const env = process.env;
for (const name of ["OPENWATCH_URL", "OPENWATCH_USER", "OPENWATCH_PASSWORD"]) {
  if (!env[name]) abort(`${name} is not set`, TESTS);
}

let target;
try {
  target = new URL(env.OPENWATCH_URL);
} catch {
  abort(`OPENWATCH_URL is not a URL: ${env.OPENWATCH_URL}`, TESTS);
}
if (target.protocol !== "https:" && target.protocol !== "http:") {
  abort(`OPENWATCH_URL must be http(s), not ${target.protocol}`, TESTS);
}
if (target.username || target.password) abort("OPENWATCH_URL must not carry credentials", TESTS);

function isLoopback(hostname) {
  const h = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost") return true;
  if (net.isIPv4(h)) return h.split(".")[0] === "127";
  if (net.isIPv6(h)) return h === "::1";
  return false;
}
if (!isLoopback(target.hostname)) {
  abort(`refusing ${target.origin}: only loopback URLs (127.0.0.0/8, [::1], localhost) are allowed`, TESTS);
}

const origin = target.origin;
const username = env.OPENWATCH_USER;
const password = env.OPENWATCH_PASSWORD;
const screenshotPath = env.OPENWATCH_SCREENSHOT || "";
const executablePath = env.CHROMIUM || "/usr/bin/chromium";

const watchdog = setTimeout(
  () => abort(`gave up after ${WATCHDOG_MS / 1000} s`, TESTS - passed - failed),
  WATCHDOG_MS,
);
watchdog.unref();

// ---- TLS: verify with Node against OPENWATCH_CA, then pin the verified leaf key --------

function spkiSha256(cert) {
  const der = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

function verifiedLeaf(url, caPem) {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // SNI must be a DNS name; for an IP the certificate is checked against its IP SANs.
      servername: net.isIP(host) ? undefined : host,
      ca: caPem,
      rejectUnauthorized: true,
      ALPNProtocols: ["http/1.1"],
      timeout: TIMEOUT_MS,
    });
    socket.once("secureConnect", () => {
      const leaf = socket.getPeerX509Certificate();
      socket.end();
      if (!leaf) reject(new Error("the server presented no certificate"));
      else resolve(leaf);
    });
    socket.once("timeout", () => socket.destroy(new Error("TLS handshake timed out")));
    socket.once("error", reject);
  });
}

const launchArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

if (target.protocol === "https:") {
  if (env.OPENWATCH_CA) {
    let caPem;
    try {
      caPem = readFileSync(env.OPENWATCH_CA, "utf8");
      new X509Certificate(caPem); // fail early on a file that is not a PEM certificate
    } catch (err) {
      abort(`OPENWATCH_CA: ${err.message}`, TESTS);
    }
    let leaf;
    try {
      leaf = await verifiedLeaf(target, caPem);
    } catch (err) {
      abort(`TLS verification of ${origin} against OPENWATCH_CA failed: ${err.message}`, TESTS);
    }
    const pin = spkiSha256(leaf);
    console.log(`e2e: ${origin} verified against OPENWATCH_CA; pinning leaf key sha256/${pin}`);
    launchArgs.push(`--ignore-certificate-errors-spki-list=${pin}`);
  } else {
    console.log("e2e: OPENWATCH_CA not set; Chromium uses its default trust store");
  }
}

// ---- tests -----------------------------------------------------------------------------

async function newPage(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: false, viewport: { width: 1100, height: 720 } });
  context.setDefaultTimeout(TIMEOUT_MS);
  // The app must not talk to anything but its own origin.
  const strays = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    strays.push(url);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  const problems = () => [
    ...pageErrors.map((m) => `uncaught error in page: ${m}`),
    ...strays.map((u) => `request to another origin: ${u}`),
  ];
  return { context, page, problems };
}

async function openSignIn(page) {
  const res = await page.goto(origin + "/", { waitUntil: "domcontentloaded" });
  if (!res || !res.ok()) throw new Error(`GET / answered ${res ? res.status() : "nothing"}`);
  await page.getByLabel("Username").waitFor();
}

async function submit(page, user, pass) {
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(pass);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function shot(page) {
  if (!screenshotPath) return;
  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`e2e: screenshot saved to ${screenshotPath}`);
}

async function signInWorks(browser) {
  const { context, page, problems } = await newPage(browser);
  try {
    await openSignIn(page);
    await submit(page, username, password);

    const shown = page.getByTestId("me-username");
    const alert = page.getByRole("alert");
    await shown.or(alert).first().waitFor();
    if (await alert.count()) throw new Error(`sign-in failed: ${(await alert.first().textContent())?.trim()}`);
    const text = (await shown.textContent())?.trim();
    if (text !== username) throw new Error(`me-username shows ${JSON.stringify(text)}, want ${JSON.stringify(username)}`);
    await page.getByRole("heading", { name: "OpenWatch" }).first().waitFor();

    const cookie = (await context.cookies(origin)).find((c) => c.name === "openwatch_session");
    if (!cookie) throw new Error("no openwatch_session cookie after sign-in");
    if (!cookie.httpOnly) throw new Error("openwatch_session is not HttpOnly");
    if (target.protocol === "https:" && !cookie.secure) throw new Error("openwatch_session is not Secure");
    const stored = await page.evaluate(() => window.localStorage.length + window.sessionStorage.length);
    if (stored !== 0) throw new Error(`the app wrote ${stored} item(s) to web storage`);

    // A fresh page load must find the session through the cookie alone.
    await page.reload({ waitUntil: "domcontentloaded" });
    await shown.waitFor();
    const again = (await shown.textContent())?.trim();
    if (again !== username) throw new Error(`after reload me-username shows ${JSON.stringify(again)}`);

    await shot(page);
    const p = problems();
    if (p.length) throw new Error(p.join("; "));
  } catch (err) {
    await shot(page).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
}

async function wrongPasswordShowsAlert(browser) {
  const { context, page, problems } = await newPage(browser);
  try {
    await openSignIn(page);
    await submit(page, username, `${password}-wrong`);

    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = (await alert.textContent())?.trim() ?? "";
    if (text === "") throw new Error("the alert is empty");
    if (await page.getByTestId("me-username").count()) throw new Error("signed in with a wrong password");
    const cookie = (await context.cookies(origin)).find((c) => c.name === "openwatch_session");
    if (cookie) throw new Error("a wrong password produced an openwatch_session cookie");
    console.log(`e2e:   alert says: ${text}`);
    const p = problems();
    if (p.length) throw new Error(p.join("; "));
  } finally {
    await context.close();
  }
}

// The API reference at /api/docs: "Authorize" with a bearer token, then "Try it out" on
// GET /auth/me answers 200. The token comes from the API itself, as a script author's would.
async function swaggerAuthorizeWorks(browser) {
  const { context, page, problems } = await newPage(browser);
  try {
    const res = await page.goto(origin + "/api/docs", { waitUntil: "domcontentloaded" });
    if (!res || !res.ok()) throw new Error(`GET /api/docs answered ${res ? res.status() : "nothing"}`);
    const token = await page.evaluate(async (creds) => {
      const r = await fetch("/api/v1/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(creds),
      });
      if (!r.ok) throw new Error(`POST /auth/login answered ${r.status}`);
      return (await r.json()).access_token;
    }, { username, password });
    // Only the bearer token may authenticate the call below.
    await context.clearCookies();
    await page.locator("button.authorize").first().click();
    await page.locator(".modal-ux input").first().fill(token);
    await page.locator(".modal-ux .auth-btn-wrapper button.authorize").first().click();
    await page.locator(".modal-ux button.btn-done").first().click();
    const op = page.locator("#operations-auth-getMe");
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor();
    const code = (await status.innerText()).trim();
    if (code !== "200") throw new Error(`Try it out on GET /auth/me answered ${code}, want 200`);
    const p = problems();
    if (p.length) throw new Error(p.join("; "));
  } finally {
    await context.close();
  }
}

const tests = [
  ["sign-in with the right password shows the signed-in page", signInWorks],
  ["a wrong password shows the alert", wrongPasswordShowsAlert],
  ["Swagger UI: Authorize with a bearer token, then GET /auth/me answers 200", swaggerAuthorizeWorks],
];
if (tests.length !== TESTS) throw new Error("TESTS is out of date");

let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true, args: launchArgs });
} catch (err) {
  abort(`could not launch ${executablePath}: ${err.message.split("\n")[0]}`, tests.length);
}

for (const [name, fn] of tests) {
  const start = Date.now();
  try {
    await fn(browser);
    passed++;
    console.log(`ok     ${name} (${Date.now() - start} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAILED ${name} (${Date.now() - start} ms): ${err.message.split("\n")[0]}`);
  }
}

await browser.close().catch(() => {});
finish();
