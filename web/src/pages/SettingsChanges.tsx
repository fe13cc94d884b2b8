import { Button, Group, Stack, Switch, TagsInput, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { formatDateTime } from "../lib/format";

interface Values {
  approval_environments: string[];
  remediation_requires_approval: boolean;
}

const KEY = ["settings", "changes"] as const;

// ChangeSettings edits which changes wait for a second person's approval: patch jobs
// touching the listed environments (`*` for every one), and remediation requests.
export function ChangeSettings() {
  const qc = useQueryClient();
  const canWrite = useCan("system:config:write");
  const [formError, setFormError] = useState<string>();
  const { data, error, isPending } = useQuery({ queryKey: KEY, queryFn: () => unwrap(api.GET("/system/changes/config")) });
  const form = useForm<Values>({ mode: "controlled", initialValues: { approval_environments: [], remediation_requires_approval: true } });
  useEffect(() => {
    if (data) {
      const v = { approval_environments: data.approval_environments, remediation_requires_approval: data.remediation_requires_approval };
      form.setValues(v);
      form.resetDirty(v);
    }
    // Reset only when the server's copy changes (form is a new object each render).
  }, [data]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = useMutation({
    mutationFn: (v: Values) => unwrap(api.PUT("/system/changes/config", { body: v })),
    onSuccess: (next) => {
      qc.setQueryData(KEY, next);
      notifications.show({ color: "teal", message: "Change settings saved." });
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["approval_environments", "remediation_requires_approval"])),
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), save.mutate(v)))}>
      <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0 }}>
        <Stack>
          {!canWrite && (
            <Text size="sm" c="dimmed">
              You can read these settings; changing them needs permission system:config:write.
            </Text>
          )}
          <FormError message={formError} />
          <TagsInput
            label="Environments whose patch jobs need approval"
            description="Host environments (press Enter after each); * means every environment. A patch job touching one waits for a second person."
            {...form.getInputProps("approval_environments")}
          />
          <Switch
            label="Remediation requires approval"
            description="Each remediation request waits for a second person before it can be executed."
            {...form.getInputProps("remediation_requires_approval", { type: "checkbox" })}
          />
          <Text size="xs" c="dimmed">
            Last changed {formatDateTime(data.updated_at)} by {data.updated_by || "—"}.
          </Text>
          {canWrite && (
            <Group>
              <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
                Save change settings
              </Button>
            </Group>
          )}
        </Stack>
      </fieldset>
    </form>
  );
}
