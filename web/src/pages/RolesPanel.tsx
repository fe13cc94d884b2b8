import { Alert, Badge, Button, Checkbox, Group, Modal, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";

interface RoleValues {
  id: string;
  description: string;
  permissions: string[];
}

// PermissionPicker lists the permission catalogue by category with each permission's
// description; dangerous ones say so.
function PermissionPicker({
  registry,
  value,
  onChange,
  error,
}: {
  registry: Schemas["PermissionsRegistryResponse"];
  value: string[];
  onChange: (v: string[]) => void;
  error?: React.ReactNode;
}) {
  const byCategory = new Map<string, Schemas["PermissionEntry"][]>();
  for (const p of registry.permissions) {
    const list = byCategory.get(p.category) ?? [];
    list.push(p);
    byCategory.set(p.category, list);
  }
  return (
    <Checkbox.Group label="Permissions" value={value} onChange={onChange} error={error}>
      <Stack gap="sm" mt="xs">
        {[...byCategory.entries()].map(([category, perms]) => (
          <Stack key={category} gap={4}>
            <Text size="sm" fw={600}>
              {category}
            </Text>
            {perms.map((p) => (
              <Checkbox
                key={p.id}
                value={p.id}
                label={
                  <Group gap={6}>
                    <Text size="sm" ff="monospace">
                      {p.id}
                    </Text>
                    {p.dangerous && (
                      <Badge color="orange" variant="light" size="xs" miw="fit-content">
                        dangerous
                      </Badge>
                    )}
                  </Group>
                }
                description={p.description}
              />
            ))}
          </Stack>
        ))}
      </Stack>
    </Checkbox.Group>
  );
}

function RoleForm({ registry, onDone }: { registry: Schemas["PermissionsRegistryResponse"]; onDone: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<RoleValues>({ mode: "controlled", initialValues: { id: "", description: "", permissions: [] } });
  const create = useMutation({
    mutationFn: (v: RoleValues) =>
      unwrap(api.POST("/roles:create", { body: { id: v.id.trim(), description: v.description.trim(), permissions: v.permissions } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["roles"] });
      void qc.invalidateQueries({ queryKey: ["permissions-registry"] });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["id", "description", "permissions"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), create.mutate(v)))}>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Role id" description="Lower case letters, digits and underscores." withAsterisk {...form.getInputProps("id")} />
        <TextInput label="Description" withAsterisk {...form.getInputProps("description")} />
        <PermissionPicker
          registry={registry}
          value={form.getValues().permissions}
          onChange={(v) => form.setFieldValue("permissions", v)}
          error={form.errors.permissions}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create role
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// RolesPanel lists the built-in and custom roles and creates custom ones from the
// permission catalogue.
export function RolesPanel() {
  const canWrite = useCan("role:write");
  const [adding, setAdding] = useState(false);
  const registry = useQuery({
    queryKey: ["permissions-registry"],
    queryFn: () => unwrap(api.GET("/auth/permissions:registry")),
    staleTime: 10 * 60_000,
  });
  const roles = useQuery({ queryKey: ["roles"], queryFn: () => unwrap(api.GET("/roles")) });
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          A user holds the union of the permissions of their roles.
        </Text>
        {canWrite && registry.data && <Button onClick={() => setAdding(true)}>Add custom role</Button>}
      </Group>
      <ErrorAlert error={roles.error ?? registry.error} />
      {roles.data?.roles.map((r) => (
        <Stack key={r.id} gap={4} component="section" aria-label={`Role ${r.id}`}>
          <Group gap="xs">
            <Title order={3} size="h5">
              {r.id}
            </Title>
            <Badge size="sm" variant="default" miw="fit-content">
              {r.is_built_in ? "built in" : "custom"}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed">
            {r.description}
          </Text>
          <Group gap={4}>
            {r.permissions.map((p) => (
              <Badge key={p} size="xs" variant="outline" color="gray" miw="fit-content" tt="none">
                {p}
              </Badge>
            ))}
          </Group>
        </Stack>
      ))}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add custom role" size="lg">
        {registry.data && (
          <RoleForm
            registry={registry.data}
            onDone={() => {
              setAdding(false);
              notifications.show({ color: "teal", message: "Role created." });
            }}
          />
        )}
      </Modal>
    </Stack>
  );
}
