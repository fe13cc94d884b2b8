import { queryOptions } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import type { ChangeAction, ChangeKind, ChangeStatus } from "./ChangeModel";

// The API of both kinds of change behind one face, so the detail page, its waves and its
// hosts are one set of components. Query keys start with the resource ("jobs" for patch
// jobs, "remediation" for remediation requests): change_job events on the stream
// invalidate the kind's prefix (events/invalidate.ts).

export const changeRoot = (kind: ChangeKind) => (kind === "patch" ? "jobs" : "remediation");

export const changeListKey = (kind: ChangeKind, status?: ChangeStatus) => [changeRoot(kind), "list", { status }] as const;
export const changeKey = (kind: ChangeKind, id: string) => [changeRoot(kind), "detail", id] as const;

export function listChanges(kind: ChangeKind, status: ChangeStatus | undefined, cursor: string | undefined) {
  const query = { status, cursor, limit: 100 };
  return kind === "patch"
    ? unwrap(api.GET("/jobs", { params: { query } }))
    : unwrap(api.GET("/remediation/requests", { params: { query } }));
}

export const changeQuery = (kind: ChangeKind, id: string) =>
  queryOptions({
    queryKey: changeKey(kind, id),
    queryFn: () =>
      kind === "patch"
        ? unwrap(api.GET("/jobs/{id}", { params: { path: { id } } }))
        : unwrap(api.GET("/remediation/requests/{rid}", { params: { path: { rid: id } } })),
  });

export const changeHostsQuery = (kind: ChangeKind, id: string) =>
  queryOptions({
    queryKey: [...changeKey(kind, id), "hosts"] as const,
    queryFn: () =>
      kind === "patch"
        ? unwrap(api.GET("/jobs/{id}/hosts", { params: { path: { id } } }))
        : unwrap(api.GET("/remediation/requests/{rid}/hosts", { params: { path: { rid: id } } })),
  });

// A host's steps, every page of them (a host's change records tens of steps, not thousands).
export const changeStepsQuery = (kind: ChangeKind, id: string, hostId: string) =>
  queryOptions({
    queryKey: [...changeKey(kind, id), "steps", hostId] as const,
    queryFn: async () => {
      const items = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const query = { host_id: hostId, limit: 1000, cursor };
        const p =
          kind === "patch"
            ? await unwrap(api.GET("/jobs/{id}/steps", { params: { path: { id }, query } }))
            : await unwrap(api.GET("/remediation/requests/{rid}/steps", { params: { path: { rid: id }, query } }));
        items.push(...p.items);
        if (!p.next_cursor) break;
        cursor = p.next_cursor;
      }
      return items;
    },
  });

export const remediationPlanQuery = (id: string) =>
  queryOptions({
    queryKey: [...changeKey("remediation", id), "plan"] as const,
    queryFn: () => unwrap(api.GET("/remediation/requests/{rid}/plan", { params: { path: { rid: id } } })),
  });

// runAction posts one of a job's transitions.
export function runAction(kind: ChangeKind, id: string, action: ChangeAction, reason: string) {
  const note = reason.trim() ? { reason: reason.trim() } : {};
  if (kind === "patch") {
    const path = { params: { path: { id } } };
    switch (action) {
      case "approve":
        return unwrap(api.POST("/jobs/{id}:approve", { ...path, body: { reason } }));
      case "reject":
        return unwrap(api.POST("/jobs/{id}:reject", { ...path, body: { reason } }));
      case "cancel":
        return unwrap(api.POST("/jobs/{id}:cancel", { ...path, body: note }));
      case "resume":
        return unwrap(api.POST("/jobs/{id}:resume", { ...path, body: note }));
      case "rollback":
        return unwrap(api.POST("/jobs/{id}:rollback", { ...path, body: note }));
      default:
        return Promise.reject(new Error(`A patch job cannot ${action}.`));
    }
  }
  const path = { params: { path: { rid: id } } };
  switch (action) {
    case "approve":
      return unwrap(api.POST("/remediation/requests/{rid}:approve", { ...path, body: { reason } }));
    case "reject":
      return unwrap(api.POST("/remediation/requests/{rid}:reject", { ...path, body: { reason } }));
    case "dry-run":
      return unwrap(api.POST("/remediation/requests/{rid}:dry-run", path));
    case "execute":
      return unwrap(api.POST("/remediation/requests/{rid}:execute", path));
    case "cancel":
      return unwrap(api.POST("/remediation/requests/{rid}:cancel", { ...path, body: note }));
    case "resume":
      return unwrap(api.POST("/remediation/requests/{rid}:resume", { ...path, body: note }));
    case "rollback":
      return unwrap(api.POST("/remediation/requests/{rid}:rollback", { ...path, body: note }));
  }
}
