import type { InfiniteData, QueryClient, QueryKey } from "@tanstack/react-query";
import type { Schemas } from "../api/client";
import type { ServerEvent, Topic } from "./sse";

type Scan = Schemas["Scan"];
type ScanPage = Schemas["ScanPage"];

// What each topic may change, as query-key prefixes (see the keys in api/keys.ts).
export const TOPIC_QUERIES: Record<Topic, QueryKey[]> = {
  liveness: [["hosts"], ["fleet", "liveness"]],
  discovery: [["hosts", "list"], ["discovery"], ["activity"]],
  intelligence: [["hosts", "detail"], ["activity"]],
  jobs: [["discovery"], ["activity"], ["maintenance-windows"], ["health-checks"], ["reports", "list"]],
  alerts: [["activity"], ["alerts"]],
  scans: [["scans"], ["hosts"], ["fleet"], ["compliance"]], // compliance includes exceptions
  // Deliveries (the Notifications page) and the in-app feed (the header's bell).
  notifications: [["notifications"]],
};

// The scan event types that do not change results: they only move the progress bar,
// which is patched into the cache in place instead of reloading lists.
const PROGRESS_ONLY = new Set(["scan.progress"]);

function patchScan(scan: Scan, data: Record<string, unknown>): Scan {
  const done = data["records_done"];
  const total = data["records_total"];
  const status = data["status"];
  return {
    ...scan,
    status: typeof status === "string" ? (status as Scan["status"]) : scan.status,
    progress: {
      records_done: typeof done === "number" ? done : scan.progress.records_done,
      records_total: typeof total === "number" ? total : scan.progress.records_total,
    },
  };
}

// patchScanProgress writes a scan event's status and progress into every cached copy of
// that scan (its detail and any list page holding it), so progress bars move live.
export function patchScanProgress(qc: QueryClient, ev: ServerEvent): void {
  const data = ev.data ?? {};
  const id = data["scan_id"];
  if (typeof id !== "string") return;
  qc.setQueryData<Scan>(["scans", "detail", id], (old) => (old ? patchScan(old, data) : old));
  // Lists are cached either as infinite pages or as one page.
  qc.setQueriesData<InfiniteData<ScanPage> | ScanPage>({ queryKey: ["scans", "list"] }, (old) => {
    if (old && "items" in old) {
      if (!old.items.some((s) => s.id === id)) return old;
      return { ...old, items: old.items.map((s) => (s.id === id ? patchScan(s, data) : s)) };
    }
    if (!old?.pages) return old;
    let hit = false;
    const pages = old.pages.map((page) => ({
      ...page,
      items: page.items.map((s) => {
        if (s.id !== id) return s;
        hit = true;
        return patchScan(s, data);
      }),
    }));
    return hit ? { ...old, pages } : old;
  });
}

// changeQueries are the queries a change job event touches: the lists and pages of its kind
// (patch jobs under "jobs", remediation requests under "remediation"; both when the kind is
// missing).
export function changeQueries(ev: ServerEvent): QueryKey[] {
  if (ev.topic !== "jobs" || !ev.type.startsWith("change_job.")) return [];
  const kind = ev.data?.["kind"];
  if (kind === "patch") return [["jobs"]];
  if (kind === "remediation") return [["remediation"]];
  return [["jobs"], ["remediation"]];
}

// Invalidator collects the query prefixes events touch and invalidates them together after
// a short quiet period, so a burst of events (a scan of many hosts) costs one refetch per
// query instead of one per event.
export class Invalidator {
  private pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly qc: QueryClient,
    private readonly delayMs = 500,
  ) {}

  handle(ev: ServerEvent): void {
    if (ev.topic === "scans") patchScanProgress(this.qc, ev);
    if (ev.topic === "scans" && PROGRESS_ONLY.has(ev.type)) return;
    const keys = ev.topic ? TOPIC_QUERIES[ev.topic] : undefined;
    if (!keys) return;
    for (const key of keys) this.pending.set(JSON.stringify(key), key);
    for (const key of changeQueries(ev)) this.pending.set(JSON.stringify(key), key);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  // reset reloads everything: the server could not replay what we missed.
  reset(): void {
    this.pending.clear();
    void this.qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "auth" });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const keys = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of keys) void this.qc.invalidateQueries({ queryKey });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
