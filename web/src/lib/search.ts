// Helpers for validateSearch: URL search params are the state of filters and pages, so they
// are read defensively (a hand-edited URL must not break the page).

export function str(v: unknown): string | undefined {
  if (typeof v === "number") return String(v);
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

export function bool(v: unknown): boolean | undefined {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return undefined;
}

// safeRedirect accepts only a path on this site, so a crafted sign-in link cannot send the
// user elsewhere after signing in.
export function safeRedirect(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  if (!v.startsWith("/") || v.startsWith("//") || v.startsWith("/\\")) return undefined;
  if (v.startsWith("/sign-in")) return undefined;
  return v;
}

export const RESULT_STATUSES = ["pass", "fail", "skipped", "error", "excepted"] as const;
export const EXCEPTION_STATUSES = ["pending", "approved", "rejected", "revoked", "expired"] as const;
export const EXCEPTION_SCOPES = ["host", "group", "fleet"] as const;
export const EXCEPTION_KINDS = ["rule", "vulnerability"] as const;
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
// The severities of vulnerability advisories (distribution ratings or CVSS bands).
export const VULN_SEVERITIES = ["critical", "high", "medium", "low", "negligible", "unknown"] as const;
export const SCAN_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export const BATCH_STATUSES = ["running", "completed", "cancelled"] as const;
export const RULE_CATEGORIES = [
  "access-control",
  "audit",
  "filesystem",
  "kernel",
  "logging",
  "network",
  "services",
  "system",
] as const;

// partial marks every search param optional, so links need not spell out the ones they
// leave unset.
export function partial<T extends object>(o: T): Partial<T> {
  return o;
}
