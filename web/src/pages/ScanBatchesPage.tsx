import { Button, Group, Modal, Select } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { BATCH_STATUSES } from "../lib/search";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { ScanBatchForm } from "./ScanBatchForm";
import { describeScope, describeSelector } from "./ScanBatchModel";
import { ScanBatchProgress, ScanBatchStatusBadge } from "./ScanBatchParts";

type Batch = Schemas["ScanBatch"];

const columns: ListColumn<Batch>[] = [
  {
    id: "created",
    header: "Started",
    cell: ({ row }) => (
      <AnchorLink to="/scan-batches/$batchId" params={{ batchId: row.original.id }}>
        {formatDateTime(row.original.created_at)}
      </AnchorLink>
    ),
  },
  { id: "hosts", header: "Hosts", cell: ({ row }) => describeSelector(row.original.selector) },
  { id: "scope", header: "Checks", cell: ({ row }) => describeScope(row.original) },
  { id: "status", header: "Status", cell: ({ row }) => <div style={{ minWidth: 104 }}><ScanBatchStatusBadge status={row.original.status} /></div> },
  { id: "progress", header: "Progress", cell: ({ row }) => <ScanBatchProgress batch={row.original} /> },
  {
    id: "counts",
    header: "Passed scans / failed / skipped hosts",
    cell: ({ row }) => `${row.original.progress.completed} / ${row.original.progress.failed} / ${row.original.hosts_skipped}`,
  },
];

// ScanBatchesPage lists batches of scans over many hosts, newest first, with their live
// progress (scan_batch events on the stream refresh it), and starts new ones.
export function ScanBatchesPage() {
  const search = useSearch({ from: "/app/scan-batches" });
  const navigate = useNavigate({ from: "/scan-batches" });
  const status = search.status;
  const query = useInfiniteQuery({
    queryKey: ["scans", "batches", "list", { status }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/scan-batches", { params: { query: { status, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // The event stream refreshes running batches; this is the fallback without it.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((b) => b.status === "running")) ? 10_000 : false),
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const setStarting = (on: boolean) => void navigate({ search: (s) => ({ ...s, start: on || undefined }) });
  return (
    <>
      <PageHeader
        title="Scan batches"
        description="Compliance scans of many hosts at once, newest first."
        actions={
          <Can permission="scan:execute">
            <Button onClick={() => setStarting(true)} data-testid="start-batch">
              Start batch
            </Button>
          </Can>
        }
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Status"
          data={[{ value: "", label: "Any" }, ...BATCH_STATUSES.map((s) => ({ value: s, label: s }))]}
          value={status ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, status: (v || undefined) as typeof status }) })}
          allowDeselect={false}
          w={180}
        />
        <AnchorLink to="/scans" size="sm" mb={8}>
          All scans
        </AnchorLink>
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Scan batches"
        testId="batches-table"
        columns={columns}
        rows={rows}
        getRowId={(b) => b.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No batch yet."
      />
      <Modal opened={!!search.start} onClose={() => setStarting(false)} title="Start a scan batch" size="lg">
        <ScanBatchForm
          onDone={(b) => {
            notifications.show({
              color: "teal",
              message: `Batch started: ${b.hosts_total} hosts${b.hosts_skipped > 0 ? `, ${b.hosts_skipped} left out` : ""}.`,
            });
            void navigate({ to: "/scan-batches/$batchId", params: { batchId: b.id } });
          }}
        />
      </Modal>
    </>
  );
}
