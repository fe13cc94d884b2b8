import { Button, Group, MultiSelect, NumberInput, SegmentedControl, Select, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDebouncedValue } from "@mantine/hooks";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { frameworksQuery } from "../api/queries";
import { FormError } from "../components/FormError";
import {
  BATCH_ALIASES,
  BATCH_DEFAULTS,
  BATCH_FIELDS,
  buildBatchRequest,
  validateBatch,
  type BatchFormValues,
  type BatchTarget,
} from "./ScanBatchModel";

// ScanBatchHostPicker chooses hosts by name, asking the server as the user types (the fleet
// may be far too large for one list). Chosen hosts keep their labels while the search
// moves on.
export function ScanBatchHostPicker({ value, onChange, error, label = "Hosts" }: { value: string[]; onChange: (ids: string[]) => void; error?: React.ReactNode; label?: string }) {
  const [search, setSearch] = useState("");
  const [labels, setLabels] = useState<Record<string, string>>({});
  const [q] = useDebouncedValue(search.trim(), 250);
  const { data } = useQuery({
    queryKey: ["hosts", "list", { q, picker: true }],
    queryFn: () => unwrap(api.GET("/hosts", { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  const found = (data?.hosts ?? []).map((h) => ({ value: h.id, label: `${h.hostname} (${h.ip_address})` }));
  const known = new Set(found.map((o) => o.value));
  const options = [...found, ...value.filter((id) => !known.has(id)).map((id) => ({ value: id, label: labels[id] ?? id }))];
  return (
    <MultiSelect
      label={label}
      withAsterisk
      searchable
      data={options}
      value={value}
      onChange={(ids) => {
        const next = { ...labels };
        for (const o of found) if (ids.includes(o.value)) next[o.value] = o.label;
        setLabels(next);
        onChange(ids);
      }}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage="No host matches"
      filter={({ options }) => options}
      error={error}
    />
  );
}

// ScanBatchForm starts a batch of scans over the hosts one selector names. What the
// server refuses (an unknown group, host or rule) lands on the field it names.
export function ScanBatchForm({ onDone }: { onDone: (b: Schemas["ScanBatch"]) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const frameworks = useQuery(frameworksQuery);
  const groups = useQuery({
    queryKey: ["groups", "list", { picker: true }],
    queryFn: () => unwrap(api.GET("/groups", { params: { query: { limit: 200 } } })),
  });
  const form = useForm<BatchFormValues>({ mode: "controlled", initialValues: BATCH_DEFAULTS, validate: (v) => validateBatch(v) });
  const v = form.getValues();
  const start = useMutation({
    mutationFn: (x: BatchFormValues) =>
      unwrap(api.POST("/scan-batches", { body: buildBatchRequest(x), headers: { "Idempotency-Key": crypto.randomUUID() } })),
    onSuccess: (b) => {
      void qc.invalidateQueries({ queryKey: ["scans"] });
      onDone(b);
    },
    onError: (err) => setFormError(applyFieldError(err, form, BATCH_FIELDS, BATCH_ALIASES)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((x) => {
        setFormError(undefined);
        start.mutate(x);
      })}
    >
      <Stack>
        <FormError message={formError} />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="batch-target-label">
            Hosts to scan
          </Text>
          <SegmentedControl
            aria-labelledby="batch-target-label"
            data={[
              { value: "all", label: "All hosts" },
              { value: "group", label: "A group" },
              { value: "filter", label: "A filter" },
              { value: "hosts", label: "Chosen hosts" },
            ]}
            value={v.target}
            onChange={(t) => form.setFieldValue("target", t as BatchTarget)}
          />
          {form.errors.target && (
            <Text size="xs" c="red" role="alert">
              {form.errors.target}
            </Text>
          )}
          <Text size="xs" c="dimmed">
            Hosts in maintenance and hosts with a scan already queued or running are left out.
          </Text>
        </Stack>
        {v.target === "group" && (
          <Select
            label="Group"
            withAsterisk
            searchable
            data={(groups.data?.groups ?? []).map((g) => ({ value: g.id, label: `${g.name} (${g.host_count} hosts)` }))}
            nothingFoundMessage="No group"
            {...form.getInputProps("group_id")}
          />
        )}
        {v.target === "filter" && (
          <Group grow align="flex-start">
            <TextInput label="Environment" {...form.getInputProps("environment")} />
            <TextInput label="Tag" {...form.getInputProps("tag")} />
            <TextInput label="Search" description="Hostname or address" {...form.getInputProps("q")} />
          </Group>
        )}
        {v.target === "hosts" && (
          <ScanBatchHostPicker
            value={v.host_ids}
            onChange={(ids) => form.setFieldValue("host_ids", ids)}
            error={form.errors.host_ids}
          />
        )}
        <Select
          label="Framework"
          description="Only the rules of this framework; none scans every rule for each host's platform."
          clearable
          data={(frameworks.data?.items ?? []).filter((f) => f.id !== "all").map((f) => ({ value: f.id, label: f.name }))}
          value={v.framework || null}
          onChange={(f) => form.setFieldValue("framework", f ?? "")}
          error={form.errors.framework}
        />
        <TagsInput
          label="Rule ids"
          description="Only these rules (press Enter after each); empty scans every rule."
          {...form.getInputProps("rule_ids")}
        />
        <NumberInput
          label="Concurrency"
          description="The most scans of the batch running at once."
          min={1}
          max={200}
          allowDecimal={false}
          w={220}
          {...form.getInputProps("concurrency")}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={start.isPending}>
            Start batch
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
