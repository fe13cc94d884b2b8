import { Badge, Card, Loader, Switch, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime, formatRelative } from "../lib/format";

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" fw={500} w={180}>
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

const orDash = (v: string | number | null | undefined) => (v === null || v === undefined || v === "" ? "—" : String(v));

function gb(used: number | null | undefined, total: number | null | undefined, free: number | null | undefined): string {
  if (total == null) return "—";
  const parts = [`${total} GB`];
  if (used != null) parts.push(`${used} GB used`);
  if (free != null) parts.push(`${free} GB free`);
  return parts.join(", ");
}

// SystemInfoCard shows what the last discovery found on the host (GET /hosts/{id}/system-info;
// a 404 means it was not discovered yet).
export function SystemInfoCard({ hostId }: { hostId: string }) {
  const { data, error, isPending } = useQuery({
    queryKey: ["hosts", "detail", hostId, "system-info"],
    queryFn: () => unwrap(api.GET("/hosts/{id}/system-info", { params: { path: { id: hostId } } })),
    retry: false,
  });
  const notYet = error instanceof ApiError && error.status === 404;
  return (
    <Card withBorder component="section" aria-label="System">
      <Title order={2} size="h4" mb="sm">
        System
      </Title>
      {isPending && <Loader role="status" size="sm" aria-label="Loading system information" />}
      {notYet ? (
        <Text size="sm" c="dimmed" data-testid="system-info-empty">
          Not discovered yet: “Discover system” collects the operating system, kernel, memory and disks.
        </Text>
      ) : (
        <ErrorAlert error={error} />
      )}
      {data && (
        <Table aria-label="System information">
          <Table.Tbody>
            <Row label="Operating system">{orDash(data.os_pretty_name ?? data.os_name)}</Row>
            <Row label="Version">{orDash(data.os_version_full ?? data.os_version)}</Row>
            <Row label="Kernel">{orDash([data.kernel_name, data.kernel_release].filter(Boolean).join(" "))}</Row>
            <Row label="Architecture">{orDash(data.architecture)}</Row>
            <Row label="FQDN">{orDash(data.fqdn ?? data.hostname)}</Row>
            <Row label="Memory">
              {data.mem_total_mb == null
                ? "—"
                : `${data.mem_total_mb.toLocaleString()} MB${data.mem_available_mb != null ? `, ${data.mem_available_mb.toLocaleString()} MB available` : ""}`}
            </Row>
            <Row label="Disk">{gb(data.disk_used_gb, data.disk_total_gb, data.disk_free_gb)}</Row>
            <Row label="Firewall">{orDash([data.firewall_service, data.firewall_status].filter(Boolean).join(": "))}</Row>
            <Row label="SELinux / AppArmor">
              {`${orDash(data.selinux_status)} / ${data.apparmor_enabled == null ? "—" : data.apparmor_enabled ? "enabled" : "disabled"}`}
            </Row>
            <Row label="Collected">{formatDateTime(data.collected_at)}</Row>
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

// CredentialCard names the credential SSH would use for the host and why
// (POST /hosts/{host_id}/credentials:resolve, a read that never returns secrets). Users
// without credential:read see nothing.
export function CredentialCard({ hostId }: { hostId: string }) {
  const canRead = useCan("credential:read");
  const { data, error, isPending } = useQuery({
    queryKey: ["credentials", "resolve", hostId],
    queryFn: () =>
      unwrap(api.POST("/hosts/{host_id}/credentials:resolve", { params: { path: { host_id: hostId } } })),
    enabled: canRead,
    retry: false,
  });
  if (!canRead) return null;
  const none = error instanceof ApiError && error.status === 404;
  return (
    <Card withBorder component="section" aria-label="Credential">
      <Title order={2} size="h4" mb="sm">
        Credential
      </Title>
      {isPending && <Loader role="status" size="sm" aria-label="Loading credential" />}
      {none ? (
        <Text size="sm" c="dimmed" data-testid="credential-none">
          {error.message}
        </Text>
      ) : (
        <ErrorAlert error={error} />
      )}
      {data && (
        <>
          <Table aria-label="Credential used for this host">
            <Table.Tbody>
              <Row label="Name">{data.name}</Row>
              <Row label="Scope">
                <Badge variant="light" color={data.scope === "host" ? "indigo" : "gray"} miw="fit-content">
                  {data.scope === "host" ? "this host" : "system default"}
                </Badge>
              </Row>
              <Row label="SSH user">{data.username}</Row>
              <Row label="Authentication">{data.auth_method.replace("_", " ")}</Row>
              <Row label="Key fingerprint">
                {data.ssh_key_fingerprint ? (
                  <Text size="xs" ff="monospace">
                    {data.ssh_key_fingerprint}
                  </Text>
                ) : (
                  "—"
                )}
              </Row>
              <Row label="Updated">{formatRelative(data.updated_at ?? data.created_at)}</Row>
            </Table.Tbody>
          </Table>
          {data.resolution_reason && (
            <Text size="xs" c="dimmed" mt="xs">
              {data.resolution_reason}
            </Text>
          )}
        </>
      )}
    </Card>
  );
}

// MaintenanceSwitch turns the host's maintenance mode on or off (PUT
// /hosts/{host_id}/maintenance, host:write); others see a badge while it is on.
export function MaintenanceSwitch({ host }: { host: Schemas["HostResponse"] }) {
  const canWrite = useCan("host:write");
  const qc = useQueryClient();
  const set = useMutation({
    mutationFn: (enabled: boolean) =>
      unwrap(
        api.PUT("/hosts/{host_id}/maintenance", {
          params: { path: { host_id: host.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
          body: { enabled },
        }),
      ),
    onSuccess: (h, enabled) => {
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      void qc.invalidateQueries({ queryKey: ["activity"] });
      notifications.show({
        color: "teal",
        message:
          enabled === h.maintenance_mode
            ? enabled
              ? "Maintenance mode on: the host is not probed or scanned on schedule."
              : "Maintenance mode off."
            : "Saved, but the host's group keeps it in maintenance.",
      });
    },
    onError: (err) => notifications.show({ color: "red", title: "Maintenance mode not changed", message: err.message }),
  });
  if (!canWrite) {
    return host.maintenance_mode ? (
      <Badge color="yellow" variant="light" size="lg" miw="fit-content">
        In maintenance
      </Badge>
    ) : null;
  }
  return (
    <Switch
      label="Maintenance mode"
      checked={set.isPending ? set.variables : (host.maintenance_mode ?? false)}
      disabled={set.isPending}
      onChange={(e) => set.mutate(e.currentTarget.checked)}
      data-testid="maintenance-switch"
    />
  );
}
