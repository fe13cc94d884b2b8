import { Button, Card, Group, Loader, Modal, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { ApiError, errorMessage, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ActorName } from "../components/ActorName";
import { ErrorAlert } from "../components/ErrorAlert";
import { FormError } from "../components/FormError";
import { HostName } from "../components/HostName";
import { AnchorLink } from "../components/links";
import { SeverityBadge } from "../components/badges";
import { Stat } from "../components/Stat";
import { formatDateTime } from "../lib/format";
import {
  ACTION_LABEL,
  ACTION_PERMISSION,
  allowedActions,
  occurrences,
  silenceUntil,
  evidenceScan,
  sourceTags,
  suppressed,
  toLocalInput,
  type AlertAction,
} from "./AlertModel";
import { AlertStateBadge } from "./AlertParts";

type Alert = Schemas["Alert"];

export const alertQueryKey = (id: string) => ["alerts", "detail", id] as const;

// AlertDetail is one alert: what it is, who moved it when, its actions (those its state
// allows and the caller may take; resolve and dismiss are confirmed, silence asks until
// when, each with an optional reason) and its history of transitions.
export function AlertDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState<AlertAction>();
  const [until, setUntil] = useState(() => toLocalInput(new Date(Date.now() + 60 * 60_000)));
  const [untilError, setUntilError] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [reason, setReason] = useState("");
  const alert = useQuery({
    queryKey: alertQueryKey(id),
    queryFn: () => unwrap(api.GET("/alerts/{id}", { params: { path: { id } } })),
  });
  const move = useMutation({
    mutationFn: ({ action, body }: { action: AlertAction; body: Schemas["AlertActionRequest"] }) => {
      const params = { params: { path: { id } }, body };
      switch (action) {
        case "acknowledge":
          return unwrap(api.POST("/alerts/{id}:acknowledge", params));
        case "silence":
          return unwrap(api.POST("/alerts/{id}:silence", params));
        case "resolve":
          return unwrap(api.POST("/alerts/{id}:resolve", params));
        case "dismiss":
          return unwrap(api.POST("/alerts/{id}:dismiss", params));
      }
    },
    onSuccess: (a, { action }) => {
      qc.setQueryData(alertQueryKey(id), a);
      void qc.invalidateQueries({ queryKey: ["alerts"] });
      void qc.invalidateQueries({ queryKey: ["audit"] });
      setConfirming(undefined);
      setReason("");
      notifications.show({ color: "teal", message: `Alert ${a.state}.` });
      if (action === "silence") setUntilError(undefined);
    },
    onError: (err, { action }) => {
      const msg = errorMessage(err);
      if (action === "silence" && err instanceof ApiError && err.field === "until") {
        setUntilError(msg);
        return;
      }
      setActionError(msg);
      setConfirming(undefined);
      // Someone else may have moved it: show what it is now.
      void qc.invalidateQueries({ queryKey: alertQueryKey(id) });
    },
  });
  // Every action carries the optional reason, which goes to the audit trail and the history.
  const run = (action: AlertAction, body: Schemas["AlertActionRequest"] = {}) => {
    setActionError(undefined);
    const why = reason.trim();
    move.mutate({ action, body: why ? { ...body, reason: why } : body });
  };
  const reasonInput = (testId: string) => (
    <TextInput
      label="Reason (optional)"
      description="Recorded in the alert's history and the audit trail."
      maxLength={256}
      value={reason}
      onChange={(e) => setReason(e.currentTarget.value)}
      data-testid={testId}
    />
  );

  if (alert.isPending) return <Loader role="status" aria-label="Loading alert" />;
  if (alert.error) return <ErrorAlert error={alert.error} />;
  const a = alert.data;
  const actions = allowedActions(a.state);
  const tags = sourceTags(a);
  const scanId = evidenceScan(a);
  return (
    <Stack data-testid="alert-detail">
      <Group gap="xs">
        <SeverityBadge severity={a.severity} />
        <AlertStateBadge state={a.state} testId="alert-state" />
        {suppressed(a) && <Text size="sm" c="dimmed">raised in maintenance: not notified</Text>}
      </Group>
      <Title order={2} size="h4">
        {a.title}
      </Title>
      {a.body && <Text size="sm">{a.body}</Text>}
      <SimpleGrid cols={2}>
        <Stat label="Type" value={a.alert_type} />
        <Stat
          label="Host"
          value={
            a.host_id ? (
              <AnchorLink to="/hosts/$hostId" params={{ hostId: a.host_id }}>
                <HostName id={a.host_id} />
              </AnchorLink>
            ) : (
              "—"
            )
          }
        />
        <Stat label="First occurred" value={formatDateTime(a.occurred_at)} />
        <Stat label="Occurrences" value={occurrences(a)} testId="alert-occurrences" />
        {a.rule_id && (
          <Stat label="Rule" value={<AnchorLink to="/rules/$ruleId" params={{ ruleId: a.rule_id }}>{a.rule_id}</AnchorLink>} />
        )}
        {a.alert_type === "vulnerability_critical" && typeof a.tags?.advisory_id === "string" && (
          <Stat
            label="Advisory"
            value={
              <AnchorLink to="/vulnerabilities" search={{ vuln: a.tags.advisory_id }} data-testid="alert-advisory">
                {a.tags.advisory_id}
              </AnchorLink>
            }
          />
        )}
        {a.rule_id && scanId && (
          <Stat
            label="Evidence"
            value={
              <AnchorLink to="/scans/$scanId" params={{ scanId }} search={{ evidence: a.rule_id }} data-testid="alert-evidence">
                What the scan found
              </AnchorLink>
            }
          />
        )}
        {a.silenced_until && <Stat label="Silenced until" value={formatDateTime(a.silenced_until)} />}
      </SimpleGrid>
      <Lifecycle alert={a} />
      {tags.length > 0 && (
        <Table aria-label="Alert details" withTableBorder>
          <Table.Tbody>
            {tags.map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Th scope="row">{k}</Table.Th>
                <Table.Td style={{ wordBreak: "break-all" }}>{v}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <FormError message={actionError} />
      {actions.length > 0 && (
        <Card withBorder component="section" aria-label="Actions">
          <Stack>
            {reasonInput("alert-reason")}
            <Group>
              {actions
                .filter((x) => x !== "silence")
                .map((x) => (
                  <Can key={x} permission={ACTION_PERMISSION[x]}>
                    <Button
                      variant={x === "acknowledge" ? "filled" : "light"}
                      color={x === "dismiss" ? "gray" : undefined}
                      loading={move.isPending && move.variables?.action === x}
                      onClick={() => (x === "acknowledge" ? run(x) : setConfirming(x))}
                      data-testid={`alert-${x}`}
                    >
                      {ACTION_LABEL[x]}
                    </Button>
                  </Can>
                ))}
            </Group>
            {actions.includes("silence") && (
              <Can permission={ACTION_PERMISSION.silence}>
                <form
                  noValidate
                  onSubmit={(e) => {
                    e.preventDefault();
                    const r = silenceUntil(until);
                    setUntilError(r.error);
                    if (r.until) run("silence", { until: r.until });
                  }}
                >
                  <Group align="flex-start">
                    <TextInput
                      type="datetime-local"
                      label="Silence until"
                      value={until}
                      onChange={(e) => setUntil(e.currentTarget.value)}
                      error={untilError}
                      data-testid="silence-until"
                    />
                    <Button type="submit" variant="light" mt={25} loading={move.isPending && move.variables?.action === "silence"} data-testid="alert-silence">
                      Silence
                    </Button>
                  </Group>
                </form>
              </Can>
            )}
          </Stack>
        </Card>
      )}
      <History id={a.id} />
      <Modal
        opened={!!confirming}
        onClose={() => setConfirming(undefined)}
        title={confirming === "dismiss" ? "Dismiss this alert?" : "Resolve this alert?"}
      >
        <Stack>
          <Text size="sm">
            {confirming === "dismiss"
              ? "A dismissed alert is closed as not worth acting on; it cannot be reopened. The next occurrence raises a new alert."
              : "A resolved alert is closed; it cannot be reopened. The next occurrence raises a new alert."}
          </Text>
          {reasonInput("alert-confirm-reason")}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(undefined)}>
              Cancel
            </Button>
            <Button
              color={confirming === "dismiss" ? "gray" : "teal"}
              loading={move.isPending}
              onClick={() => confirming && run(confirming)}
              data-testid="alert-confirm"
            >
              {confirming ? ACTION_LABEL[confirming] : ""}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function Lifecycle({ alert: a }: { alert: Alert }) {
  const steps: [string, string | null | undefined, string | null | undefined][] = [
    ["Acknowledged", a.acknowledged_at, a.acknowledged_by],
    ["Resolved", a.resolved_at, a.resolved_by],
    ["Dismissed", a.dismissed_at, a.dismissed_by],
  ];
  const shown = steps.filter(([, at]) => !!at);
  if (shown.length === 0 && !a.silenced_by) return null;
  return (
    <Stack gap={4}>
      {shown.map(([label, at, by]) => (
        <Text size="sm" key={label}>
          {label} {formatDateTime(at)} by {by ? <ActorName id={by} /> : "OpenWatch (condition cleared)"}
        </Text>
      ))}
      {a.silenced_by && a.state === "silenced" && (
        <Text size="sm">
          Silenced by <ActorName id={a.silenced_by} />
        </Text>
      )}
    </Stack>
  );
}

// TRANSITION_LABEL names each transition of an alert's history.
const TRANSITION_LABEL: Record<Schemas["AlertTransition"]["transition"], string> = {
  raised: "Raised",
  recurred: "Occurred again",
  acknowledged: "Acknowledged",
  silenced: "Silenced",
  unsilenced: "Silence ran out",
  resolved: "Resolved",
  dismissed: "Dismissed",
};

// Actor names who made a transition: "system", "user:<id>" or "service_account:<id>".
function Actor({ actor }: { actor: string }) {
  if (actor === "system") return <>OpenWatch</>;
  const [kind, id] = actor.split(":", 2);
  if (kind === "user") return <ActorName id={id} />;
  return <span title={actor}>service account {id?.slice(0, 8)}</span>;
}

// History is the alert's transitions (GET /alerts/{id}/history): what happened, who did
// it and why, and when notifications were routed for it.
function History({ id }: { id: string }) {
  const history = useQuery({
    queryKey: ["alerts", "history", id],
    queryFn: () => unwrap(api.GET("/alerts/{id}/history", { params: { path: { id } } })),
  });
  return (
    <section aria-label="History">
      <Title order={3} size="h5" mb="xs">
        History
      </Title>
      <ErrorAlert error={history.error} />
      {history.data && history.data.items.length > 0 && (
        <Table aria-label="Alert history" data-testid="alert-history">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>Reason</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.data.items.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{formatDateTime(t.at)}</Table.Td>
                <Table.Td>
                  <div>{TRANSITION_LABEL[t.transition]}</div>
                  {t.notified_at && (
                    <Text size="xs" c="dimmed">
                      routed {formatDateTime(t.notified_at)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Actor actor={t.actor} />
                </Table.Td>
                <Table.Td>{t.reason || "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </section>
  );
}
