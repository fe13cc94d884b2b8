import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const JOB_ID = "0190a0a0-0000-7000-8000-0000000000j1";
const HOST_ID = "0190a0a0-0000-7000-8000-0000000000h1";

function job(status: string, over: Record<string, unknown> = {}) {
  return {
    id: JOB_ID,
    kind: "patch",
    name: "monthly patch",
    status,
    reason: "",
    patch: { mode: "security" },
    selector: { host_ids: [HOST_ID] },
    host_names: ["web-1", "web-2", "web-3", "web-4"],
    host_count: 4,
    counts: { pending: 4, queued: 0, waiting_window: 0, running: 0, succeeded: 0, failed: 0, rolled_back: 0, rollback_failed: 0, cancelled: 0, skipped: 0 },
    waves: { canary: 1, growth: 2, sizes: [1, 3], current: 0 },
    failure_budget: { budget: 1, failures: 0, max_failures: 1 },
    health_check_ids: [],
    reboot: "never",
    ignore_windows: false,
    approval_required: true,
    requested_by: { id: alice.id, name: "alice" },
    created_at: "2026-12-01T10:00:00Z",
    ...over,
  };
}

const hostRow = {
  host_id: HOST_ID,
  host_name: "web-1",
  environment: "prod",
  wave: 0,
  position: 0,
  status: "rolled_back",
  phase: null,
  rule_ids: [],
  actions: [{ kind: "file_content", summary: "write /etc/x", target: "/etc/x" }],
  applied: 1,
  manual: [],
  error: "post-check failed",
  sessions: 2,
  rebooted: false,
};

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
    "GET /api/v1/groups": () => json(200, { groups: [], next_cursor: null }),
    ...routes,
  });
}

describe("patch jobs", () => {
  it("lists jobs with their first hosts and +N, and puts the server's refusal on its field", async () => {
    const seen = signedInAs(["patch:read", "patch:request"], {
      "GET /api/v1/jobs": () => json(200, { items: [job("pending_approval")], next_cursor: null }),
      "POST /api/v1/jobs": () => envelope(400, "validation_failed", "growth must be at most 10.", { field: "waves.growth" }),
    });
    const user = userEvent.setup();
    renderApp("/jobs");
    const table = await screen.findByRole("table", { name: "Patch jobs" }, { timeout: 5_000 });
    await waitFor(() => expect(within(table).getByText("web-1, web-2, web-3 +1")).toBeTruthy());
    expect(within(table).getByText("2 waves (1, 3)")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "New patch job" }));
    const dialog = await screen.findByRole("dialog", { name: "New patch job" });
    // Without patch:execute the window override is not offered.
    expect(within(dialog).queryByLabelText("Ignore maintenance windows")).toBeNull();
    await user.click(within(dialog).getByText("All hosts"));
    await user.click(within(dialog).getByRole("button", { name: "Create patch job" }));
    await waitFor(() => expect(within(dialog).getByText("growth must be at most 10.")).toBeTruthy());
    expect(within(dialog).getByLabelText("Growth").getAttribute("aria-invalid")).toBe("true");
    const post = seen.find((r) => r.method === "POST" && r.path === "/api/v1/jobs");
    expect(post?.body).toMatchObject({ all: true, patch: { mode: "security" }, waves: { canary: 1, growth: 2 }, ignore_windows: false });
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  }, 30_000);

  it("shows a job's waves and hosts, opens a host's steps, and says four eyes when the requester approves", async () => {
    const seen = signedInAs(["patch:read", "patch:approve", "patch:execute"], {
      [`GET /api/v1/jobs/${JOB_ID}`]: () => json(200, job("pending_approval")),
      [`GET /api/v1/jobs/${JOB_ID}/hosts`]: () => json(200, { items: [hostRow] }),
      [`GET /api/v1/jobs/${JOB_ID}/steps`]: () =>
        json(200, {
          items: [
            { id: "s2", host_id: HOST_ID, seq: 2, phase: "apply", name: "write /etc/x", command: "printf x > /etc/x", stdout: "", stderr: "denied", exit_code: 1, ok: false, truncated: false, started_at: "2026-12-01T10:00:00Z", finished_at: "2026-12-01T10:00:01Z" },
            { id: "s1", host_id: HOST_ID, seq: 1, phase: "precheck", name: "ssh ok", command: "true", stdout: "", stderr: "", exit_code: 0, ok: true, truncated: false, started_at: "2026-12-01T10:00:00Z", finished_at: "2026-12-01T10:00:00.2Z" },
          ],
          next_cursor: null,
        }),
      [`POST /api/v1/jobs/${JOB_ID}:approve`]: () =>
        envelope(403, "authz.permission_denied", "You requested this change; another person must decide it.", { reason: "four_eyes" }),
    });
    const user = userEvent.setup();
    renderApp(`/jobs/${JOB_ID}`);
    expect((await screen.findByTestId("change-status")).textContent).toBe("pending approval");
    await screen.findByTestId("change-hosts");
    expect(screen.getByTestId("wave-0").getAttribute("data-current")).toBeNull();
    expect(within(screen.getByTestId("wave-1")).getByText(/3 hosts · waiting/)).toBeTruthy();
    // Resume and roll back do not apply while pending.
    expect(screen.queryByRole("button", { name: "Roll back" })).toBeNull();

    await user.click(screen.getByRole("button", { name: /web-1/ }));
    const steps = await screen.findAllByTestId("host-step");
    expect(steps.map((s) => within(s).getByText(/step|ssh ok|write/).textContent)).toEqual(["ssh ok", "write /etc/x"]);
    expect(screen.getByText("precheck")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Approve" }));
    const dialog = await screen.findByRole("dialog", { name: /Approve/ });
    expect(within(dialog).getByTestId("four-eyes-note")).toBeTruthy();
    await user.click(within(dialog).getByTestId("change-confirm"));
    expect(within(dialog).getByText("A reason is required.")).toBeTruthy();
    expect(seen.some((r) => r.path.endsWith(":approve"))).toBe(false);
    await user.type(within(dialog).getByLabelText(/Reason/), "looks fine");
    await user.click(within(dialog).getByTestId("change-confirm"));
    await waitFor(() =>
      expect(within(dialog).getByTestId("change-action-error").textContent).toContain("You requested this change; another person must approve it."),
    );
    expect(seen.find((r) => r.path.endsWith(":approve"))?.body).toEqual({ reason: "looks fine" });
  }, 30_000);

  it("hides the write controls from readers", async () => {
    signedInAs(["patch:read"], {
      "GET /api/v1/jobs": () => json(200, { items: [], next_cursor: null }),
      [`GET /api/v1/jobs/${JOB_ID}`]: () => json(200, job("halted", { halt_reason: "failure budget spent: 1 of 1" })),
      [`GET /api/v1/jobs/${JOB_ID}/hosts`]: () => json(200, { items: [hostRow] }),
    });
    const { router } = renderApp("/jobs");
    await screen.findByText("No patch job yet.");
    expect(screen.queryByRole("button", { name: "New patch job" })).toBeNull();
    await router.navigate({ to: "/jobs/$jobId", params: { jobId: JOB_ID } });
    expect((await screen.findByTestId("change-halt-reason")).textContent).toContain("failure budget spent");
    expect(screen.getByTestId("wave-0").getAttribute("data-current")).toBe("true");
    expect(screen.queryByRole("button", { name: "Resume" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Roll back" })).toBeNull();
  });
});

describe("remediation", () => {
  it("shows the plan with manual guidance and a dry run's diff", async () => {
    const rem = job("approved", { kind: "remediation", name: "fix pass max days", patch: undefined, rule_ids: ["r1", "r2"], dry_run_at: "2026-12-01T10:05:00Z" });
    signedInAs(["remediation:read", "remediation:execute"], {
      [`GET /api/v1/remediation/requests/${JOB_ID}`]: () => json(200, rem),
      [`GET /api/v1/remediation/requests/${JOB_ID}/hosts`]: () => json(200, { items: [{ ...hostRow, status: "pending", error: null, scan_id: "0190a0a0-0000-7000-8000-0000000000s1" }] }),
      [`GET /api/v1/remediation/requests/${JOB_ID}/plan`]: () =>
        json(200, {
          request_id: JOB_ID,
          rules: [
            { rule_id: "r1", title: "Password max days", severity: "medium", automatic: true, implementations: [{ mechanism: "config_set", automatic: true, actions: [{ kind: "config_set", summary: "set PASS_MAX_DAYS 365", target: "/etc/login.defs" }] }] },
            { rule_id: "r2", title: "Bootloader password", severity: "high", automatic: false, implementations: [{ mechanism: "manual", automatic: false, actions: [], guidance: "Set a GRUB password by hand." }] },
          ],
          hosts: [],
        }),
      [`GET /api/v1/remediation/requests/${JOB_ID}/steps`]: () =>
        json(200, {
          items: [{ id: "d1", host_id: HOST_ID, seq: 1, phase: "dry_run", name: "preview", command: "diff", stdout: "--- a\n+++ b\n@@ -1 +1 @@\n-PASS_MAX_DAYS 99999\n+PASS_MAX_DAYS 365\n", stderr: "", exit_code: 0, ok: true, truncated: false, started_at: "2026-12-01T10:00:00Z", finished_at: "2026-12-01T10:00:01Z" }],
          next_cursor: null,
        }),
    });
    const user = userEvent.setup();
    renderApp(`/remediation/${JOB_ID}`);
    const r1 = await screen.findByTestId("plan-rule-r1");
    expect(within(r1).getByTestId("plan-rule-mode").textContent).toBe("automatic");
    expect(within(screen.getByTestId("plan-rule-r2")).getByTestId("plan-guidance").textContent).toContain("Set a GRUB password by hand.");
    expect(screen.getByRole("button", { name: "Execute" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Dry run" })).toBeTruthy();
    expect(screen.getByTestId("host-rescan").getAttribute("href")).toBe("/scans/0190a0a0-0000-7000-8000-0000000000s1");
    await user.click(screen.getByRole("button", { name: /web-1/ }));
    const diff = await screen.findByTestId("step-diff");
    expect(diff.querySelector('[data-diff="add"]')?.textContent).toBe("+PASS_MAX_DAYS 365");
    expect(diff.querySelector('[data-diff="del"]')?.textContent).toBe("-PASS_MAX_DAYS 99999");
  }, 30_000);
});
