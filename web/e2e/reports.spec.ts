import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Reports: a compliance and an audit report generated through the page, each downloaded in
// every format and verified offline by the same openwatch binary the run serves with
// (`openwatch verify-report FILE --key signing-keys.json`), a changed byte refused; then a
// schedule created, edited and deleted. The compliance report covers a host of the run's
// sshd target scanned for two rules, and downloads as OSCAL assessment results and plan
// that name the signed report.
const bin = process.env.E2E_OPENWATCH_BIN ?? resolve("..", "bin", "openwatch");

// verify runs verify-report and returns its exit code and output.
function verify(file: string, keys: string): { code: number; out: string } {
  try {
    const out = execFileSync(bin, ["verify-report", file, "--key", keys], { encoding: "utf8", timeout: 30_000 });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message?: string };
    return { code: e.status ?? -1, out: e.stderr || e.message || "" };
  }
}

// generate asks for a report of kind through the form and returns its id once completed.
async function generate(page: Page, kind: string): Promise<string> {
  const form = page.getByRole("region", { name: "Generate a report" });
  await form.getByRole("combobox", { name: "Kind" }).click();
  await page.getByRole("option", { name: kind, exact: true }).click();
  const queued = page.waitForResponse((r) => r.url().includes("/api/v1/reports:generate") && r.request().method() === "POST");
  await form.getByRole("button", { name: "Generate report" }).click();
  const res = await queued;
  expect(res.status()).toBe(202);
  const { id } = (await res.json()) as { id: string };
  // The list follows the job live (event stream, and polling while a report runs).
  await expect(page.getByTestId(`report-${id}`)).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
  return id;
}

const sshdPort = Number(process.env.E2E_SSHD_PORT ?? "0");
const sshKey = process.env.E2E_SSH_KEY ?? "";
const scannedRules = ["login-defs-pass-max-days", "accounts-no-empty-passwords"];

// scanHost adds a host of the sshd target with its credential and scans it for
// scannedRules, so a compliance report has results; it returns the ids to delete.
async function scanHost(admin: APIRequestContext): Promise<{ hostId: string; credId: string }> {
  expect(sshdPort, "E2E_SSHD_PORT: scripts/e2e.sh starts the sshd target").toBeGreaterThan(0);
  const run = Date.now().toString(36);
  let res = await admin.post("/api/v1/hosts", {
    data: { hostname: `e2e-reports-${run}`, ip_address: "127.0.0.1", port: sshdPort, environment: "e2e-reports", username: "root" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  const hostId = ((await res.json()) as { id: string }).id;
  res = await admin.post("/api/v1/credentials", {
    data: { name: `e2e-reports-${run}`, scope: "host", scope_id: hostId, username: "root", auth_method: "ssh_key", private_key: readFileSync(sshKey, "utf8") },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(res.status(), await res.text()).toBe(201);
  const credId = ((await res.json()) as { id: string }).id;
  res = await admin.post(`/api/v1/hosts/${hostId}/scans`, { data: { rule_ids: scannedRules }, headers: { "Idempotency-Key": randomUUID() } });
  expect(res.status(), await res.text()).toBe(202);
  const scanId = ((await res.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await admin.get(`/api/v1/scans/${scanId}`)).json()) as { status: string }).status, { timeout: 120_000 })
    .toBe("completed");
  return { hostId, credId };
}

type OscalDoc = {
  uuid: string;
  results?: { findings?: { target: { "target-id": string } }[] }[];
  "back-matter": { resources: { props?: { name: string; value: string }[]; rlinks?: { hashes?: { value: string }[] }[] }[] };
};

test("reports: generate, download every format, verify offline, schedules", async ({ browser }, testInfo) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), "ow-reports-"));
  const admin = await adminApi();
  const scanned = await scanHost(admin);
  const page = await adminPage(browser);
  try {
    const keys = await admin.get("/api/v1/reports/signing-key");
    expect(keys.status()).toBe(200);
    const keysFile = join(dir, "signing-keys.json");
    writeFileSync(keysFile, await keys.text());

    await page.goto("/reports");
    await expect(page.getByRole("heading", { level: 1, name: "Reports" })).toBeVisible();
    const compliance = await generate(page, "Compliance");
    const audit = await generate(page, "Audit trail");

    for (const id of [compliance, audit]) {
      for (const format of ["JSON", "CSV", "PDF"]) {
        const download = page.waitForEvent("download");
        await page.getByRole("link", { name: `Download ${format} of report ${id}` }).click();
        const file = join(dir, `report-${id}.${format.toLowerCase()}`);
        await (await download).saveAs(file);
        const ok = verify(file, keysFile);
        expect(ok.code, ok.out).toBe(0);
        expect(ok.out).toContain(`report: ${id}`);
        expect(ok.out).toContain("key: trusted");
        const data = readFileSync(file);
        const mid = Math.floor(data.length / 2);
        data[mid] = (data[mid] ?? 0) ^ 0x01;
        writeFileSync(file, data);
        const bad = verify(file, keysFile);
        expect(bad.code).toBe(1);
        expect(bad.out).toContain("INVALID");
      }
    }

    // The compliance report's detail downloads it as OSCAL: assessment results with one
    // finding per scanned rule, and the plan they import; both name the signed report (its
    // id, the SHA-256 of the JSON download, the signing key).
    await page.getByTestId(`report-${compliance}`).getByRole("button", { name: "Compliance report" }).click();
    const compDetail = page.getByRole("dialog", { name: "Compliance report" });
    const signedJSON = await admin.get(`/api/v1/reports/${compliance}/export?format=json`);
    const digest = createHash("sha256").update(await signedJSON.body()).digest("hex");
    const uuids: string[] = [];
    for (const [what, root] of [
      ["OSCAL assessment results", "assessment-results"],
      ["OSCAL assessment plan", "assessment-plan"],
    ] as const) {
      const download = page.waitForEvent("download");
      await compDetail.getByRole("link", { name: `Download ${what} of report ${compliance}` }).click();
      const d = await download;
      expect(d.suggestedFilename()).toBe(`report-${compliance}-oscal-${root}.json`);
      const doc = (JSON.parse(readFileSync(await d.path(), "utf8")) as Record<string, OscalDoc>)[root];
      expect(doc?.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      uuids.push(doc!.uuid);
      const source = doc!["back-matter"].resources.find((r) => r.props?.some((p) => p.name === "report-id" && p.value === compliance));
      expect(source, "the signed report is a back-matter resource").toBeTruthy();
      expect(source!.rlinks?.[0]?.hashes?.[0]?.value).toBe(digest);
      expect(source!.props?.find((p) => p.name === "signing-key-id")?.value).toBeTruthy();
      if (root === "assessment-results") {
        const targets = doc!.results!.flatMap((r) => (r.findings ?? []).map((f) => f.target["target-id"]));
        for (const rule of scannedRules) expect(targets).toContain(rule);
      }
    }
    expect(uuids[0]).not.toBe(uuids[1]);
    await compDetail.getByRole("button", { name: "Close" }).or(compDetail.locator("button.mantine-Modal-close")).first().click();
    await expect(compDetail).toBeHidden();

    // The detail shows the summary and the chain head.
    await page.getByTestId(`report-${audit}`).getByRole("button", { name: "Audit trail report" }).click();
    const detail = page.getByRole("dialog", { name: "Audit trail report" });
    await expect(detail.getByText(/Audit chain head: seq \d+/)).toBeVisible();
    await detail.getByRole("button", { name: "Close" }).or(detail.locator("button.mantine-Modal-close")).first().click();
    await expect(detail).toBeHidden();

    const keysCard = page.getByRole("region", { name: "Signing keys" });
    await expect(keysCard.getByTestId("signing-key-active")).toBeVisible();
    await expect(keysCard.getByTestId("verify-command")).toContainText("openwatch verify-report");

    // Schedules: create, edit, delete.
    const schedules = page.getByRole("region", { name: "Schedules" });
    await schedules.getByRole("button", { name: "New schedule" }).click();
    let form = page.getByRole("dialog", { name: "New report schedule" });
    await form.getByLabel("Name").fill("e2e weekly");
    await form.getByLabel("Cron expression").fill("0 7 * * 1");
    await form.getByLabel("Time zone").fill("Not/AZone");
    await form.getByRole("button", { name: "Save schedule" }).click();
    await expect(form.getByText(/Unknown time zone/)).toBeVisible();
    await form.getByLabel("Time zone").fill("Europe/Paris");
    await form.getByRole("button", { name: "Save schedule" }).click();
    await expect(form).toBeHidden();
    await expect(schedules.getByTestId("schedule-e2e weekly")).toContainText("0 7 * * 1 (Europe/Paris)");
    await schedules.getByRole("button", { name: "Edit e2e weekly" }).click();
    form = page.getByRole("dialog", { name: "Edit e2e weekly" });
    await form.getByLabel("Name").fill("e2e monthly");
    await form.getByLabel("Cron expression").fill("0 7 1 * *");
    await form.getByRole("button", { name: "Save schedule" }).click();
    await expect(form).toBeHidden();
    await expect(schedules.getByTestId("schedule-e2e monthly")).toContainText("0 7 1 * *");
    await expectAccessible(page, testInfo, "reports");
    await shot(page, "reports");
    await schedules.getByRole("button", { name: "Delete e2e monthly" }).click();
    await expect(schedules.getByTestId("schedule-e2e monthly")).toHaveCount(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await page.context().close();
    await admin.delete(`/api/v1/credentials/${scanned.credId}`);
    await admin.delete(`/api/v1/hosts/${scanned.hostId}`);
  }
});
