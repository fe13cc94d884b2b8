import { Alert, Badge, Button, Drawer, FileButton, Group, Loader, Select, Stack, Table, Tabs, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect, useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { ExposureBadge, SeverityBadge } from "../components/badges";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { VULN_SEVERITIES } from "../lib/search";
import { VulnerabilityPatchButton } from "./VulnerabilityPatch";
import { VulnerabilityExceptionForm } from "./VulnerabilityExceptionForm";

type Vulnerability = Schemas["Vulnerability"];
type FeedImport = Schemas["FeedImport"];
type VulnerableHost = Schemas["VulnerableHost"];

const columns: ListColumn<Vulnerability>[] = [
  { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
  {
    id: "id",
    header: "Advisory",
    cell: ({ row }) => (
      <AnchorLink
        from="/vulnerabilities"
        to="/vulnerabilities"
        search={(s) => ({ ...s, vuln: row.original.id })}
        data-testid="vuln-link"
      >
        {row.original.id}
      </AnchorLink>
    ),
  },
  { id: "summary", header: "Summary", cell: ({ row }) => row.original.summary || row.original.aliases.join(", ") },
  { id: "cvss", header: "CVSS", cell: ({ row }) => row.original.cvss_score ?? "—" },
  { id: "packages", header: "Packages", cell: ({ row }) => row.original.packages.join(", ") },
  { id: "hosts", header: "Hosts", cell: ({ row }) => <span data-testid="vuln-host-count">{row.original.host_count}</span> },
  { id: "excepted", header: "Excepted", cell: ({ row }) => <span data-testid="vuln-excepted-count">{row.original.excepted_host_count}</span> },
  { id: "fixed", header: "Fixed in", cell: ({ row }) => row.original.fixed_versions.join(", ") || "no fix yet" },
];

// VulnerabilitiesPage is fleet exposure from imported OSV feeds: the advisories affecting
// live hosts, most severe first, under the severity filter and search of the URL; one
// opens in a drawer (?vuln=id) with its affected hosts. The Feeds tab uploads a feed and
// shows the import history.
export function VulnerabilitiesPage() {
  const search = useSearch({ from: "/app/vulnerabilities" });
  const navigate = useNavigate({ from: "/vulnerabilities" });
  const tab = search.tab ?? "exposure";
  return (
    <>
      <PageHeader
        title="Vulnerabilities"
        description="Exposure matched from offline OSV advisory feeds against the packages intelligence collected on each host."
      />
      <Tabs value={tab} onChange={(v) => void navigate({ search: (s) => ({ ...s, tab: v === "exposure" ? undefined : "feeds" }) })} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="exposure">Exposure</Tabs.Tab>
          <Tabs.Tab value="feeds" data-testid="vuln-feeds-tab">
            Feeds
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="exposure">
          <ExposureList />
        </Tabs.Panel>
        <Tabs.Panel value="feeds">
          <Feeds />
        </Tabs.Panel>
      </Tabs>
      <Drawer
        opened={!!search.vuln}
        onClose={() => void navigate({ search: (s) => ({ ...s, vuln: undefined }) })}
        position="right"
        size="xl"
        title="Advisory"
      >
        {search.vuln && <VulnerabilityDetail id={search.vuln} />}
      </Drawer>
    </>
  );
}

function ExposureList() {
  const search = useSearch({ from: "/app/vulnerabilities" });
  const navigate = useNavigate({ from: "/vulnerabilities" });
  const { severity, q } = search;
  const [text, setText] = useState(q ?? "");
  useEffect(() => setText(q ?? ""), [q]);
  const query = useInfiniteQuery({
    queryKey: ["vulnerabilities", "list", { severity, q }],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/vulnerabilities", { params: { query: { severity, q, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  return (
    <>
      <Group mb="sm" align="flex-end">
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...VULN_SEVERITIES.map((s) => ({ value: s, label: s }))]}
          value={severity ?? ""}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, severity: (v || undefined) as typeof severity }) })}
          allowDeselect={false}
          w={180}
          data-testid="vuln-severity"
        />
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void navigate({ search: (s) => ({ ...s, q: text.trim() || undefined }) });
          }}
        >
          <TextInput
            label="Search"
            placeholder="Advisory, CVE or summary"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            w={280}
            data-testid="vuln-search"
          />
        </form>
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Vulnerabilities"
        testId="vulnerabilities-table"
        columns={columns}
        rows={rows}
        getRowId={(v) => v.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No advisory affects a host (import a feed under Feeds)."
      />
    </>
  );
}

// VulnerabilityDetail shows one advisory, its affected packages per release and the hosts
// exposed to it.
export function VulnerabilityDetail({ id }: { id: string }) {
  const detail = useQuery({
    queryKey: ["vulnerabilities", "detail", id],
    queryFn: () => unwrap(api.GET("/vulnerabilities/{vulnerability_id}", { params: { path: { vulnerability_id: id } } })),
  });
  const hosts = useInfiniteQuery({
    queryKey: ["vulnerabilities", "detail", id, "hosts"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(
        api.GET("/vulnerabilities/{vulnerability_id}/hosts", {
          params: { path: { vulnerability_id: id }, query: { limit: 200, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const hostRows: VulnerableHost[] = useMemo(() => hosts.data?.pages.flatMap((p) => p.items) ?? [], [hosts.data]);
  const [excepting, setExcepting] = useState<{ hostId?: string; hostLabel?: string }>();
  if (detail.isPending) return <Loader role="status" size="sm" aria-label="Loading advisory" />;
  if (detail.error) return <ErrorAlert error={detail.error} />;
  const v = detail.data;
  return (
    <Stack gap="sm" data-testid="vuln-detail">
      <Group gap="xs">
        <Title order={4}>{v.id}</Title>
        <SeverityBadge severity={v.severity} />
        {v.withdrawn && (
          <Badge color="gray" variant="light">
            withdrawn
          </Badge>
        )}
      </Group>
      {!v.withdrawn && <VulnerabilityPatchButton id={v.id} />}
      {v.aliases.length > 0 && <Text size="sm">Aliases: {v.aliases.join(", ")}</Text>}
      <Text fw={500}>{v.summary}</Text>
      {v.details && (
        <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
          {v.details}
        </Text>
      )}
      <Text size="sm">
        CVSS: {v.cvss_score ?? "—"} {v.cvss_vector && <code>{v.cvss_vector}</code>}
      </Text>
      <Text size="sm" c="dimmed">
        Published {v.published ? formatDateTime(v.published) : "—"}, modified {formatDateTime(v.modified)}, from feed {v.source}
      </Text>
      <Title order={5}>Affected packages</Title>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Release</Table.Th>
            <Table.Th>Package</Table.Th>
            <Table.Th>Ranges</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {v.affected.map((a) => (
            <Table.Tr key={a.release + a.package}>
              <Table.Td>{a.ecosystem}</Table.Td>
              <Table.Td>{a.package}</Table.Td>
              <Table.Td>
                {a.ranges
                  .map((r) =>
                    r
                      .map((e) =>
                        e.introduced ? `introduced ${e.introduced}` : e.fixed ? `fixed ${e.fixed}` : e.last_affected ? `last affected ${e.last_affected}` : `limit ${e.limit}`,
                      )
                      .join(", "),
                  )
                  .concat(a.versions.length ? [`versions ${a.versions.join(", ")}`] : [])
                  .join("; ")}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group justify="space-between">
        <Title order={5}>
          Exposed hosts ({v.host_count}
          {v.excepted_host_count > 0 && <>, {v.excepted_host_count} excepted</>})
        </Title>
        <Can permission="exception:request">
          <Button size="xs" variant="light" onClick={() => setExcepting({})} data-testid="vuln-request-fleet-exception">
            Request exception
          </Button>
        </Can>
      </Group>
      {excepting && (
        <Stack gap="xs" p="sm" style={{ border: "1px solid var(--mantine-color-default-border)", borderRadius: 4 }}>
          <Group justify="space-between">
            <Text fw={500}>Request an exception of {v.id}</Text>
            <Button size="xs" variant="subtle" onClick={() => setExcepting(undefined)}>
              Cancel
            </Button>
          </Group>
          <VulnerabilityExceptionForm
            advisoryId={v.id}
            aliases={v.aliases}
            hostId={excepting.hostId}
            hostLabel={excepting.hostLabel}
            onDone={() => setExcepting(undefined)}
          />
        </Stack>
      )}
      <ErrorAlert error={hosts.error} />
      <Table striped data-testid="vuln-hosts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Host</Table.Th>
            <Table.Th>Package</Table.Th>
            <Table.Th>Installed</Table.Th>
            <Table.Th>Fixed</Table.Th>
            <Table.Th>Fix installable</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {hostRows.map((h) => (
            <Table.Tr key={h.host_id + h.package}>
              <Table.Td>
                <AnchorLink to="/hosts/$hostId" params={{ hostId: h.host_id }} search={{ tab: "vulnerabilities" }}>
                  {h.display_name || h.hostname}
                </AnchorLink>
              </Table.Td>
              <Table.Td>{h.package}</Table.Td>
              <Table.Td>{h.installed_version}</Table.Td>
              <Table.Td>{h.fixed_version ?? "—"}</Table.Td>
              <Table.Td>{h.fix_installable ? "yes" : "no"}</Table.Td>
              <Table.Td>
                <ExposureBadge status={h.status} exceptionId={h.exception_id} />
              </Table.Td>
              <Table.Td>
                {h.status === "exposed" && (
                  <Can permission="exception:request">
                    <Button
                      size="xs"
                      variant="subtle"
                      onClick={() => setExcepting({ hostId: h.host_id, hostLabel: h.display_name || h.hostname })}
                      data-testid="vuln-host-request-exception"
                    >
                      Except on host
                    </Button>
                  </Can>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {hosts.hasNextPage && (
        <Button variant="subtle" onClick={() => void hosts.fetchNextPage()} loading={hosts.isFetchingNextPage}>
          More hosts
        </Button>
      )}
    </Stack>
  );
}

const importColumns: ListColumn<FeedImport>[] = [
  { id: "when", header: "When", cell: ({ row }) => formatDateTime(row.original.started_at) },
  { id: "source", header: "Source", cell: ({ row }) => <span data-testid="import-source">{row.original.source}</span> },
  {
    id: "status",
    header: "Status",
    cell: ({ row }) => (
      <Badge miw="fit-content" color={row.original.status === "succeeded" ? "teal" : "red"} variant="light">
        {row.original.status}
      </Badge>
    ),
  },
  {
    id: "records",
    header: "Added / updated / unchanged / withdrawn / rejected",
    cell: ({ row }) => (
      <span data-testid="import-counts">
        {row.original.added} / {row.original.updated} / {row.original.unchanged} / {row.original.withdrawn} / {row.original.rejected}
      </span>
    ),
  },
  {
    id: "exposure",
    header: "Exposures opened / resolved",
    cell: ({ row }) => `${row.original.exposures_opened} / ${row.original.exposures_resolved}`,
  },
  { id: "duration", header: "Duration", cell: ({ row }) => `${(row.original.duration_ms / 1000).toFixed(1)} s` },
  {
    id: "errors",
    header: "Errors",
    cell: ({ row }) =>
      row.original.error ?? (row.original.rejections.length ? row.original.rejections.map((r) => `${r.file}: ${r.reason}`).join("; ") : "—"),
  },
];

// Feeds uploads an OSV feed (a zip of records or one JSON record) and lists the imports.
function Feeds() {
  const qc = useQueryClient();
  const [last, setLast] = useState<FeedImport>();
  const history = useInfiniteQuery({
    queryKey: ["vulnerabilities", "imports"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/vulnerabilities/feeds/imports", { params: { query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const rows = useMemo(() => history.data?.pages.flatMap((p) => p.items) ?? [], [history.data]);
  const upload = useMutation({
    mutationFn: (file: File) =>
      unwrap(
        api.POST("/vulnerabilities/feeds:import", {
          params: { query: { file_name: file.name, source: file.name.replace(/\.(zip|json)$/i, "") || file.name } },
          body: file as unknown as string,
          bodySerializer: (b: unknown) => b as BodyInit,
          headers: { "Content-Type": "application/octet-stream" },
        }),
      ),
    onSuccess: (imp) => {
      setLast(imp);
      void qc.invalidateQueries({ queryKey: ["vulnerabilities"] });
    },
    onError: (err) => notifications.show({ color: "red", title: "Feed not imported", message: err.message }),
  });
  return (
    <Stack>
      <Can permission="vulnerability:feed">
        <Group>
          <FileButton accept=".zip,.json,application/zip,application/json" onChange={(f) => f && upload.mutate(f)}>
            {(props) => (
              <Button {...props} loading={upload.isPending} data-testid="feed-upload">
                Upload OSV feed (.zip or .json)
              </Button>
            )}
          </FileButton>
          <Text size="sm" c="dimmed">
            Records not newer than the stored ones are skipped; only the packages they name are matched again.
          </Text>
        </Group>
      </Can>
      {last && (
        <Alert color="teal" title="Feed imported" data-testid="feed-result">
          {last.added} added, {last.updated} updated, {last.unchanged} unchanged, {last.withdrawn} withdrawn, {last.rejected} rejected;{" "}
          {last.exposures_opened} exposures opened, {last.exposures_resolved} resolved.
        </Alert>
      )}
      <ErrorAlert error={history.error} />
      <VirtualTable
        label="Feed imports"
        testId="feed-imports-table"
        columns={importColumns}
        rows={rows}
        getRowId={(i) => i.id}
        isLoading={history.isPending}
        hasNextPage={history.hasNextPage}
        isFetchingNextPage={history.isFetchingNextPage}
        fetchNextPage={() => void history.fetchNextPage()}
        empty="No feed imported yet."
      />
    </Stack>
  );
}
