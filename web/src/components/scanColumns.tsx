import type { Schemas } from "../api/client";
import { ScanStatusBadge } from "./badges";
import { ScanProgress } from "./ScanProgress";
import type { ListColumn } from "./VirtualTable";

// scanStateColumns are how a scan stands in every list of scans: its status, its live
// progress bar and its result counts.
export const scanStateColumns: ListColumn<Schemas["Scan"]>[] = [
  {
    id: "status",
    header: "Status",
    cell: ({ row }) => (
      <div style={{ minWidth: 96 }}>
        <ScanStatusBadge status={row.original.status} />
      </div>
    ),
  },
  { id: "progress", header: "Progress", cell: ({ row }) => <ScanProgress scan={row.original} /> },
  {
    id: "counts",
    header: "Pass / fail / other",
    cell: ({ row }) => {
      const c = row.original.counts;
      return `${c.pass} / ${c.fail} / ${c.skipped + c.error}`;
    },
  },
];
