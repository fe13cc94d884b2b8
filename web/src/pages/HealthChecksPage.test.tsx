import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const disk = {
  id: "c0000000-0000-4000-8000-000000000001",
  name: "disk",
  kind: "command",
  target: "test -w /var/tmp",
  command: { command: "test -w /var/tmp" },
  timeout_sec: 5,
  retries: 2,
  retry_delay_sec: 3,
  enabled: true,
  last_result: {
    ok: false,
    detail: "The command exited 1 (after 3 attempts).",
    output: "",
    duration_ms: 6020,
    attempts: 3,
    host_id: "h0000000-0000-4000-8000-000000000001",
    tested_at: "2026-12-01T10:00:00Z",
  },
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

function serve(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/health-checks": () => json(200, { checks: [disk], next_cursor: null }),
    ...routes,
  });
}

describe("health checks", { timeout: 20_000 }, () => {
  it("lists checks with their last test under the Changes section; a reader gets no controls", async () => {
    serve(["health_check:read"], {});
    renderApp("/health-checks");
    const table = await screen.findByRole("table", { name: "Health checks" });
    const row = await within(table).findByRole("row", { name: /disk/ });
    expect(row.textContent).toContain("test -w /var/tmp");
    expect(row.textContent).toContain("5 s / 2 every 3 s");
    expect(row.textContent).toContain("fail");
    expect(row.textContent).toContain("The command exited 1 (after 3 attempts).");
    const changes = screen.getByRole("group", { name: "Changes" });
    expect(within(changes).getByRole("link", { name: "Health checks" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "New health check" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete disk" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Test on host: disk" })).toBeNull();
  });

  it("puts the server's refusal on the field it names", async () => {
    const seen = serve(["health_check:read", "health_check:write"], {
      "POST /api/v1/health-checks": () =>
        envelope(400, "validation_failed", "That is not a unit name.", { field: "service.unit" }),
    });
    renderApp("/health-checks");
    const user = userEvent.setup({ delay: null });
    await user.click(await screen.findByRole("button", { name: "New health check" }));
    const dialog = await screen.findByRole("dialog", { name: "New health check" });
    await user.type(within(dialog).getByLabelText(/Name/), "blank");
    await user.type(within(dialog).getByRole("textbox", { name: /Unit/ }), "nginx;reboot");
    await user.click(within(dialog).getByRole("button", { name: "Create check" }));
    expect(await within(dialog).findByText("That is not a unit name.")).toBeTruthy();
    expect(within(dialog).getByRole("textbox", { name: /Unit/ }).getAttribute("aria-invalid")).toBe("true");
    const post = seen.find((r) => r.method === "POST" && r.path.endsWith("/health-checks"));
    expect(post?.body).toEqual({ name: "blank", kind: "service", service: { unit: "nginx;reboot" }, timeout_sec: 10, retries: 0, retry_delay_sec: 0, enabled: true });
  });

  it("deletes only after a confirmation", async () => {
    const seen = serve(["health_check:read", "health_check:write"], {
      [`DELETE /api/v1/health-checks/${disk.id}`]: () => new Response(null, { status: 204 }),
    });
    renderApp("/health-checks");
    const user = userEvent.setup({ delay: null });
    await user.click(await screen.findByRole("button", { name: "Delete disk" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete health check disk?" });
    expect(seen.some((r) => r.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Delete check" }));
    await waitFor(() => expect(seen.filter((r) => r.method === "DELETE")).toHaveLength(1));
  });
});
