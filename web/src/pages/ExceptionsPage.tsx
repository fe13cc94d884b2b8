import { Button, Drawer, Group, Select } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { ExceptionStatusBadge } from "../components/badges";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { EXCEPTION_KINDS, EXCEPTION_SCOPES, EXCEPTION_STATUSES } from "../lib/search";
import { ExceptionDetail } from "./ExceptionDetail";
import { ExceptionForm } from "./ExceptionForm";

type Exception = Schemas["Exception"];

const columns: ListColumn<Exception>[] = [
  { id: "status", header: "Status", cell: ({ row }) => <ExceptionStatusBadge status={row.original.status} /> },
  { id: "kind", header: "Kind", cell: ({ row }) => <span data-testid="exception-kind">{row.original.kind}</span> },
  {
    id: "rule",
    header: "Rule or vulnerability",
    cell: ({ row }) => (
      <AnchorLink from="/exceptions" to="/exceptions" search={(s) => ({ ...s, exception: row.original.id })} data-testid="exception-link">
        {row.original.kind === "vulnerability" ? row.original.advisory_id : row.original.rule_title}
      </AnchorLink>
    ),
  },
  {
    id: "scope",
    header: "Scope",
    cell: ({ row }) =>
      row.original.host_id ? (
        <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.host_id }}>
          <HostName id={row.original.host_id} />
        </AnchorLink>
      ) : row.original.scope === "group" ? (
        "group"
      ) : (
        "fleet-wide"
      ),
  },
  { id: "expires", header: "Expires", cell: ({ row }) => formatDateTime(row.original.expires_at) },
  { id: "requested", header: "Requested", cell: ({ row }) => formatDateTime(row.original.requested_at) },
];

// ExceptionsPage lists exceptions (risk acceptance) newest first under the status and
// scope filters of the URL; one opens in a drawer (?exception=id) with its decisions.
// "Request exception" opens the request form. Events of the scans topic refresh it.
export function ExceptionsPage() {
  const search = useSearch({ from: "/app/exceptions" });
  const navigate = useNavigate({ from: "/exceptions" });
  const [requesting, setRequesting] = useState(false);
  const { status, scope, host_id, kind } = search;
  const query = useInfiniteQuery({
    queryKey: ["compliance", "exceptions", "list", { status, scope, host_id, kind }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/compliance/exceptions", { params: { query: { status, scope, host_id, kind, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  return (
    <>
      <PageHeader
        title="Exceptions"
        description="Accepted risks: a failing rule or a vulnerability excepted on a host, a group or the fleet until its expiry, approved by a second person."
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Status"
          data={[{ value: "", label: "Any" }, ...EXCEPTION_STATUSES.map((s) => ({ value: s, label: s }))]}
          value={status ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, status: (v || undefined) as typeof status }) })}
          allowDeselect={false}
          w={180}
        />
        <Select
          label="Scope"
          data={[{ value: "", label: "Any" }, ...EXCEPTION_SCOPES.map((s) => ({ value: s, label: s }))]}
          value={scope ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, scope: (v || undefined) as typeof scope }) })}
          allowDeselect={false}
          w={180}
        />
        <Select
          label="Kind"
          data={[{ value: "", label: "Any" }, ...EXCEPTION_KINDS.map((s) => ({ value: s, label: s }))]}
          value={kind ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, kind: (v || undefined) as typeof kind }) })}
          allowDeselect={false}
          w={180}
          data-testid="exception-kind-filter"
        />
        {(status || scope || host_id || kind) && (
          <Button
            variant="subtle"
            size="sm"
            onClick={() => void navigate({ search: (s) => ({ ...s, status: undefined, scope: undefined, host_id: undefined, kind: undefined }) })}
          >
            Clear filters
          </Button>
        )}
        <Can permission="exception:request">
          <Button ml="auto" onClick={() => setRequesting(true)} data-testid="exception-new">
            Request exception
          </Button>
        </Can>
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Exceptions"
        testId="exceptions-table"
        columns={columns}
        rows={rows}
        getRowId={(e) => e.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No exception matches."
      />
      <Drawer
        opened={!!search.exception}
        onClose={() => void navigate({ search: (s) => ({ ...s, exception: undefined }) })}
        position="right"
        size="lg"
        title="Exception"
      >
        {search.exception && <ExceptionDetail id={search.exception} />}
      </Drawer>
      <Drawer opened={requesting} onClose={() => setRequesting(false)} position="right" size="md" title="Request an exception">
        <ExceptionForm
          onDone={(e) => {
            setRequesting(false);
            void navigate({ search: (s) => ({ ...s, exception: e.id }) });
          }}
        />
      </Drawer>
    </>
  );
}
