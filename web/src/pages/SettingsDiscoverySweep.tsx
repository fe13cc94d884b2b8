import { Alert, Button, Group, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { Can } from "../auth/Can";
import { ErrorAlert } from "../components/ErrorAlert";
import { formatDateTime } from "../lib/format";

// sweepMessage says what a sweep did.
export function sweepMessage(enqueued: number): string {
  if (enqueued === 0) return "No discovery was queued: every live host out of maintenance already has one waiting, or there is none.";
  return enqueued === 1 ? "1 discovery queued." : `${enqueued.toLocaleString()} discoveries queued.`;
}

// DiscoverySweep queues operating-system discovery for every live host out of
// maintenance now, instead of waiting for each host's interval.
export function DiscoverySweep() {
  const qc = useQueryClient();
  const sweep = useMutation({
    mutationFn: async () => ({
      at: new Date().toISOString(),
      ...(await unwrap(api.POST("/system/discovery/sweep", { headers: { "Idempotency-Key": crypto.randomUUID() } }))),
    }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["discovery"] }),
  });
  return (
    <Can permission="system:config:write">
      <Stack gap="xs" component="section" aria-labelledby="sweep-title" maw={720}>
        <Title order={2} size="h4" id="sweep-title">
          Discovery sweep
        </Title>
        <Text size="sm" c="dimmed">
          Discover the system of every live host out of maintenance now. A host whose discovery is already queued is not
          queued twice.
        </Text>
        <Group>
          <Button variant="default" onClick={() => sweep.mutate()} loading={sweep.isPending}>
            Run sweep now
          </Button>
        </Group>
        <ErrorAlert error={sweep.error} title="Sweep not started" />
        {sweep.data && (
          <Alert color="teal" role="status" data-testid="sweep-result" title={`Sweep at ${formatDateTime(sweep.data.at)}`}>
            {sweepMessage(sweep.data.enqueued)}
          </Alert>
        )}
      </Stack>
    </Can>
  );
}
