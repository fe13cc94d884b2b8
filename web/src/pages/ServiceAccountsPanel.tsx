import { Badge, Button, Group, Modal, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { TokenForm, TokensTable } from "./ServiceAccountTokens";
import { FormError } from "../components/FormError";

type Role = Schemas["RoleEntry"];

function roleOptions(roles: Role[]) {
  return roles.map((r) => ({ value: r.id, label: r.id }));
}

// ServiceAccountForm creates a service account; 400 and 409 land on the field they name.
export function ServiceAccountForm({ roles, onDone }: { roles: Role[]; onDone: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { name: "", description: "", role: "viewer" } });
  const create = useMutation({
    mutationFn: (v: { name: string; description: string; role: string }) =>
      unwrap(
        api.POST("/service-accounts", {
          body: { name: v.name.trim(), role: v.role, description: v.description.trim() || undefined },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["service-accounts"] });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "description", "role"])),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), create.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" withAsterisk {...form.getInputProps("name")} />
        <Select label="Role" data={roleOptions(roles)} allowDeselect={false} {...form.getInputProps("role")} />
        <TextInput label="Description" {...form.getInputProps("description")} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create service account
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// ServiceAccountsPanel lists machine identities and their tokens; new tokens are shown once.
export function ServiceAccountsPanel({ roles }: { roles: Role[] }) {
  const canWrite = useCan("service_account:write");
  const [adding, setAdding] = useState(false);
  const [minting, setMinting] = useState<Schemas["ServiceAccount"]>();
  const { data, error } = useQuery({
    queryKey: ["service-accounts"],
    queryFn: () => unwrap(api.GET("/service-accounts", { params: { query: { limit: 200 } } })),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm">
          Machine identities for scripts and integrations. A token with the viewer role is a read-only key.
        </Text>
        {canWrite && <Button onClick={() => setAdding(true)}>Add service account</Button>}
      </Group>
      <ErrorAlert error={error} />
      {data?.service_accounts.length === 0 && <Text c="dimmed">No service account yet.</Text>}
      {data?.service_accounts.map((sa) => (
        <Stack key={sa.id} gap="xs" component="section" aria-label={`Service account ${sa.name}`}>
          <Group justify="space-between">
            <Group gap="xs">
              <Title order={3} size="h5">
                <AnchorLink to="/admin/service-accounts/$serviceAccountId" params={{ serviceAccountId: sa.id }}>
                  {sa.name}
                </AnchorLink>
              </Title>
              <Badge variant="default" miw="fit-content">
                {sa.role}
              </Badge>
              {sa.status !== "active" && (
                <Badge color="gray" miw="fit-content">
                  {sa.status}
                </Badge>
              )}
            </Group>
            {canWrite && sa.status === "active" && (
              <Button size="xs" variant="default" onClick={() => setMinting(sa)} aria-label={`New token for ${sa.name}`}>
                New token
              </Button>
            )}
          </Group>
          {sa.description && (
            <Text size="sm" c="dimmed">
              {sa.description}
            </Text>
          )}
          <TokensTable account={sa} />
        </Stack>
      ))}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add service account">
        <ServiceAccountForm roles={roles} onDone={() => setAdding(false)} />
      </Modal>
      <Modal opened={!!minting} onClose={() => setMinting(undefined)} title={`New token for ${minting?.name ?? ""}`}>
        {minting && <TokenForm account={minting} onClose={() => setMinting(undefined)} />}
      </Modal>
    </Stack>
  );
}
