import { Button, Card, Group, List, NumberInput, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { formatDateTime } from "../lib/format";

// What the support bundle holds, file by file, as the server writes it.
export const BUNDLE_CONTENTS: [string, string][] = [
  ["MANIFEST.json", "every file with its size and SHA-256"],
  ["config.toml", "the resolved configuration, every secret redacted"],
  ["version.json, runtime.json", "version and build; Go version, GOMAXPROCS, memory"],
  ["migrations.txt", "schema and job-queue migrations, applied and pending"],
  ["metrics.prom", "a metrics snapshot (Prometheus text format)"],
  ["logs.jsonl", "the server's most recent log lines"],
  ["tables.json", "rows and bytes per database table"],
  ["queue.json", "background jobs by kind and state, the oldest waiting job"],
  ["hosts.json, liveness.json, scans.json", "host counts, hosts by monitoring state, scans by status and the last scan times"],
];

// bundleName returns the file name of a Content-Disposition header, or a default.
export function bundleName(disposition: string | null): string {
  const m = /filename="([^"]+)"/.exec(disposition ?? "");
  return m?.[1] ?? "openwatch-sysdump.tar.gz";
}

// SupportBundle explains the support bundle and downloads it (support:sysdump).
export function SupportBundle() {
  const canDownload = useCan("support:sysdump");
  const download = useMutation({
    mutationFn: async () => {
      const res = await api.POST("/support/sysdump", { parseAs: "blob" });
      const blob = await unwrap(Promise.resolve(res));
      const name = bundleName(res.response.headers.get("Content-Disposition"));
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
    onSuccess: (name) => notifications.show({ color: "teal", message: `Support bundle ${name} downloaded.` }),
  });
  return (
    <Card withBorder component="section" aria-label="Support bundle" maw={900}>
      <Title order={2} size="h4">
        Support bundle
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        A gzip tarball to hand to whoever troubleshoots this installation. It holds no secret: no credential, token, key or password.
        Each download is recorded in the audit trail. The same bundle is written on the server by <code>openwatch sysdump</code>.
      </Text>
      <Table withTableBorder mb="md" aria-label="Support bundle contents">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>File</Table.Th>
            <Table.Th>Holds</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {BUNDLE_CONTENTS.map(([file, what]) => (
            <Table.Tr key={file}>
              <Table.Td>
                <code>{file}</code>
              </Table.Td>
              <Table.Td>{what}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {download.error && <ErrorAlert error={download.error} />}
      {canDownload ? (
        <Group>
          <Button onClick={() => download.mutate()} loading={download.isPending}>
            Download support bundle
          </Button>
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          Downloading the bundle needs permission support:sysdump.
        </Text>
      )}
    </Card>
  );
}

type Policy = Schemas["RetentionPolicyUpdate"];
const FIELDS: (keyof Policy)[] = [
  "events_days",
  "scan_evidence_days",
  "monitoring_days",
  "jobs_days",
  "change_jobs_days",
  "reports_days",
  "notification_deliveries_days",
];
const LABELS: Record<string, string> = {
  events: "Events",
  scan_evidence: "Scan evidence",
  monitoring: "Monitoring history",
  jobs: "Background jobs",
  change_jobs: "Patch and remediation jobs",
  reports: "Reports",
  notification_deliveries: "Notification deliveries",
};
const KEY = ["admin", "retention"] as const;

// RetentionPolicy edits how many days each kind of data is kept and shows what the
// retention job deleted in its last runs (admin:retention_policy).
export function RetentionPolicy() {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const { data, error, isPending } = useQuery({ queryKey: KEY, queryFn: () => unwrap(api.GET("/admin/retention")) });
  const form = useForm<Policy>({ mode: "controlled", initialValues: Object.fromEntries(FIELDS.map((f) => [f, 0])) as Policy });
  useEffect(() => {
    if (data) {
      const v = Object.fromEntries(FIELDS.map((f) => [f, data.policy[f]])) as Policy;
      form.setValues(v);
      form.resetDirty(v);
    }
  }, [data]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = useMutation({
    mutationFn: (v: Policy) => unwrap(api.PUT("/admin/retention", { body: v })),
    onSuccess: (next) => {
      qc.setQueryData(KEY, next);
      notifications.show({ color: "teal", message: "Retention policy saved." });
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS)),
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  return (
    <Card withBorder component="section" aria-label="Retention" maw={900}>
      <Title order={2} size="h4">
        Retention
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        How many days each kind of data is kept. A background job deletes older data every hour, in small batches. The audit trail is
        never deleted.
      </Text>
      <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), save.mutate(v)))}>
        <Stack>
          <FormError message={formError} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {data.kinds.map((k) => (
              <NumberInput
                key={k.id}
                label={`${LABELS[k.id] ?? k.id} (days)`}
                description={`${k.description} Minimum ${k.minimum_days}, default ${k.default_days}.`}
                min={k.minimum_days}
                max={3650}
                clampBehavior="none"
                {...form.getInputProps(`${k.id}_days`)}
              />
            ))}
          </SimpleGrid>
          <Text size="sm">Audit trail: never deleted.</Text>
          <Text size="xs" c="dimmed">
            Last changed {formatDateTime(data.policy.updated_at)} by {data.policy.updated_by || "—"}.
          </Text>
          <Group>
            <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
              Save retention policy
            </Button>
          </Group>
        </Stack>
      </form>
      <Title order={3} size="h5" mt="lg" mb="xs">
        Last runs
      </Title>
      {data.runs.length === 0 ? (
        <Text size="sm" c="dimmed">
          The retention job has not run yet.
        </Text>
      ) : (
        <Table withTableBorder aria-label="Retention runs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Deleted</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.runs.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{formatDateTime(r.started_at)}</Table.Td>
                <Table.Td>{r.status}{r.error ? `: ${r.error}` : ""}</Table.Td>
                <Table.Td>
                  <List size="sm">
                    {Object.entries(r.deleted).map(([k, n]) => (
                      <List.Item key={k}>
                        {LABELS[k] ?? k}: {n}
                      </List.Item>
                    ))}
                  </List>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

// SupportPanels is the Support tab: the bundle and, for those who may, the retention policy.
export function SupportPanels() {
  const canRetention = useCan("admin:retention_policy");
  return (
    <Stack gap="lg">
      <SupportBundle />
      {canRetention && <RetentionPolicy />}
    </Stack>
  );
}
