import { Badge, Button, Group, Menu, Modal, PasswordInput, Select, Stack, Table, Tabs, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { formatDateTime } from "../lib/format";
import { CredentialsPanel } from "./CredentialsPanel";
import { RolesPanel } from "./RolesPanel";
import { ServiceAccountsPanel } from "./ServiceAccountsPanel";
import { useUserMutations } from "./UserMutations";
import { FormError } from "../components/FormError";

interface UserValues {
  username: string;
  email: string;
  password: string;
  role: string;
}
const USER_FIELDS = ["username", "email", "password", "role"] as const;

// CreateUserForm adds a user; the server's 400 or 409 lands on the field it names.
export function CreateUserForm({ roles, onDone }: { roles: Schemas["RoleEntry"][]; onDone: (u: Schemas["UserResponse"]) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<UserValues>({ mode: "controlled", initialValues: { username: "", email: "", password: "", role: "viewer" } });
  const create = useMutation({
    mutationFn: (v: UserValues) =>
      unwrap(
        api.POST("/users", {
          body: { username: v.username.trim(), email: v.email.trim(), password: v.password, role: v.role || undefined },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: (u) => {
      void qc.invalidateQueries({ queryKey: ["users"] });
      onDone(u);
    },
    onError: (err) => setFormError(applyFieldError(err, form, USER_FIELDS)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        create.mutate(v);
      })}
    >
      <Stack>
        <FormError message={formError} />
        <TextInput label="Username" withAsterisk autoComplete="off" {...form.getInputProps("username")} />
        <TextInput label="Email" withAsterisk type="email" autoComplete="off" {...form.getInputProps("email")} />
        <PasswordInput label="Initial password" withAsterisk autoComplete="new-password" {...form.getInputProps("password")} />
        <Select label="Role" data={roles.map((r) => ({ value: r.id, label: r.id }))} allowDeselect={false} {...form.getInputProps("role")} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create user
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// UserActions changes one user's roles and whether they may sign in. The server refuses
// what would lock everyone out (the last admin) with a message shown here.
function UserActions({ user, roles }: { user: Schemas["UserResponse"]; roles: Schemas["RoleEntry"][] }) {
  const canWrite = useCan("user:write");
  const canAssign = useCan("role:assign");
  const { toggle, assign } = useUserMutations(user, (err) =>
    notifications.show({ color: "red", title: "Not changed", message: err.message }),
  );
  if (!canWrite && !canAssign) return null;
  const held = new Set(user.roles ?? []);
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button size="xs" variant="default" aria-label={`Change ${user.username}`}>
          Change
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {canAssign && <Menu.Label>Roles</Menu.Label>}
        {canAssign &&
          roles.map((r) => (
            <Menu.Item key={r.id} onClick={() => assign.mutate({ role: r.id, on: !held.has(r.id) })}>
              {held.has(r.id) ? `Remove ${r.id}` : `Give ${r.id}`}
            </Menu.Item>
          ))}
        {canWrite && <Menu.Divider />}
        {canWrite && (
          <Menu.Item color={user.disabled_at ? undefined : "red"} onClick={() => toggle.mutate()}>
            {user.disabled_at ? "Enable sign-in" : "Disable sign-in"}
          </Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}

// AdminPage manages who may use OpenWatch (users, roles) and how it reaches hosts
// (credentials). The tab and an open "add" dialog live in the URL.
export function AdminPage() {
  const search = useSearch({ from: "/app/admin" });
  const navigate = useNavigate({ from: "/admin" });
  const canRoles = useCan("role:read");
  const canCreds = useCan("credential:read");
  const canSA = useCan("service_account:read");
  const tab = search.tab ?? "users";
  const users = useQuery({ queryKey: ["users"], queryFn: () => unwrap(api.GET("/users", { params: { query: { limit: 200 } } })) });
  const roles = useQuery({ queryKey: ["roles"], queryFn: () => unwrap(api.GET("/roles")), enabled: canRoles });
  const setAdding = (on: boolean) => void navigate({ search: (s) => ({ ...s, add: on || undefined }) });
  return (
    <>
      <PageHeader title="Administration" description="Users, roles, service accounts and SSH credentials." />
      <Tabs value={tab} onChange={(v) => void navigate({ search: { tab: (v ?? "users") as typeof tab } })} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="users">Users</Tabs.Tab>
          {canRoles && <Tabs.Tab value="roles">Roles</Tabs.Tab>}
          {canSA && <Tabs.Tab value="service-accounts">Service accounts</Tabs.Tab>}
          {canCreds && <Tabs.Tab value="credentials">Credentials</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="users">
          <Stack>
            <Group justify="flex-end">
              <Can permission="user:write">
                <Button onClick={() => setAdding(true)} data-testid="add-user">
                  Add user
                </Button>
              </Can>
            </Group>
            <ErrorAlert error={users.error} />
            <Table aria-label="Users" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Username</Table.Th>
                  <Table.Th scope="col">Email</Table.Th>
                  <Table.Th scope="col">Roles</Table.Th>
                  <Table.Th scope="col">Created</Table.Th>
                  <Table.Th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {users.data?.users.map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <AnchorLink to="/admin/users/$userId" params={{ userId: u.id }}>
                        {u.username}
                      </AnchorLink>
                      {u.disabled_at && (
                        <Badge ml="xs" color="gray" size="sm">
                          disabled
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{u.email}</Table.Td>
                    <Table.Td>{(u.roles ?? []).join(", ")}</Table.Td>
                    <Table.Td>{formatDateTime(u.created_at)}</Table.Td>
                    <Table.Td>
                      <UserActions user={u} roles={roles.data?.roles ?? []} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Stack>
          <Modal opened={tab === "users" && !!search.add} onClose={() => setAdding(false)} title="Add user">
            <CreateUserForm
              roles={roles.data?.roles ?? [{ id: "viewer", description: "", is_built_in: true, permissions: [] }]}
              onDone={(u) => {
                notifications.show({ color: "teal", message: `User ${u.username} created.` });
                setAdding(false);
              }}
            />
          </Modal>
        </Tabs.Panel>
        <Tabs.Panel value="roles">
          <RolesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="service-accounts">
          <ServiceAccountsPanel roles={roles.data?.roles ?? []} />
        </Tabs.Panel>
        <Tabs.Panel value="credentials">
          <CredentialsPanel adding={tab === "credentials" && !!search.add} setAdding={setAdding} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
