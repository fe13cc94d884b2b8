import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const report = {
  id: "01900000-0000-7000-8000-000000000001",
  kind: "audit",
  status: "completed",
  title: "Audit trail report",
  scope: { type: "fleet" },
  parameters: { since: "2026-11-01T00:00:00Z", until: "2026-12-01T00:00:00Z" },
  requested_by: "user:1",
  requested_by_name: "alice",
  progress: 100,
  summary: { events: 12, chain_verified: true },
  signing_key_id: "k1",
  chain_head: { seq: 12, hash: "ab".repeat(32) },
  created_at: "2026-12-01T10:00:00Z",
  generated_at: "2026-12-01T10:00:01Z",
};

const keys = {
  keys: [
    {
      key_id: "k2",
      algorithm: "Ed25519",
      public_key: "AAAA",
      public_key_pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
      status: "active",
      created_at: "2026-12-02T10:00:00Z",
    },
    {
      key_id: "k1",
      algorithm: "Ed25519",
      public_key: "BBBB",
      public_key_pem: "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n",
      status: "retired",
      created_at: "2026-11-01T10:00:00Z",
      retired_at: "2026-12-02T10:00:00Z",
    },
  ],
};

function serve(permissions: string[], routes: Parameters<typeof fakeServer>[0] = {}) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/reports": () => json(200, { items: [report], next_cursor: null }),
    "GET /api/v1/reports/signing-key": () => json(200, keys),
    "GET /api/v1/reports/schedules": () => json(200, { items: [], next_cursor: null }),
    "GET /api/v1/reports/frameworks": () => json(200, { frameworks: [{ id: "all", name: "All rules", family: "all", benchmark: "", rule_count: 3 }] }),
    ...routes,
  });
}

describe("reports", { timeout: 20_000 }, () => {
  it("lists reports with a download per format and the signing keys; a reader gets no controls", async () => {
    serve(["report:read"]);
    renderApp("/reports");
    const list = await screen.findByRole("table", { name: "Report list" });
    const row = await within(list).findByTestId(`report-${report.id}`);
    for (const f of ["json", "csv", "pdf"]) {
      const link = within(row).getByRole("link", { name: `Download ${f.toUpperCase()} of report ${report.id}` });
      expect(link.getAttribute("href")).toBe(`/api/v1/reports/${report.id}/export?format=${f}`);
    }
    const keyTable = await screen.findByRole("table", { name: "Report signing keys" });
    expect(within(keyTable).getByTestId("signing-key-retired").textContent).toContain("k1");
    expect(screen.getByTestId("verify-command").textContent).toContain("openwatch verify-report");
    expect(screen.queryByRole("region", { name: "Generate a report" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Rotate signing key" })).toBeNull();
    expect(screen.queryByRole("button", { name: "New schedule" })).toBeNull();
  });

  it("generates a fleet compliance report and shows the server's refusal of a schedule", async () => {
    const seen = serve(["report:read", "report:generate", "report:schedule"], {
      "POST /api/v1/reports:generate": () => json(202, { ...report, kind: "compliance", status: "queued", title: "Compliance report" }),
      "POST /api/v1/reports/schedules": () =>
        envelope(400, "validation_failed", 'The cron expression "61 * * * *" is not valid.', { field: "cron" }),
    });
    renderApp("/reports");
    const user = userEvent.setup({ delay: null });
    const form = await screen.findByRole("region", { name: "Generate a report" });
    await user.click(within(form).getByRole("button", { name: "Generate report" }));
    await waitFor(() => expect(seen.some((r) => r.method === "POST" && r.path.endsWith("/reports:generate"))).toBe(true));
    const post = seen.find((r) => r.method === "POST" && r.path.endsWith("/reports:generate"));
    expect(post?.body).toEqual({ kind: "compliance", scope: { type: "fleet" }, parameters: {} });

    await user.click(screen.getByRole("button", { name: "New schedule" }));
    const dialog = await screen.findByRole("dialog", { name: "New report schedule" });
    await user.type(within(dialog).getByLabelText("Name"), "weekly");
    const cron = within(dialog).getByLabelText(/Cron expression/);
    await user.clear(cron);
    await user.type(cron, "61 * * * *");
    await user.click(within(dialog).getByRole("button", { name: "Save schedule" }));
    expect(await within(dialog).findByText(/is not valid/)).toBeTruthy();
  });

  it("follows a report opened while it runs and offers its downloads once it completes", async () => {
    const running = { ...report, status: "running", progress: 40, generated_at: undefined, summary: undefined };
    let reads = 0;
    serve(["report:read"], {
      "GET /api/v1/reports": () => json(200, { items: [running], next_cursor: null }),
      [`GET /api/v1/reports/${report.id}`]: () => {
        reads++;
        return json(200, reads === 1 ? running : report);
      },
    });
    renderApp("/reports");
    const row = await screen.findByTestId(`report-${report.id}`);
    await userEvent.click(within(row).getByRole("button", { name: "Audit trail report" }));
    const detail = await screen.findByRole("dialog", { name: "Audit trail report" });
    expect(within(detail).getByRole("progressbar", { name: `Progress of report ${report.id} (detail)` })).toBeTruthy();
    const json_ = await within(detail).findByRole("link", { name: `Download JSON of report ${report.id}` }, { timeout: 8000 });
    expect(json_.getAttribute("href")).toBe(`/api/v1/reports/${report.id}/export?format=json`);
    expect(within(detail).getByText(/Generated/)).toBeTruthy();
    expect(reads).toBeGreaterThanOrEqual(2);
  });

  it("shows a schedule's last run, its report, the last error and the next run", async () => {
    const schedule = {
      id: "01900000-0000-7000-8000-0000000000aa",
      name: "weekly audit",
      kind: "audit",
      scope: { type: "fleet" },
      parameters: {},
      cron: "0 6 * * 1",
      timezone: "Europe/Paris",
      format: "csv",
      channel_ids: ["01900000-0000-7000-8000-0000000000cc"],
      enabled: true,
      next_run_at: "2026-12-07T05:00:00Z",
      last_run_at: "2026-11-30T05:00:00Z",
      last_report_id: report.id,
      last_error: "The delivery of report x through the notification channel y failed: 550 mailbox unavailable",
      created_by: "user:1",
      created_at: "2026-11-01T10:00:00Z",
      updated_at: "2026-11-01T10:00:00Z",
    };
    serve(["report:read"], { "GET /api/v1/reports/schedules": () => json(200, { items: [schedule], next_cursor: null }) });
    renderApp("/reports");
    const row = await screen.findByTestId("schedule-weekly audit");
    const last = within(row).getByTestId("schedule-last-run-weekly audit");
    expect(within(last).getByRole("link", { name: "Download the last report of weekly audit" }).getAttribute("href")).toBe(
      `/api/v1/reports/${report.id}/export?format=csv`,
    );
    expect(within(row).getByTestId("schedule-error-weekly audit").textContent).toContain("550 mailbox unavailable");
    expect(row.textContent).toContain("0 6 * * 1 (Europe/Paris)");
  });
});
