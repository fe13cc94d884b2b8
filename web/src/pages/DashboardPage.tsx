import { AreaChart } from "@mantine/charts";
import { Card, Group, Loader, Progress, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useCallback, useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { frameworksQuery } from "../api/queries";
import { ResultBadge, SeverityBadge } from "../components/badges";
import { useCan } from "../auth/session";
import { useLiveEvents, useLiveStatus } from "../events/LiveEvents";
import type { ServerEvent } from "../events/sse";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { formatCount, formatDateTime, formatPercent } from "../lib/format";

function Panel({ title, children, testId }: { title: string; children: React.ReactNode; testId?: string }) {
  return (
    <Card withBorder padding="md" data-testid={testId} component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}

function ScorePanel({ framework }: { framework: string }) {
  const score = useQuery({
    queryKey: ["fleet", "score", framework],
    queryFn: () => unwrap(api.GET("/fleet/score", { params: { query: { framework } } })),
  });
  const trend = useQuery({
    queryKey: ["fleet", "trend", framework],
    queryFn: () => unwrap(api.GET("/fleet/compliance/trend", { params: { query: { framework, interval: "day" } } })),
  });
  const points = (trend.data?.points ?? []).map((p) => ({
    at: new Date(p.at).toLocaleDateString(undefined, { month: "short", day: "numeric" }),
    score: p.passing_fraction === null || p.passing_fraction === undefined ? null : Math.round(p.passing_fraction * 1000) / 10,
  }));
  // Days with a score; with only a few, each is drawn as a dot (one day alone is no line).
  const scored = points.filter((p) => p.score !== null).length;
  return (
    <Panel title="Fleet compliance score" testId="panel-score">
      {score.error && <ErrorAlert error={score.error} />}
      <Group align="flex-end" gap="xl">
        <Stack gap={0}>
          <AnchorLink to="/hosts" fz={40} fw={700} lh={1.1} data-testid="fleet-score">
            {/* With no result yet the API's fraction is 0; say "none" rather than 0 %. */}
            {score.data ? (score.data.total_evaluations === 0 ? "—" : formatPercent(score.data.passing_fraction)) : "…"}
          </AnchorLink>
          <Text size="sm" c="dimmed">
            passing, over {formatCount(score.data?.total_evaluations)} results
          </Text>
        </Stack>
      </Group>
      <Title order={3} size="h6" mt="md" mb="xs">
        Last 30 days
      </Title>
      {trend.error ? (
        <ErrorAlert error={trend.error} />
      ) : trend.isPending ? (
        <Loader role="status" size="sm" aria-label="Loading trend" />
      ) : scored === 0 ? (
        <Text size="sm" c="dimmed">
          No scans yet: the trend starts with the first scan.
        </Text>
      ) : (
        // The chart is one image to assistive technology, named by what it shows; the
        // numbers are in the score above and on the hosts' pages.
        <div role="img" aria-label={`Compliance score per day over the last 30 days, latest ${points.at(-1)?.score ?? "unknown"} %`}>
          <AreaChart
            h={200}
            data={points}
            dataKey="at"
            series={[{ name: "score", label: "Passing %", color: "indigo.6" }]}
            yAxisProps={{ domain: [0, 100] }}
            unit=" %"
            connectNulls
            withDots={scored <= 3}
          />
        </div>
      )}
    </Panel>
  );
}

function LivenessPanel() {
  const { data, error } = useQuery({
    queryKey: ["fleet", "liveness"],
    queryFn: () => unwrap(api.GET("/fleet/liveness")),
  });
  const rows = data
    ? [
        { name: "Reachable", value: data.reachable, color: "teal" },
        { name: "Unreachable", value: data.unreachable, color: "red" },
        { name: "Unknown", value: data.unknown, color: "yellow" },
        { name: "Never probed", value: data.never_probed, color: "gray" },
      ]
    : [];
  const total = rows.reduce((s, r) => s + r.value, 0);
  return (
    <Panel title="Liveness" testId="panel-liveness">
      {error && <ErrorAlert error={error} />}
      {total > 0 && (
        // The bar repeats the table below for the eye; screen readers read the table.
        <Progress.Root size="lg" mb="sm" aria-hidden="true">
          {rows.map((r) => (
            <Progress.Section key={r.name} value={(r.value / total) * 100} color={r.color} />
          ))}
        </Progress.Root>
      )}
      <Group align="center" wrap="nowrap">
        <Table aria-label="Hosts by reachability">
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.name}>
                <Table.Th scope="row" fw={400}>
                  {r.name}
                </Table.Th>
                <Table.Td ta="right">
                  <AnchorLink to="/hosts" aria-label={`${r.value} ${r.name.toLowerCase()} hosts`}>
                    {formatCount(r.value)}
                  </AnchorLink>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Group>
    </Panel>
  );
}

function TopRules({ framework }: { framework: string }) {
  const { data, error } = useQuery({
    queryKey: ["fleet", "top-rules", framework],
    queryFn: () => unwrap(api.GET("/fleet/top-failing-rules", { params: { query: { framework, limit: 10 } } })),
  });
  return (
    <Panel title="Top failing rules" testId="panel-top-rules">
      {error && <ErrorAlert error={error} />}
      {data?.items.length === 0 && <Text c="dimmed" size="sm">No rule fails anywhere.</Text>}
      {data && data.items.length > 0 && (
        <Table aria-label="Rules failing on the most hosts">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Rule</Table.Th>
              <Table.Th scope="col" ta="right">Failing hosts</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.items.map((r) => (
              <Table.Tr key={r.rule_id}>
                <Table.Td>
                  <AnchorLink to="/rules/$ruleId" params={{ ruleId: r.rule_id }}>
                    {r.rule_id}
                  </AnchorLink>
                </Table.Td>
                <Table.Td ta="right">{formatCount(r.failing_host_count)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Panel>
  );
}

function TopHosts({ framework }: { framework: string }) {
  const { data, error } = useQuery({
    queryKey: ["fleet", "top-hosts", framework],
    queryFn: () => unwrap(api.GET("/fleet/top-failing-hosts", { params: { query: { framework, limit: 10 } } })),
  });
  return (
    <Panel title="Top failing hosts" testId="panel-top-hosts">
      {error && <ErrorAlert error={error} />}
      {data?.items.length === 0 && <Text c="dimmed" size="sm">No host fails a rule.</Text>}
      {data && data.items.length > 0 && (
        <Table aria-label="Hosts failing the most rules">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Host</Table.Th>
              <Table.Th scope="col" ta="right">Failing rules</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.items.map((h) => (
              <Table.Tr key={h.host_id}>
                <Table.Td>
                  <AnchorLink to="/hosts/$hostId" params={{ hostId: h.host_id }}>
                    <HostName id={h.host_id} />
                  </AnchorLink>
                </Table.Td>
                <Table.Td ta="right">
                  <AnchorLink
                    to="/hosts/$hostId"
                    params={{ hostId: h.host_id }}
                    search={{ tab: "compliance", status: "fail", framework: framework === "all" ? undefined : framework }}
                  >
                    {formatCount(h.failing_rule_count)}
                  </AnchorLink>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Panel>
  );
}

function RecentChanges({ framework }: { framework: string }) {
  const { data, error } = useQuery({
    queryKey: ["fleet", "changes", framework],
    queryFn: () => unwrap(api.GET("/fleet/recent-changes", { params: { query: { framework, limit: 10 } } })),
  });
  return (
    <Panel title="Recent changes" testId="panel-changes">
      {error && <ErrorAlert error={error} />}
      {data?.items.length === 0 && <Text c="dimmed" size="sm">No result changed recently.</Text>}
      {data && data.items.length > 0 && (
        <Table aria-label="Recent result changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">When</Table.Th>
              <Table.Th scope="col">Host</Table.Th>
              <Table.Th scope="col">Rule</Table.Th>
              <Table.Th scope="col">Now</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.items.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{formatDateTime(c.occurred_at)}</Table.Td>
                <Table.Td>
                  <AnchorLink to="/hosts/$hostId" params={{ hostId: c.host_id }} search={{ tab: "compliance" }}>
                    <HostName id={c.host_id} />
                  </AnchorLink>
                </Table.Td>
                <Table.Td>
                  <AnchorLink to="/rules/$ruleId" params={{ ruleId: c.rule_id }}>
                    {c.rule_id}
                  </AnchorLink>
                </Table.Td>
                <Table.Td>
                  <ResultBadge status={c.status} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Panel>
  );
}

// LiveActivity lists the events this tab received since the dashboard opened, newest
// first: what the fleet is doing right now.
function LiveActivity() {
  const [events, setEvents] = useState<ServerEvent[]>([]);
  const status = useLiveStatus();
  const add = useCallback((ev: ServerEvent) => setEvents((old) => [ev, ...old].slice(0, 15)), []);
  useLiveEvents(add);
  return (
    <Panel title="Live activity" testId="panel-live">
      {events.length === 0 ? (
        <Text c="dimmed" size="sm">
          {status === "open" ? "Connected: events appear here as they happen." : "Not connected to the event stream."}
        </Text>
      ) : (
        <Table aria-label="Live events">
          <Table.Tbody>
            {events.map((ev, i) => (
              <Table.Tr key={ev.id ?? i}>
                <Table.Td w={160}>{formatDateTime(ev.occurred_at)}</Table.Td>
                <Table.Td>{ev.topic}</Table.Td>
                <Table.Td>{ev.type}</Table.Td>
                <Table.Td>
                  {ev.host_id ? (
                    <AnchorLink to="/hosts/$hostId" params={{ hostId: ev.host_id }}>
                      <HostName id={ev.host_id} />
                    </AnchorLink>
                  ) : (
                    "—"
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Panel>
  );
}

const ALERT_SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;

// AlertsPanel counts the active alerts of each severity (up to 200 each), each count
// linking to the alert list filtered the same way.
function AlertsPanel() {
  const counts = useQueries({
    queries: ALERT_SEVERITIES.map((severity) => ({
      queryKey: ["alerts", "active-count", severity],
      queryFn: () => unwrap(api.GET("/alerts", { params: { query: { state: "active", severity, limit: 200 } } })),
    })),
  });
  const error = counts.find((c) => c.error)?.error;
  return (
    <Panel title="Active alerts" testId="panel-alerts">
      {error && <ErrorAlert error={error} />}
      <Table aria-label="Active alerts by severity">
        <Table.Tbody>
          {ALERT_SEVERITIES.map((severity, i) => {
            const page = counts[i]?.data;
            const n = page ? `${page.items.length}${page.next_cursor ? "+" : ""}` : "…";
            return (
              <Table.Tr key={severity}>
                <Table.Th scope="row" fw={400}>
                  <SeverityBadge severity={severity} />
                </Table.Th>
                <Table.Td ta="right">
                  <AnchorLink
                    to="/alerts"
                    search={{ state: "active", severity }}
                    aria-label={`${n} active ${severity} alerts`}
                    data-testid={`alerts-${severity}`}
                  >
                    {n}
                  </AnchorLink>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Panel>
  );
}

// DashboardPage is the fleet at a glance for one framework (the URL holds which). Every
// number links to the list behind it.
export function DashboardPage() {
  const { framework: fw } = useSearch({ from: "/app/" });
  const framework = fw ?? "all";
  const navigate = useNavigate({ from: "/" });
  const frameworks = useQuery(frameworksQuery);
  const canAlerts = useCan("alert:read");
  const options = [
    { value: "all", label: "All rules" },
    ...(frameworks.data?.items ?? []).filter((f) => f.id !== "all").map((f) => ({ value: f.id, label: f.name })),
  ];
  return (
    <>
      <PageHeader
        title="Dashboard"
        description="Compliance and liveness across the fleet."
        actions={
          <Select
            label="Framework"
            data={options}
            value={framework}
            allowDeselect={false}
            onChange={(v) => void navigate({ search: { framework: v && v !== "all" ? v : undefined } })}
            w={260}
          />
        }
      />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <ScorePanel framework={framework} />
        <LivenessPanel />
        <TopRules framework={framework} />
        <TopHosts framework={framework} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md" mt="md">
        <RecentChanges framework={framework} />
        <LiveActivity />
        {canAlerts && <AlertsPanel />}
      </SimpleGrid>
    </>
  );
}
