import { Badge, Button, Group, Modal, Stack, Table, Text, Textarea, TextInput, VisuallyHidden } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { formatCount, formatDateTime } from "../lib/format";
import { FormError } from "../components/FormError";

type HostGroup = Schemas["HostGroup"];

interface GroupValues {
  name: string;
  description: string;
}
const GROUP_FIELDS = ["name", "description"] as const;

// GroupForm creates a group, or with `group` renames or describes it. A taken name is the
// server's 409 on the name field.
export function GroupForm({ group, onDone }: { group?: HostGroup; onDone: (g: HostGroup) => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<GroupValues>({
    mode: "controlled",
    initialValues: { name: group?.name ?? "", description: group?.description ?? "" },
  });
  const save = useMutation({
    mutationFn: (v: GroupValues) => {
      if (group) {
        return unwrap(
          api.PATCH("/groups/{id}", {
            params: { path: { id: group.id } },
            body: { name: v.name.trim(), description: v.description.trim() },
          }),
        );
      }
      const body: Schemas["HostGroupCreate"] = { name: v.name.trim() };
      if (v.description.trim()) body.description = v.description.trim();
      return unwrap(api.POST("/groups", { body, headers: { "Idempotency-Key": crypto.randomUUID() } }));
    },
    onSuccess: (g) => {
      void qc.invalidateQueries({ queryKey: ["groups"] });
      onDone(g);
    },
    onError: (err) => setFormError(applyFieldError(err, form, GROUP_FIELDS)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => {
        setFormError(undefined);
        save.mutate(v);
      })}
    >
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" withAsterisk data-autofocus {...form.getInputProps("name")} />
        <Textarea label="Description" rows={3} resize="vertical" {...form.getInputProps("description")} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            {group ? "Save group" : "Create group"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

// DeleteGroupDialog asks before deleting a group, and shows the server's answer when it
// refuses.
export function DeleteGroupDialog({
  group,
  onClose,
  onDeleted,
}: {
  group: HostGroup | null;
  onClose: () => void;
  onDeleted: (g: HostGroup) => void;
}) {
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: (g: HostGroup) => unwrap(api.DELETE("/groups/{id}", { params: { path: { id: g.id } } })).then(() => g),
    onSuccess: (g) => {
      void qc.invalidateQueries({ queryKey: ["groups"] });
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      notifications.show({ color: "teal", message: `Group ${g.name} deleted.` });
      onDeleted(g);
    },
  });
  const close = () => {
    del.reset();
    onClose();
  };
  return (
    <Modal opened={!!group} onClose={close} title={group ? `Delete group ${group.name}?` : ""}>
      <Stack>
        <Text size="sm">
          {group?.host_count
            ? `Its ${formatCount(group.host_count)} ${group.host_count === 1 ? "host stays" : "hosts stay"} in the inventory, without a group.`
            : "The group has no host."}{" "}
          {group?.maintenance_mode ? "Its maintenance mode no longer applies to them." : ""}
        </Text>
        <ErrorAlert error={del.error} title="Not deleted" />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={del.isPending} onClick={() => group && del.mutate(group)}>
            Delete group
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// GroupsPage lists the host groups: how many hosts each holds and whether it is in
// maintenance. Creating a group opens it, to add its hosts.
export function GroupsPage() {
  const search = useSearch({ from: "/app/groups" });
  const navigate = useNavigate({ from: "/groups" });
  const [deleting, setDeleting] = useState<HostGroup | null>(null);
  const query = useInfiniteQuery({
    queryKey: ["groups", "list"],
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      unwrap(api.GET("/groups", { params: { query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const groups = useMemo(() => query.data?.pages.flatMap((p) => p.groups) ?? [], [query.data]);
  const setAdding = (on: boolean) => void navigate({ search: (s) => ({ ...s, add: on || undefined }) });
  return (
    <>
      <PageHeader
        title="Groups"
        description="Hosts grouped for scans, maintenance and filtering. A host is in one group at most."
        actions={
          <Can permission="host:write">
            <Button onClick={() => setAdding(true)} data-testid="add-group">
              Add group
            </Button>
          </Can>
        }
      />
      <ErrorAlert error={query.error} />
      <Table aria-label="Groups" striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Description</Table.Th>
            <Table.Th scope="col">Hosts</Table.Th>
            <Table.Th scope="col">Maintenance</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">
              <span className="visually-hidden">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {groups.map((g) => (
            <Table.Tr key={g.id}>
              <Table.Td>
                <AnchorLink to="/groups/$groupId" params={{ groupId: g.id }} fw={500}>
                  {g.name}
                </AnchorLink>
              </Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {g.description || "—"}
                </Text>
              </Table.Td>
              <Table.Td>
                <AnchorLink to="/hosts" search={{ group_id: g.id }} aria-label={`${formatCount(g.host_count)} hosts in ${g.name}`}>
                  {formatCount(g.host_count)}
                </AnchorLink>
              </Table.Td>
              <Table.Td>
                {g.maintenance_mode ? (
                  <Badge color="yellow" variant="light" size="sm" miw="fit-content">
                    maintenance
                  </Badge>
                ) : (
                  "—"
                )}
              </Table.Td>
              <Table.Td>{formatDateTime(g.created_at)}</Table.Td>
              <Table.Td>
                <Can permission="host:delete">
                  <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(g)}>
                    Delete <VisuallyHidden>{g.name}</VisuallyHidden>
                  </Button>
                </Can>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {query.data && groups.length === 0 && (
        <Text c="dimmed" p="md">
          No group yet.
        </Text>
      )}
      {query.hasNextPage && (
        <Group justify="center" mt="sm">
          <Button variant="default" size="xs" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      <Modal opened={!!search.add} onClose={() => setAdding(false)} title="Add group">
        <GroupForm
          onDone={(g) => {
            notifications.show({ color: "teal", message: `Group ${g.name} created.` });
            void navigate({ to: "/groups/$groupId", params: { groupId: g.id } });
          }}
        />
      </Modal>
      <DeleteGroupDialog group={deleting} onClose={() => setDeleting(null)} onDeleted={() => setDeleting(null)} />
    </>
  );
}
