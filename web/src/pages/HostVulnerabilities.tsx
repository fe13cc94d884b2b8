import { Button, Drawer, Loader, Table, Text, VisuallyHidden } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { Can } from "../auth/Can";
import { ExposureBadge, SeverityBadge } from "../components/badges";
import { formatDateTime } from "../lib/format";
import { VulnerabilityExceptionForm } from "./VulnerabilityExceptionForm";

// HostVulnerabilitiesTab lists a host's open exposures, most severe first, matched from
// its last collected package inventory, each exposed or excepted (naming its exception);
// "Request exception" on a row asks for an exception of that advisory on this host or
// fleet-wide.
export function HostVulnerabilitiesTab({ hostId }: { hostId: string }) {
  const [excepting, setExcepting] = useState<{ id: string; aliases: string[] }>();
  const query = useInfiniteQuery({
    queryKey: ["vulnerabilities", "host", hostId],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/hosts/{host_id}/vulnerabilities", { params: { path: { host_id: hostId }, query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  if (query.isPending) return <Loader role="status" size="sm" aria-label="Loading vulnerabilities" />;
  if (query.error) return <ErrorAlert error={query.error} />;
  if (rows.length === 0) return <Text c="dimmed">No open exposure: no imported advisory matches this host's packages.</Text>;
  return (
    <>
      <Table striped data-testid="host-vulnerabilities">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Severity</Table.Th>
            <Table.Th>Advisory</Table.Th>
            <Table.Th>Package</Table.Th>
            <Table.Th>Installed</Table.Th>
            <Table.Th>Fixed</Table.Th>
            <Table.Th>Fix installable</Table.Th>
            <Table.Th>First seen</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((v) => (
            <Table.Tr key={v.id + v.package}>
              <Table.Td>
                <SeverityBadge severity={v.severity} />
              </Table.Td>
              <Table.Td>
                <AnchorLink to="/vulnerabilities" search={{ vuln: v.id }}>
                  {v.id}
                </AnchorLink>
                <Text size="xs" c="dimmed">
                  {v.summary}
                </Text>
              </Table.Td>
              <Table.Td>{v.package}</Table.Td>
              <Table.Td>{v.installed_version}</Table.Td>
              <Table.Td>{v.fixed_version ?? "—"}</Table.Td>
              <Table.Td>{v.fix_installable ? "yes" : "no"}</Table.Td>
              <Table.Td>{formatDateTime(v.first_seen)}</Table.Td>
              <Table.Td>
                <ExposureBadge status={v.status} exceptionId={v.exception_id} />
              </Table.Td>
              <Table.Td>
                {v.status === "exposed" && (
                  <Can permission="exception:request">
                    <Button size="xs" variant="light" onClick={() => setExcepting({ id: v.id, aliases: v.aliases })} data-testid="vuln-request-exception">
                      Request exception
                    </Button>
                  </Can>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Drawer opened={!!excepting} onClose={() => setExcepting(undefined)} position="right" size="md" title="Request an exception of a vulnerability">
        {excepting && (
          <VulnerabilityExceptionForm advisoryId={excepting.id} aliases={excepting.aliases} hostId={hostId} onDone={() => setExcepting(undefined)} />
        )}
      </Drawer>
    </>
  );
}
