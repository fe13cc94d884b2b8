import { describe, expect, it } from "vitest";
import { BATCH_DEFAULTS, batchDone, buildBatchRequest, describeScope, describeSelector, validateBatch } from "./ScanBatchModel";

describe("buildBatchRequest", () => {
  it("sends exactly the chosen selector", () => {
    expect(buildBatchRequest(BATCH_DEFAULTS)).toEqual({ all: true, concurrency: 10 });
    const v = { ...BATCH_DEFAULTS, group_id: "g1", host_ids: ["h1"], environment: "prod" };
    expect(buildBatchRequest({ ...v, target: "group" })).toEqual({ group_id: "g1", concurrency: 10 });
    expect(buildBatchRequest({ ...v, target: "hosts" })).toEqual({ host_ids: ["h1"], concurrency: 10 });
    expect(buildBatchRequest({ ...v, target: "filter", tag: " web ", q: "" })).toEqual({
      filter: { environment: "prod", tag: "web" },
      concurrency: 10,
    });
  });

  it("adds what to scan only when given", () => {
    expect(
      buildBatchRequest({ ...BATCH_DEFAULTS, framework: "cis", rule_ids: [" a ", "", "b"], concurrency: "3" }),
    ).toEqual({ all: true, framework: "cis", rule_ids: ["a", "b"], concurrency: 3 });
    expect(buildBatchRequest({ ...BATCH_DEFAULTS, concurrency: "" }).concurrency).toBe(10);
  });
});

describe("validateBatch", () => {
  it("asks for the selector's value before the server does", () => {
    expect(validateBatch(BATCH_DEFAULTS)).toEqual({});
    expect(validateBatch({ ...BATCH_DEFAULTS, target: "group" })).toEqual({ group_id: "Choose a group." });
    expect(validateBatch({ ...BATCH_DEFAULTS, target: "hosts" })).toEqual({ host_ids: "Choose at least one host." });
    expect(validateBatch({ ...BATCH_DEFAULTS, target: "filter", environment: "  " })).toHaveProperty("q");
    expect(validateBatch({ ...BATCH_DEFAULTS, target: "filter", tag: "web" })).toEqual({});
  });
});

describe("batch read-outs", () => {
  const progress = { queued: 2, running: 1, completed: 3, failed: 1, cancelled: 1 };
  it("counts ended scans out of all of them", () => {
    expect(batchDone({ progress, hosts_total: 8 })).toEqual({ done: 5, total: 8, percent: 63 });
    expect(batchDone({ progress: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }, hosts_total: 0 })).toEqual({
      done: 0,
      total: 0,
      percent: 100,
    });
  });

  it("says which hosts and which checks", () => {
    expect(describeSelector({ all: true })).toBe("All live hosts");
    expect(describeSelector({ group_id: "g1" }, (id) => (id === "g1" ? "web" : undefined))).toBe("Group web");
    expect(describeSelector({ host_ids: ["a", "b"] })).toBe("2 chosen hosts");
    expect(describeSelector({ filter: { environment: "prod", q: "db" } })).toBe("Hosts with environment prod, matching “db”");
    expect(describeScope({ framework: null, rule_ids: null })).toBe("All rules");
    expect(describeScope({ framework: "cis", rule_ids: ["x"] })).toBe("cis, 1 rule");
  });
});
