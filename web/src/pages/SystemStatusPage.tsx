import { Badge, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { PageHeader } from "../components/PageHeader";
import { Stat } from "../components/Stat";
import { formatRelative } from "../lib/format";

type SystemStatus = Schemas["SystemStatus"];

// CHECK_LABELS name the readiness checks as people read them.
export const CHECK_LABELS: Record<string, string> = {
  database: "Database reachable",
  migrations: "Schema up to date",
  worker: "Worker heartbeat",
  managed_database: "Managed database running",
};

// checkLabel names a readiness check, falling back to its wire name.
export function checkLabel(name: string): string {
  return CHECK_LABELS[name] ?? name;
}

// metricsSummary says in one line where Prometheus metrics are served and how.
export function metricsSummary(m: SystemStatus["metrics"]): string {
  if (!m.enabled) return "Not served by this process";
  const scheme = m.tls ? "https" : "http";
  const auth = m.auth === "none" ? "no authentication" : `${m.auth} authentication`;
  return `${scheme}://${m.listen}/metrics (${auth})`;
}

// SystemStatusPage shows the installation's health: the readiness checks GET /ready runs,
// the build, the database and its connection pool, the workers and the job queue, and where
// metrics are served.
export function SystemStatusPage() {
  const { data, error, isPending } = useQuery({
    queryKey: ["system", "status"],
    queryFn: () => unwrap(api.GET("/system/status")),
    refetchInterval: 10_000,
  });
  return (
    <>
      <PageHeader title="System status" description="Readiness, build, database, workers and metrics of this installation." />
      {isPending && <Text c="dimmed">Loading…</Text>}
      {error && <ErrorAlert error={error} />}
      {data && <StatusView status={data} />}
    </>
  );
}

// StatusView renders one system status answer.
export function StatusView({ status }: { status: SystemStatus }) {
  const { build, database, workers, queue, metrics } = status;
  const pool = database.pool;
  return (
    <Stack gap="lg">
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Readiness
          </Title>
          <Badge color={status.ready ? "teal" : "red"} variant="light" data-testid="readiness">
            {status.ready ? "ready" : "not ready"}
          </Badge>
        </Group>
        <Table aria-label="Readiness checks">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Check</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Detail</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {status.checks.map((c) => (
              <Table.Tr key={c.name} data-testid={`check-${c.name}`}>
                <Table.Td>{checkLabel(c.name)}</Table.Td>
                <Table.Td>
                  <Badge color={c.status === "ok" ? "teal" : "red"} variant="light">
                    {c.status}
                  </Badge>
                </Table.Td>
                <Table.Td>{c.detail}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Build
          </Title>
          <SimpleGrid cols={2}>
            <Stat label="Version" value={build.openwatch} testId="build-version" />
            <Stat label="Commit" value={build.commit || "unknown"} />
            <Stat label="Go" value={build.go} />
            <Stat label="Rule engine" value={build.kensa} />
          </SimpleGrid>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Database
          </Title>
          <SimpleGrid cols={2}>
            <Stat label="Kind" value={database.managed ? "Managed (local cluster)" : "External"} testId="database-kind" />
            <Stat label="PostgreSQL" value={database.server_version || "not answering"} />
            <Stat label="Connections in use" value={`${pool.acquired_conns} of ${pool.total_conns} open (max ${pool.max_conns})`} testId="pool-connections" />
            <Stat label="Idle connections" value={pool.idle_conns} />
            <Stat label="Waits for a connection" value={`${pool.empty_acquire_count.toLocaleString()} of ${pool.acquire_count.toLocaleString()}`} />
            <Stat label="Time waiting" value={`${pool.acquire_wait_seconds.toFixed(3)} s`} />
          </SimpleGrid>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Workers
          </Title>
          <SimpleGrid cols={2}>
            <Stat label="Worker processes" value={workers.leader_alive ? "running" : "none seen"} testId="workers-alive" />
            <Stat label="Last seen" value={formatRelative(workers.last_seen ?? null)} />
            <Stat label="This process works jobs" value={workers.this_process_works_jobs ? "yes" : "no"} />
          </SimpleGrid>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Metrics
          </Title>
          <Text size="sm" data-testid="metrics-listener">
            {metrics.enabled ? <Code>{metricsSummary(metrics)}</Code> : metricsSummary(metrics)}
          </Text>
          <Text size="xs" c="dimmed" mt="xs">
            Prometheus scrapes GET /metrics on its own listener ([metrics] listen in the configuration).
          </Text>
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Job queue
        </Title>
        {queue.length === 0 ? (
          <Text c="dimmed" data-testid="queue-empty">
            No jobs waiting.
          </Text>
        ) : (
          <Table aria-label="Jobs not finished yet, per kind">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Job kind</Table.Th>
                <Table.Th ta="right">Not finished</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {queue.map((q) => (
                <Table.Tr key={q.kind} data-testid={`queue-${q.kind}`}>
                  <Table.Td>
                    <Code>{q.kind}</Code>
                  </Table.Td>
                  <Table.Td ta="right">{q.depth.toLocaleString()}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
