import {
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  Progress,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { groupsPickerQuery } from "./GroupQueries";

type Report = Schemas["Report"];
type Kind = Schemas["ReportKind"];
type ScopeType = Schemas["ReportScope"]["type"];
type Schedule = Schemas["ReportSchedule"];
type Format = Schemas["ReportFormat"];

const KINDS: { value: Kind; label: string }[] = [
  { value: "compliance", label: "Compliance" },
  { value: "posture", label: "Posture as of an instant" },
  { value: "audit", label: "Audit trail" },
  { value: "patch_history", label: "Patch history" },
  { value: "vulnerability", label: "Vulnerability exposure" },
];

type MinSeverity = NonNullable<Schemas["ReportParameters"]["min_severity"]>;
const SEVERITIES: MinSeverity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

const FORMATS: Format[] = ["json", "csv", "pdf"];

const STATUS_COLOR: Record<Report["status"], string> = { queued: "gray", running: "blue", completed: "teal", failed: "red" };

// iso turns a datetime-local value into an RFC 3339 instant ("" stays undefined).
function iso(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

const VERIFY_COMMAND = "openwatch verify-report report.pdf --key signing-keys.json";

// ScopeFields picks what a compliance, posture or vulnerability report covers: the fleet, a group or a host.
function ScopeFields({
  scope,
  setScope,
  id,
  setId,
}: {
  scope: ScopeType;
  setScope: (s: ScopeType) => void;
  id: string | null;
  setId: (id: string | null) => void;
}) {
  const groups = useQuery({ ...groupsPickerQuery, enabled: scope === "group" });
  const hosts = useQuery({
    queryKey: ["hosts", "list", "report-picker"],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { limit: 200 } } })),
    enabled: scope === "host",
  });
  return (
    <>
      <Select
        label="Scope"
        value={scope}
        allowDeselect={false}
        onChange={(v) => {
          setScope((v ?? "fleet") as ScopeType);
          setId(null);
        }}
        data={[
          { value: "fleet", label: "The fleet" },
          { value: "group", label: "A group" },
          { value: "host", label: "A host" },
        ]}
      />
      {scope === "group" && (
        <Select
          label="Group"
          searchable
          value={id}
          onChange={setId}
          data={(groups.data ?? []).map((g) => ({ value: g.id, label: g.name }))}
        />
      )}
      {scope === "host" && (
        <Select
          label="Host"
          searchable
          value={id}
          onChange={setId}
          data={(hosts.data?.hosts ?? []).map((h) => ({ value: h.id ?? "", label: h.hostname ?? h.id ?? "" }))}
        />
      )}
    </>
  );
}

// GenerateForm asks for a report; the list below shows its progress.
function GenerateForm() {
  const qc = useQueryClient();
  const [kind, setKind] = useState<Kind>("compliance");
  const [scope, setScope] = useState<ScopeType>("fleet");
  const [scopeId, setScopeId] = useState<string | null>(null);
  const [framework, setFramework] = useState<string | null>(null);
  const [asOf, setAsOf] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [minSeverity, setMinSeverity] = useState<MinSeverity | null>(null);
  const [formError, setFormError] = useState<string>();
  const frameworks = useQuery({
    queryKey: ["reports", "frameworks"],
    queryFn: () => unwrap(api.GET("/reports/frameworks")),
    staleTime: 300_000,
  });
  const compliance = kind === "compliance" || kind === "posture";
  const vulnerability = kind === "vulnerability";
  const scoped = compliance || vulnerability;
  const parameters = (): Schemas["ReportParameters"] => {
    if (compliance) return { ...(framework ? { framework } : {}), ...(kind === "posture" && asOf ? { as_of: iso(asOf) } : {}) };
    if (vulnerability) return minSeverity ? { min_severity: minSeverity } : {};
    return { ...(since ? { since: iso(since) } : {}), ...(until ? { until: iso(until) } : {}) };
  };
  const generate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/reports:generate", {
          params: {},
          body: {
            kind,
            scope: scoped ? { type: scope, ...(scope !== "fleet" && scopeId ? { id: scopeId } : {}) } : { type: "fleet" },
            parameters: parameters(),
          },
        }),
      ),
    onSuccess: (r) => {
      setFormError(undefined);
      void qc.invalidateQueries({ queryKey: ["reports", "list"] });
      notifications.show({ color: "teal", message: `${r.title} queued.` });
    },
    onError: (err) => setFormError(err.message),
  });
  return (
    <Card withBorder component="section" aria-label="Generate a report" maw={1100}>
      <Title order={2} size="h4" mb="sm">
        Generate a report
      </Title>
      <Stack maw={520}>
        <FormError message={formError} />
        <Select label="Kind" value={kind} allowDeselect={false} onChange={(v) => setKind((v ?? "compliance") as Kind)} data={KINDS} />
        {scoped && <ScopeFields scope={scope} setScope={setScope} id={scopeId} setId={setScopeId} />}
        {vulnerability && (
          <Select
            label="Minimum severity"
            placeholder="Every severity"
            clearable
            value={minSeverity}
            onChange={(v) => setMinSeverity(v as MinSeverity | null)}
            data={SEVERITIES}
          />
        )}
        {compliance && (
          <>
            <Select
              label="Framework or benchmark"
              placeholder="Every rule"
              clearable
              searchable
              value={framework}
              onChange={setFramework}
              data={(frameworks.data?.frameworks ?? []).map((f) => ({ value: f.id, label: `${f.name} (${f.rule_count} rules)` }))}
            />
          </>
        )}
        {kind === "posture" && (
          <TextInput label="As of" type="datetime-local" value={asOf} onChange={(e) => setAsOf(e.currentTarget.value)} />
        )}
        {!scoped && (
          <Group grow>
            <TextInput label="Since" type="datetime-local" value={since} onChange={(e) => setSince(e.currentTarget.value)} />
            <TextInput label="Until" type="datetime-local" value={until} onChange={(e) => setUntil(e.currentTarget.value)} />
          </Group>
        )}
        <Group>
          <Button loading={generate.isPending} onClick={() => generate.mutate()}>
            Generate report
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

// SummaryView shows a completed report's headline figures.
function SummaryView({ report }: { report: Report }) {
  const entries = Object.entries(report.summary ?? {});
  if (entries.length === 0) return null;
  return (
    <Table aria-label={`Summary of report ${report.id}`} withRowBorders={false}>
      <Table.Tbody>
        {entries.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th scope="row">{k.replaceAll("_", " ")}</Table.Th>
            <Table.Td ff="monospace">{typeof v === "object" ? JSON.stringify(v) : String(v)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ReportDetail shows one report: its facts, summary and downloads. It reads the report
// itself, starting from the list's copy, and follows it while it is generated, so a report
// opened while running shows its downloads once it completes.
function ReportDetail({ initial, onClose }: { initial: Report; onClose: () => void }) {
  const { data: report, error } = useQuery({
    queryKey: ["reports", "detail", initial.id],
    queryFn: () => unwrap(api.GET("/reports/{id}", { params: { path: { id: initial.id } } })),
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.status === "queued" || q.state.data?.status === "running" ? 2000 : false),
  });
  return (
    <Modal opened onClose={onClose} title={report.title} size="lg">
      <Stack>
        {error && <ErrorAlert error={error} />}
        {(report.status === "queued" || report.status === "running") && (
          <Progress value={report.progress} size="sm" aria-label={`Progress of report ${report.id} (detail)`} />
        )}
        <Text size="sm">
          {report.kind} · {report.scope.type}
          {report.scope.id ? ` ${report.scope.id}` : ""} · requested by {report.requested_by_name}
        </Text>
        {report.generated_at && <Text size="sm">Generated {formatDateTime(report.generated_at)}</Text>}
        {report.signing_key_id && (
          <Text size="sm">
            Signed by key <Code>{report.signing_key_id}</Code>
          </Text>
        )}
        {report.chain_head && (
          <Text size="sm">
            Audit chain head: seq {report.chain_head.seq}, hash <Code>{report.chain_head.hash.slice(0, 16)}…</Code>
          </Text>
        )}
        {report.error && <Text c="red.9">{report.error}</Text>}
        <SummaryView report={report} />
        {report.status === "completed" && <Downloads report={report} />}
        {report.status === "completed" && (report.kind === "compliance" || report.kind === "posture") && (
          <OscalDownloads report={report} />
        )}
      </Stack>
    </Modal>
  );
}

// OscalDownloads offers a compliance or posture report as OSCAL assessment results and the
// assessment plan they import; both name the signed JSON export by its SHA-256.
function OscalDownloads({ report }: { report: Report }) {
  const docs = [
    { format: "oscal", label: "OSCAL", name: "assessment-results", what: "OSCAL assessment results" },
    { format: "oscal-plan", label: "OSCAL plan", name: "assessment-plan", what: "OSCAL assessment plan" },
  ];
  return (
    <Stack gap={4}>
      <Group gap="xs" wrap="nowrap">
        {docs.map((d) => (
          <Button
            key={d.format}
            size="xs"
            variant="default"
            component="a"
            href={`/api/v1/reports/${report.id}/export?format=${d.format}`}
            download={`report-${report.id}-oscal-${d.name}.json`}
            aria-label={`Download ${d.what} of report ${report.id}`}
          >
            {d.label}
          </Button>
        ))}
      </Group>
      <Text size="xs" c="dimmed">
        The OSCAL documents are not signed themselves: their back matter names this report, the SHA-256 of its JSON
        download and the signing key.
      </Text>
    </Stack>
  );
}

function Downloads({ report }: { report: Report }) {
  return (
    <Group gap="xs" wrap="nowrap">
      {FORMATS.map((f) => (
        <Button
          key={f}
          size="xs"
          variant="default"
          component="a"
          href={`/api/v1/reports/${report.id}/export?format=${f}`}
          download={`report-${report.id}.${f}`}
          aria-label={`Download ${f.toUpperCase()} of report ${report.id}`}
        >
          {f.toUpperCase()}
        </Button>
      ))}
    </Group>
  );
}

// ReportList lists reports newest first, with live status and progress (the event stream
// refreshes it) and downloads of completed ones.
function ReportList() {
  const [open, setOpen] = useState<Report>();
  const { data, error, isPending } = useQuery({
    queryKey: ["reports", "list"],
    queryFn: () => unwrap(api.GET("/reports", { params: { query: { limit: 100 } } })),
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.status === "queued" || r.status === "running") ? 2000 : false),
  });
  return (
    <Card withBorder component="section" aria-label="Reports" maw={1100}>
      <Title order={2} size="h4" mb="sm">
        Reports
      </Title>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : data.items.length === 0 ? (
        <Text c="dimmed">No reports yet.</Text>
      ) : (
        <Table aria-label="Report list">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Report</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Requested</Table.Th>
              <Table.Th scope="col">Download</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.items.map((r) => (
              <Table.Tr key={r.id} data-testid={`report-${r.id}`} data-kind={r.kind} data-status={r.status}>
                <Table.Td>
                  <Button variant="subtle" size="compact-sm" onClick={() => setOpen(r)}>
                    {r.title}
                  </Button>
                  <Text size="xs" c="dimmed">
                    {r.scope.type}
                    {r.parameters.framework ? ` · ${r.parameters.framework}` : ""}
                  </Text>
                </Table.Td>
                <Table.Td miw={140}>
                  <Badge color={STATUS_COLOR[r.status]} variant="light" style={{ overflow: "visible" }}>
                    {r.status}
                  </Badge>
                  {(r.status === "running" || r.status === "queued") && (
                    <Progress value={r.progress} size="sm" mt={4} aria-label={`Progress of report ${r.id}`} />
                  )}
                </Table.Td>
                <Table.Td>
                  {formatDateTime(r.created_at)}
                  <Text size="xs" c="dimmed">
                    {r.requested_by_name}
                  </Text>
                </Table.Td>
                <Table.Td>{r.status === "completed" ? <Downloads report={r} /> : "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {open && <ReportDetail initial={open} onClose={() => setOpen(undefined)} />}
    </Card>
  );
}

// SigningKeys lists the report signing keys with their public keys and how to verify.
function SigningKeys() {
  const qc = useQueryClient();
  const canRotate = useCan("report:signing_key");
  const [confirm, setConfirm] = useState(false);
  const { data, error, isPending } = useQuery({
    queryKey: ["reports", "signing-keys"],
    queryFn: () => unwrap(api.GET("/reports/signing-key")),
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST("/reports/signing-key:rotate")),
    onSuccess: (keys) => {
      qc.setQueryData(["reports", "signing-keys"], keys);
      setConfirm(false);
      notifications.show({ color: "teal", message: "Report signing key rotated." });
    },
    onError: (err) => notifications.show({ color: "red", title: "Not rotated", message: err.message }),
  });
  return (
    <Card withBorder component="section" aria-label="Signing keys" maw={1100}>
      <Title order={2} size="h4">
        Signing keys
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Every report and export is signed with an Ed25519 key. Save this list (or a key&apos;s PEM) where auditors can
        reach it, then verify a downloaded file offline with the command below; any changed byte fails verification.
      </Text>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : (
        <Stack>
          <Table aria-label="Report signing keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Key id</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">Created</Table.Th>
                <Table.Th scope="col">Retired</Table.Th>
                <Table.Th scope="col">Public key</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.keys.map((k) => (
                <Table.Tr key={k.key_id} data-testid={`signing-key-${k.status}`}>
                  <Table.Td ff="monospace">{k.key_id}</Table.Td>
                  <Table.Td>
                    <Badge color={k.status === "active" ? "teal" : "gray"} variant="light" style={{ overflow: "visible" }}>
                      {k.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatDateTime(k.created_at)}</Table.Td>
                  <Table.Td>{k.retired_at ? formatDateTime(k.retired_at) : "—"}</Table.Td>
                  <Table.Td>
                    <CopyButton value={k.public_key_pem}>
                      {({ copied, copy }) => (
                        <Button size="xs" variant="default" onClick={copy} aria-label={`Copy PEM of key ${k.key_id}`}>
                          {copied ? "Copied" : "Copy PEM"}
                        </Button>
                      )}
                    </CopyButton>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Code block className="mono-block" data-testid="verify-command">
            {VERIFY_COMMAND}
          </Code>
          <Group>
            <Button
              variant="default"
              component="a"
              href={`data:application/json,${encodeURIComponent(JSON.stringify(data))}`}
              download="signing-keys.json"
            >
              Download signing-keys.json
            </Button>
            <CopyButton value={VERIFY_COMMAND}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy}>
                  {copied ? "Copied" : "Copy command"}
                </Button>
              )}
            </CopyButton>
            {canRotate && (
              <Button variant="default" color="red" onClick={() => setConfirm(true)}>
                Rotate signing key
              </Button>
            )}
          </Group>
        </Stack>
      )}
      {confirm && (
        <Modal opened onClose={() => setConfirm(false)} title="Rotate the report signing key">
          <Stack>
            <Text size="sm">
              A new key signs reports from now on. The current key is retired but stays listed, so reports it signed still
              verify.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirm(false)}>
                Cancel
              </Button>
              <Button color="red" loading={rotate.isPending} onClick={() => rotate.mutate()}>
                Rotate
              </Button>
            </Group>
          </Stack>
        </Modal>
      )}
    </Card>
  );
}

// ScheduleForm creates a schedule or edits one.
function ScheduleForm({ schedule, onClose }: { schedule?: Schedule; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(schedule?.name ?? "");
  const [kind, setKind] = useState<Kind>(schedule?.kind ?? "compliance");
  const [cron, setCron] = useState(schedule?.cron ?? "0 6 * * 1");
  const [timezone, setTimezone] = useState(schedule?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC");
  const [format, setFormat] = useState<Format>(schedule?.format ?? "pdf");
  const [channels, setChannels] = useState<string[]>(schedule?.channel_ids ?? []);
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true);
  const [formError, setFormError] = useState<string>();
  const canReadChannels = useCan("notification:read");
  const channelList = useQuery({
    queryKey: ["notifications", "channels", "picker"],
    queryFn: () => unwrap(api.GET("/notifications/channels", { params: { query: { limit: 200 } } })),
    enabled: canReadChannels,
  });
  const save = useMutation({
    mutationFn: () => {
      const body = { name, kind, cron, timezone, format, channel_ids: channels, enabled };
      return schedule
        ? unwrap(api.PATCH("/reports/schedules/{id}", { params: { path: { id: schedule.id } }, body }))
        : unwrap(api.POST("/reports/schedules", { params: {}, body }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["reports", "schedules"] });
      notifications.show({ color: "teal", message: `Schedule ${name} saved.` });
      onClose();
    },
    onError: (err) => setFormError(err.message),
  });
  return (
    <Modal opened onClose={onClose} title={schedule ? `Edit ${schedule.name}` : "New report schedule"}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Select
          label="Kind"
          value={kind}
          allowDeselect={false}
          onChange={(v) => setKind((v ?? "compliance") as Kind)}
          data={KINDS.filter((k) => k.value !== "posture")}
        />
        <TextInput
          label="Cron expression"
          description="minute hour day-of-month month day-of-week"
          value={cron}
          onChange={(e) => setCron(e.currentTarget.value)}
        />
        <TextInput label="Time zone" description="An IANA name, such as Europe/Paris" value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)} />
        <Select label="Attached format" value={format} allowDeselect={false} onChange={(v) => setFormat((v ?? "pdf") as Format)} data={FORMATS} />
        {canReadChannels && (
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Deliver through
            </Text>
            {(channelList.data?.channels ?? []).map((c) => (
              <Checkbox
                key={c.id}
                label={`${c.name} (${c.type})`}
                checked={channels.includes(c.id)}
                onChange={(e) => setChannels(e.currentTarget.checked ? [...channels, c.id] : channels.filter((x) => x !== c.id))}
              />
            ))}
          </Stack>
        )}
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button loading={save.isPending} onClick={() => save.mutate()}>
            Save schedule
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// Schedules lists the report schedules, with their next run and last report.
function Schedules() {
  const qc = useQueryClient();
  const canWrite = useCan("report:schedule");
  const [editing, setEditing] = useState<Schedule | "new">();
  const { data, error, isPending } = useQuery({
    queryKey: ["reports", "schedules"],
    queryFn: () => unwrap(api.GET("/reports/schedules", { params: { query: { limit: 200 } } })),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/reports/schedules/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["reports", "schedules"] });
      notifications.show({ color: "teal", message: "Schedule deleted." });
    },
    onError: (err) => notifications.show({ color: "red", title: "Not deleted", message: err.message }),
  });
  return (
    <Card withBorder component="section" aria-label="Schedules" maw={1100}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Schedules
        </Title>
        {canWrite && <Button onClick={() => setEditing("new")}>New schedule</Button>}
      </Group>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : data.items.length === 0 ? (
        <Text c="dimmed">No schedules.</Text>
      ) : (
        <Table aria-label="Report schedules">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Kind</Table.Th>
              <Table.Th scope="col">When</Table.Th>
              <Table.Th scope="col">Last run</Table.Th>
              <Table.Th scope="col">Next run</Table.Th>
              <Table.Th scope="col">
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.items.map((s) => (
              <Table.Tr key={s.id} data-testid={`schedule-${s.name}`}>
                <Table.Td>
                  {s.name}
                  {!s.enabled && (
                    <Badge ml="xs" color="gray" variant="light">
                      disabled
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>
                  {s.kind} · {s.format}
                </Table.Td>
                <Table.Td ff="monospace">
                  {s.cron} ({s.timezone})
                </Table.Td>
                <Table.Td data-testid={`schedule-last-run-${s.name}`}>
                  {s.last_run_at ? formatDateTime(s.last_run_at) : "never"}
                  {s.last_report_id && (
                    <Text size="xs">
                      report{" "}
                      <a href={`/api/v1/reports/${s.last_report_id}/export?format=${s.format}`} aria-label={`Download the last report of ${s.name}`}>
                        {s.last_report_id.slice(0, 8)}…
                      </a>
                    </Text>
                  )}
                  {s.last_error && (
                    <Text size="xs" c="red.9" data-testid={`schedule-error-${s.name}`}>
                      {s.last_error} See Notifications → Deliveries.
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{s.enabled ? formatDateTime(s.next_run_at) : "—"}</Table.Td>
                <Table.Td>
                  {canWrite && (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" variant="default" onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>
                        Edit
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        color="red"
                        loading={remove.isPending && remove.variables === s.id}
                        onClick={() => remove.mutate(s.id)}
                        aria-label={`Delete ${s.name}`}
                      >
                        Delete
                      </Button>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {editing && <ScheduleForm schedule={editing === "new" ? undefined : editing} onClose={() => setEditing(undefined)} />}
    </Card>
  );
}

// ReportsPage generates signed reports, lists them with live progress and downloads,
// shows the signing keys and how to verify a file offline, and edits the schedules.
export function ReportsPage() {
  const canGenerate = useCan("report:generate");
  return (
    <>
      <PageHeader
        title="Reports"
        description="Signed compliance, posture, audit trail, patch history and vulnerability exposure reports, verifiable offline with openwatch verify-report."
      />
      <Stack>
        {canGenerate && <GenerateForm />}
        <ReportList />
        <SigningKeys />
        <Schedules />
      </Stack>
    </>
  );
}
