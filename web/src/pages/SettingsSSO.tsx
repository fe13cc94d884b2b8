import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, errorMessage, unwrap } from "../api/errors";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";

type Provider = Schemas["SSOProvider"];
type Mapping = Schemas["SSORoleMapping"];

const MASK = "••••••••";
const NO_DEFAULT = "__none__";

interface Values {
  name: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  scopes: string;
  groups_claim: string;
  role_mappings: Mapping[];
  default_role: string;
  enabled: boolean;
  sso_only: boolean;
}

const FIELDS = ["name", "issuer", "client_id", "client_secret", "scopes", "groups_claim", "role_mappings", "default_role"] as const;

const providersKey = ["sso", "providers"];

function initial(p?: Provider): Values {
  return {
    name: p?.name ?? "",
    issuer: p?.issuer ?? "",
    client_id: p?.client_id ?? "",
    client_secret: "",
    scopes: (p?.scopes ?? ["openid", "profile", "email"]).join(" "),
    groups_claim: p?.groups_claim ?? "groups",
    role_mappings: p?.role_mappings ?? [],
    default_role: p?.default_role ?? NO_DEFAULT,
    enabled: p?.enabled ?? true,
    sso_only: p?.sso_only ?? false,
  };
}

// body is the request of a create or an update. An empty secret field keeps the stored
// secret on update (it is never shown); on create it means a public client.
function body(v: Values, editing: boolean): Schemas["SSOProviderInput"] {
  const b: Schemas["SSOProviderInput"] = {
    name: v.name.trim(),
    issuer: v.issuer.trim(),
    client_id: v.client_id.trim(),
    scopes: v.scopes.split(/\s+/).filter((s) => s !== ""),
    groups_claim: v.groups_claim.trim() || "groups",
    role_mappings: v.role_mappings.map((m) => ({ group: m.group.trim(), role: m.role })),
    default_role: v.default_role === NO_DEFAULT ? null : v.default_role,
    enabled: v.enabled,
    sso_only: v.sso_only,
  };
  if (v.client_secret !== "" || !editing) b.client_secret = v.client_secret;
  return b;
}

// DiscoveryView shows what the issuer's discovery document says.
function DiscoveryView({ d }: { d: Schemas["SSODiscovery"] }) {
  return (
    <Table aria-label="Discovery document" fz="sm">
      <Table.Tbody>
        {(
          [
            ["Issuer", d.issuer],
            ["Authorization endpoint", d.authorization_endpoint],
            ["Token endpoint", d.token_endpoint],
            ["Signing keys", d.jwks_uri],
            ["PKCE methods", d.code_challenge_methods_supported.join(", ") || "not advertised"],
            ["Scopes", d.scopes_supported.join(", ") || "not advertised"],
          ] as const
        ).map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th scope="row">{k}</Table.Th>
            <Table.Td ff="monospace">{v}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ProviderForm creates or edits a provider: discovery from the issuer, the client, the
// groups claim and the ordered group → role mappings.
function ProviderForm({ provider, onDone }: { provider?: Provider; onDone: () => void }) {
  const qc = useQueryClient();
  const editing = provider !== undefined;
  const [formError, setFormError] = useState<string>();
  const [discovery, setDiscovery] = useState<Schemas["SSODiscovery"]>();
  const [discoverError, setDiscoverError] = useState<string>();
  const roles = useQuery({ queryKey: ["roles"], queryFn: () => unwrap(api.GET("/roles")) });
  const roleOptions = (roles.data?.roles ?? []).map((r) => ({ value: r.id, label: r.id }));
  const form = useForm<Values>({
    mode: "controlled",
    initialValues: initial(provider),
    validate: {
      name: (v) => (v.trim() === "" ? "Enter a name." : null),
      issuer: (v) => (v.trim() === "" ? "Enter the issuer URL." : null),
      client_id: (v) => (v.trim() === "" ? "Enter the client id." : null),
    },
  });
  const discover = useMutation({
    mutationFn: () => unwrap(api.POST("/sso/providers:discover", { body: { issuer: form.values.issuer.trim() } })),
    onMutate: () => {
      setDiscovery(undefined);
      setDiscoverError(undefined);
    },
    onSuccess: setDiscovery,
    onError: (err) => setDiscoverError(errorMessage(err)),
  });
  const save = useMutation({
    mutationFn: (v: Values) =>
      editing
        ? unwrap(api.PUT("/sso/providers/{id}", { params: { path: { id: provider.id } }, body: body(v, true) }))
        : unwrap(api.POST("/sso/providers", { body: body(v, false) })),
    onSuccess: async (p) => {
      await qc.invalidateQueries({ queryKey: providersKey });
      notifications.show({ message: `Provider ${p.name} saved.` });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS)),
  });
  const title = editing ? `Edit ${provider.name}` : "Add a provider";
  return (
    <Card withBorder component="section" aria-label={title} maw={1100}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      <form
        noValidate
        onSubmit={form.onSubmit((v) => {
          setFormError(undefined);
          save.mutate(v);
        })}
      >
        <Stack>
          <FormError message={formError} />
          <TextInput label="Name" description="Shown on the sign-in button." maxLength={100} {...form.getInputProps("name")} />
          <Group align="flex-end">
            <TextInput
              label="Issuer"
              description="The provider's issuer URL (https)."
              style={{ flex: 1 }}
              maxLength={512}
              {...form.getInputProps("issuer")}
            />
            <Button variant="default" onClick={() => discover.mutate()} loading={discover.isPending} disabled={form.values.issuer.trim() === ""}>
              Discover
            </Button>
          </Group>
          <FormError message={discoverError} />
          {discovery && <DiscoveryView d={discovery} />}
          <TextInput label="Client id" maxLength={256} {...form.getInputProps("client_id")} />
          <PasswordInput
            label="Client secret"
            description={
              editing && provider.client_secret_set
                ? "A secret is stored and never shown. Leave empty to keep it."
                : "Leave empty for a public client."
            }
            placeholder={editing && provider.client_secret_set ? MASK : undefined}
            autoComplete="new-password"
            maxLength={1024}
            {...form.getInputProps("client_secret")}
          />
          <TextInput label="Scopes" description="Separated by spaces; openid is required." {...form.getInputProps("scopes")} />
          <TextInput label="Groups claim" description="The ID token claim listing the user's groups." maxLength={128} {...form.getInputProps("groups_claim")} />
          <Stack gap="xs" component="fieldset" style={{ border: 0, padding: 0, margin: 0 }}>
            <Text component="legend" fw={500} size="sm">
              Role mappings
            </Text>
            <Text size="xs" c="dimmed">
              In order: the first mapping whose group the user is in gives the user's role, at every sign-in.
            </Text>
            {form.values.role_mappings.map((_, i) => (
              <Group key={i} align="flex-end">
                <TextInput label={`Group ${i + 1}`} maxLength={256} {...form.getInputProps(`role_mappings.${i}.group`)} />
                <Select
                  label={`Role ${i + 1}`}
                  data={roleOptions}
                  allowDeselect={false}
                  {...form.getInputProps(`role_mappings.${i}.role`)}
                />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  aria-label={`Remove mapping ${i + 1}`}
                  onClick={() => form.removeListItem("role_mappings", i)}
                  mb={4}
                >
                  ✕
                </ActionIcon>
              </Group>
            ))}
            <Group>
              <Button variant="default" size="xs" onClick={() => form.insertListItem("role_mappings", { group: "", role: "viewer" })}>
                Add mapping
              </Button>
            </Group>
          </Stack>
          <Select
            label="Default role"
            description="The role of users no mapping matches. None refuses them."
            data={[{ value: NO_DEFAULT, label: "None (refuse unknown users)" }, ...roleOptions]}
            allowDeselect={false}
            {...form.getInputProps("default_role")}
          />
          <Switch label="Enabled (offered on the sign-in page)" {...form.getInputProps("enabled", { type: "checkbox" })} />
          <Switch
            label="SSO only (linked users cannot sign in with a password; admins can, as break-glass)"
            {...form.getInputProps("sso_only", { type: "checkbox" })}
          />
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save provider
            </Button>
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

// TestResult shows the checks of a connection test.
function TestResult({ result }: { result: Schemas["SSOTestResult"] }) {
  return (
    <List size="sm" spacing={2} aria-label="Connection test">
      {result.checks.map((c) => (
        <List.Item key={c.name}>
          <Badge color={c.ok ? "green" : "red"} variant="light" mr="xs" style={{ overflow: "visible" }}>
            {c.ok ? "ok" : "failed"}
          </Badge>
          {c.detail}
        </List.Item>
      ))}
    </List>
  );
}

// SSOPanel lists the single sign-on providers with their secret masked, and edits, tests
// and deletes them (Settings → Single sign-on).
export function SSOPanel() {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Provider | "new">();
  const [tests, setTests] = useState<Record<string, Schemas["SSOTestResult"] | string>>({});
  const { data, error, isPending } = useQuery({
    queryKey: providersKey,
    queryFn: () => unwrap(api.GET("/sso/providers", { params: { query: { limit: 200 } } })),
  });
  const test = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/sso/providers/{id}:test", { params: { path: { id } } })),
    onSuccess: (r, id) => setTests((t) => ({ ...t, [id]: r })),
    onError: (err, id) => setTests((t) => ({ ...t, [id]: errorMessage(err) })),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/sso/providers/{id}", { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: providersKey }),
    onError: (err) => notifications.show({ color: "red", message: errorMessage(err) }),
  });
  if (editing) {
    return <ProviderForm provider={editing === "new" ? undefined : editing} onDone={() => setEditing(undefined)} />;
  }
  return (
    <Stack maw={1100}>
      <Text size="sm" c="dimmed">
        People sign in through an OpenID Connect provider (authorization code with PKCE). Register{" "}
        <Code>{"<public URL>"}/api/v1/auth/sso/&lt;id&gt;/callback</Code> as the redirect URI at the provider. The identity provider is
        the second factor of these sessions: OpenWatch asks no one-time code.
      </Text>
      <Group>
        <Button onClick={() => setEditing("new")}>Add provider</Button>
      </Group>
      {isPending ? (
        <Text c="dimmed">Loading…</Text>
      ) : error ? (
        <ErrorAlert error={error} />
      ) : data.providers.length === 0 ? (
        <Text c="dimmed">No provider yet: only password sign-in is offered.</Text>
      ) : (
        <Table aria-label="Single sign-on providers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Issuer</Table.Th>
              <Table.Th>Client</Table.Th>
              <Table.Th>Secret</Table.Th>
              <Table.Th>Mappings</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.providers.map((p) => {
              const t = tests[p.id];
              return (
                <Table.Tr key={p.id}>
                  <Table.Td>{p.name}</Table.Td>
                  <Table.Td ff="monospace">{p.issuer}</Table.Td>
                  <Table.Td ff="monospace">{p.client_id}</Table.Td>
                  <Table.Td>{p.client_secret_set ? <span aria-label="secret set, hidden">{MASK}</span> : "none"}</Table.Td>
                  <Table.Td>
                    {p.role_mappings.map((m) => `${m.group} → ${m.role}`).join(", ") || "none"}
                    {p.default_role ? `; others → ${p.default_role}` : "; others refused"}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <Badge color={p.enabled ? "green" : "gray"} variant="light" style={{ overflow: "visible" }}>
                        {p.enabled ? "enabled" : "disabled"}
                      </Badge>
                      {p.sso_only && (
                        <Badge variant="light" style={{ overflow: "visible" }}>
                          SSO only
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Stack gap={4}>
                      <Group gap={4}>
                        <Button size="xs" variant="default" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
                          Edit
                        </Button>
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => test.mutate(p.id)}
                          loading={test.isPending && test.variables === p.id}
                          aria-label={`Test ${p.name}`}
                        >
                          Test
                        </Button>
                        <Button
                          size="xs"
                          color="red"
                          variant="subtle"
                          onClick={() => {
                            if (window.confirm(`Delete the provider ${p.name}? Its users keep their accounts.`)) remove.mutate(p.id);
                          }}
                          aria-label={`Delete ${p.name}`}
                        >
                          Delete
                        </Button>
                      </Group>
                      {typeof t === "string" ? <Text c="red" size="sm">{t}</Text> : t && <TestResult result={t} />}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
