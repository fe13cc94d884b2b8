import { Button, Card, Group, Loader, SimpleGrid, Stack, Text, Textarea, Title } from "@mantine/core";
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
import { ExceptionStatusBadge } from "../components/badges";
import { Stat } from "../components/Stat";
import { formatDateTime } from "../lib/format";

type Exception = Schemas["Exception"];
type Action = "approve" | "reject" | "revoke";

export const exceptionQueryKey = (id: string) => ["compliance", "exceptions", "detail", id] as const;

const PERMISSION: Record<Action, string> = {
  approve: "exception:approve",
  reject: "exception:approve",
  revoke: "exception:revoke",
};
const LABEL: Record<Action, string> = { approve: "Approve", reject: "Reject", revoke: "Revoke" };

function actionsFor(e: Exception): Action[] {
  if (e.status === "pending") return ["approve", "reject"];
  if (e.status === "approved") return ["revoke"];
  return [];
}

// ExceptionDetail is one exception: its scope, reason, expiry and decisions, with the
// actions its status allows. Each action needs a reason. The requester's own request
// shows approve and reject disabled with why (four eyes: another person decides).
export function ExceptionDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const query = useQuery({
    queryKey: exceptionQueryKey(id),
    queryFn: () => unwrap(api.GET("/exceptions/{id}", { params: { path: { id } } })),
  });
  const move = useMutation({
    mutationFn: (action: Action) => {
      const params = { params: { path: { id } }, body: { reason } };
      switch (action) {
        case "approve":
          return unwrap(api.POST("/exceptions/{id}:approve", params));
        case "reject":
          return unwrap(api.POST("/exceptions/{id}:reject", params));
        case "revoke":
          return unwrap(api.POST("/exceptions/{id}:revoke", params));
      }
    },
    onSuccess: (e) => {
      qc.setQueryData(exceptionQueryKey(id), e);
      void qc.invalidateQueries({ queryKey: ["compliance"] });
      void qc.invalidateQueries({ queryKey: ["hosts"] });
      void qc.invalidateQueries({ queryKey: ["fleet"] });
      setReason("");
      notifications.show({ color: "teal", message: `Exception ${e.status}.` });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.field === "reason") {
        setReasonError(errorMessage(err));
        return;
      }
      setActionError(errorMessage(err));
      void qc.invalidateQueries({ queryKey: exceptionQueryKey(id) });
    },
  });
  const run = (action: Action) => {
    setActionError(undefined);
    if (!reason.trim()) {
      setReasonError("A reason is required.");
      return;
    }
    setReasonError(undefined);
    move.mutate(action);
  };
  if (query.isPending) return <Loader role="status" aria-label="Loading exception" />;
  if (query.error) return <ErrorAlert error={query.error} />;
  const e = query.data;
  const actions = actionsFor(e);
  const mine = e.requested_by_caller === true;
  return (
    <Stack data-testid="exception-detail">
      <Group gap="xs">
        <ExceptionStatusBadge status={e.status} testId="exception-status" />
        <Text size="sm">{e.scope === "fleet" ? "fleet-wide" : `one ${e.scope}`}</Text>
      </Group>
      <Title order={2} size="h4">
        {e.kind === "vulnerability" ? `Vulnerability ${e.advisory_id ?? ""}` : e.rule_title}
      </Title>
      <Text size="sm">{e.reason}</Text>
      <SimpleGrid cols={2}>
        {e.rule_id && <Stat label="Rule" value={<AnchorLink to="/rules/$ruleId" params={{ ruleId: e.rule_id }}>{e.rule_id}</AnchorLink>} />}
        {e.advisory_id && (
          <Stat
            label="Advisory or alias"
            value={
              <AnchorLink to="/vulnerabilities" search={{ q: e.advisory_id }} data-testid="exception-advisory">
                {e.advisory_id}
              </AnchorLink>
            }
          />
        )}
        {e.host_id && (
          <Stat
            label="Host"
            value={
              <AnchorLink to="/hosts/$hostId" params={{ hostId: e.host_id }}>
                <HostName id={e.host_id} />
              </AnchorLink>
            }
          />
        )}
        {e.group_id && (
          <Stat label="Group" value={<AnchorLink to="/groups/$groupId" params={{ groupId: e.group_id }}>{e.group_id}</AnchorLink>} />
        )}
        <Stat label="Expires" value={formatDateTime(e.expires_at)} />
        <Stat label="Requested" value={<>{formatDateTime(e.requested_at)} by <ActorName id={e.requested_by} /></>} />
        {e.decided_at && (
          <Stat
            label={e.status === "rejected" ? "Rejected" : "Approved"}
            value={<>{formatDateTime(e.decided_at)} by {e.decided_by ? <ActorName id={e.decided_by} /> : "—"}: {e.decision_reason}</>}
          />
        )}
        {e.revoked_at && (
          <Stat label="Revoked" value={<>{formatDateTime(e.revoked_at)} by {e.revoked_by ? <ActorName id={e.revoked_by} /> : "—"}: {e.revoke_reason}</>} />
        )}
        {e.expired_at && <Stat label="Expired" value={formatDateTime(e.expired_at)} />}
      </SimpleGrid>
      <FormError message={actionError} />
      {actions.length > 0 && (
        <Card withBorder component="section" aria-label="Actions">
          <Stack>
            <Textarea
              label="Reason"
              description="Recorded in the audit trail with the decision."
              value={reason}
              onChange={(ev) => setReason(ev.currentTarget.value)}
              error={reasonError}
              autosize
              minRows={2}
              data-testid="decision-reason"
            />
            {mine && actions.includes("approve") && (
              <Text size="sm" c="dimmed" data-testid="four-eyes-note">
                You requested this exception; another person must approve it.
              </Text>
            )}
            <Group>
              {actions.map((a) => (
                <Can key={a} permission={PERMISSION[a]}>
                  <Button
                    variant={a === "approve" ? "filled" : "light"}
                    color={a === "approve" ? undefined : "red"}
                    disabled={mine && a !== "revoke"}
                    loading={move.isPending && move.variables === a}
                    onClick={() => run(a)}
                    data-testid={`exception-${a}`}
                  >
                    {LABEL[a]}
                  </Button>
                </Can>
              ))}
            </Group>
          </Stack>
        </Card>
      )}
    </Stack>
  );
}
