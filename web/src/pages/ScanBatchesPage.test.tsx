import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const BATCH_ID = "0190a0a0-0000-7000-8000-000000000001";

function batch(status: "running" | "completed" | "cancelled", progress: Partial<Record<string, number>> = {}) {
  return {
    id: BATCH_ID,
    status,
    selector: { filter: { environment: "prod" } },
    framework: null,
    rule_ids: null,
    concurrency: 5,
    hosts_total: 3,
    hosts_skipped: 1,
    progress: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, ...progress },
    requested_by: "user:alice",
    created_at: "2026-12-01T10:00:00Z",
    finished_at: null,
  };
}

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/compliance/frameworks": () => json(200, { items: [{ id: "cis", name: "CIS" }] }),
    "GET /api/v1/groups": () => json(200, { groups: [], next_cursor: null }),
    "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
    "GET /api/v1/scans": () => json(200, { items: [], next_cursor: null }),
    ...routes,
  });
}

describe("scan batches", () => {
  it("starts a batch over a filter with an Idempotency-Key, and shows the server's refusal on its field", async () => {
    let calls = 0;
    const seen = signedInAs(["scan:read", "scan:execute"], {
      "GET /api/v1/scan-batches": () => json(200, { items: [batch("completed", { completed: 3 })], next_cursor: null }),
      "POST /api/v1/scan-batches": () =>
        ++calls === 1
          ? envelope(400, "validation_failed", "No rule has id x.", { field: "rule_ids.0" })
          : json(202, batch("running", { queued: 3 })),
      [`GET /api/v1/scan-batches/${BATCH_ID}`]: () => json(200, batch("running", { queued: 3 })),
    });
    const user = userEvent.setup();
    const { router } = renderApp("/scan-batches");
    const table = await screen.findByRole("table", { name: "Scan batches" });
    await waitFor(() => expect(within(table).getByText("Hosts with environment prod")).toBeTruthy());
    await user.click(screen.getByRole("button", { name: "Start batch" }));
    const dialog = await screen.findByRole("dialog", { name: "Start a scan batch" });
    await user.click(within(dialog).getByText("A filter"));
    await user.click(within(dialog).getByRole("button", { name: "Start batch" }));
    expect(within(dialog).getByLabelText("Search").getAttribute("aria-invalid")).toBe("true");
    expect(seen.some((r) => r.method === "POST")).toBe(false);

    await user.type(within(dialog).getByLabelText("Environment"), "prod");
    await user.type(within(dialog).getByLabelText("Rule ids"), "x{Enter}");
    await user.click(within(dialog).getByRole("button", { name: "Start batch" }));
    await waitFor(() => expect(within(dialog).getByText("No rule has id x.")).toBeTruthy());
    expect(within(dialog).getByLabelText("Rule ids").getAttribute("aria-invalid")).toBe("true");

    await user.click(within(dialog).getByRole("button", { name: "Start batch" }));
    await waitFor(() => expect(router.state.location.pathname).toBe(`/scan-batches/${BATCH_ID}`));
    const posts = seen.filter((r) => r.method === "POST" && r.path === "/api/v1/scan-batches");
    expect(posts).toHaveLength(2);
    expect(posts[1]?.body).toEqual({ filter: { environment: "prod" }, rule_ids: ["x"], concurrency: 10 });
    expect(posts[1]?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[0]?.headers.get("Idempotency-Key")).not.toBe(posts[1]?.headers.get("Idempotency-Key"));
  }, 30_000);

  it("cancels a running batch only after confirming, and shows the server's message when it cannot", async () => {
    const seen = signedInAs(["scan:read", "scan:cancel"], {
      [`GET /api/v1/scan-batches/${BATCH_ID}`]: () => json(200, batch("running", { running: 1, queued: 1, completed: 1 })),
      [`POST /api/v1/scan-batches/${BATCH_ID}:cancel`]: () =>
        envelope(409, "resource.conflict", "The batch has already ended.", { status: "completed" }),
    });
    const user = userEvent.setup();
    renderApp(`/scan-batches/${BATCH_ID}`);
    expect((await screen.findByTestId("batch-done")).textContent).toBe("1 of 3 scans ended");
    expect(screen.getByRole("progressbar", { name: "Batch progress: 1 of 3 scans ended" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Cancel batch" }));
    const confirm = await screen.findByRole("dialog", { name: "Cancel this batch?" });
    expect(seen.some((r) => r.path.endsWith(":cancel"))).toBe(false);
    await user.click(within(confirm).getByRole("button", { name: "Cancel batch" }));
    await waitFor(() => expect(within(confirm).getByRole("alert").textContent).toContain("The batch has already ended."));
    expect(seen.filter((r) => r.path.endsWith(":cancel"))).toHaveLength(1);
  });

  it("hides start and cancel from readers", async () => {
    signedInAs(["scan:read"], {
      "GET /api/v1/scan-batches": () => json(200, { items: [], next_cursor: null }),
      [`GET /api/v1/scan-batches/${BATCH_ID}`]: () => json(200, batch("running", { running: 1 })),
    });
    const { router } = renderApp("/scan-batches");
    await screen.findByText("No batch yet.");
    expect(screen.queryByRole("button", { name: "Start batch" })).toBeNull();
    await router.navigate({ to: "/scan-batches/$batchId", params: { batchId: BATCH_ID } });
    await screen.findByTestId("batch-status");
    expect(screen.queryByRole("button", { name: "Cancel batch" })).toBeNull();
  });
});
