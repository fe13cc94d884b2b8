import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const db = {
  id: "g0000000-0000-4000-8000-000000000001",
  name: "db",
  description: "Databases",
  maintenance_mode: true,
  host_count: 3,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

function serve(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/groups": () => json(200, { groups: [db], next_cursor: null }),
    ...routes,
  });
}

describe("groups", { timeout: 20_000 }, () => {
  it("lists groups with their hosts linked to the filtered hosts list; a reader gets no controls", async () => {
    serve(["host:read"], {});
    renderApp("/groups");
    const table = await screen.findByRole("table", { name: "Groups" });
    expect((await within(table).findByRole("link", { name: "db" })).getAttribute("href")).toBe(`/groups/${db.id}`);
    expect(within(table).getByRole("link", { name: "3 hosts in db" }).getAttribute("href")).toBe(`/hosts?group_id=${db.id}`);
    expect(within(table).getByText("maintenance")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Add group" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete db" })).toBeNull();
  });

  it("puts a taken name on the Name field", async () => {
    const seen = serve(["host:read", "host:write"], {
      "POST /api/v1/groups": () => envelope(409, "resource.conflict", 'A group named "db" already exists.', { field: "name" }),
    });
    renderApp("/groups?add=true");
    const dialog = await screen.findByRole("dialog", { name: "Add group" });
    const user = userEvent.setup({ delay: null });
    await user.type(within(dialog).getByLabelText(/Name/), "db");
    await user.click(within(dialog).getByRole("button", { name: "Create group" }));
    expect(await within(dialog).findByText('A group named "db" already exists.')).toBeTruthy();
    expect(within(dialog).getByLabelText(/Name/).getAttribute("aria-invalid")).toBe("true");
    const post = seen.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ name: "db" });
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("deletes only after a confirmation, and shows the server's refusal", async () => {
    let calls = 0;
    const seen = serve(["host:read", "host:write", "host:delete"], {
      [`DELETE /api/v1/groups/${db.id}`]: () =>
        ++calls === 1 ? envelope(500, "internal", "The database is unavailable.") : new Response(null, { status: 204 }),
    });
    renderApp("/groups");
    const user = userEvent.setup({ delay: null });

    await user.click(await screen.findByRole("button", { name: "Delete db" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete group db?" });
    expect(dialog.textContent).toContain("Its 3 hosts stay in the inventory, without a group.");
    expect(seen.some((r) => r.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Delete group" }));
    expect((await within(dialog).findByRole("alert")).textContent).toContain("The database is unavailable.");
    await user.click(within(dialog).getByRole("button", { name: "Delete group" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Delete group db?" })).toBeNull());
    expect(seen.filter((r) => r.method === "DELETE")).toHaveLength(2);
  });
});
