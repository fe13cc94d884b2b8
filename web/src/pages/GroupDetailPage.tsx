import { Badge, Button, Group, Loader, Modal, Select, Stack, Text, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ReachabilityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink, ButtonLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatCount, formatRelative } from "../lib/format";
import { groupQuery } from "./GroupQueries";
import { MaintenanceWindows } from "./MaintenanceWindows";
import { DeleteGroupDialog, GroupForm } from "./GroupsPage";

type Host = Schemas["HostListItem"];
type HostGroup = Schemas["HostGroup"];

// GroupHostPicker finds a host by name, asking the server as the user types (the fleet
// may be far too large for one list).
function GroupHostPicker({ value, onChange, error }: { value: string | null; onChange: (id: string | null) => void; error?: string }) {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const { data, isPending } = useQuery({
    queryKey: ["hosts", "list", { q, picker: true }],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  const options = (data?.hosts ?? []).map((h) => ({ value: h.id, label: `${h.display_name || h.hostname} (${h.ip_address})` }));
  return (
    <Select
      label="Host"
      withAsterisk
      searchable
      data={options}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={isPending ? "Loading…" : "No host matches"}
      filter={({ options }) => options}
      error={error}
      data-autofocus
    />
  );
}

function AddMemberForm({ group, onDone }: { group: HostGroup; onDone: () => void }) {
  const qc = useQueryClient();
  const [hostId, setHostId] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const add = useMutation({
    mutationFn: (id: string) => unwrap(api.PUT("/groups/{id}/members/{host_id}", { params: { path: { id: group.id, host_id: id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["groups"] });
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      notifications.show({ color: "teal", message: `Host added to ${group.name}.` });
      onDone();
    },
    onError: (err) => setError(err.message),
  });
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        if (!hostId) setError("Choose a host.");
        else add.mutate(hostId);
      }}
    >
      <Stack>
        <Text size="sm">A host is in one group at most: a host in another group moves here.</Text>
        <GroupHostPicker value={hostId} onChange={setHostId} error={error} />
        <Group justify="flex-end">
          <Button type="submit" loading={add.isPending}>
            Add to group
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// GroupDetailPage is one group: its hosts (server-paged), its maintenance mode, and the
// controls to rename it, add and remove hosts, or delete it.
export function GroupDetailPage() {
  const { groupId } = useParams({ from: "/app/groups/$groupId" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const canWrite = useCan("host:write");
  const group = useQuery(groupQuery(groupId));
  const members = useInfiniteQuery({
    // Members are hosts: the live stream's host events refresh them.
    queryKey: ["hosts", "group-members", groupId],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/groups/{id}/members", { params: { path: { id: groupId }, query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => members.data?.pages.flatMap((p) => p.hosts) ?? [], [members.data]);
  const [editing, setEditing] = useState(false);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<HostGroup | null>(null);
  const [removing, setRemoving] = useState<Host | null>(null);

  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["groups"] });
    void qc.invalidateQueries({ queryKey: ["hosts"] });
  };
  const maintenance = useMutation({
    mutationFn: (enabled: boolean) =>
      unwrap(
        api.POST("/groups/{id}:maintenance", {
          params: { path: { id: groupId } },
          body: { enabled },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: (g) => {
      refresh();
      notifications.show({ color: "teal", message: `Maintenance ${g.maintenance_mode ? "on" : "off"} for ${g.name}.` });
    },
    onError: (err) => notifications.show({ color: "red", title: "Maintenance not changed", message: err.message }),
  });
  const remove = useMutation({
    mutationFn: (h: Host) =>
      unwrap(api.DELETE("/groups/{id}/members/{host_id}", { params: { path: { id: groupId, host_id: h.id } } })).then(() => h),
    onSuccess: (h) => {
      refresh();
      setRemoving(null);
      notifications.show({ color: "teal", message: `${h.display_name || h.hostname} taken out of the group.` });
    },
  });

  const columns = useMemo<ListColumn<Host>[]>(() => {
    const cols: ListColumn<Host>[] = [
      {
        id: "hostname",
        header: "Host",
        cell: ({ row }) => (
          <AnchorLink to="/hosts/$hostId" params={{ hostId: row.original.id }} fw={500}>
            {row.original.display_name || row.original.hostname}
          </AnchorLink>
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
        id: "maintenance",
        header: "Maintenance",
        cell: ({ row }) =>
          row.original.maintenance_mode ? (
            <Badge color="yellow" variant="light" size="sm" miw="fit-content">
              maintenance
            </Badge>
          ) : (
            "—"
          ),
      },
      { id: "last_scan", header: "Last scan", cell: ({ row }) => formatRelative(row.original.last_scan_at) },
    ];
    if (canWrite) {
      cols.push({
        id: "actions",
        header: () => <VisuallyHidden>Actions</VisuallyHidden>,
        cell: ({ row }) => (
          <Button size="xs" variant="subtle" color="red" onClick={() => setRemoving(row.original)}>
            Remove <VisuallyHidden>{row.original.display_name || row.original.hostname}</VisuallyHidden>
          </Button>
        ),
      });
    }
    return cols;
  }, [canWrite]);

  if (group.isPending) return <Loader role="status" aria-label="Loading group" />;
  if (group.error) {
    return (
      <>
        <PageHeader title="Group" />
        <ErrorAlert error={group.error} />
      </>
    );
  }
  const g = group.data;
  return (
    <>
      <PageHeader
        title={g.name}
        description={g.description || "No description."}
        actions={
          <>
            <ButtonLink to="/hosts" search={{ group_id: g.id }} variant="default">
              Show in hosts list
            </ButtonLink>
            <Can permission="host:write">
              <Button variant="default" onClick={() => setEditing(true)}>
                Edit
              </Button>
              <Button
                variant="default"
                onClick={() => maintenance.mutate(!g.maintenance_mode)}
                loading={maintenance.isPending}
              >
                {g.maintenance_mode ? "Maintenance off" : "Maintenance on"}
              </Button>
              <Button onClick={() => setAdding(true)}>Add host</Button>
            </Can>
            <Can permission="host:delete">
              <Button variant="default" color="red" onClick={() => setDeleting(g)}>
                Delete group
              </Button>
            </Can>
          </>
        }
      />
      <Group gap="sm" mb="sm">
        <Text size="sm" data-testid="group-host-count">
          {formatCount(g.host_count)} {g.host_count === 1 ? "host" : "hosts"}
        </Text>
        {g.maintenance_mode ? (
          <Badge color="yellow" variant="light" miw="fit-content" data-testid="group-maintenance">
            in maintenance
          </Badge>
        ) : (
          <Badge color="gray" variant="light" miw="fit-content" data-testid="group-maintenance">
            not in maintenance
          </Badge>
        )}
        {g.maintenance_mode && (
          <Text size="sm" c="dimmed">
            Its hosts are not probed or scanned.
          </Text>
        )}
      </Group>
      <ErrorAlert error={members.error} />
      <VirtualTable
        label="Group members"
        testId="group-members"
        columns={columns}
        rows={rows}
        getRowId={(h) => h.id}
        isLoading={members.isPending}
        hasNextPage={members.hasNextPage}
        isFetchingNextPage={members.isFetchingNextPage}
        fetchNextPage={() => void members.fetchNextPage()}
        empty="No host in this group yet."
        rowHeight={48}
        measureRows={false}
        height="calc(100vh - 300px)"
      />
      <Modal opened={editing} onClose={() => setEditing(false)} title={`Edit ${g.name}`}>
        <GroupForm
          group={g}
          onDone={() => {
            setEditing(false);
            notifications.show({ color: "teal", message: "Group saved." });
          }}
        />
      </Modal>
      <Modal opened={adding} onClose={() => setAdding(false)} title={`Add a host to ${g.name}`}>
        <AddMemberForm group={g} onDone={() => setAdding(false)} />
      </Modal>
      <Modal
        opened={!!removing}
        onClose={() => {
          remove.reset();
          setRemoving(null);
        }}
        title={removing ? `Remove ${removing.display_name || removing.hostname} from ${g.name}?` : ""}
      >
        <Stack>
          <Text size="sm">The host stays in the inventory, without a group.</Text>
          <ErrorAlert error={remove.error} title="Not removed" />
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                remove.reset();
                setRemoving(null);
              }}
            >
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => removing && remove.mutate(removing)}>
              Remove from group
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Stack mt="xl">
        <MaintenanceWindows owner={{ groupId: g.id }} />
      </Stack>
      <DeleteGroupDialog
        group={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => void navigate({ to: "/groups", search: {} })}
      />
    </>
  );
}
