import type { Schemas } from "../api/client";

// The logic of the change pages (patch jobs and remediation requests) worth testing on its
// own: which actions a job's status allows, how its waves, hosts and steps read, and the
// request the "New patch job" and "Request remediation" forms send.

export type ChangeJob = Schemas["ChangeJob"];
export type ChangeJobHost = Schemas["ChangeJobHost"];
export type ChangeStep = Schemas["ChangeStep"];
export type ChangeKind = ChangeJob["kind"];
export type ChangeStatus = Schemas["ChangeJobStatus"];
export type HostStatus = Schemas["ChangeHostStatus"];
export type Phase = Schemas["ChangePhase"];

export const CHANGE_STATUSES = [
  "pending_approval",
  "approved",
  "rejected",
  "running",
  "halted",
  "completed",
  "failed",
  "cancelled",
  "rolling_back",
  "rolled_back",
] as const satisfies readonly ChangeStatus[];

// The statuses in which a job's hosts may still change: lists and details refresh while a
// job is in one (the event stream does it first; polling is the fallback).
export function changeActive(status: ChangeStatus): boolean {
  return status === "running" || status === "rolling_back" || status === "approved" || status === "pending_approval";
}

export type ChangeAction = "approve" | "reject" | "dry-run" | "execute" | "cancel" | "resume" | "rollback";

// The permission prefix of each kind: patch:*, remediation:*.
const PREFIX: Record<ChangeKind, string> = { patch: "patch", remediation: "remediation" };

// actionPermission is the permission the API requires for an action on a job of a kind.
export function actionPermission(kind: ChangeKind, action: ChangeAction): string {
  const p = PREFIX[kind];
  switch (action) {
    case "approve":
    case "reject":
      return `${p}:approve`;
    case "rollback":
      return `${p}:rollback`;
    default:
      return `${p}:execute`;
  }
}

// The statuses each action moves a job from (the API answers 409 from any other).
const FROM: Record<ChangeAction, readonly ChangeStatus[]> = {
  approve: ["pending_approval"],
  reject: ["pending_approval"],
  "dry-run": ["pending_approval", "approved"],
  execute: ["approved"],
  cancel: ["pending_approval", "approved", "running", "halted"],
  resume: ["halted"],
  rollback: ["completed", "halted", "cancelled", "failed"],
};

// Only remediation requests are dry-run and executed by hand: an approved patch job starts.
const REMEDIATION_ONLY: readonly ChangeAction[] = ["dry-run", "execute"];

// actionsFor lists the actions a job's status allows, in the order the header shows them.
export function actionsFor(kind: ChangeKind, status: ChangeStatus): ChangeAction[] {
  const order: ChangeAction[] = ["approve", "reject", "dry-run", "execute", "resume", "cancel", "rollback"];
  return order.filter((a) => FROM[a].includes(status) && (kind === "remediation" || !REMEDIATION_ONLY.includes(a)));
}

// reasonOf says whether an action's confirmation asks for a reason: approve and reject
// need one; cancel, resume and rollback take an optional note; dry-run and execute none.
export function reasonOf(action: ChangeAction): "required" | "optional" | "none" {
  if (action === "approve" || action === "reject") return "required";
  if (action === "dry-run" || action === "execute") return "none";
  return "optional";
}

// hostNamesSummary shows the first few host names and how many more there are.
export function hostNamesSummary(names: readonly string[], count: number, max = 3): { shown: string; more: number } {
  const shown = names.slice(0, max).join(", ");
  return { shown, more: Math.max(0, Math.max(count, names.length) - Math.min(max, names.length)) };
}

// HostsDone counts the hosts that will change no more in this rollout.
const ENDED: readonly HostStatus[] = ["succeeded", "failed", "rolled_back", "rollback_failed", "cancelled", "skipped"];
const FAILED: readonly HostStatus[] = ["failed", "rolled_back", "rollback_failed"];

export function hostEnded(s: HostStatus): boolean {
  return ENDED.includes(s);
}

export interface WaveView {
  index: number;
  label: string;
  size: number;
  hosts: ChangeJobHost[];
  // The wave running now (or the one a halt stopped in).
  current: boolean;
  state: "waiting" | "running" | "done";
  failed: number;
}

// waveView lays a job's hosts out in its waves: each wave's hosts in order, which wave is
// current, and how far each got.
export function waveView(job: Pick<ChangeJob, "status" | "waves">, hosts: readonly ChangeJobHost[]): WaveView[] {
  const live = job.status === "running" || job.status === "halted";
  const undone = job.status === "rolling_back" || job.status === "rolled_back";
  const count = Math.max(job.waves.sizes.length, ...hosts.map((h) => h.wave + 1));
  const out: WaveView[] = [];
  for (let i = 0; i < count; i++) {
    const members = hosts.filter((h) => h.wave === i).sort((a, b) => a.position - b.position);
    const ended = members.filter((h) => hostEnded(h.status)).length;
    const started = members.some((h) => h.status !== "pending");
    const state: WaveView["state"] = members.length > 0 && ended === members.length ? "done" : started ? "running" : "waiting";
    out.push({
      index: i,
      label: i === 0 ? "Canary" : `Wave ${i + 1}`,
      size: job.waves.sizes[i] ?? members.length,
      hosts: members,
      current: live && i === job.waves.current,
      state,
      // After a rollback of the whole change, rolled back hosts are its work undone, not failures.
      failed: members.filter((h) => FAILED.includes(h.status) && !(undone && h.status === "rolled_back")).length,
    });
  }
  return out;
}

// waveProgress reads a job's waves as "wave 2 of 3 (1, 2, 4)".
export function waveProgress(job: Pick<ChangeJob, "status" | "waves">): string {
  const n = job.waves.sizes.length;
  if (n === 0) return "—";
  const started = !["pending_approval", "approved", "rejected"].includes(job.status);
  const sizes = job.waves.sizes.join(", ");
  return started ? `wave ${Math.min(job.waves.current + 1, n)} of ${n} (${sizes})` : `${n} ${n === 1 ? "wave" : "waves"} (${sizes})`;
}

// budgetView reads a job's failure budget: spent of allowed, and whether it halted it.
export function budgetView(job: Pick<ChangeJob, "failure_budget">): { text: string; spent: boolean } {
  const b = job.failure_budget;
  const limit = b.max_failure_percent != null && b.max_failures == null ? ` (${b.max_failure_percent} %)` : "";
  return { text: `${b.failures} of ${b.budget}${limit}`, spent: b.failures >= b.budget };
}

export interface PhaseGroup {
  phase: Phase;
  steps: ChangeStep[];
}

// groupSteps orders a host's steps and groups consecutive steps of one phase, so the
// steps read as the phases they ran in (a phase may come back: verify after rollback).
export function groupSteps(steps: readonly ChangeStep[]): PhaseGroup[] {
  const sorted = [...steps].sort((a, b) => a.seq - b.seq);
  const out: PhaseGroup[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && last.phase === s.phase) last.steps.push(s);
    else out.push({ phase: s.phase, steps: [s] });
  }
  return out;
}

// stepsByHost splits a job's steps by host.
export function stepsByHost(steps: readonly ChangeStep[]): Map<string, ChangeStep[]> {
  const m = new Map<string, ChangeStep[]>();
  for (const s of steps) {
    const list = m.get(s.host_id);
    if (list) list.push(s);
    else m.set(s.host_id, [s]);
  }
  return m;
}

// formatDuration reads the time between two instants: "0.4 s", "12 s", "3 min 5 s".
export function formatDuration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return "—";
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export type DiffLineKind = "add" | "del" | "hunk" | "meta" | "context";
export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

// isDiff tells a unified diff (a dry run's preview of a file change) from other output.
export function isDiff(text: string): boolean {
  return /^(--- |\+\+\+ |@@ )/m.test(text);
}

// diffLines classifies each line of a unified diff for display.
export function diffLines(text: string): DiffLine[] {
  const lines = text.replace(/\n$/, "").split("\n");
  return lines.map((line) => {
    if (line.startsWith("+++ ") || line.startsWith("--- ")) return { kind: "meta", text: line };
    if (line.startsWith("@@")) return { kind: "hunk", text: line };
    if (line.startsWith("+")) return { kind: "add", text: line };
    if (line.startsWith("-")) return { kind: "del", text: line };
    return { kind: "context", text: line };
  });
}

// describeSelector says in words which hosts a job names.
export function describeSelector(sel: ChangeJob["selector"]): string {
  if (!sel) return "—";
  const s = sel as { all?: boolean; group_id?: string; host_ids?: string[]; filter?: Schemas["ScanBatchFilter"] };
  if (s.all) return "All live hosts";
  if (s.group_id) return `Group ${s.group_id}`;
  if (s.host_ids) return s.host_ids.length === 1 ? "1 chosen host" : `${s.host_ids.length} chosen hosts`;
  if (s.filter) {
    const parts: string[] = [];
    if (s.filter.environment) parts.push(`environment ${s.filter.environment}`);
    if (s.filter.tag) parts.push(`tag ${s.filter.tag}`);
    if (s.filter.q) parts.push(`matching “${s.filter.q}”`);
    return parts.length > 0 ? `Hosts with ${parts.join(", ")}` : "Hosts matching a filter";
  }
  return "—";
}

// describePatch says what a patch job changes.
export function describePatch(p: ChangeJob["patch"]): string {
  if (!p) return "—";
  if (p.mode === "security") return "Security updates";
  if (p.mode === "all") return "All updates";
  const ops = p.packages ?? [];
  return ops.map((o) => `${o.op} ${o.name}${o.version ? ` ${o.version}` : ""}`).join(", ") || "No package";
}

// The form of both kinds of change: which hosts, the rollout, and why.

export type ChangeTarget = "hosts" | "group" | "filter" | "all";
export type PackageOp = Schemas["PatchPackageOp"];

export interface RolloutValues {
  name: string;
  target: ChangeTarget;
  host_ids: string[];
  group_id: string;
  environment: string;
  tag: string;
  q: string;
  canary_by: "count" | "percent";
  canary: number | string;
  canary_percent: number | string;
  growth: number | string;
  budget_by: "count" | "percent";
  max_failures: number | string;
  max_failure_percent: number | string;
  health_check_ids: string[];
  reboot: Schemas["RebootPolicy"];
  ignore_windows: boolean;
  override_reason: string;
  reason: string;
}

export interface PatchFormValues extends RolloutValues {
  mode: Schemas["PatchSpec"]["mode"];
  packages: { name: string; op: PackageOp["op"]; version: string }[];
}

export interface RemediationFormValues extends RolloutValues {
  rule_ids: string[];
}

export const ROLLOUT_DEFAULTS: RolloutValues = {
  name: "",
  target: "hosts",
  host_ids: [],
  group_id: "",
  environment: "",
  tag: "",
  q: "",
  canary_by: "count",
  canary: 1,
  canary_percent: 10,
  growth: 2,
  budget_by: "count",
  max_failures: 1,
  max_failure_percent: 5,
  health_check_ids: [],
  reboot: "never",
  ignore_windows: false,
  override_reason: "",
  reason: "",
};

export const PATCH_DEFAULTS: PatchFormValues = { ...ROLLOUT_DEFAULTS, mode: "security", packages: [] };
export const REMEDIATION_DEFAULTS: RemediationFormValues = { ...ROLLOUT_DEFAULTS, rule_ids: [] };

const ROLLOUT_FIELDS = [
  "name",
  "target",
  "host_ids",
  "group_id",
  "environment",
  "tag",
  "q",
  "canary",
  "canary_percent",
  "growth",
  "max_failures",
  "max_failure_percent",
  "health_check_ids",
  "reboot",
  "ignore_windows",
  "override_reason",
  "reason",
] as const;

// The API's field names that land on another field of the form.
const ROLLOUT_ALIASES: Record<string, string> = {
  all: "target",
  filter: "target",
  "filter.environment": "environment",
  "filter.tag": "tag",
  "filter.q": "q",
  "filter.group_id": "target",
  waves: "canary",
  "waves.canary": "canary",
  "waves.canary_percent": "canary_percent",
  "waves.growth": "growth",
  failure_budget: "max_failures",
  "failure_budget.max_failures": "max_failures",
  "failure_budget.max_failure_percent": "max_failure_percent",
};

// patchFields are the form's fields (and the API field aliases) for the values given:
// each package operation's inputs are fields too, so "patch.packages.2.version" lands on
// the third row's version.
export function patchFields(v: Pick<PatchFormValues, "packages">): { fields: string[]; aliases: Record<string, string> } {
  const fields: string[] = [...ROLLOUT_FIELDS, "mode", "packages"];
  const aliases: Record<string, string> = { ...ROLLOUT_ALIASES, patch: "mode", "patch.mode": "mode", "patch.packages": "packages" };
  v.packages.forEach((_, i) => {
    for (const k of ["name", "op", "version"]) {
      fields.push(`packages.${i}.${k}`);
      aliases[`patch.packages.${i}.${k}`] = `packages.${i}.${k}`;
    }
    aliases[`patch.packages.${i}`] = `packages.${i}.name`;
  });
  return { fields, aliases };
}

export const REMEDIATION_FIELDS: readonly string[] = [...ROLLOUT_FIELDS, "rule_ids"];
export const REMEDIATION_ALIASES: Record<string, string> = ROLLOUT_ALIASES;

function int(v: number | string): number | undefined {
  const n = typeof v === "number" ? v : Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

type RolloutBody = Omit<Schemas["PatchJobCreate"], "patch">;

// buildRollout turns the shared part of the form into the request's fields: exactly one
// selector, the waves, the budget, and the rest; empty fields are left out so the server's
// defaults apply.
export function buildRollout(v: RolloutValues, canOverride: boolean): RolloutBody {
  const body: RolloutBody = { ignore_windows: false };
  if (v.name.trim()) body.name = v.name.trim();
  switch (v.target) {
    case "all":
      body.all = true;
      break;
    case "group":
      body.group_id = v.group_id;
      break;
    case "hosts":
      body.host_ids = [...v.host_ids];
      break;
    case "filter": {
      const filter: Schemas["ScanBatchFilter"] = {};
      if (v.environment.trim()) filter.environment = v.environment.trim();
      if (v.tag.trim()) filter.tag = v.tag.trim();
      if (v.q.trim()) filter.q = v.q.trim();
      body.filter = filter;
      break;
    }
  }
  // The API's canary defaults to 1; a percentage, when given, wins over it.
  const waves: Schemas["ChangeWaves"] = { canary: 1, growth: int(v.growth) ?? 2 };
  if (v.canary_by === "count") waves.canary = int(v.canary) ?? 1;
  else {
    const pct = int(v.canary_percent);
    if (pct !== undefined) waves.canary_percent = pct;
  }
  body.waves = waves;
  const budget = v.budget_by === "count" ? int(v.max_failures) : int(v.max_failure_percent);
  if (budget !== undefined) body.failure_budget = v.budget_by === "count" ? { max_failures: budget } : { max_failure_percent: budget };
  if (v.health_check_ids.length > 0) body.health_check_ids = [...v.health_check_ids];
  body.reboot = v.reboot;
  if (canOverride && v.ignore_windows) {
    body.ignore_windows = true;
    body.override_reason = v.override_reason.trim();
  }
  if (v.reason.trim()) body.reason = v.reason.trim();
  return body;
}

export function buildPatchRequest(v: PatchFormValues, canOverride: boolean): Schemas["PatchJobCreate"] {
  const patch: Schemas["PatchSpec"] = { mode: v.mode };
  if (v.mode === "packages") {
    patch.packages = v.packages.map((p) => {
      const op: PackageOp = { name: p.name.trim(), op: p.op };
      if (p.version.trim()) op.version = p.version.trim();
      return op;
    });
  }
  return { ...buildRollout(v, canOverride), patch };
}

export function buildRemediationRequest(v: RemediationFormValues, canOverride: boolean): Schemas["RemediationCreate"] {
  const rules = v.rule_ids.map((r) => r.trim()).filter((r) => r !== "");
  return { ...buildRollout(v, canOverride), rule_ids: rules };
}

// validateRollout finds what the server would refuse before asking it. It returns
// field → message.
export function validateRollout(v: RolloutValues): Record<string, string> {
  const errors: Record<string, string> = {};
  if (v.target === "group" && !v.group_id) errors.group_id = "Choose a group.";
  if (v.target === "hosts" && v.host_ids.length === 0) errors.host_ids = "Choose at least one host.";
  if (v.target === "filter" && !v.environment.trim() && !v.tag.trim() && !v.q.trim()) {
    errors.environment = "Give at least one of environment, tag or search.";
  }
  if (v.ignore_windows && !v.override_reason.trim()) errors.override_reason = "Say why the windows are overridden.";
  return errors;
}

export function validatePatch(v: PatchFormValues): Record<string, string> {
  const errors = validateRollout(v);
  if (v.mode === "packages") {
    if (v.packages.length === 0) errors.packages = "Add at least one package operation.";
    v.packages.forEach((p, i) => {
      if (!p.name.trim()) errors[`packages.${i}.name`] = "Name the package.";
    });
  }
  return errors;
}

export function validateRemediation(v: RemediationFormValues): Record<string, string> {
  const errors = validateRollout(v);
  if (v.rule_ids.every((r) => !r.trim())) errors.rule_ids = "Name at least one rule.";
  return errors;
}
