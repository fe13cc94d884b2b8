import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { changeQueries, Invalidator } from "./invalidate";

describe("change job events", () => {
  it("touch the queries of their kind only", () => {
    expect(changeQueries({ type: "change_job.host", topic: "jobs", data: { kind: "patch", job_id: "j1" } })).toEqual([["jobs"]]);
    expect(changeQueries({ type: "change_job.finished", topic: "jobs", data: { kind: "remediation" } })).toEqual([["remediation"]]);
    expect(changeQueries({ type: "change_job.requested", topic: "jobs" })).toEqual([["jobs"], ["remediation"]]);
    expect(changeQueries({ type: "maintenance_window.created", topic: "jobs" })).toEqual([]);
    expect(changeQueries({ type: "change_job.host", topic: "scans" })).toEqual([]);
  });

  it("refresh a job's page, hosts and steps, leaving the other kind alone", async () => {
    const qc = new QueryClient();
    const keys = [
      ["jobs", "detail", "j1"],
      ["jobs", "detail", "j1", "steps", "h1"],
      ["jobs", "list", { status: undefined }],
      ["remediation", "detail", "r1"],
    ];
    for (const queryKey of keys) await qc.fetchQuery({ queryKey, queryFn: async () => 1 });
    const inv = new Invalidator(qc, 10_000);
    inv.handle({ type: "change_job.host", topic: "jobs", data: { kind: "patch", job_id: "j1", host_id: "h1", host_status: "running" } });
    inv.flush();
    expect(keys.map((k) => qc.getQueryState(k)?.isInvalidated)).toEqual([true, true, true, false]);
    inv.dispose();
  });
});
