import { Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";

// Stat is a figure under its small label, as summary cards line them up.
export function Stat({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}
