import { describe, expect, it } from "vitest";
import {
  actionsFor,
  budgetView,
  buildPatchRequest,
  buildRemediationRequest,
  diffLines,
  formatDuration,
  groupSteps,
  hostNamesSummary,
  isDiff,
  patchFields,
  PATCH_DEFAULTS,
  REMEDIATION_DEFAULTS,
  stepsByHost,
  validatePatch,
  validateRemediation,
  waveProgress,
  waveView,
  type ChangeJobHost,
  type ChangeStep,
} from "./ChangeModel";

function host(name: string, wave: number, position: number, status: ChangeJobHost["status"]): ChangeJobHost {
  return {
    host_id: `id-${name}`,
    host_name: name,
    environment: "prod",
    wave,
    position,
    status,
    phase: null,
    rule_ids: [],
    actions: [],
    applied: 0,
    manual: [],
    sessions: 0,
    rebooted: false,
  };
}

function step(seq: number, phase: ChangeStep["phase"], hostId = "h1"): ChangeStep {
  return {
    id: `s${seq}`,
    host_id: hostId,
    seq,
    phase,
    name: `step ${seq}`,
    command: "true",
    stdout: "",
    stderr: "",
    exit_code: 0,
    ok: true,
    truncated: false,
    started_at: "2026-12-01T10:00:00Z",
    finished_at: "2026-12-01T10:00:01Z",
  };
}

describe("actionsFor", () => {
  it("offers what the status allows, dry-run and execute only to remediation", () => {
    expect(actionsFor("patch", "pending_approval")).toEqual(["approve", "reject", "cancel"]);
    expect(actionsFor("remediation", "pending_approval")).toEqual(["approve", "reject", "dry-run", "cancel"]);
    expect(actionsFor("remediation", "approved")).toEqual(["dry-run", "execute", "cancel"]);
    expect(actionsFor("patch", "running")).toEqual(["cancel"]);
    expect(actionsFor("patch", "halted")).toEqual(["resume", "cancel", "rollback"]);
    expect(actionsFor("remediation", "completed")).toEqual(["rollback"]);
    expect(actionsFor("patch", "rolled_back")).toEqual([]);
    expect(actionsFor("patch", "rejected")).toEqual([]);
  });
});

describe("waveView", () => {
  const hosts = [
    host("c", 1, 2, "pending"),
    host("a", 0, 0, "rolled_back"),
    host("b", 1, 1, "pending"),
  ];

  it("puts each host in its wave in order and marks the current wave of a halted rollout", () => {
    const w = waveView({ status: "halted", waves: { canary: 1, growth: 2, sizes: [1, 2], current: 0 } }, hosts);
    expect(w.map((x) => x.label)).toEqual(["Canary", "Wave 2"]);
    expect(w[0]?.hosts.map((h) => h.host_name)).toEqual(["a"]);
    expect(w[1]?.hosts.map((h) => h.host_name)).toEqual(["b", "c"]);
    expect(w.map((x) => x.current)).toEqual([true, false]);
    expect(w.map((x) => x.state)).toEqual(["done", "waiting"]);
    expect(w[0]?.failed).toBe(1);
    expect(w[1]?.size).toBe(2);
  });

  it("marks no wave current once the job has ended, and shows waves with no host yet", () => {
    const w = waveView({ status: "completed", waves: { canary: 1, growth: 2, sizes: [1, 2, 4], current: 1 } }, hosts);
    expect(w.every((x) => !x.current)).toBe(true);
    expect(w).toHaveLength(3);
    expect(w[2]?.hosts).toEqual([]);
    expect(w[2]?.size).toBe(4);
  });

  it("does not count hosts a rollback of the whole change restored as failed", () => {
    const w = waveView({ status: "rolled_back", waves: { canary: 1, growth: 2, sizes: [1], current: 0 } }, [host("a", 0, 0, "rolled_back")]);
    expect(w[0]?.failed).toBe(0);
    expect(w[0]?.state).toBe("done");
  });

  it("counts a wave with a host being changed as running", () => {
    const w = waveView({ status: "running", waves: { canary: 1, growth: 2, sizes: [1, 2], current: 1 } }, [
      host("a", 0, 0, "succeeded"),
      host("b", 1, 1, "running"),
      host("c", 1, 2, "queued"),
    ]);
    expect(w.map((x) => x.state)).toEqual(["done", "running"]);
    expect(w[1]?.current).toBe(true);
  });
});

describe("waveProgress and budgetView", () => {
  it("read the waves and the budget", () => {
    expect(waveProgress({ status: "running", waves: { canary: 1, growth: 2, sizes: [1, 2, 4], current: 1 } })).toBe("wave 2 of 3 (1, 2, 4)");
    expect(waveProgress({ status: "pending_approval", waves: { canary: 1, growth: 2, sizes: [1, 2], current: 0 } })).toBe("2 waves (1, 2)");
    expect(budgetView({ failure_budget: { budget: 1, failures: 1, max_failures: 1 } })).toEqual({ text: "1 of 1", spent: true });
    expect(budgetView({ failure_budget: { budget: 3, failures: 0, max_failure_percent: 5, max_failures: null } })).toEqual({
      text: "0 of 3 (5 %)",
      spent: false,
    });
  });
});

describe("hostNamesSummary", () => {
  it("shows the first few and counts the rest", () => {
    expect(hostNamesSummary(["a", "b", "c", "d", "e"], 5)).toEqual({ shown: "a, b, c", more: 2 });
    expect(hostNamesSummary(["a"], 1)).toEqual({ shown: "a", more: 0 });
    expect(hostNamesSummary(["a", "b"], 40)).toEqual({ shown: "a, b", more: 38 });
  });
});

describe("groupSteps", () => {
  it("orders steps and groups consecutive steps of a phase, a phase coming back as its own group", () => {
    const g = groupSteps([step(4, "postcheck"), step(1, "precheck"), step(3, "apply"), step(2, "apply"), step(5, "rollback"), step(6, "postcheck")]);
    expect(g.map((x) => x.phase)).toEqual(["precheck", "apply", "postcheck", "rollback", "postcheck"]);
    expect(g[1]?.steps.map((s) => s.seq)).toEqual([2, 3]);
    expect(groupSteps([])).toEqual([]);
  });

  it("splits steps by host", () => {
    const m = stepsByHost([step(1, "apply", "h1"), step(2, "apply", "h2"), step(3, "verify", "h1")]);
    expect(m.get("h1")?.map((s) => s.seq)).toEqual([1, 3]);
    expect(m.get("h2")).toHaveLength(1);
  });
});

describe("diffs and durations", () => {
  const diff = "--- /etc/login.defs\n+++ /etc/login.defs\n@@ -1,2 +1,2 @@\n-PASS_MAX_DAYS 99999\n+PASS_MAX_DAYS 365\n UMASK 022\n";

  it("tells a diff and classifies its lines", () => {
    expect(isDiff(diff)).toBe(true);
    expect(isDiff("would write /etc/x\n")).toBe(false);
    expect(diffLines(diff).map((l) => l.kind)).toEqual(["meta", "meta", "hunk", "del", "add", "context"]);
  });

  it("reads durations", () => {
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.400Z")).toBe("0.4 s");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:00:12Z")).toBe("12 s");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:03:05Z")).toBe("3 min 5 s");
    expect(formatDuration(null, "2026-12-01T10:00:00Z")).toBe("—");
  });
});

describe("the forms' requests", () => {
  it("sends exactly the chosen selector, the waves, the budget, and the override only to who may", () => {
    const v = {
      ...PATCH_DEFAULTS,
      host_ids: ["h1"],
      group_id: "g1",
      environment: " prod ",
      ignore_windows: true,
      override_reason: " outage ",
      reason: " monthly ",
    };
    expect(buildPatchRequest(v, false)).toEqual({
      host_ids: ["h1"],
      patch: { mode: "security" },
      waves: { canary: 1, growth: 2 },
      failure_budget: { max_failures: 1 },
      reboot: "never",
      ignore_windows: false,
      reason: "monthly",
    });
    const r = buildPatchRequest({ ...v, target: "filter", canary_by: "percent", canary_percent: 20, budget_by: "percent", max_failure_percent: "5" }, true);
    expect(r.filter).toEqual({ environment: "prod" });
    expect(r.host_ids).toBeUndefined();
    expect(r.waves).toEqual({ canary: 1, canary_percent: 20, growth: 2 });
    expect(r.failure_budget).toEqual({ max_failure_percent: 5 });
    expect(r.ignore_windows).toBe(true);
    expect(r.override_reason).toBe("outage");
  });

  it("sends package operations with their versions only when given", () => {
    const r = buildPatchRequest(
      { ...PATCH_DEFAULTS, target: "all", mode: "packages", packages: [{ name: " curl ", op: "install", version: "" }, { name: "nginx", op: "hold", version: "1.2" }] },
      false,
    );
    expect(r.all).toBe(true);
    expect(r.patch).toEqual({ mode: "packages", packages: [{ name: "curl", op: "install" }, { name: "nginx", op: "hold", version: "1.2" }] });
  });

  it("sends a remediation's rules", () => {
    const r = buildRemediationRequest({ ...REMEDIATION_DEFAULTS, host_ids: ["h1"], rule_ids: [" a ", "", "b"] }, false);
    expect(r.rule_ids).toEqual(["a", "b"]);
    expect(r.host_ids).toEqual(["h1"]);
  });

  it("checks what the server would refuse first", () => {
    expect(validatePatch({ ...PATCH_DEFAULTS, host_ids: ["h"] })).toEqual({});
    expect(validatePatch(PATCH_DEFAULTS)).toEqual({ host_ids: "Choose at least one host." });
    expect(validatePatch({ ...PATCH_DEFAULTS, target: "all", mode: "packages" })).toEqual({ packages: "Add at least one package operation." });
    expect(validatePatch({ ...PATCH_DEFAULTS, target: "all", mode: "packages", packages: [{ name: " ", op: "install", version: "" }] })).toEqual({
      "packages.0.name": "Name the package.",
    });
    expect(validatePatch({ ...PATCH_DEFAULTS, target: "all", ignore_windows: true })).toEqual({ override_reason: "Say why the windows are overridden." });
    expect(validateRemediation({ ...REMEDIATION_DEFAULTS, target: "filter" })).toEqual({
      environment: "Give at least one of environment, tag or search.",
      rule_ids: "Name at least one rule.",
    });
  });

  it("maps the API's field names onto the form's, package rows included", () => {
    const { fields, aliases } = patchFields({ packages: [{ name: "a", op: "install", version: "" }] });
    expect(fields).toContain("packages.0.version");
    expect(aliases["patch.packages.0.version"]).toBe("packages.0.version");
    expect(aliases["waves.growth"]).toBe("growth");
    expect(aliases["failure_budget.max_failures"]).toBe("max_failures");
  });
});
