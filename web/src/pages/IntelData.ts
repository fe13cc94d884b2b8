import type { Schemas } from "../api/client";

// What the intelligence pages need to turn the API's free-form snapshot and event detail
// into table rows. The snapshot's categories are objects keyed by name (packages, services,
// users) or by socket (ports); see GET /intelligence/state/{host_id}.

export type EventCode = Schemas["IntelligenceEventCode"];
export type Severity = Schemas["Severity"];

// Every event code the API reports (IntelligenceEventCode), for the event-type filter.
// The two checks below fail to compile when the spec's enum and this list differ.
export const EVENT_CODES = [
  "user_created",
  "user_removed",
  "user_locked",
  "user_unlocked",
  "user_shell_changed",
  "privileged_group_added",
  "privileged_group_removed",
  "group_created",
  "group_removed",
  "port_opened",
  "port_closed",
  "package_installed",
  "package_updated",
  "package_removed",
  "kernel_updated",
  "reboot_required",
  "reboot_cleared",
  "config_file_changed",
  "service_failed",
  "service_recovered",
  "service_enabled",
  "service_disabled",
  "mount_added",
  "mount_removed",
  "interface_added",
  "interface_removed",
  "interface_address_changed",
] as const satisfies readonly EventCode[];
type Missing = Exclude<EventCode, (typeof EVENT_CODES)[number]>;
export const eventCodesComplete: Missing extends never ? true : Missing = true;

export const EVENT_SEVERITIES = ["info", "low", "medium", "high", "critical"] as const satisfies readonly Severity[];

export function isEventCode(v: string | undefined): v is EventCode {
  return v !== undefined && (EVENT_CODES as readonly string[]).includes(v);
}

export function isSeverity(v: string | undefined): v is Severity {
  return v !== undefined && (EVENT_SEVERITIES as readonly string[]).includes(v);
}

// eventLabel turns "package_installed" into "Package installed".
export function eventLabel(code: string): string {
  const s = code.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// eventDetail is one line saying what an event's detail holds, most telling field first.
export function eventDetail(detail: Record<string, unknown> | undefined): string {
  if (!detail) return "";
  const d = { ...detail };
  const parts: string[] = [];
  const take = (k: string): unknown => {
    const v = d[k];
    delete d[k];
    return v;
  };
  for (const k of ["package", "service", "user", "group", "path", "mount", "interface"]) {
    const v = take(k);
    if (v !== undefined && v !== null && v !== "") parts.push(String(v));
  }
  const proto = take("proto");
  const address = take("address");
  const port = take("port");
  if (port !== undefined) parts.push(`${proto ? `${String(proto)} ` : ""}${address ? `${String(address)}:` : ""}${String(port)}`);
  const from = Object.keys(d).find((k) => k.startsWith("from_"));
  if (from) {
    const to = `to_${from.slice(5)}`;
    parts.push(`${String(take(from))} → ${String(take(to) ?? "")}`);
  }
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${k.replace(/_/g, " ")} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  }
  return parts.join(" · ");
}

export const TABLE_CATEGORIES = ["packages", "services", "users", "ports"] as const;
export type TableCategory = (typeof TABLE_CATEGORIES)[number];

export interface IntelRow {
  key: string;
  cells: Record<string, string>;
  // The lower-cased text a search matches against.
  text: string;
}

export interface CategoryColumns {
  id: string;
  header: string;
}

export const CATEGORY_COLUMNS: Record<TableCategory, CategoryColumns[]> = {
  packages: [
    { id: "name", header: "Package" },
    { id: "version", header: "Version" },
    { id: "arch", header: "Architecture" },
  ],
  services: [
    { id: "name", header: "Service" },
    { id: "active", header: "Active" },
    { id: "sub", header: "State" },
    { id: "enabled", header: "Enabled" },
  ],
  users: [
    { id: "name", header: "User" },
    { id: "uid", header: "UID" },
    { id: "gid", header: "GID" },
    { id: "home", header: "Home" },
    { id: "shell", header: "Shell" },
    { id: "locked", header: "Locked" },
  ],
  ports: [
    { id: "proto", header: "Protocol" },
    { id: "address", header: "Address" },
    { id: "port", header: "Port" },
    { id: "process", header: "Process" },
  ],
};

function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// categoryRows turns one snapshot category's value into rows, sorted by name (ports by
// number). A value of another shape (an older server, a failed parse) gives no rows.
export function categoryRows(category: TableCategory, value: unknown): IntelRow[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  const cols = CATEGORY_COLUMNS[category];
  const rows = Object.entries(value as Record<string, unknown>).map(([key, raw]) => {
    const obj = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
    const cells: Record<string, string> = {};
    for (const c of cols) cells[c.id] = c.id === "name" ? key : cell(obj[c.id]);
    if (category === "users" && obj["locked"] === null) cells["locked"] = "unknown";
    const text = [key, ...Object.values(cells)].join(" ").toLowerCase();
    return { key, cells, text };
  });
  if (category === "ports") {
    rows.sort((a, b) => Number(a.cells["port"]) - Number(b.cells["port"]) || a.key.localeCompare(b.key));
  } else {
    rows.sort((a, b) => a.key.localeCompare(b.key));
  }
  return rows;
}

// filterRows keeps the rows whose text holds every word of the search.
export function filterRows(rows: IntelRow[], search: string): IntelRow[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((r) => words.every((w) => r.text.includes(w)));
}
