import {
  ActionIcon,
  Button,
  Checkbox,
  Fieldset,
  Group,
  MultiSelect,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { FormError } from "../components/FormError";
import {
  buildPatchRequest,
  buildRemediationRequest,
  patchFields,
  PATCH_DEFAULTS,
  REMEDIATION_ALIASES,
  REMEDIATION_DEFAULTS,
  REMEDIATION_FIELDS,
  validatePatch,
  validateRemediation,
  type ChangeTarget,
  type PatchFormValues,
  type RemediationFormValues,
  type RolloutValues,
} from "./ChangeModel";
import { ScanBatchHostPicker } from "./ScanBatchForm";

type ChangeJob = Schemas["ChangeJob"];

// healthChecksQuery lists the health checks a change may run before and after each host.
const healthChecksQuery = {
  queryKey: ["health-checks", "list", { picker: true }] as const,
  queryFn: () => unwrap(api.GET("/health-checks", { params: { query: { limit: 200 } } })),
  staleTime: 60_000,
};

// HealthCheckField picks the health checks; callers who may not read them do without.
function HealthCheckField({ form }: { form: UseFormReturnType<RolloutValues> }) {
  const canRead = useCan("health_check:read");
  const checks = useQuery({ ...healthChecksQuery, enabled: canRead });
  if (!canRead) return null;
  return (
    <MultiSelect
      label="Health checks"
      description="Run on each host before its change and after it; a failing check after the change restores the host."
      data={(checks.data?.checks ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.target})` }))}
      searchable
      clearable
      nothingFoundMessage="No health check"
      {...form.getInputProps("health_check_ids")}
    />
  );
}

// RolloutFields are the fields both kinds of change share: which hosts, the waves, the
// failure budget, health checks, reboot, the maintenance window override, and why.
function RolloutFields({ form, canOverride, hideHosts = false }: { form: UseFormReturnType<RolloutValues>; canOverride: boolean; hideHosts?: boolean }) {
  const v = form.getValues();
  const groups = useQuery({
    queryKey: ["groups", "list", { picker: true }],
    queryFn: () => unwrap(api.GET("/groups", { params: { query: { limit: 200 } } })),
    enabled: v.target === "group",
  });
  return (
    <>
      {!hideHosts && (
        <Stack gap={4}>
          <Text size="sm" fw={500} id="change-target-label">
            Which hosts
          </Text>
          <SegmentedControl
            aria-labelledby="change-target-label"
            data={[
              { value: "hosts", label: "Chosen hosts" },
              { value: "group", label: "A group" },
              { value: "filter", label: "An environment or filter" },
              { value: "all", label: "All hosts" },
            ]}
            value={v.target}
            onChange={(t) => form.setFieldValue("target", t as ChangeTarget)}
          />
          {form.errors.target && (
            <Text size="xs" c="var(--mantine-color-error)" role="alert">
              {form.errors.target}
            </Text>
          )}
        </Stack>
      )}
      {!hideHosts && v.target === "hosts" && (
        <ScanBatchHostPicker value={v.host_ids} onChange={(ids) => form.setFieldValue("host_ids", ids)} error={form.errors.host_ids} />
      )}
      {!hideHosts && v.target === "group" && (
        <Select
          label="Group"
          withAsterisk
          searchable
          data={(groups.data?.groups ?? []).map((g) => ({ value: g.id, label: `${g.name} (${g.host_count} hosts)` }))}
          nothingFoundMessage="No group"
          {...form.getInputProps("group_id")}
        />
      )}
      {!hideHosts && v.target === "filter" && (
        <Group grow align="flex-start">
          <TextInput label="Environment" {...form.getInputProps("environment")} />
          <TextInput label="Tag" {...form.getInputProps("tag")} />
          <TextInput label="Search" description="Hostname or address" {...form.getInputProps("q")} />
        </Group>
      )}
      <Fieldset legend="Waves and failure budget">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Stack gap={4}>
            <SegmentedControl
              aria-label="Canary wave as"
              size="xs"
              data={[
                { value: "count", label: "Canary hosts" },
                { value: "percent", label: "Canary %" },
              ]}
              value={v.canary_by}
              onChange={(x) => form.setFieldValue("canary_by", x as RolloutValues["canary_by"])}
            />
            {v.canary_by === "count" ? (
              <NumberInput label="Canary hosts" description="Changed first, alone." min={1} allowDecimal={false} {...form.getInputProps("canary")} />
            ) : (
              <NumberInput label="Canary percent" description="Of the hosts, rounded up." min={1} max={100} allowDecimal={false} {...form.getInputProps("canary_percent")} />
            )}
          </Stack>
          <NumberInput
            label="Growth"
            description="Each later wave is this many times the one before."
            min={1}
            max={10}
            allowDecimal={false}
            {...form.getInputProps("growth")}
          />
          <Stack gap={4}>
            <SegmentedControl
              aria-label="Failure budget as"
              size="xs"
              data={[
                { value: "count", label: "Failed hosts" },
                { value: "percent", label: "Failed %" },
              ]}
              value={v.budget_by}
              onChange={(x) => form.setFieldValue("budget_by", x as RolloutValues["budget_by"])}
            />
            {v.budget_by === "count" ? (
              <NumberInput label="Failure budget (hosts)" description="The rollout halts once this many hosts failed." min={1} allowDecimal={false} {...form.getInputProps("max_failures")} />
            ) : (
              <NumberInput label="Failure budget (percent)" description="Of the hosts, rounded up." min={1} max={100} allowDecimal={false} {...form.getInputProps("max_failure_percent")} />
            )}
          </Stack>
          <Select
            label="Reboot"
            data={[
              { value: "never", label: "Never" },
              { value: "if_required", label: "If required" },
              { value: "always", label: "Always" },
            ]}
            allowDeselect={false}
            {...form.getInputProps("reboot")}
          />
        </SimpleGrid>
      </Fieldset>
      <HealthCheckField form={form} />
      {canOverride && (
        <Stack gap="xs">
          <Checkbox
            label="Ignore maintenance windows"
            description="Change the hosts now, outside their windows. Audited."
            {...form.getInputProps("ignore_windows", { type: "checkbox" })}
          />
          {v.ignore_windows && <Textarea label="Override reason" withAsterisk rows={2} {...form.getInputProps("override_reason")} />}
        </Stack>
      )}
      <TextInput label="Name" description="Optional; a name is made from the change otherwise." {...form.getInputProps("name")} />
      <Textarea label="Reason" description="Why this change: shown to the approver and kept in the audit trail." rows={2} {...form.getInputProps("reason")} />
    </>
  );
}

const OPS = ["install", "upgrade", "remove", "hold", "unhold"] as const;

// PatchJobForm creates a patch job. What the server refuses lands on the field it names.
export function PatchJobForm({ onDone }: { onDone: (j: ChangeJob) => void }) {
  const qc = useQueryClient();
  const canOverride = useCan("patch:execute");
  const [formError, setFormError] = useState<string>();
  const form = useForm<PatchFormValues>({ mode: "controlled", initialValues: PATCH_DEFAULTS, validate: (v) => validatePatch(v) });
  const v = form.getValues();
  const create = useMutation({
    mutationFn: (x: PatchFormValues) =>
      unwrap(api.POST("/jobs", { body: buildPatchRequest(x, canOverride), headers: { "Idempotency-Key": crypto.randomUUID() } })),
    onSuccess: (j) => {
      void qc.invalidateQueries({ queryKey: ["jobs"] });
      onDone(j);
    },
    onError: (err) => {
      const { fields, aliases } = patchFields(form.getValues());
      setFormError(applyFieldError(err, form, fields, aliases));
    },
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
        <Stack gap={4}>
          <Text size="sm" fw={500} id="patch-mode-label">
            What to install
          </Text>
          <SegmentedControl
            aria-labelledby="patch-mode-label"
            data={[
              { value: "security", label: "Security updates" },
              { value: "all", label: "All updates" },
              { value: "packages", label: "Named packages" },
            ]}
            value={v.mode}
            onChange={(m) => form.setFieldValue("mode", m as PatchFormValues["mode"])}
          />
        </Stack>
        {v.mode === "packages" && (
          <Stack gap="xs" data-testid="package-ops">
            {v.packages.map((_, i) => (
              <Group key={i} align="flex-start" wrap="nowrap">
                <TextInput label="Package" withAsterisk style={{ flex: 2 }} {...form.getInputProps(`packages.${i}.name`)} />
                <Select label="Operation" data={[...OPS]} allowDeselect={false} style={{ flex: 1 }} {...form.getInputProps(`packages.${i}.op`)} />
                <TextInput label="Version" description="Optional" style={{ flex: 1 }} {...form.getInputProps(`packages.${i}.version`)} />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  mt={26}
                  aria-label={`Remove package operation ${i + 1}`}
                  onClick={() => form.removeListItem("packages", i)}
                >
                  ×
                </ActionIcon>
              </Group>
            ))}
            {form.errors.packages && (
              <Text size="xs" c="var(--mantine-color-error)" role="alert">
                {form.errors.packages}
              </Text>
            )}
            <Group>
              <Button variant="default" size="xs" onClick={() => {
                  form.insertListItem("packages", { name: "", op: "upgrade", version: "" });
                  form.clearFieldError("packages");
                }}>
                Add package operation
              </Button>
            </Group>
          </Stack>
        )}
        <RolloutFields form={form as unknown as UseFormReturnType<RolloutValues>} canOverride={canOverride} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} data-testid="change-submit">
            Create patch job
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// RemediationForm requests the remediation of failing rules on hosts. From a host's
// compliance view the host is fixed and the rules come chosen; from the list both are
// picked here.
export function RemediationForm({
  onDone,
  hostId,
  ruleIds,
  ruleOptions,
}: {
  onDone: (j: ChangeJob) => void;
  hostId?: string;
  ruleIds?: string[];
  // The failing rules to choose from (a host's), as value/label; free entry otherwise.
  ruleOptions?: { value: string; label: string }[];
}) {
  const qc = useQueryClient();
  const canOverride = useCan("remediation:execute");
  const [formError, setFormError] = useState<string>();
  const form = useForm<RemediationFormValues>({
    mode: "controlled",
    initialValues: { ...REMEDIATION_DEFAULTS, host_ids: hostId ? [hostId] : [], rule_ids: ruleIds ?? [] },
    validate: (v) => validateRemediation(v),
  });
  const create = useMutation({
    mutationFn: (x: RemediationFormValues) =>
      unwrap(
        api.POST("/remediation/requests", {
          body: buildRemediationRequest(x, canOverride),
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: (j) => {
      void qc.invalidateQueries({ queryKey: ["remediation"] });
      onDone(j);
    },
    onError: (err) => setFormError(applyFieldError(err, form, REMEDIATION_FIELDS, REMEDIATION_ALIASES)),
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
        {ruleOptions ? (
          <MultiSelect
            label="Failing rules"
            withAsterisk
            searchable
            data={ruleOptions}
            description="Each is fixed by its declarative mechanism; rules without one show guidance instead."
            {...form.getInputProps("rule_ids")}
          />
        ) : (
          <TagsInput
            label="Rule ids"
            withAsterisk
            description="The rules to fix (press Enter after each); only hosts failing one of them are changed."
            {...form.getInputProps("rule_ids")}
          />
        )}
        <RolloutFields form={form as unknown as UseFormReturnType<RolloutValues>} canOverride={canOverride} hideHosts={!!hostId} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} data-testid="change-submit">
            Request remediation
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
