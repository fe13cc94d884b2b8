import { Badge } from "@mantine/core";
import type { AlertState } from "./AlertModel";

const STATE_COLOR: Record<AlertState, string> = {
  active: "red",
  acknowledged: "yellow",
  silenced: "gray",
  resolved: "teal",
  dismissed: "gray",
};

// AlertStateBadge shows an alert's lifecycle state.
export function AlertStateBadge({ state, testId }: { state: AlertState; testId?: string }) {
  return (
    <Badge miw="fit-content" color={STATE_COLOR[state]} variant="light" data-testid={testId}>
      {state}
    </Badge>
  );
}
