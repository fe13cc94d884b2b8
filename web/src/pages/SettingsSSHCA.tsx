import { Badge, Button, Card, Code, CopyButton, Group, Modal, NumberInput, Stack, Table, Text, Title } from "@mantine/core";
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

// SSHCAPanels shows the SSH user and host CAs with the lines to install on hosts.
export function SSHCAPanels() {
  return (
    <Stack gap="lg">
      <CAPanel kind="user" />
      <CAPanel kind="host" />
    </Stack>
  );
}
