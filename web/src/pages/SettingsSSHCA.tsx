import { Badge, Button, Card, Checkbox, Code, CopyButton, Group, Modal, NumberInput, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { formatDateTime } from "../lib/format";

type Kind = "user" | "host";

const TEXT: Record<Kind, { title: string; description: string; copy: string }> = {
  user: {
    title: "User CA",
    description:
      "Hosts that trust this CA accept the short-lived user certificates OpenWatch signs for its jobs. Put these lines in the file sshd's TrustedUserCAKeys names.",
    copy: "Copy TrustedUserCAKeys lines",
  },
  host: {
    title: "Host CA",
    description:
      "Host certificates are signed with this CA. Add these lines to known_hosts to verify hosts by their certificate instead of trusting their key on first use.",
    copy: "Copy known_hosts lines",
  },
};

// RotateDialog rotates a CA: a new active key, the previous one trusted for the overlap.
function RotateDialog({ kind, title, onClose }: { kind: Kind; title: string; onClose: () => void }) {
  const qc = useQueryClient();
  const [hours, setHours] = useState<number | string>(168);
  const [formError, setFormError] = useState<string>();
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/ssh-ca/{kind}:rotate", { params: { path: { kind } }, body: { overlap_hours: Number(hours) } })),
    onSuccess: (ca) => {
      qc.setQueryData(["ssh-ca", kind], ca);
      notifications.show({ color: "teal", message: `${title} rotated.` });
      onClose();
    },
    onError: (err) => setFormError(err.message),
  });
  return (
    <Modal opened onClose={onClose} title={`Rotate the ${title}`}>
      <Stack>
        <FormError message={formError} />
        <Text size="sm">
          A new key becomes active at once. The current key stays trusted for the overlap, so hosts can install the new lines
          before it goes.
        </Text>
        {kind === "user" && (
          <Text size="sm" data-testid="ssh-ca-rotate-delivery">
            OpenWatch installs both keys at once on every host with a host certificate or a certificate credential, and when
            the overlap ends it removes the old key there and revokes it in the KRL. Until then each login offers a certificate
            from both keys, so hosts not yet updated still let OpenWatch in.
          </Text>
        )}
        <NumberInput label="Overlap (hours)" min={0} max={2160} value={hours} onChange={setHours} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={rotate.isPending} onClick={() => rotate.mutate()}>
            Rotate
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// CAPanel shows one CA's trusted keys and its ready lines, with rotation for those who
// may change the system configuration.
function CAPanel({ kind }: { kind: Kind }) {
  const canRotate = useCan("system:config:write");
  const [rotating, setRotating] = useState(false);
  const { data, error, isPending } = useQuery({
    queryKey: ["ssh-ca", kind],
    queryFn: () => unwrap(kind === "user" ? api.GET("/ssh-ca/user") : api.GET("/ssh-ca/host")),
  });
  const t = TEXT[kind];
  return (
    <Card withBorder component="section" aria-label={t.title} maw={1100}>
      <Title order={2} size="h4">
        {t.title}
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        {t.description}
      </Text>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : (
        <Stack>
          <Table aria-label={`${t.title} keys`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Key id</Table.Th>
                <Table.Th>Fingerprint</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Trusted until</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.keys.map((k) => (
                <Table.Tr key={k.key_id}>
                  <Table.Td ff="monospace">{k.key_id}</Table.Td>
                  <Table.Td ff="monospace">{k.fingerprint_sha256}</Table.Td>
                  <Table.Td miw={110}>
                    <Badge color={k.status === "active" ? "teal" : "gray"} variant="light" style={{ overflow: "visible" }}>
                      {k.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatDateTime(k.created_at)}</Table.Td>
                  <Table.Td>{k.trusted_until ? formatDateTime(k.trusted_until) : "—"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Code block className="mono-block" data-testid={`ssh-ca-${kind}-lines`}>
            {data.ready_lines}
          </Code>
          <Group>
            <CopyButton value={data.ready_lines}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy}>
                  {copied ? "Copied" : t.copy}
                </Button>
              )}
            </CopyButton>
            {kind === "host" && (
              <Button component="a" variant="default" href="/api/v1/ssh-ca/krl" download="openwatch.krl">
                Download KRL
              </Button>
            )}
            {canRotate && (
              <Button variant="default" color="red" onClick={() => setRotating(true)}>
                Rotate {t.title}
              </Button>
            )}
          </Group>
        </Stack>
      )}
      {rotating && <RotateDialog kind={kind} title={t.title} onClose={() => setRotating(false)} />}
    </Card>
  );
}

// ExpiryPanel edits when expiring host certificates alert, and whether they renew.
function ExpiryPanel() {
  const qc = useQueryClient();
  const canWrite = useCan("system:config:write");
  const { data, error, isPending } = useQuery({
    queryKey: ["ssh-certificates", "config"],
    queryFn: () => unwrap(api.GET("/system/ssh-certificates/config")),
  });
  const [days, setDays] = useState<number | string>();
  const [auto, setAuto] = useState<boolean>();
  const [formError, setFormError] = useState<string>();
  const save = useMutation({
    mutationFn: (body: { warn_days: number; auto_renew: boolean }) =>
      unwrap(api.PUT("/system/ssh-certificates/config", { body })),
    onSuccess: () => {
      setFormError(undefined);
      void qc.invalidateQueries({ queryKey: ["ssh-certificates", "config"] });
      notifications.show({ color: "teal", message: "Certificate expiry settings saved." });
    },
    onError: (err) => setFormError(err.message),
  });
  const warnDays = days ?? data?.config.warn_days ?? 14;
  const autoRenew = auto ?? data?.config.auto_renew ?? false;
  return (
    <Card withBorder component="section" aria-label="Certificate expiry" maw={1100}>
      <Title order={2} size="h4">
        Certificate expiry
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Issued host certificates close to their end raise an alert (critical within 3 days), or are renewed automatically.
      </Text>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : (
        <Stack maw={420}>
          <FormError message={formError} />
          <NumberInput label="Alert when a certificate expires within (days)" min={1} max={365} value={warnDays} onChange={setDays} disabled={!canWrite} />
          <Checkbox label="Renew expiring certificates automatically" checked={autoRenew} onChange={(e) => setAuto(e.currentTarget.checked)} disabled={!canWrite} />
          {canWrite && (
            <Group>
              <Button loading={save.isPending} onClick={() => save.mutate({ warn_days: Number(warnDays), auto_renew: autoRenew })}>
                Save expiry settings
              </Button>
            </Group>
          )}
        </Stack>
      )}
    </Card>
  );
}

// SSHCAPanels shows the SSH user and host CAs with the lines to install on hosts, and the
// certificate expiry settings.
export function SSHCAPanels() {
  return (
    <Stack gap="lg">
      <CAPanel kind="user" />
      <CAPanel kind="host" />
      <ExpiryPanel />
    </Stack>
  );
}
