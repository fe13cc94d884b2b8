import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// Reports: a compliance and an audit report generated through the page, each downloaded in
// every format and verified offline by the same openwatch binary the run serves with
// (`openwatch verify-report FILE --key signing-keys.json`), a changed byte refused; then a
// schedule created, edited and deleted.
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

test("reports: generate, download every format, verify offline, schedules", async ({ browser }, testInfo) => {
  const dir = mkdtempSync(join(tmpdir(), "ow-reports-"));
  const page = await adminPage(browser);
  try {
    const keys = await (await adminApi()).get("/api/v1/reports/signing-key");
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
  }
});
