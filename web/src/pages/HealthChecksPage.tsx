import { Badge, Button, Checkbox, Code, Group, Modal, NumberInput, Select, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { PageHeader } from "../components/PageHeader";
import { VirtualTable, type ListColumn } from "../components/VirtualTable";
import { formatDateTime } from "../lib/format";
import { HostPicker } from "./CredentialHostPicker";

type Check = Schemas["HealthCheck"];
type Kind = Schemas["HealthCheckKind"];
type Outcome = Schemas["HealthCheckOutcome"];

const KINDS: { value: Kind; label: string }[] = [
  { value: "service", label: "Service is active" },
  { value: "tcp", label: "TCP port accepts connections" },
  { value: "http", label: "HTTP answers" },
  { value: "command", label: "Command succeeds" },
];

// The form's fields, named as the API names them in detail.field, so a 400 lands on its field.
const FIELDS = [
  "name",
  "kind",
  "service.unit",
  "tcp.host",
  "tcp.port",
  "http.url",
  "http.expected_status",
  "http.body_contains",
  "command.command",
  "command.expected_output",
  "timeout_sec",
  "retries",
  "retry_delay_sec",
] as const;

interface Values {
  name: string;
  kind: Kind;
  service: { unit: string };
  tcp: { host: string; port: number | string };
  http: { url: string; expected_status: number | string; body_contains: string; insecure_tls: boolean };
  command: { command: string; expected_output: string };
  timeout_sec: number | string;
  retries: number | string;
  retry_delay_sec: number | string;
  enabled: boolean;
}

function valuesOf(c?: Check): Values {
  return {
    name: c?.name ?? "",
    kind: c?.kind ?? "service",
    service: { unit: c?.service?.unit ?? "" },
    tcp: { host: c?.tcp?.host ?? "127.0.0.1", port: c?.tcp?.port ?? "" },
    http: {
      url: c?.http?.url ?? "http://127.0.0.1/",
      expected_status: c?.http?.expected_status ?? 200,
      body_contains: c?.http?.body_contains ?? "",
      insecure_tls: c?.http?.insecure_tls ?? false,
    },
    command: { command: c?.command?.command ?? "", expected_output: c?.command?.expected_output ?? "" },
    timeout_sec: c?.timeout_sec ?? 10,
    retries: c?.retries ?? 0,
    retry_delay_sec: c?.retry_delay_sec ?? 0,
    enabled: c?.enabled ?? true,
  };
}

// num sends what the user typed as a number; an empty box is NaN, which the server refuses
// naming the field.
const num = (v: number | string): number => (v === "" ? Number.NaN : Number(v));
const opt = (s: string): string | undefined => (s.trim() === "" ? undefined : s);

// paramsOf is the kind's parameter object of the request body.
function paramsOf(v: Values): Pick<Schemas["HealthCheckCreate"], "service" | "tcp" | "http" | "command"> {
  switch (v.kind) {
    case "service":
      return { service: { unit: v.service.unit.trim() } };
    case "tcp":
      return { tcp: { host: opt(v.tcp.host.trim()), port: num(v.tcp.port) } };
    case "http":
      return {
        http: {
          url: v.http.url.trim(),
          expected_status: num(v.http.expected_status),
          body_contains: opt(v.http.body_contains),
          insecure_tls: v.http.insecure_tls,
        },
      };
    default:
      return { command: { command: v.command.command, expected_output: opt(v.command.expected_output) } };
  }
}

function CheckForm({ check, onDone }: { check?: Check; onDone: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<Values>({ mode: "controlled", initialValues: valuesOf(check) });
  const save = useMutation({
    mutationFn: (v: Values) => {
      const common = {
        name: v.name.trim(),
        timeout_sec: num(v.timeout_sec),
        retries: num(v.retries),
        retry_delay_sec: num(v.retry_delay_sec),
        enabled: v.enabled,
        ...paramsOf(v),
      };
      return check
        ? unwrap(api.PATCH("/health-checks/{id}", { params: { path: { id: check.id } }, body: common }))
        : unwrap(api.POST("/health-checks", { body: { ...common, kind: v.kind } }));
    },
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["health-checks"] });
      notifications.show({ color: "teal", message: `Health check ${c.name} ${check ? "saved" : "created"}.` });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS)),
  });
  const kind = form.values.kind;
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
          label="Kind"
          withAsterisk
          data={KINDS}
          allowDeselect={false}
          disabled={!!check}
          description={check ? "The kind of a check cannot change." : "Runs on the host over SSH, as root."}
          {...form.getInputProps("kind")}
        />
        {kind === "service" && (
          <TextInput
            label="Unit"
            withAsterisk
            placeholder="nginx.service"
            description="systemctl is-active; on a host without systemd, service NAME status."
            {...form.getInputProps("service.unit")}
          />
        )}
        {kind === "tcp" && (
          <Group grow align="flex-start">
            <TextInput label="Host" description="As seen from the host." placeholder="127.0.0.1" {...form.getInputProps("tcp.host")} />
            <NumberInput label="Port" withAsterisk clampBehavior="none" allowDecimal={false} {...form.getInputProps("tcp.port")} />
          </Group>
        )}
        {kind === "http" && (
          <>
            <TextInput label="URL" withAsterisk description="http or https, fetched on the host with curl or wget." {...form.getInputProps("http.url")} />
            <Group grow align="flex-start">
              <NumberInput label="Expected status" clampBehavior="none" allowDecimal={false} {...form.getInputProps("http.expected_status")} />
              <TextInput label="Body contains" description="Optional." {...form.getInputProps("http.body_contains")} />
            </Group>
            <Checkbox label="Accept any TLS certificate" {...form.getInputProps("http.insecure_tls", { type: "checkbox" })} />
          </>
        )}
        {kind === "command" && (
          <>
            <Textarea
              label="Command"
              withAsterisk
              autosize
              minRows={2}
              description="POSIX sh, run as root; passes when it exits 0."
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              {...form.getInputProps("command.command")}
            />
            <TextInput label="Expected output" description="Optional: a substring the output must contain." {...form.getInputProps("command.expected_output")} />
          </>
        )}
        <Group grow align="flex-start">
          <NumberInput label="Timeout (s)" withAsterisk clampBehavior="none" allowDecimal={false} description="Per attempt, 1–300." {...form.getInputProps("timeout_sec")} />
          <NumberInput label="Retries" clampBehavior="none" allowDecimal={false} description="Further attempts, 0–10." {...form.getInputProps("retries")} />
          <NumberInput label="Retry delay (s)" clampBehavior="none" allowDecimal={false} description="Between attempts." {...form.getInputProps("retry_delay_sec")} />
        </Group>
        <Checkbox label="Enabled (run by changes)" {...form.getInputProps("enabled", { type: "checkbox" })} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            {check ? "Save check" : "Create check"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// OutcomeView shows what one run of a check found.
export function OutcomeView({ outcome }: { outcome: Outcome }) {
  return (
    <Stack gap="xs" data-testid="hc-outcome">
      <Group gap="sm">
        <ResultBadge ok={outcome.ok} />
        <Text size="sm">{outcome.detail}</Text>
      </Group>
      <Text size="xs" c="dimmed">
        {(outcome.duration_ms / 1000).toFixed(2)} s, {outcome.attempts} attempt{outcome.attempts === 1 ? "" : "s"}
        {outcome.tested_at ? ` · ${formatDateTime(outcome.tested_at)}` : ""}
      </Text>
      {outcome.output !== "" && (
        <>
          <Text size="xs" fw={700}>
            Output on the host
          </Text>
          <Code block data-testid="hc-output" tabIndex={0} style={{ maxHeight: 240, overflow: "auto" }}>
            {outcome.output}
          </Code>
        </>
      )}
    </Stack>
  );
}

function ResultBadge({ ok }: { ok: boolean }) {
  return (
    <div style={{ minWidth: 48 }}>
      <Badge miw="fit-content" color={ok ? "teal" : "red"} variant="light">
        {ok ? "pass" : "fail"}
      </Badge>
    </div>
  );
}

function TestOnHost({ check }: { check: Check }) {
  const qc = useQueryClient();
  const [hostId, setHostId] = useState("");
  const run = useMutation({
    mutationFn: () => unwrap(api.POST("/health-checks/{id}:test", { params: { path: { id: check.id } }, body: { host_id: hostId } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["health-checks"] }),
  });
  return (
    <Stack>
      <Text size="sm">
        Runs <b>{check.name}</b> now on the host, as root over SSH, with its timeout and retries.
      </Text>
      <HostPicker value={hostId} onChange={setHostId} />
      <Group justify="flex-end">
        <Button disabled={!hostId} loading={run.isPending} onClick={() => run.mutate()}>
          Run test
        </Button>
      </Group>
      <ErrorAlert error={run.error} title="Not tested" />
      {run.data && <OutcomeView outcome={run.data} />}
    </Stack>
  );
}

// HealthChecksPage lists health checks (what they look at and their last manual test),
// creates, edits and deletes them, and tests one on a host. Changes run the enabled ones
// before and after changing a host; a failing post-check rolls that host back.
export function HealthChecksPage() {
  const qc = useQueryClient();
  const canWrite = useCan("health_check:write");
  const canTest = useCan("health_check:test");
  const query = useInfiniteQuery({
    queryKey: ["health-checks", "list"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/health-checks", { params: { query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.checks) ?? [], [query.data]);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Check | null>(null);
  const [testing, setTesting] = useState<Check | null>(null);
  const [deleting, setDeleting] = useState<Check | null>(null);
  const remove = useMutation({
    mutationFn: (c: Check) => unwrap(api.DELETE("/health-checks/{id}", { params: { path: { id: c.id } } })).then(() => c),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["health-checks"] });
      setDeleting(null);
      notifications.show({ color: "teal", message: `Health check ${c.name} deleted.` });
    },
  });
  const columns = useMemo<ListColumn<Check>[]>(
    () => [
      { id: "name", header: "Name", cell: ({ row }) => row.original.name },
      {
        id: "kind",
        header: "Kind",
        cell: ({ row }) => row.original.kind,
      },
      {
        id: "target",
        header: "Target",
        cell: ({ row }) => (
          <Text size="sm" ff="monospace" lineClamp={2} style={{ wordBreak: "break-all" }}>
            {row.original.target}
          </Text>
        ),
      },
      {
        id: "timing",
        header: "Timeout / retries",
        cell: ({ row }) => `${row.original.timeout_sec} s / ${row.original.retries}${row.original.retries > 0 ? ` every ${row.original.retry_delay_sec} s` : ""}`,
      },
      {
        id: "enabled",
        header: "State",
        cell: ({ row }) => (
          <Text size="sm" c={row.original.enabled ? undefined : "dimmed"}>
            {row.original.enabled ? "enabled" : "disabled"}
          </Text>
        ),
      },
      {
        id: "last",
        header: "Last test",
        cell: ({ row }) => {
          const r = row.original.last_result;
          if (!r) return <Text size="sm" c="dimmed">never</Text>;
          return (
            <Stack gap={2}>
              <Group gap={6} wrap="nowrap">
                <ResultBadge ok={r.ok} />
                <Text size="xs" c="dimmed">
                  {formatDateTime(r.tested_at)}
                </Text>
              </Group>
              <Text size="xs" lineClamp={2}>
                {r.detail}
              </Text>
            </Stack>
          );
        },
      },
      {
        id: "actions",
        header: "Actions",
        cell: ({ row }) => {
          const c = row.original;
          return (
            <Group gap="xs" justify="flex-end" wrap="nowrap">
              {canTest && (
                <Button size="xs" variant="default" onClick={() => setTesting(c)} aria-label={`Test on host: ${c.name}`}>
                  Test on host
                </Button>
              )}
              {canWrite && (
                <>
                  <Button size="xs" variant="default" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                    Edit
                  </Button>
                  <Button size="xs" variant="default" color="red" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
                    Delete
                  </Button>
                </>
              )}
            </Group>
          );
        },
      },
    ],
    [canTest, canWrite],
  );
  return (
    <>
      <PageHeader
        title="Health checks"
        description="Probes run on a host over SSH before and after each change; a failing check after a change rolls that host back."
        actions={
          <Can permission="health_check:write">
            <Button onClick={() => setCreating(true)} data-testid="new-health-check">
              New health check
            </Button>
          </Can>
        }
      />
      <ErrorAlert error={query.error} />
      <VirtualTable
        label="Health checks"
        testId="health-checks-table"
        columns={columns}
        rows={rows}
        getRowId={(c) => c.id}
        isLoading={query.isPending}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
        empty="No health check yet."
      />
      <Modal opened={creating} onClose={() => setCreating(false)} title="New health check" size="lg">
        <CheckForm onDone={() => setCreating(false)} />
      </Modal>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing ? `Edit ${editing.name}` : ""} size="lg">
        {editing && <CheckForm key={editing.id} check={editing} onDone={() => setEditing(null)} />}
      </Modal>
      <Modal opened={testing !== null} onClose={() => setTesting(null)} title={testing ? `Test ${testing.name} on a host` : ""} size="lg">
        {testing && <TestOnHost key={testing.id} check={testing} />}
      </Modal>
      <Modal opened={deleting !== null} onClose={() => setDeleting(null)} title={deleting ? `Delete health check ${deleting.name}?` : ""}>
        <Stack>
          <Text size="sm">Changes that name this check will no longer run it.</Text>
          <ErrorAlert error={remove.error} title="Not deleted" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => deleting && remove.mutate(deleting)}>
              Delete check
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
