import { describe, expect, it } from "vitest";
import type { Schemas } from "../api/client";
import { applicableFrameworks, isoToLocalInput, localInputToIso, scanScoreSeries, trendSeries, trendSince } from "./HostDetailData";

const fw = (id: string, name: string, p: { debian: number; ubuntu: number; rhel: number }): Schemas["Framework"] => ({
  id,
  name,
  family: id,
  benchmark: null,
  rule_count: p.debian + p.ubuntu + p.rhel,
  platforms: p,
});

describe("as-of input", () => {
  it("round-trips a local date-time through an instant", () => {
    const iso = localInputToIso("2026-03-04T05:06");
    expect(iso).toBe(new Date(2026, 2, 4, 5, 6).toISOString());
    expect(isoToLocalInput(iso)).toBe("2026-03-04T05:06");
  });
  it("reads nothing from empty, partial or bad values", () => {
    expect(localInputToIso("")).toBeUndefined();
    expect(localInputToIso("2026-03-04")).toBeUndefined();
    expect(isoToLocalInput(undefined)).toBe("");
    expect(isoToLocalInput("not a date")).toBe("");
  });
});

describe("applicableFrameworks", () => {
  const all = [
    fw("stig-rhel9", "DISA STIG for RHEL 9", { debian: 0, ubuntu: 0, rhel: 300 }),
    fw("all", "All rules", { debian: 400, ubuntu: 400, rhel: 500 }),
    fw("cis-ubuntu22", "CIS Benchmark for Ubuntu 22.04", { debian: 0, ubuntu: 250, rhel: 0 }),
  ];
  it("keeps those with rules for the host's platform, all first", () => {
    expect(applicableFrameworks(all, "ubuntu").map((f) => f.id)).toEqual(["all", "cis-ubuntu22"]);
    expect(applicableFrameworks(all, "RHEL").map((f) => f.id)).toEqual(["all", "stig-rhel9"]);
  });
  it("keeps a release's benchmark for hosts of that release only", () => {
    const benches = [
      { ...fw("cis-rhel9", "CIS RHEL 9", { debian: 40, ubuntu: 45, rhel: 300 }), benchmark: "rhel9" },
      { ...fw("cis-rhel8", "CIS RHEL 8", { debian: 40, ubuntu: 45, rhel: 290 }), benchmark: "rhel8" },
      { ...fw("cis-ubuntu22", "CIS Ubuntu 22.04", { debian: 50, ubuntu: 250, rhel: 30 }), benchmark: "ubuntu22" },
      fw("nist-800-53", "NIST SP 800-53", { debian: 100, ubuntu: 120, rhel: 200 }),
    ];
    expect(applicableFrameworks(benches, "debian", "12").map((f) => f.id)).toEqual(["nist-800-53"]);
    expect(applicableFrameworks(benches, "rhel", "9.4").map((f) => f.id)).toEqual(["cis-rhel9", "nist-800-53"]);
    expect(applicableFrameworks(benches, "ubuntu", "22.04").map((f) => f.id)).toEqual(["cis-ubuntu22", "nist-800-53"]);
    // Without a version, every benchmark of the family.
    expect(applicableFrameworks(benches, "rhel").map((f) => f.id)).toEqual(["cis-rhel8", "cis-rhel9", "nist-800-53"]);
  });
  it("keeps every one while the platform is unknown", () => {
    expect(applicableFrameworks(all, null).map((f) => f.id)).toEqual(["all", "cis-ubuntu22", "stig-rhel9"]);
  });
});

const scan = (id: string, status: Schemas["Scan"]["status"], pass: number, fail: number, at: string): Schemas["Scan"] => ({
  id,
  host_id: "h",
  status,
  trigger: "manual",
  requested_by: "system",
  created_at: at,
  finished_at: at,
  rules_total: pass + fail,
  counts: { pass, fail, skipped: 0, error: 0 },
  changed: 0,
  progress: { records_done: 1, records_total: 1 },
  sessions: 1,
  privilege: "root",
  platform: { family: "ubuntu", version: "24.04" },
});

describe("scanScoreSeries", () => {
  it("scores completed scans oldest first and leaves out the others", () => {
    const series = scanScoreSeries([
      scan("c", "completed", 3, 1, "2026-01-03T00:00:00Z"),
      scan("r", "running", 0, 0, "2026-01-04T00:00:00Z"),
      scan("f", "failed", 0, 0, "2026-01-02T12:00:00Z"),
      scan("a", "completed", 1, 1, "2026-01-01T00:00:00Z"),
      scan("z", "completed", 0, 0, "2026-01-02T00:00:00Z"),
    ]);
    expect(series.map((p) => [p.id, p.score])).toEqual([["a", 50], ["c", 75]]);
  });
});

describe("trend", () => {
  it("leaves gaps where nothing passed or failed", () => {
    const s = trendSeries(
      [
        { at: "2026-01-01T00:00:00Z", pass: 0, fail: 0, skipped: 0, error: 0, excepted: 0, passing_fraction: null },
        { at: "2026-01-02T00:00:00Z", pass: 2, fail: 1, skipped: 0, error: 0, excepted: 0, passing_fraction: 2 / 3 },
      ],
      "day",
    );
    expect(s.map((p) => p.score)).toEqual([null, 66.7]);
  });
  it("asks two days of hours, else the API's default", () => {
    expect(trendSince("day", undefined)).toBeUndefined();
    expect(trendSince("hour", "2026-01-03T00:00:00.000Z")).toBe("2026-01-01T00:00:00.000Z");
  });
});
