import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

function host(n: number) {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    hostname: `web-${n}`,
    ip_address: `127.0.0.${n}`,
    port: 22,
    environment: "prod",
    tags: [],
    compliance_summary: { passing: 9, failing: 1, skipped: 0, error: 0, total: 10, critical_failing: n === 1 ? 1 : 0 },
  };
}

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    ...routes,
  });
}

describe("hosts table", () => {
  it("asks the server page by page with the URL's filters and appends the pages", async () => {
    const seen = signedInAs(["host:read"], {
      "GET /api/v1/hosts": ({ query }) =>
        query.get("cursor") === "c1"
          ? json(200, { hosts: [host(4), host(5)], next_cursor: null })
          : json(200, { hosts: [host(1), host(2), host(3)], next_cursor: "c1" }),
    });
    renderApp("/hosts?environment=prod&maintenance=false");
    const table = await screen.findByRole("table", { name: "Hosts" });
    // The first page ends inside the visible rows, so the next one loads by itself.
    await waitFor(() => expect(within(table).getAllByRole("link", { name: /^web-\d$/ })).toHaveLength(5));
    expect(within(table).getAllByRole("link", { name: /^web-\d$/ }).map((a) => a.textContent)).toEqual([
      "web-1",
      "web-2",
      "web-3",
      "web-4",
      "web-5",
    ]);
    const calls = seen.filter((r) => r.path === "/api/v1/hosts");
    expect(calls.map((r) => Object.fromEntries(r.query))).toEqual([
      { environment: "prod", maintenance: "false", limit: "200" },
      { environment: "prod", maintenance: "false", limit: "200", cursor: "c1" },
    ]);
    expect(screen.getByText("5 shown")).toBeTruthy();
    expect(within(table).getByText("1 critical")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("keeps only the rows in view in the DOM", async () => {
    signedInAs(["host:read"], {
      "GET /api/v1/hosts": () => json(200, { hosts: Array.from({ length: 200 }, (_, i) => host(i + 1)), next_cursor: null }),
    });
    renderApp("/hosts");
    const table = await screen.findByRole("table", { name: "Hosts" });
    await within(table).findByRole("link", { name: "web-1" });
    expect(screen.getByText("200 shown")).toBeTruthy();
    // An 800 px viewport holds about 16 rows of 52 px; overscan adds 10.
    const rendered = within(table).getAllByRole("row").length;
    expect(rendered).toBeLessThan(40);
    expect(within(table).queryByRole("link", { name: "web-200" })).toBeNull();
  });

  it("keeps the search in the URL and asks the server again", async () => {
    const seen = signedInAs(["host:read"], {
      "GET /api/v1/hosts": ({ query }) =>
        json(200, { hosts: query.get("q") === "web-2" ? [host(2)] : [host(1), host(2)], next_cursor: null }),
    });
    const { router } = renderApp("/hosts");
    await screen.findByRole("link", { name: "web-1" });
    await userEvent.setup().type(screen.getByLabelText("Search"), "web-2");
    await waitFor(() => expect(router.state.location.search).toEqual({ q: "web-2" }));
    await waitFor(() => expect(screen.queryByRole("link", { name: "web-1" })).toBeNull());
    expect(seen.filter((r) => r.path === "/api/v1/hosts").at(-1)?.query.get("q")).toBe("web-2");
  });

  it("hides Add host from callers without host:write and shows it to those with it", async () => {
    signedInAs(["host:read"], { "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }) });
    const first = renderApp("/hosts");
    await screen.findByText("No host matches these filters.");
    expect(screen.queryByRole("button", { name: "Add host" })).toBeNull();
    first.unmount();

    signedInAs(["host:read", "host:write"], { "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }) });
    renderApp("/hosts");
    expect(await screen.findByRole("button", { name: "Add host" })).toBeTruthy();
  });

  it("puts the server's 400 on the field it names when adding a host", async () => {
    const seen = signedInAs(["host:read", "host:write"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
      "POST /api/v1/hosts": () =>
        envelope(400, "validation_failed", "ip_address is invalid: not an IP address", { field: "ip_address" }),
    });
    renderApp("/hosts?add=true");
    const dialog = await screen.findByRole("dialog");
    const user = userEvent.setup();
    await user.type(within(dialog).getByLabelText(/Hostname/), "web-9");
    await user.type(within(dialog).getByLabelText(/IP address/), "not-an-ip");
    await user.click(within(dialog).getByRole("button", { name: "Add host" }));
    expect(await within(dialog).findByText("ip_address is invalid: not an IP address")).toBeTruthy();
    expect(within(dialog).getByLabelText(/IP address/).getAttribute("aria-invalid")).toBe("true");
    expect(within(dialog).queryByRole("alert")).toBeNull();
    const post = seen.find((r) => r.method === "POST" && r.path === "/api/v1/hosts");
    expect(post?.body).toEqual({ hostname: "web-9", ip_address: "not-an-ip", port: 22 });
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("says which permission a 403 lacks", async () => {
    signedInAs(["host:read"], {
      "GET /api/v1/hosts": () =>
        envelope(403, "authz.permission_denied", "Forbidden.", { required_permission: "host:read" }),
    });
    renderApp("/hosts");
    expect((await screen.findByRole("alert")).textContent).toContain("You lack permission host:read.");
  });
});

describe("bulk actions", { timeout: 20_000 }, () => {
  const path = (n: number) => `/api/v1/hosts/${host(n).id}/maintenance`;

  it("shows no selection column to a reader", async () => {
    signedInAs(["host:read"], { "GET /api/v1/hosts": () => json(200, { hosts: [host(1)], next_cursor: null }) });
    renderApp("/hosts");
    await screen.findByRole("link", { name: "web-1" });
    expect(screen.queryByRole("checkbox", { name: "Select web-1" })).toBeNull();
    expect(screen.queryByRole("checkbox", { name: "Select all loaded hosts" })).toBeNull();
  });

  it("turns maintenance on host by host and sums up what failed", async () => {
    const seen = signedInAs(["host:read", "host:write"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [host(1), host(2), host(3)], next_cursor: null }),
      [`PUT ${path(1)}`]: () => json(200, { ...host(1), maintenance_mode: true }),
      [`PUT ${path(2)}`]: () => envelope(404, "resource.not_found", "The host does not exist."),
    });
    renderApp("/hosts");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select web-1" }));
    await user.click(screen.getByRole("checkbox", { name: "Select web-2" }));
    expect(screen.getByTestId("bulk-count").textContent).toBe("2 hosts selected");
    expect((screen.getByRole("checkbox", { name: "Select all loaded hosts" }) as HTMLInputElement).indeterminate).toBe(true);
    // Without scan:execute there is no Scan.
    expect(screen.queryByRole("button", { name: "Scan" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Maintenance on" }));
    const summary = await screen.findByTestId("bulk-summary");
    expect(summary.textContent).toContain("Maintenance on: 1 succeeded, 1 failed");
    expect(summary.textContent).toContain("web-2: The host does not exist.");
    const puts = seen.filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.path).sort()).toEqual([path(1), path(2)]);
    expect(puts.every((r) => JSON.stringify(r.body) === '{"enabled":true}')).toBe(true);
  });

  it("scans every host matching the filters as one batch and opens it", async () => {
    const page = Array.from({ length: 60 }, (_, i) => host(i + 1));
    const seen = signedInAs(["host:read", "scan:execute"], {
      "GET /api/v1/hosts": () => json(200, { hosts: page, next_cursor: "more" }),
      "POST /api/v1/scan-batches": () =>
        json(202, { id: "b0000000-0000-4000-8000-000000000001", status: "running", selector: {}, concurrency: 10, hosts_total: 60, hosts_skipped: 0, progress: { queued: 60, running: 0, completed: 0, failed: 0, cancelled: 0 }, requested_by: "alice", created_at: new Date().toISOString() }),
    });
    const { router } = renderApp("/hosts?environment=prod");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select all loaded hosts" }));
    expect(screen.getByTestId("bulk-count").textContent).toBe("60 hosts selected");
    await user.click(screen.getByRole("button", { name: "Select all hosts matching these filters" }));
    expect(screen.getByTestId("bulk-count").textContent).toBe("All hosts matching these filters are selected");
    expect(screen.queryByRole("button", { name: "Maintenance on" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Scan" }));
    const dialog = await screen.findByRole("dialog", { name: "Scan every matching host?" });
    await user.click(within(dialog).getByRole("button", { name: "Start scan batch" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/scan-batches/b0000000-0000-4000-8000-000000000001"));
    const post = seen.find((r) => r.method === "POST" && r.path === "/api/v1/scan-batches");
    expect(post?.body).toEqual({ filter: { environment: "prod" }, concurrency: 10 });
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("clears the selection when the filters change", async () => {
    signedInAs(["host:read", "host:write"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [host(1), host(2)], next_cursor: null }),
    });
    const { router } = renderApp("/hosts");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select web-1" }));
    expect(screen.getByTestId("bulk-count").textContent).toBe("1 host selected");
    await router.navigate({ to: "/hosts", search: { tag: "db" } });
    await waitFor(() => expect(screen.queryByTestId("bulk-bar")).toBeNull());
    expect((await screen.findByRole("checkbox", { name: "Select web-1" }) as HTMLInputElement).checked).toBe(false);
  });

  it("puts the selected hosts in a group made on the spot", async () => {
    const group = { id: "g0000000-0000-4000-8000-000000000001", name: "db", description: "", maintenance_mode: false, host_count: 0, created_at: "", updated_at: "" };
    const seen = signedInAs(["host:read", "host:write"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [host(1), host(2)], next_cursor: null }),
      "GET /api/v1/groups": () => json(200, { groups: [], next_cursor: null }),
      "POST /api/v1/groups": () => json(201, group),
      [`PUT /api/v1/groups/${group.id}/members/${host(1).id}`]: () => new Response(null, { status: 204 }),
      [`PUT /api/v1/groups/${group.id}/members/${host(2).id}`]: () => new Response(null, { status: 204 }),
    });
    renderApp("/hosts");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select all loaded hosts" }));
    await user.click(screen.getByRole("button", { name: "Add to group" }));
    const dialog = await screen.findByRole("dialog", { name: "Add to a group" });
    await user.click(within(dialog).getByText("New group"));
    await user.type(within(dialog).getByLabelText(/New group name/), "db");
    await user.click(within(dialog).getByRole("button", { name: "Add to group" }));
    expect((await screen.findByTestId("bulk-summary")).textContent).toContain("Add to db: 2 succeeded, 0 failed");
    expect(seen.find((r) => r.method === "POST" && r.path === "/api/v1/groups")?.body).toEqual({ name: "db" });
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(2);
  });
});
