import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime, formatRelative } from "../lib/format";

type Role = Schemas["RoleEntry"];

function roleOptions(roles: Role[]) {
  return roles.map((r) => ({ value: r.id, label: r.id }));
}

// AccountForm creates a service account; 400 and 409 land on the field they name.
function AccountForm({ roles, onDone }: { roles: Role[]; onDone: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { name: "", description: "", role: "viewer" } });
  const create = useMutation({
    mutationFn: (v: { name: string; description: string; role: string }) =>
      unwrap(
        api.POST("/service-accounts", {
          body: { name: v.name.trim(), role: v.role, description: v.description.trim() || undefined },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["service-accounts"] });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "description", "role"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), create.mutate(v)))}>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Name" withAsterisk {...form.getInputProps("name")} />
        <Select label="Role" data={roleOptions(roles)} allowDeselect={false} {...form.getInputProps("role")} />
        <TextInput label="Description" {...form.getInputProps("description")} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create service account
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// TokenForm mints a token; the secret is shown once, with a copy button, and never again.
function TokenForm({ account, onClose }: { account: Schemas["ServiceAccount"]; onClose: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { name: "", ttl: "90d" } });
  const mint = useMutation({
    mutationFn: (v: { name: string; ttl: string }) =>
      unwrap(
        api.POST("/service-accounts/{id}/tokens", {
          params: { path: { id: account.id } },
          body: v.ttl === "never" ? { name: v.name.trim(), eternal: true } : { name: v.name.trim(), ttl: v.ttl },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["service-accounts", account.id, "tokens"] }),
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "ttl"])),
  });
  if (mint.data) {
    return (
      <Stack>
        <Alert color="teal" role="status" title="Token created">
          Copy it now: it is shown this once and cannot be read again.
        </Alert>
        <Code block className="mono-block" data-testid="new-token">
          {mint.data.token}
        </Code>
        <Group justify="space-between">
          <CopyButton value={mint.data.token}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? "Copied" : "Copy token"}
              </Button>
            )}
          </CopyButton>
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), mint.mutate(v)))}>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Token name" withAsterisk {...form.getInputProps("name")} />
        <Select
          label="Expires"
          data={[
            { value: "24h", label: "In a day" },
            { value: "30d", label: "In 30 days" },
            { value: "90d", label: "In 90 days" },
            { value: "365d", label: "In a year" },
            { value: "never", label: "Never" },
          ]}
          allowDeselect={false}
          {...form.getInputProps("ttl")}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={mint.isPending}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Tokens({ account }: { account: Schemas["ServiceAccount"] }) {
  const { data, error } = useQuery({
    queryKey: ["service-accounts", account.id, "tokens"],
    queryFn: () => unwrap(api.GET("/service-accounts/{id}/tokens", { params: { path: { id: account.id } } })),
  });
  if (error) return <ErrorAlert error={error} />;
  if (!data || data.tokens.length === 0) return <Text size="sm" c="dimmed">No token.</Text>;
  return (
    <Table aria-label={`Tokens of ${account.name}`}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Token</Table.Th>
          <Table.Th scope="col">Status</Table.Th>
          <Table.Th scope="col">Expires</Table.Th>
          <Table.Th scope="col">Last used</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {data.tokens.map((t) => (
          <Table.Tr key={t.id}>
            <Table.Td>{t.name}</Table.Td>
            <Table.Td>{t.status}</Table.Td>
            <Table.Td>{t.expires_at ? formatDateTime(t.expires_at) : "never"}</Table.Td>
            <Table.Td>{formatRelative(t.last_used_at)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ServiceAccountsPanel lists machine identities and their tokens; new tokens are shown once.
export function ServiceAccountsPanel({ roles }: { roles: Role[] }) {
  const canWrite = useCan("service_account:write");
  const [adding, setAdding] = useState(false);
  const [minting, setMinting] = useState<Schemas["ServiceAccount"]>();
  const { data, error } = useQuery({
    queryKey: ["service-accounts"],
    queryFn: () => unwrap(api.GET("/service-accounts", { params: { query: { limit: 200 } } })),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm">
          Machine identities for scripts and integrations. A token with the viewer role is a read-only key.
        </Text>
        {canWrite && <Button onClick={() => setAdding(true)}>Add service account</Button>}
      </Group>
      <ErrorAlert error={error} />
      {data?.service_accounts.length === 0 && <Text c="dimmed">No service account yet.</Text>}
      {data?.service_accounts.map((sa) => (
        <Stack key={sa.id} gap="xs" component="section" aria-label={`Service account ${sa.name}`}>
          <Group justify="space-between">
            <Group gap="xs">
              <Title order={3} size="h5">
                {sa.name}
              </Title>
              <Badge variant="default" miw="fit-content">
                {sa.role}
              </Badge>
              {sa.status !== "active" && (
                <Badge color="gray" miw="fit-content">
                  {sa.status}
                </Badge>
              )}
            </Group>
            {canWrite && (
              <Button size="xs" variant="default" onClick={() => setMinting(sa)}>
                New token
              </Button>
            )}
          </Group>
          {sa.description && (
            <Text size="sm" c="dimmed">
              {sa.description}
            </Text>
          )}
          <Tokens account={sa} />
        </Stack>
      ))}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add service account">
        <AccountForm roles={roles} onDone={() => setAdding(false)} />
      </Modal>
      <Modal opened={!!minting} onClose={() => setMinting(undefined)} title={`New token for ${minting?.name ?? ""}`}>
        {minting && <TokenForm account={minting} onClose={() => setMinting(undefined)} />}
      </Modal>
    </Stack>
  );
}
