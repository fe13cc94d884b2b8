import { Text } from "@mantine/core";
import type { Schemas } from "../api/client";
import { formatDateTime } from "../lib/format";
import { SeverityBadge } from "./badges";
import type { ListColumn } from "./VirtualTable";

// activityColumns are the columns of every activity list (the fleet's and a host's): when,
// where from, how severe, and what happened.
export const activityColumns: ListColumn<Schemas["Activity"]>[] = [
  { id: "when", header: "When", cell: ({ row }) => formatDateTime(row.original.occurred_at) },
  { id: "source", header: "Source", cell: ({ row }) => row.original.source },
  { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
  {
    id: "title",
    header: "What",
    cell: ({ row }) => (
      <>
        <Text size="sm">{row.original.title}</Text>
        {row.original.summary && (
          <Text size="xs" c="dimmed" lineClamp={1}>
            {row.original.summary}
          </Text>
        )}
      </>
    ),
  },
];
