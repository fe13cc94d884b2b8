import { Badge, Button, Card, Checkbox, Group, Loader, PasswordInput, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
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
import { useUserMutations } from "./UserMutations";
import { UserAccountActions } from "./UserAccountActions";
import { FormError } from "../components/FormError";

type User = Schemas["UserResponse"];

// userQuery is one user; its key starts with "users" so any change to users refreshes it.
export const userQueryKey = (id: string) => ["users", "detail", id] as const;

// userPatch is the PATCH body for what changed (the API wants at least one field), or
// undefined when nothing did.
export function userPatch(user: Pick<User, "username" | "email">, v: { username: string; email: string }): Schemas["UserUpdateRequest"] | undefined {
  const body: Schemas["UserUpdateRequest"] = {};
  if (v.username.trim() !== user.username) body.username = v.username.trim();
  if (v.email.trim() !== user.email) body.email = v.email.trim();
  return Object.keys(body).length > 0 ? body : undefined;
}

// ProfileForm edits the username and email (PATCH /users/{id}); a 400 or 409 (a username
// taken) lands on its field.
function ProfileForm({ user }: { user: User }) {
  const qc = useQueryClient();
  const canWrite = useCan("user:write");
  const [formError, setFormError] = useState<string>();
  const form = useForm({ mode: "controlled", initialValues: { username: user.username, email: user.email } });
  const save = useMutation({
    mutationFn: (body: Schemas["UserUpdateRequest"]) => unwrap(api.PATCH("/users/{id}", { params: { path: { id: user.id } }, body })),
    onSuccess: (u) => {
      qc.setQueryData(userQueryKey(user.id), u);
      void qc.invalidateQueries({ queryKey: ["users"] });
      form.setValues({ username: u.username, email: u.email });
      form.resetDirty({ username: u.username, email: u.email });
      notifications.show({ color: "teal", message: `User ${u.username} saved.` });
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["username", "email"])),
  });
  const body = userPatch(user, form.getValues());
  return (
    <Card withBorder component="section" aria-labelledby="user-profile">
      <Title order={2} size="h4" mb="sm" id="user-profile">
        Profile
      </Title>
      <form
        noValidate
        onSubmit={form.onSubmit(() => {
          setFormError(undefined);
          if (body) save.mutate(body);
        })}
      >
        <Stack>
          <FormError message={formError} />
          <TextInput label="Username" withAsterisk autoComplete="off" readOnly={!canWrite} {...form.getInputProps("username")} />
          <TextInput label="Email" withAsterisk type="email" autoComplete="off" readOnly={!canWrite} {...form.getInputProps("email")} />
          <Can permission="user:write">
            <Group justify="flex-end">
              <Button type="submit" loading={save.isPending} disabled={!body}>
                Save profile
              </Button>
            </Group>
          </Can>
        </Stack>
      </form>
    </Card>
  );
}

// RolesCard gives and takes roles (POST /users/{id}/roles:assign and :unassign), one
// checkbox per role; the server's refusal (the last admin keeps admin, a role above the
// caller) shows in an alert.
function RolesCard({ user }: { user: User }) {
  const canRead = useCan("role:read");
  const canAssign = useCan("role:assign");
  const [error, setError] = useState<Error>();
  const roles = useQuery({ queryKey: ["roles"], queryFn: () => unwrap(api.GET("/roles")), enabled: canRead });
  const { assign } = useUserMutations(user, setError);
  const held = new Set(user.roles);
  // Without role:read the user's own role names are all there is to show.
  const list: Schemas["RoleEntry"][] =
    roles.data?.roles ?? user.roles.map((id) => ({ id, description: "", is_built_in: true, permissions: [] }));
  return (
    <Card withBorder component="section" aria-labelledby="user-roles">
      <Title order={2} size="h4" mb="sm" id="user-roles">
        Roles
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        The user holds the union of the permissions of these roles.
      </Text>
      <ErrorAlert error={error ?? roles.error} title="Roles not changed" />
      <Stack gap="xs" mt="xs">
        {list.map((r) => (
          <Checkbox
            key={r.id}
            label={r.id}
            description={r.description || undefined}
            checked={held.has(r.id)}
            disabled={!canAssign || assign.isPending}
            onChange={(e) => {
              setError(undefined);
              assign.mutate({ role: r.id, on: e.currentTarget.checked });
            }}
          />
        ))}
      </Stack>
    </Card>
  );
}

// PasswordResetForm sets the user's password (POST /users/{id}/password:reset); their
// sessions end at once and they sign in with the new one.
function PasswordResetForm({ user }: { user: User }) {
  const [formError, setFormError] = useState<string>();
  const form = useForm({
    mode: "controlled",
    initialValues: { new_password: "", confirm: "" },
    validate: {
      new_password: (v) => (v === "" ? "Enter the new password." : null),
      confirm: (v, all) => (v !== all.new_password ? "The passwords do not match." : null),
    },
  });
  const reset = useMutation({
    mutationFn: (pw: string) =>
      unwrap(api.POST("/users/{id}/password:reset", { params: { path: { id: user.id } }, body: { new_password: pw } })),
    onSuccess: () => {
      form.reset();
      notifications.show({
        color: "teal",
        title: "Password set",
        message: `${user.username} was signed out everywhere and signs in with the new password.`,
      });
    },
    onError: (err) => setFormError(applyFieldError(err, form, ["new_password"])),
  });
  return (
    <Card withBorder component="section" aria-labelledby="user-password">
      <Title order={2} size="h4" mb="sm" id="user-password">
        Reset password
      </Title>
      <form
        noValidate
        onSubmit={form.onSubmit((v) => {
          setFormError(undefined);
          reset.mutate(v.new_password);
        })}
      >
        <Stack>
          <Text size="sm" c="dimmed">
            Sets a new password for {user.username}. Their sessions end at once; tell them the new password another way.
          </Text>
          <FormError message={formError} />
          <PasswordInput label="New password" withAsterisk autoComplete="new-password" {...form.getInputProps("new_password")} />
          <PasswordInput label="Repeat the new password" withAsterisk autoComplete="new-password" {...form.getInputProps("confirm")} />
          <Group justify="flex-end">
            <Button type="submit" loading={reset.isPending}>
              Reset password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function Facts({ user }: { user: User }) {
  return (
    <Card withBorder component="section" aria-labelledby="user-facts">
      <Title order={2} size="h4" mb="sm" id="user-facts">
        Account
      </Title>
      <Table aria-label="Account facts">
        <Table.Tbody>
          <Table.Tr>
            <Table.Th scope="row" fw={500} w={200}>
              Sign-in
            </Table.Th>
            <Table.Td>{user.disabled_at ? `disabled ${formatDateTime(user.disabled_at)}` : "allowed"}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row" fw={500}>
              Created
            </Table.Th>
            <Table.Td>{formatDateTime(user.created_at)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row" fw={500}>
              Last changed
            </Table.Th>
            <Table.Td>{formatDateTime(user.updated_at)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row" fw={500}>
              Password changed
            </Table.Th>
            <Table.Td>{formatDateTime(user.last_password_change_at)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row" fw={500}>
              Second factor
            </Table.Th>
            <Table.Td>{user.mfa_enabled ? "enrolled" : "none"}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Card>
  );
}

// UserDetailPage is one user (GET /users/{id}): profile, roles, sign-in on or off, an
// administrator password reset, signing out everywhere, an MFA reset and deletion.
export function UserDetailPage() {
  const { userId } = useParams({ from: "/app/admin/users/$userId" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const [toggleError, setToggleError] = useState<Error>();
  const user = useQuery({
    queryKey: userQueryKey(userId),
    queryFn: () => unwrap(api.GET("/users/{id}", { params: { path: { id: userId } } })),
  });
  const { toggle } = useUserMutations({ id: userId, disabled_at: user.data?.disabled_at }, setToggleError);
  const back = (
    <AnchorLink to="/admin" search={{ tab: "users" }} size="sm" underline="always">
      All users
    </AnchorLink>
  );
  if (user.isPending) {
    return (
      <>
        <PageHeader title="User" description={back} />
        <Loader role="status" aria-label="Loading the user" />
      </>
    );
  }
  if (!user.data) {
    return (
      <>
        <PageHeader title="User" description={back} />
        <ErrorAlert error={user.error} />
      </>
    );
  }
  const u = user.data;
  return (
    <>
      <PageHeader
        title={u.username}
        description={
          <>
            {u.email} · {back}
          </>
        }
        actions={
          <>
            {u.disabled_at && (
              <Badge color="gray" size="lg" miw="fit-content">
                disabled
              </Badge>
            )}
            <Can permission="user:write">
              <Button
                variant="default"
                loading={toggle.isPending}
                onClick={() => {
                  setToggleError(undefined);
                  toggle.mutate();
                }}
              >
                {u.disabled_at ? "Enable sign-in" : "Disable sign-in"}
              </Button>
            </Can>
            <UserAccountActions user={u} />
            <Can permission="user:delete">
              <Button color="red" variant="light" onClick={() => setDeleting(true)}>
                Delete user
              </Button>
            </Can>
          </>
        }
      />
      <Stack>
        <ErrorAlert error={toggleError} title="Sign-in not changed" />
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <ProfileForm key={u.updated_at} user={u} />
          <RolesCard user={u} />
          <Can permission="user:write">
            <PasswordResetForm user={u} />
          </Can>
          <Facts user={u} />
        </SimpleGrid>
      </Stack>
      <ConfirmDialog
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete ${u.username}?`}
        confirmLabel="Delete user"
        action={() => unwrap(api.DELETE("/users/{id}", { params: { path: { id: u.id } } }))}
        onDone={() => {
          setDeleting(false);
          qc.removeQueries({ queryKey: userQueryKey(u.id) });
          void qc.invalidateQueries({ queryKey: ["users"] });
          notifications.show({ color: "teal", message: `User ${u.username} deleted.` });
          void navigate({ to: "/admin", search: { tab: "users" } });
        }}
      >
        {`${u.username} can no longer sign in and their sessions end at once. Their actions stay in the audit trail, and the username becomes free for a new account.`}
      </ConfirmDialog>
    </>
  );
}
