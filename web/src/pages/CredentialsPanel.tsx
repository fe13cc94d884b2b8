import { Alert, Badge, Button, Checkbox, Group, Modal, PasswordInput, Select, Stack, Table, Text, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime } from "../lib/format";

type AuthMethod = Schemas["CredentialCreateRequest"]["auth_method"];

interface Values {
  name: string;
  description: string;
  scope: "system" | "host";
  scope_id: string;
  username: string;
  auth_method: AuthMethod;
  private_key: string;
  private_key_passphrase: string;
  password: string;
  is_default: boolean;
}
const FIELDS = [
  "name",
  "description",
  "scope",
  "scope_id",
  "username",
  "auth_method",
  "private_key",
  "private_key_passphrase",
  "password",
  "is_default",
] as const;

// HostPicker finds a host by name for a host-scoped credential, asking the server as the
// user types (the fleet may be far too large for one list).
function HostPicker({ value, onChange, error }: { value: string; onChange: (id: string) => void; error?: React.ReactNode }) {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const { data } = useQuery({
    queryKey: ["hosts", "list", { q, picker: true }],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  const options = (data?.hosts ?? []).map((h) => ({ value: h.id, label: `${h.hostname} (${h.ip_address})` }));
  return (
    <Select
      label="Host"
      withAsterisk
      searchable
      data={options}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage="No host matches"
      filter={({ options }) => options}
      error={error}
    />
  );
}

// CredentialForm adds an SSH credential. Secrets go to the server once and never come
// back; the server checks the key (a wrong passphrase is a 400 on that field).
function CredentialForm({ onDone }: { onDone: (c: Schemas["CredentialResponse"]) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<Values>({
    mode: "controlled",
    initialValues: {
      name: "",
      description: "",
      scope: "system",
      scope_id: "",
      username: "",
      auth_method: "ssh_key",
      private_key: "",
      private_key_passphrase: "",
      password: "",
      is_default: false,
    },
  });
  const v = form.getValues();
  const create = useMutation({
    mutationFn: (x: Values) => {
      const body: Schemas["CredentialCreateRequest"] = {
        name: x.name.trim(),
        scope: x.scope,
        username: x.username.trim(),
        auth_method: x.auth_method,
      };
      if (x.description.trim()) body.description = x.description.trim();
      if (x.scope === "host") body.scope_id = x.scope_id || null;
      if (x.auth_method !== "password") body.private_key = x.private_key;
      if (x.auth_method !== "password" && x.private_key_passphrase) body.private_key_passphrase = x.private_key_passphrase;
      if (x.auth_method !== "ssh_key") body.password = x.password;
      if (x.scope === "system" && x.is_default) body.is_default = true;
      return unwrap(api.POST("/credentials", { body, headers: { "Idempotency-Key": crypto.randomUUID() } }));
    },
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["credentials"] });
      onDone(c);
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((x) => {
        setFormError(undefined);
        create.mutate(x);
      })}
    >
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Name" withAsterisk {...form.getInputProps("name")} />
        <Group grow align="flex-start">
          <Select
            label="Applies to"
            data={[
              { value: "system", label: "Every host (system)" },
              { value: "host", label: "One host" },
            ]}
            allowDeselect={false}
            {...form.getInputProps("scope")}
          />
          <TextInput label="SSH user" withAsterisk autoComplete="off" {...form.getInputProps("username")} />
        </Group>
        {v.scope === "host" && (
          <HostPicker
            value={v.scope_id}
            onChange={(id) => form.setFieldValue("scope_id", id)}
            error={form.errors.scope_id}
          />
        )}
        <Select
          label="Authentication"
          data={[
            { value: "ssh_key", label: "SSH key" },
            { value: "password", label: "Password" },
            { value: "both", label: "Key and password (for sudo)" },
          ]}
          allowDeselect={false}
          {...form.getInputProps("auth_method")}
        />
        {v.auth_method !== "password" && (
          <>
            <Textarea
              label="Private key"
              description="PEM or OpenSSH format. It is sealed on the server and never shown again."
              autosize
              minRows={4}
              maxRows={10}
              spellCheck={false}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              {...form.getInputProps("private_key")}
            />
            <PasswordInput label="Key passphrase" autoComplete="off" {...form.getInputProps("private_key_passphrase")} />
          </>
        )}
        {v.auth_method !== "ssh_key" && (
          <PasswordInput label="Password" autoComplete="new-password" {...form.getInputProps("password")} />
        )}
        <TextInput label="Description" {...form.getInputProps("description")} />
        {v.scope === "system" && (
          <Checkbox label="Use for every host without a credential of its own" {...form.getInputProps("is_default", { type: "checkbox" })} />
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Add credential
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// CredentialsPanel lists the SSH credential vault: names, users and key fingerprints, never
// the secrets.
export function CredentialsPanel({ adding, setAdding }: { adding: boolean; setAdding: (on: boolean) => void }) {
  const { data, error } = useQuery({
    queryKey: ["credentials"],
    queryFn: () => unwrap(api.GET("/credentials", { params: { query: { limit: 200 } } })),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm">
          SSH credentials the server logs in with. Secrets are sealed and never returned.
        </Text>
        <Can permission="credential:write">
          <Button onClick={() => setAdding(true)} data-testid="add-credential">
            Add credential
          </Button>
        </Can>
      </Group>
      <ErrorAlert error={error} />
      <Table aria-label="Credentials" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Applies to</Table.Th>
            <Table.Th scope="col">User</Table.Th>
            <Table.Th scope="col">Authentication</Table.Th>
            <Table.Th scope="col">Key</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data?.credentials.map((c) => (
            <Table.Tr key={c.id}>
              <Table.Td>
                {c.name}
                {c.is_default && (
                  <Badge ml="xs" size="sm" variant="light" miw="fit-content">
                    default
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>{c.scope === "system" ? "every host" : "one host"}</Table.Td>
              <Table.Td>{c.username}</Table.Td>
              <Table.Td>{c.auth_method}</Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace">
                  {c.ssh_key_fingerprint ?? "—"}
                </Text>
              </Table.Td>
              <Table.Td>{formatDateTime(c.created_at)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {data?.credentials.length === 0 && <Text c="dimmed">No credential yet.</Text>}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add credential" size="lg">
        <CredentialForm
          onDone={(c) => {
            notifications.show({ color: "teal", message: `Credential ${c.name} added.` });
            setAdding(false);
          }}
        />
      </Modal>
    </Stack>
  );
}
