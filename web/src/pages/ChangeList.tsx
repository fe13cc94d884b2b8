import { Button, Group, Modal, Select, Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, type ReactNode } from "react";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { budgetView, CHANGE_STATUSES, changeActive, hostNamesSummary, waveProgress, type ChangeJob, type ChangeKind, type ChangeStatus } from "./ChangeModel";
import { ChangeStatusBadge } from "./ChangeParts";
import { changeListKey, listChanges } from "./ChangeQueries";

function nameCell(kind: ChangeKind, j: ChangeJob) {
  return kind === "patch" ? (
    <AnchorLink to="/jobs/$jobId" params={{ jobId: j.id }}>
      {j.name}
    </AnchorLink>
  ) : (
    <AnchorLink to="/remediation/$requestId" params={{ requestId: j.id }}>
      {j.name}
    </AnchorLink>
  );
}

function columns(kind: ChangeKind): ListColumn<ChangeJob>[] {
  return [
    { id: "name", header: "Name", cell: ({ row }) => nameCell(kind, row.original) },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (
        <div style={{ minWidth: 120 }}>
          <ChangeStatusBadge status={row.original.status} />
        </div>
      ),
    },
    {
      id: "hosts",
      header: "Hosts",
      cell: ({ row }) => {
        const { shown, more } = hostNamesSummary(row.original.host_names, row.original.host_count);
        return (
          <Text size="sm" title={row.original.host_names.join(", ")}>
            {shown || "—"}
            {more > 0 && ` +${more}`}
          </Text>
        );
      },
    },
    { id: "waves", header: "Waves", cell: ({ row }) => waveProgress(row.original) },
    {
      id: "budget",
      header: "Failures / budget",
      cell: ({ row }) => {
        const b = budgetView(row.original);
        const spent = b.spent && (row.original.status === "running" || row.original.status === "halted");
        return (
          <Text size="sm" fw={spent ? 700 : undefined}>
            {b.text}
            {spent ? " (spent)" : ""}
          </Text>
        );
      },
    },
    { id: "by", header: "Requested by", cell: ({ row }) => row.original.requested_by.name },
    { id: "created", header: "Created", cell: ({ row }) => formatDateTime(row.original.created_at) },
  ];
}

const COPY: Record<ChangeKind, { title: string; description: string; testId: string; label: string; empty: string }> = {
  patch: {
    title: "Patch jobs",
    description: "Package updates rolled out in waves, inside maintenance windows, newest first.",
    testId: "patch-jobs",
    label: "Patch jobs",
    empty: "No patch job yet.",
  },
  remediation: {
    title: "Remediation",
    description: "Changes that make failing rules pass: requested, approved, dry-run, executed and re-scanned, newest first.",
    testId: "remediation-requests",
    label: "Remediation requests",
    empty: "No remediation request yet.",
  },
};

// ChangeList is the list page of one kind of change, under the status of the URL, with
// the button and dialog that start a new one. change_job events refresh it.
export function ChangeList({
  kind,
  status,
  onStatus,
  creating,
  onCreating,
  newLabel,
  newPermission,
  form,
}: {
  kind: ChangeKind;
  status: ChangeStatus | undefined;
  onStatus: (s: ChangeStatus | undefined) => void;
  creating: boolean;
  onCreating: (on: boolean) => void;
  newLabel: string;
  newPermission: string;
  form: ReactNode;
}) {
  const copy = COPY[kind];
  const query = useInfiniteQuery({
    queryKey: changeListKey(kind, status),
    queryFn: ({ pageParam }: { pageParam: string | undefined }) => listChanges(kind, status, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // The event stream refreshes active jobs; this is the fallback without it.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((j) => changeActive(j.status))) ? 15_000 : false),
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const cols = useMemo(() => columns(kind), [kind]);
  return (
    <>
      <PageHeader
        title={copy.title}
        description={copy.description}
        actions={
          <Can permission={newPermission}>
            <Button onClick={() => onCreating(true)} data-testid="change-new">
              {newLabel}
            </Button>
          </Can>
        }
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Status"
          data={[{ value: "", label: "Any" }, ...CHANGE_STATUSES.map((s) => ({ value: s, label: s.replace("_", " ") }))]}
          value={status ?? ""}
          onChange={(v) => onStatus((v || undefined) as ChangeStatus | undefined)}
          allowDeselect={false}
          w={200}
        />
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label={copy.label}
        testId={copy.testId}
        columns={cols}
        rows={rows}
        getRowId={(j) => j.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty={copy.empty}
      />
      <Modal opened={creating} onClose={() => onCreating(false)} title={newLabel} size="xl">
        {form}
      </Modal>
    </>
  );
}
