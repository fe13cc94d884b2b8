import type { Schemas } from "../api/client";

// The logic of the scan batch pages that is worth testing on its own: the request the
// "Start batch" form sends, and how a batch's progress and selector read.

type Batch = Schemas["ScanBatch"];
type BatchRequest = Schemas["ScanBatchRequest"];

export type BatchTarget = "all" | "group" | "filter" | "hosts";

export interface BatchFormValues {
  target: BatchTarget;
  group_id: string;
  host_ids: string[];
  environment: string;
  tag: string;
  q: string;
  // "" scans every rule for each host's platform.
  framework: string;
  rule_ids: string[];
  concurrency: number | string;
}

export const BATCH_DEFAULTS: BatchFormValues = {
  target: "all",
  group_id: "",
  host_ids: [],
  environment: "",
  tag: "",
  q: "",
  framework: "",
  rule_ids: [],
  concurrency: 10,
};

// The form's fields, and the API's field names that land on another field.
export const BATCH_FIELDS = ["target", "group_id", "host_ids", "environment", "tag", "q", "framework", "rule_ids", "concurrency"] as const;
export const BATCH_ALIASES: Record<string, string> = {
  all: "target",
  filter: "target",
  "filter.environment": "environment",
  "filter.tag": "tag",
  "filter.q": "q",
  "filter.group_id": "target",
};

// buildBatchRequest turns the form into a ScanBatchRequest: exactly one selector (the
// chosen one), then what to scan. Empty fields are left out so the server's defaults apply.
export function buildBatchRequest(v: BatchFormValues): BatchRequest {
  const c = typeof v.concurrency === "number" ? v.concurrency : Number.parseInt(v.concurrency, 10);
  const body: BatchRequest = { concurrency: Number.isFinite(c) ? c : 10 };
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
      const filter: NonNullable<BatchRequest["filter"]> = {};
      if (v.environment.trim()) filter.environment = v.environment.trim();
      if (v.tag.trim()) filter.tag = v.tag.trim();
      if (v.q.trim()) filter.q = v.q.trim();
      body.filter = filter;
      break;
    }
  }
  if (v.framework) body.framework = v.framework;
  const rules = v.rule_ids.map((r) => r.trim()).filter((r) => r !== "");
  if (rules.length > 0) body.rule_ids = rules;
  return body;
}

// validateBatch finds what the server would refuse before asking it: a selector without
// its value. It returns field → message.
export function validateBatch(v: BatchFormValues): Partial<Record<(typeof BATCH_FIELDS)[number], string>> {
  const errors: Partial<Record<(typeof BATCH_FIELDS)[number], string>> = {};
  if (v.target === "group" && !v.group_id) errors.group_id = "Choose a group.";
  if (v.target === "hosts" && v.host_ids.length === 0) errors.host_ids = "Choose at least one host.";
  if (v.target === "filter" && !v.environment.trim() && !v.tag.trim() && !v.q.trim()) {
    errors.q = "Give at least one of environment, tag or search.";
  }
  return errors;
}

// batchEnded is whether a batch can change no more.
export function batchEnded(status: Batch["status"]): boolean {
  return status !== "running";
}

// batchDone counts the scans of a batch that have ended, out of all of them.
export function batchDone(b: Pick<Batch, "progress" | "hosts_total">): { done: number; total: number; percent: number } {
  const p = b.progress;
  const done = p.completed + p.failed + p.cancelled;
  const total = Math.max(b.hosts_total, done + p.queued + p.running);
  return { done, total, percent: total === 0 ? 100 : Math.round((done / total) * 100) };
}

// describeSelector says in words which hosts a batch scanned.
export function describeSelector(sel: Batch["selector"], groupName?: (id: string) => string | undefined): string {
  if (sel.all) return "All live hosts";
  if (sel.group_id) return `Group ${groupName?.(sel.group_id) ?? sel.group_id}`;
  if (sel.host_ids) return sel.host_ids.length === 1 ? "1 chosen host" : `${sel.host_ids.length} chosen hosts`;
  if (sel.filter) {
    const parts: string[] = [];
    if (sel.filter.environment) parts.push(`environment ${sel.filter.environment}`);
    if (sel.filter.tag) parts.push(`tag ${sel.filter.tag}`);
    if (sel.filter.group_id) parts.push(`group ${groupName?.(sel.filter.group_id) ?? sel.filter.group_id}`);
    if (sel.filter.q) parts.push(`matching “${sel.filter.q}”`);
    return parts.length > 0 ? `Hosts with ${parts.join(", ")}` : "Hosts matching a filter";
  }
  return "—";
}

// describeScope says what a batch checked: a framework, chosen rules, or every rule.
export function describeScope(b: Pick<Batch, "framework" | "rule_ids">): string {
  const parts: string[] = [];
  if (b.framework) parts.push(b.framework);
  if (b.rule_ids && b.rule_ids.length > 0) parts.push(b.rule_ids.length === 1 ? "1 rule" : `${b.rule_ids.length} rules`);
  return parts.length > 0 ? parts.join(", ") : "All rules";
}
