import { Text } from "@mantine/core";
import type { components } from "../api/schema";
import { formatRelative } from "../lib/format";
import { ResultBadge, SeverityBadge } from "./badges";
import type { ListColumn } from "./VirtualTable";

type ResultRow = {
  severity: components["schemas"]["RuleSeverity"];
  status: components["schemas"]["ResultStatus"];
  reason: string;
  changed_at: string;
};

// resultColumns are the columns every table of rule results shows after its rule column:
// a scan's results and a host's results read alike.
export function resultColumns<T extends ResultRow>(): ListColumn<T>[] {
  return [
    { id: "severity", header: "Severity", cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
    { id: "status", header: "Result", cell: ({ row }) => <ResultBadge status={row.original.status} /> },
    { id: "reason", header: "Reason", cell: ({ row }) => <Text size="sm" lineClamp={1}>{row.original.reason || "—"}</Text> },
    { id: "changed", header: "Changed", cell: ({ row }) => formatRelative(row.original.changed_at) },
  ];
}
