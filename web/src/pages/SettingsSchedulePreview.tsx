import { Alert, Badge, Group, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { Schemas } from "../api/client";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { formatDateTime, formatPercent, formatRelative } from "../lib/format";
import { Stat } from "../components/Stat";

type Band = Schemas["ScanBand"];
const BANDS: Band[] = ["critical", "low", "partial", "compliant", "unknown"];
const BAND_COLOR: Record<Band, string> = { critical: "red", low: "orange", partial: "yellow", compliant: "teal", unknown: "gray" };

// whenDue says when a host is next scanned: "due now" when overdue, else how soon.
export function whenDue(nextScanAt: string, now = Date.now()): string {
  const t = new Date(nextScanAt).getTime();
  if (Number.isNaN(t)) return nextScanAt;
  return t <= now ? "due now" : formatRelative(nextScanAt, now);
}

// SchedulePreview shows what the scheduler would do with the configuration in force: the
// next scheduled scans (which host, when), the hosts in each band and those left alone.
export function SchedulePreview() {
  const { data, error, isPending } = useQuery({
    queryKey: ["scans", "schedule-preview"],
    queryFn: () => unwrap(api.GET("/system/scan/schedule-preview", { params: { query: { limit: 25 } } })),
    refetchInterval: 60_000,
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  return (
    <Stack>
      {!data.enabled && (
        <Alert color="yellow" data-testid="schedule-disabled">
          Scheduled scans are off; this is what the scheduler would do once they are on.
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Scheduled scans" value={data.enabled ? "on" : "off"} testId="schedule-enabled" />
        <Stat label="Due now" value={data.due_now.toLocaleString()} testId="schedule-due-now" />
        <Stat label="Not scheduled (unreachable or in maintenance)" value={data.not_schedulable.toLocaleString()} />
        <Stat label="As of" value={formatDateTime(data.generated_at)} />
      </SimpleGrid>
      <Group gap="xs" aria-label="Hosts by band" role="group">
        {BANDS.map((b) => (
          <Badge key={b} color={BAND_COLOR[b]} variant="light" miw="fit-content">
            {b}: {data.hosts_by_band[b].toLocaleString()}
          </Badge>
        ))}
      </Group>
      <Table aria-label="Next scheduled scans" striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Host</Table.Th>
            <Table.Th scope="col">Band</Table.Th>
            <Table.Th scope="col">Passing</Table.Th>
            <Table.Th scope="col">Last scan</Table.Th>
            <Table.Th scope="col">Next scan</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.items.map((it) => (
            <Table.Tr key={it.host_id}>
              <Table.Td>
                <AnchorLink to="/hosts/$hostId" params={{ hostId: it.host_id }}>
                  {it.hostname}
                </AnchorLink>
              </Table.Td>
              <Table.Td>
                <Badge color={BAND_COLOR[it.band]} variant="light" miw="fit-content">
                  {it.band}
                </Badge>
              </Table.Td>
              <Table.Td>{formatPercent(it.passing_fraction)}</Table.Td>
              <Table.Td>{it.last_scan_at ? formatDateTime(it.last_scan_at) : "never"}</Table.Td>
              <Table.Td title={formatDateTime(it.next_scan_at)}>{whenDue(it.next_scan_at)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {data.items.length === 0 && <Text c="dimmed">No host is scheduled: none is live, reachable and out of maintenance.</Text>}
    </Stack>
  );
}
