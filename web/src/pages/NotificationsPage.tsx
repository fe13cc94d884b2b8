import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  TextInput,
  VisuallyHidden,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";

type Channel = Schemas["NotificationChannel"];
type ChannelType = Schemas["NotificationChannelType"];
type Delivery = Schemas["NotificationDelivery"];
type DeliveryStatus = Schemas["NotificationDeliveryStatus"];
type TestResult = Schemas["NotificationTestResult"];

export const DELIVERY_STATUSES: DeliveryStatus[] = ["pending", "delivered", "failed", "dead", "skipped"];
const SEVERITIES: Schemas["NotificationSeverity"][] = ["info", "low", "medium", "high", "critical"];

interface ChannelValues {
  name: string;
  type: ChannelType;
  enabled: boolean;
  url: string;
  smtp_host: string;
  smtp_port: number | string;
  tls_mode: string;
  username: string;
  from: string;
  to: string;
  secret: string;
  min_severity: string;
  alert_types: string;
  host_tags: string;
}
// The form fields the server may name in a 400; "config.url" lands on "url" and so on.
const CHANNEL_FIELDS = ["name", "type", "url", "smtp_host", "smtp_port", "tls_mode", "username", "from", "to", "secret", "min_severity"] as const;
const FIELD_ALIASES: Record<string, string> = {
  "config.url": "url",
  "config.smtp_host": "smtp_host",
  "config.smtp_port": "smtp_port",
  "config.tls_mode": "tls_mode",
  "config.username": "username",
  "config.from": "from",
  "config.to": "to",
  "routing.min_severity": "min_severity",
};

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

function toBody(v: ChannelValues) {
  const config: Schemas["NotificationChannelConfig"] =
    v.type === "email"
      ? {
          smtp_host: v.smtp_host.trim(),
          smtp_port: Number(v.smtp_port) || 0,
          tls_mode: v.tls_mode as Schemas["NotificationChannelConfig"]["tls_mode"],
          from: v.from.trim(),
          to: list(v.to),
          ...(v.username.trim() ? { username: v.username.trim() } : {}),
        }
      : { url: v.url.trim() };
  const routing: Schemas["NotificationRouting"] = {
    min_severity: v.min_severity as Schemas["NotificationSeverity"],
    alert_types: list(v.alert_types),
    host_tags: list(v.host_tags),
  };
  return { name: v.name.trim(), enabled: v.enabled, config, routing, ...(v.secret ? { secret: v.secret } : {}) };
}

// ChannelForm adds a channel, or with `channel` edits it. The secret is write-only: the
// server only says whether one is stored, and a blank field keeps it.
export function ChannelForm({ channel, onDone }: { channel?: Channel; onDone: (c: Channel) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const c = channel?.config;
  const form = useForm<ChannelValues>({
    mode: "controlled",
    initialValues: {
      name: channel?.name ?? "",
      type: channel?.type ?? "webhook",
      enabled: channel?.enabled ?? true,
      url: c?.url ?? "",
      smtp_host: c?.smtp_host ?? "",
      smtp_port: c?.smtp_port ?? 587,
      tls_mode: c?.tls_mode ?? "starttls",
      username: c?.username ?? "",
      from: c?.from ?? "",
      to: (c?.to ?? []).join(", "),
      secret: "",
      min_severity: channel?.routing.min_severity ?? "info",
      alert_types: (channel?.routing.alert_types ?? []).join(", "),
      host_tags: (channel?.routing.host_tags ?? []).join(", "),
    },
  });
  const save = useMutation({
    mutationFn: (v: ChannelValues) =>
      channel
        ? unwrap(api.PATCH("/notifications/channels/{id}", { params: { path: { id: channel.id } }, body: toBody(v) }))
        : unwrap(api.POST("/notifications/channels", { body: { ...toBody(v), type: v.type } })),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: ["notifications"] });
      onDone(saved);
    },
    onError: (err) => setFormError(applyFieldError(err, form, CHANNEL_FIELDS, FIELD_ALIASES)),
  });
  const type = form.values.type;
  const secretLabel = type === "email" ? "SMTP password" : "Signing secret";
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        save.mutate(v);
      })}
    >
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" withAsterisk data-autofocus {...form.getInputProps("name")} />
        <Select
          label="Type"
          withAsterisk
          disabled={!!channel}
          allowDeselect={false}
          data={[
            { value: "webhook", label: "Webhook (signed JSON)" },
            { value: "slack", label: "Slack incoming webhook" },
            { value: "email", label: "Email (SMTP)" },
          ]}
          {...form.getInputProps("type")}
        />
        {type === "email" ? (
          <>
            <Group grow>
              <TextInput label="SMTP host" withAsterisk {...form.getInputProps("smtp_host")} />
              <NumberInput label="SMTP port" withAsterisk min={1} max={65535} {...form.getInputProps("smtp_port")} />
            </Group>
            <Select
              label="TLS"
              allowDeselect={false}
              data={[
                { value: "starttls", label: "STARTTLS" },
                { value: "tls", label: "TLS from the start" },
                { value: "none", label: "None (plain text)" },
              ]}
              {...form.getInputProps("tls_mode")}
            />
            <TextInput label="SMTP user name" description="Leave blank when the server needs no sign-in." {...form.getInputProps("username")} />
            <TextInput label="From" withAsterisk {...form.getInputProps("from")} />
            <TextInput label="To" withAsterisk description="Addresses separated by commas." {...form.getInputProps("to")} />
          </>
        ) : (
          <TextInput label="URL" withAsterisk placeholder="https://" {...form.getInputProps("url")} />
        )}
        {type !== "slack" && (
          <PasswordInput
            label={secretLabel}
            description={channel?.secret_set ? "A secret is stored; leave blank to keep it." : "Stored sealed; never shown again."}
            autoComplete="new-password"
            {...form.getInputProps("secret")}
          />
        )}
        <Select label="Minimum severity" allowDeselect={false} data={SEVERITIES} {...form.getInputProps("min_severity")} />
        <TextInput label="Alert types" description="Comma-separated; blank for every type." {...form.getInputProps("alert_types")} />
        <TextInput label="Host tags" description="Comma-separated; blank for every host." {...form.getInputProps("host_tags")} />
        <Switch label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            {channel ? "Save channel" : "Create channel"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function DeleteChannelDialog({ channel, onClose }: { channel: Channel | null; onClose: () => void }) {
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: (c: Channel) => unwrap(api.DELETE("/notifications/channels/{id}", { params: { path: { id: c.id } } })).then(() => c),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["notifications"] });
      notifications.show({ color: "teal", message: `Channel ${c.name} deleted.` });
      onClose();
    },
  });
  const close = () => {
    del.reset();
    onClose();
  };
  return (
    <Modal opened={!!channel} onClose={close} title={channel ? `Delete channel ${channel.name}?` : ""}>
      <Stack>
        <Text size="sm">Notices stop going to it; deliveries still queued for it are dropped.</Text>
        <ErrorAlert error={del.error} title="Not deleted" />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={del.isPending} onClick={() => channel && del.mutate(channel)}>
            Delete channel
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function StatusBadge({ status }: { status: DeliveryStatus }) {
  const color = { pending: "blue", delivered: "teal", failed: "orange", dead: "red", skipped: "gray" }[status];
  return (
    <Badge color={color} variant="light" size="sm" miw="fit-content">
      {status}
    </Badge>
  );
}

function ChannelsTab() {
  const navigate = useNavigate({ from: "/notifications" });
  const search = useSearch({ from: "/app/notifications" });
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [outcome, setOutcome] = useState<{ channel: string; result: TestResult }>();
  const query = useInfiniteQuery({
    queryKey: ["notifications", "channels"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/notifications/channels", { params: { query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const channels = useMemo(() => query.data?.pages.flatMap((p) => p.channels) ?? [], [query.data]);
  const qc = useQueryClient();
  const test = useMutation({
    mutationFn: (c: Channel) =>
      unwrap(api.POST("/notifications/channels/{id}:test", { params: { path: { id: c.id } } })).then((result) => ({ channel: c.name, result })),
    onSuccess: (r) => {
      setOutcome(r);
      void qc.invalidateQueries({ queryKey: ["notifications"] });
    },
  });
  const editing = search.edit === "new" ? undefined : channels.find((c) => c.id === search.edit);
  const setEdit = (edit: string | undefined) => void navigate({ search: (s) => ({ ...s, edit }) });
  return (
    <Stack mt="md">
      <Group justify="flex-end">
        <Can permission="notification:write">
          <Button onClick={() => setEdit("new")} data-testid="add-channel">
            Add channel
          </Button>
        </Can>
      </Group>
      <ErrorAlert error={query.error} />
      <ErrorAlert error={test.error} title="Test not sent" />
      {outcome && (
        <Alert
          color={outcome.result.outcome === "delivered" ? "teal" : "red"}
          title={`Test message to ${outcome.channel}: ${outcome.result.outcome}`}
          data-testid="test-outcome"
          role="status"
          withCloseButton
          closeButtonLabel="Dismiss the test outcome"
          onClose={() => setOutcome(undefined)}
        >
          {outcome.result.outcome === "delivered"
            ? `The receiver accepted it in ${outcome.result.duration_ms} ms.`
            : (outcome.result.error ?? "The receiver did not accept it.")}
        </Alert>
      )}
      <Table aria-label="Notification channels" striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Type</Table.Th>
            <Table.Th scope="col">Target</Table.Th>
            <Table.Th scope="col">Minimum severity</Table.Th>
            <Table.Th scope="col">State</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {channels.map((c) => (
            <Table.Tr key={c.id}>
              <Table.Td fw={500}>{c.name}</Table.Td>
              <Table.Td>{c.type}</Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {c.type === "email" ? (c.config.to ?? []).join(", ") : c.config.url}
                </Text>
              </Table.Td>
              <Table.Td>{c.routing.min_severity}</Table.Td>
              <Table.Td>
                <Badge color={c.enabled ? "teal" : "gray"} variant="light" size="sm" miw="fit-content">
                  {c.enabled ? "enabled" : "disabled"}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Can permission="notification:test">
                    <Button size="xs" variant="light" loading={test.isPending && test.variables?.id === c.id} onClick={() => test.mutate(c)}>
                      Send test <VisuallyHidden>to {c.name}</VisuallyHidden>
                    </Button>
                  </Can>
                  <Can permission="notification:write">
                    <Button size="xs" variant="subtle" onClick={() => setEdit(c.id)}>
                      Edit <VisuallyHidden>{c.name}</VisuallyHidden>
                    </Button>
                  </Can>
                  <Can permission="notification:delete">
                    <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(c)}>
                      Delete <VisuallyHidden>{c.name}</VisuallyHidden>
                    </Button>
                  </Can>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
          {query.isSuccess && channels.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={6}>
                <Text c="dimmed" size="sm">
                  No channel yet: alerts reach no one outside OpenWatch.
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      <Modal
        opened={search.edit === "new" || !!editing}
        onClose={() => setEdit(undefined)}
        title={editing ? `Edit channel ${editing.name}` : "Add notification channel"}
        size="lg"
      >
        <ChannelForm key={editing?.id ?? "new"} channel={editing} onDone={() => setEdit(undefined)} />
      </Modal>
      <DeleteChannelDialog channel={deleting} onClose={() => setDeleting(null)} />
    </Stack>
  );
}

function DeliveriesTab() {
  const navigate = useNavigate({ from: "/notifications" });
  const search = useSearch({ from: "/app/notifications" });
  const qc = useQueryClient();
  const status = search.status;
  const channels = useInfiniteQuery({
    queryKey: ["notifications", "channels"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/notifications/channels", { params: { query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const names = useMemo(
    () => new Map((channels.data?.pages.flatMap((p) => p.channels) ?? []).map((c) => [c.id, c.name])),
    [channels.data],
  );
  const query = useInfiniteQuery({
    queryKey: ["notifications", "deliveries", status ?? "all"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/notifications/deliveries", { params: { query: { limit: 100, cursor: pageParam, status } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const deliveries = useMemo(() => query.data?.pages.flatMap((p) => p.deliveries) ?? [], [query.data]);
  const redeliver = useMutation({
    mutationFn: (d: Delivery) => unwrap(api.POST("/notifications/deliveries/{id}:redeliver", { params: { path: { id: d.id } } })),
    onSuccess: () => {
      notifications.show({ color: "teal", message: "Delivery queued again." });
      void qc.invalidateQueries({ queryKey: ["notifications", "deliveries"] });
    },
  });
  return (
    <Stack mt="md">
      <Group justify="space-between">
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          w={200}
          data={DELIVERY_STATUSES}
          value={status ?? null}
          onChange={(v) => void navigate({ search: (s) => ({ ...s, status: (v as DeliveryStatus | null) ?? undefined }) })}
        />
        <Button variant="default" onClick={() => void query.refetch()} loading={query.isFetching}>
          Refresh
        </Button>
      </Group>
      <ErrorAlert error={query.error} />
      <ErrorAlert error={redeliver.error} title="Not queued" />
      <Table aria-label="Notification deliveries" striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Channel</Table.Th>
            <Table.Th scope="col">Notice</Table.Th>
            <Table.Th scope="col">Severity</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Attempts</Table.Th>
            <Table.Th scope="col">Last error</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {deliveries.map((d) => (
            <Table.Tr key={d.id} data-testid={`delivery-${d.id}`}>
              <Table.Td>{formatDateTime(d.created_at)}</Table.Td>
              <Table.Td>{names.get(d.channel_id) ?? "deleted channel"}</Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {d.title} ({d.transition === "report" ? "scheduled report" : d.transition})
                </Text>
                {d.report_id && (
                  <Text size="xs" c="dimmed">
                    Report{" "}
                    <a href={`/api/v1/reports/${d.report_id}/export?format=pdf`} aria-label={`Download PDF of report ${d.report_id}`}>
                      {d.report_id}
                    </a>
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{d.severity}</Table.Td>
              <Table.Td>
                <StatusBadge status={d.status} />
              </Table.Td>
              <Table.Td>{d.attempts}</Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {d.last_error ?? "—"}
                </Text>
              </Table.Td>
              <Table.Td>
                {(d.status === "dead" || d.status === "failed") && (
                  <Can permission="notification:write">
                    <Button size="xs" variant="light" loading={redeliver.isPending && redeliver.variables?.id === d.id} onClick={() => redeliver.mutate(d)}>
                      Redeliver
                    </Button>
                  </Can>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
          {query.isSuccess && deliveries.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={8}>
                <Text c="dimmed" size="sm">
                  No delivery {status ? `is ${status}` : "yet"}.
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {query.hasNextPage && (
        <Button variant="default" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </Stack>
  );
}

// NotificationsPage holds the notification channels (webhook, Slack, email) alerts are
// sent through, and the deliveries of those alerts with their outcome.
export function NotificationsPage() {
  const search = useSearch({ from: "/app/notifications" });
  const navigate = useNavigate({ from: "/notifications" });
  const tab = search.tab ?? "channels";
  return (
    <>
      <PageHeader title="Notifications" description="Where alerts are sent, and whether each one arrived." />
      <Tabs value={tab} onChange={(t) => void navigate({ search: { tab: (t as "channels" | "deliveries") ?? undefined } })}>
        <Tabs.List>
          <Tabs.Tab value="channels">Channels</Tabs.Tab>
          <Tabs.Tab value="deliveries">Deliveries</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="channels">{tab === "channels" && <ChannelsTab />}</Tabs.Panel>
        <Tabs.Panel value="deliveries">{tab === "deliveries" && <DeliveriesTab />}</Tabs.Panel>
      </Tabs>
    </>
  );
}
