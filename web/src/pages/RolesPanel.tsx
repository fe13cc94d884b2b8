import { Badge, Button, Checkbox, Group, Modal, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { ConfirmDialog } from "./AdminConfirm";
import { FormError } from "../components/FormError";

interface RoleValues {
  id: string;
  description: string;
  permissions: string[];
}

// PermissionPicker lists the permission catalogue by category with each permission's
// description; dangerous ones say so.
export function PermissionPicker({
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

// RoleForm creates a custom role (POST /roles:create) or, given one, changes its
// description and permissions (PATCH /roles/{id}); the id of a role never changes.
export function RoleForm({
  registry,
  role,
  onDone,
}: {
  registry: Schemas["PermissionsRegistryResponse"];
  role?: Schemas["RoleEntry"];
  onDone: (r: Schemas["RoleEntry"]) => void;
}) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<RoleValues>({
    mode: "controlled",
    initialValues: { id: role?.id ?? "", description: role?.description ?? "", permissions: role?.permissions ?? [] },
  });
  const save = useMutation({
    mutationFn: (v: RoleValues) =>
      role
        ? unwrap(
            api.PATCH("/roles/{id}", {
              params: { path: { id: role.id } },
              body: { description: v.description.trim(), permissions: v.permissions },
            }),
          )
        : unwrap(
            api.POST("/roles:create", {
              body: { id: v.id.trim(), description: v.description.trim(), permissions: v.permissions },
              headers: { "Idempotency-Key": crypto.randomUUID() },
            }),
          ),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ["roles"] });
      void qc.invalidateQueries({ queryKey: ["permissions-registry"] });
      // Holding the role may have changed what the caller may do.
      void qc.invalidateQueries({ queryKey: ["auth", "permissions"] });
      onDone(r);
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["id", "description", "permissions"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), save.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        {role ? (
          <TextInput label="Role id" readOnly value={role.id} description="A role's id cannot change." />
        ) : (
          <TextInput label="Role id" description="Lower case letters, digits and underscores." withAsterisk {...form.getInputProps("id")} />
        )}
        <TextInput label="Description" withAsterisk {...form.getInputProps("description")} />
        {role && (
          <Text size="sm" c="dimmed">
            Everyone holding {role.id} gets the new permissions on their next request.
          </Text>
        )}
        <PermissionPicker
          registry={registry}
          value={form.getValues().permissions}
          onChange={(v) => form.setFieldValue("permissions", v)}
          error={form.errors.permissions}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            {role ? "Save role" : "Create role"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// RolesPanel lists the built-in and custom roles, creates custom ones from the permission
// catalogue, and changes or deletes them (built-in roles are fixed).
export function RolesPanel() {
  const canWrite = useCan("role:write");
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Schemas["RoleEntry"]>();
  const [deleting, setDeleting] = useState<Schemas["RoleEntry"]>();
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
          <Group gap="xs" justify="space-between">
            <Group gap="xs">
              <Title order={3} size="h5">
                {r.id}
              </Title>
              <Badge size="sm" variant="default" miw="fit-content">
                {r.is_built_in ? "built in" : "custom"}
              </Badge>
            </Group>
            {canWrite && !r.is_built_in && (
              <Group gap="xs">
                <Button size="xs" variant="default" disabled={!registry.data} onClick={() => setEditing(r)} aria-label={`Edit role ${r.id}`}>
                  Edit
                </Button>
                <Button size="xs" variant="light" color="red" onClick={() => setDeleting(r)} aria-label={`Delete role ${r.id}`}>
                  Delete
                </Button>
              </Group>
            )}
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
      <Modal opened={!!editing} onClose={() => setEditing(undefined)} title={`Edit role ${editing?.id ?? ""}`} size="lg">
        {registry.data && editing && (
          <RoleForm
            registry={registry.data}
            role={editing}
            onDone={(r) => {
              setEditing(undefined);
              notifications.show({ color: "teal", message: `Role ${r.id} saved.` });
            }}
          />
        )}
      </Modal>
      {deleting && (
        <ConfirmDialog
          opened
          onClose={() => setDeleting(undefined)}
          title={`Delete role ${deleting.id}?`}
          confirmLabel="Delete role"
          action={() => unwrap(api.DELETE("/roles/{id}", { params: { path: { id: deleting.id } } }))}
          onDone={() => {
            notifications.show({ color: "teal", message: `Role ${deleting.id} deleted.` });
            setDeleting(undefined);
            void qc.invalidateQueries({ queryKey: ["roles"] });
            void qc.invalidateQueries({ queryKey: ["permissions-registry"] });
          }}
        >
          {`${deleting.id} is removed for good. The server refuses while any user or service account still holds it.`}
        </ConfirmDialog>
      )}
    </Stack>
  );
}
