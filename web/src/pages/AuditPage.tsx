import { Alert, Button, Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { licenseQuery } from "../api/queries";
import { Can } from "../auth/Can";
import { SeverityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime, shortId } from "../lib/format";

type Event = Schemas["AuditEvent"];

const columns: ListColumn<Event>[] = [
  { id: "seq", header: "#", cell: ({ row }) => row.original.seq },
  { id: "when", header: "When", cell: ({ row }) => formatDateTime(row.original.occurred_at) },
  { id: "action", header: "Action", cell: ({ row }) => <Text size="sm" ff="monospace">{row.original.action}</Text> },
  { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
  {
    id: "actor",
    header: "Actor",
    cell: ({ row }) => `${row.original.actor_type}${row.original.actor_id ? ` ${shortId(row.original.actor_id)}` : ""}`,
  },
  {
    id: "resource",
    header: "Resource",
    cell: ({ row }) => (row.original.resource_type ? `${row.original.resource_type} ${shortId(row.original.resource_id)}` : "—"),
  },
  { id: "client", header: "Client", cell: ({ row }) => row.original.client_addr ?? "—" },
];

function VerifyButton() {
  const verify = useMutation({ mutationFn: () => unwrap(api.POST("/audit/integrity:verify")) });
  return (
    <Group>
      <Button variant="default" onClick={() => verify.mutate()} loading={verify.isPending}>
        Verify integrity
      </Button>
      {verify.data && (
        <Alert color={verify.data.ok ? "teal" : "red"} role="status" py={6}>
          {verify.data.ok ? `The chain is intact (${verify.data.checked} events checked).` : "The chain is broken."}
        </Alert>
      )}
      <ErrorAlert error={verify.error} />
    </Group>
  );
}

// ChainStatus says when the periodic check last verified the chain and what it found (a
// broken chain also raises the critical audit_chain_broken alert).
function ChainStatus() {
  const { data, error } = useQuery({ queryKey: ["audit", "integrity"], queryFn: () => unwrap(api.GET("/audit/integrity")) });
  if (error) return <ErrorAlert error={error} />;
  if (!data) return null;
  let text = "The periodic check has not verified the chain yet.";
  if (data.verified_at && data.ok) {
    text = `Chain last verified ${formatDateTime(data.verified_at)}: intact (${data.checked} events).`;
  } else if (data.verified_at) {
    const last = data.last_ok_at ? ` Last verified intact ${formatDateTime(data.last_ok_at)}.` : "";
    text = `Chain last verified ${formatDateTime(data.verified_at)}: broken at seq ${data.first_broken_seq ?? "?"} (${data.reason ?? ""}).${last}`;
  }
  return (
    <Text size="sm" c={data.verified_at && !data.ok ? "red.8" : "dimmed"} data-testid="audit-chain-status">
      {text}
    </Text>
  );
}

// ExportButtons download the events matching the filters as CSV or JSON. The download
// goes through the API client (so an expired session renews) and is saved from a blob.
function ExportButtons({ filters }: { filters: Record<string, string | undefined> }) {
  const license = useQuery(licenseQuery);
  const licensed = license.data?.features?.includes("audit_export") ?? false;
  const exp = useMutation({
    mutationFn: async (format: "csv" | "json") => {
      const blob = await unwrap(
        api.GET("/audit/events:export", { params: { query: { ...filters, format } }, parseAs: "blob" }),
      );
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `openwatch-audit.${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  const hint = licensed ? undefined : "Export needs an OpenWatch Plus or Enterprise license.";
  return (
    <Stack gap={4} align="flex-end">
      <Group gap="xs">
        {(["csv", "json"] as const).map((f) => (
          <Button
            key={f}
            variant="default"
            disabled={!licensed}
            title={hint}
            aria-describedby={licensed ? undefined : "audit-export-hint"}
            onClick={() => exp.mutate(f)}
            loading={exp.isPending && exp.variables === f}
          >
            Export {f.toUpperCase()}
          </Button>
        ))}
      </Group>
      {hint && (
        <Text size="xs" c="dimmed" id="audit-export-hint">
          {hint}
        </Text>
      )}
      <ErrorAlert error={exp.error} />
    </Stack>
  );
}

// AuditPage is the tamper-evident audit trail with its filters in the URL.
export function AuditPage() {
  const search = useSearch({ from: "/app/audit" });
  const navigate = useNavigate({ from: "/audit" });
  const filters = {
    action: search.action,
    actor_type: search.actor_type,
    resource_type: search.resource_type,
    correlation_id: search.correlation_id,
  };
  const query = useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/audit/events", { params: { query: { ...filters, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const setText = (key: "action" | "resource_type" | "correlation_id", v: string) =>
    void navigate({ search: (s) => ({ ...s, [key]: v.trim() || undefined }) });
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, chained so that edits and deletions are detectable."
        actions={
          <Stack gap="xs" align="flex-end">
            <Can permission="audit:export">
              <ExportButtons filters={filters} />
            </Can>
            <Can permission="audit:verify">
              <VerifyButton />
            </Can>
            <ChainStatus />
          </Stack>
        }
      />
      <Group mb="sm" align="flex-end">
        <TextInput
          label="Action"
          placeholder="e.g. host.created"
          defaultValue={search.action ?? ""}
          key={`a-${search.action ?? ""}`}
          onBlur={(e) => setText("action", e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && setText("action", e.currentTarget.value)}
          w={200}
        />
        <Select
          label="Actor"
          data={[
            { value: "", label: "Any" },
            { value: "user", label: "User" },
            { value: "service_account", label: "Service account" },
            { value: "system", label: "System" },
            { value: "anonymous", label: "Anonymous" },
          ]}
          value={search.actor_type ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, actor_type: (v || undefined) as typeof s.actor_type }) })}
          w={170}
        />
        <TextInput
          label="Resource type"
          defaultValue={search.resource_type ?? ""}
          key={`r-${search.resource_type ?? ""}`}
          onBlur={(e) => setText("resource_type", e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && setText("resource_type", e.currentTarget.value)}
          w={160}
        />
        <TextInput
          label="Correlation id"
          defaultValue={search.correlation_id ?? ""}
          key={`c-${search.correlation_id ?? ""}`}
          onBlur={(e) => setText("correlation_id", e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && setText("correlation_id", e.currentTarget.value)}
          w={200}
        />
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Audit events"
        testId="audit-table"
        columns={columns}
        rows={rows}
        getRowId={(e) => e.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No audit event matches."
      />
    </>
  );
}
