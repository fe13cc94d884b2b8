import { Badge, Button, Checkbox, Group, Modal, NumberInput, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { applyFieldError, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";

type Window = Schemas["MaintenanceWindow"];
type Weekday = Schemas["Weekday"];
type Recurrence = Schemas["MaintenanceRecurrence"];
type Opening = Schemas["MaintenanceOpening"];

// Owner is what the windows belong to: a host (its preview merges its group's windows) or a group.
export type Owner = { hostId: string } | { groupId: string };

const WEEKDAYS: Weekday[] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const RECURRENCES: { value: Recurrence; label: string }[] = [
  { value: "once", label: "Once" },
  { value: "daily", label: "Daily" },
  { value: "weekly", label: "Weekly" },
  { value: "monthly_nth_weekday", label: "Monthly (nth weekday)" },
];
const WEEKS = ["first", "second", "third", "fourth", "last"] as const;
const FIELDS = ["name", "time_zone", "start_time", "duration_minutes", "recurrence", "date", "days_of_week", "week_of_month", "day_of_week"] as const;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// describe says when a window opens, in words.
export function describe(w: Window): string {
  const at = `at ${w.start_time} for ${w.duration_minutes} min`;
  switch (w.recurrence) {
    case "once":
      return `Once on ${w.date ?? "?"} ${at}`;
    case "daily":
      return `Daily ${at}`;
    case "weekly":
      return `${w.days_of_week.map((d) => cap(d.slice(0, 3))).join(", ")} ${at}`;
    default:
      return `${cap(w.week_of_month ?? "")} ${cap(w.day_of_week ?? "")} of the month ${at}`;
  }
}

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf?.("timeZone") ?? [];
  return list.includes("UTC") ? list : ["UTC", ...list];
}

interface Values {
  name: string;
  time_zone: string;
  start_time: string;
  duration_minutes: number | string;
  recurrence: Recurrence;
  date: string;
  days_of_week: Weekday[];
  week_of_month: string;
  day_of_week: string;
}

function WindowForm({ owner, onDone }: { owner: Owner; onDone: () => void }) {
  const qc = useQueryClient();
  const [formError, setFormError] = useState<string>();
  const form = useForm<Values>({
    mode: "controlled",
    initialValues: {
      name: "",
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      start_time: "02:00",
      duration_minutes: 120,
      recurrence: "weekly",
      date: "",
      days_of_week: ["sunday"],
      week_of_month: "second",
      day_of_week: "tuesday",
    },
  });
  const save = useMutation({
    mutationFn: (v: Values) => {
      const body: Schemas["MaintenanceWindowCreate"] = {
        name: v.name.trim(),
        time_zone: v.time_zone,
        start_time: v.start_time.trim(),
        duration_minutes: Number(v.duration_minutes),
        recurrence: v.recurrence,
        enabled: true,
      };
      if (v.recurrence === "once" && v.date) body.date = v.date;
      if (v.recurrence === "weekly") body.days_of_week = v.days_of_week;
      if (v.recurrence === "monthly_nth_weekday") {
        body.week_of_month = v.week_of_month as Schemas["WeekOfMonth"];
        body.day_of_week = v.day_of_week as Weekday;
      }
      return "hostId" in owner
        ? unwrap(api.POST("/hosts/{host_id}/maintenance-windows", { params: { path: { host_id: owner.hostId } }, body }))
        : unwrap(api.POST("/groups/{id}/maintenance-windows", { params: { path: { id: owner.groupId } }, body }));
    },
    onSuccess: (w) => {
      void qc.invalidateQueries({ queryKey: ["maintenance-windows"] });
      notifications.show({ color: "teal", message: `Window ${w.name} added.` });
      onDone();
    },
    onError: (err) => setFormError(applyFieldError(err, form, FIELDS)),
  });
  const rec = form.values.recurrence;
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
        <Select label="Time zone" withAsterisk searchable data={zones()} {...form.getInputProps("time_zone")} />
        <Group grow>
          <TextInput label="Start time (HH:MM, local)" withAsterisk {...form.getInputProps("start_time")} />
          <NumberInput label="Duration (minutes)" withAsterisk min={1} max={10080} {...form.getInputProps("duration_minutes")} />
        </Group>
        <Select label="Recurrence" withAsterisk data={RECURRENCES} allowDeselect={false} {...form.getInputProps("recurrence")} />
        {rec === "once" && <TextInput label="Date (YYYY-MM-DD)" withAsterisk {...form.getInputProps("date")} />}
        {rec === "weekly" && (
          <Checkbox.Group label="Days" withAsterisk {...form.getInputProps("days_of_week")}>
            <Group gap="sm" mt={4}>
              {WEEKDAYS.map((d) => (
                <Checkbox key={d} value={d} label={cap(d.slice(0, 3))} />
              ))}
            </Group>
          </Checkbox.Group>
        )}
        {rec === "monthly_nth_weekday" && (
          <Group grow>
            <Select label="Week of month" data={WEEKS.map((w) => ({ value: w, label: cap(w) }))} allowDeselect={false} {...form.getInputProps("week_of_month")} />
            <Select label="Day" data={WEEKDAYS.map((d) => ({ value: d, label: cap(d) }))} allowDeselect={false} {...form.getInputProps("day_of_week")} />
          </Group>
        )}
        <Text size="xs" c="dimmed">
          Times are the zone's wall clock. A start time skipped when clocks spring forward starts at the change; the
          duration is elapsed time.
        </Text>
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            Add window
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Openings({ openings }: { openings: Opening[] }) {
  if (openings.length === 0) return <Text size="sm">No upcoming openings.</Text>;
  return (
    <Table data-testid="mw-openings">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Window</Table.Th>
          <Table.Th>Starts (local)</Table.Th>
          <Table.Th>Ends (local)</Table.Th>
          <Table.Th>Zone</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {openings.map((o) => (
          <Table.Tr key={o.window_id + o.start}>
            <Table.Td>{o.window_name}</Table.Td>
            <Table.Td>{o.local_start.replace("T", " ")}</Table.Td>
            <Table.Td>{o.local_end.replace("T", " ")}</Table.Td>
            <Table.Td>{o.time_zone}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// MaintenanceWindows lists a host's or a group's maintenance windows with their next
// openings (for a host, merged with its group's), and adds, switches and deletes windows.
export function MaintenanceWindows({ owner }: { owner: Owner }) {
  const qc = useQueryClient();
  const id = "hostId" in owner ? owner.hostId : owner.groupId;
  const list = useQuery({
    queryKey: ["maintenance-windows", "list", owner],
    queryFn: () =>
      "hostId" in owner
        ? unwrap(api.GET("/hosts/{host_id}/maintenance-windows", { params: { path: { host_id: owner.hostId } } }))
        : unwrap(api.GET("/groups/{id}/maintenance-windows", { params: { path: { id: owner.groupId } } })),
  });
  const hostPreview = useQuery({
    queryKey: ["maintenance-windows", "host-preview", id],
    enabled: "hostId" in owner,
    queryFn: () => unwrap(api.GET("/hosts/{host_id}/maintenance-windows:preview", { params: { path: { host_id: id }, query: { count: 5 } } })),
  });
  const [adding, setAdding] = useState(false);
  const [previewing, setPreviewing] = useState<Window | null>(null);
  const [deleting, setDeleting] = useState<Window | null>(null);
  const preview = useQuery({
    queryKey: ["maintenance-windows", "preview", previewing?.id],
    enabled: previewing !== null,
    queryFn: () =>
      unwrap(api.GET("/maintenance-windows/{id}:preview", { params: { path: { id: previewing?.id ?? "" }, query: { count: 10 } } })),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["maintenance-windows"] });
  const toggle = useMutation({
    mutationFn: (w: Window) =>
      unwrap(api.PATCH("/maintenance-windows/{id}", { params: { path: { id: w.id } }, body: { enabled: !w.enabled } })),
    onSuccess: refresh,
    onError: (err) => notifications.show({ color: "red", title: "Window not changed", message: err.message }),
  });
  const remove = useMutation({
    mutationFn: (w: Window) => unwrap(api.DELETE("/maintenance-windows/{id}", { params: { path: { id: w.id } } })).then(() => w),
    onSuccess: (w) => {
      refresh();
      setDeleting(null);
      notifications.show({ color: "teal", message: `Window ${w.name} deleted.` });
    },
  });
  const windows = list.data?.windows ?? [];
  return (
    <Stack data-testid="maintenance-windows">
      <Group justify="space-between">
        <Title order={3}>Maintenance windows</Title>
        <Can permission="host:write">
          <Button onClick={() => setAdding(true)}>Add window</Button>
        </Can>
      </Group>
      <ErrorAlert error={list.error} title="Windows not loaded" />
      {"hostId" in owner && (
        <Text size="sm" c="dimmed">
          Changes to this host wait for one of its windows; the group's windows apply too.
        </Text>
      )}
      {list.isSuccess && windows.length === 0 && <Text size="sm">No maintenance windows.</Text>}
      {windows.length > 0 && (
        <Table data-testid="mw-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>Zone</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {windows.map((w) => (
              <Table.Tr key={w.id}>
                <Table.Td>{w.name}</Table.Td>
                <Table.Td>{describe(w)}</Table.Td>
                <Table.Td>{w.time_zone}</Table.Td>
                <Table.Td>
                  <Badge color={w.enabled ? "teal" : "gray"} variant="light" miw="fit-content">
                    {w.enabled ? "enabled" : "disabled"}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end" wrap="nowrap">
                    <Button size="xs" variant="default" onClick={() => setPreviewing(w)} aria-label={`Next openings of ${w.name}`}>
                      Next openings
                    </Button>
                    <Can permission="host:write">
                      <Button size="xs" variant="default" onClick={() => toggle.mutate(w)} aria-label={`${w.enabled ? "Disable" : "Enable"} ${w.name}`}>
                        {w.enabled ? "Disable" : "Enable"}
                      </Button>
                      <Button size="xs" variant="default" color="red" onClick={() => setDeleting(w)} aria-label={`Delete ${w.name}`}>
                        Delete
                      </Button>
                    </Can>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {"hostId" in owner && hostPreview.data && (
        <Stack gap="xs">
          <Group gap="sm">
            <Title order={4}>Next openings</Title>
            <Badge color={hostPreview.data.open_now ? "teal" : "gray"} variant="light" miw="fit-content" data-testid="mw-open-now">
              {hostPreview.data.open_now ? "open now" : "closed now"}
            </Badge>
          </Group>
          <Openings openings={hostPreview.data.openings} />
        </Stack>
      )}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add maintenance window" size="lg">
        <WindowForm owner={owner} onDone={() => setAdding(false)} />
      </Modal>
      <Modal opened={previewing !== null} onClose={() => setPreviewing(null)} title={previewing ? `Next openings of ${previewing.name}` : ""} size="lg">
        <ErrorAlert error={preview.error} title="Openings not loaded" />
        {preview.data && <Openings openings={preview.data.openings} />}
      </Modal>
      <Modal opened={deleting !== null} onClose={() => setDeleting(null)} title={deleting ? `Delete window ${deleting.name}?` : ""}>
        <Stack>
          <Text size="sm">Changes waiting for this window will wait for another one.</Text>
          <ErrorAlert error={remove.error} title="Not deleted" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => deleting && remove.mutate(deleting)}>
              Delete window
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
