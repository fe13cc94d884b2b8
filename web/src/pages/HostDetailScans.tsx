import { LineChart } from "@mantine/charts";
import { Button, Card, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { ScanStatusBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { ScanProgress } from "../components/ScanProgress";
import { formatDateTime } from "../lib/format";
import { scanScoreSeries } from "./HostDetailData";

// ScansTab is the host's scan history: the passing percentage of each completed scan on a
// chart, and the scans in a table, newest first, a server page at a time.
export function ScansTab({ hostId }: { hostId: string }) {
  const query = useInfiniteQuery({
    queryKey: ["scans", "list", { host_id: hostId }, "history"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/scans", { params: { query: { host_id: hostId, limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const scans = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const series = useMemo(
    () =>
      scanScoreSeries(scans).map((p) => ({
        ...p,
        label: new Date(p.at).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }),
      })),
    [scans],
  );
  if (query.isPending) return <Loader role="status" size="sm" aria-label="Loading scans" />;
  if (query.error) return <ErrorAlert error={query.error} />;
  if (scans.length === 0) return <Text c="dimmed">No scan yet: the history starts with the host&apos;s first scan.</Text>;
  return (
    <Stack>
      <Card withBorder component="section" aria-label="Score over scans">
        <Title order={2} size="h4" mb="sm">
          Score over scans
        </Title>
        {series.length === 0 ? (
          <Text size="sm" c="dimmed">No completed scan passed or failed a rule yet.</Text>
        ) : (
          <div role="img" aria-label={`Passing percentage of the host's last ${series.length} completed scans`} data-testid="scan-history-chart">
            <LineChart
              h={180}
              data={series}
              dataKey="label"
              series={[{ name: "score", label: "Passing (%)", color: "indigo.6" }]}
              unit=" %"
              yAxisProps={{ domain: [0, 100] }}
              withDots
            />
          </div>
        )}
      </Card>
      <Group justify="space-between">
        <Title order={2} size="h4">
          Scans
        </Title>
        <AnchorLink to="/scans" search={{ host_id: hostId }} size="sm">
          Every scan of this host
        </AnchorLink>
      </Group>
      <Table aria-label="Scans of this host">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Requested</Table.Th>
            <Table.Th scope="col">Trigger</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Progress</Table.Th>
            <Table.Th scope="col">Pass / fail</Table.Th>
            <Table.Th scope="col">Changed</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {scans.map((s) => (
            <Table.Tr key={s.id}>
              <Table.Td>
                <AnchorLink to="/scans/$scanId" params={{ scanId: s.id }}>
                  {formatDateTime(s.created_at)}
                </AnchorLink>
              </Table.Td>
              <Table.Td>{s.trigger}</Table.Td>
              <Table.Td><ScanStatusBadge status={s.status} /></Table.Td>
              <Table.Td><ScanProgress scan={s} /></Table.Td>
              <Table.Td>{`${s.counts.pass} / ${s.counts.fail}`}</Table.Td>
              <Table.Td>{s.changed}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {query.hasNextPage && (
        <Group>
          <Button variant="default" size="xs" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
            Load older scans
          </Button>
        </Group>
      )}
    </Stack>
  );
}
