import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";
import { bundleName } from "./SettingsSupport";

const kinds = [
  { id: "events", description: "Feed.", days: 90, minimum_days: 7, default_days: 90 },
  { id: "scan_evidence", description: "Evidence.", days: 30, minimum_days: 1, default_days: 30 },
  { id: "monitoring", description: "History.", days: 30, minimum_days: 1, default_days: 30 },
  { id: "jobs", description: "Jobs.", days: 7, minimum_days: 1, default_days: 7 },
  { id: "change_jobs", description: "Changes.", days: 365, minimum_days: 30, default_days: 365 },
  { id: "reports", description: "Reports.", days: 365, minimum_days: 30, default_days: 365 },
  { id: "notification_deliveries", description: "Deliveries.", days: 90, minimum_days: 7, default_days: 90 },
];
const policy = {
  events_days: 90,
  scan_evidence_days: 30,
  monitoring_days: 30,
  jobs_days: 7,
  change_jobs_days: 365,
  reports_days: 365,
  notification_deliveries_days: 90,
  updated_at: "2026-12-01T10:00:00Z",
  updated_by: "system",
};
const settings = {
  policy,
  kinds,
  audit_retention: "never_deleted",
  runs: [{ id: "r1", started_at: "2026-12-01T11:00:00Z", finished_at: "2026-12-01T11:00:01Z", status: "completed", deleted: { events: 12, monitoring: 0 } }],
};

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    ...routes,
  });
}

describe("settings: support", () => {
  it("reads the bundle's file name from its header", () => {
    expect(bundleName('attachment; filename="openwatch-sysdump-20261201T100000Z.tar.gz"')).toBe("openwatch-sysdump-20261201T100000Z.tar.gz");
    expect(bundleName(null)).toBe("openwatch-sysdump.tar.gz");
  });

  it("lists the bundle's contents, shows the last runs and saves the policy, a refusal on its field", async () => {
    let puts = 0;
    const seen = signedInAs(["support:sysdump", "admin:retention_policy"], {
      "GET /api/v1/admin/retention": () => json(200, settings),
      "PUT /api/v1/admin/retention": () =>
        ++puts === 1
          ? envelope(400, "validation_failed", "events must be kept between 7 and 3650 days.", { field: "events_days" })
          : json(200, { ...settings, policy: { ...policy, events_days: 30, updated_by: "alice" } }),
    });
    const user = userEvent.setup();
    renderApp("/settings?tab=support");
    const contents = await screen.findByRole("table", { name: "Support bundle contents" });
    expect(within(contents).getByText("MANIFEST.json")).toBeTruthy();
    expect(await screen.findByRole("button", { name: "Download support bundle" })).toBeTruthy();
    const runs = await screen.findByRole("table", { name: "Retention runs" });
    expect(within(runs).getByText("Events: 12")).toBeTruthy();
    expect(screen.getByText("Audit trail: never deleted.")).toBeTruthy();

    const events = screen.getByLabelText("Events (days)");
    await user.clear(events);
    await user.type(events, "30");
    await user.click(screen.getByRole("button", { name: "Save retention policy" }));
    await waitFor(() => expect(screen.getByText("events must be kept between 7 and 3650 days.")).toBeTruthy());
    await user.click(screen.getByRole("button", { name: "Save retention policy" }));
    await waitFor(() => expect(puts).toBe(2));
    const bodies = seen.filter((r) => r.method === "PUT").map((r) => r.body);
    expect(bodies[1]).toEqual({ ...Object.fromEntries(Object.entries(policy).filter(([k]) => k.endsWith("_days"))), events_days: 30 });
    await waitFor(() => expect(screen.getByText(/by alice/)).toBeTruthy());
  }, 30_000);

  it("shows the bundle without the download to someone who may only manage retention", async () => {
    signedInAs(["admin:retention_policy"], { "GET /api/v1/admin/retention": () => json(200, settings) });
    renderApp("/settings?tab=support");
    await screen.findByRole("table", { name: "Support bundle contents" });
    expect(screen.queryByRole("button", { name: "Download support bundle" })).toBeNull();
    expect(screen.getByText("Downloading the bundle needs permission support:sysdump.")).toBeTruthy();
  });
});
