import { Button, Card, Group, Loader, Modal, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas } from "../api/client";
import { ApiError, errorMessage, unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { useCan } from "../auth/session";
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
// when) and its history from the audit trail when the caller may read it.
export function AlertDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState<AlertAction>();
  const [until, setUntil] = useState(() => toLocalInput(new Date(Date.now() + 60 * 60_000)));
  const [untilError, setUntilError] = useState<string>();
  const [actionError, setActionError] = useState<string>();
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
  const run = (action: AlertAction, body: Schemas["AlertActionRequest"] = {}) => {
    setActionError(undefined);
    move.mutate({ action, body });
  };

  if (alert.isPending) return <Loader role="status" aria-label="Loading alert" />;
  if (alert.error) return <ErrorAlert error={alert.error} />;
  const a = alert.data;
  const actions = allowedActions(a.state);
  const tags = sourceTags(a);
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

// History is the alert's audit events, for callers who may read the audit trail.
function History({ id }: { id: string }) {
  const canRead = useCan("audit:read");
  const events = useQuery({
    queryKey: ["audit", { resource_type: "alert", resource_id: id }],
    queryFn: () => unwrap(api.GET("/audit/events", { params: { query: { resource_type: "alert", resource_id: id, limit: 50 } } })),
    enabled: canRead,
  });
  if (!canRead) return null;
  return (
    <section aria-label="History">
      <Title order={3} size="h5" mb="xs">
        History
      </Title>
      <ErrorAlert error={events.error} />
      {events.data && events.data.items.length === 0 && (
        <Text size="sm" c="dimmed">
          Nothing done to this alert yet.
        </Text>
      )}
      {events.data && events.data.items.length > 0 && (
        <Table aria-label="Alert history" data-testid="alert-history">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Who</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.data.items.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{formatDateTime(e.occurred_at)}</Table.Td>
                <Table.Td>{e.action}</Table.Td>
                <Table.Td>{e.actor_type === "system" ? "OpenWatch" : <ActorName id={e.actor_id} />}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </section>
  );
}
