import { Badge, Group, Progress, Text } from "@mantine/core";
import type { Schemas } from "../api/client";
import { batchDone } from "./ScanBatchModel";

type Batch = Schemas["ScanBatch"];

const BATCH_COLOR: Record<string, string> = { running: "blue", completed: "teal", cancelled: "gray" };
export function ScanBatchStatusBadge({ status, testId }: { status: Batch["status"]; testId?: string }) {
  return (
    <Badge miw="fit-content" color={BATCH_COLOR[status] ?? "gray"} variant="light" data-testid={testId}>
      {status}
    </Badge>
  );
}

// ScanBatchProgress is a batch's bar: scans ended out of all of them, failures in red.
export function ScanBatchProgress({ batch }: { batch: Batch }) {
  const { done, total, percent } = batchDone(batch);
  const p = batch.progress;
  const part = (n: number) => (total === 0 ? 0 : (n / total) * 100);
  return (
    <Group gap="xs" wrap="nowrap" miw={180}>
      <Progress.Root style={{ flex: 1 }} aria-label={`Batch progress: ${done} of ${total} scans ended`} role="progressbar" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
        <Progress.Section withAria={false} value={part(p.completed)} color="teal" animated={batch.status === "running"} />
        <Progress.Section withAria={false} value={part(p.failed)} color="red" />
        <Progress.Section withAria={false} value={part(p.cancelled)} color="gray" />
      </Progress.Root>
      <Text size="xs" c="dimmed" w={70}>
        {done} / {total}
      </Text>
    </Group>
  );
}
