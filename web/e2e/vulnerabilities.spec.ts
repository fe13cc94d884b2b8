import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { adminApi, adminPage, expectAccessible, shot, signIn } from "./helpers";

// Vulnerability exposure through the UI, on the run's sshd target (scripts/e2e.sh): its
// inventory is collected, a small OSV feed written here (a zip of one record for a
// package the target has, fixed above its installed version) is uploaded on the Feeds
// tab, and the exposure shows in the fleet list, in the advisory's drawer with the host,
// on the host's Vulnerabilities tab and in the import history. Then a critical record
// raises an alert; an exception of its CVE alias requested from the host tab by the admin
// and approved by a second person (four eyes) shows the exposure excepted and resolves the
// alert.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const keyFile = process.env.E2E_SSH_KEY ?? "";
const advisory = `DSA-E2E${run.toUpperCase()}-1`;
let page: Page;
let admin: APIRequestContext;
let hostId = "";
let credId = "";
let installed = "";
let userId = "";
const approverName = `e2e-vapprover-${run}`;
const approverPassword = `vapprover-${run}-0123456789`;

// onTarget runs a shell command as root on the target and returns its output.
function onTarget(cmd: string): string {
  return execFileSync("ssh", ["-i", keyFile, "-p", String(sshdPort), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@127.0.0.1", cmd], { timeout: 30_000 }).toString().trim();
}

// zip writes a zip archive (stored, no compression) of the files.
function zip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text, "utf8");
    const fname = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    locals.push(local, fname, data);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(data.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(fname.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, fname);
    offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  admin = await adminApi();
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-vuln-${run}`, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-vuln", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-vuln-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(keyFile, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  credId = ((await res.json()) as { id: string }).id;
  // The target's facts and inventory, as the schedulers would collect them.
  res = await admin.post(`/api/v1/hosts/${hostId}/discovery:run`, { headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(200);
  res = await admin.post(`/api/v1/hosts/${hostId}/intelligence:collect`, { headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(200);
  installed = onTarget("dpkg-query -W -f='${source:Version}' bash");
  expect(installed).not.toBe("");
  res = await admin.post("/api/v1/users", {
    data: { username: approverName, email: `${approverName}@example.com`, password: approverPassword, role: "security_admin" },
  });
  expect(res.status(), await res.text()).toBe(201);
  userId = ((await res.json()) as { id: string }).id;
  page = await adminPage(browser);
});

test.afterAll(async () => {
  await page?.context().close();
  if (userId) await admin.delete(`/api/v1/users/${userId}`);
  if (credId) await admin.delete(`/api/v1/credentials/${credId}`);
  if (hostId) await admin.delete(`/api/v1/hosts/${hostId}`);
});

test("an uploaded OSV feed shows the exposure in the fleet list, on the host and in the history", async ({}, testInfo) => {
  test.setTimeout(120_000);
  const record = {
    schema_version: "1.6.0",
    id: advisory,
    modified: new Date().toISOString(),
    published: new Date().toISOString(),
    aliases: [`CVE-2099-${run}`],
    summary: `bash: end-to-end advisory ${run}`,
    affected: [
      {
        package: { ecosystem: "Debian:12", name: "bash" },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: `${installed}+e2e1` }] }],
        ecosystem_specific: { urgency: "high" },
      },
    ],
  };
  await page.goto("/vulnerabilities?tab=feeds");
  await page.locator('input[type="file"]').setInputFiles({
    name: `e2e-${run}.zip`,
    mimeType: "application/zip",
    buffer: zip({ [`debian/${advisory}.json`]: JSON.stringify(record) }),
  });
  const result = page.getByTestId("feed-result");
  await expect(result).toContainText("1 added");
  // Every host of the run on the same target has bash: other specs' hosts are exposed too.
  await expect(result).toContainText(/[1-9]\d* exposures opened/);
  const history = page.getByTestId("feed-imports-table");
  await expect(history.getByTestId("import-source").filter({ hasText: `e2e-${run}` })).toHaveCount(1);
  await shot(page, "vulnerabilities-feeds");
  await expectAccessible(page, testInfo, "vulnerabilities feeds");

  await page.goto(`/vulnerabilities?severity=high&q=${encodeURIComponent(advisory)}`);
  const link = page.getByTestId("vuln-link").filter({ hasText: advisory });
  await expect(link).toHaveCount(1);
  await expect(page.getByTestId("vuln-host-count").first()).not.toHaveText("0");
  await shot(page, "vulnerabilities-list");
  await expectAccessible(page, testInfo, "vulnerabilities list");
  await link.click();
  const detail = page.getByTestId("vuln-detail");
  await expect(detail).toContainText(`CVE-2099-${run}`);
  await expect(page.getByTestId("vuln-hosts")).toContainText(`e2e-vuln-${run}`);
  await expect(page.getByTestId("vuln-hosts")).toContainText(`${installed}+e2e1`);
  await shot(page, "vulnerabilities-detail");

  await page.goto(`/hosts/${hostId}?tab=vulnerabilities`);
  const tab = page.getByTestId("host-vulnerabilities");
  await expect(tab).toContainText(advisory);
  await expect(tab).toContainText(installed);
  await shot(page, "host-vulnerabilities");
});

test("the advisory's Create patch job button shows the hosts and packages, creates the job and links to it", async () => {
  test.setTimeout(60_000);
  await page.goto(`/vulnerabilities?vuln=${encodeURIComponent(advisory)}`);
  await page.getByTestId("vuln-patch-button").click();
  const plan = page.getByTestId("vuln-patch-plan");
  await expect(plan.getByRole("table", { name: "Hosts to patch" })).toContainText(`e2e-vuln-${run}`);
  await expect(plan.getByTestId("vuln-patch-packages")).toContainText("bash");
  await expect(plan.getByRole("table", { name: "Hosts to patch" })).toContainText(`${installed}+e2e1`);
  await shot(page, "vulnerability-patch-plan");
  await plan.getByLabel("Reason").fill("e2e");
  const created = page.waitForResponse((r) => r.url().includes(":patch") && r.request().method() === "POST");
  await plan.getByRole("button", { name: "Create the patch job" }).click();
  const res = await created;
  expect(res.status(), await res.text()).toBe(201);
  const job = (await res.json()) as { id: string; reason: string; host_names: string[]; patch: { mode: string; packages: { name: string; op: string }[] } };
  expect(job.reason).toBe(`Advisory ${advisory}: e2e`);
  expect(job.host_names).toContain(`e2e-vuln-${run}`);
  expect(job.patch.mode).toBe("packages");
  expect(job.patch.packages.map((p) => p.name)).toContain("bash");
  const link = page.getByTestId("vuln-patch-job-link");
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.id}`));
  // The host has no maintenance window: it waits; the job is cancelled before it changes anything.
  const cancel = await admin.post(`/api/v1/jobs/${job.id}:cancel`, { data: { reason: "e2e" }, headers: { "Idempotency-Key": randomUUID() } });
  expect(cancel.status(), await cancel.text()).toBe(200);
});

test("a vulnerability exposure report of the fleet is generated on the Reports page and verifies offline", async () => {
  test.setTimeout(90_000);
  const bin = process.env.E2E_OPENWATCH_BIN ?? resolve("..", "bin", "openwatch");
  const dir = mkdtempSync(join(tmpdir(), "ow-vuln-report-"));
  try {
    const keys = await admin.get("/api/v1/reports/signing-key");
    expect(keys.status()).toBe(200);
    const keysFile = join(dir, "signing-keys.json");
    writeFileSync(keysFile, await keys.text());
    await page.goto("/reports");
    const form = page.getByRole("region", { name: "Generate a report" });
    await form.getByRole("combobox", { name: "Kind" }).click();
    await page.getByRole("option", { name: "Vulnerability exposure", exact: true }).click();
    await form.getByRole("combobox", { name: "Minimum severity" }).click();
    await page.getByRole("option", { name: "high", exact: true }).click();
    const queued = page.waitForResponse((r) => r.url().includes("/api/v1/reports:generate") && r.request().method() === "POST");
    await form.getByRole("button", { name: "Generate report" }).click();
    const res = await queued;
    expect(res.status(), await res.text()).toBe(202);
    const { id, parameters } = (await res.json()) as { id: string; parameters: { min_severity?: string } };
    expect(parameters.min_severity).toBe("high");
    await expect(page.getByTestId(`report-${id}`)).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
    for (const format of ["JSON", "PDF"]) {
      const download = page.waitForEvent("download");
      await page.getByRole("link", { name: `Download ${format} of report ${id}` }).click();
      const file = join(dir, `report-${id}.${format.toLowerCase()}`);
      await (await download).saveAs(file);
      const out = execFileSync(bin, ["verify-report", file, "--key", keysFile], { encoding: "utf8", timeout: 30_000 });
      expect(out).toContain(`report: ${id}`);
      expect(out).toContain("key: trusted");
      if (format === "JSON") {
        const doc = JSON.parse(readFileSync(file, "utf8")) as {
          report: { kind: string; vulnerability: { advisories: { id: string; hosts: { hostname: string }[] }[]; feeds: { source: string }[] } };
        };
        expect(doc.report.kind).toBe("vulnerability");
        const adv = doc.report.vulnerability.advisories.find((a) => a.id === advisory);
        expect(adv?.hosts.map((h) => h.hostname)).toContain(`e2e-vuln-${run}`);
        expect(doc.report.vulnerability.feeds.some((f) => f.source.includes(`e2e-${run}`))).toBe(true);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// bashRecord is an OSV record of the target's bash, fixed above the installed version.
function bashRecord(id: string, alias: string, urgency: string, withdrawn?: string) {
  return {
    schema_version: "1.6.0",
    id,
    modified: new Date().toISOString(),
    ...(withdrawn ? { withdrawn } : {}),
    aliases: [alias],
    summary: `bash: critical end-to-end advisory ${run}`,
    affected: [
      {
        package: { ecosystem: "Debian:12", name: "bash" },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: `${installed}+e2e2` }] }],
        ecosystem_specific: { urgency },
      },
    ],
  };
}

async function upload(record: object) {
  const res = await admin.post(`/api/v1/vulnerabilities/feeds:import?source=e2e-crit-${run}&file_name=crit.json`, {
    data: Buffer.from(JSON.stringify(record)),
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(res.status(), await res.text()).toBe(200);
}

test("a critical exposure alerts; an exception of its CVE, approved by another person, excepts it", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const critical = `DSA-E2E${run.toUpperCase()}-9`;
  const cve = `CVE-2098-${run}`;
  await upload(bashRecord(critical, cve, "critical"));

  // The new critical exposure raised an alert naming the advisory.
  await page.goto(`/alerts?host_id=${hostId}`);
  const alertLink = page.getByTestId("alert-link").filter({ hasText: critical });
  await expect(alertLink).toHaveCount(1);
  await alertLink.click();
  await expect(page.getByTestId("alert-advisory")).toHaveText(critical);
  await shot(page, "vulnerability-alert");

  // The admin requests an exception of the CVE alias on this host from the host tab.
  await page.goto(`/hosts/${hostId}?tab=vulnerabilities`);
  const row = page.getByTestId("host-vulnerabilities").getByRole("row").filter({ hasText: critical });
  await expect(row.getByTestId("exposure-status")).toHaveText("exposed");
  await row.getByTestId("vuln-request-exception").click();
  const form = page.getByRole("dialog", { name: "Request an exception of a vulnerability" });
  await form.getByTestId("vuln-exception-subject").click();
  await page.getByRole("option", { name: cve }).click();
  await form.getByTestId("vuln-exception-reason").fill(`e2e ${run}: not reachable from the network`);
  await expectAccessible(page, testInfo, "vulnerability exception request");
  await shot(page, "vulnerability-exception-request");
  await form.getByTestId("vuln-exception-submit").click();
  await expect(form).toBeHidden();
  const list = (await (
    await admin.get(`/api/v1/compliance/exceptions?kind=vulnerability&status=pending&advisory_id=${encodeURIComponent(cve)}`)
  ).json()) as { items: { id: string }[] };
  expect(list.items).toHaveLength(1);
  const id = list.items[0]?.id ?? "";
  const refused = await admin.post(`/api/v1/exceptions/${id}:approve`, { data: { reason: "mine" } });
  expect(refused.status(), "four eyes").toBe(403);

  // A second person approves it from the Exceptions page, filtered to vulnerabilities.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/sign-in");
  await signIn(other, approverName, approverPassword);
  await expect(other.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await other.goto(`/exceptions?kind=vulnerability&status=pending`);
  await expect(other.getByTestId("exception-link").filter({ hasText: cve })).toHaveCount(1);
  await other.getByTestId("exception-link").filter({ hasText: cve }).click();
  const detail = other.getByTestId("exception-detail");
  await expect(detail.getByTestId("exception-advisory")).toHaveText(cve);
  await detail.getByTestId("decision-reason").fill("reviewed: isolated host");
  await detail.getByTestId("exception-approve").click();
  await expect(detail.getByTestId("exception-status")).toHaveText("approved");
  await other.context().close();

  // The exposure shows excepted on the host tab and in the fleet list; the alert resolved.
  await page.goto(`/hosts/${hostId}?tab=vulnerabilities`);
  await expect(row.getByTestId("exposure-status")).toHaveText("excepted");
  await expectAccessible(page, testInfo, "host vulnerabilities excepted");
  await shot(page, "host-vulnerabilities-excepted");
  await page.goto(`/vulnerabilities?q=${encodeURIComponent(critical)}`);
  await expect(page.getByTestId("vuln-excepted-count").first()).toHaveText("1");
  await page.goto(`/exceptions?kind=vulnerability`);
  await expect(page.getByTestId("exception-kind").first()).toHaveText("vulnerability");
  await expectAccessible(page, testInfo, "exceptions of vulnerabilities");
  const alerts = (await (await admin.get(`/api/v1/alerts?host_id=${hostId}`)).json()) as { items: { title: string; state: string }[] };
  expect(alerts.items.filter((a) => a.title.includes(critical)).map((a) => a.state)).toEqual(["resolved"]);

  // The record withdrawn, nothing of it stays for other specs.
  await upload(bashRecord(critical, cve, "critical", new Date().toISOString()));
});
