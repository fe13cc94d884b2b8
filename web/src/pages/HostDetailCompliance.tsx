import { LineChart } from "@mantine/charts";
import { Button, Card, Drawer, Group, Loader, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput, Title, UnstyledButton, VisuallyHidden } from "@mantine/core";
import { useInfiniteQuery, useQueries, useQuery } from "@tanstack/react-query";
import { notifications } from "@mantine/notifications";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { useCan } from "../auth/session";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { frameworksQuery } from "../api/queries";
import { ErrorAlert } from "../components/ErrorAlert";
import { EvidenceDrawer } from "../components/EvidenceView";
import { AnchorLink } from "../components/links";
import { resultColumns } from "../components/resultColumns";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatCount, formatDateTime, formatPercent } from "../lib/format";
import { RESULT_STATUSES, SEVERITIES } from "../lib/search";
import { ExceptionForm } from "./ExceptionForm";
import { RemediationForm } from "./ChangeForm";
import { applicableFrameworks, isoToLocalInput, localInputToIso, trendSeries, trendSince, type TrendInterval } from "./HostDetailData";

type RuleResult = Schemas["HostRuleResult"];

// FrameworkScores shows the host's score under each framework that has rules for its
// platform: one GET /hosts/{id}/compliance per framework, reading only its summary.
function FrameworkScores({
  hostId,
  osFamily,
  osVersion,
  asOf,
  selected,
  onSelect,
}: {
  hostId: string;
  osFamily: string | null | undefined;
  osVersion?: string | null;
  asOf: string | undefined;
  selected: string;
  onSelect: (framework: string) => void;
}) {
  const frameworks = useQuery(frameworksQuery);
  const list = useMemo(
    () => applicableFrameworks(frameworks.data?.items ?? [], osFamily, osVersion),
    [frameworks.data, osFamily, osVersion],
  );
  const scores = useQueries({
    queries: list.map((f) => ({
      queryKey: ["compliance", "host", hostId, "score", f.id, asOf ?? null],
      queryFn: () =>
        unwrap(
          api.GET("/hosts/{id}/compliance", {
            params: { path: { id: hostId }, query: { framework: f.id, as_of: asOf, limit: 1 } },
          }),
        ),
    })),
  });
  return (
    <Card withBorder component="section" aria-label="Scores by framework">
      <Title order={2} size="h4" mb="sm">
        Scores by framework
      </Title>
      <ErrorAlert error={frameworks.error} />
      {frameworks.isPending && <Loader role="status" size="sm" aria-label="Loading frameworks" />}
      {list.length > 0 && (
        <Table aria-label="Scores by framework" data-testid="framework-scores" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Framework</Table.Th>
              <Table.Th scope="col">Score</Table.Th>
              <Table.Th scope="col">Pass</Table.Th>
              <Table.Th scope="col">Fail</Table.Th>
              <Table.Th scope="col" title="Fails an exception accepts: neither pass nor fail in the score">
                Excepted
              </Table.Th>
              <Table.Th scope="col">Critical failing</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((f, i) => {
              const q = scores[i];
              const s = q?.data?.summary;
              const isSelected = selected === f.id;
              return (
                <Table.Tr key={f.id}>
                  <Table.Th scope="row">
                    <UnstyledButton
                      onClick={() => onSelect(f.id)}
                      aria-pressed={isSelected}
                      fz="sm"
                      fw={isSelected ? 700 : 500}
                      td={isSelected ? undefined : "underline"}
                      c={isSelected ? undefined : "var(--mantine-color-anchor)"}
                    >
                      {isSelected && <span aria-hidden="true">▸ </span>}
                      {f.id === "all" ? "All rules" : f.name}
                    </UnstyledButton>
                  </Table.Th>
                  <Table.Td data-testid={`score-${f.id}`} style={{ whiteSpace: "nowrap" }}>
                    {q?.error ? "error" : s ? formatPercent(s.passing_fraction ?? null) : "…"}
                  </Table.Td>
                  <Table.Td>{formatCount(s?.pass)}</Table.Td>
                  <Table.Td>{formatCount(s?.fail)}</Table.Td>
                  <Table.Td data-testid={`excepted-${f.id}`}>{formatCount(s?.excepted)}</Table.Td>
                  <Table.Td>{formatCount(s?.critical_failing)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

// HostTrend charts the host's passing percentage under one framework over time.
function HostTrend({ hostId, framework, asOf, interval, onInterval }: {
  hostId: string;
  framework: string;
  asOf: string | undefined;
  interval: TrendInterval;
  onInterval: (i: TrendInterval) => void;
}) {
  const trend = useQuery({
    queryKey: ["compliance", "host", hostId, "trend", framework, interval, asOf ?? null],
    queryFn: () =>
      unwrap(
        api.GET("/hosts/{id}/compliance/trend", {
          params: { path: { id: hostId }, query: { framework, interval, until: asOf, since: trendSince(interval, asOf) } },
        }),
      ),
  });
  const data = useMemo(() => trendSeries(trend.data?.points ?? [], interval), [trend.data, interval]);
  const any = data.some((p) => p.score !== null);
  return (
    <Card withBorder component="section" aria-label="Compliance trend">
      <Group justify="space-between" mb="sm" align="flex-end">
        <Title order={2} size="h4">
          Compliance trend
        </Title>
        <Select
          label="Interval"
          size="xs"
          data={[
            { value: "hour", label: "Hourly, 2 days" },
            { value: "day", label: "Daily, 30 days" },
            { value: "week", label: "Weekly, 30 days" },
          ]}
          value={interval}
          allowDeselect={false}
          onChange={(v) => v && onInterval(v as TrendInterval)}
          w={170}
        />
      </Group>
      <ErrorAlert error={trend.error} />
      {trend.isPending && <Loader role="status" size="sm" aria-label="Loading trend" />}
      {trend.data && !any && (
        <Text size="sm" c="dimmed">
          No result in this period: the trend starts with the host&apos;s first scan.
        </Text>
      )}
      {trend.data && any && (
        <div role="img" aria-label="Passing percentage of the host over time" data-testid="host-trend">
          <LineChart
            h={180}
            data={data}
            dataKey="at"
            series={[{ name: "score", label: "Passing (%)", color: "teal.6" }]}
            unit=" %"
            yAxisProps={{ domain: [0, 100] }}
            connectNulls={false}
            withDots={data.length <= 40}
          />
        </div>
      )}
    </Card>
  );
}

// ComplianceTab is the host's compliance: its score under each framework, the trend of
// the chosen one, and the result of each rule with the evidence behind it, now or as the
// results stood at a past instant (as_of). Everything chosen lives in the URL.
export function ComplianceTab({
  hostId,
  osFamily,
  osVersion,
}: {
  hostId: string;
  osFamily: string | null | undefined;
  osVersion?: string | null;
}) {
  const search = useSearch({ from: "/app/hosts/$hostId" });
  const navigate = useNavigate({ from: "/hosts/$hostId" });
  const frameworks = useQuery(frameworksQuery);
  const framework = search.framework ?? "all";
  const asOf = search.as_of;
  const filters = { framework, status: search.status, severity: search.severity, as_of: asOf };
  const query = useInfiniteQuery({
    queryKey: ["compliance", "host", hostId, "results", filters],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(
        api.GET("/hosts/{id}/compliance", {
          params: { path: { id: hostId }, query: { ...filters, limit: 200, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const summary = query.data?.pages[0]?.summary;
  const canRequest = useCan("exception:request");
  const [requestRule, setRequestRule] = useState<string>();
  const canRemediate = useCan("remediation:request");
  // The rules a remediation request starts with: one row's, or none (chosen in the form).
  const [remediate, setRemediate] = useState<string[]>();
  const columns = useMemo<ListColumn<RuleResult>[]>(
    () => [
      {
        id: "rule",
        header: "Rule",
        cell: ({ row }) => (
          <Stack gap={0}>
            <AnchorLink
              from="/hosts/$hostId"
              to="/hosts/$hostId"
              params={{ hostId }}
              search={(s) => ({ ...s, evidence: row.original.rule_id, scan: row.original.scan_id })}
            >
              {row.original.title}
              <VisuallyHidden> (evidence)</VisuallyHidden>
            </AnchorLink>
            <Text size="xs" c="dimmed">{row.original.rule_id}</Text>
          </Stack>
        ),
      },
      ...resultColumns<RuleResult>(),
      {
        id: "exception",
        header: "Exception",
        cell: ({ row }) =>
          row.original.exception_id ? (
            <AnchorLink to="/exceptions" search={{ exception: row.original.exception_id }} data-testid="excepted-link">
              excepted
              <VisuallyHidden> (see the exception)</VisuallyHidden>
            </AnchorLink>
          ) : row.original.status === "fail" && !asOf && canRequest ? (
            <Button size="compact-xs" variant="subtle" onClick={() => setRequestRule(row.original.rule_id)} data-testid="request-exception">
              Request exception
              <VisuallyHidden> for {row.original.rule_id}</VisuallyHidden>
            </Button>
          ) : null,
      },
      {
        id: "remediation",
        header: "Remediation",
        cell: ({ row }) =>
          row.original.status === "fail" && !asOf && canRemediate ? (
            <Button size="compact-xs" variant="subtle" onClick={() => setRemediate([row.original.rule_id])} data-testid="request-remediation">
              Remediate
              <VisuallyHidden> {row.original.rule_id}</VisuallyHidden>
            </Button>
          ) : null,
      },
    ],
    [hostId, asOf, canRequest, canRemediate],
  );
  const failing = useMemo(
    () => rows.filter((r) => r.status === "fail").map((r) => ({ value: r.rule_id, label: `${r.title} (${r.rule_id})` })),
    [rows],
  );
  type Search = typeof search;
  const set = (patch: Partial<Search>) => void navigate({ search: (s) => ({ ...s, ...patch }) });
  return (
    <Stack>
      <Group align="flex-end">
        <TextInput
          type="datetime-local"
          label="As of"
          description={asOf ? `Results as they stood ${formatDateTime(asOf)}` : "Now"}
          value={isoToLocalInput(asOf)}
          onChange={(e) => {
            const iso = localInputToIso(e.currentTarget.value);
            if (iso || e.currentTarget.value === "") set({ as_of: iso, evidence: undefined, scan: undefined });
          }}
          w={240}
        />
        {asOf && (
          <Button variant="default" onClick={() => set({ as_of: undefined, evidence: undefined, scan: undefined })}>
            Back to now
          </Button>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <FrameworkScores
          hostId={hostId}
          osFamily={osFamily}
          osVersion={osVersion}
          asOf={asOf}
          selected={framework}
          onSelect={(f) => set({ framework: f === "all" ? undefined : f })}
        />
        <HostTrend
          hostId={hostId}
          framework={framework}
          asOf={asOf}
          interval={search.interval ?? "day"}
          onInterval={(i) => set({ interval: i === "day" ? undefined : i })}
        />
      </SimpleGrid>
      <Title order={2} size="h4">
        Rule results
      </Title>
      <Group align="flex-end">
        <Select
          label="Framework"
          data={[
            { value: "all", label: "All rules" },
            ...(frameworks.data?.items ?? []).filter((f) => f.id !== "all").map((f) => ({ value: f.id, label: f.name })),
          ]}
          value={framework}
          allowDeselect={false}
          searchable
          onChange={(v) => set({ framework: v && v !== "all" ? v : undefined })}
          w={300}
        />
        <Select
          label="Result"
          data={[{ value: "", label: "Any" }, ...RESULT_STATUSES.map((s) => ({ value: s, label: s }))]}
          value={search.status ?? ""}
          onChange={(v) => set({ status: (v || undefined) as Search["status"] })}
          w={140}
        />
        <Select
          label="Severity"
          data={[{ value: "", label: "Any" }, ...SEVERITIES.map((s) => ({ value: s, label: s }))]}
          value={search.severity ?? ""}
          onChange={(v) => set({ severity: (v || undefined) as Search["severity"] })}
          w={140}
        />
        {canRemediate && !asOf && failing.length > 0 && (
          <Button variant="light" onClick={() => setRemediate([])} data-testid="remediate-failing">
            Remediate failing rules…
          </Button>
        )}
        {summary && (
          <Text size="sm" c="dimmed" data-testid="host-compliance-summary">
            {formatPercent(summary.passing_fraction ?? null)} passing · {summary.pass} pass · {summary.fail} fail ·{" "}
            {summary.skipped} skipped · {summary.error} error · {summary.excepted} excepted (neither pass nor fail)
          </Text>
        )}
      </Group>
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Rule results"
        testId="host-results"
        columns={columns}
        rows={rows}
        getRowId={(r) => r.rule_id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No results: the host has not been scanned, or nothing matches these filters."
        height="calc(100vh - 380px)"
      />
      <Drawer opened={!!requestRule} onClose={() => setRequestRule(undefined)} position="right" size="md" title="Request an exception">
        {requestRule && <ExceptionForm hostId={hostId} ruleId={requestRule} onDone={() => setRequestRule(undefined)} />}
      </Drawer>
      <Modal opened={!!remediate} onClose={() => setRemediate(undefined)} title="Request remediation" size="xl">
        {remediate && (
          <RemediationForm
            hostId={hostId}
            ruleIds={remediate}
            ruleOptions={failing}
            onDone={(j) => {
              setRemediate(undefined);
              notifications.show({ color: "teal", message: `Remediation requested: ${j.status.replace("_", " ")}.` });
              void navigate({ to: "/remediation/$requestId", params: { requestId: j.id } });
            }}
          />
        )}
      </Modal>
      <EvidenceDrawer scanId={search.scan} ruleId={search.evidence} onClose={() => set({ evidence: undefined, scan: undefined })} />
    </Stack>
  );
}
