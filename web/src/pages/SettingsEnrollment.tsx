import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { formatDateTime } from "../lib/format";
import { ConfirmDialog } from "./AdminConfirm";

type Token = Schemas["EnrollmentToken"];
type Created = Schemas["EnrollmentTokenCreated"];
type Enrollment = Schemas["Enrollment"];
type Filter = "pending" | "all";

const tokensKey = ["enrollment-tokens"] as const;
const queueKey = (filter: Filter) => ["enrollments", filter] as const;

// CopyBlock shows a value once with a copy button.
function CopyBlock({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Code block className="mono-block" data-testid={testId}>
        {value}
      </Code>
      <Group>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button variant="default" size="xs" onClick={copy}>
              {copied ? "Copied" : `Copy ${label.toLowerCase()}`}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

interface TokenValues {
  name: string;
  max_uses: number;
  environment: string;
  tags: string[];
  auto_approve: boolean;
}

// TokenForm creates an enrollment token; its secret, the command line to run on hosts and
// the server's CA are shown once.
function TokenForm({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<TokenValues>({
    mode: "controlled",
    initialValues: { name: "", max_uses: 1, environment: "", tags: [], auto_approve: false },
  });
  const create = useMutation({
    mutationFn: (v: TokenValues) =>
      unwrap(
        api.POST("/admin/enrollment-tokens", {
          body: {
            name: v.name.trim(),
            max_uses: v.max_uses,
            auto_approve: v.auto_approve,
            tags: v.tags,
            ...(v.environment.trim() ? { environment: v.environment.trim() } : {}),
          },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: tokensKey }),
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "max_uses", "environment", "tags", "auto_approve"])),
  });
  if (create.data) {
    const c: Created = create.data;
    return (
      <Stack>
        <Alert color="teal" role="status" title="Enrollment token created">
          Copy the command now: the token is shown this once and cannot be read again. Run it as root on each host to enroll
          {c.ca_certificate ? ", with the server's CA saved beside it as openwatch-ca.crt" : ""}.
        </Alert>
        <CopyBlock label="Command" value={c.command} testId="enroll-command" />
        <CopyBlock label="Token" value={c.secret} testId="enroll-secret" />
        {c.ca_certificate && <CopyBlock label="CA certificate" value={c.ca_certificate} testId="enroll-ca" />}
        <Group justify="flex-end">
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), create.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Token name" withAsterisk {...form.getInputProps("name")} />
        <NumberInput label="Hosts it may enroll" min={1} max={100000} allowDecimal={false} {...form.getInputProps("max_uses")} />
        <TextInput label="Environment" placeholder="default" {...form.getInputProps("environment")} />
        <TagsInput label="Tags" {...form.getInputProps("tags")} />
        <Checkbox
          label="Approve requests at once (no queue)"
          {...form.getInputProps("auto_approve", { type: "checkbox" })}
        />
        <Text size="xs" c="dimmed">
          The token works for 24 hours.
        </Text>
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function TokenStatus({ status }: { status: Token["status"] }) {
  return (
    <Badge color={status === "active" ? "teal" : "gray"} variant="light" style={{ overflow: "visible" }}>
      {status.replace("_", " ")}
    </Badge>
  );
}

// TokensCard lists enrollment tokens, creates them and revokes them.
function TokensCard() {
  const canWrite = useCan("enrollment:write");
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Token>();
  const { data, error, isPending } = useQuery({
    queryKey: tokensKey,
    queryFn: () => unwrap(api.GET("/admin/enrollment-tokens", { params: { query: { limit: 100 } } })),
  });
  return (
    <Card withBorder component="section" aria-label="Enrollment tokens" maw={1100}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Enrollment tokens
        </Title>
        {canWrite && <Button onClick={() => setCreating(true)}>New enrollment token</Button>}
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        A host runs the enrollment script with a token once: it creates the scan account, trusts the OpenWatch user CA, and asks
        to be enrolled. Approved hosts join the token&apos;s environment and tags with their host key pinned.
      </Text>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : data.tokens.length === 0 ? (
        <Text c="dimmed">No enrollment tokens yet.</Text>
      ) : (
        <Table aria-label="Enrollment tokens">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Token</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Uses</Table.Th>
              <Table.Th>Environment</Table.Th>
              <Table.Th>Approval</Table.Th>
              <Table.Th>Expires</Table.Th>
              {canWrite && <Table.Th aria-label="Actions" />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.tokens.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{t.name}</Table.Td>
                <Table.Td ff="monospace">{t.token_prefix}…</Table.Td>
                <Table.Td miw={110}>
                  <TokenStatus status={t.status} />
                </Table.Td>
                <Table.Td>
                  {t.uses} / {t.max_uses}
                </Table.Td>
                <Table.Td>{t.environment}</Table.Td>
                <Table.Td>{t.auto_approve ? "automatic" : "queue"}</Table.Td>
                <Table.Td>{formatDateTime(t.expires_at)}</Table.Td>
                {canWrite && (
                  <Table.Td>
                    {t.status !== "revoked" && (
                      <Button size="xs" variant="default" color="red" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="New enrollment token" size="lg">
        {creating && <TokenForm onClose={() => setCreating(false)} />}
      </Modal>
      <ConfirmDialog
        opened={revoking !== undefined}
        onClose={() => setRevoking(undefined)}
        title={`Revoke ${revoking?.name ?? ""}`}
        confirmLabel="Revoke token"
        action={() =>
          unwrap(api.DELETE("/admin/enrollment-tokens/{id}", { params: { path: { id: revoking?.id ?? "" } } }))
        }
        onDone={() => {
          setRevoking(undefined);
          void qc.invalidateQueries({ queryKey: tokensKey });
          notifications.show({ color: "teal", message: "Enrollment token revoked." });
        }}
      >
        No further host can enroll with it. Requests already sent stay in the queue.
      </ConfirmDialog>
    </Card>
  );
}

function RequestStatus({ status }: { status: Enrollment["status"] }) {
  const color = status === "approved" ? "teal" : status === "denied" ? "red" : "yellow";
  return (
    <Badge color={color} variant="light" style={{ overflow: "visible" }}>
      {status}
    </Badge>
  );
}

// DenyDialog denies a request with a reason the host's script shows.
function DenyDialog({ request, onClose }: { request: Enrollment; onClose: () => void }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const deny = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/admin/enrollments/{id}:deny", { params: { path: { id: request.id } }, body: { reason: reason.trim() } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["enrollments"] });
      notifications.show({ color: "teal", message: `Denied the enrollment of ${request.hostname}.` });
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={`Deny ${request.hostname}`}>
      <Stack>
        <ErrorAlert error={deny.error} title="Not denied" />
        <Textarea label="Reason" withAsterisk description="The host's enrollment script shows it." value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={deny.isPending} disabled={reason.trim() === ""} onClick={() => deny.mutate()}>
            Deny
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// QueueCard lists enrollment requests and approves or denies pending ones.
function QueueCard() {
  const canWrite = useCan("enrollment:write");
  const qc = useQueryClient();
  const [filter, setFilter] = useState<Filter>("pending");
  const [denying, setDenying] = useState<Enrollment>();
  const { data, error, isPending } = useQuery({
    queryKey: queueKey(filter),
    queryFn: () =>
      unwrap(
        api.GET("/admin/enrollments", { params: { query: { limit: 100, ...(filter === "pending" ? { status: "pending" as const } : {}) } } }),
      ),
  });
  const approve = useMutation({
    mutationFn: (r: Enrollment) => unwrap(api.POST("/admin/enrollments/{id}:approve", { params: { path: { id: r.id } } })),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ["enrollments"] });
      void qc.invalidateQueries({ queryKey: tokensKey });
      notifications.show({ color: "teal", message: `Approved ${r.hostname}: it is in the inventory.` });
    },
  });
  return (
    <Card withBorder component="section" aria-label="Enrollment requests" maw={1100}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Enrollment requests
        </Title>
        <SegmentedControl
          aria-label="Show"
          value={filter}
          onChange={(v) => setFilter(v as Filter)}
          data={[
            { value: "pending", label: "Pending" },
            { value: "all", label: "All" },
          ]}
        />
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Approving adds the host with the key it presented pinned, signs its host certificate and lets OpenWatch log in with
        short-lived user certificates; its first scan starts once the host installed the certificate.
      </Text>
      <ErrorAlert error={approve.error} title="Not approved" />
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : data.enrollments.length === 0 ? (
        <Text c="dimmed">{filter === "pending" ? "No requests wait for a decision." : "No enrollment requests yet."}</Text>
      ) : (
        <Table aria-label="Enrollment requests">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Host</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>System</Table.Th>
              <Table.Th>Host key</Table.Th>
              <Table.Th>Token</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Asked</Table.Th>
              <Table.Th aria-label="Actions" />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.enrollments.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>
                  {r.host_id ? (
                    <Link to="/hosts/$hostId" params={{ hostId: r.host_id }}>
                      {r.hostname}
                    </Link>
                  ) : (
                    r.hostname
                  )}
                </Table.Td>
                <Table.Td ff="monospace">
                  {r.address}:{r.port}
                </Table.Td>
                <Table.Td>{r.facts.os_pretty_name ?? r.facts.os_id ?? "—"}</Table.Td>
                <Table.Td ff="monospace" title={r.host_key_fingerprint}>
                  {r.host_key_type} {r.host_key_fingerprint.slice(7, 19)}…
                </Table.Td>
                <Table.Td>{r.token_name}</Table.Td>
                <Table.Td miw={100}>
                  <RequestStatus status={r.status} />
                  {r.deny_reason && (
                    <Text size="xs" c="dimmed">
                      {r.deny_reason}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{formatDateTime(r.created_at)}</Table.Td>
                <Table.Td>
                  {canWrite && r.status === "pending" && (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" loading={approve.isPending && approve.variables?.id === r.id} onClick={() => approve.mutate(r)} aria-label={`Approve ${r.hostname}`}>
                        Approve
                      </Button>
                      <Button size="xs" variant="default" color="red" onClick={() => setDenying(r)} aria-label={`Deny ${r.hostname}`}>
                        Deny
                      </Button>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {denying && <DenyDialog request={denying} onClose={() => setDenying(undefined)} />}
    </Card>
  );
}

// EnrollmentPanels is Settings → Enrollment: enrollment tokens and the request queue.
export function EnrollmentPanels() {
  return (
    <Stack gap="lg">
      <QueueCard />
      <TokensCard />
    </Stack>
  );
}
