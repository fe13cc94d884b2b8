import { Badge, Button, Group, Modal, Progress, Stack, Table, TagsInput, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { FormError } from "../components/FormError";

type Found = Schemas["DiscoveredHost"];

const FINISHED = new Set(["completed", "failed"]);

// StartForm queues a CIDR scan; a range the server refuses (too large, malformed) is shown
// on the field.
function StartForm({ onStarted }: { onStarted: (id: string) => void }) {
  const [formError, setFormError] = useState<string>();
  const form = useForm<{ cidr: string; ports: string[] }>({ mode: "controlled", initialValues: { cidr: "", ports: ["22"] } });
  const start = useMutation({
    mutationFn: (v: { cidr: string; ports: string[] }) =>
      unwrap(
        api.POST("/discovery/cidr", {
          body: { cidr: v.cidr.trim(), ports: v.ports.length ? v.ports.map(Number) : undefined },
          params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        }),
      ),
    onSuccess: (scan) => onStarted(scan.id),
    onError: (err) => setFormError(applyFieldError(err, form, ["cidr", "ports"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), start.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <Group align="flex-start" grow>
          <TextInput label="Network" description="An IPv4 or IPv6 range, such as 10.0.1.0/24." withAsterisk {...form.getInputProps("cidr")} />
          <TagsInput label="SSH ports" description="Press Enter after each port." {...form.getInputProps("ports")} />
        </Group>
        <Group justify="flex-end">
          <Button type="submit" loading={start.isPending}>
            Start discovery
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// RegisterForm adds a found SSH server to the inventory.
function RegisterForm({ scanId, found, onDone }: { scanId: string; found: Found; onDone: (h: Schemas["HostResponse"]) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { hostname: "", display_name: "", environment: "", username: "" } });
  const register = useMutation({
    mutationFn: (v: { hostname: string; display_name: string; environment: string; username: string }) => {
      const body: Schemas["DiscoveredHostRegisterRequest"] = {};
      if (v.hostname.trim()) body.hostname = v.hostname.trim();
      if (v.display_name.trim()) body.display_name = v.display_name.trim();
      if (v.environment.trim()) body.environment = v.environment.trim();
      if (v.username.trim()) body.username = v.username.trim();
      return unwrap(
        api.POST("/discovery/{scan_id}/hosts/{address}:register", {
          params: { path: { scan_id: scanId, address: found.address } },
          body,
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      );
    },
    onSuccess: (h) => {
      void qc.invalidateQueries({ queryKey: ["discovery", scanId] });
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      onDone(h);
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["hostname", "display_name", "environment", "username"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), register.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Hostname" placeholder={found.address} {...form.getInputProps("hostname")} />
        <Group grow align="flex-start">
          <TextInput label="SSH user" {...form.getInputProps("username")} />
          <TextInput label="Environment" placeholder="default" {...form.getInputProps("environment")} />
        </Group>
        <TextInput label="Display name" {...form.getInputProps("display_name")} />
        <Group justify="flex-end">
          <Button type="submit" loading={register.isPending}>
            Add to inventory
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// DiscoveryPage scans a network range for SSH servers and registers what it finds. The
// running scan is in the URL; its progress moves with the event stream (topic discovery).
export function DiscoveryPage() {
  const { scan: scanId } = useSearch({ from: "/app/discovery" });
  const navigate = useNavigate({ from: "/discovery" });
  const canWrite = useCan("host:write");
  const [registering, setRegistering] = useState<Found>();
  const { data: scan, error } = useQuery({
    queryKey: ["discovery", scanId ?? ""],
    queryFn: () => unwrap(api.GET("/discovery/{scan_id}", { params: { path: { scan_id: scanId ?? "" } } })),
    enabled: !!scanId,
    // Events drive updates; a slow poll covers a stream that is down.
    refetchInterval: (q) => (q.state.data && FINISHED.has(q.state.data.status) ? false : 5000),
  });
  const pct = scan && scan.total > 0 ? (scan.scanned / scan.total) * 100 : 0;
  return (
    <>
      <PageHeader title="Network discovery" description="Find SSH servers in a network range and add them to the inventory." />
      <Stack>
        {canWrite && <StartForm onStarted={(id) => void navigate({ search: { scan: id } })} />}
        <ErrorAlert error={error} />
        {scan && (
          <Stack gap="xs" component="section" aria-label="Discovery progress">
            <Group gap="xs">
              <Text fw={600}>{scan.cidr}</Text>
              <Badge variant="light" color={scan.status === "failed" ? "red" : scan.status === "completed" ? "teal" : "blue"} miw="fit-content" data-testid="discovery-status">
                {scan.status}
              </Badge>
              <Text size="sm" c="dimmed">
                {scan.scanned} of {scan.total} addresses, {scan.found} found · started {formatDateTime(scan.started_at ?? scan.created_at)}
              </Text>
            </Group>
            <Progress value={FINISHED.has(scan.status) ? 100 : pct} animated={scan.status === "running"} aria-label="Discovery progress" />
            {scan.error && (
              <Text size="sm" c="var(--mantine-color-error)" role="alert">
                {scan.error}
              </Text>
            )}
            <Table aria-label="SSH servers found">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Address</Table.Th>
                  <Table.Th scope="col">SSH banner</Table.Th>
                  <Table.Th scope="col">Response</Table.Th>
                  <Table.Th scope="col">Inventory</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(scan.hosts ?? []).map((h) => (
                  <Table.Tr key={`${h.address}:${h.port}`}>
                    <Table.Td>{`${h.address}:${h.port}`}</Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace">
                        {h.ssh_banner ?? "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td>{h.response_time_ms != null ? `${h.response_time_ms} ms` : "—"}</Table.Td>
                    <Table.Td>
                      {h.registered_host_id ? (
                        <AnchorLink to="/hosts/$hostId" params={{ hostId: h.registered_host_id }}>
                          In inventory
                        </AnchorLink>
                      ) : canWrite ? (
                        <Button size="xs" onClick={() => setRegistering(h)}>
                          Add {h.address}
                        </Button>
                      ) : (
                        "—"
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {(scan.hosts ?? []).length === 0 && <Text c="dimmed">No SSH server found yet.</Text>}
          </Stack>
        )}
      </Stack>
      <Modal opened={!!registering} onClose={() => setRegistering(undefined)} title={`Add ${registering?.address ?? ""} to the inventory`}>
        {registering && scanId && (
          <RegisterForm
            scanId={scanId}
            found={registering}
            onDone={(h) => {
              setRegistering(undefined);
              notifications.show({ color: "teal", message: `Host ${h.hostname} added.` });
              void navigate({ to: "/hosts/$hostId", params: { hostId: h.id }, search: {} });
            }}
          />
        )}
      </Modal>
    </>
  );
}
