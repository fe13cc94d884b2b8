import { queryOptions } from "@tanstack/react-query";
import { api } from "./client";
import { unwrap } from "./errors";

// Query keys start with the resource they hold ("hosts", "scans", "fleet", ...): the event
// stream invalidates by those prefixes (events/invalidate.ts).

export const frameworksQuery = queryOptions({
  queryKey: ["frameworks"] as const,
  queryFn: () => unwrap(api.GET("/compliance/frameworks")),
  staleTime: 10 * 60_000,
});

export const hostQuery = (id: string) =>
  queryOptions({
    queryKey: ["hosts", "detail", id] as const,
    queryFn: () => unwrap(api.GET("/hosts/{id}", { params: { path: { id } } })),
  });

export const scanQuery = (id: string) =>
  queryOptions({
    queryKey: ["scans", "detail", id] as const,
    queryFn: () => unwrap(api.GET("/scans/{id}", { params: { path: { id } } })),
  });

export const evidenceQuery = (scanId: string, ruleId: string) =>
  queryOptions({
    queryKey: ["scans", "evidence", scanId, ruleId] as const,
    queryFn: () =>
      unwrap(api.GET("/scans/{id}/rules/{ruleId}/evidence", { params: { path: { id: scanId, ruleId } } })),
    staleTime: Infinity, // Evidence of a finished scan never changes.
  });

export const ruleQuery = (ruleId: string) =>
  queryOptions({
    queryKey: ["rules", "detail", ruleId] as const,
    queryFn: () => unwrap(api.GET("/rules/{ruleId}", { params: { path: { ruleId } } })),
    staleTime: 10 * 60_000,
  });

// licenseQuery is the installation's license tier and features; controls of features the
// tier lacks are disabled with the reason instead of failing with a 402.
export const licenseQuery = queryOptions({
  queryKey: ["license"] as const,
  queryFn: () => unwrap(api.GET("/license")),
  staleTime: 10 * 60_000,
});
