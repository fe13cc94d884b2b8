import { Badge, Button, Group, Stack, Table, Text, TextInput, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, type Schemas } from "../api/client";
import { ApiError, errorMessage, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";

type Variable = Schemas["ScanVariable"];

export const MAX_VARIABLE_LENGTH = 4096;

// variableChanges is the body of PUT /system/scan/variables for what was edited: each
// variable whose value changed, an empty value meaning "clear it" (null, the default
// applies again). Undefined when nothing changed.
export function variableChanges(items: Variable[], edits: Record<string, string>): Record<string, string | null> | undefined {
  const values: Record<string, string | null> = {};
  for (const v of items) {
    const edited = edits[v.name];
    if (edited === undefined) continue;
    const next = edited === "" ? null : edited;
    if (next !== v.value) values[v.name] = next;
  }
  return Object.keys(values).length > 0 ? values : undefined;
}

// validateVariables finds values the server would refuse for their length.
export function validateVariables(edits: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(edits)) {
    if (value.length > MAX_VARIABLE_LENGTH) errors[name] = `At most ${MAX_VARIABLE_LENGTH} characters.`;
  }
  return errors;
}

// variableOfError names the variable a 400 is about: its field is "values.<name>" (or the
// bare name), when that is one of the variables.
export function variableOfError(err: unknown, names: string[]): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 400 || !err.field) return undefined;
  const field = err.field.startsWith("values.") ? err.field.slice("values.".length) : err.field;
  if (names.includes(field)) return field;
  const named = err.envelope?.detail?.["name"];
  return typeof named === "string" && names.includes(named) ? named : undefined;
}

// ScanVariables edits this installation's values of the rule variables, one row each.
// A value the server refuses is shown on its row.
export function ScanVariables() {
  const qc = useQueryClient();
  const canWrite = useCan("system:config:write");
  const { data, error, isPending } = useQuery({
    queryKey: ["settings", "scan-variables"],
    queryFn: () => unwrap(api.GET("/system/scan/variables")),
  });
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  useEffect(() => {
    setEdits({});
    setRowErrors({});
  }, [data]);
  const items = data?.items ?? [];
  const changes = variableChanges(items, edits);
  const save = useMutation({
    mutationFn: (values: Record<string, string | null>) => unwrap(api.PUT("/system/scan/variables", { body: { values } })),
    onSuccess: (next) => {
      qc.setQueryData(["settings", "scan-variables"], next);
      notifications.show({ color: "teal", message: "Rule variables saved. Later scans use the new values." });
    },
    onError: (err) => {
      const name = variableOfError(err, items.map((v) => v.name));
      if (name) setRowErrors({ [name]: errorMessage(err) });
      else setFormError(errorMessage(err));
    },
  });
  if (isPending) return <Text c="dimmed">Loading…</Text>;
  if (error) return <ErrorAlert error={error} />;
  const valueOf = (v: Variable) => edits[v.name] ?? v.value ?? "";
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setFormError(undefined);
    const errors = validateVariables(edits);
    setRowErrors(errors);
    if (Object.keys(errors).length > 0 || !changes) return;
    save.mutate(changes);
  };
  return (
    <form noValidate onSubmit={submit}>
      <Stack>
        {!canWrite && (
          <Text size="sm" c="dimmed">
            You can read these values; changing them needs permission system:config:write.
          </Text>
        )}
        <FormError message={formError} />
        {items.length === 0 ? (
          <Text c="dimmed">No rule uses a variable.</Text>
        ) : (
          <Table aria-label="Rule variables" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Variable</Table.Th>
                <Table.Th scope="col">Default</Table.Th>
                <Table.Th scope="col">This installation's value</Table.Th>
                <Table.Th scope="col">Used by</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((v) => {
                const missing = v.default === null && valueOf(v) === "";
                return (
                  <Table.Tr key={v.name} data-testid={`variable-${v.name}`}>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {v.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {v.description}
                      </Text>
                      {missing && (
                        <Badge color="orange" variant="light" size="sm" miw="fit-content">
                          needs a value
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {v.default ?? "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td miw={220}>
                      <Group gap="xs" wrap="nowrap" align="flex-start">
                        <TextInput
                          aria-label={`Value of ${v.name}`}
                          placeholder={v.default === null ? "no default: set a value" : "the default applies"}
                          value={valueOf(v)}
                          disabled={!canWrite}
                          error={rowErrors[v.name]}
                          onChange={(e) => {
                            const value = e.currentTarget.value;
                            setEdits((x) => ({ ...x, [v.name]: value }));
                            setRowErrors(({ [v.name]: _, ...rest }) => rest);
                          }}
                          style={{ flex: 1 }}
                        />
                        {canWrite && valueOf(v) !== "" && (
                          <Button
                            variant="subtle"
                            size="xs"
                            mt={4}
                            aria-label={`Clear ${v.name}`}
                            onClick={() => setEdits((x) => ({ ...x, [v.name]: "" }))}
                          >
                            Clear
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={v.rules.join(", ")} disabled={v.rules.length === 0} multiline maw={360}>
                        <Text size="sm" tabIndex={v.rules.length > 0 ? 0 : undefined}>
                          {v.rules.length === 1 ? "1 rule" : `${v.rules.length} rules`}
                        </Text>
                      </Tooltip>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
        {canWrite && items.length > 0 && (
          <Group>
            <Button type="submit" loading={save.isPending} disabled={!changes}>
              Save rule variables
            </Button>
            <Button variant="default" disabled={Object.keys(edits).length === 0} onClick={() => (setEdits({}), setRowErrors({}))}>
              Undo changes
            </Button>
            <Text size="xs" c="dimmed">
              An empty value clears this installation's value; the default applies again.
            </Text>
          </Group>
        )}
      </Stack>
    </form>
  );
}
