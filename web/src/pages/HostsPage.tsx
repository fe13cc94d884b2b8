import { Badge, Button, Group, Modal, NumberInput, Select, Stack, TagsInput, Text, TextInput, Alert } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDebouncedCallback } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ReachabilityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink, ButtonLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatPercent, formatRelative, passingFraction } from "../lib/format";

type Host = Schemas["HostListItem"];

export interface HostFilters {
  q?: string;
  group_id?: string;
  environment?: string;
  tag?: string;
  maintenance?: boolean;
}

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

const columns: ListColumn<Host>[] = [
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

interface AddValues {
  hostname: string;
  ip_address: string;
  port: number | string;
  username: string;
  environment: string;
  display_name: string;
  tags: string[];
}
const ADD_FIELDS = ["hostname", "ip_address", "port", "username", "environment", "display_name", "tags"] as const;

// AddHostForm creates a host, or with `host` edits it. The server is the judge of what is
// valid: its 400 (and a 409 on a taken hostname) lands on the field it names.
export function AddHostForm({
  host,
  onDone,
}: {
  host?: Schemas["HostResponse"];
  onDone: (host: Schemas["HostResponse"]) => void;
}) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<AddValues>({
    mode: "controlled",
    initialValues: host
      ? {
          hostname: host.hostname,
          ip_address: host.ip_address,
          port: host.port,
          username: host.username ?? "",
          environment: host.environment,
          display_name: host.display_name ?? "",
          tags: host.tags ?? [],
        }
      : { hostname: "", ip_address: "", port: 22, username: "", environment: "", display_name: "", tags: [] },
  });
  const create = useMutation({
    mutationFn: (v: AddValues) => {
      if (host) {
        // The hostname is the host's identity in its environment and is not edited.
        const patch: Schemas["HostUpdateRequest"] = {
          ip_address: v.ip_address.trim(),
          username: v.username.trim(),
          display_name: v.display_name.trim(),
          tags: v.tags,
        };
        if (v.port !== "") patch.port = Number(v.port);
        if (v.environment.trim()) patch.environment = v.environment.trim();
        return unwrap(api.PATCH("/hosts/{id}", { params: { path: { id: host.id } }, body: patch }));
      }
      const body: Schemas["HostCreateRequest"] = { hostname: v.hostname.trim(), ip_address: v.ip_address.trim() };
      if (v.port !== "") body.port = Number(v.port);
      if (v.username.trim()) body.username = v.username.trim();
      if (v.environment.trim()) body.environment = v.environment.trim();
      if (v.display_name.trim()) body.display_name = v.display_name.trim();
      if (v.tags.length) body.tags = v.tags;
      return unwrap(api.POST("/hosts", { body, headers: { "Idempotency-Key": crypto.randomUUID() } }));
    },
    onSuccess: (host) => {
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      onDone(host);
    },
    onError: (err) => setFormError(applyFieldError(err, form, ADD_FIELDS)),
  });
  return (
    <form
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        create.mutate(v);
      })}
      noValidate
    >
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Hostname" withAsterisk disabled={!!host} {...form.getInputProps("hostname")} />
        <Group grow align="flex-start">
          <TextInput label="IP address" withAsterisk {...form.getInputProps("ip_address")} />
          <NumberInput label="SSH port" min={1} max={65535} {...form.getInputProps("port")} />
        </Group>
        <Group grow align="flex-start">
          <TextInput label="SSH user" {...form.getInputProps("username")} />
          <TextInput label="Environment" placeholder="default" {...form.getInputProps("environment")} />
        </Group>
        <TextInput label="Display name" {...form.getInputProps("display_name")} />
        <TagsInput label="Tags" {...form.getInputProps("tags")} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            {host ? "Save host" : "Add host"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

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
  const groups = useQuery({
    queryKey: ["groups"],
    queryFn: () => unwrap(api.GET("/groups", { params: { query: { limit: 200 } } })),
    staleTime: 5 * 60_000,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.hosts) ?? [], [query.data]);
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
          data={[{ value: "", label: "Any" }, ...(groups.data?.groups ?? []).map((g) => ({ value: g.id, label: g.name }))]}
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
