import { Group, Select, Stack, Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink, ButtonLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { scanStateColumns } from "../components/scanColumns";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime, shortId } from "../lib/format";
import { SCAN_STATUSES } from "../lib/search";

type Scan = Schemas["Scan"];

function HostCell({ id, inText = false }: { id: string; inText?: boolean }) {
  return (
    // Inside a sentence a link needs more than colour to stand out.
    <AnchorLink to="/hosts/$hostId" params={{ hostId: id }} underline={inText ? "always" : "hover"}>
      <HostName id={id} />
    </AnchorLink>
  );
}

const columns: ListColumn<Scan>[] = [
  {
    id: "created",
    header: "Requested",
    cell: ({ row }) => (
      <AnchorLink to="/scans/$scanId" params={{ scanId: row.original.id }}>
        {formatDateTime(row.original.created_at)}
      </AnchorLink>
    ),
  },
  { id: "host", header: "Host", cell: ({ row }) => <HostCell id={row.original.host_id} /> },
  ...scanStateColumns,
  {
    id: "trigger",
    header: "Trigger",
    cell: ({ row }) =>
      row.original.batch_id ? (
        <AnchorLink to="/scan-batches/$batchId" params={{ batchId: row.original.batch_id }} aria-label={`Batch ${shortId(row.original.batch_id)}`}>
          batch {shortId(row.original.batch_id)}
        </AnchorLink>
      ) : (
        row.original.trigger
      ),
  },
];

// ScansPage lists compliance scans, newest first; running scans' progress moves live.
export function ScansPage() {
  const search = useSearch({ from: "/app/scans" });
  const navigate = useNavigate({ from: "/scans" });
  const filters = { status: search.status, host_id: search.host_id };
  const query = useInfiniteQuery({
    queryKey: ["scans", "list", filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/scans", { params: { query: { ...filters, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  return (
    <>
      <PageHeader
        title="Scans"
        description="Compliance scans of hosts, newest first."
        actions={
          <ButtonLink to="/scan-batches" variant="default">
            Scan batches
          </ButtonLink>
        }
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Status"
          data={[{ value: "", label: "Any" }, ...SCAN_STATUSES.map((s) => ({ value: s, label: s }))]}
          value={search.status ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, status: (v || undefined) as typeof s.status }) })}
          w={180}
        />
        {search.host_id && (
          <Stack gap={0}>
            <Text size="sm">
              Host: <HostCell id={search.host_id} inText />
            </Text>
            <AnchorLink from="/scans" to="/scans" search={(s) => ({ ...s, host_id: undefined })} size="xs">
              Show every host
            </AnchorLink>
          </Stack>
        )}
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Scans"
        testId="scans-table"
        columns={columns}
        rows={rows}
        getRowId={(s) => s.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No scan matches."
      />
    </>
  );
}
