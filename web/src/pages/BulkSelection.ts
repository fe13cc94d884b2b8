import { api, type Schemas } from "../api/client";
import { errorMessage, unwrap } from "../api/errors";

// The filters of the hosts list (GET /hosts), kept in the URL.
export interface HostFilters {
  q?: string;
  group_id?: string;
  environment?: string;
  tag?: string;
  maintenance?: boolean;
}

// Selection is what the bulk actions of the hosts table act on: either hosts picked one by
// one (or every loaded row at once), or every host matching the list's filters, including
// the ones not loaded yet. The second is never spelled out as ids: at 100k hosts the
// server selects them itself (a scan batch's filter) or the client pages through them.
export type Selection = { kind: "ids"; ids: ReadonlySet<string> } | { kind: "all" };

export const NO_SELECTION: Selection = { kind: "ids", ids: new Set() };

// The most hosts one scan batch names by id (ScanBatchRequest.host_ids maxItems).
export const MAX_BATCH_IDS = 10_000;
// Scans of a batch queued to workers at once: the API's default.
export const BATCH_CONCURRENCY = 10;

export function isSelected(sel: Selection, id: string): boolean {
  return sel.kind === "all" || sel.ids.has(id);
}

export function isEmpty(sel: Selection): boolean {
  return sel.kind === "ids" && sel.ids.size === 0;
}

// toggleOne flips one row. Unticking a row while every matching host is selected leaves
// the loaded rows but that one selected: a set the client can name.
export function toggleOne(sel: Selection, id: string, loaded: readonly string[]): Selection {
  if (sel.kind === "all") return { kind: "ids", ids: new Set(loaded.filter((x) => x !== id)) };
  const ids = new Set(sel.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { kind: "ids", ids };
}

// loadedState is the header checkbox: are all, some or none of the loaded rows selected?
export function loadedState(sel: Selection, loaded: readonly string[]): "all" | "some" | "none" {
  if (loaded.length === 0) return "none";
  if (sel.kind === "all") return "all";
  let n = 0;
  for (const id of loaded) if (sel.ids.has(id)) n++;
  return n === 0 ? "none" : n === loaded.length ? "all" : "some";
}

// toggleLoaded is the header checkbox's click: select every loaded row, or clear when all
// of them are selected already.
export function toggleLoaded(sel: Selection, loaded: readonly string[]): Selection {
  if (loadedState(sel, loaded) === "all") return NO_SELECTION;
  const ids = new Set(sel.kind === "ids" ? sel.ids : []);
  for (const id of loaded) ids.add(id);
  return { kind: "ids", ids };
}

// describeSelection says what the bulk bar acts on.
export function describeSelection(sel: Selection): string {
  if (sel.kind === "all") return "All hosts matching these filters are selected";
  const n = sel.ids.size;
  return `${n.toLocaleString()} ${n === 1 ? "host" : "hosts"} selected`;
}

// scanBatchBody builds POST /scan-batches for the selection: the ids, or the list's filters
// (the server's selector), or `all` when no filter is set. The batch selector knows no
// maintenance filter; the server leaves hosts in maintenance out of every batch anyway, so
// "not in maintenance" needs no filter and "in maintenance" selects nothing to scan.
export function scanBatchBody(
  sel: Selection,
  filters: HostFilters,
): { body: Schemas["ScanBatchRequest"] } | { error: string } {
  if (sel.kind === "ids") {
    if (sel.ids.size === 0) return { error: "Select the hosts to scan first." };
    if (sel.ids.size > MAX_BATCH_IDS) {
      return {
        error: `One batch names at most ${MAX_BATCH_IDS.toLocaleString()} hosts: select all hosts matching the filters instead.`,
      };
    }
    return { body: { host_ids: [...sel.ids], concurrency: BATCH_CONCURRENCY } };
  }
  if (filters.maintenance === true) {
    return { error: "Hosts in maintenance are not scanned: every selected host is in maintenance." };
  }
  const filter: Schemas["ScanBatchFilter"] = {};
  if (filters.q) filter.q = filters.q;
  if (filters.group_id) filter.group_id = filters.group_id;
  if (filters.environment) filter.environment = filters.environment;
  if (filters.tag) filter.tag = filters.tag;
  return Object.keys(filter).length === 0
    ? { body: { all: true, concurrency: BATCH_CONCURRENCY } }
    : { body: { filter, concurrency: BATCH_CONCURRENCY } };
}

// BulkHost is what an action needs of a host: its id and a name for the summary.
export interface BulkHost {
  id: string;
  hostname: string;
  display_name?: string;
}

export function hostLabel(h: BulkHost): string {
  return h.display_name || h.hostname;
}

// selectedHosts yields the hosts of a selection. Picked hosts come from the loaded rows
// (an id no longer loaded still counts, named by its id); "all matching" pages through
// GET /hosts with the filters, 200 at a time, as the actions go.
export async function* selectedHosts(
  sel: Selection,
  loaded: readonly BulkHost[],
  filters: HostFilters,
  signal?: AbortSignal,
): AsyncGenerator<BulkHost> {
  if (sel.kind === "ids") {
    const byId = new Map(loaded.map((h) => [h.id, h]));
    for (const id of sel.ids) yield byId.get(id) ?? { id, hostname: id };
    return;
  }
  let cursor: string | undefined;
  do {
    if (signal?.aborted) return;
    const page = await unwrap(
      api.GET("/hosts", { params: { query: { ...filters, limit: 200, cursor } }, signal }),
    );
    for (const h of page.hosts) yield h;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}

export interface BulkFailure {
  id: string;
  label: string;
  message: string;
}

export interface BulkOutcome {
  succeeded: number;
  failed: BulkFailure[];
  // Set when the run stopped early: cancelled, or the list of hosts could not be read.
  stopped?: string;
}

// runBulk applies work to every host of source with at most `concurrency` requests in
// flight, counting what succeeded and what failed (with the server's message), and
// reporting progress as it goes. Cancelling stops starting new requests.
export async function runBulk(
  source: AsyncIterable<BulkHost>,
  work: (h: BulkHost) => Promise<unknown>,
  opts: { concurrency?: number; signal?: AbortSignal; onProgress?: (o: BulkOutcome) => void } = {},
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { succeeded: 0, failed: [] };
  const it = source[Symbol.asyncIterator]();
  const report = () => opts.onProgress?.({ ...outcome, failed: [...outcome.failed] });
  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) {
        outcome.stopped ??= "Cancelled.";
        return;
      }
      let next: IteratorResult<BulkHost>;
      try {
        next = await it.next();
      } catch (err) {
        outcome.stopped ??= `The list of hosts could not be read: ${errorMessage(err)}`;
        return;
      }
      if (next.done) return;
      const h = next.value;
      try {
        await work(h);
        outcome.succeeded++;
      } catch (err) {
        outcome.failed.push({ id: h.id, label: hostLabel(h), message: errorMessage(err) });
      }
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 6) }, worker));
  return outcome;
}
