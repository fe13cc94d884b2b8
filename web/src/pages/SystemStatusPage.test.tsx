import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { alice, alicePermissions, envelope, fakeServer, json } from "../test/fakeServer";
import { renderApp } from "../test/renderApp";
import { checkLabel, metricsSummary } from "./SystemStatusPage";

const status = {
  ready: false,
  checks: [
    { name: "database", status: "ok", detail: "The database answers." },
    { name: "migrations", status: "ok", detail: "Schema at version 41 of 41, job queue at version 6 of 6." },
    { name: "worker", status: "failing", detail: "No worker process has been seen." },
  ],
  build: { openwatch: "1.2.3", kensa: "0.9.0", go: "go1.26.8", commit: "abc1234", build_time: "2026-12-01T00:00:00Z" },
  database: {
    managed: true,
    server_version: "15.18",
    pool: { max_conns: 8, total_conns: 3, acquired_conns: 1, idle_conns: 2, acquire_count: 120, empty_acquire_count: 4, acquire_wait_seconds: 0.0125 },
  },
  workers: { this_process_works_jobs: false, leader_alive: false },
  queue: [
    { kind: "scan_run", depth: 12 },
    { kind: "worker_ping", depth: 1 },
  ],
  metrics: { enabled: true, listen: "127.0.0.1:9464", auth: "bearer", tls: false },
};

function serve(permissions: string[]) {
  return fakeServer({
    "GET /api/v1/auth/me": () => json(200, alice),
    "GET /api/v1/auth/me/permissions": () => json(200, alicePermissions(permissions)),
    "POST /api/v1/events:ticket": () => envelope(403, "authz.permission_denied", "No.", { required_permission: "activity:read" }),
    "GET /api/v1/system/status": () => json(200, status),
  });
}

describe("system status", { timeout: 20_000 }, () => {
  it("shows the failing readiness check, the build, the pool, the queue and the metrics listener", async () => {
    serve(["system:read"]);
    renderApp("/system");
    expect(await screen.findByRole("heading", { level: 1, name: "System status" })).toBeTruthy();
    expect((await screen.findByTestId("readiness")).textContent).toBe("not ready");
    const checks = screen.getByRole("table", { name: "Readiness checks" });
    const worker = within(checks).getByRole("row", { name: /Worker heartbeat/ });
    expect(worker.textContent).toContain("failing");
    expect(worker.textContent).toContain("No worker process has been seen.");
    expect(screen.getByTestId("build-version").textContent).toBe("1.2.3");
    expect(screen.getByTestId("database-kind").textContent).toBe("Managed (local cluster)");
    expect(screen.getByTestId("pool-connections").textContent).toBe("1 of 3 open (max 8)");
    expect(screen.getByTestId("workers-alive").textContent).toBe("none seen");
    const queue = screen.getByRole("table", { name: "Jobs not finished yet, per kind" });
    const rows = within(queue).getAllByRole("row");
    expect(rows[1]?.textContent).toContain("scan_run");
    expect(rows[1]?.textContent).toContain("12");
    expect(screen.getByTestId("metrics-listener").textContent).toBe("http://127.0.0.1:9464/metrics (bearer authentication)");
    expect(screen.getByRole("link", { name: "System status" })).toBeTruthy();
  });

  it("is not in the navigation without system:read", async () => {
    serve(["host:read"]);
    renderApp("/");
    await screen.findByRole("link", { name: "Dashboard" });
    expect(screen.queryByRole("link", { name: "System status" })).toBeNull();
  });

  it("names checks and the metrics listener", () => {
    expect(checkLabel("managed_database")).toBe("Managed database running");
    expect(checkLabel("something_new")).toBe("something_new");
    expect(metricsSummary({ enabled: false, listen: "", auth: "none", tls: false })).toBe("Not served by this process");
    expect(metricsSummary({ enabled: true, listen: "[::1]:9464", auth: "none", tls: true })).toBe("https://[::1]:9464/metrics (no authentication)");
  });
});
