import { Group, Select, Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { activityColumns } from "../components/activityColumns";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";

type Item = Schemas["Activity"];

const columns: ListColumn<Item>[] = [
  ...activityColumns,
  {
    id: "host",
    header: "Host",
    cell: ({ row }) =>
      row.original.host_id ? (
        <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.host_id }}>
          <HostName id={row.original.host_id} />
        </AnchorLink>
      ) : (
        "—"
      ),
  },
];

// ActivityPage is the unified feed: audit events, liveness transitions, intelligence
// events and alerts, newest first. New items arrive through the event stream, which
// invalidates this list.
export function ActivityPage() {
  const search = useSearch({ from: "/app/activity" });
  const navigate = useNavigate({ from: "/activity" });
  const filters = { source: search.source, severity: search.severity, host_id: search.host_id };
  const query = useInfiniteQuery({
    queryKey: ["activity", filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/activity", { params: { query: { ...filters, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const hidden = query.data?.pages.reduce((n, p) => n + p.hidden_count, 0) ?? 0;
  return (
    <>
      <PageHeader title="Activity" description="What happened across the fleet, newest first." />
      <Group mb="sm" align="flex-end">
        <Select
          label="Source"
          data={[
            { value: "", label: "Any" },
            { value: "audit", label: "Audit" },
            { value: "monitoring", label: "Monitoring" },
            { value: "intelligence", label: "Intelligence" },
            { value: "alert", label: "Alerts" },
          ]}
          value={search.source ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, source: (v || undefined) as typeof s.source }) })}
          w={180}
        />
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...["info", "low", "medium", "high", "critical"].map((s) => ({ value: s, label: s }))]}
          value={search.severity ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, severity: (v || undefined) as typeof s.severity }) })}
          w={150}
        />
        {hidden > 0 && (
          <Text size="sm" c="dimmed">
            {hidden} items hidden: you lack the permission to read their source.
          </Text>
        )}
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Activity"
        testId="activity-table"
        columns={columns}
        rows={rows}
        getRowId={(a) => a.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="Nothing has happened yet."
      />
    </>
  );
}
