import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";

const hostId = "00000000-0000-4000-8000-000000000001";
const scanId = "00000000-0000-4000-8000-0000000000a1";

const host = (maintenance = false) => ({
  host: {
    id: hostId,
    hostname: "web-1",
    ip_address: "10.0.0.1",
    port: 22,
    environment: "prod",
    os_family: "ubuntu",
    tags: [],
    maintenance_mode: maintenance,
  },
  liveness: null,
  compliance_summary: { passing: 3, failing: 1, skipped: 0, error: 0, total: 4, critical_failing: 0 },
});

const frameworks = {
  items: [
    { id: "all", name: "All rules", family: "all", benchmark: null, rule_count: 10, platforms: { debian: 5, ubuntu: 10, rhel: 5 } },
    { id: "cis-ubuntu24", name: "CIS Benchmark for Ubuntu 24.04", family: "cis", benchmark: "ubuntu24", rule_count: 8, platforms: { debian: 0, ubuntu: 8, rhel: 0 } },
    { id: "stig-rhel9", name: "DISA STIG for RHEL 9", family: "stig", benchmark: "rhel9", rule_count: 5, platforms: { debian: 0, ubuntu: 0, rhel: 5 } },
  ],
};

function signedInAs(permissions: string[], routes: Parameters<typeof fakeServer>[0]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/compliance/frameworks": () => json(200, frameworks),
    ...routes,
  });
}

describe("host compliance tab", () => {
  it("scores each framework of the host's platform as of the chosen instant, with the trend up to it", async () => {
    // (the chart and the lazily loaded page take a while in jsdom)
    const asOf = "2026-01-02T03:04:00.000Z";
    const seen = signedInAs(["host:read", "compliance:read"], {
      [`GET /api/v1/hosts/${hostId}`]: () => json(200, host()),
      [`GET /api/v1/hosts/${hostId}/compliance`]: ({ query }) =>
        json(200, {
          host_id: hostId,
          framework: query.get("framework") ?? "all",
          as_of: query.get("as_of"),
          next_cursor: null,
          summary:
            query.get("framework") === "cis-ubuntu24"
              ? { pass: 1, fail: 3, skipped: 0, error: 0, critical_failing: 1, passing_fraction: 0.25 }
              : { pass: 3, fail: 1, skipped: 0, error: 0, critical_failing: 0, passing_fraction: 0.75 },
          items: [
            { rule_id: "aide-installed", title: "AIDE is installed", severity: "medium", status: "fail", reason: "not installed", scan_id: scanId, changed_at: asOf, first_seen_at: asOf },
          ],
        }),
      [`GET /api/v1/hosts/${hostId}/compliance/trend`]: ({ query }) =>
        json(200, {
          framework: query.get("framework"),
          interval: query.get("interval"),
          since: "2025-12-03T03:04:00Z",
          until: asOf,
          points: [
            { at: "2026-01-01T03:04:00Z", pass: 0, fail: 0, skipped: 0, error: 0, passing_fraction: null },
            { at: asOf, pass: 3, fail: 1, skipped: 0, error: 0, passing_fraction: 0.75 },
          ],
        }),
    });
    renderApp(`/hosts/${hostId}?tab=compliance&as_of=${encodeURIComponent(asOf)}`);
    const scores = await screen.findByRole("table", { name: "Scores by framework" }, { timeout: 5000 });
    await waitFor(() => expect(within(scores).getByTestId("score-cis-ubuntu24").textContent).toBe("25.0 %"), { timeout: 5000 });
    expect(within(scores).getByTestId("score-all").textContent).toBe("75.0 %");
    // The RHEL framework has no rule for an Ubuntu host.
    expect(within(scores).queryByTestId("score-stig-rhel9")).toBeNull();
    const calls = seen.filter((r) => r.path === `/api/v1/hosts/${hostId}/compliance`).map((r) => Object.fromEntries(r.query));
    expect(calls).toContainEqual({ framework: "all", as_of: asOf, limit: "1" });
    expect(calls).toContainEqual({ framework: "cis-ubuntu24", as_of: asOf, limit: "1" });
    expect(calls).toContainEqual({ framework: "all", as_of: asOf, limit: "200" });
    const trend = seen.find((r) => r.path.endsWith("/compliance/trend"));
    expect(Object.fromEntries(trend?.query ?? [])).toEqual({ framework: "all", interval: "day", until: asOf });
    expect(await screen.findByRole("img", { name: "Passing percentage of the host over time" })).toBeTruthy();
    expect((screen.getByLabelText("As of") as HTMLInputElement).value).not.toBe("");
    expect((await screen.findByText("AIDE is installed", {}, { timeout: 5000 })).closest("a")?.getAttribute("href")).toContain(`evidence=aide-installed`);

    // Picking a framework by its score filters the results and the trend by it.
    await userEvent.click(within(scores).getByRole("button", { name: "CIS Benchmark for Ubuntu 24.04" }));
    await waitFor(() =>
      expect(seen.some((r) => r.path.endsWith("/compliance/trend") && r.query.get("framework") === "cis-ubuntu24")).toBe(true),
    );
    expect(within(scores).getByRole("button", { name: "CIS Benchmark for Ubuntu 24.04" }).getAttribute("aria-pressed")).toBe("true");
  }, 20_000);
});

describe("host overview", () => {
  it("turns maintenance on with an idempotency key, and names the credential without secrets", async () => {
    let maintenance = false;
    const seen = signedInAs(["host:read", "host:write", "credential:read"], {
      [`GET /api/v1/hosts/${hostId}`]: () => json(200, host(maintenance)),
      [`GET /api/v1/hosts/${hostId}/system-info`]: () => envelope(404, "resource.not_found", "Not discovered."),
      [`GET /api/v1/hosts/${hostId}/monitoring/history`]: () => json(200, { host_id: hostId, entries: [], next_cursor: null }),
      [`POST /api/v1/hosts/${hostId}/credentials:resolve`]: () =>
        json(200, {
          id: "00000000-0000-4000-8000-0000000000c1",
          scope: "system",
          name: "fleet-key",
          username: "root",
          auth_method: "ssh_key",
          is_default: true,
          is_active: true,
          ssh_key_fingerprint: "SHA256:abc",
          resolution_source: "system_default",
          resolution_reason: "The system default applies.",
        }),
      [`PUT /api/v1/hosts/${hostId}/maintenance`]: ({ body }) => {
        maintenance = (body as { enabled: boolean }).enabled;
        return json(200, host(maintenance).host);
      },
    });
    renderApp(`/hosts/${hostId}`);
    const cred = await screen.findByRole("table", { name: "Credential used for this host" }, { timeout: 5000 });
    expect(within(cred).getByText("fleet-key")).toBeTruthy();
    expect(within(cred).getByText("system default")).toBeTruthy();
    expect(within(cred).getByText("SHA256:abc")).toBeTruthy();
    expect(screen.getByTestId("system-info-empty")).toBeTruthy();
    await userEvent.click(screen.getByRole("switch", { name: "Maintenance mode" }));
    await waitFor(() => expect(seen.some((r) => r.method === "PUT")).toBe(true));
    const put = seen.find((r) => r.method === "PUT");
    expect(put?.body).toEqual({ enabled: true });
    expect(put?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => expect((screen.getByRole("switch", { name: "Maintenance mode" }) as HTMLInputElement).checked).toBe(true));
  });

  it("hides the switch and the credential from a reader", async () => {
    const seen = signedInAs(["host:read"], {
      [`GET /api/v1/hosts/${hostId}`]: () => json(200, host(true)),
      [`GET /api/v1/hosts/${hostId}/system-info`]: () => envelope(404, "resource.not_found", "Not discovered."),
      [`GET /api/v1/hosts/${hostId}/monitoring/history`]: () => json(200, { host_id: hostId, entries: [], next_cursor: null }),
    });
    renderApp(`/hosts/${hostId}`);
    expect(await screen.findByText("In maintenance", {}, { timeout: 5000 })).toBeTruthy();
    expect(screen.queryByRole("switch", { name: "Maintenance mode" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Credential" })).toBeNull();
    expect(seen.some((r) => r.path.endsWith("credentials:resolve"))).toBe(false);
  });
});

describe("intelligence events page", () => {
  it("sends the URL's filters (event type as event_code) and pages on", async () => {
    const ev = (n: number) => ({
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      host_id: hostId,
      event_code: "port_opened",
      severity: "high",
      occurred_at: "2026-01-01T00:00:00Z",
      detected_at: "2026-01-01T00:00:00Z",
      detail: { proto: "tcp", address: "0.0.0.0", port: 8000 + n },
    });
    const seen = signedInAs(["host:read"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
      [`GET /api/v1/hosts/${hostId}`]: () => json(200, host()),
      "GET /api/v1/intelligence/events": ({ query }) =>
        query.get("cursor") === "c1" ? json(200, { items: [ev(2)], next_cursor: null }) : json(200, { items: [ev(1)], next_cursor: "c1" }),
    });
    renderApp(`/intelligence?event_type=port_opened&severity=high&host_id=${hostId}`);
    const table = await screen.findByRole("table", { name: "Intelligence events" }, { timeout: 5000 });
    await waitFor(() => expect(within(table).getAllByRole("link", { name: "web-1" })).toHaveLength(2));
    expect(within(table).getByText("tcp 0.0.0.0:8002")).toBeTruthy();
    const calls = seen.filter((r) => r.path === "/api/v1/intelligence/events").map((r) => Object.fromEntries(r.query));
    expect(calls[0]).toEqual({ host_id: hostId, event_code: "port_opened", severity: "high", limit: "200" });
    expect(calls[1]).toMatchObject({ cursor: "c1" });
  });

  it("ignores an event type the API does not know", async () => {
    const seen = signedInAs(["host:read"], {
      "GET /api/v1/hosts": () => json(200, { hosts: [], next_cursor: null }),
      "GET /api/v1/intelligence/events": () => json(200, { items: [], next_cursor: null }),
    });
    renderApp("/intelligence?event_type=bogus");
    expect(await screen.findByText(/No event matches/, {}, { timeout: 5000 })).toBeTruthy();
    const call = seen.find((r) => r.path === "/api/v1/intelligence/events");
    expect(call?.query.get("event_code")).toBeNull();
  });
});
