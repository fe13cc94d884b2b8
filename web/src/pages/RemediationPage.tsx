import { Alert, Badge, Card, Code, Group, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { ErrorAlert } from "../components/ErrorAlert";
import { SeverityBadge } from "../components/badges";
import { AnchorLink } from "../components/links";
import { ChangeDetail } from "./ChangeDetail";
import { RemediationForm } from "./ChangeForm";
import { ChangeList } from "./ChangeList";
import { changeActive, type ChangeJob } from "./ChangeModel";
import { remediationPlanQuery } from "./ChangeQueries";

// RemediationListPage lists remediation requests under the status of the URL and requests
// new ones for hosts and rule ids (?new=true opens the form).
export function RemediationListPage() {
  const search = useSearch({ from: "/app/remediation" });
  const navigate = useNavigate({ from: "/remediation" });
  return (
    <ChangeList
      kind="remediation"
      status={search.status}
      onStatus={(status) => void navigate({ search: (s) => ({ ...s, status }) })}
      creating={!!search.new}
      onCreating={(on) => void navigate({ search: (s) => ({ ...s, new: on || undefined }) })}
      newLabel="Request remediation"
      newPermission="remediation:request"
      form={
        <RemediationForm
          onDone={(j) => {
            notifications.show({ color: "teal", message: `Remediation requested: ${j.host_count} ${j.host_count === 1 ? "host" : "hosts"}, ${j.status.replace("_", " ")}.` });
            void navigate({ to: "/remediation/$requestId", params: { requestId: j.id } });
          }}
        />
      }
    />
  );
}

// RemediationPlan is a request's plan: per rule, whether a declarative mechanism fixes it
// and each implementation's actions, or the guidance a person follows.
function RemediationPlan({ job }: { job: ChangeJob }) {
  const plan = useQuery({ ...remediationPlanQuery(job.id), refetchInterval: changeActive(job.status) ? 15_000 : false });
  return (
    <Card withBorder component="section" aria-label="Plan">
      <Title order={2} size="h4" mb="sm">
        Plan
      </Title>
      <ErrorAlert error={plan.error} />
      {plan.isPending && <Text size="sm" c="dimmed">Loading the plan…</Text>}
      <Stack gap="md">
        {plan.data?.rules.map((r) => (
          <Stack key={r.rule_id} gap={4} data-testid={`plan-rule-${r.rule_id}`}>
            <Group gap="xs">
              <AnchorLink to="/rules/$ruleId" params={{ ruleId: r.rule_id }} fw={600}>
                {r.title || r.rule_id}
              </AnchorLink>
              <SeverityBadge severity={r.severity} />
              <Badge variant="light" color={r.automatic ? "teal" : "blue"} data-testid="plan-rule-mode">
                {r.automatic ? "automatic" : "manual"}
              </Badge>
              <Text size="xs" c="dimmed">
                {r.rule_id}
              </Text>
            </Group>
            {r.implementations.map((impl, i) => (
              <Stack key={i} gap={2} pl="md">
                <Text size="sm">
                  <Text span fw={500}>
                    {impl.mechanism}
                  </Text>
                  {impl.when ? (
                    <Text span size="xs" c="dimmed">
                      {" "}
                      when the host has {impl.when}
                    </Text>
                  ) : null}
                  {!impl.automatic && (
                    <Text span size="xs" c="dimmed">
                      {" "}
                      (manual)
                    </Text>
                  )}
                </Text>
                {impl.actions.length > 0 && (
                  <Table aria-label={`Actions of ${r.rule_id} (${impl.mechanism})`} verticalSpacing={4} withRowBorders={false}>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">Action</Table.Th>
                        <Table.Th scope="col">Kind</Table.Th>
                        <Table.Th scope="col">Target</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {impl.actions.map((a, k) => (
                        <Table.Tr key={k}>
                          <Table.Td>{a.summary}</Table.Td>
                          <Table.Td>{a.kind}</Table.Td>
                          <Table.Td>
                            <Code>{a.target}</Code>
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
                {impl.guidance && (
                  <Alert color="blue" title="What a person does" data-testid="plan-guidance">
                    <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                      {impl.guidance}
                    </Text>
                  </Alert>
                )}
              </Stack>
            ))}
          </Stack>
        ))}
        {plan.data && plan.data.rules.length === 0 && (
          <Text size="sm" c="dimmed">
            No rule in this request.
          </Text>
        )}
        {plan.data && plan.data.hosts.every((h) => h.actions.length === 0 && h.manual.length === 0) && (
          <Text size="sm" c="dimmed">
            The exact actions per host appear once a dry run or the execution has probed the hosts (open a host below).
          </Text>
        )}
      </Stack>
    </Card>
  );
}

// RemediationPage is one remediation request: the change with its plan, dry-run results
// in each host's steps, and the re-scans linked after execution and after rollback.
export function RemediationPage() {
  const { requestId } = useParams({ from: "/app/remediation/$requestId" });
  return <ChangeDetail kind="remediation" id={requestId} extra={(j) => <RemediationPlan job={j} />} />;
}
