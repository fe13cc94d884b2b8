import { Button, Checkbox, Group, Loader, PasswordInput, Select, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { HostPicker } from "./CredentialHostPicker";
import { FormError } from "../components/FormError";
import { usesKey, usesPassword } from "./credentialAuth";

type Credential = Schemas["CredentialResponse"];
type AuthMethod = Credential["auth_method"];

export interface CredentialEditValues {
  name: string;
  description: string;
  username: string;
  auth_method: AuthMethod;
  private_key: string;
  private_key_passphrase: string;
  password: string;
  is_default: boolean;
}
const EDIT_FIELDS = ["name", "description", "username", "auth_method", "private_key", "private_key_passphrase", "password", "is_default"] as const;

// credentialPatch is the PATCH body for what the form changed, or undefined when nothing
// did. Secrets are write-only: an empty secret field means "keep the sealed one", so it
// is sent only when filled in (and only when the authentication method uses it).
export function credentialPatch(c: Credential, v: CredentialEditValues): Schemas["CredentialUpdateRequest"] | undefined {
  const body: Schemas["CredentialUpdateRequest"] = {};
  if (v.name.trim() !== c.name) body.name = v.name.trim();
  if (v.description.trim() !== (c.description ?? "")) body.description = v.description.trim();
  if (v.username.trim() !== c.username) body.username = v.username.trim();
  if (v.auth_method !== c.auth_method) body.auth_method = v.auth_method;
  if (usesKey(v.auth_method) && v.private_key !== "") body.private_key = v.private_key;
  if (usesKey(v.auth_method) && v.private_key_passphrase !== "") body.private_key_passphrase = v.private_key_passphrase;
  if (usesPassword(v.auth_method) && v.password !== "") body.password = v.password;
  if (c.scope === "system" && v.is_default !== c.is_default) body.is_default = v.is_default;
  return Object.keys(body).length > 0 ? body : undefined;
}

function EditForm({ credential, onDone }: { credential: Credential; onDone: (c: Credential) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<CredentialEditValues>({
    mode: "controlled",
    initialValues: {
      name: credential.name,
      description: credential.description ?? "",
      username: credential.username,
      auth_method: credential.auth_method,
      private_key: "",
      private_key_passphrase: "",
      password: "",
      is_default: credential.is_default,
    },
  });
  const v = form.getValues();
  const body = credentialPatch(credential, v);
  const save = useMutation({
    mutationFn: (b: Schemas["CredentialUpdateRequest"]) =>
      unwrap(api.PATCH("/credentials/{id}", { params: { path: { id: credential.id } }, body: b })),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["credentials"] });
      onDone(c);
    },
    onError: (err) => setFormError(applyFieldError(err, form, EDIT_FIELDS)),
  });
  const hadKey = usesKey(credential.auth_method);
  const hadPassword = usesPassword(credential.auth_method);
  return (
    <form
      noValidate
      onSubmit={form.onSubmit(() => {
        setFormError(undefined);
        if (body) save.mutate(body);
      })}
    >
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" withAsterisk {...form.getInputProps("name")} />
        <TextInput label="SSH user" withAsterisk autoComplete="off" {...form.getInputProps("username")} />
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
        <Text size="sm" c="dimmed">
          Secrets are write-only: they are never shown. Leave a secret empty to keep the one stored; fill it in to replace it.
        </Text>
        {usesKey(v.auth_method) && (
          <>
            <Textarea
              label={hadKey ? "Replace private key" : "Private key"}
              description={
                hadKey
                  ? `Stored key: ${credential.ssh_key_type ?? "key"} ${credential.ssh_key_fingerprint ?? ""}`.trim()
                  : "PEM or OpenSSH format. It is sealed on the server and never shown again."
              }
              placeholder={hadKey ? "Empty: keep the stored key" : undefined}
              autosize
              minRows={3}
              maxRows={10}
              spellCheck={false}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              {...form.getInputProps("private_key")}
            />
            <PasswordInput
              label="Key passphrase"
              description="Only with a new private key."
              autoComplete="off"
              {...form.getInputProps("private_key_passphrase")}
            />
          </>
        )}
        {usesPassword(v.auth_method) && (
          <PasswordInput
            label={hadPassword ? "Replace password" : "Password"}
            placeholder={hadPassword ? "Empty: keep the stored password" : undefined}
            autoComplete="new-password"
            {...form.getInputProps("password")}
          />
        )}
        <TextInput label="Description" {...form.getInputProps("description")} />
        {credential.scope === "system" && (
          <Checkbox label="Use for every host without a credential of its own" {...form.getInputProps("is_default", { type: "checkbox" })} />
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending} disabled={!body}>
            Save credential
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// CredentialEditForm reads the credential afresh (GET /credentials/{id}) and saves what
// changed (PATCH /credentials/{id}).
export function CredentialEditForm({ id, onDone }: { id: string; onDone: (c: Credential) => void }) {
  const { data, error, isPending } = useQuery({
    queryKey: ["credentials", "detail", id],
    queryFn: () => unwrap(api.GET("/credentials/{id}", { params: { path: { id } } })),
  });
  if (isPending) return <Loader role="status" size="sm" aria-label="Loading the credential" />;
  if (!data) return <ErrorAlert error={error} />;
  return <EditForm key={data.updated_at} credential={data} onDone={onDone} />;
}

interface CloneValues {
  name: string;
  scope: "system" | "host";
  scope_id: string;
  is_default: boolean;
}

// CredentialCloneForm copies a credential to a new scope (POST /credentials/{id}:clone);
// the secret is copied on the server and never crosses the wire.
export function CredentialCloneForm({ credential, onDone }: { credential: Credential; onDone: (c: Credential) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<CloneValues>({
    mode: "controlled",
    initialValues: { name: `${credential.name} (copy)`, scope: credential.scope, scope_id: "", is_default: false },
  });
  const v = form.getValues();
  const clone = useMutation({
    mutationFn: (x: CloneValues) => {
      const body: Schemas["CredentialCloneRequest"] = { scope: x.scope, name: x.name.trim() };
      if (x.scope === "host") body.scope_id = x.scope_id || null;
      if (x.scope === "system" && x.is_default) body.is_default = true;
      return unwrap(
        api.POST("/credentials/{id}:clone", {
          params: { path: { id: credential.id } },
          body,
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      );
    },
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["credentials"] });
      onDone(c);
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "scope", "scope_id", "is_default"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((x) => (setFormError(undefined), clone.mutate(x)))}>
      <Stack>
        <Text size="sm" c="dimmed">
          The copy has the same user and secrets; they are copied on the server and never sent to the browser.
        </Text>
        <FormError message={formError} />
        <TextInput label="Name of the copy" withAsterisk {...form.getInputProps("name")} />
        <Select
          label="Applies to"
          data={[
            { value: "system", label: "Every host (system)" },
            { value: "host", label: "One host" },
          ]}
          allowDeselect={false}
          {...form.getInputProps("scope")}
        />
        {v.scope === "host" && (
          <HostPicker value={v.scope_id} onChange={(id) => form.setFieldValue("scope_id", id)} error={form.errors.scope_id} />
        )}
        {v.scope === "system" && (
          <Checkbox label="Use for every host without a credential of its own" {...form.getInputProps("is_default", { type: "checkbox" })} />
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={clone.isPending}>
            Clone credential
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
