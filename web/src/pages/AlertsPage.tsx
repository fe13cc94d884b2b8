import { Button, CloseButton, Drawer, Group, Select, Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { SeverityBadge } from "../components/badges";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { AlertDetail } from "./AlertDetail";
import { ALERT_SEVERITIES, ALERT_STATES, occurrences } from "./AlertModel";
import { AlertStateBadge } from "./AlertParts";

type Alert = Schemas["Alert"];

const columns: ListColumn<Alert>[] = [
  { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
  {
    id: "title",
    header: "Alert",
    cell: ({ row }) => (
      <AnchorLink from="/alerts" to="/alerts" search={(s) => ({ ...s, alert: row.original.id })} data-testid="alert-link">
        {row.original.title}
      </AnchorLink>
    ),
  },
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
  { id: "state", header: "State", cell: ({ row }) => <AlertStateBadge state={row.original.state} /> },
  { id: "occurred", header: "First occurred", cell: ({ row }) => formatDateTime(row.original.occurred_at) },
  { id: "count", header: "Occurrences", cell: ({ row }) => occurrences(row.original) },
];

// AlertsPage lists alerts newest first under the filters of the URL (state, severity,
// host); an alert opens in a drawer (?alert=id) with its actions and history. Events of
// the alerts topic refresh it (events/invalidate.ts).
export function AlertsPage() {
  const search = useSearch({ from: "/app/alerts" });
  const navigate = useNavigate({ from: "/alerts" });
  const { state, severity, host_id } = search;
  const query = useInfiniteQuery({
    queryKey: ["alerts", "list", { state, severity, host_id }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/alerts", { params: { query: { state, severity, host_id, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const closeDetail = () => void navigate({ search: (s) => ({ ...s, alert: undefined }) });
  return (
    <>
      <PageHeader title="Alerts" description="Unreachable hosts, compliance drift and score drops, failing scans, expiring exceptions and the audit chain, newest first." />
      <Group mb="sm" align="flex-end">
        <Select
          label="State"
          data={[{ value: "", label: "Any" }, ...ALERT_STATES.map((s) => ({ value: s, label: s }))]}
          value={state ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, state: (v || undefined) as typeof state }) })}
          allowDeselect={false}
          w={180}
        />
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...ALERT_SEVERITIES.map((s) => ({ value: s, label: s }))]}
          value={severity ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, severity: (v || undefined) as typeof severity }) })}
          allowDeselect={false}
          w={180}
        />
        {host_id && (
          <Group gap={4} mb={6} data-testid="host-filter">
            <Text size="sm">
              Host: <HostName id={host_id} />
            </Text>
            <CloseButton
              size="sm"
              aria-label="Show alerts of every host"
              onClick={() => void navigate({ search: (s) => ({ ...s, host_id: undefined }) })}
            />
          </Group>
        )}
        {(state || severity || host_id) && (
          <Button
            variant="subtle"
            size="sm"
            onClick={() => void navigate({ search: (s) => ({ ...s, state: undefined, severity: undefined, host_id: undefined }) })}
          >
            Clear filters
          </Button>
        )}
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Alerts"
        testId="alerts-table"
        columns={columns}
        rows={rows}
        getRowId={(a) => a.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No alert matches."
      />
      <Drawer opened={!!search.alert} onClose={closeDetail} position="right" size="lg" title="Alert">
        {search.alert && <AlertDetail id={search.alert} />}
      </Drawer>
    </>
  );
}
