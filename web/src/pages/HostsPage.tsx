import { Badge, Button, Checkbox, Group, Modal, Select, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { createContext, useCallback, useContext, useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ReachabilityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink, ButtonLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatPercent, formatRelative, passingFraction } from "../lib/format";
import { BulkBar } from "./BulkActions";
import {
  isSelected,
  loadedState,
  NO_SELECTION,
  toggleLoaded,
  toggleOne,
  type HostFilters,
  type Selection,
} from "./BulkSelection";
import { groupQuery, groupsPickerQuery } from "./GroupQueries";
import { AddHostForm } from "./HostForm";

type Host = Schemas["HostListItem"];

export type { HostFilters };
// The add/edit form lives in its own module; HostDetailPage's Edit dialog imports it from here.
export { AddHostForm };

// The API's largest page: fewer round trips while scrolling through a large fleet.
const PAGE = 200;

// hostsInfiniteQuery pages through GET /hosts with the filters in the URL, one server page
// (keyset cursor) at a time.
export function hostsInfiniteQuery(filters: HostFilters) {
  return {
    queryKey: ["hosts", "list", filters] as const,
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(
        api.GET("/hosts", {
          params: { query: { ...filters, limit: PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Schemas["HostListResponse"]) => last.next_cursor ?? undefined,
  };
}

// The selection of the table, shared with its checkbox cells through context so the
// columns stay the same objects while the selection changes (only the rows in view, and
// the header, re-render on a click).
interface SelectionState {
  selection: Selection;
  loadedIds: readonly string[];
  toggle: (id: string) => void;
  toggleAll: () => void;
}
const SelectionContext = createContext<SelectionState | null>(null);

function HeaderCheckbox() {
  const ctx = useContext(SelectionContext);
  if (!ctx) return null;
  const state = loadedState(ctx.selection, ctx.loadedIds);
  return (
    <Checkbox
      aria-label="Select all loaded hosts"
      checked={state === "all"}
      indeterminate={state === "some"}
      disabled={ctx.loadedIds.length === 0}
      onChange={ctx.toggleAll}
    />
  );
}

function RowCheckbox({ host }: { host: Host }) {
  const ctx = useContext(SelectionContext);
  if (!ctx) return null;
  return (
    <Checkbox
      aria-label={`Select ${host.display_name || host.hostname}`}
      checked={isSelected(ctx.selection, host.id)}
      onChange={() => ctx.toggle(host.id)}
    />
  );
}

const selectColumn: ListColumn<Host> = {
  id: "select",
  header: () => <HeaderCheckbox />,
  cell: ({ row }) => <RowCheckbox host={row.original} />,
};

const dataColumns: ListColumn<Host>[] = [
  {
    id: "hostname",
    header: "Host",
    cell: ({ row }) => (
      <Stack gap={0}>
        <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.id }} fw={500}>
          {row.original.display_name || row.original.hostname}
        </AnchorLink>
        {row.original.display_name && row.original.display_name !== row.original.hostname && (
          <Text size="xs" c="dimmed">
            {row.original.hostname}
          </Text>
        )}
      </Stack>
    ),
  },
  { id: "address", header: "Address", cell: ({ row }) => `${row.original.ip_address}:${row.original.port}` },
  { id: "environment", header: "Environment", cell: ({ row }) => row.original.environment },
  {
    id: "liveness",
    header: "Liveness",
    cell: ({ row }) => <ReachabilityBadge status={row.original.liveness?.reachability_status} />,
  },
  {
    id: "score",
    header: "Score",
    cell: ({ row }) => {
      const c = row.original.compliance_summary;
      if (!c) return <Text size="sm" c="dimmed">not scanned</Text>;
      return (
        <Group gap={6} wrap="nowrap">
          <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.id }} search={{ tab: "compliance" }}>
            {formatPercent(passingFraction(c.passing, c.failing))}
          </AnchorLink>
          {c.critical_failing > 0 && (
            <Badge color="red" variant="light" size="sm">
              {c.critical_failing} critical
            </Badge>
          )}
        </Group>
      );
    },
  },
  { id: "last_scan", header: "Last scan", cell: ({ row }) => formatRelative(row.original.last_scan_at) },
  {
    id: "tags",
    header: "Tags",
    cell: ({ row }) => (
      <Group gap={4}>
        {row.original.maintenance_mode && (
          <Badge color="yellow" variant="light" size="sm">
            maintenance
          </Badge>
        )}
        {(row.original.tags ?? []).slice(0, 3).map((t) => (
          <Badge key={t} variant="default" size="sm">
            {t}
          </Badge>
        ))}
      </Group>
    ),
  },
];

// HostsPage lists the fleet, one server page at a time, in a virtualised table. The
// filters live in the URL, so a filtered list can be bookmarked and shared.
export function HostsPage() {
  const search = useSearch({ from: "/app/hosts" });
  const navigate = useNavigate({ from: "/hosts" });
  const filters: HostFilters = useMemo(
    () => ({
      q: search.q,
      group_id: search.group_id,
      environment: search.environment,
      tag: search.tag,
      maintenance: search.maintenance,
    }),
    [search.q, search.group_id, search.environment, search.tag, search.maintenance],
  );
  const query = useInfiniteQuery(hostsInfiniteQuery(filters));
  const groups = useQuery(groupsPickerQuery);
  // A group in the URL that the picker did not load (a large fleet's 1,001st group) is
  // still named.
  const missingGroup = !!search.group_id && groups.isSuccess && !groups.data.some((g) => g.id === search.group_id);
  const urlGroup = useQuery({ ...groupQuery(search.group_id ?? ""), enabled: missingGroup });
  const groupOptions = useMemo(() => {
    const list = (groups.data ?? []).map((g) => ({ value: g.id, label: g.name }));
    if (missingGroup && search.group_id) list.push({ value: search.group_id, label: urlGroup.data?.name ?? "This group" });
    return [{ value: "", label: "Any" }, ...list];
  }, [groups.data, missingGroup, search.group_id, urlGroup.data]);
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.hosts) ?? [], [query.data]);
  const loadedIds = useMemo(() => rows.map((h) => h.id), [rows]);

  // The selection belongs to one set of filters: changing them starts afresh.
  const filterKey = JSON.stringify(filters);
  const [picked, setPicked] = useState<{ key: string; selection: Selection }>({ key: filterKey, selection: NO_SELECTION });
  const selection = picked.key === filterKey ? picked.selection : NO_SELECTION;
  const setSelection = useCallback((s: Selection) => setPicked({ key: filterKey, selection: s }), [filterKey]);
  const canWrite = useCan("host:write");
  const canScan = useCan("scan:execute");
  // The selection column is there for the bulk actions; without them it is left out.
  const selectable = canWrite || canScan;
  const columns = useMemo(() => (selectable ? [selectColumn, ...dataColumns] : dataColumns), [selectable]);
  const selectionState = useMemo<SelectionState>(
    () => ({
      selection,
      loadedIds,
      toggle: (id) => setSelection(toggleOne(selection, id, loadedIds)),
      toggleAll: () => setSelection(toggleLoaded(selection, loadedIds)),
    }),
    [selection, loadedIds, setSelection],
  );
  const [q, setQ] = useState(search.q ?? "");
  const pushQ = useDebouncedCallback((v: string) => {
    void navigate({ search: (s) => ({ ...s, q: v.trim() || undefined }), replace: true });
  }, 300);
  const setFilter = (patch: Partial<HostFilters>) => void navigate({ search: (s) => ({ ...s, ...patch }) });

  return (
    <>
      <PageHeader
        title="Hosts"
        description="The fleet inventory."
        actions={
          <Can permission="host:write">
            <ButtonLink to="/discovery" variant="default">
              Discover hosts
            </ButtonLink>
            <Button onClick={() => void navigate({ search: (s) => ({ ...s, add: true }) })} data-testid="add-host">
              Add host
            </Button>
          </Can>
        }
      />
      <Group mb="sm" align="flex-end">
        <TextInput
          label="Search"
          placeholder="Hostname, display name or IP"
          value={q}
          onChange={(e) => {
            setQ(e.currentTarget.value);
            pushQ(e.currentTarget.value);
          }}
          w={280}
        />
        <Select
          label="Group"
          data={groupOptions}
          value={search.group_id ?? ""}
          onChange={(v) => setFilter({ group_id: v || undefined })}
          searchable
          w={200}
        />
        <TextInput
          label="Environment"
          defaultValue={search.environment ?? ""}
          key={`env-${search.environment ?? ""}`}
          onBlur={(e) => setFilter({ environment: e.currentTarget.value.trim() || undefined })}
          onKeyDown={(e) => {
            if (e.key === "Enter") setFilter({ environment: e.currentTarget.value.trim() || undefined });
          }}
          w={160}
        />
        <TextInput
          label="Tag"
          defaultValue={search.tag ?? ""}
          key={`tag-${search.tag ?? ""}`}
          onBlur={(e) => setFilter({ tag: e.currentTarget.value.trim() || undefined })}
          onKeyDown={(e) => {
            if (e.key === "Enter") setFilter({ tag: e.currentTarget.value.trim() || undefined });
          }}
          w={160}
        />
        <Select
          label="Maintenance"
          data={[
            { value: "any", label: "Any" },
            { value: "true", label: "In maintenance" },
            { value: "false", label: "Not in maintenance" },
          ]}
          value={search.maintenance === undefined ? "any" : String(search.maintenance)}
          allowDeselect={false}
          onChange={(v) => setFilter({ maintenance: v === "true" ? true : v === "false" ? false : undefined })}
          w={200}
        />
      </Group>
      <ErrorAlert error={query.error} />
      {selectable && (
        <BulkBar
          selection={selection}
          setSelection={setSelection}
          filters={filters}
          rows={rows}
          loadedIds={loadedIds}
          moreToLoad={!!query.hasNextPage}
        />
      )}
      <SelectionContext.Provider value={selectionState}>
        <VirtualTable
          label="Hosts"
          testId="hosts-table"
          columns={columns}
          rows={rows}
          getRowId={(h) => h.id}
          isLoading={query.isPending}
          hasNextPage={query.hasNextPage}
          isFetchingNextPage={query.isFetchingNextPage}
          fetchNextPage={() => void query.fetchNextPage()}
          empty="No host matches these filters."
          rowHeight={52}
          measureRows={false}
        />
      </SelectionContext.Provider>
      <Modal
        opened={!!search.add}
        onClose={() => void navigate({ search: (s) => ({ ...s, add: undefined }) })}
        title="Add host"
        size="lg"
      >
        <AddHostForm
          onDone={(host) => {
            notifications.show({ color: "teal", message: `Host ${host.hostname} added.` });
            void navigate({ to: "/hosts/$hostId", params: { hostId: host.id }, search: {} });
          }}
        />
      </Modal>
    </>
  );
}
