import { Badge, Button, Checkbox, Group, Modal, PasswordInput, Select, Stack, Table, Text, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime } from "../lib/format";
import { ConfirmDialog } from "./AdminConfirm";
import { CredentialCloneForm, CredentialEditForm } from "./CredentialActions";
import { HostPicker } from "./CredentialHostPicker";
import { FormError } from "../components/FormError";
import { usesKey, usesPassword } from "./credentialAuth";

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
      if (usesKey(x.auth_method)) body.private_key = x.private_key;
      if (usesKey(x.auth_method) && x.private_key_passphrase) body.private_key_passphrase = x.private_key_passphrase;
      if (usesPassword(x.auth_method)) body.password = x.password;
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
        <FormError message={formError} />
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
            { value: "certificate", label: "Certificate (minted per connection)" },
          ]}
          allowDeselect={false}
          {...form.getInputProps("auth_method")}
        />
        {usesKey(v.auth_method) && (
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
        {usesPassword(v.auth_method) && (
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
  const qc = useQueryClient();
  const canWrite = useCan("credential:write");
  const canDelete = useCan("credential:delete");
  const [editing, setEditing] = useState<Schemas["CredentialResponse"]>();
  const [cloning, setCloning] = useState<Schemas["CredentialResponse"]>();
  const [deleting, setDeleting] = useState<Schemas["CredentialResponse"]>();
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
            {(canWrite || canDelete) && (
              <Table.Th scope="col">
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            )}
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
              {(canWrite || canDelete) && (
                <Table.Td>
                  <Group gap={6} wrap="nowrap">
                    {canWrite && (
                      <Button size="xs" variant="default" aria-label={`Edit credential ${c.name}`} onClick={() => setEditing(c)}>
                        Edit
                      </Button>
                    )}
                    {canWrite && (
                      <Button size="xs" variant="default" aria-label={`Clone credential ${c.name}`} onClick={() => setCloning(c)}>
                        Clone
                      </Button>
                    )}
                    {canDelete && (
                      <Button size="xs" variant="light" color="red" aria-label={`Delete credential ${c.name}`} onClick={() => setDeleting(c)}>
                        Delete
                      </Button>
                    )}
                  </Group>
                </Table.Td>
              )}
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
      <Modal opened={!!editing} onClose={() => setEditing(undefined)} title={`Edit credential ${editing?.name ?? ""}`} size="lg">
        {editing && (
          <CredentialEditForm
            id={editing.id}
            onDone={(c) => {
              notifications.show({ color: "teal", message: `Credential ${c.name} saved.` });
              setEditing(undefined);
            }}
          />
        )}
      </Modal>
      <Modal opened={!!cloning} onClose={() => setCloning(undefined)} title={`Clone credential ${cloning?.name ?? ""}`}>
        {cloning && (
          <CredentialCloneForm
            credential={cloning}
            onDone={(c) => {
              notifications.show({ color: "teal", message: `Credential ${c.name} created as a copy.` });
              setCloning(undefined);
            }}
          />
        )}
      </Modal>
      {deleting && (
        <ConfirmDialog
          opened
          onClose={() => setDeleting(undefined)}
          title={`Delete credential ${deleting.name}?`}
          confirmLabel="Delete credential"
          action={() => unwrap(api.DELETE("/credentials/{id}", { params: { path: { id: deleting.id } } }))}
          onDone={() => {
            notifications.show({ color: "teal", message: `Credential ${deleting.name} deleted.` });
            setDeleting(undefined);
            void qc.invalidateQueries({ queryKey: ["credentials"] });
          }}
        >
          {`The server stops logging in with ${deleting.name}${
            deleting.is_default ? ", the default for every host without a credential of its own" : ""
          }; hosts relying on it need another credential.`}
        </ConfirmDialog>
      )}
    </Stack>
  );
}
