import { Card, Group, Loader, SimpleGrid, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ErrorAlert } from "../components/ErrorAlert";
import { AnchorLink } from "../components/links";
import { PageHeader } from "../components/PageHeader";
import { Stat } from "../components/Stat";
import { formatDateTime } from "../lib/format";
import { budgetView, changeActive, describePatch, describeSelector, waveProgress, type ChangeJob, type ChangeKind } from "./ChangeModel";
import { ChangeActions, ChangeHostsTable, ChangeStatusBadge, WavesView } from "./ChangeParts";
import { changeHostsQuery, changeQuery } from "./ChangeQueries";

const TITLE: Record<ChangeKind, string> = { patch: "Patch job", remediation: "Remediation request" };

// ChangeDetail is one change (a patch job or a remediation request): its header with the
// actions its status allows, its summary, its waves and its hosts, whose rows open to each
// host's steps. change_job events refresh all of it; polling is the fallback while the
// job is active. `extra` is what the kind adds (the remediation plan).
export function ChangeDetail({ kind, id, extra }: { kind: ChangeKind; id: string; extra?: (job: ChangeJob) => ReactNode }) {
  const job = useQuery({
    ...changeQuery(kind, id),
    refetchInterval: (q) => (q.state.data && changeActive(q.state.data.status) ? 10_000 : false),
  });
  const active = !!job.data && changeActive(job.data.status);
  const hosts = useQuery({ ...changeHostsQuery(kind, id), refetchInterval: active ? 10_000 : false });
  if (job.isPending) return <Loader role="status" aria-label={`Loading ${TITLE[kind].toLowerCase()}`} />;
  if (job.error) {
    return (
      <>
        <PageHeader title={TITLE[kind]} />
        <ErrorAlert error={job.error} />
      </>
    );
  }
  const j = job.data;
  const budget = budgetView(j);
  return (
    <>
      <PageHeader
        title={`${TITLE[kind]}: ${j.name}`}
        description={`${describeSelector(j.selector)} · requested ${formatDateTime(j.created_at)} by ${j.requested_by.name}`}
        actions={
          <>
            {kind === "patch" ? (
              <AnchorLink to="/jobs" size="sm">
                All patch jobs
              </AnchorLink>
            ) : (
              <AnchorLink to="/remediation" size="sm">
                All remediation requests
              </AnchorLink>
            )}
            <ChangeActions job={j} />
          </>
        }
      />
      <Stack>
        <Card withBorder component="section" aria-label="Summary">
          <Group gap="xs" mb="sm">
            <ChangeStatusBadge status={j.status} testId="change-status" />
            <Text size="sm" c="dimmed">
              {j.host_count} {j.host_count === 1 ? "host" : "hosts"} · {j.counts.succeeded} succeeded · {j.counts.failed} failed ·{" "}
              {j.counts.rolled_back} rolled back · {j.counts.waiting_window} waiting for a window
            </Text>
          </Group>
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            {kind === "patch" ? (
              <Stat label="Change" value={describePatch(j.patch)} testId="change-what" />
            ) : (
              <Stat label="Rules" value={(j.rule_ids ?? []).join(", ") || "—"} testId="change-what" />
            )}
            <Stat label="Waves" value={waveProgress(j)} />
            <Stat label="Failure budget" value={`${budget.text} failed hosts`} />
            <Stat label="Reboot" value={j.reboot.replace("_", " ")} />
            <Stat
              label="Maintenance windows"
              value={j.ignore_windows ? `overridden: ${j.override_reason ?? ""}` : "each host waits for its window"}
              testId="change-windows"
            />
            <Stat label="Approval" value={j.approval_required ? "needs a second person" : "not required"} />
            {j.decided_by && (
              <Stat
                label={j.status === "rejected" ? "Rejected" : "Approved"}
                value={`${formatDateTime(j.decided_at)} by ${j.decided_by.name}: ${j.decision_reason ?? ""}`}
                testId="change-decision"
              />
            )}
            {j.reason && <Stat label="Reason" value={j.reason} />}
            {j.dry_run_at && <Stat label="Dry run" value={formatDateTime(j.dry_run_at)} />}
            {j.started_at && <Stat label="Started" value={formatDateTime(j.started_at)} />}
            {j.finished_at && <Stat label="Finished" value={formatDateTime(j.finished_at)} />}
          </SimpleGrid>
        </Card>
        {extra?.(j)}
        <ErrorAlert error={hosts.error} />
        {hosts.data && (
          <>
            <WavesView job={j} hosts={hosts.data.items} />
            <ChangeHostsTable job={j} hosts={hosts.data.items} />
          </>
        )}
      </Stack>
    </>
  );
}
