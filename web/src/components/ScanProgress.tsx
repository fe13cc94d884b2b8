import { Group, Progress, Text } from "@mantine/core";
import type { Schemas } from "../api/client";

// ScanProgress is a scan's progress bar: commands done out of all of them, moved live by
// the event stream (events/invalidate.ts patches the cached scan).
export function ScanProgress({ scan }: { scan: Schemas["Scan"] }) {
  const { records_done: done, records_total: total } = scan.progress;
  const finished = scan.status === "completed" || scan.status === "failed" || scan.status === "cancelled";
  const value = finished ? 100 : total > 0 ? (done / total) * 100 : 0;
  const label = finished ? scan.status : total > 0 ? `${done} of ${total} commands` : scan.status;
  return (
    <Group gap="xs" wrap="nowrap" miw={160}>
      <Progress
        value={value}
        animated={scan.status === "running"}
        color={scan.status === "failed" ? "red" : scan.status === "completed" ? "teal" : scan.status === "cancelled" ? "gray" : "blue"}
        style={{ flex: 1 }}
        aria-label={`Scan progress: ${label}`}
      />
      <Text size="xs" c="dimmed" w={90}>
        {finished ? "" : total > 0 ? `${Math.round(value)} %` : scan.status}
      </Text>
    </Group>
  );
}
