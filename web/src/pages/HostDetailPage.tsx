import { Button, Card, Group, Loader, Modal, SimpleGrid, Stack, Table, Tabs, Text, Title } from "@mantine/core";
import { LineChart } from "@mantine/charts";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import { hostQuery } from "../api/queries";
import { useCan } from "../auth/session";
import { ReachabilityBadge } from "../components/badges";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink, ButtonLink } from "../components/links";
import { Can } from "../auth/Can";
import { PageHeader } from "../components/PageHeader";
import { formatCount, formatDateTime, formatPercent, formatRelative, passingFraction } from "../lib/format";
import { ActivityTab } from "./HostDetailActivity";
import { ComplianceTab } from "./HostDetailCompliance";
import { CredentialCard, MaintenanceSwitch, SystemInfoCard } from "./HostDetailOverview";
import { ScansTab } from "./HostDetailScans";
import { HostKeysTab, IntelligenceTab } from "./HostSecurityTabs";
import { HostVulnerabilitiesTab } from "./HostVulnerabilities";
import { HostCertificatesTab } from "./CertificatesPage";
import { AddHostForm } from "./HostsPage";
import { MaintenanceWindows } from "./MaintenanceWindows";

type HostTab = "compliance" | "scans" | "intelligence" | "vulnerabilities" | "keys" | "certificates" | "maintenance" | "activity";

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <Table.Th scope="row" fw={500} w={180}>
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </>
  );
}

// LivenessHistory charts the host's probe response times and lists its last state changes
// (GET /hosts/{id}/monitoring/history, newest first).
function LivenessHistory({ hostId }: { hostId: string }) {
  const { data, error, isPending } = useQuery({
    queryKey: ["hosts", "detail", hostId, "monitoring"],
    queryFn: () =>
      unwrap(api.GET("/hosts/{host_id}/monitoring/history", { params: { path: { host_id: hostId }, query: { limit: 100 } } })),
  });
  const entries = data?.entries ?? [];
  const points = [...entries].reverse().map((e) => ({
    at: new Date(e.check_time).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }),
    ms: e.response_time_ms ?? null,
  }));
  return (
    <Card withBorder component="section" aria-label="Liveness history">
      <Title order={2} size="h4" mb="sm">
        Liveness history
      </Title>
      {isPending && <Loader role="status" size="sm" aria-label="Loading liveness history" />}
      <ErrorAlert error={error} />
      {data && entries.length === 0 && <Text size="sm" c="dimmed">No state change recorded yet.</Text>}
      {entries.length > 1 && (
        <div role="img" aria-label="Probe response time over the recorded state changes">
          <LineChart
            h={160}
            data={points}
            dataKey="at"
            series={[{ name: "ms", label: "Response time (ms)", color: "indigo.6" }]}
            unit=" ms"
            connectNulls
            withDots={false}
            mb="sm"
          />
        </div>
      )}
      {entries.length > 0 && (
        <Table aria-label="Liveness state changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">When</Table.Th>
              <Table.Th scope="col">State</Table.Th>
              <Table.Th scope="col">Error</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.slice(0, 8).map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{formatDateTime(e.check_time)}</Table.Td>
                <Table.Td>
                  {e.previous_state ? `${e.previous_state} → ` : ""}
                  {e.monitoring_state}
                </Table.Td>
                <Table.Td>
                  <Text size="sm" lineClamp={1}>
                    {e.error_message || e.error_type || "—"}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

function Overview({ detail }: { detail: Schemas["HostDetailResponse"] }) {
  const h = detail.host;
  const l = detail.liveness;
  const c = detail.compliance_summary;
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <Card withBorder component="section" aria-label="Host">
        <Title order={2} size="h4" mb="sm">
          Host
        </Title>
        <Table aria-label="Host facts">
          <Table.Tbody>
            <Table.Tr><Fact label="Hostname">{h.hostname}</Fact></Table.Tr>
            <Table.Tr><Fact label="Address">{`${h.ip_address}:${h.port}`}</Fact></Table.Tr>
            <Table.Tr><Fact label="SSH user">{h.username || "—"}</Fact></Table.Tr>
            <Table.Tr><Fact label="Environment">{h.environment}</Fact></Table.Tr>
            <Table.Tr><Fact label="Platform">{[h.os_family, h.os_version].filter(Boolean).join(" ") || "not discovered yet"}</Fact></Table.Tr>
            <Table.Tr><Fact label="Tags">{(h.tags ?? []).join(", ") || "—"}</Fact></Table.Tr>
            <Table.Tr><Fact label="Maintenance">{h.maintenance_mode ? "yes" : "no"}</Fact></Table.Tr>
            <Table.Tr><Fact label="Added">{formatDateTime(h.created_at)}</Fact></Table.Tr>
          </Table.Tbody>
        </Table>
      </Card>
      <Stack>
        <Card withBorder component="section" aria-label="Liveness">
          <Title order={2} size="h4" mb="sm">
            Liveness
          </Title>
          {l ? (
            <Table aria-label="Liveness facts">
              <Table.Tbody>
                <Table.Tr><Fact label="Reachability"><ReachabilityBadge status={l.reachability_status} /></Fact></Table.Tr>
                <Table.Tr><Fact label="Monitoring state">{l.monitoring_state ?? "—"}</Fact></Table.Tr>
                <Table.Tr><Fact label="Last probe">{formatRelative(l.last_probe_at)}</Fact></Table.Tr>
                <Table.Tr><Fact label="Response time">{l.last_response_ms != null ? `${l.last_response_ms} ms` : "—"}</Fact></Table.Tr>
                <Table.Tr><Fact label="Privilege">{l.privilege ?? "—"}</Fact></Table.Tr>
              </Table.Tbody>
            </Table>
          ) : (
            <Text size="sm" c="dimmed">No probe has run yet.</Text>
          )}
        </Card>
        <Card withBorder component="section" aria-label="Compliance">
          <Title order={2} size="h4" mb="sm">
            Compliance
          </Title>
          <Group gap="xl">
            <Stack gap={0}>
              <Text fz={28} fw={700} data-testid="host-score">
                {formatPercent(passingFraction(c.passing, c.failing))}
              </Text>
              <Text size="xs" c="dimmed">{c.total > 0 ? "score" : "not scanned yet"}</Text>
            </Stack>
            {(["passing", "failing", "skipped", "error"] as const).map((k) => (
              <Stack gap={0} key={k}>
                <AnchorLink
                  to="/hosts/$hostId"
                  params={{ hostId: h.id }}
                  search={{ tab: "compliance", status: k === "passing" ? "pass" : k === "failing" ? "fail" : k }}
                  fz={20}
                  fw={600}
                  aria-label={`${c[k]} ${k} rules`}
                >
                  {formatCount(c[k])}
                </AnchorLink>
                <Text size="xs" c="dimmed">{k}</Text>
              </Stack>
            ))}
          </Group>
        </Card>
      </Stack>
      <SystemInfoCard hostId={h.id} />
      <CredentialCard hostId={h.id} />
      <LivenessHistory hostId={h.id} />
    </SimpleGrid>
  );
}

// HostDetailPage is one host: its facts, system, credential and liveness; its compliance
// per framework and per rule with the evidence behind each result; its scans, intelligence,
// SSH host keys and activity. The tab and filters live in the URL.
export function HostDetailPage() {
  const { hostId } = useParams({ from: "/app/hosts/$hostId" });
  const search = useSearch({ from: "/app/hosts/$hostId" });
  const navigate = useNavigate({ from: "/hosts/$hostId" });
  const qc = useQueryClient();
  const canScan = useCan("scan:execute");
  const canWrite = useCan("host:write");
  const canVuln = useCan("vulnerability:read");
  const connectivity = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/hosts/{id}/connectivity:check", {
          params: { path: { id: hostId }, header: { "Idempotency-Key": crypto.randomUUID() } },
        }),
      ),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ["hosts", "detail", hostId] });
      notifications.show({
        color: r.reachable && r.ssh_ok ? "teal" : "red",
        title: r.reachable && r.ssh_ok ? "Host reachable" : "Host not reachable",
        message: r.reachable && r.ssh_ok
          ? `SSH answered in ${r.response_time_ms ?? "?"} ms; commands run as ${r.privilege ?? "unknown"}.`
          : (r.error_message ?? r.error_type ?? "The probe failed."),
      });
    },
    onError: (err) => notifications.show({ color: "red", title: "Check failed", message: err.message }),
  });
  const discover = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/hosts/{id}/discovery:run", {
          params: { path: { id: hostId }, header: { "Idempotency-Key": crypto.randomUUID() } },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["hosts", "detail", hostId] });
      notifications.show({ color: "teal", message: "System information collected." });
    },
    onError: (err) => notifications.show({ color: "red", title: "Discovery failed", message: err.message }),
  });
  const { data, error, isPending } = useQuery(hostQuery(hostId));
  const scan = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/hosts/{id}/scans", {
          params: { path: { id: hostId } },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: ["scans"] });
      notifications.show({ color: "teal", message: "Scan queued." });
      void navigate({ to: "/scans/$scanId", params: { scanId: s.id }, search: {} });
    },
    onError: (err) => {
      const existing = err instanceof ApiError ? err.envelope?.detail?.["scan_id"] : undefined;
      if (typeof existing === "string") {
        void navigate({ to: "/scans/$scanId", params: { scanId: existing }, search: {} });
        return;
      }
      notifications.show({ color: "red", title: "Scan not started", message: err.message });
    },
  });
  const [editing, setEditing] = useState(false);
  const tab = search.tab ?? "overview";
  if (isPending) return <Loader role="status" aria-label="Loading host" />;
  if (error) {
    return (
      <>
        <PageHeader title="Host" />
        <ErrorAlert error={error} />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title={data.host.display_name || data.host.hostname}
        description={`${data.host.ip_address} · ${data.host.environment}`}
        actions={
          <>
            <MaintenanceSwitch host={data.host} />
            <Can permission="alert:read">
              <ButtonLink variant="default" to="/alerts" search={{ host_id: data.host.id }} data-testid="host-alerts">
                Alerts
              </ButtonLink>
            </Can>
            {canWrite && (
              <>
                <Button variant="default" onClick={() => setEditing(true)}>
                  Edit
                </Button>
                <Button variant="default" onClick={() => connectivity.mutate()} loading={connectivity.isPending}>
                  Check connectivity
                </Button>
                <Button variant="default" onClick={() => discover.mutate()} loading={discover.isPending}>
                  Discover system
                </Button>
              </>
            )}
            {canScan && (
              <Button onClick={() => scan.mutate()} loading={scan.isPending} data-testid="scan-now">
                Scan now
              </Button>
            )}
          </>
        }
      />
      <Modal opened={editing} onClose={() => setEditing(false)} title={`Edit ${data.host.hostname}`} size="lg">
        <AddHostForm
          host={data.host}
          onDone={() => {
            setEditing(false);
            notifications.show({ color: "teal", message: "Host saved." });
          }}
        />
      </Modal>
      <Tabs
        value={tab}
        onChange={(v) => void navigate({ search: (s) => ({ ...s, tab: v === "overview" ? undefined : (v as HostTab) }) })}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="compliance">Compliance</Tabs.Tab>
          <Tabs.Tab value="scans">Scans</Tabs.Tab>
          <Tabs.Tab value="intelligence">Intelligence</Tabs.Tab>
          {canVuln && (
            <Tabs.Tab value="vulnerabilities" data-testid="host-vulnerabilities-tab">
              Vulnerabilities
            </Tabs.Tab>
          )}
          <Tabs.Tab value="keys">Host keys</Tabs.Tab>
          <Tabs.Tab value="certificates">Certificates</Tabs.Tab>
          <Tabs.Tab value="maintenance">Maintenance</Tabs.Tab>
          <Tabs.Tab value="activity">Activity</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview">
          <Overview detail={data} />
        </Tabs.Panel>
        <Tabs.Panel value="compliance">
          <ComplianceTab hostId={hostId} osFamily={data.host.os_family} osVersion={data.host.os_version} />
        </Tabs.Panel>
        <Tabs.Panel value="scans">
          <ScansTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="intelligence">
          <IntelligenceTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="vulnerabilities">
          <HostVulnerabilitiesTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="keys">
          <HostKeysTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="certificates">
          <HostCertificatesTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="maintenance">
          <MaintenanceWindows owner={{ hostId }} />
        </Tabs.Panel>
        <Tabs.Panel value="activity">
          <ActivityTab hostId={hostId} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
