import { Alert, Button, Group, List, Modal, Paper, Progress, SegmentedControl, Select, Stack, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { api, type Schemas } from "../api/client";
import { errorMessage, unwrap } from "../api/errors";
import { useCan } from "../auth/session";
import { groupsPickerQuery } from "./GroupQueries";
import {
  describeSelection,
  isEmpty,
  loadedState,
  NO_SELECTION,
  runBulk,
  scanBatchBody,
  selectedHosts,
  type BulkHost,
  type BulkOutcome,
  type HostFilters,
  type Selection,
} from "./BulkSelection";

// Requests in flight at once for the per-host actions: enough to be quick, few enough to
// leave the server (and the browser's connection pool) room for everyone else.
const CONCURRENCY = 6;

// The failures the summary lists by name; the rest are counted.
const LISTED_FAILURES = 10;

interface Running {
  label: string;
  outcome: BulkOutcome;
  total?: number;
  controller: AbortController;
}

interface Pending {
  title: string;
  message: string;
  confirm: string;
  run: () => void;
}

// BulkBar acts on the hosts selected in the hosts table: scan them as one batch, turn their
// maintenance mode on or off, or put them in (or take them out of) a group. Per-host
// actions run a few requests at a time and end with a summary of what succeeded and what
// failed. Controls the caller lacks the permission for are not shown.
export function BulkBar({
  selection,
  setSelection,
  filters,
  rows,
  loadedIds,
  moreToLoad,
}: {
  selection: Selection;
  setSelection: (s: Selection) => void;
  filters: HostFilters;
  rows: readonly BulkHost[];
  loadedIds: readonly string[];
  moreToLoad: boolean;
}) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const canWrite = useCan("host:write");
  const canScan = useCan("scan:execute");
  const [running, setRunning] = useState<Running | null>(null);
  const [result, setResult] = useState<{ label: string; outcome: BulkOutcome } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [groupAction, setGroupAction] = useState<"add" | "remove" | null>(null);
  const controllerRef = useRef<AbortController | null>(null);
  useEffect(() => () => controllerRef.current?.abort(), []);

  const all = selection.kind === "all";
  const count = selection.kind === "ids" ? selection.ids.size : undefined;
  const what = all ? "every host matching these filters" : `the ${count === 1 ? "selected host" : `${count} selected hosts`}`;

  const scan = useMutation({
    mutationFn: (body: Schemas["ScanBatchRequest"]) =>
      unwrap(api.POST("/scan-batches", { body, headers: { "Idempotency-Key": crypto.randomUUID() } })),
    onSuccess: (batch) => {
      void qc.invalidateQueries({ queryKey: ["scans"] });
      setSelection(NO_SELECTION);
      void navigate({ to: "/scan-batches/$batchId", params: { batchId: batch.id } });
    },
    onError: (err) => notifications.show({ color: "red", title: "Scan not started", message: err.message }),
  });

  // run applies work to every selected host and leaves the summary on the bar.
  const run = async (label: string, work: (h: BulkHost) => Promise<unknown>) => {
    const controller = new AbortController();
    controllerRef.current = controller;
    setResult(null);
    setRunning({ label, outcome: { succeeded: 0, failed: [] }, total: count, controller });
    const outcome = await runBulk(selectedHosts(selection, rows, filters, controller.signal), work, {
      concurrency: CONCURRENCY,
      signal: controller.signal,
      onProgress: (o) => setRunning((r) => (r ? { ...r, outcome: o } : r)),
    });
    controllerRef.current = null;
    setRunning(null);
    setResult({ label, outcome });
    void qc.invalidateQueries({ queryKey: ["hosts"] });
    void qc.invalidateQueries({ queryKey: ["groups"] });
  };

  // ask runs an action on every matching host only after a confirmation: the set may be
  // far larger than what is on screen.
  const ask = (p: Pending) => (all ? setPending(p) : p.run());

  const maintenance = (enabled: boolean) => {
    const label = enabled ? "Maintenance on" : "Maintenance off";
    ask({
      title: `${label} for every matching host?`,
      message: `Maintenance mode will be turned ${enabled ? "on" : "off"} for ${what}, one host at a time.`,
      confirm: `Turn maintenance ${enabled ? "on" : "off"}`,
      run: () =>
        void run(label, (h) =>
          unwrap(api.PUT("/hosts/{host_id}/maintenance", { params: { path: { host_id: h.id } }, body: { enabled } })),
        ),
    });
  };

  const startScan = () => {
    const built = scanBatchBody(selection, filters);
    if ("error" in built) {
      notifications.show({ color: "orange", title: "Nothing to scan", message: built.error });
      return;
    }
    ask({
      title: "Scan every matching host?",
      message: "One scan batch will scan every host matching these filters. Hosts in maintenance, or with a scan already queued or running, are left out.",
      confirm: "Start scan batch",
      run: () => scan.mutate(built.body),
    });
  };

  if (isEmpty(selection) && !running && !result) return null;
  const busy = !!running || scan.isPending;
  const done = running ? running.outcome.succeeded + running.outcome.failed.length : 0;

  return (
    <Paper withBorder p="sm" mb="sm" component="section" aria-label="Bulk actions" data-testid="bulk-bar">
      <Stack gap="xs">
        {!isEmpty(selection) && (
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Group gap="xs">
              <Text fw={600} aria-live="polite" data-testid="bulk-count">
                {describeSelection(selection)}
              </Text>
              {selection.kind === "ids" && moreToLoad && loadedState(selection, loadedIds) === "all" && (
                <Button variant="subtle" size="compact-sm" onClick={() => setSelection({ kind: "all" })}>
                  Select all hosts matching these filters
                </Button>
              )}
              <Button variant="subtle" size="compact-sm" onClick={() => setSelection(NO_SELECTION)} disabled={busy}>
                Clear selection
              </Button>
            </Group>
            <Group gap="xs">
              {canScan && (
                <Button size="xs" onClick={startScan} loading={scan.isPending} disabled={!!running}>
                  Scan
                </Button>
              )}
              {canWrite && (
                <>
                  <Button size="xs" variant="default" onClick={() => maintenance(true)} disabled={busy}>
                    Maintenance on
                  </Button>
                  <Button size="xs" variant="default" onClick={() => maintenance(false)} disabled={busy}>
                    Maintenance off
                  </Button>
                  <Button size="xs" variant="default" onClick={() => setGroupAction("add")} disabled={busy}>
                    Add to group
                  </Button>
                  <Button size="xs" variant="default" onClick={() => setGroupAction("remove")} disabled={busy}>
                    Remove from group
                  </Button>
                </>
              )}
            </Group>
          </Group>
        )}
        {running && (
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" style={{ whiteSpace: "nowrap" }} aria-live="polite">
              {running.label}: {done.toLocaleString()}
              {running.total !== undefined ? ` of ${running.total.toLocaleString()}` : ""} done
            </Text>
            <Progress
              flex={1}
              value={running.total ? (done / running.total) * 100 : 100}
              animated={running.total === undefined}
              aria-label={`${running.label} progress`}
            />
            <Button size="xs" variant="default" color="red" onClick={() => running.controller.abort()}>
              Cancel
            </Button>
          </Group>
        )}
        {result && <BulkSummary {...result} onClose={() => setResult(null)} />}
      </Stack>
      <Modal opened={!!pending} onClose={() => setPending(null)} title={pending?.title ?? ""}>
        <Stack>
          <Text size="sm">{pending?.message}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setPending(null)}>
              Cancel
            </Button>
            <Button
              onClick={() => {
                pending?.run();
                setPending(null);
              }}
            >
              {pending?.confirm}
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Modal
        opened={!!groupAction}
        onClose={() => setGroupAction(null)}
        title={groupAction === "remove" ? "Remove from a group" : "Add to a group"}
      >
        {groupAction && (
          <BulkGroupForm
            action={groupAction}
            what={what}
            onRun={(group) => {
              setGroupAction(null);
              const id = group.id;
              if (groupAction === "add") {
                void run(`Add to ${group.name}`, (h) =>
                  unwrap(api.PUT("/groups/{id}/members/{host_id}", { params: { path: { id, host_id: h.id } } })),
                );
              } else {
                void run(`Remove from ${group.name}`, (h) =>
                  unwrap(api.DELETE("/groups/{id}/members/{host_id}", { params: { path: { id, host_id: h.id } } })),
                );
              }
            }}
          />
        )}
      </Modal>
    </Paper>
  );
}

function BulkSummary({ label, outcome, onClose }: { label: string; outcome: BulkOutcome; onClose: () => void }) {
  const failed = outcome.failed.length;
  return (
    <Alert
      role="status"
      color={failed || outcome.stopped ? "orange" : "teal"}
      title={`${label}: ${outcome.succeeded.toLocaleString()} succeeded, ${failed.toLocaleString()} failed`}
      withCloseButton
      closeButtonLabel="Dismiss summary"
      onClose={onClose}
      data-testid="bulk-summary"
    >
      {outcome.stopped && <Text size="sm">Stopped early. {outcome.stopped}</Text>}
      {failed > 0 && (
        <List size="sm">
          {outcome.failed.slice(0, LISTED_FAILURES).map((f) => (
            <List.Item key={f.id}>
              {f.label}: {f.message}
            </List.Item>
          ))}
          {failed > LISTED_FAILURES && <List.Item>and {(failed - LISTED_FAILURES).toLocaleString()} more</List.Item>}
        </List>
      )}
    </Alert>
  );
}

// BulkGroupForm picks the group to add the hosts to (an existing one or a new one made
// here) or to take them out of.
function BulkGroupForm({
  action,
  what,
  onRun,
}: {
  action: "add" | "remove";
  what: string;
  onRun: (g: Schemas["HostGroup"]) => void;
}) {
  const qc = useQueryClient();
  const groups = useQuery(groupsPickerQuery);
  const [kind, setKind] = useState<"existing" | "new">("existing");
  const [groupId, setGroupId] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string>();
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/groups", { body: { name: name.trim() }, headers: { "Idempotency-Key": crypto.randomUUID() } })),
    onSuccess: (g) => {
      void qc.invalidateQueries({ queryKey: ["groups"] });
      onRun(g);
    },
    onError: (err) => setError(errorMessage(err)),
  });
  const options = (groups.data ?? []).map((g) => ({ value: g.id, label: g.name }));
  const isNew = action === "add" && kind === "new";
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        if (isNew) {
          create.mutate();
          return;
        }
        const g = groups.data?.find((x) => x.id === groupId);
        if (!g) {
          setError("Choose a group.");
          return;
        }
        onRun(g);
      }}
    >
      <Stack>
        <Text size="sm">
          {action === "add"
            ? `Put ${what} in a group. A host is in one group at most: hosts in another group move.`
            : `Take ${what} out of a group. Hosts not in it are left as they are.`}
        </Text>
        {action === "add" && (
          <SegmentedControl
            value={kind}
            onChange={(v) => {
              setKind(v as "existing" | "new");
              setError(undefined);
            }}
            data={[
              { value: "existing", label: "Existing group" },
              { value: "new", label: "New group" },
            ]}
          />
        )}
        {isNew ? (
          <TextInput label="New group name" withAsterisk value={name} onChange={(e) => setName(e.currentTarget.value)} error={error} data-autofocus />
        ) : (
          <Select
            label="Group"
            withAsterisk
            searchable
            data={options}
            value={groupId}
            onChange={setGroupId}
            nothingFoundMessage={groups.isPending ? "Loading…" : "No group"}
            error={error}
            data-autofocus
          />
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            {action === "add" ? "Add to group" : "Remove from group"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
