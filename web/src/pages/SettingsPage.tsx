import { Button, Card, Group, NumberInput, SimpleGrid, Stack, Switch, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { licenseQuery } from "../api/queries";
import { permissionsQuery, useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { FeatureBadges, LicenseInstall } from "./LicenseInstall";
import { ConnectivityPanels } from "./SettingsConnectivity";
import { DiscoverySweep } from "./SettingsDiscoverySweep";
import { ScanVariables } from "./SettingsScanVariables";
import { SchedulePreview } from "./SettingsSchedulePreview";
import { FormError } from "../components/FormError";
import { ChangeSettings } from "./SettingsChanges";
import { SSHCAPanels } from "./SettingsSSHCA";
import { SSOPanel } from "./SettingsSSO";
import { EnrollmentPanels } from "./SettingsEnrollment";
import { SupportPanels } from "./SettingsSupport";

type Config = Record<string, unknown>;

// A settings section: where its configuration is read and written, and who may do which.
interface Section {
  id: SettingsTab;
  label: string;
  description: string;
  read: string;
  write: string;
  get: () => Promise<{ config: Config; defaults?: Config }>;
  put: (config: Config) => Promise<unknown>;
}

export type SettingsTab = "connectivity" | "intelligence" | "discovery" | "scanning" | "alerts" | "ssh" | "security" | "changes" | "ssh-ca" | "sso" | "enrollment" | "license" | "support";

// The request bodies are the spec's config types; the form edits them generically, so the
// server (which validates against the spec) is the judge of the values.
const SECTIONS: Section[] = [
  {
    id: "connectivity",
    label: "Connectivity",
    description: "How often hosts are probed in each state, and when a host counts as unreachable.",
    read: "system:read",
    write: "system:write",
    get: () => unwrap(api.GET("/system/connectivity/config")),
    put: (c) => unwrap(api.PUT("/system/connectivity/config", { body: c as Schemas["ConnectivityConfig"] })),
  },
  {
    id: "intelligence",
    label: "Intelligence",
    description: "How often system facts are collected from each host.",
    read: "system:read",
    write: "system:config:write",
    get: () => unwrap(api.GET("/system/intelligence/config")),
    put: (c) => unwrap(api.PUT("/system/intelligence/config", { body: c as Schemas["IntelligenceConfig"] })),
  },
  {
    id: "discovery",
    label: "Discovery",
    description: "Operating system discovery on hosts, and the largest network a discovery may scan.",
    read: "system:read",
    write: "system:config:write",
    get: () => unwrap(api.GET("/system/discovery/config")),
    put: (c) => unwrap(api.PUT("/system/discovery/config", { body: c as Schemas["DiscoveryConfig"] })),
  },
  {
    id: "scanning",
    label: "Scanning",
    description: "Scheduled compliance scans, their pace, and how long results and evidence are kept.",
    read: "system:read",
    write: "system:config:write",
    get: () => unwrap(api.GET("/system/scan/config")),
    put: (c) => unwrap(api.PUT("/system/scan/config", { body: c as Schemas["ScanConfig"] })),
  },
  {
    id: "alerts",
    label: "Alerts",
    description:
      "Thresholds of score alerts (scores are pass / (pass + fail), in percent; a floor of 0 is off) and of repeatedly failing scans. Each alert resolves itself when its condition clears.",
    read: "system:read",
    write: "system:config:write",
    get: () => unwrap(api.GET("/system/alerts/config")),
    put: (c) => unwrap(api.PUT("/system/alerts/config", { body: c as Schemas["AlertsConfig"] })),
  },
  {
    id: "ssh",
    label: "SSH",
    description: "Timeouts of SSH connections and commands, and whether sudo passwords may be sent.",
    read: "system:read",
    write: "system:config:write",
    get: () => unwrap(api.GET("/system/ssh/config")),
    put: (c) => unwrap(api.PUT("/system/ssh/config", { body: c as Schemas["SSHConfig"] })),
  },
  {
    id: "security",
    label: "Security policy",
    description: "Sign-in policy for every user.",
    read: "security:read",
    write: "security:write",
    get: async () => ({ config: (await unwrap(api.GET("/system/security/config"))) as Config }),
    put: (c) => unwrap(api.PUT("/system/security/config", { body: c as Schemas["SecurityConfig"] })),
  },
];

const WORDS: Record<string, string> = { sec: "(seconds)", mfa: "MFA", cidr: "CIDR", ssh: "SSH", sudo: "sudo" };

// label turns a config key into words: "unreachable_threshold" → "Unreachable threshold".
function label(key: string): string {
  const words = key.split(/[._]/).map((w) => WORDS[w] ?? w);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// flatten lists the scalar fields of a config, nested objects as dotted paths (the form's
// and the API's field names alike).
function flatten(obj: Config, prefix = ""): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? flatten(v as Config, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

function at(obj: Config | undefined, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Config)[k] : undefined), obj);
}

function describe(defaults: Config | undefined, path: string): string | undefined {
  const def = at(defaults, path);
  return def === undefined ? undefined : `Default: ${String(def)}`;
}

function SectionForm({ section }: { section: Section }) {
  const qc = useQueryClient();
  const canWrite = useCan(section.write);
  const [formError, setFormError] = useState<string>();
  const key = ["settings", section.id] as const;
  const { data, error, isPending } = useQuery({ queryKey: key, queryFn: section.get });
  const form = useForm<Config>({ mode: "controlled", initialValues: {} });
  const fields = data ? flatten(data.config) : [];
  useEffect(() => {
    if (data) {
      form.setValues(structuredClone(data.config));
      form.resetDirty(structuredClone(data.config));
    }
    // The form is reset only when the server's copy changes (form is a new object each
    // render, so it is left out of the dependencies on purpose).
  }, [data]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = useMutation({
    mutationFn: (c: Config) => section.put(c),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key });
      notifications.show({ color: "teal", message: `${section.label} settings saved.` });
    },
    onError: (err) => setFormError(applyFieldError(err, form, fields.map(([k]) => k))),
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), save.mutate(v)))}>
      <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0 }}>
        <Stack>
          {!canWrite && (
            <Text size="sm" c="dimmed">
              You can read these settings; changing them needs permission {section.write}.
            </Text>
          )}
          <FormError message={formError} />
          {fields
            .filter(([, value]) => typeof value === "boolean")
            .map(([path]) => (
              <Switch
                key={path}
                label={label(path)}
                description={describe(data.defaults, path)}
                {...form.getInputProps(path, { type: "checkbox" })}
              />
            ))}
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {fields
              .filter(([, value]) => typeof value !== "boolean")
              .map(([path, value]) =>
                typeof value === "number" ? (
                  <NumberInput key={path} label={label(path)} description={describe(data.defaults, path)} {...form.getInputProps(path)} />
                ) : (
                  <TextInput key={path} label={label(path)} description={describe(data.defaults, path)} {...form.getInputProps(path)} />
                ),
              )}
          </SimpleGrid>
          {canWrite && (
            <Group>
              <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
                Save {section.label.toLowerCase()} settings
              </Button>
              {data.defaults && (
                <Button variant="default" onClick={() => form.setValues(structuredClone(data.defaults ?? {}))}>
                  Use defaults
                </Button>
              )}
            </Group>
          )}
        </Stack>
      </fieldset>
    </form>
  );
}

// SettingsCard is one titled block of a settings tab.
function SettingsCard({ title, description, children, maw = 720 }: { title: string; description?: string; children: React.ReactNode; maw?: number }) {
  return (
    <Card withBorder component="section" aria-label={title} maw={maw}>
      <Title order={2} size="h4">
        {title}
      </Title>
      {description && (
        <Text size="sm" c="dimmed" mb="md">
          {description}
        </Text>
      )}
      {children}
    </Card>
  );
}

// SectionExtras are what a tab shows below its settings: read-outs and actions of the
// same subject.
function SectionExtras({ id }: { id: SettingsTab }) {
  const canScanRead = useCan("scan:read");
  switch (id) {
    case "scanning":
      return (
        <>
          <SettingsCard
            title="Rule variables"
            description="Values the rules compare against ({{ name }} in a check). A variable with neither default nor value makes the rules using it end in error."
            maw={1100}
          >
            <ScanVariables />
          </SettingsCard>
          {canScanRead && (
            <SettingsCard
              title="Schedule preview"
              description="The next scheduled scans with the settings in force, soonest first (overdue hosts are due now)."
              maw={1100}
            >
              <SchedulePreview />
            </SettingsCard>
          )}
        </>
      );
    case "discovery":
      return <DiscoverySweep />;
    default:
      return null;
  }
}

function LicensePanel() {
  const { data, error } = useQuery(licenseQuery);
  if (error) return <ErrorAlert error={error} />;
  if (!data) return <Text c="dimmed">Loading…</Text>;
  return (
    <Table aria-label="License" maw={640}>
      <Table.Tbody>
        <Table.Tr>
          <Table.Th scope="row">Tier</Table.Th>
          <Table.Td>{data.tier}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th scope="row">Status</Table.Th>
          <Table.Td>{data.status}</Table.Td>
        </Table.Tr>
        {data.customer_id && (
          <Table.Tr>
            <Table.Th scope="row">Customer</Table.Th>
            <Table.Td>{data.customer_id}</Table.Td>
          </Table.Tr>
        )}
        <Table.Tr>
          <Table.Th scope="row">Expires</Table.Th>
          <Table.Td>{formatDateTime(data.expires_at)}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th scope="row">Features</Table.Th>
          <Table.Td>
            <FeatureBadges features={data.features} none="none beyond the free tier" />
          </Table.Td>
        </Table.Tr>
        {(data.warnings ?? []).length > 0 && (
          <Table.Tr>
            <Table.Th scope="row">Warnings</Table.Th>
            <Table.Td>
              {(data.warnings ?? []).map((w) => (
                <Text key={w} size="sm">
                  {w}
                </Text>
              ))}
            </Table.Td>
          </Table.Tr>
        )}
      </Table.Tbody>
    </Table>
  );
}

// SettingsPage edits the installation's settings, one section per tab (in the URL). Forms
// are built from what the server returns, so a new setting appears without UI changes,
// and a value the server refuses is shown on its field.
export function SettingsPage() {
  const { tab } = useSearch({ from: "/app/settings" });
  const navigate = useNavigate({ from: "/settings" });
  const canLicense = useCan("license:read");
  const canChanges = useCan("system:read");
  const canSSHCA = useCan("host:read");
  const canSSO = useCan("admin:sso_provider");
  const canEnrollment = useCan("enrollment:read");
  const canSysdump = useCan("support:sysdump");
  const canRetention = useCan("admin:retention_policy");
  const canSupport = canSysdump || canRetention;
  const permissions = useQuery(permissionsQuery).data?.permissions ?? [];
  const readable = SECTIONS.filter((s) => permissions.includes(s.read));
  const current = tab ?? "connectivity";
  return (
    <>
      <PageHeader title="Settings" description="How OpenWatch watches, scans and signs people in." />
      <Tabs value={current} onChange={(v) => void navigate({ search: { tab: (v ?? "connectivity") as SettingsTab } })} keepMounted={false}>
        <Tabs.List mb="md">
          {readable.map((s) => (
            <Tabs.Tab key={s.id} value={s.id}>
              {s.label}
            </Tabs.Tab>
          ))}
          {canChanges && <Tabs.Tab value="changes">Changes</Tabs.Tab>}
          {canSSHCA && <Tabs.Tab value="ssh-ca">SSH CA</Tabs.Tab>}
          {canSSO && <Tabs.Tab value="sso">Single sign-on</Tabs.Tab>}
          {canEnrollment && <Tabs.Tab value="enrollment">Enrollment</Tabs.Tab>}
          {canLicense && <Tabs.Tab value="license">License</Tabs.Tab>}
          {canSupport && <Tabs.Tab value="support">Support</Tabs.Tab>}
        </Tabs.List>
        {readable.map((s) => (
          <Tabs.Panel key={s.id} value={s.id}>
            {s.id === "connectivity" && (
              // The poller's state is what people come here for; its settings follow.
              <Stack mb="lg" gap="lg">
                <ConnectivityPanels />
              </Stack>
            )}
            <Card withBorder component="section" aria-label={`${s.label} settings`} maw={720}>
              <Title order={2} size="h4">
                {s.label}
              </Title>
              <Text size="sm" c="dimmed" mb="md">
                {s.description}
              </Text>
              <SectionForm section={s} />
            </Card>
            <Stack mt="lg" gap="lg">
              <SectionExtras id={s.id} />
            </Stack>
          </Tabs.Panel>
        ))}
        <Tabs.Panel value="changes">
          <SettingsCard
            title="Changes"
            description="Which patch jobs and remediation requests wait for a second person's approval (four eyes: the requester never approves)."
          >
            <ChangeSettings />
          </SettingsCard>
        </Tabs.Panel>
        <Tabs.Panel value="ssh-ca">
          <SSHCAPanels />
        </Tabs.Panel>
        <Tabs.Panel value="sso">
          <SSOPanel />
        </Tabs.Panel>
        <Tabs.Panel value="enrollment">
          <EnrollmentPanels />
        </Tabs.Panel>
        <Tabs.Panel value="support">
          <SupportPanels />
        </Tabs.Panel>
        <Tabs.Panel value="license">
          <Stack gap="lg">
            <LicensePanel />
            <LicenseInstall />
          </Stack>
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
