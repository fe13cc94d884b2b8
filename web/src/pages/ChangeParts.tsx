import { Alert, Badge, Box, Button, Card, Code, Group, Modal, Stack, Table, Text, Textarea, Title, Tooltip, UnstyledButton } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { ApiError, errorMessage } from "../api/errors";
import { Can } from "../auth/Can";
import { meQuery } from "../auth/session";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { formatDateTime } from "../lib/format";
import {
  actionPermission,
  actionsFor,
  budgetView,
  diffLines,
  formatDuration,
  groupSteps,
  isDiff,
  reasonOf,
  waveView,
  type ChangeAction,
  type ChangeJob,
  type ChangeJobHost,
  type ChangeKind,
  type ChangeStep,
  type HostStatus,
} from "./ChangeModel";
import { changeKey, changeRoot, changeStepsQuery, runAction } from "./ChangeQueries";

// Parts shared by the patch job and remediation request pages.

const STATUS_COLOR: Record<string, string> = {
  pending_approval: "yellow",
  approved: "violet",
  rejected: "gray",
  running: "blue",
  halted: "orange",
  completed: "teal",
  failed: "red",
  cancelled: "gray",
  rolling_back: "grape",
  rolled_back: "grape",
};

export function ChangeStatusBadge({ status, testId }: { status: ChangeJob["status"]; testId?: string }) {
  return (
    <Badge miw="fit-content" color={STATUS_COLOR[status] ?? "gray"} variant="light" data-testid={testId}>
      {status.replace("_", " ")}
    </Badge>
  );
}

const HOST_COLOR: Record<HostStatus, string> = {
  pending: "gray",
  queued: "gray",
  waiting_window: "yellow",
  running: "blue",
  succeeded: "teal",
  failed: "red",
  rolled_back: "grape",
  rollback_failed: "red",
  cancelled: "gray",
  skipped: "gray",
};

export function HostStatusBadge({ status, testId }: { status: HostStatus; testId?: string }) {
  return (
    <Badge miw="fit-content" color={HOST_COLOR[status] ?? "gray"} variant={status === "pending" ? "outline" : "light"} data-testid={testId}>
      {status.replace("_", " ")}
    </Badge>
  );
}

const ACTION_LABEL: Record<ChangeAction, string> = {
  approve: "Approve",
  reject: "Reject",
  "dry-run": "Dry run",
  execute: "Execute",
  cancel: "Cancel",
  resume: "Resume",
  rollback: "Roll back",
};

const ACTION_TEXT: Record<ChangeAction, string> = {
  approve: "Approving lets the change go ahead. Your reason is recorded in the audit trail.",
  reject: "Rejecting ends the change: nothing is changed on any host. Your reason is recorded in the audit trail.",
  "dry-run": "Every host is probed and each exact change previewed. Nothing changes on the hosts.",
  execute: "The change starts: the first wave is queued and each host waits for its maintenance window unless the request overrides them.",
  cancel: "Hosts being changed finish; every other host is cancelled.",
  resume: "The rollout goes on: the failure budget counts again from now.",
  rollback: "Every host this change touched gets back the state captured before its change, then is health-checked again.",
};

const DONE: Record<ChangeAction, string> = {
  approve: "Approved.",
  reject: "Rejected.",
  "dry-run": "Dry run started: each host's preview appears in its steps.",
  execute: "Execution started.",
  cancel: "Cancelled.",
  resume: "Resumed.",
  rollback: "Rollback started.",
};

// fourEyes tells the API's refusal of a decision by the person who asked for the change.
export function fourEyes(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403 && err.envelope?.detail?.["reason"] === "four_eyes";
}

function actionError(err: unknown): string {
  if (fourEyes(err)) return "You requested this change; another person must approve it.";
  return errorMessage(err);
}

// ChangeActions are the buttons of the transitions a job's status allows, each shown only
// to holders of its permission and confirmed in a dialog (approve and reject with a
// reason).
export function ChangeActions({ job }: { job: ChangeJob }) {
  const qc = useQueryClient();
  const me = useQuery(meQuery).data;
  const [action, setAction] = useState<ChangeAction>();
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string>();
  const mutation = useMutation({
    mutationFn: (a: ChangeAction) => runAction(job.kind, job.id, a, reason),
    onSuccess: (j, a) => {
      qc.setQueryData(changeKey(job.kind, job.id), j);
      void qc.invalidateQueries({ queryKey: [changeRoot(job.kind)] });
      setAction(undefined);
      setReason("");
      notifications.show({ color: "teal", message: `${DONE[a]} The ${job.kind === "patch" ? "job" : "request"} is ${j.status.replace("_", " ")}.` });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.field === "reason") setReasonError(errorMessage(err));
      void qc.invalidateQueries({ queryKey: changeKey(job.kind, job.id) });
    },
  });
  const actions = actionsFor(job.kind, job.status);
  const mine = !!me && job.requested_by.id === me.id;
  const open = (a: ChangeAction) => {
    mutation.reset();
    setReason("");
    setReasonError(undefined);
    setAction(a);
  };
  const confirm = () => {
    if (!action) return;
    if (reasonOf(action) === "required" && !reason.trim()) {
      setReasonError("A reason is required.");
      return;
    }
    setReasonError(undefined);
    mutation.mutate(action);
  };
  const danger = (a: ChangeAction) => a === "reject" || a === "cancel" || a === "rollback";
  return (
    <>
      {actions.map((a) => (
        <Can key={a} permission={actionPermission(job.kind, a)}>
          <Button
            variant={danger(a) ? "light" : "filled"}
            color={danger(a) ? "red" : undefined}
            onClick={() => open(a)}
            data-testid={`change-${a}`}
          >
            {ACTION_LABEL[a]}
          </Button>
        </Can>
      ))}
      <Modal opened={!!action} onClose={() => setAction(undefined)} title={action ? `${ACTION_LABEL[action]} “${job.name}”?` : ""}>
        {action && (
          <Stack>
            {mutation.error && (
              <Alert color={fourEyes(mutation.error) ? "orange" : "red"} role="alert" title="Not done" data-testid="change-action-error">
                {actionError(mutation.error)}
              </Alert>
            )}
            <Text size="sm">{ACTION_TEXT[action]}</Text>
            {mine && (action === "approve" || action === "reject") && (
              <Text size="sm" c="dimmed" data-testid="four-eyes-note">
                You requested this change; another person must approve it.
              </Text>
            )}
            {reasonOf(action) !== "none" && (
              <Textarea
                label="Reason"
                description={reasonOf(action) === "required" ? "Recorded in the audit trail with the decision." : "Optional; recorded in the audit trail."}
                withAsterisk={reasonOf(action) === "required"}
                value={reason}
                onChange={(e) => setReason(e.currentTarget.value)}
                error={reasonError}
                rows={2}
                data-testid="change-reason"
              />
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setAction(undefined)}>
                Back
              </Button>
              <Button color={danger(action) ? "red" : undefined} onClick={confirm} loading={mutation.isPending} data-testid="change-confirm">
                {ACTION_LABEL[action]}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}

// WavesView shows the rollout: each wave's hosts as status badges, the current wave
// highlighted, and the failure budget with the reason of a halt.
export function WavesView({ job, hosts }: { job: ChangeJob; hosts: ChangeJobHost[] }) {
  const waves = waveView(job, hosts);
  const budget = budgetView(job);
  // The budget halts a rollout; once the change is undone it has nothing left to halt.
  const spent = budget.spent && (job.status === "running" || job.status === "halted");
  return (
    <Card withBorder component="section" aria-label="Waves">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Waves
        </Title>
        <Text size="sm" data-testid="change-budget" c={spent ? "var(--mantine-color-error)" : undefined}>
          Failure budget: {budget.text} failed hosts{spent ? " — spent" : ""}
        </Text>
      </Group>
      {job.halt_reason && (
        <Alert color="orange" title="Rollout halted" mb="sm" data-testid="change-halt-reason">
          {job.halt_reason}
        </Alert>
      )}
      <Stack gap="xs">
        {waves.map((w) => (
          <Box
            key={w.index}
            p="xs"
            data-testid={`wave-${w.index}`}
            data-current={w.current || undefined}
            aria-current={w.current ? "step" : undefined}
            style={{
              borderRadius: 6,
              border: w.current ? "2px solid var(--mantine-color-blue-6)" : "1px solid var(--mantine-color-default-border)",
            }}
          >
            <Group gap="xs" mb={4}>
              <Text fw={600} size="sm">
                {w.label}
              </Text>
              <Text size="xs" c="dimmed">
                {w.size} {w.size === 1 ? "host" : "hosts"} · {w.state}
                {w.failed > 0 ? ` · ${w.failed} failed` : ""}
                {w.current ? " · current" : ""}
              </Text>
            </Group>
            <Group gap={6}>
              {w.hosts.map((h) => (
                <Tooltip key={h.host_id} label={`${h.host_name}: ${h.status.replace("_", " ")}`}>
                  <span>
                    <HostStatusBadge status={h.status} />
                    <Text span size="xs" ml={4}>
                      {h.host_name}
                    </Text>
                  </span>
                </Tooltip>
              ))}
              {w.hosts.length === 0 && (
                <Text size="xs" c="dimmed">
                  No host yet.
                </Text>
              )}
            </Group>
          </Box>
        ))}
      </Stack>
    </Card>
  );
}

// OutputBlock shows a step's command and output in a collapsible monospace block; a dry
// run's output is a diff and is shown as one.
export function OutputBlock({ step }: { step: ChangeStep }) {
  const diff = step.phase === "dry_run" && isDiff(step.stdout);
  return (
    <details data-testid="step-output" open={step.phase === "dry_run" || undefined}>
      <summary style={{ cursor: "pointer", fontSize: "var(--mantine-font-size-sm)" }}>Command and output</summary>
      <Stack gap={4} mt={4}>
        <Text size="xs" c="dimmed">
          Command
        </Text>
        <Code block tabIndex={0} style={{ whiteSpace: "pre-wrap", maxHeight: 240, overflow: "auto" }}>
          {step.command}
        </Code>
        {step.stdout !== "" && (
          <>
            <Text size="xs" c="dimmed">
              {diff ? "Changes (diff)" : "Standard output"}
            </Text>
            {diff ? <DiffView text={step.stdout} /> : <Code block tabIndex={0} style={{ whiteSpace: "pre-wrap", maxHeight: 320, overflow: "auto" }}>{step.stdout}</Code>}
          </>
        )}
        {step.stderr !== "" && (
          <>
            <Text size="xs" c="dimmed">
              Standard error
            </Text>
            <Code block tabIndex={0} style={{ whiteSpace: "pre-wrap", maxHeight: 240, overflow: "auto" }}>
              {step.stderr}
            </Code>
          </>
        )}
        {step.truncated && (
          <Text size="xs" c="dimmed">
            Output cut at 16 KiB per stream.
          </Text>
        )}
      </Stack>
    </details>
  );
}

const DIFF_STYLE: Record<string, React.CSSProperties> = {
  add: { background: "var(--mantine-color-teal-light)", color: "var(--mantine-color-text)" },
  del: { background: "var(--mantine-color-red-light)", color: "var(--mantine-color-text)" },
  hunk: { fontStyle: "italic", fontWeight: 600 },
  meta: { fontWeight: 700 },
  context: {},
};

// DiffView shows a unified diff, added lines green and removed ones red (and marked + / -
// for who cannot tell the colours apart).
export function DiffView({ text }: { text: string }) {
  return (
    <Code block tabIndex={0} data-testid="step-diff" style={{ maxHeight: 320, overflow: "auto", padding: 0 }}>
      {diffLines(text).map((l, i) => (
        <div key={i} data-diff={l.kind} style={{ ...DIFF_STYLE[l.kind], padding: "0 8px", whiteSpace: "pre-wrap" }}>
          {l.text || " "}
        </div>
      ))}
    </Code>
  );
}

// HostSteps lists one host's steps in order, grouped by phase.
function HostSteps({ kind, jobId, hostId }: { kind: ChangeKind; jobId: string; hostId: string }) {
  const steps = useQuery(changeStepsQuery(kind, jobId, hostId));
  if (steps.error) return <ErrorAlert error={steps.error} />;
  if (steps.isPending) return <Text size="sm" c="dimmed">Loading steps…</Text>;
  const groups = groupSteps(steps.data);
  if (groups.length === 0) return <Text size="sm" c="dimmed">No step has run on this host yet.</Text>;
  return (
    <Stack gap="sm" data-testid="host-steps">
      {groups.map((g, gi) => (
        <Stack key={`${g.phase}-${gi}`} gap={4}>
          <Text size="sm" fw={700} tt="capitalize">
            {g.phase.replace("_", " ")}
          </Text>
          {g.steps.map((s) => (
            <Box key={s.id} pl="sm" style={{ borderLeft: `3px solid var(--mantine-color-${s.ok ? "teal" : "red"}-6)` }} data-testid="host-step">
              <Group gap="xs">
                <Text size="sm" fw={500}>
                  {s.name}
                </Text>
                <Badge size="sm" variant="light" color={s.ok ? "teal" : "red"}>
                  {s.ok ? "ok" : "failed"}
                </Badge>
                <Text size="xs" c="dimmed">
                  exit {s.exit_code ?? "—"} · {formatDuration(s.started_at, s.finished_at)}
                </Text>
              </Group>
              <OutputBlock step={s} />
            </Box>
          ))}
        </Stack>
      ))}
    </Stack>
  );
}

// ChangeHostsTable lists a job's hosts in wave order; a row opens to the host's steps.
export function ChangeHostsTable({ job, hosts }: { job: ChangeJob; hosts: ChangeJobHost[] }) {
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const remediation = job.kind === "remediation";
  const cols = remediation ? 9 : 8;
  return (
    <Card withBorder component="section" aria-label="Hosts">
      <Title order={2} size="h4" mb="sm">
        Hosts
      </Title>
      <Table.ScrollContainer minWidth={900}>
        <Table aria-label="Hosts of this change" verticalSpacing="xs" data-testid="change-hosts">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Host</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Phase</Table.Th>
              <Table.Th scope="col">Wave</Table.Th>
              <Table.Th scope="col">Actions</Table.Th>
              <Table.Th scope="col">Error</Table.Th>
              <Table.Th scope="col">Next window</Table.Th>
              <Table.Th scope="col">SSH sessions</Table.Th>
              {remediation && <Table.Th scope="col">Re-scan</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {hosts.map((h) => {
              const expanded = !!open[h.host_id];
              return (
                <Fragment key={h.host_id}>
                  <Table.Tr data-testid={`change-host-${h.host_name}`}>
                    <Table.Td>
                      <UnstyledButton
                        onClick={() => setOpen((o) => ({ ...o, [h.host_id]: !expanded }))}
                        aria-expanded={expanded}
                        fz="sm"
                        fw={500}
                        data-testid="host-expand"
                      >
                        <span aria-hidden="true">{expanded ? "▾ " : "▸ "}</span>
                        {h.host_name}
                        <Text span size="xs" c="dimmed">
                          {" "}
                          (steps)
                        </Text>
                      </UnstyledButton>
                      <Text size="xs" c="dimmed">
                        {h.environment}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <div style={{ minWidth: 130 }}>
                        <HostStatusBadge status={h.status} testId="host-status" />
                      </div>
                    </Table.Td>
                    <Table.Td>{h.phase ? h.phase.replace("_", " ") : "—"}</Table.Td>
                    <Table.Td>{h.wave === 0 ? "canary" : h.wave + 1}</Table.Td>
                    <Table.Td>
                      {h.actions.length === 0
                        ? "—"
                        : `${h.applied} of ${h.actions.length} applied`}
                      {h.rebooted && <Text size="xs">rebooted</Text>}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c={h.error && (h.status === "failed" || h.status === "rollback_failed") ? "var(--mantine-color-error)" : undefined} lineClamp={2} title={h.error ?? undefined} data-testid="host-error">
                        {h.error || "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td data-testid="host-next-window">
                      {h.status === "waiting_window" ? (h.next_window_at ? formatDateTime(h.next_window_at) : "no window") : "—"}
                    </Table.Td>
                    <Table.Td>{h.sessions}</Table.Td>
                    {remediation && (
                      <Table.Td>
                        <Stack gap={0}>
                          {h.scan_id && (
                            <AnchorLink to="/scans/$scanId" params={{ scanId: h.scan_id }} size="sm" data-testid="host-rescan">
                              after change
                            </AnchorLink>
                          )}
                          {h.rollback_scan_id && (
                            <AnchorLink to="/scans/$scanId" params={{ scanId: h.rollback_scan_id }} size="sm" data-testid="host-rollback-scan">
                              after rollback
                            </AnchorLink>
                          )}
                          {!h.scan_id && !h.rollback_scan_id && "—"}
                        </Stack>
                      </Table.Td>
                    )}
                  </Table.Tr>
                  {expanded && (
                    <Table.Tr>
                      <Table.Td colSpan={cols}>
                        <Stack gap="xs">
                          {h.actions.length > 0 && <ActionList host={h} />}
                          <HostSteps kind={job.kind} jobId={job.id} hostId={h.host_id} />
                        </Stack>
                      </Table.Td>
                    </Table.Tr>
                  )}
                </Fragment>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {hosts.length === 0 && (
        <Text size="sm" c="dimmed">
          No host: none of the named hosts qualified.
        </Text>
      )}
    </Card>
  );
}

// ActionList is a host's exact actions, fixed when the host was probed.
export function ActionList({ host }: { host: ChangeJobHost }) {
  return (
    <Stack gap={2} data-testid="host-actions">
      <Text size="sm" fw={700}>
        Exact actions on {host.host_name}
      </Text>
      {host.actions.map((a, i) => (
        <Text key={i} size="sm" component="div">
          <Text span c="dimmed" size="xs">
            {i + 1}.{" "}
          </Text>
          {a.summary}{" "}
          <Text span size="xs" c="dimmed">
            ({a.kind} on <Code>{a.target}</Code>
            {a.rule_id ? `, rule ${a.rule_id}` : ""}
            {a.reboot ? ", needs a reboot" : ""})
          </Text>
          {i < host.applied && (
            <Badge ml={6} size="xs" variant="light" color="teal">
              applied
            </Badge>
          )}
        </Text>
      ))}
      {host.manual.map((m) => (
        <Alert key={m.rule_id} color="blue" title={`Manual: ${m.rule_id} (${m.mechanism})`}>
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {m.guidance}
          </Text>
        </Alert>
      ))}
    </Stack>
  );
}
