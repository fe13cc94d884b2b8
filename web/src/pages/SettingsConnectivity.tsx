import { Badge, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime, formatPercent, formatRelative } from "../lib/format";
import { Stat } from "../components/Stat";

type Breakdown = Schemas["ConnectivityBreakdown"];

// The monitoring states in the order people read them, best first.
export const BREAKDOWN_STATES: { key: keyof Breakdown; label: string; color: string }[] = [
  { key: "online", label: "Online", color: "teal" },
  { key: "degraded", label: "Degraded", color: "yellow" },
  { key: "critical", label: "Critical", color: "orange" },
  { key: "down", label: "Down", color: "red" },
  { key: "maintenance", label: "In maintenance", color: "blue" },
  { key: "never_probed", label: "Never probed", color: "gray" },
];

// breakdownRows are the states with their counts and share of all live hosts.
export function breakdownRows(b: Breakdown): { key: string; label: string; color: string; count: number; share: number | null }[] {
  const total = BREAKDOWN_STATES.reduce((n, s) => n + (b[s.key] ?? 0), 0);
  return BREAKDOWN_STATES.map((s) => {
    const count = b[s.key] ?? 0;
    return { ...s, count, share: total === 0 ? null : count / total };
  });
}

// ConnectivityStatus is the liveness poller at work: whether a worker runs, when the
// poller last ran, its probe counters and what waits.
export function ConnectivityStatus() {
  const { data, error, isPending } = useQuery({
    queryKey: ["fleet", "liveness", "status"],
    queryFn: () => unwrap(api.GET("/system/connectivity/status")),
    refetchInterval: 15_000,
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  const successRate = data.probe_count === 0 ? null : data.probe_success_count / data.probe_count;
  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Badge color={data.worker_running ? "teal" : "red"} variant="light" miw="fit-content" data-testid="worker-status">
          {data.worker_running ? "worker running" : "no worker seen"}
        </Badge>
        {data.maintenance_active && (
          <Badge color="blue" variant="light" miw="fit-content">
            polling paused (maintenance)
          </Badge>
        )}
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Poller last ran" value={formatRelative(data.last_tick_at)} testId="last-tick" />
        <Stat label="Last probe" value={formatRelative(data.last_probe_at)} />
        <Stat label="Hosts due now" value={data.hosts_due.toLocaleString()} testId="hosts-due" />
        <Stat label="Jobs waiting" value={data.queue_depth.toLocaleString()} />
        <Stat label="Probes" value={data.probe_count.toLocaleString()} testId="probe-count" />
        <Stat label="Succeeded" value={`${data.probe_success_count.toLocaleString()} (${formatPercent(successRate)})`} />
        <Stat label="Failed" value={data.probe_failure_count.toLocaleString()} />
        <Stat label="State changes" value={data.state_transition_count.toLocaleString()} />
      </SimpleGrid>
      {data.last_tick_at && (
        <Text size="xs" c="dimmed">
          Poller tick at {formatDateTime(data.last_tick_at)}.
        </Text>
      )}
    </Stack>
  );
}

// ConnectivityBreakdown counts the live hosts in each monitoring state.
export function ConnectivityBreakdown() {
  const { data, error, isPending } = useQuery({
    queryKey: ["fleet", "liveness", "breakdown"],
    queryFn: () => unwrap(api.GET("/fleet/connectivity/breakdown")),
    refetchInterval: 30_000,
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  return (
    <Table aria-label="Hosts by connectivity state" maw={480} verticalSpacing={4}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">State</Table.Th>
          <Table.Th scope="col" ta="right">
            Hosts
          </Table.Th>
          <Table.Th scope="col" ta="right">
            Share
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {breakdownRows(data).map((r) => (
          <Table.Tr key={r.key} data-testid={`breakdown-${r.key}`}>
            <Table.Th scope="row" fw={400}>
              <Badge color={r.color} variant="light" miw="fit-content">
                {r.label}
              </Badge>
            </Table.Th>
            <Table.Td ta="right">{r.count.toLocaleString()}</Table.Td>
            <Table.Td ta="right">{formatPercent(r.share)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ConnectivityPanels are the connectivity tab's read-outs, under its settings.
export function ConnectivityPanels() {
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} maw={1100}>
      <section aria-labelledby="conn-status-title">
        <Title order={2} size="h4" id="conn-status-title" mb="xs">
          Worker status
        </Title>
        <ConnectivityStatus />
      </section>
      <section aria-labelledby="conn-breakdown-title">
        <Title order={2} size="h4" id="conn-breakdown-title" mb="xs">
          Fleet connectivity
        </Title>
        <ConnectivityBreakdown />
      </section>
    </SimpleGrid>
  );
}
