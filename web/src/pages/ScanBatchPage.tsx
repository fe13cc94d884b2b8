import { Button, Card, Group, Loader, Modal, SimpleGrid, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ActorName } from "../components/ActorName";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { scanStateColumns } from "../components/scanColumns";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { ScanBatchProgress, ScanBatchStatusBadge } from "./ScanBatchParts";
import { batchDone, batchEnded, describeScope, describeSelector } from "./ScanBatchModel";
import { Stat } from "../components/Stat";

type Scan = Schemas["Scan"];

export const scanBatchQueryKey = (id: string) => ["scans", "batches", "detail", id] as const;

const scanColumns: ListColumn<Scan>[] = [
  {
    id: "host",
    header: "Host",
    cell: ({ row }) => (
      <AnchorLink to="/scans/$scanId" params={{ scanId: row.original.id }}>
        <HostName id={row.original.host_id} />
      </AnchorLink>
    ),
  },
  ...scanStateColumns,
  {
    id: "error",
    header: "Error",
    cell: ({ row }) => (
      <Text size="sm" lineClamp={1} title={row.original.error ?? undefined}>
        {row.original.error || "—"}
      </Text>
    ),
  },
];

// ScanBatchPage is one batch: its counts and overall progress, and each of its scans with
// its own progress bar. Both move live: scan_batch events refresh the batch and scan
// events patch the scans' bars (events/invalidate.ts).
export function ScanBatchPage() {
  const { batchId } = useParams({ from: "/app/scan-batches/$batchId" });
  const qc = useQueryClient();
  const canCancel = useCan("scan:cancel");
  const [confirming, setConfirming] = useState(false);
  const batch = useQuery({
    queryKey: scanBatchQueryKey(batchId),
    queryFn: () => unwrap(api.GET("/scan-batches/{id}", { params: { path: { id: batchId } } })),
    // The event stream refreshes a running batch; this is the fallback without it.
    refetchInterval: (q) => (q.state.data?.status === "running" ? 5_000 : false),
  });
  const running = batch.data?.status === "running";
  const scans = useInfiniteQuery({
    queryKey: ["scans", "list", { batch_id: batchId }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/scans", { params: { query: { batch_id: batchId, limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: running ? 5_000 : false,
  });
  const rows = useMemo(() => scans.data?.pages.flatMap((p) => p.items) ?? [], [scans.data]);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/scan-batches/{id}:cancel", { params: { path: { id: batchId } } })),
    onSuccess: (b) => {
      qc.setQueryData(scanBatchQueryKey(batchId), b);
      void qc.invalidateQueries({ queryKey: ["scans"] });
      setConfirming(false);
      notifications.show({ color: "teal", message: "Batch cancelled." });
    },
    // On failure the dialog stays open with the server's message.
  
  });

  if (batch.isPending) return <Loader role="status" aria-label="Loading batch" />;
  if (batch.error) {
    return (
      <>
        <PageHeader title="Scan batch" />
        <ErrorAlert error={batch.error} />
      </>
    );
  }
  const b = batch.data;
  const p = b.progress;
  const { done, total } = batchDone(b);
  return (
    <>
      <PageHeader
        title="Scan batch"
        description={
          <>
            {`${describeSelector(b.selector)} · started ${formatDateTime(b.created_at)} by `}
            <ActorName id={b.requested_by} />
          </>
        }
        actions={
          <>
            <AnchorLink to="/scan-batches" size="sm">
              All batches
            </AnchorLink>
            {canCancel && !batchEnded(b.status) && (
              <Button color="red" variant="light" onClick={() => setConfirming(true)}>
                Cancel batch
              </Button>
            )}
          </>
        }
      />
      <Stack>
        <Card withBorder component="section" aria-label="Batch progress">
          <Group justify="space-between" mb="sm">
            <Group gap="xs">
              <ScanBatchStatusBadge status={b.status} testId="batch-status" />
              <Text size="sm" c="dimmed" data-testid="batch-done">
                {done} of {total} scans ended
              </Text>
            </Group>
            {b.finished_at && <Text size="sm" c="dimmed">Finished {formatDateTime(b.finished_at)}</Text>}
          </Group>
          <ScanBatchProgress batch={b} />
          <SimpleGrid cols={{ base: 2, sm: 4, md: 7 }} mt="md">
            <Stat label="Hosts scanned" value={b.hosts_total} testId="batch-hosts-total" />
            <Stat label="Hosts left out" value={b.hosts_skipped} testId="batch-hosts-skipped" />
            <Stat label="Queued" value={p.queued} testId="batch-queued" />
            <Stat label="Running" value={p.running} testId="batch-running" />
            <Stat label="Completed" value={p.completed} testId="batch-completed" />
            <Stat label="Failed" value={p.failed} testId="batch-failed" />
            <Stat label="Cancelled" value={p.cancelled} testId="batch-cancelled" />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, sm: 3 }} mt="md">
            <Stat label="Checks" value={describeScope(b)} />
            <Stat label="Concurrency" value={`${b.concurrency} at once`} />
            <Stat label="Rules" value={b.rule_ids && b.rule_ids.length > 0 ? b.rule_ids.join(", ") : "every rule"} />
          </SimpleGrid>
        </Card>
        <ErrorAlert error={scans.error} />
        <VirtualTable
          label="Scans of this batch"
          testId="batch-scans"
          columns={scanColumns}
          rows={rows}
          getRowId={(s) => s.id}
          isLoading={scans.isPending}
          hasNextPage={scans.hasNextPage}
          isFetchingNextPage={scans.isFetchingNextPage}
          fetchNextPage={() => void scans.fetchNextPage()}
          height="calc(100vh - 480px)"
          empty="No scan in this batch."
        />
      </Stack>
      <Modal
        opened={confirming}
        onClose={() => {
          setConfirming(false);
          cancel.reset();
        }}
        title="Cancel this batch?"
      >
        <Stack>
          <ErrorAlert error={cancel.error} title="Not cancelled" />
          <Text size="sm">
            Its {p.queued} queued scans end cancelled at once and its {p.running} running scans are asked to stop. Scans
            that already ended keep their results.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep running
            </Button>
            <Button color="red" onClick={() => cancel.mutate()} loading={cancel.isPending}>
              Cancel batch
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
