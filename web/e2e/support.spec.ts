import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import { adminApi, adminPage, expectAccessible, shot } from "./helpers";

// untar lists the regular files of an uncompressed tarball (ustar): name → bytes.
function untar(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= data.length) {
    const header = data.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => header.subarray(start, start + len).toString("latin1").replace(/\0.*$/s, "");
    const name = (field(345, 155) ? field(345, 155) + "/" : "") + field(0, 100);
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1);
    if (type === "0" || type === "") out.set(name, data.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

// Settings → Support: the bundle downloads from the button, is a gzip tarball whose
// manifest lists every file with its digest; the retention policy saves a change and
// refuses a value below a kind's minimum on its field.
test("support: download the bundle, list its files, change the retention policy", async ({ browser }, testInfo) => {
  const admin = await adminApi();
  const before = (await (await admin.get("/api/v1/admin/retention")).json()) as { policy: Record<string, number | string> };
  const page = await adminPage(browser);
  try {
    await page.goto("/settings?tab=support");
    await expect(page.getByRole("tab", { name: "Support" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByRole("table", { name: "Support bundle contents" })).toContainText("MANIFEST.json");

    const downloading = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download support bundle" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^openwatch-sysdump-\d{8}T\d{6}Z\.tar\.gz$/);
    const files = untar(gunzipSync(await readFile(await download.path())));
    const names = [...files.keys()].map((n) => n.split("/").slice(1).join("/")).sort();
    testInfo.annotations.push({ type: "sysdump files", description: names.join(", ") });
    for (const want of ["MANIFEST.json", "config.toml", "version.json", "runtime.json", "migrations.txt", "tables.json", "queue.json", "hosts.json", "liveness.json", "scans.json"]) {
      expect(names).toContain(want);
    }
    const manifestEntry = [...files.entries()].find(([n]) => n.endsWith("/MANIFEST.json"));
    const manifest = JSON.parse(manifestEntry?.[1].toString("utf8") ?? "{}") as { files: { name: string; size: number; sha256: string }[] };
    expect(manifest.files.map((f) => f.name).sort()).toEqual(names.filter((n) => n !== "MANIFEST.json"));
    await expect(page.getByText(/Support bundle openwatch-sysdump-.* downloaded\./)).toBeVisible();

    // Retention: a value below the minimum is refused on its field; a valid one saves.
    const retention = page.getByRole("region", { name: "Retention" });
    await expect(retention.getByText("Audit trail: never deleted.")).toBeVisible();
    const events = retention.getByLabel("Events (days)");
    await events.fill("3");
    await retention.getByRole("button", { name: "Save retention policy" }).click();
    await expect(retention.getByText(/between 7 and 3650 days/).first()).toBeVisible();
    await events.fill("60");
    await retention.getByRole("button", { name: "Save retention policy" }).click();
    await expect(page.getByText("Retention policy saved.")).toBeVisible();
    const after = (await (await admin.get("/api/v1/admin/retention")).json()) as { policy: { events_days: number } };
    expect(after.policy.events_days).toBe(60);
    await expectAccessible(page, testInfo, "settings-support");
    await shot(page, "settings-support");
  } finally {
    // Put the policy back: the server is shared by the whole run.
    const body = Object.fromEntries(Object.entries(before.policy).filter(([k]) => k.endsWith("_days")));
    await admin.put("/api/v1/admin/retention", { data: body });
    await page.context().close();
  }
});
