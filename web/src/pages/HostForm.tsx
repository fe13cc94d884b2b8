import {
  Alert,
  Button,
  Fieldset,
  Group,
  NumberInput,
  PasswordInput,
  Radio,
  Select,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { ApiError, applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { FormError } from "../components/FormError";
import { usesKey, usesPassword } from "./credentialAuth";

type Credential = Schemas["CredentialResponse"];
type AuthMethod = Schemas["CredentialCreateRequest"]["auth_method"];

// How the host gets the SSH credential it is scanned with. "default" (adding) and "keep"
// (editing) change nothing; "existing" copies a credential into the host's scope; "new"
// creates one for the host alone.
export type CredentialMode = "default" | "keep" | "existing" | "new";

interface Values {
  hostname: string;
  ip_address: string;
  port: number | string;
  username: string;
  environment: string;
  display_name: string;
  tags: string[];
  cred_mode: CredentialMode;
  cred_source: string;
  cred_auth: AuthMethod;
  cred_key: string;
  cred_passphrase: string;
  cred_password: string;
}
const HOST_FIELDS = ["hostname", "ip_address", "port", "username", "environment", "display_name", "tags"] as const;
// The credential calls' fields, mapped onto this form's. The new credential logs in as the
// form's SSH user, so a 400 on its username lands there.
const CRED_FIELDS = ["username", "cred_source", "cred_auth", "cred_key", "cred_passphrase", "cred_password"] as const;
const CRED_ALIASES = {
  auth_method: "cred_auth",
  private_key: "cred_key",
  private_key_passphrase: "cred_passphrase",
  password: "cred_password",
};

export const AUTH_LABEL: Record<AuthMethod, string> = {
  ssh_key: "SSH key",
  password: "Password",
  both: "Key and password (for sudo)",
  certificate: "Certificate (minted per connection)",
};

// The most credentials a picker loads (five pages of 200).
const PICKER_PAGES = 5;

export const credentialsPickerQuery = queryOptions({
  queryKey: ["credentials", "picker"] as const,
  queryFn: async () => {
    const all: Credential[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < PICKER_PAGES; i++) {
      const page = await unwrap(api.GET("/credentials", { params: { query: { limit: 200, cursor } } }));
      all.push(...page.credentials);
      cursor = page.next_cursor ?? undefined;
      if (!cursor) break;
    }
    return all.filter((c) => c.is_active);
  },
  staleTime: 30_000,
});

// resolvedCredentialQuery is the credential SSH would use for a host now, and why. A 404
// means none applies (no credential of its own and no system default).
export const resolvedCredentialQuery = (hostId: string) =>
  queryOptions({
    queryKey: ["hosts", "detail", hostId, "credential"] as const,
    queryFn: async () => {
      try {
        return await unwrap(api.POST("/hosts/{host_id}/credentials:resolve", { params: { path: { host_id: hostId } } }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    retry: false,
  });

function describe(c: Credential): string {
  const key = c.ssh_key_type ? ` ${c.ssh_key_type}` : "";
  return `${c.name} — ${c.username}, ${AUTH_LABEL[c.auth_method]}${key}`;
}

// Thrown by the form's save when the host was saved but its credential was not.
class CredentialStepError extends Error {
  constructor(
    readonly host: Schemas["HostResponse"],
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : "The credential was not saved.");
  }
}

// saveCredential gives a saved host the credential the form chose: a copy of an existing
// one in the host's scope, or a new key or password for the host alone.
async function saveCredential(host: Schemas["HostResponse"], v: Values, sources: Credential[]): Promise<void> {
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  if (v.cred_mode === "existing") {
    const src = sources.find((c) => c.id === v.cred_source);
    const name = `${src?.name ?? "credential"} (${host.hostname})`.slice(0, 256);
    await unwrap(
      api.POST("/credentials/{id}:clone", {
        params: { path: { id: v.cred_source } },
        body: { scope: "host", scope_id: host.id, name },
        headers,
      }),
    );
    return;
  }
  if (v.cred_mode === "new") {
    const body: Schemas["CredentialCreateRequest"] = {
      name: `${host.hostname} ${v.cred_auth === "password" ? "password" : v.cred_auth === "certificate" ? "certificate" : "key"}`.slice(0, 256),
      scope: "host",
      scope_id: host.id,
      username: v.username.trim(),
      auth_method: v.cred_auth,
    };
    if (usesKey(v.cred_auth)) body.private_key = v.cred_key;
    if (usesKey(v.cred_auth) && v.cred_passphrase) body.private_key_passphrase = v.cred_passphrase;
    if (usesPassword(v.cred_auth)) body.password = v.cred_password;
    await unwrap(api.POST("/credentials", { body, headers }));
  }
}

// CredentialSection shows which credential the host is (or will be) scanned with and, for
// callers with credential:write, lets them choose another.
function CredentialSection({
  form,
  host,
  sources,
  canWrite,
}: {
  form: UseFormReturnType<Values>;
  host?: Schemas["HostResponse"];
  sources: { data?: Credential[]; isPending: boolean };
  canWrite: boolean;
}) {
  const resolved = useQuery({ ...resolvedCredentialQuery(host?.id ?? ""), enabled: !!host });
  const v = form.getValues();
  const systemDefault = sources.data?.find((c) => c.scope === "system" && c.is_default);
  const shared = (sources.data ?? []).filter((c) => c.scope === "system");
  const others = (sources.data ?? []).filter((c) => c.scope === "host" && c.scope_id !== host?.id);
  const options = [
    { group: "Shared credentials", items: shared.map((c) => ({ value: c.id, label: describe(c) + (c.is_default ? " (default)" : "") })) },
    { group: "Other hosts' credentials", items: others.map((c) => ({ value: c.id, label: describe(c) })) },
  ].filter((g) => g.items.length > 0);

  let current: React.ReactNode;
  if (host) {
    if (resolved.isPending) current = "Looking up the credential in use…";
    else if (resolved.error) current = `The credential in use could not be read: ${resolved.error.message}`;
    else if (!resolved.data) current = "No credential applies to this host: it has none of its own and there is no system default.";
    else {
      current = (
        <>
          Uses <strong>{describe(resolved.data)}</strong>,{" "}
          {resolved.data.resolution_source === "host" ? "this host's own credential" : "the system default"}.
        </>
      );
    }
  } else if (sources.isPending) {
    current = "Looking up the system default…";
  } else {
    current = systemDefault ? (
      <>
        Without a choice here the host uses the system default, <strong>{describe(systemDefault)}</strong>.
      </>
    ) : (
      "There is no system default credential: without one here the host cannot be scanned."
    );
  }

  return (
    <Fieldset legend="SSH credential" variant="filled">
      <Stack gap="sm">
        <Text size="sm" data-testid="host-credential-current">
          {current}
        </Text>
        {!canWrite && (
          <Text size="sm" c="dimmed">
            Choosing another credential needs permission credential:write.
          </Text>
        )}
        {canWrite && (
          <Radio.Group label="Credential to use" {...form.getInputProps("cred_mode")}>
            <Stack gap="xs" mt={6}>
              {host ? (
                <Radio value="keep" label="Keep the current credential" />
              ) : (
                <Radio
                  value="default"
                  label="The system default"
                  description={systemDefault ? systemDefault.name : "none is set"}
                />
              )}
              <Radio
                value="existing"
                label="An existing credential"
                description="A copy is made for this host; the secret never leaves the server."
              />
              <Radio value="new" label="A new key or password for this host" />
            </Stack>
          </Radio.Group>
        )}
        {canWrite && v.cred_mode === "existing" && (
          <Select
            label="Existing credential"
            withAsterisk
            searchable
            data={options}
            nothingFoundMessage={sources.isPending ? "Loading…" : "No credential"}
            {...form.getInputProps("cred_source")}
          />
        )}
        {canWrite && v.cred_mode === "new" && (
          <>
            <Select
              label="Authentication"
              data={(Object.keys(AUTH_LABEL) as AuthMethod[]).map((m) => ({ value: m, label: AUTH_LABEL[m] }))}
              allowDeselect={false}
              {...form.getInputProps("cred_auth")}
            />
            <Text size="xs" c="dimmed">
              It logs in as the SSH user above. Secrets are sealed on the server and never shown again.
            </Text>
            {usesKey(v.cred_auth) && (
              <>
                <Textarea
                  label="Private key"
                  description="PEM or OpenSSH format."
                  rows={4}
                  resize="vertical"
                  spellCheck={false}
                  styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
                  {...form.getInputProps("cred_key")}
                />
                <PasswordInput label="Key passphrase" autoComplete="off" {...form.getInputProps("cred_passphrase")} />
              </>
            )}
            {usesPassword(v.cred_auth) && (
              <PasswordInput label="Login password" autoComplete="new-password" {...form.getInputProps("cred_password")} />
            )}
          </>
        )}
      </Stack>
    </Fieldset>
  );
}

// AddHostForm creates a host, or with `host` edits it, and sets the SSH credential it is
// scanned with. The server is the judge of what is valid: its 400 (and a 409 on a taken
// hostname) lands on the field it names. The host is saved first; when its credential
// then fails, the form says so and saving again retries only the credential.
export function AddHostForm({
  host,
  onDone,
}: {
  host?: Schemas["HostResponse"];
  onDone: (host: Schemas["HostResponse"]) => void;
}) {
  const qc = useQueryClient();
  const canReadCred = useCan("credential:read");
  const canWriteCred = useCan("credential:write");
  const sources = useQuery({ ...credentialsPickerQuery, enabled: canReadCred });
  const [formError, setFormError] = useState<string>();
  // The host this form added whose credential is still to be saved.
  const [added, setAdded] = useState<Schemas["HostResponse"]>();
  const form = useForm<Values>({
    mode: "controlled",
    initialValues: {
      ...(host
        ? {
            hostname: host.hostname,
            ip_address: host.ip_address,
            port: host.port,
            username: host.username ?? "",
            environment: host.environment,
            display_name: host.display_name ?? "",
            tags: host.tags ?? [],
          }
        : { hostname: "", ip_address: "", port: 22, username: "", environment: "", display_name: "", tags: [] }),
      cred_mode: host ? "keep" : "default",
      cred_source: "",
      cred_auth: "ssh_key",
      cred_key: "",
      cred_passphrase: "",
      cred_password: "",
    },
  });

  const saveHost = (v: Values) => {
    if (host) {
      // The hostname is the host's identity in its environment and is not edited.
      const patch: Schemas["HostUpdateRequest"] = {
        ip_address: v.ip_address.trim(),
        username: v.username.trim(),
        display_name: v.display_name.trim(),
        tags: v.tags,
      };
      if (v.port !== "") patch.port = Number(v.port);
      if (v.environment.trim()) patch.environment = v.environment.trim();
      return unwrap(api.PATCH("/hosts/{id}", { params: { path: { id: host.id } }, body: patch }));
    }
    const body: Schemas["HostCreateRequest"] = { hostname: v.hostname.trim(), ip_address: v.ip_address.trim() };
    if (v.port !== "") body.port = Number(v.port);
    if (v.username.trim()) body.username = v.username.trim();
    if (v.environment.trim()) body.environment = v.environment.trim();
    if (v.display_name.trim()) body.display_name = v.display_name.trim();
    if (v.tags.length) body.tags = v.tags;
    return unwrap(api.POST("/hosts", { body, headers: { "Idempotency-Key": crypto.randomUUID() } }));
  };

  const save = useMutation({
    mutationFn: async (v: Values) => {
      const saved = added ?? (await saveHost(v));
      if (canWriteCred && (v.cred_mode === "existing" || v.cred_mode === "new")) {
        try {
          await saveCredential(saved, v, sources.data ?? []);
        } catch (err) {
          throw new CredentialStepError(saved, err);
        }
        void qc.invalidateQueries({ queryKey: ["credentials"] });
      }
      return saved;
    },
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      onDone(saved);
    },
    onError: (err) => {
      if (err instanceof CredentialStepError) {
        void qc.invalidateQueries({ queryKey: ["hosts"] });
        if (!host) setAdded(err.host);
        setFormError(applyFieldError(err.cause, form, CRED_FIELDS, CRED_ALIASES));
        return;
      }
      setFormError(applyFieldError(err, form, HOST_FIELDS));
    },
  });

  const v = form.getValues();
  return (
    <form
      onSubmit={form.onSubmit((values) => {
        setFormError(undefined);
        if (canWriteCred && values.cred_mode === "existing" && !values.cred_source) {
          form.setFieldError("cred_source", "Choose the credential to copy.");
          return;
        }
        if (canWriteCred && values.cred_mode === "new" && !values.username.trim()) {
          form.setFieldError("username", "A new credential needs the SSH user it logs in as.");
          return;
        }
        save.mutate(values);
      })}
      noValidate
    >
      <Stack>
        <FormError message={formError} />
        <TextInput label="Hostname" withAsterisk disabled={!!host || !!added} {...form.getInputProps("hostname")} />
        <Group grow align="flex-start">
          <TextInput label="IP address" withAsterisk disabled={!!added} {...form.getInputProps("ip_address")} />
          <NumberInput label="SSH port" min={1} max={65535} disabled={!!added} {...form.getInputProps("port")} />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="SSH user"
            withAsterisk={canWriteCred && v.cred_mode === "new"}
            disabled={!!added}
            {...form.getInputProps("username")}
          />
          <TextInput label="Environment" placeholder="default" disabled={!!added} {...form.getInputProps("environment")} />
        </Group>
        <TextInput label="Display name" disabled={!!added} {...form.getInputProps("display_name")} />
        <TagsInput label="Tags" disabled={!!added} {...form.getInputProps("tags")} />
        {canReadCred && <CredentialSection form={form} host={host} sources={sources} canWrite={canWriteCred} />}
        {added && (
          <Alert color="yellow" role="status" data-testid="host-added-without-credential">
            Host {added.hostname} was added, but its credential was not saved. Correct it and save again, or finish
            without it.
          </Alert>
        )}
        <Group justify="flex-end">
          {added && (
            <Button variant="default" onClick={() => onDone(added)}>
              Finish without a credential
            </Button>
          )}
          <Button type="submit" loading={save.isPending}>
            {added ? "Save credential" : host ? "Save host" : "Add host"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
