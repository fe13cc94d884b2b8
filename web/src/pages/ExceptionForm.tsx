import { Button, Group, Select, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { FormError } from "../components/FormError";
import { EXCEPTION_SCOPES } from "../lib/search";

type Exception = Schemas["Exception"];

interface Values {
  rule_id: string;
  scope: (typeof EXCEPTION_SCOPES)[number];
  host_id: string;
  group_id: string;
  reason: string;
  expires_on: string; // yyyy-mm-dd
}

const FIELDS = ["rule_id", "scope", "host_id", "group_id", "reason", "expires_on"] as const;

function inDays(n: number): string {
  return new Date(Date.now() + n * 24 * 3600_000).toISOString().slice(0, 10);
}

// ExceptionForm requests an exception. Given a host (the host page's "Request exception"),
// it asks for the rule's host scope through POST /hosts/{id}/exceptions; otherwise the
// scope is chosen (host, group or fleet) and it posts to /compliance/exceptions. The
// expiry is the end of the chosen day (UTC); server errors land on their fields.
export function ExceptionForm({ hostId, ruleId, onDone }: { hostId?: string; ruleId?: string; onDone: (e: Exception) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<Values>({
    initialValues: { rule_id: ruleId ?? "", scope: "host", host_id: hostId ?? "", group_id: "", reason: "", expires_on: inDays(30) },
    validate: {
      rule_id: (v) => (v.trim() ? null : "A rule is required."),
      reason: (v) => (v.trim() ? null : "Say why the risk is accepted."),
      expires_on: (v) => (v ? null : "An expiry is required."),
    },
  });
  const create = useMutation({
    mutationFn: (v: Values) => {
      const expires_at = new Date(`${v.expires_on}T23:59:59Z`).toISOString();
      if (hostId) {
        return unwrap(
          api.POST("/hosts/{id}/exceptions", {
            params: { path: { id: hostId } },
            body: { rule_id: v.rule_id.trim(), reason: v.reason, expires_at },
          }),
        );
      }
      return unwrap(
        api.POST("/compliance/exceptions", {
          body: {
            rule_id: v.rule_id.trim(),
            scope: v.scope,
            host_id: v.scope === "host" && v.host_id ? v.host_id.trim() : undefined,
            group_id: v.scope === "group" && v.group_id ? v.group_id.trim() : undefined,
            reason: v.reason,
            expires_at,
          },
        }),
      );
    },
    onSuccess: (e) => {
      void qc.invalidateQueries({ queryKey: ["compliance"] });
      notifications.show({ color: "teal", message: "Exception requested: another person must approve it." });
      onDone(e);
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS, { expires_at: "expires_on" })),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        create.mutate(v);
      })}
      data-testid="exception-form"
    >
      <Stack>
        <TextInput label="Rule id" required readOnly={!!ruleId} {...form.getInputProps("rule_id")} />
        {!hostId && (
          <>
            <Select
              label="Scope"
              data={EXCEPTION_SCOPES.map((s) => ({ value: s, label: s === "fleet" ? "fleet-wide" : `one ${s}` }))}
              allowDeselect={false}
              {...form.getInputProps("scope")}
            />
            {form.values.scope === "host" && <TextInput label="Host id" {...form.getInputProps("host_id")} />}
            {form.values.scope === "group" && <TextInput label="Group id" {...form.getInputProps("group_id")} />}
          </>
        )}
        <Textarea label="Reason" required autosize minRows={2} {...form.getInputProps("reason")} data-testid="exception-reason" />
        <TextInput type="date" label="Expires on" required {...form.getInputProps("expires_on")} data-testid="exception-expires" />
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} data-testid="exception-submit">
            Request exception
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
