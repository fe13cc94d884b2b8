import { Accordion, Badge, Button, Code, Group, Loader, Modal, SegmentedControl, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { api } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime, formatRelative } from "../lib/format";
import { CATEGORY_COLUMNS, TABLE_CATEGORIES, categoryRows, filterRows, type IntelRow, type TableCategory } from "./IntelData";
import { IntelEventsTable } from "./IntelEvents";

// HostKeysTab shows the SSH host keys trusted on first use and any different key the host
// presented since (pending: connections fail closed until an operator approves it).
export function HostKeysTab({ hostId }: { hostId: string }) {
  const qc = useQueryClient();
  const canWrite = useCan("host:write");
  const [confirmReset, setConfirmReset] = useState(false);
  const key = ["hosts", "detail", hostId, "keys"] as const;
  const { data, error, isPending } = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/hosts/{id}/host-keys", { params: { path: { id: hostId } } })),
  });
  const approve = useMutation({
    mutationFn: (fingerprint: string) =>
      unwrap(
        api.POST("/hosts/{id}/host-keys:approve", {
          params: { path: { id: hostId } },
          body: { fingerprint_sha256: fingerprint },
        }),
      ),
    onSuccess: (keys) => qc.setQueryData(key, keys),
    onError: (err) => notifications.show({ color: "red", title: "Not approved", message: err.message }),
  });
  const reset = useMutation({
    mutationFn: () => unwrap(api.POST("/hosts/{id}/host-keys:reset", { params: { path: { id: hostId } } })),
    onSuccess: () => {
      setConfirmReset(false);
      void qc.invalidateQueries({ queryKey: key });
    },
    onError: (err) => notifications.show({ color: "red", title: "Not reset", message: err.message }),
  });
  if (isPending) return <Loader role="status" size="sm" aria-label="Loading host keys" />;
  if (error) return <ErrorAlert error={error} />;
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          The key trusted on first use, and any other key the host presented since.
        </Text>
        {canWrite && data.keys.length > 0 && (
          <Button variant="default" color="red" onClick={() => setConfirmReset(true)}>
            Reset trust
          </Button>
        )}
      </Group>
      {data.keys.length === 0 ? (
        <Text c="dimmed">No key seen yet: the first connection will trust the key the host presents.</Text>
      ) : (
        <Table aria-label="Host keys">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Type</Table.Th>
              <Table.Th scope="col">Fingerprint</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">First seen</Table.Th>
              <Table.Th scope="col">Last seen</Table.Th>
              <Table.Th scope="col">
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.keys.map((k) => (
              <Table.Tr key={k.fingerprint_sha256}>
                <Table.Td>{k.key_type}</Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {k.fingerprint_sha256}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge color={k.status === "trusted" ? "teal" : "orange"} variant="light" miw="fit-content">
                    {k.status}
                  </Badge>
                </Table.Td>
                <Table.Td>{formatDateTime(k.first_seen_at)}</Table.Td>
                <Table.Td>{formatRelative(k.last_seen_at)}</Table.Td>
                <Table.Td>
                  {canWrite && k.status === "pending" && (
                    <Button size="xs" onClick={() => approve.mutate(k.fingerprint_sha256)} loading={approve.isPending}>
                      Approve
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Modal opened={confirmReset} onClose={() => setConfirmReset(false)} title="Reset trust in this host's keys?">
        <Stack>
          <Text size="sm">
            The next connection will trust whatever key the host presents. Do this only when you know why the key changed.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirmReset(false)}>
              Keep the keys
            </Button>
            <Button color="red" onClick={() => reset.mutate()} loading={reset.isPending}>
              Reset trust
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

interface Category {
  value?: unknown;
  collected_at?: string;
  fresh?: boolean;
  error?: string;
  changed_at?: string;
}

function summary(value: unknown): string {
  if (Array.isArray(value)) return `${value.length} items`;
  if (value && typeof value === "object") return `${Object.keys(value).length} entries`;
  if (value === undefined || value === null) return "no value";
  return String(value);
}

const CATEGORY_LABEL: Record<TableCategory, string> = {
  packages: "Packages",
  services: "Services",
  users: "Users",
  ports: "Ports",
};

// CategoryTable is one category of the snapshot as a table that stays fast with thousands
// of rows (only the rows in view are in the DOM), filtered as the user types.
function CategoryTable({ category, entry }: { category: TableCategory; entry: Category | undefined }) {
  const [search, setSearch] = useState("");
  const all = useMemo(() => categoryRows(category, entry?.value), [category, entry]);
  const rows = useMemo(() => filterRows(all, search), [all, search]);
  const columns = useMemo<ListColumn<IntelRow>[]>(
    () =>
      CATEGORY_COLUMNS[category].map((c) => ({
        id: c.id,
        header: c.header,
        cell: ({ row }) => row.original.cells[c.id] || "—",
      })),
    [category],
  );
  const label = CATEGORY_LABEL[category];
  return (
    <Stack gap="xs">
      <Group align="flex-end" justify="space-between">
        <TextInput
          label={`Search ${label.toLowerCase()}`}
          placeholder="name, version, state…"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={320}
        />
        {entry && (
          <Group gap="xs">
            {entry.fresh === false && (
              <Badge color="orange" variant="light" miw="fit-content">
                stale
              </Badge>
            )}
            <Text size="xs" c="dimmed">
              {all.length.toLocaleString()} in all · collected {formatRelative(entry.collected_at)}
              {entry.changed_at ? `, changed ${formatRelative(entry.changed_at)}` : ""}
            </Text>
          </Group>
        )}
      </Group>
      {entry?.error && (
        <Text size="sm" c="var(--mantine-color-error)">
          {entry.error}
        </Text>
      )}
      <VirtualTable
        label={label}
        testId={`intel-${category}`}
        columns={columns}
        rows={rows}
        getRowId={(r) => r.key}
        measureRows={false}
        rowHeight={37}
        height={420}
        empty={entry ? `No ${label.toLowerCase()} match.` : `No ${label.toLowerCase()} collected.`}
      />
    </Stack>
  );
}

// IntelligenceTab shows what the last collection found on the host: packages, services,
// users and ports as searchable tables, the other categories as they came, and the events
// (what changed between collections). A user with host:write can collect now.
export function IntelligenceTab({ hostId }: { hostId: string }) {
  const qc = useQueryClient();
  const canWrite = useCan("host:write");
  const search = useSearch({ from: "/app/hosts/$hostId" });
  const navigate = useNavigate({ from: "/hosts/$hostId" });
  const category: TableCategory = search.category ?? "packages";
  const key = ["hosts", "detail", hostId, "intelligence"] as const;
  const { data, error, isPending } = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/intelligence/state/{host_id}", { params: { path: { host_id: hostId } } })),
    retry: false,
  });
  const collect = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/hosts/{id}/intelligence:collect", {
          params: { path: { id: hostId }, header: { "Idempotency-Key": crypto.randomUUID() } },
        }),
      ),
    onSuccess: (state) => {
      qc.setQueryData(key, state);
      void qc.invalidateQueries({ queryKey: ["activity"] });
    },
    onError: (err) => notifications.show({ color: "red", title: "Not collected", message: err.message }),
  });
  const notYet = error instanceof ApiError && error.status === 404;
  const snapshot = useMemo(() => (data?.snapshot ?? {}) as Record<string, Category>, [data]);
  const counts = useMemo(
    () => Object.fromEntries(TABLE_CATEGORIES.map((c) => [c, categoryRows(c, snapshot[c]?.value).length])),
    [snapshot],
  );
  const others = Object.entries(snapshot).filter(([name]) => !(TABLE_CATEGORIES as readonly string[]).includes(name));
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {data ? `Collected ${formatDateTime(data.collected_at)}.` : "System facts collected over SSH."}
        </Text>
        {canWrite && (
          <Button variant="default" onClick={() => collect.mutate()} loading={collect.isPending}>
            Collect now
          </Button>
        )}
      </Group>
      {isPending && <Loader role="status" size="sm" aria-label="Loading intelligence" />}
      {notYet ? (
        <Text c="dimmed" data-testid="intel-empty">
          Nothing collected from this host yet.
        </Text>
      ) : (
        <ErrorAlert error={error} />
      )}
      {data && (
        <>
          <SegmentedControl
            aria-label="Category"
            value={category}
            onChange={(v) => void navigate({ search: (s) => ({ ...s, category: v === "packages" ? undefined : (v as TableCategory) }) })}
            data={TABLE_CATEGORIES.map((c) => ({
              value: c,
              label: `${CATEGORY_LABEL[c]} (${(counts[c] ?? 0).toLocaleString()})`,
            }))}
            style={{ alignSelf: "flex-start" }}
          />
          <CategoryTable key={category} category={category} entry={snapshot[category]} />
          {others.length > 0 && (
            <>
              <Title order={2} size="h4">
                Other facts
              </Title>
              <Accordion variant="separated" multiple>
                {others.map(([name, c]) => (
                  <Accordion.Item key={name} value={name}>
                    <Accordion.Control>
                      <Group gap="xs">
                        <Text fw={600}>{name}</Text>
                        <Text size="sm" c="dimmed">
                          {summary(c.value)}
                        </Text>
                        {c.fresh === false && (
                          <Badge color="orange" variant="light" miw="fit-content">
                            stale
                          </Badge>
                        )}
                      </Group>
                    </Accordion.Control>
                    <Accordion.Panel>
                      {c.error && (
                        <Text size="sm" c="var(--mantine-color-error)">
                          {c.error}
                        </Text>
                      )}
                      <Text size="xs" c="dimmed">
                        Collected {formatRelative(c.collected_at)}
                        {c.changed_at ? `, changed ${formatRelative(c.changed_at)}` : ""}
                      </Text>
                      <Code block className="mono-block" mah={400} style={{ overflow: "auto" }} tabIndex={0}>
                        {JSON.stringify(c.value, null, 2)}
                      </Code>
                    </Accordion.Panel>
                  </Accordion.Item>
                ))}
              </Accordion>
            </>
          )}
        </>
      )}
      <Group justify="space-between" mt="md">
        <Title order={2} size="h4">
          Events
        </Title>
        <AnchorLink to="/intelligence" search={{ host_id: hostId }} size="sm">
          In the fleet&apos;s intelligence events
        </AnchorLink>
      </Group>
      <IntelEventsTable
        filters={{ host_id: hostId }}
        showHost={false}
        label="Intelligence events of this host"
        testId="host-intel-events"
        height={360}
        empty="No event yet: events appear when a collection finds something changed since the one before."
      />
    </Stack>
  );
}
