import { describe, expect, it } from "vitest";
import { allowedActions, evidenceScan, isLive, occurrences, silenceUntil, sourceTags, suppressed, toLocalInput } from "./AlertModel";
import type { Schemas } from "../api/client";

const base: Schemas["Alert"] = {
  id: "0190d0b8-0000-7000-8000-000000000001",
  dedup_key: "k",
  alert_type: "host_unreachable",
  severity: "high",
  title: "t",
  state: "active",
  occurred_at: "2026-01-01T00:00:00Z",
};

describe("alert state machine", () => {
  it("offers each state's legal actions", () => {
    expect(allowedActions("active")).toEqual(["acknowledge", "silence", "resolve", "dismiss"]);
    expect(allowedActions("acknowledged")).toEqual(["silence", "resolve", "dismiss"]);
    expect(allowedActions("silenced")).toEqual(["resolve", "dismiss"]);
    expect(allowedActions("resolved")).toEqual([]);
    expect(allowedActions("dismissed")).toEqual([]);
    expect(isLive("silenced")).toBe(true);
    expect(isLive("resolved")).toBe(false);
  });
});

describe("silenceUntil", () => {
  const now = new Date(2026, 0, 1, 12, 0);
  it("refuses a missing, malformed or past time", () => {
    expect(silenceUntil("", now).error).toMatch(/until when/);
    expect(silenceUntil("soon", now).error).toMatch(/date and time/);
    expect(silenceUntil("2026-01-01T11:59", now).error).toMatch(/future/);
  });
  it("turns a local time into an instant", () => {
    const local = toLocalInput(new Date(2026, 0, 1, 13, 30));
    expect(local).toBe("2026-01-01T13:30");
    expect(silenceUntil(local, now).until).toBe(new Date(2026, 0, 1, 13, 30).toISOString());
  });
});

describe("tags", () => {
  it("reads the bookkeeping and keeps the source's tags", () => {
    const a = { ...base, tags: { occurrence_count: 3, suppressed: true, last_occurred_at: "x", address: "127.0.0.1:1", n: 2 } };
    expect(occurrences(a)).toBe(3);
    expect(suppressed(a)).toBe(true);
    expect(sourceTags(a)).toEqual([["address", "127.0.0.1:1"], ["n", "2"]]);
    expect(occurrences(base)).toBe(1);
    expect(suppressed(base)).toBe(false);
  });
});

describe("evidence", () => {
  it("links a rule's alert to the scan its tags name", () => {
    expect(evidenceScan({ ...base, rule_id: "r", tags: { scan_id: "s1" } })).toBe("s1");
    expect(evidenceScan({ ...base, tags: { scan_id: "s1" } })).toBeUndefined();
    expect(evidenceScan({ ...base, rule_id: "r", tags: {} })).toBeUndefined();
  });
});
