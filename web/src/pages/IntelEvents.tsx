import { Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { SeverityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { eventDetail, eventLabel, type EventCode, type Severity } from "./IntelData";

type Event = Schemas["IntelligenceEvent"];

export interface IntelEventFilters {
  host_id?: string;
  event_code?: EventCode;
  severity?: Severity;
}

// The list lives under "activity": the event stream's intelligence topic invalidates it.
export function intelEventsQuery(filters: IntelEventFilters) {
  return {
    queryKey: ["activity", "intelligence-events", filters] as const,
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/intelligence/events", { params: { query: { ...filters, limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Schemas["IntelligenceEventsPage"]) => last.next_cursor ?? undefined,
  };
}

function columns(showHost: boolean): ListColumn<Event>[] {
  return [
    { id: "when", header: "When", cell: ({ row }) => formatDateTime(row.original.occurred_at) },
    ...(showHost
      ? [
          {
            id: "host",
            header: "Host",
            cell: ({ row }) => (
              <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.host_id }} search={{ tab: "intelligence" }}>
                <HostName id={row.original.host_id} />
              </AnchorLink>
            ),
          } satisfies ListColumn<Event>,
        ]
      : []),
    { id: "event", header: "Event", cell: ({ row }) => eventLabel(row.original.event_code) },
    { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
    {
      id: "detail",
      header: "Detail",
      cell: ({ row }) => (
        <Text size="sm" lineClamp={2}>
          {eventDetail(row.original.detail) || "—"}
        </Text>
      ),
    },
  ];
}

// IntelEventsTable lists intelligence events (what changed on hosts between collections),
// newest first, a server page at a time.
export function IntelEventsTable({
  filters,
  showHost,
  label,
  height,
  empty,
  testId,
}: {
  filters: IntelEventFilters;
  showHost: boolean;
  label: string;
  height?: string | number;
  empty: string;
  testId?: string;
}) {
  const query = useInfiniteQuery(intelEventsQuery(filters));
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const cols = useMemo(() => columns(showHost), [showHost]);
  return (
    <>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label={label}
        testId={testId}
        columns={cols}
        rows={rows}
        getRowId={(e) => e.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty={empty}
        height={height}
      />
    </>
  );
}
