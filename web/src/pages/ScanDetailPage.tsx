import { Button, Card, VisuallyHidden, Group, Loader, Select, SimpleGrid, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { frameworksQuery, hostQuery, scanQuery } from "../api/queries";
import { useCan } from "../auth/session";
import { ScanStatusBadge } from "../components/badges";
import { ActorName } from "../components/ActorName";
import { ErrorAlert } from "../components/ErrorAlert";
import { EvidenceDrawer } from "../components/EvidenceView";
import { AnchorLink } from "../components/links";
import { OscalDownload } from "../components/OscalDownload";
import { PageHeader } from "../components/PageHeader";
import { ScanProgress } from "../components/ScanProgress";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { resultColumns } from "../components/resultColumns";
import { formatDateTime, shortId } from "../lib/format";
import { RESULT_STATUSES, SEVERITIES } from "../lib/search";
import { Stat } from "../components/Stat";

type Result = Schemas["ScanResult"];

// ScanDetailPage is one scan: its progress (live while it runs), its counts, and its
// results by rule with the evidence of each.
export function ScanDetailPage() {
  const { scanId } = useParams({ from: "/app/scans/$scanId" });
  const search = useSearch({ from: "/app/scans/$scanId" });
  const navigate = useNavigate({ from: "/scans/$scanId" });
  const qc = useQueryClient();
  const canCancel = useCan("scan:cancel");
  const scan = useQuery(scanQuery(scanId));
  const host = useQuery({ ...hostQuery(scan.data?.host_id ?? ""), enabled: !!scan.data?.host_id });
  const frameworks = useQuery(frameworksQuery);
  const done = scan.data?.status === "completed";
  const filters = { status: search.status, severity: search.severity, framework: search.framework };
  const results = useInfiniteQuery({
    queryKey: ["scans", "results", scanId, filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(
        api.GET("/scans/{id}/results", {
          params: { path: { id: scanId }, query: { ...filters, limit: 200, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: done,
  });
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/scans/{id}:cancel", { params: { path: { id: scanId } } })),
    onSuccess: (s) => qc.setQueryData(scanQuery(scanId).queryKey, s),
    onError: (err) => notifications.show({ color: "red", title: "Not cancelled", message: err.message }),
  });
  const rows = useMemo(() => results.data?.pages.flatMap((p) => p.items) ?? [], [results.data]);
  const columns = useMemo<ListColumn<Result>[]>(
    () => [
      {
        id: "rule",
        header: "Rule",
        cell: ({ row }) => (
          <Stack gap={0}>
            <AnchorLink
              from="/scans/$scanId"
              to="/scans/$scanId"
              params={{ scanId }}
              search={(s) => ({ ...s, evidence: row.original.rule_id })}
            >
              {row.original.title}
              <VisuallyHidden> (evidence)</VisuallyHidden>
            </AnchorLink>
            <Text size="xs" c="dimmed">{row.original.rule_id}</Text>
          </Stack>
        ),
      },
      ...resultColumns<Result>(),
    ],
    [scanId],
  );
  const set = (patch: Record<string, string | undefined>) => void navigate({ search: (s) => ({ ...s, ...patch }) });

  if (scan.isPending) return <Loader role="status" aria-label="Loading scan" />;
  if (scan.error) {
    return (
      <>
        <PageHeader title="Scan" />
        <ErrorAlert error={scan.error} />
      </>
    );
  }
  const s = scan.data;
  const active = s.status === "queued" || s.status === "running";
  return (
    <>
      <PageHeader
        title={`Scan of ${host.data?.host.display_name || host.data?.host.hostname || "host"}`}
        description={
          <>
            {`Requested ${formatDateTime(s.created_at)} by `}
            <ActorName id={s.requested_by} />
            {s.batch_id && (
              <>
                {" as part of "}
                <AnchorLink to="/scan-batches/$batchId" params={{ batchId: s.batch_id }}>
                  batch {shortId(s.batch_id)}
                </AnchorLink>
              </>
            )}
          </>
        }
        actions={
          done ? (
            <Group gap="xs">
              <OscalDownload scanId={scanId} />
              <OscalDownload scanId={scanId} plan />
            </Group>
          ) : (
            canCancel &&
            active && (
              <Button color="red" variant="light" onClick={() => cancel.mutate()} loading={cancel.isPending}>
                Cancel scan
              </Button>
            )
          )
        }
      />
      <Card withBorder mb="md" component="section" aria-label="Scan summary">
        <SimpleGrid cols={{ base: 2, md: 6 }}>
          <Stat label="Status" value={<span data-testid="scan-status"><ScanStatusBadge status={s.status} /></span>} />
          <Stat
            label="Host"
            value={
              <AnchorLink to="/hosts/$hostId" params={{ hostId: s.host_id }}>
                {host.data?.host.hostname ?? shortId(s.host_id)}
              </AnchorLink>
            }
          />
          <Stat label="Pass" value={s.counts.pass} />
          <Stat label="Fail" value={s.counts.fail} />
          <Stat label="Skipped / error" value={`${s.counts.skipped} / ${s.counts.error}`} />
          <Stat label="Duration" value={s.duration_ms != null ? `${(s.duration_ms / 1000).toFixed(1)} s` : "—"} />
        </SimpleGrid>
        <Stack mt="md" gap={4}>
          <ScanProgress scan={s} />
          {s.error && (
            <Text c="var(--mantine-color-error)" size="sm" role="alert">
              {s.error}
            </Text>
          )}
        </Stack>
      </Card>
      {done ? (
        <>
          <Group mb="sm" align="flex-end">
            <Select
              label="Framework"
              data={[{ value: "", label: "All rules" }, ...(frameworks.data?.items ?? []).filter((f) => f.id !== "all").map((f) => ({ value: f.id, label: f.name }))]}
              value={search.framework ?? ""}
              onChange={(v) => set({ framework: v || undefined })}
              w={260}
            />
            <Select
              label="Result"
              data={[{ value: "", label: "Any" }, ...RESULT_STATUSES.map((x) => ({ value: x, label: x }))]}
              value={search.status ?? ""}
              onChange={(v) => set({ status: v || undefined })}
              w={140}
            />
            <Select
              label="Severity"
              data={[{ value: "", label: "Any" }, ...SEVERITIES.map((x) => ({ value: x, label: x }))]}
              value={search.severity ?? ""}
              onChange={(v) => set({ severity: v || undefined })}
              w={140}
            />
          </Group>
          <ErrorAlert error={results.error} />
          <VirtualTable
            label="Scan results"
            testId="scan-results"
            columns={columns}
            rows={rows}
            getRowId={(r) => r.rule_id}
            isLoading={results.isPending}
            hasNextPage={results.hasNextPage}
            isFetchingNextPage={results.isFetchingNextPage}
            fetchNextPage={() => void results.fetchNextPage()}
            empty="No result matches these filters."
            height="calc(100vh - 420px)"
          />
        </>
      ) : (
        <Text c="dimmed">{active ? "Results appear when the scan completes." : "This scan recorded no results."}</Text>
      )}
      <EvidenceDrawer scanId={search.evidence ? scanId : undefined} ruleId={search.evidence} onClose={() => set({ evidence: undefined })} />
    </>
  );
}
