import { Badge, Button, Card, Group, Loader, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { ConfirmDialog } from "./AdminConfirm";
import { TokenForm, TokensTable } from "./ServiceAccountTokens";
import { FormError } from "../components/FormError";

type Account = Schemas["ServiceAccount"];

// findServiceAccount reads one account (GET /service-accounts/{id}; disabled ones too).
export async function findServiceAccount(id: string): Promise<Account> {
  return unwrap(api.GET("/service-accounts/{id}", { params: { path: { id } } }));
}

interface EditValues {
  name: string;
  description: string;
  role: string;
}

// EditForm replaces the account's name, description and role (PUT /service-accounts/{id});
// lowering the role also lowers or revokes its tokens, which the server does.
function EditForm({ account }: { account: Account }) {
  const qc = useQueryClient();
  const canRoles = useCan("role:read");
  const [formError, setFormError] = useState<string>();
  const roles = useQuery({ queryKey: ["roles"], queryFn: () => unwrap(api.GET("/roles")), enabled: canRoles });
  const form = useForm<EditValues>({
    mode: "controlled",
    initialValues: { name: account.name, description: account.description, role: account.role },
  });
  const save = useMutation({
    mutationFn: (v: EditValues) =>
      unwrap(
        api.PUT("/service-accounts/{id}", {
          params: { path: { id: account.id } },
          body: { name: v.name.trim(), role: v.role, description: v.description.trim() },
        }),
      ),
    onSuccess: (a) => {
      qc.setQueryData(["service-accounts", "detail", a.id], a);
      void qc.invalidateQueries({ queryKey: ["service-accounts"] });
      notifications.show({ color: "teal", message: `Service account ${a.name} saved.` });
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["name", "description", "role"])),
  });
  const options = (roles.data?.roles ?? [{ id: account.role }]).map((r) => ({ value: r.id, label: r.id }));
  return (
    <form noValidate onSubmit={form.onSubmit((v) => (setFormError(undefined), save.mutate(v)))}>
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" withAsterisk {...form.getInputProps("name")} />
        <Select
          label="Role"
          description="Lowering it lowers the tokens too: a token holding more is revoked."
          data={options}
          allowDeselect={false}
          {...form.getInputProps("role")}
        />
        <TextInput label="Description" {...form.getInputProps("description")} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
            Save service account
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Facts({ account }: { account: Account }) {
  const rows: [string, string][] = [
    ["Role", account.role],
    ["Status", account.status],
    ["Created", `${formatDateTime(account.created_at)} by ${account.created_by}`],
    ["Last changed", formatDateTime(account.updated_at)],
  ];
  if (account.disabled_at) rows.push(["Disabled", formatDateTime(account.disabled_at)]);
  return (
    <Table aria-label="Service account facts">
      <Table.Tbody>
        {rows.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th scope="row" fw={500} w={160}>
              {k}
            </Table.Th>
            <Table.Td>{v}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ServiceAccountPage is one machine identity: edit it, list and revoke its tokens, mint a
// token shown once, and delete it (which disables it and revokes every token).
export function ServiceAccountPage() {
  const { serviceAccountId } = useParams({ from: "/app/admin/service-accounts/$serviceAccountId" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [minting, setMinting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const canWrite = useCan("service_account:write");
  const account = useQuery({
    queryKey: ["service-accounts", "detail", serviceAccountId],
    queryFn: () => findServiceAccount(serviceAccountId),
  });
  const back = (
    <AnchorLink to="/admin" search={{ tab: "service-accounts" }} size="sm" underline="always">
      All service accounts
    </AnchorLink>
  );
  if (!account.data) {
    return (
      <>
        <PageHeader title="Service account" description={back} />
        {account.isPending ? <Loader role="status" aria-label="Loading the service account" /> : <ErrorAlert error={account.error} />}
      </>
    );
  }
  const a = account.data;
  const active = a.status === "active";
  return (
    <>
      <PageHeader
        title={a.name}
        description={
          <>
            {a.description ? `${a.description} · ` : ""}
            {back}
          </>
        }
        actions={
          <>
            <Badge variant="default" size="lg" miw="fit-content">
              {a.role}
            </Badge>
            {!active && (
              <Badge color="gray" size="lg" miw="fit-content">
                {a.status}
              </Badge>
            )}
            {active && (
              <Can permission="service_account:write">
                <Button color="red" variant="light" onClick={() => setDeleting(true)}>
                  Delete service account
                </Button>
              </Can>
            )}
          </>
        }
      />
      <Stack>
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Card withBorder component="section" aria-labelledby="sa-settings">
            <Title order={2} size="h4" mb="sm" id="sa-settings">
              Settings
            </Title>
            {active && canWrite && <EditForm key={a.updated_at} account={a} />}
            {active && !canWrite && (
              <Text size="sm" c="dimmed">
                Changing it needs permission service_account:write.
              </Text>
            )}
            {!active && (
              <Text size="sm" c="dimmed">
                A deleted service account cannot be changed.
              </Text>
            )}
          </Card>
          <Card withBorder component="section" aria-labelledby="sa-facts">
            <Title order={2} size="h4" mb="sm" id="sa-facts">
              Account
            </Title>
            <Facts account={a} />
          </Card>
        </SimpleGrid>
        <Card withBorder component="section" aria-labelledby="sa-tokens">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4" id="sa-tokens">
              Tokens
            </Title>
            {active && (
              <Can permission="service_account:write">
                <Button onClick={() => setMinting(true)}>New token</Button>
              </Can>
            )}
          </Group>
          <Text size="sm" c="dimmed" mb="sm">
            Use a token as <code>Authorization: Bearer &lt;token&gt;</code>. Its secret is shown once, when it is created.
          </Text>
          <TokensTable account={a} revocable={active} />
        </Card>
      </Stack>
      <Modal opened={minting} onClose={() => setMinting(false)} title={`New token for ${a.name}`}>
        <TokenForm account={a} onClose={() => setMinting(false)} />
      </Modal>
      <ConfirmDialog
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete ${a.name}?`}
        confirmLabel="Delete service account"
        action={() => unwrap(api.DELETE("/service-accounts/{id}", { params: { path: { id: a.id } } }))}
        onDone={() => {
          setDeleting(false);
          void qc.invalidateQueries({ queryKey: ["service-accounts"] });
          notifications.show({ color: "teal", message: `Service account ${a.name} deleted; its tokens no longer work.` });
          void navigate({ to: "/admin", search: { tab: "service-accounts" } });
        }}
      >
        {`${a.name} is disabled and every one of its tokens stops working on its next request. This cannot be undone.`}
      </ConfirmDialog>
    </>
  );
}
