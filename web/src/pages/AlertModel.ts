import type { Schemas } from "../api/client";

export type AlertState = Schemas["AlertState"];
export type AlertAction = "acknowledge" | "silence" | "resolve" | "dismiss";

export const ALERT_STATES = ["active", "acknowledged", "silenced", "resolved", "dismissed"] as const;
export const ALERT_SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;

// The states each action may leave: the server's state machine (internal/alert). The UI
// offers only these; the server still answers 409 when another user moved the alert first.
const FROM: Record<AlertAction, readonly AlertState[]> = {
  acknowledge: ["active"],
  silence: ["active", "acknowledged"],
  resolve: ["active", "acknowledged", "silenced"],
  dismiss: ["active", "acknowledged", "silenced"],
};

// The permission each action needs (x-required-permission in the spec).
export const ACTION_PERMISSION: Record<AlertAction, string> = {
  acknowledge: "alert:acknowledge",
  silence: "alert:write",
  resolve: "alert:resolve",
  dismiss: "alert:write",
};

export const ACTION_LABEL: Record<AlertAction, string> = {
  acknowledge: "Acknowledge",
  silence: "Silence",
  resolve: "Resolve",
  dismiss: "Dismiss",
};

// allowedActions lists the actions a state allows, in the order the UI shows them.
export function allowedActions(state: AlertState): AlertAction[] {
  return (Object.keys(FROM) as AlertAction[]).filter((a) => FROM[a].includes(state));
}

// isLive reports whether an alert may still change (not resolved or dismissed).
export function isLive(state: AlertState): boolean {
  return state === "active" || state === "acknowledged" || state === "silenced";
}

// silenceUntil turns the value of a datetime-local input (local time, no zone) into the
// RFC 3339 instant the API takes, or an error message for the field: missing, malformed,
// or not in the future.
export function silenceUntil(local: string, now: Date = new Date()): { until?: string; error?: string } {
  if (local.trim() === "") return { error: "Choose until when to silence the alert." };
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return { error: "Enter a date and time." };
  if (d.getTime() <= now.getTime()) return { error: "Choose a time in the future." };
  return { until: d.toISOString() };
}

// toLocalInput renders an instant as a datetime-local value (minutes), for defaults.
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// occurrences reads the occurrence count the server keeps in tags.
export function occurrences(a: Schemas["Alert"]): number {
  const n = a.tags?.["occurrence_count"];
  return typeof n === "number" && n > 0 ? n : 1;
}

// suppressed reports whether the alert was raised while its host was in maintenance.
export function suppressed(a: Schemas["Alert"]): boolean {
  return a.tags?.["suppressed"] === true;
}

// sourceTags are the tags of the source, without the server's bookkeeping keys.
export function sourceTags(a: Schemas["Alert"]): [string, string][] {
  const skip = new Set(["occurrence_count", "last_occurred_at", "suppressed"]);
  return Object.entries(a.tags ?? {})
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b));
}

// evidenceScan is the scan whose evidence raised an alert about a rule (a compliance drift
// names it in its tags), or undefined when the alert names no rule or no scan.
export function evidenceScan(a: Schemas["Alert"]): string | undefined {
  const scan = (a.tags ?? {})["scan_id"];
  return a.rule_id && typeof scan === "string" && scan !== "" ? scan : undefined;
}
